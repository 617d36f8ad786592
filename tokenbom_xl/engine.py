"""The Token BOM engine: pure, vectorized arithmetic over a validated scenario.

Notation (all money per period, all tokens output tokens):

    F        sum of the six non-energy components (Silicon, Fabric, Facility,
             Platform, Model Lifecycle, Operations)
    E_full   energy cost at full utilization; i is the idle-power fraction
    E(U)     = E_full * (i + (1 - i) * U)
    C(U)     = F + E(U)
    K        capacity = accelerators * tokens/s * 3,600 * hours
    G        good tokens = K * U * Y
    c        cost per good token = C(U) / G;  floor = C(1) / K
    A, L, V  absorbed cost U*Y*C(1), yield loss U*(1-Y)*C(1), capacity variance
             (F + i*E_full)*(1-U); A + L + V = C(U)
    U*       crossover utilization against an API price P per token:
             (F + i*E_full) / (P*K*Y - (1-i)*E_full), or none where that is <= 0 or > 1

The kernels (``energy_cost``, ``cost_per_good_token`` and the rest) take floats or
NumPy arrays and broadcast like NumPy. They do not validate: where a quantity is
undefined (U = 0, Y = 0) they return inf or NaN. :func:`evaluate` validates its
utilization and yield and raises :class:`InputError` instead. Nothing here depends
on Excel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tokenbom_xl.errors import InputError
from tokenbom_xl.scenario import (
    COMPONENTS,
    EnergyPhysical,
    EnergyStated,
    FabricCapex,
    FabricShare,
    FacilityFixed,
    FacilityPerKw,
    FacilityPerRack,
    Scenario,
    Silicon,
)

__all__ = [
    "SECONDS_PER_HOUR",
    "TOKENS_PER_MILLION",
    "BomLine",
    "BomResult",
    "ComponentCosts",
    "absorbed_cost",
    "bom_lines",
    "capacity_variance",
    "component_costs",
    "cost_floor",
    "cost_per_good_token",
    "crossover_utilization",
    "declining_balance_charge",
    "energy_cost",
    "energy_full_cost",
    "evaluate",
    "good_tokens",
    "per_block",
    "per_single_token",
    "silicon_charge",
    "silicon_cost",
    "straight_line_charge",
    "token_capacity",
    "total_cost",
    "wall_power",
    "yield_loss",
]

SECONDS_PER_HOUR = 3600.0
TOKENS_PER_MILLION = 1_000_000.0

Number = float | NDArray[np.float64]


# ---------------------------------------------------------------------------
# Kernels


def token_capacity(
    accelerators: ArrayLike, tokens_per_second: ArrayLike, hours: ArrayLike = 730.0
) -> Number:
    """Return theoretical output tokens per period: accelerators * tokens/s * 3,600 * hours."""
    return np.multiply(
        np.multiply(accelerators, tokens_per_second),
        np.multiply(SECONDS_PER_HOUR, hours),
    )


def straight_line_charge(
    cost: ArrayLike,
    salvage: ArrayLike,
    life_months: ArrayLike,
    age_months: ArrayLike = 0,
) -> Number:
    """Return one month's straight-line depreciation of one asset.

    The charge is (cost - salvage) / life for months 0 .. life-1 of the asset's age and
    0 once it is fully depreciated.
    """
    cost, salvage, life, age = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (cost, salvage, life_months, age_months))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        charge = (cost - salvage) / life
    return _scalar_or_array(np.where((age >= 0) & (age < life), charge, 0.0))


def declining_balance_charge(
    cost: ArrayLike,
    salvage: ArrayLike,
    life_months: ArrayLike,
    age_months: ArrayLike = 0,
    factor: float = 2.0,
) -> Number:
    """Return one month's declining-balance depreciation with a switch to straight-line.

    Month ``age`` (0-based) charges ``book * factor / life`` where ``book`` is the value
    left after the earlier months, never taking book value below salvage, and switches
    to straight-line over the remaining life once that charge is the larger one. This is
    Excel's ``VDB(cost, salvage, life, age, age + 1, factor, FALSE)``.
    """
    cost, salvage, life, age = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (cost, salvage, life_months, age_months))
    )
    out = np.zeros(cost.shape)
    # Ages are whole months. The loop runs once per month, vectorized over every element,
    # up to the oldest age inside its life: older assets charge nothing.
    book = cost.copy()
    rate = factor / life
    switched = np.zeros(cost.shape, dtype=bool)
    sl_charge = np.zeros(cost.shape)
    # A NaN age compares false here, so it charges nothing.
    last = int(np.max(np.where((age >= 0) & (age < life), age, -1.0), initial=-1.0))
    for month in range(last + 1):
        remaining = life - month
        alive = remaining > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            ddb = np.minimum(book * rate, np.maximum(book - salvage, 0.0))
            sl = np.where(alive, np.maximum(book - salvage, 0.0) / remaining, 0.0)
        newly = ~switched & (sl > ddb)
        sl_charge = np.where(newly, sl, sl_charge)
        switched |= newly
        charge = np.where(alive, np.where(switched, sl_charge, ddb), 0.0)
        out = np.where(age == month, charge, out)
        book = book - charge
    return _scalar_or_array(out)


def silicon_cost(silicon: Silicon, accelerators: ArrayLike) -> Number:
    """Return the Silicon charge for the period: accelerators times one unit's charge."""
    if silicon.method == "declining-balance":
        unit = declining_balance_charge(
            silicon.unit_price, silicon.salvage, silicon.life_months, silicon.age_months
        )
    else:
        unit = straight_line_charge(
            silicon.unit_price, silicon.salvage, silicon.life_months, silicon.age_months
        )
    return np.multiply(accelerators, unit)


