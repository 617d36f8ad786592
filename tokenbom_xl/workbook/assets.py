"""The Assets sheet: the asset register, each asset's roll-forward, and its monthly depreciation.

One row per asset. The register columns are inputs, and the derived columns are native
formulas. A straight-line asset is charged a level amount, so its row shows the
monthly charge before and after any change of life, and the Schedule sheet adds
those up with SUMPRODUCT over the whole register. A declining-balance or
units-of-production asset is charged a different amount every month, so its row
continues to the right with one formula in each month of its life: Excel's
``VDB(..., 2, FALSE)``, or the share of lifetime tokens served. The Schedule sheet
adds that grid up by asset class with SUMIF.

A formula per asset and month for every row was measured first: it took about twice
the CPU time of this layout for a mixed 1,000-asset register over 60 months (see
docs/benchmarks.md), and the level rows' cells repeated one number.

Which formulas a row gets is fixed when the workbook is built: its method, whether
its life changes before the end of the original life, and, for the rows with a
formula per month, which months hold one. The dates and lives of those rows are
therefore locked in the workbook; change them in the register and rebuild.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from openpyxl.styles import Alignment, NamedStyle
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tokenbom_xl.depreciation import declining_balance_by_age
from tokenbom_xl.schedule import Schedule
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.context import BuildContext, write_text

SHEET = "Assets"
PERIOD_INDEX_ROW = 5
# Tokens made since the first month, through each month: per accelerator, and by the
# whole factory. Units-of-production rows read their tokens served from these.
TOKENS_PER_ACCELERATOR_ROW = 6
FACTORY_TOKENS_ROW = 7
HEADER_ROW = 8
FIRST_ASSET_ROW = 9

# Register inputs, then derived columns, as (key, header); letters follow the order.
_COLUMN_HEADERS: tuple[tuple[str, str], ...] = (
    ("asset_id", "asset_id"),
    ("asset_class", "asset_class"),
    ("method", "method"),
    ("purchase_month", "purchase_month"),
    ("quantity", "quantity"),
    ("unit_price", "unit_price"),
    ("salvage", "salvage"),
    ("life_months", "life_months"),
    ("lifetime_tokens", "lifetime_tokens"),
    ("life_change_month", "life_change_month"),
    ("new_life_months", "new_life_months"),
    ("purchase_offset", "Purchase month less first month (months)"),
    ("change_age", "Age at the change of life (months)"),
    ("first_end", "Age at which the first charge ends (months)"),
    ("end_age", "Age at the end of depreciation (months)"),
    ("depreciable", "Cost less salvage per unit"),
    ("charge_before", "Monthly charge until then, straight-line"),
    ("book_at_change", "Net book value per unit at the change"),
    ("charge_after", "Monthly charge after the change, straight-line"),
    ("opening_tokens", "Tokens per unit before the first month"),
    (
        "tokens_before_purchase",
        "Tokens since the first month, before the purchase month",
    ),
    ("opening_accumulated", "Accumulated depreciation before the first month"),
    ("horizon_depreciation", "Depreciation in the schedule"),
    ("cost_less_salvage", "Cost less salvage"),
    ("closing_book_value", "Net book value after the last month"),
)
COLUMNS: tuple[tuple[str, str, str], ...] = tuple(
    (key, get_column_letter(position), header)
    for position, (key, header) in enumerate(_COLUMN_HEADERS, start=1)
)
COLUMN = {key: letter for key, letter, _ in COLUMNS}
GRID_FIRST_COLUMN = (
    len(COLUMNS) + 2
)  # one empty column between the roll-forward and the grid

# A named style applies the input look (fill, blue text, unlocked) in one assignment.
# With openpyxl 3.1.5 that took a quarter of the time of setting the three attributes
# one by one, measured on 8,000 cells.
INPUT_STYLE = "Token BOM input"

_INPUT_COLUMNS = (
    "purchase_month",
    "quantity",
    "unit_price",
    "salvage",
    "life_months",
    "lifetime_tokens",
    "life_change_month",
    "new_life_months",
)


@dataclass(frozen=True)
class AssetRange:
    """The register's rows on the Assets sheet, for formulas on other sheets."""

    first_row: int
    last_row: int

    def column(self, key: str) -> str:
        """Return an absolute reference to one register column, such as ``Assets!$B$9:$B$20``."""
        letter = COLUMN[key]
        return f"{SHEET}!${letter}${self.first_row}:${letter}${self.last_row}"

    def grid_column(self, period: int) -> str:
        """Return the reference to one month of the grid, every asset."""
        letter = grid_letter(period)
        return f"{SHEET}!{letter}${self.first_row}:{letter}${self.last_row}"

    def level_charges(self, asset_class: str, period_index: str) -> str:
        """Return a SUMPRODUCT (no '=') of the straight-line charges of one class in one month.

        ``period_index`` is a reference to the month's index (0 = first month). An
        asset of age ``a`` pays the first charge while 0 <= a < first_end, and the
        charge after the change while first_end <= a < end_age.
        """
        age = f"({period_index}-{self.column('purchase_offset')})"
        first_end = self.column("first_end")
        return (
            f'SUMPRODUCT(({self.column("asset_class")}="{asset_class}")*({self.column("method")}="straight-line")'
            f"*(({age}>=0)*({age}<{first_end})*{self.column('charge_before')}"
            f"+({age}>={first_end})*({age}<{self.column('end_age')})*{self.column('charge_after')}))"
        )


