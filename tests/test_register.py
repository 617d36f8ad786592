"""The asset register: the CSV template, and errors that name the row, column, value and fix."""

from __future__ import annotations

import pytest
from conftest import TEMPLATES

from tokenbom_xl.errors import InputError
from tokenbom_xl.register import (
    ASSET_COLUMNS,
    Asset,
    parse_asset_csv,
    read_asset_register,
)
from tokenbom_xl.scenario import parse_scenario

HEADER = "asset_id,asset_class,purchase_month,quantity,unit_price,life_months,salvage,method,lifetime_tokens,new_life_months,life_change_month"
GOOD_ROW = "gpu-1,accelerator,2026-01,8,30000,48,0,straight-line,,,"


def test_template_register_reads():
    assets = read_asset_register(TEMPLATES / "assets.csv")
    assert len(assets) == 7
    assert {asset.asset_class for asset in assets} == {
        "accelerator",
        "fabric",
        "facility-fit-out",
    }
    assert {asset.method for asset in assets} == {
        "straight-line",
        "declining-balance",
        "units-of-production",
    }
    changed = [asset for asset in assets if asset.life_change_month]
    assert [
        (asset.life_months, asset.new_life_months, asset.change_age)
        for asset in changed
    ] == [(72, 60, 18)]


def test_template_header_lists_every_column():
    lines = (TEMPLATES / "assets.csv").read_text().splitlines()
    header = next(line for line in lines if not line.startswith("#"))
    assert tuple(header.split(",")) == ASSET_COLUMNS


def test_optional_columns_default():
    text = "asset_id,asset_class,purchase_month,quantity,unit_price,life_months\na,fabric,2026-02,1,5000,60\n"
    (asset,) = parse_asset_csv(text)
    assert asset.salvage == 0.0
    assert asset.method == "straight-line"
    assert asset.lifetime_tokens is None


def test_comments_blank_lines_and_case():
    text = f"# a comment\n\n{HEADER}\n\n  # another\ngpu,Accelerator,2026-01,8.0,30000,48,,Straight-Line,,,\n"
    (asset,) = parse_asset_csv(text)
    assert asset.purchase_month == "2026-01"
    assert asset.quantity == 8
    assert asset.asset_class == "accelerator"
    assert asset.method == "straight-line"


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "assets.csv"
    path.write_bytes(("\ufeff" + HEADER + "\n" + GOOD_ROW + "\n").encode("utf-8"))
    assert read_asset_register(path)[0].asset_id == "gpu-1"


# (row as CSV, fragments the message must contain); the header is row 1, so the row is row 2
BAD_ROWS = [
    (
        "gpu,accelerator,2026-01,8,-30000,48,,,,,",
        ["row 2, column unit_price", "'-30000'", "greater than 0"],
    ),
    (
        "gpu,accelerator,2026-01,8,30 000,48,,,,,",
        ["column unit_price", "not a number", "thousands separators"],
    ),
    (
        "gpu,accelerator,2026-01,8,30000,48,,,,,".replace(",8,", ",8.5,"),
        ["column quantity", "not a whole number"],
    ),
    (
        "gpu,accelerator,2026-13,8,30000,48,,,,,",
        ["column purchase_month", "'2026-13'", "YYYY-MM"],
    ),
    (
        "gpu,gpu,2026-01,8,30000,48,,,,,",
        ["column asset_class", "'gpu'", "accelerator, fabric or facility-fit-out"],
    ),
    (
        "gpu,accelerator,2026-01,8,30000,0,,,,,",
        ["column life_months", "'0'", "1 to 240"],
    ),
    (
        "gpu,accelerator,2026-01,8,30000,48,,sum-of-years,,,",
        ["column method", "units-of-production"],
    ),
    (
        "gpu,accelerator,2026-01,8,30000,48,30000,,,,",
        ["row 2", "salvage (30000) must be less than unit_price"],
    ),
    (
        "gpu,accelerator,2026-01,8,30000,48,,units-of-production,,,",
        ["row 2", "needs lifetime_tokens"],
    ),
    ("gpu,accelerator,2026-01,8,30000,48,,,1e9,,", ["row 2", "remove lifetime_tokens"]),
    ("gpu,accelerator,2026-01,8,30000,48,,,,60,", ["row 2", "give both or neither"]),
    (
        "gpu,accelerator,2026-01,8,30000,72,,,,60,2026-01",
        ["row 2", "must be after purchase_month"],
    ),
    (
        "gpu,accelerator,2026-01,8,30000,72,,,,12,2027-01",
        ["row 2", "new_life_months (12)", "age", "(12 months)"],
    ),
    (",accelerator,2026-01,8,30000,48,,,,,", ["row 2, column asset_id: missing value"]),
    (
        "gpu,accelerator,2026-01,8,30000,48,,,,,,extra",
        ["row 2 has 12 values", "quote values"],
    ),
    (
        "gpu,accelerator,2026-01,8,nan,48,,,,,",
        ["column unit_price", "not a finite number"],
    ),
]


