"""`tokenbom schedule` through click's test runner: exit codes, output and files."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import TEMPLATES
from openpyxl import load_workbook

from tokenbom_xl.cli import main

SCENARIO = TEMPLATES / "schedule_factory.toml"
ASSETS = TEMPLATES / "assets.csv"


@pytest.fixture
def runner():
    return CliRunner()


def test_template_schedule_writes_workbook_and_table(runner, tmp_path):
    target = tmp_path / "schedule.xlsx"
    outcome = runner.invoke(
        main,
        [
            "schedule",
            str(SCENARIO),
            "--assets",
            str(ASSETS),
            "--from",
            "2026-01",
            "--months",
            "36",
            "-o",
            str(target),
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    assert (
        f"Wrote {target} (Schedule factory): 36 months from 2026-01, 7 assets"
        in outcome.output
    )
    for quarter in ("2026 Q1", "2027 Q4", "2028 Q4"):
        assert quarter in outcome.output
    assert "by cause: depreciation" in outcome.output
    assert "balance carried forward after 2028-12" in outcome.output
    assert "Schedule" in load_workbook(target).sheetnames


def test_default_output_and_months(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outcome = runner.invoke(
        main, ["schedule", str(SCENARIO), "--from", "2026-01", "-q"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output == ""
    written = tmp_path / "workbooks" / "token_bom_schedule_schedule_factory.xlsx"
    header = load_workbook(written)["Schedule"][6]
    assert [cell.value for cell in header][-1] == "2028-12"  # 36 months


def test_driver_file_replaces_scenario_path(runner, tmp_path):
    drivers = tmp_path / "drivers.csv"
    drivers.write_text("month,utilization\n2026-01,0.9\n")
    target = tmp_path / "schedule.xlsx"
    outcome = runner.invoke(
        main,
        [
            "schedule",
            str(SCENARIO),
            "--drivers",
            str(drivers),
            "--from",
            "2026-01",
            "--months",
            "3",
            "-o",
            str(target),
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    ws = load_workbook(target)["Schedule"]
    row = next(
        row
        for row in range(1, ws.max_row + 1)
        if ws[f"A{row}"].value == "Utilization U"
    )
    assert [ws.cell(row, column).value for column in (5, 6, 7)] == [0.9, 0.9, 0.9]


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (
            ["--from", "2026-1"],
            "--from '2026-1' is invalid; give the first month as YYYY-MM",
        ),
        (["--from", "2020-01"], "no accelerator is in service in 2020-01"),
        (
            ["--from", "2026-01", "--assets", "missing.csv"],
            "asset register file not found",
        ),
        (["--from", "2026-01", "--drivers", "missing.csv"], "driver file not found"),
    ],
)
def test_bad_input_exits_2(runner, tmp_path, monkeypatch, arguments, fragment):
    monkeypatch.chdir(tmp_path)
    outcome = runner.invoke(
        main, ["schedule", str(SCENARIO), "--assets", str(ASSETS), *arguments]
    )
    assert outcome.exit_code == 2
    assert fragment in outcome.stderr


def test_invalid_register_keeps_existing_workbook(runner, tmp_path):
    target = tmp_path / "schedule.xlsx"
    arguments = [
        "schedule",
        str(SCENARIO),
        "--from",
        "2026-01",
        "--months",
        "3",
        "-o",
        str(target),
    ]
    assert runner.invoke(main, [*arguments, "--assets", str(ASSETS)]).exit_code == 0
    good = target.read_bytes()
    register = tmp_path / "bad.csv"
    register.write_text(
        ASSETS.read_text().replace(
            "gpu-2023-01,accelerator,2023-01,8,", "gpu-2023-01,accelerator,2023-01,-8,"
        )
    )

    outcome = runner.invoke(main, [*arguments, "--assets", str(register)])

    assert outcome.exit_code == 2
    assert (
        f"error: {register}: row 19, column quantity: '-8' is invalid" in outcome.stderr
    )
    assert target.read_bytes() == good
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "bad.csv",
        "schedule.xlsx",
    ]


def test_months_out_of_range_is_a_usage_error(runner):
    outcome = runner.invoke(
        main, ["schedule", str(SCENARIO), "--from", "2026-01", "--months", "0"]
    )
    assert outcome.exit_code == 2
    assert "--months" in outcome.stderr


def test_months_limit_matches_engine():
    from tokenbom_xl.cli.schedule import schedule as command
    from tokenbom_xl.schedule import MAX_MONTHS

    option = next(
        parameter for parameter in command.params if parameter.name == "months"
    )
    assert option.type.max == MAX_MONTHS
