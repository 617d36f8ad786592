"""Periods and time zones at the edges of what datetime supports, and offsets
with invalid minutes."""

from __future__ import annotations

import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.times import parse_period, parse_zone


@pytest.mark.parametrize("text", ["0000-01", "9999-12"])
def test_period_outside_datetime_range_rejected(text):
    # Year 0 has no datetime, and 9999-12 ends in year 10000, which has none either.
    with pytest.raises(InputError, match=text):
        parse_period(text)


@pytest.mark.parametrize("text", ["+24:00", "-24:00", "+25:00", "+23:99"])
def test_offset_of_a_day_or_more_rejected(text):
    with pytest.raises(InputError, match=text.replace("+", r"\+")):
        parse_zone(text)


@pytest.mark.parametrize("text", ["+05:75", "-01:60"])
def test_offset_minutes_over_59_rejected(text):
    # +05:75 is no offset; read as 5 h 75 min it shifts timestamps to +06:15.
    with pytest.raises(InputError, match=text.replace("+", r"\+")):
        parse_zone(text)


@pytest.mark.parametrize("text", ["0001-01", "0000-12"])
def test_period_before_datetime_range_rejected(text):
    # 0001-01 exists, but the month before it does not.
    with pytest.raises(InputError, match="from 0001-02 to 9999-11"):
        parse_period(text)


@pytest.mark.parametrize("text", ["0001-02", "9999-11"])
def test_period_at_edge_of_range_accepted(text):
    period = parse_period(text)

    assert period.label == text
    assert period.start < period.end


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("+23:59", 23 * 60 + 59), ("-23:59", -(23 * 60 + 59)), ("-0530", -330)],
)
def test_offset_within_a_day_accepted(text, minutes):
    offset = parse_zone(text).utcoffset(None)

    assert offset.total_seconds() == minutes * 60


def test_offset_error_lists_allowed_forms():
    with pytest.raises(InputError) as raised:
        parse_zone("+05:75")

    message = str(raised.value)
    assert "minutes are over 59" in message
    assert "-23:59 to +23:59" in message
    assert "Europe/Berlin" in message
