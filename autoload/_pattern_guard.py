"""Refuse tokenizer regular expressions that backtrack catastrophically, before any text meets them.

A ``tokenizer.json`` may carry regular expressions (a ``Split`` pre-tokenizer,
a ``Replace`` normalizer).  The ``tokenizers`` library runs them with
Oniguruma, a backtracking engine: a pattern such as ``(a+)+$`` takes time
exponential in the input's length.  Oniguruma gives up after ten million
backtracking steps, but then the library panics (``PanicException``, which is
not even an ``Exception``) after seconds of work per call.  Such patterns are
refused when the tokenizer is loaded instead.

What is detected: a group repeated without bound (``*``, ``+``, ``{n,}``)
that itself holds a quantifier repeated without bound -- star height two, the
shape of every classic exponential pattern (``(a+)+``, ``(a*)*b``,
``(\\w+\\s?)*$``, ``(x+x+)+y``).  Possessive quantifiers (``a++``) and atomic
groups (``(?>...)``) do not backtrack and are allowed.  Not detected:
alternations whose branches overlap under a repetition (``(a|a)+``); those
stay bounded by Oniguruma's step limit, and the tokenizer base reports that
limit as a :class:`~autoload.errors.ProcessingError`.  No pattern of a
released tokenizer (GPT-2, Llama 3, Qwen 2, cl100k, o200k) has this shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from autoload.errors import CheckpointError


def find_regex_patterns(data: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every ``{"Regex": pattern}`` in a parsed ``tokenizer.json``, with the JSON path it sits at."""
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{where}.{key}" if where else str(key)
            if key == "Regex" and isinstance(value, str):
                yield where, value
            else:
                yield from find_regex_patterns(value, path)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from find_regex_patterns(value, f"{where}[{index}]")


def catastrophic_part(pattern: str) -> str | None:
    """The part of ``pattern`` that nests unbounded repetitions (``"(a+)+"``), or ``None`` when there is none."""
    # Each open group: [start index, holds an unbounded backtracking quantifier, is atomic].
    groups: list[list[Any]] = [[0, False, False]]
    index = 0
    length = len(pattern)
    last_group: tuple[int, bool, bool] | None = None  # the group that just closed, if the next char may quantify it
    while index < length:
        char = pattern[index]
        closed, last_group = last_group, None
        quantifier, unbounded, end = _quantifier(pattern, index) if char in "*+?{" else (False, False, index)
        if closed is not None and closed[1]:
            groups[-1][1] = True  # what a group holds, its parent holds
            if quantifier and unbounded and not (end < length and pattern[end] == "+"):
                return pattern[closed[0] : end]
        if quantifier:
            possessive = end < length and pattern[end] == "+"
            if unbounded and not possessive:
                groups[-1][1] = True
            index = end + (1 if end < length and pattern[end] in "?+" else 0)
        elif char == "\\":
            index += 2
        elif char == "[":
            index = _skip_class(pattern, index)
        elif char == "(":
            groups.append([index, False, pattern.startswith("(?>", index)])
            index += 1
            if pattern.startswith("?", index):
                index += 1  # (?:, (?i:, (?=, ... : the ? is not a quantifier
        elif char == ")" and len(groups) > 1:
            start, inner_unbounded, atomic = groups.pop()
            last_group = (start, inner_unbounded and not atomic, atomic)
            index += 1
        else:
            index += 1
    return None


def _skip_class(pattern: str, index: int) -> int:
    """Index just past the character class opening at ``index`` (nested classes and escapes included)."""
    depth = 0
    position = index
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if char == "[":
            depth += 1
            if pattern.startswith("[^]", position) or pattern.startswith("[]", position):
                position += 2 if pattern[position + 1] == "]" else 3
                continue
        elif char == "]":
            depth -= 1
            if depth == 0:
                return position + 1
        position += 1
    return position


def _quantifier(pattern: str, index: int) -> tuple[bool, bool, int]:
    """(is a quantifier, repeats without bound, index after it) for the text at ``index``."""
    char = pattern[index]
    if char in "*+":
        return True, True, index + 1
    if char == "?":
        return True, False, index + 1
    if char == "{":
        close = pattern.find("}", index)
        body = pattern[index + 1 : close] if close > 0 else ""
        low, comma, high = body.partition(",")
        if close > 0 and (low.strip().isdigit() or (comma and high.strip().isdigit())):
            unbounded = bool(comma) and not high.strip()
            return True, unbounded, close + 1
    return False, False, index + 1


def check_tokenizer_patterns(data: Any, path: str) -> None:
    """Raise :class:`CheckpointError` when a regex in a parsed ``tokenizer.json`` backtracks catastrophically."""
    for where, pattern in find_regex_patterns(data):
        part = catastrophic_part(pattern)
        if part is not None:
            raise CheckpointError(
                f"{path} holds a regular expression at {where or 'the top level'} that backtracks catastrophically: "
                f"{part!r} in {pattern[:200]!r} repeats a group that itself repeats without bound, so tokenizing "
                "some texts would take time exponential in their length. autoload refuses it. Use the tokenizer.json "
                "published with the model, or rewrite the pattern without nested repetition (for example (a+)+ as a+)."
            )


__all__ = ["catastrophic_part", "check_tokenizer_patterns", "find_regex_patterns"]
