"""Large serving logs aggregated by DuckDB: Parquet, JSON Lines and CSV."""

from __future__ import annotations

import gzip
import json
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.inputs import ReadLimits
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.serving_log import aggregate_serving_log, read_serving_log
from tokenbom_xl.metering.times import parse_period

NOVEMBER = ReadOptions(period=parse_period("2026-11"))


def totals(counts):
    return {
        key: (t.output_tokens, t.input_tokens, t.requests)
        for key, t in counts.totals.items()
    }


def test_parquet_by_period(tmp_path):
    path = tmp_path / "log.parquet"
    table = pa.table(
        {
            "timestamp": [
                datetime(2026, 10, 31, 23, 59),
                datetime(2026, 11, 1),
                datetime(2026, 11, 2),
                datetime(2026, 11, 3),
            ],
            "business_unit": ["ads", "ads", "search", None],
            "model": ["m8", "m8", "m70", "m70"],
            "output_tokens": [1, 10, 20, 30],
            "input_tokens": [1, 2, 3, 4],
        }
    )
    pq.write_table(table, path)
    aggregated = aggregate_serving_log(str(path), ReadOptions())

    assert set(aggregated.by_period) == {"2026-10", "2026-11"}
    assert totals(aggregated.by_period["2026-11"]) == {
        ("ads", "m8"): (10, 2, 1),
        ("search", "m70"): (20, 3, 1),
        ("unassigned", "m70"): (30, 4, 1),
    }
    result = read_serving_log(str(path), NOVEMBER)
    assert result.report.rows_outside_period == 1
    assert result.counts.output_tokens == 60


def test_outside_period_counts_agree_with_flag(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "timestamp,model,output_tokens\n"
        "2026-11-02T00:00:00Z,m,5\n"
        "2026-10-02T00:00:00Z,m,7\n"
        "2026-10-03T00:00:00Z,m,7\n"
        "2026-09-03T00:00:00Z,m,7\n",
        encoding="utf-8",
    )
    left_out = read_serving_log(str(path), NOVEMBER).report
    included = read_serving_log(
        str(path), ReadOptions(period=NOVEMBER.period, include_outside_period=True)
    )

    # Three outside rows in two periods form two groups, but the flag counts rows.
    assert left_out.rows_outside_period == 3
    assert left_out.flags["outside_period"].count == 3
    assert included.report.rows_used == 4
    assert included.report.rows_outside_period == 0
    assert included.report.rows_used_outside_period == 3
    assert included.report.flags["outside_period"].count == 3
    assert "were counted" in included.report.flags["outside_period"].message
    assert included.counts.output_tokens == 26


def test_jsonl_rejections_name_lines(tmp_path):
    records = [
        {
            "timestamp": "2026-11-03T10:00:00Z",
            "business_unit": "ads",
            "model": "m",
            "completion_tokens": 5,
        },
        {
            "timestamp": "not a time",
            "business_unit": "ads",
            "model": "m",
            "completion_tokens": 5,
        },
        {
            "timestamp": 1793700000000,
            "business_unit": "ads",
            "model": "",
            "completion_tokens": 5,
        },
        {
            "timestamp": 1793700000,
            "business_unit": "ads",
            "model": "m",
            "completion_tokens": -1,
        },
        {
            "timestamp": 1793700000,
            "business_unit": "ads",
            "model": "m",
            "completion_tokens": 2.5,
        },
    ]
    path = tmp_path / "log.jsonl"
    path.write_text(
        "".join(json.dumps(record) + "\n" for record in records), encoding="utf-8"
    )
    result = read_serving_log(str(path), NOVEMBER)
    report = result.report

    assert totals(result.counts) == {("ads", "m"): (5, 0, 1)}
    assert report.rejections["unreadable or missing timestamp"].lines == [2]
    assert report.rejections["blank model"].lines == [3]
    assert report.rejections[
        "output tokens missing, negative, above 2^53 or not a whole number"
    ].lines == [4, 5]
    assert report.rows_read == 5


def test_gzip_csv_and_bomb(tmp_path):
    path = tmp_path / "log.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(
            "time,business_unit,model,output_tokens\n2026-11-05 12:00:00,ads,m,7\n"
        )
    assert totals(read_serving_log(str(path), NOVEMBER).counts) == {
        ("ads", "m"): (7, 0, 1)
    }

    bomb = tmp_path / "bomb.csv.gz"
    with gzip.open(bomb, "wb") as handle:
        handle.write(b"time,business_unit,model,output_tokens\n")
        for _ in range(64):
            handle.write(b"0" * (1 << 20))
    limits = ReadLimits(max_decompressed_bytes=8 << 20)
    with pytest.raises(
        InputError, match=r"bomb.csv.gz: decompresses to more than 8,388,608 bytes"
    ):
        read_serving_log(str(bomb), ReadOptions(limits=limits))


def test_missing_columns(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("when,who,tokens\n2026-11-01,ads,5\n", encoding="utf-8")

    with pytest.raises(
        InputError,
        match=r"log.csv: no timestamp, model, output_tokens column \(found when, who, tokens\)",
    ):
        read_serving_log(str(path), NOVEMBER)


def test_progress_silent_without_terminal(tmp_path, capsys):
    path = tmp_path / "log.csv"
    path.write_text(
        "time,model,output_tokens\n2026-11-01 00:00:00,m,5\n", encoding="utf-8"
    )
    read_serving_log(
        str(path), ReadOptions(period=parse_period("2026-11"), progress=True)
    )

    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""


def test_csv_log_reports_time_coverage(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "timestamp,business_unit,model,output_tokens\n"
        "2026-10-31T23:00:00Z,ads,m8,5\n"
        "2026-11-02T10:00:00Z,ads,m8,100\n"
        "2026-11-20T10:00:00Z,search,m8,50\n",
        encoding="utf-8",
    )

    result = read_serving_log(str(path), NOVEMBER)

    # The October record is outside the period and does not widen the coverage.
    assert result.report.coverage == "2026-11-02T10:00:00Z to 2026-11-20T10:00:00Z"


def test_rejected_records_leave_coverage_alone(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "timestamp,business_unit,model,output_tokens\n"
        "2026-11-01T10:00:00Z,ads,,100\n"
        "2026-11-02T10:00:00Z,ads,m8,-5\n"
        "2026-11-10T10:00:00Z,ads,m8,100\n"
        "2026-11-20T10:00:00Z,ads, ,100\n",
        encoding="utf-8",
    )

    result = read_serving_log(str(path), NOVEMBER)

    assert result.report.rows_used == 1
    assert result.report.rows_rejected == 3
    # Only the one valid record counts towards the time coverage.
    assert result.report.coverage == "2026-11-10T10:00:00Z to 2026-11-10T10:00:00Z"
