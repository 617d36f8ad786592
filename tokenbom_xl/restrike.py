"""Re-strike the internal rate, and compute the over- or under-recovery of a fixed rate.

A chargeback that uses each period's own rate, the re-struck cost per good token
C(U) / G, recovers exactly that period's cost. Many finance teams instead set one
internal rate at the start of the fiscal year and hold it for twelve months. As the
manufactured cost decays, such a rate over-recovers. Recharge-centre practice carries
the balance forward into the next rate, so that over the years the centre breaks even.

For each fiscal year ``y`` with good tokens ``G_t`` and cost ``C_t`` in its periods::

    rate_y     = base_y - balance_brought_forward_y / sum(G_t)
    recovered  = G_t * rate_y
    over (+) or under (-) recovery = recovered - C_t
    balance_carried_forward = balance_brought_forward + sum(recovered - C_t)

``base_y`` is the re-struck rate of the year's first period (``first-month``, "the
rate set in January"), or the year's cost over its good tokens (``year-budget``).
A positive balance is an over-recovery owed back to the consumers, so it lowers the
next rate. Lowering the rate by balance / sum(G) returns exactly that balance over
the year's good tokens. A year cut short by the end of the horizon is rated on its
periods inside the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FIXED_RATE_BASES", "Recovery", "Restrike", "fixed_rate_recovery"]

FIXED_RATE_BASES = ("first-month", "year-budget")


class Restrike(BaseModel):
    """Policy for the fixed internal rate: when it is set and what it is based on."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    fiscal_year_start_month: int = Field(
        default=1,
        ge=1,
        le=12,
        description="calendar month in which the fiscal year and its fixed rate start (1 = January)",
    )
    fixed_rate_basis: Literal["first-month", "year-budget"] = Field(
        default="first-month",
        description="first-month: the re-struck rate of the year's first period; "
        "year-budget: the year's cost over its good tokens",
    )
    opening_balance: float = Field(
        default=0.0,
        description="over-recovery (positive) or under-recovery (negative) brought into the first fixed rate",
        json_schema_extra={"unit": "money"},
    )


@dataclass(frozen=True)
class Recovery:
    """A fixed rate per fiscal year and what it recovers, period by period (money per token)."""

    rate_before_balance: NDArray[np.float64]  # base_y, repeated over the year's periods
    # base_y less the balance brought into the year, per good token.
    fixed_rate: NDArray[np.float64]
    recovered: NDArray[np.float64]  # G_t * fixed rate
    over_recovery: NDArray[np.float64]  # recovered - C_t; negative is an under-recovery
    balance_brought_forward: NDArray[np.float64]  # balance at the start of each period
    balance_carried_forward: NDArray[np.float64]  # balance at the end of each period
    sets_rate: NDArray[np.bool_]  # True in the first period of each fiscal year


def fixed_rate_recovery(
    cost: ArrayLike,
    good_tokens: ArrayLike,
    fiscal_year: ArrayLike,
    *,
    basis: str = "first-month",
    opening_balance: float = 0.0,
) -> Recovery:
    """Set a fixed rate for each fiscal year and compute its recovery, period by period.

    ``cost`` (C(U)), ``good_tokens`` and ``fiscal_year`` (any label that is equal for
    the periods of one year, such as the year it starts) are per period, in order, with
    each year's periods adjacent.

    Raises:
        ValueError: ``basis`` is not one of :data:`FIXED_RATE_BASES`.
    """
    if basis not in FIXED_RATE_BASES:
        raise ValueError(
            f"fixed rate basis {basis!r} is invalid; use one of {', '.join(FIXED_RATE_BASES)}"
        )
    cost = np.asarray(cost, dtype=float)
    good = np.asarray(good_tokens, dtype=float)
    years = np.asarray(fiscal_year)
    count = cost.shape[0]

    sets_rate = np.ones(count, dtype=bool)
    sets_rate[1:] = years[1:] != years[:-1]
    starts = np.flatnonzero(sets_rate)
    ends = np.append(starts[1:], count)

    base = np.empty(count)
    rate = np.empty(count)
    brought = np.empty(count)
    carried = np.empty(count)
    balance = float(opening_balance)
    for first, stop in zip(starts, ends):
        year_good = good[first:stop].sum()
        year_cost = cost[first:stop].sum()
        if basis == "first-month":
            year_base = cost[first] / good[first]
        else:
            year_base = year_cost / year_good
        year_rate = year_base - balance / year_good
        base[first:stop] = year_base
        rate[first:stop] = year_rate

        over = good[first:stop] * year_rate - cost[first:stop]
        running = balance + np.cumsum(over)
        brought[first:stop] = np.concatenate(([balance], running[:-1]))
        carried[first:stop] = running
        balance = float(running[-1])

    recovered = good * rate
    return Recovery(
        rate_before_balance=base,
        fixed_rate=rate,
        recovered=recovered,
        over_recovery=recovered - cost,
        balance_brought_forward=brought,
        balance_carried_forward=carried,
        sets_rate=sets_rate,
    )
