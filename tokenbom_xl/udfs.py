"""The Token BOM worksheet functions, registered with xlwings.

- Classic xlwings add-in (Windows): set ``UDF Modules`` to ``tokenbom_xl.udfs`` in
  the ribbon or on the workbook's ``xlwings.conf`` sheet and click Import Functions.
- xlwings Lite, and xlwings Server with ``XLWINGS_ON_SERVER=true``: put
  ``from tokenbom_xl.udfs import *`` in ``main.py``.

``xw.func`` and ``xw.arg`` are whatever xlwings provides on the platform:
the classic add-in's decorators on Windows, the Office.js ones under xlwings Lite and
xlwings Server, and stand-ins that return the function unchanged elsewhere (Linux,
macOS). Importing this module therefore works everywhere and needs no licence key.

Each function's docstring is its description in Excel's function wizard and formula
autocomplete, and each ``doc`` is the help line of one argument. Excel's wizard shows
at most 255 characters of either, and xlwings cuts longer text there. The work
happens in :mod:`tokenbom_xl.excel`, which never raises, so each function here only
forwards its arguments.

Error values: on the Office.js path (xlwings Lite, xlwings Server) "#NUM!" and the
other error texts arrive in Excel as real error values. NOTE: the classic add-in
shows them as text, because classic xlwings (checked with 0.37.8) passes strings to
Excel unchanged.
"""

from __future__ import annotations

import xlwings as xw

from tokenbom_xl.excel import functions, tables

