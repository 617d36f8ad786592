"""Largest-remainder rounding to cents."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenbom_xl.rounding import (
    MAX_AMOUNT,
    MAX_CENTS,
    cent_parts,
    largest_remainder,
    largest_remainder_rows,
    remainder_thresholds,
    round_half_up,
    to_cents,
)


def test_round_half_up_rounds_halves_away_from_zero():
    assert round_half_up(0.125, 2) == 0.13
    assert round_half_up(-2.5) == -3.0
    assert round_half_up(2.5) == 3.0


def test_cent_parts_snap_float_noise():
    # 0.1 + 0.2 is 0.30000000000000004: 30 whole cents, no remainder.
    floor, remainder = cent_parts(np.array([0.1 + 0.2, 29.999999999999996]))
    assert floor.tolist() == [30, 3000]
    assert remainder.tolist() == [0, 0]


def test_largest_remainder_gives_cents_to_largest_remainders():
    # Thirds of 1.00: 33.33 cents each, one cent missing goes to the first (a tie).
    cents = largest_remainder([1 / 3, 1 / 3, 1 / 3], [0, 0, 0], [100])
    assert cents.tolist() == [34, 33, 33]


def test_largest_remainder_groups_are_independent():
    cents = largest_remainder(
        [1.234, 2.347, 0.5, 3.3333, 1.1111], [0, 0, 0, 1, 1], [409, 445]
    )
    assert cents.tolist() == [124, 235, 50, 334, 111]


def test_largest_remainder_rejects_unreachable_target():
    with pytest.raises(ValueError, match="group 0"):
        largest_remainder([1.0, 2.0], [0, 0], [500])


def test_remainder_thresholds_match_the_rounding():
    missing, threshold, above = remainder_thresholds(
        [1.234, 2.347, 0.5, 3.3333, 1.1111], [0, 0, 0, 1, 1], [409, 445]
    )
    assert missing.tolist() == [2, 1]
    assert threshold.tolist() == [400000, 330000]
    assert above.tolist() == [1, 0]


amounts = st.lists(
    st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=30,
)


@settings(max_examples=2000, deadline=None)
@given(amounts)
def test_largest_remainder_adds_up_and_stays_close(values):
    target = int(to_cents([sum(values)])[0])
    cents = largest_remainder(values, np.zeros(len(values), dtype=int), [target])
    assert int(cents.sum()) == target
    assert (cents >= 0).all()
    exact = np.asarray(values) * 100
    assert (np.abs(cents - exact) < 1 + 1e-6).all()


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.lists(
            st.floats(min_value=0, max_value=1e6, allow_nan=False),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=10,
    )
)
def test_largest_remainder_rows_add_up(rows):
    matrix = np.array(rows)
    targets = to_cents(matrix.sum(axis=1))
    cents = largest_remainder_rows(matrix, targets)
    assert (cents.sum(axis=1) == targets).all()


@pytest.mark.parametrize("amount", [np.nan, np.inf, 1e17, -1e17])
def test_to_cents_rejects_amounts_without_exact_cents(amount):
    with pytest.raises(ValueError, match="no exact whole cents"):
        to_cents(np.array([1.0, amount]))


def test_to_cents_keeps_max_amount():
    assert to_cents(np.array([MAX_AMOUNT, -MAX_AMOUNT])).tolist() == [
        MAX_CENTS,
        -MAX_CENTS,
    ]
