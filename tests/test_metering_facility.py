"""Facility PUE series and published PUE tables."""

from __future__ import annotations

import json

import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.facility import read_facility_series
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.pue_table import read_pue_table

FACEBOOK = "facility/facebook_dc_pue_wue_24h_5min.json"
GOOGLE = "facility/google_campus_pue_q-and-ttm_2025.tsv"


def test_facebook_series(realdata):
    result = read_facility_series(str(realdata / FACEBOOK), ReadOptions())
    report = result.report

    assert report.rows_read == 186
    assert report.rows_used == 186
    assert report.first_time == 1393231500.0  # 1393231500000 ms: 2014-02-24T08:45:00Z
    assert report.last_time == 1393317900.0  # 2014-02-25T08:45:00Z
    # 186 five-minute readings; the 8 h 40 min hole covers nothing.
    assert result.weight_seconds == 186 * 300
    assert result.pue == pytest.approx(1.0640752688172044, rel=1e-12)
    gaps = [flag for flag in report.flags.values() if flag.code == "gap"]
    assert len(gaps) == 1
    assert "from 2014-02-24T15:55:00Z to 2014-02-25T00:35:00Z" in gaps[0].message


def test_google_table_site(realdata):
    result = read_pue_table(str(realdata / GOOGLE), ReadOptions(site="Dublin, Ireland"))

    assert result.pue == 1.08  # trailing twelve months
    assert result.site == "Dublin, Ireland"
    assert result.report.rows_read == 31
    assert result.report.notes[0].startswith(
        "line 33 skipped (a note, not a row): *We report individual campus TTM PUE"
    )


def test_google_table_blank_ttm(realdata):
    result = read_pue_table(str(realdata / GOOGLE), ReadOptions(site="Inzai"))

    assert result.pue == 1.12  # quarterly, because TTM is blank for this campus
    assert (
        "no trailing twelve-month PUE"
        in next(iter(result.report.flags.values())).message
    )


def test_google_table_without_site(realdata):
    result = read_pue_table(str(realdata / GOOGLE), ReadOptions())

    assert result.pue is None
    assert next(iter(result.report.flags.values())).code == "not_selected"


def test_google_table_ambiguous_site(realdata):
    with pytest.raises(InputError, match=r"--site 'Council Bluffs' matches 2 sites"):
        read_pue_table(str(realdata / GOOGLE), ReadOptions(site="Council Bluffs"))


def test_impossible_pue_excluded(tmp_path):
    path = tmp_path / "pue.csv"
    path.write_text(
        "timestamp,pue\n"
        "2026-11-01T00:00:00Z,1.2\n"
        "2026-11-01T00:05:00Z,0.9\n"
        "2026-11-01T00:10:00Z,-1\n"
        "2026-11-01T00:15:00Z,abc\n"
        "2026-11-01T00:20:00Z,1.4\n",
        encoding="utf-8",
    )
    result = read_facility_series(str(path), ReadOptions())
    report = result.report

    assert report.rows_read == 5
    assert report.rows_used == 2
    assert report.rejections["impossible PUE 0.9 (outside 1 to 5)"].lines == [3]
    assert report.rejections["impossible PUE -1 (outside 1 to 5)"].lines == [4]
    assert report.rejections["impossible PUE nan (outside 1 to 5)"].lines == [5]
    # Never averaged in: the two good readings, each covering 5 minutes (the gap is flagged).
    assert result.pue == pytest.approx(1.3)


def test_power_columns_give_pue(tmp_path):
    path = tmp_path / "power.json"
    rows = [
        {"time": "2026-11-01T00:00:00Z", "facility_kw": 120.0, "it_kw": 100.0},
        {"time": "2026-11-01T01:00:00Z", "facility_kw": 110.0, "it_kw": 100.0},
        {"time": "2026-11-01T01:00:00Z", "facility_kw": 150.0, "it_kw": 100.0},
        {"time": "2026-11-01T02:00:00Z", "facility_kw": -5.0, "it_kw": 100.0},
    ]
    path.write_text(json.dumps({"data": rows}), encoding="utf-8")
    result = read_facility_series(str(path), ReadOptions())

    assert result.pue == pytest.approx(1.15)
    assert result.report.rejections["duplicate timestamp for PUE"].count == 1
    assert result.report.rows_rejected == 2


def test_missing_pue_column(tmp_path):
    path = tmp_path / "temps.csv"
    path.write_text(
        "timestamp,temperature\n2026-11-01T00:00:00Z,20\n", encoding="utf-8"
    )

    with pytest.raises(
        InputError, match="no PUE column and no facility_kw and it_kw columns"
    ):
        read_facility_series(str(path), ReadOptions())


@pytest.mark.parametrize(
    ("facility", "it", "scale"),
    [
        ("facility_kw", "it_kw", 1.0),
        ("total_kw", "it_power_kw", 1.0),
        ("facility_power_kw", "it_kw", 1.0),
        ("facility_w", "it_w", 1000.0),
        ("total_w", "it_power_w", 1000.0),
        ("facility_power_w", "it_power_w", 1000.0),
    ],
)
def test_every_power_column_name_read(tmp_path, facility, it, scale):
    path = tmp_path / "power.csv"
    path.write_text(
        f"timestamp,{facility},{it}\n"
        f"2026-11-01T00:00:00Z,{120 * scale},{100 * scale}\n"
        f"2026-11-01T00:05:00Z,{130 * scale},{100 * scale}\n",
        encoding="utf-8",
    )
    result = read_facility_series(str(path), ReadOptions())

    assert result.report.rows_used == 2
    assert result.pue == pytest.approx(1.25)


def test_pue_table_without_usable_row(tmp_path):
    path = tmp_path / "campuses.csv"
    path.write_text(
        "site,quarterly PUE,TTM PUE\nOld campus,9.0,\n* Footnote: estimates.\n",
        encoding="utf-8",
    )
    result = read_pue_table(str(path), ReadOptions())
    flags = list(result.report.flags.values())

    assert result.pue is None
    assert [flag.code for flag in flags] == ["missing_field"]
    assert flags[0].message == "no site row with a usable PUE"
