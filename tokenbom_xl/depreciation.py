"""Depreciation of the asset register: every asset's charge for every month of its life.

The register becomes NumPy arrays (:class:`AssetTable`), one element per asset, and
each method is computed for all of its assets at once, month of age by month of age:

- straight-line: (cost - salvage) / life, and after a change of life the net book
  value left, less salvage, over the remaining new life;
- declining-balance: Excel's ``VDB(cost, salvage, life, age, age + 1, 2, FALSE)``,
  restarted on the book value left at a change of life;
- units-of-production: cost less salvage in proportion to the tokens served, and
  whatever is left in the last month of life.

Charges here are per unit, and the schedule multiplies them by the quantity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tokenbom_xl.register import Asset

__all__ = [
    "DECLINING_BALANCE_FACTOR",
    "AssetTable",
    "declining_balance_by_age",
    "depreciation_by_age",
]

# Double declining balance. The workbook's VDB formulas pass the same factor, 2.
DECLINING_BALANCE_FACTOR = 2.0


@dataclass(frozen=True)
class AssetTable:
    """The asset register as NumPy arrays, one element per asset (prices per unit)."""

    assets: tuple[Asset, ...]
    classes: NDArray[np.str_]
    methods: NDArray[np.str_]
    purchase: NDArray[np.int64]  # month index
    quantity: NDArray[np.float64]
    unit_price: NDArray[np.float64]
    salvage: NDArray[np.float64]
    life: NDArray[np.int64]
    lifetime_tokens: NDArray[np.float64]  # NaN except for units-of-production rows
    # True where a change of life comes before the end of the original life.
    has_change: NDArray[np.bool_]
    change_age: NDArray[np.int64]  # age at the change, or life where there is none
    new_life: NDArray[np.int64]  # equals life where there is no change

    @classmethod
    def from_assets(cls, assets: Sequence[Asset]) -> AssetTable:
        life = np.array([asset.life_months for asset in assets], dtype=np.int64)
        stated_change = np.array(
            [
                asset.change_age if asset.change_age is not None else asset.life_months
                for asset in assets
            ],
            dtype=np.int64,
        )
        stated_new_life = np.array(
            [
                asset.new_life_months
                if asset.new_life_months is not None
                else asset.life_months
                for asset in assets
            ],
            dtype=np.int64,
        )
        # A change of life after the asset is fully depreciated changes nothing.
        has_change = stated_change < life
        return cls(
            assets=tuple(assets),
            classes=np.array([asset.asset_class for asset in assets]),
            methods=np.array([asset.method for asset in assets]),
            purchase=np.array(
                [asset.purchase_index for asset in assets], dtype=np.int64
            ),
            quantity=np.array([asset.quantity for asset in assets], dtype=float),
            unit_price=np.array([asset.unit_price for asset in assets], dtype=float),
            salvage=np.array([asset.salvage for asset in assets], dtype=float),
            life=life,
            lifetime_tokens=np.array(
                [
                    asset.lifetime_tokens
                    if asset.lifetime_tokens is not None
                    else np.nan
                    for asset in assets
                ]
            ),
            has_change=has_change,
            change_age=np.where(has_change, stated_change, life),
            new_life=np.where(has_change, stated_new_life, life),
        )

    def __len__(self) -> int:
        return len(self.assets)

    @property
    def first_segment_end(self) -> NDArray[np.int64]:
        """Age at which the original life stops applying: the change, or the end of life."""
        return np.minimum(self.change_age, self.life)

    @property
    def end_age(self) -> NDArray[np.int64]:
        """Age from which nothing more is charged (the new life where it changed)."""
        return np.where(self.has_change, self.new_life, self.life)

    @property
    def depreciable(self) -> NDArray[np.float64]:
        """Cost less salvage of one unit."""
        return self.unit_price - self.salvage

    @property
    def straight_line_book_at_change(self) -> NDArray[np.float64]:
        """Net book value of one unit at the change of life under straight-line.

        Where there is no change, this is the salvage value.
        """
        charged = self.change_age * (self.unit_price - self.salvage) / self.life
        return np.where(self.has_change, self.unit_price - charged, self.salvage)

    def accelerators_in_service(
        self, months: NDArray[np.int64] | int
    ) -> NDArray[np.float64]:
        """Count the accelerators bought in or before each month (any shape)."""
        is_accelerator = self.classes == "accelerator"
        purchase = self.purchase[is_accelerator]
        order = np.argsort(purchase, kind="stable")
        cumulative = np.concatenate(
            ([0.0], np.cumsum(self.quantity[is_accelerator][order]))
        )
        position = np.searchsorted(purchase[order], np.asarray(months), side="right")
        return cumulative[position]


def declining_balance_by_age(
    cost: NDArray[np.float64],
    salvage: NDArray[np.float64],
    life: NDArray[np.int64],
    ages: int,
    *,
    restart_age: NDArray[np.int64] | None = None,
    restart_life: NDArray[np.int64] | None = None,
) -> NDArray[np.float64]:
    """Compute double-declining-balance charges with the switch, for ages 0 .. ages-1.

    Column ``k`` is Excel's ``VDB(cost, salvage, life, k, k + 1, 2, FALSE)``, as
    :func:`tokenbom_xl.engine.declining_balance_charge` computes it. Where
    ``restart_age`` is below ``life``, the book value left at that age is depreciated
    afresh over ``restart_life - restart_age`` months from there, which is a
    prospective change of useful life. Returns an array of shape (assets, ages).
    """
    count = cost.shape[0]
    out = np.zeros((count, ages))
    book = cost.astype(float).copy()
    segment_life = life.astype(float).copy()
    segment_start = np.zeros(count)
    switched = np.zeros(count, dtype=bool)
    straight_line = np.zeros(count)
    restarts = (
        np.zeros(count, dtype=bool) if restart_age is None else restart_age < life
    )
    end = life if restart_life is None else np.where(restarts, restart_life, life)

    for age in range(ages):
        if restart_age is not None:
            restarting = restarts & (restart_age == age)
            if restarting.any():
                segment_life = np.where(
                    restarting, restart_life - restart_age, segment_life
                )
                segment_start = np.where(restarting, age, segment_start)
                switched &= ~restarting
        remaining = segment_life - (age - segment_start)
        alive = (remaining > 0) & (age < end)
        with np.errstate(divide="ignore", invalid="ignore"):
            declining = np.minimum(
                book * (DECLINING_BALANCE_FACTOR / segment_life),
                np.maximum(book - salvage, 0.0),
            )
            level = np.where(alive, np.maximum(book - salvage, 0.0) / remaining, 0.0)
        newly = ~switched & (level > declining)
        straight_line = np.where(newly, level, straight_line)
        switched |= newly
        charge = np.where(alive, np.where(switched, straight_line, declining), 0.0)
        out[:, age] = charge
        book = book - charge
    return out


def depreciation_by_age(
    table: AssetTable, usage_by_age: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Compute each asset's depreciation per unit for every age from 0 to its end of life.

    ``usage_by_age`` (assets x ages) is the tokens each unit serves at each age. Only
    units-of-production rows read it. Returns an array of shape (assets, max end age).
    """
    ages = int(table.end_age.max(initial=1))
    age = np.arange(ages)[None, :]
    result = np.zeros((len(table), ages))

    # Straight-line: one level charge before the change, another after it.
    straight = table.methods == "straight-line"
    if straight.any():
        before = (table.depreciable / table.life)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            after_charge = (table.straight_line_book_at_change - table.salvage) / (
                table.new_life - table.change_age
            )
        after = np.where(table.has_change, after_charge, 0.0)[:, None]
        first_end = table.first_segment_end[:, None]
        level = np.where(
            age < first_end, before, np.where(age < table.end_age[:, None], after, 0.0)
        )
        result[straight] = level[straight]

    declining = table.methods == "declining-balance"
    if declining.any():
        result[declining] = declining_balance_by_age(
            table.unit_price[declining],
            table.salvage[declining],
            table.life[declining],
            ages,
            restart_age=table.change_age[declining],
            restart_life=table.new_life[declining],
        )

    production = table.methods == "units-of-production"
    if production.any():
        if usage_by_age is None:
            raise ValueError("units-of-production assets need usage_by_age")
        result[production] = _units_of_production(
            table.depreciable[production],
            table.lifetime_tokens[production],
            table.end_age[production],
            usage_by_age[production],
        )
    return result


def _units_of_production(
    depreciable: NDArray[np.float64],
    lifetime_tokens: NDArray[np.float64],
    end_age: NDArray[np.int64],
    usage: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Charge cost less salvage in proportion to tokens, and any remainder in the last month of life."""
    ages = usage.shape[1]
    age = np.arange(ages)[None, :]
    in_service = age < end_age[:, None]
    cumulative = np.cumsum(np.where(in_service, usage, 0.0), axis=1)
    accumulated = np.minimum(
        depreciable[:, None],
        depreciable[:, None] * cumulative / lifetime_tokens[:, None],
    )
    previous = np.concatenate(
        (np.zeros((usage.shape[0], 1)), accumulated[:, :-1]), axis=1
    )
    charge = accumulated - previous
    last = age == (end_age[:, None] - 1)
    charge = np.where(last, depreciable[:, None] - previous, charge)
    return np.where(in_service, charge, 0.0)
