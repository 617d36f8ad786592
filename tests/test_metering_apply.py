"""apply_metered, the metered TOML and the usage CSV."""

from __future__ import annotations

import pytest
from conftest import PHYSICAL_SCENARIO, REFERENCE_SCENARIO

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.apply import apply_metered, period_notes
from tokenbom_xl.metering.metered import (
    EnergyEntry,
    Metered,
    TokenEntry,
    UtilizationEntry,
    load_metered,
    metered_toml,
    usage_csv,
)
from tokenbom_xl.scenario import EnergyPhysical, EnergyStated, load_scenario
from tokenbom_xl.usage import usage_from_range

UTILIZATION = UtilizationEntry(
    value=0.5,
    busy_accelerator_seconds=14.657,
    observed_accelerator_seconds=29.314,
    accelerators_seen=8,
    timed=True,
)


def test_nothing_metered_keeps_scenario():
    scenario = load_scenario(REFERENCE_SCENARIO)
    applied, notes = apply_metered(scenario, Metered(period="2026-11"))

    assert applied == scenario
    assert "utilization 0.6 taken from the scenario: no telemetry metered it." in notes
    assert (
        "yield_rate 0.9 taken from the scenario: no evaluation results metered it."
        in notes
    )
    assert "energy taken from the scenario: no power or PUE metered." in notes


def test_utilization_and_yield_override():
    scenario = load_scenario(REFERENCE_SCENARIO)
    metered = Metered(
        period="2026-11", utilization=UTILIZATION, yield_rate=0.75, yield_basis="test"
    )
    applied, notes = apply_metered(scenario, metered)

    assert applied.utilization == 0.5
    assert applied.yield_rate == 0.75
    assert applied.silicon == scenario.silicon


def test_stated_energy_kept():
    scenario = load_scenario(REFERENCE_SCENARIO)
    metered = Metered(period="2026-11", energy=EnergyEntry(mean_power_w=350.0, pue=1.2))
    applied, notes = apply_metered(scenario, metered)

    assert isinstance(applied.energy, EnergyStated)
    assert applied.energy == scenario.energy
    assert any("its basis is a stated amount" in note for note in notes)


def test_physical_energy_from_fit():
    scenario = load_scenario(PHYSICAL_SCENARIO)
    energy = EnergyEntry(
        mean_power_w=350.9, full_load_power_w=631.95, idle_power_w=69.85, pue=1.064
    )
    applied, notes = apply_metered(
        scenario, Metered(period="2026-11", utilization=UTILIZATION, energy=energy)
    )

    assert isinstance(applied.energy, EnergyPhysical)
    assert applied.energy.wall_kw is None
    assert applied.energy.it_kw == pytest.approx(631.95 * 8 / 1000)
    assert applied.energy.pue == 1.064
    assert applied.energy.idle_fraction == pytest.approx(69.85 / 631.95)
    assert applied.energy.price_per_kwh == scenario.energy.price_per_kwh


def test_physical_energy_from_mean_power():
    scenario = load_scenario(PHYSICAL_SCENARIO)  # idle_fraction 0
    energy = EnergyEntry(mean_power_w=300.0, pue=1.5)
    applied, _ = apply_metered(
        scenario, Metered(period="2026-11", utilization=UTILIZATION, energy=energy)
    )

    # Mean power 300 W at U = 0.5 with no idle draw: 600 W at full load.
    assert applied.energy.it_kw == pytest.approx(0.6 * 8)


def test_power_without_pue_on_wall_scenario():
    scenario = load_scenario(PHYSICAL_SCENARIO)  # states wall_kw
    applied, notes = apply_metered(
        scenario, Metered(period="2026-11", energy=EnergyEntry(mean_power_w=300.0))
    )

    assert applied.energy == scenario.energy
    assert any("no PUE, and the scenario states wall power" in note for note in notes)


def test_zero_utilization_kept():
    scenario = load_scenario(REFERENCE_SCENARIO)
    zero = UTILIZATION.model_copy(
        update={"value": 0.0, "busy_accelerator_seconds": 0.0}
    )
    applied, notes = apply_metered(
        scenario, Metered(period="2026-11", utilization=zero)
    )

    assert applied.utilization == 0.6
    assert any("telemetry measured 0" in note for note in notes)


def test_toml_round_trip(tmp_path):
    metered = Metered(
        period="2026-11",
        utilization=UTILIZATION,
        tokens=[
            TokenEntry(
                business_unit='=HYPERLINK("http://x","y")',
                model="m",
                output_tokens=10,
                input_tokens=1,
                requests=1,
            )
        ],
        taken_from_scenario=["yield"],
    )
    path = tmp_path / "metered.toml"
    path.write_text(metered_toml(metered), encoding="utf-8")

    assert load_metered(path) == metered


def test_load_metered_errors(tmp_path):
    path = tmp_path / "metered.toml"
    path.write_text('period = "2026-13"\n', encoding="utf-8")
    with pytest.raises(
        InputError, match=r"metered.toml: period: string should match pattern"
    ):
        load_metered(path)

    path.write_text(
        'period = "2026-11"\n[utilization]\nvalue = 1.5\n', encoding="utf-8"
    )
    with pytest.raises(
        InputError,
        match=r"utilization.value: input should be less than or equal to 1 \(value 1.5\)",
    ):
        load_metered(path)


def test_load_metered_deep_nesting(tmp_path):
    path = tmp_path / "metered.toml"
    path.write_text(
        'period = "2026-11"\nx = ' + "[" * 50_000 + "1" + "]" * 50_000 + "\n",
        encoding="utf-8",
    )

    with pytest.raises(InputError, match=r"metered\.toml: not valid TOML: .*nested"):
        load_metered(path)


def test_usage_csv():
    tokens = [
        TokenEntry(
            business_unit="ads",
            model="m8",
            output_tokens=10,
            input_tokens=0,
            requests=1,
            yield_rate=0.5,
            good_tokens=5,
            scrapped_tokens=5,
        ),
        TokenEntry(
            business_unit="=cmd",
            model="m70",
            output_tokens=3,
            input_tokens=0,
            requests=1,
        ),
    ]
    metered = Metered(period="2026-11", tokens=tokens)

    with pytest.raises(InputError, match="model 'm70' has no metered yield"):
        usage_csv(metered)
    # 3 x 0.9 = 2.7 rounds to 3; names stay exactly as metered.
    assert usage_csv(metered, scenario_yield=0.9) == (
        "period,business_unit,model,good_tokens,reserved_share\n2026-11,ads,m8,5,\n2026-11,=cmd,m70,3,\n"
    )


def usage_of(*periods):
    rows = [["period", "business_unit", "model", "good_tokens", "reserved_share"]]
    rows += [[period, "ads", "m", 1000, ""] for period in periods]
    return usage_from_range(rows)


def test_period_note_names_both_periods():
    notes = period_notes(
        Metered(period="2026-11"), usage=usage_of("2026-10", "2026-09")
    )

    assert len(notes) == 1
    assert "metered period 2026-11" in notes[0]
    assert "--usage periods (2026-09, 2026-10)" in notes[0]


def test_period_note_absent_when_period_matches():
    notes = period_notes(
        Metered(period="2026-11"), usage=usage_of("2026-10", "2026-11")
    )

    assert notes == []


def test_period_note_lists_six_periods():
    months = [f"2025-{month:02d}" for month in range(1, 13)]

    notes = period_notes(Metered(period="2026-11"), usage=usage_of(*months))

    assert (
        "(2025-01, 2025-02, 2025-03, 2025-04, 2025-05, 2025-06 and 6 more)"
        in (notes[0])
    )
