"""The Schedule sheet's layout: one column per month, one row per figure.

Formulas refer to rows above and below them, so every row of the monthly block gets
its number before any cell is written.
"""

from __future__ import annotations

from openpyxl.utils import get_column_letter

from tokenbom_xl.schedule import CAUSES, Schedule

SHEET = "Schedule"
FIRST_PERIOD_COLUMN = (
    5  # column E; A to D contain the label, symbol, unit and horizon total
)
HEADER_ROW = 6
PERIOD_ROW = HEADER_ROW + 1  # period index, 0 for the first month
MILLION = 1e6


def period_letter(period: int) -> str:
    """Return the Schedule column letter of period ``period`` (0-based)."""
    return get_column_letter(FIRST_PERIOD_COLUMN + period)


def _plan(schedule: Schedule) -> list[tuple[str, str]]:
    """List the monthly block top to bottom as ("section", title) and ("row", key) entries."""
    cur = schedule.scenario.currency
    energy_rows = ["wall_kw", "energy_price"] if schedule.energy_priced else []
    plan: list[tuple[str, list[str]]] = [
        (
            "Drivers",
            [
                "accelerators",
                "tokens_per_second",
                "utilization",
                "yield_rate",
                *energy_rows,
                "energy_per_accelerator",
                "cycles",
                "cost_per_cycle",
                "api_price",
            ],
        ),
        (
            f"Components ({cur} per month)",
            [
                "silicon",
                "fabric",
                "facility",
                "energy",
                "platform",
                "model_lifecycle",
                "operations",
                "total",
            ],
        ),
        (
            "Factory",
            [
                "fit_out",
                "fixed",
                "depreciation",
                "other_fixed",
                "energy_full",
                "full_cost",
                "capacity",
                "tokens_per_accelerator",
                "tokens_made",
                "good_tokens",
                "capacity_variance",
            ],
        ),
        (
            f"Per million good tokens ({cur})",
            ["floor", "yield_loss", "variance_per_million", "cost"],
        ),
        (
            f"Decay from the previous month, per million good tokens ({cur})",
            ["change", *(f"decay_{key}" for key, _ in CAUSES)],
        ),
        (
            "Decay workings: cost per good token after substituting each cause in turn",
            [f"step_{key}" for key, _ in CAUSES[:-1]],
        ),
        (
            "Re-strike and fixed-rate recovery",
            [
                "restruck_rate",
                "restruck_recovered",
                "opening_balance",
                "policy",
                "rate_before_balance",
                "fixed_rate",
                "brought_forward",
                "recovered",
                "over_recovery",
                "carried_forward",
            ],
        ),
    ]
    entries: list[tuple[str, str]] = []
    for title, keys in plan:
        entries.append(("section", title))
        entries.extend(("row", key) for key in keys)
    return entries


class ScheduleLayout:
    """Row numbers of the monthly block by row key, and its section titles."""

    def __init__(self, schedule: Schedule) -> None:
        self.rows: dict[str, int] = {"period": PERIOD_ROW}
        self.sections: list[tuple[int, str]] = []
        row = HEADER_ROW + 4
        for kind, name in _plan(schedule):
            if kind == "section":
                self.sections.append((row, name))
            else:
                self.rows[name] = row
            row += 1
        self.end = row  # the first row after the monthly block

    def __getitem__(self, key: str) -> int:
        return self.rows[key]
