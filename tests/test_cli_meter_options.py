"""`tokenbom meter` option combinations: a file given twice, FORMAT: prefixes that
name no format of the option, and --period and --timezone values that datetime
cannot represent."""

from __future__ import annotations

import json
import tomllib

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from tokenbom_xl.cli import main
from tokenbom_xl.resources import template_path

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


def invoke_meter(runner, tmp_path, *arguments):
    return runner.invoke(
        main,
        [
            "meter",
            *arguments,
            "--period",
            "2026-11",
            "-o",
            str(tmp_path / "metered.toml"),
        ],
    )


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_same_serving_file_through_link_rejected(runner, tmp_path, usage_file, link):
    other = tmp_path / "other.jsonl"
    if link == "symlink":
        other.symlink_to(usage_file)
    else:
        other.hardlink_to(usage_file)

    result = invoke_meter(
        runner, tmp_path, "--serving", str(usage_file), "--serving", str(other)
    )

    assert_no_traceback(result)
    assert result.exit_code == 2
    assert f"--serving {other} is the same file as --serving {usage_file}" in (
        result.output
    )
    assert "counted twice" in result.output
    assert not (tmp_path / "metered.toml").exists()


@pytest.mark.parametrize("option", ["--telemetry", "--facility", "--eval", "--ledger"])
def test_same_file_twice_rejected_for_every_option(runner, tmp_path, option):
    # The repeat is found before any file is read, so the content does not matter.
    path = tmp_path / "source.txt"
    path.write_text("x\n", encoding="utf-8")

    respelled = f"{tmp_path}/./source.txt"

    result = invoke_meter(runner, tmp_path, option, str(path), option, respelled)

    assert_no_traceback(result)
    assert result.exit_code == 2
    assert f"{option} {respelled} is the same file as {option} {path}" in result.output


def test_one_scrape_for_telemetry_and_serving(runner, tmp_path):
    # A federated Prometheus scrape may carry both DCGM and vLLM metrics; each
    # option reads its own metrics from it, so nothing is counted twice.
    scrape = tmp_path / "federate.prom"
    scrape.write_text(
        'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-1"} 40\n'
        'DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-1"} 210.5\n'
        'vllm:generation_tokens_total{model_name="m1",engine="0"} 5000\n'
        'vllm:prompt_tokens_total{model_name="m1",engine="0"} 700\n',
        encoding="utf-8",
    )
    output = tmp_path / "metered.toml"

    result = invoke_meter(
        runner, tmp_path, "--telemetry", str(scrape), "--serving", f"vllm:{scrape}"
    )

    assert result.exit_code == 0, result.output
    assert output_tokens(output) == 5000
    with output.open("rb") as file:
        metered = tomllib.load(file)
    assert metered["energy"]["mean_power_w"] == 210.5
    assert [source["kind"] for source in metered["sources"]] == [
        "telemetry",
        "serving",
    ]


@pytest.mark.parametrize(
    ("option", "prefix", "expected"),
    [
        ("--serving", "OPENAI", "did you mean openai?"),
        ("--serving", "nvidia-smi", "nvidia-smi is a format of --telemetry"),
        ("--telemetry", "vllm", "vllm is a format of --serving, not of --telemetry"),
        ("--eval", "inspect-ai", "use one of inspect,"),
    ],
)
def test_invalid_prefix_message(runner, tmp_path, usage_file, option, prefix, expected):
    result = invoke_meter(runner, tmp_path, option, f"{prefix}:{usage_file}")

    assert_no_traceback(result)
    assert result.exit_code == 2
    assert f"{option} {prefix}:{usage_file}" in result.output
    assert expected in result.output
    assert "not found" not in result.output


def test_prefix_without_path_rejected(runner, tmp_path):
    result = invoke_meter(runner, tmp_path, "--serving", "openai:")

    assert result.exit_code == 2
    assert "the path after openai: is missing" in result.output


