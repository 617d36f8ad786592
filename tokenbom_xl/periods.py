"""Calendar months as whole numbers, and the labels the schedule shows for them.

A month is stored as ``year * 12 + (month - 1)``, so month arithmetic is integer
arithmetic: ``parse_month("2026-01") - parse_month("2025-12") == 1``. Fiscal years
and quarters start at a configurable calendar month (1 = January).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator

__all__ = [
    "FIRST_MONTH",
    "LAST_MONTH",
    "MONTH_ALLOWED",
    "MONTH_PATTERN",
    "MonthText",
    "fiscal_year_label",
    "fiscal_year_of",
    "month_from_date",
    "month_label",
    "month_text_problem",
    "parse_month",
    "quarter_label",
    "quarter_of",
]

# "YYYY-MM", the form every month takes in scenario files and CSV inputs.
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
_MONTH_RE = re.compile(MONTH_PATTERN)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")

# The allowed months, worded for the end of a message ("give ...").
MONTH_ALLOWED = "a month as YYYY-MM from 0001-01 to 9999-12, such as 2026-01"

# The first and last month indices that have a label: 0001-01 and 9999-12. These are
# the years of Python's datetime, and a year of 10000 would not fit the four digits
# that the workbook reads with LEFT(label, 4).
FIRST_MONTH = 1 * 12
LAST_MONTH = 9999 * 12 + 11


def parse_month(text: str) -> int:
    """Convert ``"YYYY-MM"`` to a month index.

    Year 0000 passes, so callers that need a month with a label compare the index
    with :data:`FIRST_MONTH`.

    Raises:
        ValueError: ``text`` is not a month in that form.
    """
    if not _MONTH_RE.fullmatch(text):
        raise ValueError(
            f"{text!r} is not a month in the form YYYY-MM, such as 2026-01"
        )
    year, month = int(text[:4]), int(text[5:7])
    return year * 12 + month - 1


def _validate_month_text(text: str) -> str:
    if parse_month(text) < FIRST_MONTH:
        raise ValueError(
            f"{text!r} is before 0001-01, the first month a schedule can show; "
            "give a month from 0001-01 to 9999-12"
        )
    return text


# Pydantic field type for "YYYY-MM" text from 0001-01 on. The error for an invalid
# value names the expected form.
MonthText = Annotated[str, AfterValidator(_validate_month_text)]


def month_text_problem(text: str) -> str | None:
    """Return why ``text`` is not a month from 0001-01 to 9999-12, or None if it is one.

    A full date such as 2026-02-01 is a problem too, because a spreadsheet program may
    have turned the months into dates, and dropping the day would hide a typing error
    such as 2026-02-31.
    """
    if _DATE_RE.fullmatch(text):
        return (
            "a date, not a month (if a spreadsheet program turned the months into "
            "dates, format the column as text)"
        )
    if not _MONTH_RE.fullmatch(text):
        return "not a month in the form YYYY-MM"
    if parse_month(text) < FIRST_MONTH:
        return "before 0001-01, the first month a schedule can show"
    return None


def month_from_date(value: date) -> int:
    """Return the month index of the month that contains ``value``."""
    return value.year * 12 + value.month - 1


def month_label(index: int) -> str:
    """Convert a month index back to ``"YYYY-MM"``."""
    year, month = divmod(int(index), 12)
    return f"{year:04d}-{month + 1:02d}"


def fiscal_year_of(index: int, start_month: int = 1) -> int:
    """Return the calendar year in which the fiscal year containing ``index`` begins."""
    return (int(index) - (start_month - 1)) // 12


def fiscal_year_label(index: int, start_month: int = 1) -> str:
    """Return the label of the fiscal year that contains ``index``.

    The label is ``"2026"``, or ``"2025/26"`` when the fiscal year spans two calendar
    years.
    """
    first_year = fiscal_year_of(index, start_month)
    if start_month == 1:
        return f"{first_year}"
    return f"{first_year}/{(first_year + 1) % 100:02d}"


def quarter_of(index: int, start_month: int = 1) -> int:
    """Return the fiscal quarter (1 to 4) that contains ``index``."""
    return ((int(index) - (start_month - 1)) % 12) // 3 + 1


def quarter_label(index: int, start_month: int = 1) -> str:
    """Return the label of the fiscal quarter that contains ``index``, such as ``"2026 Q1"``."""
    return f"{fiscal_year_label(index, start_month)} Q{quarter_of(index, start_month)}"
