"""The Usage Data and Chargeback sheets.

Usage Data contains the usage rows as read, with integer keys for period, business unit
and model, and each row's busy accelerator-seconds as a formula. The formulas match
on the keys because a SUMIFS criterion on text would treat a name such as ``=x`` or
``a*`` as an operator or a wildcard.

Chargeback computes every figure with native formulas. For the factory, these are its
accelerator-seconds and the models' seconds per good token. Per period, they are the
utilization, C(U), capacity variance and unreserved idle. Per period and consumer,
they are the usage charge, capacity variance, unreserved idle and total, exact and
rounded to cents by largest remainder. The
rounding helper columns sit at the right of the lines table.

NOTE: each line's SUMIFS scans the whole usage table, so recalculation time grows with
lines x usage rows. Tens of thousands of usage rows recalculate in seconds, and
hundreds of thousands may take minutes in Excel or LibreOffice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from openpyxl.worksheet.worksheet import Worksheet

from tokenbom_xl.chargeback import ChargebackResult
from tokenbom_xl.errors import OutputError
from tokenbom_xl.rounding import cent_parts, remainder_thresholds
from tokenbom_xl.usage import UsageData
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.checks import within_tolerance
from tokenbom_xl.workbook.context import BuildContext, quote_sheet, write_text
from tokenbom_xl.workbook.rounding import (
    floor_formula,
    remainder_formula,
    rounded_formula,
    threshold_formulas,
)

__all__ = ["ChargebackLayout", "period_key", "write_chargeback_sheets"]

USAGE_SHEET = "Usage Data"
CHARGEBACK_SHEET = "Chargeback"
EXCEL_MAX_ROWS = 1_048_576
USAGE_FIRST_ROW = 5


def period_key(period: str) -> int:
    """Return a period's numeric key, 2025-01 -> 202501, used as a SUMIFS criterion."""
    return int(period[:4]) * 100 + int(period[5:7])


@dataclass(frozen=True)
class ChargebackLayout:
    """Positions of the Chargeback sheet's figures, for the sheets that refer to them."""

    period_rows: dict[str, int]  # period -> its row in the periods table
    line_first_row: (
        int  # row of the first consumer line; line i is on line_first_row + i
    )
    utilization_column: str
    usage_column: str
    variance_column: str
    idle_column: str
    total_column: str  # exact total
    charged_column: str  # total rounded to cents


def write_chargeback_sheets(
    ctx: BuildContext, usage: UsageData, result: ChargebackResult
) -> ChargebackLayout:
    """Write the Chargeback and Usage Data sheets and return the Chargeback layout.

    Raises:
        OutputError: the usage has more rows than one worksheet can contain.
    """
    if len(usage) + USAGE_FIRST_ROW > EXCEL_MAX_ROWS:
        raise OutputError(
            f"{usage.source}: {len(usage):,} usage rows do not fit in one worksheet ({EXCEL_MAX_ROWS:,} rows); "
            "use `tokenbom chargeback` for the CSV, or build the workbook from fewer periods"
        )
    chargeback = ctx.add_sheet(
        CHARGEBACK_SHEET, "Each period's C(U) charged to business units, to the cent"
    )
    data = ctx.add_sheet(
        USAGE_SHEET, "The usage rows: good tokens by period, business unit and model"
    )
    unit_keys = {
        name: number
        for number, name in enumerate(sorted(usage.unit_labels.astype(str)), start=1)
    }
    model_rows = _write_factory_and_models(ctx, chargeback, usage, result)
    _write_usage_data(ctx, data, usage, result, unit_keys, model_rows)
    return _write_periods_and_lines(
        ctx, chargeback, usage, result, unit_keys, model_rows
    )


# ---------------------------------------------------------------------------
# Factory and models


@dataclass(frozen=True)
class _ModelRows:
    first: int
    last: int
    seconds_column: str = "F"


