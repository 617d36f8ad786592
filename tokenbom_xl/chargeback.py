"""Chargeback: each period's cost C(U) charged to the business units that used the factory.

Capacity is measured in accelerator-seconds, ``S = accelerators x 3,600 x hours``, so
that models of different sizes share one yardstick. A good token of model ``m`` keeps
``1 / (t_m x Y_m)`` accelerator-seconds busy, its share of scrapped tokens included,
where ``t_m`` is the model's tokens per second per accelerator and ``Y_m`` its yield.

Utilization comes from the usage: a period's ``U`` is its busy accelerator-seconds
divided by ``S``, and its cost is ``C(U) = F + E(U)``. The scenario's own utilization
is the planning figure of the BOM sheets; chargeback never uses it. Usage that needs
more than ``S`` in a period is rejected.

Per period and business unit ``b`` (busy share ``u_b``, reserved share ``r_b``):

- usage charge: ``busy seconds x C(1) / S``. These add up to ``U x C(1) = A + L``.
- capacity variance: ``V = (F + i x E_full) x (1 - U)`` goes to reserved-but-unused
  capacity ``q_b = max(r_b - u_b, 0)``. With ``D = max(sum q, 1 - U)``, unit ``b``
  pays ``V x q_b / D``. The rest, ``V x (D - sum q) / D``, is idle capacity that no
  business unit reserved.
- unreserved idle: that rest goes to the central line (policy ``central``), or to the
  business units in proportion to their busy seconds (policy ``spread-by-usage``).
  In a period with no usage at all, it goes to the central line under either policy.

Every amount is then rounded to cents by largest remainder: the period's line totals
add up to ``C(U)`` rounded to cents, and each line's three parts add up to its total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tokenbom_xl.engine import SECONDS_PER_HOUR, component_costs, energy_cost
from tokenbom_xl.errors import InputError
from tokenbom_xl.rounding import (
    MAX_AMOUNT,
    largest_remainder,
    largest_remainder_rows,
    to_cents,
)
from tokenbom_xl.scenario import COMPONENTS, ModelDefinition, Scenario, serving_models
from tokenbom_xl.usage import RESERVED_TOTAL_TOLERANCE, UsageData, usage_from_range

__all__ = [
    "CHARGEBACK_COLUMNS",
    "ChargebackResult",
    "chargeback_table",
    "compute_chargeback",
    "model_index",
    "parameter_pairs",
]

# Busy time may exceed capacity by this relative amount (float noise) and is then
# taken as exactly full.
CAPACITY_TOLERANCE = 1e-9

# Columns of the chargeback CSV and of the CHARGEBACK worksheet function.
CHARGEBACK_COLUMNS = (
    "period",
    "business_unit",
    "busy_share",
    "reserved_share",
    "usage_charge",
    "capacity_variance",
    "unreserved_idle",
    "total",
)


@dataclass(frozen=True)
class ChargebackResult:
    """Chargeback per period and per consumer line, exact and in cents.

    ``lines`` has one row per period and consumer (each business unit of the period,
    then the central line unless a business unit has its name), sorted by period and
    business unit. Exact amounts are floats; columns ending in ``_cents`` are the
    rounded amounts as integers.
    """

    scenario: Scenario
    models: list[ModelDefinition]
    seconds_capacity: float  # S, accelerator-seconds per period
    full_cost: float  # C(1)
    idle_basis: float  # F + i x E_full, the cost that idles with the factory
    periods: pd.DataFrame
    lines: pd.DataFrame
    # Model index of each usage row, -1 on reservation-only rows.
    usage_model: np.ndarray
    usage_busy_seconds: np.ndarray  # busy accelerator-seconds of each usage row

    def table_rows(self) -> list[list[Any]]:
        """Return the lines as a 2-D list with a header row and money rounded to cents."""
        lines = self.lines
        rows: list[list[Any]] = [list(CHARGEBACK_COLUMNS)]
        money_columns = (
            "usage_charge",
            "capacity_variance",
            "unreserved_idle",
            "total",
        )
        cents = {
            name: lines[f"{name}_cents"].to_numpy() / 100.0 for name in money_columns
        }
        for index in range(len(lines)):
            rows.append(
                [
                    lines["period"].iat[index],
                    lines["business_unit"].iat[index],
                    float(lines["busy_share"].iat[index]),
                    float(lines["reserved_share"].iat[index]),
                    float(cents["usage_charge"][index]),
                    float(cents["capacity_variance"][index]),
                    float(cents["unreserved_idle"][index]),
                    float(cents["total"][index]),
                ]
            )
        return rows


def model_index(scenario: Scenario, usage: UsageData) -> np.ndarray:
    """Return each usage row's index into the scenario's models (-1 where no model).

    Without [[models]] the factory serves one model, and the usage may call it by any
    one name.

    Raises:
        InputError: a model the scenario does not define, naming the file and row.
    """
    models = serving_models(scenario)
    names = usage.model
    priced = names != ""
    index = np.full(len(usage), -1, dtype=np.int64)
    if not scenario.models:
        distinct = pd.unique(names[priced])
        if len(distinct) > 1:
            second = int(np.argmax(priced & (names == distinct[1])))
            raise InputError(
                f"{usage.source}: row {int(usage.row[second])}, column model: a second model {distinct[1]!r} "
                f"(after {distinct[0]!r}) but the scenario defines no [[models]]; add a [[models]] table "
                "with each model's tokens_per_second and yield_rate"
            )
        index[priced] = 0
        return index
    lookup = {model.name: number for number, model in enumerate(models)}
    mapped = np.array(
        [lookup.get(name, -2) if name != "" else -1 for name in usage.model_labels],
        dtype=np.int64,
    )
    index = mapped[usage.model_code]
    unknown = np.flatnonzero(index == -2)
    if len(unknown):
        bad = int(unknown[0])
        known = ", ".join(repr(model.name) for model in models)
        raise InputError(
            f"{usage.source}: row {int(usage.row[bad])}, column model: unknown model {names[bad]!r}; "
            f"use one of the scenario's models ({known}) or add it to [[models]]"
        )
    return index


def check_period_cost(scenario: Scenario, full_cost: float) -> None:
    """Reject a scenario whose period cost at full utilization, C(1), has no exact cents.

    Every charge and modelled cost of a period is at most C(1), so this one check
    keeps them all within :data:`MAX_AMOUNT`.

    Raises:
        InputError: C(1) is not finite or is above MAX_AMOUNT.
    """
    if full_cost <= MAX_AMOUNT:
        return
    raise InputError(
        f"scenario {scenario.name!r}: the cost of one period at full utilization is "
        f"{full_cost:,.2f}, above {MAX_AMOUNT:,.2f}, the largest amount kept exact to "
        "the cent; check the scenario's prices and quantities"
    )


def compute_chargeback(scenario: Scenario, usage: UsageData) -> ChargebackResult:
    """Charge each usage period's cost C(U) to its business units.

    The module docstring gives the rules for each part of a charge.

    Raises:
        InputError: an unknown model, a business unit with two different reserved
            shares in one period, reserved shares over 1 in a period, usage that
            needs more accelerator-seconds than the factory has, or a period cost
            above MAX_AMOUNT.
    """
    models = serving_models(scenario)
    components = component_costs(scenario)
    seconds_capacity = (
        scenario.accelerators * SECONDS_PER_HOUR * scenario.hours_per_period
    )
    full_cost = components.fixed + components.energy_full
    idle_basis = components.fixed + components.idle_energy
    check_period_cost(scenario, full_cost)

    # Busy accelerator-seconds of each usage row.
    row_model = model_index(scenario, usage)
    seconds_per_token = np.array(
        [1.0 / (m.tokens_per_second * m.yield_rate) for m in models] + [0.0]
    )
    # Index -1 (no model) picks the trailing 0.
    busy = usage.good_tokens * seconds_per_token[row_model]

    lines = _consumer_lines(scenario, usage, busy)
    periods = _period_totals(lines, usage, seconds_capacity)

    # Capacity variance goes to reserved-but-unused shares, and the rest is
    # unreserved idle.
    period_of_line = lines["period_index"].to_numpy()
    utilization = periods["utilization"].to_numpy()
    busy_share = lines["busy_seconds"].to_numpy() / seconds_capacity
    reserved = lines["reserved_share"].to_numpy()
    unused = np.maximum(reserved - busy_share, 0.0)
    unused_total = np.bincount(period_of_line, weights=unused, minlength=len(periods))
    idle_share = 1.0 - utilization
    variance = idle_basis * idle_share
    denominator = np.maximum(unused_total, idle_share)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance_per_share = np.where(denominator > 0, variance / denominator, 0.0)
        rest = np.where(
            denominator > 0, variance * (denominator - unused_total) / denominator, 0.0
        )

    # The three parts of each line's charge.
    usage_charge = lines["busy_seconds"].to_numpy() * (full_cost / seconds_capacity)
    capacity_variance = unused * variance_per_share[period_of_line]
    central = lines["central"].to_numpy()
    spread = scenario.chargeback.unreserved_idle == "spread-by-usage"
    spread_period = spread & (utilization > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        usage_weight = np.where(
            utilization[period_of_line] > 0,
            busy_share / utilization[period_of_line],
            0.0,
        )
    unreserved_idle = np.where(
        spread_period[period_of_line],
        rest[period_of_line] * usage_weight,
        np.where(central, rest[period_of_line], 0.0),
    )
    total = usage_charge + capacity_variance + unreserved_idle

    # Round to cents: line totals add up to each period's C(U) in cents, and each
    # line's parts add up to its total.
    period_cost = components.fixed + np.asarray(
        energy_cost(components.energy_full, utilization, components.idle_fraction),
        dtype=np.float64,
    )
    period_cents = to_cents(period_cost)
    total_cents = largest_remainder(total, period_of_line, period_cents)
    parts = np.column_stack([usage_charge, capacity_variance, unreserved_idle])
    parts_cents = largest_remainder_rows(parts, total_cents)

    lines = lines.assign(
        busy_share=busy_share,
        unused_share=unused,
        usage_charge=usage_charge,
        capacity_variance=capacity_variance,
        unreserved_idle=unreserved_idle,
        total=total,
        usage_charge_cents=parts_cents[:, 0],
        capacity_variance_cents=parts_cents[:, 1],
        unreserved_idle_cents=parts_cents[:, 2],
        total_cents=total_cents,
    )
    periods = periods.assign(
        total_cost=period_cost,
        total_cost_cents=period_cents,
        usage_charges=np.bincount(
            period_of_line, weights=usage_charge, minlength=len(periods)
        ),
        capacity_variance=variance,
        reserved_unused_share=unused_total,
        unreserved_idle=rest,
    )
    return ChargebackResult(
        scenario=scenario,
        models=models,
        seconds_capacity=seconds_capacity,
        full_cost=full_cost,
        idle_basis=idle_basis,
        periods=periods,
        lines=lines,
        usage_model=row_model,
        usage_busy_seconds=busy,
    )


def _consumer_lines(
    scenario: Scenario, usage: UsageData, busy: np.ndarray
) -> pd.DataFrame:
    """Group usage rows by period and business unit, and add a central line per period."""
    # Rank the distinct labels so that integer keys sort like (period, unit name).
    period_rank = _ranks(usage.period_labels)
    unit_rank = _ranks(usage.unit_labels)
    units = len(usage.unit_labels)
    key = period_rank[usage.period_code] * units + unit_rank[usage.unit_code]
    line_keys, line_of_row = np.unique(key, return_inverse=True)
    count = len(line_keys)

    reserved = usage.reserved_share
    max_share = np.full(count, -np.inf)
    min_share = np.full(count, np.inf)
    has_share = ~np.isnan(reserved)
    np.maximum.at(max_share, line_of_row[has_share], reserved[has_share])
    np.minimum.at(min_share, line_of_row[has_share], reserved[has_share])
    conflict = np.flatnonzero(np.isfinite(max_share) & (max_share - min_share > 1e-12))
    if len(conflict):
        _reject_conflicting_shares(usage, line_of_row, int(conflict[0]))

    periods_sorted = np.sort(usage.period_labels.astype(str))
    units_sorted = usage.unit_labels[np.argsort(unit_rank)]
    lines = pd.DataFrame(
        {
            "period": periods_sorted[line_keys // units].astype(object),
            "business_unit": units_sorted[line_keys % units],
            "busy_seconds": np.bincount(line_of_row, weights=busy, minlength=count),
            "reserved_share": np.where(np.isfinite(max_share), max_share, 0.0),
        }
    )

    # The central line: one per period, merged into a business unit of the same name.
    central_name = scenario.chargeback.central_line
    lines["central"] = (lines["business_unit"] == central_name).to_numpy()
    lines["order"] = 0
    has_central = set(lines.loc[lines["central"], "period"])
    extra = [period for period in periods_sorted if period not in has_central]
    if extra:
        central = pd.DataFrame(
            {
                "period": np.array(extra, dtype=object),
                "business_unit": central_name,
                "busy_seconds": 0.0,
                "reserved_share": 0.0,
                "central": True,
                "order": 1,
            }
        )
        lines = pd.concat([lines, central], ignore_index=True)
        # Business units in name order, then the central line unless a unit carries it.
        lines = lines.sort_values(["period", "order"], kind="stable")
    lines = lines.drop(columns="order").reset_index(drop=True)
    lines["period_index"] = np.searchsorted(
        periods_sorted, lines["period"].to_numpy(dtype=str)
    )
    return lines


def _ranks(labels: np.ndarray) -> np.ndarray:
    """Return each label's position in sorted order."""
    ranks = np.empty(len(labels), dtype=np.int64)
    ranks[np.argsort(labels.astype(str), kind="stable")] = np.arange(len(labels))
    return ranks


