"""The asset register: the capital behind Silicon, Fabric and Facility, one row per purchase.

A register comes from a CSV file (:func:`read_asset_register`) or from the
``[[assets]]`` tables of a scenario file, and :class:`Asset` validates both. Each
row is a lot of identical units bought in one month. Depreciation starts in the
purchase month, so an asset bought in 2026-01 with a 48-month life is charged from
2026-01 to 2029-12. Prices and salvage are per unit.

Methods:

- ``straight-line``: (unit_price - salvage) / life_months each month.
- ``declining-balance``: double declining balance with a switch to straight-line,
  Excel's ``VDB(unit_price, salvage, life_months, age, age + 1, 2, FALSE)``.
- ``units-of-production``: (unit_price - salvage) x the tokens of the month /
  ``lifetime_tokens``, until the asset is fully depreciated. For an accelerator the
  tokens are the ones that accelerator makes. For fabric and facility fit-out they are
  the tokens the whole factory makes. ``life_months`` is the longest the asset stays
  in service, and any amount left at its last month is charged in that month.

A change of useful life (``new_life_months`` from ``life_change_month``) is applied
prospectively: the net book value left at the change, less salvage, is depreciated
over the remaining new life by the row's own method, and earlier months stay as they
were.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tokenbom_xl.errors import InputError, number_text
from tokenbom_xl.periods import (
    MONTH_ALLOWED,
    MonthText,
    month_text_problem,
    parse_month,
)
from tokenbom_xl.textfile import read_text_file

__all__ = [
    "ASSET_CLASSES",
    "ASSET_COLUMNS",
    "DEPRECIATION_METHODS",
    "Asset",
    "allowed_values",
    "parse_asset_csv",
    "read_asset_register",
]

ASSET_CLASSES = ("accelerator", "fabric", "facility-fit-out")
DEPRECIATION_METHODS = ("straight-line", "declining-balance", "units-of-production")

# A message lists at most this many invalid cells, one per line, and counts the rest.
MAX_LISTED_ERRORS = 30


def _allowed(text: str) -> dict[str, str]:
    return {"allowed": text}


class Asset(BaseModel):
    """One row of the asset register: a lot of identical units bought in one month."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    asset_id: str = Field(
        min_length=1,
        max_length=100,
        description="name of the row, unique in the register",
        json_schema_extra=_allowed("a unique name of 1 to 100 characters"),
    )
    asset_class: Literal["accelerator", "fabric", "facility-fit-out"] = Field(
        description="which component the depreciation goes to: Silicon, Fabric or Facility",
        json_schema_extra=_allowed("accelerator, fabric or facility-fit-out"),
    )
    purchase_month: MonthText = Field(
        description="month of purchase; depreciation starts in this month",
        json_schema_extra=_allowed(MONTH_ALLOWED),
    )
    quantity: int = Field(
        gt=0,
        le=10_000_000,
        description="units bought",
        json_schema_extra=_allowed("a whole number from 1 to 10,000,000"),
    )
    unit_price: float = Field(
        gt=0,
        description="purchase price of one unit",
        json_schema_extra=_allowed(
            "a number greater than 0, in the scenario's currency"
        ),
    )
    life_months: int = Field(
        gt=0,
        le=240,
        description="depreciation life",
        json_schema_extra=_allowed("a whole number of months from 1 to 240"),
    )
    salvage: float = Field(
        default=0.0,
        ge=0,
        description="value of one unit at the end of its life",
        json_schema_extra=_allowed("a number of at least 0 and less than unit_price"),
    )
    method: Literal["straight-line", "declining-balance", "units-of-production"] = (
        Field(
            default="straight-line",
            description="depreciation method",
            json_schema_extra=_allowed(
                "straight-line, declining-balance or units-of-production"
            ),
        )
    )
    lifetime_tokens: float | None = Field(
        default=None,
        gt=0,
        description="tokens one unit is expected to serve over its life (units-of-production only)",
        json_schema_extra=_allowed(
            "a number of tokens greater than 0, for units-of-production rows only"
        ),
    )
    new_life_months: int | None = Field(
        default=None,
        gt=0,
        le=240,
        description="depreciation life from life_change_month on",
        json_schema_extra=_allowed(
            "a whole number of months from 1 to 240, with life_change_month"
        ),
    )
    life_change_month: MonthText | None = Field(
        default=None,
        description="first month depreciated over new_life_months",
        json_schema_extra=_allowed(
            "a month as YYYY-MM after purchase_month, with new_life_months"
        ),
    )

    @model_validator(mode="after")
    def _check_fields_together(self) -> Asset:
        if self.salvage >= self.unit_price:
            raise ValueError(
                f"salvage ({number_text(self.salvage)}) must be less than unit_price "
                f"({number_text(self.unit_price)}); lower the salvage value"
            )
        if self.method == "units-of-production" and self.lifetime_tokens is None:
            raise ValueError(
                "method units-of-production needs lifetime_tokens, the tokens one unit "
                "serves over its life; add it or choose another method"
            )
        if self.method != "units-of-production" and self.lifetime_tokens is not None:
            raise ValueError(
                f"lifetime_tokens is given but method is {self.method}; remove lifetime_tokens "
                "or set method to units-of-production"
            )
        if (self.new_life_months is None) != (self.life_change_month is None):
            raise ValueError(
                "new_life_months and life_change_month go together; give both or neither"
            )
        if self.life_change_month is not None:
            age = self.change_age
            if age <= 0:
                raise ValueError(
                    f"life_change_month ({self.life_change_month}) must be after purchase_month "
                    f"({self.purchase_month}); to set the life from the start, change life_months"
                )
            if self.new_life_months <= age:  # type: ignore[operator]
                raise ValueError(
                    f"new_life_months ({self.new_life_months}) must be greater than the asset's age "
                    f"at life_change_month ({age} months), so that some life remains; give a longer "
                    "life or an earlier change month"
                )
        return self

    @property
    def purchase_index(self) -> int:
        """Month index of the purchase month."""
        return parse_month(self.purchase_month)

    @property
    def change_age(self) -> int | None:
        """Age in months at the change of life, or None without a change."""
        if self.life_change_month is None:
            return None
        return parse_month(self.life_change_month) - self.purchase_index