def _write_factory_and_models(
    ctx: BuildContext, ws: Worksheet, usage: UsageData, result: ChargebackResult
) -> _ModelRows:
    scenario = ctx.scenario
    ws["A1"] = "Chargeback"
    ws["A1"].font = style.TITLE_FONT
    ws["A2"] = (
        "Usage charge at the full-absorption rate per model, capacity variance to reserved-but-unused capacity, "
        "unreserved idle to the central line or spread by usage (Inputs: chargeback_unreserved_idle)."
    )
    ws["A2"].font = style.SUBTITLE_FONT

    ws["A4"] = "Factory"
    ws["A4"].font = style.SECTION_FONT
    style.write_header(ws, 5, ["Figure", "Value", "Unit"])
    figures = [
        (
            "Accelerator-seconds per period S",
            "=accelerators*3600*hours_per_period",
            result.seconds_capacity,
            style.TOKENS,
            "accelerator-seconds",
            "cb_seconds_capacity",
        ),
        (
            "Cost at full utilization C(1)",
            "=bom_full_cost",
            result.full_cost,
            ctx.money,
            f"{scenario.currency}/period",
            None,
        ),
        (
            "Idle basis F + i x E_full",
            "=bom_fixed+cost_energy_idle",
            result.idle_basis,
            ctx.money,
            f"{scenario.currency}/period",
            "cb_idle_basis",
        ),
        (
            "Unreserved idle goes to",
            "=chargeback_unreserved_idle",
            scenario.chargeback.unreserved_idle,
            None,
            "policy",
            "cb_policy",
        ),
    ]
    row = 5
    for label, formula, expected, number_format, unit, name in figures:
        row += 1
        ws[f"A{row}"] = label
        ctx.formula(ws, f"B{row}", formula, expected, number_format, name=name)
        ws[f"C{row}"] = unit

    row += 1
    ws[f"A{row}"] = "Central line"
    write_text(ws, f"B{row}", scenario.chargeback.central_line)
    ws[f"C{row}"] = "consumer name"

    row += 2
    ws[f"A{row}"] = "Models"
    ws[f"A{row}"].font = style.SECTION_FONT
    row += 1
    style.write_header(
        ws,
        row,
        [
            "Model key",
            "Model",
            "Tokens/s per accelerator",
            "Yield",
            "",
            "Accelerator-seconds per good token",
        ],
    )
    first = row + 1
    several = bool(scenario.models)
    single_name = next(
        (name for name in usage.model_labels if name != ""), result.models[0].name
    )
    for number, model in enumerate(result.models, start=1):
        row += 1
        ws[f"A{row}"] = number
        if several:
            write_text(ws, f"B{row}", model.name)
            speed, good = (
                f"=model_{number}_tokens_per_second",
                f"=model_{number}_yield_rate",
            )
        else:
            write_text(ws, f"B{row}", single_name)
            speed, good = "=tokens_per_second", "=yield_rate"
        ctx.formula(ws, f"C{row}", speed, model.tokens_per_second, style.NUMBER)
        ctx.formula(ws, f"D{row}", good, model.yield_rate, style.PERCENT)
        ctx.formula(
            ws,
            f"F{row}",
            f"=1/(C{row}*D{row})",
            1.0 / (model.tokens_per_second * model.yield_rate),
            "0.000000000",
        )
    return _ModelRows(first=first, last=row)


# ---------------------------------------------------------------------------
# Usage Data


def _write_usage_data(
    ctx: BuildContext,
    ws: Worksheet,
    usage: UsageData,
    result: ChargebackResult,
    unit_keys: dict[str, int],
    models: _ModelRows,
) -> None:
    ws["A1"] = "Usage Data"
    ws["A1"].font = style.TITLE_FONT
    write_text(
        ws,
        "A2",
        f"Read from {usage.source}. Keys are numbers for the Chargeback formulas; busy time is a formula.",
    )
    ws["A2"].font = style.SUBTITLE_FONT
    style.write_header(
        ws,
        USAGE_FIRST_ROW - 1,
        [
            "Period",
            "Business unit",
            "Model",
            "Good tokens",
            "Reserved share",
            "Period key",
            "Unit key",
            "Model key",
            "Busy accelerator-seconds",
            "Source row",
        ],
    )
    seconds = f"{quote_sheet(CHARGEBACK_SHEET)}!${models.seconds_column}${models.first}:${models.seconds_column}${models.last}"
    busy = result.usage_busy_seconds
    model_key = result.usage_model + 1
    for index in range(len(usage)):
        row = USAGE_FIRST_ROW + index
        write_text(ws, f"A{row}", usage.period[index])
        write_text(ws, f"B{row}", usage.business_unit[index])
        write_text(ws, f"C{row}", usage.model[index])
        ws[f"D{row}"] = float(usage.good_tokens[index])
        ws[f"D{row}"].number_format = style.TOKENS
        share = usage.reserved_share[index]
        if not np.isnan(share):
            ws[f"E{row}"] = float(share)
            ws[f"E{row}"].number_format = style.PERCENT
        ws[f"F{row}"] = period_key(usage.period[index])
        ws[f"G{row}"] = unit_keys[str(usage.business_unit[index])]
        ws[f"H{row}"] = int(model_key[index])
        ctx.formula(
            ws,
            f"I{row}",
            f"=IF(H{row}=0,0,D{row}*INDEX({seconds},H{row}))",
            float(busy[index]),
            style.TOKENS,
        )
        ws[f"J{row}"] = int(usage.row[index])

    style.set_column_widths(
        ws,
        {
            "A": 10,
            "B": 28,
            "C": 22,
            "D": 18,
            "E": 14,
            "F": 11,
            "G": 10,
            "H": 10,
            "I": 22,
            "J": 11,
        },
    )
    style.finish_sheet(
        ws,
        freeze=f"A{USAGE_FIRST_ROW}",
        title_rows=f"{USAGE_FIRST_ROW - 1}:{USAGE_FIRST_ROW - 1}",
    )


