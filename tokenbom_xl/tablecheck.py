"""Checks shared by the table readers that need no pandas.

The checks reject repeated header columns and characters that a workbook cannot
contain. They are kept apart from :mod:`tokenbom_xl.tabular` so that readers which do
not use pandas (the TBM mapping, read while a workbook is built) can use them without
importing pandas.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tokenbom_xl.errors import InputError

__all__ = [
    "CONTROL_CHARACTERS",
    "column_letter",
    "control_character_problem",
    "reject_duplicate_columns",
]

# Characters that XML 1.0, and so an .xlsx cell, cannot contain: the C0 controls other
# than tab, line feed and carriage return, and the noncharacters U+FFFE and U+FFFF.
# Input text that contains one is rejected, so that a CSV report and the workbook
# always show the same text.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def reject_duplicate_columns(
    header: Sequence[str], columns: Sequence[str], *, source: str, row: int = 1
) -> None:
    """Raise InputError when one of ``columns`` appears more than once in ``header``.

    Reading only one of two columns with the same name would silently drop the
    values of the other.
    """
    for column in columns:
        positions = [index for index, name in enumerate(header) if name == column]
        if len(positions) > 1:
            first, second = positions[:2]
            raise InputError(
                f"{source}: row {row}: column {column!r} appears twice, as columns "
                f"{first + 1} and {second + 1} ({column_letter(first)} and "
                f"{column_letter(second)}); delete or rename one, so that it is clear "
                "which values to use"
            )


def column_letter(index: int) -> str:
    """Return the spreadsheet letter of a 0-based column index: 0 -> A, 27 -> AB."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def control_character_problem(text: str) -> str | None:
    """Describe the first character of ``text`` that a workbook cannot contain, or None."""
    found = CONTROL_CHARACTERS.search(text)
    if found is None:
        return None
    return (
        f"{text!r} contains the control character U+{ord(found.group()):04X}, which "
        "a workbook cannot contain; remove it from the input"
    )
