"""General-ledger input: the GL export and the account-to-component mapping.

GL export (CSV, or a worksheet range with a header row)::

    period,account,cost_centre,amount,description
    2025-01,610100,CC-100,5000.00,GPU depreciation

Codes are kept as text, so ``000150`` keeps its leading zeros and ``6100-A`` is a
valid account. ``amount`` is required on every line, and ``(120.50)`` reads as -120.50.
An amount has whole cents (at most two decimals that are not zero, so ``350.005`` is
rejected rather than rounded) and lies within +-9,999,999,999,999.99, and the
amounts of one ledger, signs ignored, add up to no more than that. Within these
limits every amount and every total is exact to the cent.

Mapping (CSV)::

    match,account,account_to,component
    exact,610100,,Silicon
    prefix,62,,Energy
    range,700000,709999,Operations

- ``exact`` matches one account code.
- ``prefix`` matches every code that starts with ``account``.
- ``range`` matches codes of the same length as its bounds that lie from ``account`` to
  ``account_to`` inclusive in character order, which is numeric order for digit
  codes of equal length. Both bounds must have the same length.

Matching is case-sensitive. An account that two rules match is an error naming both
rules. An account that no rule matches is reported as unmapped, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokenbom_xl.errors import InputError
from tokenbom_xl.rounding import MAX_AMOUNT, MAX_CENTS
from tokenbom_xl.scenario import COMPONENTS
from tokenbom_xl.tabular import (
    cell_error,
    codes_and_labels,
    csv_cell_text,
    first_true,
    parse_numbers,
    range_to_text_table,
    read_csv_text_table,
)
from tokenbom_xl.usage import validate_period_labels

__all__ = [
    "GL_COLUMNS",
    "GL_MAP_COLUMNS",
    "GlMap",
    "GlRule",
    "Ledger",
    "gl_map_from_range",
    "ledger_from_range",
    "read_gl_map",
    "read_ledger",
]

GL_COLUMNS = ("period", "account", "cost_centre", "amount", "description")
GL_MAP_COLUMNS = ("match", "account", "account_to", "component")
MATCH_TYPES = ("exact", "prefix", "range")


@dataclass(frozen=True)
class Ledger:
    """Validated GL lines as arrays in file order."""

    source: str
    period: np.ndarray  # object array of YYYY-MM
    account: np.ndarray  # object array of text codes
    cost_centre: np.ndarray  # object array of text, "" where blank
    amount: np.ndarray  # float64, amount_cents / 100
    amount_cents: np.ndarray  # int64 whole cents, exact
    description: np.ndarray  # object array of text
    row: np.ndarray  # int64 row numbers, header = 1
    # Integer codes of period and account into their distinct labels.
    period_code: np.ndarray
    period_labels: np.ndarray
    account_code: np.ndarray
    account_labels: np.ndarray

    def __len__(self) -> int:
        return len(self.row)


@dataclass(frozen=True)
class GlRule:
    """One mapping rule, with ``number`` its row in the mapping file."""

    number: int
    match: str
    account: str
    account_to: str
    component: str  # display name, e.g. "Model Lifecycle"

    def describe(self) -> str:
        """Return the rule as text, e.g. 'rule on row 3 (prefix 62 -> Energy)'."""
        if self.match == "range":
            target = f"range {self.account}..{self.account_to}"
        else:
            target = f"{self.match} {self.account}"
        return f"rule on row {self.number} ({target} -> {self.component})"


@dataclass(frozen=True)
class GlMap:
    """Validated account-to-component rules."""

    source: str
    rules: list[GlRule]

    def match_accounts(self, accounts: np.ndarray) -> np.ndarray:
        """Return, per distinct account code, the index of the rule that matches it, or -1.

        Raises:
            InputError: two rules match one account. The message names both.
        """
        unique = np.asarray(accounts).astype(str)
        codes = pd.Series(unique, dtype=object)
        lengths = codes.str.len().to_numpy()
        matched = np.full(len(unique), -1, dtype=np.int64)
        for index, rule in enumerate(self.rules):
            if rule.match == "exact":
                hits = unique == rule.account
            elif rule.match == "prefix":
                hits = codes.str.startswith(rule.account).to_numpy(dtype=bool)
            else:
                hits = (
                    (lengths == len(rule.account))
                    & (unique >= rule.account)
                    & (unique <= rule.account_to)
                )
            clash = first_true(hits & (matched >= 0))
            if clash is not None:
                other = self.rules[int(matched[clash])]
                raise InputError(
                    f"{self.source}: account {str(unique[clash])!r} matches two rules: {other.describe()} and "
                    f"{rule.describe()}; change one so that each account matches one rule"
                )
            matched[hits] = index
        return matched


def read_ledger(path: str | Path) -> Ledger:
    """Read and validate a GL export CSV.

    Raises:
        InputError: a missing file or column, or an invalid cell. The message names
            the file, the row and the column.
    """
    frame = read_csv_text_table(path, GL_COLUMNS, kind="GL", numeric=("amount",))

    def amount_text(row: int) -> str:
        return csv_cell_text(path, GL_COLUMNS, kind="GL", row=row, column="amount")

    return _validate_ledger(frame, str(path), amount_text=amount_text)


def ledger_from_range(rows: Any, *, source: str = "ledger_range") -> Ledger:
    """Validate a GL export given as a worksheet range with a header row."""
    frame = range_to_text_table(rows, GL_COLUMNS, source=source)
    return _validate_ledger(frame, source)


def _validate_ledger(
    frame: pd.DataFrame,
    source: str,
    *,
    amount_text: Callable[[int], str] | None = None,
) -> Ledger:
    """Validate a GL frame and return it as arrays.

    ``amount_text(row)``, where given, returns a CSV amount as written, for messages.
    """
    rows = frame["row"].to_numpy()
    if len(frame) == 0:
        raise InputError(
            f"{source}: has a header but no GL lines; export the ledger lines below the header"
        )

    period_code, period_labels = codes_and_labels(frame["period"])
    validate_period_labels(period_code, period_labels, rows, source=source)
    period = period_labels[period_code]
    account_code, account_labels = codes_and_labels(frame["account"])
    account = account_labels[account_code]
    empty_account = first_true(account == "") if (account_labels == "").any() else None
    if empty_account is not None:
        raise cell_error(
            source,
            int(rows[empty_account]),
            "account",
            "empty; every GL line needs its account code",
        )

    amount, invalid = parse_numbers(frame["amount"])
    not_number = first_true(invalid)
    if not_number is not None:
        raise cell_error(
            source,
            int(rows[not_number]),
            "amount",
            f"{frame['amount'].iloc[not_number]!r} is not a number; give the amount, e.g. 1250.00",
        )
    missing = first_true(np.isnan(amount))
    if missing is not None:
        raise cell_error(
            source,
            int(rows[missing]),
            "amount",
            "empty; give the line's amount (0 if none)",
        )
    cents = _whole_cents(amount, frame["amount"], rows, source, amount_text)

    return Ledger(
        source=source,
        period=period,
        account=account,
        cost_centre=np.asarray(frame["cost_centre"], dtype=object),
        amount=cents / 100.0,
        amount_cents=cents,
        description=np.asarray(frame["description"], dtype=object),
        row=rows,
        period_code=period_code,
        period_labels=period_labels,
        account_code=account_code,
        account_labels=account_labels,
    )


def _whole_cents(
    amount: np.ndarray,
    cells: pd.Series,
    rows: np.ndarray,
    source: str,
    amount_text: Callable[[int], str] | None,
) -> np.ndarray:
    """Return the amounts as int64 cents.

    Raises:
        InputError: an amount is out of range or has a fraction of a cent, or the
            amounts add up, signs ignored, to more than MAX_AMOUNT.
    """

    def written_amount(index: int) -> str:
        value = cells.iloc[index]
        if isinstance(value, str):
            return repr(value)
        if amount_text is not None:
            return repr(amount_text(int(rows[index])))
        return repr(float(value))

    too_large = first_true(np.abs(amount) > MAX_AMOUNT)
    if too_large is not None:
        raise cell_error(
            source,
            int(rows[too_large]),
            "amount",
            f"{written_amount(too_large)} is outside the supported range of "
            f"-{MAX_AMOUNT:,.2f} to {MAX_AMOUNT:,.2f}; check the amount and its "
            "decimal separator",
        )
    cents = np.rint(amount * 100.0)
    # Below MAX_AMOUNT an amount with whole cents has at most 15 significant digits,
    # so it parses to the double nearest cents / 100. Two units in the last place of
    # slack absorb a parser that is off by one. NOTE: from 10**12 up, a fraction of
    # 0.02 cent (0.4 cent at MAX_AMOUNT) or less is within that slack and reads as
    # whole cents.
    nearest = cents / 100.0
    sub_cent = first_true(np.abs(amount - nearest) > 2 * np.spacing(np.abs(nearest)))
    if sub_cent is not None:
        raise cell_error(
            source,
            int(rows[sub_cent]),
            "amount",
            f"{written_amount(sub_cent)} has a fraction of a cent; give the amount "
            "with at most two decimals, as booked in the ledger",
        )
    cents = cents.astype(np.int64)
    # Summed as floats below MAX_CENTS, whole cents stay exact in every subtotal.
    absolute_total = float(np.abs(cents).sum(dtype=np.float64))
    if absolute_total > MAX_CENTS:
        raise InputError(
            f"{source}: the amounts add up, signs ignored, to {absolute_total / 100:,.2f}, "
            f"above the supported {MAX_AMOUNT:,.2f} per ledger; reconcile the ledger "
            "in parts, such as one period or one entity at a time"
        )
    return cents


def read_gl_map(path: str | Path) -> GlMap:
    """Read and validate an account-to-component mapping CSV.

    Raises:
        InputError: a missing file or column, no rules, an unknown match type or
            component, an empty account, an account_to on a rule that is not a
            range, or a range with bounds of different lengths or in the wrong order.
    """
    frame = read_csv_text_table(path, GL_MAP_COLUMNS, kind="GL mapping")
    return _validate_gl_map(frame, str(path))


def gl_map_from_range(rows: Any, *, source: str = "map_range") -> GlMap:
    """Validate a mapping given as a worksheet range with a header row."""
    frame = range_to_text_table(rows, GL_MAP_COLUMNS, source=source)
    return _validate_gl_map(frame, source)


def component_name(text: str) -> str | None:
    """Return the display name of a component given by name or key, any case, or None."""
    requested = text.strip().casefold()
    for key, label in COMPONENTS:
        if requested in (key.casefold(), label.casefold()):
            return label
    return None


def _validate_gl_map(frame: pd.DataFrame, source: str) -> GlMap:
    rules = []
    known = ", ".join(label for _, label in COMPONENTS)
    for record in frame.itertuples(index=False):
        row = int(record.row)
        match = record.match.casefold()
        if match not in MATCH_TYPES:
            raise cell_error(
                source,
                row,
                "match",
                f"{record.match!r} is invalid; use exact, prefix or range",
            )
        if record.account == "":
            raise cell_error(
                source,
                row,
                "account",
                "empty; give the account code, prefix or first code of the range",
            )
        component = component_name(record.component)
        if component is None:
            raise cell_error(
                source,
                row,
                "component",
                f"unknown component {record.component!r}; use one of {known}",
            )
        if match == "range":
            if record.account_to == "":
                raise cell_error(
                    source,
                    row,
                    "account_to",
                    "empty; a range needs its last account code here",
                )
            if len(record.account_to) != len(record.account):
                raise cell_error(
                    source,
                    row,
                    "account_to",
                    f"{record.account_to!r} has {len(record.account_to)} characters but {record.account!r} has "
                    f"{len(record.account)}; give both bounds with the same number of characters (pad with zeros)",
                )
            if record.account_to < record.account:
                raise cell_error(
                    source,
                    row,
                    "account_to",
                    f"{record.account_to!r} comes before {record.account!r}; swap the bounds",
                )
        elif record.account_to != "":
            raise cell_error(
                source,
                row,
                "account_to",
                f"{record.account_to!r} is only used by range rules; clear it or use match range",
            )
        rules.append(GlRule(row, match, record.account, record.account_to, component))

    if not rules:
        raise InputError(
            f"{source}: has a header but no rules; add one rule per account, prefix or range"
        )
    return GlMap(source=source, rules=rules)