def _usage_range(column: str, rows: int) -> str:
    last = USAGE_FIRST_ROW + max(rows, 1) - 1
    return f"{quote_sheet(USAGE_SHEET)}!${column}${USAGE_FIRST_ROW}:${column}${last}"


# ---------------------------------------------------------------------------
# Periods and consumer lines

# Columns of the periods table.
_PERIOD_COLUMNS = [
    ("A", "Period"),
    ("B", "Period key"),
    ("C", "Busy accelerator-seconds"),
    ("D", "Utilization U"),
    ("E", "C(U)"),
    ("F", "C(U) in cents"),
    ("G", "Reserved share"),
    ("H", "Reserved but unused"),
    ("I", "Capacity variance V"),
    ("J", "Divisor max(unused, 1 - U)"),
    ("K", "Unreserved idle"),
    ("L", "Spread by usage"),
    ("M", "Charged (rounded)"),
    ("N", "Adds up to C(U)"),
    ("O", "Missing cents"),
    ("P", "Remainder threshold"),
    ("Q", "Remainders above"),
]

# Columns of the lines table; the rounding helpers follow from column R.
_LINE_COLUMNS = [
    ("A", "Period"),
    ("B", "Consumer"),
    ("C", "Period key"),
    ("D", "Unit key"),
    ("E", "Central line"),
    ("F", "Busy accelerator-seconds"),
    ("G", "Busy share u"),
    ("H", "Reserved share r"),
    ("I", "Unused reserved q"),
    ("J", "Usage charge"),
    ("K", "Capacity variance"),
    ("L", "Unreserved idle"),
    ("M", "Total (exact)"),
    ("N", "Charged"),
    ("O", "Usage charge (cents)"),
    ("P", "Capacity variance (cents)"),
    ("Q", "Unreserved idle (cents)"),
    ("R", "Total floor"),
    ("S", "Total remainder"),
    ("T", "Usage floor"),
    ("U", "Variance floor"),
    ("V", "Idle floor"),
    ("W", "Usage remainder"),
    ("X", "Variance remainder"),
    ("Y", "Idle remainder"),
    ("Z", "Parts missing cents"),
    ("AA", "Parts threshold"),
    ("AB", "Parts above"),
]


