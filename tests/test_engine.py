"""Engine kernels used by the worksheet functions, and the BOM table lines."""

from __future__ import annotations

import time

import numpy as np
import pytest

from conftest import REFERENCE_SCENARIO, assert_close
from tokenbom_xl import engine
from tokenbom_xl.scenario import load_scenario


def test_wall_power_multiplies_pue():
    assert_close(engine.wall_power(8 / 1.5, 1.5), 8.0)


def test_silicon_charge_straight_line_reference():
    assert_close(engine.silicon_charge(8, 30_000, 48), 5_000.0)


def test_silicon_charge_declining_first_month():
    # Double declining: 2 / 48 of the full price in month 0.
    assert_close(engine.silicon_charge(8, 30_000, 48, declining=True), 10_000.0)


def test_silicon_charge_declining_depreciates_fully():
    ages = np.arange(60)
    charges = engine.silicon_charge(1, 30_000, 48, 3_000, ages, declining=True)
    assert_close(float(charges[:48].sum()), 27_000.0)
    assert float(np.abs(charges[48:]).max()) == 0.0


def test_silicon_charge_declining_switches_to_straight_line():
    ages = np.arange(48)
    charges = engine.silicon_charge(1, 48_000, 48, 0, ages, declining=True)
    # DDB charges book / 24 and falls every month. From month 24 on, straight-line
    # over the rest of the life, book / (48 - m), is no smaller and stays constant.
    assert np.all(np.diff(charges[:25]) < 0)
    assert np.allclose(charges[24:], charges[24])


def test_silicon_charge_mixes_methods_per_element():
    charges = engine.silicon_charge(8, 30_000, 48, 0, 0, declining=np.array([False, True]))
    assert_close(float(charges[0]), 5_000.0)
    assert_close(float(charges[1]), 10_000.0)


def test_silicon_charge_zero_after_life():
    assert engine.silicon_charge(8, 30_000, 48, 0, 48) == 0.0
    assert engine.silicon_charge(8, 30_000, 48, 0, 48, declining=True) == 0.0


def test_declining_balance_huge_age_is_fast():
    started = time.perf_counter()
    charge = engine.declining_balance_charge(30_000, 0, 48, 10**9)
    assert charge == 0.0
    assert time.perf_counter() - started < 1.0


def test_declining_balance_nan_age_charges_nothing():
    assert engine.declining_balance_charge(30_000, 0, 48, np.nan) == 0.0


def test_per_block_and_per_single_token():
    assert_close(engine.per_block(3.4484e-6, 1_000_000), 3.4484)
    assert_close(engine.per_single_token(5.0, 1_000_000), 5e-6)


def test_per_single_token_zero_block_is_inf():
    assert np.isinf(engine.per_single_token(5.0, 0.0))


@pytest.fixture(scope="module")
def reference_lines():
    return engine.bom_lines(engine.evaluate(load_scenario(REFERENCE_SCENARIO)))


def test_bom_lines_labels(reference_lines):
    labels = [line.label for line in reference_lines]
    assert labels == [
        "Silicon",
        "Fabric",
        "Facility",
        "Energy",
        "Platform",
        "Model Lifecycle",
        "Operations",
        "Total",
        "Floor",
        "Yield loss",
        "Capacity variance",
    ]


def test_bom_lines_reference_figures(reference_lines):
    by_label = {line.label: line for line in reference_lines}
    # label, monthly cost, $ per million good tokens as published for the reference factory
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
        assert_close(by_label[label].cost, cost, where=label)
        if per_million is not None:
            assert round(by_label[label].per_good_token * 1e6, 4) == per_million, label


def test_bom_lines_parts_add_to_total(reference_lines):
    total, floor, loss, variance = reference_lines[7:]
    assert_close(floor.cost + loss.cost + variance.cost, total.cost)
    assert_close(floor.per_good_token + loss.per_good_token + variance.per_good_token, total.per_good_token)
    assert_close(floor.share + loss.share + variance.share, 1.0)


def test_bom_lines_components_add_to_total(reference_lines):
    components, total = reference_lines[:7], reference_lines[7]
    assert_close(sum(line.cost for line in components), total.cost)
    assert_close(sum(line.share for line in components), 1.0)


def test_bom_lines_rejects_arrays():
    result = engine.evaluate(load_scenario(REFERENCE_SCENARIO), utilization=np.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="one utilization"):
        engine.bom_lines(result)
