"""The Schedule and Assets sheets: layout, conventions and, after a LibreOffice
recalculation, agreement of every formula cell with the schedule engine."""

from __future__ import annotations

import random
import re

import pytest
from conftest import REFERENCE_SCENARIO, REPO_ROOT, TEMPLATES, assert_close
from openpyxl import load_workbook

from tokenbom_xl.drivers import Drivers
from tokenbom_xl.periods import parse_month
from tokenbom_xl.register import Asset, read_asset_register
from tokenbom_xl.scenario import load_scenario, parse_scenario
from tokenbom_xl.schedule import compute_schedule
from tokenbom_xl.workbook import build_workbook, write_workbook
from tokenbom_xl.workbook.assets import grid_letter

SCHEDULE_SCENARIO = TEMPLATES / "schedule_factory.toml"

# Functions that Excel 2010 and LibreOffice 7.4 both know, and that these sheets may use.
ALLOWED_FUNCTIONS = {
    "ABS",
    "AND",
    "COUNT",
    "COUNTIF",
    "IF",
    "INDEX",
    "ISNUMBER",
    "LEFT",
    "MAX",
    "MID",
    "MIN",
    "OR",
    "SUM",
    "SUMIF",
    "SUMIFS",
    "SUMPRODUCT",
    "VALUE",
    "VDB",
}
NEAR_ZERO = 1e-6  # money, tokens and per-million figures on these sheets are far larger
VOLATILE_FUNCTIONS = {
    "OFFSET",
    "INDIRECT",
    "NOW",
    "TODAY",
    "RAND",
    "RANDBETWEEN",
    "CELL",
    "INFO",
}


def extra_assets():
    """Rows beyond the template's, so that every formula variant is on the sheet."""
    rows = [
        # declining balance shortened part way; a fit-out on declining balance
        {
            "asset_id": "ddb-shortened",
            "asset_class": "accelerator",
            "purchase_month": "2025-06",
            "quantity": 3,
            "unit_price": 28000.0,
            "salvage": 800.0,
            "life_months": 60,
            "method": "declining-balance",
            "new_life_months": 40,
            "life_change_month": "2026-09",
        },
        {
            "asset_id": "fit-out-ddb",
            "asset_class": "facility-fit-out",
            "purchase_month": "2026-02",
            "quantity": 1,
            "unit_price": 50000.0,
            "life_months": 24,
            "method": "declining-balance",
        },
        # fabric by the factory's tokens, ending inside the horizon
        {
            "asset_id": "fabric-tokens",
            "asset_class": "fabric",
            "purchase_month": "2025-11",
            "quantity": 2,
            "unit_price": 9000.0,
            "life_months": 14,
            "method": "units-of-production",
            "lifetime_tokens": 4.0e11,
        },
        # straight-line extended part way, and a change after the asset is fully depreciated
        {
            "asset_id": "sl-extended",
            "asset_class": "accelerator",
            "purchase_month": "2024-01",
            "quantity": 2,
            "unit_price": 26000.0,
            "salvage": 2000.0,
            "life_months": 36,
            "new_life_months": 48,
            "life_change_month": "2026-04",
        },
        # bought after the last month
        {
            "asset_id": "fabric-later",
            "asset_class": "fabric",
            "purchase_month": "2030-01",
            "quantity": 1,
            "unit_price": 9000.0,
            "life_months": 14,
            "method": "units-of-production",
            "lifetime_tokens": 4.0e11,
        },
        {
            "asset_id": "gpu-later",
            "asset_class": "accelerator",
            "purchase_month": "2029-06",
            "quantity": 1,
            "unit_price": 9000.0,
            "life_months": 14,
            "method": "declining-balance",
        },
        {
            "asset_id": '=HYPERLINK("x")',
            "asset_class": "accelerator",
            "purchase_month": "2020-01",
            "quantity": 1,
            "unit_price": 20000.0,
            "life_months": 24,
            "new_life_months": 60,
            "life_change_month": "2023-01",
        },
    ]
    return [Asset.model_validate(row) for row in rows]


