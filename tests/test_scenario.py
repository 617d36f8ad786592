"""Scenario loading, validation messages and the flat parameter list."""

from __future__ import annotations

import pytest
from conftest import PHYSICAL_SCENARIO, REFERENCE_SCENARIO

from tokenbom_xl.errors import InputError
from tokenbom_xl.scenario import (
    load_scenario,
    parse_scenario,
    scenario_from_parameters,
    scenario_hash,
    scenario_parameters,
)


def test_templates_load():
    reference = load_scenario(REFERENCE_SCENARIO)
    physical = load_scenario(PHYSICAL_SCENARIO)
    assert reference.energy.basis == "stated"
    assert physical.energy.basis == "physical"
    assert physical.energy.full_load_kw == 8.0


def test_parameters_round_trip():
    scenario = load_scenario(REFERENCE_SCENARIO)
    pairs = [(p.name, p.value) for p in scenario_parameters(scenario)]
    assert scenario_from_parameters(pairs) == scenario


def test_parameters_accept_excel_floats():
    scenario = load_scenario(REFERENCE_SCENARIO)
    # Excel sends every number as a float, including whole-number fields.
    pairs = [
        (p.name, float(p.value) if p.is_number else p.value)
        for p in scenario_parameters(scenario)
    ]
    assert scenario_from_parameters(pairs) == scenario


def test_parameters_reject_unknown_name():
    with pytest.raises(InputError, match="unknown parameter 'colour'"):
        scenario_from_parameters([("colour", "red")])


def test_parameters_reject_repeated_name():
    scenario = load_scenario(REFERENCE_SCENARIO)
    pairs = [(p.name, p.value) for p in scenario_parameters(scenario)]
    with pytest.raises(InputError, match="appears twice"):
        scenario_from_parameters([*pairs, ("utilization", 0.5)])


def test_hash_changes_with_input():
    scenario = load_scenario(REFERENCE_SCENARIO)
    changed = parse_scenario({**scenario.model_dump(), "utilization": 0.7})
    assert scenario_hash(scenario) != scenario_hash(changed)
    assert len(scenario_hash(scenario)) == 64


def test_energy_needs_one_power_form():
    data = load_scenario(PHYSICAL_SCENARIO).model_dump()
    data["energy"]["it_kw"] = 5.0
    data["energy"]["pue"] = 1.6
    with pytest.raises(InputError, match="either wall_kw, or it_kw and pue"):
        parse_scenario(data)


def test_salvage_must_be_below_price():
    data = load_scenario(REFERENCE_SCENARIO).model_dump()
    data["silicon"]["salvage"] = 30_000.0
    with pytest.raises(InputError, match="salvage"):
        parse_scenario(data)


def test_several_errors_listed_one_per_line():
    data = load_scenario(REFERENCE_SCENARIO).model_dump()
    data["utilization"] = 2.0
    data["yield_rate"] = 0.0
    with pytest.raises(InputError) as caught:
        parse_scenario(data, source="s.toml")
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert all(line.startswith("s.toml: ") for line in lines)


def test_deeply_nested_toml_rejected(tmp_path):
    scenario = tmp_path / "deep.toml"
    scenario.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(InputError, match="nested too deeply"):
        load_scenario(scenario)