def _write_periods_and_lines(
    ctx: BuildContext,
    ws: Worksheet,
    usage: UsageData,
    result: ChargebackResult,
    unit_keys: dict[str, int],
    models: _ModelRows,
) -> ChargebackLayout:
    periods = result.periods
    lines = result.lines
    row = models.last + 2

    ws[f"A{row}"] = "Periods (utilization from usage: busy accelerator-seconds / S)"
    ws[f"A{row}"].font = style.SECTION_FONT
    row += 1
    style.write_header(ws, row, [label for _, label in _PERIOD_COLUMNS])
    period_first = row + 1
    period_rows = {
        period: period_first + index for index, period in enumerate(periods["period"])
    }
    line_header = period_first + len(periods) + 2
    line_first = line_header + 1
    line_last = line_first + len(lines) - 1
    if line_last > EXCEL_MAX_ROWS:
        raise OutputError(
            f"{len(lines):,} chargeback lines do not fit in one worksheet; use `tokenbom chargeback` for the CSV"
        )

    period_of_line = lines["period_index"].to_numpy()
    blocks = _blocks(period_of_line, len(periods), line_first)
    total_missing, total_threshold, total_above = remainder_thresholds(
        lines["total"].to_numpy(),
        period_of_line,
        periods["total_cost_cents"].to_numpy(),
    )
    _write_period_rows(
        ctx,
        ws,
        result,
        period_first,
        blocks,
        (total_missing, total_threshold, total_above),
        usage,
    )
    _write_line_rows(
        ctx,
        ws,
        result,
        line_header,
        line_first,
        unit_keys,
        period_rows,
        blocks,
        len(usage),
    )
    _add_chargeback_checks(
        ctx, period_first, period_first + len(periods) - 1, line_first, line_last
    )

    widths = {letter: 14 for letter, _ in _LINE_COLUMNS}
    widths.update({"A": 34, "B": 28, "F": 18})
    style.set_column_widths(ws, widths)
    # The cent-rounding helpers of the lines table (largest remainder).
    style.group_helper_columns(ws, "R", "AB")
    style.finish_sheet(
        ws, freeze=f"C{line_first}", title_rows=f"{line_header}:{line_header}"
    )
    return ChargebackLayout(
        period_rows=period_rows,
        line_first_row=line_first,
        utilization_column="D",
        usage_column="J",
        variance_column="K",
        idle_column="L",
        total_column="M",
        charged_column="N",
    )


def _blocks(
    period_of_line: np.ndarray, count: int, first_row: int
) -> list[tuple[int, int]]:
    """Return the first and last worksheet row of each period's lines (lines sorted by period)."""
    starts = np.searchsorted(period_of_line, np.arange(count), side="left")
    ends = np.searchsorted(period_of_line, np.arange(count), side="right")
    return [
        (first_row + int(start), first_row + int(end) - 1)
        for start, end in zip(starts, ends)
    ]


def _write_period_rows(ctx, ws, result, first, blocks, thresholds, usage) -> None:
    periods = result.periods
    lines = result.lines
    missing, threshold, above = thresholds
    busy_range = _usage_range("I", len(usage))
    key_range = _usage_range("F", len(usage))
    utilization = periods["utilization"].to_numpy()
    spread = (ctx.scenario.chargeback.unreserved_idle == "spread-by-usage") & (
        utilization > 0
    )
    denominator = np.maximum(
        periods["reserved_unused_share"].to_numpy(), 1.0 - utilization
    )
    charged = (
        np.bincount(
            lines["period_index"].to_numpy(),
            weights=lines["total_cents"].to_numpy(),
            minlength=len(periods),
        )
        / 100.0
    )

    for index, record in enumerate(periods.itertuples(index=False)):
        row = first + index
        start, end = blocks[index]
        write_text(ws, f"A{row}", record.period)
        ws[f"B{row}"] = period_key(record.period)
        ctx.formula(
            ws,
            f"C{row}",
            f"=SUMIFS({busy_range},{key_range},B{row})",
            record.busy_seconds,
            style.TOKENS,
        )
        ctx.formula(
            ws,
            f"D{row}",
            f"=C{row}/cb_seconds_capacity",
            record.utilization,
            style.PERCENT,
        )
        ctx.formula(
            ws,
            f"E{row}",
            f"=bom_fixed+cost_energy_full*(energy_idle_fraction+(1-energy_idle_fraction)*D{row})",
            record.total_cost,
            ctx.money,
        )
        ctx.formula(
            ws,
            f"F{row}",
            f"=ROUND(E{row}*100,0)",
            float(record.total_cost_cents),
            style.TOKENS,
        )
        ctx.formula(
            ws,
            f"G{row}",
            f"=SUM(H{start}:H{end})",
            record.reserved_share,
            style.PERCENT,
        )
        ctx.formula(
            ws,
            f"H{row}",
            f"=SUM(I{start}:I{end})",
            record.reserved_unused_share,
            style.PERCENT,
        )
        ctx.formula(
            ws,
            f"I{row}",
            f"=cb_idle_basis*(1-D{row})",
            record.capacity_variance,
            ctx.money,
        )
        ctx.formula(
            ws,
            f"J{row}",
            f"=MAX(H{row},1-D{row})",
            float(denominator[index]),
            style.PERCENT,
        )
        ctx.formula(
            ws,
            f"K{row}",
            f"=IF(J{row}>0,I{row}*(J{row}-H{row})/J{row},0)",
            record.unreserved_idle,
            ctx.money,
        )
        ctx.formula(
            ws,
            f"L{row}",
            f'=AND(cb_policy="spread-by-usage",D{row}>0)',
            bool(spread[index]),
        )
        ctx.formula(
            ws, f"M{row}", f"=SUM(N{start}:N{end})", float(charged[index]), ctx.money
        )
        ctx.formula(ws, f"N{row}", f"=ROUND(M{row}*100,0)=F{row}", True)

        formulas = threshold_formulas(
            f"F{row}", f"R{start}:R{end}", f"S{start}:S{end}", f"O{row}", f"P{row}"
        )
        for column, formula, value in zip(
            "OPQ", formulas, (missing[index], threshold[index], above[index])
        ):
            ctx.formula(ws, f"{column}{row}", formula, float(value), style.INTEGER)


