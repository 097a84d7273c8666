"""The Llama family for autoload: llama, mistral, qwen2 and qwen3 from one distribution.

The four model types share one decoder (rotary positions, RMSNorm, grouped-query
attention, a gated SiLU MLP); they differ only in switches (biases, sliding
windows, per-head q/k norms), so one modeling file serves them all.  Importing
this package is cheap: torch loads only when a model class is asked for.
"""

from autoload_plugin_llama.__about__ import __version__

__all__ = ["__version__"]
