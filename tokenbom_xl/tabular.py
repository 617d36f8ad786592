"""Read CSV files and worksheet ranges into tables of text, with row numbers.

The usage, ledger and mapping readers share this layer, so every file error reads the
same way: ``FILE: row N, column NAME: the value, what is wrong, and the fix``. Row
numbers count the header as row 1, as a spreadsheet shows them. NOTE: a quoted CSV
field that spans several lines shifts the row numbers of the rows after it.

Every cell is kept as text, so account codes such as ``000150`` keep their leading
zeros and a business unit named ``NA`` stays a name rather than becoming a missing value.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tokenbom_xl.errors import InputError
from tokenbom_xl.tablecheck import (
    CONTROL_CHARACTERS,
    control_character_problem,
    reject_duplicate_columns,
)

__all__ = [
    "cell_error",
    "codes_and_labels",
    "csv_cell_text",
    "first_true",
    "parse_numbers",
    "range_to_text_table",
    "read_csv_text_table",
    "strip_text",
]


def read_csv_text_table(
    path: str | Path,
    columns: Sequence[str],
    *,
    kind: str,
    numeric: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a CSV file into a frame with ``columns`` plus ``row`` (its row number).

    Columns in ``numeric`` are parsed as float64 in the fast path, where blank cells
    become NaN. When a numeric cell does not parse, the file is read again as text and the
    caller's validation finds and names the cell. Other columns are text with
    surrounding spaces removed. Extra columns are ignored.

    Raises:
        InputError: the file is missing, not UTF-8, not a CSV, or lacks a column.
    """
    path = Path(path)
    header = _read_header(path, kind)
    names = [name.strip().lstrip("\ufeff") for name in header]
    missing = [column for column in columns if column not in names]
    if missing:
        raise InputError(
            f"{path}: row 1: missing column(s) {', '.join(missing)}; the header must contain "
            f"{','.join(columns)}"
        )
    reject_duplicate_columns(names, columns, source=str(path))

    text_columns = {names.index(column): column for column in columns}
    dtypes: dict[int, Any] = {index: str for index in text_columns}
    for index, column in text_columns.items():
        if column in numeric:
            dtypes[index] = "float64"
    # Every column is read, plus one more, so that a row with more fields than the
    # header (often an unquoted comma in a name) is an error, not a shifted row.
    for index in range(len(names) + 1):
        dtypes.setdefault(index, str)

    try:
        frame = _read(path, dtypes)
    except ValueError:
        # A numeric cell that is not a plain number: read everything as text so the
        # validation can name the row and column.
        frame = _read(path, {index: str for index in dtypes})
    else:
        # An infinite value (inf, 1e309) is invalid too, and the error should show it
        # as written, so read the file again as text.
        if any(
            np.isinf(frame[index].to_numpy()).any()
            for index, kind in dtypes.items()
            if kind == "float64"
        ):
            frame = _read(path, {index: str for index in dtypes})

    overflow = first_true(np.asarray(frame[len(names)], dtype=object) != "")
    if overflow is not None:
        raise InputError(
            f"{path}: row {overflow + 2}: more fields than the {len(names)} columns of the header; "
            "put names that contain a comma in double quotes"
        )

    frame = frame[list(text_columns)]
    for index in text_columns:
        if frame[index].dtype == object or pd.api.types.is_string_dtype(
            frame[index].dtype
        ):
            frame[index] = strip_text(frame[index])
    frame.columns = [text_columns[index] for index in frame.columns]
    frame = frame[list(columns)]
    frame["row"] = np.arange(2, len(frame) + 2, dtype=np.int64)
    _reject_control_characters(frame, str(path))
    return _drop_blank_rows(frame, columns)


def csv_cell_text(
    path: str | Path, columns: Sequence[str], *, kind: str, row: int, column: str
) -> str:
    """Return one cell of a CSV file as written, for an error message.

    :func:`read_csv_text_table` parses numeric columns to floats, which loses how a
    number was written (``1e309``, ``0350.005``), so the file is read again as text.
    """
    frame = read_csv_text_table(path, columns, kind=kind)
    cells = frame.loc[frame["row"] == row, column]
    return str(cells.iloc[0]) if len(cells) else ""


def _read_header(path: Path, kind: str) -> list[str]:
    """Return the fields of the header row.

    Raises:
        InputError: the file is missing, a folder, not UTF-8, unreadable or empty.
    """
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
    except FileNotFoundError:
        raise InputError(f"{path}: {kind} file not found; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; give the {kind} CSV file") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the {kind} file as UTF-8 CSV"
        ) from None
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the {kind} file: {exc.strerror or exc}"
        ) from None
    if not first.strip():
        raise InputError(f"{path}: the {kind} file is empty; it needs a header row")
    return next(csv.reader([first]))


def _read(path: Path, dtypes: dict[int, Any]) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # Rows with fewer fields than the header read as blank trailing cells.
            # pandas warns about rows longer than names, which the caller rejects.
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(
                path,
                header=None,
                skiprows=1,
                names=list(dtypes),
                index_col=False,
                dtype=dtypes,
                keep_default_na=False,
                na_values={
                    index: [""] for index, kind in dtypes.items() if kind is not str
                },
                encoding="utf-8-sig",
                skip_blank_lines=False,
            )
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV"
        ) from None
    except pd.errors.ParserError as exc:
        raise InputError(
            f"{path}: not a valid CSV file ({exc}); check the quoting and the number of fields"
        ) from None
    return frame