@pytest.mark.parametrize(("row", "fragments"), BAD_ROWS)
def test_invalid_cell_is_named(row, fragments):
    with pytest.raises(InputError) as caught:
        parse_asset_csv(f"{HEADER}\n{row}\n", source="register.csv")
    message = str(caught.value)
    assert message.startswith("register.csv: ")
    for fragment in fragments:
        assert fragment in message


def test_every_invalid_row_is_listed():
    text = f"{HEADER}\n{GOOD_ROW}\ngpu-2,accelerator,2026-01,0,30000,48,,,,,\ngpu-3,accelerator,2026-01,1,30000,999,,,,,\n"
    with pytest.raises(InputError) as caught:
        parse_asset_csv(text)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert "row 3, column quantity" in lines[0]
    assert "row 4, column life_months" in lines[1]


def test_repeated_asset_id_names_both_rows():
    with pytest.raises(
        InputError, match=r"row 3, column asset_id: 'gpu-1' is already used on row 2"
    ):
        parse_asset_csv(f"{HEADER}\n{GOOD_ROW}\n{GOOD_ROW}\n")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the file is empty"),
        ("# only a comment\n", "the file is empty"),
        (HEADER + "\n", "no assets"),
        (
            HEADER.replace("salvage", "salvage_value") + "\n" + GOOD_ROW,
            "unknown column 'salvage_value'",
        ),
        (HEADER + ",quantity\n" + GOOD_ROW, "column 'quantity' appears twice"),
        (
            "asset_id,asset_class,purchase_month\ngpu,accelerator,2026-01\n",
            "missing column(s) quantity, unit_price, life_months",
        ),
        (HEADER.replace(",method", ",") + "\n", "a column has no name"),
    ],
)
def test_invalid_file_shape(text, fragment):
    with pytest.raises(InputError) as caught:
        parse_asset_csv(text)
    assert fragment in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="asset register file not found"):
        read_asset_register(tmp_path / "nope.csv")


def test_not_utf8(tmp_path):
    path = tmp_path / "assets.csv"
    path.write_bytes(HEADER.encode() + b"\n\xff\xfe,accelerator\n")
    with pytest.raises(InputError, match="not UTF-8"):
        read_asset_register(path)


def test_many_errors_are_summarized():
    rows = "\n".join(
        f"gpu-{number},accelerator,2026-01,0,30000,48,,,,," for number in range(40)
    )
    with pytest.raises(InputError) as caught:
        parse_asset_csv(f"{HEADER}\n{rows}\n")
    lines = str(caught.value).splitlines()
    assert len(lines) == 31
    assert "10 more invalid cells" in lines[-1]


def test_scenario_assets_errors_count_rows_from_one():
    data = {
        "name": "x",
        "accelerators": 1,
        "tokens_per_second": 1.0,
        "utilization": 0.5,
        "yield_rate": 1.0,
        "api_price_per_million": 1.0,
        "silicon": {"unit_price": 1.0, "life_months": 1},
        "fabric": {"basis": "share-of-silicon", "share_of_silicon": 0.0},
        "facility": {"basis": "fixed", "monthly_cost": 0.0},
        "energy": {"basis": "stated", "full_load_cost": 0.0},
        "operations": {"fte": 0.0, "annual_cost_per_fte": 0.0},
        "assets": [
            {
                "asset_id": "a",
                "asset_class": "accelerator",
                "purchase_month": "2026-01",
                "quantity": 1,
                "unit_price": 1000.0,
                "life_months": 12,
            },
            {
                "asset_id": "b",
                "asset_class": "accelerator",
                "purchase_month": "2026-01",
                "quantity": 1,
                "unit_price": -5.0,
                "life_months": 12,
                "salvage": 0.0,
            },
        ],
    }
    with pytest.raises(InputError) as caught:
        parse_scenario(data, source="factory.toml")
    message = str(caught.value)
    assert "factory.toml: assets[2].unit_price = -5.0 is invalid" in message
    assert "> 0" in message


def test_asset_change_age():
    asset = Asset.model_validate(
        {
            "asset_id": "a",
            "asset_class": "accelerator",
            "purchase_month": "2024-07",
            "quantity": 1,
            "unit_price": 1.0,
            "life_months": 72,
            "new_life_months": 60,
            "life_change_month": "2026-01",
        }
    )
    assert asset.change_age == 18
    assert asset.purchase_index == 2024 * 12 + 6
