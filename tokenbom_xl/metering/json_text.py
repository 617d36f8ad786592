"""Parsing untrusted JSON with a nesting limit and messages that name the file.

``json.loads`` recurses once per nesting level, so a document of 50,000 nested
objects ends in a RecursionError, and an integer of more than 4,300 digits raises a
plain ValueError. :func:`decode_json` checks the nesting depth before parsing and
turns every failure into :class:`InvalidJson`, whose message states what is wrong
and where.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from tokenbom_xl.errors import InputError

__all__ = ["MAX_NESTING_DEPTH", "InvalidJson", "decode_json", "parse_json_text"]

# The deepest nesting of arrays and objects (and of YAML collections) accepted. Real
# exports nest up to about a dozen levels (an Inspect eval log, 11). Python's parsers
# recurse per level, and PyYAML's composer uses about three stack frames per level,
# so 100 levels stay well inside the default recursion limit of 1,000.
MAX_NESTING_DEPTH = 100

# Every byte except the quote and the four brackets, deleted before counting depth.
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'"[]{}')


class InvalidJson(ValueError):
    """Text that is not a JSON document the readers accept.

    The message states what is wrong, where and what to do. ``reason`` states only
    what is wrong, in words that are the same for every record with the same fault,
    so a reader can count rejected records by it.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def decode_json(text: str) -> Any:
    """Parse one JSON document, rejecting nesting deeper than ``MAX_NESTING_DEPTH``.

    Raises:
        InvalidJson: the text is not valid JSON, is nested too deeply, or contains
            an integer too long to convert. The message gives the line and column
            of a syntax error.
    """
    too_deep = f"nested more than {MAX_NESTING_DEPTH} levels deep"
    depth = _depth_over_limit(text)
    if depth is not None:
        raise InvalidJson(
            f"JSON nested {depth:,} levels deep, more than the {MAX_NESTING_DEPTH} accepted; "
            "check that the file is a genuine export",
            too_deep,
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) - 1
        hint = "the file ends early (truncated?)" if truncated else exc.msg
        raise InvalidJson(
            f"line {exc.lineno}, column {exc.colno}: invalid JSON: {hint}; fix or export the file again",
            exc.msg,
        ) from None
    except ValueError:
        # Since Python 3.11, converting more than 4,300 digits to int raises ValueError.
        raise InvalidJson(
            "invalid JSON: an integer has more than 4,300 digits; check that the file "
            "is a genuine export",
            "an integer of more than 4,300 digits",
        ) from None
    except RecursionError:
        # The depth check makes this unreachable unless the stack is already deep.
        raise InvalidJson(
            "JSON nested too deeply to read; check that the file is a genuine export",
            too_deep,
        ) from None


def parse_json_text(text: str, path: str) -> Any:
    """Parse a JSON document read from ``path``.

    Raises:
        InputError: the text is not a JSON document the readers accept; the message
            names ``path`` and, for a syntax error, the line and column.
    """
    try:
        return decode_json(text)
    except InvalidJson as exc:
        raise InputError(f"{path}: {exc}") from None


def _depth_over_limit(text: str) -> int | None:
    """Return the nesting depth of JSON ``text`` if it exceeds ``MAX_NESTING_DEPTH``.

    Cheap for the usual document: the count of opening brackets bounds the depth,
    and only when that count exceeds the limit are the brackets outside strings
    counted, with NumPy, in time linear in the text.
    """
    if text.count("[") + text.count("{") <= MAX_NESTING_DEPTH:
        return None
    data = text.encode("utf-8", "surrogatepass")
    if b"\\" in data:
        # Drop escape pairs, so that every quote left opens or closes a string. A
        # backslash escapes the next character, and JSON has none outside strings.
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = np.frombuffer(data.translate(None, _NOT_STRUCTURE), dtype=np.uint8)
    quote = structure == ord('"')
    # A bracket after an odd number of quotes is inside a string. The running count
    # may wrap around in uint8 because only its parity is used.
    inside = (np.cumsum(quote, dtype=np.uint8) & 1).astype(bool)
    brackets = structure[~inside & ~quote]
    # "[" and "{" have bit 1 set and "]" and "}" do not: +1 opens, -1 closes.
    steps = (brackets & 2).view(np.int8) - 1
    depth = int(np.cumsum(steps, dtype=np.int32).max(initial=0))
    return depth if depth > MAX_NESTING_DEPTH else None
