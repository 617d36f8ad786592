"""`tokenbom meter` then `tokenbom build --metered` on the real files, through the CLI runner."""

from __future__ import annotations

import json
import tomllib

import pytest
from click.testing import CliRunner
from conftest import PHYSICAL_SCENARIO, assert_close
from openpyxl import load_workbook

from tokenbom_xl.cli import main
from tokenbom_xl.metering.apply import AppliedMetering, apply_metered
from tokenbom_xl.metering.metered import load_metered
from tokenbom_xl.scenario import load_scenario
from tokenbom_xl.workbook import build_workbook

TELEMETRY = [
    "telemetry/nvidia-smi_capture_h100-80gb_load.txt",
    "telemetry/nvidia-smi_query-gpu_2gpu_wddm.csv",
    "telemetry/prom_nvidia_gpu_exporter_h100_load.metrics",
    "telemetry/dcgm-exporter_scrape_L4_kops.prom",
]
FACILITY = [
    "facility/facebook_dc_pue_wue_24h_5min.json",
    "facility/google_campus_pue_q-and-ttm_2025.tsv",
]
SERVING = [
    "tokens/vllm-v1_metrics_scrape_qwen2.5-0.5b_kops.prom",
    "tokens/tgi_chat_stream_usage_llama3.1-8b.json",
    "tokens/tgi_generate_details_bloom560m.json",
    "tokens/openai_chat_stream_include_usage_cassette.yaml",
    "tokens/openai_responses_usage_cassette.yaml",
]
EVAL = ["eval/inspect_ai_eval_log_popularity_3samples.json"]
LEDGER = ["ledger/odoo_l10n_uk_depreciation_profiles.csv"]


def meter_arguments(realdata, output, *extra):
    arguments = ["meter", "--period", "2026-11", "-o", str(output), *extra]
    for option, files in (
        ("--telemetry", TELEMETRY),
        ("--facility", FACILITY),
        ("--serving", SERVING),
        ("--eval", EVAL),
        ("--ledger", LEDGER),
    ):
        for name in files:
            arguments += [option, str(realdata / name)]
    return arguments


@pytest.fixture(scope="module")
def metered_run(realdata, tmp_path_factory):
    folder = tmp_path_factory.mktemp("metered")
    output = folder / "metered.toml"
    usage = folder / "usage.csv"
    arguments = meter_arguments(
        realdata,
        output,
        "--include-outside-period",
        "--model-map",
        "gpt-4o-mini-2024-07-18=gpt-4o-mini",
        "--usage-csv",
        str(usage),
        "--scenario",
        str(PHYSICAL_SCENARIO),
    )
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    return folder, output, usage, result.output


def test_meter_real_files(metered_run):
    _, output, usage, printed = metered_run
    data = tomllib.loads(output.read_text(encoding="utf-8"))

    assert data["period"] == "2026-11"
    assert data["utilization"]["value"] == pytest.approx(0.5)
    assert data["energy"]["full_load_power_w"] == pytest.approx(631.95)
    assert data["energy"]["idle_power_w"] == pytest.approx(69.85)
    assert data["energy"]["pue"] == pytest.approx(1.0640752688172044)
    assert data["yield_rate"] == pytest.approx(4 / 6)
    assert data["taken_from_scenario"] == ["booked costs"]
    assert len(data["sources"]) == 13
    assert "not metered, taken from the scenario: booked costs" in printed
    assert (
        usage.read_text(encoding="utf-8").splitlines()
        == [
            "period,business_unit,model,good_tokens,reserved_share",
            "2026-11,unassigned,Qwen/Qwen2.5-0.5B-Instruct,0,",
            "2026-11,unassigned,gpt-4-0613,5,",  # no metered yield: 5 x 0.9 from the scenario, rounded
            "2026-11,unassigned,gpt-4o-mini,4,",  # 6 x 4/6
            "2026-11,unassigned,meta-llama/Llama-3.1-8B-Instruct,3,",
            "2026-11,unassigned,unknown,9,",
        ]
    )


def test_meter_without_outside_period(realdata, tmp_path):
    output = tmp_path / "metered.toml"
    result = CliRunner().invoke(main, meter_arguments(realdata, output))
    assert result.exit_code == 0, result.output
    data = tomllib.loads(output.read_text(encoding="utf-8"))

    # Every timestamped record of the real files falls outside November 2026.
    sources = {source["file"].rsplit("/", 1)[1]: source for source in data["sources"]}
    assert sources["facebook_dc_pue_wue_24h_5min.json"]["rows_outside_period"] == 186
    assert sources["nvidia-smi_capture_h100-80gb_load.txt"]["rows_outside_period"] == 2
    # Only the untimed scrapes remain: an idle L4 and a loaded H100, as point readings.
    assert data["utilization"]["timed"] is False
    assert data["utilization"]["value"] == 0.5
    assert (
        "full_load_power_w" not in data["energy"]
    )  # two boards, one reading each: no fit
    assert data["taken_from_scenario"] == ["PUE", "yield", "booked costs"]


