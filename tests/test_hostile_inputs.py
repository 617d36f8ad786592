"""Hostile scenario, usage, ledger and workbook input through the command line.

Each case is either rejected with exit code 2 and a message naming the file, or
gives numbers that agree everywhere they are printed. None may end in a traceback.
"""

from __future__ import annotations

import csv
import importlib
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import REFERENCE_SCENARIO, TEMPLATES

from tokenbom_xl.cli import main
from tokenbom_xl.drivers import read_driver_csv
from tokenbom_xl.errors import InputError
from tokenbom_xl.excel import token_bom
from tokenbom_xl.metering.ledger import read_ledger as read_metered_ledger
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.times import parse_period
from tokenbom_xl.tbm import load_tbm_mapping
from tokenbom_xl.usage import usage_from_range


def invoke(arguments):
    return CliRunner().invoke(main, [str(argument) for argument in arguments])


def write_scenario(tmp_path, old, new):
    scenario = tmp_path / "factory.toml"
    text = REFERENCE_SCENARIO.read_text(encoding="utf-8")
    assert old in text
    scenario.write_text(text.replace(old, new), encoding="utf-8")
    return scenario


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("unit_price = 30000", "unit_price = inf"),
        ("utilization = 0.6", "utilization = 5e-324"),
    ],
)
def test_build_rejects_non_finite_results(tmp_path, old, new):
    scenario = write_scenario(tmp_path, old, new)
    target = tmp_path / "out.xlsx"
    outcome = invoke(["build", scenario, "-o", target])
    assert not isinstance(outcome.exception, ArithmeticError), outcome.exception
    assert outcome.exit_code == 2, outcome.output
    assert "factory.toml" in outcome.output
    assert not target.exists()


def test_currency_message_shows_real_pattern(tmp_path):
    scenario = write_scenario(tmp_path, 'currency = "USD"', 'currency = "usd"')
    outcome = invoke(["build", scenario, "-o", tmp_path / "out.xlsx"])
    assert outcome.exit_code == 2
    # "usd" matches ^[a-z]{3}$, so a message that prints that pattern gives no fix.
    assert "^[a-z]{3}$" not in outcome.output
    assert "A-Z" in outcome.output or "upper" in outcome.output.lower()