def energy_full_cost(
    wall_kw: ArrayLike, hours: ArrayLike, price_per_kwh: ArrayLike
) -> Number:
    """Return the energy cost of a period at full load: kW at the wall * hours * price."""
    return np.multiply(np.multiply(wall_kw, hours), price_per_kwh)


def energy_cost(
    full_energy_cost: ArrayLike, utilization: ArrayLike, idle_fraction: ArrayLike = 0.0
) -> Number:
    """Return E(U) = E_full * (i + (1 - i) * U)."""
    idle = np.asarray(idle_fraction, dtype=float)
    return np.multiply(
        full_energy_cost, idle + (1.0 - idle) * np.asarray(utilization, dtype=float)
    )


def total_cost(
    fixed_cost: ArrayLike,
    full_energy_cost: ArrayLike,
    utilization: ArrayLike,
    idle_fraction: ArrayLike = 0.0,
) -> Number:
    """Return C(U) = F + E(U)."""
    return np.add(fixed_cost, energy_cost(full_energy_cost, utilization, idle_fraction))


def good_tokens(
    capacity: ArrayLike, utilization: ArrayLike, yield_rate: ArrayLike = 1.0
) -> Number:
    """Return G = K * U * Y."""
    return np.multiply(np.multiply(capacity, utilization), yield_rate)


def cost_per_good_token(
    total: ArrayLike,
    capacity: ArrayLike,
    utilization: ArrayLike,
    yield_rate: ArrayLike = 1.0,
) -> Number:
    """Return C(U) / (K * U * Y); inf or NaN where there are no good tokens."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(total, good_tokens(capacity, utilization, yield_rate))


def cost_floor(full_utilization_cost: ArrayLike, capacity: ArrayLike) -> Number:
    """Return the floor C(1) / K: the cost per token at full utilization and perfect yield."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(full_utilization_cost, capacity)


def absorbed_cost(
    full_utilization_cost: ArrayLike, utilization: ArrayLike, yield_rate: ArrayLike
) -> Number:
    """Return A = U * Y * C(1), the cost absorbed by good tokens."""
    return np.multiply(np.multiply(utilization, yield_rate), full_utilization_cost)


def yield_loss(
    full_utilization_cost: ArrayLike, utilization: ArrayLike, yield_rate: ArrayLike
) -> Number:
    """Return L = U * (1 - Y) * C(1), the cost of scrapped tokens."""
    return np.multiply(
        np.multiply(utilization, np.subtract(1.0, yield_rate)), full_utilization_cost
    )


