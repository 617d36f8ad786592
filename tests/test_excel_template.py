"""The analyst template: reproducible bytes, the xlwings set-up and the function calls."""

from __future__ import annotations

import csv
import io
import re

import pytest
from conftest import TEMPLATES, assert_close
from openpyxl import load_workbook
from openpyxl.worksheet.formula import ArrayFormula

from tokenbom_xl import excel
from tokenbom_xl.excel.template import build_analyst_workbook, write_analyst_template
from tokenbom_xl.workbook.save import workbook_bytes

TEMPLATE = TEMPLATES / "analyst_functions.xlsx"
FUNCTIONS = {name.upper() for name in excel.__all__}


@pytest.fixture(scope="module")
def template():
    return load_workbook(io.BytesIO(workbook_bytes(build_analyst_workbook())))


def formulas(ws):
    """Yield (coordinate, formula text) for every formula cell, array formulas included."""
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, ArrayFormula):
                yield cell.coordinate, cell.value.text
            elif cell.data_type == "f":
                yield cell.coordinate, cell.value


def test_committed_template_regenerates_byte_identically(tmp_path):
    regenerated = write_analyst_template(tmp_path / "analyst_functions.xlsx")
    assert regenerated.read_bytes() == TEMPLATE.read_bytes()


def test_template_sheets(template):
    assert template.sheetnames == ["Functions", "Inputs", "xlwings.conf"]
    assert template.active.title == "Functions"


def test_xlwings_conf_sets_udf_modules(template):
    ws = template["xlwings.conf"]
    assert ws["A1"].value == "UDF Modules"
    assert ws["B1"].value == "tokenbom_xl.udfs"
    # The add-in reads keys from A1 down to the first empty cell.
    assert ws["A2"].value is None


def test_template_calls_every_function(template):
    called = set()
    for _, text in formulas(template["Functions"]):
        called.update(re.findall(r"\b([A-Z_]+)\(", text))
    assert FUNCTIONS <= called


def test_array_formulas_fit_results(template):
    ranges = {}
    for row in template["Functions"].iter_rows():
        for cell in row:
            if isinstance(cell.value, ArrayFormula):
                name = re.match(r"=([A-Z_]+)\(", cell.value.text).group(1)
                ranges[name] = cell.value.ref
    # function, spilled range: TOKEN_BOM has 11 lines of 4 columns, Fabric 3 TBM routes
    assert _size(ranges["TOKEN_BOM"]) == (11, 4)
    assert _size(ranges["TBM_MAP"]) == (3, 5)
    assert _size(ranges["TOKEN_COST"]) == (10, 1)
    # A header row, then 2 periods x (3 business units + the central line).
    assert _size(ranges["CHARGEBACK"]) == (9, 8)
    # A header row, then 2 periods x (7 components + Unmapped).
    assert _size(ranges["RECONCILE"]) == (17, 7)


def _size(reference):
    first, last = reference.split(":")
    first_column, first_row = re.match(r"([A-Z]+)(\d+)", first).groups()
    last_column, last_row = re.match(r"([A-Z]+)(\d+)", last).groups()
    return int(last_row) - int(first_row) + 1, ord(last_column) - ord(first_column) + 1


def test_expected_values_are_reference_figures(template):
    ws = template["Functions"]
    expected = {
        ws[f"A{row}"].value: ws[f"D{row}"].value for row in range(1, ws.max_row + 1)
    }
    # figure label, published value for the reference factory
    cases = [
        ("Capacity K, tokens per month", 4_204_800_000.0),
        ("Silicon, per month", 5_000.0),
        (
            "Fixed cost F: Silicon, Fabric, Facility, Platform, Model Lifecycle, Operations",
            13_750.0,
        ),
        ("Total cost C(U) at the Inputs utilization", 14_200.0),
        ("Total cost C(1) at full utilization", 14_500.0),
        ("Cost per million good tokens", 6.2538756412),
        ("Floor per million tokens", 3.4484398782),
        ("Capacity variance, per month", 5_500.0),
        ("Yield loss, per month", 870.0),
        ("Crossover utilization U* against the API price", 0.7566752515),
        # C(U) of 2025-01 at U = 0.6 plus 2025-02 at U = 0.5: 14,200 + 14,125.
        ("Charged in total: the C(U) of every usage period", 28_325.0),
        ("Booked in total, mapped and unmapped: the GL total", 28_810.0),
    ]
    for label, value in cases:
        assert_close(expected[label], value, rel=1e-9, where=label)