def _reject_conflicting_shares(
    usage: UsageData, line_of_row: np.ndarray, line: int
) -> None:
    rows_with_share = np.flatnonzero(
        (line_of_row == line) & ~np.isnan(usage.reserved_share)
    )
    first = rows_with_share[0]
    second = rows_with_share[
        np.argmax(usage.reserved_share[rows_with_share] != usage.reserved_share[first])
    ]
    raise InputError(
        f"{usage.source}: row {int(usage.row[second])}, column reserved_share: {usage.reserved_share[second]:g} differs "
        f"from {usage.reserved_share[first]:g} on row {int(usage.row[first])} for business unit "
        f"{usage.business_unit[first]!r} in {usage.period[first]}; a unit has one reserved share per period, "
        "so give it once or repeat the same value"
    )


def _period_totals(
    lines: pd.DataFrame, usage: UsageData, seconds_capacity: float
) -> pd.DataFrame:
    """Sum busy time and reserved share per period, rejecting a period over capacity."""
    periods = np.sort(usage.period_labels.astype(str))
    index = lines["period_index"].to_numpy()
    busy = np.bincount(
        index, weights=lines["busy_seconds"].to_numpy(), minlength=len(periods)
    )
    reserved = np.bincount(
        index, weights=lines["reserved_share"].to_numpy(), minlength=len(periods)
    )

    over_reserved = np.flatnonzero(reserved > 1.0 + RESERVED_TOTAL_TOLERANCE)
    if len(over_reserved):
        period = periods[int(over_reserved[0])]
        rows = usage.row[
            (usage.period_labels[usage.period_code] == period)
            & (np.nan_to_num(usage.reserved_share) > 0)
        ]
        row_list = ", ".join(str(int(row)) for row in rows[:8]) + (
            ", ..." if len(rows) > 8 else ""
        )
        raise InputError(
            f"{usage.source}: rows {row_list}, column reserved_share: the reserved shares of {period} add up to "
            f"{reserved[int(over_reserved[0])]:.6g}, more than 1 (100% of capacity); reduce them so they total 1 or less"
        )

    utilization = busy / seconds_capacity
    over_capacity = np.flatnonzero(utilization > 1.0 + CAPACITY_TOLERANCE)
    if len(over_capacity):
        number = int(over_capacity[0])
        period = periods[number]
        raise InputError(
            f"{usage.source}: column good_tokens, period {period}: the usage needs {busy[number]:,.0f} busy "
            f"accelerator-seconds but the factory has {seconds_capacity:,.0f} "
            f"(utilization {utilization[number]:.4f} > 1); check the good tokens of {period}, or the models' "
            "tokens_per_second and yield_rate in the scenario"
        )
    return pd.DataFrame(
        {
            "period": periods,
            "busy_seconds": busy,
            "utilization": np.minimum(utilization, 1.0),
            "reserved_share": reserved,
        }
    )


