"""The Token BOM as Excel worksheet functions, in plain Python.

Each function takes Excel-shaped arguments: single values, lists of rows, None for
empty cells and error values as text. It calls the engine and returns Excel-shaped
results, and it never raises. :mod:`tokenbom_xl.udfs` registers the functions with
xlwings.
"""

from __future__ import annotations

from tokenbom_xl.excel.functions import (
    capacity_variance,
    crossover_utilization,
    energy_cost,
    silicon_cost,
    token_capacity,
    token_cost,
    token_cost_floor,
    yield_loss,
)
from tokenbom_xl.excel.tables import chargeback, reconcile, tbm_map, token_bom

__all__ = [
    "capacity_variance",
    "chargeback",
    "crossover_utilization",
    "energy_cost",
    "reconcile",
    "silicon_cost",
    "tbm_map",
    "token_bom",
    "token_capacity",
    "token_cost",
    "token_cost_floor",
    "yield_loss",
]