def strip_text(values: pd.Series | np.ndarray) -> pd.Categorical:
    """Strip surrounding spaces from each text and return the column as a Categorical.

    Usage and ledger columns repeat a few values many times, so the distinct values
    are stripped and mapped back, which is much faster than stripping every cell, and
    later steps group by the integer codes instead of comparing text.
    """
    codes, uniques = pd.factorize(
        np.asarray(values, dtype=object), use_na_sentinel=False
    )
    stripped = [str(value).strip() for value in uniques]
    merged, categories = pd.factorize(
        np.array(stripped, dtype=object), use_na_sentinel=False
    )
    return pd.Categorical.from_codes(
        merged[codes] if len(codes) else codes,
        categories=pd.Index(categories, dtype=object),
    )


def _reject_control_characters(frame: pd.DataFrame, source: str) -> None:
    """Raise InputError naming the first text cell that a workbook cannot contain.

    Only the distinct values of each text column are searched, so this is cheap.
    """
    for column in frame.columns:
        values = frame[column]
        if not isinstance(values.dtype, pd.CategoricalDtype):
            continue
        categories = values.cat.categories
        # One scan of the joined texts first: line feed is allowed, so it cannot
        # make a match of its own.
        if not CONTROL_CHARACTERS.search("\n".join(map(str, categories))):
            continue
        invalid_codes = [
            number
            for number, text in enumerate(categories)
            if CONTROL_CHARACTERS.search(str(text))
        ]
        if not invalid_codes:
            continue
        index = first_true(np.isin(values.cat.codes.to_numpy(), invalid_codes))
        assert index is not None
        problem = control_character_problem(str(values.iloc[index]))
        raise cell_error(source, int(frame["row"].iloc[index]), column, str(problem))


def _drop_blank_rows(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Drop rows whose every cell is blank (the trailing empty lines of many exports)."""
    blank = np.ones(len(frame), dtype=bool)
    for column in columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            categories = values.cat.categories
            if "" in categories:
                blank &= values.cat.codes.to_numpy() == categories.get_loc("")
            else:
                blank[:] = False
        elif values.dtype == object:
            blank &= (values == "").to_numpy()
        else:
            blank &= values.isna().to_numpy()
    if blank.any():
        frame = frame.loc[~blank].reset_index(drop=True)
    return frame


def range_to_text_table(
    rows: Any, columns: Sequence[str], *, source: str
) -> pd.DataFrame:
    """Convert a worksheet range (a 2-D list with a header row) to a text frame.

    Every cell becomes text: whole floats lose their ``.0`` (Excel sends every number
    as a float), dates become ``YYYY-MM-DD`` (Excel turns a typed ``2025-01`` into a
    date), and None becomes blank.

    Raises:
        InputError: the range is empty or its header lacks a column.
    """
    if not isinstance(rows, (list, tuple)) or not rows:
        raise InputError(
            f"{source}: the range is empty; select a header row and the data below it"
        )
    if not isinstance(rows[0], (list, tuple)):
        rows = [rows]
    header = ["" if cell is None else str(cell).strip() for cell in rows[0]]
    missing = [column for column in columns if column not in header]
    if missing:
        raise InputError(
            f"{source}: row 1: missing column(s) {', '.join(missing)}; the header must contain {','.join(columns)}"
        )
    reject_duplicate_columns(header, columns, source=source)
    positions = [header.index(column) for column in columns]
    data: dict[str, list[str]] = {column: [] for column in columns}
    for row in rows[1:]:
        cells = list(row) if isinstance(row, (list, tuple)) else [row]
        for column, position in zip(columns, positions):
            value = cells[position] if position < len(cells) else None
            data[column].append(_cell_text(value))
    frame = pd.DataFrame(
        {column: strip_text(values) for column, values in data.items()}
    )
    frame["row"] = np.arange(2, len(frame) + 2, dtype=np.int64)
    _reject_control_characters(frame, source)
    return _drop_blank_rows(frame, columns)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_numbers(
    values: pd.Series, *, percent: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column to float64 and return (numbers, invalid).

    Blank cells become NaN and are not invalid. ``invalid`` marks cells that are not
    finite numbers. With ``percent``, ``25%`` reads as 0.25. An accounting negative
    such as ``(120.50)`` reads as -120.5. Thousands separators are rejected, because
    ``1,234`` may mean 1.234 in a comma-decimal locale.
    """
    if pd.api.types.is_float_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64, copy=True)
        return numbers, np.isinf(numbers)
    text = np.asarray(values, dtype=object)
    blank = text == ""
    cleaned = pd.Series(text, dtype=object)
    scale = np.ones(len(text))
    if percent:
        has_percent = cleaned.str.endswith("%").to_numpy(dtype=bool)
        if has_percent.any():
            cleaned = cleaned.where(~has_percent, cleaned.str[:-1].str.strip())
            scale = np.where(has_percent, 0.01, 1.0)
    negative = (cleaned.str.startswith("(") & cleaned.str.endswith(")")).to_numpy(
        dtype=bool
    )
    if negative.any():
        cleaned = cleaned.where(~negative, "-" + cleaned.str[1:-1].str.strip())
    numbers = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=np.float64) * scale
    invalid = ~blank & ~np.isfinite(numbers)
    numbers[blank] = np.nan
    return numbers, invalid


def first_true(mask: np.ndarray) -> int | None:
    """Return the index of the first True element, or None."""
    if not mask.any():
        return None
    return int(np.argmax(mask))


def cell_error(source: str, row: int, column: str, message: str) -> InputError:
    """Build the standard error for one cell: ``source: row N, column C: message``."""
    return InputError(f"{source}: row {row}, column {column}: {message}")


def codes_and_labels(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return a text column's integer codes and distinct labels (an object array)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = pd.Series(strip_text(values))
    # Labels seen only on dropped blank rows must not become periods or units.
    values = values.cat.remove_unused_categories()
    return values.cat.codes.to_numpy().astype(np.int64), values.cat.categories.to_numpy(
        dtype=object
    )
