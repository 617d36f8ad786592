"""The Assets sheet: the asset register, each asset's roll-forward, and its depreciation by month.

One row per asset. The register columns are inputs; the derived columns and the
monthly grid to their right are native formulas. Each grid cell is one asset's
depreciation in one month, quantity included: a level charge for straight-line,
Excel's ``VDB(..., 2, FALSE)`` for declining-balance, and a running token count for
units-of-production. The Schedule sheet adds the grid up by asset class with SUMIF.

Which formula a row gets (its method, and whether its life changes before the end
of the original life) is fixed when the workbook is built; change those in the
register and rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass

from collections.abc import Callable

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tokenbom_xl.schedule import Schedule, declining_balance_by_age
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.context import BuildContext, write_text

SHEET = "Assets"
PERIOD_INDEX_ROW = 5
TOKENS_PER_ACCELERATOR_ROW = 6
FACTORY_TOKENS_ROW = 7
HEADER_ROW = 8
FIRST_ASSET_ROW = 9

# Register inputs, then derived columns: (key, column letter, header).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("asset_id", "A", "asset_id"),
    ("asset_class", "B", "asset_class"),
    ("method", "C", "method"),
    ("purchase_month", "D", "purchase_month"),
    ("quantity", "E", "quantity"),
    ("unit_price", "F", "unit_price"),
    ("salvage", "G", "salvage"),
    ("life_months", "H", "life_months"),
    ("lifetime_tokens", "I", "lifetime_tokens"),
    ("life_change_month", "J", "life_change_month"),
    ("new_life_months", "K", "new_life_months"),
    ("purchase_offset", "L", "Purchase month less first month (months)"),
    ("change_age", "M", "Age at the change of life (months)"),
    ("depreciable", "N", "Cost less salvage per unit"),
    ("end_age", "O", "Age at the end of depreciation (months)"),
    ("charge_before", "P", "Monthly charge, straight-line"),
    ("book_at_change", "Q", "Net book value per unit at the change"),
    ("charge_after", "R", "Monthly charge after the change, straight-line"),
    ("opening_tokens", "S", "Tokens per unit before the first month"),
    ("opening_accumulated", "T", "Accumulated depreciation before the first month"),
    ("horizon_depreciation", "U", "Depreciation in the schedule"),
    ("cost_less_salvage", "V", "Cost less salvage"),
    ("closing_book_value", "W", "Net book value after the last month"),
)
COLUMN = {key: letter for key, letter, _ in COLUMNS}
GRID_FIRST_COLUMN = 25  # column Y; column X stays empty between the roll-forward and the grid

_INPUT_COLUMNS = ("purchase_month", "quantity", "unit_price", "salvage", "life_months", "lifetime_tokens", "life_change_month", "new_life_months")


@dataclass(frozen=True)
class AssetRange:
    """Where the register sits, for formulas on other sheets."""

    first_row: int
    last_row: int

    def column(self, key: str) -> str:
        """Return an absolute reference to one register column, such as ``Assets!$B$9:$B$20``."""
        letter = COLUMN[key]
        return f"{SHEET}!${letter}${self.first_row}:${letter}${self.last_row}"

    def grid_column(self, period: int) -> str:
        """Return the reference to one month's depreciation of every asset."""
        letter = grid_letter(period)
        return f"{SHEET}!{letter}${self.first_row}:{letter}${self.last_row}"


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
    Schedule cell of tokens made that month, such as ``"Schedule!E40"``; the
    units-of-production rows count their tokens from there.
    """
    ws = ctx.add_sheet(SHEET, "The asset register, each asset's roll-forward and its depreciation by month")
    ws["A1"] = "Assets"
    ws["A1"].font = style.TITLE_FONT
    ws["A2"] = (
        "One row per purchase. Yellow cells are inputs; the grid to the right is each asset's "
        "depreciation by month, quantity included."
    )
    ws["A2"].font = style.SUBTITLE_FONT
    ws["A3"] = (
        "Depreciation starts in the purchase month. A change of life spreads the net book value "
        "left at the change, less salvage, over the remaining new life."
    )
    ws["A3"].font = style.SUBTITLE_FONT

    _write_period_rows(ctx, ws, schedule, tokens_per_accelerator, factory_tokens)
    style.write_header(ws, HEADER_ROW, [header for _, _, header in COLUMNS])
    style.write_header(ws, HEADER_ROW, schedule.labels, column=GRID_FIRST_COLUMN)

    rows = asset_range(schedule)
    for position in range(len(schedule.table)):
        _write_asset_row(ctx, ws, schedule, position, FIRST_ASSET_ROW + position)

    widths = {letter: 14.0 for _, letter, _ in COLUMNS}
    widths.update({"A": 18, "B": 16, "C": 20, "D": 12})
    style.set_column_widths(ws, widths)
    for period in range(schedule.horizon.months):
        ws.column_dimensions[grid_letter(period)].width = 12
    style.finish_sheet(ws, freeze=f"D{FIRST_ASSET_ROW}", title_rows=f"{HEADER_ROW}:{HEADER_ROW}")
    return rows


def _write_period_rows(
    ctx: BuildContext,
    ws: Worksheet,
    schedule: Schedule,
    tokens_per_accelerator: Callable[[int], str],
    factory_tokens: Callable[[int], str],
) -> None:
    label_column = get_column_letter(GRID_FIRST_COLUMN - 2)
    for row, label in (
        (PERIOD_INDEX_ROW, "Period (0 = first month)"),
        (TOKENS_PER_ACCELERATOR_ROW, "Tokens made per accelerator"),
        (FACTORY_TOKENS_ROW, "Tokens made by the factory"),
    ):
        ws[f"{label_column}{row}"] = label
        ws[f"{label_column}{row}"].font = style.TOTAL_FONT
    for period in range(schedule.horizon.months):
        letter = grid_letter(period)
        ws[f"{letter}{PERIOD_INDEX_ROW}"] = period
        ctx.formula(
            ws,
            f"{letter}{TOKENS_PER_ACCELERATOR_ROW}",
            "=" + tokens_per_accelerator(period),
            schedule.tokens_made_per_accelerator[period],
            style.TOKENS,
        )
        ctx.formula(
            ws,
            f"{letter}{FACTORY_TOKENS_ROW}",
            "=" + factory_tokens(period),
            schedule.tokens_made[period],
            style.TOKENS,
        )


def _write_asset_row(ctx: BuildContext, ws: Worksheet, schedule: Schedule, position: int, row: int) -> None:
    table = schedule.table
    asset = table.assets[position]
    money = ctx.money
    c = {key: f"{letter}{row}" for key, letter, _ in COLUMNS}

    # Register inputs: text is written literally, numbers as values.
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
    for key in _INPUT_COLUMNS:
        _mark_input(ws[c[key]])
    for key in ("asset_class", "method"):
        ws[c[key]].fill = style.STRUCTURAL_FILL
    ws[c["quantity"]].number_format = style.TOKENS
    ws[c["unit_price"]].number_format = money
    ws[c["salvage"]].number_format = money
    ws[c["lifetime_tokens"]].number_format = style.TOKENS

    # Derived columns.
    purchase = f"(VALUE(LEFT({c['purchase_month']},4))*12+VALUE(MID({c['purchase_month']},6,2))-1)"
    ctx.formula(
        ws,
        c["purchase_offset"],
        f"={purchase}-schedule_start_index",
        float(table.purchase[position] - schedule.horizon.start),
        style.INTEGER,
    )
    if asset.life_change_month is not None:
        change = f"(VALUE(LEFT({c['life_change_month']},4))*12+VALUE(MID({c['life_change_month']},6,2))-1)"
        ctx.formula(ws, c["change_age"], f"={change}-{purchase}", float(asset.change_age), style.INTEGER)
    unit_depreciable = float(table.depreciable[position])
    ctx.formula(ws, c["depreciable"], f"={c['unit_price']}-{c['salvage']}", unit_depreciable, money)
    changed = bool(table.has_change[position])
    ctx.formula(
        ws,
        c["end_age"],
        f"={c['new_life_months'] if changed else c['life_months']}",
        float(table.end_age[position]),
        style.INTEGER,
    )

    quantity = float(table.quantity[position])
    if asset.method == "straight-line":
        ctx.formula(
            ws,
            c["charge_before"],
            f"={c['quantity']}*{c['depreciable']}/{c['life_months']}",
            quantity * unit_depreciable / asset.life_months,
            money,
        )
    if changed and asset.method == "straight-line":
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
            quantity * (book - asset.salvage) / (asset.new_life_months - asset.change_age),  # type: ignore[operator]
            money,
        )
    if changed and asset.method == "declining-balance":
        charges = declining_balance_by_age(
            table.unit_price[[position]], table.salvage[[position]], table.life[[position]], int(asset.change_age)
        )
        ctx.formula(
            ws,
            c["book_at_change"],
            f"={c['unit_price']}-VDB({c['unit_price']},{c['salvage']},{c['life_months']},0,{c['change_age']},2,FALSE)",
            asset.unit_price - float(charges.sum()),
            money,
        )

    if asset.method == "units-of-production":
        ws[c["opening_tokens"]] = float(schedule.opening_usage[position])
        ws[c["opening_tokens"]].number_format = style.TOKENS
        ws[c["opening_tokens"]].fill = style.STRUCTURAL_FILL
    ws[c["opening_accumulated"]] = float(schedule.opening_accumulated[position])
    ws[c["opening_accumulated"]].number_format = money
    ws[c["opening_accumulated"]].fill = style.STRUCTURAL_FILL

    months = schedule.horizon.months
    in_horizon = float(schedule.depreciation[position].sum())
    last = grid_letter(months - 1)
    ctx.formula(ws, c["horizon_depreciation"], f"=SUM({grid_letter(0)}{row}:{last}{row})", in_horizon, money)
    ctx.formula(ws, c["cost_less_salvage"], f"={c['quantity']}*{c['depreciable']}", quantity * unit_depreciable, money)
    ctx.formula(
        ws,
        c["closing_book_value"],
        f"={c['quantity']}*{c['unit_price']}-{c['opening_accumulated']}-{c['horizon_depreciation']}",
        quantity * asset.unit_price - float(schedule.opening_accumulated[position]) - in_horizon,
        money,
    )

    usage_row = TOKENS_PER_ACCELERATOR_ROW if asset.asset_class == "accelerator" else FACTORY_TOKENS_ROW
    template = _grid_template(asset.method, changed, row, usage_row)
    values = schedule.depreciation[position]
    for period in range(months):
        letter = grid_letter(period)
        previous = grid_letter(period - 1) if period else None
        formula = template(letter, previous)
        ctx.formula(ws, f"{letter}{row}", formula, values[period], money)


def _mark_input(cell) -> None:
    cell.fill = style.INPUT_FILL
    cell.font = style.INPUT_FONT
    cell.protection = style.UNLOCKED


def _grid_template(method: str, changed: bool, row: int, usage_row: int) -> Callable[[str, str | None], str]:
    """Return a function of (column letter, previous column letter or None) that writes a grid formula."""
    c = {key: f"${letter}{row}" for key, letter, _ in COLUMNS}
    first = grid_letter(0)

    def age(letter: str) -> str:
        return f"({letter}${PERIOD_INDEX_ROW}-{c['purchase_offset']})"

    if method == "straight-line" and not changed:
        return lambda letter, _: (
            f"=IF(AND({age(letter)}>=0,{age(letter)}<{c['life_months']}),{c['charge_before']},0)"
        )
    if method == "straight-line":
        return lambda letter, _: (
            f"=IF({age(letter)}<0,0,IF({age(letter)}<{c['change_age']},{c['charge_before']},"
            f"IF({age(letter)}<{c['end_age']},{c['charge_after']},0)))"
        )

    def declining(letter: str) -> str:
        a = age(letter)
        return f"{c['quantity']}*VDB({c['unit_price']},{c['salvage']},{c['life_months']},{a},{a}+1,2,FALSE)"

    if method == "declining-balance" and not changed:
        return lambda letter, _: f"=IF(AND({age(letter)}>=0,{age(letter)}<{c['life_months']}),{declining(letter)},0)"
    if method == "declining-balance":

        def after_change(letter: str) -> str:
            local = f"({age(letter)}-{c['change_age']})"
            return (
                f"{c['quantity']}*VDB({c['book_at_change']},{c['salvage']},{c['new_life_months']}-{c['change_age']},"
                f"{local},{local}+1,2,FALSE)"
            )

        return lambda letter, _: (
            f"=IF({age(letter)}<0,0,IF({age(letter)}<{c['change_age']},{declining(letter)},"
            f"IF({age(letter)}<{c['end_age']},{after_change(letter)},0)))"
        )

    # Units of production: accumulated depreciation per unit is cost less salvage times
    # the share of lifetime tokens served so far, capped at cost less salvage.
    def served(letter: str | None) -> str:
        if letter is None:
            return c["opening_tokens"]
        return (
            f"({c['opening_tokens']}+SUMIF(${first}${PERIOD_INDEX_ROW}:{letter}${PERIOD_INDEX_ROW},"
            f"\">=\"&{c['purchase_offset']},${first}${usage_row}:{letter}${usage_row}))"
        )

    def accumulated(letter: str | None) -> str:
        return f"MIN({c['depreciable']},{c['depreciable']}*{served(letter)}/{c['lifetime_tokens']})"

    def production(letter: str, previous: str | None) -> str:
        a = age(letter)
        return (
            f"=IF(OR({a}<0,{a}>={c['end_age']}),0,{c['quantity']}*(IF({a}={c['end_age']}-1,{c['depreciable']},"
            f"{accumulated(letter)})-{accumulated(previous)}))"
        )

    return production