def grid_letter(period: int) -> str:
    """Return the Assets column letter of period ``period`` (0-based)."""
    return get_column_letter(GRID_FIRST_COLUMN + period)


def asset_range(schedule: Schedule) -> AssetRange:
    return AssetRange(FIRST_ASSET_ROW, FIRST_ASSET_ROW + len(schedule.table) - 1)


def write_assets_sheet(
    ctx: BuildContext,
    schedule: Schedule,
    *,
    tokens_per_accelerator: Callable[[int], str],
    factory_tokens: Callable[[int], str],
) -> AssetRange:
    """Write the Assets sheet.

    ``tokens_per_accelerator`` and ``factory_tokens`` map a period (0-based) to the
    Schedule cell of tokens made that month, such as ``"Schedule!E40"``. The
    units-of-production rows count their tokens from there.
    """
    ws = ctx.add_sheet(
        SHEET,
        "The asset register, each asset's roll-forward and its monthly depreciation",
    )
    ws["A1"] = "Assets"
    ws["A1"].font = style.TITLE_FONT
    ws["A2"] = (
        "One row per purchase; yellow cells are inputs. Straight-line rows show their level monthly "
        "charge. Declining-balance and units-of-production rows continue to the right, with a formula "
        "in each month of their life; their dates and lives are grey, so change those in the register "
        "and rebuild."
    )
    ws["A2"].font = style.SUBTITLE_FONT
    ws["A3"] = (
        "Depreciation starts in the purchase month. A change of life spreads the net book value "
        "left at the change, less salvage, over the remaining new life. Amounts include the quantity."
    )
    ws["A3"].font = style.SUBTITLE_FONT

    _write_period_rows(ctx, ws, schedule, tokens_per_accelerator, factory_tokens)
    style.write_header(ws, HEADER_ROW, [header for _, _, header in COLUMNS])
    style.write_header(ws, HEADER_ROW, schedule.labels, column=GRID_FIRST_COLUMN)
    ws.row_dimensions[HEADER_ROW].height = 48  # room for the wrapped column titles

    if INPUT_STYLE not in ctx.workbook.named_styles:
        ctx.workbook.add_named_style(
            NamedStyle(
                name=INPUT_STYLE,
                font=style.INPUT_FONT,
                fill=style.INPUT_FILL,
                protection=style.UNLOCKED,
            )
        )
    for position in range(len(schedule.table)):
        _write_asset_row(ctx, ws, schedule, position, FIRST_ASSET_ROW + position)

    widths = {letter: 14.0 for _, letter, _ in COLUMNS}
    widths.update({"A": 18, "B": 16, "C": 20, "D": 12})
    style.set_column_widths(ws, widths)
    for period in range(schedule.horizon.months):
        ws.column_dimensions[
            grid_letter(period)
        ].width = 16  # running token counts reach 13 digits
    style.finish_sheet(
        ws, freeze=f"D{FIRST_ASSET_ROW}", title_rows=f"{HEADER_ROW}:{HEADER_ROW}"
    )
    return asset_range(schedule)


