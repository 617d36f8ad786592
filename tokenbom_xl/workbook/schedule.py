"""The Schedule sheet: the BOM re-struck for every month, its decay by cause, and the re-strike.

One column per month, every cell a native formula over the Inputs sheet, the driver
rows and the Assets sheet. Below the monthly block come the quarterly roll-up, the
decay waterfall over the whole horizon and two charts (see
:mod:`tokenbom_xl.workbook.schedule_rollup`).

A driver row with a path in the scenario or the driver file contains yellow input
values. A driver without a path is a formula that follows the Inputs sheet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tokenbom_xl.periods import fiscal_year_label, quarter_label
from tokenbom_xl.scenario import EnergyPhysical, FabricCapex, FabricShare
from tokenbom_xl.schedule import CAUSES, Schedule
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.assets import AssetRange, asset_range, write_assets_sheet
from tokenbom_xl.workbook.context import BuildContext, write_text
from tokenbom_xl.workbook.schedule_layout import (
    FIRST_PERIOD_COLUMN,
    HEADER_ROW,
    MILLION,
    PERIOD_ROW,
    SHEET,
    ScheduleLayout,
    period_letter,
)
from tokenbom_xl.workbook.schedule_rollup import write_rollup

# The inputs of the cost per good token that each cause of decay moves, by row key.
CAUSE_INPUTS = {
    "depreciation": "depreciation",
    "throughput": "tokens_per_second",
    "energy_price": "energy_per_accelerator",
    "utilization": "utilization",
    "yield": "yield_rate",
    "fleet": "accelerators",
    "other": "other_fixed",
}


def write_schedule_sheets(ctx: BuildContext, schedule: Schedule) -> None:
    """Write the Schedule sheet and the Assets sheet it adds up, and add their checks."""
    writer = _ScheduleWriter(ctx, schedule)
    writer.write()
    writer.add_checks()
    write_rollup(ctx, writer.ws, schedule, writer.layout)
    layout = writer.layout
    write_assets_sheet(
        ctx,
        schedule,
        tokens_per_accelerator=lambda period: (
            f"{SHEET}!{period_letter(period)}{layout['tokens_per_accelerator']}"
        ),
        factory_tokens=lambda period: (
            f"{SHEET}!{period_letter(period)}{layout['tokens_made']}"
        ),
    )


class _ScheduleWriter:
    def __init__(self, ctx: BuildContext, schedule: Schedule) -> None:
        self.ctx = ctx
        self.schedule = schedule
        self.months = schedule.horizon.months
        self.assets: AssetRange = asset_range(schedule)
        self.layout = ScheduleLayout(schedule)
        self.ws: Worksheet = ctx.add_sheet(
            SHEET,
            "The BOM re-struck for every month, its decay by cause, and the fixed-rate recovery",
        )
        self.last = period_letter(self.months - 1)

    # ------------------------------------------------------------------
    # Row helpers

    def ref(self, key: str, period: int) -> str:
        """Return the cell of row ``key`` in period ``period``, such as ``E21``."""
        return f"{period_letter(period)}{self.layout[key]}"

    def horizon_sum(
        self, key: str, values: np.ndarray, *, from_period: int = 0
    ) -> tuple[str, float]:
        """Return the horizon column's formula and value: the row summed over the months."""
        row = self.layout[key]
        return f"=SUM({period_letter(from_period)}{row}:{self.last}{row})", float(
            np.sum(values[from_period:])
        )

    def row(
        self,
        key: str,
        label: str,
        symbol: str,
        unit: str,
        formula: Callable[[int], str],
        values: Sequence[float] | np.ndarray,
        number_format: str,
        *,
        periods: range | None = None,
        horizon: tuple[str, float] | None = None,
        bold: bool = False,
    ) -> None:
        """Write one monthly row, where ``formula(period)`` returns that month's formula."""
        row = self.layout[key]
        ws = self.ws
        ws[f"A{row}"] = label
        ws[f"B{row}"] = symbol
        ws[f"C{row}"] = unit
        if bold:
            ws[f"A{row}"].font = style.TOTAL_FONT
        for period in periods if periods is not None else range(self.months):
            self.ctx.formula(
                ws,
                self.ref(key, period),
                formula(period),
                values[period],
                number_format,
                bold=bold,
            )
        if horizon is not None:
            self.ctx.formula(
                ws, f"D{row}", horizon[0], horizon[1], number_format, bold=bold
            )

    def driver_row(
        self,
        key: str,
        label: str,
        unit: str,
        values: np.ndarray,
        number_format: str,
        *,
        given: bool,
        follow: str,
    ) -> None:
        """Write a driver row: input values where a path was given, else ``=follow`` in every month."""
        if not given:
            self.row(
                key, label, "", unit, lambda _: f"={follow}", values, number_format
            )
            return
        row = self.layout[key]
        ws = self.ws
        ws[f"A{row}"] = label
        ws[f"C{row}"] = unit
        for period in range(self.months):
            cell = ws[self.ref(key, period)]
            cell.value = float(values[period])
            cell.number_format = number_format
            cell.fill = style.INPUT_FILL
            cell.font = style.INPUT_FONT
            cell.protection = style.UNLOCKED

    # ------------------------------------------------------------------
    # The monthly block

    def write(self) -> None:
        self._write_title()
        for row, title in self.layout.sections:
            self.ws[f"A{row}"] = title
            self.ws[f"A{row}"].font = style.SECTION_FONT
        self._write_drivers()
        self._write_components()
        self._write_factory()
        self._write_per_million()
        self._write_decay()
        self._write_restrike()

        # Token counts reach 15 digits with separators, and the horizon column adds them up.
        widths = {"A": 46, "B": 12, "C": 16, "D": 20}
        columns = max(self.months, len(self.schedule.quarterly.labels))
        widths.update({period_letter(period): 16 for period in range(columns)})
        style.set_column_widths(self.ws, widths)
        style.finish_sheet(
            self.ws,
            freeze=f"{period_letter(0)}{PERIOD_ROW}",
            title_rows=f"{HEADER_ROW}:{HEADER_ROW}",
            title_columns=f"A:{_letter_before(period_letter(0))}",
        )

    def _write_title(self) -> None:
        ws = self.ws
        schedule = self.schedule
        ws["A1"] = "Schedule"
        ws["A1"].font = style.TITLE_FONT
        write_text(ws, "A2", self.ctx.scenario.name, font=style.SUBTITLE_FONT)

        ws["A3"] = "First month (set when the workbook is built)"
        write_text(ws, "B3", schedule.labels[0])
        ws["B3"].fill = style.STRUCTURAL_FILL
        ws["C3"] = "month index"
        self.ctx.formula(
            ws,
            "D3",
            "=VALUE(LEFT(B3,4))*12+VALUE(MID(B3,6,2))-1",
            float(schedule.horizon.start),
            style.INTEGER,
            name="schedule_start_index",
        )
        ws["E3"] = "Months"
        self.ctx.formula(
            ws,
            "F3",
            f"=COUNT({period_letter(0)}{PERIOD_ROW}:{self.last}{PERIOD_ROW})",
            float(self.months),
            style.INTEGER,
            name="schedule_months",
        )
        ws["A4"] = (
            "Each month is re-struck from the asset register and that month's drivers. Decay parts "
            "substitute one cause at a time, in the order listed, and add up to the change."
        )
        ws["A4"].font = style.SUBTITLE_FONT

        style.write_header(ws, HEADER_ROW, ["Figure", "Symbol", "Unit", "Horizon"])
        style.write_header(ws, HEADER_ROW, schedule.labels, column=FIRST_PERIOD_COLUMN)
        labels = ("Period (0 = first month)", "Fiscal year", "Quarter")
        for offset, label in enumerate(labels):
            ws[f"A{PERIOD_ROW + offset}"] = label
        start_month = schedule.horizon.fiscal_year_start_month
        for period, index in enumerate(schedule.horizon.indices):
            letter = period_letter(period)
            ws[f"{letter}{PERIOD_ROW}"] = period
            ws[f"{letter}{PERIOD_ROW + 1}"] = fiscal_year_label(int(index), start_month)
            ws[f"{letter}{PERIOD_ROW + 2}"] = quarter_label(int(index), start_month)

    def _write_drivers(self) -> None:
        s = self.schedule
        scenario = self.ctx.scenario
        paths = s.driver_paths
        cur = scenario.currency
        money, per_million = self.ctx.money, self.ctx.per_million

        assets = self.assets
        self.row(
            "accelerators",
            "Accelerators in service",
            "N",
            "accelerators",
            lambda p: (
                f'=SUMIFS({assets.column("quantity")},{assets.column("asset_class")},"accelerator",'
                f'{assets.column("purchase_offset")},"<="&{period_letter(p)}${PERIOD_ROW})'
            ),
            s.accelerators,
            style.TOKENS,
        )
        self.driver_row(
            "tokens_per_second",
            "Tokens per second per accelerator",
            "tokens/s",
            s.tokens_per_second,
            style.NUMBER,
            given=paths.tokens_per_second is not None,
            follow="tokens_per_second",
        )
        self.driver_row(
            "utilization",
            "Utilization U",
            "fraction",
            s.utilization,
            style.PERCENT,
            given=paths.utilization is not None,
            follow="utilization",
        )
        self.driver_row(
            "yield_rate",
            "Yield Y",
            "fraction",
            s.yield_rate,
            style.PERCENT,
            given=paths.yield_rate is not None,
            follow="yield_rate",
        )

        # Energy: kW x hours x price per accelerator, or the stated cost per accelerator.
        if s.energy_priced:
            energy = scenario.energy
            if isinstance(energy, EnergyPhysical) and energy.wall_kw is not None:
                kw_follow = "energy_wall_kw/accelerators"
            else:
                kw_follow = "energy_it_kw*energy_pue/accelerators"
            self.driver_row(
                "wall_kw",
                "Full-load power per accelerator at the wall",
                "kW",
                s.wall_kw_per_accelerator,
                "0.000",
                given=paths.wall_kw_per_accelerator is not None,
                follow=kw_follow,
            )
            self.driver_row(
                "energy_price",
                "Energy price",
                f"{cur}/kWh",
                s.energy_price_per_kwh,
                "0.0000",
                given=paths.energy_price_per_kwh is not None,
                follow="energy_price_per_kwh",
            )

        def energy_formula(p: int) -> str:
            if s.energy_priced:
                return f"={self.ref('wall_kw', p)}*hours_per_period*{self.ref('energy_price', p)}"
            return "=cost_energy_full/accelerators"

        self.row(
            "energy_per_accelerator",
            "Full-load energy cost per accelerator",
            "e",
            f"{cur}/month",
            energy_formula,
            s.energy_per_accelerator,
            money,
        )

        self.driver_row(
            "cycles",
            "Model lifecycle cycles per year",
            "cycles/year",
            s.lifecycle_cycles_per_year,
            style.NUMBER,
            given=paths.lifecycle_cycles_per_year is not None,
            follow="model_lifecycle_cycles_per_year",
        )
        self.driver_row(
            "cost_per_cycle",
            "Model lifecycle cost per cycle",
            cur,
            s.lifecycle_cost_per_cycle,
            money,
            given=paths.lifecycle_cost_per_cycle is not None,
            follow="model_lifecycle_cost_per_cycle",
        )
        self.driver_row(
            "api_price",
            "API price per million tokens",
            f"{cur}/M",
            s.api_price_per_million,
            per_million,
            given=paths.api_price_per_million is not None,
            follow="api_price_per_million",
        )

    def _depreciation_of(self, asset_class: str) -> Callable[[int], str]:
        """Return the formula of one class's depreciation in a month.

        Month-by-month rows come from the Assets grid, and straight-line rows from
        their level charges.
        """
        classes = self.assets.column("asset_class")
        return lambda p: (
            f'=SUMIF({classes},"{asset_class}",{self.assets.grid_column(p)})'
            f"+{self.assets.level_charges(asset_class, f'{period_letter(p)}${PERIOD_ROW}')}"
        )

    def _write_components(self) -> None:
        s = self.schedule
        scenario = self.ctx.scenario
        money = self.ctx.money
        unit = f"{scenario.currency}/month"
        r = self.ref

        if (s.table.classes == "fabric").any():
            fabric_formula = self._depreciation_of("fabric")
        elif isinstance(scenario.fabric, FabricShare):
            fabric_formula = lambda p: f"={r('silicon', p)}*fabric_share_of_silicon"
        elif isinstance(scenario.fabric, FabricCapex):
            fabric_formula = lambda p: "=fabric_capex/fabric_life_months"
        else:  # pragma: no cover - the scenario model admits no other basis
            raise TypeError(scenario.fabric)

        lines = [
            ("silicon", "Silicon", self._depreciation_of("accelerator"), s.silicon),
            ("fabric", "Fabric", fabric_formula, s.fabric),
            (
                "facility",
                "Facility",
                lambda p: f"=cost_facility+{r('fit_out', p)}",
                s.facility,
            ),
            (
                "energy",
                "Energy E(U)",
                lambda p: (
                    f"={r('energy_full', p)}*(energy_idle_fraction+(1-energy_idle_fraction)*{r('utilization', p)})"
                ),
                s.energy,
            ),
            ("platform", "Platform", lambda p: "=cost_platform", s.platform),
            (
                "model_lifecycle",
                "Model Lifecycle",
                lambda p: (
                    f"={r('cost_per_cycle', p)}*{r('cycles', p)}/12+model_lifecycle_labour_monthly"
                ),
                s.model_lifecycle,
            ),
            ("operations", "Operations", lambda p: "=cost_operations", s.operations),
        ]
        for key, label, formula, values in lines:
            self.row(
                key,
                label,
                "",
                unit,
                formula,
                values,
                money,
                horizon=self.horizon_sum(key, values),
            )

        self.row(
            "total",
            "Total cost C(U)",
            "C(U)",
            unit,
            lambda p: f"=SUM({r('silicon', p)}:{r('operations', p)})",
            s.total,
            money,
            horizon=self.horizon_sum("total", s.total),
            bold=True,
        )

    def _write_factory(self) -> None:
        s = self.schedule
        money = self.ctx.money
        unit = f"{self.ctx.scenario.currency}/month"
        r = self.ref
        fixed_keys = (
            "silicon",
            "fabric",
            "facility",
            "platform",
            "model_lifecycle",
            "operations",
        )

        self.row(
            "fit_out",
            "Facility fit-out depreciation (in Facility)",
            "",
            unit,
            self._depreciation_of("facility-fit-out"),
            s.fit_out,
            money,
            horizon=self.horizon_sum("fit_out", s.fit_out),
        )
        self.row(
            "fixed",
            "Fixed cost (six non-energy components)",
            "F",
            unit,
            lambda p: "=" + "+".join(r(key, p) for key in fixed_keys),
            s.fixed,
            money,
            horizon=self.horizon_sum("fixed", s.fixed),
        )
        self.row(
            "depreciation",
            "Depreciation (Silicon, Fabric, fit-out)",
            "D",
            unit,
            lambda p: f"={r('silicon', p)}+{r('fabric', p)}+{r('fit_out', p)}",
            s.depreciation_total,
            money,
            horizon=self.horizon_sum("depreciation", s.depreciation_total),
        )
        self.row(
            "other_fixed",
            "Other fixed cost",
            "O = F - D",
            unit,
            lambda p: f"={r('fixed', p)}-{r('depreciation', p)}",
            s.other_fixed,
            money,
            horizon=self.horizon_sum("other_fixed", s.other_fixed),
        )
        self.row(
            "energy_full",
            "Energy at full utilization",
            "E_full = N x e",
            unit,
            lambda p: f"={r('accelerators', p)}*{r('energy_per_accelerator', p)}",
            s.energy_full,
            money,
            horizon=self.horizon_sum("energy_full", s.energy_full),
        )
        self.row(
            "full_cost",
            "Total cost at full utilization",
            "C(1)",
            unit,
            lambda p: f"={r('fixed', p)}+{r('energy_full', p)}",
            s.full_cost,
            money,
            horizon=self.horizon_sum("full_cost", s.full_cost),
        )
        self.row(
            "capacity",
            "Capacity",
            "K",
            "tokens/month",
            lambda p: (
                f"={r('accelerators', p)}*{r('tokens_per_second', p)}*3600*hours_per_period"
            ),
            s.capacity,
            style.TOKENS,
            horizon=self.horizon_sum("capacity", s.capacity),
        )
        self.row(
            "tokens_per_accelerator",
            "Tokens made per accelerator",
            "",
            "tokens/month",
            lambda p: (
                f"={r('tokens_per_second', p)}*3600*hours_per_period*{r('utilization', p)}"
            ),
            s.tokens_made_per_accelerator,
            style.TOKENS,
        )
        self.row(
            "tokens_made",
            "Tokens made",
            "K x U",
            "tokens/month",
            lambda p: f"={r('capacity', p)}*{r('utilization', p)}",
            s.tokens_made,
            style.TOKENS,
            horizon=self.horizon_sum("tokens_made", s.tokens_made),
        )
        self.row(
            "good_tokens",
            "Good tokens",
            "G = K x U x Y",
            "tokens/month",
            lambda p: f"={r('capacity', p)}*{r('utilization', p)}*{r('yield_rate', p)}",
            s.good_tokens,
            style.TOKENS,
            horizon=self.horizon_sum("good_tokens", s.good_tokens),
            bold=True,
        )
        self.row(
            "capacity_variance",
            "Capacity variance",
            "V",
            unit,
            lambda p: (
                f"=({r('fixed', p)}+energy_idle_fraction*{r('energy_full', p)})*(1-{r('utilization', p)})"
            ),
            s.capacity_variance,
            money,
            horizon=self.horizon_sum("capacity_variance", s.capacity_variance),
        )

    def _write_per_million(self) -> None:
        s = self.schedule
        per_million = self.ctx.per_million
        unit = f"{self.ctx.scenario.currency}/M"
        r = self.ref
        rows = self.layout

        self.row(
            "floor",
            "Floor",
            "C(1) / K",
            unit,
            lambda p: f"={r('full_cost', p)}/{r('capacity', p)}*1000000",
            s.floor * MILLION,
            per_million,
            horizon=(
                f"=D{rows['full_cost']}/D{rows['capacity']}*1000000",
                s.full_cost.sum() / s.capacity.sum() * MILLION,
            ),
        )
        self.row(
            "yield_loss",
            "Yield loss",
            "floor x (1 - Y) / Y",
            unit,
            lambda p: f"={r('floor', p)}*(1-{r('yield_rate', p)})/{r('yield_rate', p)}",
            s.yield_loss_per_token * MILLION,
            per_million,
        )
        self.row(
            "variance_per_million",
            "Capacity variance",
            "V / G",
            unit,
            lambda p: f"={r('capacity_variance', p)}/{r('good_tokens', p)}*1000000",
            s.capacity_variance_per_token * MILLION,
            per_million,
        )
        self.row(
            "cost",
            "Cost per good token",
            "C(U) / G",
            unit,
            lambda p: f"={r('total', p)}/{r('good_tokens', p)}*1000000",
            s.cost_per_good_token * MILLION,
            per_million,
            horizon=(
                f"=D{rows['total']}/D{rows['good_tokens']}*1000000",
                s.total.sum() / s.good_tokens.sum() * MILLION,
            ),
            bold=True,
        )

    def _write_decay(self) -> None:
        s = self.schedule
        per_million = self.ctx.per_million
        unit = f"{self.ctx.scenario.currency}/M"
        later = range(1, self.months)  # the first month has no previous month
        r = self.ref

        def horizon(key: str, values: np.ndarray) -> tuple[str, float] | None:
            if self.months < 2:
                return None
            return self.horizon_sum(key, values, from_period=1)

        change = s.change * MILLION
        self.row(
            "change",
            "Change in cost per good token",
            "",
            unit,
            lambda p: f"={r('cost', p)}-{r('cost', p - 1)}",
            change,
            per_million,
            periods=later,
            horizon=horizon("change", change),
            bold=True,
        )

        # Each part is the cost after its step less the cost before it: the previous
        # month's cost for the first cause, this month's cost after the last one.
        keys = [key for key, _ in CAUSES]
        for position, (key, label) in enumerate(CAUSES):
            before_key = "cost" if position == 0 else f"step_{keys[position - 1]}"
            after_key = "cost" if position == len(keys) - 1 else f"step_{key}"
            before_period = -1 if position == 0 else 0
            parts = s.decay[position] * MILLION
            self.row(
                f"decay_{key}",
                label,
                "",
                unit,
                lambda p, a=after_key, b=before_key, shift=before_period: (
                    f"={r(a, p)}-{r(b, p + shift)}"
                ),
                parts,
                per_million,
                periods=later,
                horizon=horizon(f"decay_{key}", parts),
            )

        for position, (key, label) in enumerate(CAUSES[:-1]):
            moved = frozenset(keys[: position + 1])
            self.row(
                f"step_{key}",
                f"after {label.lower()}",
                "",
                unit,
                lambda p, moved=moved: self._cost_with(moved, p),
                s.decay_steps[position] * MILLION,
                per_million,
                periods=later,
            )

    def _cost_with(self, moved: frozenset[str], period: int) -> str:
        """Return the cost per million good tokens with the ``moved`` causes at this month's values."""

        def value(cause: str) -> str:
            return self.ref(
                CAUSE_INPUTS[cause], period if cause in moved else period - 1
            )

        return (
            f"=({value('depreciation')}+{value('other')}+{value('fleet')}*{value('energy_price')}"
            f"*(energy_idle_fraction+(1-energy_idle_fraction)*{value('utilization')}))"
            f"/({value('fleet')}*{value('throughput')}*3600*hours_per_period*{value('utilization')}"
            f"*{value('yield')})*1000000"
        )

    def _write_restrike(self) -> None:
        s = self.schedule
        recovery = s.recovery
        policy = s.restrike
        money, per_million = self.ctx.money, self.ctx.per_million
        cur = self.ctx.scenario.currency
        r = self.ref
        ws = self.ws

        self.row(
            "restruck_rate",
            "Re-struck rate (this month's cost per good token)",
            "",
            f"{cur}/M",
            lambda p: f"={r('cost', p)}",
            s.cost_per_good_token * MILLION,
            per_million,
        )
        restruck_recovered = s.good_tokens * s.cost_per_good_token
        self.row(
            "restruck_recovered",
            "Recovered at the re-struck rate",
            "G x rate",
            f"{cur}/month",
            lambda p: f"={r('good_tokens', p)}*{r('restruck_rate', p)}/1000000",
            restruck_recovered,
            money,
            horizon=self.horizon_sum("restruck_recovered", restruck_recovered),
        )

        row = self.layout["opening_balance"]
        ws[f"A{row}"] = "Balance brought into the first fixed rate (over-recovery +)"
        ws[f"C{row}"] = cur
        cell = ws[f"D{row}"]
        cell.value = policy.opening_balance
        cell.number_format = money
        cell.fill = style.INPUT_FILL
        cell.font = style.INPUT_FONT
        cell.protection = style.UNLOCKED
        self.ctx.define("restrike_opening_balance", ws, f"D{row}")
        row = self.layout["policy"]
        ws[f"A{row}"] = "Fixed rate set in the first month of each fiscal year from"
        ws[f"C{row}"] = policy.fixed_rate_basis
        ws[f"D{row}"] = f"fiscal year starts in month {policy.fiscal_year_start_month}"

        # A fixed rate is set in the first month of each fiscal year and carried along.
        years = s.horizon.fiscal_years
        last_of_year = {year: period for period, year in enumerate(years)}
        sets_rate = recovery.sets_rate

        def year_range(key: str, p: int) -> str:
            return f"{r(key, p)}:{r(key, last_of_year[years[p]])}"

        def rate_before_balance(p: int) -> str:
            if not sets_rate[p]:
                return f"={r('rate_before_balance', p - 1)}"
            if policy.fixed_rate_basis == "first-month":
                return f"={r('cost', p)}"
            return f"=SUM({year_range('total', p)})/SUM({year_range('good_tokens', p)})*1000000"

        def fixed_rate(p: int) -> str:
            if not sets_rate[p]:
                return f"={r('fixed_rate', p - 1)}"
            return (
                f"={r('rate_before_balance', p)}-{r('brought_forward', p)}"
                f"/SUM({year_range('good_tokens', p)})*1000000"
            )

        self.row(
            "rate_before_balance",
            "Fixed rate before the balance",
            "",
            f"{cur}/M",
            rate_before_balance,
            recovery.rate_before_balance * MILLION,
            per_million,
        )
        self.row(
            "fixed_rate",
            "Fixed rate",
            "",
            f"{cur}/M",
            fixed_rate,
            recovery.fixed_rate * MILLION,
            per_million,
            bold=True,
        )
        self.row(
            "brought_forward",
            "Balance brought forward",
            "",
            cur,
            lambda p: (
                "=restrike_opening_balance"
                if p == 0
                else f"={r('carried_forward', p - 1)}"
            ),
            recovery.balance_brought_forward,
            money,
        )
        self.row(
            "recovered",
            "Recovered at the fixed rate",
            "G x fixed rate",
            f"{cur}/month",
            lambda p: f"={r('good_tokens', p)}*{r('fixed_rate', p)}/1000000",
            recovery.recovered,
            money,
            horizon=self.horizon_sum("recovered", recovery.recovered),
        )
        self.row(
            "over_recovery",
            "Over (+) or under (-) recovery",
            "recovered - C(U)",
            f"{cur}/month",
            lambda p: f"={r('recovered', p)}-{r('total', p)}",
            recovery.over_recovery,
            money,
            horizon=self.horizon_sum("over_recovery", recovery.over_recovery),
            bold=True,
        )
        self.row(
            "carried_forward",
            "Balance carried forward",
            "",
            cur,
            lambda p: f"={r('brought_forward', p)}+{r('over_recovery', p)}",
            recovery.balance_carried_forward,
            money,
        )

    # ------------------------------------------------------------------
    # Checks

    def add_checks(self) -> None:
        ctx = self.ctx
        rows = self.layout
        first, last = period_letter(0), self.last
        assets = self.assets

        def months_of(key: str, start: str = first) -> str:
            return f"{SHEET}!{start}{rows[key]}:{last}{rows[key]}"

        def every_month_close(left: str, right: str) -> str:
            return f"SUMPRODUCT(--(ABS({left}-{right})>1E-9*(1+ABS({right}))))=0"

        component_sum = "+".join(
            months_of(key) for key, _, _ in self.schedule.component_rows()
        )
        ctx.add_check(
            "Schedule: components add up to C(U) in every month",
            every_month_close(component_sum, months_of("total")),
            "the seven component rows sum to the total cost of each month",
        )
        ctx.add_check(
            "Schedule: accelerators are in service in every month",
            f'COUNTIF({months_of("accelerators")},"<=0")=0',
            "cost per good token is undefined in a month without accelerators",
        )
        ctx.add_check(
            "Schedule: re-struck rate recovers each month's cost",
            every_month_close(months_of("restruck_recovered"), months_of("total")),
            "good tokens x this month's rate = C(U), so a re-struck chargeback neither over- nor under-recovers",
        )
        # The balance is a running sum of differences between amounts of the size of a
        # month's cost, so it carries their rounding: the tolerance scales with the cost.
        balance = f"{SHEET}!{last}{rows['carried_forward']}"
        expected_balance = f"restrike_opening_balance+SUM({months_of('over_recovery')})"
        ctx.add_check(
            "Schedule: balance = opening balance + over- and under-recoveries",
            f"ABS({balance}-({expected_balance}))<=1E-6+1E-12*SUM({months_of('total')})",
            "the balance carried forward accumulates every month's over (+) or under (-) recovery",
        )
        if self.months > 1:
            second = period_letter(1)
            parts = "+".join(months_of(f"decay_{key}", second) for key, _ in CAUSES)
            ctx.add_check(
                "Schedule: decay parts add up to the change in every month",
                f"SUMPRODUCT(--(ABS({parts}-{months_of('change', second)})>1E-9*(1+ABS({months_of('cost', second)}))))=0",
                "the causes of decay explain the whole change in cost per good token",
            )
        ctx.add_check(
            "Assets: no asset is depreciated below its salvage value",
            f"SUMPRODUCT(--({assets.column('closing_book_value')}<"
            f"{assets.column('quantity')}*{assets.column('salvage')}-1E-6*(1+{assets.column('cost_less_salvage')})))=0",
            "net book value after the last month is at least quantity x salvage for every asset",
        )


def _letter_before(letter: str) -> str:
    return get_column_letter(column_index_from_string(letter) - 1)
