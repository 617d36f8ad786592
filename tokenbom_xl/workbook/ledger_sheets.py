"""The Ledger Reconciliation, Ledger Data and GL Map sheets.

Ledger Data contains the GL summed by period, account and cost centre (so a
million-line export fits), with the mapping rule the engine matched for each account
and the component that rule names, looked up with a formula. GL Map lists the rules.
Ledger Reconciliation computes booked (SUMIFS over Ledger Data), modelled,
variance, variance % and the flag per period and component, the Unmapped row per
period, the GL totals, and lists the unmapped lines.
"""

from __future__ import annotations

import numpy as np

from tokenbom_xl.chargeback import ChargebackResult
from tokenbom_xl.errors import OutputError
from tokenbom_xl.ledger import GlMap, Ledger
from tokenbom_xl.reconcile import UNMAPPED, Reconciliation, aggregate_ledger
from tokenbom_xl.scenario import COMPONENTS
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.chargeback import (
    CHARGEBACK_SHEET,
    EXCEL_MAX_ROWS,
    ChargebackLayout,
    period_key,
)
from tokenbom_xl.workbook.checks import within_tolerance
from tokenbom_xl.workbook.context import BuildContext, quote_sheet, write_text

__all__ = ["write_ledger_sheets"]

RECONCILIATION_SHEET = "Ledger Reconciliation"
LEDGER_SHEET = "Ledger Data"
MAP_SHEET = "GL Map"
DATA_FIRST_ROW = 5


def write_ledger_sheets(
    ctx: BuildContext,
    ledger: Ledger,
    gl_map: GlMap,
    result: Reconciliation,
    chargeback: ChargebackResult | None,
    layout: ChargebackLayout | None,
) -> None:
    """Write the reconciliation sheet and the ledger and mapping data behind it."""
    aggregated = aggregate_ledger(ledger, result.rule_index)
    if len(aggregated) + DATA_FIRST_ROW > EXCEL_MAX_ROWS:
        raise OutputError(
            f"{ledger.source}: {len(aggregated):,} period, account and cost centre totals do not fit in one "
            "worksheet; use `tokenbom reconcile` for the CSV"
        )
    reconciliation = ctx.add_sheet(
        RECONCILIATION_SHEET, "Booked against modelled cost per period and component"
    )
    data = ctx.add_sheet(
        LEDGER_SHEET,
        "The GL summed by period, account and cost centre, with its mapping rule",
    )
    rules = ctx.add_sheet(
        MAP_SHEET, "Account-to-component rules: exact code, prefix or range"
    )
    component_first = _write_gl_map(rules, gl_map)
    _write_ledger_data(ctx, data, ledger, aggregated, gl_map, component_first)
    _write_reconciliation(
        ctx, reconciliation, ledger, aggregated, result, chargeback, layout
    )


def _write_gl_map(ws, gl_map: GlMap) -> int:
    ws["A1"] = "GL Map"
    ws["A1"].font = style.TITLE_FONT
    write_text(
        ws,
        "A2",
        f"Read from {gl_map.source}. An account matched by two rules is rejected before the workbook is built.",
    )
    ws["A2"].font = style.SUBTITLE_FONT
    style.write_header(
        ws,
        DATA_FIRST_ROW - 1,
        [
            "Rule",
            "Row in mapping file",
            "Match",
            "Account",
            "Account to",
            "Component",
            "Component number",
        ],
    )
    labels = [label for _, label in COMPONENTS]
    for index, rule in enumerate(gl_map.rules):
        row = DATA_FIRST_ROW + index
        ws[f"A{row}"] = index + 1
        ws[f"B{row}"] = rule.number
        write_text(ws, f"C{row}", rule.match)
        write_text(ws, f"D{row}", rule.account)
        write_text(ws, f"E{row}", rule.account_to)
        write_text(ws, f"F{row}", rule.component)
        ws[f"G{row}"] = labels.index(rule.component) + 1
    # The component names, looked up by number on Ledger Data.
    component_first = DATA_FIRST_ROW + len(gl_map.rules) + 3
    ws[f"A{component_first - 2}"] = "Components"
    ws[f"A{component_first - 2}"].font = style.SECTION_FONT
    style.write_header(ws, component_first - 1, ["Number", "Component"])
    for index, label in enumerate(labels):
        ws[f"A{component_first + index}"] = index + 1
        ws[f"B{component_first + index}"] = label
    style.set_column_widths(
        ws, {"A": 12, "B": 20, "C": 10, "D": 16, "E": 16, "F": 20, "G": 12}
    )
    style.finish_sheet(
        ws,
        freeze=f"A{DATA_FIRST_ROW}",
        title_rows=f"{DATA_FIRST_ROW - 1}:{DATA_FIRST_ROW - 1}",
    )
    return component_first


