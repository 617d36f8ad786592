"""The Metering sheet: what was measured, from which files, and what the model used.

The sheet has one section per kind of figure. First come the notes of
:func:`apply_metered`, which list what was metered and what was taken from the
scenario, then the measured figures. Each source file gets a row with its coverage,
its rows read, used, outside the period and rejected, the reasons and the quality
flags. Tokens by business unit and model, yield by model and booked costs follow.
Every string that came from an input file goes through ``write_text``, and every
computed cell is a formula whose engine value is recorded. A check confirms that each
source accounts for every row it read.
"""

from __future__ import annotations

import math
from decimal import Decimal

from openpyxl.worksheet.worksheet import Worksheet

from tokenbom_xl.metering.apply import AppliedMetering
from tokenbom_xl.metering.metered import Metered
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.context import BuildContext, write_text

__all__ = ["write_metering"]

_SOURCE_HEADER = [
    "Kind",
    "Format",
    "File",
    "First time (UTC)",
    "Last time (UTC)",
    "Rows read",
    "Rows used",
    "Left out, outside period",
    "Rows rejected",
    "Accounted for",
    "Rejected rows and reasons",
    "Quality flags",
    "Notes",
]


def write_metering(ctx: BuildContext, applied: AppliedMetering) -> None:
    """Write the Metering sheet and add its check."""
    metered = applied.metered
    ws = ctx.add_sheet(
        "Metering",
        f"Metered inputs of {metered.period}: sources, coverage, rejected rows and flags",
    )
    ws["A1"] = "Metering"
    ws["A1"].font = style.TITLE_FONT
    write_text(
        ws,
        "A2",
        f"Period {metered.period}, metered by {metered.generated_by or 'tokenbom meter'}",
    )
    ws["A2"].font = style.SUBTITLE_FONT

    row = _write_notes(ws, 4, applied.notes)
    row = _write_figures(ctx, ws, row + 1, metered)
    row = _write_sources(ctx, ws, row + 1, metered)
    row = _write_tokens(ctx, ws, row + 1, metered)
    row = _write_yields(ctx, ws, row + 1, metered)
    row = _write_booked(ctx, ws, row + 1, metered)
    _write_profiles(ws, row + 1, metered)

    style.set_column_widths(ws, _WIDTHS)
    style.finish_sheet(ws, freeze="A4")


# Column widths in characters; the wrapped text columns size the source rows.
_WIDTHS = {
    "A": 18,
    "B": 24,
    "C": 48,
    "D": 22,
    "E": 22,
    "F": 12,
    "G": 12,
    "H": 12,
    "I": 12,
    "J": 12,
    "K": 40,
    "L": 56,
    "M": 40,
}


def _header(ws: Worksheet, row: int, labels: list[str]) -> None:
    """Write a table header tall enough for two-line labels."""
    style.write_header(ws, row, labels)
    ws.row_dimensions[row].height = 30


def _section(ws: Worksheet, row: int, title: str) -> int:
    ws[f"A{row}"] = title
    ws[f"A{row}"].font = style.SECTION_FONT
    return row + 1


def _write_notes(ws: Worksheet, row: int, notes: list[str]) -> int:
    row = _section(ws, row, "What the model uses")
    for note in notes:
        write_text(ws, f"A{row}", note)
        row += 1
    return row


def _write_figures(ctx: BuildContext, ws: Worksheet, row: int, metered: Metered) -> int:
    row = _section(ws, row, "Measured figures")
    style.write_header(ws, row, ["Figure", "Value", "Unit"])
    row += 1
    start = row
    utilization = metered.utilization
    if utilization is not None:
        busy_row, observed_row = row, row + 1
        unit = (
            "accelerator-seconds" if utilization.timed else "readings (no timestamps)"
        )
        _label(ws, busy_row, "Busy", utilization.busy_accelerator_seconds, unit)
        _label(
            ws, observed_row, "Observed", utilization.observed_accelerator_seconds, unit
        )
        ws[f"A{row + 2}"] = "Utilization"
        ctx.formula(
            ws,
            f"B{row + 2}",
            f"=B{busy_row}/B{observed_row}",
            utilization.value,
            style.FRACTION,
            name="metering_utilization",
        )
        ws[f"C{row + 2}"] = "busy / observed"
        _label(
            ws,
            row + 3,
            "Accelerators seen",
            utilization.accelerators_seen,
            "accelerators",
        )
        row += 4
    energy = metered.energy
    if energy is not None:
        for label, value, unit in (
            ("Mean power", energy.mean_power_w, "W per accelerator"),
            ("Full-load power", energy.full_load_power_w, "W per accelerator, fitted"),
            ("Idle power", energy.idle_power_w, "W per accelerator, fitted"),
            ("IT energy observed", energy.it_kwh, "kWh"),
            ("PUE", energy.pue, "ratio, time-weighted"),
        ):
            if value is not None:
                _label(ws, row, label, value, unit)
                row += 1
    if metered.yield_rate is not None:
        _label(ws, row, "Yield", metered.yield_rate, "fraction")
        write_text(ws, f"C{row}", metered.yield_basis)
        row += 1
    if row == start:
        ws[f"A{row}"] = "Nothing measured; every input comes from the scenario."
        row += 1
    return row