def test_checks_compare_value_and_expected(template):
    ws = template["Functions"]
    checks = [text for coordinate, text in formulas(ws) if coordinate.startswith("E")]
    assert len(checks) == 25
    for text in checks:
        assert text.startswith("=IF(ISNUMBER(C")


@pytest.mark.libreoffice
def test_template_native_formulas_recalculate(recalc):
    # LibreOffice does not know the worksheet functions, so their cells and the cells
    # that depend on them show #NAME?; every other formula must compute.
    result = recalc(TEMPLATE)
    errors = result.errors()
    assert errors, "expected #NAME? where the functions are not installed"
    assert {value for _, _, value in errors} == {"#NAME?"}
    assert result.value("Functions", "C11") == 750
    assert result.value("Functions", "E11") is True


def _table_arguments(ws, text):
    """Return the values of the ranges that ``text`` (a CHARGEBACK or RECONCILE formula) passes."""
    arguments = []
    for reference in re.findall(r"(?:(\w+)!)?\$([A-Z])\$(\d+):\$([A-Z])\$(\d+)", text):
        sheet, first_column, first_row, last_column, last_row = reference
        source = ws.parent[sheet] if sheet else ws
        rows = source.iter_rows(
            min_row=int(first_row),
            max_row=int(last_row),
            min_col=ord(first_column) - 64,
            max_col=ord(last_column) - 64,
            values_only=True,
        )
        arguments.append(
            [[float(v) if isinstance(v, int) else v for v in row] for row in rows]
        )
    return arguments


def _csv_range(name, numeric):
    """Return a shipped CSV template as Excel sends it: numbers as float, empty cells as None."""
    with (TEMPLATES / name).open(newline="", encoding="utf-8") as handle:
        header, *records = list(csv.reader(handle))
    rows = [header]
    for record in records:
        row = []
        for column, text in zip(header, record, strict=True):
            if not text:
                row.append(None)
            elif column in numeric:
                row.append(float(text))
            else:
                row.append(text)
        rows.append(row)
    return rows


# function, the shipped CSV files it runs on with their numeric columns
TABLE_DATA = {
    "CHARGEBACK": [("usage.csv", ("good_tokens", "reserved_share"))],
    "RECONCILE": [("ledger.csv", ("amount",)), ("gl_map.csv", ())],
}


@pytest.mark.parametrize("name", TABLE_DATA)
def test_table_formulas_read_sheet_data(template, name):
    # The ranges each formula passes, read from the sheet, give the same table as the
    # shipped CSV templates do, and that table fills the array formula exactly.
    ws = template["Functions"]
    text, reference = next(
        (cell.value.text, cell.value.ref)
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, ArrayFormula)
        and cell.value.text.startswith(f"={name}(")
    )
    *data, inputs = _table_arguments(ws, text)
    function = getattr(excel, name.lower())
    table = function(*data, inputs)
    assert table[0][0] == "period"
    assert table == function(*(_csv_range(*item) for item in TABLE_DATA[name]), inputs)
    assert _size(reference) == (len(table), len(table[0]))


def test_template_codes_stay_text(template):
    ws = template["Functions"]
    codes = [
        cell.value
        for row in ws.iter_rows()
        for cell in row
        if cell.value in ("004100", "0100")
    ]
    assert "004100" in codes
    assert "0100" in codes
