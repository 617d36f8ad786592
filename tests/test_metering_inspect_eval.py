"""Inspect evaluation logs and the good-token rule."""

from __future__ import annotations

import json
import zipfile

import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.inputs import ReadLimits
from tokenbom_xl.metering.inspect_eval import read_inspect_log
from tokenbom_xl.metering.options import GoodTokenRule, ReadOptions

POPULARITY = "eval/inspect_ai_eval_log_popularity_3samples.json"


def test_popularity_scores(realdata):
    result = read_inspect_log(str(realdata / POPULARITY), ReadOptions())

    # (sample id, epoch, match score, good) for the three samples.
    assert result.scores == [(1, 1, "C", True), (2, 1, "C", True), (3, 1, "I", False)]
    counts = result.models["gpt-4o-mini"]  # "openai/gpt-4o-mini" without its provider
    assert (counts.samples, counts.good_samples) == (2 + 1, 2)
    assert (counts.output_tokens, counts.good_output_tokens) == (
        6,
        4,
    )  # 2 output tokens per sample
    assert counts.yield_rate == pytest.approx(4 / 6)
    flags = {flag.code: flag.message for flag in result.report.flags.values()}
    assert flags["partial"] == "the eval run's status is 'cancelled', not 'success'"
    assert result.report.coverage == "2025-05-13T00:28:13Z to 2025-05-13T00:28:15Z"


def test_model_map_applies(realdata):
    options = ReadOptions(model_map={"gpt-4o-mini": "gpt-4o-mini-2024-07-18"})
    result = read_inspect_log(str(realdata / POPULARITY), options)

    assert list(result.models) == ["gpt-4o-mini-2024-07-18"]


def log(samples, status="success"):
    return {
        "version": 2,
        "status": status,
        "eval": {"model": "vllm/org/model-8b", "created": "2026-11-02T10:00:00+00:00"},
        "samples": samples,
    }


def sample(sample_id, scores, output_tokens=10, **extra):
    return {
        "id": sample_id,
        "epoch": 1,
        "scores": scores,
        "model_usage": {
            "vllm/org/model-8b": {"input_tokens": 5, "output_tokens": output_tokens}
        },
        **extra,
    }


def test_numeric_scores_and_rule(tmp_path):
    samples = [
        sample(1, {"grader": {"value": 0.9}}),
        sample(2, {"grader": {"value": 0.4}}, output_tokens=30),
        sample(3, {"grader": {"value": {"a": 1}}}),
        sample(4, {"grader": {"value": 1.0}}, error="timeout"),
        sample(1, {"grader": {"value": 0.9}}),
    ]
    path = tmp_path / "log.json"
    path.write_text(json.dumps(log(samples)), encoding="utf-8")
    result = read_inspect_log(
        str(path), ReadOptions(good_rule=GoodTokenRule(scorer="grader", min_score=0.5))
    )
    counts = result.models["org/model-8b"]

    assert (
        counts.samples,
        counts.good_samples,
        counts.output_tokens,
        counts.good_output_tokens,
    ) == (2, 1, 40, 10)
    assert counts.yield_rate == pytest.approx(0.25)
    reasons = set(result.report.rejections)
    assert reasons == {
        "score {'a': 1} is not a single value; choose the scorer with --scorer",
        "sample ended in an error (no score)",
        "duplicate sample id and epoch",
    }


def test_eval_archive(tmp_path):
    path = tmp_path / "run.eval"
    header = log([])
    del header["samples"]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", json.dumps(header))
        archive.writestr(
            "samples/1_epoch_1.json", json.dumps(sample(1, {"match": {"value": "C"}}))
        )
        archive.writestr(
            "samples/2_epoch_1.json", json.dumps(sample(2, {"match": {"value": "I"}}))
        )
    result = read_inspect_log(str(path), ReadOptions())

    assert result.models["org/model-8b"].yield_rate == 0.5


def test_eval_archive_bomb(tmp_path):
    path = tmp_path / "bomb.eval"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "header.json", json.dumps({"eval": {"model": "m"}}) + " " * 4_000_000
        )

    with pytest.raises(InputError, match="decompresses to more than 1,000,000 bytes"):
        read_inspect_log(
            str(path), ReadOptions(limits=ReadLimits(max_decompressed_bytes=1_000_000))
        )


def test_not_an_inspect_log(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"results": []}', encoding="utf-8")

    with pytest.raises(InputError, match="not an Inspect eval log"):
        read_inspect_log(str(path), ReadOptions())
