"""The bridge: format detection, the FORMAT: prefix, and combining sources."""

from __future__ import annotations

import json

import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.bridge import MeterInputs, _detect_format, meter, split_format
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.times import parse_period

NOVEMBER = ReadOptions(period=parse_period("2026-11"))


# Columns: kind, real file, detected format.
REAL_FORMATS = [
    ("telemetry", "telemetry/nvidia-smi_capture_h100-80gb_load.txt", "nvidia-smi"),
    ("telemetry", "telemetry/nvidia-smi_query-gpu_2gpu_wddm.csv", "nvidia-smi"),
    ("telemetry", "telemetry/prom_nvidia_gpu_exporter_h100_load.metrics", "prometheus"),
    ("telemetry", "telemetry/dcgm-exporter_scrape_L4_kops.prom", "prometheus"),
    ("facility", "facility/facebook_dc_pue_wue_24h_5min.json", "facility-series"),
    ("facility", "facility/google_campus_pue_q-and-ttm_2025.tsv", "pue-table"),
    ("serving", "tokens/vllm-v1_metrics_scrape_qwen2.5-0.5b_kops.prom", "vllm"),
    ("serving", "tokens/tgi_chat_stream_usage_llama3.1-8b.json", "openai"),
    ("serving", "tokens/tgi_generate_details_bloom560m.json", "openai"),
    ("serving", "tokens/openai_chat_stream_include_usage_cassette.yaml", "openai"),
    ("serving", "tokens/openai_responses_usage_cassette.yaml", "openai"),
    ("eval", "eval/inspect_ai_eval_log_popularity_3samples.json", "inspect"),
    ("ledger", "ledger/odoo_l10n_uk_depreciation_profiles.csv", "gl"),
]


@pytest.mark.parametrize(("kind", "name", "expected"), REAL_FORMATS)
def test_detects_real_formats(realdata, kind, name, expected):
    assert _detect_format(kind, str(realdata / name), NOVEMBER) == expected


def test_detects_written_formats(tmp_path):
    query_range = tmp_path / "util.json"
    query_range.write_text(
        json.dumps(
            {"status": "success", "data": {"resultType": "matrix", "result": []}}
        ),
        encoding="utf-8",
    )
    otlp = tmp_path / "spans.json"
    otlp.write_text(json.dumps({"resourceSpans": []}), encoding="utf-8")
    log = tmp_path / "log.csv"
    log.write_text("timestamp,model,output_tokens\n", encoding="utf-8")

    assert _detect_format("telemetry", str(query_range), NOVEMBER) == "query-range"
    assert _detect_format("serving", str(otlp), NOVEMBER) == "otlp"
    assert _detect_format("serving", str(log), NOVEMBER) == "serving-log"


def test_unknown_telemetry_format(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello world\n", encoding="utf-8")

    with pytest.raises(
        InputError,
        match=r"notes.txt: not a recognised telemetry format; name it with a prefix",
    ):
        _detect_format("telemetry", str(path), NOVEMBER)


def test_split_format():
    assert split_format("facility", "pue-table:a.tsv") == ("pue-table", "a.tsv")
    assert split_format("facility", "C:/data/pue.csv") == (None, "C:/data/pue.csv")
    assert split_format("serving", "vllm:scrape.prom") == ("vllm", "scrape.prom")
    assert split_format("serving", "usage.jsonl") == (None, "usage.jsonl")
    assert split_format("serving", "logs/2026-11-01T00:00.jsonl") == (
        None,
        "logs/2026-11-01T00:00.jsonl",
    )


@pytest.mark.parametrize(
    ("kind", "argument", "message"),
    [
        ("serving", "OPENAI:u.jsonl", "did you mean openai"),
        ("serving", "gl:u.jsonl", "gl is a format of --ledger, not of --serving"),
        ("facility", "pue:a.tsv", "use one of facility-series, pue-table"),
    ],
)
def test_split_format_rejects_invalid_prefix(kind, argument, message):
    with pytest.raises(InputError, match=message):
        split_format(kind, argument)


def test_meter_rejects_repeated_file_before_reading(tmp_path):
    usage = tmp_path / "usage.jsonl"
    usage.write_text("not read\n", encoding="utf-8")

    with pytest.raises(InputError, match="is the same file as --serving"):
        meter(MeterInputs(serving=[str(usage), f"openai:{usage}"]), NOVEMBER)


def test_nothing_given_all_from_scenario():
    metered = meter(MeterInputs(), NOVEMBER)

    assert metered.sources == []
    assert metered.taken_from_scenario == [
        "utilization",
        "accelerator power",
        "PUE",
        "tokens",
        "yield",
        "booked costs",
    ]


def test_tokens_split_by_model_yield(tmp_path):
    usage = tmp_path / "usage.jsonl"
    records = [
        {
            "id": "1",
            "created": 1793700000,
            "model": "m",
            "usage": {"prompt_tokens": 1, "completion_tokens": 100},
        },
        {
            "id": "2",
            "created": 1793700000,
            "model": "other",
            "usage": {"prompt_tokens": 1, "completion_tokens": 50},
        },
    ]
    usage.write_text(
        "".join(json.dumps(record) + "\n" for record in records), encoding="utf-8"
    )
    log = tmp_path / "eval.json"
    samples = [
        {
            "id": i,
            "epoch": 1,
            "scores": {"s": {"value": "C" if i < 3 else "I"}},
            "model_usage": {"p/m": {"output_tokens": 10}},
        }
        for i in range(4)
    ]
    log.write_text(
        json.dumps({"status": "success", "eval": {"model": "p/m"}, "samples": samples}),
        encoding="utf-8",
    )
    metered = meter(
        MeterInputs(serving=[str(usage)], eval=[str(log)]),
        ReadOptions(period=parse_period("2026-11"), include_outside_period=True),
    )
    by_model = {entry.model: entry for entry in metered.tokens}

    assert by_model["m"].good_tokens == 75  # 100 x 3/4
    assert by_model["m"].scrapped_tokens == 25
    assert by_model["other"].good_tokens is None
    assert (
        metered.yield_rate == 0.75
    )  # only the evaluated model's served tokens weigh in


def test_timed_pue_series_wins_over_untimed(tmp_path):
    timed = tmp_path / "timed.csv"
    timed.write_text(
        "timestamp,pue\n"
        "2026-11-01T00:00:00Z,1.1\n"
        "2026-11-01T00:01:00Z,1.1\n"
        "2026-11-01T00:02:00Z,1.1\n",
        encoding="utf-8",
    )
    # Untimed readings weigh one each, so 1,000 of them would outweigh the three
    # minutes of the timed series if the two weights were mixed.
    untimed = tmp_path / "untimed.csv"
    untimed.write_text("pue\n" + "1.5\n" * 1000, encoding="utf-8")

    metered = meter(MeterInputs(facility=[str(timed), str(untimed)]), NOVEMBER)
    flags = {
        source.file: [flag.code for flag in source.flags] for source in metered.sources
    }

    assert metered.energy is not None
    assert metered.energy.pue == pytest.approx(1.1)
    assert metered.energy.pue_sources == [str(timed)]
    assert "not_selected" in flags[str(untimed)]
    assert "not_selected" not in flags[str(timed)]