def assert_matches_engine(built, recalculated, sheets=None) -> int:
    """Compare every recorded formula cell (on ``sheets``, or all) with LibreOffice; returns the count."""
    checked = 0
    for expectation in built.expectations:
        if sheets is not None and expectation.sheet not in sheets:
            continue
        actual = recalculated.value(expectation.sheet, expectation.coordinate)
        where = f"{expectation.sheet}!{expectation.coordinate}"
        if isinstance(expectation.value, (bool, str)):
            assert actual == expectation.value, where
        elif abs(expectation.value) < NEAR_ZERO:
            # A difference of two large amounts (a closing book value of 0, a decay
            # part of 0) carries their rounding, not a relative error.
            assert abs(actual) < NEAR_ZERO, (
                f"{where}: {actual!r} != {expectation.value!r}"
            )
        else:
            assert_close(actual, expectation.value, where=where)
        checked += 1
    return checked


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCHEDULE_SCENARIO)


@pytest.fixture(scope="module")
def schedule(scenario):
    assets = list(read_asset_register(TEMPLATES / "assets.csv")) + extra_assets()
    return compute_schedule(
        scenario, start=parse_month("2026-01"), months=36, assets=assets
    )


@pytest.fixture(scope="module")
def built(scenario, schedule):
    return build_workbook(scenario, schedule=schedule)


@pytest.fixture(scope="module")
def saved(built, tmp_path_factory):
    path = tmp_path_factory.mktemp("schedule") / "schedule.xlsx"
    write_workbook(built, path)
    return path


@pytest.fixture(scope="module")
def reloaded(saved):
    return load_workbook(saved)


def test_schedule_sheets_come_before_checks(reloaded):
    assert reloaded.sheetnames[-4:] == [
        "Utilization Curve",
        "Schedule",
        "Assets",
        "Checks",
    ]


def test_without_schedule_workbook_is_unchanged():
    committed = REPO_ROOT / "workbooks" / "token_bom_reference.xlsx"
    assert (
        build_workbook(load_scenario(REFERENCE_SCENARIO)).to_bytes()
        == committed.read_bytes()
    )


def test_build_is_byte_identical(scenario, schedule):
    assert (
        build_workbook(scenario, schedule=schedule).to_bytes()
        == build_workbook(scenario, schedule=schedule).to_bytes()
    )


def test_formulas_use_portable_functions(reloaded):
    used: set[str] = set()
    for title in ("Schedule", "Assets"):
        for row in reloaded[title].iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    used.update(re.findall(r"([A-Z][A-Z0-9.]*)\(", str(cell.value)))
    assert used - ALLOWED_FUNCTIONS == set()
    assert used & VOLATILE_FUNCTIONS == set()


def test_asset_id_from_file_is_text(reloaded, schedule):
    ws = reloaded["Assets"]
    row = 9 + [asset.asset_id for asset in schedule.table.assets].index(
        '=HYPERLINK("x")'
    )
    assert ws[f"A{row}"].data_type == "s"
    assert ws[f"A{row}"].value == '=HYPERLINK("x")'


def test_register_inputs_unlocked_and_formulas_locked(reloaded):
    ws = reloaded["Assets"]
    assert ws["E9"].protection.locked is False  # quantity
    assert ws["F9"].protection.locked is False  # unit_price
    assert ws["J9"].protection.locked is True  # life_change_month, blank on this row
    assert ws["L9"].data_type == "f"  # purchase offset
    assert ws["L9"].protection.locked is True
    assert ws.protection.sheet is True


def test_monthly_rows_lock_their_dates(reloaded, schedule):
    # A declining-balance row has formulas only in the months of its life, so its
    # dates and lives are locked. Its price stays an input.
    ws = reloaded["Assets"]
    row = 9 + [asset.asset_id for asset in schedule.table.assets].index("ddb-shortened")
    for column in (
        "D",
        "H",
        "J",
        "K",
    ):  # purchase_month, life_months, life_change_month, new_life_months
        assert ws[f"{column}{row}"].protection.locked is True, column
    assert ws[f"F{row}"].protection.locked is False
    # Bought 2025-06, its life ends at 40 months, in 2028-09: a formula in 2026-01
    # (period 0) and in 2028-09 (period 32), none in 2028-10 (period 33).
    assert ws[f"{grid_letter(0)}{row}"].data_type == "f"
    assert ws[f"{grid_letter(32)}{row}"].data_type == "f"
    assert ws[f"{grid_letter(33)}{row}"].value is None