def _write_line_rows(
    ctx, ws, result, header_row, first, unit_keys, period_rows, blocks, usage_count: int
) -> None:
    lines = result.lines
    style.write_header(
        ws,
        header_row - 1,
        ["Charges per period and consumer"]
        + [""] * 16
        + ["Rounding to cents (largest remainder)"],
    )
    ws.cell(row=header_row - 1, column=1).font = style.SECTION_FONT
    style.write_header(ws, header_row, [label for _, label in _LINE_COLUMNS])

    # Engine values of the cent-rounding helpers, for the expectations.
    total_floor, total_remainder = cent_parts(lines["total"].to_numpy())
    parts = np.column_stack(
        [
            lines["usage_charge"].to_numpy(),
            lines["capacity_variance"].to_numpy(),
            lines["unreserved_idle"].to_numpy(),
        ]
    )
    part_floor, part_remainder = cent_parts(parts)
    groups = np.repeat(np.arange(len(lines)), 3)
    parts_missing, parts_threshold, parts_above = remainder_thresholds(
        parts.ravel(), groups, lines["total_cents"].to_numpy()
    )

    money = ctx.money
    busy_range = _usage_range("I", usage_count)
    key_range = _usage_range("F", usage_count)
    unit_range = _usage_range("G", usage_count)
    share_range = _usage_range("E", usage_count)
    for index, record in enumerate(lines.itertuples(index=False)):
        row = first + index
        period_row = period_rows[record.period]
        start = blocks[record.period_index][0]
        write_text(ws, f"A{row}", record.period)
        write_text(ws, f"B{row}", record.business_unit)
        ws[f"C{row}"] = period_key(record.period)
        # A central line that is no business unit has key 0, which no usage row has.
        ws[f"D{row}"] = unit_keys.get(record.business_unit, 0)
        ws[f"E{row}"] = bool(record.central)

        keys = f"{key_range},C{row},{unit_range},D{row}"
        ctx.formula(
            ws,
            f"F{row}",
            f"=SUMIFS({busy_range},{keys})",
            record.busy_seconds,
            style.TOKENS,
        )
        ctx.formula(
            ws,
            f"G{row}",
            f"=F{row}/cb_seconds_capacity",
            record.busy_share,
            style.PERCENT,
        )
        ctx.formula(
            ws,
            f"H{row}",
            f'=IF(COUNTIFS({keys},{share_range},"<>")=0,0,SUMIFS({share_range},{keys})/COUNTIFS({keys},{share_range},"<>"))',
            record.reserved_share,
            style.PERCENT,
        )
        ctx.formula(
            ws, f"I{row}", f"=MAX(H{row}-G{row},0)", record.unused_share, style.PERCENT
        )

        ctx.formula(
            ws,
            f"J{row}",
            f"=F{row}*bom_full_cost/cb_seconds_capacity",
            record.usage_charge,
            money,
        )
        ctx.formula(
            ws,
            f"K{row}",
            f"=IF($J${period_row}>0,I{row}*$I${period_row}/$J${period_row},0)",
            record.capacity_variance,
            money,
        )
        ctx.formula(
            ws,
            f"L{row}",
            f"=IF($L${period_row},$K${period_row}*IF($D${period_row}>0,G{row}/$D${period_row},0),IF(E{row},$K${period_row},0))",
            record.unreserved_idle,
            money,
        )
        ctx.formula(ws, f"M{row}", f"=J{row}+K{row}+L{row}", record.total, money)

        ctx.formula(
            ws,
            f"N{row}",
            rounded_formula(
                f"R{row}",
                f"S{row}",
                f"S${start}",
                f"$O${period_row}",
                f"$P${period_row}",
                f"$Q${period_row}",
            ),
            record.total_cents / 100.0,
            money,
            bold=True,
        )
        # Parts: rounded within the line so that they add up to its charged total.
        for column, part, floor_column, remainder_column in (
            ("O", 0, "T", "W"),
            ("P", 1, "U", "X"),
            ("Q", 2, "V", "Y"),
        ):
            ctx.formula(
                ws,
                f"{column}{row}",
                rounded_formula(
                    f"{floor_column}{row}",
                    f"{remainder_column}{row}",
                    f"$W{row}",
                    f"Z{row}",
                    f"AA{row}",
                    f"AB{row}",
                ),
                float(
                    getattr(
                        record,
                        (
                            "usage_charge_cents",
                            "capacity_variance_cents",
                            "unreserved_idle_cents",
                        )[part],
                    )
                )
                / 100.0,
                money,
            )

        ctx.formula(
            ws,
            f"R{row}",
            floor_formula(f"M{row}"),
            float(total_floor[index]),
            style.INTEGER,
        )
        ctx.formula(
            ws,
            f"S{row}",
            remainder_formula(f"M{row}", f"R{row}"),
            float(total_remainder[index]),
            style.INTEGER,
        )
        for part, (amount_column, floor_column, remainder_column) in enumerate(
            (("J", "T", "W"), ("K", "U", "X"), ("L", "V", "Y"))
        ):
            ctx.formula(
                ws,
                f"{floor_column}{row}",
                floor_formula(f"{amount_column}{row}"),
                float(part_floor[index, part]),
                style.INTEGER,
            )
            ctx.formula(
                ws,
                f"{remainder_column}{row}",
                remainder_formula(f"{amount_column}{row}", f"{floor_column}{row}"),
                float(part_remainder[index, part]),
                style.INTEGER,
            )
        formulas = threshold_formulas(
            f"ROUND(N{row}*100,0)",
            f"T{row}:V{row}",
            f"W{row}:Y{row}",
            f"Z{row}",
            f"AA{row}",
        )
        for column, formula, value in zip(
            ("Z", "AA", "AB"),
            formulas,
            (parts_missing[index], parts_threshold[index], parts_above[index]),
        ):
            ctx.formula(ws, f"{column}{row}", formula, float(value), style.INTEGER)


