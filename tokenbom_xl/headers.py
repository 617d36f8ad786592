"""Checks on the header row of an input table, shared by every CSV and range reader.

Kept apart from :mod:`tokenbom_xl.tabular` so that readers which do not use pandas
(the TBM mapping, read while a workbook is built) can use it without importing pandas.
"""

from __future__ import annotations

from collections.abc import Sequence

from tokenbom_xl.errors import InputError

__all__ = ["column_letter", "reject_duplicate_columns"]


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
