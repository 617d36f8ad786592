"""Edge cases of `tokenbom schedule` and its register: months far from today,
repeated asset ids in [[assets]], and messages about invalid register values."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import TEMPLATES

from tokenbom_xl.cli import main
from tokenbom_xl.errors import InputError
from tokenbom_xl.periods import parse_month
from tokenbom_xl.register import parse_asset_csv
from tokenbom_xl.scenario import load_scenario
from tokenbom_xl.schedule import compute_schedule

SCHEDULE_SCENARIO = TEMPLATES / "schedule_factory.toml"
REGISTER_HEADER = "asset_id,asset_class,purchase_month,quantity,unit_price,life_months,salvage,method\n"

ACCELERATOR_ROW = """
[[assets]]
asset_id = "{asset_id}"
asset_class = "{asset_class}"
purchase_month = "2026-01"
quantity = 8
unit_price = 30000.0
life_months = 48
"""


@pytest.fixture
def runner():
    return CliRunner()


def scenario_with(
    tmp_path, text_to_add: str = "", replace: tuple[str, str] | None = None
):
    """Write the schedule template with extra TOML appended or one line replaced."""
    text = SCHEDULE_SCENARIO.read_text(encoding="utf-8")
    if replace is not None:
        old, new = replace
        assert old in text, f"template no longer contains {old!r}"
        text = text.replace(old, new)
    path = tmp_path / "scenario.toml"
    path.write_text(text + text_to_add, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("age_line", "first_month"),
    [
        ("age_months = 30000", "2026-01"),  # bought 2,500 years before the horizon
        ("age_months = 1", "0000-01"),  # bought in the month before year 0
    ],
)
def test_silicon_age_before_year_zero_exits_2(runner, tmp_path, age_line, first_month):
    scenario = scenario_with(tmp_path, replace=("age_months = 0", age_line))
    result = runner.invoke(
        main,
        [
            "schedule",
            str(scenario),
            "--from",
            first_month,
            "--months",
            "3",
            "-o",
            str(tmp_path / "out.xlsx"),
        ],
    )
    crashed = result.exception is not None and not isinstance(
        result.exception, SystemExit
    )
    assert not crashed, f"uncaught {type(result.exception).__name__}"
    assert result.exit_code == 2
    assert "age_months" in result.output


def test_horizon_past_year_9999_exits_2(runner, tmp_path):
    # Month labels are YYYY-MM and the workbook parses them with LEFT(label, 4), so a
    # month in year 10000 cannot be shown or computed on the sheet.
    result = runner.invoke(
        main,
        [
            "schedule",
            str(SCHEDULE_SCENARIO),
            "--from",
            "9999-12",
            "--months",
            "3",
            "-o",
            str(tmp_path / "out.xlsx"),
        ],
    )
    assert result.exit_code == 2
    assert "10000-01" not in result.output
    assert not (tmp_path / "out.xlsx").exists()


def test_repeated_asset_id_in_scenario_rejected(tmp_path):
    twice = ACCELERATOR_ROW.format(asset_id="gpu", asset_class="accelerator")
    twice += ACCELERATOR_ROW.format(asset_id="gpu", asset_class="fabric")
    scenario = load_scenario(scenario_with(tmp_path, twice))
    with pytest.raises(InputError, match="gpu"):
        compute_schedule(scenario, start=parse_month("2026-01"), months=3)


def test_salvage_above_price_message_shows_values():
    row = "gpu,accelerator,2026-01,1,1000,12,1000.004,straight-line\n"
    with pytest.raises(InputError) as caught:
        parse_asset_csv(REGISTER_HEADER + row)
    message = str(caught.value)
    assert "1000.004" in message, message
    assert "(1000) must be less than unit_price (1000)" not in message


def test_toml_date_purchase_month_message(runner, tmp_path):
    # TOML reads an unquoted 2026-01-01 as a date, not text.
    row = ACCELERATOR_ROW.format(asset_id="gpu", asset_class="accelerator").replace(
        'purchase_month = "2026-01"', "purchase_month = 2026-01-01"
    )
    scenario = scenario_with(tmp_path, row)
    result = runner.invoke(
        main,
        [
            "schedule",
            str(scenario),
            "--from",
            "2026-01",
            "-o",
            str(tmp_path / "out.xlsx"),
        ],
    )
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output, result.output
    assert "datetime.date(" not in result.output


def test_balance_never_printed_as_negative_zero(runner, tmp_path):
    # Over 600 months the fixed-rate balance returns to about zero, and the last
    # line must not read "$-0.00".
    result = runner.invoke(
        main,
        [
            "schedule",
            str(SCHEDULE_SCENARIO),
            "--assets",
            str(TEMPLATES / "assets.csv"),
            "--from",
            "2026-01",
            "--months",
            "600",
            "-o",
            str(tmp_path / "out.xlsx"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "$-0.00" not in result.output