def capacity_variance(
    fixed_cost: ArrayLike, utilization: ArrayLike, idle_energy_cost: ArrayLike = 0.0
) -> Number:
    """Return V = (F + i * E_full) * (1 - U), the cost of idle capacity.

    ``idle_energy_cost`` is ``i * E_full``, the energy drawn whether or not the factory
    is busy.
    """
    return np.multiply(
        np.add(fixed_cost, idle_energy_cost), np.subtract(1.0, utilization)
    )


def crossover_utilization(
    fixed_cost: ArrayLike,
    full_energy_cost: ArrayLike,
    capacity: ArrayLike,
    yield_rate: ArrayLike,
    api_price_per_token: ArrayLike,
    idle_fraction: ArrayLike = 0.0,
) -> Number:
    """Return U*, where the manufactured token costs the API price; NaN where it never does.

    U* = (F + i * E_full) / (P * K * Y - (1 - i) * E_full). The factory never beats the
    API where the denominator is <= 0 or U* > 1, and those elements are NaN.
    """
    idle = np.asarray(idle_fraction, dtype=float)
    numerator = np.add(fixed_cost, np.multiply(idle, full_energy_cost))
    denominator = np.multiply(
        np.multiply(api_price_per_token, capacity), yield_rate
    ) - (1.0 - idle) * np.asarray(full_energy_cost, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossover = numerator / denominator
    return _scalar_or_array(
        np.where((denominator > 0) & (crossover <= 1.0), crossover, np.nan)
    )


def wall_power(it_kw: ArrayLike, pue: ArrayLike) -> Number:
    """Return full-load power at the wall in kW: IT power * PUE."""
    return np.multiply(it_kw, pue)


def silicon_charge(
    accelerators: ArrayLike,
    unit_price: ArrayLike,
    life_months: ArrayLike,
    salvage: ArrayLike = 0.0,
    age_months: ArrayLike = 0,
    declining: ArrayLike = False,
) -> Number:
    """Return one month's Silicon charge for ``accelerators`` identical accelerators.

    ``unit_price`` and ``salvage`` are per accelerator. Where ``declining`` is true the
    unit charge is :func:`declining_balance_charge`, elsewhere
    :func:`straight_line_charge`; every argument broadcasts.
    """
    unit = straight_line_charge(unit_price, salvage, life_months, age_months)
    if np.any(declining):
        declining_unit = declining_balance_charge(
            unit_price, salvage, life_months, age_months
        )
        unit = np.where(declining, declining_unit, unit)
    return _unwrap(np.multiply(accelerators, unit))


def per_block(value_per_token: ArrayLike, block_tokens: ArrayLike) -> Number:
    """Return a per-token figure for a block of tokens (per million: 1,000,000)."""
    return np.multiply(value_per_token, block_tokens)


def per_single_token(value_per_block: ArrayLike, block_tokens: ArrayLike) -> Number:
    """Return the per-token figure of a price quoted per block of tokens."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(value_per_block, block_tokens)


def _scalar_or_array(values: NDArray[np.float64]) -> Number:
    return float(values) if values.ndim == 0 else values


# ---------------------------------------------------------------------------
# Components of a scenario


@dataclass(frozen=True)
class ComponentCosts:
    """Monthly cost of each component, with energy at full load (E_full).

    ``idle_fraction`` is i, which splits E_full into E(U) once U is known.
    """

    silicon: float
    fabric: float
    facility: float
    platform: float
    model_lifecycle: float
    operations: float
    energy_full: float
    idle_fraction: float

    @property
    def fixed(self) -> float:
        """F: the sum of the six non-energy components."""
        return (
            self.silicon
            + self.fabric
            + self.facility
            + self.platform
            + self.model_lifecycle
            + self.operations
        )

    @property
    def idle_energy(self) -> float:
        """i * E_full: energy drawn whether or not the factory is busy."""
        return self.idle_fraction * self.energy_full

    def at(self, utilization: float) -> dict[str, float]:
        """Return the seven component costs at ``utilization``, keyed as in ``COMPONENTS``."""
        energy = float(energy_cost(self.energy_full, utilization, self.idle_fraction))
        return {
            "silicon": self.silicon,
            "fabric": self.fabric,
            "facility": self.facility,
            "energy": energy,
            "platform": self.platform,
            "model_lifecycle": self.model_lifecycle,
            "operations": self.operations,
        }


def component_costs(scenario: Scenario) -> ComponentCosts:
    """Compute each component's monthly cost from its basis in ``scenario``."""
    silicon = float(silicon_cost(scenario.silicon, scenario.accelerators))

    fabric_basis = scenario.fabric
    if isinstance(fabric_basis, FabricShare):
        fabric = silicon * fabric_basis.share_of_silicon
    elif isinstance(fabric_basis, FabricCapex):
        fabric = fabric_basis.capex / fabric_basis.life_months
    else:  # pragma: no cover - the scenario model admits no other basis
        raise TypeError(fabric_basis)

    facility_basis = scenario.facility
    if isinstance(facility_basis, FacilityFixed):
        facility = facility_basis.monthly_cost
    elif isinstance(facility_basis, FacilityPerRack):
        facility = facility_basis.racks * facility_basis.cost_per_rack
    elif isinstance(facility_basis, FacilityPerKw):
        facility = facility_basis.provisioned_kw * facility_basis.cost_per_kw
    else:  # pragma: no cover
        raise TypeError(facility_basis)

    energy_basis = scenario.energy
    if isinstance(energy_basis, EnergyStated):
        energy_full = energy_basis.full_load_cost
    elif isinstance(energy_basis, EnergyPhysical):
        energy_full = float(
            energy_full_cost(
                energy_basis.full_load_kw,
                scenario.hours_per_period,
                energy_basis.price_per_kwh,
            )
        )
    else:  # pragma: no cover
        raise TypeError(energy_basis)

    platform = scenario.platform
    lifecycle = scenario.model_lifecycle
    operations = scenario.operations
    return ComponentCosts(
        silicon=silicon,
        fabric=fabric,
        facility=facility,
        platform=platform.licences_monthly
        + platform.nodes * platform.fee_per_node
        + platform.model_licences_monthly,
        model_lifecycle=lifecycle.cost_per_cycle * lifecycle.cycles_per_year / 12.0
        + lifecycle.labour_monthly,
        operations=operations.fte
        * operations.annual_cost_per_fte
        / 12.0
        * operations.share,
        energy_full=energy_full,
        idle_fraction=energy_basis.idle_fraction,
    )


# ---------------------------------------------------------------------------
# The whole BOM


@dataclass(frozen=True)
class BomResult:
    """Every figure of the BOM. The figures that depend on U or Y are floats or arrays.

    ``crossover`` is U* at the scenario's API price and the given yield, NaN where the
    factory never beats that price.
    """

    components: ComponentCosts
    capacity: float
    utilization: Number
    yield_rate: Number
    energy: Number  # E(U)
    total: Number  # C(U)
    full_cost: float  # C(1)
    good_tokens: Number
    cost_per_good_token: Number
    floor: float
    absorbed: Number
    yield_loss: Number
    capacity_variance: Number
    crossover: Number
    api_price_per_token: float

    @property
    def fixed(self) -> float:
        return self.components.fixed

    @property
    def energy_full(self) -> float:
        return self.components.energy_full

    def per_million(self, value: Any) -> Any:
        """Scale a per-token figure to per million tokens."""
        return np.multiply(value, TOKENS_PER_MILLION)

    @property
    def yield_loss_per_token(self) -> Number:
        """The yield-loss part of the cost per good token: floor * (1 - Y) / Y."""
        return np.divide(
            self.floor * np.subtract(1.0, self.yield_rate), self.yield_rate
        )

    @property
    def capacity_variance_per_token(self) -> Number:
        """The capacity-variance part of the cost per good token: V / G."""
        return np.divide(self.capacity_variance, self.good_tokens)

    def component_lines(self) -> list[tuple[str, str, float]]:
        """Return (key, display name, monthly cost) for the seven components at a scalar U."""
        costs = self.components.at(float(self.utilization))
        return [(key, label, costs[key]) for key, label in COMPONENTS]


def evaluate(
    scenario: Scenario,
    utilization: ArrayLike | None = None,
    yield_rate: ArrayLike | None = None,
) -> BomResult:
    """Compute the whole BOM of ``scenario``, at its own or the given U and Y.

    ``utilization`` and ``yield_rate`` may be arrays, which broadcast together.

    Raises:
        InputError: an element of utilization or yield is outside (0, 1], where the
            per-token figures are undefined.
    """
    u = scenario.utilization if utilization is None else utilization
    y = scenario.yield_rate if yield_rate is None else yield_rate
    u_array = np.asarray(u, dtype=float)
    y_array = np.asarray(y, dtype=float)
    _require_fraction("utilization", u_array)
    _require_fraction("yield_rate", y_array)
    u_value = _scalar_or_array(u_array)
    y_value = _scalar_or_array(y_array)

    components = component_costs(scenario)
    capacity = float(
        token_capacity(
            scenario.accelerators, scenario.tokens_per_second, scenario.hours_per_period
        )
    )
    fixed = components.fixed
    full_cost = fixed + components.energy_full
    api_price_per_token = scenario.api_price_per_million / TOKENS_PER_MILLION

    energy = energy_cost(components.energy_full, u_value, components.idle_fraction)
    total = np.add(fixed, energy)
    good = good_tokens(capacity, u_value, y_value)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        per_token = np.divide(total, good)
    _require_finite(per_token, full_cost / capacity)
    return BomResult(
        components=components,
        capacity=capacity,
        utilization=u_value,
        yield_rate=y_value,
        energy=_unwrap(energy),
        total=_unwrap(total),
        full_cost=full_cost,
        good_tokens=_unwrap(good),
        cost_per_good_token=_unwrap(per_token),
        floor=full_cost / capacity,
        absorbed=_unwrap(absorbed_cost(full_cost, u_value, y_value)),
        yield_loss=_unwrap(yield_loss(full_cost, u_value, y_value)),
        capacity_variance=_unwrap(
            capacity_variance(fixed, u_value, components.idle_energy)
        ),
        crossover=_unwrap(
            crossover_utilization(
                fixed,
                components.energy_full,
                capacity,
                y_value,
                api_price_per_token,
                components.idle_fraction,
            )
        ),
        api_price_per_token=api_price_per_token,
    )


@dataclass(frozen=True)
class BomLine:
    """One line of the BOM table: a component, the total, or one part of the total."""

    label: str
    cost: float  # per period
    per_good_token: float  # cost / G
    share: float  # cost / C(U)


def bom_lines(result: BomResult) -> list[BomLine]:
    """Lay out ``result`` as table lines at its single U and Y.

    The lines are the seven components, the total C(U), then the total split into
    floor (A, the cost absorbed by good tokens, whose per-token figure is the floor
    C(1) / K), yield loss (L) and capacity variance (V). The three parts add up to
    the total, in money and per good token.

    Raises:
        ValueError: ``result`` contains arrays of utilization or yield.
    """
    if np.ndim(result.utilization) or np.ndim(result.yield_rate):
        raise ValueError(
            "bom_lines needs a result at one utilization and one yield, not arrays"
        )
    total = float(result.total)
    good = float(result.good_tokens)
    amounts = [(label, cost) for _, label, cost in result.component_lines()]
    amounts += [
        ("Total", total),
        ("Floor", float(result.absorbed)),
        ("Yield loss", float(result.yield_loss)),
        ("Capacity variance", float(result.capacity_variance)),
    ]
    return [BomLine(label, cost, cost / good, cost / total) for label, cost in amounts]


def _unwrap(value: Any) -> Number:
    array = np.asarray(value)
    return float(array) if array.ndim == 0 else array


def _require_finite(cost_per_good_token: Any, floor: float) -> None:
    """Raise when extreme inputs push a figure past the range of a float."""
    if math.isfinite(floor) and np.all(np.isfinite(cost_per_good_token)):
        return
    raise InputError(
        "the cost per good token is not a finite number (an input is so large or so "
        "close to 0 that the arithmetic overflows); check for extreme values such as "
        "a utilization or yield near 0, or a price or count near 1e308"
    )


def _require_fraction(name: str, values: NDArray[np.float64]) -> None:
    outside = ~((values > 0.0) & (values <= 1.0))
    if not outside.any():
        return

    if values.ndim == 0:
        first = float(values)
        where = ""
    else:
        index = int(np.argmax(outside.ravel()))
        first = float(values.flat[index])
        where = f" (element {index})"
    raise InputError(
        f"{name} = {first!r}{where} is outside (0, 1]; per-token figures "
        f"are undefined there, so give a {name} greater than 0 and at most 1"
    )
