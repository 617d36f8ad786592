"""Write the Cover sheet: what the workbook is, which inputs built it, how to use it,
and an index of the sheets."""

from __future__ import annotations

from openpyxl.worksheet.worksheet import Worksheet

from tokenbom_xl import __version__
from tokenbom_xl.scenario import scenario_hash
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.context import BuildContext, quote_sheet, write_text

HOW_TO_USE = (
    "Change a yellow cell on the Inputs sheet; every figure recalculates with native Excel formulas, no add-in needed.",
    "Summary shows the seven components, the cost per good token and the crossover with the API price.",
    "Checks must all be TRUE; the master check there is TRUE only when every check is.",
    "Sheets are protected without a password so formulas are not overwritten by accident; unprotect to edit them.",
    "The SHA-256 below identifies the scenario the workbook was built from; edits in the workbook do not change it.",
)


def write_cover(ctx: BuildContext, ws: Worksheet) -> None:
    """Fill the Cover sheet, which was created first so that it opens first."""
    ws["A1"] = "Token BOM"
    ws["A1"].font = style.TITLE_FONT
    ws["A2"] = "Fully burdened bill of materials for one manufactured output token"
    ws["A2"].font = style.SUBTITLE_FONT

    facts = [
        ("Scenario", ctx.scenario.name),
        ("Currency", ctx.scenario.currency),
        ("Built by", f"tokenbom_xl {__version__}"),
        ("Scenario SHA-256", scenario_hash(ctx.scenario)),
    ]
    row = 4
    for label, value in facts:
        ws[f"A{row}"] = label
        ws[f"A{row}"].font = style.TOTAL_FONT
        write_text(ws, f"B{row}", value)
        row += 1

    row += 1
    ws[f"A{row}"] = "How to use"
    ws[f"A{row}"].font = style.SECTION_FONT
    for line in HOW_TO_USE:
        row += 1
        ws[f"A{row}"] = line

    row += 2
    ws[f"A{row}"] = "Sheets"
    ws[f"A{row}"].font = style.SECTION_FONT
    row += 1
    style.write_header(ws, row, ["Sheet", "What it holds"])
    for title, description in ctx.sheet_index:
        row += 1
        ws[f"A{row}"] = title
        ws[f"A{row}"].hyperlink = f"#{quote_sheet(title)}!A1"
        ws[f"A{row}"].style = "Hyperlink"
        ws[f"B{row}"] = description

    style.set_column_widths(ws, {"A": 28, "B": 90})
    style.finish_sheet(ws, freeze=None, landscape=False)
