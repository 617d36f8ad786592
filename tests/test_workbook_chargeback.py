"""Chargeback, TBM Mapping and Ledger Reconciliation sheets, recalculated in LibreOffice.

Every formula cell the builder wrote records the engine's value. After a LibreOffice
recalculation each one must match, the master check must be TRUE, and no formula may
evaluate to an error. Names from input files must be written as text, never formulas.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REFERENCE_SCENARIO, TEMPLATES, assert_close
from openpyxl import load_workbook

from tokenbom_xl.ledger import ledger_from_range, read_gl_map, read_ledger
from tokenbom_xl.scenario import load_scenario
from tokenbom_xl.usage import read_usage
from tokenbom_xl.workbook import build_workbook, write_workbook

DATA = Path(__file__).parent / "data"
INJECTED = ('=HYPERLINK("http://x","y")', "+cmd|'/C calc'!A0")


def assert_matches_engine(built, recalculated) -> None:
    assert recalculated.errors() == []
    mismatches = []
    for expectation in built.expectations:
        value = recalculated.value(expectation.sheet, expectation.coordinate)
        where = f"{expectation.sheet}!{expectation.coordinate}"
        if isinstance(expectation.value, (bool, str)):
            if value != expectation.value:
                mismatches.append(f"{where}: {value!r} != {expectation.value!r}")
            continue
        try:
            assert_close(value, expectation.value, where=where)
        except AssertionError as error:
            mismatches.append(str(error))
    assert mismatches == []
    assert recalculated.named("checks_all_pass") is True


def build_and_recalculate(tmp_path, recalc, name, scenario, **data):
    built = build_workbook(scenario, **data)
    path = write_workbook(built, tmp_path / name)
    return built, path, recalc(path)


@pytest.mark.libreoffice
def test_template_workbook_matches_engine(tmp_path, recalc):
    built, _, recalculated = build_and_recalculate(
        tmp_path,
        recalc,
        "templates.xlsx",
        load_scenario(REFERENCE_SCENARIO),
        usage=read_usage(TEMPLATES / "usage.csv"),
        ledger=read_ledger(TEMPLATES / "ledger.csv"),
        gl_map=read_gl_map(TEMPLATES / "gl_map.csv"),
    )
    assert_matches_engine(built, recalculated)
    checks = [
        value
        for coordinate, value in recalculated.values["Checks"].items()
        if coordinate.startswith("A")
    ]
    assert "Chargeback: charges add up to C(U) to the cent" in checks
    assert "Reconciliation: mapped + unmapped = GL total" in checks
    assert "TBM: rows add up to the charges to the cent" in checks


@pytest.mark.libreoffice
def test_two_model_workbook_matches_engine(tmp_path, recalc):
    ledger = ledger_from_range(
        [
            ["period", "account", "cost_centre", "amount", "description"],
            [
                "2024-12",
                "161000",
                "0100",
                4800,
                "December depreciation, no usage that month",
            ],
            ["2025-01", "620500", "0100", 455.5, "Electricity"],
            ["2025-02", "620500", "0100", 90, "Electricity"],
            ["2025-02", "999", "0100", -12.25, "Unmapped credit"],
        ]
    )
    built, _, recalculated = build_and_recalculate(
        tmp_path,
        recalc,
        "two_models.xlsx",
        load_scenario(DATA / "two_model_factory.toml"),
        usage=read_usage(DATA / "two_model_usage.csv"),
        ledger=ledger,
        gl_map=read_gl_map(TEMPLATES / "gl_map.csv"),
    )
    assert_matches_engine(built, recalculated)
    # Hand-worked in test_chargeback: Search pays 5,650.00 in 2025-01.
    cells = recalculated.values["Chargeback"]
    search = [
        row
        for row in range(1, 200)
        if cells.get(f"A{row}") == "2025-01" and cells.get(f"B{row}") == "Search"
    ]
    assert len(search) == 1
    assert cells[f"N{search[0]}"] == 5650.0


@pytest.mark.libreoffice
def test_ledger_without_usage_matches_engine(tmp_path, recalc):
    built, _, recalculated = build_and_recalculate(
        tmp_path,
        recalc,
        "ledger_only.xlsx",
        load_scenario(REFERENCE_SCENARIO),
        ledger=read_ledger(TEMPLATES / "ledger.csv"),
        gl_map=read_gl_map(TEMPLATES / "gl_map.csv"),
    )
    assert "Chargeback" not in built.workbook.sheetnames
    assert_matches_engine(built, recalculated)


@pytest.mark.libreoffice
def test_injected_names_stay_text(tmp_path, recalc):
    built, path, recalculated = build_and_recalculate(
        tmp_path,
        recalc,
        "injection.xlsx",
        load_scenario(REFERENCE_SCENARIO),
        usage=read_usage(DATA / "injection_usage.csv"),
        ledger=read_ledger(DATA / "injection_ledger.csv"),
        gl_map=read_gl_map(TEMPLATES / "gl_map.csv"),
    )
    assert_matches_engine(built, recalculated)

    # Read back the saved file: every cell holding an input string is a string cell.
    workbook = load_workbook(path)
    inputs = set(INJECTED) | {"=1+2", "@SUM(1+1)", "-2+3"}
    found: dict[str, set[str]] = {text: set() for text in inputs}
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formula = str(cell.value)
                    assert "HYPERLINK" not in formula, (
                        f"{ws.title}!{cell.coordinate}: {formula}"
                    )
                    assert "cmd|" not in formula, (
                        f"{ws.title}!{cell.coordinate}: {formula}"
                    )
                if cell.value in inputs:
                    assert cell.data_type == "s", (
                        f"{ws.title}!{cell.coordinate} holds {cell.value!r} as {cell.data_type}"
                    )
                    found[cell.value].add(ws.title)
    for name in INJECTED:
        # Business units and ledger descriptions both carry these names.
        for sheet in ("Chargeback", "TBM Mapping", "Usage Data", "Ledger Data"):
            assert sheet in found[name], f"{name!r} missing from {sheet}"
    assert {"Ledger Data", "Ledger Reconciliation"} <= found["=1+2"]
    assert {"Ledger Data", "Ledger Reconciliation"} <= found["@SUM(1+1)"]

    # LibreOffice also reads them back as the literal text.
    values = [
        value
        for sheet in ("Chargeback", "Usage Data")
        for value in recalculated.values[sheet].values()
    ]
    for name in INJECTED:
        assert name in values


def test_plain_build_has_no_chargeback_sheets():
    built = build_workbook(load_scenario(REFERENCE_SCENARIO))
    for title in (
        "Chargeback",
        "TBM Mapping",
        "Ledger Reconciliation",
        "Usage Data",
        "Ledger Data",
        "GL Map",
    ):
        assert title not in built.workbook.sheetnames


def test_data_sheets_come_last():
    built = build_workbook(
        load_scenario(REFERENCE_SCENARIO),
        usage=read_usage(TEMPLATES / "usage.csv"),
        ledger=read_ledger(TEMPLATES / "ledger.csv"),
        gl_map=read_gl_map(TEMPLATES / "gl_map.csv"),
    )
    assert built.workbook.sheetnames[-7:] == [
        "Chargeback",
        "TBM Mapping",
        "Ledger Reconciliation",
        "Usage Data",
        "Ledger Data",
        "GL Map",
        "Checks",
    ]


@pytest.mark.libreoffice
def test_edited_inputs_keep_checks_true(tmp_path, recalc):
    # A controller switches the idle policy and changes a model's throughput and the
    # idle power: every charge recalculates and still adds up to C(U) to the cent.
    built = build_workbook(
        load_scenario(DATA / "two_model_factory.toml"),
        usage=read_usage(DATA / "two_model_usage.csv"),
        ledger=read_ledger(TEMPLATES / "ledger.csv"),
        gl_map=read_gl_map(TEMPLATES / "gl_map.csv"),
    )
    path = write_workbook(built, tmp_path / "edited.xlsx")
    workbook = load_workbook(path)
    edits = {
        "chargeback_unreserved_idle": "spread-by-usage",
        "model_1_tokens_per_second": 333.3,
        "energy_idle_fraction": 0.35,
    }
    for row in workbook["Inputs"].iter_rows(min_row=5):
        if row[0].value in edits:
            row[1].value = edits.pop(row[0].value)
    assert edits == {}
    workbook.save(tmp_path / "edited_by_user.xlsx")

    recalculated = recalc(tmp_path / "edited_by_user.xlsx")
    assert recalculated.errors() == []
    assert recalculated.named("checks_all_pass") is True


@pytest.mark.libreoffice
def test_unmapped_lines_netting_to_zero_flagged(tmp_path, recalc):
    header = ["period", "account", "cost_centre", "amount", "description"]
    ledger = ledger_from_range(
        [
            header,
            ["2025-01", "161000", "a", 5000, ""],
            ["2025-01", "999999", "a", 100, "travel"],
            ["2025-01", "999999", "a", -100, "travel refund"],
        ]
    )
    built, _, recalculated = build_and_recalculate(
        tmp_path,
        recalc,
        "net_zero.xlsx",
        load_scenario(REFERENCE_SCENARIO),
        ledger=ledger,
        gl_map=read_gl_map(TEMPLATES / "gl_map.csv"),
    )
    assert_matches_engine(built, recalculated)
    flags = [
        expectation.value
        for expectation in built.expectations
        if expectation.sheet == "Ledger Reconciliation"
        and expectation.value == "unmapped"
    ]
    assert flags == ["unmapped"]
