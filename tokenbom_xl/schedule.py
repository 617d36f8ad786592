"""The Token BOM over time: one BOM per month of a horizon, from an asset register.

Cost falls even in an unchanged factory: assets finish depreciating, software raises
throughput on the same hardware, energy prices move. :func:`compute_schedule`
re-strikes the BOM for every month of a horizon from

- the asset register (:mod:`tokenbom_xl.register`, depreciated by
  :mod:`tokenbom_xl.depreciation`): accelerator rows give Silicon and the
  accelerators in service, fabric rows give Fabric, facility fit-out rows add their
  depreciation to Facility;
- the period drivers (:mod:`tokenbom_xl.drivers`): throughput, utilization, yield,
  energy price and power, lifecycle cadence and the API price, month by month;
- the scenario for everything else (facility running cost, Platform, Operations, the
  idle-power fraction, hours per period).

Per period, with N accelerators in service, e the full-load energy cost of one
accelerator and the notation of :mod:`tokenbom_xl.engine`::

    D   depreciation: Silicon + Fabric + facility fit-out
    O   other fixed cost: F - D (facility running cost, Platform, Model Lifecycle, Operations)
    c   = (D + O + N * e * (i + (1 - i) * U)) / (N * tokens/s * 3,600 * h * U * Y)

The change in c from one period to the next is split by cause. One input at a time
is moved from the previous period's value to the current one, in the order of
:data:`CAUSES`, and each part is c after that step less c before it. The parts
therefore add up to the change exactly, up to floating-point rounding. The order
decides how a joint change is attributed, so it is fixed and schedules compare.

An asset counts towards capacity from its purchase month on, also after it is fully
depreciated. Every array here is vectorized over assets and periods, and nothing here
depends on Excel.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from tokenbom_xl import engine
from tokenbom_xl.depreciation import AssetTable, depreciation_by_age
from tokenbom_xl.drivers import Drivers, merge_drivers, path_values
from tokenbom_xl.errors import InputError
from tokenbom_xl.periods import (
    FIRST_MONTH,
    LAST_MONTH,
    fiscal_year_of,
    month_label,
    quarter_label,
)
from tokenbom_xl.register import Asset
from tokenbom_xl.restrike import Recovery, Restrike, fixed_rate_recovery
from tokenbom_xl.scenario import (
    COMPONENTS,
    EnergyPhysical,
    FabricCapex,
    FabricShare,
    Scenario,
)

__all__ = [
    "CAUSES",
    "MAX_MONTHS",
    "Horizon",
    "QuarterlyRollup",
    "Schedule",
    "compute_schedule",
]

logger = logging.getLogger(__name__)

# Causes of the change in cost per good token, in the order they are substituted.
CAUSES: tuple[tuple[str, str], ...] = (
    ("depreciation", "Depreciation"),
    ("throughput", "Throughput"),
    ("energy_price", "Energy price"),
    ("utilization", "Utilization"),
    ("yield", "Yield"),
    ("fleet", "Accelerators in service"),
    ("other", "Other fixed cost"),
)

# A message lists at most this many repeated asset_id values and counts the rest.
MAX_LISTED_IDS = 30

# The message for asset_id values in both the scenario and the register file lists at
# most this many and counts the rest.
MAX_LISTED_SHARED_IDS = 5

# Fifty years, more than twice the longest depreciation life (240 months); a longer
# horizon is rejected as a typing error.
MAX_MONTHS = 600


# ---------------------------------------------------------------------------
# Horizon


@dataclass(frozen=True)
class Horizon:
    """Consecutive months from ``start`` (a month index), with fiscal years from a start month."""

    start: int
    months: int
    fiscal_year_start_month: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.months <= MAX_MONTHS:
            raise InputError(
                f"months = {self.months} is invalid; give a horizon of 1 to {MAX_MONTHS} months"
            )
        if self.start < FIRST_MONTH:
            raise InputError(
                f"the horizon starts in {month_label(self.start)}, before 0001-01, the first "
                "month a schedule can show; start it in 0001-01 or later"
            )
        last = self.start + self.months - 1
        if last > LAST_MONTH:
            # The message names no month after 9999-12, which has no YYYY-MM label.
            room = LAST_MONTH - self.start + 1
            raise InputError(
                f"months = {self.months} from {month_label(self.start)} runs past 9999-12, "
                "the last month a schedule can show; start the horizon in "
                f"{month_label(LAST_MONTH - self.months + 1)} or earlier, or give at most "
                f"{room} month{'s' if room != 1 else ''}"
            )

    @property
    def indices(self) -> NDArray[np.int64]:
        """Month index of each period."""
        return np.arange(self.start, self.start + self.months, dtype=np.int64)

    @property
    def labels(self) -> list[str]:
        """Each period as ``"YYYY-MM"``."""
        return [month_label(index) for index in self.indices]

    @property
    def fiscal_years(self) -> NDArray[np.int64]:
        """The year in which each period's fiscal year begins."""
        return np.array(
            [
                fiscal_year_of(index, self.fiscal_year_start_month)
                for index in self.indices
            ],
            dtype=np.int64,
        )

    @property
    def quarters(self) -> list[tuple[str, int, int]]:
        """Fiscal quarters as (label, first period, period after the last), in order."""
        labels = [
            quarter_label(index, self.fiscal_year_start_month) for index in self.indices
        ]
        quarters: list[tuple[str, int, int]] = []
        for position, label in enumerate(labels):
            if quarters and quarters[-1][0] == label:
                quarters[-1] = (label, quarters[-1][1], position + 1)
            else:
                quarters.append((label, position, position + 1))
        return quarters


