"""The elementwise worksheet functions, each a thin layer over the engine's kernels.

Every argument may be one value or a range. Arguments broadcast against each other,
and a range gives a 2-D array. :mod:`tokenbom_xl.excel.convert` describes the shapes
and the error rules. The checks each function adds:

- utilization and yield must be in (0, 1], except in :func:`token_cost`, where 0
  means no good tokens and gives ``#DIV/0!`` as C(U) / G does in a native formula;
- money, counts, hours and prices must be >= 0, ``per_tokens`` > 0, the idle
  fraction in [0, 1] and PUE in the scenario's range;
- ``#DIV/0!`` where there are no good tokens or no capacity;
- ``#N/A`` where the factory never beats the API price.
"""

from __future__ import annotations

import annotated_types
from pydantic import BaseModel

from tokenbom_xl import engine
from tokenbom_xl.excel.convert import (
    DIV0,
    NA,
    NUM,
    ChoiceArgument,
    Domain,
    ElementwiseCall,
    NumericArgument,
    worksheet_function,
)
from tokenbom_xl.scenario import EnergyPhysical, Silicon

__all__ = [
    "DEPRECIATION_METHODS",
    "HOURS_PER_MONTH",
    "PER_MILLION",
    "capacity_variance",
    "crossover_utilization",
    "energy_cost",
    "silicon_cost",
    "token_capacity",
    "token_cost",
    "token_cost_floor",
    "yield_loss",
]

HOURS_PER_MONTH = 730.0  # 8,760 / 12
PER_MILLION = 1_000_000.0
DEPRECIATION_METHODS = ("straight-line", "declining-balance")
_DECLINING = DEPRECIATION_METHODS.index("declining-balance")


def _scenario_domain(
    model: type[BaseModel], field: str, *, whole: bool = False
) -> Domain:
    """Return the allowed range of a scenario field as a worksheet-function domain.

    Reading it from the model keeps the function and the scenario file in agreement.
    """
    bounds: dict[str, float | bool] = {}
    for item in model.model_fields[field].metadata:
        if isinstance(item, annotated_types.Gt):
            bounds.update(minimum=item.gt, minimum_inclusive=False)
        elif isinstance(item, annotated_types.Ge):
            bounds.update(minimum=item.ge, minimum_inclusive=True)
        elif isinstance(item, annotated_types.Lt):
            bounds.update(maximum=item.lt, maximum_inclusive=False)
        elif isinstance(item, annotated_types.Le):
            bounds.update(maximum=item.le, maximum_inclusive=True)
    return Domain(whole=whole, **bounds)  # type: ignore[arg-type]


NONNEGATIVE = Domain(minimum=0.0)
POSITIVE = Domain(minimum=0.0, minimum_inclusive=False)
SHARE = Domain(minimum=0.0, minimum_inclusive=False, maximum=1.0)  # (0, 1]
SHARE_OR_ZERO = Domain(minimum=0.0, maximum=1.0)  # [0, 1]
AGE_MONTHS = _scenario_domain(Silicon, "age_months", whole=True)
LIFE_MONTHS = _scenario_domain(Silicon, "life_months", whole=True)
PUE = _scenario_domain(EnergyPhysical, "pue")


@worksheet_function
def token_capacity(accelerators, tokens_per_second, hours=HOURS_PER_MONTH):
    """Return theoretical output tokens per period: accelerators * tokens/s * 3,600 * hours."""
    call = ElementwiseCall(
        NumericArgument(accelerators, NONNEGATIVE),
        NumericArgument(tokens_per_second, NONNEGATIVE),
        NumericArgument(hours, NONNEGATIVE, HOURS_PER_MONTH),
    )
    return call.result(engine.token_capacity(*call.values))


@worksheet_function
def silicon_cost(
    accelerators,
    unit_price,
    life_months,
    salvage=0.0,
    method="straight-line",
    age_months=0,
):
    """Return one month's depreciation of ``accelerators`` accelerators.

    ``unit_price`` and ``salvage`` are per accelerator. ``method`` is
    "straight-line" or "declining-balance" (double declining with the switch to
    straight-line, Excel's VDB(cost, salvage, life, age, age + 1, 2, FALSE)). The
    charge is 0 once ``age_months`` reaches ``life_months``. A salvage above the
    unit price gives ``#NUM!``. Life and age must be whole months.
    """
    call = ElementwiseCall(
        NumericArgument(accelerators, NONNEGATIVE),
        NumericArgument(unit_price, NONNEGATIVE),
        NumericArgument(life_months, LIFE_MONTHS),
        NumericArgument(salvage, NONNEGATIVE, 0.0),
        ChoiceArgument(method, DEPRECIATION_METHODS, "straight-line"),
        NumericArgument(age_months, AGE_MONTHS, 0.0),
    )
    accelerators, unit_price, life, salvage, method_index, age = call.values
    call.flag(salvage > unit_price, NUM)
    charge = engine.silicon_charge(
        accelerators,
        unit_price,
        life,
        salvage,
        age,
        declining=method_index == _DECLINING,
    )
    return call.result(charge)


