"""The Checks sheet: each check TRUE or FALSE, and one master check over all of them.

Sheets add their checks to the build context while they are written, and this sheet
is written last. Money and per-token comparisons allow a relative difference of 1e-9,
which is far below a cent and far above floating-point noise.
"""

from __future__ import annotations

from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.context import BuildContext

FIRST_ROW = 6
TOLERANCE = "1E-9"


def within_tolerance(left: str, right: str) -> str:
    """Return a formula (no '=') that is TRUE when two figures agree to 1e-9 relative."""
    return f"ABS(({left})-({right}))<={TOLERANCE}*MAX(1,ABS({right}))"


def add_core_checks(ctx: BuildContext) -> None:
    """Add the checks that hold for every BOM."""
    ctx.add_check(
        "Utilization is in (0, 1]",
        "AND(utilization>0,utilization<=1)",
        "0 < U <= 1; per-token figures are undefined at 0",
    )
    ctx.add_check(
        "Yield is in (0, 1]",
        "AND(yield_rate>0,yield_rate<=1)",
        "0 < Y <= 1; per-token figures are undefined at 0",
    )
    ctx.add_check(
        "Components add up to C(U)",
        within_tolerance(
            "cost_silicon+cost_fabric+cost_facility+cost_energy+cost_platform+cost_model_lifecycle+cost_operations",
            "bom_total",
        ),
        "the seven component sheets sum to the Summary total",
    )
    ctx.add_check(
        "C(U) = F + E(U)",
        within_tolerance("bom_fixed+cost_energy", "bom_total"),
        "fixed plus energy at U",
    )
    ctx.add_check(
        "A + L + V = C(U)",
        within_tolerance(
            "bom_absorbed+bom_yield_loss+bom_capacity_variance", "bom_total"
        ),
        "absorbed cost, yield loss and capacity variance split the total exactly",
    )
    ctx.add_check(
        "Waterfall adds up to the cost per good token",
        within_tolerance(
            "bom_floor_per_million+bom_yield_loss_per_million+bom_capacity_variance_per_million",
            "bom_cost_per_million",
        ),
        "floor + yield loss + capacity variance per good token",
    )
    ctx.add_check(
        "Cost per good token is at least the floor",
        "bom_cost_per_million>=bom_floor_per_million*(1-1E-9)",
        "utilization and yield can only raise the cost above the floor",
    )
    ctx.add_check(
        "Good tokens do not exceed capacity",
        "bom_good_tokens<=bom_capacity",
        "G = K x U x Y <= K",
    )
    ctx.add_check(
        "Crossover is a utilization in (0, 1] or 'never'",
        'IF(ISNUMBER(bom_crossover),AND(bom_crossover>0,bom_crossover<=1),bom_crossover="never")',
        "U* where the manufactured token costs the API price",
    )


def write_checks(ctx: BuildContext) -> None:
    """Write the Checks sheet from the checks that the other sheets added."""
    ws = ctx.add_sheet("Checks", "Each check TRUE or FALSE, and the master check")
    ws["A1"] = "Checks"
    ws["A1"].font = style.TITLE_FONT
    ws["A2"] = (
        "Every check must be TRUE. The master check is TRUE only when all of them are."
    )
    ws["A2"].font = style.SUBTITLE_FONT
    ws["A3"] = "Master check"
    ws["A3"].font = style.SECTION_FONT
    last_row = FIRST_ROW + len(ctx.checks) - 1
    ctx.formula(
        ws,
        "B3",
        f"=AND(B{FIRST_ROW}:B{last_row})",
        True,
        name="checks_all_pass",
        bold=True,
    )
    ws["B3"].font = style.SECTION_FONT

    style.write_header(ws, FIRST_ROW - 1, ["Check", "Result", "What it means"])
    for offset, check in enumerate(ctx.checks):
        row = FIRST_ROW + offset
        ws[f"A{row}"] = check.label
        ctx.formula(ws, f"B{row}", f"={check.formula}", True)
        ws[f"C{row}"] = check.explanation
    style.set_column_widths(ws, {"A": 48, "B": 12, "C": 70})
    style.finish_sheet(
        ws, freeze=f"A{FIRST_ROW}", title_rows=f"{FIRST_ROW - 1}:{FIRST_ROW - 1}"
    )
