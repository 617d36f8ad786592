"""GL exports and depreciation profiles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.ledger import read_ledger
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.times import parse_period


def test_odoo_depreciation_profiles(realdata):
    result = read_ledger(
        str(realdata / "ledger/odoo_l10n_uk_depreciation_profiles.csv"), ReadOptions()
    )

    assert result.report.format == "depreciation profiles CSV"
    assert result.report.rows_read == 9
    technology = result.profiles[0]
    assert technology.name == "Technology"
    assert technology.asset_account == "001000"  # leading zeros kept
    assert technology.expense_account == "751000"
    assert technology.life_months == 36  # 3 depreciations, 12 months apart
    assert [p.life_months for p in result.profiles if p.name == "Buildings"] == [360]


def test_gl_export(tmp_path):
    path = tmp_path / "gl.csv"
    path.write_text(
        "period,account,cost_centre,amount,description\n"
        "2026-11,001000,CC-01,1000.10,GPU depreciation\n"
        '2026-11,001000,CC-01,"1,000.20",GPU depreciation\n'
        "2026-11,751000,CC-02,,blank amount\n"
        "2026-10,751000,CC-02,50,last month\n"
        "Nov 2026,751000,CC-02,50,bad period\n"
        '2026-11-30,=HYPERLINK("http://x"),CC-03,-5.5,credit\n',
        encoding="utf-8",
    )
    result = read_ledger(str(path), ReadOptions(period=parse_period("2026-11")))
    report = result.report

    assert result.booked[("001000", "CC-01")].amount == Decimal("2000.30")
    assert result.booked[("001000", "CC-01")].lines == 2
    assert result.booked[('=HYPERLINK("http://x")', "CC-03")].amount == Decimal("-5.5")
    assert report.rejections["amount '' is not a number"].lines == [4]
    assert report.rejections["period 'Nov 2026' is not YYYY-MM or a date"].lines == [6]
    assert report.rows_outside_period == 1
    assert (
        report.rows_read
        == report.rows_used + report.rows_outside_period + report.rows_rejected
    )


def test_gl_include_outside_period_counted_and_flagged(tmp_path):
    path = tmp_path / "gl.csv"
    path.write_text(
        "period,account,cost_centre,amount,description\n"
        "2026-11,6000,CC-01,10,this month\n"
        "2026-10,6000,CC-01,5,last month\n",
        encoding="utf-8",
    )
    options = ReadOptions(period=parse_period("2026-11"), include_outside_period=True)
    result = read_ledger(str(path), options)
    report = result.report

    assert result.booked[("6000", "CC-01")].amount == Decimal("15")
    assert report.rows_used == 2
    assert report.rows_outside_period == 0
    assert report.rows_used_outside_period == 1
    assert report.flags["outside_period"].count == 1
    assert "were counted" in report.flags["outside_period"].message


def test_gl_missing_column(tmp_path):
    path = tmp_path / "gl.csv"
    path.write_text("account,amount\n001000,5\n", encoding="utf-8")

    with pytest.raises(
        InputError, match=r"line 1: missing column period \(found account, amount\)"
    ):
        read_ledger(str(path), ReadOptions())