ASSET_COLUMNS = tuple(Asset.model_fields)
_REQUIRED_COLUMNS = tuple(
    name for name, info in Asset.model_fields.items() if info.is_required()
)
_INTEGER_COLUMNS = {"quantity", "life_months", "new_life_months"}
_NUMBER_COLUMNS = {"unit_price", "salvage", "lifetime_tokens"}
_MONTH_COLUMNS = {"purchase_month", "life_change_month"}
_CHOICE_COLUMNS = {"asset_class", "method"}


def allowed_values(column: str) -> str:
    """Describe the values allowed in ``column`` of the register."""
    extra = Asset.model_fields[column].json_schema_extra
    return (
        str(extra["allowed"]) if isinstance(extra, dict) else "see templates/assets.csv"
    )


# ---------------------------------------------------------------------------
# CSV input


def read_asset_register(path: str | Path) -> tuple[Asset, ...]:
    """Read and validate an asset register CSV file.

    The first row that is neither blank nor a comment (a first cell starting with
    ``#``) is the header. Column names are those of :class:`Asset`, in any order and
    case. Blank cells in optional columns take the default. Purchase and change months
    are written ``YYYY-MM``. A full date is rejected, so that no day is dropped unseen.

    Raises:
        InputError: the file is missing or unreadable, or any row is invalid. The
            message lists each invalid cell with its row (the line in the file), its
            column, its value and the values allowed.
    """
    text = read_text_file(path, kind="asset register")
    return parse_asset_csv(text, source=str(path))


