"""The Summary sheet: the seven lines, the factory's output, the per-token waterfall
(floor, yield loss, capacity variance) and build versus buy.

Defined names created here start with ``bom_`` and are what the other sheets and the
``tokenbom check`` command read.
"""

from __future__ import annotations

import math

from openpyxl.chart import BarChart, Reference

from tokenbom_xl.scenario import COMPONENTS
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.context import BuildContext, quote_sheet, write_text

_BEHAVIOUR = {
    "silicon": "fixed (capital)",
    "fabric": "fixed (capital)",
    "facility": "fixed",
    "energy": "variable",
    "platform": "fixed",
    "model_lifecycle": "fixed, recurring",
    "operations": "fixed",
}

COMPONENT_ROW = 5  # first component line
NEVER_TEXT = "never"


def write_summary(ctx: BuildContext) -> None:
    """Write the Summary sheet and define the ``bom_`` names that it computes."""
    ws = ctx.add_sheet(
        "Summary", "The seven components, the per-token waterfall and build versus buy"
    )
    ws["A1"] = "Summary"
    ws["A1"].font = style.TITLE_FONT
    write_text(ws, "A2", ctx.scenario.name, font=style.SUBTITLE_FONT)

    total_row = _write_components(ctx, ws)
    row = _write_factory(ctx, ws, total_row + 2)
    row = _write_cost_split(ctx, ws, row + 2)
    waterfall_first, waterfall_last = _write_waterfall(ctx, ws, row + 2)
    _write_build_versus_buy(ctx, ws, waterfall_last + 2)

    header_row = COMPONENT_ROW - 1
    _add_waterfall_chart(ws, waterfall_first, waterfall_last, ctx.scenario.currency)
    style.set_column_widths(ws, {"A": 40, "B": 30, "C": 20, "D": 20, "E": 22})
    style.finish_sheet(
        ws, freeze=f"A{COMPONENT_ROW}", title_rows=f"{header_row}:{header_row}"
    )


def _write_components(ctx: BuildContext, ws) -> int:
    """Write the seven components at the scenario's utilization.

    Returns the row of the total C(U).
    """
    result = ctx.result
    cur = ctx.scenario.currency
    money, per_million = ctx.money, ctx.per_million
    header_row = COMPONENT_ROW - 1
    style.write_header(
        ws,
        header_row,
        [
            "Component",
            "Behaviour",
            f"Monthly cost ({cur})",
            "Share of total",
            f"{cur} per M good tokens",
        ],
    )
    lines = result.component_lines()
    total = float(result.total)
    good = float(result.good_tokens)
    for offset, (key, label, cost) in enumerate(lines):
        row = COMPONENT_ROW + offset
        ws[f"A{row}"] = label
        ws[f"A{row}"].hyperlink = f"#{quote_sheet(label)}!A1"
        ws[f"B{row}"] = _BEHAVIOUR[key]
        ctx.formula(ws, f"C{row}", f"=cost_{key}", cost, money)
        ctx.formula(ws, f"D{row}", f"=C{row}/bom_total", cost / total, style.PERCENT)
        ctx.formula(
            ws,
            f"E{row}",
            f"=C{row}/bom_good_tokens*1000000",
            cost / good * 1e6,
            per_million,
        )

    total_row = COMPONENT_ROW + len(COMPONENTS)
    last = total_row - 1
    ws[f"A{total_row}"] = "Total cost C(U)"
    ws[f"A{total_row}"].font = style.TOTAL_FONT
    ctx.formula(
        ws,
        f"C{total_row}",
        f"=SUM(C{COMPONENT_ROW}:C{last})",
        total,
        money,
        name="bom_total",
        bold=True,
    )
    ctx.formula(
        ws,
        f"D{total_row}",
        f"=SUM(D{COMPONENT_ROW}:D{last})",
        1.0,
        style.PERCENT,
        bold=True,
    )
    ctx.formula(
        ws,
        f"E{total_row}",
        f"=SUM(E{COMPONENT_ROW}:E{last})",
        total / good * 1e6,
        per_million,
        bold=True,
    )
    for column in "CDE":
        ws[f"{column}{total_row}"].border = style.TOTAL_BORDER
    return total_row


