"""The fixed-rate recovery kernel."""

from __future__ import annotations

import numpy as np
import pytest

from tokenbom_xl.restrike import fixed_rate_recovery


def test_balance_is_carried_into_next_year():
    # Two years of two periods. Year 1: costs 100 and 80 over 10 good tokens each;
    # the first-month rate is 10, recovering 100 and 100: 20 over-recovered. Year 2:
    # costs 80 and 80 over 10 each, first-month rate 8 less 20 / 20 tokens = 7,
    # recovering 70 and 70: 20 under-recovered, which clears the balance.
    recovery = fixed_rate_recovery(
        [100.0, 80.0, 80.0, 80.0], [10.0, 10.0, 10.0, 10.0], [2026, 2026, 2027, 2027]
    )
    np.testing.assert_allclose(recovery.fixed_rate, [10.0, 10.0, 7.0, 7.0])
    np.testing.assert_allclose(recovery.over_recovery, [0.0, 20.0, -10.0, -10.0])
    np.testing.assert_allclose(recovery.balance_brought_forward, [0.0, 0.0, 20.0, 10.0])
    np.testing.assert_allclose(recovery.balance_carried_forward, [0.0, 20.0, 10.0, 0.0])
    assert list(recovery.sets_rate) == [True, False, True, False]


def test_under_recovery_raises_next_rate():
    recovery = fixed_rate_recovery([80.0, 100.0, 100.0], [10.0, 10.0, 10.0], [1, 1, 2])
    # Year 1 recovers 80 + 80 against 180: 20 under. Year 2's rate is 10 + 20 / 10 = 12.
    np.testing.assert_allclose(recovery.fixed_rate, [8.0, 8.0, 12.0])


def test_unknown_basis_is_rejected():
    with pytest.raises(ValueError, match="first-month, year-budget"):
        fixed_rate_recovery([1.0], [1.0], [1], basis="average")