def _label(ws: Worksheet, row: int, label: str, value: float, unit: str) -> None:
    ws[f"A{row}"] = label
    ws[f"B{row}"] = value
    ws[f"B{row}"].number_format = style.NUMBER
    ws[f"C{row}"] = unit


def _write_sources(ctx: BuildContext, ws: Worksheet, row: int, metered: Metered) -> int:
    row = _section(ws, row, "Sources")
    _header(ws, row, _SOURCE_HEADER)
    first = row + 1
    for offset, source in enumerate(metered.sources):
        current = first + offset
        for column, text in zip(
            "ABCDE",
            (
                source.kind,
                source.format,
                source.file,
                source.first_time,
                source.last_time,
            ),
            strict=True,
        ):
            write_text(ws, f"{column}{current}", text)
        for column, value in zip(
            "FGHI",
            (
                source.rows_read,
                source.rows_used,
                source.rows_outside_period,
                source.rows_rejected,
            ),
            strict=True,
        ):
            ws[f"{column}{current}"] = value
            ws[f"{column}{current}"].number_format = style.TOKENS
        accounted = source.rows_used + source.rows_outside_period + source.rows_rejected
        ctx.formula(
            ws,
            f"J{current}",
            f"=G{current}+H{current}+I{current}",
            accounted,
            style.TOKENS,
        )
        # The long texts wrap inside their columns instead of running off the page,
        # and the row is made tall enough for the longest of them.
        texts = {
            "C": source.file,
            "K": source.rejection_text() or "none",
            "L": source.flag_text() or "none",
            "M": "; ".join(source.notes),
        }
        for column, text in texts.items():
            write_text(ws, f"{column}{current}", text).alignment = style.WRAP
        lines = max(
            math.ceil(len(str(text)) / (_WIDTHS[column] * 1.1))
            for column, text in texts.items()
        )
        ws.row_dimensions[current].height = 15 * max(lines, 1)

    last = first + len(metered.sources) - 1
    total = last + 1
    ws[f"A{total}"] = "Total"
    ws[f"A{total}"].font = style.TOTAL_FONT
    if metered.sources:
        read = sum(source.rows_read for source in metered.sources)
        accounted = sum(
            s.rows_used + s.rows_outside_period + s.rows_rejected
            for s in metered.sources
        )
        ctx.formula(
            ws,
            f"F{total}",
            f"=SUM(F{first}:F{last})",
            read,
            style.TOKENS,
            name="metering_rows_read",
            bold=True,
        )
        ctx.formula(
            ws,
            f"J{total}",
            f"=SUM(J{first}:J{last})",
            accounted,
            style.TOKENS,
            name="metering_rows_accounted",
            bold=True,
        )
        ctx.add_check(
            "Metered rows are all accounted for",
            "metering_rows_accounted=metering_rows_read",
            "each source's rows read = rows used + outside the period + rejected",
        )
    return total + 1


