"""Native formulas for rounding money to cents by largest remainder.

The engine's rules are in :mod:`tokenbom_xl.rounding`, and these helpers write the
same steps as Excel formulas. Per amount: ``floor`` = INT(ROUND(amount*100,6)) and
``remainder`` = ROUND((ROUND(amount*100,6)-floor)*1000000,0). Per block of amounts
that must add up to a target: ``missing`` = target cents - SUM(floors), ``threshold``
= LARGE(remainders, missing) and ``above`` = COUNTIF(remainders, ">"&threshold). An
amount gets one more cent when its remainder is above the threshold, or equal to it
and among the first ``missing - above`` such amounts in the block.

Remainders are whole numbers below 1,000,000, so COUNTIF criteria built from them
are exact.
"""

from __future__ import annotations

__all__ = [
    "floor_formula",
    "remainder_formula",
    "rounded_formula",
    "threshold_formulas",
]


def floor_formula(amount: str) -> str:
    """Return the formula of an amount's whole cents rounded down."""
    return f"=INT(ROUND({amount}*100,6))"


def remainder_formula(amount: str, floor: str) -> str:
    """Return the formula of an amount's remainder in millionths of a cent."""
    return f"=ROUND((ROUND({amount}*100,6)-{floor})*1000000,0)"


def threshold_formulas(
    target_cents: str, floors: str, remainders: str, missing: str, threshold: str
) -> tuple[str, str, str]:
    """Return the formulas of a block's missing cents, threshold and count above it."""
    return (
        f"={target_cents}-SUM({floors})",
        f"=IF({missing}>0,LARGE({remainders},{missing}),-1)",
        f'=IF({missing}>0,COUNTIF({remainders},">"&{threshold}),0)',
    )


def rounded_formula(
    floor: str,
    remainder: str,
    block_start: str,
    missing: str,
    threshold: str,
    above: str,
) -> str:
    """Return the formula of one amount rounded to cents, in currency units.

    ``block_start`` is the first remainder cell of the block, absolute in the
    direction the block runs, so that COUNTIF counts the ties up to this amount.
    """
    tie = f"IF(COUNTIF({block_start}:{remainder},{threshold})<={missing}-{above},1,0)"
    extra = f"IF({missing}<=0,0,IF({remainder}>{threshold},1,IF({remainder}={threshold},{tie},0)))"
    return f"=({floor}+{extra})/100"
