"""The generated workbook: layout, conventions, reproducibility and, after a
LibreOffice recalculation, agreement of every formula cell with the engine."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from conftest import REFERENCE_SCENARIO, REPO_ROOT, assert_close
from openpyxl import load_workbook

from tokenbom_xl import engine
from tokenbom_xl.scenario import load_scenario
from tokenbom_xl.workbook import build_workbook, write_workbook

COMPONENT_SHEETS = [
    "Silicon",
    "Fabric",
    "Facility",
    "Energy",
    "Platform",
    "Model Lifecycle",
    "Operations",
]
SHEETS = [
    "Cover",
    "Inputs",
    *COMPONENT_SHEETS,
    "Summary",
    "Utilization Curve",
    "Checks",
]
COMMITTED = REPO_ROOT / "workbooks" / "token_bom_reference.xlsx"

# Functions that Excel 2010 and LibreOffice 7.4 both know, and that the workbook may use.
ALLOWED_FUNCTIONS = {
    "ABS",
    "AND",
    "IF",
    "INT",
    "ISNUMBER",
    "MAX",
    "SUM",
    "VDB",
    "SUMIFS",
    "SUMPRODUCT",
    "INDEX",
    "MATCH",
}
VOLATILE_FUNCTIONS = {
    "OFFSET",
    "INDIRECT",
    "NOW",
    "TODAY",
    "RAND",
    "RANDBETWEEN",
    "CELL",
    "INFO",
}


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(REFERENCE_SCENARIO)


@pytest.fixture(scope="module")
def built(scenario):
    return build_workbook(scenario)


@pytest.fixture(scope="module")
def saved(built, tmp_path_factory):
    path = tmp_path_factory.mktemp("workbook") / "reference.xlsx"
    write_workbook(built, path)
    return path


@pytest.fixture(scope="module")
def reloaded(saved):
    return load_workbook(saved)


def test_sheet_order(reloaded):
    assert reloaded.sheetnames == SHEETS


def test_build_is_byte_identical(scenario):
    first = build_workbook(scenario).to_bytes()
    second = build_workbook(scenario).to_bytes()
    assert first == second


def test_document_timestamps_are_fixed(saved):
    with zipfile.ZipFile(saved) as archive:
        core = archive.read("docProps/core.xml").decode()
        assert all(
            info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist()
        )
    assert "2000-01-01T00:00:00Z" in core


def test_committed_workbook_matches_fresh_build(built):
    assert COMMITTED.is_file(), (
        "workbooks/token_bom_reference.xlsx is missing; run `tokenbom build`"
    )
    assert COMMITTED.read_bytes() == built.to_bytes(), (
        "the committed workbook is stale; run `tokenbom build`"
    )


def test_inputs_are_named_unlocked_and_validated(reloaded):
    inputs = reloaded["Inputs"]
    sheet, coordinate = next(iter(reloaded.defined_names["utilization"].destinations))
    assert sheet == "Inputs"
    cell = inputs[coordinate.replace("$", "")]
    assert cell.value == 0.6
    assert cell.protection.locked is False
    validations = [
        dv
        for dv in inputs.data_validations.dataValidation
        if cell.coordinate in dv.sqref
    ]
    assert len(validations) == 1
    assert (
        validations[0].formula1
        == f"AND(ISNUMBER({cell.coordinate}),{cell.coordinate}>0,{cell.coordinate}<=1)"
    )


def test_formula_cells_are_locked(reloaded):
    for ws in reloaded.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert cell.protection.locked, (
                        f"{ws.title}!{cell.coordinate} is unlocked"
                    )


def test_every_sheet_protected_without_password(reloaded):
    for ws in reloaded.worksheets:
        assert ws.protection.sheet, ws.title
        assert not ws.protection.password, ws.title


def test_frozen_panes_and_print_setup(reloaded):
    for title in SHEETS[1:]:
        ws = reloaded[title]
        assert ws.freeze_panes, title
        assert ws.page_setup.fitToWidth == 1, title
        assert ws.print_title_rows, title


def test_formulas_use_only_portable_functions(reloaded):
    used = set()
    for ws in reloaded.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    used |= set(re.findall(r"([A-Z][A-Z0-9.]*)\(", cell.value))
    assert not used & VOLATILE_FUNCTIONS
    assert used <= ALLOWED_FUNCTIONS, used - ALLOWED_FUNCTIONS


def test_money_and_per_million_formats(reloaded):
    summary = reloaded["Summary"]
    sheet, coordinate = next(
        iter(reloaded.defined_names["bom_cost_per_million"].destinations)
    )
    assert '" /M"' in reloaded[sheet][coordinate.replace("$", "")].number_format
    sheet, coordinate = next(iter(reloaded.defined_names["bom_total"].destinations))
    assert reloaded[sheet][coordinate.replace("$", "")].number_format.startswith(
        '"$"#,##0.00'
    )
    assert summary["A2"].value == "Reference factory"


def test_cover_names_scenario_version_and_hash(reloaded, scenario):
    from tokenbom_xl import __version__
    from tokenbom_xl.scenario import scenario_hash

    values = [cell.value for row in reloaded["Cover"].iter_rows() for cell in row]
    assert "Reference factory" in values
    assert f"tokenbom_xl {__version__}" in values
    assert scenario_hash(scenario) in values
    assert all(title in values for title in SHEETS[1:])


def test_curve_chart_has_both_series(reloaded):
    charts = reloaded["Utilization Curve"]._charts
    assert len(charts) == 1
    titles = [series.tx.strRef.f for series in charts[0].series]
    assert [t.replace("$", "") for t in titles] == [
        "'Utilization Curve'!E5",
        "'Utilization Curve'!F5",
    ]
    x_ranges = {series.xVal.numRef.f for series in charts[0].series}
    assert x_ranges == {"'Utilization Curve'!$A$6:$A$25"}


def test_scenario_name_written_as_text(tmp_path):
    hostile = '=HYPERLINK("http://x","y")'
    data = load_scenario(REFERENCE_SCENARIO).model_dump()
    data["name"] = hostile
    from tokenbom_xl.scenario import parse_scenario

    built = build_workbook(parse_scenario(data))
    workbook = load_workbook(io.BytesIO(built.to_bytes()))
    assert workbook["Cover"]["B4"].value == hostile
    assert workbook["Cover"]["B4"].data_type == "s"
    assert workbook["Summary"]["A2"].data_type == "s"


def test_every_formula_has_an_engine_value(built, reloaded):
    recorded = {(e.sheet, e.coordinate) for e in built.expectations}
    for title in ["Summary", "Utilization Curve", "Checks", *COMPONENT_SHEETS]:
        ws = reloaded[title]
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert (title, cell.coordinate) in recorded, (
                        f"{title}!{cell.coordinate} has no engine value"
                    )


# ---------------------------------------------------------------------------
# After a LibreOffice recalculation


def compare(recalculated, expectations):
    """Return a list of (cell, workbook value, engine value) that disagree."""
    wrong = []
    for expectation in expectations:
        actual = recalculated.value(expectation.sheet, expectation.coordinate)
        where = f"{expectation.sheet}!{expectation.coordinate}"
        if isinstance(expectation.value, (bool, str)):
            if actual != expectation.value:
                wrong.append((where, actual, expectation.value))
            continue
        try:
            assert_close(actual, expectation.value, where=where)
        except AssertionError:
            wrong.append((where, actual, expectation.value))
    return wrong


@pytest.mark.libreoffice
def test_recalculated_figures_equal_engine(built, saved, recalc):
    recalculated = recalc(saved)
    assert compare(recalculated, built.expectations) == []
    assert len(built.expectations) > 150


@pytest.mark.libreoffice
def test_recalculated_workbook_has_no_errors(saved, recalc):
    recalculated = recalc(saved)
    assert recalculated.errors() == []
    assert recalculated.named("checks_all_pass") is True


@pytest.mark.libreoffice
def test_headline_figures_after_recalculation(saved, recalc):
    recalculated = recalc(saved)
    assert round(recalculated.named("bom_floor_per_million"), 4) == 3.4484
    assert round(recalculated.named("bom_cost_per_million"), 4) == 6.2539
    assert round(recalculated.named("bom_crossover"), 4) == 0.7567


@pytest.mark.libreoffice
@pytest.mark.parametrize("utilization", [0.35, 0.9])
def test_edited_utilization_recalculates(
    saved, recalc, scenario, tmp_path, utilization
):
    workbook = load_workbook(saved)
    sheet, coordinate = next(iter(workbook.defined_names["utilization"].destinations))
    workbook[sheet][coordinate.replace("$", "")] = utilization
    edited = tmp_path / "edited.xlsx"
    workbook.save(edited)

    recalculated = recalc(edited)
    expected = engine.evaluate(scenario, utilization=utilization)

    assert_close(
        recalculated.named("bom_cost_per_million"), expected.cost_per_good_token * 1e6
    )
    assert_close(
        recalculated.named("bom_capacity_variance"), expected.capacity_variance
    )
    assert recalculated.named("checks_all_pass") is True


@pytest.mark.libreoffice
def test_declining_balance_silicon_matches_engine(scenario, tmp_path, recalc):
    from tokenbom_xl.scenario import parse_scenario

    data = scenario.model_dump()
    data["silicon"].update(method="declining-balance", salvage=2_000.0, age_months=30)
    changed = parse_scenario(data)
    built = build_workbook(changed)
    path = tmp_path / "ddb.xlsx"
    write_workbook(built, path)

    recalculated = recalc(path)

    assert compare(recalculated, built.expectations) == []
    assert_close(
        recalculated.named("cost_silicon"), engine.component_costs(changed).silicon
    )


@pytest.mark.libreoffice
@pytest.mark.parametrize(
    "energy, facility",
    [
        (
            {
                "basis": "physical",
                "it_kw": 5.0,
                "pue": 1.4,
                "price_per_kwh": 0.1,
                "idle_fraction": 0.25,
            },
            {"basis": "per-rack", "racks": 2.0, "cost_per_rack": 450.0},
        ),
        (
            {"basis": "physical", "wall_kw": 8.0, "price_per_kwh": 0.12},
            {"basis": "per-kw", "provisioned_kw": 10.0, "cost_per_kw": 95.0},
        ),
    ],
    ids=["it-kw-per-rack", "wall-kw-per-kw"],
)
def test_other_bases_match_engine(scenario, tmp_path, recalc, energy, facility):
    from tokenbom_xl.scenario import parse_scenario

    data = scenario.model_dump()
    data["energy"] = energy
    data["facility"] = facility
    data["fabric"] = {"basis": "capex", "capex": 48_000.0, "life_months": 60}
    built = build_workbook(parse_scenario(data))
    path = tmp_path / "bases.xlsx"
    write_workbook(built, path)

    recalculated = recalc(path)

    assert compare(recalculated, built.expectations) == []
    assert recalculated.named("checks_all_pass") is True
