"""TBM mapping as data: where each component's cost lands in the TBM taxonomy.

The default is ``templates/tbm_mapping.csv`` (TBM taxonomy v5.0.1 names); a customer's
own file with the same columns replaces it. A component may land in several towers,
each with a split percentage; a component's splits must add up to 100.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from tokenbom_xl.errors import InputError
from tokenbom_xl.resources import template_path
from tokenbom_xl.scenario import COMPONENTS

__all__ = ["TBM_COLUMNS", "TbmRoute", "default_tbm_mapping", "load_tbm_mapping", "parse_tbm_mapping"]

TBM_COLUMNS = ("component", "cost_pool", "resource_tower", "sub_tower", "solution", "split_percent")

# Splits may be written with a few decimals; they must add to 100 within this.
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
        InputError: a missing file or column, an unknown component, a bad split, or
            splits that do not add to 100; the message names the file and row.
    """
    path = Path(path)
    try:
        text = path.read_text("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: TBM mapping file not found; check the path") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV") from None
    return parse_tbm_mapping(text, source=str(path))


def parse_tbm_mapping(text: str, *, source: str) -> list[TbmRoute]:
    """Validate TBM mapping CSV text; see :func:`load_tbm_mapping`."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [column for column in TBM_COLUMNS if column not in header]
    if missing:
        raise InputError(
            f"{source}: missing column(s) {', '.join(missing)}; the header must be {','.join(TBM_COLUMNS)}"
        )
    names = {label.casefold(): label for _, label in COMPONENTS}
    routes: list[TbmRoute] = []
    for row_number, row in enumerate(reader, start=2):
        row = {(key or "").strip(): (value or "").strip() for key, value in row.items() if key is not None}
        if not any(row.values()):
            continue
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
                raise InputError(f"{source}: row {row_number}, column {column}: empty; name the {column.replace('_', ' ')}")
        routes.append(
            TbmRoute(component, row["cost_pool"], row["resource_tower"], row["sub_tower"], row["solution"], split)
        )

    for _, label in COMPONENTS:
        total = sum(route.split_percent for route in routes if route.component == label)
        if total == 0:
            raise InputError(f"{source}: component {label} has no row; add at least one destination for it")
        if abs(total - 100.0) > _SPLIT_TOLERANCE:
            raise InputError(
                f"{source}: the split_percent of component {label} adds up to {total:g}, not 100; correct its rows"
            )
    return routes


def routes_for(routes: list[TbmRoute], component: str) -> list[TbmRoute]:
    """Return the routes of one component, given by display name."""
    return [route for route in routes if route.component == component]
