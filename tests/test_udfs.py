"""Registration of the worksheet functions with xlwings: classic add-in and Office.js."""

from __future__ import annotations

import csv
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REFERENCE_SCENARIO, REPO_ROOT, TEMPLATES, assert_close

from tokenbom_xl import excel, udfs
from tokenbom_xl.scenario import load_scenario, scenario_parameters

FUNCTION_NAMES = [
    "capacity_variance",
    "chargeback",
    "crossover_utilization",
    "energy_cost",
    "reconcile",
    "silicon_cost",
    "tbm_map",
    "token_bom",
    "token_capacity",
    "token_cost",
    "token_cost_floor",
    "yield_loss",
]
K = 4_204_800_000.0
DRIVER = Path(__file__).with_name("officejs_driver.py")

# Excel's function wizard shows at most this many characters of a description.
WIZARD_LIMIT = 255


def test_udfs_exports_every_function():
    assert sorted(udfs.__all__) == FUNCTION_NAMES


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_udf_signature_matches_excel_layer(name):
    assert inspect.signature(getattr(udfs, name)) == inspect.signature(
        getattr(excel, name)
    )


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_udf_description_fits_wizard(name):
    doc = getattr(udfs, name).__doc__
    assert doc.startswith("Returns ")
    assert "\n" not in doc
    assert len(doc) <= WIZARD_LIMIT


def test_udf_forwards_to_excel_layer():
    assert_close(udfs.token_cost(14_200, K, 0.6, 0.9), 6.2538756412, rel=1e-9)
    assert udfs.token_cost(14_200, K, 1.5, 0.9) == "#NUM!"


def test_import_needs_no_licence_key():
    # A clean process without a key or server mode, as on an analyst's machine.
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("XLWINGS_")
    }
    code = "import tokenbom_xl.udfs as u; print(u.token_capacity(8, 200))"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO_ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "4204800000.0"


def reference_inputs():
    return [
        [p.name, p.value]
        for p in scenario_parameters(load_scenario(REFERENCE_SCENARIO))
    ]


def template_range(name, numeric):
    """Return a shipped CSV template as Office.js sends a range: numbers, and "" for empty cells."""
    with (TEMPLATES / name).open(newline="", encoding="utf-8") as handle:
        header, *records = list(csv.reader(handle))
    rows = [header]
    for record in records:
        rows.append(
            [
                float(text) if name in numeric and text else text
                for name, text in zip(header, record)
            ]
        )
    return rows


def with_cells(rows, cells):
    """Return ``rows`` with ``cells`` ({(row, column name): value}, header = row 1) replaced."""
    for (row, column), value in cells.items():
        rows[row - 1][rows[0].index(column)] = value
    return rows


def usage_range(cells=None):
    return with_cells(
        template_range("usage.csv", ("good_tokens", "reserved_share")), cells or {}
    )


def ledger_range(cells=None):
    return with_cells(template_range("ledger.csv", ("amount",)), cells or {})


