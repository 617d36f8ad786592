"""`tokenbom chargeback` and `tokenbom build` with data files, through click's runner."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REFERENCE_SCENARIO, TEMPLATES

from tokenbom_xl.cli import main

DATA = Path(__file__).parent / "data"


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_chargeback_writes_csv_and_prints_table(tmp_path):
    output = tmp_path / "cb.csv"
    tbm = tmp_path / "tbm.csv"
    result = CliRunner().invoke(
        main,
        [
            "chargeback",
            str(DATA / "two_model_factory.toml"),
            "--usage",
            str(DATA / "two_model_usage.csv"),
            "-o",
            str(output),
            "--tbm-output",
            str(tbm),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2025-01" in result.output
    assert "$14,200.00" in result.output
    rows = read_rows(output)
    assert rows[0] == [
        "period",
        "business_unit",
        "busy_share",
        "reserved_share",
        "usage_charge",
        "capacity_variance",
        "unreserved_idle",
        "total",
    ]
    assert rows[2] == [
        "2025-01",
        "Search",
        "0.2",
        "0.4",
        "2900.00",
        "2750.00",
        "0.00",
        "5650.00",
    ]
    assert sum(float(row[7]) for row in rows[1:5]) == pytest.approx(14200.0)
    tbm_rows = read_rows(tbm)
    assert tbm_rows[0] == [
        "period",
        "cost_pool",
        "tower",
        "sub_tower",
        "solution",
        "consumer",
        "amount",
    ]
    assert round(sum(float(row[6]) for row in tbm_rows[1:]), 2) == 14200.0 + 13825.0


def test_chargeback_neutralizes_injected_names(tmp_path):
    output = tmp_path / "cb.csv"
    result = CliRunner().invoke(
        main,
        [
            "chargeback",
            str(REFERENCE_SCENARIO),
            "--usage",
            str(DATA / "injection_usage.csv"),
            "-o",
            str(output),
            "--tbm-output",
            str(tmp_path / "tbm.csv"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    names = [row[1] for row in read_rows(output)[1:]]
    assert '\'=HYPERLINK("http://x","y")' in names
    assert "'+cmd|'/C calc'!A0" in names
    consumers = {row[5] for row in read_rows(tmp_path / "tbm.csv")[1:]}
    assert '\'=HYPERLINK("http://x","y")' in consumers
    assert "'+cmd|'/C calc'!A0" in consumers


# Each case: usage file body after the header, and text the message must contain.
BAD_USAGE = [
    ("2025-01,A,reference-model,1,,extra\n", "row 2: more fields than the 5 columns"),
    ("Jan 2025,A,reference-model,1,\n", "row 2, column period"),
    ("2025-01,A,reference-model,-1,\n", "row 2, column good_tokens"),
    (
        "2025-01,A,reference-model,1,0.7\n2025-01,B,reference-model,1,0.6\n",
        "rows 2, 3, column reserved_share",
    ),
]


@pytest.mark.parametrize("body, where", BAD_USAGE)
def test_bad_usage_exits_2_and_writes_nothing(tmp_path, body, where):
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "period,business_unit,model,good_tokens,reserved_share\n" + body, "utf-8"
    )
    output = tmp_path / "cb.csv"
    output.write_text("previous good output", "utf-8")
    result = CliRunner().invoke(
        main,
        [
            "chargeback",
            str(REFERENCE_SCENARIO),
            "--usage",
            str(usage),
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 2, result.output
    assert str(usage) in result.output
    assert where in result.output
    assert output.read_text("utf-8") == "previous good output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cb.csv", "usage.csv"]


def test_missing_column_exits_2(tmp_path):
    usage = tmp_path / "usage.csv"
    usage.write_text("period,business_unit,good_tokens\n2025-01,A,1\n", "utf-8")
    result = CliRunner().invoke(
        main,
        [
            "chargeback",
            str(REFERENCE_SCENARIO),
            "--usage",
            str(usage),
            "-o",
            str(tmp_path / "cb.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "row 1: missing column(s) model, reserved_share" in result.output
    assert not (tmp_path / "cb.csv").exists()


def test_build_with_data_files(tmp_path):
    output = tmp_path / "book.xlsx"
    result = CliRunner().invoke(
        main,
        [
            "build",
            str(REFERENCE_SCENARIO),
            "-o",
            str(output),
            "-q",
            "--usage",
            str(TEMPLATES / "usage.csv"),
            "--ledger",
            str(TEMPLATES / "ledger.csv"),
            "--gl-map",
            str(TEMPLATES / "gl_map.csv"),
            "--tbm-map",
            str(TEMPLATES / "tbm_mapping.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    from openpyxl import load_workbook

    sheets = load_workbook(output).sheetnames
    for title in (
        "Chargeback",
        "TBM Mapping",
        "Ledger Reconciliation",
        "Usage Data",
        "Ledger Data",
        "GL Map",
    ):
        assert title in sheets


def test_build_bad_ledger_writes_nothing(tmp_path):
    ledger = tmp_path / "gl.csv"
    ledger.write_text(
        "period,account,cost_centre,amount,description\n2025-01,161000,a,,x\n", "utf-8"
    )
    output = tmp_path / "book.xlsx"
    result = CliRunner().invoke(
        main,
        [
            "build",
            str(REFERENCE_SCENARIO),
            "-o",
            str(output),
            "--ledger",
            str(ledger),
            "--gl-map",
            str(TEMPLATES / "gl_map.csv"),
        ],
    )
    assert result.exit_code == 2
    assert f"{ledger}: row 2, column amount: empty" in result.output
    assert not output.exists()


def test_build_ledger_needs_map(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "build",
            str(REFERENCE_SCENARIO),
            "-o",
            str(tmp_path / "b.xlsx"),
            "--ledger",
            str(TEMPLATES / "ledger.csv"),
        ],
    )
    assert result.exit_code == 2
    assert "--ledger and --gl-map must be given together" in result.output