# ---------------------------------------------------------------------------
# The schedule


@dataclass(frozen=True)
class QuarterlyRollup:
    """Quarterly totals of a schedule.

    Rates are quarter totals divided by quarter totals, in money per token.
    """

    labels: list[str]
    first: NDArray[np.int64]  # first period of each quarter
    stop: NDArray[np.int64]  # period after the last
    components: dict[str, NDArray[np.float64]]
    total: NDArray[np.float64]
    full_cost: NDArray[np.float64]
    capacity: NDArray[np.float64]
    good_tokens: NDArray[np.float64]
    cost_per_good_token: NDArray[np.float64]
    floor: NDArray[np.float64]
    exit_rate: NDArray[np.float64]  # cost per good token of the quarter's last period
    # Shape (causes, quarters): the monthly parts summed over the quarter.
    decay: NDArray[np.float64]
    over_recovery: NDArray[np.float64]
    balance_carried_forward: NDArray[np.float64]


@dataclass(frozen=True)
class Schedule:
    """A BOM for every period of a horizon. Arrays are per period unless named otherwise.

    Money is per period, per-token figures are per token (multiply by 1e6 for per
    million), and decay figures are NaN in the first period, which has no predecessor.
    """

    scenario: Scenario
    horizon: Horizon
    table: AssetTable
    restrike: Restrike
    # True when energy comes from kW and a price per kWh, False when it is a stated
    # cost per accelerator.
    energy_priced: bool
    # The paths given. A driver without a path follows the scenario.
    driver_paths: Drivers

    # Depreciation per asset and period, quantity included, and per asset before the
    # start of the horizon.
    depreciation: NDArray[np.float64]
    opening_accumulated: NDArray[np.float64]
    # Tokens per unit before the horizon (units-of-production rows, else 0).
    opening_usage: NDArray[np.float64]

    # Drivers
    accelerators: NDArray[np.float64]
    tokens_per_second: NDArray[np.float64]
    utilization: NDArray[np.float64]
    yield_rate: NDArray[np.float64]
    energy_price_per_kwh: NDArray[np.float64]  # NaN when energy is stated
    wall_kw_per_accelerator: NDArray[np.float64]  # NaN when energy is stated
    # Full-load energy cost of one accelerator.
    energy_per_accelerator: NDArray[np.float64]
    lifecycle_cycles_per_year: NDArray[np.float64]
    lifecycle_cost_per_cycle: NDArray[np.float64]
    api_price_per_million: NDArray[np.float64]

    # Components
    silicon: NDArray[np.float64]
    fabric: NDArray[np.float64]
    fit_out: NDArray[np.float64]  # facility fit-out depreciation, part of Facility
    facility: NDArray[np.float64]
    energy: NDArray[np.float64]  # E(U)
    energy_full: NDArray[np.float64]
    platform: NDArray[np.float64]
    model_lifecycle: NDArray[np.float64]
    operations: NDArray[np.float64]

    # The factory
    fixed: NDArray[np.float64]  # F
    depreciation_total: NDArray[np.float64]  # D
    other_fixed: NDArray[np.float64]  # O = F - D
    total: NDArray[np.float64]  # C(U)
    full_cost: NDArray[np.float64]  # C(1)
    capacity: NDArray[np.float64]  # K
    tokens_made_per_accelerator: NDArray[np.float64]
    tokens_made: NDArray[np.float64]  # K * U
    good_tokens: NDArray[np.float64]
    cost_per_good_token: NDArray[np.float64]
    floor: NDArray[np.float64]
    yield_loss_per_token: NDArray[np.float64]
    capacity_variance: NDArray[np.float64]  # V, money
    capacity_variance_per_token: NDArray[np.float64]

    # Decay and re-strike
    # Shape (causes - 1, periods): c after substituting causes 1..k.
    decay_steps: NDArray[np.float64]
    decay: NDArray[np.float64]  # (causes, periods)
    recovery: Recovery

    @cached_property
    def quarterly(self) -> QuarterlyRollup:
        """The schedule rolled up by fiscal quarter."""
        return _quarterly(self)

    @property
    def labels(self) -> list[str]:
        return self.horizon.labels

    @property
    def change(self) -> NDArray[np.float64]:
        """Change in cost per good token from the previous period; NaN in the first."""
        change = np.full(self.horizon.months, np.nan)
        change[1:] = np.diff(self.cost_per_good_token)
        return change

    def component_rows(self) -> list[tuple[str, str, NDArray[np.float64]]]:
        """Return (key, display name, cost per period) for the seven components in BOM order."""
        values = {
            "silicon": self.silicon,
            "fabric": self.fabric,
            "facility": self.facility,
            "energy": self.energy,
            "platform": self.platform,
            "model_lifecycle": self.model_lifecycle,
            "operations": self.operations,
        }
        return [(key, label, values[key]) for key, label in COMPONENTS]