HYPERLINK = '=HYPERLINK("http://x","y")'
NA_CELL = {"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}
GL_MAP = template_range("gl_map.csv", ())


# Calls as Excel sends them through Office.js: every argument a 2-D list.
CALLS = {
    "token_cost_scalar": ("token_cost", [[[14_200]], [[K]], [[0.6]], [[0.9]]]),
    "token_cost_column": (
        "token_cost",
        [[[14_200]], [[K]], [[0.5], [0.6], [0.7]], [[0.9]]],
    ),
    "token_cost_invalid": (
        "token_cost",
        [[[14_200]], [[K]], [[0.6], [1.5], ["abc"], [0.0]], [[0.9]]],
    ),
    "token_cost_error_cell": (
        "token_cost",
        [
            [[14_200]],
            [[K]],
            [[{"type": "Error", "basicValue": "#N/A", "errorType": "NotAvailable"}]],
            [[0.9]],
        ],
    ),
    "token_cost_empty_yield": ("token_cost", [[[14_200]], [[K]], [[0.6]], [[None]]]),
    "token_capacity_omitted_hours": ("token_capacity", [[[8]], [[200]]]),
    "silicon_declining": (
        "silicon_cost",
        [[[8]], [[30_000]], [[48]], [[0]], [["declining-balance"]]],
    ),
    "silicon_unknown_method": (
        "silicon_cost",
        [[[8]], [[30_000]], [[48]], [[0]], [["sum-of-years"]]],
    ),
    "crossover_row": (
        "crossover_utilization",
        [[[13_750]], [[750]], [[K]], [[0.9]], [[1.0, 5.0]]],
    ),
    "tbm_map_fabric": ("tbm_map", [[["Fabric"]]]),
    "tbm_map_unknown": ("tbm_map", [[["Cooling"]]]),
    "token_bom_reference": ("token_bom", [reference_inputs()]),
    "chargeback_template": ("chargeback", [usage_range(), reference_inputs()]),
    "chargeback_formula_text": (
        "chargeback",
        [usage_range({(2, "business_unit"): HYPERLINK}), reference_inputs()],
    ),
    "chargeback_negative_tokens": (
        "chargeback",
        [usage_range({(3, "good_tokens"): -5.0}), reference_inputs()],
    ),
    "chargeback_unknown_parameter": (
        "chargeback",
        [usage_range(), reference_inputs() + [["bogus", 1]]],
    ),
    "chargeback_error_cell": (
        "chargeback",
        [usage_range({(4, "business_unit"): NA_CELL}), reference_inputs()],
    ),
    "chargeback_period_as_date": (
        "chargeback",
        [usage_range({(2, "period"): 45658}), reference_inputs()],
    ),
    "reconcile_template": ("reconcile", [ledger_range(), GL_MAP, reference_inputs()]),
    "reconcile_blank_amount": (
        "reconcile",
        [ledger_range({(4, "amount"): ""}), GL_MAP, reference_inputs()],
    ),
}

NUM_ERROR = {"type": "Error", "errorType": "Num"}
VALUE_ERROR = {"type": "Error", "errorType": "Value"}
DIV0_ERROR = {"type": "Error", "errorType": "Div0"}
NA_ERROR = {"type": "Error", "errorType": "NotAvailable"}


@pytest.fixture(scope="module")
def officejs():
    """Metadata and call results from xlwings' Office.js machinery, in a fresh process."""
    environment = dict(
        os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial"
    )
    calls = [{"func_name": name, "args": args} for name, args in CALLS.values()]
    completed = subprocess.run(
        [sys.executable, str(DRIVER)],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO_ROOT,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    output = json.loads(completed.stdout)
    output["by_call"] = dict(zip(CALLS, output["outcomes"], strict=True))
    return output


def result_of(officejs, call):
    outcome = officejs["by_call"][call]
    assert "exception" not in outcome, outcome
    return outcome["result"]


def test_officejs_uses_server_decorators(officejs):
    assert officejs["decorator_module"] == "xlwings.pro.udfs_officejs"


def test_officejs_lists_every_function(officejs):
    names = sorted(function["name"] for function in officejs["meta"]["functions"])
    assert names == sorted(name.upper() for name in FUNCTION_NAMES)


def test_officejs_descriptions_are_docstrings(officejs):
    for function in officejs["meta"]["functions"]:
        assert function["description"] == getattr(udfs, function["id"].lower()).__doc__


def test_officejs_every_argument_has_help(officejs):
    for function in officejs["meta"]["functions"]:
        parameters = inspect.signature(getattr(udfs, function["id"].lower())).parameters
        assert [p["name"] for p in function["parameters"]] == list(parameters), (
            function["id"]
        )
        for parameter in function["parameters"]:
            where = f"{function['id']}({parameter['name']})"
            assert not parameter["description"].startswith("Positional argument"), where
            assert len(parameter["description"]) <= WIZARD_LIMIT, where


def test_officejs_optional_arguments(officejs):
    for function in officejs["meta"]["functions"]:
        parameters = inspect.signature(getattr(udfs, function["id"].lower())).parameters
        for parameter in function["parameters"]:
            has_default = (
                parameters[parameter["name"]].default is not inspect.Parameter.empty
            )
            assert parameter.get("optional", False) == has_default, (
                f"{function['id']}({parameter['name']})"
            )


def test_officejs_results_are_matrices(officejs):
    for function in officejs["meta"]["functions"]:
        assert function["result"]["dimensionality"] == "matrix"


def test_officejs_scalar_call(officejs):
    result = result_of(officejs, "token_cost_scalar")
    assert len(result) == 1
    assert_close(result[0][0], 6.2538756412, rel=1e-9)


def test_officejs_range_spills(officejs):
    result = result_of(officejs, "token_cost_column")
    assert [len(row) for row in result] == [1, 1, 1]
    assert_close(result[1][0], 6.2538756412, rel=1e-9)


def test_officejs_invalid_input_gives_error_values(officejs):
    result = result_of(officejs, "token_cost_invalid")
    assert_close(result[0][0], 6.2538756412, rel=1e-9)
    assert [row[0] for row in result[1:]] == [NUM_ERROR, VALUE_ERROR, DIV0_ERROR]


def test_officejs_error_cell_propagates(officejs):
    assert result_of(officejs, "token_cost_error_cell") == [[NA_ERROR]]


def test_officejs_empty_cell_takes_default(officejs):
    result = result_of(officejs, "token_cost_empty_yield")
    assert_close(result[0][0], 14_200 / (K * 0.6) * 1e6, rel=1e-9)


def test_officejs_omitted_argument_takes_default(officejs):
    assert result_of(officejs, "token_capacity_omitted_hours") == [[K]]


def test_officejs_method_argument(officejs):
    assert result_of(officejs, "silicon_declining") == [[10_000.0]]
    assert result_of(officejs, "silicon_unknown_method") == [[VALUE_ERROR]]


def test_officejs_crossover_never_is_na(officejs):
    result = result_of(officejs, "crossover_row")
    assert result[0][0] == NA_ERROR
    assert_close(result[0][1], 0.7566752515, rel=1e-9)


def test_officejs_tbm_map_spills(officejs):
    result = result_of(officejs, "tbm_map_fabric")
    assert [row[1] for row in result] == ["Network", "Storage", "Compute"]


def test_officejs_tbm_map_unknown(officejs):
    result = result_of(officejs, "tbm_map_unknown")
    assert result[0][0] == VALUE_ERROR
    assert "Cooling" in result[0][1]


def test_officejs_token_bom_spills(officejs):
    result = result_of(officejs, "token_bom_reference")
    assert [len(row) for row in result] == [4] * 11
    assert result[7][0] == "Total"
    assert_close(result[7][1], 14_200.0)


def test_officejs_chargeback_spills(officejs):
    result = result_of(officejs, "chargeback_template")
    assert [len(row) for row in result] == [8] * 9
    assert result[0][:2] == ["period", "business_unit"]
    assert result[2] == ["2025-01", "Search", 0.3, 0.4, 4350.0, 1375.0, 0.0, 5725.0]
    january = [row[7] for row in result[1:] if row[0] == "2025-01"]
    assert round(sum(january) * 100) == 1_420_000


def test_officejs_chargeback_keeps_formula_text(officejs):
    result = result_of(officejs, "chargeback_formula_text")
    units = [row[1] for row in result[1:] if row[0] == "2025-01"]
    assert HYPERLINK in units


# call, words the message beside the error value must contain
INVALID_TABLE_CALLS = [
    ("chargeback_negative_tokens", ["usage_range", "row 3", "good_tokens", "negative"]),
    ("chargeback_unknown_parameter", ["inputs", "unknown parameter", "'bogus'"]),
    ("chargeback_error_cell", ["usage_range", "row 4", "business_unit", "#N/A"]),
    ("chargeback_period_as_date", ["row 2", "period", "45658", "Text"]),
    ("reconcile_blank_amount", ["ledger_range", "row 4", "amount", "empty"]),
]


@pytest.mark.parametrize(("call", "words"), INVALID_TABLE_CALLS)
def test_officejs_table_invalid_input(officejs, call, words):
    result = result_of(officejs, call)
    assert len(result) == 1
    assert result[0][0] == VALUE_ERROR
    for word in words:
        assert word in result[0][1]


def test_officejs_reconcile_spills(officejs):
    result = result_of(officejs, "reconcile_template")
    assert [len(row) for row in result] == [7] * 17
    assert result[4][:5] == ["2025-01", "Energy", 620.0, 450.0, 170.0]
    assert result[4][6] == "over tolerance"
    # Undefined figures are empty cells.
    assert result[8] == ["2025-01", "Unmapped", 350.0, "", "", "", "unmapped"]