def test_driver_rows_are_inputs_or_links(reloaded):
    ws = reloaded["Schedule"]
    labels = {ws[f"A{row}"].value: row for row in range(1, ws.max_row + 1)}
    utilization = ws[f"E{labels['Utilization U']}"]
    assert utilization.value == 0.6
    assert utilization.protection.locked is False
    # The template gives no path for the full-load power, so it follows the Inputs sheet.
    assert (
        ws[f"E{labels['Full-load power per accelerator at the wall']}"].value
        == "=energy_wall_kw/accelerators"
    )


def test_schedule_has_both_charts(reloaded):
    titles = []
    for chart in reloaded["Schedule"]._charts:
        titles.append(
            "".join(run.t for paragraph in chart.title.tx.rich.p for run in paragraph.r)
        )
    assert titles == [
        "Cost per million good tokens against the API price",
        "Decay of the cost per good token over the horizon",
    ]


@pytest.mark.libreoffice
def test_formulas_equal_engine_after_recalculation(saved, built, recalc):
    recalculated = recalc(saved)
    assert recalculated.errors() == []
    checked = assert_matches_engine(
        built, recalculated, sheets=("Schedule", "Assets", "Checks")
    )
    assert checked > 1500


@pytest.mark.libreoffice
def test_every_check_passes(saved, recalc):
    assert recalc(saved).named("checks_all_pass") is True


# ---------------------------------------------------------------------------
# The fixed-rate worked example, recalculated


def worked_example_workbook(tmp_path):
    # The engine's worked example: Silicon is 9,000 a month, with 900M good tokens a
    # month until 2026-06 and 1,125M after. A first-month fixed rate of 10.00 per
    # million in 2026 over-recovers 13,500, which lowers 2027's rate from 8.00 to 7.00.
    scenario = parse_scenario(
        {
            "name": "Worked example",
            "hours_per_period": 250.0,
            "accelerators": 10,
            "tokens_per_second": 100.0,
            "utilization": 1.0,
            "yield_rate": 1.0,
            "api_price_per_million": 12.0,
            "silicon": {"unit_price": 21600.0, "life_months": 24},
            "fabric": {"basis": "share-of-silicon", "share_of_silicon": 0.0},
            "facility": {"basis": "fixed", "monthly_cost": 0.0},
            "energy": {"basis": "stated", "full_load_cost": 0.0},
            "operations": {"fte": 0.0, "annual_cost_per_fte": 0.0},
            "assets": [
                {
                    "asset_id": "gpu",
                    "asset_class": "accelerator",
                    "purchase_month": "2026-01",
                    "quantity": 10,
                    "unit_price": 21600.0,
                    "life_months": 24,
                }
            ],
        }
    )
    drivers = Drivers.model_validate(
        {"tokens_per_second": {"2026-01": 100.0, "2026-07": 125.0}}
    )
    schedule = compute_schedule(
        scenario, start=parse_month("2026-01"), months=24, drivers=drivers
    )
    path = tmp_path / "worked.xlsx"
    built = build_workbook(scenario, schedule=schedule)
    write_workbook(built, path)
    return path, built


@pytest.mark.libreoffice
def test_fixed_rate_carry_forward_in_workbook(tmp_path, recalc):
    path, built = worked_example_workbook(tmp_path)
    recalculated = recalc(path)
    ws = load_workbook(path)["Schedule"]
    row_of: dict[str, int] = {}
    for row in range(1, ws.max_row + 1):
        row_of.setdefault(ws[f"A{row}"].value, row)  # the monthly block comes first

    def value(label: str, column: str) -> float:
        return recalculated.value("Schedule", f"{column}{row_of[label]}")

    # Columns E to P are 2026-01 to 2026-12, Q to AB are 2027.
    assert_close(value("Fixed rate", "E"), 10.0)
    assert_close(value("Over (+) or under (-) recovery", "K"), 2250.0)
    assert_close(value("Balance carried forward", "P"), 13500.0)
    assert_close(value("Fixed rate before the balance", "Q"), 8.0)
    assert_close(value("Fixed rate", "Q"), 7.0)
    assert abs(value("Balance carried forward", "AB")) < 1e-6
    assert recalculated.named("checks_all_pass") is True


