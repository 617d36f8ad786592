"""The package's two exception types: bad input and an output it cannot write.

Every message names where the problem is (file, row, field), the offending value and
the fix, because the person who reads it is usually a finance user, not the author.
The command line turns an ``InputError`` into exit code 2 and an ``OutputError``
into exit code 1.
"""

from __future__ import annotations


class TokenBomError(Exception):
    """Base class for every error the package raises on purpose."""


class InputError(TokenBomError, ValueError):
    """An input (scenario, data file, argument) is missing, malformed or out of range."""


class OutputError(TokenBomError, RuntimeError):
    """A correct output cannot be produced or written (disk, LibreOffice, checks)."""


def number_text(value: float) -> str:
    """Format a number for a message with all the digits it was given: 1000.004, 1000, 1e-07.

    This is Python's shortest round-trip form without a trailing ``.0``, so two values
    that differ never print alike, as they can with ``:g``.
    """
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