def parse_asset_csv(text: str, *, source: str = "assets.csv") -> tuple[Asset, ...]:
    """Validate an asset register given as CSV text.

    The format and errors are those of :func:`read_asset_register`.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if _is_blank_or_comment(cells):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in cells]
                header_line = reader.line_num
            else:
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise InputError(
            f"{source}: row {reader.line_num}: not valid CSV ({exc}); check the quoting there"
        ) from None

    if header is None:
        raise InputError(
            f"{source}: the file is empty; start it with the header row of templates/assets.csv"
        )
    _check_header(header, header_line, source)
    if not rows:
        raise InputError(
            f"{source}: the register has a header but no assets; add one row per purchase"
        )

    errors: list[str] = []
    assets: list[Asset] = []
    first_row_of: dict[str, int] = {}
    for line, cells in rows:
        where = f"{source}: row {line}"
        if len(cells) > len(header):
            extra = [cell for cell in cells[len(header) :] if cell.strip()]
            if extra:
                errors.append(
                    f"{where} has {len(cells)} values but the header has {len(header)} columns; "
                    "quote values that contain a comma"
                )
                continue
        values = dict(zip(header, cells))
        record, cell_errors, failed_columns = _convert_row(values, where)
        errors.extend(cell_errors)
        try:
            asset = Asset.model_validate(record)
        except ValidationError as exc:
            # A cell that could not be converted is reported once, above, and not
            # again as missing.
            errors.extend(
                _describe_row_error(where, error, values)
                for error in exc.errors()
                if not (error["loc"] and str(error["loc"][0]) in failed_columns)
            )
            continue
        if cell_errors:
            continue
        if asset.asset_id in first_row_of:
            errors.append(
                f"{where}, column asset_id: {asset.asset_id!r} is already used on row "
                f"{first_row_of[asset.asset_id]}; give each row its own asset_id"
            )
            continue
        first_row_of[asset.asset_id] = line
        assets.append(asset)

    if errors:
        raise InputError(_join_errors(errors))
    return tuple(assets)


def _is_blank_or_comment(cells: list[str]) -> bool:
    if not cells or all(not cell.strip() for cell in cells):
        return True
    return cells[0].lstrip().startswith("#")


def _check_header(header: list[str], line: int, source: str) -> None:
    where = f"{source}: row {line} (header)"
    seen: set[str] = set()
    for name in header:
        if not name:
            raise InputError(
                f"{where}: a column has no name; name it or delete the column"
            )
        if name not in ASSET_COLUMNS:
            raise InputError(
                f"{where}: unknown column {name!r}; use the columns of templates/assets.csv: "
                + ", ".join(ASSET_COLUMNS)
            )
        if name in seen:
            raise InputError(f"{where}: column {name!r} appears twice; keep one")
        seen.add(name)
    missing = [name for name in _REQUIRED_COLUMNS if name not in seen]
    if missing:
        raise InputError(
            f"{where}: missing column(s) {', '.join(missing)}; add them to the header"
        )


def _convert_row(
    values: Mapping[str, str], where: str
) -> tuple[dict[str, Any], list[str], set[str]]:
    """Convert one row's cells from text to typed values, leaving blanks out.

    Returns the converted cells, the errors, and the columns those errors are about.
    """
    record: dict[str, Any] = {}
    errors: list[str] = []
    failed: set[str] = set()
    for column, raw in values.items():
        text = raw.strip()
        if not text:
            if column in _REQUIRED_COLUMNS:
                errors.append(
                    f"{where}, column {column}: missing value; give {allowed_values(column)}"
                )
                failed.add(column)
            continue
        try:
            record[column] = _convert_cell(column, text)
        except ValueError as exc:
            errors.append(
                f"{where}, column {column}: {text!r} is invalid: {exc}; give {allowed_values(column)}"
            )
            failed.add(column)
    return record, errors, failed


def _convert_cell(column: str, text: str) -> Any:
    if column in _INTEGER_COLUMNS:
        number = _to_number(text)
        if not number.is_integer():
            raise ValueError("not a whole number")
        return int(number)
    if column in _NUMBER_COLUMNS:
        return _to_number(text)
    if column in _MONTH_COLUMNS:
        return _to_month(text)
    if column in _CHOICE_COLUMNS:
        return text.lower()
    return text


def _to_number(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(
            "not a number (write it without thousands separators or currency symbols)"
        ) from None
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _to_month(text: str) -> str:
    problem = month_text_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


def _describe_row_error(
    where: str, error: Mapping[str, Any], values: Mapping[str, str]
) -> str:
    loc = [str(part) for part in error["loc"]]
    # A rule across columns has no location, and its message names the columns.
    if not loc:
        message = str(error.get("ctx", {}).get("error", error["msg"]))
        return f"{where}: {message}"
    column = loc[0]
    cell_text = values.get(column, "").strip()
    reason = error["msg"]
    reason = reason[0].lower() + reason[1:]
    return f"{where}, column {column}: {cell_text!r} is invalid: {reason}; give {allowed_values(column)}"


def _join_errors(errors: list[str]) -> str:
    listed = errors[:MAX_LISTED_ERRORS]
    if len(errors) > MAX_LISTED_ERRORS:
        listed.append(
            f"... and {len(errors) - MAX_LISTED_ERRORS} more invalid cells; fix the ones above and run again"
        )
    return "\n".join(listed)
