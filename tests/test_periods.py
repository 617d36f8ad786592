"""Months as whole numbers, fiscal years and quarters."""

from __future__ import annotations

import pytest

from tokenbom_xl.periods import (
    fiscal_year_label,
    month_label,
    parse_month,
    quarter_label,
)


def test_month_round_trip():
    assert parse_month("2026-01") - parse_month("2025-12") == 1
    assert month_label(parse_month("2026-12")) == "2026-12"


@pytest.mark.parametrize(
    "text", ["2026-1", "2026-00", "2026-13", "26-01", "2026-01-01", " 2026-01"]
)
def test_invalid_month(text):
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_month(text)


# (month, fiscal year start month, fiscal year label, quarter label)
FISCAL_CASES = [
    ("2026-01", 1, "2026", "2026 Q1"),
    ("2026-12", 1, "2026", "2026 Q4"),
    ("2026-06", 7, "2025/26", "2025/26 Q4"),
    ("2026-07", 7, "2026/27", "2026/27 Q1"),
    ("2026-03", 4, "2025/26", "2025/26 Q4"),
    ("1999-12", 10, "1999/00", "1999/00 Q1"),
]


@pytest.mark.parametrize(("month", "start", "year", "quarter"), FISCAL_CASES)
def test_fiscal_labels(month, start, year, quarter):
    assert fiscal_year_label(parse_month(month), start) == year
    assert quarter_label(parse_month(month), start) == quarter
