"""The worksheet functions that spill a table: TOKEN_BOM and TBM_MAP.

A table function is a plain function decorated with :func:`table_function`: it reads
its range with :func:`read_table` (or one cell with :func:`read_single_value`),
raises :class:`InputError` for bad input, and returns rows. The decorator turns the
rows into Excel cell values and an error into ``#VALUE!`` with the message beside it.
"""

from __future__ import annotations

import functools
from typing import Any

from tokenbom_xl import engine
from tokenbom_xl.errors import InputError
from tokenbom_xl.excel.convert import is_error_value, read_single_value, read_table, table_function
from tokenbom_xl.excel.functions import PER_MILLION
from tokenbom_xl.scenario import COMPONENTS, scenario_from_parameters
from tokenbom_xl.tbm import TbmRoute, default_tbm_mapping, routes_for

__all__ = ["BOM_COLUMNS", "TBM_COLUMNS", "read_name_value_pairs", "tbm_map", "token_bom"]

# Column headings of each spilled table, for sheets that label them.
BOM_COLUMNS = ("Line", "Monthly cost", "Per million good tokens", "Share of total")
TBM_COLUMNS = ("Cost pool", "Resource tower", "Sub-tower", "Solution", "Split %")

# Components by key and by display name, compared without case.
_COMPONENT_LABELS = {name.casefold(): label for key, label in COMPONENTS for name in (key, label)}
_COMPONENT_CHOICES = ", ".join(label for _, label in COMPONENTS)


@table_function
def token_bom(inputs):
    """Return the BOM of the scenario in ``inputs`` as rows of :data:`BOM_COLUMNS`.

    ``inputs`` is a range whose first two columns are parameter name and value, as on
    the Inputs sheet of a generated workbook. The rows are the seven components, the
    total C(U), then floor, yield loss and capacity variance, which add up to the total.
    """
    scenario = scenario_from_parameters(read_name_value_pairs(inputs), source="inputs")
    result = engine.evaluate(scenario)
    return [
        [line.label, line.cost, engine.per_block(line.per_good_token, PER_MILLION), line.share]
        for line in engine.bom_lines(result)
    ]


def read_name_value_pairs(inputs: Any) -> list[tuple[Any, Any]]:
    """Read a name/value range into pairs, leaving out rows with an empty value.

    An empty value leaves the parameter out, so an optional one takes its default and
    a required one is reported missing.

    Raises:
        InputError: the range has fewer than two columns, or a value is an error value.
    """
    rows = read_table(inputs)
    width = max((len(row) for row in rows), default=0)
    if width < 2:
        raise InputError(
            f"inputs: the range has {width} column(s); give two columns, parameter name and value, "
            "such as Inputs!A5:B40"
        )
    pairs = []
    for name, value in (row[:2] for row in rows):
        if is_error_value(value):
            raise InputError(f"inputs: the value of parameter {name!r} is {value}; correct that cell")
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
        [route.cost_pool, route.resource_tower, route.sub_tower, route.solution, route.split_percent]
        for route in routes_for(list(_default_routes()), label)
    ]


def _component_label(text: Any) -> str:
    if isinstance(text, str):
        label = _COMPONENT_LABELS.get(text.strip().casefold())
        if label is not None:
            return label
    if text is None:
        raise InputError(f"component: the cell is empty; give one of {_COMPONENT_CHOICES}")
    raise InputError(f"component: {text!r} is unknown; give one of {_COMPONENT_CHOICES}")


@functools.cache
def _default_routes() -> tuple[TbmRoute, ...]:
    return tuple(default_tbm_mapping())