def _write_ledger_data(
    ctx, ws, ledger: Ledger, aggregated, gl_map: GlMap, component_first: int
) -> None:
    ws["A1"] = "Ledger Data"
    ws["A1"].font = style.TITLE_FONT
    write_text(
        ws,
        "A2",
        f"Read from {ledger.source}: {len(ledger):,} lines summed by period, account and cost centre.",
    )
    ws["A2"].font = style.SUBTITLE_FONT
    style.write_header(
        ws,
        DATA_FIRST_ROW - 1,
        [
            "Period",
            "Account",
            "Cost centre",
            "Lines",
            "Amount",
            "Description (first line)",
            "Period key",
            "Rule",
            "Component number",
            "Component",
        ],
    )
    rule_numbers = f"{quote_sheet(MAP_SHEET)}!$G${DATA_FIRST_ROW}:$G${DATA_FIRST_ROW + len(gl_map.rules) - 1}"
    names = f"{quote_sheet(MAP_SHEET)}!$B${component_first}:$B${component_first + len(COMPONENTS) - 1}"
    labels = [label for _, label in COMPONENTS]
    for index, record in enumerate(aggregated.itertuples(index=False)):
        row = DATA_FIRST_ROW + index
        write_text(ws, f"A{row}", record.period)
        write_text(ws, f"B{row}", record.account)
        write_text(ws, f"C{row}", record.cost_centre)
        ws[f"D{row}"] = int(record.lines)
        ws[f"E{row}"] = float(record.amount)
        ws[f"E{row}"].number_format = ctx.money
        write_text(ws, f"F{row}", record.description)
        ws[f"G{row}"] = period_key(record.period)
        if record.rule >= 0:
            ws[f"H{row}"] = int(record.rule) + 1
            number = labels.index(gl_map.rules[int(record.rule)].component) + 1
        else:
            number = 0
        ctx.formula(
            ws,
            f"I{row}",
            f'=IF(H{row}="",0,INDEX({rule_numbers},H{row}))',
            float(number),
            style.INTEGER,
        )
        ctx.formula(
            ws,
            f"J{row}",
            f'=IF(I{row}=0,"{UNMAPPED}",INDEX({names},I{row}))',
            labels[number - 1] if number else UNMAPPED,
        )

    style.set_column_widths(
        ws,
        {
            "A": 10,
            "B": 14,
            "C": 14,
            "D": 8,
            "E": 16,
            "F": 40,
            "G": 10,
            "H": 8,
            "I": 12,
            "J": 18,
        },
    )
    style.finish_sheet(
        ws,
        freeze=f"A{DATA_FIRST_ROW}",
        title_rows=f"{DATA_FIRST_ROW - 1}:{DATA_FIRST_ROW - 1}",
    )


def _data_range(column: str, count: int) -> str:
    return f"{quote_sheet(LEDGER_SHEET)}!${column}${DATA_FIRST_ROW}:${column}${DATA_FIRST_ROW + max(count, 1) - 1}"


