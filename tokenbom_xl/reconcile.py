"""Reconciliation of the modelled BOM against the general ledger.

For each period and component: booked (GL lines mapped to the component), modelled
(the component's cost in that period), variance = booked - modelled, variance % =
variance / modelled, and a flag. Each period also gets an ``Unmapped`` row with the
GL lines that no rule maps, so the rows of a period add up to its GL total.

Which periods are modelled:

- with usage (a chargeback), the usage periods, each at the utilization its usage
  implies; a GL period without usage has no modelled cost;
- without usage, every GL period at the scenario's utilization.

Flags, in order of precedence:

- ``unmapped``: an Unmapped row of a period with at least one unmapped GL line, even
  when those lines net to 0;
- ``no modelled cost``: something booked against a modelled cost of 0 or none;
- ``over tolerance``, ``over materiality`` or ``over tolerance and materiality``:
  |variance %| above the tolerance, |variance| above the materiality amount (0 turns
  the amount test off);
- ``ok`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tokenbom_xl.chargeback import check_period_cost
from tokenbom_xl.engine import component_costs, energy_cost
from tokenbom_xl.ledger import GlMap, Ledger, gl_map_from_range, ledger_from_range
from tokenbom_xl.scenario import COMPONENTS, Scenario

if TYPE_CHECKING:
    from tokenbom_xl.chargeback import ChargebackResult

__all__ = [
    "RECONCILIATION_COLUMNS",
    "UNMAPPED",
    "Reconciliation",
    "reconcile",
    "reconcile_table",
]

RECONCILIATION_COLUMNS = (
    "period",
    "component",
    "booked",
    "modelled",
    "variance",
    "variance_pct",
    "flag",
)
UNMAPPED_COLUMNS = ("row", "period", "account", "cost_centre", "amount", "description")
UNMAPPED = "Unmapped"


@dataclass(frozen=True)
class Reconciliation:
    """Result of a reconciliation.

    ``table`` has one row per period and component plus an Unmapped row per period
    (``modelled`` and ``variance_pct`` are NaN where undefined). ``unmapped`` lists
    every GL line that no rule maps, in file order. ``rule_index`` gives each GL line's
    rule (an index into ``gl_map.rules``), -1 where unmapped.
    """

    table: pd.DataFrame
    unmapped: pd.DataFrame
    rule_index: np.ndarray
    gl_total: float
    mapped_total: float
    unmapped_total: float
    line_count: int
    tolerance: float
    materiality: float

    def table_rows(self) -> list[list[Any]]:
        """Return the table as a 2-D list with a header row and money rounded to cents."""
        rows: list[list[Any]] = [list(RECONCILIATION_COLUMNS)]
        for record in self.table.itertuples(index=False):
            rows.append(
                [
                    record.period,
                    record.component,
                    _round_to_cents(record.booked),
                    None
                    if np.isnan(record.modelled)
                    else _round_to_cents(record.modelled),
                    None
                    if np.isnan(record.variance)
                    else _round_to_cents(record.variance),
                    None
                    if np.isnan(record.variance_pct)
                    else float(record.variance_pct),
                    record.flag,
                ]
            )
        return rows


def _round_to_cents(value: float) -> float:
    """Round an amount to cents, with halves away from zero."""
    return float(np.sign(value) * np.floor(abs(value) * 100 + 0.5) / 100)


def reconcile(
    scenario: Scenario,
    ledger: Ledger,
    gl_map: GlMap,
    *,
    chargeback: ChargebackResult | None = None,
) -> Reconciliation:
    """Reconcile ``ledger`` against the modelled BOM.

    The module docstring lists which periods are modelled and how rows are flagged.

    Raises:
        InputError: two mapping rules match one GL account, or the scenario's period
            cost is above MAX_AMOUNT.
    """
    rule_index = gl_map.match_accounts(ledger.account_labels)[ledger.account_code]
    rule_component = np.array(
        [_component_number(rule.component) for rule in gl_map.rules] + [-1],
        dtype=np.int64,
    )
    # Index -1 (no rule) picks the trailing -1, which marks a line as unmapped.
    component = rule_component[rule_index]

    components = component_costs(scenario)
    check_period_cost(scenario, components.fixed + components.energy_full)
    modelled_periods, modelled = _modelled(scenario, ledger, chargeback)
    periods = np.union1d(ledger.period_labels.astype(str), modelled_periods)
    period_number = np.searchsorted(periods, ledger.period_labels.astype(str))[
        ledger.period_code
    ]
    width = len(COMPONENTS) + 1  # the seven components, then Unmapped
    column = np.where(component >= 0, component, len(COMPONENTS))
    # Whole cents summed as floats are exact, because the ledger's absolute cents
    # add up to no more than MAX_CENTS, below 2**53.
    booked_cents = np.bincount(
        period_number * width + column,
        weights=ledger.amount_cents.astype(np.float64),
        minlength=len(periods) * width,
    )
    booked = booked_cents.reshape(len(periods), width) / 100.0
    unmapped_lines = np.bincount(period_number[component < 0], minlength=len(periods))

    modelled_matrix = np.full((len(periods), width), np.nan)
    if len(modelled_periods):
        modelled_rows = np.searchsorted(periods, modelled_periods)
        modelled_matrix[modelled_rows, : len(COMPONENTS)] = modelled
    table = _table(periods, booked, modelled_matrix, unmapped_lines, scenario)

    unmapped_mask = component < 0
    unmapped = pd.DataFrame(
        {
            "row": ledger.row[unmapped_mask],
            "period": ledger.period[unmapped_mask],
            "account": ledger.account[unmapped_mask],
            "cost_centre": ledger.cost_centre[unmapped_mask],
            "amount": ledger.amount[unmapped_mask],
            "description": ledger.description[unmapped_mask],
        }
    )
    gl_total = int(ledger.amount_cents.sum()) / 100
    unmapped_total = int(ledger.amount_cents[unmapped_mask].sum()) / 100
    return Reconciliation(
        table=table,
        unmapped=unmapped,
        rule_index=rule_index,
        gl_total=gl_total,
        mapped_total=int(ledger.amount_cents[~unmapped_mask].sum()) / 100,
        unmapped_total=unmapped_total,
        line_count=len(ledger),
        tolerance=scenario.reconciliation.tolerance,
        materiality=scenario.reconciliation.materiality,
    )


def _component_number(label: str) -> int:
    return [name for _, name in COMPONENTS].index(label)


def modelled_costs(scenario: Scenario, utilization: np.ndarray) -> np.ndarray:
    """Return each component's cost (columns in BOM order) at each utilization (rows)."""
    costs = component_costs(scenario)
    energy = np.asarray(
        energy_cost(costs.energy_full, utilization, costs.idle_fraction),
        dtype=np.float64,
    )
    columns = []
    for key, _ in COMPONENTS:
        if key == "energy":
            columns.append(energy)
        else:
            columns.append(np.full(len(utilization), getattr(costs, key)))
    return (
        np.column_stack(columns) if len(utilization) else np.zeros((0, len(COMPONENTS)))
    )


