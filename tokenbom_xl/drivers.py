"""Period drivers: the inputs of a schedule that change from month to month.

Each driver is a step path, a mapping from month (``"YYYY-MM"``) to a value. A value
applies from its month until the next listed month, and months before the first
listed month take the first value, so a path with one entry is a constant. A driver
without a path keeps the scenario's single value in every month.

Paths come from the scenario file's ``[drivers]`` table, for example::

    [drivers]
    tokens_per_second = { "2026-01" = 200, "2026-07" = 240 }

or from a CSV file with a ``month`` column and one column per driver, where a blank
cell means "no change in that month" (:func:`read_driver_csv`). A driver column in the
CSV file replaces that driver's path from the scenario (:func:`merge_drivers`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tokenbom_xl.errors import InputError
from tokenbom_xl.periods import (
    MONTH_ALLOWED,
    MonthText,
    month_text_problem,
    parse_month,
)
from tokenbom_xl.textfile import read_text_file

__all__ = [
    "DRIVER_NAMES",
    "Drivers",
    "allowed_path_text",
    "allowed_value_text",
    "merge_drivers",
    "path_values",
    "read_driver_csv",
]

Month = MonthText


def _path_field(description: str, unit: str) -> Any:
    return Field(
        default=None,
        min_length=1,
        description=description,
        json_schema_extra={"unit": unit},
    )


class Drivers(BaseModel):
    """Step paths by month, one optional path per driver."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    tokens_per_second: dict[Month, Annotated[float, Field(gt=0)]] | None = _path_field(
        "output tokens per second per accelerator at full load (software gains raise it)",
        "tokens/s",
    )
    utilization: dict[Month, Annotated[float, Field(gt=0, le=1)]] | None = _path_field(
        "busy share of capacity", "fraction"
    )
    yield_rate: dict[Month, Annotated[float, Field(gt=0, le=1)]] | None = _path_field(
        "good share of the tokens made", "fraction"
    )
    energy_price_per_kwh: dict[Month, Annotated[float, Field(ge=0)]] | None = (
        _path_field("energy price", "money/kWh")
    )
    wall_kw_per_accelerator: dict[Month, Annotated[float, Field(gt=0)]] | None = (
        _path_field(
            "full-load power of one accelerator at the wall, its share of cooling and network included",
            "kW",
        )
    )
    lifecycle_cycles_per_year: (
        dict[Month, Annotated[float, Field(ge=0, le=365)]] | None
    ) = _path_field(
        "tuning, retraining and evaluation cycles per year (the model lifecycle cadence)",
        "cycles/year",
    )
    lifecycle_cost_per_cycle: dict[Month, Annotated[float, Field(ge=0)]] | None = (
        _path_field("compute cost of one lifecycle cycle", "money")
    )
    api_price_per_million: dict[Month, Annotated[float, Field(gt=0)]] | None = (
        _path_field(
            "price of a comparable API per million output tokens", "money/M tokens"
        )
    )


DRIVER_NAMES = tuple(Drivers.model_fields)


def merge_drivers(base: Drivers | None, override: Drivers | None) -> Drivers:
    """Combine two sets of paths.

    A path in ``override`` replaces the same driver's path in ``base``.
    """
    merged: dict[str, Any] = {}
    for name in DRIVER_NAMES:
        for source in (base, override):
            path = getattr(source, name) if source is not None else None
            if path is not None:
                merged[name] = path
    return Drivers.model_validate(merged)


def path_values(
    path: Mapping[str, float] | None, default: float, months: NDArray[np.int64] | int
) -> NDArray[np.float64]:
    """Return the value of a step path at each month index.

    Without a path, every month gets ``default``. ``months`` may have any shape, and
    the result has the same shape.
    """
    months_array = np.asarray(months, dtype=np.int64)
    if not path:
        return np.full(months_array.shape, float(default))
    keys = sorted((parse_month(month), float(value)) for month, value in path.items())
    key_months = np.array([month for month, _ in keys], dtype=np.int64)
    values = np.array([value for _, value in keys])
    position = np.searchsorted(key_months, months_array, side="right") - 1
    return values[np.clip(position, 0, None)]


# ---------------------------------------------------------------------------
# CSV input


def read_driver_csv(path: str | Path) -> Drivers:
    """Read driver paths from a CSV file with a ``month`` column and one column per driver.

    Columns are named as the fields of :class:`Drivers`, in any order and case. Rows
    whose first cell starts with ``#`` are comments. Each row is one month, in any
    order, and a blank cell leaves that driver unchanged from the previous listed
    month.

    Raises:
        InputError: the file is missing or unreadable, a column is unknown or has no
            values, a month repeats, or a value is invalid. The message names the
            row, the column, the value and what is allowed.
    """
    text = read_text_file(path, kind="driver")
    return parse_driver_csv(text, source=str(path))