def _write_reconciliation(
    ctx, ws, ledger: Ledger, aggregated, result: Reconciliation, chargeback, layout
) -> None:
    count = len(aggregated)
    amount, lines, keys, numbers = (_data_range(column, count) for column in "EDGI")
    ws["A1"] = "Ledger Reconciliation"
    ws["A1"].font = style.TITLE_FONT
    ws["A2"] = "Booked (GL) against modelled cost per period and component. " + (
        "Usage periods are modelled at the utilization their usage implies."
        if chargeback is not None
        else "Every period is modelled at the scenario's utilization."
    )
    ws["A2"].font = style.SUBTITLE_FONT

    style.write_header(ws, 4, ["Figure", "Value"])
    figures = [
        (
            "Tolerance on |variance %|",
            "=reconciliation_tolerance",
            result.tolerance,
            style.PERCENT,
            "rec_tolerance",
        ),
        (
            "Materiality on |variance| (0 = off)",
            "=reconciliation_materiality",
            result.materiality,
            ctx.money,
            "rec_materiality",
        ),
        (
            "GL lines in Ledger Data",
            f"=SUM({lines})",
            float(result.line_count),
            style.TOKENS,
            "rec_lines",
        ),
        ("GL total", f"=SUM({amount})", result.gl_total, ctx.money, "rec_gl_total"),
        (
            "Mapped",
            f'=SUMIFS({amount},{numbers},">0")',
            result.mapped_total,
            ctx.money,
            "rec_mapped",
        ),
        (
            "Unmapped",
            f"=SUMIFS({amount},{numbers},0)",
            result.unmapped_total,
            ctx.money,
            "rec_unmapped",
        ),
    ]
    row = 4
    for label, formula, expected, number_format, name in figures:
        row += 1
        ws[f"A{row}"] = label
        ctx.formula(ws, f"B{row}", formula, expected, number_format, name=name)

    row += 1
    ws[f"A{row}"] = "GL lines in the file"
    ws[f"B{row}"] = result.line_count
    ws[f"B{row}"].number_format = style.TOKENS
    lines_in_file = f"B{row}"

    row += 2
    ws[f"A{row}"] = "Per period and component"
    ws[f"A{row}"].font = style.SECTION_FONT
    row += 1
    header_row = row
    style.write_header(
        ws,
        row,
        ["Period", "Component", "Booked", "Modelled", "Variance", "Variance %", "Flag"],
    )
    table = result.table
    modelled_periods = (
        set(chargeback.periods["period"]) if chargeback is not None else None
    )
    width = len(COMPONENTS) + 1
    for start in range(0, len(table), width):
        block = table.iloc[start : start + width]
        period = str(block["period"].iat[0])
        first = row + 1
        for offset, record in enumerate(block.itertuples(index=False)):
            row += 1
            write_text(ws, f"A{row}", record.period)
            ws[f"B{row}"] = record.component
            if record.component == UNMAPPED:
                ctx.formula(
                    ws,
                    f"C{row}",
                    f"=SUMIFS({amount},{keys},{period_key(period)},{numbers},0)",
                    record.booked,
                    ctx.money,
                )
                # Flag the row by its count of unmapped lines, so lines that net
                # to 0 are still flagged.
                ctx.formula(
                    ws,
                    f"G{row}",
                    f"=IF(COUNTIFS({keys},{period_key(period)},{numbers},0)>0,"
                    '"unmapped","ok")',
                    record.flag,
                )
                continue
            ctx.formula(
                ws,
                f"C{row}",
                f"=SUMIFS({amount},{keys},{period_key(period)},{numbers},{offset + 1})",
                record.booked,
                ctx.money,
            )
            modelled = _modelled_formula(
                COMPONENTS[offset][0], period, modelled_periods, layout
            )
            if modelled is None:
                ws[f"D{row}"] = "no usage"
            else:
                ctx.formula(ws, f"D{row}", modelled, record.modelled, ctx.money)
            ctx.formula(ws, f"E{row}", f"=C{row}-N(D{row})", record.variance, ctx.money)
            pct = record.variance_pct
            ctx.formula(
                ws,
                f"F{row}",
                f'=IF(N(D{row})=0,"n/a",E{row}/D{row})',
                "n/a" if np.isnan(pct) else pct,
                style.PERCENT,
            )
            ctx.formula(ws, f"G{row}", _flag_formula(row), record.flag)
        row += 1
        ws[f"A{row}"] = "Total"
        ws[f"B{row}"] = "Total"
        ws[f"A{row}"].font = ws[f"B{row}"].font = style.TOTAL_FONT
        ctx.formula(
            ws,
            f"C{row}",
            f"=SUM(C{first}:C{row - 1})",
            float(block["booked"].sum()),
            ctx.money,
            bold=True,
        )
        ctx.formula(
            ws,
            f"D{row}",
            f"=SUM(D{first}:D{row - 2})",
            float(np.nansum(block["modelled"].to_numpy())),
            ctx.money,
            bold=True,
        )

    sheet = quote_sheet(RECONCILIATION_SHEET)
    ctx.add_check(
        "Reconciliation: mapped + unmapped = GL total",
        within_tolerance("rec_mapped+rec_unmapped", "rec_gl_total"),
        "every GL line is mapped to a component or listed as unmapped",
    )
    ctx.add_check(
        "Reconciliation: no GL line dropped",
        f"rec_lines={sheet}!{lines_in_file}",
        "the lines summed in Ledger Data are all the lines of the GL file",
    )
    ctx.add_check(
        "Reconciliation: periods add up to the GL total",
        within_tolerance(
            f'SUMIF({sheet}!$B${header_row}:$B${row},"Total",{sheet}!$C${header_row}:$C${row})',
            "rec_gl_total",
        ),
        "booked per period and component, with the unmapped rows, is the whole GL",
    )
    _write_unmapped(ctx, ws, row + 3, aggregated)

    style.set_column_widths(
        ws, {"A": 34, "B": 18, "C": 16, "D": 16, "E": 16, "F": 12, "G": 30}
    )
    style.finish_sheet(
        ws, freeze=f"A{header_row + 1}", title_rows=f"{header_row}:{header_row}"
    )