def _add_chargeback_checks(
    ctx: BuildContext,
    period_first: int,
    period_last: int,
    line_first: int,
    line_last: int,
) -> None:
    sheet = quote_sheet(CHARGEBACK_SHEET)
    periods = lambda column: f"{sheet}!${column}${period_first}:${column}${period_last}"
    lines = lambda column: f"{sheet}!${column}${line_first}:${column}${line_last}"
    ctx.add_check(
        "Chargeback: utilization from usage is at most 1",
        f"MAX({periods('D')})<=1+1E-9",
        "busy accelerator-seconds fit in the factory's accelerator-seconds in every period",
    )
    ctx.add_check(
        "Chargeback: reserved shares add up to at most 100%",
        f"MAX({periods('G')})<=1+1E-6",
        "no period reserves more than the whole factory",
    )
    ctx.add_check(
        "Chargeback: charges add up to C(U) to the cent",
        f"COUNTIF({periods('N')},FALSE)=0",
        "in every period the rounded charges add up to C(U) rounded to cents",
    )
    ctx.add_check(
        "Chargeback: exact charges add up to C(U)",
        within_tolerance(f"SUM({lines('M')})", f"SUM({periods('E')})"),
        "usage charge + capacity variance + unreserved idle = C(U), summed over periods",
    )
    ctx.add_check(
        "Chargeback: usage charges add up to U x C(1)",
        within_tolerance(
            f"SUM({lines('J')})", f"SUMPRODUCT({periods('D')})*bom_full_cost"
        ),
        "the usage charges absorb A + L: the good tokens and their scrap",
    )
    ctx.add_check(
        "Chargeback: parts add up to each line's charge",
        f"SUMPRODUCT(ABS(ROUND(({lines('O')}+{lines('P')}+{lines('Q')}-{lines('N')})*100,0)))=0",
        "usage charge + capacity variance + unreserved idle in cents = the line's charge",
    )
    ctx.add_check(
        "Chargeback: no charge is negative",
        f"MIN({lines('N')},{lines('O')},{lines('P')},{lines('Q')})>=0",
        "rounding never makes an allocation negative",
    )
