"""Streamers: text as it is generated, token by token.

``generate(streamer=...)`` calls ``streamer.put(ids)`` with the prompt once,
then with each new token, and ``streamer.end()`` at the end.
:class:`TextStreamer` prints; :class:`TextIteratorStreamer` is iterated
from another thread while ``generate()`` runs in its own.

Text is released word by word: the decoded text of the tokens so far is
only final up to the last space, because a tokenizer's decoder may still
join or change the end of a word (and a multi-byte character may be half
there).  Everything released, joined, is exactly what decoding all the
generated tokens at once gives.
"""

from __future__ import annotations

import queue
from typing import Any

_PENDING_CHARACTER = "\ufffd"  # what a decoder shows for a character whose bytes are not all there yet


class BaseStreamer:
    """What ``generate()`` calls: ``put`` with each chunk of token ids, ``end`` once at the end."""

    def put(self, value: Any) -> None:
        raise NotImplementedError

    def end(self) -> None:
        raise NotImplementedError


def _is_wide_script(char: str) -> bool:
    """CJK ideographs: words are not separated by spaces there, so each character is final at once."""
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class TextStreamer(BaseStreamer):
    """Print generated text to stdout as soon as it is final (batch size 1).

    ``skip_prompt=True`` leaves the prompt out; ``decode_kwargs`` (for
    example ``skip_special_tokens=True``) go to ``tokenizer.decode``.
    """

    def __init__(self, tokenizer: Any, skip_prompt: bool = False, **decode_kwargs: Any) -> None:
        self.tokenizer = tokenizer
        self.skip_prompt = skip_prompt
        self.decode_kwargs = decode_kwargs
        self._ids: list[int] = []
        self._released = 0  # characters of the decoded text of _ids already handed out
        self._expect_prompt = True

    def put(self, value: Any) -> None:
        if value.dim() > 1:
            if value.shape[0] > 1:
                raise ValueError("TextStreamer streams one sequence; generate() was given a batch of several.")
            value = value[0]
        if self._expect_prompt:
            self._expect_prompt = False
            if self.skip_prompt:
                return
        self._ids.extend(value.tolist())
        text = self.tokenizer.decode(self._ids, **self.decode_kwargs)
        if text.endswith(_PENDING_CHARACTER):
            return
        if text.endswith("\n"):
            # A line is complete: release it and start decoding afresh, so the text kept small.
            chunk = text[self._released :]
            self._ids, self._released = [], 0
        elif text and _is_wide_script(text[-1]):
            chunk = text[self._released :]
            self._released = len(text)
        else:
            final = max(text.rfind(" "), text.rfind("\t")) + 1
            chunk = text[self._released : final] if final > self._released else ""
            self._released = max(self._released, final)
        if chunk:
            self.on_finalized_text(chunk)

    def end(self) -> None:
        text = self.tokenizer.decode(self._ids, **self.decode_kwargs) if self._ids else ""
        chunk = text[self._released :]
        self._ids, self._released, self._expect_prompt = [], 0, True
        self.on_finalized_text(chunk, stream_end=True)

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        """Where released text goes; subclasses override it (this one prints)."""
        print(text, flush=True, end=None if stream_end else "")


class TextIteratorStreamer(TextStreamer):
    """Text chunks through a queue, for iterating in one thread while ``generate()`` runs in another::

        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True)
        threading.Thread(target=model.generate, kwargs={**inputs, "streamer": streamer}).start()
        for chunk in streamer:
            ...

    ``timeout`` (seconds) bounds each wait for the next chunk; ``queue.Empty`` is raised when it runs out.
    """

    _END = object()

    def __init__(
        self, tokenizer: Any, skip_prompt: bool = False, timeout: float | None = None, **decode_kwargs: Any
    ) -> None:
        super().__init__(tokenizer, skip_prompt, **decode_kwargs)
        self.text_queue: queue.Queue[Any] = queue.Queue()
        self.timeout = timeout

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if text:
            self.text_queue.put(text, timeout=self.timeout)
        if stream_end:
            self.text_queue.put(self._END, timeout=self.timeout)

    def __iter__(self) -> TextIteratorStreamer:
        return self

    def __next__(self) -> str:
        value = self.text_queue.get(timeout=self.timeout)
        if value is self._END:
            raise StopIteration
        return value


__all__ = ["BaseStreamer", "TextIteratorStreamer", "TextStreamer"]