def test_check_damaged_workbook_xml(tmp_path):
    reference = (
        REFERENCE_SCENARIO.parent.parent / "workbooks" / "token_bom_reference.xlsx"
    )
    damaged = tmp_path / "damaged.xlsx"
    with (
        zipfile.ZipFile(reference) as original,
        zipfile.ZipFile(damaged, "w", zipfile.ZIP_DEFLATED) as copy,
    ):
        for member in original.namelist():
            data = original.read(member)
            if member == "xl/workbook.xml":
                data = data[: len(data) // 2]
            copy.writestr(member, data)
    outcome = invoke(["check", damaged])
    assert outcome.exit_code == 2, outcome.exception
    assert "damaged.xlsx" in outcome.output


def test_chargeback_rejects_short_row(tmp_path):
    usage = tmp_path / "usage.csv"
    usage.write_text(
        TEMPLATES.joinpath("usage.csv").read_text(encoding="utf-8")
        + "2025-01,Finance\n",
        encoding="utf-8",
    )
    target = tmp_path / "charges.csv"
    outcome = invoke(
        ["chargeback", REFERENCE_SCENARIO, "--usage", usage, "-o", target, "-q"]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "row 8" in outcome.output
    assert not target.exists()


def test_chargeback_rejects_duplicate_column(tmp_path):
    lines = TEMPLATES.joinpath("usage.csv").read_text(encoding="utf-8").splitlines()
    usage = tmp_path / "usage.csv"
    usage.write_text(
        lines[0] + ",good_tokens\n" + "".join(line + ",5\n" for line in lines[1:]),
        encoding="utf-8",
    )
    target = tmp_path / "charges.csv"
    outcome = invoke(
        ["chargeback", REFERENCE_SCENARIO, "--usage", usage, "-o", target, "-q"]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "good_tokens" in outcome.output
    assert not target.exists()


def test_reconcile_rejects_duplicate_column(tmp_path):
    lines = TEMPLATES.joinpath("ledger.csv").read_text(encoding="utf-8").splitlines()
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        lines[0] + ",amount\n" + "".join(line + ",1\n" for line in lines[1:]),
        encoding="utf-8",
    )
    target = tmp_path / "reconciliation.csv"
    outcome = invoke(
        [
            "reconcile",
            REFERENCE_SCENARIO,
            "--ledger",
            ledger,
            "--gl-map",
            TEMPLATES / "gl_map.csv",
            "-o",
            target,
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "amount" in outcome.output
    assert not target.exists()


def test_reconcile_large_amount_keeps_gl_total(tmp_path):
    ledger = tmp_path / "ledger.csv"
    text = TEMPLATES.joinpath("ledger.csv").read_text(encoding="utf-8")
    ledger.write_text(text.replace("350.00", "123456789012345678.91"), encoding="utf-8")
    target = tmp_path / "reconciliation.csv"
    outcome = invoke(
        [
            "reconcile",
            REFERENCE_SCENARIO,
            "--ledger",
            ledger,
            "--gl-map",
            TEMPLATES / "gl_map.csv",
            "-o",
            target,
            "-q",
        ]
    )
    if outcome.exit_code == 2:
        assert not target.exists()
        return
    assert outcome.exit_code == 0, outcome.output
    with target.open(encoding="utf-8", newline="") as handle:
        booked = [
            Decimal(row["booked"]) for row in csv.DictReader(handle) if row["booked"]
        ]
    assert all(amount >= 0 for amount in booked)
    assert sum(booked) > Decimal("123456789012345678")


def test_meter_deeply_nested_serving_json(tmp_path):
    serving = tmp_path / "usage.json"
    serving.write_text('{"a":' * 50000 + "1" + "}" * 50000, encoding="utf-8")
    target = tmp_path / "metered.toml"
    outcome = invoke(
        ["meter", "--period", "2025-11", "--serving", serving, "-o", target]
    )
    assert not isinstance(outcome.exception, RecursionError)
    assert outcome.exit_code == 2, outcome.output
    assert "usage.json" in outcome.output
    assert not target.exists()


def test_token_bom_blank_two_column_range():
    result = token_bom([[None, None], [None, None]])
    assert result[0][0] == "#VALUE!"
    assert "0 column" not in result[0][1]


def duplicate_last_column(text: str) -> str:
    """Repeat the last column of a CSV (comment lines kept) with a copy of its values."""
    lines = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            lines.append(line)
            continue
        lines.append(line + "," + line.rsplit(",", 1)[-1])
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("template", "reader", "column"),
    [
        ("usage.csv", "tokenbom_xl.usage:read_usage", "reserved_share"),
        ("ledger.csv", "tokenbom_xl.ledger:read_ledger", "description"),
        ("gl_map.csv", "tokenbom_xl.ledger:read_gl_map", "component"),
        ("tbm_mapping.csv", "tokenbom_xl.tbm:load_tbm_mapping", "split_percent"),
        ("assets.csv", "tokenbom_xl.register:read_asset_register", "life_change_month"),
        ("drivers.csv", "tokenbom_xl.drivers:read_driver_csv", "api_price_per_million"),
    ],
)
def test_reader_rejects_duplicate_column(tmp_path, template, reader, column):
    module_name, function_name = reader.split(":")
    read = getattr(importlib.import_module(module_name), function_name)
    path = tmp_path / template
    text = TEMPLATES.joinpath(template).read_text(encoding="utf-8")
    path.write_text(duplicate_last_column(text), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read(path)
    message = str(raised.value)
    assert column in message
    assert "twice" in message
    assert template in message


def test_usage_range_rejects_duplicate_column():
    rows = [
        [
            "period",
            "business_unit",
            "model",
            "good_tokens",
            "reserved_share",
            "good_tokens",
        ],
        ["2025-01", "Search", "m", 5, None, 7],
    ]
    with pytest.raises(InputError, match="'good_tokens' appears twice"):
        usage_from_range(rows)


def test_drivers_reject_second_month_column(tmp_path):
    path = tmp_path / "drivers.csv"
    path.write_text("month,utilization,month\n2026-01,0.5,2026-02\n", encoding="utf-8")
    with pytest.raises(InputError, match="'month' appears twice"):
        read_driver_csv(path)


def test_meter_ledger_rejects_duplicate_amount(tmp_path):
    path = tmp_path / "gl.csv"
    path.write_text(
        "period,account,cost_centre,amount,description,amount\n"
        "2026-11,001000,CC-01,10.00,GPU depreciation,20.00\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="'amount' appears twice"):
        read_metered_ledger(str(path), ReadOptions(period=parse_period("2026-11")))


def test_chargeback_shows_infinite_value_as_written(tmp_path):
    usage = tmp_path / "usage.csv"
    text = TEMPLATES.joinpath("usage.csv").read_text(encoding="utf-8")
    usage.write_text(text.replace("1135296000", "1e309"), encoding="utf-8")
    target = tmp_path / "charges.csv"
    outcome = invoke(
        ["chargeback", REFERENCE_SCENARIO, "--usage", usage, "-o", target, "-q"]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "'1e309'" in outcome.output
    assert "np.float64" not in outcome.output
    assert not target.exists()


def test_reconcile_rejects_fraction_of_a_cent(tmp_path):
    ledger = tmp_path / "ledger.csv"
    text = TEMPLATES.joinpath("ledger.csv").read_text(encoding="utf-8")
    ledger.write_text(text.replace("350.00", "350.005"), encoding="utf-8")
    target = tmp_path / "reconciliation.csv"
    outcome = invoke(
        [
            "reconcile",
            REFERENCE_SCENARIO,
            "--ledger",
            ledger,
            "--gl-map",
            TEMPLATES / "gl_map.csv",
            "-o",
            target,
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "ledger.csv: row 10, column amount: '350.005'" in outcome.output
    assert "fraction of a cent" in outcome.output
    assert not target.exists()


def test_reconcile_large_amount_names_cell(tmp_path):
    ledger = tmp_path / "ledger.csv"
    text = TEMPLATES.joinpath("ledger.csv").read_text(encoding="utf-8")
    ledger.write_text(text.replace("350.00", "123456789012345678.91"), encoding="utf-8")
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
            "-q",
        ]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "ledger.csv: row 10, column amount" in outcome.output
    assert "'123456789012345678.91'" in outcome.output
    assert "9,999,999,999,999.99" in outcome.output


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\ufffe"])
def test_chargeback_rejects_control_character_in_name(tmp_path, character):
    usage = tmp_path / "usage.csv"
    text = TEMPLATES.joinpath("usage.csv").read_text(encoding="utf-8")
    usage.write_text(text.replace("Support", f"Sup{character}port"), encoding="utf-8")
    target = tmp_path / "charges.csv"
    outcome = invoke(
        ["chargeback", REFERENCE_SCENARIO, "--usage", usage, "-o", target, "-q"]
    )
    assert outcome.exit_code == 2, outcome.output
    assert "row 3, column business_unit" in outcome.output
    assert f"U+{ord(character):04X}" in outcome.output
    assert not target.exists()


def test_tbm_mapping_rejects_control_character(tmp_path):
    mapping = tmp_path / "tbm.csv"
    text = TEMPLATES.joinpath("tbm_mapping.csv").read_text(encoding="utf-8")
    mapping.write_text(text.replace("AI Network", "AI\x00Network"), encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3, column sub_tower: .*U\+0000"):
        load_tbm_mapping(mapping)


def test_name_with_line_break_same_everywhere(tmp_path):
    name = "Multi\nLine\tUnit"
    usage = tmp_path / "usage.csv"
    text = TEMPLATES.joinpath("usage.csv").read_text(encoding="utf-8")
    usage.write_text(text.replace("Support", '"Multi\nLine\tUnit"'), encoding="utf-8")
    charges = tmp_path / "charges.csv"
    outcome = invoke(
        ["chargeback", REFERENCE_SCENARIO, "--usage", usage, "-o", charges]
    )
    assert outcome.exit_code == 0, outcome.output
    assert "Multi\\nLine\\tUnit" in outcome.output
    assert not any(line.startswith("Line") for line in outcome.output.splitlines())
    with charges.open(encoding="utf-8", newline="") as handle:
        consumers = {row["business_unit"] for row in csv.DictReader(handle)}
    assert name in consumers

    book = tmp_path / "book.xlsx"
    outcome = invoke(["build", REFERENCE_SCENARIO, "--usage", usage, "-o", book, "-q"])
    assert outcome.exit_code == 0, outcome.output
    sheet = openpyxl.load_workbook(book)["Usage Data"]
    cells = {cell.value for row in sheet.iter_rows() for cell in row}
    assert name in cells
    assert not any(isinstance(value, str) and "\ufffd" in value for value in cells)
