"""The TBM Mapping sheet: each consumer's charge split into TBM destinations.

Components: each component's share of C(1) (how a usage charge splits) and of
F + i x E_full (how capacity variance and unreserved idle split). Routes: the TBM
mapping, one row per component and destination with its split. Destinations: the
distinct (cost pool, tower, sub-tower, solution), with the shares of every component
routed there added up. TBM-ready rows: per period, consumer and destination, the
amount exact and rounded to cents by largest remainder within the consumer, so the
rows of a consumer add up to its charge on the Chargeback sheet.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tokenbom_xl.chargeback import ChargebackResult, component_weights
from tokenbom_xl.errors import OutputError
from tokenbom_xl.rounding import cent_parts, remainder_thresholds
from tokenbom_xl.scenario import COMPONENTS
from tokenbom_xl.tbm import (
    TbmDestination,
    TbmRoute,
    destination_weights,
    tbm_destinations,
    tbm_rows,
)
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.chargeback import (
    CHARGEBACK_SHEET,
    EXCEL_MAX_ROWS,
    ChargebackLayout,
)
from tokenbom_xl.workbook.checks import within_tolerance
from tokenbom_xl.workbook.context import BuildContext, quote_sheet, write_text
from tokenbom_xl.workbook.rounding import (
    floor_formula,
    remainder_formula,
    rounded_formula,
    threshold_formulas,
)

__all__ = ["write_tbm_sheet"]

TBM_SHEET = "TBM Mapping"


def write_tbm_sheet(
    ctx: BuildContext,
    result: ChargebackResult,
    routes: list[TbmRoute],
    layout: ChargebackLayout,
) -> None:
    """Write the TBM Mapping sheet over the Chargeback sheet's lines."""
    ws = ctx.add_sheet(
        TBM_SHEET,
        "Chargeback in TBM taxonomy terms: cost pool, tower, sub-tower, solution, consumer",
    )
    ws["A1"] = "TBM Mapping"
    ws["A1"].font = style.TITLE_FONT
    ws["A2"] = (
        "TBM-ready rows for import into a TBM tool; the mapping comes from the TBM mapping file."
    )
    ws["A2"].font = style.SUBTITLE_FONT

    full_weights, idle_weights = component_weights(result)
    component_first = 5
    _write_components(ctx, ws, component_first, full_weights, idle_weights)
    component_last = component_first + len(COMPONENTS) - 1

    route_header = component_last + 3
    destinations = tbm_destinations(routes)
    route_first = route_header + 1
    _write_routes(
        ctx,
        ws,
        route_header,
        routes,
        destinations,
        component_first,
        full_weights,
        idle_weights,
    )
    route_last = route_first + len(routes) - 1
    _write_split_totals(ctx, ws, component_first, route_first, route_last, routes)

    destination_header = route_last + 3
    destination_first = destination_header + 1
    full, idle = destination_weights(routes, full_weights, idle_weights)
    _write_destinations(
        ctx, ws, destination_header, destinations, route_first, route_last, full, idle
    )

    rows_header = destination_first + len(destinations) + 2
    rows = tbm_rows(result, routes)
    if rows_header + len(rows) > EXCEL_MAX_ROWS:
        raise OutputError(
            f"{len(rows):,} TBM rows do not fit in one worksheet; use `tokenbom chargeback --tbm-output`"
        )
    _write_tbm_rows(
        ctx, ws, rows_header, rows, result, layout, destination_first, len(destinations)
    )

    style.set_column_widths(
        ws,
        {
            "A": 18,
            "B": 24,
            "C": 18,
            "D": 24,
            "E": 26,
            "F": 26,
            "G": 16,
            "H": 16,
            "I": 14,
            "J": 14,
            "K": 14,
            "L": 14,
            "M": 14,
        },
    )
    # The cent-rounding helpers (largest remainder).
    style.group_helper_columns(ws, "I", "M")
    style.finish_sheet(
        ws, freeze=f"A{rows_header + 1}", title_rows=f"{rows_header}:{rows_header}"
    )


