"""`tokenbom reconcile` through click's runner."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner
from conftest import REFERENCE_SCENARIO, TEMPLATES

from tokenbom_xl.cli import main

DATA = Path(__file__).parent / "data"


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def run(tmp_path, *extra):
    output = tmp_path / "rec.csv"
    arguments = [
        "reconcile",
        str(REFERENCE_SCENARIO),
        "--gl-map",
        str(TEMPLATES / "gl_map.csv"),
        "-o",
        str(output),
        *extra,
    ]
    return CliRunner().invoke(main, arguments), output


def test_reconcile_template(tmp_path):
    result, output = run(
        tmp_path,
        "--ledger",
        str(TEMPLATES / "ledger.csv"),
        "--usage",
        str(TEMPLATES / "usage.csv"),
    )
    assert result.exit_code == 0, result.output
    assert "over tolerance" in result.output
    assert (
        "GL total $28,810.00 = mapped $28,460.00 + unmapped $350.00 (1 of 17 lines)"
        in result.output
    )
    rows = read_rows(output)
    assert rows[0] == [
        "period",
        "component",
        "booked",
        "modelled",
        "variance",
        "variance_pct",
        "flag",
    ]
    assert ["2025-01", "Energy", "620.00", "450.00", "170.00"] == rows[4][:5]
    assert rows[8] == ["2025-01", "Unmapped", "350.00", "", "", "", "unmapped"]
    unmapped = read_rows(tmp_path / "rec_unmapped.csv")
    assert unmapped == [
        ["row", "period", "account", "cost_centre", "amount", "description"],
        ["10", "2025-01", "680000", "0200", "350.00", "Conference travel"],
    ]


def test_reconcile_neutralizes_unmapped_lines(tmp_path):
    result, _ = run(
        tmp_path,
        "--ledger",
        str(DATA / "injection_ledger.csv"),
        "--unmapped-output",
        str(tmp_path / "u.csv"),
    )
    assert result.exit_code == 0, result.output
    unmapped = read_rows(tmp_path / "u.csv")
    assert unmapped[1] == ["9", "2025-01", "'=1+2", "'@SUM(1+1)", "350.00", "'-2+3"]


def test_mapping_clash_exits_2(tmp_path):
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "match,account,account_to,component\nprefix,16,,Silicon\nexact,161500,,Fabric\n",
        "utf-8",
    )
    output = tmp_path / "rec.csv"
    result = CliRunner().invoke(
        main,
        [
            "reconcile",
            str(REFERENCE_SCENARIO),
            "--ledger",
            str(TEMPLATES / "ledger.csv"),
            "--gl-map",
            str(mapping),
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 2
    assert (
        "rule on row 2 (prefix 16 -> Silicon) and rule on row 3 (exact 161500 -> Fabric)"
        in result.output
    )
    assert not output.exists()
    assert not (tmp_path / "rec_unmapped.csv").exists()