def _write_period_rows(
    ctx: BuildContext,
    ws: Worksheet,
    schedule: Schedule,
    tokens_per_accelerator: Callable[[int], str],
    factory_tokens: Callable[[int], str],
) -> None:
    # Labels sit in the empty column before the grid, right-aligned so that they
    # spill into the empty cells to their left.
    label_column = get_column_letter(GRID_FIRST_COLUMN - 1)
    for row, label in (
        (PERIOD_INDEX_ROW, "Period (0 = first month)"),
        (
            TOKENS_PER_ACCELERATOR_ROW,
            "Tokens made per accelerator since the first month",
        ),
        (FACTORY_TOKENS_ROW, "Tokens made by the factory since the first month"),
    ):
        ws[f"{label_column}{row}"] = label
        ws[f"{label_column}{row}"].font = style.TOTAL_FONT
        ws[f"{label_column}{row}"].alignment = Alignment(horizontal="right")
    per_accelerator = np.cumsum(schedule.tokens_made_per_accelerator)
    factory = np.cumsum(schedule.tokens_made)
    for period in range(schedule.horizon.months):
        letter = grid_letter(period)
        running = "" if period == 0 else f"{grid_letter(period - 1)}{{row}}+"
        ws[f"{letter}{PERIOD_INDEX_ROW}"] = period
        ctx.formula(
            ws,
            f"{letter}{TOKENS_PER_ACCELERATOR_ROW}",
            "="
            + running.format(row=TOKENS_PER_ACCELERATOR_ROW)
            + tokens_per_accelerator(period),
            per_accelerator[period],
            style.TOKENS,
        )
        ctx.formula(
            ws,
            f"{letter}{FACTORY_TOKENS_ROW}",
            "=" + running.format(row=FACTORY_TOKENS_ROW) + factory_tokens(period),
            factory[period],
            style.TOKENS,
        )


def _write_asset_row(
    ctx: BuildContext, ws: Worksheet, schedule: Schedule, position: int, row: int
) -> None:
    table = schedule.table
    asset = table.assets[position]
    money = ctx.money
    c = {key: f"{letter}{row}" for key, letter, _ in COLUMNS}
    changed = bool(table.has_change[position])
    level = asset.method == "straight-line"

    _write_register_cells(ws, asset, c, money, timing_editable=level)

    # When the asset's charges start, change and end, in months of age.
    purchase = _month_index(c["purchase_month"])
    ctx.formula(
        ws,
        c["purchase_offset"],
        f"={purchase}-schedule_start_index",
        float(table.purchase[position] - schedule.horizon.start),
        style.INTEGER,
    )
    if asset.life_change_month is not None:
        change = _month_index(c["life_change_month"])
        ctx.formula(
            ws,
            c["change_age"],
            f"={change}-{purchase}",
            float(asset.change_age),
            style.INTEGER,
        )
        first_end = f"=MIN({c['change_age']},{c['life_months']})"
    else:
        first_end = f"={c['life_months']}"
    ctx.formula(
        ws,
        c["first_end"],
        first_end,
        float(table.first_segment_end[position]),
        style.INTEGER,
    )
    ctx.formula(
        ws,
        c["end_age"],
        f"={c['new_life_months'] if changed else c['life_months']}",
        float(table.end_age[position]),
        style.INTEGER,
    )

    # Amounts per unit and per month.
    unit_depreciable = float(table.depreciable[position])
    quantity = float(table.quantity[position])
    ctx.formula(
        ws,
        c["depreciable"],
        f"={c['unit_price']}-{c['salvage']}",
        unit_depreciable,
        money,
    )
    if level:
        ctx.formula(
            ws,
            c["charge_before"],
            f"={c['quantity']}*{c['depreciable']}/{c['life_months']}",
            quantity * unit_depreciable / asset.life_months,
            money,
        )
    if changed and level:
        book = float(table.straight_line_book_at_change[position])
        ctx.formula(
            ws,
            c["book_at_change"],
            f"={c['unit_price']}-{c['change_age']}*{c['depreciable']}/{c['life_months']}",
            book,
            money,
        )
        ctx.formula(
            ws,
            c["charge_after"],
            f"={c['quantity']}*({c['book_at_change']}-{c['salvage']})/({c['new_life_months']}-{c['change_age']})",
            quantity
            * (book - asset.salvage)
            / (asset.new_life_months - asset.change_age),  # type: ignore[operator]
            money,
        )
    if changed and asset.method == "declining-balance":
        charges = declining_balance_by_age(
            table.unit_price[[position]],
            table.salvage[[position]],
            table.life[[position]],
            int(asset.change_age),
        )
        ctx.formula(
            ws,
            c["book_at_change"],
            f"={c['unit_price']}-VDB({c['unit_price']},{c['salvage']},{c['life_months']},0,{c['change_age']},2,FALSE)",
            asset.unit_price - float(charges.sum()),
            money,
        )

    # Roll-forward: before the first month, in the schedule, after the last month.
    if asset.method == "units-of-production":
        ws[c["opening_tokens"]] = float(schedule.opening_usage[position])
        ws[c["opening_tokens"]].number_format = style.TOKENS
        ws[c["opening_tokens"]].fill = style.STRUCTURAL_FILL
        _write_tokens_before_purchase(ctx, ws, schedule, position, c)
    ws[c["opening_accumulated"]] = float(schedule.opening_accumulated[position])
    ws[c["opening_accumulated"]].number_format = money
    ws[c["opening_accumulated"]].fill = style.STRUCTURAL_FILL
    in_horizon = float(schedule.depreciation[position].sum())
    if level:
        horizon_formula = _level_total(c, changed)
    else:
        horizon_formula = f"=SUM({grid_letter(0)}{row}:{grid_letter(schedule.horizon.months - 1)}{row})"
    ctx.formula(ws, c["horizon_depreciation"], horizon_formula, in_horizon, money)
    ctx.formula(
        ws,
        c["cost_less_salvage"],
        f"={c['quantity']}*{c['depreciable']}",
        quantity * unit_depreciable,
        money,
    )
    ctx.formula(
        ws,
        c["closing_book_value"],
        f"={c['quantity']}*{c['unit_price']}-{c['opening_accumulated']}-{c['horizon_depreciation']}",
        quantity * asset.unit_price
        - float(schedule.opening_accumulated[position])
        - in_horizon,
        money,
    )

    if level:
        return
    usage_row = (
        TOKENS_PER_ACCELERATOR_ROW
        if asset.asset_class == "accelerator"
        else FACTORY_TOKENS_ROW
    )
    grid_row = _GridRow(
        asset.method,
        row,
        usage_row,
        int(table.change_age[position]) if changed else None,
        int(table.end_age[position]),
    )
    values = schedule.depreciation[position]
    # Formulas only in the months of the asset's life: outside them the charge is 0,
    # and an empty cell adds nothing to the SUMIF on the Schedule sheet.
    offset = int(table.purchase[position] - schedule.horizon.start)
    first = max(offset, 0)
    stop = min(offset + int(table.end_age[position]), schedule.horizon.months)
    for period in range(first, stop):
        letter = grid_letter(period)
        previous = grid_letter(period - 1) if period else None
        ctx.formula(
            ws,
            f"{letter}{row}",
            grid_row.formula(letter, previous, period - offset),
            values[period],
            money,
        )


