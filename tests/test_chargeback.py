"""Chargeback: the worked example, the allocation properties and the error cases."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import REFERENCE_SCENARIO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokenbom_xl.chargeback import chargeback_table, compute_chargeback
from tokenbom_xl.engine import component_costs
from tokenbom_xl.errors import InputError
from tokenbom_xl.rounding import to_cents
from tokenbom_xl.scenario import load_scenario, parse_scenario, scenario_parameters
from tokenbom_xl.usage import read_usage, usage_from_range

DATA = Path(__file__).parent / "data"
TWO_MODELS = DATA / "two_model_factory.toml"
TWO_MODEL_USAGE = DATA / "two_model_usage.csv"


def line(result, period, unit):
    lines = result.lines
    match = lines[(lines["period"] == period) & (lines["business_unit"] == unit)]
    assert len(match) == 1, f"{period} {unit}: {len(match)} lines"
    return match.iloc[0]


# Worked by hand. F = 13,750, E_full = 750 (idle fraction 0), C(1) = 14,500.
# S = 8 accelerators x 3,600 s x 730 h = 21,024,000 accelerator-seconds.
# llama-8b: 400 tokens/s at yield 0.8 -> 1/320 s per good token.
# llama-70b: 50 tokens/s at yield 0.8 -> 1/40 s per good token.
#
# 2025-01
#   Search   168,192,000 llama-70b tokens / 40  = 4,204,800 s = 0.20 S, reserved 0.40
#   Support  1,681,920,000 llama-8b     / 320 = 5,256,000 s = 0.25 S, reserved 0.10
#   Research 336,384,000 llama-8b / 320 + 84,096,000 llama-70b / 40
#            = 1,051,200 + 2,102,400 = 3,153,600 s = 0.15 S, reserved 0
#   U = 0.60, C(U) = 13,750 + 750 x 0.6 = 14,200
#   Usage charge = busy share x C(1): 2,900 / 3,625 / 2,175 (sum 8,700 = U x C(1))
#   V = 13,750 x (1 - 0.6) = 5,500. Unused reserved: Search 0.2, others 0.
#   Sum of unused 0.2 < idle 0.4, so Search pays 13,750 x 0.2 = 2,750 and the
#   rest, 5,500 x (0.4 - 0.2) / 0.4 = 2,750, goes to Infrastructure.
# 2025-02
#   Search 84,096,000 llama-70b / 40 = 2,102,400 s = 0.10 S, reserved 0.50
#   U = 0.1, C(U) = 13,825; usage 1,450; V = 12,375; unused 0.4 < idle 0.9, so Search
#   pays 13,750 x 0.4 = 5,500 and Infrastructure 12,375 x 0.5 / 0.9 = 6,875.
WORKED_EXAMPLE = [
    # period, consumer, usage, capacity variance, unreserved idle, total
    ("2025-01", "Research", 2175.00, 0.00, 0.00, 2175.00),
    ("2025-01", "Search", 2900.00, 2750.00, 0.00, 5650.00),
    ("2025-01", "Support", 3625.00, 0.00, 0.00, 3625.00),
    ("2025-01", "Infrastructure", 0.00, 0.00, 2750.00, 2750.00),
    ("2025-02", "Search", 1450.00, 5500.00, 0.00, 6950.00),
    ("2025-02", "Infrastructure", 0.00, 0.00, 6875.00, 6875.00),
]


@pytest.mark.parametrize("period, unit, usage, variance, idle, total", WORKED_EXAMPLE)
def test_worked_example_by_hand(period, unit, usage, variance, idle, total):
    result = compute_chargeback(load_scenario(TWO_MODELS), read_usage(TWO_MODEL_USAGE))
    found = line(result, period, unit)
    assert found["usage_charge_cents"] == round(usage * 100)
    assert found["capacity_variance_cents"] == round(variance * 100)
    assert found["unreserved_idle_cents"] == round(idle * 100)
    assert found["total_cents"] == round(total * 100)
    assert found["total"] == pytest.approx(total, rel=1e-12)


def test_worked_example_periods():
    result = compute_chargeback(load_scenario(TWO_MODELS), read_usage(TWO_MODEL_USAGE))
    periods = result.periods.set_index("period")
    assert periods.loc["2025-01", "utilization"] == pytest.approx(0.6, rel=1e-12)
    assert periods.loc["2025-01", "total_cost_cents"] == 1_420_000
    assert periods.loc["2025-02", "total_cost_cents"] == 1_382_500
    assert list(result.lines["business_unit"]) == [
        "Research",
        "Search",
        "Support",
        "Infrastructure",
        "Search",
        "Infrastructure",
    ]


def test_spread_by_usage_rounds_thirds():
    # Same 2025-01, rest 2,750 spread by busy share / U: Search 0.2/0.6 = 916.666...,
    # Support 0.25/0.6 = 1,145.833..., Research 0.15/0.6 = 687.50. Line totals
    # 6,566.666..., 4,770.833..., 2,862.50 lack one cent together; the largest
    # remainder (Search, .666) gets it.
    data = tomllib.loads(TWO_MODELS.read_text("utf-8"))
    data["chargeback"] = {"unreserved_idle": "spread-by-usage"}
    result = compute_chargeback(parse_scenario(data), read_usage(TWO_MODEL_USAGE))
    search = line(result, "2025-01", "Search")
    assert search["total_cents"] == 656667
    assert search["unreserved_idle_cents"] == 91667
    assert line(result, "2025-01", "Support")["total_cents"] == 477083
    assert line(result, "2025-01", "Research")["total_cents"] == 286250
    assert line(result, "2025-01", "Infrastructure")["total_cents"] == 0


def test_central_line_merges_into_unit_of_same_name():
    data = tomllib.loads(TWO_MODELS.read_text("utf-8"))
    data["chargeback"] = {"central_line": "Research"}
    result = compute_chargeback(parse_scenario(data), read_usage(TWO_MODEL_USAGE))
    research = line(result, "2025-01", "Research")
    assert research["total_cents"] == 217500 + 275000
    assert research["capacity_variance_cents"] == 0
    assert line(result, "2025-02", "Research")["unreserved_idle_cents"] == 687500


def usage_rows(rows):
    return [
        ["period", "business_unit", "model", "good_tokens", "reserved_share"],
        *rows,
    ]


def test_unknown_model_names_row_and_column():
    usage = usage_from_range(
        usage_rows(
            [["2025-01", "A", "llama-8b", 1, None], ["2025-01", "B", "gpt-x", 1, None]]
        )
    )
    with pytest.raises(
        InputError, match=r"usage_range: row 3, column model: unknown model 'gpt-x'"
    ):
        compute_chargeback(load_scenario(TWO_MODELS), usage)


def test_second_model_without_models_table():
    usage = usage_from_range(
        usage_rows([["2025-01", "A", "m1", 1, None], ["2025-01", "B", "m2", 1, None]])
    )
    with pytest.raises(
        InputError, match=r"row 3, column model: a second model 'm2'.*\[\[models\]\]"
    ):
        compute_chargeback(load_scenario(REFERENCE_SCENARIO), usage)


def test_conflicting_reserved_shares_name_both_rows():
    usage = usage_from_range(
        usage_rows(
            [
                ["2025-01", "A", "llama-8b", 1, 0.2],
                ["2025-01", "A", "llama-70b", 1, 0.3],
            ]
        )
    )
    with pytest.raises(
        InputError, match=r"row 3, column reserved_share: 0.3 differs from 0.2 on row 2"
    ):
        compute_chargeback(load_scenario(TWO_MODELS), usage)


def test_repeated_equal_reserved_share_counts_once():
    usage = usage_from_range(
        usage_rows(
            [
                ["2025-01", "A", "llama-8b", 1, 0.6],
                ["2025-01", "A", "llama-70b", 1, 0.6],
            ]
        )
    )
    result = compute_chargeback(load_scenario(TWO_MODELS), usage)
    assert line(result, "2025-01", "A")["reserved_share"] == 0.6


def test_reserved_shares_over_one_rejected():
    usage = usage_from_range(
        usage_rows(
            [
                ["2025-01", "A", "llama-8b", 1, 0.7],
                ["2025-01", "B", "llama-8b", 1, "40%"],
            ]
        )
    )
    with pytest.raises(
        InputError,
        match=r"rows 2, 3, column reserved_share: the reserved shares of 2025-01 add up to 1.1",
    ):
        compute_chargeback(load_scenario(TWO_MODELS), usage)


def test_usage_over_capacity_rejected():
    # S x 40 good llama-70b tokens fill the factory; one more token is too many.
    tokens = 21_024_000 * 40 + 1000
    usage = usage_from_range(usage_rows([["2025-03", "A", "llama-70b", tokens, None]]))
    with pytest.raises(
        InputError,
        match=r"column good_tokens, period 2025-03: the usage needs .* but the factory has 21,024,000",
    ):
        compute_chargeback(load_scenario(TWO_MODELS), usage)


def test_full_capacity_accepted():
    usage = usage_from_range(
        usage_rows([["2025-03", "A", "llama-70b", 21_024_000 * 40, 1.0]])
    )
    result = compute_chargeback(load_scenario(TWO_MODELS), usage)
    assert result.periods["utilization"].iat[0] == 1.0
    assert line(result, "2025-03", "A")["total_cents"] == 1_450_000


def test_reservation_only_row():
    usage = usage_from_range(
        usage_rows(
            [
                ["2025-01", "A", "llama-8b", 3_200_000, None],
                ["2025-01", "B", None, None, 0.5],
            ]
        )
    )
    result = compute_chargeback(load_scenario(TWO_MODELS), usage)
    # B reserved half the factory and used none of it: 13,750 x 0.5 = 6,875.
    assert line(result, "2025-01", "B")["capacity_variance_cents"] == 687_500


def test_chargeback_table_function():
    scenario = load_scenario(TWO_MODELS)
    inputs = [["Parameter (defined name)", "Value"]] + [
        [p.name, p.value] for p in scenario_parameters(scenario)
    ]
    usage = [
        line.split(",") for line in TWO_MODEL_USAGE.read_text("utf-8").splitlines()
    ]
    table = chargeback_table(usage, inputs)
    assert table[0] == [
        "period",
        "business_unit",
        "busy_share",
        "reserved_share",
        "usage_charge",
        "capacity_variance",
        "unreserved_idle",
        "total",
    ]
    assert table[2][:2] == ["2025-01", "Search"]
    assert table[2][4:] == [2900.0, 2750.0, 0.0, 5650.0]
    assert len(table) == 7


def test_chargeback_table_reports_bad_inputs():
    with pytest.raises(InputError, match="unknown parameter 'bogus'"):
        chargeback_table(usage_rows([]), [["bogus", 1]])


# ---------------------------------------------------------------------------
# Properties over random usage and reservations


@st.composite
def factories(draw):
    data = tomllib.loads(REFERENCE_SCENARIO.read_text("utf-8"))
    data["accelerators"] = draw(st.integers(1, 64))
    data["energy"]["idle_fraction"] = draw(st.sampled_from([0.0, 0.3, 1.0]))
    count = draw(st.integers(1, 3))
    data["models"] = [
        {
            "name": f"m{number}",
            "tokens_per_second": draw(st.floats(5, 5000)),
            "yield_rate": draw(st.floats(0.05, 1.0)),
        }
        for number in range(count)
    ]
    data["chargeback"] = {
        "unreserved_idle": draw(st.sampled_from(["central", "spread-by-usage"])),
        "central_line": draw(st.sampled_from(["Infrastructure", "u0"])),
    }
    return parse_scenario(data)


@st.composite
def usages(draw, scenario):
    seconds = scenario.accelerators * 3600 * scenario.hours_per_period
    rows = []
    for period in draw(
        st.lists(
            st.sampled_from(["2025-01", "2025-02", "2025-03"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    ):
        units = draw(st.integers(1, 6))
        utilization = draw(st.sampled_from([0.0, 1.0]) | st.floats(0, 1))
        weights = draw(st.lists(st.floats(0, 1), min_size=units, max_size=units))
        total_weight = sum(weights) or 1.0
        reserved_total = draw(st.floats(0, 1))
        reserve = draw(st.lists(st.floats(0, 1), min_size=units, max_size=units))
        reserve_weight = sum(reserve) or 1.0
        for unit in range(units):
            model = draw(st.integers(0, len(scenario.models) - 1))
            definition = scenario.models[model]
            busy = seconds * utilization * weights[unit] / total_weight
            # Good tokens are whole numbers; rounding down keeps the period within S.
            tokens = np.floor(
                busy * definition.tokens_per_second * definition.yield_rate
            )
            share = reserved_total * reserve[unit] / reserve_weight * (1 - 1e-9)
            rows.append(
                [
                    period,
                    f"u{unit}",
                    definition.name,
                    float(tokens),
                    share if share > 0 else None,
                ]
            )
    return usage_from_range(
        [["period", "business_unit", "model", "good_tokens", "reserved_share"], *rows]
    )


@settings(
    max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.data())
def test_chargeback_properties(data):
    scenario = data.draw(factories())
    usage = data.draw(usages(scenario))
    result = compute_chargeback(scenario, usage)
    lines = result.lines

    # The allocations add up to C(U) to the cent in every period, U from the usage.
    costs = component_costs(scenario)
    seconds = scenario.accelerators * 3600 * scenario.hours_per_period
    speed = {m.name: m.tokens_per_second * m.yield_rate for m in scenario.models}
    for period in result.periods["period"]:
        rows = usage.period == period
        busy = sum(
            t / speed[m] for t, m in zip(usage.good_tokens[rows], usage.model[rows])
        )
        utilization = min(busy / seconds, 1.0)
        cost = costs.fixed + costs.energy_full * (
            costs.idle_fraction + (1 - costs.idle_fraction) * utilization
        )
        charged = int(lines.loc[lines["period"] == period, "total_cents"].sum())
        assert charged == int(to_cents([cost])[0]), period

    # Parts add up to each line's total; nothing is negative.
    parts = (
        lines["usage_charge_cents"]
        + lines["capacity_variance_cents"]
        + lines["unreserved_idle_cents"]
    )
    assert (parts == lines["total_cents"]).all()
    for column in (
        "usage_charge_cents",
        "capacity_variance_cents",
        "unreserved_idle_cents",
        "total_cents",
    ):
        assert (lines[column] >= 0).all(), column

    # No reservation, or a reservation fully used: no capacity variance.
    unreserved = lines["reserved_share"] == 0
    assert (lines.loc[unreserved, "capacity_variance_cents"] == 0).all()
    used_all = lines["busy_share"] >= lines["reserved_share"]
    assert (lines.loc[used_all, "capacity_variance_cents"] == 0).all()


def test_blank_rows_add_no_period(tmp_path):
    path = tmp_path / "usage.csv"
    path.write_text(
        "period,business_unit,model,good_tokens,reserved_share\n"
        "2025-01,Search,llama-70b,168192000,0.4\n"
        ",,,,\n"
        "\n",
        "utf-8",
    )
    result = compute_chargeback(load_scenario(TWO_MODELS), read_usage(path))
    assert result.periods["period"].tolist() == ["2025-01"]
    assert result.lines["business_unit"].tolist() == ["Search", "Infrastructure"]