def _write_components(ctx, ws, first, full_weights, idle_weights) -> None:
    ws[f"A{first - 2}"] = "Components"
    ws[f"A{first - 2}"].font = style.SECTION_FONT
    style.write_header(
        ws,
        first - 1,
        [
            "Component",
            "Cost at full load",
            "Idle basis",
            "Share of C(1)",
            "Share of idle basis",
            "Splits add up to",
        ],
    )
    costs = ctx.result.components
    for index, (key, label) in enumerate(COMPONENTS):
        row = first + index
        ws[f"A{row}"] = label
        if key == "energy":
            full_formula, full_value = "=cost_energy_full", costs.energy_full
            idle_formula, idle_value = "=cost_energy_idle", costs.idle_energy
        else:
            full_formula = idle_formula = f"=cost_{key}"
            full_value = idle_value = getattr(costs, key)
        ctx.formula(ws, f"B{row}", full_formula, full_value, ctx.money)
        ctx.formula(ws, f"C{row}", idle_formula, idle_value, ctx.money)
        ctx.formula(
            ws,
            f"D{row}",
            f"=IF(bom_full_cost>0,B{row}/bom_full_cost,0)",
            full_weights[index],
            style.PERCENT,
        )
        ctx.formula(
            ws,
            f"E{row}",
            f"=IF(cb_idle_basis>0,C{row}/cb_idle_basis,0)",
            idle_weights[index],
            style.PERCENT,
        )


def _write_routes(
    ctx, ws, header, routes, destinations, component_first, full_weights, idle_weights
) -> None:
    ws[f"A{header - 1}"] = "Routes (TBM mapping)"
    ws[f"A{header - 1}"].font = style.SECTION_FONT
    style.write_header(
        ws,
        header,
        [
            "Component",
            "Cost pool",
            "Tower",
            "Sub-tower",
            "Solution",
            "Split %",
            "Destination",
            "Component number",
            "Usage weight",
            "Idle weight",
        ],
    )
    labels = [label for _, label in COMPONENTS]
    position = {
        destination: number for number, destination in enumerate(destinations, start=1)
    }
    for index, route in enumerate(routes):
        row = header + 1 + index
        component = labels.index(route.component)
        write_text(ws, f"A{row}", route.component)
        write_text(ws, f"B{row}", route.cost_pool)
        write_text(ws, f"C{row}", route.resource_tower)
        write_text(ws, f"D{row}", route.sub_tower)
        write_text(ws, f"E{row}", route.solution)
        ws[f"F{row}"] = route.split_percent
        ws[f"F{row}"].number_format = style.NUMBER
        ws[f"G{row}"] = position[
            TbmDestination(
                route.cost_pool, route.resource_tower, route.sub_tower, route.solution
            )
        ]
        ws[f"H{row}"] = component + 1
        ctx.formula(
            ws,
            f"I{row}",
            f"=INDEX($D${component_first}:$D${component_first + len(labels) - 1},H{row})*F{row}/100",
            full_weights[component] * route.split_percent / 100.0,
            "0.000000",
        )
        ctx.formula(
            ws,
            f"J{row}",
            f"=INDEX($E${component_first}:$E${component_first + len(labels) - 1},H{row})*F{row}/100",
            idle_weights[component] * route.split_percent / 100.0,
            "0.000000",
        )


def _write_split_totals(
    ctx, ws, component_first, route_first, route_last, routes
) -> None:
    labels = [label for _, label in COMPONENTS]
    for index, label in enumerate(labels):
        row = component_first + index
        total = sum(route.split_percent for route in routes if route.component == label)
        ctx.formula(
            ws,
            f"F{row}",
            f"=SUMIFS($F${route_first}:$F${route_last},$H${route_first}:$H${route_last},{index + 1})",
            total,
            style.NUMBER,
        )
    last = component_first + len(labels) - 1
    sheet = quote_sheet(TBM_SHEET)
    ctx.add_check(
        "TBM: each component's splits add up to 100%",
        f"SUMPRODUCT(--(ABS({sheet}!$F${component_first}:$F${last}-100)>1E-6))=0",
        "every component's cost lands in the TBM taxonomy exactly once",
    )


def _write_destinations(
    ctx, ws, header, destinations, route_first, route_last, full, idle
) -> None:
    ws[f"A{header - 1}"] = "Destinations"
    ws[f"A{header - 1}"].font = style.SECTION_FONT
    style.write_header(
        ws,
        header,
        [
            "Destination",
            "Cost pool",
            "Tower",
            "Sub-tower",
            "Solution",
            "Share of usage charge",
            "Share of idle charge",
        ],
    )
    for index, destination in enumerate(destinations):
        row = header + 1 + index
        ws[f"A{row}"] = index + 1
        write_text(ws, f"B{row}", destination.cost_pool)
        write_text(ws, f"C{row}", destination.resource_tower)
        write_text(ws, f"D{row}", destination.sub_tower)
        write_text(ws, f"E{row}", destination.solution)
        ctx.formula(
            ws,
            f"F{row}",
            f"=SUMIFS($I${route_first}:$I${route_last},$G${route_first}:$G${route_last},A{row})",
            full[index],
            "0.000000",
        )
        ctx.formula(
            ws,
            f"G{row}",
            f"=SUMIFS($J${route_first}:$J${route_last},$G${route_first}:$G${route_last},A{row})",
            idle[index],
            "0.000000",
        )