def component_weights(result: ChargebackResult) -> tuple[np.ndarray, np.ndarray]:
    """Return each component's share of C(1) and of the idle basis F + i x E_full.

    A usage charge is split by the first share, and capacity variance and unreserved
    idle by the second. Summed over a period's lines, the split gives each
    component's cost at that period's U.
    """
    costs = component_costs(result.scenario)
    full = np.array(
        [
            costs.energy_full if key == "energy" else getattr(costs, key)
            for key, _ in COMPONENTS
        ]
    )
    idle = np.array(
        [
            costs.idle_energy if key == "energy" else getattr(costs, key)
            for key, _ in COMPONENTS
        ]
    )
    full_weights = (
        full / result.full_cost if result.full_cost > 0 else np.zeros(len(full))
    )
    idle_weights = (
        idle / result.idle_basis if result.idle_basis > 0 else np.zeros(len(idle))
    )
    return full_weights, idle_weights


def chargeback_table(usage_range: Any, inputs: Any) -> list[list[Any]]:
    """Compute the CHARGEBACK table from Python, raising InputError on invalid input.

    The registered worksheet function is :func:`tokenbom_xl.excel.tables.chargeback`.
    It returns the same table, but it also rejects dates and error values in the
    data, leaves out inputs with an empty value, and returns ``#VALUE!`` with the
    message instead of raising.

    ``usage_range`` is the usage table with its header row (period, business_unit,
    model, good_tokens, reserved_share). ``inputs`` is a two-column range of
    parameter names and values, as on the Inputs sheet. Returns a header row, then one
    row per period and consumer: period, business unit, busy share, reserved share,
    usage charge, capacity variance, unreserved idle and total, with money rounded to
    cents.

    Raises:
        InputError: invalid usage or inputs. The message names the row and column.
    """
    from tokenbom_xl.scenario import scenario_from_parameters

    scenario = scenario_from_parameters(parameter_pairs(inputs), source="inputs")
    usage = usage_from_range(usage_range, source="usage_range")
    return compute_chargeback(scenario, usage).table_rows()


