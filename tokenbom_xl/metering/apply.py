"""Apply one period's metered inputs to a scenario.

:func:`apply_metered` overrides the inputs that were measured and keeps the rest.
It returns a note for each decision. The workbook and the command line print the
notes to show what was metered and what was taken from the scenario:

- ``utilization`` from telemetry (busy over observed accelerator-seconds);
- ``yield_rate`` from evaluation results;
- Energy, when its basis is ``physical``: full-load IT power from the (U, W) fit
  (else from mean power at the metered utilization), the idle fraction from the fit,
  and PUE from the facility. A ``stated`` energy amount has no price per kWh to
  apply power to, so it is kept.

Token counts and booked costs do not change the scenario, because they feed
chargeback and reconciliation. The notes report them next to the model's figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from tokenbom_xl.engine import token_capacity
from tokenbom_xl.metering.metered import EnergyEntry, Metered
from tokenbom_xl.scenario import EnergyPhysical, Scenario, parse_scenario

__all__ = ["AppliedMetering", "apply_metered", "period_notes"]

# Maximum number of a data file's periods that a note lists. The rest are counted.
_LISTED_PERIODS = 6


@dataclass(frozen=True)
class AppliedMetering:
    """Metered inputs as applied to one scenario, for the Metering sheet."""

    metered: Metered
    notes: list[str]


def apply_metered(scenario: Scenario, metered: Metered) -> tuple[Scenario, list[str]]:
    """Override the metered inputs and return the new scenario with the notes.

    Raises:
        InputError: the combined scenario fails validation, for example because a
            metered mean power of 0 W gives it_kw = 0. The message names the field.
    """
    data = scenario.model_dump()
    notes: list[str] = [f"Period {metered.period}."]
    _apply_utilization(scenario, metered, data, notes)
    _apply_yield(scenario, metered, data, notes)
    _apply_energy(scenario, metered, data, notes)
    _note_tokens(scenario, metered, notes)
    _note_ledger(scenario, metered, notes)
    return parse_scenario(data, source=f"scenario with metered {metered.period}"), notes


class _PeriodTable(Protocol):
    """Usage or ledger data whose rows are labelled with a period ``YYYY-MM``."""

    period_labels: Iterable[str]


def period_notes(
    metered: Metered,
    *,
    usage: _PeriodTable | None = None,
    ledger: _PeriodTable | None = None,
) -> list[str]:
    """Return a note for each data file with no row in the metered period.

    The metered utilization and yield describe one month, so a workbook that
    charges back usage or reconciles a ledger of other months mixes periods.
    """
    notes = []
    for option, table in (("--usage", usage), ("--ledger", ledger)):
        if table is None:
            continue
        periods = sorted({str(label) for label in table.period_labels})
        if not periods or metered.period in periods:
            continue
        listed = ", ".join(periods[:_LISTED_PERIODS])
        if len(periods) > _LISTED_PERIODS:
            listed += f" and {len(periods) - _LISTED_PERIODS} more"
        notes.append(
            f"the metered period {metered.period} is not among the {option} periods "
            f"({listed}), so the metered figures come from another month than that "
            "data; meter the same month or check the files."
        )
    return notes


def _apply_utilization(
    scenario: Scenario, metered: Metered, data: dict[str, Any], notes: list[str]
) -> None:
    entry = metered.utilization
    if entry is None:
        notes.append(
            f"utilization {scenario.utilization:g} taken from the scenario: no telemetry metered it."
        )
        return
    if entry.value <= 0:
        notes.append(
            f"utilization {scenario.utilization:g} taken from the scenario: telemetry measured 0, "
            "where every per-token figure is undefined."
        )
        return
    data["utilization"] = entry.value
    basis = (
        "busy over observed accelerator-seconds"
        if entry.timed
        else "mean of point readings (no timestamps)"
    )
    notes.append(
        f"utilization {entry.value:.4g} metered ({basis}, {entry.accelerators_seen} accelerator(s) seen); "
        f"the scenario had {scenario.utilization:g}."
    )
    if entry.accelerators_seen != scenario.accelerators:
        notes.append(
            f"telemetry saw {entry.accelerators_seen} accelerator(s), the scenario has {scenario.accelerators}: "
            "the measured utilization is applied to all of them."
        )


def _apply_yield(
    scenario: Scenario, metered: Metered, data: dict[str, Any], notes: list[str]
) -> None:
    if metered.yield_rate is None:
        notes.append(
            f"yield_rate {scenario.yield_rate:g} taken from the scenario: no evaluation results metered it."
        )
        return
    if metered.yield_rate <= 0:
        notes.append(
            f"yield_rate {scenario.yield_rate:g} taken from the scenario: the metered yield is 0."
        )
        return
    data["yield_rate"] = metered.yield_rate
    notes.append(
        f"yield_rate {metered.yield_rate:.4g} metered ({metered.yield_basis}); the scenario had {scenario.yield_rate:g}."
    )


def _apply_energy(
    scenario: Scenario, metered: Metered, data: dict[str, Any], notes: list[str]
) -> None:
    energy = metered.energy or EnergyEntry()
    if energy.mean_power_w is None and energy.pue is None:
        notes.append("energy taken from the scenario: no power or PUE metered.")
        return
    if not isinstance(scenario.energy, EnergyPhysical):
        notes.append(
            "energy taken from the scenario: its basis is a stated amount, with no price per kWh to apply "
            'metered power or PUE to; use basis = "physical" to apply them.'
        )
        return

    section = dict(data["energy"])
    utilization = data["utilization"]
    idle_fraction = section.get("idle_fraction", 0.0)
    full_load_w = None
    if energy.full_load_power_w is not None and energy.idle_power_w is not None:
        full_load_w = energy.full_load_power_w
        idle_fraction = min(energy.idle_power_w / full_load_w, 1.0)
        power_source = f"fitted from utilization and power readings (idle {energy.idle_power_w:.1f} W)"
    elif energy.mean_power_w is not None:
        # Mean power at utilization U is full-load power x (i + (1 - i) x U), where
        # i is the idle fraction.
        full_load_w = energy.mean_power_w / (
            idle_fraction + (1 - idle_fraction) * utilization
        )
        power_source = f"from mean power {energy.mean_power_w:.1f} W at utilization {utilization:.4g}"

    if full_load_w is not None:
        it_kw = full_load_w * scenario.accelerators / 1000.0
        pue = energy.pue if energy.pue is not None else section.get("pue")
        if pue is None:
            notes.append(
                "energy taken from the scenario: accelerator power was metered but no PUE, and the scenario "
                "states wall power; give --facility data to convert IT power to wall power."
            )
            return
        section.update(wall_kw=None, it_kw=it_kw, pue=pue, idle_fraction=idle_fraction)
        pue_source = "metered" if energy.pue is not None else "from the scenario"
        notes.append(
            f"energy: full-load IT power {full_load_w:.1f} W per accelerator {power_source}, so it_kw = {it_kw:.4g} "
            f"for {scenario.accelerators} accelerators; idle_fraction {idle_fraction:.4g}; PUE {pue:.4g} {pue_source}."
        )
    else:
        if section.get("it_kw") is None:
            notes.append(
                "energy taken from the scenario: it states wall power (PUE included), so a metered PUE does not apply."
            )
            return
        section["pue"] = energy.pue
        notes.append(
            f"energy: PUE {energy.pue:.4g} metered; IT power taken from the scenario."
        )
    data["energy"] = {key: value for key, value in section.items() if value is not None}


def _note_tokens(scenario: Scenario, metered: Metered, notes: list[str]) -> None:
    if not metered.tokens:
        notes.append(
            "tokens: none metered; good tokens are capacity x utilization x yield from the scenario."
        )
        return
    output_tokens = sum(entry.output_tokens for entry in metered.tokens)
    capacity = float(
        token_capacity(
            scenario.accelerators, scenario.tokens_per_second, scenario.hours_per_period
        )
    )
    share = output_tokens / capacity if capacity else 0.0
    notes.append(
        f"tokens: {output_tokens:,} output tokens metered for {len(metered.tokens)} business unit and model pair(s), "
        f"{share:.3%} of capacity; they feed chargeback and do not change the model."
    )


def _note_ledger(scenario: Scenario, metered: Metered, notes: list[str]) -> None:
    if metered.booked:
        total = sum((Decimal(entry.amount) for entry in metered.booked), Decimal(0))
        notes.append(
            f"booked costs: {len(metered.booked)} account and cost-centre total(s), {total:,.2f} {scenario.currency} "
            "in all; they are for reconciliation and do not change the model."
        )
    else:
        notes.append("booked costs: none metered.")
    for profile in metered.depreciation_profiles:
        if (
            profile.life_months != scenario.silicon.life_months
            and profile.name.lower()
            in ("technology", "computer equipment", "it equipment")
        ):
            notes.append(
                f"the ledger depreciates {profile.name} over {profile.life_months} months; "
                f"silicon.life_months stays {scenario.silicon.life_months} from the scenario."
            )