def _modelled(
    scenario: Scenario, ledger: Ledger, chargeback: ChargebackResult | None
) -> tuple[np.ndarray, np.ndarray]:
    if chargeback is not None:
        periods = chargeback.periods["period"].to_numpy(dtype=str)
        utilization = chargeback.periods["utilization"].to_numpy()
    else:
        periods = np.unique(ledger.period_labels.astype(str))
        utilization = np.full(len(periods), scenario.utilization)
    return periods, modelled_costs(scenario, utilization)


def _table(
    periods: np.ndarray,
    booked: np.ndarray,
    modelled: np.ndarray,
    unmapped_lines: np.ndarray,
    scenario: Scenario,
) -> pd.DataFrame:
    names = [label for _, label in COMPONENTS] + [UNMAPPED]
    count, width = booked.shape
    booked_flat = booked.ravel()
    modelled_flat = modelled.ravel()
    is_unmapped = np.tile(np.arange(width) == width - 1, count)
    variance = np.where(is_unmapped, np.nan, booked_flat - np.nan_to_num(modelled_flat))
    with np.errstate(divide="ignore", invalid="ignore"):
        variance_pct = np.where(
            np.nan_to_num(modelled_flat) != 0, variance / modelled_flat, np.nan
        )

    tolerance = scenario.reconciliation.tolerance
    materiality = scenario.reconciliation.materiality
    over_tolerance = np.abs(np.nan_to_num(variance_pct)) > tolerance
    over_materiality = (materiality > 0) & (
        np.abs(np.nan_to_num(variance)) > materiality
    )
    flag = np.full(len(booked_flat), "ok", dtype=object)
    flag[over_tolerance] = "over tolerance"
    flag[over_materiality] = "over materiality"
    flag[over_tolerance & over_materiality] = "over tolerance and materiality"
    not_modelled = (
        ~is_unmapped & (np.nan_to_num(modelled_flat) == 0) & (booked_flat != 0)
    )
    flag[not_modelled] = "no modelled cost"
    has_unmapped_lines = np.zeros((count, width), dtype=bool)
    has_unmapped_lines[:, -1] = unmapped_lines > 0
    flag[has_unmapped_lines.ravel()] = "unmapped"

    return pd.DataFrame(
        {
            "period": np.repeat(periods, width),
            "component": np.tile(np.array(names, dtype=object), count),
            "booked": booked_flat,
            "modelled": np.where(is_unmapped, np.nan, modelled_flat),
            "variance": variance,
            "variance_pct": variance_pct,
            "flag": flag,
        }
    )