@worksheet_function
def energy_cost(
    it_kw, pue, price_per_kwh, utilization, hours=HOURS_PER_MONTH, idle_fraction=0.0
):
    """Return the energy cost of a period: IT kW * PUE * hours * price * (i + (1 - i) * U)."""
    call = ElementwiseCall(
        NumericArgument(it_kw, NONNEGATIVE),
        NumericArgument(pue, PUE),
        NumericArgument(price_per_kwh, NONNEGATIVE),
        NumericArgument(utilization, SHARE),
        NumericArgument(hours, NONNEGATIVE, HOURS_PER_MONTH),
        NumericArgument(idle_fraction, SHARE_OR_ZERO, 0.0),
    )
    it_kw, pue, price, utilization, hours, idle = call.values
    full = engine.energy_full_cost(engine.wall_power(it_kw, pue), hours, price)
    return call.result(engine.energy_cost(full, utilization, idle))


@worksheet_function
def token_cost(
    total_cost, capacity_tokens, utilization, yield_rate=1.0, per_tokens=PER_MILLION
):
    """Return the cost of ``per_tokens`` good tokens: C(U) / (K * U * Y) * per_tokens.

    Utilization or yield of exactly 0, or a capacity of 0, leaves no good tokens and
    gives ``#DIV/0!``.
    """
    call = ElementwiseCall(
        NumericArgument(total_cost, NONNEGATIVE),
        NumericArgument(capacity_tokens, NONNEGATIVE),
        NumericArgument(utilization, SHARE_OR_ZERO),
        NumericArgument(yield_rate, SHARE_OR_ZERO, 1.0),
        NumericArgument(per_tokens, POSITIVE, PER_MILLION),
    )
    total, capacity, utilization, yield_rate, per_tokens = call.values
    per_token = engine.cost_per_good_token(total, capacity, utilization, yield_rate)
    return call.result(engine.per_block(per_token, per_tokens), not_finite=DIV0)


@worksheet_function
def token_cost_floor(full_utilization_cost, capacity_tokens, per_tokens=PER_MILLION):
    """Return the floor, C(1) / K * per_tokens: the cost at full utilization and yield."""
    call = ElementwiseCall(
        NumericArgument(full_utilization_cost, NONNEGATIVE),
        NumericArgument(capacity_tokens, NONNEGATIVE),
        NumericArgument(per_tokens, POSITIVE, PER_MILLION),
    )
    full_cost, capacity, per_tokens = call.values
    floor = engine.cost_floor(full_cost, capacity)
    return call.result(engine.per_block(floor, per_tokens), not_finite=DIV0)


@worksheet_function
def capacity_variance(fixed_cost, utilization, idle_energy_cost=0.0):
    """Return the cost of idle capacity: (F + i * E_full) * (1 - U)."""
    call = ElementwiseCall(
        NumericArgument(fixed_cost, NONNEGATIVE),
        NumericArgument(utilization, SHARE),
        NumericArgument(idle_energy_cost, NONNEGATIVE, 0.0),
    )
    return call.result(engine.capacity_variance(*call.values))


@worksheet_function
def yield_loss(full_utilization_cost, utilization, yield_rate):
    """Return the cost of scrapped tokens: U * (1 - Y) * C(1)."""
    call = ElementwiseCall(
        NumericArgument(full_utilization_cost, NONNEGATIVE),
        NumericArgument(utilization, SHARE),
        NumericArgument(yield_rate, SHARE),
    )
    return call.result(engine.yield_loss(*call.values))


@worksheet_function
def crossover_utilization(
    fixed_cost,
    full_energy_cost,
    capacity_tokens,
    yield_rate,
    api_price,
    idle_fraction=0.0,
    per_tokens=PER_MILLION,
):
    """Return U*, the utilization where a good token costs ``api_price`` per ``per_tokens``.

    U* = (F + i * E_full) / (P * K * Y - (1 - i) * E_full) with P the price per
    token. ``#N/A`` where the factory never beats the price: the denominator is
    <= 0 or U* > 1.
    """
    call = ElementwiseCall(
        NumericArgument(fixed_cost, NONNEGATIVE),
        NumericArgument(full_energy_cost, NONNEGATIVE),
        NumericArgument(capacity_tokens, NONNEGATIVE),
        NumericArgument(yield_rate, SHARE),
        NumericArgument(api_price, NONNEGATIVE),
        NumericArgument(idle_fraction, SHARE_OR_ZERO, 0.0),
        NumericArgument(per_tokens, POSITIVE, PER_MILLION),
    )
    fixed, full_energy, capacity, yield_rate, api_price, idle, per_tokens = call.values
    price_per_token = engine.per_single_token(api_price, per_tokens)
    crossover = engine.crossover_utilization(
        fixed, full_energy, capacity, yield_rate, price_per_token, idle
    )
    return call.result(crossover, not_finite=NA)