def compute_schedule(
    scenario: Scenario,
    *,
    start: int,
    months: int,
    assets: Sequence[Asset] | None = None,
    drivers: Drivers | None = None,
) -> Schedule:
    """Compute the BOM for each month of ``months`` months from month index ``start``.

    The register is the scenario's ``[[assets]]`` followed by ``assets`` (a CSV
    register). Without either, the scenario's ``[silicon]`` becomes one accelerator
    row bought ``age_months`` before ``start``. Driver paths in ``drivers`` replace the
    scenario's ``[drivers]`` path of the same name.

    Raises:
        InputError: an asset_id repeats, no accelerator is in service in some period,
            the horizon is out of range or outside 0001-01 to 9999-12, [silicon]
            age_months puts the purchase before 0001-01, or an energy path lacks its
            other half.
    """
    restrike = scenario.restrike or Restrike()
    if not scenario.assets and not assets:
        # Checked before the horizon, so that a start before 0001-01 that age_months
        # moves further back is reported with the age and its fix.
        _check_silicon_age(scenario, start)
    horizon = Horizon(
        start=start,
        months=months,
        fiscal_year_start_month=restrike.fiscal_year_start_month,
    )
    register = _combine_registers(scenario, assets, start)
    table = AssetTable.from_assets(register)
    paths = merge_drivers(scenario.drivers, drivers)
    priced = _energy_is_priced(scenario, paths)
    periods = horizon.indices

    accelerators = table.accelerators_in_service(periods)
    _require_accelerators(accelerators, periods, table)

    hours = scenario.hours_per_period
    tokens_per_second = path_values(
        paths.tokens_per_second, scenario.tokens_per_second, periods
    )
    utilization = path_values(paths.utilization, scenario.utilization, periods)
    yield_rate = path_values(paths.yield_rate, scenario.yield_rate, periods)

    by_age = depreciation_by_age(table, _usage_by_age(table, scenario, paths))
    depreciation, opening_accumulated = _depreciation_in_horizon(table, by_age, periods)
    opening_usage = _opening_usage(table, scenario, paths, start)

    components = engine.component_costs(scenario)
    silicon = depreciation[table.classes == "accelerator"].sum(axis=0)
    fit_out = depreciation[table.classes == "facility-fit-out"].sum(axis=0)
    fabric = _fabric(scenario, table, depreciation, silicon)
    facility = components.facility + fit_out

    energy_price, wall_kw, energy_per_accelerator = _energy_drivers(
        scenario, paths, priced, periods
    )
    energy_full = accelerators * energy_per_accelerator
    idle = components.idle_fraction
    energy = engine.energy_cost(energy_full, utilization, idle)

    cycles = path_values(
        paths.lifecycle_cycles_per_year,
        scenario.model_lifecycle.cycles_per_year,
        periods,
    )
    cost_per_cycle = path_values(
        paths.lifecycle_cost_per_cycle, scenario.model_lifecycle.cost_per_cycle, periods
    )
    model_lifecycle = (
        cost_per_cycle * cycles / 12.0 + scenario.model_lifecycle.labour_monthly
    )
    platform = np.full(months, components.platform)
    operations = np.full(months, components.operations)

    fixed = silicon + fabric + facility + platform + model_lifecycle + operations
    depreciation_total = silicon + fabric + fit_out
    other_fixed = fixed - depreciation_total
    total = fixed + energy
    full_cost = fixed + energy_full
    capacity = engine.token_capacity(accelerators, tokens_per_second, hours)
    good = engine.good_tokens(capacity, utilization, yield_rate)
    floor = engine.cost_floor(full_cost, capacity)
    variance = engine.capacity_variance(fixed, utilization, idle * energy_full)
    cost_per_good_token = engine.cost_per_good_token(
        total, capacity, utilization, yield_rate
    )

    inputs = {
        "depreciation": depreciation_total,
        "throughput": tokens_per_second,
        "energy_price": energy_per_accelerator,
        "utilization": utilization,
        "yield": yield_rate,
        "fleet": accelerators,
        "other": other_fixed,
    }
    decay_steps, decay = _decay(inputs, cost_per_good_token, idle, hours)

    recovery = fixed_rate_recovery(
        total,
        good,
        horizon.fiscal_years,
        basis=restrike.fixed_rate_basis,
        opening_balance=restrike.opening_balance,
    )

    logger.info(
        "computed a schedule of %d months from %s over %d assets",
        months,
        month_label(start),
        len(table),
    )
    return Schedule(
        scenario=scenario,
        horizon=horizon,
        table=table,
        restrike=restrike,
        energy_priced=priced,
        driver_paths=paths,
        depreciation=depreciation,
        opening_accumulated=opening_accumulated,
        opening_usage=opening_usage,
        accelerators=accelerators,
        tokens_per_second=tokens_per_second,
        utilization=utilization,
        yield_rate=yield_rate,
        energy_price_per_kwh=energy_price,
        wall_kw_per_accelerator=wall_kw,
        energy_per_accelerator=energy_per_accelerator,
        lifecycle_cycles_per_year=cycles,
        lifecycle_cost_per_cycle=cost_per_cycle,
        api_price_per_million=path_values(
            paths.api_price_per_million, scenario.api_price_per_million, periods
        ),
        silicon=silicon,
        fabric=fabric,
        fit_out=fit_out,
        facility=facility,
        energy=energy,
        energy_full=energy_full,
        platform=platform,
        model_lifecycle=model_lifecycle,
        operations=operations,
        fixed=fixed,
        depreciation_total=depreciation_total,
        other_fixed=other_fixed,
        total=total,
        full_cost=full_cost,
        capacity=capacity,
        tokens_made_per_accelerator=engine.token_capacity(1.0, tokens_per_second, hours)
        * utilization,
        tokens_made=capacity * utilization,
        good_tokens=good,
        cost_per_good_token=cost_per_good_token,
        floor=floor,
        yield_loss_per_token=floor * (1.0 - yield_rate) / yield_rate,
        capacity_variance=variance,
        capacity_variance_per_token=variance / good,
        decay_steps=decay_steps,
        decay=decay,
        recovery=recovery,
    )


