"""Edge cases of `tokenbom schedule` and its inputs: months at the ends of the
calendar, repeated asset ids in [[assets]], CSV months and blank driver columns, and
the wording of messages and money figures."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import TEMPLATES

from tokenbom_xl.cli import currency_text, main
from tokenbom_xl.drivers import parse_driver_csv
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


def schedule_command(scenario, first_month, months, output):
    return [
        "schedule",
        str(scenario),
        "--from",
        first_month,
        "--months",
        str(months),
        "-o",
        str(output),
    ]


def test_silicon_age_limit_is_600_months(tmp_path):
    at_limit = scenario_with(tmp_path, replace=("age_months = 0", "age_months = 600"))
    assert load_scenario(at_limit).silicon.age_months == 600
    over = scenario_with(tmp_path, replace=("age_months = 0", "age_months = 601"))
    with pytest.raises(InputError, match="silicon.age_months = 601"):
        load_scenario(over)


def test_silicon_age_message_gives_both_fixes(tmp_path):
    scenario = load_scenario(
        scenario_with(tmp_path, replace=("age_months = 0", "age_months = 600"))
    )
    with pytest.raises(InputError) as caught:
        compute_schedule(scenario, start=parse_month("0040-01"), months=3)
    message = str(caught.value)
    assert "silicon.age_months = 600" in message
    assert "start the horizon in 0051-01 or later" in message
    assert "age_months of at most 468" in message


def test_silicon_age_reaching_0001_01_is_accepted(tmp_path):
    scenario = load_scenario(
        scenario_with(tmp_path, replace=("age_months = 0", "age_months = 24"))
    )
    schedule = compute_schedule(scenario, start=parse_month("0003-01"), months=3)
    assert schedule.table.purchase[0] == parse_month("0001-01")


def test_horizon_before_year_1_exits_2(runner, tmp_path):
    output = tmp_path / "out.xlsx"
    result = runner.invoke(
        main, schedule_command(SCHEDULE_SCENARIO, "0000-12", 3, output)
    )
    assert result.exit_code == 2
    assert "0001-01" in result.output
    assert "age_months" not in result.output
    assert not output.exists()


def test_horizon_past_9999_message_gives_fixes():
    scenario = load_scenario(SCHEDULE_SCENARIO)
    with pytest.raises(InputError) as caught:
        compute_schedule(scenario, start=parse_month("9999-12"), months=3)
    message = str(caught.value)
    assert "start the horizon in 9999-10 or earlier" in message
    assert "at most 1 month" in message


@pytest.mark.parametrize(("first_month", "months"), [("0001-01", 3), ("9999-10", 3)])
def test_horizon_at_calendar_edges_is_accepted(first_month, months):
    scenario = load_scenario(SCHEDULE_SCENARIO)
    schedule = compute_schedule(scenario, start=parse_month(first_month), months=months)
    assert schedule.labels[0] == first_month
    assert len(schedule.labels) == months


def test_year_0000_purchase_month_rejected(tmp_path):
    row = ACCELERATOR_ROW.format(asset_id="gpu", asset_class="accelerator").replace(
        '"2026-01"', '"0000-06"'
    )
    with pytest.raises(InputError, match="'0000-06' is before 0001-01"):
        load_scenario(scenario_with(tmp_path, row))


def test_year_0000_register_month_rejected():
    row = "gpu,accelerator,0000-06,1,1000,12,0,straight-line\n"
    with pytest.raises(InputError) as caught:
        parse_asset_csv(REGISTER_HEADER + row)
    message = str(caught.value)
    assert "row 2, column purchase_month" in message
    assert "'0000-06'" in message


def test_year_0000_driver_month_rejected(tmp_path):
    with pytest.raises(InputError) as caught:
        parse_driver_csv("month,utilization\n0000-06,0.5\n", source="drivers.csv")
    message = str(caught.value)
    assert "row 2, column month" in message
    assert "0001-01" in message
    scenario = scenario_with(
        tmp_path, replace=('yield_rate = { "2026-01"', 'yield_rate = { "0000-01"')
    )
    with pytest.raises(InputError, match="'0000-01' is before 0001-01"):
        load_scenario(scenario)


def test_repeated_asset_id_names_each_table(tmp_path):
    rows = "".join(
        ACCELERATOR_ROW.format(asset_id=asset_id, asset_class="accelerator")
        for asset_id in ("gpu", "spare", "gpu", "spare", "gpu")
    )
    scenario = load_scenario(scenario_with(tmp_path, rows))
    with pytest.raises(InputError) as caught:
        compute_schedule(scenario, start=parse_month("2026-01"), months=3)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert "'gpu'" in lines[0]
    assert "tables 1, 3 and 5" in lines[0]
    assert "'spare'" in lines[1]
    assert "tables 2 and 4" in lines[1]


def test_shared_asset_ids_counted_past_limit(tmp_path):
    asset_ids = [f"gpu{number}" for number in range(7)]
    rows = "".join(
        ACCELERATOR_ROW.format(asset_id=asset_id, asset_class="accelerator")
        for asset_id in asset_ids
    )
    scenario = load_scenario(scenario_with(tmp_path, rows))
    register = parse_asset_csv(
        REGISTER_HEADER
        + "".join(
            f"{asset_id},accelerator,2026-01,8,30000,48,0,straight-line\n"
            for asset_id in asset_ids
        )
    )
    with pytest.raises(InputError) as caught:
        compute_schedule(
            scenario, start=parse_month("2026-01"), months=3, assets=register
        )
    message = str(caught.value)
    assert "'gpu0', 'gpu1', 'gpu2', 'gpu3', 'gpu4' and 2 more" in message
    assert "'gpu5'" not in message
    assert "appears both in the scenario's [[assets]]" in message


def test_silicon_salvage_message_shows_values(tmp_path):
    scenario = scenario_with(
        tmp_path, replace=("salvage = 0\n", "salvage = 30000.000001\n")
    )
    with pytest.raises(InputError) as caught:
        load_scenario(scenario)
    message = str(caught.value)
    assert "salvage (30000.000001)" in message
    assert "unit_price (30000)" in message


@pytest.mark.parametrize(
    ("toml_value", "kind"),
    [
        ("2026-01-01", "TOML date"),
        ("2026-01-01T08:00:00", "TOML date and time"),
        ("08:00:00", "TOML time"),
    ],
)
def test_toml_date_change_month_message(tmp_path, toml_value, kind):
    row = ACCELERATOR_ROW.format(asset_id="gpu", asset_class="accelerator")
    row += f"new_life_months = 60\nlife_change_month = {toml_value}\n"
    with pytest.raises(InputError) as caught:
        load_scenario(scenario_with(tmp_path, row))
    message = str(caught.value)
    assert f"assets[1].life_change_month = {toml_value} is read as a {kind}" in message
    assert 'YYYY-MM text in quotes, such as "2026-01"' in message


def test_toml_date_name_message(tmp_path):
    scenario = scenario_with(
        tmp_path, replace=('name = "Schedule factory"', "name = 2026-01-01")
    )
    with pytest.raises(InputError) as caught:
        load_scenario(scenario)
    message = str(caught.value)
    assert "name = 2026-01-01 is read as a TOML date; allowed: text" in message
    assert "datetime" not in message


@pytest.mark.parametrize(
    ("amount", "decimals", "expected"),
    [
        (-0.0, 2, "$0.00"),
        (-0.004, 2, "$0.00"),
        (-0.00004, 4, "$0.0000"),
        (-0.0, 0, "$0"),
        (-0.005001, 2, "$-0.01"),
    ],
)
def test_currency_text_has_no_negative_zero(amount, decimals, expected):
    assert currency_text(amount, "USD", decimals) == expected


# Over 600 months the over-recovery column (first case) and the by-cause line (second
# case) have amounts that round to zero from below.
@pytest.mark.parametrize(
    ("scenario_name", "register"),
    [
        ("schedule_factory.toml", []),
        (
            "reference_factory_physical.toml",
            ["--assets", str(TEMPLATES / "assets.csv")],
        ),
    ],
)
def test_summary_has_no_negative_zero(runner, tmp_path, scenario_name, register):
    arguments = schedule_command(
        TEMPLATES / scenario_name, "2026-01", 600, tmp_path / "out.xlsx"
    )
    result = runner.invoke(main, arguments + register)
    assert result.exit_code == 0, result.output
    negative_zero = re.search(r"-0\.0+(?![0-9])", result.output)
    assert negative_zero is None, result.output


# ([drivers] line in the template, its replacement, fragments the message must contain)
DRIVER_TABLE_ERRORS = [
    (
        'utilization = { "2026-01" = 0.6,',
        'utilization = { "2026-01" = 0,',
        [
            "drivers.utilization.2026-01 = 0 is invalid",
            "allowed: a number > 0 and <= 1 (fraction)",
        ],
    ),
    (
        'yield_rate = { "2026-01" = 0.9, "2027-01" = 0.93 }',
        "yield_rate = {}",
        [
            "drivers.yield_rate = {} is invalid",
            'allowed: a table of one or more "YYYY-MM" = value entries',
            "each value a number > 0 and <= 1 (fraction)",
        ],
    ),
    (
        'yield_rate = { "2026-01" = 0.9, "2027-01" = 0.93 }',
        "yield_rate = 0.9",
        ["drivers.yield_rate = 0.9 is invalid", "a table of one or more"],
    ),
]


@pytest.mark.parametrize(("old", "new", "fragments"), DRIVER_TABLE_ERRORS)
def test_driver_table_message_names_range(tmp_path, old, new, fragments):
    with pytest.raises(InputError) as caught:
        load_scenario(scenario_with(tmp_path, replace=(old, new)))
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
    assert "see templates" not in message


def test_driver_column_without_values_rejected():
    text = "month,utilization,yield_rate\n2026-01,0.6,\n2026-07,0.7,\n"
    with pytest.raises(InputError) as caught:
        parse_driver_csv(text, source="drivers.csv")
    message = str(caught.value)
    assert "row 1 (header), column yield_rate: the column has no values" in message
    assert "utilization" not in message


def test_driver_file_without_driver_columns_rejected():
    with pytest.raises(InputError, match="no driver column after month"):
        parse_driver_csv("month\n2026-01\n", source="drivers.csv")


def test_blank_driver_column_exits_2(runner, tmp_path):
    drivers = tmp_path / "drivers.csv"
    drivers.write_text("month,tokens_per_second\n2026-01,\n", encoding="utf-8")
    output = tmp_path / "out.xlsx"
    arguments = schedule_command(SCHEDULE_SCENARIO, "2026-01", 3, output)
    result = runner.invoke(main, arguments + ["--drivers", str(drivers)])
    assert result.exit_code == 2
    assert "column tokens_per_second: the column has no values" in result.output
    assert not output.exists()


@pytest.mark.parametrize("month", ["2026-02-31", "2026-01-01", "2026-1", "Jan-26"])
def test_register_month_must_be_yyyy_mm(month):
    row = f"gpu,accelerator,2026-01,1,1000,12,0,straight-line\nfab,fabric,{month},1,1000,12,0,straight-line\n"
    with pytest.raises(InputError) as caught:
        parse_asset_csv(REGISTER_HEADER + row, source="assets.csv")
    message = str(caught.value)
    assert f"assets.csv: row 3, column purchase_month: {month!r} is invalid" in message
    assert "YYYY-MM" in message


@pytest.mark.parametrize("month", ["2026-02-31", "2026-01-01", "2026-1", "Jan-26"])
def test_driver_month_must_be_yyyy_mm(month):
    text = f"month,utilization\n2026-01,0.6\n{month},0.7\n"
    with pytest.raises(InputError) as caught:
        parse_driver_csv(text, source="drivers.csv")
    message = str(caught.value)
    assert f"drivers.csv: row 3, column month: {month!r} is invalid" in message
    assert "YYYY-MM" in message


def test_csv_date_message_explains_spreadsheet_dates():
    with pytest.raises(InputError) as caught:
        parse_driver_csv("month,utilization\n2026-02-01,0.6\n")
    assert "a date, not a month" in str(caught.value)
    assert "format the column as text" in str(caught.value)