def parameter_pairs(inputs: Any) -> list[tuple[Any, Any]]:
    """Read (name, value) pairs from a range of two or more columns.

    A first row whose name starts with "parameter" is a header and is skipped.
    """
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise InputError(
            "inputs: the range is empty; select the Inputs sheet's parameter names and values"
        )
    pairs = []
    for number, row in enumerate(inputs, start=1):
        if not isinstance(row, (list, tuple)) or len(row) < 2:
            raise InputError(
                f"inputs: row {number}: needs two columns, a parameter name and its value"
            )
        name = row[0]
        if (
            number == 1
            and isinstance(name, str)
            and name.strip().casefold().startswith("parameter")
        ):
            continue
        pairs.append((name, row[1]))
    return pairs


def chargeback_frame(result: ChargebackResult) -> pd.DataFrame:
    """Return the lines as the chargeback CSV table, with money as two-decimal text."""
    from tokenbom_xl.csvout import cents_text

    lines = result.lines
    return pd.DataFrame(
        {
            "period": lines["period"].to_numpy(dtype=object),
            "business_unit": lines["business_unit"].to_numpy(dtype=object),
            "busy_share": _share_text(lines["busy_share"].to_numpy()),
            "reserved_share": _share_text(lines["reserved_share"].to_numpy()),
            "usage_charge": cents_text(lines["usage_charge_cents"].to_numpy()),
            "capacity_variance": cents_text(
                lines["capacity_variance_cents"].to_numpy()
            ),
            "unreserved_idle": cents_text(lines["unreserved_idle_cents"].to_numpy()),
            "total": cents_text(lines["total_cents"].to_numpy()),
        }
    )


def _share_text(shares: np.ndarray) -> list[str]:
    """Format shares of capacity with 12 significant digits (0.2, not 0.19999999999999998)."""
    return [f"{value:.12g}" for value in shares.tolist()]