@pytest.mark.libreoffice
def test_build_with_metered_real_files(metered_run, recalc):
    folder, output, _, _ = metered_run
    workbook_path = folder / "metered.xlsx"
    result = CliRunner().invoke(
        main,
        [
            "build",
            str(PHYSICAL_SCENARIO),
            "--metered",
            str(output),
            "-o",
            str(workbook_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "metered: utilization 0.5 metered" in result.output

    recalculated = recalc(workbook_path)
    assert recalculated.named("checks_all_pass") is True
    assert recalculated.errors() == []

    # Every formula cell equals the engine's value for it.
    metered = load_metered(output)
    scenario, notes = apply_metered(load_scenario(PHYSICAL_SCENARIO), metered)
    built = build_workbook(scenario, metering=AppliedMetering(metered, notes))
    for expectation in built.expectations:
        actual = recalculated.value(expectation.sheet, expectation.coordinate)
        where = f"{expectation.sheet}!{expectation.coordinate}"
        if isinstance(expectation.value, (bool, str)):
            assert actual == expectation.value, where
        else:
            assert_close(actual, expectation.value, where=where)

    # The Metering sheet lists each file with its rows and flags.
    sheet = load_workbook(workbook_path)["Metering"]
    rows = {
        row[2].value: row
        for row in sheet.iter_rows()
        if isinstance(row[2].value, str) and row[2].value.startswith("/")
    }
    for source in metered.sources:
        row = rows[source.file]
        assert row[5].value == source.rows_read, source.file
        assert row[8].value == source.rows_rejected, source.file
        for flag in source.flags:
            assert flag.code in row[11].value, source.file
    assert rows[metered.sources[0].file][11].value.startswith("no_timezone:")


@pytest.mark.libreoffice
def test_names_from_files_stay_text(tmp_path, recalc):
    usage = tmp_path / "usage.jsonl"
    records = [
        {
            "id": "1",
            "created": 1793700000,
            "model": "+cmd|'/C calc'!A0",
            "team": '=HYPERLINK("http://x","y")',
            "usage": {"prompt_tokens": 1, "completion_tokens": 4},
        },
    ]
    usage.write_text(
        "".join(json.dumps(record) + "\n" for record in records), encoding="utf-8"
    )
    output = tmp_path / "metered.toml"
    workbook_path = tmp_path / "book.xlsx"
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "meter",
            "--period",
            "2026-11",
            "--serving",
            str(usage),
            "--consumer-field",
            "team",
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main,
        [
            "build",
            str(PHYSICAL_SCENARIO),
            "--metered",
            str(output),
            "-o",
            str(workbook_path),
        ],
    )
    assert result.exit_code == 0, result.output

    sheet = load_workbook(workbook_path)["Metering"]
    cells = {
        cell.value: cell
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    }
    assert cells['=HYPERLINK("http://x","y")'].data_type == "s"
    assert cells["+cmd|'/C calc'!A0"].data_type == "s"
    assert recalc(workbook_path).named("checks_all_pass") is True


def test_build_rejects_bad_metered_file(tmp_path):
    bad = tmp_path / "metered.toml"
    bad.write_text(
        'period = "2026-11"\n[utilization]\nvalue = "high"\n', encoding="utf-8"
    )
    target = tmp_path / "book.xlsx"
    result = CliRunner().invoke(
        main,
        ["build", str(PHYSICAL_SCENARIO), "--metered", str(bad), "-o", str(target)],
    )

    assert result.exit_code == 2
    assert "metered.toml: utilization.value" in result.output
    assert not target.exists()


def test_meter_requires_period(tmp_path):
    result = CliRunner().invoke(main, ["meter", "-o", str(tmp_path / "m.toml")])

    assert result.exit_code == 2
    assert "Missing option '--period'" in result.output


def test_meter_bad_period(tmp_path):
    result = CliRunner().invoke(
        main, ["meter", "--period", "November", "-o", str(tmp_path / "m.toml")]
    )

    assert result.exit_code == 2
    assert (
        "period 'November' is invalid; give a year and month such as 2026-11"
        in result.output
    )


def test_usage_csv_needs_yield(realdata, tmp_path):
    output = tmp_path / "metered.toml"
    arguments = [
        "meter",
        "--period",
        "2026-11",
        "--include-outside-period",
        "--serving",
        str(realdata / SERVING[1]),
        "-o",
        str(output),
        "--usage-csv",
        str(tmp_path / "u.csv"),
    ]
    result = CliRunner().invoke(main, arguments)

    assert result.exit_code == 2
    assert "has no metered yield" in result.output
    assert not output.exists()


def test_format_prefix_overrides_detection(realdata, tmp_path):
    output = tmp_path / "metered.toml"
    path = realdata / "facility/google_campus_pue_q-and-ttm_2025.tsv"
    result = CliRunner().invoke(
        main,
        [
            "meter",
            "--period",
            "2026-11",
            "--facility",
            f"pue-table:{path}",
            "--site",
            "The Dalles, Oregon (2nd facility)",
            "-o",
            str(output),
        ],
    )

    assert result.exit_code == 0, result.output
    assert tomllib.loads(output.read_text(encoding="utf-8"))["energy"]["pue"] == 1.07