def _write_tokens_before_purchase(
    ctx: BuildContext,
    ws: Worksheet,
    schedule: Schedule,
    position: int,
    c: dict[str, str],
) -> None:
    """Write the running token count just before a units-of-production asset's purchase month.

    It is 0 for an asset bought in or before the first month, and the count after the
    last month for one bought after it.
    """
    offset = int(schedule.table.purchase[position] - schedule.horizon.start)
    is_accelerator = schedule.table.classes[position] == "accelerator"
    usage = (
        schedule.tokens_made_per_accelerator if is_accelerator else schedule.tokens_made
    )
    usage_row = TOKENS_PER_ACCELERATOR_ROW if is_accelerator else FACTORY_TOKENS_ROW
    before = float(np.sum(usage[: max(offset, 0)]))
    running = f"${grid_letter(0)}${usage_row}:${grid_letter(schedule.horizon.months - 1)}${usage_row}"
    ctx.formula(
        ws,
        c["tokens_before_purchase"],
        f"=IF({c['purchase_offset']}<=0,0,INDEX({running},MIN({c['purchase_offset']},schedule_months)))",
        before,
        style.TOKENS,
    )


def _write_register_cells(
    ws: Worksheet, asset, c: dict[str, str], money: str, *, timing_editable: bool
) -> None:
    """Write the register's own values: text literally, numbers as values, inputs styled.

    Without ``timing_editable``, the purchase month and the lives are locked, because
    the row's monthly formulas cover only the months of the life they give.
    """
    write_text(ws, c["asset_id"], asset.asset_id)
    write_text(ws, c["asset_class"], asset.asset_class)
    write_text(ws, c["method"], asset.method)
    write_text(ws, c["purchase_month"], asset.purchase_month)
    ws[c["quantity"]] = asset.quantity
    ws[c["unit_price"]] = asset.unit_price
    ws[c["salvage"]] = asset.salvage
    ws[c["life_months"]] = asset.life_months
    if asset.lifetime_tokens is not None:
        ws[c["lifetime_tokens"]] = asset.lifetime_tokens
    if asset.life_change_month is not None:
        write_text(ws, c["life_change_month"], asset.life_change_month)
        ws[c["new_life_months"]] = asset.new_life_months
    structural = {"asset_class", "method"}
    if not timing_editable:
        structural |= {
            "purchase_month",
            "life_months",
            "life_change_month",
            "new_life_months",
        }
    # A blank optional cell is no input: adding a change of life or lifetime tokens
    # changes which formulas the row needs, so that is done in the register.
    for key in _INPUT_COLUMNS:
        if key not in structural and ws[c[key]].value is not None:
            ws[c[key]].style = INPUT_STYLE
    for key in sorted(structural):
        ws[c[key]].fill = style.STRUCTURAL_FILL
    ws[c["quantity"]].number_format = style.TOKENS
    ws[c["unit_price"]].number_format = money
    ws[c["salvage"]].number_format = money
    ws[c["lifetime_tokens"]].number_format = style.TOKENS