def _write_factory(ctx: BuildContext, ws, row: int) -> int:
    """Write the factory's fixed and variable cost, capacity and output.

    Returns the last row written.
    """
    result = ctx.result
    cur = ctx.scenario.currency
    money = ctx.money
    good = float(result.good_tokens)

    ws[f"A{row}"] = "Factory"
    ws[f"A{row}"].font = style.SECTION_FONT
    row += 1
    style.write_header(ws, row, ["Figure", "Symbol", "Value", "Unit"])
    fixed_keys = [key for key, _ in COMPONENTS if key != "energy"]
    figures = [
        (
            "Fixed cost (six non-energy components)",
            "F",
            "=" + "+".join(f"cost_{k}" for k in fixed_keys),
            result.fixed,
            money,
            f"{cur}/month",
            "bom_fixed",
        ),
        (
            "Energy at full utilization",
            "E_full",
            "=cost_energy_full",
            result.energy_full,
            money,
            f"{cur}/month",
            None,
        ),
        (
            "Total cost at full utilization",
            "C(1)",
            "=bom_fixed+cost_energy_full",
            result.full_cost,
            money,
            f"{cur}/month",
            "bom_full_cost",
        ),
        (
            "Capacity",
            "K",
            "=accelerators*tokens_per_second*3600*hours_per_period",
            result.capacity,
            style.TOKENS,
            "tokens/month",
            "bom_capacity",
        ),
        (
            "Utilization",
            "U",
            "=utilization",
            result.utilization,
            style.PERCENT,
            "fraction",
            None,
        ),
        (
            "Yield",
            "Y",
            "=yield_rate",
            result.yield_rate,
            style.PERCENT,
            "fraction",
            None,
        ),
        (
            "Good tokens",
            "G = K x U x Y",
            "=bom_capacity*utilization*yield_rate",
            good,
            style.TOKENS,
            "tokens/month",
            "bom_good_tokens",
        ),
        (
            "Scrapped tokens",
            "K x U x (1 - Y)",
            "=bom_capacity*utilization*(1-yield_rate)",
            result.capacity
            * float(result.utilization)
            * (1 - float(result.yield_rate)),
            style.TOKENS,
            "tokens/month",
            None,
        ),
    ]
    for label, symbol, formula, expected, number_format, unit, name in figures:
        row += 1
        ws[f"A{row}"] = label
        ws[f"B{row}"] = symbol
        ctx.formula(ws, f"C{row}", formula, expected, number_format, name=name)
        ws[f"D{row}"] = unit
    return row


