"""The Utilization Curve sheet: cost per million good tokens from 5% to 100% utilization
against the API price, with a line chart on which the crossover shows."""

from __future__ import annotations

import math

import numpy as np
from openpyxl.chart import Reference, ScatterChart, Series

from tokenbom_xl import engine
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.context import BuildContext

STEPS = 20  # 5% to 100% in 5% steps
FIRST_ROW = 6


def utilization_grid() -> np.ndarray:
    """Return the curve's utilization points, 0.05 to 1.00."""
    return np.arange(1, STEPS + 1) / STEPS


def write_curve(ctx: BuildContext) -> None:
    """Write the Utilization Curve sheet: a table of the curve and its chart."""
    ws = ctx.add_sheet(
        "Utilization Curve",
        "Cost per million good tokens against utilization and the API price",
    )
    currency = ctx.scenario.currency
    grid = utilization_grid()
    curve = engine.evaluate(ctx.scenario, utilization=grid)

    ws["A1"] = "Utilization Curve"
    ws["A1"].font = style.TITLE_FONT
    ws["A2"] = (
        "Cost per million good tokens at the scenario's yield; the factory beats the API where its line is below the price."
    )
    ws["A2"].font = style.SUBTITLE_FONT
    ws["A3"] = "Crossover utilization U*"
    ws["A3"].font = style.TOTAL_FONT
    ctx.formula(
        ws, "B3", "=bom_crossover", float(ctx.result.crossover), "0.0%", bold=True
    )

    header_row = FIRST_ROW - 1
    style.write_header(
        ws,
        header_row,
        [
            "Utilization",
            f"Energy cost E(U) ({currency})",
            f"Total cost C(U) ({currency})",
            "Good tokens",
            f"Cost per M good tokens ({currency})",
            f"API price per M tokens ({currency})",
        ],
    )
    for index, utilization in enumerate(grid):
        row = FIRST_ROW + index
        ws[f"A{row}"] = float(utilization)
        ws[f"A{row}"].number_format = "0%"
        ctx.formula(
            ws,
            f"B{row}",
            f"=cost_energy_full*(energy_idle_fraction+(1-energy_idle_fraction)*A{row})",
            curve.energy[index],
            ctx.money,
        )
        ctx.formula(ws, f"C{row}", f"=bom_fixed+B{row}", curve.total[index], ctx.money)
        ctx.formula(
            ws,
            f"D{row}",
            f"=bom_capacity*A{row}*yield_rate",
            curve.good_tokens[index],
            style.TOKENS,
        )
        ctx.formula(
            ws,
            f"E{row}",
            f"=C{row}/D{row}*1000000",
            curve.cost_per_good_token[index] * 1e6,
            ctx.per_million,
        )
        ctx.formula(
            ws,
            f"F{row}",
            "=api_price_per_million",
            ctx.scenario.api_price_per_million,
            ctx.per_million,
        )
    last_row = FIRST_ROW + STEPS - 1

    chart = ScatterChart()
    chart.title = "Cost per million good tokens against utilization"
    chart.x_axis.title = "Utilization"
    chart.y_axis.title = f"{currency} per million good tokens"
    chart.x_axis.number_format = "0%"
    chart.x_axis.scaling.min = 0
    chart.x_axis.scaling.max = 1
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = axis_maximum(ctx)
    chart.y_axis.number_format = '"$"0.00' if currency == "USD" else "0.00"
    # openpyxl 3.1 hides axes unless delete is set explicitly.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    x_values = Reference(ws, min_col=1, min_row=FIRST_ROW, max_row=last_row)
    # Cost per million in dark blue, the API price as a dashed red line.
    for column, colour, dash in ((5, "1F3864", "solid"), (6, "C00000", "dash")):
        values = Reference(ws, min_col=column, min_row=header_row, max_row=last_row)
        series = Series(values, x_values, title_from_data=True)
        series.marker.symbol = "none"
        series.smooth = False
        series.graphicalProperties.line.solidFill = colour
        series.graphicalProperties.line.prstDash = dash
        series.graphicalProperties.line.width = 28575  # 2.25 pt in EMU
        chart.series.append(series)
    chart.height = 11
    chart.width = 20
    chart.legend.position = "b"
    ws.add_chart(chart, "H3")
    ws["H2"] = (
        f"The vertical axis stops at {chart.y_axis.scaling.max:g} {currency}/M so the crossover stays visible; the table holds every point."
    )
    ws["H2"].font = style.SUBTITLE_FONT

    style.set_column_widths(ws, {"A": 24, "B": 20, "C": 20, "D": 20, "E": 24, "F": 24})
    style.finish_sheet(
        ws, freeze=f"A{FIRST_ROW}", title_rows=f"{header_row}:{header_row}"
    )


def axis_maximum(ctx: BuildContext) -> float:
    """Return a round upper limit for the chart's vertical axis.

    The limit is 2.5x the API price or 1.5x the cost at the scenario's utilization,
    whichever is higher. Near zero utilization the cost runs off to infinity, and an
    axis scaled to it would flatten the crossover.
    """
    cost = float(ctx.result.cost_per_good_token) * 1e6
    limit = max(2.5 * ctx.scenario.api_price_per_million, 1.5 * cost)
    magnitude = 10 ** math.floor(math.log10(limit))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= limit:
            return step * magnitude
    return 10 * magnitude
