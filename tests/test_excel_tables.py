"""The table worksheet functions TOKEN_BOM and TBM_MAP."""

from __future__ import annotations

import pytest

from conftest import PHYSICAL_SCENARIO, REFERENCE_SCENARIO, assert_close
from tokenbom_xl import excel
from tokenbom_xl.scenario import load_scenario, scenario_parameters
from tokenbom_xl.tbm import default_tbm_mapping


def inputs_range(path, **changes):
    """Return the scenario as the Inputs sheet's name/value columns, with ``changes``."""
    rows = [[p.name, changes.pop(p.name, p.value)] for p in scenario_parameters(load_scenario(path))]
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
    rows = {row[0]: row[1:] for row in excel.token_bom(inputs_range(REFERENCE_SCENARIO, utilization=1.0))}
    assert_close(rows["Capacity variance"][0], 0.0)
    assert_close(rows["Total"][0], 14_500.0)


def test_token_bom_accepts_whole_inputs_table():
    # The Inputs sheet has unit, description and allowed range beside name and value.
    rows = [row + ["unit", "description", "allowed"] for row in inputs_range(REFERENCE_SCENARIO)]
    assert excel.token_bom(rows)[7][1] == pytest.approx(14_200.0)


def test_token_bom_whole_number_floats():
    # Excel sends every number as float, including accelerators and life in months.
    rows = [[name, float(value) if isinstance(value, int) else value] for name, value in inputs_range(REFERENCE_SCENARIO)]
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
    rows = excel.token_bom(inputs_range(REFERENCE_SCENARIO) + [["silicon_colour", "green"]])
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


@pytest.mark.parametrize("name", ["Model Lifecycle", "model_lifecycle", " MODEL LIFECYCLE ", [["Model Lifecycle"]]])
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
