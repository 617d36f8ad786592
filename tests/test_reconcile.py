"""GL input, account mapping and reconciliation: nothing dropped, every error named."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REFERENCE_SCENARIO, TEMPLATES

from tokenbom_xl.chargeback import compute_chargeback
from tokenbom_xl.errors import InputError
from tokenbom_xl.ledger import (
    gl_map_from_range,
    ledger_from_range,
    read_gl_map,
    read_ledger,
)
from tokenbom_xl.reconcile import aggregate_ledger, reconcile, reconcile_table
from tokenbom_xl.scenario import (
    load_scenario,
    scenario_from_parameters,
    scenario_parameters,
)
from tokenbom_xl.usage import read_usage

GL_HEADER = ["period", "account", "cost_centre", "amount", "description"]
MAP_HEADER = ["match", "account", "account_to", "component"]


def row_of(table, period, component):
    match = table[(table["period"] == period) & (table["component"] == component)]
    assert len(match) == 1
    return match.iloc[0]


def test_template_worked_example():
    scenario = load_scenario(REFERENCE_SCENARIO)
    chargeback = compute_chargeback(scenario, read_usage(TEMPLATES / "usage.csv"))
    result = reconcile(
        scenario,
        read_ledger(TEMPLATES / "ledger.csv"),
        read_gl_map(TEMPLATES / "gl_map.csv"),
        chargeback=chargeback,
    )
    # Energy: booked 620 against E(0.6) = 750 x 0.6 = 450: +170, +37.8%, outside 5%.
    energy = row_of(result.table, "2025-01", "Energy")
    assert energy["booked"] == 620.0
    assert energy["modelled"] == pytest.approx(450.0)
    assert energy["variance_pct"] == pytest.approx(170 / 450)
    assert energy["flag"] == "over tolerance"
    # February: Model Lifecycle 960 against 1,000 is -4%, inside tolerance.
    assert row_of(result.table, "2025-02", "Model Lifecycle")["flag"] == "ok"
    # Travel on account 680000 matches no rule: listed, never dropped.
    assert row_of(result.table, "2025-01", "Unmapped")["booked"] == 350.0
    assert result.unmapped["account"].tolist() == ["680000"]
    assert result.unmapped["row"].tolist() == [10]
    assert result.mapped_total + result.unmapped_total == pytest.approx(result.gl_total)
    assert result.gl_total == pytest.approx(28810.0)


def test_leading_zero_and_text_codes_survive(tmp_path):
    ledger = ledger_from_range(
        [
            GL_HEADER,
            ["2025-01", "004100", "0100", 10, "payroll"],
            ["2025-01", "4100", "0100", 20, "other"],
            ["2025-01", "A-17", "x", 5, "t"],
        ]
    )
    gl_map = gl_map_from_range(
        [
            MAP_HEADER,
            ["exact", "004100", None, "operations"],
            ["prefix", "A-", None, "Platform"],
        ]
    )
    result = reconcile(load_scenario(REFERENCE_SCENARIO), ledger, gl_map)
    assert row_of(result.table, "2025-01", "Operations")["booked"] == 10.0
    assert row_of(result.table, "2025-01", "Platform")["booked"] == 5.0
    assert result.unmapped["account"].tolist() == ["4100"]


def test_range_rules_compare_codes_of_equal_length():
    gl_map = gl_map_from_range([MAP_HEADER, ["range", "0100", "0199", "Silicon"]])
    matched = gl_map.match_accounts(
        np.array(["0150", "150", "01500", "0200", "0100", "0199"], dtype=object)
    )
    assert matched.tolist() == [0, -1, -1, -1, 0, 0]


def test_account_matched_twice_names_both_rules():
    ledger = ledger_from_range([GL_HEADER, ["2025-01", "620500", "", 1, ""]])
    gl_map = gl_map_from_range(
        [
            MAP_HEADER,
            ["prefix", "62", None, "Facility"],
            ["range", "620000", "629999", "Energy"],
        ]
    )
    with pytest.raises(InputError) as caught:
        reconcile(load_scenario(REFERENCE_SCENARIO), ledger, gl_map)
    message = str(caught.value)
    assert "account '620500' matches two rules" in message
    assert "rule on row 2 (prefix 62 -> Facility)" in message
    assert "rule on row 3 (range 620000..629999 -> Energy)" in message


def test_blank_amount_names_the_row(tmp_path):
    path = tmp_path / "gl.csv"
    path.write_text(
        "period,account,cost_centre,amount,description\n2025-01,1,a,5,x\n2025-01,2,a,,blank\n",
        "utf-8",
    )
    with pytest.raises(InputError, match=r"gl.csv: row 3, column amount: empty"):
        read_ledger(path)


def test_accounting_negative_amount(tmp_path):
    path = tmp_path / "gl.csv"
    path.write_text(
        "period,account,cost_centre,amount,description\n2025-01,1,a,(120.50),credit\n",
        "utf-8",
    )
    assert read_ledger(path).amount.tolist() == [-120.5]


# Each case: an amount as written in the GL file, and the expected message.
BAD_AMOUNTS = [
    ("350.005", r"row 2, column amount: '350.005' has a fraction of a cent"),
    ("0.001", r"row 2, column amount: '0.001' has a fraction of a cent"),
    ("(12.345)", r"row 2, column amount: '\(12.345\)' has a fraction of a cent"),
    (
        "123456789012345678.91",
        r"row 2, column amount: '123456789012345678.91' is outside the supported range",
    ),
    ("10000000000000.00", r"row 2, column amount: '10000000000000.00' is outside"),
    ("1e309", r"row 2, column amount: '1e309' is not a number"),
    ("-inf", r"row 2, column amount: '-inf' is not a number"),
]


@pytest.mark.parametrize("amount, message", BAD_AMOUNTS)
def test_bad_amount_shown_as_written(tmp_path, amount, message):
    path = tmp_path / "gl.csv"
    path.write_text(
        f"period,account,cost_centre,amount,description\n2025-01,1,a,{amount},x\n",
        "utf-8",
    )
    with pytest.raises(InputError, match=message):
        read_ledger(path)


def test_amounts_at_the_limits_are_exact(tmp_path):
    path = tmp_path / "gl.csv"
    path.write_text(
        "period,account,cost_centre,amount,description\n"
        "2025-01,1,a,9999999999999.99,top\n"
        "2025-01,2,a,350.000,trailing zeros\n",
        "utf-8",
    )
    with pytest.raises(InputError, match=r"gl.csv: the amounts add up, signs ignored"):
        read_ledger(path)
    path.write_text(
        "period,account,cost_centre,amount,description\n"
        "2025-01,1,a,9999999999649.99,top\n"
        "2025-01,2,a,350.000,trailing zeros\n",
        "utf-8",
    )
    ledger = read_ledger(path)
    assert ledger.amount_cents.tolist() == [999999999964999, 35000]
    assert ledger.amount.tolist() == [9999999999649.99, 350.0]


def test_range_amount_float_noise_reads_as_cents():
    # Excel computes =0.1+0.2 as 0.30000000000000004, one unit in the last place
    # above 0.3; a fraction of a cent is many units away.
    rows = [
        GL_HEADER,
        ["2025-01", "1", "a", 0.1 + 0.2, "computed"],
        ["2025-01", "1", "a", 100 * 1.1, "computed"],
    ]
    assert ledger_from_range(rows).amount_cents.tolist() == [30, 11000]
    rows.append(["2025-01", "1", "a", 0.305, "typed"])
    with pytest.raises(
        InputError, match=r"row 4, column amount: '0.305' has a fraction"
    ):
        ledger_from_range(rows)


def test_totals_exact_to_the_cent():
    rng = np.random.default_rng(5)
    cents = rng.integers(-(10**10), 10**10, size=20_000)
    rows = [GL_HEADER] + [
        ["2025-01", "161000" if index % 2 else "999999", "c", f"{value / 100:.2f}", ""]
        for index, value in enumerate(cents.tolist())
    ]
    result = reconcile(
        load_scenario(REFERENCE_SCENARIO),
        ledger_from_range(rows),
        read_gl_map(TEMPLATES / "gl_map.csv"),
    )
    mapped = int(cents[1::2].sum())
    unmapped = int(cents[0::2].sum())
    assert round(result.gl_total * 100) == mapped + unmapped
    assert round(result.mapped_total * 100) == mapped
    assert round(result.unmapped_total * 100) == unmapped
    assert round(row_of(result.table, "2025-01", "Silicon")["booked"] * 100) == mapped


def test_scenario_period_cost_beyond_cents_rejected():
    parameters = {
        parameter.name: parameter.value
        for parameter in scenario_parameters(load_scenario(REFERENCE_SCENARIO))
    }
    parameters["silicon_unit_price"] = 1e18
    scenario = scenario_from_parameters(parameters.items())
    with pytest.raises(InputError, match=r"cost of one period at full utilization"):
        reconcile(
            scenario,
            read_ledger(TEMPLATES / "ledger.csv"),
            read_gl_map(TEMPLATES / "gl_map.csv"),
        )
    with pytest.raises(InputError, match=r"cost of one period at full utilization"):
        compute_chargeback(scenario, read_usage(TEMPLATES / "usage.csv"))


# Each case: mapping rows after the header, and the expected message.
BAD_MAPS = [
    (["fuzzy", "1", None, "Silicon"], r"row 2, column match: 'fuzzy' is invalid"),
    (["exact", None, None, "Silicon"], r"row 2, column account: empty"),
    (["exact", "1", None, "GPU"], r"row 2, column component: unknown component 'GPU'"),
    (["range", "100", None, "Silicon"], r"row 2, column account_to: empty"),
    (
        ["range", "100", "2000", "Silicon"],
        r"row 2, column account_to: '2000' has 4 characters but '100' has 3",
    ),
    (
        ["range", "200", "100", "Silicon"],
        r"row 2, column account_to: '100' comes before '200'",
    ),
    (
        ["prefix", "1", "2", "Silicon"],
        r"row 2, column account_to: '2' is only used by range rules",
    ),
]


@pytest.mark.parametrize("rule, message", BAD_MAPS)
def test_bad_mapping_names_row_and_column(rule, message):
    with pytest.raises(InputError, match=message):
        gl_map_from_range([MAP_HEADER, rule])


def test_periods_without_modelled_cost():
    scenario = load_scenario(REFERENCE_SCENARIO)
    chargeback = compute_chargeback(scenario, read_usage(TEMPLATES / "usage.csv"))
    ledger = ledger_from_range(
        [
            GL_HEADER,
            ["2024-12", "161000", "a", 4000, "late invoice"],
            ["2025-01", "161000", "a", 5000, ""],
        ]
    )
    gl_map = read_gl_map(TEMPLATES / "gl_map.csv")
    result = reconcile(scenario, ledger, gl_map, chargeback=chargeback)
    december = row_of(result.table, "2024-12", "Silicon")
    assert np.isnan(december["modelled"])
    assert december["variance"] == 4000.0
    assert np.isnan(december["variance_pct"])
    assert december["flag"] == "no modelled cost"
    # February has modelled cost but nothing booked: -100%, flagged.
    february = row_of(result.table, "2025-02", "Silicon")
    assert february["booked"] == 0.0
    assert february["flag"] == "over tolerance"
    assert sorted(set(result.table["period"])) == ["2024-12", "2025-01", "2025-02"]


def test_materiality_flag():
    scenario = load_scenario(REFERENCE_SCENARIO)
    data = scenario.model_dump()
    data["reconciliation"] = {"tolerance": 0.5, "materiality": 100.0}
    from tokenbom_xl.scenario import parse_scenario

    strict = parse_scenario(data)
    ledger = ledger_from_range(
        [
            GL_HEADER,
            ["2025-01", "161000", "a", 5200, ""],
            ["2025-01", "620500", "a", 100, ""],
        ]
    )
    result = reconcile(strict, ledger, read_gl_map(TEMPLATES / "gl_map.csv"))
    assert row_of(result.table, "2025-01", "Silicon")["flag"] == "over materiality"
    # Energy: 100 against E(0.6) = 450 is -77.8% and -350.
    assert (
        row_of(result.table, "2025-01", "Energy")["flag"]
        == "over tolerance and materiality"
    )


def test_nothing_dropped_on_many_lines():
    rng = np.random.default_rng(3)
    accounts = [
        "161000",
        "161500",
        "620100",
        "620500",
        "999999",
        "004100",
        "0041",
        "X-1",
    ]
    rows = [GL_HEADER] + [
        [
            f"2025-{rng.integers(1, 4):02d}",
            accounts[rng.integers(len(accounts))],
            "c",
            float(rng.integers(-500, 500)),
            "",
        ]
        for _ in range(2000)
    ]
    ledger = ledger_from_range(rows)
    result = reconcile(
        load_scenario(REFERENCE_SCENARIO), ledger, read_gl_map(TEMPLATES / "gl_map.csv")
    )
    assert result.table["booked"].sum() == pytest.approx(result.gl_total)
    assert len(result.unmapped) == int(
        np.isin(ledger.account, ["999999", "0041", "X-1"]).sum()
    )
    aggregated = aggregate_ledger(ledger, result.rule_index)
    assert aggregated["lines"].sum() == 2000
    assert aggregated["amount"].sum() == pytest.approx(result.gl_total)


def test_reconcile_table_function():
    scenario = load_scenario(REFERENCE_SCENARIO)
    inputs = [[p.name, p.value] for p in scenario_parameters(scenario)]
    ledger = [
        line.split(",")
        for line in (TEMPLATES / "ledger.csv").read_text("utf-8").splitlines()
    ]
    mapping = [
        line.split(",")
        for line in (TEMPLATES / "gl_map.csv").read_text("utf-8").splitlines()
    ]
    table = reconcile_table(ledger, mapping, inputs)
    assert table[0] == [
        "period",
        "component",
        "booked",
        "modelled",
        "variance",
        "variance_pct",
        "flag",
    ]
    energy = table[4]
    assert energy[:5] == ["2025-01", "Energy", 620.0, 450.0, 170.0]
    assert energy[6] == "over tolerance"
    unmapped = table[8]
    assert unmapped == ["2025-01", "Unmapped", 350.0, None, None, None, "unmapped"]
    assert len(table) == 1 + 2 * 8


def test_blank_gl_rows_add_no_period(tmp_path):
    path = tmp_path / "gl.csv"
    path.write_text(
        "period,account,cost_centre,amount,description\n2025-01,161000,a,5,x\n,,,,\n",
        "utf-8",
    )
    result = reconcile(
        load_scenario(REFERENCE_SCENARIO),
        read_ledger(path),
        read_gl_map(TEMPLATES / "gl_map.csv"),
    )
    assert sorted(set(result.table["period"])) == ["2025-01"]


def test_unmapped_lines_netting_to_zero_flagged():
    scenario = load_scenario(REFERENCE_SCENARIO)
    ledger = ledger_from_range(
        [
            GL_HEADER,
            ["2025-01", "161000", "a", 5000, ""],
            ["2025-01", "999999", "a", 100, "travel"],
            ["2025-01", "999999", "b", -100, "travel refund"],
        ]
    )
    result = reconcile(scenario, ledger, read_gl_map(TEMPLATES / "gl_map.csv"))
    unmapped = row_of(result.table, "2025-01", "Unmapped")
    assert unmapped["booked"] == 0.0
    assert unmapped["flag"] == "unmapped"
    assert len(result.unmapped) == 2
