"""The scenario's optional schedule sections: [[assets]], [drivers] and [restrike]."""

from __future__ import annotations

import hashlib
import json
import tomllib

from conftest import REFERENCE_SCENARIO, TEMPLATES

from tokenbom_xl.resources import template_path
from tokenbom_xl.scenario import (
    SCHEDULE_SECTIONS,
    load_scenario,
    parse_scenario,
    scenario_hash,
    scenario_parameters,
)

SCHEDULE_TEMPLATE = TEMPLATES / "schedule_factory.toml"


def test_schedule_template_loads():
    scenario = load_scenario(SCHEDULE_TEMPLATE)
    assert scenario.drivers is not None
    assert scenario.drivers.tokens_per_second["2026-07"] == 240.0
    assert scenario.restrike.fixed_rate_basis == "first-month"
    assert scenario.assets is None


def test_sections_stay_off_the_inputs_sheet():
    names = {
        parameter.name
        for parameter in scenario_parameters(load_scenario(SCHEDULE_TEMPLATE))
    }
    assert not any(
        name.startswith(section) for name in names for section in SCHEDULE_SECTIONS
    )


def test_hash_without_sections_is_unchanged():
    # The hash of a scenario without schedule sections is the hash of its fields
    # alone, as it was before the sections existed.
    scenario = load_scenario(REFERENCE_SCENARIO)
    fields = scenario.model_dump(mode="json", exclude=set(SCHEDULE_SECTIONS))
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    assert scenario_hash(scenario) == hashlib.sha256(canonical.encode()).hexdigest()


def test_hash_covers_sections():
    data = tomllib.loads(REFERENCE_SCENARIO.read_text())
    plain = parse_scenario(data)
    data["restrike"] = {"opening_balance": 100.0}
    assert scenario_hash(parse_scenario(data)) != scenario_hash(plain)


def test_schedule_templates_are_shipped():
    for name in ("schedule_factory.toml", "assets.csv", "drivers.csv"):
        assert template_path(name).is_file(), name