# ---------------------------------------------------------------------------
# Other scenario shapes, each recalculated


def variant(name):
    """Return (scenario, drivers, months) for one shape of scenario the sheets must handle."""
    physical = load_scenario(
        REFERENCE_SCENARIO.with_name("reference_factory_physical.toml")
    )
    data = physical.model_dump(mode="json", exclude_none=True)
    drivers = None
    months = 18
    if name == "single month":
        months = 1
    elif name == "fiscal year from July, year budget":
        data["restrike"] = {
            "fiscal_year_start_month": 7,
            "fixed_rate_basis": "year-budget",
            "opening_balance": -2500.0,
        }
        drivers = Drivers.model_validate(
            {
                "tokens_per_second": {
                    "2026-01": 200.0,
                    "2026-05": 230.0,
                    "2026-11": 260.0,
                }
            }
        )
    elif name == "stated energy with a price path":
        data["energy"] = {
            "basis": "stated",
            "full_load_cost": 750.0,
            "idle_fraction": 0.2,
        }
        data["fabric"] = {"basis": "capex", "capex": 48000.0, "life_months": 48}
        drivers = Drivers.model_validate(
            {
                "energy_price_per_kwh": {"2026-01": 0.1, "2026-04": 0.2},
                "wall_kw_per_accelerator": {"2026-01": 1.2},
            }
        )
    elif name == "IT power and PUE":
        data["energy"] = {
            "basis": "physical",
            "it_kw": 6.0,
            "pue": 1.3,
            "price_per_kwh": 0.11,
        }
        drivers = Drivers.model_validate(
            {"yield_rate": {"2026-01": 0.9, "2026-03": 0.95}}
        )
    return parse_scenario(data), drivers, months


VARIANTS = [
    "single month",
    "fiscal year from July, year budget",
    "stated energy with a price path",
    "IT power and PUE",
]


@pytest.mark.libreoffice
@pytest.mark.parametrize("name", VARIANTS)
def test_variant_formulas_equal_engine(name, tmp_path, recalc):
    scenario, drivers, months = variant(name)
    schedule = compute_schedule(
        scenario, start=parse_month("2026-01"), months=months, drivers=drivers
    )
    built = build_workbook(scenario, schedule=schedule)
    path = tmp_path / "variant.xlsx"
    write_workbook(built, path)
    recalculated = recalc(path)
    assert recalculated.errors() == []
    assert recalculated.named("checks_all_pass") is True
    assert_matches_engine(built, recalculated)


def large_register(count: int, seed: int) -> list[Asset]:
    """A seeded register of declining-balance rows, all bought in 2026-01 over 72 months."""
    rng = random.Random(seed)
    classes = ["accelerator"] * 8 + ["fabric", "facility-fit-out"]
    return [
        Asset.model_validate(
            {
                "asset_id": f"asset-{number}",
                "asset_class": rng.choice(classes),
                "purchase_month": "2026-01",
                "quantity": rng.randint(1, 16),
                "unit_price": float(rng.randint(20, 40) * 1000),
                "life_months": 72,
                "salvage": float(rng.choice([0, 0, 1000])),
                "method": "declining-balance",
            }
        )
        for number in range(count)
    ]


@pytest.mark.libreoffice
def test_large_register_checks_pass(scenario, tmp_path, recalc):
    # From 2029 every row is on straight-line, so the last year's fixed rate recovers
    # its cost and the balance ends near 0. It is a running sum of amounts in the
    # hundreds of thousands, whose rounding (about 2e-9 here) a tolerance relative to
    # the balance alone rejected; this seed showed it.
    schedule = compute_schedule(
        scenario,
        start=parse_month("2026-01"),
        months=60,
        assets=large_register(600, seed=2),
    )
    assert abs(schedule.recovery.balance_carried_forward[-1]) < 1e-6
    built = build_workbook(scenario, schedule=schedule)
    path = tmp_path / "large.xlsx"
    write_workbook(built, path)
    recalculated = recalc(path)
    assert recalculated.errors() == []
    assert recalculated.named("checks_all_pass") is True
    assert (
        assert_matches_engine(built, recalculated, sheets=("Schedule", "Assets"))
        > 30000
    )
