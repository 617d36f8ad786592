"""Engine figures against the reference factory and hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import PHYSICAL_SCENARIO, REFERENCE_SCENARIO, assert_close

from tokenbom_xl import engine
from tokenbom_xl.errors import InputError
from tokenbom_xl.scenario import load_scenario


@pytest.fixture(scope="module")
def reference():
    return load_scenario(REFERENCE_SCENARIO)


@pytest.fixture(scope="module")
def result(reference):
    return engine.evaluate(reference)


# Every figure of the reference table, to 1e-9 relative.
# columns: attribute of BomResult (or a lambda over it), expected value
REFERENCE_TABLE = [
    ("silicon", lambda r: r.components.silicon, 5_000.0),
    ("fabric", lambda r: r.components.fabric, 1_250.0),
    ("facility", lambda r: r.components.facility, 1_000.0),
    ("platform", lambda r: r.components.platform, 1_500.0),
    ("model lifecycle", lambda r: r.components.model_lifecycle, 1_000.0),
    ("operations", lambda r: r.components.operations, 4_000.0),
    ("F", lambda r: r.fixed, 13_750.0),
    ("E_full", lambda r: r.energy_full, 750.0),
    ("E(0.6)", lambda r: r.energy, 450.0),
    ("C(0.6)", lambda r: r.total, 14_200.0),
    ("C(1)", lambda r: r.full_cost, 14_500.0),
    ("K", lambda r: r.capacity, 4_204_800_000.0),
    # 14,500 / 4,204,800,000 x 1e6
    ("floor $/M", lambda r: r.floor * 1e6, 14_500 / 4_204.8),
    # 14,200 / (4,204,800,000 x 0.6 x 0.9) x 1e6
    (
        "cost per good token $/M",
        lambda r: r.cost_per_good_token * 1e6,
        14_200 / (4_204.8 * 0.54),
    ),
    ("A", lambda r: r.absorbed, 7_830.0),
    ("L", lambda r: r.yield_loss, 870.0),
    ("V", lambda r: r.capacity_variance, 5_500.0),
    # 13,750 / (5e-6 x 4,204,800,000 x 0.9 - 750) = 13,750 / 18,171.6
    ("U* at $5/M", lambda r: r.crossover, 13_750 / 18_171.6),
]


@pytest.mark.parametrize(
    "label, figure, expected", REFERENCE_TABLE, ids=[row[0] for row in REFERENCE_TABLE]
)
def test_reference_figure(result, label, figure, expected):
    assert_close(float(figure(result)), expected, where=label)


def test_reference_rounded_figures(result):
    assert round(result.floor * 1e6, 4) == 3.4484
    assert round(float(result.cost_per_good_token) * 1e6, 4) == 6.2539
    assert round(float(result.crossover), 5) == 0.75668


def test_physical_energy_is_700_80():
    components = engine.component_costs(load_scenario(PHYSICAL_SCENARIO))
    # 8 kW x 730 h x $0.12/kWh
    assert_close(components.energy_full, 700.80)


def test_split_adds_up_to_total(result):
    assert_close(
        result.absorbed + result.yield_loss + result.capacity_variance, result.total
    )


def test_waterfall_adds_up_to_cost_per_token(result):
    parts = (
        result.floor + result.yield_loss_per_token + result.capacity_variance_per_token
    )
    assert_close(parts, result.cost_per_good_token)


def test_evaluate_broadcasts_over_grid(reference):
    utilization = np.linspace(0.05, 1.0, 20)[:, None]
    yield_rate = np.array([0.5, 0.9, 1.0])[None, :]
    grid = engine.evaluate(reference, utilization, yield_rate)
    assert grid.cost_per_good_token.shape == (20, 3)
    split = grid.absorbed + grid.yield_loss + grid.capacity_variance
    np.testing.assert_allclose(split, grid.total * np.ones((20, 3)), rtol=1e-12)
    # At U = 1 and Y = 1 the cost is the floor.
    assert_close(float(grid.cost_per_good_token[-1, -1]), grid.floor)


def test_idle_fraction_split_still_adds_up(reference):
    data = reference.model_dump()
    data["energy"]["idle_fraction"] = 0.3
    from tokenbom_xl.scenario import parse_scenario

    scenario = parse_scenario(data)
    result = engine.evaluate(scenario, utilization=0.4, yield_rate=0.8)
    # E(0.4) = 750 x (0.3 + 0.7 x 0.4) = 435; V = (13,750 + 225) x 0.6 = 8,385
    assert_close(result.energy, 435.0)
    assert_close(result.capacity_variance, 8_385.0)
    assert_close(
        result.absorbed + result.yield_loss + result.capacity_variance, result.total
    )


@pytest.mark.parametrize("utilization", [0.0, -0.1, 1.5, math.nan])
def test_evaluate_rejects_bad_utilization(reference, utilization):
    with pytest.raises(InputError, match="utilization"):
        engine.evaluate(reference, utilization=utilization)


def test_evaluate_rejects_zero_yield(reference):
    with pytest.raises(InputError, match="yield_rate = 0.0"):
        engine.evaluate(reference, yield_rate=0.0)


def test_evaluate_names_bad_array_element(reference):
    with pytest.raises(InputError) as caught:
        engine.evaluate(reference, utilization=np.array([0.5, 1.5]))

    message = str(caught.value)
    assert "utilization = 1.5 (element 1) is outside (0, 1]" in message
    assert "np.float64" not in message


def test_crossover_never_when_price_too_low():
    # P x K x Y - E_full <= 0: the API is cheaper than energy alone.
    assert math.isnan(engine.crossover_utilization(13_750, 750, 4.2048e9, 0.9, 1e-7))
    # Positive denominator but U* > 1: 13,750 / (2e-6 x 4.2048e9 x 0.9 - 750) > 1.
    assert math.isnan(engine.crossover_utilization(13_750, 750, 4.2048e9, 0.9, 2e-6))


def test_crossover_vectorized_over_prices():
    prices = np.array([1e-7, 5e-6, 50e-6])
    crossover = engine.crossover_utilization(13_750, 750, 4.2048e9, 0.9, prices)
    assert math.isnan(crossover[0])
    assert_close(float(crossover[1]), 13_750 / 18_171.6)
    assert crossover[2] < crossover[1]


def test_straight_line_charge_stops_at_end_of_life():
    # (30,000 - 6,000) / 48 = 500 a month for ages 0..47, then nothing.
    charges = engine.straight_line_charge(30_000, 6_000, 48, np.arange(50))
    assert charges[0] == 500.0
    assert charges[47] == 500.0
    assert charges[48] == 0.0
    assert_close(float(charges.sum()), 24_000.0)


# Double declining balance of 1,000 with salvage 100 over 10 months, rate 20%:
# 200, 160, 128, 102.4, 81.92, 65.536, 52.4288, 41.94304 (book 167.77216), then
# straight-line (167.77216 - 100) / 2 = 33.88608 beats 20% x 167.77 = 33.55, twice.
DECLINING_BALANCE = [
    200.0,
    160.0,
    128.0,
    102.4,
    81.92,
    65.536,
    52.4288,
    41.94304,
    33.88608,
    33.88608,
    0.0,
]


def test_declining_balance_switches_to_straight_line():
    charges = engine.declining_balance_charge(1_000, 100, 10, np.arange(11))
    np.testing.assert_allclose(charges, DECLINING_BALANCE, rtol=1e-12)
    assert_close(float(charges.sum()), 900.0)


def test_declining_balance_scalar_age():
    assert_close(engine.declining_balance_charge(1_000, 100, 10, 3), 102.4)


def test_kernels_return_inf_where_undefined():
    assert engine.cost_per_good_token(100.0, 1e6, 0.0, 0.9) == math.inf


# Kernels behind the worksheet functions, and the BOM table lines.


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
    charges = engine.silicon_charge(
        8, 30_000, 48, 0, 0, declining=np.array([False, True])
    )
    assert_close(float(charges[0]), 5_000.0)
    assert_close(float(charges[1]), 10_000.0)


def test_silicon_charge_zero_after_life():
    assert engine.silicon_charge(8, 30_000, 48, 0, 48) == 0.0
    assert engine.silicon_charge(8, 30_000, 48, 0, 48, declining=True) == 0.0


def test_declining_balance_huge_age_past_life():
    # The loop stops at the end of the life, so an absurd age costs no time.
    charge = engine.declining_balance_charge(30_000, 0, 48, 10**9)
    assert charge == 0.0


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
    assert_close(
        floor.per_good_token + loss.per_good_token + variance.per_good_token,
        total.per_good_token,
    )
    assert_close(floor.share + loss.share + variance.share, 1.0)


def test_bom_lines_components_add_to_total(reference_lines):
    components, total = reference_lines[:7], reference_lines[7]
    assert_close(sum(line.cost for line in components), total.cost)
    assert_close(sum(line.share for line in components), 1.0)


def test_bom_lines_rejects_arrays():
    result = engine.evaluate(
        load_scenario(REFERENCE_SCENARIO), utilization=np.array([0.5, 0.6])
    )
    with pytest.raises(ValueError, match="one utilization"):
        engine.bom_lines(result)