def parse_driver_csv(text: str, *, source: str = "drivers.csv") -> Drivers:
    """Validate driver paths given as CSV text.

    The format and errors are those of :func:`read_driver_csv`.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    paths: dict[str, dict[str, float]] = {}
    row_of_month: dict[str, int] = {}
    errors: list[str] = []
    try:
        for cells in reader:
            if (
                not cells
                or all(not cell.strip() for cell in cells)
                or cells[0].lstrip().startswith("#")
            ):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in cells]
                header_line = reader.line_num
                _check_header(header, header_line, source)
                continue
            _read_row(
                header, cells, reader.line_num, source, paths, row_of_month, errors
            )
    except csv.Error as exc:
        raise InputError(
            f"{source}: row {reader.line_num}: not valid CSV ({exc}); check the quoting there"
        ) from None
    if header is None:
        raise InputError(
            f"{source}: the file is empty; start it with a header such as month,tokens_per_second"
        )
    if errors:
        raise InputError("\n".join(errors))
    if not row_of_month:
        raise InputError(
            f"{source}: the file has a header but no months; add one row per month that changes"
        )
    # A column replaces the scenario's path of that driver, so a column without any
    # value would have nothing to replace it with.
    empty_columns = [name for name in header[1:] if name not in paths]
    if empty_columns:
        raise InputError(
            "\n".join(
                f"{source}: row {header_line} (header), column {name}: the column has no "
                "values; give the value from its first month on, or delete the column "
                "to keep the scenario's path"
                for name in empty_columns
            )
        )

    try:
        return Drivers.model_validate(paths)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            driver, month = str(error["loc"][0]), str(error["loc"][1])
            value = paths.get(driver, {}).get(month)
            reason = error["msg"][0].lower() + error["msg"][1:]
            lines.append(
                f"{source}: row {row_of_month.get(month, '?')}, column {driver}: {value!r} is invalid: {reason}; "
                f"give {allowed_value_text(driver)}"
            )
        raise InputError("\n".join(lines)) from None


def _check_header(header: list[str], line: int, source: str) -> None:
    where = f"{source}: row {line} (header)"
    if not header or header[0] != "month":
        raise InputError(
            f"{where}: the first column must be month; found {header[0] if header else ''!r}"
        )
    if not any(header[1:]):
        raise InputError(
            f"{where}: there is no driver column after month; add one or more of: "
            + ", ".join(DRIVER_NAMES)
        )
    seen: set[str] = set()
    for name in header[1:]:
        if name == "month":
            raise InputError(f"{where}: column 'month' appears twice; keep one")
        if name not in DRIVER_NAMES:
            raise InputError(
                f"{where}: unknown column {name!r}; use month and any of: {', '.join(DRIVER_NAMES)}"
            )
        if name in seen:
            raise InputError(f"{where}: column {name!r} appears twice; keep one")
        seen.add(name)


def _read_row(
    header: list[str],
    cells: list[str],
    line: int,
    source: str,
    paths: dict[str, dict[str, float]],
    row_of_month: dict[str, int],
    errors: list[str],
) -> None:
    where = f"{source}: row {line}"
    if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
        errors.append(
            f"{where} has {len(cells)} values but the header has {len(header)} columns; remove the extra values"
        )
        return
    month = cells[0].strip()
    problem = month_text_problem(month)
    if problem is not None:
        errors.append(
            f"{where}, column month: {month!r} is invalid: {problem}; give {MONTH_ALLOWED}"
        )
        return
    if month in row_of_month:
        errors.append(
            f"{where}, column month: {month} is already listed on row {row_of_month[month]}; merge the two rows"
        )
        return
    row_of_month[month] = line
    for column, raw in zip(header[1:], cells[1:]):
        text = raw.strip()
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            errors.append(
                f"{where}, column {column}: {text!r} is invalid: not a number (write it without thousands "
                f"separators, units or percent signs); give {allowed_value_text(column)}"
            )
            continue
        paths.setdefault(column, {})[month] = value


def allowed_path_text(driver: str) -> str:
    """Describe the step path allowed for ``driver`` in the scenario's [drivers] table."""
    return (
        'a table of one or more "YYYY-MM" = value entries, such as { "2026-01" = '
        f"value }}, each value {allowed_value_text(driver)}"
    )


def allowed_value_text(driver: str) -> str:
    """Describe one value allowed in the path of ``driver``: 'a number > 0 (tokens/s)'."""
    info = Drivers.model_fields[driver]
    # The annotation is dict[Month, Annotated[float, bounds]] | None.
    value_type = info.annotation.__args__[0].__args__[1]
    bounds = []
    for item in getattr(value_type, "__metadata__", ()):
        for constraint in getattr(item, "metadata", ()):
            for attribute, symbol in (
                ("gt", ">"),
                ("ge", ">="),
                ("lt", "<"),
                ("le", "<="),
            ):
                if hasattr(constraint, attribute):
                    bounds.append(f"{symbol} {getattr(constraint, attribute):g}")
    unit = (info.json_schema_extra or {}).get("unit", "")  # type: ignore[union-attr]
    text = "a number " + " and ".join(bounds)
    return f"{text.strip()} ({unit})" if unit else text.strip()