def reconcile_table(ledger_range: Any, map_range: Any, inputs: Any) -> list[list[Any]]:
    """Compute the RECONCILE table from Python, raising InputError on invalid input.

    The registered worksheet function is :func:`tokenbom_xl.excel.tables.reconcile`.
    It returns the same table, but it also rejects dates and error values in the
    data, leaves out inputs with an empty value, and returns ``#VALUE!`` with the
    message instead of raising.

    ``ledger_range`` is the GL export with its header row (period, account,
    cost_centre, amount, description), ``map_range`` the mapping with its header row
    (match, account, account_to, component), and ``inputs`` the two-column range of
    parameter names and values from the Inputs sheet. Every GL period is modelled at
    the scenario's utilization. Returns a header row, then per period the seven
    components and an Unmapped row: period, component, booked, modelled, variance,
    variance % (a fraction) and flag. Money is rounded to cents, and a cell is empty
    where its figure is undefined.

    Raises:
        InputError: invalid ledger, mapping or inputs. The message names the row and
            column.
    """
    from tokenbom_xl.chargeback import parameter_pairs
    from tokenbom_xl.scenario import scenario_from_parameters

    scenario = scenario_from_parameters(parameter_pairs(inputs), source="inputs")
    ledger = ledger_from_range(ledger_range, source="ledger_range")
    gl_map = gl_map_from_range(map_range, source="map_range")
    return reconcile(scenario, ledger, gl_map).table_rows()


def reconciliation_frame(result: Reconciliation) -> pd.DataFrame:
    """Return the reconciliation CSV table, with money as two-decimal text.

    A figure that is undefined is an empty field.
    """
    from tokenbom_xl.csvout import cents_text
    from tokenbom_xl.rounding import to_cents

    table = result.table
    modelled = table["modelled"].to_numpy()
    variance = table["variance"].to_numpy()
    pct = table["variance_pct"].to_numpy()
    return pd.DataFrame(
        {
            "period": table["period"].to_numpy(dtype=object),
            "component": table["component"].to_numpy(dtype=object),
            "booked": cents_text(to_cents(table["booked"].to_numpy())),
            "modelled": pd.Series(
                cents_text(to_cents(np.nan_to_num(modelled))), dtype=object
            ).where(~np.isnan(modelled), ""),
            "variance": pd.Series(
                cents_text(to_cents(np.nan_to_num(variance))), dtype=object
            ).where(~np.isnan(variance), ""),
            "variance_pct": pd.Series(np.round(pct, 6), dtype=object).where(
                ~np.isnan(pct), ""
            ),
            "flag": table["flag"].to_numpy(dtype=object),
        }
    )


def unmapped_frame(result: Reconciliation) -> pd.DataFrame:
    """Return the CSV table of GL lines that no rule maps, with their row in the GL file.

    Amounts are text with two decimals, as booked (``350.00``, not ``350.0``).
    """
    from tokenbom_xl.csvout import cents_text
    from tokenbom_xl.rounding import to_cents

    frame = result.unmapped.copy()
    frame["amount"] = cents_text(to_cents(frame["amount"].to_numpy()))
    return frame


def aggregate_ledger(ledger: Ledger, rule_index: np.ndarray) -> pd.DataFrame:
    """Sum GL lines by period, account and cost centre, in that order.

    Every line of a group has the same account, so the same rule. Returns the
    columns period, account, cost_centre, lines, amount, description (the first
    line's), rule (index into the mapping's rules, -1 where unmapped).
    """
    frame = pd.DataFrame(
        {
            "period": ledger.period,
            "account": ledger.account,
            "cost_centre": ledger.cost_centre,
            "amount_cents": ledger.amount_cents,
            "description": ledger.description,
            "rule": rule_index,
        }
    )
    grouped = frame.groupby(["period", "account", "cost_centre"], sort=True)
    aggregated = grouped.agg(
        lines=("amount_cents", "size"),
        amount_cents=("amount_cents", "sum"),
        description=("description", "first"),
        rule=("rule", "first"),
    ).reset_index()
    # Summed in whole cents, so each group's amount is exact.
    amount = aggregated.pop("amount_cents").to_numpy() / 100.0
    aggregated.insert(aggregated.columns.get_loc("lines") + 1, "amount", amount)
    return aggregated
