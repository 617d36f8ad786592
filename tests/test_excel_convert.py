"""Conversion between Excel-shaped values and arrays, and the never-raise decorators."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.excel.convert import (
    ChoiceArgument,
    Domain,
    ElementwiseCall,
    NumericArgument,
    read_numbers,
    read_single_value,
    read_table,
    table_function,
    table_result,
    worksheet_function,
)

# Error codes as Excel's ERROR.TYPE numbers them.
DIV0, VALUE, REF, NUM, NA = 2, 3, 4, 6, 7


def codes(cells):
    return (
        np.zeros(cells.shape, dtype=int)
        if cells.errors is None
        else cells.errors.astype(int)
    )


# value, default, expected values (NaN where an error), expected error codes
READ_CASES = [
    (0.6, None, [[0.6]], [[0]]),
    (8, None, [[8.0]], [[0]]),
    (True, None, [[1.0]], [[0]]),
    (False, None, [[0.0]], [[0]]),
    (None, None, [[0.0]], [[0]]),
    (None, 730.0, [[730.0]], [[0]]),
    ("", 730.0, [[730.0]], [[0]]),
    ("abc", None, [[math.nan]], [[VALUE]]),
    ("0.6", None, [[math.nan]], [[VALUE]]),
    ("#N/A", None, [[math.nan]], [[NA]]),
    ("#REF!", None, [[math.nan]], [[REF]]),
    (math.nan, None, [[math.nan]], [[NUM]]),
    (math.inf, None, [[math.nan]], [[NUM]]),
    ([0.1, 0.2], None, [[0.1, 0.2]], [[0, 0]]),
    ([[0.1], [0.2]], None, [[0.1], [0.2]], [[0], [0]]),
    (
        [[0.1, None], ["x", "#DIV/0!"]],
        5.0,
        [[0.1, 5.0], [math.nan, math.nan]],
        [[0, 0], [VALUE, DIV0]],
    ),
    ([[0.1, 0.2], [0.3]], None, [[0.1, 0.2], [0.3, math.nan]], [[0, 0], [0, NA]]),
    ([[1, True], [0.5, 2]], None, [[1.0, 1.0], [0.5, 2.0]], [[0, 0], [0, 0]]),
    ([], 1.0, [[1.0]], [[0]]),
    (np.array([1, 2, 3]), None, [[1.0, 2.0, 3.0]], [[0, 0, 0]]),
    (np.array([[1.5], [2.5]]), None, [[1.5], [2.5]], [[0], [0]]),
    (np.zeros((2, 2, 2)), None, [[math.nan]], [[VALUE]]),
    (object(), None, [[math.nan]], [[VALUE]]),
]


@pytest.mark.parametrize(("value", "default", "values", "errors"), READ_CASES)
def test_read_numbers_cases(value, default, values, errors):
    cells = read_numbers(value, default)
    assert cells.values.shape == np.array(values).shape
    assert codes(cells).tolist() == errors
    expected = np.array(values, dtype=float)
    valid = np.array(errors) == 0
    assert np.array_equal(cells.values[valid], expected[valid])


def test_read_numbers_keeps_array_without_copy():
    array = np.linspace(0.1, 1.0, 10).reshape(-1, 1)
    assert read_numbers(array).values is array


def test_read_numbers_mixed_list_keeps_numbers():
    # np.asarray would turn 0.5 into the text "0.5" next to a string.
    cells = read_numbers([[0.5, "x"]])
    assert cells.values[0, 0] == 0.5
    assert codes(cells).tolist() == [[0, VALUE]]


# domain, values, expected invalid mask
DOMAIN_CASES = [
    (Domain(minimum=0.0), [0.0, 1.0, -1.0], [False, False, True]),
    (
        Domain(minimum=0.0, minimum_inclusive=False, maximum=1.0),
        [0.0, 0.5, 1.0, 1.5],
        [True, False, False, True],
    ),
    (
        Domain(minimum=0.0, maximum=1.0, maximum_inclusive=False),
        [0.0, 1.0],
        [False, True],
    ),
    (
        Domain(minimum=0.0, whole=True),
        [0.0, 1.0, 1.5, 2.0],
        [False, False, True, False],
    ),
    (Domain(), [math.nan, math.inf, -math.inf, 1.0], [True, True, True, False]),
]


@pytest.mark.parametrize(("domain", "values", "invalid"), DOMAIN_CASES)
def test_domain_invalid_cases(domain, values, invalid):
    mask = domain.invalid(np.array([values]))
    found = np.zeros(len(values), dtype=bool) if mask is None else mask.ravel()
    assert found.tolist() == invalid


def test_domain_all_valid_returns_none():
    assert Domain(minimum=0.0).invalid(np.array([[1.0, 2.0]])) is None
    assert Domain(minimum=0.0).invalid(np.array([[1.0]])) is None


# value, expected index (None where an error), expected error code
CHOICE_CASES = [
    ("straight-line", 0, 0),
    ("declining-balance", 1, 0),
    ("Declining Balance", 1, 0),
    ("  DECLINING_balance ", 1, 0),
    (None, 0, 0),
    ("", 0, 0),
    ("sum-of-years", None, VALUE),
    (2, None, VALUE),
    ("#N/A", None, NA),
]


@pytest.mark.parametrize(("value", "index", "error"), CHOICE_CASES)
def test_choice_argument_cases(value, index, error):
    cells = ChoiceArgument(
        value, ("straight-line", "declining-balance"), "straight-line"
    ).read()
    assert codes(cells)[0, 0] == error
    if index is not None:
        assert cells.values[0, 0] == index


def test_choice_argument_range():
    cells = ChoiceArgument(
        [["straight-line"], ["bad"]], ("straight-line",), "straight-line"
    ).read()
    assert codes(cells).tolist() == [[0], [VALUE]]


def test_broadcast_column_with_row():
    call = ElementwiseCall(
        NumericArgument([[1.0], [2.0], [3.0]]), NumericArgument([[10.0, 20.0]])
    )
    assert call.shape == (3, 2)
    assert call.errors is None
    assert np.array_equal(
        call.values[0] * call.values[1], [[10, 20], [20, 40], [30, 60]]
    )


def test_broadcast_short_column_pads_na():
    call = ElementwiseCall(
        NumericArgument([[1.0], [2.0], [3.0]]), NumericArgument([[10.0], [20.0]])
    )
    assert call.shape == (3, 1)
    assert call.errors.tolist() == [[0], [0], [NA]]


def test_broadcast_short_row_against_column():
    call = ElementwiseCall(
        NumericArgument([[1.0, 2.0, 3.0]]), NumericArgument([[1.0, 2.0], [3.0, 4.0]])
    )
    # The single row repeats down; the 2 x 2 range is one column short.
    assert call.shape == (2, 3)
    assert call.errors.tolist() == [[0, 0, NA], [0, 0, NA]]


def test_leftmost_error_wins():
    call = ElementwiseCall(
        NumericArgument("#REF!"),
        NumericArgument("abc"),
        NumericArgument(-1.0, Domain(minimum=0.0)),
    )
    assert call.errors.tolist() == [[REF]]


def test_domain_error_after_earlier_text_error():
    call = ElementwiseCall(
        NumericArgument(-1.0, Domain(minimum=0.0)), NumericArgument("abc")
    )
    assert call.errors.tolist() == [[NUM]]


def test_flag_keeps_earlier_error():
    call = ElementwiseCall(NumericArgument([["x", 1.0, 2.0]]))
    call.flag(np.array([[True, True, False]]), "#DIV/0!")
    assert call.errors.tolist() == [[VALUE, DIV0, 0]]


def test_result_scalar_is_float():
    call = ElementwiseCall(NumericArgument(2.0))
    result = call.result(call.values[0] * 3)
    assert type(result) is float
    assert result == 6.0


def test_result_scalar_error_is_text():
    call = ElementwiseCall(NumericArgument("#N/A"))
    assert call.result(call.values[0]) == "#N/A"


def test_result_range_without_errors_is_float_array():
    call = ElementwiseCall(NumericArgument([[1.0], [2.0]]))
    result = call.result(call.values[0] + 1)
    assert isinstance(result, np.ndarray)
    assert result.dtype == np.float64
    assert result.tolist() == [[2.0], [3.0]]


def test_result_range_with_errors_is_object_array():
    call = ElementwiseCall(NumericArgument([[1.0], ["x"], [0.0]]))
    with np.errstate(divide="ignore"):
        result = call.result(1.0 / call.values[0], not_finite="#DIV/0!")
    assert result.dtype == object
    assert result.tolist() == [[1.0], ["#VALUE!"], ["#DIV/0!"]]


def test_result_broadcasts_scalar_values():
    call = ElementwiseCall(NumericArgument([[1.0, 2.0]]))
    assert call.result(5.0).tolist() == [[5.0, 5.0]]


def test_worksheet_function_turns_exception_into_value(caplog):
    @worksheet_function
    def broken(x):
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR):
        assert broken(1) == "#VALUE!"
    assert "broken" in caplog.text


def test_worksheet_function_keeps_name_and_signature():
    @worksheet_function
    def documented(x, y=2):
        """Document x."""
        return x

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Document x."


def test_read_table_drops_trailing_blank_rows():
    table = read_table([["a", 1], [None, None], ["b", 2], [None, ""], [None, None]])
    assert table == [["a", 1.0], [None, None], ["b", 2.0]]


def test_read_table_single_value():
    assert read_table("Silicon") == [["Silicon"]]


def test_read_single_value_rejects_range():
    with pytest.raises(InputError, match="give one cell"):
        read_single_value([["a", "b"]], "component")


def test_read_single_value_accepts_one_cell_range():
    assert read_single_value([["Silicon"]], "component") == "Silicon"


def test_table_result_pads_and_cleans():
    rows = table_result([["a", np.float64(1.5), math.nan], ["b"]])
    assert rows == [["a", 1.5, "#NUM!"], ["b", None, None]]
    assert type(rows[0][1]) is float


def test_table_function_input_error_row():
    @table_function
    def strict(x):
        raise InputError("inputs: bad value; fix it")

    assert strict(1) == [["#VALUE!", "inputs: bad value; fix it"]]


def test_table_function_unexpected_error_row(caplog):
    @table_function
    def broken(x):
        raise KeyError("k")

    with caplog.at_level(logging.ERROR):
        rows = broken(1)
    assert rows[0][0] == "#VALUE!"
    assert "failed unexpectedly" in rows[0][1]
    assert "broken" in caplog.text
