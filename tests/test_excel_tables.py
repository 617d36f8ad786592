"""The table worksheet functions TOKEN_BOM, TBM_MAP, CHARGEBACK and RECONCILE."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import PHYSICAL_SCENARIO, REFERENCE_SCENARIO, TEMPLATES, assert_close

from tokenbom_xl import excel
from tokenbom_xl.chargeback import CHARGEBACK_COLUMNS, chargeback_table
from tokenbom_xl.cli import main
from tokenbom_xl.reconcile import RECONCILIATION_COLUMNS, reconcile_table
from tokenbom_xl.scenario import load_scenario, scenario_parameters
from tokenbom_xl.tbm import default_tbm_mapping


def inputs_range(path, **changes):
    """Return the scenario as the Inputs sheet's name/value columns, with ``changes``."""
    rows = [
        [p.name, changes.pop(p.name, p.value)]
        for p in scenario_parameters(load_scenario(path))
    ]
    assert not changes, f"unknown parameters {changes}"
    return rows


@pytest.fixture(scope="module")
def reference_bom():
    return excel.token_bom(inputs_range(REFERENCE_SCENARIO))


def test_token_bom_shape(reference_bom):
    assert len(reference_bom) == 11
    assert all(len(row) == 4 for row in reference_bom)


def test_token_bom_reference_figures(reference_bom):
    rows = {row[0]: row[1:] for row in reference_bom}
    # line, monthly cost, $ per million good tokens rounded to 4 places
    cases = [
        ("Silicon", 5_000.0, None),
        ("Fabric", 1_250.0, None),
        ("Facility", 1_000.0, None),
        ("Energy", 450.0, None),
        ("Platform", 1_500.0, None),
        ("Model Lifecycle", 1_000.0, None),
        ("Operations", 4_000.0, None),
        ("Total", 14_200.0, 6.2539),
        ("Floor", 7_830.0, 3.4484),
        ("Yield loss", 870.0, None),
        ("Capacity variance", 5_500.0, None),
    ]
    for label, cost, per_million in cases:
        assert_close(rows[label][0], cost, where=label)
        if per_million is not None:
            assert round(rows[label][1], 4) == per_million, label


def test_token_bom_shares(reference_bom):
    rows = {row[0]: row[1:] for row in reference_bom}
    assert_close(rows["Silicon"][2], 5_000 / 14_200)
    assert_close(rows["Total"][2], 1.0)


def test_token_bom_physical_energy():
    rows = {row[0]: row[1:] for row in excel.token_bom(inputs_range(PHYSICAL_SCENARIO))}
    assert_close(rows["Energy"][0], 700.80 * 0.6)


def test_token_bom_follows_changed_input():
    rows = {
        row[0]: row[1:]
        for row in excel.token_bom(inputs_range(REFERENCE_SCENARIO, utilization=1.0))
    }
    assert_close(rows["Capacity variance"][0], 0.0)
    assert_close(rows["Total"][0], 14_500.0)


def test_token_bom_accepts_whole_inputs_table():
    # The Inputs sheet has unit, description and allowed range beside name and value.
    rows = [
        row + ["unit", "description", "allowed"]
        for row in inputs_range(REFERENCE_SCENARIO)
    ]
    assert excel.token_bom(rows)[7][1] == pytest.approx(14_200.0)


def test_token_bom_whole_number_floats():
    # Excel sends every number as float, including accelerators and life in months.
    rows = [
        [name, float(value) if isinstance(value, int) else value]
        for name, value in inputs_range(REFERENCE_SCENARIO)
    ]
    assert excel.token_bom(rows)[0][1] == pytest.approx(5_000.0)


def test_token_bom_skips_blank_rows():
    rows = inputs_range(REFERENCE_SCENARIO)
    rows = rows[:5] + [[None, None]] + rows[5:] + [[None, None], [None, None]]
    assert excel.token_bom(rows)[7][1] == pytest.approx(14_200.0)


