"""Usage input: CSV and worksheet ranges, and every error naming file, row and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from conftest import TEMPLATES

from tokenbom_xl.errors import InputError
from tokenbom_xl.usage import read_usage, usage_from_range

HEADER = "period,business_unit,model,good_tokens,reserved_share\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "usage.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_template_reads():
    usage = read_usage(TEMPLATES / "usage.csv")
    assert len(usage) == 6
    assert usage.business_unit.tolist()[:3] == ["Search", "Support", "Research"]
    assert usage.reserved_share[0] == 0.4
    assert np.isnan(usage.reserved_share[2])


def test_names_kept_as_text(tmp_path):
    path = write(
        tmp_path, HEADER + "2025-01,NA,m,1,\n2025-01,  00123 ,m,2,\n2025-01,null,m,3,\n"
    )
    usage = read_usage(path)
    assert usage.business_unit.tolist() == ["NA", "00123", "null"]


def test_percent_share_and_blank_lines(tmp_path):
    path = write(tmp_path, HEADER + "2025-01,A,m,1,25%\n\n,,,,\n2025-02,A,m,2,\n")
    usage = read_usage(path)
    assert usage.reserved_share[0] == 0.25
    assert usage.row.tolist() == [2, 5]


def test_short_rows_that_state_something(tmp_path):
    # Excel leaves out the trailing commas of blank last cells in some saves.
    path = write(tmp_path, HEADER + "2025-01,A,m,1\n2025-01,B,,,0.25\n")
    usage = read_usage(path)
    assert usage.good_tokens.tolist() == [1.0, 0.0]
    assert np.isnan(usage.reserved_share[0])
    assert usage.reserved_share[1] == 0.25
    assert usage.model.tolist() == ["m", ""]


# Each case: file body after the header, and the expected message (a regex).
BAD_FILES = [
    (
        "2025/01,A,m,1,\n",
        r"row 2, column period: '2025/01' is not a period; write the month as YYYY-MM",
    ),
    ("2025-13,A,m,1,\n", r"row 2, column period: '2025-13' is not a period"),
    (
        "2025-01,A,m,1,\n2025-01-15,B,m,1,\n",
        r"row 3, column period: '2025-01-15' is not a period.*format the column as text",
    ),
    ("2025-01,,m,1,\n", r"row 2, column business_unit: empty"),
    ("2025-01,A,m,-5,\n", r"row 2, column good_tokens: -5 is negative"),
    ("2025-01,A,m,lots,\n", r"row 2, column good_tokens: 'lots' is not a number"),
    ("2025-01,A,m,1e309,\n", r"row 2, column good_tokens: '1e309' is not a number"),
    (
        "2025-01,A,m,123456789012345678901,\n",
        r"row 2, column good_tokens: '123456789012345678901' is above 9,007,199,254,740,992",
    ),
    ("2025-01,A,m,1,inf\n", r"row 2, column reserved_share: 'inf' is not a number"),
    ("2025-01,A,m,,\n", r"row 2, column good_tokens: empty"),
    ("2025-01,A,,7,\n", r"row 2, column model: empty"),
    ("2025-01,A\n", r"row 2: no model, good_tokens or reserved_share"),
    ("2025-01,A,,,\n", r"row 2: no model, good_tokens or reserved_share"),
    ("2025-01,A,m\n", r"row 2, column good_tokens: empty"),
    ("2025-01,A,m,1,1.5\n", r"row 2, column reserved_share: 1.5 is outside 0 to 1"),
    ("2025-01,A,m,1,half\n", r"row 2, column reserved_share: 'half' is not a number"),
    (
        "2025-01,A,m,1,\n2025-01,A,m,2,\n",
        r"row 3, column model: period 2025-01, business unit 'A' and model 'm' already appear on row 2",
    ),
]


@pytest.mark.parametrize("body, message", BAD_FILES)
def test_bad_file_names_row_and_column(tmp_path, body, message):
    path = write(tmp_path, HEADER + body)
    with pytest.raises(InputError, match=message) as caught:
        read_usage(path)
    assert str(caught.value).startswith(str(path))


def test_missing_column(tmp_path):
    path = write(tmp_path, "period,business_unit,good_tokens\n2025-01,A,1\n")
    with pytest.raises(
        InputError, match=r"usage.csv: row 1: missing column\(s\) model, reserved_share"
    ):
        read_usage(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="usage file not found"):
        read_usage(tmp_path / "absent.csv")


def test_header_only(tmp_path):
    with pytest.raises(InputError, match="no usage rows"):
        read_usage(write(tmp_path, HEADER))


def test_not_utf8(tmp_path):
    path = tmp_path / "usage.csv"
    path.write_bytes(HEADER.encode() + "2025-01,Caf\xe9,m,1,\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_usage(path)


def test_range_with_excel_values():
    rows = [
        ["business_unit", "period", "model", "good_tokens", "reserved_share", "note"],
        ["A", "2025-01", "m", 1200.0, 0.25, "x"],
        ["B", "2025-01", "m", 5.0, None, None],
    ]
    usage = usage_from_range(rows)
    assert usage.good_tokens.tolist() == [1200.0, 5.0]
    assert usage.business_unit.tolist() == ["A", "B"]


def test_range_date_period_is_explained():
    rows = [
        ["period", "business_unit", "model", "good_tokens", "reserved_share"],
        [dt.datetime(2025, 1, 1), "A", "m", 1, None],
    ]
    with pytest.raises(
        InputError,
        match=r"usage_range: row 2, column period: '2025-01-01' is not a period.*format the column as text",
    ):
        usage_from_range(rows)
