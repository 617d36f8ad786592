"""Reader for general-ledger exports (GL CSV) and asset depreciation profiles.

A GL export has one line per posting: period, account, cost centre, amount and
description. Account and cost-centre codes stay text, so ``001000`` keeps its
leading zeros. Amounts are decimals such as ``-1234.56``, or ``1,234.56`` when
quoted. A blank or unreadable amount rejects the line, and the report names it.
Lines of other periods are counted as outside the period. The bridge totals the
period's bookings by account and cost centre. Mapping accounts to BOM components is
the reconciliation's job.

Column names are matched case-insensitively, with common variants (``cost_center``,
``cost centre``, ``gl_account``, ``posting_period``). A period is ``YYYY-MM`` or a
date, whose month is taken.

An asset depreciation profile table (as Odoo exports: ``name``,
``account_asset_id``, ``depreciation_duration``, ``depreciation_period``) is
recognised by its columns and read as profiles with their life in months, so the
scenario's depreciation life can be compared with the books.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.inputs import (
    CsvLineError,
    IgnoredLines,
    csv_fields,
    open_input,
)
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.tablecheck import reject_duplicate_columns

__all__ = [
    "FORMAT",
    "PROFILE_FORMAT",
    "BookedTotal",
    "DepreciationProfile",
    "LedgerResult",
    "add_amounts",
    "read_ledger",
]

FORMAT = "GL CSV"
PROFILE_FORMAT = "depreciation profiles CSV"

_COLUMNS = {
    "period": ("period", "posting_period", "fiscal_period", "date", "posting_date"),
    "account": ("account", "gl_account", "account_code", "account_id"),
    "cost_centre": (
        "cost_centre",
        "cost_center",
        "cost centre",
        "cost center",
        "costcentre",
        "cost_centre_code",
    ),
    "amount": ("amount", "net_amount", "value", "balance"),
    "description": ("description", "memo", "text", "narrative"),
}
_REQUIRED = ("period", "account", "amount")
_PERIOD = re.compile(r"(\d{4})-(\d{2})(?:-\d{2})?(?:[T ].*)?")

# A booked amount is below 10^24 in size with at most 12 decimal places, so it has at
# most 36 digits. Sums of such amounts over any number of lines a file can hold fit
# in 64 digits, so the context below adds them exactly (Python's default context
# rounds to 28 digits).
_MAX_AMOUNT = Decimal(10) ** 24
_MIN_EXPONENT = -12
_EXACT = Context(prec=64)

# Depreciation profiles listed in the source report's note. The rest are counted.
_LISTED_PROFILES = 20


def add_amounts(first: Decimal, second: Decimal) -> Decimal:
    """Return the exact sum of two booked amounts or totals."""
    return _EXACT.add(first, second)


@dataclass
class BookedTotal:
    """Bookings of one account and cost centre in the period."""

    account: str
    cost_centre: str
    amount: Decimal = Decimal(0)
    lines: int = 0


@dataclass(frozen=True)
class DepreciationProfile:
    """One asset class of the books and its depreciation life."""

    name: str
    asset_account: str
    expense_account: str
    life_months: int


@dataclass
class LedgerResult:
    """Booked totals or depreciation profiles from one ledger file, and its report."""

    report: SourceReport
    booked: dict[tuple[str, str], BookedTotal] = field(default_factory=dict)
    profiles: list[DepreciationProfile] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        """Exact sum of the booked amounts."""
        total = Decimal(0)
        for item in self.booked.values():
            total = add_amounts(total, item.amount)
        return total


def read_ledger(path: str, options: ReadOptions) -> LedgerResult:
    """Read a GL export (or a depreciation profile table) for the period.

    Raises:
        InputError: the file has no header or lacks a required column. The
            message names the columns found and the ones expected.
    """
    with open_input(path, options.limits) as source:
        lines = source.lines(IgnoredLines())
        try:
            _, header_line = next(lines)
        except StopIteration:
            raise InputError(
                f"{path}: the file is empty; export the GL with a header row"
            ) from None
        try:
            header = [name.strip().lower() for name in csv_fields(header_line)]
        except CsvLineError as exc:
            raise InputError(
                f"{path}: line 1: unreadable CSV header ({exc}); export the GL with a header row"
            ) from None
        if "depreciation_duration" in header:
            return _read_profiles(path, header, lines)
        columns = _locate_columns(header, path)
        result = LedgerResult(SourceReport("ledger", FORMAT, path))
        for number, line in lines:
            if not line.strip():
                continue
            try:
                values = csv_fields(line)
            except CsvLineError as exc:
                result.report.rows_read += 1
                result.report.reject(number, f"unreadable CSV ({exc})")
                continue
            _read_booking(result, columns, values, number, len(header), options)
    return result


def _locate_columns(header: list[str], path: str) -> dict[str, int]:
    """Return the index of each known column.

    Raises:
        InputError: a required column is missing, or a column used appears twice.
    """
    columns: dict[str, int] = {}
    for name, variants in _COLUMNS.items():
        for variant in variants:
            if variant in header:
                columns[name] = header.index(variant)
                break
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        raise InputError(
            f"{path}: line 1: missing column {', '.join(missing)} (found {', '.join(header) or 'none'}); "
            "export the GL with period, account, cost_centre, amount and description"
        )
    located = [header[index] for index in columns.values()]
    reject_duplicate_columns(header, located, source=path)
    return columns


def _read_booking(
    result: LedgerResult,
    columns: dict[str, int],
    values: list[str],
    number: int,
    width: int,
    options: ReadOptions,
) -> None:
    """Add one GL line to its account and cost centre, or reject it with the reason."""
    report = result.report
    report.rows_read += 1
    if len(values) != width:
        report.reject(
            number,
            f"{len(values)} fields where the header has {width} (truncated line?)",
        )
        return
    period_text = values[columns["period"]].strip()
    match = _PERIOD.fullmatch(period_text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        report.reject(number, f"period {period_text!r} is not YYYY-MM or a date")
        return
    period = f"{match.group(1)}-{match.group(2)}"
    account = values[columns["account"]].strip()
    if not account:
        report.reject(number, "blank account")
        return

    amount_text = values[columns["amount"]].strip()
    try:
        amount = Decimal(amount_text.replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        report.reject(number, f"amount {amount_text!r} is not a number")
        return
    exponent = amount.as_tuple().exponent
    if amount.copy_abs() >= _MAX_AMOUNT or int(exponent) < _MIN_EXPONENT:
        report.reject(
            number, "amount of 10^24 or more, or with more than 12 decimal places"
        )
        return

    if options.period is not None and period != options.period.label:
        if not options.include_outside_period:
            report.rows_outside_period += 1
            report.flag(
                "outside_period",
                f"lines of other periods than {options.period.label} were left out",
                key="outside_period",
            )
            return
        report.rows_used_outside_period += 1
        report.flag(
            "outside_period",
            f"lines of other periods than {options.period.label} were counted "
            "(--include-outside-period)",
            key="outside_period",
        )

    cost_centre = (
        values[columns["cost_centre"]].strip() if "cost_centre" in columns else ""
    )
    booked = result.booked.setdefault(
        (account, cost_centre), BookedTotal(account, cost_centre)
    )
    booked.amount = add_amounts(booked.amount, amount)
    booked.lines += 1
    report.rows_used += 1


def _read_profiles(
    path: str, header: list[str], lines: Iterator[tuple[int, str]]
) -> LedgerResult:
    """Read an Odoo asset depreciation profile table into profiles with their life."""
    result = LedgerResult(SourceReport("ledger", PROFILE_FORMAT, path))
    report = result.report
    index = {name: position for position, name in enumerate(header)}
    for number, line in lines:
        if not line.strip():
            continue
        report.rows_read += 1
        try:
            values = csv_fields(line)
        except CsvLineError as exc:
            report.reject(number, f"unreadable CSV ({exc})")
            continue
        if len(values) != len(header):
            report.reject(
                number,
                f"{len(values)} fields where the header has {len(header)} (truncated line?)",
            )
            continue

        # Odoo's duration counts depreciations and its period is the months between
        # them. Without a depreciation_period column, they are taken as 12 months apart.
        duration = values[index["depreciation_duration"]].strip()
        period_months = (
            values[index["depreciation_period"]].strip()
            if "depreciation_period" in index
            else "12"
        )
        if (
            not (_is_small_count(duration) and _is_small_count(period_months))
            or int(duration) == 0
            or int(period_months) == 0
        ):
            report.reject(
                number,
                f"depreciation_duration {duration!r} or depreciation_period {period_months!r} is not a whole number > 0",
            )
            continue

        name = values[index["name"]].strip() if "name" in index else values[0]
        asset = (
            values[index["account_asset_id"]].strip()
            if "account_asset_id" in index
            else ""
        )
        expense = (
            values[index["account_depreciation_expense_id"]].strip()
            if "account_depreciation_expense_id" in index
            else ""
        )
        result.profiles.append(
            DepreciationProfile(
                name, asset, expense, int(duration) * int(period_months)
            )
        )
        report.rows_used += 1

    listed = ", ".join(
        f"{p.name[:80]} {p.life_months} months"
        for p in result.profiles[:_LISTED_PROFILES]
    )
    more = len(result.profiles) - _LISTED_PROFILES
    report.notes.append(
        "depreciation profiles: " + listed + (f", and {more} more" if more > 0 else "")
    )
    return result


def _is_small_count(text: str) -> bool:
    """Return whether ``text`` is ASCII digits of a count below a million."""
    return text.isascii() and text.isdigit() and len(text) <= 6
