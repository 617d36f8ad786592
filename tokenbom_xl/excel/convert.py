"""Conversion between Excel-shaped values and the engine's NumPy arrays.

Excel, through xlwings, passes each argument as a single value or as a list of rows:
numbers as float, empty cells as None, TRUE and FALSE as bool, text as str and error
values as their text ("#N/A"). Python callers may pass NumPy arrays as well.

An elementwise function reads each argument into a 2-D float array with a parallel
array of error codes. It broadcasts the arguments against each other as an Excel array
formula does and calls the engine. It returns a float, an error value, or a 2-D array
that carries an error value in each element that has one. A table function reads a
range into rows of cells and returns rows. Neither kind raises into Excel, because
:func:`worksheet_function` and :func:`table_function` catch every exception.

The rules for one element, in order (the first that applies wins):

- an error value in an argument comes back unchanged, from the leftmost argument;
- text where a number belongs, or an unknown choice such as a method, is ``#VALUE!``;
- a number outside the argument's :class:`Domain` is ``#NUM!``;
- the function's own checks (for example ``#DIV/0!`` where there are no good tokens).

An empty cell is read as the argument's default where it has one, and as 0
elsewhere (as in Excel arithmetic). TRUE and FALSE count as 1 and 0.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from tokenbom_xl.errors import InputError

__all__ = [
    "DIV0",
    "NA",
    "NUM",
    "VALUE",
    "Cells",
    "ChoiceArgument",
    "Domain",
    "ElementwiseCall",
    "NumericArgument",
    "is_error_value",
    "read_numbers",
    "read_single_value",
    "read_table",
    "table_function",
    "table_result",
    "worksheet_function",
]

logger = logging.getLogger(__name__)

# Excel's error values, indexed by the number Excel's ERROR.TYPE gives them (1 to 8;
# Excel 365 numbers the newer ones 9 to 14). Index 0 means "no error".
ERROR_VALUES: tuple[str, ...] = (
    "",
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#GETTING_DATA",
    "#SPILL!",
    "#CONNECT!",
    "#BLOCKED!",
    "#UNKNOWN!",
    "#FIELD!",
    "#CALC!",
)
_ERROR_CODES = {text: code for code, text in enumerate(ERROR_VALUES) if code}
_ERROR_TEXT = np.array(ERROR_VALUES, dtype=object)

DIV0 = "#DIV/0!"
VALUE = "#VALUE!"
NUM = "#NUM!"
NA = "#N/A"

_NO_ERROR = np.int8(0)
_DIV0_CODE = np.int8(_ERROR_CODES[DIV0])
_VALUE_CODE = np.int8(_ERROR_CODES[VALUE])
_NUM_CODE = np.int8(_ERROR_CODES[NUM])
_NA_CODE = np.int8(_ERROR_CODES[NA])

Function = TypeVar("Function", bound=Callable[..., Any])
Errors = NDArray[np.int8]
Floats = NDArray[np.float64]


def is_error_value(value: Any) -> bool:
    """Return True for the text of an Excel error value, such as "#N/A"."""
    return isinstance(value, str) and value in _ERROR_CODES


def _error_code(text: str) -> np.int8:
    return np.int8(_ERROR_CODES[text])


# ---------------------------------------------------------------------------
# Reading one argument


@dataclass(frozen=True)
class Cells:
    """One argument as a 2-D float array and a parallel array of error codes.

    ``errors`` is None when no element has an error, which is the common case and
    saves an array per argument.
    """

    values: Floats
    errors: Errors | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape  # type: ignore[return-value]

    def with_errors(self, mask: NDArray[np.bool_] | None, code: np.int8) -> Cells:
        """Return a copy that has ``code`` where ``mask`` is true and no error was yet."""
        if mask is None:
            return self
        if self.errors is None:
            errors = np.where(mask, code, _NO_ERROR).astype(np.int8)
        else:
            errors = np.where((self.errors == 0) & mask, code, self.errors).astype(
                np.int8
            )
        return Cells(self.values, errors)


def read_numbers(value: Any, default: float | None = None) -> Cells:
    """Read a numeric argument: a single value, a list, a list of rows or an array.

    A flat list or a 1-D array is one row, as NumPy broadcasting treats it. Empty
    cells become ``default``, or 0 where there is none. Text is ``#VALUE!``, error
    values keep their code, and NaN and infinity in cells are ``#NUM!``. The range
    check belongs to :class:`Domain`, which also rejects NaN and infinity in numeric
    arrays, so the fast path for those does not look at them.
    """
    if isinstance(value, float | int) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return Cells(np.array([[number]]))
        return Cells(np.array([[math.nan]]), np.array([[_NUM_CODE]]))
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        return _numeric_cells(value, default)
    if isinstance(value, list | tuple):
        try:
            array = np.asarray(value)
        except ValueError:  # rows of different lengths
            return _object_cells(_rows(value), default)
        if array.dtype.kind in "fiub":
            return _numeric_cells(array, default)
        # Mixed content: np.asarray would have turned numbers into text, so read the
        # original cells one by one.
        return _object_cells(_rows(value), default)
    if isinstance(value, np.ndarray):
        return _object_cells(_rows(value.tolist()), default)
    return _object_cells([[value]], default)


def _numeric_cells(array: NDArray[Any], default: float | None) -> Cells:
    values = array.astype(np.float64, copy=False)
    if values.ndim == 0:
        values = values.reshape(1, 1)
    elif values.ndim == 1:
        values = values.reshape(1, -1)
    elif values.ndim > 2:
        return Cells(np.array([[math.nan]]), np.array([[_VALUE_CODE]]))
    if values.size == 0:
        return Cells(np.array([[0.0 if default is None else float(default)]]))
    return Cells(values)


def _rows(value: Sequence[Any]) -> list[list[Any]]:
    """Split a list into rows: a list of sequences is rows, a flat list is one row."""
    if not any(isinstance(item, list | tuple | np.ndarray) for item in value):
        return [list(value)]
    return [
        list(item) if isinstance(item, list | tuple | np.ndarray) else [item]
        for item in value
    ]


def _object_cells(rows: list[list[Any]], default: float | None) -> Cells:
    height = len(rows)
    width = max((len(row) for row in rows), default=0)
    if height == 0 or width == 0:
        return Cells(np.array([[0.0 if default is None else float(default)]]))
    values = np.full((height, width), math.nan)
    # A row shorter than the longest one is padded with #N/A, as Excel pads an array.
    errors = np.full((height, width), _NA_CODE, dtype=np.int8)
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            values[i, j], errors[i, j] = _read_cell(cell, default)
    if not errors.any():
        return Cells(values)
    return Cells(values, errors)


def _read_cell(cell: Any, default: float | None) -> tuple[float, np.int8]:
    if cell is None or (isinstance(cell, str) and cell == ""):
        return (0.0 if default is None else float(default)), _NO_ERROR
    if isinstance(cell, bool | np.bool_):
        return float(cell), _NO_ERROR
    if isinstance(cell, int | float | np.integer | np.floating):
        number = float(cell)
        if math.isfinite(number):
            return number, _NO_ERROR
        return math.nan, _NUM_CODE
    if isinstance(cell, str) and cell in _ERROR_CODES:
        return math.nan, _error_code(cell)
    return math.nan, _VALUE_CODE


@dataclass(frozen=True)
class Domain:
    """Range of numbers that an argument allows.

    Any other number, NaN or infinity is ``#NUM!``.
    """

    minimum: float = -math.inf
    minimum_inclusive: bool = True
    maximum: float = math.inf
    maximum_inclusive: bool = True
    whole: bool = False

    def contains(self, number: float) -> bool:
        """Return True when ``number`` is finite and inside the domain."""
        if not math.isfinite(number):
            return False
        above = (
            number >= self.minimum if self.minimum_inclusive else number > self.minimum
        )
        below = (
            number <= self.maximum if self.maximum_inclusive else number < self.maximum
        )
        return above and below and (not self.whole or number.is_integer())

    def invalid(self, values: Floats) -> NDArray[np.bool_] | None:
        """Return a mask of the elements outside the domain, or None when there are none."""
        if values.size == 1:
            return (
                None
                if self.contains(float(values.flat[0]))
                else np.ones(values.shape, dtype=bool)
            )
        # Two reductions settle the common case. NaN in either one fails contains(),
        # and then the element mask below finds the culprits.
        if self.contains(float(values.min())) and self.contains(float(values.max())):
            if not self.whole or np.array_equal(values, np.floor(values)):
                return None
        inside = np.isfinite(values)
        inside &= (
            values >= self.minimum if self.minimum_inclusive else values > self.minimum
        )
        inside &= (
            values <= self.maximum if self.maximum_inclusive else values < self.maximum
        )
        if self.whole:
            inside &= values == np.floor(values)
        return ~inside


ANY_NUMBER = Domain()


@dataclass(frozen=True)
class NumericArgument:
    """A numeric argument of an elementwise function, with its domain and default."""

    value: Any
    domain: Domain = ANY_NUMBER
    default: float | None = None

    def read(self) -> Cells:
        cells = read_numbers(self.value, self.default)
        return cells.with_errors(self.domain.invalid(cells.values), _NUM_CODE)


@dataclass(frozen=True)
class ChoiceArgument:
    """A text argument that names one of ``options`` and reads as the option's index.

    Matching ignores case, surrounding spaces, and the difference between a space,
    an underscore and a hyphen, so "Declining Balance" names "declining-balance".
    Anything else, numbers included, is ``#VALUE!``.
    """

    value: Any
    options: tuple[str, ...]
    default: str

    def read(self) -> Cells:
        indexes = {
            _normalize_choice(option): index
            for index, option in enumerate(self.options)
        }
        value = (
            self.value.tolist() if isinstance(self.value, np.ndarray) else self.value
        )
        rows = _rows(value) if isinstance(value, list | tuple) else [[value]]
        width = max(len(row) for row in rows)
        if width == 0:
            rows, width = [[None]], 1
        values = np.full((len(rows), width), math.nan)
        errors = np.full((len(rows), width), _NA_CODE, dtype=np.int8)
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                if cell is None or cell == "":
                    cell = self.default
                if is_error_value(cell):
                    errors[i, j] = _error_code(cell)
                    continue
                index = (
                    indexes.get(_normalize_choice(cell))
                    if isinstance(cell, str)
                    else None
                )
                if index is None:
                    errors[i, j] = _VALUE_CODE
                    continue
                values[i, j] = index
                errors[i, j] = _NO_ERROR
        return Cells(values, errors if errors.any() else None)


def _normalize_choice(text: str) -> str:
    return "-".join(text.strip().casefold().replace("_", " ").replace("-", " ").split())


# ---------------------------------------------------------------------------
# One elementwise call


class ElementwiseCall:
    """The arguments of one elementwise call, read, validated and broadcast.

    Shapes combine as in an Excel array formula. The result has the most rows and the
    most columns of any argument. An argument with one row or one column repeats along
    it, and any other argument that is too short leaves ``#N/A`` in the elements beyond
    its end. For shapes that NumPy can broadcast, this is NumPy broadcasting.
    """

    def __init__(self, *arguments: NumericArgument | ChoiceArgument) -> None:
        cells = [argument.read() for argument in arguments]
        rows = max(c.shape[0] for c in cells)
        columns = max(c.shape[1] for c in cells)
        self.shape: tuple[int, int] = (rows, columns)
        self.values: list[Floats] = []
        self.errors: Errors | None = None
        for c in cells:
            values, errors = _fit(c, rows, columns)
            self.values.append(values)
            if errors is None:
                continue
            if self.errors is None:
                self.errors = np.array(errors, dtype=np.int8)
            else:
                # The leftmost argument's error wins, as Excel evaluates left to right.
                self.errors = np.where(self.errors != 0, self.errors, errors).astype(
                    np.int8
                )

    def flag(self, mask: Any, error: str) -> None:
        """Set ``error`` where ``mask`` is true and the element has no error yet."""
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), self.shape)
        if not mask.any():
            return
        code = _error_code(error)
        if self.errors is None:
            self.errors = np.where(mask, code, _NO_ERROR).astype(np.int8)
        else:
            self.errors = np.where((self.errors == 0) & mask, code, self.errors).astype(
                np.int8
            )

    def result(
        self, values: Any, *, not_finite: str = NUM
    ) -> float | str | NDArray[Any]:
        """Return the engine's ``values`` in Excel's shape, with error values where set.

        An element that is NaN or infinite without an earlier error gets ``not_finite``
        (for example ``#DIV/0!`` where a division had no good tokens). A 1 x 1 result is
        returned as a float or an error value. A larger one is a 2-D array: of float when
        every element is a number, else of object holding floats and error values.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.shape != self.shape:
            values = np.broadcast_to(values, self.shape).copy()
        if not np.isfinite(values).all():
            self.flag(~np.isfinite(values), not_finite)
        if self.errors is None:
            return float(values[0, 0]) if values.size == 1 else values
        output = values.astype(object)
        has_error = self.errors != 0
        output[has_error] = _ERROR_TEXT[self.errors[has_error]]
        return output[0, 0] if output.size == 1 else output


def _fit(cells: Cells, rows: int, columns: int) -> tuple[Floats, Errors | None]:
    height, width = cells.shape
    if height in (1, rows) and width in (1, columns):
        values = np.broadcast_to(cells.values, (rows, columns))
        errors = (
            None
            if cells.errors is None
            else np.broadcast_to(cells.errors, (rows, columns))
        )
        return values, errors
    # Too short along an axis: repeat what repeats and fill the rest with #N/A.
    part = (rows if height == 1 else height, columns if width == 1 else width)
    values = np.full((rows, columns), math.nan)
    errors = np.full((rows, columns), _NA_CODE, dtype=np.int8)
    values[: part[0], : part[1]] = np.broadcast_to(cells.values, part)
    errors[: part[0], : part[1]] = (
        0 if cells.errors is None else np.broadcast_to(cells.errors, part)
    )
    return values, errors


def worksheet_function(function: Function) -> Function:
    """Make an elementwise function safe to call from Excel.

    Any exception is logged and becomes ``#VALUE!`` in the cell, because an exception
    that reaches xlwings shows as a traceback or a bare error without the cell
    context. NumPy warnings about division by zero or invalid values are silenced:
    those elements are reported as error values instead.
    """

    @functools.wraps(function)
    def call_safely(*args: Any, **kwargs: Any) -> Any:
        try:
            with np.errstate(all="ignore"):
                return function(*args, **kwargs)
        except Exception:  # noqa: BLE001  (Excel gets an error value, not an exception)
            logger.exception(
                "worksheet function %s failed; returned %s", function.__name__, VALUE
            )
            return VALUE

    return call_safely  # type: ignore[return-value]


# ---------------------------------------------------------------------------
# Table functions: a range in, rows out


def read_table(value: Any) -> list[list[Any]]:
    """Read a range into rows of cells: float, str, bool, None, or an error value's text.

    Trailing rows that are entirely empty are dropped, because a range selected
    generously (A5:B100) is common.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple):
        rows = [[value]]
    else:
        rows = _rows(value)
    table = [[_table_cell(cell) for cell in row] for row in rows]
    while table and all(cell is None for cell in table[-1]):
        table.pop()
    return table


def _table_cell(cell: Any) -> Any:
    if cell is None or (isinstance(cell, str) and cell == ""):
        return None
    if isinstance(cell, bool | np.bool_):
        return bool(cell)
    if isinstance(cell, int | float | np.integer | np.floating):
        return float(cell)
    return cell


def read_single_value(value: Any, name: str) -> Any:
    """Read an argument that must be one cell.

    Raises:
        InputError: the argument is a range of more than one cell.
    """
    table = read_table(value)
    cells = [cell for row in table for cell in row]
    if len(cells) > 1:
        raise InputError(
            f"{name}: give one cell, not a range of {len(table)} x {len(table[0])} cells"
        )
    return cells[0] if cells else None


def table_result(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Return ``rows`` as a rectangular list of rows of Excel cell values.

    NumPy numbers become float, NaN and infinity become ``#NUM!``, and rows shorter
    than the longest are padded with None (an empty cell).
    """
    table = [[_result_cell(cell) for cell in row] for row in rows]
    width = max((len(row) for row in table), default=0)
    if width == 0:
        return [[None]]
    return [row + [None] * (width - len(row)) for row in table]


def _result_cell(cell: Any) -> Any:
    if isinstance(cell, bool | np.bool_):
        return bool(cell)
    if isinstance(cell, int | float | np.integer | np.floating):
        number = float(cell)
        return number if math.isfinite(number) else NUM
    return cell


def table_function(function: Function) -> Function:
    """Make a table function safe to call from Excel.

    The result passes through :func:`table_result`. An :class:`InputError` becomes a
    row of ``#VALUE!`` and the message beside it, so the anchor cell is an error value
    that formulas can test with ISERROR and the reader sees what to fix. Any other
    exception is logged and becomes the same row with a general message.
    """

    @functools.wraps(function)
    def call_safely(*args: Any, **kwargs: Any) -> Any:
        try:
            with np.errstate(all="ignore"):
                return table_result(function(*args, **kwargs))
        except InputError as exc:
            return [[VALUE, str(exc)]]
        except Exception:  # noqa: BLE001  (Excel gets an error value, not an exception)
            logger.exception(
                "worksheet function %s failed; returned %s", function.__name__, VALUE
            )
            return [
                [
                    VALUE,
                    f"{function.__name__} failed unexpectedly; the Python log has the details",
                ]
            ]

    return call_safely  # type: ignore[return-value]
