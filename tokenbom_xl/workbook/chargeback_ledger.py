"""Add the chargeback, TBM and reconciliation sheets to a workbook under construction.

Kept apart from :mod:`tokenbom_xl.workbook` so that a workbook without usage or ledger
data is built without importing pandas.
"""

from __future__ import annotations

from tokenbom_xl.chargeback import compute_chargeback
from tokenbom_xl.errors import InputError
from tokenbom_xl.ledger import GlMap, Ledger
from tokenbom_xl.reconcile import reconcile
from tokenbom_xl.tbm import TbmRoute
from tokenbom_xl.usage import UsageData
from tokenbom_xl.workbook.chargeback import USAGE_SHEET, write_chargeback_sheets
from tokenbom_xl.workbook.context import BuildContext
from tokenbom_xl.workbook.ledger_sheets import (
    LEDGER_SHEET,
    MAP_SHEET,
    write_ledger_sheets,
)
from tokenbom_xl.workbook.tbm_sheet import write_tbm_sheet

__all__ = ["write_chargeback_and_ledger"]

# Data sheets go after the sheets that compute, in this order.
_DATA_SHEETS = (USAGE_SHEET, LEDGER_SHEET, MAP_SHEET)


def write_chargeback_and_ledger(
    ctx: BuildContext,
    routes: list[TbmRoute],
    *,
    usage: UsageData | None,
    ledger: Ledger | None,
    gl_map: GlMap | None,
) -> None:
    """Write the sheets for the data given.

    :func:`tokenbom_xl.workbook.build_workbook` lists which data adds which sheets.

    Raises:
        InputError: only one of ``ledger`` and ``gl_map`` is given, or the usage or
            ledger is invalid for this scenario.
    """
    if (ledger is None) != (gl_map is None):
        missing = (
            "gl_map (the account-to-component mapping)"
            if gl_map is None
            else "ledger (the GL export)"
        )
        raise InputError(
            f"a reconciliation needs both the GL export and its mapping; give the {missing} too"
        )
    chargeback = layout = None
    if usage is not None:
        chargeback = compute_chargeback(ctx.scenario, usage)
    result = None
    if ledger is not None and gl_map is not None:
        # Reconcile before writing anything, so a bad mapping fails fast.
        result = reconcile(ctx.scenario, ledger, gl_map, chargeback=chargeback)
    if usage is not None and chargeback is not None:
        layout = write_chargeback_sheets(ctx, usage, chargeback)
        write_tbm_sheet(ctx, chargeback, routes, layout)
    if result is not None and ledger is not None and gl_map is not None:
        write_ledger_sheets(ctx, ledger, gl_map, result, chargeback, layout)
    _move_data_sheets_last(ctx)


def _move_data_sheets_last(ctx: BuildContext) -> None:
    workbook = ctx.workbook
    for title in _DATA_SHEETS:
        if title in workbook.sheetnames:
            sheet = workbook[title]
            workbook.move_sheet(
                sheet,
                offset=len(workbook.sheetnames) - 1 - workbook.sheetnames.index(title),
            )
    index = [entry for entry in ctx.sheet_index if entry[0] not in _DATA_SHEETS]
    index += [
        entry
        for title in _DATA_SHEETS
        for entry in ctx.sheet_index
        if entry[0] == title
    ]
    ctx.sheet_index[:] = index
