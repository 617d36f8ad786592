"""Accelerator metrics in Prometheus exposition (DCGM, nvidia_gpu_exporter) and query_range JSON."""

from __future__ import annotations

import json
import math

import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.gpu_exposition import read_gpu_exposition
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.query_range import read_query_range
from tokenbom_xl.metering.telemetry import summarize_telemetry

L4 = "c2f76b33-7953-256e-8f33-1343419b1a1c"


def test_dcgm_scrape_values(realdata):
    result = read_gpu_exposition(
        str(realdata / "telemetry/dcgm-exporter_scrape_L4_kops.prom"), ReadOptions()
    )
    reading = result.readings[L4][0]

    assert reading.utilization == 0.0  # DCGM_FI_DEV_GPU_UTIL 0
    assert reading.power_w == 16.365  # DCGM_FI_DEV_POWER_USAGE 16.365000
    assert (
        reading.energy_mj == 4742776.0
    )  # DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, mJ since boot
    assert reading.time is None
    assert reading.line == 15  # the first of the three metric lines, POWER_USAGE
    assert result.gpus[0].host == "i-030791dc5a37cd257"
    assert result.report.rows_read == 3
    assert result.report.notes == ["20 samples of other metrics skipped"]
    assert "no_timestamps" in {flag.code for flag in result.report.flags.values()}


def test_nvidia_gpu_exporter_values(realdata):
    result = read_gpu_exposition(
        str(realdata / "telemetry/prom_nvidia_gpu_exporter_h100_load.metrics"),
        ReadOptions(),
    )
    reading = result.readings["00000000-0000-0000-0000-000000000000"][0]

    assert reading.utilization == 1.0  # nvidia_smi_utilization_gpu_ratio 1
    assert reading.power_w == 631.95  # nvidia_smi_power_draw_watts 631.95
    assert math.isnan(reading.energy_mj)
    assert result.report.rows_read == 2


DCGM_LINE = 'DCGM_FI_DEV_{metric}{{gpu="{gpu}",UUID="GPU-{gpu}",Hostname="node-1"}} {value} {ms}\n'


def dcgm(tmp_path, rows):
    text = "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n" + "".join(
        DCGM_LINE.format(metric=metric, gpu=gpu, value=value, ms=ms)
        for metric, gpu, value, ms in rows
    )
    path = tmp_path / "dcgm.prom"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_energy_counter_reset(tmp_path):
    # 60 J, then a driver reload resets the counter to 5 J, then 20 J more.
    rows = [
        ("TOTAL_ENERGY_CONSUMPTION", "a", 1_000_000, 1_790_000_000_000),
        ("TOTAL_ENERGY_CONSUMPTION", "a", 1_060_000, 1_790_000_030_000),
        ("TOTAL_ENERGY_CONSUMPTION", "a", 5_000, 1_790_000_060_000),
        ("TOTAL_ENERGY_CONSUMPTION", "a", 25_000, 1_790_000_090_000),
    ]
    result = read_gpu_exposition(dcgm(tmp_path, rows), ReadOptions())
    figures = result.gpus[0]

    assert figures.energy_joules == pytest.approx(85.0)  # 60 + 5 + 20
    assert figures.energy_seconds == pytest.approx(90.0)
    resets = [
        flag for flag in result.report.flags.values() if flag.code == "counter_reset"
    ]
    assert len(resets) == 1
    assert resets[0].line == 4  # the line with 5000


def test_sentinel_and_missing_gpu(tmp_path):
    rows = [
        ("GPU_UTIL", "a", 50, 1_790_000_000_000),
        ("GPU_UTIL", "b", 4294967295, 1_790_000_000_000),
        ("GPU_UTIL", "a", 50, 1_790_000_030_000),
        ("GPU_UTIL", "b", 100, 1_790_000_030_000),
        ("GPU_UTIL", "a", 50, 1_790_000_060_000),
    ]
    result = read_gpu_exposition(dcgm(tmp_path, rows), ReadOptions())
    codes = [flag.code for flag in result.report.flags.values()]

    assert "sentinel" in codes
    assert "missing_gpu" in codes
    assert result.report.rejections[
        "no usable utilization, power or energy reading"
    ].lines == [3]


def test_invalid_exposition_names_line(tmp_path):
    path = tmp_path / "bad.prom"
    path.write_text('# TYPE x gauge\nx{gpu="0} 1\n', encoding="utf-8")

    with pytest.raises(
        InputError, match=r"bad.prom: line 2: not valid Prometheus text exposition"
    ):
        read_gpu_exposition(str(path), ReadOptions())


def query_range_file(tmp_path, series):
    path = tmp_path / "range.json"
    path.write_text(
        json.dumps(
            {"status": "success", "data": {"resultType": "matrix", "result": series}}
        ),
        encoding="utf-8",
    )
    return str(path)


def test_query_range_gaps_and_nan(tmp_path):
    start = 1_790_000_000
    values = [[start + 15 * i, "100"] for i in range(4)] + [
        [start + 15 * 20, "0"],
        [start + 15 * 21, "NaN"],
    ]
    series = [
        {
            "metric": {
                "__name__": "DCGM_FI_DEV_GPU_UTIL",
                "UUID": "GPU-a",
                "Hostname": "n1",
            },
            "values": values,
        }
    ]
    result = read_query_range(query_range_file(tmp_path, series), ReadOptions())
    summary = summarize_telemetry([result])

    # Four busy samples of 15 s, then one idle sample of 15 s after a 4 min 15 s gap.
    assert summary.busy_seconds == pytest.approx(60.0)
    assert summary.utilization_seconds == pytest.approx(75.0)
    assert result.report.rejections["series 1: value NaN"].count == 1
    assert "gap" in {flag.code for flag in result.report.flags.values()}


def test_query_range_expression_without_name(tmp_path):
    series = [{"metric": {"UUID": "GPU-a"}, "values": [[1_790_000_000, "1"]]}]
    report = read_query_range(query_range_file(tmp_path, series), ReadOptions()).report

    assert report.rows_rejected == 1
    assert "no __name__ label" in next(iter(report.rejections))


def test_query_range_error_status(tmp_path):
    path = tmp_path / "error.json"
    path.write_text(
        json.dumps(
            {"status": "error", "error": "bad query", "data": {"resultType": "matrix"}}
        ),
        encoding="utf-8",
    )

    with pytest.raises(InputError, match="status 'error': bad query"):
        read_query_range(str(path), ReadOptions())
