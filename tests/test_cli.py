"""The command line through click's test runner: exit codes, output and files."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from conftest import REFERENCE_SCENARIO
from openpyxl import load_workbook

from tokenbom_xl import __version__
from tokenbom_xl.cli import main


@pytest.fixture
def runner():
    return CliRunner()


def test_build_without_arguments_writes_reference_workbook(
    runner, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    outcome = runner.invoke(main, ["build"])
    assert outcome.exit_code == 0, outcome.output
    assert (tmp_path / "workbooks" / "token_bom_reference.xlsx").is_file()
    assert "floor $3.4484/M" in outcome.output
    assert "cost per good token $6.2539/M at U = 0.6, Y = 0.9" in outcome.output
    assert "crossover utilization 0.7567 at $5/M" in outcome.output


def test_build_scenario_to_named_output(runner, tmp_path):
    target = tmp_path / "out" / "bom.xlsx"
    outcome = runner.invoke(
        main, ["build", str(REFERENCE_SCENARIO), "-o", str(target), "--quiet"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output == ""
    assert load_workbook(target).sheetnames[0] == "Cover"


def test_build_reports_never_crossover(runner, tmp_path):
    scenario = tmp_path / "cheap_api.toml"
    text = REFERENCE_SCENARIO.read_text().replace(
        "api_price_per_million = 5.0", "api_price_per_million = 0.5"
    )
    scenario.write_text(text)
    outcome = runner.invoke(
        main, ["build", str(scenario), "-o", str(tmp_path / "x.xlsx")]
    )
    assert outcome.exit_code == 0, outcome.output
    assert "crossover utilization never at $0.5/M" in outcome.output


def test_version_option(runner):
    outcome = runner.invoke(main, ["--version"])
    assert __version__ in outcome.output


# Bad scenarios: each exits 2 with one message naming the file, the field and the
# allowed range, and writes no workbook.
# columns: case id, text replaced in the reference scenario, replacement, expected fragments
BAD_SCENARIOS = [
    ("missing field", "fte = 0.4 ", "", ["missing field operations.fte", ">= 0"]),
    (
        "negative price",
        "unit_price = 30000",
        "unit_price = -30000",
        ["silicon.unit_price = -30000", "> 0"],
    ),
    (
        "utilization zero",
        "utilization = 0.6",
        "utilization = 0",
        ["utilization = 0 ", "> 0 and <= 1"],
    ),
    (
        "utilization 1.5",
        "utilization = 0.6",
        "utilization = 1.5",
        ["utilization = 1.5", "> 0 and <= 1"],
    ),
    (
        "yield zero",
        "yield_rate = 0.9",
        "yield_rate = 0",
        ["yield_rate = 0 ", "> 0 and <= 1"],
    ),
    (
        "life zero",
        "life_months = 48",
        "life_months = 0",
        ["silicon.life_months = 0", "whole number > 0"],
    ),
    (
        "string for number",
        "unit_price = 30000",
        'unit_price = "30000"',
        ["silicon.unit_price = '30000'", "a number > 0"],
    ),
    (
        "malformed toml",
        "unit_price = 30000",
        "unit_price = 30000 =",
        ["not valid TOML", "line 24"],
    ),
    (
        "unknown field",
        "age_months = 0",
        'age_months = 0\ncolour = "red"',
        ["unknown field silicon.colour"],
    ),
    (
        "unknown basis",
        'basis = "fixed"',
        'basis = "leased"',
        ["facility.basis = 'leased'", "'per-rack'"],
    ),
    (
        "fractional count",
        "accelerators = 8 ",
        "accelerators = 8.5 ",
        ["accelerators = 8.5", "whole number"],
    ),
]


@pytest.mark.parametrize(
    "old, new, fragments",
    [case[1:] for case in BAD_SCENARIOS],
    ids=[case[0] for case in BAD_SCENARIOS],
)
def test_bad_scenario_exits_2(tmp_path, old, new, fragments):
    source = REFERENCE_SCENARIO.read_text()
    assert old in source
    scenario = tmp_path / "bad.toml"
    scenario.write_text(source.replace(old, new, 1))
    target = tmp_path / "out.xlsx"

    outcome = CliRunner().invoke(main, ["build", str(scenario), "-o", str(target)])

    assert outcome.exit_code == 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {scenario}: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert not target.exists()
    assert list(tmp_path.iterdir()) == [scenario]


def test_missing_scenario_exits_2(runner, tmp_path):
    outcome = runner.invoke(main, ["build", str(tmp_path / "nothere.toml")])
    assert outcome.exit_code == 2
    assert "scenario file not found" in outcome.stderr


def test_failed_build_keeps_existing_workbook(runner, tmp_path):
    target = tmp_path / "bom.xlsx"
    assert (
        runner.invoke(
            main, ["build", str(REFERENCE_SCENARIO), "-o", str(target)]
        ).exit_code
        == 0
    )
    good = target.read_bytes()
    scenario = tmp_path / "bad.toml"
    scenario.write_text(
        REFERENCE_SCENARIO.read_text().replace("yield_rate = 0.9", "yield_rate = 0")
    )

    outcome = runner.invoke(main, ["build", str(scenario), "-o", str(target)])

    assert outcome.exit_code == 2
    assert target.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "bom.xlsx"]


def test_output_into_unwritable_folder_exits_1(runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    outcome = runner.invoke(
        main, ["build", str(REFERENCE_SCENARIO), "-o", str(blocker / "bom.xlsx")]
    )
    assert outcome.exit_code == 1
    assert "cannot create the output folder" in outcome.stderr


@pytest.mark.libreoffice
def test_check_passes_on_built_workbook(runner, tmp_path, soffice):
    target = tmp_path / "bom.xlsx"
    assert (
        runner.invoke(
            main, ["build", str(REFERENCE_SCENARIO), "-o", str(target)]
        ).exit_code
        == 0
    )
    outcome = runner.invoke(main, ["check", str(target)])
    assert outcome.exit_code == 0, outcome.output
    assert "floor: $3.4484/M" in outcome.output
    assert "master check: True; 9 of 9 checks TRUE; 0 formula errors" in outcome.output


@pytest.mark.libreoffice
def test_check_fails_on_broken_input(runner, tmp_path, soffice):
    target = tmp_path / "bom.xlsx"
    assert (
        runner.invoke(
            main, ["build", str(REFERENCE_SCENARIO), "-o", str(target)]
        ).exit_code
        == 0
    )
    workbook = load_workbook(target)
    workbook.defined_names["yield_rate"]  # the input exists under its defined name
    sheet, coordinate = next(iter(workbook.defined_names["yield_rate"].destinations))
    workbook[sheet][coordinate.replace("$", "")] = (
        0  # zero yield: per-token figures undefined
    )
    workbook.save(target)

    outcome = runner.invoke(main, ["check", str(target)])

    assert outcome.exit_code == 1
    assert "[False] Yield is in (0, 1]" in outcome.output
    assert "evaluates to #DIV/0!" in outcome.stderr


def test_check_rejects_missing_workbook(runner, tmp_path):
    outcome = runner.invoke(main, ["check", str(tmp_path / "none.xlsx")])
    assert outcome.exit_code == 2
    assert "workbook not found" in outcome.stderr


def test_check_rejects_non_workbook(runner, tmp_path):
    fake = tmp_path / "fake.xlsx"
    fake.write_text("plain text")
    outcome = runner.invoke(main, ["check", str(fake)])
    assert outcome.exit_code == 2
    assert "not a readable .xlsx workbook" in outcome.stderr


def test_module_entry_point(tmp_path):
    import subprocess
    import sys

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tokenbom_xl",
            "build",
            str(REFERENCE_SCENARIO),
            "-o",
            str(tmp_path / "m.xlsx"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "floor $3.4484/M" in completed.stdout


def test_console_script_installed():
    assert shutil.which("tokenbom") is not None


def test_check_rejects_decompression_bomb(runner, tmp_path):
    import zipfile

    bomb = tmp_path / "bomb.xlsx"
    committed = (
        REFERENCE_SCENARIO.parent.parent / "workbooks" / "token_bom_reference.xlsx"
    )
    with zipfile.ZipFile(committed) as original:
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as copy:
            for member in original.namelist():
                copy.writestr(member, original.read(member))
            # 64 MiB of spaces deflate to about 64 KiB, a ratio near 1,000.
            copy.writestr("xl/padding.xml", b" " * (64 * 2**20))

    outcome = runner.invoke(main, ["check", str(bomb)])

    assert outcome.exit_code == 2
    assert "decompression bomb" in outcome.stderr


def test_check_rejects_workbook_over_size_limit(runner, tmp_path):
    import os
    import zipfile

    large = tmp_path / "large.xlsx"
    committed = (
        REFERENCE_SCENARIO.parent.parent / "workbooks" / "token_bom_reference.xlsx"
    )
    with zipfile.ZipFile(committed) as original:
        with zipfile.ZipFile(large, "w", zipfile.ZIP_DEFLATED) as copy:
            for member in original.namelist():
                copy.writestr(member, original.read(member))
            copy.writestr("xl/media/noise.bin", os.urandom(2 * 2**20))

    outcome = runner.invoke(main, ["check", str(large), "--max-size-mb", "1"])
    assert outcome.exit_code == 2
    assert "raise --max-size-mb" in outcome.stderr
