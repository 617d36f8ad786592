"""nvidia-smi --query-gpu CSV: the real H100 capture, the exporter's fixture, and small files."""

from __future__ import annotations

import math

import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.nvidia_smi import read_nvidia_smi
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.telemetry import summarize_telemetry
from tokenbom_xl.metering.times import parse_period, parse_zone

HEADER = "timestamp, uuid, utilization.gpu [%], power.draw [W]"


def write(tmp_path, text, name="log.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_h100_capture_idle_and_load(realdata):
    result = read_nvidia_smi(
        str(realdata / "telemetry/nvidia-smi_capture_h100-80gb_load.txt"), ReadOptions()
    )
    readings = result.readings["00000000-0000-0000-0000-000000000000"]

    # The idle table, then the load table under gpu-burn.
    assert [r.time for r in readings] == [
        1784016758.696,
        1784016773.353,
    ]  # 2026-07-14 08:12:38.696 and :53.353 UTC
    assert [r.utilization for r in readings] == [0.0, 1.0]  # "0 %" and "100 %"
    assert [r.power_w for r in readings] == [69.85, 631.95]  # "69.85 W" and "631.95 W"
    assert result.report.rows_read == 2
    assert result.report.rows_used == 2
    assert result.report.rows_rejected == 0
    assert "no_timezone" in {flag.code for flag in result.report.flags.values()}
    assert result.report.notes == [
        "2 --query-gpu tables read; other sections of the capture skipped"
    ]


def test_h100_capture_summary(realdata):
    result = read_nvidia_smi(
        str(realdata / "telemetry/nvidia-smi_capture_h100-80gb_load.txt"), ReadOptions()
    )
    summary = summarize_telemetry([result])

    # Two samples 14.657 s apart: each covers one interval, idle then busy.
    assert summary.utilization == pytest.approx(0.5, abs=1e-12)
    assert summary.utilization_seconds == pytest.approx(2 * 14.657, abs=1e-6)
    assert summary.mean_power_w == pytest.approx((69.85 + 631.95) / 2, rel=1e-12)
    assert summary.fit.full_load_w == pytest.approx(631.95, rel=1e-9)
    assert summary.fit.idle_w == pytest.approx(69.85, rel=1e-9)
    assert summary.accelerators == ("00000000-0000-0000-0000-000000000000",)


def test_wddm_fixture_has_no_utilization_or_power(realdata):
    result = read_nvidia_smi(
        str(realdata / "telemetry/nvidia-smi_query-gpu_2gpu_wddm.csv"), ReadOptions()
    )
    report = result.report

    assert report.rows_read == 2
    assert report.rows_rejected == 2
    assert report.rejections[
        "no usable utilization, power or energy reading"
    ].lines == [2, 3]
    messages = [flag.message for flag in report.flags.values()]
    assert "no utilization.gpu column: utilization not measured" in messages
    assert "no power.draw column: power not measured" in messages
    assert "no timestamp column: time coverage unknown" in messages
    assert result.gpus == []


def test_nounits_and_mig_placeholder(tmp_path):
    path = write(
        tmp_path,
        "timestamp, uuid, utilization.gpu [%], power.draw [W]\n"
        "2026/11/02 10:00:00.000, GPU-a, 40, 300.5\n"
        "2026/11/02 10:00:10.000, GPU-a, [N/A], 310.5\n",
    )
    result = read_nvidia_smi(path, ReadOptions())
    readings = result.readings["a"]

    assert readings[0].utilization == 0.4
    assert math.isnan(readings[1].utilization)
    assert readings[1].power_w == 310.5
    assert result.report.rows_used == 2
    assert any(flag.code == "placeholder" for flag in result.report.flags.values())


def test_headerless_file_needs_fields(tmp_path):
    path = write(tmp_path, "GPU-a, 55 %, 200.00 W\n")

    with pytest.raises(
        InputError, match=r"line 1: no nvidia-smi header row.*--nvidia-smi-fields"
    ):
        read_nvidia_smi(path, ReadOptions())

    result = read_nvidia_smi(
        path, ReadOptions(nvidia_smi_fields=("uuid", "utilization.gpu", "power.draw"))
    )
    assert result.readings["a"][0].utilization == 0.55
    assert result.readings["a"][0].power_w == 200.0


# Each row: CSV body after the header, the rejection reason or flag code expected.
BAD_ROWS = [
    (
        "2026/11/02 10:00:00.000, GPU-a, 40 %\n",
        "3 fields where the header has 4 (truncated line?)",
    ),
    (
        "2026/11/02 10:00:00.000, GPU-a, 40 %, 3 kW\n",
        "power.draw value '3 kW' is in kW, expected W",
    ),
    (
        "2026/11/02 10:00:00.000, GPU-a, abc %, 300 W\n",
        "utilization.gpu value 'abc %' is not a number",
    ),
    ("yesterday, GPU-a, 40 %, 300 W\n", "unreadable timestamp 'yesterday'"),
]


@pytest.mark.parametrize(("body", "reason"), BAD_ROWS)
def test_bad_row_rejected_with_line(tmp_path, body, reason):
    path = write(tmp_path, HEADER + "\n" + body)
    report = read_nvidia_smi(path, ReadOptions()).report

    assert report.rows_read == 1
    assert report.rejections[reason].lines == [2]


def test_impossible_utilization_flagged(tmp_path):
    path = write(tmp_path, HEADER + "\n2026/11/02 10:00:00.000, GPU-a, 150 %, 300 W\n")
    result = read_nvidia_smi(path, ReadOptions())

    assert math.isnan(result.readings["a"][0].utilization)
    assert result.readings["a"][0].power_w == 300.0
    assert [flag.code for flag in result.report.flags.values()].count(
        "impossible_value"
    ) == 1


def test_duplicates_and_backwards_clock(tmp_path):
    path = write(
        tmp_path,
        HEADER + "\n"
        "2026/11/02 10:00:20.000, GPU-a, 100 %, 600 W\n"
        "2026/11/02 10:00:00.000, GPU-a, 0 %, 70 W\n"
        "2026/11/02 10:00:10.000, GPU-a, 100 %, 600 W\n"
        "2026/11/02 10:00:10.000, GPU-a, 50 %, 300 W\n",
    )
    result = read_nvidia_smi(path, ReadOptions())
    report = result.report
    codes = {flag.code for flag in report.flags.values()}

    assert "clock_backwards" in codes
    assert "duplicate_timestamp" in codes
    assert report.rows_read == 4
    assert report.rows_used == 3
    assert report.rejections[
        "duplicate utilization reading for GPU a at the same timestamp"
    ].lines == [5]
    # Sorted: 0 % at :00, 100 % at :10 and :20, each covering 10 s.
    assert summarize_telemetry([result]).utilization == pytest.approx(2 / 3)


def test_timezone_and_period(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "\n2026/11/01 00:30:00.000, GPU-a, 100 %, 600 W\n2026/11/01 00:30:10.000, GPU-a, 100 %, 600 W\n",
    )
    # 00:30 in Berlin (UTC+1 in November) is 23:30 UTC on 31 October: outside November.
    options = ReadOptions(
        period=parse_period("2026-11"), naive_zone=parse_zone("Europe/Berlin")
    )
    report = read_nvidia_smi(path, options).report

    assert report.rows_outside_period == 2
    assert report.rows_used == 0