def test_file_name_with_colon_read_as_path(runner, tmp_path, usage_file, monkeypatch):
    # An existing file whose name starts like a prefix is a path, not a format.
    monkeypatch.chdir(tmp_path)
    named = tmp_path / "team-a:usage.jsonl"
    named.write_bytes(usage_file.read_bytes())

    result = invoke_meter(runner, tmp_path, "--serving", "team-a:usage.jsonl")

    assert result.exit_code == 0, result.output
    assert output_tokens(tmp_path / "metered.toml") == 100


def test_conflicting_model_maps_rejected(runner, tmp_path, usage_file):
    result = invoke_meter(
        runner,
        tmp_path,
        "--serving",
        str(usage_file),
        "--model-map",
        "m1=a",
        "--model-map",
        "m1=b",
    )

    assert_no_traceback(result)
    assert result.exit_code == 2
    assert "--model-map 'm1=a' and --model-map 'm1=b'" in result.output
    assert not (tmp_path / "metered.toml").exists()


def test_repeated_model_map_accepted(runner, tmp_path, usage_file):
    output = tmp_path / "metered.toml"

    result = invoke_meter(
        runner,
        tmp_path,
        "--serving",
        str(usage_file),
        "--model-map",
        "m1=renamed",
        "--model-map",
        " m1 = renamed ",
    )

    assert result.exit_code == 0, result.output
    with output.open("rb") as file:
        metered = tomllib.load(file)
    assert [entry["model"] for entry in metered["tokens"]] == ["renamed"]


def test_include_outside_period_counts_agree(runner, tmp_path):
    # Two records in November, two in October.
    path = tmp_path / "mixed.jsonl"
    records = [
        {
            "id": f"chatcmpl-{index}",
            "object": "chat.completion",
            "created": created,
            "model": "m1",
            "usage": {"prompt_tokens": 1, "completion_tokens": 10},
        }
        for index, created in enumerate(
            [CREATED, CREATED - 86400, CREATED - 2 * 86400, CREATED + 60]
        )
    ]
    path.write_text(
        "".join(json.dumps(record) + "\n" for record in records), encoding="utf-8"
    )
    output = tmp_path / "metered.toml"

    result = invoke_meter(
        runner, tmp_path, "--serving", str(path), "--include-outside-period"
    )

    assert result.exit_code == 0, result.output
    assert "4 used (2 of them outside the period" in result.output
    assert "0 outside the period" not in result.output
    assert "were counted (--include-outside-period) (x 2)" in result.output
    with output.open("rb") as file:
        source = tomllib.load(file)["sources"][0]
    assert source["rows_used"] == 4
    assert source["rows_outside_period"] == 0
    assert source["rows_used_outside_period"] == 2
    flags = {flag["code"]: flag for flag in source["flags"]}
    assert flags["outside_period"]["count"] == 2
    assert output_tokens(output) == 40


def test_build_notes_metered_period_mismatch(runner, tmp_path, usage_file):
    metered = tmp_path / "metered.toml"
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "period,business_unit,model,good_tokens,reserved_share\n2026-10,ads,m1,1000,\n",
        encoding="utf-8",
    )
    workbook = tmp_path / "book.xlsx"
    assert invoke_meter(runner, tmp_path, "--serving", str(usage_file)).exit_code == 0

    result = runner.invoke(
        main,
        [
            "build",
            str(template_path("reference_factory.toml")),
            "--metered",
            str(metered),
            "--usage",
            str(usage),
            "-o",
            str(workbook),
        ],
    )

    assert result.exit_code == 0, result.output
    assert (
        "metered: the metered period 2026-11 is not among the --usage periods "
        "(2026-10)" in result.output
    )
    sheet = load_workbook(workbook, read_only=True)["Metering"]
    texts = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert any(
        isinstance(text, str) and "not among the --usage periods" in text
        for text in texts
    )
