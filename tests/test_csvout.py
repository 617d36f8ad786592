"""Report CSV files: formula-leading text neutralized, money exact, writes atomic."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest

from tokenbom_xl.csvout import cents_text, neutralize_text, write_csv
from tokenbom_xl.errors import OutputError


def test_neutralize_prefixes_formula_leads():
    values = [
        '=HYPERLINK("http://x","y")',
        "+cmd|'/C calc'!A0",
        "-2+3",
        "@SUM(1)",
        "\tx",
        "Search",
        "a=b",
    ]
    assert neutralize_text(values).tolist() == [
        '\'=HYPERLINK("http://x","y")',
        "'+cmd|'/C calc'!A0",
        "'-2+3",
        "'@SUM(1)",
        "'\tx",
        "Search",
        "a=b",
    ]


def test_cents_text_is_exact():
    assert cents_text(np.array([0, 5, -5, 123456, 90071992547409])) == [
        "0.00",
        "0.05",
        "-0.05",
        "1234.56",
        "900719925474.09",
    ]


def test_write_csv_quotes_and_neutralizes(tmp_path):
    frame = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://x","y")', "a,b", "plain"],
            "amount": ["1.00", "2.00", "-3.00"],
        }
    )
    path = write_csv(tmp_path / "out.csv", frame, text_columns=("name",))
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["name", "amount"],
        ['\'=HYPERLINK("http://x","y")', "1.00"],
        ["a,b", "2.00"],
        ["plain", "-3.00"],
    ]


def test_write_csv_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old", "utf-8")
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_csv(tmp_path / "folder.csv", pd.DataFrame({"a": [1.0]}), text_columns=())
    assert target.read_text("utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
