"""`tokenbom meter` option combinations: a file given twice, FORMAT: prefixes that
name no format of the option, and --period and --timezone values that datetime
cannot represent."""

from __future__ import annotations

import json
import tomllib

import pytest
from click.testing import CliRunner

from tokenbom_xl.cli import main

# 2026-11-01T00:00:00Z, inside --period 2026-11.
CREATED = 1793491200


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def usage_file(tmp_path):
    """One OpenAI chat completion with 100 output tokens."""
    record = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": CREATED,
        "model": "m1",
        "usage": {"prompt_tokens": 10, "completion_tokens": 100, "total_tokens": 110},
    }
    path = tmp_path / "usage.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def assert_no_traceback(result):
    crashed = result.exception is not None and not isinstance(
        result.exception, SystemExit
    )
    assert not crashed, f"uncaught {type(result.exception).__name__}"


def output_tokens(path):
    with path.open("rb") as file:
        metered = tomllib.load(file)
    return sum(entry["output_tokens"] for entry in metered.get("tokens", []))


@pytest.mark.parametrize("prefix", ["", "openai:"])
def test_same_serving_file_twice_not_double_counted(
    runner, tmp_path, usage_file, prefix
):
    output = tmp_path / "metered.toml"
    result = runner.invoke(
        main,
        [
            "meter",
            "--serving",
            str(usage_file),
            "--serving",
            f"{prefix}{usage_file}",
            "--period",
            "2026-11",
            "-o",
            str(output),
        ],
    )
    assert_no_traceback(result)
    if result.exit_code == 0:
        assert output_tokens(output) == 100
    else:
        assert result.exit_code == 2
        assert str(usage_file) in result.output


@pytest.mark.parametrize("period", ["0000-01", "9999-12"])
def test_period_datetime_cannot_hold_exits_2(runner, tmp_path, usage_file, period):
    result = runner.invoke(
        main,
        [
            "meter",
            "--serving",
            str(usage_file),
            "--period",
            period,
            "-o",
            str(tmp_path / "metered.toml"),
        ],
    )
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert period in result.output


@pytest.mark.parametrize("zone", ["+25:00", "+23:99"])
def test_timezone_offset_too_large_exits_2(runner, tmp_path, usage_file, zone):
    result = runner.invoke(
        main,
        [
            "meter",
            "--serving",
            str(usage_file),
            "--timezone",
            zone,
            "--period",
            "2026-11",
            "-o",
            str(tmp_path / "metered.toml"),
        ],
    )
    assert_no_traceback(result)
    assert result.exit_code == 2
    assert zone in result.output


@pytest.mark.parametrize("prefix", ["OPENAI", "vllm-metrics", "nvidia-smi"])
def test_unknown_format_prefix_names_formats(runner, tmp_path, usage_file, prefix):
    # The file exists; only the prefix is wrong (wrong case, a misspelling, or a
    # format of another option), so "file not found" misleads.
    result = runner.invoke(
        main,
        [
            "meter",
            "--serving",
            f"{prefix}:{usage_file}",
            "--period",
            "2026-11",
            "-o",
            str(tmp_path / "metered.toml"),
        ],
    )
    assert result.exit_code == 2
    assert "not found" not in result.output, result.output
    assert "openai" in result.output
