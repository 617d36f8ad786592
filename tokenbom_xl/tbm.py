"""TBM mapping as data: where each component's cost lands in the TBM taxonomy.

The default is ``templates/tbm_mapping.csv`` (TBM taxonomy v5.0.1 names). A
customer's own file with the same columns replaces it. A component may land in several
towers, each with a split percentage, and a component's splits must add up to 100.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tokenbom_xl.errors import InputError
from tokenbom_xl.resources import template_path
from tokenbom_xl.scenario import COMPONENTS
from tokenbom_xl.tablecheck import (
    control_character_problem,
    reject_duplicate_columns,
)
from tokenbom_xl.textfile import read_text_file

__all__ = [
    "TBM_COLUMNS",
    "TBM_OUTPUT_COLUMNS",
    "TbmDestination",
    "TbmRoute",
    "default_tbm_mapping",
    "destination_weights",
    "load_tbm_mapping",
    "parse_tbm_mapping",
    "tbm_destinations",
    "tbm_rows",
]

TBM_COLUMNS = (
    "component",
    "cost_pool",
    "resource_tower",
    "sub_tower",
    "solution",
    "split_percent",
)

# Splits may be written with a few decimals, so they must add up to 100 only within
# this tolerance.
_SPLIT_TOLERANCE = 1e-6


@dataclass(frozen=True)
class TbmRoute:
    """One destination of a component's cost, with its share in percent."""

    component: str  # display name, e.g. "Model Lifecycle"
    cost_pool: str
    resource_tower: str
    sub_tower: str
    solution: str
    split_percent: float


def default_tbm_mapping() -> list[TbmRoute]:
    """Return the mapping shipped in ``templates/tbm_mapping.csv``."""
    text = template_path("tbm_mapping.csv").read_text("utf-8")
    return parse_tbm_mapping(text, source="templates/tbm_mapping.csv")


def load_tbm_mapping(path: str | Path) -> list[TbmRoute]:
    """Read and validate a TBM mapping CSV.

    Raises:
        InputError: a missing file or column, an unknown component, an invalid split,
            an empty cost pool, tower or solution, a control character, or splits
            that do not add up to 100. The message names the file and row.
    """
    text = read_text_file(path, kind="TBM mapping")
    return parse_tbm_mapping(text, source=str(path))