def _write_tokens(ctx: BuildContext, ws: Worksheet, row: int, metered: Metered) -> int:
    if not metered.tokens:
        return row
    row = _section(ws, row, "Tokens by business unit and model")
    _header(
        ws,
        row,
        [
            "Business unit",
            "Model",
            "Output tokens",
            "Input tokens",
            "Requests",
            "Yield",
            "Good tokens",
            "Scrapped tokens",
        ],
    )
    first = row + 1
    for offset, entry in enumerate(metered.tokens):
        current = first + offset
        write_text(ws, f"A{current}", entry.business_unit)
        write_text(ws, f"B{current}", entry.model)
        for column, value in (
            ("C", entry.output_tokens),
            ("D", entry.input_tokens),
            ("E", entry.requests),
        ):
            ws[f"{column}{current}"] = value
            ws[f"{column}{current}"].number_format = style.TOKENS
        if entry.good_tokens is None:
            ws[f"F{current}"] = "scenario"
            continue
        ws[f"F{current}"] = entry.yield_rate
        ws[f"F{current}"].number_format = style.FRACTION
        ws[f"G{current}"] = entry.good_tokens
        ws[f"G{current}"].number_format = style.TOKENS
        ctx.formula(
            ws,
            f"H{current}",
            f"=C{current}-G{current}",
            entry.scrapped_tokens,
            style.TOKENS,
        )

    last = first + len(metered.tokens) - 1
    total = last + 1
    ws[f"A{total}"] = "Total"
    ws[f"A{total}"].font = style.TOTAL_FONT
    for column, value in (
        ("C", sum(e.output_tokens for e in metered.tokens)),
        ("D", sum(e.input_tokens for e in metered.tokens)),
        ("E", sum(e.requests for e in metered.tokens)),
        ("G", sum(e.good_tokens or 0 for e in metered.tokens)),
        ("H", sum(e.scrapped_tokens or 0 for e in metered.tokens)),
    ):
        ctx.formula(
            ws,
            f"{column}{total}",
            f"=SUM({column}{first}:{column}{last})",
            value,
            style.TOKENS,
            bold=True,
        )
    return total + 1


def _write_yields(ctx: BuildContext, ws: Worksheet, row: int, metered: Metered) -> int:
    if not metered.yields:
        return row
    row = _section(ws, row, "Yield by model (evaluation)")
    _header(
        ws,
        row,
        [
            "Model",
            "Samples",
            "Good samples",
            "Output tokens",
            "Good output tokens",
            "Yield",
        ],
    )
    for offset, entry in enumerate(metered.yields, start=1):
        current = row + offset
        write_text(ws, f"A{current}", entry.model)
        for column, value in zip(
            "BCDE",
            (
                entry.samples,
                entry.good_samples,
                entry.output_tokens,
                entry.good_output_tokens,
            ),
            strict=True,
        ):
            ws[f"{column}{current}"] = value
            ws[f"{column}{current}"].number_format = style.TOKENS
        formula = f"=IF(D{current}>0,E{current}/D{current},C{current}/B{current})"
        ctx.formula(ws, f"F{current}", formula, entry.yield_rate, style.FRACTION)
    return row + len(metered.yields) + 1


def _write_booked(ctx: BuildContext, ws: Worksheet, row: int, metered: Metered) -> int:
    if not metered.booked:
        return row
    row = _section(ws, row, f"Booked costs of {metered.period} (general ledger)")
    style.write_header(
        ws,
        row,
        ["Account", "Cost centre", f"Amount ({ctx.scenario.currency})", "Lines"],
    )
    first = row + 1
    for offset, entry in enumerate(metered.booked):
        current = first + offset
        write_text(ws, f"A{current}", entry.account)
        write_text(ws, f"B{current}", entry.cost_centre)
        ws[f"C{current}"] = float(Decimal(entry.amount))
        ws[f"C{current}"].number_format = ctx.money
        ws[f"D{current}"] = entry.lines
    last = first + len(metered.booked) - 1
    total = last + 1
    ws[f"A{total}"] = "Total"
    ws[f"A{total}"].font = style.TOTAL_FONT
    amount = float(sum((Decimal(entry.amount) for entry in metered.booked), Decimal(0)))
    ctx.formula(
        ws, f"C{total}", f"=SUM(C{first}:C{last})", amount, ctx.money, bold=True
    )
    return total + 1


def _write_profiles(ws: Worksheet, row: int, metered: Metered) -> int:
    if not metered.depreciation_profiles:
        return row
    row = _section(ws, row, "Depreciation profiles (ledger)")
    style.write_header(
        ws, row, ["Asset class", "Asset account", "Expense account", "Life (months)"]
    )
    for offset, profile in enumerate(metered.depreciation_profiles, start=1):
        current = row + offset
        for column, text in zip(
            "ABC",
            (profile.name, profile.asset_account, profile.expense_account),
            strict=True,
        ):
            write_text(ws, f"{column}{current}", text)
        ws[f"D{current}"] = profile.life_months
    return row + len(metered.depreciation_profiles) + 1
