"""RECONCILE called as Python with Excel-shaped ranges whose account cells hold
dates, as Excel makes of a typed code such as 2025-01."""

from __future__ import annotations

import csv
import datetime as dt

from conftest import TEMPLATES
from openpyxl import load_workbook

from tokenbom_xl import udfs

REFERENCE_WORKBOOK = TEMPLATES.parent / "workbooks" / "token_bom_reference.xlsx"
VALUE = "#VALUE!"


def inputs_range():
    """The Inputs sheet's name and value columns from the heading row down."""
    sheet = load_workbook(REFERENCE_WORKBOOK)["Inputs"]
    rows = [[cell.value for cell in row[:2]] for row in sheet.iter_rows()]
    heading = next(
        index
        for index, row in enumerate(rows)
        if isinstance(row[0], str) and row[0].startswith("Parameter")
    )
    return rows[heading:]


def csv_range(name):
    with (TEMPLATES / name).open(newline="", encoding="utf-8") as file:
        return [
            [cell if cell != "" else None for cell in row] for row in csv.reader(file)
        ]


def test_reconcile_rejects_date_in_account():
    ledger = csv_range("ledger.csv")
    ledger[1][1] = dt.datetime(2025, 1, 1)  # was the Silicon account 161000
    result = udfs.reconcile(ledger, csv_range("gl_map.csv"), inputs_range())
    assert result[0][0] == VALUE, result[:3]
    assert "row 2" in result[0][1]
    assert "account" in result[0][1]


def test_reconcile_rejects_date_in_map_account():
    gl_map = csv_range("gl_map.csv")
    gl_map[1][1] = dt.datetime(2025, 1, 1)  # was the range start 161000
    result = udfs.reconcile(csv_range("ledger.csv"), gl_map, inputs_range())
    assert result[0][0] == VALUE, result[:3]
    message = result[0][1]
    assert "column account:" in message, message
    assert "date" in message, message