def parse_tbm_mapping(text: str, *, source: str) -> list[TbmRoute]:
    """Validate TBM mapping CSV text.

    The format and errors are those of :func:`load_tbm_mapping`.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [column for column in TBM_COLUMNS if column not in header]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; the header must be {','.join(TBM_COLUMNS)}"
        )
    reject_duplicate_columns(header, TBM_COLUMNS, source=source)
    names = {label.casefold(): label for _, label in COMPONENTS}
    routes: list[TbmRoute] = []
    for row_number, raw_row in enumerate(reader, start=2):
        row = {
            (key or "").strip(): (value or "").strip()
            for key, value in raw_row.items()
            if key is not None
        }
        if not any(row.values()):
            continue
        for column in TBM_COLUMNS:
            problem = control_character_problem(row[column])
            if problem is not None:
                raise InputError(
                    f"{source}: row {row_number}, column {column}: {problem}"
                )
        component = names.get(row["component"].casefold())
        if component is None:
            raise InputError(
                f"{source}: row {row_number}, column component: unknown component {row['component']!r}; "
                f"use one of {', '.join(label for _, label in COMPONENTS)}"
            )
        try:
            split = float(row["split_percent"])
        except ValueError:
            split = math.nan
        if not (0 < split <= 100):
            raise InputError(
                f"{source}: row {row_number}, column split_percent: {row['split_percent']!r} is invalid; "
                "give a number greater than 0 and at most 100"
            )
        for column in ("cost_pool", "resource_tower", "solution"):
            if not row[column]:
                raise InputError(
                    f"{source}: row {row_number}, column {column}: empty; name the {column.replace('_', ' ')}"
                )
        routes.append(
            TbmRoute(
                component,
                row["cost_pool"],
                row["resource_tower"],
                row["sub_tower"],
                row["solution"],
                split,
            )
        )

    for _, label in COMPONENTS:
        total = sum(route.split_percent for route in routes if route.component == label)
        if total == 0:
            raise InputError(
                f"{source}: component {label} has no row; add at least one destination for it"
            )
        if abs(total - 100.0) > _SPLIT_TOLERANCE:
            raise InputError(
                f"{source}: the split_percent of component {label} adds up to {total:g}, not 100; correct its rows"
            )
    return routes


def routes_for(routes: list[TbmRoute], component: str) -> list[TbmRoute]:
    """Return the routes of one component, given by display name."""
    return [route for route in routes if route.component == component]


# ---------------------------------------------------------------------------
# TBM-ready rows: each consumer's chargeback split into TBM destinations

TBM_OUTPUT_COLUMNS = (
    "period",
    "cost_pool",
    "tower",
    "sub_tower",
    "solution",
    "consumer",
    "amount",
)


@dataclass(frozen=True)
class TbmDestination:
    """One place in the TBM taxonomy; routes of several components may share it."""

    cost_pool: str
    resource_tower: str
    sub_tower: str
    solution: str


def tbm_destinations(routes: list[TbmRoute]) -> list[TbmDestination]:
    """Return the distinct destinations of ``routes`` in order of first appearance."""
    seen: dict[TbmDestination, None] = {}
    for route in routes:
        seen.setdefault(
            TbmDestination(
                route.cost_pool, route.resource_tower, route.sub_tower, route.solution
            ),
            None,
        )
    return list(seen)


def destination_weights(
    routes: list[TbmRoute], full_weights: np.ndarray, idle_weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return each destination's share of a usage charge and of an idle charge.

    ``full_weights`` and ``idle_weights`` are the components' shares (BOM order) of
    C(1) and of F + i x E_full. A destination's share adds up the splits of every
    component routed to it, so the shares of all destinations add up to 1.
    """
    destinations = tbm_destinations(routes)
    position = {destination: index for index, destination in enumerate(destinations)}
    labels = [label for _, label in COMPONENTS]
    full = np.zeros(len(destinations))
    idle = np.zeros(len(destinations))
    for route in routes:
        target = position[
            TbmDestination(
                route.cost_pool, route.resource_tower, route.sub_tower, route.solution
            )
        ]
        component = labels.index(route.component)
        full[target] += full_weights[component] * route.split_percent / 100.0
        idle[target] += idle_weights[component] * route.split_percent / 100.0
    return full, idle


def tbm_rows(chargeback, routes: list[TbmRoute]):
    """Split each chargeback line into TBM-ready rows, one per destination.

    A line's usage charge is split across components like C(1), and its capacity
    variance and unreserved idle like F + i x E_full. Each component then follows its
    routes. Amounts in cents add up to the line's total in cents (largest remainder).
    Returns a DataFrame with the columns of ``TBM_OUTPUT_COLUMNS`` plus
    ``amount_exact`` and ``amount_cents``.
    """
    import pandas as pd

    from tokenbom_xl.chargeback import component_weights
    from tokenbom_xl.rounding import largest_remainder_rows

    full_weights, idle_weights = component_weights(chargeback)
    full, idle = destination_weights(routes, full_weights, idle_weights)
    destinations = tbm_destinations(routes)
    lines = chargeback.lines
    usage = lines["usage_charge"].to_numpy()
    idle_charge = (
        lines["capacity_variance"].to_numpy() + lines["unreserved_idle"].to_numpy()
    )
    exact = np.outer(usage, full) + np.outer(idle_charge, idle)
    cents = largest_remainder_rows(exact, lines["total_cents"].to_numpy())
    count = len(destinations)
    return pd.DataFrame(
        {
            "period": np.repeat(lines["period"].to_numpy(dtype=object), count),
            "cost_pool": np.tile(
                np.array([d.cost_pool for d in destinations], dtype=object), len(lines)
            ),
            "tower": np.tile(
                np.array([d.resource_tower for d in destinations], dtype=object),
                len(lines),
            ),
            "sub_tower": np.tile(
                np.array([d.sub_tower for d in destinations], dtype=object), len(lines)
            ),
            "solution": np.tile(
                np.array([d.solution for d in destinations], dtype=object), len(lines)
            ),
            "consumer": np.repeat(lines["business_unit"].to_numpy(dtype=object), count),
            "amount_exact": exact.ravel(),
            "amount_cents": cents.ravel(),
        }
    )