def _write_cost_split(ctx: BuildContext, ws, row: int) -> int:
    """Write where the cost goes: absorbed by good tokens, lost to scrap, idle capacity.

    Returns the last row written.
    """
    result = ctx.result
    cur = ctx.scenario.currency
    money = ctx.money
    total = float(result.total)

    ws[f"A{row}"] = "Where the cost goes"
    ws[f"A{row}"].font = style.SECTION_FONT
    row += 1
    style.write_header(
        ws, row, ["Part", "Formula", f"Monthly cost ({cur})", "Share of C(U)"]
    )
    split_first = row + 1
    split = [
        (
            "Absorbed by good tokens (A)",
            "U x Y x C(1)",
            "=utilization*yield_rate*bom_full_cost",
            result.absorbed,
            "bom_absorbed",
        ),
        (
            "Yield loss (L)",
            "U x (1 - Y) x C(1)",
            "=utilization*(1-yield_rate)*bom_full_cost",
            result.yield_loss,
            "bom_yield_loss",
        ),
        (
            "Capacity variance (V)",
            "(F + i x E_full) x (1 - U)",
            "=(bom_fixed+cost_energy_idle)*(1-utilization)",
            result.capacity_variance,
            "bom_capacity_variance",
        ),
    ]
    for label, text, formula, expected, name in split:
        row += 1
        ws[f"A{row}"] = label
        ws[f"B{row}"] = text
        ctx.formula(ws, f"C{row}", formula, expected, money, name=name)
        ctx.formula(
            ws, f"D{row}", f"=C{row}/bom_total", float(expected) / total, style.PERCENT
        )

    row += 1
    ws[f"A{row}"] = "A + L + V"
    ws[f"A{row}"].font = style.TOTAL_FONT
    split_total = (
        float(result.absorbed)
        + float(result.yield_loss)
        + float(result.capacity_variance)
    )
    ctx.formula(
        ws,
        f"C{row}",
        f"=SUM(C{split_first}:C{row - 1})",
        split_total,
        money,
        name="bom_split_total",
        bold=True,
    )
    ctx.formula(
        ws,
        f"D{row}",
        f"=SUM(D{split_first}:D{row - 1})",
        split_total / total,
        style.PERCENT,
        bold=True,
    )
    return row


def _write_waterfall(ctx: BuildContext, ws, row: int) -> tuple[int, int]:
    """Write the cost per good token: floor, then yield loss, then capacity variance.

    Returns the first and last row of the waterfall, for its chart.
    """
    result = ctx.result
    cur = ctx.scenario.currency
    per_million = ctx.per_million

    ws[f"A{row}"] = "Cost per good token (waterfall)"
    ws[f"A{row}"].font = style.SECTION_FONT
    row += 1
    style.write_header(
        ws, row, ["Step", "Formula", f"{cur} per M tokens", "Running total"]
    )
    waterfall_first = row + 1
    floor_m = result.floor * 1e6
    loss_m = float(result.yield_loss_per_token) * 1e6
    variance_m = float(result.capacity_variance_per_token) * 1e6
    steps = [
        (
            "Floor",
            "C(1) / K",
            "=bom_full_cost/bom_capacity*1000000",
            floor_m,
            "bom_floor_per_million",
        ),
        (
            "Yield loss",
            "floor x (1 - Y) / Y",
            "=bom_floor_per_million*(1-yield_rate)/yield_rate",
            loss_m,
            "bom_yield_loss_per_million",
        ),
        (
            "Capacity variance",
            "V / G",
            "=bom_capacity_variance/bom_good_tokens*1000000",
            variance_m,
            "bom_capacity_variance_per_million",
        ),
    ]
    running = 0.0
    for label, text, formula, expected, name in steps:
        row += 1
        running += expected
        ws[f"A{row}"] = label
        ws[f"B{row}"] = text
        ctx.formula(ws, f"C{row}", formula, expected, per_million, name=name)
        ctx.formula(
            ws, f"D{row}", f"=SUM(C${waterfall_first}:C{row})", running, per_million
        )

    row += 1
    ws[f"A{row}"] = "Cost per good token"
    ws[f"A{row}"].font = style.TOTAL_FONT
    ws[f"B{row}"] = "C(U) / G"
    cost_m = float(result.cost_per_good_token) * 1e6
    ctx.formula(
        ws,
        f"C{row}",
        "=bom_total/bom_good_tokens*1000000",
        cost_m,
        per_million,
        name="bom_cost_per_million",
        bold=True,
    )
    ctx.formula(
        ws,
        f"D{row}",
        f"=SUM(C{waterfall_first}:C{row - 1})",
        floor_m + loss_m + variance_m,
        per_million,
        bold=True,
    )
    ws[f"C{row}"].border = style.TOTAL_BORDER
    waterfall_last = row
    return waterfall_first, waterfall_last


