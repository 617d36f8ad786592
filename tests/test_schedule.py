"""The schedule engine: depreciation by method, the monthly BOM, its decay by cause and
the fixed-rate recovery, checked against values worked out by hand in the comments."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REFERENCE_SCENARIO, assert_close
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenbom_xl import engine
from tokenbom_xl.depreciation import declining_balance_by_age
from tokenbom_xl.drivers import Drivers
from tokenbom_xl.errors import InputError
from tokenbom_xl.periods import parse_month
from tokenbom_xl.register import Asset
from tokenbom_xl.scenario import load_scenario, parse_scenario
from tokenbom_xl.schedule import CAUSES, compute_schedule

MILLION = 1e6


def bare_scenario(**overrides):
    """A factory whose only cost is its asset register: every other component is zero.

    With 250 hours a month, one accelerator at 100 tokens/s makes
    100 x 3,600 x 250 = 90,000,000 tokens a month.
    """
    data = {
        "name": "Worked example",
        "hours_per_period": 250.0,
        "accelerators": 10,
        "tokens_per_second": 100.0,
        "utilization": 1.0,
        "yield_rate": 1.0,
        "api_price_per_million": 12.0,
        "silicon": {"unit_price": 21600.0, "life_months": 24},
        "fabric": {"basis": "share-of-silicon", "share_of_silicon": 0.0},
        "facility": {"basis": "fixed", "monthly_cost": 0.0},
        "energy": {"basis": "stated", "full_load_cost": 0.0},
        "operations": {"fte": 0.0, "annual_cost_per_fte": 0.0},
    }
    data.update(overrides)
    return parse_scenario(data)


def asset(asset_id="a", **fields):
    values = {
        "asset_id": asset_id,
        "asset_class": "accelerator",
        "purchase_month": "2026-01",
        "quantity": 1,
        "unit_price": 1000.0,
        "life_months": 12,
    }
    values.update(fields)
    return Asset.model_validate(values)


def schedule_of(assets, first="2026-01", months=12, scenario=None, drivers=None):
    return compute_schedule(
        scenario or bare_scenario(),
        start=parse_month(first),
        months=months,
        assets=assets,
        drivers=drivers,
    )


# ---------------------------------------------------------------------------
# Depreciation methods


def test_straight_line_with_salvage():
    # 2 units at 30,000 with salvage 6,000 over 48 months: 2 x (30,000 - 6,000) / 48
    # = 1,000 a month for months 0 to 47, then nothing; 48 x 1,000 = 48,000 in all.
    lot = asset(quantity=2, unit_price=30000.0, salvage=6000.0, life_months=48)
    schedule = schedule_of([lot], months=60)
    charges = schedule.depreciation[0]
    assert np.allclose(charges[:48], 1000.0, rtol=0, atol=1e-9)
    assert np.all(charges[48:] == 0.0)
    assert_close(charges.sum(), 48000.0)


# (age, charge) for 10,000 with salvage 1,000 over 10 months, double declining
# (rate 2 / 10 = 20% of book value) until straight-line over the rest is larger:
#   age  book        20% of book  (book - 1,000) / months left   charge
#   0    10,000      2,000        900                            2,000
#   1    8,000       1,600        777.78                         1,600
#   2    6,400       1,280        675                            1,280
#   3    5,120       1,024        588.57                         1,024
#   4    4,096       819.2        516                            819.2
#   5    3,276.8     655.36       455.36                         655.36
#   6    2,621.44    524.288      405.36                         524.288
#   7    2,097.152   419.4304     365.72                         419.4304
#   8    1,677.7216  335.54432    338.8608  (larger: switch)     338.8608
#   9    1,338.8608  -            338.8608                       338.8608
# The ten charges add up to 9,000 = cost less salvage, leaving book value 1,000.
DOUBLE_DECLINING = [
    2000.0,
    1600.0,
    1280.0,
    1024.0,
    819.2,
    655.36,
    524.288,
    419.4304,
    338.8608,
    338.8608,
]


def test_double_declining_with_switch():
    lot = asset(
        unit_price=10000.0, salvage=1000.0, life_months=10, method="declining-balance"
    )
    schedule = schedule_of([lot], months=12)
    for age, expected in enumerate(DOUBLE_DECLINING):
        assert_close(schedule.depreciation[0, age], expected, where=f"age {age}")
    assert schedule.depreciation[0, 10] == 0.0
    assert_close(schedule.depreciation[0].sum(), 9000.0)


@settings(max_examples=200, deadline=None)
@given(
    cost=st.floats(min_value=1.0, max_value=1e7),
    salvage_share=st.floats(min_value=0.0, max_value=0.9),
    life=st.integers(min_value=1, max_value=120),
)
def test_declining_balance_matches_engine_vdb(cost, salvage_share, life):
    salvage = cost * salvage_share
    charges = declining_balance_by_age(
        np.array([cost]), np.array([salvage]), np.array([life]), life + 3
    )[0]
    expected = engine.declining_balance_charge(cost, salvage, life, np.arange(life + 3))
    np.testing.assert_allclose(charges, expected, rtol=1e-12, atol=1e-9)


def test_life_change_from_72_to_60_months():
    # 72,000 with salvage 7,200 over 72 months: (72,000 - 7,200) / 72 = 900 a month.
    # From 2026-01 (age 24) the life is 60 months. Book value then is
    # 72,000 - 24 x 900 = 50,400, and (50,400 - 7,200) / (60 - 24) = 1,200 a month
    # for ages 24 to 59. In all 24 x 900 + 36 x 1,200 = 64,800 = cost less salvage.
    lot = asset(
        purchase_month="2024-01",
        unit_price=72000.0,
        salvage=7200.0,
        life_months=72,
        new_life_months=60,
        life_change_month="2026-01",
    )
    schedule = schedule_of([lot], first="2024-01", months=72)
    charges = schedule.depreciation[0]
    assert np.allclose(charges[:24], 900.0, rtol=0, atol=1e-9)
    assert np.allclose(charges[24:60], 1200.0, rtol=0, atol=1e-9)
    assert np.all(charges[60:] == 0.0)
    assert_close(charges.sum(), 64800.0)


def test_life_change_is_prospective():
    # The same asset viewed from 2026-01: 24 months (21,600) were charged before, and
    # the schedule charges the remaining 43,200 at 1,200 a month.
    lot = asset(
        purchase_month="2024-01",
        unit_price=72000.0,
        salvage=7200.0,
        life_months=72,
        new_life_months=60,
        life_change_month="2026-01",
    )
    schedule = schedule_of([lot], first="2026-01", months=48)
    assert_close(schedule.opening_accumulated[0], 21600.0)
    assert_close(schedule.depreciation[0, 0], 1200.0)
    assert_close(schedule.depreciation[0].sum(), 43200.0)


def test_declining_balance_life_change_restarts_on_book_value():
    # 10,000, no salvage, 10 months: 20% of book value, 2,000 then 1,600. From age 2
    # the life is 6 months, so the book value of 6,400 is declined over the 4 months
    # left at 2 / 4 = 50%, switching to straight-line once that is larger:
    #   age 2: book 6,400, 50% -> 3,200; straight-line 6,400 / 4 = 1,600 -> 3,200
    #   age 3: book 3,200, 50% -> 1,600; straight-line 3,200 / 3 = 1,066.67 -> 1,600
    #   age 4: book 1,600, 50% -> 800; straight-line 1,600 / 2 = 800 (not larger) -> 800
    #   age 5: book 800, 50% -> 400; straight-line 800 / 1 = 800 (switch) -> 800
    # In all 10,000, and nothing from age 6.
    lot = asset(
        unit_price=10000.0,
        life_months=10,
        method="declining-balance",
        new_life_months=6,
        life_change_month="2026-03",
    )
    schedule = schedule_of([lot], months=8)
    expected = [2000.0, 1600.0, 3200.0, 1600.0, 800.0, 800.0, 0.0, 0.0]
    for age, value in enumerate(expected):
        assert_close(schedule.depreciation[0, age], value, where=f"age {age}")


def test_units_of_production_by_tokens():
    # One accelerator makes 90,000,000 tokens a month at U = 1 and 45,000,000 at
    # U = 0.5. 10,000 over 360,000,000 lifetime tokens is 2,500 per 90M tokens:
    # 2,500, 2,500, then 1,250 a month at half utilization until 10,000 is reached
    # in month 5; nothing after that.
    lot = asset(
        unit_price=10000.0,
        life_months=12,
        method="units-of-production",
        lifetime_tokens=3.6e8,
    )
    drivers = Drivers.model_validate({"utilization": {"2026-01": 1.0, "2026-03": 0.5}})
    schedule = schedule_of([lot], months=8, drivers=drivers)
    expected = [2500.0, 2500.0, 1250.0, 1250.0, 1250.0, 1250.0, 0.0, 0.0]
    for age, value in enumerate(expected):
        assert_close(schedule.depreciation[0, age], value, where=f"age {age}")


def test_units_of_production_final_write_off():
    # As above with a 4-month life: 2,500, 2,500, 1,250, and the 3,750 left is
    # charged in the last month of life.
    lot = asset(
        unit_price=10000.0,
        life_months=4,
        method="units-of-production",
        lifetime_tokens=3.6e8,
    )
    drivers = Drivers.model_validate({"utilization": {"2026-01": 1.0, "2026-03": 0.5}})
    schedule = schedule_of([lot], months=6, drivers=drivers)
    expected = [2500.0, 2500.0, 1250.0, 3750.0, 0.0, 0.0]
    for age, value in enumerate(expected):
        assert_close(schedule.depreciation[0, age], value, where=f"age {age}")


def test_fabric_units_of_production_counts_factory_tokens():
    # A fabric lot serves the whole factory: 10 accelerators x 90M = 900M tokens a
    # month. 9,000 over 3.6e9 lifetime tokens is 2,250 a month for four months.
    accelerators = asset("gpu", quantity=10, unit_price=21600.0, life_months=24)
    fabric = asset(
        "net",
        asset_class="fabric",
        unit_price=9000.0,
        life_months=12,
        method="units-of-production",
        lifetime_tokens=3.6e9,
    )
    schedule = schedule_of([accelerators, fabric], months=6)
    assert np.allclose(schedule.depreciation[1], [2250.0] * 4 + [0.0] * 2, rtol=1e-12)
    assert np.allclose(schedule.fabric, schedule.depreciation[1], rtol=0)


def test_fully_depreciated_asset_drops_out_of_silicon():
    # Lot A: 2 x 21,600 / 24 = 1,800 a month, bought 2024-02, so 2026-01 is its last
    # month (age 23). Lot B: 8 x 21,600 / 24 = 7,200 a month from 2026-01.
    # Silicon is 9,000 in 2026-01 and 7,200 after; all 10 accelerators stay in
    # service, so capacity does not change.
    old = asset(
        "old", purchase_month="2024-02", quantity=2, unit_price=21600.0, life_months=24
    )
    new = asset("new", quantity=8, unit_price=21600.0, life_months=24)
    schedule = schedule_of([old, new], months=3)
    np.testing.assert_allclose(schedule.silicon, [9000.0, 7200.0, 7200.0], rtol=1e-12)
    np.testing.assert_allclose(schedule.accelerators, [10.0, 10.0, 10.0])
    assert schedule.capacity[0] == schedule.capacity[2]
    assert schedule.depreciation[0, 1] == 0.0


REGISTER = [
    # every method and class, with and without salvage and a change of life
    asset("sl", quantity=3, unit_price=33333.33, salvage=1234.57, life_months=37),
    asset(
        "sl-change",
        purchase_month="2026-05",
        unit_price=72000.0,
        salvage=7200.0,
        life_months=72,
        new_life_months=60,
        life_change_month="2028-05",
    ),
    asset(
        "sl-longer",
        purchase_month="2026-02",
        unit_price=50000.0,
        life_months=36,
        new_life_months=48,
        life_change_month="2027-02",
    ),
    asset(
        "ddb",
        quantity=5,
        unit_price=29999.99,
        salvage=999.99,
        life_months=47,
        method="declining-balance",
    ),
    asset(
        "ddb-change",
        purchase_month="2026-07",
        unit_price=41000.0,
        salvage=500.0,
        life_months=60,
        method="declining-balance",
        new_life_months=40,
        life_change_month="2027-11",
    ),
    asset(
        "uop",
        quantity=2,
        unit_price=31000.0,
        salvage=1000.0,
        life_months=50,
        method="units-of-production",
        lifetime_tokens=3.0e9,
    ),
    asset(
        "uop-unfinished",
        unit_price=31000.0,
        life_months=20,
        method="units-of-production",
        lifetime_tokens=9e12,
    ),
    asset("fabric", asset_class="fabric", unit_price=60000.0, life_months=60),
    asset(
        "fit-out",
        asset_class="facility-fit-out",
        unit_price=120000.0,
        salvage=10000.0,
        life_months=80,
        method="declining-balance",
    ),
]


def test_life_depreciation_equals_cost_less_salvage():
    # Every lot is bought inside the horizon and ends before it does.
    schedule = schedule_of(REGISTER, months=96)
    for row, lot in enumerate(REGISTER):
        expected = round(lot.quantity * (lot.unit_price - lot.salvage), 2)
        assert round(float(schedule.depreciation[row].sum()), 2) == expected, (
            lot.asset_id
        )


def test_opening_plus_horizon_depreciation():
    # Viewed from a start inside the lots' lives, what was charged before the
    # horizon plus what is charged in it is still cost less salvage.
    schedule = schedule_of(REGISTER, first="2027-03", months=96)
    for row, lot in enumerate(REGISTER):
        total = float(
            schedule.opening_accumulated[row] + schedule.depreciation[row].sum()
        )
        assert round(total, 2) == round(
            lot.quantity * (lot.unit_price - lot.salvage), 2
        ), lot.asset_id


# ---------------------------------------------------------------------------
# The monthly BOM


def test_scenario_silicon_is_the_register_without_one():
    # Without a register, the reference factory's [silicon] is one lot and every
    # month reproduces the single-period BOM: $6.2539 per million at U = 0.6, Y = 0.9.
    scenario = load_scenario(REFERENCE_SCENARIO)
    schedule = compute_schedule(scenario, start=parse_month("2026-01"), months=12)
    single = engine.evaluate(scenario)
    np.testing.assert_allclose(
        schedule.cost_per_good_token, single.cost_per_good_token, rtol=1e-12
    )
    np.testing.assert_allclose(schedule.floor, single.floor, rtol=1e-12)
    np.testing.assert_allclose(schedule.total, single.total, rtol=1e-12)
    assert_close(schedule.cost_per_good_token[0] * MILLION, 6.253875641, rel=1e-9)


def test_components_add_up_to_total():
    schedule = compute_schedule(
        load_scenario(REFERENCE_SCENARIO),
        start=parse_month("2026-01"),
        months=24,
        assets=REGISTER,
    )
    components = sum(values for _, _, values in schedule.component_rows())
    np.testing.assert_allclose(components, schedule.total, rtol=1e-12)
    np.testing.assert_allclose(
        schedule.fixed + schedule.energy, schedule.total, rtol=1e-12
    )


def test_step_drivers_apply_from_their_month():
    drivers = Drivers.model_validate(
        {"tokens_per_second": {"2026-03": 120.0, "2026-05": 150.0}}
    )
    schedule = schedule_of([asset(quantity=10)], months=6, drivers=drivers)
    np.testing.assert_array_equal(
        schedule.tokens_per_second, [120.0, 120.0, 120.0, 120.0, 150.0, 150.0]
    )


def test_energy_price_path_moves_energy_cost():
    # Physical energy: 2 kW per accelerator x 250 h x price; 10 accelerators.
    # At 0.10 per kWh that is 500 a month at full load; at 0.15, 750.
    scenario = bare_scenario(
        energy={"basis": "physical", "wall_kw": 20.0, "price_per_kwh": 0.10}
    )
    drivers = Drivers.model_validate(
        {"energy_price_per_kwh": {"2026-01": 0.10, "2026-02": 0.15}}
    )
    schedule = schedule_of(
        [asset(quantity=10)], months=2, scenario=scenario, drivers=drivers
    )
    np.testing.assert_allclose(schedule.energy_full, [500.0, 750.0], rtol=1e-12)


# ---------------------------------------------------------------------------
# Decay by cause


def test_decay_split_worked_example():
    # Lot A (1,800 a month) runs off after 2026-01, throughput rises from 100 to 125
    # and utilization falls from 1 to 0.8; 10 accelerators, 250 h, no other cost.
    #   2026-01: 9,000 / (10 x 100 x 900,000 x 1) = 10.00 per million
    #   after depreciation (7,200):  7,200 / 900M          = 8.00  -> -2.00
    #   after throughput (125):      7,200 / 1,125M        = 6.40  -> -1.60
    #   after utilization (0.8):     7,200 / (1,125M x 0.8) = 8.00 -> +1.60
    # The change is 8.00 - 10.00 = -2.00 = -2.00 - 1.60 + 1.60.
    old = asset(
        "old", purchase_month="2024-02", quantity=2, unit_price=21600.0, life_months=24
    )
    new = asset("new", quantity=8, unit_price=21600.0, life_months=24)
    drivers = Drivers.model_validate(
        {
            "tokens_per_second": {"2026-01": 100.0, "2026-02": 125.0},
            "utilization": {"2026-01": 1.0, "2026-02": 0.8},
        }
    )
    schedule = schedule_of([old, new], months=2, drivers=drivers)
    parts = dict(zip((key for key, _ in CAUSES), schedule.decay[:, 1] * MILLION))
    assert_close(parts["depreciation"], -2.0)
    assert_close(parts["throughput"], -1.6)
    assert_close(parts["utilization"], 1.6)
    for key in ("energy_price", "yield", "fleet", "other"):
        assert abs(parts[key]) < 1e-12, key
    assert_close(schedule.change[1] * MILLION, -2.0)
    assert np.isnan(schedule.decay[:, 0]).all()


@settings(max_examples=100, deadline=None)
@given(
    throughput=st.lists(st.floats(min_value=50, max_value=500), min_size=6, max_size=6),
    utilization=st.lists(
        st.floats(min_value=0.05, max_value=1.0), min_size=6, max_size=6
    ),
    yield_rate=st.lists(
        st.floats(min_value=0.5, max_value=1.0), min_size=6, max_size=6
    ),
    price=st.lists(st.floats(min_value=0.01, max_value=0.5), min_size=6, max_size=6),
    cycles=st.lists(st.floats(min_value=0, max_value=24), min_size=6, max_size=6),
)
def test_decay_parts_add_up_to_change(
    throughput, utilization, yield_rate, price, cycles
):
    months = [f"2026-{month:02d}" for month in range(1, 7)]
    drivers = Drivers.model_validate(
        {
            "tokens_per_second": dict(zip(months, throughput)),
            "utilization": dict(zip(months, utilization)),
            "yield_rate": dict(zip(months, yield_rate)),
            "energy_price_per_kwh": dict(zip(months, price)),
            "lifecycle_cycles_per_year": dict(zip(months, cycles)),
        }
    )
    scenario = load_scenario(
        REFERENCE_SCENARIO.with_name("reference_factory_physical.toml")
    )
    register = [
        asset("a", quantity=4, unit_price=30000.0, life_months=3),
        asset("b", purchase_month="2026-03", quantity=4),
    ]
    schedule = compute_schedule(
        scenario,
        start=parse_month("2026-01"),
        months=6,
        assets=register,
        drivers=drivers,
    )
    parts = schedule.decay[:, 1:].sum(axis=0)
    np.testing.assert_allclose(parts, schedule.change[1:], rtol=1e-9, atol=1e-18)


# ---------------------------------------------------------------------------
# Re-strike and the fixed rate


def restrike_example(basis="first-month"):
    # 10 accelerators at 21,600 over 24 months: Silicon 9,000 a month in 2026 and
    # 2027, the only cost. 100 tokens/s until 2026-06, then 125: good tokens are
    # 900M a month, then 1,125M; the re-struck rate is 10.00 per million, then 8.00.
    scenario = bare_scenario(restrike={"fixed_rate_basis": basis})
    drivers = Drivers.model_validate(
        {"tokens_per_second": {"2026-01": 100.0, "2026-07": 125.0}}
    )
    lot = asset(quantity=10, unit_price=21600.0, life_months=24)
    return schedule_of([lot], months=24, scenario=scenario, drivers=drivers)


def test_fixed_rate_over_recovers_and_carries_forward():
    # 2026: the rate is January's 10.00 per million. January to June recover
    # 900M x 10 / 1M = 9,000 = cost. July to December recover 1,125M x 10 / 1M =
    # 11,250 against 9,000: 2,250 over-recovered each month, 13,500 by December.
    # 2027: January's re-struck rate is 8.00; the 13,500 is given back over 2027's
    # 12 x 1,125M = 13,500M good tokens, 1.00 per million, so the rate is 7.00.
    # 2027 recovers 1,125M x 7 / 1M = 7,875 a month against 9,000: 13,500 under in
    # all, which clears the balance.
    schedule = restrike_example()
    recovery = schedule.recovery
    assert np.allclose(recovery.fixed_rate[:12] * MILLION, 10.0, rtol=1e-12)
    assert np.allclose(recovery.over_recovery[:6], 0.0, atol=1e-9)
    assert np.allclose(recovery.over_recovery[6:12], 2250.0, rtol=1e-12)
    assert_close(recovery.balance_carried_forward[11], 13500.0)

    assert_close(recovery.rate_before_balance[12] * MILLION, 8.0)
    assert_close(recovery.fixed_rate[12] * MILLION, 7.0)
    lowered_by = (
        recovery.rate_before_balance[12] - recovery.fixed_rate[12]
    ) * schedule.good_tokens[12:].sum()
    assert_close(lowered_by, recovery.balance_carried_forward[11])
    assert np.allclose(recovery.over_recovery[12:], -1125.0, rtol=1e-12)
    assert abs(recovery.balance_carried_forward[-1]) < 1e-6


def test_restruck_rate_recovers_each_month_exactly():
    schedule = restrike_example()
    np.testing.assert_allclose(
        schedule.good_tokens * schedule.cost_per_good_token, schedule.total, rtol=1e-12
    )


def test_year_budget_rate_breaks_even_when_projection_holds():
    # 2026 costs 108,000 over 6 x 900M + 6 x 1,125M = 12,150M good tokens: 8.888...
    # per million. January to June under-recover 1,000 a month, July to December
    # over-recover 1,000, and the year ends with no balance.
    schedule = restrike_example("year-budget")
    recovery = schedule.recovery
    assert_close(recovery.fixed_rate[0] * MILLION, 108000.0 / 12150.0)
    assert np.allclose(recovery.over_recovery[:6], -1000.0, rtol=1e-9)
    assert np.allclose(recovery.over_recovery[6:12], 1000.0, rtol=1e-9)
    assert abs(recovery.balance_carried_forward[11]) < 1e-6


def test_opening_balance_lowers_first_rate():
    # An over-recovery of 9,000 brought in is given back over 2026's 12,150M tokens.
    scenario = bare_scenario(restrike={"opening_balance": 9000.0})
    drivers = Drivers.model_validate(
        {"tokens_per_second": {"2026-01": 100.0, "2026-07": 125.0}}
    )
    schedule = schedule_of(
        [asset(quantity=10, unit_price=21600.0, life_months=24)],
        scenario=scenario,
        drivers=drivers,
    )
    assert_close(schedule.recovery.fixed_rate[0] * MILLION, 10.0 - 9000.0 / 12150.0)
    assert_close(schedule.recovery.balance_brought_forward[0], 9000.0)


def test_fiscal_year_from_july_sets_rate_in_july():
    scenario = bare_scenario(restrike={"fiscal_year_start_month": 7})
    schedule = schedule_of(
        [asset(quantity=10, unit_price=21600.0, life_months=24)], scenario=scenario
    )
    assert list(np.flatnonzero(schedule.recovery.sets_rate)) == [0, 6]
    assert schedule.quarterly.labels == [
        "2025/26 Q3",
        "2025/26 Q4",
        "2026/27 Q1",
        "2026/27 Q2",
    ]


# ---------------------------------------------------------------------------
# Quarterly roll-up


def test_quarterly_rollup_of_partial_quarters():
    # February to September 2026: Q1 has two months, Q2 three, Q3 three.
    schedule = compute_schedule(
        load_scenario(REFERENCE_SCENARIO),
        start=parse_month("2026-02"),
        months=8,
        assets=REGISTER[:6],
    )
    quarterly = schedule.quarterly
    assert quarterly.labels == ["2026 Q1", "2026 Q2", "2026 Q3"]
    assert list(quarterly.stop - quarterly.first) == [2, 3, 3]
    assert_close(quarterly.total.sum(), schedule.total.sum())
    assert_close(
        quarterly.cost_per_good_token[1],
        schedule.total[2:5].sum() / schedule.good_tokens[2:5].sum(),
    )
    assert_close(
        quarterly.floor[2], schedule.full_cost[5:].sum() / schedule.capacity[5:].sum()
    )
    # A quarter's decay parts add up to the change of its last month's rate.
    assert_close(
        quarterly.decay[:, 1].sum(),
        schedule.cost_per_good_token[4] - schedule.cost_per_good_token[1],
    )


# ---------------------------------------------------------------------------
# Input errors


def test_month_without_accelerators_is_an_error():
    with pytest.raises(
        InputError,
        match=r"no accelerator is in service in 2026-01.*in or after 2026-03",
    ):
        schedule_of([asset(purchase_month="2026-03")])


def test_register_without_accelerators_is_an_error():
    with pytest.raises(InputError, match="no accelerator rows"):
        schedule_of([asset(asset_class="fabric")])


def test_repeated_asset_id_across_sources_is_an_error():
    scenario = bare_scenario(
        assets=[
            {
                "asset_id": "a",
                "asset_class": "accelerator",
                "purchase_month": "2026-01",
                "quantity": 1,
                "unit_price": 1000.0,
                "life_months": 12,
            }
        ]
    )
    with pytest.raises(InputError, match=r"asset_id 'a' appears both"):
        schedule_of([asset("a")], scenario=scenario)


def test_stated_energy_price_path_needs_power():
    drivers = Drivers.model_validate({"energy_price_per_kwh": {"2026-01": 0.1}})
    with pytest.raises(InputError, match="wall_kw_per_accelerator"):
        schedule_of([asset()], drivers=drivers)


@pytest.mark.parametrize("months", [0, 601])
def test_horizon_length_is_checked(months):
    with pytest.raises(InputError, match="months"):
        schedule_of([asset()], months=months)
