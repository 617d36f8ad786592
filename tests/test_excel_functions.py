"""The elementwise worksheet functions: reference figures, spilling and error values."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from conftest import assert_close

from tokenbom_xl import excel
from tokenbom_xl.excel import functions

K = 4_204_800_000.0  # capacity of the reference factory, tokens per month
IT_KW = 8 / 1.5  # the physical reference: 8 kW at the wall with a PUE of 1.5

# The reference factory's figures: function, arguments, expected result.
REFERENCE_CASES = [
    ("token_capacity", (8, 200), K),
    ("token_capacity", (8, 200, 730), K),
    ("silicon_cost", (8, 30_000, 48), 5_000.0),
    ("silicon_cost", (8, 30_000, 48, 0, "declining-balance"), 10_000.0),
    ("energy_cost", (IT_KW, 1.5, 0.12, 1.0), 700.80),
    ("energy_cost", (IT_KW, 1.5, 0.12, 0.6), 420.48),
    ("token_cost", (14_200, K, 0.6, 0.9), 6.2538756412),
    ("token_cost_floor", (14_500, K), 3.4484398782),
    ("capacity_variance", (13_750, 0.6), 5_500.0),
    ("yield_loss", (14_500, 0.6, 0.9), 870.0),
    ("crossover_utilization", (13_750, 750, K, 0.9, 5), 0.7566752515),
]


@pytest.mark.parametrize(("name", "args", "expected"), REFERENCE_CASES)
def test_reference_figures(name, args, expected):
    assert_close(getattr(excel, name)(*args), expected, rel=1e-9, where=name)


def test_reference_rounded_as_published():
    assert round(excel.token_cost(14_200, K, 0.6, 0.9), 4) == 6.2539
    assert round(excel.token_cost_floor(14_500, K), 4) == 3.4484
    assert round(excel.crossover_utilization(13_750, 750, K, 0.9, 5), 5) == 0.75668


def test_token_cost_per_token():
    assert_close(excel.token_cost(14_200, K, 0.6, 0.9, 1), 6.2538756412e-6, rel=1e-9)


def test_utilization_column_spills():
    utilization = [[u / 20] for u in range(1, 21)]
    result = excel.token_cost(14_200, K, utilization, 0.9)
    assert result.shape == (20, 1)
    assert_close(result[11, 0], 6.2538756412, rel=1e-9)


def test_row_and_column_give_table():
    result = excel.token_cost(14_200, K, [[0.5], [0.6], [0.7]], [[0.8, 0.9]])
    assert result.shape == (3, 2)
    assert_close(result[1, 1], 6.2538756412, rel=1e-9)


def test_numpy_arrays_accepted():
    utilization = np.linspace(0.1, 1.0, 10)
    result = excel.capacity_variance(13_750, utilization)
    assert result.shape == (1, 10)
    assert_close(result[0, 5], 5_500.0)


def test_method_range_mixes_methods():
    result = excel.silicon_cost(
        8, 30_000, 48, 0, [["straight-line"], ["declining-balance"], ["bad"]]
    )
    assert result.tolist() == [[5_000.0], [10_000.0], ["#VALUE!"]]


def test_silicon_cost_after_life_is_zero():
    assert excel.silicon_cost(8, 30_000, 48, 0, "straight-line", 48) == 0.0
    assert excel.silicon_cost(8, 30_000, 48, 0, "declining-balance", 60) == 0.0


def test_empty_optional_cell_takes_default():
    assert excel.token_capacity(8, 200, None) == K
    assert_close(
        excel.token_cost(14_200, K, 0.6, None), excel.token_cost(14_200, K, 0.6, 1.0)
    )


def test_per_element_errors_in_spill():
    utilization = [[0.6], [1.5], ["x"], ["#N/A"], [0.0], [None]]
    result = excel.token_cost(14_200, K, utilization, 0.9)
    assert_close(result[0, 0], 6.2538756412, rel=1e-9)
    assert result[1:, 0].tolist() == ["#NUM!", "#VALUE!", "#N/A", "#DIV/0!", "#DIV/0!"]


def test_crossover_never_per_element():
    result = excel.crossover_utilization(13_750, 750, K, 0.9, [[1.0, 5.0, 100.0]])
    assert result[0, 0] == "#N/A"
    assert_close(result[0, 1], 0.7566752515, rel=1e-9)
    assert 0 < result[0, 2] < 0.1


BASE_ARGUMENTS = {
    "token_capacity": (8, 200, 730),
    "silicon_cost": (8, 30_000, 48, 0, "straight-line", 0),
    "energy_cost": (IT_KW, 1.5, 0.12, 0.6, 730, 0),
    "token_cost": (14_200, K, 0.6, 0.9, 1_000_000),
    "token_cost_floor": (14_500, K, 1_000_000),
    "capacity_variance": (13_750, 0.6, 0),
    "yield_loss": (14_500, 0.6, 0.9),
    "crossover_utilization": (13_750, 750, K, 0.9, 5, 0, 1_000_000),
}


def _replace(name, position, value):
    args = list(BASE_ARGUMENTS[name])
    args[position] = value
    return tuple(args)


def _every_argument(value, expected, *, numeric_only=False):
    for name in BASE_ARGUMENTS:
        for position, parameter in enumerate(
            inspect.signature(getattr(excel, name)).parameters
        ):
            if numeric_only and parameter == "method":
                continue
            yield pytest.param(
                name,
                _replace(name, position, value),
                expected,
                id=f"{name}-{parameter}-{value}",
            )


# The rule for each case sits beside it: function, arguments, expected error value.
ERROR_CASES = [
    # Text where a number belongs, in any argument.
    *_every_argument("abc", "#VALUE!"),
    # An error value in any argument comes back unchanged.
    *_every_argument("#N/A", "#N/A"),
    *_every_argument("#REF!", "#REF!"),
    # A negative number is outside every numeric argument's range.
    *_every_argument(-1.0, "#NUM!", numeric_only=True),
    # NaN and infinity are not numbers Excel can show.
    *_every_argument(math.nan, "#NUM!", numeric_only=True),
    *_every_argument(math.inf, "#NUM!", numeric_only=True),
    # Utilization or yield outside (0, 1].
    pytest.param(
        "energy_cost", _replace("energy_cost", 3, 1.5), "#NUM!", id="energy-u-above-1"
    ),
    pytest.param(
        "energy_cost", _replace("energy_cost", 3, 0.0), "#NUM!", id="energy-u-zero"
    ),
    pytest.param(
        "token_cost", _replace("token_cost", 2, 1.01), "#NUM!", id="cost-u-above-1"
    ),
    pytest.param(
        "token_cost", _replace("token_cost", 3, 1.01), "#NUM!", id="cost-y-above-1"
    ),
    pytest.param(
        "capacity_variance",
        _replace("capacity_variance", 1, 2.0),
        "#NUM!",
        id="variance-u-above-1",
    ),
    pytest.param(
        "capacity_variance",
        _replace("capacity_variance", 1, 0.0),
        "#NUM!",
        id="variance-u-zero",
    ),
    pytest.param(
        "yield_loss", _replace("yield_loss", 1, 1.5), "#NUM!", id="loss-u-above-1"
    ),
    pytest.param(
        "yield_loss", _replace("yield_loss", 2, 0.0), "#NUM!", id="loss-y-zero"
    ),
    pytest.param(
        "yield_loss", _replace("yield_loss", 2, 1.5), "#NUM!", id="loss-y-above-1"
    ),
    pytest.param(
        "crossover_utilization",
        _replace("crossover_utilization", 3, 0.0),
        "#NUM!",
        id="crossover-y-zero",
    ),
    pytest.param(
        "crossover_utilization",
        _replace("crossover_utilization", 3, 1.2),
        "#NUM!",
        id="crossover-y-above-1",
    ),
    # Zero good tokens: U or Y of exactly 0, or no capacity.
    pytest.param(
        "token_cost", _replace("token_cost", 2, 0.0), "#DIV/0!", id="cost-u-zero"
    ),
    pytest.param(
        "token_cost", _replace("token_cost", 3, 0.0), "#DIV/0!", id="cost-y-zero"
    ),
    pytest.param(
        "token_cost", _replace("token_cost", 1, 0.0), "#DIV/0!", id="cost-no-capacity"
    ),
    pytest.param(
        "token_cost_floor",
        _replace("token_cost_floor", 1, 0.0),
        "#DIV/0!",
        id="floor-no-capacity",
    ),
    # Quoting per zero tokens.
    pytest.param(
        "token_cost", _replace("token_cost", 4, 0.0), "#NUM!", id="cost-per-zero-tokens"
    ),
    pytest.param(
        "token_cost_floor",
        _replace("token_cost_floor", 2, 0.0),
        "#NUM!",
        id="floor-per-zero-tokens",
    ),
    pytest.param(
        "crossover_utilization",
        _replace("crossover_utilization", 6, 0.0),
        "#NUM!",
        id="crossover-per-zero",
    ),
    # Unknown depreciation method.
    pytest.param(
        "silicon_cost",
        _replace("silicon_cost", 4, "sum-of-years"),
        "#VALUE!",
        id="silicon-unknown-method",
    ),
    pytest.param(
        "silicon_cost",
        _replace("silicon_cost", 4, 2.0),
        "#VALUE!",
        id="silicon-number-method",
    ),
    # Depreciation life and age in whole months, salvage at most the price.
    pytest.param(
        "silicon_cost", _replace("silicon_cost", 2, 0), "#NUM!", id="silicon-life-zero"
    ),
    pytest.param(
        "silicon_cost",
        _replace("silicon_cost", 2, 48.5),
        "#NUM!",
        id="silicon-life-fraction",
    ),
    pytest.param(
        "silicon_cost",
        _replace("silicon_cost", 2, 241),
        "#NUM!",
        id="silicon-life-above-limit",
    ),
    pytest.param(
        "silicon_cost",
        _replace("silicon_cost", 5, 1.5),
        "#NUM!",
        id="silicon-age-fraction",
    ),
    pytest.param(
        "silicon_cost",
        _replace("silicon_cost", 3, 40_000),
        "#NUM!",
        id="silicon-salvage-above-price",
    ),
    # PUE and idle fraction in their ranges.
    pytest.param(
        "energy_cost", _replace("energy_cost", 1, 0.9), "#NUM!", id="energy-pue-below-1"
    ),
    pytest.param(
        "energy_cost", _replace("energy_cost", 1, 5.5), "#NUM!", id="energy-pue-above-5"
    ),
    pytest.param(
        "energy_cost",
        _replace("energy_cost", 5, 1.1),
        "#NUM!",
        id="energy-idle-above-1",
    ),
    pytest.param(
        "crossover_utilization",
        _replace("crossover_utilization", 5, 1.1),
        "#NUM!",
        id="crossover-idle",
    ),
    # The factory never beats the API price.
    pytest.param(
        "crossover_utilization",
        _replace("crossover_utilization", 4, 1.0),
        "#N/A",
        id="crossover-cheap-api",
    ),
    pytest.param(
        "crossover_utilization",
        _replace("crossover_utilization", 4, 0.0),
        "#N/A",
        id="crossover-free-api",
    ),
    pytest.param(
        "crossover_utilization",
        _replace("crossover_utilization", 2, 0.0),
        "#N/A",
        id="crossover-no-capacity",
    ),
    # Arguments that are not cell values at all.
    pytest.param(
        "token_cost", _replace("token_cost", 0, {"a": 1}), "#VALUE!", id="cost-dict"
    ),
    pytest.param(
        "token_cost", _replace("token_cost", 0, object()), "#VALUE!", id="cost-object"
    ),
]


@pytest.mark.parametrize(("name", "args", "expected"), ERROR_CASES)
def test_error_values(name, args, expected):
    assert getattr(excel, name)(*args) == expected


def test_error_value_per_element_of_range():
    for name, args in BASE_ARGUMENTS.items():
        column = [[args[0]], ["abc"], ["#N/A"]]
        result = getattr(excel, name)(column, *args[1:])
        assert result.shape == (3, 1), name
        assert isinstance(result[0, 0], float), f"{name}: {result[0, 0]!r}"
        assert result[1:, 0].tolist() == ["#VALUE!", "#N/A"], name


def test_leftmost_error_wins():
    assert excel.token_cost("#REF!", K, "abc") == "#REF!"
    assert excel.token_cost(-1, K, "abc") == "#NUM!"


def test_wrong_argument_count_returns_value():
    assert excel.token_cost(14_200) == "#VALUE!"


def test_defaults_match_public_interface():
    # function, parameter, default (the published interface)
    cases = [
        ("token_capacity", "hours", 730),
        ("silicon_cost", "salvage", 0),
        ("silicon_cost", "method", "straight-line"),
        ("silicon_cost", "age_months", 0),
        ("energy_cost", "hours", 730),
        ("energy_cost", "idle_fraction", 0),
        ("token_cost", "yield_rate", 1),
        ("token_cost", "per_tokens", 1_000_000),
        ("token_cost_floor", "per_tokens", 1_000_000),
        ("capacity_variance", "idle_energy_cost", 0),
        ("crossover_utilization", "idle_fraction", 0),
        ("crossover_utilization", "per_tokens", 1_000_000),
    ]
    for name, parameter, default in cases:
        assert (
            inspect.signature(getattr(functions, name)).parameters[parameter].default
            == default
        ), name


def test_silicon_cost_age_follows_scenario_limit():
    # The scenario allows ages up to 600 months; past the life the charge is 0.
    assert excel.silicon_cost(8, 30_000, 48, 0, "straight-line", 600) == 0.0
    assert excel.silicon_cost(8, 30_000, 48, 0, "straight-line", 601) == "#NUM!"