def _write_build_versus_buy(ctx: BuildContext, ws, row: int) -> None:
    """Write the API price, the crossover utilization U* and the cheaper option."""
    result = ctx.result
    cur = ctx.scenario.currency
    money, per_million = ctx.money, ctx.per_million
    cost_m = float(result.cost_per_good_token) * 1e6

    ws[f"A{row}"] = "Build versus buy"
    ws[f"A{row}"].font = style.SECTION_FONT
    row += 1
    style.write_header(ws, row, ["Figure", "Formula", "Value", "Unit"])
    row += 1
    ws[f"A{row}"] = "API price"
    ws[f"B{row}"] = "P"
    ctx.formula(
        ws,
        f"C{row}",
        "=api_price_per_million",
        ctx.scenario.api_price_per_million,
        per_million,
    )
    ws[f"D{row}"] = f"{cur}/M tokens"
    row += 1
    idle = result.components.idle_fraction
    api_per_token = result.api_price_per_token
    denominator = (
        api_per_token * result.capacity * float(result.yield_rate)
        - (1 - idle) * result.energy_full
    )
    ws[f"A{row}"] = "Crossover denominator"
    ws[f"B{row}"] = "P x K x Y - (1 - i) x E_full"
    ctx.formula(
        ws,
        f"C{row}",
        "=api_price_per_million/1000000*bom_capacity*yield_rate-(1-energy_idle_fraction)*cost_energy_full",
        denominator,
        money,
        name="bom_crossover_denominator",
    )
    ws[f"D{row}"] = f"{cur}/month"
    row += 1
    ws[f"A{row}"] = "Crossover utilization U*"
    ws[f"A{row}"].font = style.TOTAL_FONT
    ws[f"B{row}"] = "(F + i x E_full) / denominator"
    crossover = float(result.crossover)
    ctx.formula(
        ws,
        f"C{row}",
        f'=IF(bom_crossover_denominator<=0,"{NEVER_TEXT}",'
        f'IF((bom_fixed+cost_energy_idle)/bom_crossover_denominator>1,"{NEVER_TEXT}",'
        "(bom_fixed+cost_energy_idle)/bom_crossover_denominator))",
        crossover,
        "0.0000",
        name="bom_crossover",
        bold=True,
    )
    ws[f"D{row}"] = "fraction (or never)"
    row += 1
    ws[f"A{row}"] = "At this utilization"
    cheaper = cost_m <= ctx.scenario.api_price_per_million
    ctx.formula(
        ws,
        f"C{row}",
        '=IF(bom_cost_per_million<=api_price_per_million,"manufacturing is cheaper","buying is cheaper")',
        "manufacturing is cheaper" if cheaper else "buying is cheaper",
    )
    row += 1
    ws[f"A{row}"] = "Crossover explained"
    ws[f"B{row}"] = (
        "The factory beats the API price above U*. 'never' means it cannot at this price and yield."
        if math.isnan(crossover) or crossover <= 1
        else ""
    )


def _add_waterfall_chart(ws, first: int, last: int, currency: str) -> None:
    """Add a bar chart of floor, yield loss, capacity variance and the total."""
    chart = BarChart()
    chart.type = "col"
    chart.title = "Cost per good token, step by step"
    chart.y_axis.title = f"{currency} per M tokens"
    chart.legend = None
    chart.y_axis.number_format = '"$"0.00' if currency == "USD" else "0.00"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    data = Reference(ws, min_col=3, min_row=first, max_row=last)
    labels = Reference(ws, min_col=1, min_row=first, max_row=last)
    chart.add_data(data, titles_from_data=False)
    chart.set_categories(labels)
    chart.height = 7
    chart.width = 14
    ws.add_chart(chart, "G3")


# Defined names that `tokenbom check` prints, with their labels.
HEADLINE_NAMES = {
    "bom_floor_per_million": "floor",
    "bom_cost_per_million": "cost per good token",
    "bom_crossover": "crossover utilization",
}