__all__ = [
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

CATEGORY = "Token BOM"  # the function wizard's category (classic add-in only)

# Every argument arrives as a list of rows, so that a column keeps its orientation,
# and an error cell arrives as its text ("#N/A") instead of as an empty cell.
RANGE = {"ndim": 2, "err_to_str": True}

HOURS_DOC = "Hours in the period; empty means 730, a month"
PER_TOKENS_DOC = "Tokens the result is quoted per; empty means 1,000,000 (per million)"
UTILIZATION_DOC = "Busy share of capacity U, greater than 0 and at most 1"
INPUTS_DOC = "Two columns, parameter name and value, as on the Inputs sheet of a generated workbook"


@xw.func(category=CATEGORY)
@xw.arg("accelerators", doc="Number of accelerators in the factory", **RANGE)
@xw.arg(
    "tokens_per_second",
    doc="Output tokens per second of one accelerator at full load",
    **RANGE,
)
@xw.arg("hours", doc=HOURS_DOC, **RANGE)
def token_capacity(accelerators, tokens_per_second, hours=functions.HOURS_PER_MONTH):
    """Returns the theoretical output tokens per period: accelerators x tokens per second x 3,600 x hours."""
    return functions.token_capacity(accelerators, tokens_per_second, hours)


@xw.func(category=CATEGORY)
@xw.arg("accelerators", doc="Number of accelerators", **RANGE)
@xw.arg("unit_price", doc="Purchase price of one accelerator", **RANGE)
@xw.arg("life_months", doc="Depreciation life in whole months", **RANGE)
@xw.arg(
    "salvage",
    doc="Value of one accelerator at the end of its life; empty means 0",
    **RANGE,
)
@xw.arg(
    "method",
    doc='"straight-line" (the default) or "declining-balance" (double declining, then straight-line)',
    **RANGE,
)
@xw.arg(
    "age_months",
    doc="Whole months already depreciated before this one; empty means 0",
    **RANGE,
)
def silicon_cost(
    accelerators,
    unit_price,
    life_months,
    salvage=0.0,
    method="straight-line",
    age_months=0,
):
    """Returns the monthly depreciation charge of the accelerators, which is 0 once the age reaches the life."""
    return functions.silicon_cost(
        accelerators, unit_price, life_months, salvage, method, age_months
    )


@xw.func(category=CATEGORY)
@xw.arg("it_kw", doc="IT power at full load, in kW", **RANGE)
@xw.arg("pue", doc="Power usage effectiveness, at least 1", **RANGE)
@xw.arg("price_per_kwh", doc="Energy price per kWh", **RANGE)
@xw.arg("utilization", doc=UTILIZATION_DOC, **RANGE)
@xw.arg("hours", doc=HOURS_DOC, **RANGE)
@xw.arg(
    "idle_fraction",
    doc="Share of full-load power drawn while idle, 0 to 1; empty means 0",
    **RANGE,
)
def energy_cost(
    it_kw,
    pue,
    price_per_kwh,
    utilization,
    hours=functions.HOURS_PER_MONTH,
    idle_fraction=0.0,
):
    """Returns the energy cost of the period: IT kW x PUE x hours x price x (idle fraction + (1 - idle fraction) x U)."""
    return functions.energy_cost(
        it_kw, pue, price_per_kwh, utilization, hours, idle_fraction
    )


@xw.func(category=CATEGORY)
@xw.arg("total_cost", doc="Total cost of the period at this utilization, C(U)", **RANGE)
@xw.arg(
    "capacity_tokens",
    doc="Theoretical tokens per period, K (see TOKEN_CAPACITY)",
    **RANGE,
)
@xw.arg("utilization", doc=UTILIZATION_DOC, **RANGE)
@xw.arg(
    "yield_rate",
    doc="Good share of the tokens made Y, greater than 0 and at most 1; empty means 1",
    **RANGE,
)
@xw.arg("per_tokens", doc=PER_TOKENS_DOC, **RANGE)
def token_cost(
    total_cost,
    capacity_tokens,
    utilization,
    yield_rate=1.0,
    per_tokens=functions.PER_MILLION,
):
    """Returns the cost per good token, quoted per per_tokens tokens: C(U) / (K x U x Y) x per_tokens."""
    return functions.token_cost(
        total_cost, capacity_tokens, utilization, yield_rate, per_tokens
    )


@xw.func(category=CATEGORY)
@xw.arg(
    "full_utilization_cost",
    doc="Total cost of the period at full utilization, C(1)",
    **RANGE,
)
@xw.arg("capacity_tokens", doc="Theoretical tokens per period, K", **RANGE)
@xw.arg("per_tokens", doc=PER_TOKENS_DOC, **RANGE)
def token_cost_floor(
    full_utilization_cost, capacity_tokens, per_tokens=functions.PER_MILLION
):
    """Returns the floor, the cost per token at full utilization and perfect yield: C(1) / K x per_tokens."""
    return functions.token_cost_floor(
        full_utilization_cost, capacity_tokens, per_tokens
    )


@xw.func(category=CATEGORY)
@xw.arg("fixed_cost", doc="The six non-energy components of the period, F", **RANGE)
@xw.arg("utilization", doc=UTILIZATION_DOC, **RANGE)
@xw.arg(
    "idle_energy_cost",
    doc="Energy drawn even when idle, idle fraction x full-load energy cost; empty means 0",
    **RANGE,
)
def capacity_variance(fixed_cost, utilization, idle_energy_cost=0.0):
    """Returns the cost of idle capacity in money: (F + idle energy cost) x (1 - U)."""
    return functions.capacity_variance(fixed_cost, utilization, idle_energy_cost)


@xw.func(category=CATEGORY)
@xw.arg(
    "full_utilization_cost",
    doc="Total cost of the period at full utilization, C(1)",
    **RANGE,
)
@xw.arg("utilization", doc=UTILIZATION_DOC, **RANGE)
@xw.arg(
    "yield_rate",
    doc="Good share of the tokens made Y, greater than 0 and at most 1",
    **RANGE,
)
def yield_loss(full_utilization_cost, utilization, yield_rate):
    """Returns the cost of scrapped tokens in money: U x (1 - Y) x C(1)."""
    return functions.yield_loss(full_utilization_cost, utilization, yield_rate)


@xw.func(category=CATEGORY)
@xw.arg("fixed_cost", doc="The six non-energy components of the period, F", **RANGE)
@xw.arg(
    "full_energy_cost",
    doc="Energy cost of the period at full utilization, E_full",
    **RANGE,
)
@xw.arg("capacity_tokens", doc="Theoretical tokens per period, K", **RANGE)
@xw.arg(
    "yield_rate",
    doc="Good share of the tokens made Y, greater than 0 and at most 1",
    **RANGE,
)
@xw.arg("api_price", doc="Price of a comparable API per per_tokens tokens", **RANGE)
@xw.arg(
    "idle_fraction",
    doc="Share of full-load power drawn while idle, 0 to 1; empty means 0",
    **RANGE,
)
@xw.arg(
    "per_tokens",
    doc="Tokens the API price is quoted per; empty means 1,000,000 (per million)",
    **RANGE,
)
def crossover_utilization(
    fixed_cost,
    full_energy_cost,
    capacity_tokens,
    yield_rate,
    api_price,
    idle_fraction=0.0,
    per_tokens=functions.PER_MILLION,
):
    """Returns the utilization U* above which a manufactured token costs less than the API price, or #N/A where it never does."""
    return functions.crossover_utilization(
        fixed_cost,
        full_energy_cost,
        capacity_tokens,
        yield_rate,
        api_price,
        idle_fraction,
        per_tokens,
    )


@xw.func(category=CATEGORY)
@xw.arg("inputs", doc=INPUTS_DOC, **RANGE)
def token_bom(inputs):
    """Returns the BOM table: each component, total, floor, yield loss and capacity variance, with monthly cost, cost per million good tokens and share of total."""
    return tables.token_bom(inputs)


@xw.func(category=CATEGORY)
@xw.arg(
    "component", doc='One component, such as "Silicon" or "Model Lifecycle"', **RANGE
)
def tbm_map(component):
    """Returns the TBM destinations of a component, one row each: cost pool, resource tower, sub-tower, solution and split %."""
    return tables.tbm_map(component)


@xw.func(category=CATEGORY)
@xw.arg(
    "usage_range",
    doc="Usage table with its header row: period (text, YYYY-MM), business_unit, model, good_tokens, reserved_share",
    **RANGE,
)
@xw.arg("inputs", doc=INPUTS_DOC, **RANGE)
def chargeback(usage_range, inputs):
    """Returns the chargeback with a header row, then per period and consumer: busy and reserved share, usage charge, capacity variance, unreserved idle and total, rounded to cents that add up to each period's C(U)."""
    return tables.chargeback(usage_range, inputs)


@xw.func(category=CATEGORY)
@xw.arg(
    "ledger_range",
    doc="GL export with its header row: period (text, YYYY-MM), account, cost_centre, amount, description; "
    "enter codes as text to keep leading zeros",
    **RANGE,
)
@xw.arg(
    "map_range",
    doc="Account mapping with its header row: match (exact, prefix or range), account, account_to, component",
    **RANGE,
)
@xw.arg("inputs", doc=INPUTS_DOC, **RANGE)
def reconcile(ledger_range, map_range, inputs):
    """Returns the GL reconciliation with a header row, then per period each component and Unmapped: booked, modelled at the Inputs utilization, variance, variance % and flag."""
    return tables.reconcile(ledger_range, map_range, inputs)
