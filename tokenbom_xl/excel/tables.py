"""The worksheet functions that spill a table: TOKEN_BOM, TBM_MAP, CHARGEBACK and RECONCILE.

A table function is a plain function decorated with :func:`table_function`: it reads
its range with :func:`read_table` (or one cell with :func:`read_single_value`),
raises :class:`InputError` for bad input, and returns rows. The decorator turns the
rows into Excel cell values and an error into ``#VALUE!`` with the message beside it.

CHARGEBACK and RECONCILE pass their data ranges to the engine's range readers
(:mod:`tokenbom_xl.usage`, :mod:`tokenbom_xl.ledger`), which import pandas. Those
imports happen inside the functions, so importing this package does not load pandas.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from tokenbom_xl import engine
from tokenbom_xl.errors import InputError
from tokenbom_xl.excel.convert import (
    is_error_value,
    read_single_value,
    read_table,
    table_function,
)
from tokenbom_xl.excel.functions import PER_MILLION
from tokenbom_xl.scenario import COMPONENTS, Scenario, scenario_from_parameters
from tokenbom_xl.tbm import TbmRoute, default_tbm_mapping, routes_for

__all__ = [
    "BOM_COLUMNS",
    "TBM_COLUMNS",
    "chargeback",
    "read_data_range",
    "read_name_value_pairs",
    "reconcile",
    "tbm_map",
    "token_bom",
]

# Column headings of each spilled table, for sheets that label them.
BOM_COLUMNS = ("Line", "Monthly cost", "Per million good tokens", "Share of total")
TBM_COLUMNS = ("Cost pool", "Resource tower", "Sub-tower", "Solution", "Split %")

# Components by key and by display name, compared without case.
_COMPONENT_LABELS = {
    name.casefold(): label for key, label in COMPONENTS for name in (key, label)
}
_COMPONENT_CHOICES = ", ".join(label for _, label in COMPONENTS)


@table_function
def token_bom(inputs):
    """Return the BOM of the scenario in ``inputs`` as rows of :data:`BOM_COLUMNS`.

    ``inputs`` is a range whose first two columns are parameter name and value, as on
    the Inputs sheet of a generated workbook. The rows are the seven components, the
    total C(U), then floor, yield loss and capacity variance, which add up to the total.
    """
    result = engine.evaluate(_scenario_from_inputs(inputs))
    return [
        [
            line.label,
            line.cost,
            engine.per_block(line.per_good_token, PER_MILLION),
            line.share,
        ]
        for line in engine.bom_lines(result)
    ]


def _scenario_from_inputs(inputs: Any) -> Scenario:
    return scenario_from_parameters(read_name_value_pairs(inputs), source="inputs")


def read_name_value_pairs(inputs: Any) -> list[tuple[Any, Any]]:
    """Read a name/value range into pairs, leaving out rows with an empty value.

    An empty value leaves the parameter out, so an optional one takes its default and
    a required one is reported missing. A first row whose name starts with
    "Parameter" is the Inputs sheet's heading and is skipped.

    Raises:
        InputError: the range has fewer than two columns, or a value is an error value.
    """
    rows = read_table(inputs)
    if not rows:
        raise InputError(
            "inputs: the range is empty; select the two columns of parameter names and "
            "values, such as Inputs!A5:B40"
        )
    width = max(len(row) for row in rows)
    if width < 2:
        raise InputError(
            f"inputs: the range has {width} column(s); give two columns, parameter name and value, "
            "such as Inputs!A5:B40"
        )
    if (
        rows
        and rows[0]
        and isinstance(rows[0][0], str)
        and rows[0][0].strip().casefold().startswith("parameter")
    ):
        rows = rows[1:]
    pairs = []
    for name, value in (row[:2] for row in rows):
        if is_error_value(value):
            raise InputError(
                f"inputs: the value of parameter {name!r} is {value}; correct that cell"
            )
        if value is None:
            continue
        pairs.append((name, value))
    return pairs


@table_function
def tbm_map(component):
    """Return the TBM destinations of one component as rows of :data:`TBM_COLUMNS`.

    ``component`` is a display name ("Model Lifecycle") or key ("model_lifecycle"), in
    any case. The mapping is the default one shipped in ``templates/tbm_mapping.csv``.
    """
    text = read_single_value(component, "component")
    label = _component_label(text)
    return [
        [
            route.cost_pool,
            route.resource_tower,
            route.sub_tower,
            route.solution,
            route.split_percent,
        ]
        for route in routes_for(list(_default_routes()), label)
    ]


def _component_label(text: Any) -> str:
    if isinstance(text, str):
        label = _COMPONENT_LABELS.get(text.strip().casefold())
        if label is not None:
            return label
    if text is None:
        raise InputError(
            f"component: the cell is empty; give one of {_COMPONENT_CHOICES}"
        )
    raise InputError(
        f"component: {text!r} is unknown; give one of {_COMPONENT_CHOICES}"
    )


@functools.cache
def _default_routes() -> tuple[TbmRoute, ...]:
    return tuple(default_tbm_mapping())


@table_function
def chargeback(usage_range, inputs):
    """Charge the usage in ``usage_range`` to its consumers and return the rows.

    The result is a header row, then one row per period and consumer line.

    ``usage_range`` is the usage table with its header row: period, business_unit,
    model, good_tokens and reserved_share. Other columns are ignored. ``inputs`` is
    the scenario as for :func:`token_bom`. The rows are those of
    :func:`tokenbom_xl.chargeback.chargeback_table`: per period and consumer, the
    period, business unit, busy share, reserved share, usage charge, capacity
    variance, unreserved idle and total. Money is rounded to cents, and each period's
    totals add up to its C(U) rounded to cents.
    """
    from tokenbom_xl.chargeback import compute_chargeback
    from tokenbom_xl.usage import USAGE_COLUMNS, usage_from_range

    scenario = _scenario_from_inputs(inputs)
    rows = read_data_range(usage_range, USAGE_COLUMNS, "usage_range")
    usage = usage_from_range(rows, source="usage_range")
    return compute_chargeback(scenario, usage).table_rows()


@table_function
def reconcile(ledger_range, map_range, inputs):
    """Reconcile the GL in ``ledger_range`` with the scenario and return the rows.

    The result is a header row, then one row per period and component.

    ``ledger_range`` is the GL export with its header row (period, account,
    cost_centre, amount, description), ``map_range`` the account mapping with its
    header row (match, account, account_to, component), and ``inputs`` the scenario as
    for :func:`token_bom`. Every GL period is modelled at the scenario's utilization.
    The rows are those of :func:`tokenbom_xl.reconcile.reconcile_table`: per period the
    seven components and an Unmapped row, with booked, modelled, variance, variance %
    (a fraction) and flag. Money is rounded to cents, and a cell is empty where its
    figure is undefined.
    """
    from tokenbom_xl.ledger import (
        GL_COLUMNS,
        GL_MAP_COLUMNS,
        gl_map_from_range,
        ledger_from_range,
    )
    from tokenbom_xl.reconcile import reconcile as reconcile_ledger

    scenario = _scenario_from_inputs(inputs)
    ledger = ledger_from_range(
        read_data_range(ledger_range, GL_COLUMNS, "ledger_range"), source="ledger_range"
    )
    gl_map = gl_map_from_range(
        read_data_range(map_range, GL_MAP_COLUMNS, "map_range"), source="map_range"
    )
    return reconcile_ledger(scenario, ledger, gl_map).table_rows()


# Columns that hold account codes, which Excel may turn into dates.
_CODE_COLUMNS = frozenset({"account", "account_to"})


def read_data_range(value: Any, columns: Sequence[str], source: str) -> list[list[Any]]:
    """Read a data range whose first row names its columns, for the engine's range readers.

    Three kinds of cell in ``columns`` are rejected here because the engine would
    misread them. An error value, such as #N/A from a failed lookup, arrives as its
    text and would become a business unit or account of that name. A period that Excel
    stores as a date or a number (a typed 2025-01 becomes the date 1 Jan 2025) needs a
    hint that the engine cannot give. xlwings Lite sends such a date as a plain number,
    because the Office.js reader of xlwings 0.37.8 does not convert dates. An
    account code that Excel made a date would become an unmapped account.
    Missing columns and every other check are left to the engine. Row numbers count the
    header as row 1, as the engine's messages do.

    Raises:
        InputError: an error value, a date, number or TRUE/FALSE in the period
            column, or a date in an account column.
    """
    rows = read_table(value)
    if not rows:
        return rows
    header = ["" if cell is None else str(cell).strip() for cell in rows[0]]
    positions = {column: header.index(column) for column in columns if column in header}
    for number, row in enumerate(rows[1:], start=2):
        for column, position in positions.items():
            cell = row[position] if position < len(row) else None
            if is_error_value(cell):
                raise InputError(
                    f"{source}: row {number}, column {column}: the cell contains the error value {cell}; "
                    "correct the cell or the formula that feeds it"
                )
            if column == "period" and isinstance(cell, bool | float | dt.date):
                raise InputError(
                    f"{source}: row {number}, column period: {_cell_text(cell)} is a date or a number, not a "
                    "period; format the column as Text and type the month as YYYY-MM, e.g. 2025-01 "
                    "(Excel turns a typed 2025-01 into a date)"
                )
            if column in _CODE_COLUMNS and isinstance(cell, dt.date):
                raise InputError(
                    f"{source}: row {number}, column {column}: {_cell_text(cell)} is a date, not an "
                    "account code; format the column as Text and type the code again "
                    "(Excel turns a code such as 2025-01 into a date)"
                )
    return rows


def _cell_text(cell: Any) -> str:
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, dt.datetime):
        return cell.strftime("%Y-%m-%d")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return f"{cell:g}"