def _depreciation_in_horizon(
    table: AssetTable, by_age: NDArray[np.float64], periods: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Slice each asset's depreciation by age to the horizon, quantity included.

    Returns the charges (assets x periods) and what each asset was charged before the
    first period.
    """
    ages = by_age.shape[1]
    age = periods[None, :] - table.purchase[:, None]
    in_range = (age >= 0) & (age < ages)
    per_unit = np.where(
        in_range, np.take_along_axis(by_age, np.clip(age, 0, ages - 1), axis=1), 0.0
    )
    opening_age = np.clip(periods[0] - table.purchase, 0, ages)
    before_horizon = np.arange(ages)[None, :] < opening_age[:, None]
    opening_accumulated = (by_age * before_horizon).sum(axis=1) * table.quantity
    return per_unit * table.quantity[:, None], opening_accumulated


def _combine_registers(
    scenario: Scenario, assets: Sequence[Asset] | None, start: int
) -> tuple[Asset, ...]:
    from_scenario = tuple(scenario.assets or ())
    _reject_repeated_ids(from_scenario)
    from_file = tuple(assets or ())
    seen = {asset.asset_id for asset in from_scenario}
    repeated = sorted({asset.asset_id for asset in from_file if asset.asset_id in seen})
    if repeated:
        listed = ", ".join(repr(name) for name in repeated[:MAX_LISTED_SHARED_IDS])
        if len(repeated) > MAX_LISTED_SHARED_IDS:
            listed += f" and {len(repeated) - MAX_LISTED_SHARED_IDS} more"
        raise InputError(
            f"asset_id {listed} appears both in the scenario's "
            "[[assets]] and in the asset register file; rename one of each pair"
        )
    combined = from_scenario + from_file
    if combined:
        return combined
    return (_silicon_asset(scenario, start),)


def _reject_repeated_ids(assets: Sequence[Asset]) -> None:
    """Raise InputError naming each asset_id that more than one [[assets]] table uses."""
    tables_of: dict[str, list[int]] = {}
    for number, asset in enumerate(assets, start=1):
        tables_of.setdefault(asset.asset_id, []).append(number)
    lines = []
    for asset_id, numbers in tables_of.items():
        if len(numbers) < 2:
            continue
        listed = ", ".join(str(number) for number in numbers[:-1])
        lines.append(
            f"assets: asset_id {asset_id!r} appears in the [[assets]] tables {listed} "
            f"and {numbers[-1]} (counted from 1 in file order); give each table its "
            "own asset_id"
        )
    if len(lines) > MAX_LISTED_IDS:
        more = len(lines) - MAX_LISTED_IDS
        lines = lines[:MAX_LISTED_IDS]
        lines.append(f"... and {more} more repeated asset_id values")
    if lines:
        raise InputError("\n".join(lines))


def _check_silicon_age(scenario: Scenario, start: int) -> None:
    """Raise InputError if [silicon] age_months puts the purchase before 0001-01."""
    age = scenario.silicon.age_months
    if age == 0 or start - age >= FIRST_MONTH:
        return
    fix = f"start the horizon in {month_label(FIRST_MONTH + age)} or later"
    if start >= FIRST_MONTH:
        fix += f", or give age_months of at most {start - FIRST_MONTH}"
    raise InputError(
        f"silicon.age_months = {age} puts the purchase of the scenario's accelerators "
        f"{age} month{'s' if age != 1 else ''} before the horizon's start "
        f"{month_label(start)}, so before 0001-01, the first month a schedule "
        f"can show; {fix}"
    )


def _silicon_asset(scenario: Scenario, start: int) -> Asset:
    """Return the scenario's [silicon] as one accelerator row bought age_months before ``start``."""
    silicon = scenario.silicon
    age = silicon.age_months
    return Asset(
        asset_id="silicon",
        asset_class="accelerator",
        purchase_month=month_label(start - age),
        quantity=scenario.accelerators,
        unit_price=silicon.unit_price,
        life_months=silicon.life_months,
        salvage=silicon.salvage,
        method=silicon.method,
    )


def _require_accelerators(
    accelerators: NDArray[np.float64], periods: NDArray[np.int64], table: AssetTable
) -> None:
    empty = np.flatnonzero(accelerators <= 0)
    if empty.size == 0:
        return
    is_accelerator = table.classes == "accelerator"
    if not is_accelerator.any():
        raise InputError(
            "the asset register has no accelerator rows, so the factory makes no tokens; "
            "add the accelerators with asset_class accelerator"
        )
    first_purchase = month_label(int(table.purchase[is_accelerator].min()))
    raise InputError(
        f"no accelerator is in service in {month_label(int(periods[empty[0]]))}, so cost per good token "
        f"is undefined there; start the horizon in or after {first_purchase}, the first accelerator purchase"
    )


def _energy_is_priced(scenario: Scenario, paths: Drivers) -> bool:
    if isinstance(scenario.energy, EnergyPhysical):
        return True
    has_price = paths.energy_price_per_kwh is not None
    has_power = paths.wall_kw_per_accelerator is not None
    if has_price != has_power:
        raise InputError(
            'drivers: the scenario states its energy cost directly ([energy] basis = "stated"), so an '
            "energy_price_per_kwh path needs a wall_kw_per_accelerator path and the other way round; "
            'give both, or use [energy] basis = "physical"'
        )
    return has_price


def _energy_drivers(
    scenario: Scenario, paths: Drivers, priced: bool, months: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return the energy price, kW per accelerator and full-load energy cost per accelerator."""
    energy_basis = scenario.energy
    if not priced:
        stated = engine.component_costs(scenario).energy_full / scenario.accelerators
        nothing = np.full(np.shape(months), np.nan)
        return nothing, nothing, np.full(np.shape(months), stated)
    if isinstance(energy_basis, EnergyPhysical):
        default_price = energy_basis.price_per_kwh
        default_kw = energy_basis.full_load_kw / scenario.accelerators
    else:
        # Both paths are given, as _energy_is_priced checks, so no default is used.
        default_price = default_kw = np.nan
    price = path_values(paths.energy_price_per_kwh, default_price, months)
    kw = path_values(paths.wall_kw_per_accelerator, default_kw, months)
    return price, kw, engine.energy_full_cost(kw, scenario.hours_per_period, price)


def _fabric(
    scenario: Scenario,
    table: AssetTable,
    depreciation: NDArray[np.float64],
    silicon: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Return Fabric per period from the register's fabric rows, or else the scenario."""
    is_fabric = table.classes == "fabric"
    if is_fabric.any():
        return depreciation[is_fabric].sum(axis=0)
    basis = scenario.fabric
    if isinstance(basis, FabricShare):
        return silicon * basis.share_of_silicon
    if isinstance(basis, FabricCapex):
        return np.full(silicon.shape, basis.capex / basis.life_months)
    # The scenario model admits no other basis.
    raise TypeError(basis)  # pragma: no cover


def _tokens_per_unit(
    table: AssetTable,
    rows: NDArray[np.bool_],
    months: NDArray[np.int64],
    scenario: Scenario,
    paths: Drivers,
) -> NDArray[np.float64]:
    """Return the tokens each unit of ``rows`` serves in ``months``, in that shape.

    An accelerator serves the tokens it makes. Fabric and facility fit-out serve the
    tokens of the whole factory.
    """
    throughput = path_values(
        paths.tokens_per_second, scenario.tokens_per_second, months
    )
    utilization = path_values(paths.utilization, scenario.utilization, months)
    per_accelerator = (
        engine.token_capacity(1.0, throughput, scenario.hours_per_period) * utilization
    )
    factory = table.accelerators_in_service(months) * per_accelerator
    is_accelerator = (table.classes[rows] == "accelerator")[:, None]
    return np.where(is_accelerator, per_accelerator, factory)


def _usage_by_age(
    table: AssetTable, scenario: Scenario, paths: Drivers
) -> NDArray[np.float64] | None:
    production = table.methods == "units-of-production"
    if not production.any():
        return None
    ages = int(table.end_age.max(initial=1))
    months = table.purchase[:, None] + np.arange(ages)[None, :]
    usage = np.zeros((len(table), ages))
    usage[production] = _tokens_per_unit(
        table, production, months[production], scenario, paths
    )
    return usage


def _opening_usage(
    table: AssetTable, scenario: Scenario, paths: Drivers, start: int
) -> NDArray[np.float64]:
    """Return the tokens each unit served before ``start`` while in service.

    Only units-of-production rows count tokens. Every other row gets 0.
    """
    opening = np.zeros(len(table))
    production = table.methods == "units-of-production"
    if not production.any():
        return opening
    ages = int(table.end_age.max(initial=1))
    age = np.arange(ages)[None, :]
    months = table.purchase[production][:, None] + age
    usage = _tokens_per_unit(table, production, months, scenario, paths)
    counted = (months < start) & (age < table.end_age[production][:, None])
    opening[production] = np.where(counted, usage, 0.0).sum(axis=1)
    return opening


def _decay(
    inputs: dict[str, NDArray[np.float64]],
    cost_per_good_token: NDArray[np.float64],
    idle: float,
    hours: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Split each period's change in cost per good token by cause.

    The module docstring describes the order of substitution.
    """
    count = cost_per_good_token.shape[0]
    keys = [key for key, _ in CAUSES]
    steps = np.full((len(CAUSES) - 1, count), np.nan)
    parts = np.full((len(CAUSES), count), np.nan)
    if count < 2:
        return steps, parts

    mix = {key: values[:-1].copy() for key, values in inputs.items()}
    previous = cost_per_good_token[:-1]
    for position, key in enumerate(keys):
        mix[key] = inputs[key][1:]
        if position < len(keys) - 1:
            current = _cost_per_good_token_of(mix, idle, hours)
            steps[position, 1:] = current
        else:
            # Every input is now the current period's, so this step ends at the period's
            # own cost per good token. Taking that value makes the parts telescope.
            current = cost_per_good_token[1:]
        parts[position, 1:] = current - previous
        previous = current
    return steps, parts


def _cost_per_good_token_of(
    values: dict[str, NDArray[np.float64]], idle: float, hours: float
) -> NDArray[np.float64]:
    fleet = values["fleet"]
    utilization = values["utilization"]
    cost = (
        values["depreciation"]
        + values["other"]
        + fleet * values["energy_price"] * (idle + (1.0 - idle) * utilization)
    )
    good = (
        fleet
        * values["throughput"]
        * engine.SECONDS_PER_HOUR
        * hours
        * utilization
        * values["yield"]
    )
    return cost / good


def _quarterly(schedule: Schedule) -> QuarterlyRollup:
    quarters = schedule.horizon.quarters
    first = np.array([start for _, start, _ in quarters], dtype=np.int64)
    stop = np.array([end for _, _, end in quarters], dtype=np.int64)

    def total_of(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.add.reduceat(values, first)

    total = total_of(schedule.total)
    full_cost = total_of(schedule.full_cost)
    capacity = total_of(schedule.capacity)
    good = total_of(schedule.good_tokens)
    # The first period has no decay (NaN). A quarter's decay is the sum of its parts.
    decay = np.add.reduceat(np.nan_to_num(schedule.decay, nan=0.0), first, axis=1)
    return QuarterlyRollup(
        labels=[label for label, _, _ in quarters],
        first=first,
        stop=stop,
        components={
            key: total_of(values) for key, _, values in schedule.component_rows()
        },
        total=total,
        full_cost=full_cost,
        capacity=capacity,
        good_tokens=good,
        cost_per_good_token=total / good,
        floor=full_cost / capacity,
        exit_rate=schedule.cost_per_good_token[stop - 1],
        decay=decay,
        over_recovery=total_of(schedule.recovery.over_recovery),
        balance_carried_forward=schedule.recovery.balance_carried_forward[stop - 1],
    )