def _write_tbm_rows(
    ctx, ws, header, rows: pd.DataFrame, result, layout, destination_first, count
) -> None:
    ws[f"A{header - 1}"] = "TBM-ready rows"
    ws[f"A{header - 1}"].font = style.SECTION_FONT
    style.write_header(
        ws,
        header,
        [
            "Period",
            "Cost pool",
            "Tower",
            "Sub-tower",
            "Solution",
            "Consumer",
            "Amount (exact)",
            "Amount",
            "Floor",
            "Remainder",
            "Missing cents",
            "Threshold",
            "Above",
        ],
    )
    lines = len(result.lines)
    groups = np.repeat(np.arange(lines), count)
    floor, remainder = cent_parts(rows["amount_exact"].to_numpy())
    missing, threshold, above = remainder_thresholds(
        rows["amount_exact"].to_numpy(), groups, result.lines["total_cents"].to_numpy()
    )
    chargeback = quote_sheet(CHARGEBACK_SHEET)
    first = header + 1
    for index, record in enumerate(rows.itertuples(index=False)):
        row = first + index
        line = index // count
        destination = index % count
        line_row = layout.line_first_row + line
        block_first = first + line * count
        block_last = block_first + count - 1
        write_text(ws, f"A{row}", record.period)
        write_text(ws, f"B{row}", record.cost_pool)
        write_text(ws, f"C{row}", record.tower)
        write_text(ws, f"D{row}", record.sub_tower)
        write_text(ws, f"E{row}", record.solution)
        write_text(ws, f"F{row}", record.consumer)
        drow = destination_first + destination
        ctx.formula(
            ws,
            f"G{row}",
            f"={chargeback}!{layout.usage_column}{line_row}*$F${drow}"
            f"+({chargeback}!{layout.variance_column}{line_row}+{chargeback}!{layout.idle_column}{line_row})*$G${drow}",
            record.amount_exact,
            ctx.money,
        )
        ctx.formula(
            ws,
            f"H{row}",
            rounded_formula(
                f"I{row}",
                f"J{row}",
                f"J${block_first}",
                f"K{row}",
                f"L{row}",
                f"M{row}",
            ),
            record.amount_cents / 100.0,
            ctx.money,
        )
        ctx.formula(
            ws, f"I{row}", floor_formula(f"G{row}"), float(floor[index]), style.INTEGER
        )
        ctx.formula(
            ws,
            f"J{row}",
            remainder_formula(f"G{row}", f"I{row}"),
            float(remainder[index]),
            style.INTEGER,
        )
        formulas = threshold_formulas(
            f"ROUND({chargeback}!{layout.charged_column}{line_row}*100,0)",
            f"I${block_first}:I${block_last}",
            f"J${block_first}:J${block_last}",
            f"K{row}",
            f"L{row}",
        )
        for column, formula, value in zip(
            "KLM", formulas, (missing[line], threshold[line], above[line])
        ):
            ctx.formula(ws, f"{column}{row}", formula, float(value), style.INTEGER)

    last = first + len(rows) - 1
    sheet = quote_sheet(TBM_SHEET)
    charged = f"{chargeback}!${layout.charged_column}${layout.line_first_row}:${layout.charged_column}${layout.line_first_row + lines - 1}"
    exact = f"{chargeback}!${layout.total_column}${layout.line_first_row}:${layout.total_column}${layout.line_first_row + lines - 1}"
    ctx.add_check(
        "TBM: rows add up to the chargeback",
        within_tolerance(f"SUM({sheet}!$G${first}:$G${last})", f"SUM({exact})"),
        "the exact TBM amounts split the exact charges and nothing else",
    )
    ctx.add_check(
        "TBM: rows add up to the charges to the cent",
        f"ROUND(SUM({sheet}!$H${first}:$H${last})*100,0)=ROUND(SUM({charged})*100,0)",
        "each consumer's TBM rows in cents add up to its charge",
    )