def _modelled_formula(
    key: str,
    period: str,
    modelled_periods: set[str] | None,
    layout: ChargebackLayout | None,
) -> str | None:
    """Return the formula of a component's modelled cost in a period, or None if none is modelled."""
    if modelled_periods is None:
        return f"=cost_{key}"
    if period not in modelled_periods or layout is None:
        return None
    if key != "energy":
        return f"=cost_{key}"
    utilization = f"{quote_sheet(CHARGEBACK_SHEET)}!${layout.utilization_column}${layout.period_rows[period]}"
    return f"=cost_energy_full*(energy_idle_fraction+(1-energy_idle_fraction)*{utilization})"


def _flag_formula(row: int) -> str:
    booked, modelled, variance, pct = f"C{row}", f"N(D{row})", f"E{row}", f"F{row}"
    material = f"AND(rec_materiality>0,ABS({variance})>rec_materiality)"
    return (
        f'=IF({modelled}=0,IF({booked}<>0,"no modelled cost","ok"),'
        f'IF(AND(ABS({pct})>rec_tolerance,{material}),"over tolerance and materiality",'
        f'IF(ABS({pct})>rec_tolerance,"over tolerance",IF({material},"over materiality","ok"))))'
    )


def _write_unmapped(ctx, ws, row: int, aggregated) -> None:
    ws[f"A{row - 1}"] = "Unmapped GL lines (by period, account and cost centre)"
    ws[f"A{row - 1}"].font = style.SECTION_FONT
    style.write_header(
        ws,
        row,
        [
            "Period",
            "Account",
            "Cost centre",
            "Lines",
            "Amount",
            "Description (first line)",
        ],
    )
    unmapped = aggregated.index[aggregated["rule"].to_numpy() < 0]
    first = row + 1
    for index in unmapped:
        record = aggregated.loc[index]
        row += 1
        source = DATA_FIRST_ROW + int(index)
        write_text(ws, f"A{row}", record["period"])
        write_text(ws, f"B{row}", record["account"])
        write_text(ws, f"C{row}", record["cost_centre"])
        ws[f"D{row}"] = int(record["lines"])
        ctx.formula(
            ws,
            f"E{row}",
            f"={quote_sheet(LEDGER_SHEET)}!E{source}",
            float(record["amount"]),
            ctx.money,
        )
        write_text(ws, f"F{row}", record["description"])
    row += 1
    ws[f"A{row}"] = "Total unmapped"
    ws[f"A{row}"].font = style.TOTAL_FONT
    total = float(aggregated.loc[unmapped, "amount"].sum())
    ctx.formula(
        ws,
        f"E{row}",
        f"=SUM(E{first}:E{row - 1})" if row > first else "=0",
        total,
        ctx.money,
        bold=True,
    )
    ctx.add_check(
        "Reconciliation: unmapped lines add up to the unmapped total",
        within_tolerance(f"{quote_sheet(RECONCILIATION_SHEET)}!E{row}", "rec_unmapped"),
        "the listed unmapped lines are all the unmapped lines",
    )