def test_token_bom_empty_optional_value_takes_default():
    rows = inputs_range(REFERENCE_SCENARIO, silicon_salvage=None)
    assert excel.token_bom(rows)[0][1] == pytest.approx(5_000.0)


# inputs changes, words the message must contain
INVALID_INPUTS = [
    ({"utilization": 1.5}, ["utilization", "1.5"]),
    ({"silicon_life_months": 0.0}, ["life_months"]),
    ({"silicon_method": "sum-of-years"}, ["method", "sum-of-years"]),
    ({"accelerators": "eight"}, ["accelerators", "eight"]),
    ({"utilization": "#N/A"}, ["utilization", "#N/A"]),
    ({"silicon_unit_price": None}, ["unit_price", "missing"]),
]


@pytest.mark.parametrize(("changes", "words"), INVALID_INPUTS)
def test_token_bom_invalid_inputs(changes, words):
    rows = excel.token_bom(inputs_range(REFERENCE_SCENARIO, **changes))
    assert rows[0][0] == "#VALUE!"
    for word in words:
        assert word in rows[0][1]


def test_token_bom_unknown_parameter():
    rows = excel.token_bom(
        inputs_range(REFERENCE_SCENARIO) + [["silicon_colour", "green"]]
    )
    assert rows[0][0] == "#VALUE!"
    assert "colour" in rows[0][1]


def test_token_bom_one_column():
    rows = excel.token_bom([["accelerators"], ["tokens_per_second"]])
    assert rows[0][0] == "#VALUE!"
    assert "two columns" in rows[0][1]


def test_token_bom_single_value():
    assert excel.token_bom(5)[0][0] == "#VALUE!"


def test_tbm_map_fabric_routes():
    rows = excel.tbm_map("Fabric")
    assert rows == [
        ["Hardware", "Network", "AI Network", "Artificial Intelligence", 50.0],
        ["Hardware", "Storage", "AI Storage", "Artificial Intelligence", 30.0],
        ["Hardware", "Compute", "AI Compute", "Artificial Intelligence", 20.0],
    ]


@pytest.mark.parametrize(
    "name",
    ["Model Lifecycle", "model_lifecycle", " MODEL LIFECYCLE ", [["Model Lifecycle"]]],
)
def test_tbm_map_name_forms(name):
    rows = excel.tbm_map(name)
    assert [row[0] for row in rows] == ["Cloud Services", "Labor"]


def test_tbm_map_every_component_matches_mapping():
    routes = default_tbm_mapping()
    for component in {route.component for route in routes}:
        expected = [
            [r.cost_pool, r.resource_tower, r.sub_tower, r.solution, r.split_percent]
            for r in routes
            if r.component == component
        ]
        assert excel.tbm_map(component) == expected, component


# argument, words the message must contain
INVALID_COMPONENTS = [
    ("Cooling", ["Cooling", "unknown", "Silicon"]),
    (None, ["empty"]),
    (3.0, ["unknown"]),
    ([["Silicon", "Fabric"]], ["one cell"]),
]


@pytest.mark.parametrize(("component", "words"), INVALID_COMPONENTS)
def test_tbm_map_invalid_component(component, words):
    rows = excel.tbm_map(component)
    assert rows[0][0] == "#VALUE!"
    for word in words:
        assert word in rows[0][1]


# ---------------------------------------------------------------------------
# CHARGEBACK and RECONCILE

DATA = Path(__file__).parent / "data"
TWO_MODELS = DATA / "two_model_factory.toml"
TWO_MODEL_USAGE = DATA / "two_model_usage.csv"
USAGE_NUMBERS = ("good_tokens", "reserved_share")
LEDGER_NUMBERS = ("amount",)


