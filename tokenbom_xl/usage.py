"""Usage input for chargeback: good tokens by period, business unit and model.

Format (CSV, or the same table as a worksheet range with a header row)::

    period,business_unit,model,good_tokens,reserved_share
    2025-01,Search,llama-70b,1200000000,0.40
    2025-01,Search,llama-8b,800000000,
    2025-01,Support,llama-8b,500000000,0

- ``period`` is a month written ``YYYY-MM``.
- ``good_tokens`` is a number from 0 to 2**53 (9,007,199,254,740,992) of good output
  tokens in the period.
- ``reserved_share`` is the business unit's reserved share of the factory's
  accelerator-seconds in that period, a fraction from 0 to 1 (``40%`` is accepted).
  It belongs to the business unit, not to the model row: give it on one of the unit's
  rows for the period and leave it blank on the others, or repeat the same value. Two
  different values for one unit and period are an error, and so are shares that add
  up to more than 1 in a period. A unit with no share given has reserved nothing.
- A row may leave ``model`` and ``good_tokens`` blank to state only a reservation,
  and it must then give ``reserved_share``. A row with none of the three is an error,
  so a row cut short after the business unit is never read as 0 tokens.
- Each (period, business unit, model) appears once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokenbom_xl.errors import InputError
from tokenbom_xl.tabular import (
    cell_error,
    codes_and_labels,
    csv_cell_text,
    first_true,
    parse_numbers,
    range_to_text_table,
    read_csv_text_table,
)

__all__ = [
    "MAX_GOOD_TOKENS",
    "USAGE_COLUMNS",
    "UsageData",
    "read_usage",
    "usage_from_range",
    "validate_period_labels",
]

USAGE_COLUMNS = ("period", "business_unit", "model", "good_tokens", "reserved_share")

# Whole numbers up to 2**53 are exact in a double, so larger token counts would be
# changed silently when read.
MAX_GOOD_TOKENS = 2**53

# Reserved shares of one period may add up to 1 plus this, for shares typed as
# rounded fractions such as 0.333333 three times.
RESERVED_TOTAL_TOLERANCE = 1e-6

_PERIOD_PATTERN = r"[0-9]{4}-(0[1-9]|1[0-2])"


@dataclass(frozen=True)
class UsageData:
    """Validated usage rows, as arrays in input order.

    ``reserved_share`` is per row and NaN where the row gives none. Chargeback
    combines it per business unit and period.
    """

    source: str
    period: np.ndarray  # object array of YYYY-MM text
    business_unit: np.ndarray  # object array of text
    model: np.ndarray  # object array of text; "" on a reservation-only row
    good_tokens: np.ndarray  # float64, >= 0
    reserved_share: np.ndarray  # float64 in [0, 1], or NaN where not given
    row: np.ndarray  # int64 row numbers in the source, header = 1
    # Integer codes of the text columns into their distinct labels, for fast grouping.
    period_code: np.ndarray
    period_labels: np.ndarray
    unit_code: np.ndarray
    unit_labels: np.ndarray
    model_code: np.ndarray
    model_labels: np.ndarray

    def __len__(self) -> int:
        return len(self.row)


def read_usage(path: str | Path) -> UsageData:
    """Read and validate a usage CSV file.

    Raises:
        InputError: a missing file or column, or an invalid cell. The message names
            the file, the row and the column.
    """
    frame = read_csv_text_table(
        path, USAGE_COLUMNS, kind="usage", numeric=("good_tokens", "reserved_share")
    )

    def cell_text(row: int, column: str) -> str:
        return csv_cell_text(path, USAGE_COLUMNS, kind="usage", row=row, column=column)

    return _validate(frame, str(path), cell_text=cell_text)


def usage_from_range(rows: Any, *, source: str = "usage_range") -> UsageData:
    """Validate usage given as a worksheet range: a 2-D list whose first row is the header."""
    frame = range_to_text_table(rows, USAGE_COLUMNS, source=source)
    return _validate(frame, source)


def validate_period_labels(
    codes: np.ndarray,
    labels: np.ndarray,
    rows: np.ndarray,
    *,
    source: str,
    column: str = "period",
) -> None:
    """Raise InputError naming the first row whose period is not ``YYYY-MM``."""
    valid = (
        pd.Series(labels, dtype=object)
        .str.fullmatch(_PERIOD_PATTERN)
        .to_numpy(dtype=bool)
    )
    if valid.all():
        return
    # Labels of dropped blank rows may remain unused, so look at the rows' codes.
    first_invalid = first_true(~valid[codes])
    if first_invalid is None:
        return
    value = labels[codes[first_invalid]]
    hint = (
        " (a spreadsheet may have turned it into a date: format the column as text)"
        if len(str(value)) == 10
        else ""
    )
    raise cell_error(
        source,
        int(rows[first_invalid]),
        column,
        f"{value!r} is not a period; write the month as YYYY-MM, e.g. 2025-01{hint}",
    )


def _validate(
    frame: pd.DataFrame,
    source: str,
    *,
    cell_text: Callable[[int, str], str] | None = None,
) -> UsageData:
    """Validate a usage frame and return it as arrays.

    ``cell_text(row, column)``, where given, returns a CSV cell as written, so that a
    message can quote a large number exactly.
    """
    rows = frame["row"].to_numpy()
    if len(frame) == 0:
        raise InputError(
            f"{source}: has a header but no usage rows; add one row per period, business unit and model"
        )

    period_code, period_labels = codes_and_labels(frame["period"])
    validate_period_labels(period_code, period_labels, rows, source=source)
    unit_code, unit_labels = codes_and_labels(frame["business_unit"])
    blank_unit = (
        first_true(unit_labels[unit_code] == "") if (unit_labels == "").any() else None
    )
    if blank_unit is not None:
        raise cell_error(
            source,
            int(rows[blank_unit]),
            "business_unit",
            "empty; name the business unit that used the tokens",
        )

    tokens, invalid = parse_numbers(frame["good_tokens"])
    _reject(
        invalid,
        rows,
        source,
        "good_tokens",
        frame["good_tokens"],
        "is not a number; give the good output tokens, e.g. 1200000",
    )
    negative = first_true(tokens < 0)
    if negative is not None:
        raise cell_error(
            source,
            int(rows[negative]),
            "good_tokens",
            f"{tokens[negative]:g} is negative; good tokens are 0 or more",
        )
    too_many = first_true(tokens > MAX_GOOD_TOKENS)
    if too_many is not None:
        row = int(rows[too_many])
        written = frame["good_tokens"].iloc[too_many]
        if not isinstance(written, str) and cell_text is not None:
            written = cell_text(row, "good_tokens")
        raise cell_error(
            source,
            row,
            "good_tokens",
            f"{written!r} is above {MAX_GOOD_TOKENS:,}, the largest count that a "
            "double, and so an Excel cell, holds exactly; check the token count",
        )

    model_code, model_labels = codes_and_labels(frame["model"])
    no_model = model_labels[model_code] == ""
    missing_tokens = np.isnan(tokens)
    tokens_without_model = first_true(
        no_model & ~missing_tokens & (np.nan_to_num(tokens) > 0)
    )
    if tokens_without_model is not None:
        raise cell_error(
            source,
            int(rows[tokens_without_model]),
            "model",
            "empty; name the model that made these tokens",
        )
    model_without_tokens = first_true(missing_tokens & ~no_model)
    if model_without_tokens is not None:
        raise cell_error(
            source,
            int(rows[model_without_tokens]),
            "good_tokens",
            "empty; give the good tokens of this model (0 if none)",
        )
    tokens = np.nan_to_num(tokens, nan=0.0)

    share, invalid = parse_numbers(frame["reserved_share"], percent=True)
    _reject(
        invalid,
        rows,
        source,
        "reserved_share",
        frame["reserved_share"],
        "is not a number; give a fraction from 0 to 1",
    )
    out_of_range = first_true((share < 0) | (share > 1))
    if out_of_range is not None:
        raise cell_error(
            source,
            int(rows[out_of_range]),
            "reserved_share",
            f"{share[out_of_range]:g} is outside 0 to 1; give the reserved share of capacity as a fraction (0.25 or 25%)",
        )
    # A row without a model states only a reservation, so it must give the share.
    # This also catches a row cut short after the business unit, which would
    # otherwise count as a unit with no tokens.
    empty_row = first_true(no_model & np.isnan(share))
    if empty_row is not None:
        raise InputError(
            f"{source}: row {int(rows[empty_row])}: no model, good_tokens or reserved_share; give a "
            "model and its good tokens, or only a reserved_share to state a reservation. "
            "If the row lost fields in an export, restore them"
        )

    data = UsageData(
        source=source,
        period=period_labels[period_code],
        business_unit=unit_labels[unit_code],
        model=model_labels[model_code],
        good_tokens=tokens,
        reserved_share=share,
        row=rows,
        period_code=period_code,
        period_labels=period_labels,
        unit_code=unit_code,
        unit_labels=unit_labels,
        model_code=model_code,
        model_labels=model_labels,
    )
    _reject_duplicates(data)
    return data


def _reject(
    invalid: np.ndarray,
    rows: np.ndarray,
    source: str,
    column: str,
    values: pd.Series,
    problem: str,
) -> None:
    first_invalid = first_true(invalid)
    if first_invalid is not None:
        raise cell_error(
            source,
            int(rows[first_invalid]),
            column,
            f"{values.iloc[first_invalid]!r} {problem}",
        )


def _reject_duplicates(data: UsageData) -> None:
    """Reject a repeated (period, business unit, model).

    Reservation-only rows may repeat.
    """
    key = (data.period_code * len(data.unit_labels) + data.unit_code) * (
        len(data.model_labels) + 1
    ) + data.model_code
    priced = data.model != ""
    repeated = pd.Series(key).duplicated(keep=False).to_numpy() & priced
    if not repeated.any():
        return
    first = first_true(repeated)
    assert first is not None
    same = np.flatnonzero(key == key[first])
    raise cell_error(
        data.source,
        int(data.row[same[1]]),
        "model",
        f"period {data.period[first]}, business unit {data.business_unit[first]!r} and model {data.model[first]!r} "
        f"already appear on row {int(data.row[same[0]])}; combine them into one row",
    )
