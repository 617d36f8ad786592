"""Output paths that point at an input file or at another output of the same run.

A run that writes over its own input destroys the user's data, so each command must
reject such a path with exit code 2 and leave every file as it was.
"""

from __future__ import annotations

import os
import shutil
import stat

import pytest
from click.testing import CliRunner
from conftest import REFERENCE_SCENARIO, TEMPLATES

from tokenbom_xl.atomic import write_bytes_atomic
from tokenbom_xl.cli import main
from tokenbom_xl.errors import OutputError
from tokenbom_xl.workbook.save import write_atomic


def invoke(arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


def test_build_output_equal_to_scenario(tmp_path):
    scenario = tmp_path / "factory.toml"
    shutil.copy(REFERENCE_SCENARIO, scenario)
    before = scenario.read_bytes()
    outcome = invoke(["build", scenario, "-o", scenario])
    assert outcome.exit_code == 2, outcome.output
    assert scenario.read_bytes() == before


def test_chargeback_output_equal_to_usage(tmp_path):
    usage = tmp_path / "usage.csv"
    shutil.copy(TEMPLATES / "usage.csv", usage)
    before = usage.read_bytes()
    outcome = invoke(
        ["chargeback", REFERENCE_SCENARIO, "--usage", usage, "-o", usage, "-q"]
    )
    assert outcome.exit_code == 2, outcome.output
    assert usage.read_bytes() == before


def test_chargeback_output_equal_to_tbm_output(tmp_path):
    target = tmp_path / "charges.csv"
    outcome = invoke(
        [
            "chargeback",
            REFERENCE_SCENARIO,
            "--usage",
            TEMPLATES / "usage.csv",
            "-o",
            target,
            "--tbm-output",
            target,
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert not target.exists()


def test_reconcile_unmapped_output_equal_to_ledger(tmp_path):
    ledger = tmp_path / "ledger.csv"
    shutil.copy(TEMPLATES / "ledger.csv", ledger)
    before = ledger.read_bytes()
    outcome = invoke(
        [
            "reconcile",
            REFERENCE_SCENARIO,
            "--ledger",
            ledger,
            "--gl-map",
            TEMPLATES / "gl_map.csv",
            "-o",
            tmp_path / "reconciliation.csv",
            "--unmapped-output",
            ledger,
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert ledger.read_bytes() == before


def test_meter_output_equal_to_serving_input(tmp_path):
    serving = tmp_path / "usage.jsonl"
    serving.write_text(
        '{"created": 1762000000, "model": "m", "usage": {"prompt_tokens": 3, "completion_tokens": 5}}\n',
        encoding="utf-8",
    )
    before = serving.read_bytes()
    outcome = invoke(
        ["meter", "--period", "2025-11", "--serving", serving, "-o", serving, "-q"]
    )
    assert outcome.exit_code == 2, outcome.output
    assert serving.read_bytes() == before


def test_meter_usage_csv_equal_to_serving_input(tmp_path):
    serving = tmp_path / "usage.jsonl"
    serving.write_text(
        '{"created": 1762000000, "model": "m", "usage": {"prompt_tokens": 3, "completion_tokens": 5}}\n',
        encoding="utf-8",
    )
    before = serving.read_bytes()
    target = tmp_path / "metered.toml"
    outcome = invoke(
        [
            "meter",
            "--period",
            "2025-11",
            "--serving",
            f"openai:{serving}",
            "-o",
            target,
            "--usage-csv",
            serving,
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "--usage-csv" in outcome.output
    assert "--serving" in outcome.output
    assert serving.read_bytes() == before
    assert not target.exists()


def test_meter_output_equal_to_usage_csv(tmp_path):
    serving = tmp_path / "usage.jsonl"
    serving.write_text(
        '{"created": 1762000000, "model": "m", "usage": {"prompt_tokens": 3, "completion_tokens": 5}}\n',
        encoding="utf-8",
    )
    target = tmp_path / "metered.toml"
    outcome = invoke(
        [
            "meter",
            "--period",
            "2025-11",
            "--serving",
            serving,
            "-o",
            target,
            "--usage-csv",
            target,
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert not target.exists()


def test_schedule_output_equal_to_assets(tmp_path):
    assets = tmp_path / "assets.csv"
    shutil.copy(TEMPLATES / "assets.csv", assets)
    before = assets.read_bytes()
    outcome = invoke(
        [
            "schedule",
            TEMPLATES / "schedule_factory.toml",
            "--assets",
            assets,
            "--from",
            "2026-01",
            "--months",
            "3",
            "-o",
            assets,
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "--assets" in outcome.output
    assert assets.read_bytes() == before


def test_build_output_equal_to_usage(tmp_path):
    usage = tmp_path / "usage.csv"
    shutil.copy(TEMPLATES / "usage.csv", usage)
    before = usage.read_bytes()
    outcome = invoke(["build", REFERENCE_SCENARIO, "--usage", usage, "-o", usage, "-q"])
    assert outcome.exit_code == 2, outcome.output
    assert usage.read_bytes() == before


def test_reconcile_output_equal_to_unmapped_output(tmp_path):
    target = tmp_path / "reconciliation.csv"
    outcome = invoke(
        [
            "reconcile",
            REFERENCE_SCENARIO,
            "--ledger",
            TEMPLATES / "ledger.csv",
            "--gl-map",
            TEMPLATES / "gl_map.csv",
            "-o",
            target,
            "--unmapped-output",
            target,
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "--unmapped-output" in outcome.output
    assert not target.exists()


def test_output_spelled_differently_from_input(tmp_path, monkeypatch):
    usage = tmp_path / "usage.csv"
    shutil.copy(TEMPLATES / "usage.csv", usage)
    before = usage.read_bytes()
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    outcome = invoke(
        [
            "chargeback",
            REFERENCE_SCENARIO,
            "--usage",
            "usage.csv",
            "-o",
            "./sub/../usage.csv",
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "usage.csv" in outcome.output
    assert usage.read_bytes() == before


def test_output_dotdot_after_symlinked_folder(tmp_path):
    # deep/../usage.csv, with deep a link to data/inner, is data/usage.csv.
    data = tmp_path / "data"
    (data / "inner").mkdir(parents=True)
    usage = data / "usage.csv"
    shutil.copy(TEMPLATES / "usage.csv", usage)
    before = usage.read_bytes()
    (tmp_path / "deep").symlink_to(data / "inner")
    outcome = invoke(
        [
            "chargeback",
            REFERENCE_SCENARIO,
            "--usage",
            usage,
            "-o",
            tmp_path / "deep" / ".." / "usage.csv",
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert usage.read_bytes() == before


def test_input_through_symlink_equal_to_output(tmp_path):
    usage = tmp_path / "usage.csv"
    shutil.copy(TEMPLATES / "usage.csv", usage)
    before = usage.read_bytes()
    link = tmp_path / "usage_link.csv"
    link.symlink_to(usage)
    outcome = invoke(
        ["chargeback", REFERENCE_SCENARIO, "--usage", link, "-o", usage, "-q"]
    )
    assert outcome.exit_code == 2, outcome.output
    assert str(usage) in outcome.output
    assert usage.read_bytes() == before


def test_output_hard_link_to_input(tmp_path):
    usage = tmp_path / "usage.csv"
    shutil.copy(TEMPLATES / "usage.csv", usage)
    before = usage.read_bytes()
    other_name = tmp_path / "charges.csv"
    os.link(usage, other_name)
    outcome = invoke(
        ["chargeback", REFERENCE_SCENARIO, "--usage", usage, "-o", other_name, "-q"]
    )
    assert outcome.exit_code == 2, outcome.output
    assert usage.read_bytes() == before


def test_empty_output_path_is_bad_input(tmp_path):
    outcome = invoke(
        [
            "chargeback",
            REFERENCE_SCENARIO,
            "--usage",
            TEMPLATES / "usage.csv",
            "-o",
            "",
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "empty" in outcome.output


def test_output_symlink_is_rejected(tmp_path):
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("keep me\n", encoding="utf-8")
    link = tmp_path / "charges.csv"
    link.symlink_to(elsewhere)
    outcome = invoke(
        [
            "chargeback",
            REFERENCE_SCENARIO,
            "--usage",
            TEMPLATES / "usage.csv",
            "-o",
            link,
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "symbolic link" in outcome.output
    assert link.is_symlink()
    assert elsewhere.read_text(encoding="utf-8") == "keep me\n"


def test_output_fifo_is_rejected(tmp_path):
    fifo = tmp_path / "charges.csv"
    os.mkfifo(fifo)
    outcome = invoke(
        [
            "chargeback",
            REFERENCE_SCENARIO,
            "--usage",
            TEMPLATES / "usage.csv",
            "-o",
            fifo,
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "FIFO" in outcome.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_atomic_writer_keeps_special_target(tmp_path, kind):
    target = tmp_path / "out.bin"
    elsewhere = tmp_path / "elsewhere.bin"
    elsewhere.write_bytes(b"old")
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to(elsewhere)
    with pytest.raises(OutputError, match="out.bin"):
        write_bytes_atomic(target, b"new")
    with pytest.raises(OutputError, match="out.bin"):
        write_atomic(target, b"new")
    assert elsewhere.read_bytes() == b"old"
    assert not stat.S_ISREG(os.lstat(target).st_mode)
    assert [path.name for path in tmp_path.iterdir()].count("out.bin") == 1
    assert len(list(tmp_path.iterdir())) == 2


def test_atomic_writer_names_folder_it_cannot_create(tmp_path):
    blocker = tmp_path / "reports"
    blocker.write_text("a file where a folder should be\n", encoding="utf-8")
    with pytest.raises(OutputError) as raised:
        write_bytes_atomic(blocker / "charges.csv", b"x")
    message = str(raised.value)
    assert str(blocker) in message
    assert "folder you can write to" in message


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root may write to any folder, so permissions cannot be tested",
)
def test_unwritable_folder_named_in_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        outcome = invoke(
            [
                "chargeback",
                REFERENCE_SCENARIO,
                "--usage",
                TEMPLATES / "usage.csv",
                "-o",
                folder / "charges.csv",
                "-q",
            ]
        )
    finally:
        folder.chmod(0o755)
    assert outcome.exit_code == 1, outcome.output
    assert str(folder) in outcome.output
    assert "folder you can write to" in outcome.output
