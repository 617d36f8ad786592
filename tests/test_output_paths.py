"""Output paths that point at an input file or at another output of the same run.

A run that writes over its own input destroys the user's data, so each command must
reject such a path with exit code 2 and leave every file as it was.
"""

from __future__ import annotations

import shutil

from click.testing import CliRunner
from conftest import REFERENCE_SCENARIO, TEMPLATES

from tokenbom_xl.cli import main


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
