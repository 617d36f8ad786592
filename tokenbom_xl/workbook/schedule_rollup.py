"""Below the Schedule sheet's monthly block: the quarterly roll-up, the decay waterfall and the charts.

The quarterly roll-up adds up each fiscal quarter's months, and its rates are quarter
totals divided by quarter totals. The waterfall starts at the first month's cost per good token, steps through
the decay parts summed over the horizon, and ends at the last month's. A stacked
column chart draws it with an invisible base series, which Excel 2010 can show (its
own waterfall chart type came later).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.worksheet.worksheet import Worksheet

from tokenbom_xl.schedule import CAUSES, Schedule
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.checks import within_tolerance
from tokenbom_xl.workbook.context import BuildContext
from tokenbom_xl.workbook.schedule_layout import (
    FIRST_PERIOD_COLUMN,
    HEADER_ROW,
    MILLION,
    SHEET,
    ScheduleLayout,
    period_letter,
)

# Colours of the waterfall bars: falls in cost green, rises red, the two totals blue.
FALL_COLOUR = "70AD47"
RISE_COLOUR = "C00000"
TOTAL_COLOUR = "305496"


def write_rollup(
    ctx: BuildContext, ws: Worksheet, schedule: Schedule, layout: ScheduleLayout
) -> None:
    """Write the quarterly roll-up, the waterfall and the charts below the monthly block."""
    quarterly_end = _write_quarterly(ctx, ws, schedule, layout, layout.end + 1)
    waterfall = _write_waterfall(ctx, ws, schedule, layout, quarterly_end + 2)
    _add_charts(ws, schedule, layout, waterfall)


def _write_quarterly(
    ctx: BuildContext,
    ws: Worksheet,
    schedule: Schedule,
    layout: ScheduleLayout,
    first_row: int,
) -> int:
    """Write the quarterly roll-up from ``first_row`` and return its last row."""
    quarterly = schedule.quarterly
    money, per_million = ctx.money, ctx.per_million
    cur = ctx.scenario.currency
    letter = period_letter

    ws[f"A{first_row}"] = "Quarterly roll-up"
    ws[f"A{first_row}"].font = style.SECTION_FONT
    header = first_row + 1
    style.write_header(ws, header, ["Figure", "Symbol", "Unit", ""])
    style.write_header(ws, header, quarterly.labels, column=FIRST_PERIOD_COLUMN)
    months_row = header + 1
    ws[f"A{months_row}"] = "Months"
    for index in range(len(quarterly.labels)):
        ws[f"{letter(index)}{months_row}"] = int(
            quarterly.stop[index] - quarterly.first[index]
        )
    row = months_row

    def months_of(key: str, index: int, *, from_second: bool = False) -> str | None:
        """Return the monthly cells of quarter ``index`` in row ``key``, or None if there are none."""
        first = int(quarterly.first[index])
        if from_second:
            first = max(first, 1)  # the first month has no decay
        stop = int(quarterly.stop[index])
        if first >= stop:
            return None
        source = layout[key]
        return f"{letter(first)}{source}:{letter(stop - 1)}{source}"

    def sum_of(key: str, *, from_second: bool = False) -> Callable[[int], str | None]:
        def formula(index: int) -> str | None:
            cells = months_of(key, index, from_second=from_second)
            return None if cells is None else f"=SUM({cells})"

        return formula

    def write(
        label: str,
        unit: str,
        formula: Callable[[int], str | None],
        values: np.ndarray,
        number_format: str,
        *,
        bold: bool = False,
    ) -> int:
        nonlocal row
        row += 1
        ws[f"A{row}"] = label
        ws[f"C{row}"] = unit
        if bold:
            ws[f"A{row}"].font = style.TOTAL_FONT
        for index in range(len(quarterly.labels)):
            text = formula(index)
            if text is not None:
                ctx.formula(
                    ws,
                    f"{letter(index)}{row}",
                    text,
                    values[index],
                    number_format,
                    bold=bold,
                )
        return row

    rows: dict[str, int] = {}
    for key, label, _ in schedule.component_rows():
        rows[key] = write(
            label, f"{cur}/quarter", sum_of(key), quarterly.components[key], money
        )
    rows["total"] = write(
        "Total cost C(U)",
        f"{cur}/quarter",
        sum_of("total"),
        quarterly.total,
        money,
        bold=True,
    )
    rows["full_cost"] = write(
        "Total cost at full utilization C(1)",
        f"{cur}/quarter",
        sum_of("full_cost"),
        quarterly.full_cost,
        money,
    )
    rows["capacity"] = write(
        "Capacity K",
        "tokens/quarter",
        sum_of("capacity"),
        quarterly.capacity,
        style.TOKENS,
    )
    rows["good_tokens"] = write(
        "Good tokens G",
        "tokens/quarter",
        sum_of("good_tokens"),
        quarterly.good_tokens,
        style.TOKENS,
    )
    write(
        "Cost per good token (quarter)",
        f"{cur}/M",
        lambda i: (
            f"={letter(i)}{rows['total']}/{letter(i)}{rows['good_tokens']}*1000000"
        ),
        quarterly.cost_per_good_token * MILLION,
        per_million,
        bold=True,
    )
    write(
        "Floor (quarter)",
        f"{cur}/M",
        lambda i: (
            f"={letter(i)}{rows['full_cost']}/{letter(i)}{rows['capacity']}*1000000"
        ),
        quarterly.floor * MILLION,
        per_million,
    )
    write(
        "Cost per good token in the quarter's last month",
        f"{cur}/M",
        lambda i: f"={letter(int(quarterly.stop[i]) - 1)}{layout['cost']}",
        quarterly.exit_rate * MILLION,
        per_million,
    )
    for position, (key, label) in enumerate(CAUSES):
        write(
            f"Decay in the quarter: {label.lower()}",
            f"{cur}/M",
            sum_of(f"decay_{key}", from_second=True),
            quarterly.decay[position] * MILLION,
            per_million,
        )
    write(
        "Over (+) or under (-) recovery",
        f"{cur}/quarter",
        sum_of("over_recovery"),
        quarterly.over_recovery,
        money,
    )
    write(
        "Balance carried forward at the quarter's end",
        cur,
        lambda i: f"={letter(int(quarterly.stop[i]) - 1)}{layout['carried_forward']}",
        quarterly.balance_carried_forward,
        money,
    )

    last_quarter = letter(len(quarterly.labels) - 1)
    ctx.add_check(
        "Schedule: quarterly cost adds up to the horizon's cost",
        within_tolerance(
            f"SUM({SHEET}!{letter(0)}{rows['total']}:{last_quarter}{rows['total']})",
            f"{SHEET}!D{layout['total']}",
        ),
        "the quarters split the horizon without a gap or an overlap",
    )
    return row


def _write_waterfall(
    ctx: BuildContext,
    ws: Worksheet,
    schedule: Schedule,
    layout: ScheduleLayout,
    first_row: int,
) -> tuple[int, int]:
    """Write the decay waterfall from ``first_row`` and return its first and last data rows."""
    per_million = ctx.per_million
    cur = ctx.scenario.currency
    months = schedule.horizon.months
    last = period_letter(months - 1)

    ws[f"A{first_row}"] = (
        f"Decay waterfall over the horizon ({cur} per million good tokens)"
    )
    ws[f"A{first_row}"].font = style.SECTION_FONT
    header = first_row + 1
    style.write_header(
        ws, header, ["Step", "Change", "Running total", "Base", "Fall", "Rise", "Total"]
    )
    start = float(schedule.cost_per_good_token[0] * MILLION)
    end = float(schedule.cost_per_good_token[-1] * MILLION)
    parts = np.nansum(schedule.decay, axis=1) * MILLION

    def total_bar(row: int, label: str, formula: str, value: float) -> None:
        ws[f"A{row}"] = label
        ctx.formula(ws, f"B{row}", formula, value, per_million)
        ctx.formula(ws, f"C{row}", f"=B{row}", value, per_million)
        for column in "DEF":
            ws[f"{column}{row}"] = 0.0
        ctx.formula(ws, f"G{row}", f"=B{row}", value, per_million)

    row = header + 1
    first_data = row
    total_bar(
        row,
        f"First month ({schedule.labels[0]})",
        f"={period_letter(0)}{layout['cost']}",
        start,
    )

    running = start
    for position, (key, label) in enumerate(CAUSES):
        row += 1
        part = float(parts[position])
        before, running = running, running + part
        ws[f"A{row}"] = label
        if months > 1:
            ctx.formula(ws, f"B{row}", f"=D{layout[f'decay_{key}']}", part, per_million)
        else:
            ws[f"B{row}"] = 0.0
        ctx.formula(ws, f"C{row}", f"=C{row - 1}+B{row}", running, per_million)
        ctx.formula(
            ws, f"D{row}", f"=MIN(C{row - 1},C{row})", min(before, running), per_million
        )
        ctx.formula(ws, f"E{row}", f"=MAX(-B{row},0)", max(-part, 0.0), per_million)
        ctx.formula(ws, f"F{row}", f"=MAX(B{row},0)", max(part, 0.0), per_million)
        ws[f"G{row}"] = 0.0

    row += 1
    total_bar(
        row, f"Last month ({schedule.labels[-1]})", f"={last}{layout['cost']}", end
    )
    ctx.add_check(
        "Schedule: the waterfall ends at the last month's cost",
        within_tolerance(f"{SHEET}!C{row - 1}", f"{SHEET}!C{row}"),
        "first month plus the decay parts over the horizon equals the last month's cost per good token",
    )
    return first_data, row


def _add_charts(
    ws: Worksheet,
    schedule: Schedule,
    layout: ScheduleLayout,
    waterfall: tuple[int, int],
) -> None:
    cur = schedule.scenario.currency
    first_column = FIRST_PERIOD_COLUMN
    last_column = FIRST_PERIOD_COLUMN + schedule.horizon.months - 1

    line = LineChart()
    line.title = "Cost per million good tokens against the API price"
    line.y_axis.title = f"{cur} per million good tokens"
    line.x_axis.title = "Month"
    line.y_axis.scaling.min = 0
    # openpyxl 3.1 hides axes unless delete is set explicitly.
    line.x_axis.delete = False
    line.y_axis.delete = False
    for key, title in (
        ("cost", "Cost per good token"),
        ("floor", "Floor"),
        ("fixed_rate", "Fixed rate"),
        ("api_price", "API price"),
    ):
        row = layout[key]
        values = Reference(
            ws, min_col=first_column, max_col=last_column, min_row=row, max_row=row
        )
        series = Series(values, title=title)
        series.smooth = False
        series.marker.symbol = "none"
        line.series.append(series)
    line.set_categories(
        Reference(
            ws,
            min_col=first_column,
            max_col=last_column,
            min_row=HEADER_ROW,
            max_row=HEADER_ROW,
        )
    )
    line.height = 9
    line.width = 22

    first, last = waterfall
    bars = BarChart()
    bars.type = "col"
    bars.grouping = "stacked"
    bars.overlap = 100
    bars.title = "Decay of the cost per good token over the horizon"
    bars.y_axis.title = f"{cur} per million good tokens"
    bars.x_axis.delete = False
    bars.y_axis.delete = False
    # Columns D to G of the waterfall table: base (drawn invisible), fall, rise, total.
    for column, colour in (
        (4, None),
        (5, FALL_COLOUR),
        (6, RISE_COLOUR),
        (7, TOTAL_COLOUR),
    ):
        values = Reference(
            ws, min_col=column, max_col=column, min_row=first - 1, max_row=last
        )
        series = Series(values, title_from_data=True)
        if colour is None:
            series.graphicalProperties.noFill = True
            series.graphicalProperties.line.noFill = True
        else:
            series.graphicalProperties.solidFill = colour
        bars.series.append(series)
    bars.set_categories(
        Reference(ws, min_col=1, max_col=1, min_row=first, max_row=last)
    )
    bars.legend = None
    bars.height = 9
    bars.width = 16

    anchor_row = last + 2
    ws.add_chart(line, f"A{anchor_row}")
    ws.add_chart(bars, f"A{anchor_row + 20}")