def _month_index(cell: str) -> str:
    """Return a formula (no '=') that turns a "YYYY-MM" text cell into a month index."""
    return f"(VALUE(LEFT({cell},4))*12+VALUE(MID({cell},6,2))-1)"


def _level_total(c: dict[str, str], changed: bool) -> str:
    """Return the formula of a straight-line asset's depreciation inside the schedule.

    Each charge is paid for the months of age that fall both in its segment and in
    periods 0 .. schedule_months - 1, that is ages -offset .. schedule_months - 1 - offset.
    """
    offset = c["purchase_offset"]
    before = f"{c['charge_before']}*MAX(0,MIN({c['first_end']},schedule_months-{offset})-MAX(0,-{offset}))"
    if not changed:
        return f"={before}"
    after = f"{c['charge_after']}*MAX(0,MIN({c['end_age']},schedule_months-{offset})-MAX({c['first_end']},-{offset}))"
    return f"={before}+{after}"


class _GridRow:
    """The monthly formulas of one declining-balance or units-of-production row.

    Cells exist only in the months of the asset's life, and the row's dates are
    locked, so each cell's age is known when the workbook is built. The formula of a
    month before a change of life, after it, or in the last month of life is chosen
    then, which keeps each formula short.
    """

    def __init__(
        self,
        method: str,
        row: int,
        usage_row: int,
        change_age: int | None,
        end_age: int,
    ) -> None:
        if method not in ("declining-balance", "units-of-production"):
            raise ValueError(f"no monthly formula for method {method!r}")
        self.method = method
        self.usage_row = usage_row
        self.change_age = (
            change_age  # None without a change before the end of the original life
        )
        self.end_age = end_age
        self.c = {key: f"${letter}{row}" for key, letter, _ in COLUMNS}

    def formula(self, letter: str, previous: str | None, age: int) -> str:
        """Return the formula of the cell in column ``letter`` (``previous`` is the column before)."""
        if self.method == "declining-balance":
            return self._declining(letter, age)
        return self._production(letter, previous, age)

    def _declining(self, letter: str, age: int) -> str:
        c = self.c
        age_cell = f"({letter}${PERIOD_INDEX_ROW}-{c['purchase_offset']})"
        if self.change_age is None or age < self.change_age:
            return f"={c['quantity']}*VDB({c['unit_price']},{c['salvage']},{c['life_months']},{age_cell},{age_cell}+1,2,FALSE)"
        # After the change the book value left is declined afresh over the remaining new life.
        local = f"({age_cell}-{c['change_age']})"
        return (
            f"={c['quantity']}*VDB({c['book_at_change']},{c['salvage']},{c['new_life_months']}-{c['change_age']},"
            f"{local},{local}+1,2,FALSE)"
        )

    def _production(self, letter: str, previous: str | None, age: int) -> str:
        # Accumulated depreciation per unit is cost less salvage times the share of
        # lifetime tokens served so far, capped at cost less salvage. The month's
        # charge is its increase, and the last month of life charges what is left.
        c = self.c

        def accumulated(column: str | None) -> str:
            if column is None:
                served = c["opening_tokens"]
            else:
                # Tokens before the first month, plus those since, less those made before the purchase.
                served = f"({c['opening_tokens']}+{column}${self.usage_row}-{c['tokens_before_purchase']})"
            return f"MIN({c['depreciable']},{c['depreciable']}*{served}/{c['lifetime_tokens']})"

        if age == self.end_age - 1:
            return f"={c['quantity']}*({c['depreciable']}-{accumulated(previous)})"
        return f"={c['quantity']}*({accumulated(letter)}-{accumulated(previous)})"
