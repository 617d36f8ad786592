"""TBM mapping validation and TBM-ready rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenbom_xl.chargeback import compute_chargeback
from tokenbom_xl.errors import InputError
from tokenbom_xl.scenario import load_scenario
from tokenbom_xl.tbm import (
    default_tbm_mapping,
    load_tbm_mapping,
    parse_tbm_mapping,
    tbm_destinations,
    tbm_rows,
)
from tokenbom_xl.usage import read_usage

DATA = Path(__file__).parent / "data"


def test_default_mapping_has_every_component():
    routes = default_tbm_mapping()
    assert {route.component for route in routes} == {
        "Silicon",
        "Fabric",
        "Facility",
        "Energy",
        "Platform",
        "Model Lifecycle",
        "Operations",
    }


def test_splits_must_add_to_100():
    text = (
        (Path(__file__).parent.parent / "templates" / "tbm_mapping.csv")
        .read_text("utf-8")
        .replace(
            "Storage,AI Storage,Artificial Intelligence,30",
            "Storage,AI Storage,Artificial Intelligence,25",
        )
    )
    with pytest.raises(
        InputError, match="split_percent of component Fabric adds up to 95"
    ):
        parse_tbm_mapping(text, source="tbm.csv")


def test_tbm_rows_add_up_to_each_line():
    result = compute_chargeback(
        load_scenario(DATA / "two_model_factory.toml"),
        read_usage(DATA / "two_model_usage.csv"),
    )
    routes = default_tbm_mapping()
    rows = tbm_rows(result, routes)
    count = len(tbm_destinations(routes))
    assert len(rows) == len(result.lines) * count
    sums = rows.groupby(["period", "consumer"], sort=False)["amount_cents"].sum()
    for record in result.lines.itertuples(index=False):
        assert sums[(record.period, record.business_unit)] == record.total_cents
    assert (rows["amount_cents"] >= 0).all()
    assert rows["amount_exact"].sum() == pytest.approx(result.lines["total"].sum())


def test_tbm_rows_split_usage_like_full_cost():
    # Research in 2025-01 pays only a usage charge of 2,175 = 0.15 x C(1). Silicon is
    # 5,000 of C(1) = 14,500, so AI Compute gets 2,175 x 5,000 / 14,500 = 750 from
    # Silicon plus Fabric's 20% of 2,175 x 1,250 / 14,500 = 37.50.
    result = compute_chargeback(
        load_scenario(DATA / "two_model_factory.toml"),
        read_usage(DATA / "two_model_usage.csv"),
    )
    rows = tbm_rows(result, default_tbm_mapping())
    research = rows[
        (rows["period"] == "2025-01")
        & (rows["consumer"] == "Research")
        & (rows["sub_tower"] == "AI Compute")
    ]
    assert research["amount_cents"].sum() == 75000 + 3750 + round(
        2175 * 1000 / 14500 * 0.6 * 100
    )


def test_mapping_path_that_is_a_folder_rejected(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        load_tbm_mapping(tmp_path)