def excel_range(path, numeric=()):
    """Return a CSV file as Excel sends it as a range: numbers as float, empty cells as None.

    A cell shown as 10% contains 0.1, so a percent field becomes its fraction.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        header, *records = list(csv.reader(handle))
    rows = [header]
    for record in records:
        row = []
        for name, text in zip(header, record, strict=True):
            if text == "":
                row.append(None)
            elif name in numeric and text.endswith("%"):
                row.append(float(text[:-1]) / 100)
            elif name in numeric:
                row.append(float(text))
            else:
                row.append(text)
        rows.append(row)
    return rows


def template_usage():
    return excel_range(TEMPLATES / "usage.csv", USAGE_NUMBERS)


def template_ledger():
    return excel_range(TEMPLATES / "ledger.csv", LEDGER_NUMBERS)


def template_gl_map():
    return excel_range(TEMPLATES / "gl_map.csv")


def replace_cell(rows, row, column, value):
    """Return a copy of ``rows`` with the cell in row ``row`` (header = 1) and ``column`` set."""
    copy = [list(cells) for cells in rows]
    copy[row - 1][copy[0].index(column)] = value
    return copy


def run_cli(tmp_path, *arguments):
    """Run the CLI with ``-o`` in ``tmp_path`` and return the rows of the CSV it wrote."""
    output = tmp_path / "out.csv"
    result = CliRunner().invoke(main, [*map(str, arguments), "-o", str(output), "-q"])
    assert result.exit_code == 0, result.output
    with output.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def cents(value):
    """Return a money cell as the CSV writes it, two decimals; an empty cell as ''."""
    return "" if value is None else f"{value:.2f}"


def by_line(table):
    return {(row[0], row[1]): row[2:] for row in table[1:]}


# The two-model worked example of tests/test_chargeback.py, worked by hand there:
# period, consumer, usage charge, capacity variance, unreserved idle, total.
TWO_MODEL_LINES = [
    ("2025-01", "Research", 2175.00, 0.00, 0.00, 2175.00),
    ("2025-01", "Search", 2900.00, 2750.00, 0.00, 5650.00),
    ("2025-01", "Support", 3625.00, 0.00, 0.00, 3625.00),
    ("2025-01", "Infrastructure", 0.00, 0.00, 2750.00, 2750.00),
    ("2025-02", "Search", 1450.00, 5500.00, 0.00, 6950.00),
    ("2025-02", "Infrastructure", 0.00, 0.00, 6875.00, 6875.00),
]


@pytest.fixture(scope="module")
def two_model_chargeback():
    return excel.chargeback(
        excel_range(TWO_MODEL_USAGE, USAGE_NUMBERS), inputs_range(TWO_MODELS)
    )


def test_chargeback_header_row(two_model_chargeback):
    assert tuple(two_model_chargeback[0]) == CHARGEBACK_COLUMNS


def test_chargeback_worked_example(two_model_chargeback):
    assert len(two_model_chargeback) == 1 + len(TWO_MODEL_LINES)
    lines = by_line(two_model_chargeback)
    for period, unit, usage, variance, idle, total in TWO_MODEL_LINES:
        assert lines[(period, unit)][2:] == [usage, variance, idle, total], (
            period,
            unit,
        )


def test_chargeback_shares(two_model_chargeback):
    lines = by_line(two_model_chargeback)
    # Search in 2025-01: 4,204,800 busy accelerator-seconds of 21,024,000, reserved 40%.
    assert_close(lines[("2025-01", "Search")][0], 0.2)
    assert_close(lines[("2025-01", "Search")][1], 0.4)
    # Support's reserved share was typed as 10%, which Excel sends as 0.1.
    assert_close(lines[("2025-01", "Support")][1], 0.1)


@pytest.mark.parametrize(
    ("usage", "scenario", "costs"),
    [
        # C(U) = 13,750 + 750 x U: U = 0.6 and 0.1 (two models), 0.6 and 0.5 (template).
        (TWO_MODEL_USAGE, TWO_MODELS, {"2025-01": 14_200.00, "2025-02": 13_825.00}),
        (
            TEMPLATES / "usage.csv",
            REFERENCE_SCENARIO,
            {"2025-01": 14_200.00, "2025-02": 14_125.00},
        ),
    ],
)
def test_chargeback_adds_up_to_period_cost(usage, scenario, costs):
    table = excel.chargeback(excel_range(usage, USAGE_NUMBERS), inputs_range(scenario))
    for period, cost in costs.items():
        totals = [row[7] for row in table[1:] if row[0] == period]
        assert round(sum(totals) * 100) == round(cost * 100), period


def test_chargeback_parts_add_up_to_line_total(two_model_chargeback):
    for row in two_model_chargeback[1:]:
        assert round(sum(row[4:7]) * 100) == round(row[7] * 100), row[:2]


def test_chargeback_equals_engine_table(two_model_chargeback):
    # The engine's function takes the range as text, as the CSV file stores it.
    with TWO_MODEL_USAGE.open(newline="", encoding="utf-8") as handle:
        text_rows = list(csv.reader(handle))
    assert two_model_chargeback == chargeback_table(text_rows, inputs_range(TWO_MODELS))


def test_chargeback_equals_cli_to_the_cent(tmp_path):
    table = excel.chargeback(template_usage(), inputs_range(REFERENCE_SCENARIO))
    csv_rows = run_cli(
        tmp_path, "chargeback", REFERENCE_SCENARIO, "--usage", TEMPLATES / "usage.csv"
    )
    assert csv_rows[0] == table[0]
    assert len(csv_rows) == len(table)
    for written, returned in zip(csv_rows[1:], table[1:], strict=True):
        assert written[:2] == returned[:2]
        assert [float(share) for share in written[2:4]] == pytest.approx(
            returned[2:4], rel=1e-12
        )
        assert written[4:] == [cents(value) for value in returned[4:]], written[:2]


def test_chargeback_reads_inputs_sheet_table():
    # The whole Inputs table: its heading row, then unit, description and allowed
    # range beside each name and value.
    rows = [["Parameter (defined name)", "Value", "Unit", "Description", "Allowed"]]
    rows += [
        row + ["unit", "description", "allowed"]
        for row in inputs_range(REFERENCE_SCENARIO)
    ]
    table = excel.chargeback(template_usage(), rows)
    assert table == excel.chargeback(template_usage(), inputs_range(REFERENCE_SCENARIO))


def test_chargeback_empty_optional_input_takes_default():
    table = excel.chargeback(
        template_usage(), inputs_range(REFERENCE_SCENARIO, silicon_salvage=None)
    )
    assert table[0][0] == "period"


def test_chargeback_generous_range():
    # A range selected past the data (A1:F100) brings empty rows and an extra column.
    usage = [row + ["note"] for row in template_usage()] + [[None] * 6] * 20
    table = excel.chargeback(usage, inputs_range(REFERENCE_SCENARIO))
    assert table == excel.chargeback(template_usage(), inputs_range(REFERENCE_SCENARIO))


def test_chargeback_accepts_numpy_range():
    usage = np.array(template_usage(), dtype=object)
    table = excel.chargeback(usage, inputs_range(REFERENCE_SCENARIO))
    assert table == excel.chargeback(template_usage(), inputs_range(REFERENCE_SCENARIO))


@pytest.mark.parametrize(
    "name",
    ['=HYPERLINK("http://x","y")', "+cmd|'/C calc'!A0", "-2+3", "@SUM(A1:A2)", "#team"],
)
def test_chargeback_keeps_formula_text_literal(name):
    usage = template_usage()
    for row in usage[1:]:
        if row[1] == "Search":
            row[1] = name
    table = excel.chargeback(usage, inputs_range(REFERENCE_SCENARIO))
    units = [row[1] for row in table[1:] if row[0] == "2025-01"]
    assert name in units
    assert "Search" not in units


def test_chargeback_central_line_name_from_inputs():
    inputs = inputs_range(REFERENCE_SCENARIO, chargeback_central_line="=1+1")
    table = excel.chargeback(template_usage(), inputs)
    assert [row[1] for row in table[1:5]] == ["Research", "Search", "Support", "=1+1"]


@pytest.fixture(scope="module")
def template_reconciliation():
    return excel.reconcile(
        template_ledger(), template_gl_map(), inputs_range(REFERENCE_SCENARIO)
    )


def test_reconcile_header_row(template_reconciliation):
    assert tuple(template_reconciliation[0]) == RECONCILIATION_COLUMNS


def test_reconcile_worked_example(template_reconciliation):
    rows = by_line(template_reconciliation)
    assert len(template_reconciliation) == 1 + 2 * 8
    # Energy booked 620 against E(0.6) = 750 x 0.6 = 450: +170, +37.8%, outside 5%.
    energy = rows[("2025-01", "Energy")]
    assert energy[:3] == [620.0, 450.0, 170.0]
    assert_close(energy[3], 170 / 450)
    assert energy[4] == "over tolerance"
    # Model Lifecycle in February: 960 against 1,000 is -4%, inside 5%.
    assert rows[("2025-02", "Model Lifecycle")][4] == "ok"
    # Travel on account 680000 matches no rule: listed, never dropped.
    assert rows[("2025-01", "Unmapped")] == [350.0, None, None, None, "unmapped"]
    assert rows[("2025-02", "Unmapped")] == [0.0, None, None, None, "ok"]


def test_reconcile_booked_adds_up_to_gl_total(template_reconciliation):
    booked = sum(row[2] for row in template_reconciliation[1:])
    gl_total = sum(row[3] for row in template_ledger()[1:])
    assert round(booked * 100) == round(gl_total * 100) == 2_881_000


def test_reconcile_equals_engine_table(template_reconciliation):
    with (TEMPLATES / "ledger.csv").open(newline="", encoding="utf-8") as handle:
        ledger = list(csv.reader(handle))
    with (TEMPLATES / "gl_map.csv").open(newline="", encoding="utf-8") as handle:
        mapping = list(csv.reader(handle))
    assert template_reconciliation == reconcile_table(
        ledger, mapping, inputs_range(REFERENCE_SCENARIO)
    )


def test_reconcile_equals_cli_to_the_cent(tmp_path, template_reconciliation):
    csv_rows = run_cli(
        tmp_path,
        "reconcile",
        REFERENCE_SCENARIO,
        "--ledger",
        TEMPLATES / "ledger.csv",
        "--gl-map",
        TEMPLATES / "gl_map.csv",
    )
    assert csv_rows[0] == template_reconciliation[0]
    assert len(csv_rows) == len(template_reconciliation)
    for written, returned in zip(
        csv_rows[1:], template_reconciliation[1:], strict=True
    ):
        assert written[:2] == returned[:2]
        assert written[2:5] == [cents(value) for value in returned[2:5]], written[:2]
        if returned[5] is None:
            assert written[5] == ""
        else:
            assert float(written[5]) == pytest.approx(returned[5], abs=1e-6)
        assert written[6] == returned[6]


def test_reconcile_numeric_account_loses_leading_zeros():
    # Excel stores a typed 004100 as the number 4100 unless the cell is text, so the
    # exact rule for 004100 no longer matches and the line shows as Unmapped.
    ledger = template_ledger()
    for row in ledger[1:]:
        if row[1] == "004100":
            row[1] = 4100.0
    rows = by_line(
        excel.reconcile(ledger, template_gl_map(), inputs_range(REFERENCE_SCENARIO))
    )
    assert rows[("2025-01", "Operations")][0] == 0.0
    assert rows[("2025-01", "Unmapped")][0] == 4350.0


def test_reconcile_formula_text_account_unmapped():
    # Row 10 is the travel line, which no rule maps.
    ledger = replace_cell(
        template_ledger(), 10, "account", '=HYPERLINK("http://x","y")'
    )
    ledger = replace_cell(ledger, 10, "description", "+cmd|'/C calc'!A0")
    rows = by_line(
        excel.reconcile(ledger, template_gl_map(), inputs_range(REFERENCE_SCENARIO))
    )
    assert rows[("2025-01", "Unmapped")][0] == 350.0


# usage range, inputs, words the message must contain
INVALID_CHARGEBACK = {
    "negative tokens": (
        replace_cell(template_usage(), 3, "good_tokens", -5.0),
        None,
        ["usage_range", "row 3", "good_tokens", "-5", "negative"],
    ),
    "text tokens": (
        replace_cell(template_usage(), 2, "good_tokens", "lots"),
        None,
        ["row 2", "good_tokens", "'lots'", "not a number"],
    ),
    "tokens without model": (
        replace_cell(template_usage(), 4, "model", None),
        None,
        ["row 4", "model", "empty"],
    ),
    "share over 1": (
        replace_cell(template_usage(), 2, "reserved_share", 1.5),
        None,
        ["row 2", "reserved_share", "1.5", "outside 0 to 1"],
    ),
    "shares over 100% in total": (
        replace_cell(template_usage(), 3, "reserved_share", 0.7),
        None,
        ["rows 2, 3", "reserved_share", "more than 1"],
    ),
    "unknown model": (
        replace_cell(excel_range(TWO_MODEL_USAGE, USAGE_NUMBERS), 2, "model", "gpt-9"),
        TWO_MODELS,
        ["row 2", "model", "'gpt-9'", "llama-8b"],
    ),
    "more usage than capacity": (
        replace_cell(template_usage(), 2, "good_tokens", 4e9),
        None,
        ["good_tokens", "2025-01", "busy accelerator-seconds", "utilization"],
    ),
    "repeated row": (
        template_usage() + [template_usage()[1]],
        None,
        ["row 8", "2025-01", "'Search'", "row 2"],
    ),
    "period as date": (
        replace_cell(template_usage(), 2, "period", dt.datetime(2025, 1, 1)),
        None,
        ["row 2", "period", "2025-01-01", "Text", "YYYY-MM"],
    ),
    "period as number": (
        replace_cell(template_usage(), 5, "period", 45658.0),
        None,
        ["row 5", "period", "45658", "date or a number"],
    ),
    "period of wrong form": (
        replace_cell(template_usage(), 2, "period", "Jan 2025"),
        None,
        ["row 2", "period", "'Jan 2025'", "YYYY-MM"],
    ),
    "error value in unit": (
        replace_cell(template_usage(), 3, "business_unit", "#N/A"),
        None,
        ["row 3", "business_unit", "#N/A", "error value"],
    ),
    "error value in tokens": (
        replace_cell(template_usage(), 2, "good_tokens", "#DIV/0!"),
        None,
        ["row 2", "good_tokens", "#DIV/0!"],
    ),
    "missing column": (
        [row[:2] + row[3:] for row in template_usage()],
        None,
        ["row 1", "missing column", "model"],
    ),
    "header only": (template_usage()[:1], None, ["usage_range", "no usage rows"]),
    "empty range": (None, None, ["usage_range", "empty"]),
    "single cell": (5.0, None, ["usage_range", "missing column"]),
    "unknown parameter": (
        template_usage(),
        "bogus",
        ["inputs", "unknown parameter", "'bogus'"],
    ),
    "unknown field of a component": (
        template_usage(),
        "colour",
        ["inputs", "unknown", "silicon", "colour"],
    ),
    "error value in inputs": (
        template_usage(),
        "error",
        ["inputs", "utilization", "#N/A"],
    ),
    "one-column inputs": (template_usage(), "one column", ["inputs", "two columns"]),
}


def chargeback_inputs(kind):
    if kind is None:
        return inputs_range(REFERENCE_SCENARIO)
    if kind == "bogus":
        return inputs_range(REFERENCE_SCENARIO) + [["bogus", 1.0]]
    if kind == "colour":
        return inputs_range(REFERENCE_SCENARIO) + [["silicon_colour", "green"]]
    if kind == "error":
        return inputs_range(REFERENCE_SCENARIO, utilization="#N/A")
    if kind == "one column":
        return [[row[0]] for row in inputs_range(REFERENCE_SCENARIO)]
    return inputs_range(kind)


@pytest.mark.parametrize("case", INVALID_CHARGEBACK)
def test_chargeback_invalid_input(case):
    usage, inputs, words = INVALID_CHARGEBACK[case]
    rows = excel.chargeback(usage, chargeback_inputs(inputs))
    assert len(rows) == 1
    assert rows[0][0] == "#VALUE!"
    for word in words:
        assert word in rows[0][1]


# ledger range, mapping range, words the message must contain
INVALID_RECONCILE = {
    "blank amount": (
        replace_cell(template_ledger(), 4, "amount", None),
        template_gl_map(),
        ["ledger_range", "row 4", "amount", "empty"],
    ),
    "text amount": (
        replace_cell(template_ledger(), 2, "amount", "five"),
        template_gl_map(),
        ["row 2", "amount", "'five'", "not a number"],
    ),
    "blank account": (
        replace_cell(template_ledger(), 5, "account", None),
        template_gl_map(),
        ["row 5", "account", "empty"],
    ),
    "error value in account": (
        replace_cell(template_ledger(), 6, "account", "#REF!"),
        template_gl_map(),
        ["row 6", "account", "#REF!", "error value"],
    ),
    "period as date": (
        replace_cell(template_ledger(), 2, "period", dt.datetime(2025, 1, 1)),
        template_gl_map(),
        ["ledger_range", "row 2", "period", "2025-01-01", "Text"],
    ),
    "missing column": (
        [row[:4] for row in template_ledger()],
        template_gl_map(),
        ["ledger_range", "missing column", "description"],
    ),
    "header only": (
        template_ledger()[:1],
        template_gl_map(),
        ["ledger_range", "no GL lines"],
    ),
    "account mapped twice": (
        template_ledger(),
        template_gl_map() + [["prefix", "16", None, "Operations"]],
        ["map_range", "'161000'", "two rules", "row 2", "row 9"],
    ),
    "unknown component": (
        template_ledger(),
        replace_cell(template_gl_map(), 3, "component", "Cooling"),
        ["map_range", "row 3", "component", "'Cooling'"],
    ),
    "unknown match": (
        template_ledger(),
        replace_cell(template_gl_map(), 2, "match", "regex"),
        ["map_range", "row 2", "match", "'regex'", "exact, prefix or range"],
    ),
    "range bounds of different lengths": (
        template_ledger(),
        replace_cell(template_gl_map(), 2, "account_to", "16149"),
        ["map_range", "row 2", "account_to", "same number of characters"],
    ),
    "error value in mapping": (
        template_ledger(),
        replace_cell(template_gl_map(), 4, "component", "#N/A"),
        ["map_range", "row 4", "component", "#N/A"],
    ),
    "mapping without rules": (
        template_ledger(),
        template_gl_map()[:1],
        ["map_range", "no rules"],
    ),
    "empty mapping": (template_ledger(), None, ["map_range", "empty"]),
}


@pytest.mark.parametrize("case", INVALID_RECONCILE)
def test_reconcile_invalid_input(case):
    ledger, mapping, words = INVALID_RECONCILE[case]
    rows = excel.reconcile(ledger, mapping, inputs_range(REFERENCE_SCENARIO))
    assert len(rows) == 1
    assert rows[0][0] == "#VALUE!"
    for word in words:
        assert word in rows[0][1]


def test_reconcile_unknown_parameter():
    inputs = inputs_range(REFERENCE_SCENARIO) + [["bogus", 1.0]]
    rows = excel.reconcile(template_ledger(), template_gl_map(), inputs)
    assert rows[0][0] == "#VALUE!"
    assert "unknown parameter 'bogus'" in rows[0][1]


def test_reconcile_tolerance_from_inputs():
    # At 40% tolerance the Energy variance of +37.8% is no longer flagged.
    inputs = inputs_range(REFERENCE_SCENARIO, reconciliation_tolerance=0.4)
    rows = by_line(excel.reconcile(template_ledger(), template_gl_map(), inputs))
    assert rows[("2025-01", "Energy")][4] == "ok"
