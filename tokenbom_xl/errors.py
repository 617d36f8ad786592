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
