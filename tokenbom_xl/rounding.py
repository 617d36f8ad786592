"""Rounding money to cents so that the parts add up exactly to a rounded whole.

Largest remainder (Hamilton's method): every amount is rounded down to whole cents,
and the cents still missing from the target go one each to the amounts with the
largest remainders. Of two equal remainders, the earlier amount gets the cent first. Amounts are never
negative here, so no rounded amount is negative either.

The workbook repeats this with native formulas (INT, ROUND, LARGE, COUNTIF), so the
steps are defined to give the same result there:

    exact cents   x = ROUND(amount * 100, 6)     (snaps float noise such as 29.9999999999)
    floor         f = INT(x)
    remainder     r = ROUND((x - f) * 1000000, 0)  (a whole number of millionths of a cent)

ROUND here is Excel's: halves round away from zero.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "EXACT_CENTS_LIMIT",
    "MAX_AMOUNT",
    "MAX_CENTS",
    "cent_parts",
    "largest_remainder",
    "largest_remainder_rows",
    "remainder_thresholds",
    "round_half_up",
    "to_cents",
]

REMAINDER_SCALE = 1_000_000

# The largest amount that an input may give, in cents: 9,999,999,999,999.99. Such an
# amount has at most 15 significant digits, so a double (and an Excel cell) represents
# it exactly to the cent. Whole numbers up to 2**53 are exact in a double, so sums of
# whole cents whose absolute values add up to no more than this are exact too.
MAX_CENTS = 10**15 - 1
MAX_AMOUNT = MAX_CENTS / 100

# Beyond 2**53 cents a double skips some whole cents, and int64 overflows at 2**63,
# so :func:`to_cents` raises instead of returning a wrong number.
EXACT_CENTS_LIMIT = 2**53


def round_half_up(values: ArrayLike, digits: int = 0) -> NDArray[np.float64]:
    """Round like Excel's ROUND: to ``digits`` decimals, halves away from zero."""
    array = np.asarray(values, dtype=np.float64)
    scale = 10.0**digits
    return np.sign(array) * np.floor(np.abs(array) * scale + 0.5) / scale


def to_cents(amounts: ArrayLike) -> NDArray[np.int64]:
    """Round amounts to whole cents, halves away from zero, as integers.

    Raises:
        ValueError: an amount is NaN, infinite or beyond :data:`EXACT_CENTS_LIMIT`
            cents. Callers check their inputs against :data:`MAX_AMOUNT` first.
    """
    cents = round_half_up(np.multiply(amounts, 100.0))
    out_of_range = ~(np.abs(cents) <= EXACT_CENTS_LIMIT)
    if out_of_range.any():
        value = float(cents.ravel()[np.argmax(out_of_range.ravel())]) / 100
        raise ValueError(
            f"amount {value!r} is not finite or is beyond "
            f"{EXACT_CENTS_LIMIT / 100:,.2f}, so it has no exact whole cents"
        )
    return cents.astype(np.int64)


def cent_parts(amounts: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Split amounts into whole cents rounded down and remainders in millionths of a cent."""
    exact = round_half_up(np.multiply(amounts, 100.0), 6)
    floor = np.floor(exact)
    remainder = round_half_up((exact - floor) * REMAINDER_SCALE)
    return floor.astype(np.int64), remainder.astype(np.int64)


def largest_remainder(
    amounts: ArrayLike, groups: ArrayLike, targets: ArrayLike
) -> NDArray[np.int64]:
    """Round ``amounts`` to cents so that each group adds up to its target in cents.

    ``groups`` gives each amount's group as an index into ``targets``. Within a group,
    equal remainders go to the amount that comes first in ``amounts``.

    Raises:
        ValueError: a target cannot be reached by rounding each amount up or down,
            which means the target does not belong to these amounts.
    """
    amounts = np.asarray(amounts, dtype=np.float64)
    groups = np.asarray(groups, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    floor, remainder = cent_parts(amounts)
    sizes = np.bincount(groups, minlength=len(targets))
    missing = targets - np.bincount(
        groups, weights=floor, minlength=len(targets)
    ).astype(np.int64)
    if (missing < 0).any() or (missing > sizes).any():
        group = int(np.argmax((missing < 0) | (missing > sizes)))
        raise ValueError(
            f"group {group}: target {targets[group]} cents is not within one cent per amount of the amounts' sum"
        )
    # Sort by group, then largest remainder first, then original position.
    order = np.lexsort((np.arange(len(amounts)), -remainder, groups))
    sorted_groups = groups[order]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    rank = np.arange(len(amounts)) - starts[sorted_groups]
    extra = np.zeros(len(amounts), dtype=np.int64)
    extra[order] = (rank < missing[sorted_groups]).astype(np.int64)
    return floor + extra


def largest_remainder_rows(amounts: ArrayLike, targets: ArrayLike) -> NDArray[np.int64]:
    """Round each row of a 2-D array to cents so that the row adds up to its target."""
    matrix = np.asarray(amounts, dtype=np.float64)
    rows, columns = matrix.shape
    groups = np.repeat(np.arange(rows), columns)
    return largest_remainder(matrix.ravel(), groups, targets).reshape(rows, columns)


def remainder_thresholds(
    amounts: ArrayLike, groups: ArrayLike, targets: ArrayLike
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Return, per group, the figures the workbook's rounding formulas show.

    ``missing`` is the target minus the rounded-down cents. ``threshold`` is the
    smallest remainder that still gets a cent, which is the ``missing``-th largest,
    or -1 where nothing is missing. ``above`` counts the remainders larger than the
    threshold.
    An amount gets a cent when its remainder is above the threshold, or equal to it
    and among the first ``missing - above`` such amounts.
    """
    groups = np.asarray(groups, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    floor, remainder = cent_parts(amounts)
    sizes = np.bincount(groups, minlength=len(targets))
    missing = targets - np.bincount(
        groups, weights=floor, minlength=len(targets)
    ).astype(np.int64)
    order = np.lexsort((np.arange(len(remainder)), -remainder, groups))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    position = np.clip(starts + missing - 1, 0, max(len(remainder) - 1, 0))
    threshold = np.where(
        missing > 0, remainder[order][position] if len(remainder) else -1, -1
    )
    above = np.bincount(
        groups, weights=(remainder > threshold[groups]), minlength=len(targets)
    ).astype(np.int64)
    above = np.where(missing > 0, above, 0)
    return missing, threshold.astype(np.int64), above
