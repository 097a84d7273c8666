"""Chat templates: a conversation rendered to the prompt text a chat model was trained on.

A template is Jinja source shipped with the checkpoint (``chat_template.jinja``,
or ``chat_template`` in ``tokenizer_config.json``), so it is untrusted code:
it runs in jinja2's immutable sandbox, sees only plain JSON data (never the
caller's objects), and gets the helpers templates on the Hub rely on
(``raise_exception``, ``strftime_now``, a ``tojson`` that keeps non-ASCII text,
``namespace`` without underscore attributes).  jinja2 is imported here, only
when a template is rendered.

A template that fails (a syntax error, or its own ``raise_exception``) is a
:class:`~autoload.errors.ProcessingError` that names where the template came from.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from autoload.errors import ConfigError, ProcessingError

# Written after the final message when it is to be continued, then cut away with everything after it.
_CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "
# Names a message's reasoning travels under; templates read the first.
_REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")


def select_template(own: str | dict[str, str] | None, requested: str | None, tools: Any, *, owner: str) -> str:
    """The template text: a named one of the tokenizer's, ``requested`` itself, or the tokenizer's default."""
    if isinstance(own, dict):
        if requested is not None:
            return own.get(requested, requested)
        if tools is not None and "tool_use" in own:
            return own["tool_use"]
        if "default" in own:
            return own["default"]
        raise ProcessingError(
            f"{owner} has several chat templates and none is the default: pass chat_template= one of "
            f"{sorted(own)} (or the template text itself)."
        )
    if requested is not None:
        return requested
    if own is None:
        raise ProcessingError(
            f"{owner} has no chat template (no chat_template.jinja and no chat_template in tokenizer_config.json). "
            "Pass chat_template='...' or set tokenizer.chat_template."
        )
    return own


def render_conversations(
    template: str,
    conversation: Any,
    *,
    tools: list[Any] | None,
    documents: list[Any] | None,
    add_generation_prompt: bool,
    continue_final_message: bool | str,
    variables: Mapping[str, Any],
    source: str,
) -> tuple[list[str], bool]:
    """Render one conversation or a batch of them; returns the texts and whether a batch came in."""
    if isinstance(conversation, (list, tuple)) and not conversation:
        raise ProcessingError("apply_chat_template got an empty conversation: pass at least one message.")
    if not isinstance(conversation, (list, tuple)):
        raise ProcessingError(
            "apply_chat_template takes a list of messages (or a list of such lists), "
            f"not {type(conversation).__name__}."
        )
    is_batched = isinstance(conversation[0], (list, tuple)) or hasattr(conversation[0], "messages")
    conversations = list(conversation) if is_batched else [conversation]
    if continue_final_message and add_generation_prompt:
        raise ProcessingError(
            "continue_final_message and add_generation_prompt do not go together: the first continues the last "
            "message, the second opens a new assistant message."
        )
    if tools is not None and not all(isinstance(tool, Mapping) for tool in tools):
        raise ProcessingError("tools must be JSON schemas (dicts); autoload does not turn functions into schemas.")
    if documents is not None and not all(isinstance(document, Mapping) for document in documents):
        raise ProcessingError("documents must be dicts (with 'title' and 'text').")
    compiled = _compile(template, source)
    plain_tools, plain_documents = _plain(tools), _plain(documents)
    plain_variables = _plain(dict(variables))
    rendered = []
    for chat in conversations:
        messages = _messages(chat)
        final_text = None
        if continue_final_message:
            messages, final_text = _tag_final_message(messages, continue_final_message, template)
        try:
            text = compiled.render(
                messages=messages,
                tools=plain_tools,
                documents=plain_documents,
                add_generation_prompt=add_generation_prompt,
                **plain_variables,
            )
        except Exception as exc:  # the template's own raise_exception, or an error in its logic
            raise ProcessingError(f"Rendering {source} failed: {type(exc).__name__}: {exc}") from exc
        if final_text is not None:
            text = _cut_after_final_message(text, final_text, source)
        rendered.append(text)
    return rendered, is_batched


def _messages(chat: Any) -> list[dict[str, Any]]:
    messages = _plain(getattr(chat, "messages", chat))
    if not isinstance(messages, list):
        raise ProcessingError(f"A conversation is a list of messages, not {type(messages).__name__}.")
    result = []
    for message in messages:
        if not isinstance(message, dict):
            raise ProcessingError(f"Chat messages are dicts with 'role' and 'content', not {message!r}.")
        # APIs send content=None or tool_calls=None; templates handle a missing key better than a None
        message = {key: value for key, value in message.items() if value is not None}
        reasoning = next((message[key] for key in _REASONING_FIELDS if message.get(key) is not None), None)
        if reasoning is not None:
            message = {"thinking": reasoning, **message, "reasoning_content": reasoning}
        result.append(message)
    return result


def _tag_final_message(
    messages: list[dict[str, Any]], field: bool | str, template: str
) -> tuple[list[dict[str, Any]], str]:
    """Mark the end of the final message, so the rendered text can be cut right after it."""
    if not messages:
        raise ProcessingError("continue_final_message is set, but the conversation is empty.")
    name = field if isinstance(field, str) else "content"
    final = messages[-1].get(name)
    if final is None:
        raise ProcessingError(f"continue_final_message is set, but the final message has no {name!r} to continue.")
    names = (
        [key for key in _REASONING_FIELDS if messages[-1].get(key) == final] if name in _REASONING_FIELDS else [name]
    )
    if not any(key in template for key in names):
        raise ProcessingError(f"continue_final_message is set to {name!r}, but the chat template never reads it.")
    last = dict(messages[-1])
    if isinstance(final, list):
        blocks = [dict(block) if isinstance(block, dict) else block for block in final]
        for block in reversed(blocks):
            if isinstance(block, dict) and "text" in block:
                final_text = block["text"]
                block["text"] = block["text"] + _CONTINUE_TAG
                break
        else:
            raise ProcessingError("continue_final_message is set, but the final message holds no text block.")
        last[name] = blocks
    else:
        final_text = str(final)
        for key in names:
            last[key] = last[key] + _CONTINUE_TAG
    return [*messages[:-1], last], final_text


def _cut_after_final_message(text: str, final_text: str, source: str) -> str:
    tag = _CONTINUE_TAG.strip()
    if final_text.strip() not in text or tag not in text:
        raise ProcessingError(
            f"continue_final_message is set, but {source} does not render the final message as it is "
            "(it removes part of it), so there is nothing to continue."
        )
    where = text.rindex(tag)
    if text[where : where + len(_CONTINUE_TAG)] == _CONTINUE_TAG:
        return text[:where]
    return text[:where].rstrip()  # the template trimmed the space after the message


def _plain(value: Any) -> Any:
    """What a template may see: JSON-like data rebuilt from plain types; other objects become inert text."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy / torch scalars
        return _plain(value.item())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):
        return _plain(value.model_dump())
    return f"<{type(value).__name__}>"


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    try:
        import jinja2
        import jinja2.ext
        from jinja2.sandbox import ImmutableSandboxedEnvironment
    except ImportError as exc:
        raise ConfigError(
            "Chat templates need jinja2: pip install 'autoload-core[chat]' (or pip install 'jinja2>=3.1.6')."
        ) from exc
    major_minor_patch = tuple(int(part) for part in jinja2.__version__.split(".")[:3] if part.isdigit())
    if major_minor_patch < (3, 1, 6):
        raise ConfigError(
            "Chat templates need jinja2 3.1.6 or newer (older ones have sandbox escapes); "
            f"this is {jinja2.__version__}."
        )

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(
        value: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None, sort_keys: bool = False
    ) -> str:
        # jinja's own tojson escapes HTML characters, which would change the prompt
        return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format: str) -> str:
        return datetime.now().strftime(format)

    class SafeNamespace(jinja2.utils.Namespace):
        """A namespace that refuses underscore attributes, the way out to Python internals."""

        def __init__(*args: Any, **kwargs: Any) -> None:
            self, args = args[0], args[1:]
            attributes = dict(*args, **kwargs)
            for name in attributes:
                SafeNamespace._check(name)
            jinja2.utils.Namespace.__init__(self, attributes)

        def __setitem__(self, name: str, value: Any) -> None:
            SafeNamespace._check(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check(name: Any) -> None:
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(f"Chat templates cannot set the attribute {name!r}.")

    environment = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    environment.filters["tojson"] = tojson
    environment.globals["raise_exception"] = raise_exception
    environment.globals["strftime_now"] = strftime_now
    environment.globals["namespace"] = SafeNamespace
    environment.globals["dict"] = lambda *args, **kwargs: dict(*args, **kwargs)
    return environment


@functools.lru_cache(maxsize=64)
def _compile_cached(template: str) -> Any:
    return _environment().from_string(template)


def _compile(template: str, source: str) -> Any:
    if not isinstance(template, str):
        raise ProcessingError(f"A chat template is Jinja source text, not {type(template).__name__}.")
    _environment()  # a missing or too old jinja2 is a ConfigError of its own
    try:
        return _compile_cached(template)
    except Exception as exc:
        import jinja2

        if isinstance(exc, jinja2.exceptions.TemplateSyntaxError):
            raise ProcessingError(f"{source} is not valid Jinja: line {exc.lineno}: {exc.message}") from exc
        raise ProcessingError(f"{source} cannot be compiled: {type(exc).__name__}: {exc}") from exc


__all__ = ["render_conversations", "select_template"]
