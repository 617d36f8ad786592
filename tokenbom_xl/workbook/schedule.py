"""The Schedule sheet: the BOM re-struck for every month, its decay by cause, and the re-strike.

One column per month, every cell a native formula over the Inputs sheet, the driver
rows and the Assets sheet's depreciation grid. Below the monthly block come the
quarterly roll-up, the decay waterfall over the whole horizon, and two charts: cost
per million good tokens against the API price, and the waterfall.

A driver row with a path in the scenario or the driver file holds yellow input
values; a driver without a path is a formula that follows the Inputs sheet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tokenbom_xl.periods import fiscal_year_label, quarter_label
from tokenbom_xl.schedule import CAUSES, Schedule
from tokenbom_xl.scenario import EnergyPhysical, FabricCapex, FabricShare
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.assets import AssetRange, asset_range, write_assets_sheet
from tokenbom_xl.workbook.checks import close
from tokenbom_xl.workbook.context import BuildContext, write_text

SHEET = "Schedule"
FIRST_PERIOD_COLUMN = 5  # column E; A to D hold the label, symbol, unit and horizon total
HEADER_ROW = 6
MILLION = 1e6

# Colours of the waterfall bars: falls in cost green, rises red, the two totals blue.
_FALL_COLOUR = "70AD47"
_RISE_COLOUR = "C00000"
_TOTAL_COLOUR = "305496"


def period_letter(period: int) -> str:
    """Return the Schedule column letter of period ``period`` (0-based)."""
    return get_column_letter(FIRST_PERIOD_COLUMN + period)


@dataclass
class _Layout:
    """Row numbers of the monthly block, assigned in writing order."""

    rows: dict[str, int] = field(default_factory=dict)
    next_row: int = HEADER_ROW + 4

    def add(self, key: str) -> int:
        self.rows[key] = self.next_row
        self.next_row += 1
        return self.rows[key]

    def skip(self, count: int = 1) -> int:
        row = self.next_row
        self.next_row += count
        return row

    def __getitem__(self, key: str) -> int:
        return self.rows[key]


def write_schedule_sheets(ctx: BuildContext, schedule: Schedule) -> None:
    """Write the Schedule sheet and the Assets sheet it sums up, and add their checks."""
    writer = _ScheduleWriter(ctx, schedule)
    writer.write()
    write_assets_sheet(
        ctx,
        schedule,
        tokens_per_accelerator=lambda period: f"{SHEET}!{period_letter(period)}{writer.layout['tokens_per_accelerator']}",
        factory_tokens=lambda period: f"{SHEET}!{period_letter(period)}{writer.layout['tokens_made']}",
    )
    writer.add_checks()


class _ScheduleWriter:
    def __init__(self, ctx: BuildContext, schedule: Schedule) -> None:
        self.ctx = ctx
        self.schedule = schedule
        self.months = schedule.horizon.months
        self.assets: AssetRange = asset_range(schedule)
        self.layout = _Layout()
        self.ws: Worksheet = ctx.add_sheet(
            SHEET, "The BOM re-struck for every month, its decay by cause, and the fixed-rate recovery"
        )
        self.last = period_letter(self.months - 1)

    # ------------------------------------------------------------------
    # Row helpers

    def section(self, title: str) -> None:
        row = self.layout.skip()
        self.ws[f"A{row}"] = title
        self.ws[f"A{row}"].font = style.SECTION_FONT

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
    ) -> int:
        """Write one monthly row: ``formula(period)`` returns the formula of that month's cell."""
        row = self.layout.add(key)
        ws = self.ws
        ws[f"A{row}"] = label
        ws[f"B{row}"] = symbol
        ws[f"C{row}"] = unit
        if bold:
            ws[f"A{row}"].font = style.TOTAL_FONT
        for period in periods if periods is not None else range(self.months):
            self.ctx.formula(ws, f"{period_letter(period)}{row}", formula(period), values[period], number_format, bold=bold)
        if horizon is not None:
            self.ctx.formula(ws, f"D{row}", horizon[0], horizon[1], number_format, bold=bold)
        return row

    def input_row(
        self,
        key: str,
        label: str,
        unit: str,
        values: np.ndarray,
        number_format: str,
        *,
        given: bool,
        follow: str,
    ) -> int:
        """Write a driver row: input values where a path was given, else ``=follow`` in every month."""
        if not given:
            return self.row(key, label, "", unit, lambda _: f"={follow}", values, number_format)
        row = self.layout.add(key)
        ws = self.ws
        ws[f"A{row}"] = label
        ws[f"C{row}"] = unit
        for period in range(self.months):
            cell = ws[f"{period_letter(period)}{row}"]
            cell.value = float(values[period])
            cell.number_format = number_format
            cell.fill = style.INPUT_FILL
            cell.font = style.INPUT_FONT
            cell.protection = style.UNLOCKED
        return row

    def ref(self, key: str, period: int) -> str:
        return f"{period_letter(period)}{self.layout[key]}"

    def total_over_horizon(self, key: str) -> str:
        row = self.layout[key]
        return f"=SUM({period_letter(0)}{row}:{self.last}{row})"

    # ------------------------------------------------------------------
    # The sheet

    def write(self) -> None:
        self._write_title()
        self._write_drivers()
        self._write_components()
        self._write_factory()
        self._write_per_million()
        self._write_decay()
        self._write_restrike()
        quarterly_end = self._write_quarterly(self.layout.skip(2))
        waterfall = self._write_waterfall(quarterly_end + 2)
        self._add_charts(waterfall)
        ws = self.ws
        widths = {"A": 46, "B": 12, "C": 16, "D": 16}
        widths.update({period_letter(period): 13 for period in range(max(self.months, len(self.schedule.horizon.quarters)))})
        style.set_column_widths(ws, widths)
        style.finish_sheet(ws, freeze=f"{period_letter(0)}{HEADER_ROW + 1}", title_rows=f"{HEADER_ROW}:{HEADER_ROW}")

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
            ws, "D3", "=VALUE(LEFT(B3,4))*12+VALUE(MID(B3,6,2))-1", float(schedule.horizon.start), style.INTEGER,
            name="schedule_start_index",
        )
        ws["E3"] = "Months"
        last_period = period_letter(self.months - 1)
        self.ctx.formula(
            ws, "F3", f"=COUNT({period_letter(0)}{HEADER_ROW + 1}:{last_period}{HEADER_ROW + 1})", float(self.months),
            style.INTEGER, name="schedule_months",
        )
        ws["A4"] = (
            "Each month is re-struck from the asset register and that month's drivers. Decay parts "
            "substitute one cause at a time, in the order listed, and add up to the change."
        )
        ws["A4"].font = style.SUBTITLE_FONT

        style.write_header(ws, HEADER_ROW, ["Figure", "Symbol", "Unit", "Horizon"])
        style.write_header(ws, HEADER_ROW, schedule.labels, column=FIRST_PERIOD_COLUMN)
        start_month = schedule.horizon.fiscal_year_start_month
        for row, label in ((HEADER_ROW + 1, "Period (0 = first month)"), (HEADER_ROW + 2, "Fiscal year"), (HEADER_ROW + 3, "Quarter")):
            ws[f"A{row}"] = label
        self.layout.rows["period"] = HEADER_ROW + 1
        for period, index in enumerate(schedule.horizon.indices):
            letter = period_letter(period)
            ws[f"{letter}{HEADER_ROW + 1}"] = period
            ws[f"{letter}{HEADER_ROW + 2}"] = fiscal_year_label(int(index), start_month)
            ws[f"{letter}{HEADER_ROW + 3}"] = quarter_label(int(index), start_month)

    def _write_drivers(self) -> None:
        s = self.schedule
        scenario = self.ctx.scenario
        paths = s.driver_paths
        cur = scenario.currency
        self.section("Drivers")
        period_row = self.layout["period"]
        self.row(
            "accelerators",
            "Accelerators in service",
            "N",
            "accelerators",
            lambda p: (
                f"=SUMIFS({self.assets.column('quantity')},{self.assets.column('asset_class')},\"accelerator\","
                f"{self.assets.column('purchase_offset')},\"<=\"&{period_letter(p)}${period_row})"
            ),
            s.accelerators,
            style.TOKENS,
        )
        self.input_row(
            "tokens_per_second", "Tokens per second per accelerator", "tokens/s", s.tokens_per_second, style.NUMBER,
            given=paths.tokens_per_second is not None, follow="tokens_per_second",
        )
        self.input_row(
            "utilization", "Utilization U", "fraction", s.utilization, style.PERCENT,
            given=paths.utilization is not None, follow="utilization",
        )
        self.input_row(
            "yield_rate", "Yield Y", "fraction", s.yield_rate, style.PERCENT,
            given=paths.yield_rate is not None, follow="yield_rate",
        )
        if s.energy_priced:
            energy = scenario.energy
            if isinstance(energy, EnergyPhysical) and energy.wall_kw is not None:
                kw_follow = "energy_wall_kw/accelerators"
            else:
                kw_follow = "energy_it_kw*energy_pue/accelerators"
            self.input_row(
                "wall_kw", "Full-load power per accelerator at the wall", "kW", s.wall_kw_per_accelerator, "0.000",
                given=paths.wall_kw_per_accelerator is not None, follow=kw_follow,
            )
            self.input_row(
                "energy_price", "Energy price", f"{cur}/kWh", s.energy_price_per_kwh, "0.0000",
                given=paths.energy_price_per_kwh is not None, follow="energy_price_per_kwh",
            )
            energy_formula = lambda p: f"={self.ref('wall_kw', p)}*hours_per_period*{self.ref('energy_price', p)}"  # noqa: E731
        else:
            energy_formula = lambda p: "=cost_energy_full/accelerators"  # noqa: E731
        self.row(
            "energy_per_accelerator", "Full-load energy cost per accelerator", "e", f"{cur}/month",
            energy_formula, s.energy_per_accelerator, self.ctx.money,
        )
        self.input_row(
            "cycles", "Model lifecycle cycles per year", "cycles/year", s.lifecycle_cycles_per_year, style.NUMBER,
            given=paths.lifecycle_cycles_per_year is not None, follow="model_lifecycle_cycles_per_year",
        )
        self.input_row(
            "cost_per_cycle", "Model lifecycle cost per cycle", cur, s.lifecycle_cost_per_cycle, self.ctx.money,
            given=paths.lifecycle_cost_per_cycle is not None, follow="model_lifecycle_cost_per_cycle",
        )
        self.input_row(
            "api_price", "API price per million tokens", f"{cur}/M", s.api_price_per_million, self.ctx.per_million,
            given=paths.api_price_per_million is not None, follow="api_price_per_million",
        )

    def _write_components(self) -> None:
        s = self.schedule
        money = self.ctx.money
        cur = self.ctx.scenario.currency
        self.section(f"Components ({cur} per month)")
        first_row = self.layout.next_row
        grid = self.assets.grid_column
        classes = self.assets.column("asset_class")

        period_row = self.layout["period"]

        def by_class(asset_class: str) -> Callable[[int], str]:
            # Month-by-month rows from the grid, plus the straight-line rows' level charges.
            return lambda p: (
                f"=SUMIF({classes},\"{asset_class}\",{grid(p)})"
                f"+{self.assets.level_charges(asset_class, f'{period_letter(p)}${period_row}')}"
            )

        if (s.table.classes == "fabric").any():
            fabric_formula = by_class("fabric")
        elif isinstance(self.ctx.scenario.fabric, FabricShare):
            fabric_formula = lambda p: f"={self.ref('silicon', p)}*fabric_share_of_silicon"  # noqa: E731
        elif isinstance(self.ctx.scenario.fabric, FabricCapex):
            fabric_formula = lambda p: "=fabric_capex/fabric_life_months"  # noqa: E731
        else:  # pragma: no cover - the scenario model admits no other basis
            raise TypeError(self.ctx.scenario.fabric)

        # The Factory rows these formulas read come later; their numbers are known now.
        fit_out_row = first_row + 9
        energy_full_row = fit_out_row + 4
        lines = [
            ("silicon", "Silicon", by_class("accelerator"), s.silicon),
            ("fabric", "Fabric", fabric_formula, s.fabric),
            ("facility", "Facility", lambda p: f"=cost_facility+{period_letter(p)}{fit_out_row}", s.facility),
            (
                "energy",
                "Energy E(U)",
                lambda p: (
                    f"={period_letter(p)}{energy_full_row}*(energy_idle_fraction+(1-energy_idle_fraction)"
                    f"*{self.ref('utilization', p)})"
                ),
                s.energy,
            ),
            ("platform", "Platform", lambda p: "=cost_platform", s.platform),
            (
                "model_lifecycle",
                "Model Lifecycle",
                lambda p: f"={self.ref('cost_per_cycle', p)}*{self.ref('cycles', p)}/12+model_lifecycle_labour_monthly",
                s.model_lifecycle,
            ),
            ("operations", "Operations", lambda p: "=cost_operations", s.operations),
        ]
        for key, label, formula, values in lines:
            self.row(key, label, "", f"{cur}/month", formula, values, money, horizon=(self.total_over_horizon_of(key), float(values.sum())))
        self.row(
            "total", "Total cost C(U)", "C(U)", f"{cur}/month",
            lambda p: f"=SUM({self.ref('silicon', p)}:{self.ref('operations', p)})",
            s.total, money, horizon=(self.total_over_horizon_of("total"), float(s.total.sum())), bold=True,
        )
        self._fit_out_row = fit_out_row
        self._energy_full_row = energy_full_row

    def total_over_horizon_of(self, key: str) -> str:
        # The row being written is the next one; its number is not in the layout yet.
        row = self.layout.rows.get(key, self.layout.next_row)
        return f"=SUM({period_letter(0)}{row}:{self.last}{row})"

    def _write_factory(self) -> None:
        s = self.schedule
        money = self.ctx.money
        cur = self.ctx.scenario.currency
        self.section("Factory")
        r = self.ref

        def total(key: str, values: np.ndarray) -> tuple[str, float]:
            return self.total_over_horizon_of(key), float(np.sum(values))

        period_row = self.layout["period"]
        row = self.row(
            "fit_out", "Facility fit-out depreciation (in Facility)", "", f"{cur}/month",
            lambda p: (
                f"=SUMIF({self.assets.column('asset_class')},\"facility-fit-out\",{self.assets.grid_column(p)})"
                f"+{self.assets.level_charges('facility-fit-out', f'{period_letter(p)}${period_row}')}"
            ),
            s.fit_out, money, horizon=total("fit_out", s.fit_out),
        )
        assert row == self._fit_out_row, "the Components formulas read the fit-out row by number"
        self.row(
            "fixed", "Fixed cost (six non-energy components)", "F", f"{cur}/month",
            lambda p: "=" + "+".join(r(key, p) for key in ("silicon", "fabric", "facility", "platform", "model_lifecycle", "operations")),
            s.fixed, money, horizon=total("fixed", s.fixed),
        )
        self.row(
            "depreciation", "Depreciation (Silicon, Fabric, fit-out)", "D", f"{cur}/month",
            lambda p: f"={r('silicon', p)}+{r('fabric', p)}+{r('fit_out', p)}",
            s.depreciation_total, money, horizon=total("depreciation", s.depreciation_total),
        )
        self.row(
            "other_fixed", "Other fixed cost", "O = F - D", f"{cur}/month",
            lambda p: f"={r('fixed', p)}-{r('depreciation', p)}",
            s.other_fixed, money, horizon=total("other_fixed", s.other_fixed),
        )
        row = self.row(
            "energy_full", "Energy at full utilization", "E_full = N x e", f"{cur}/month",
            lambda p: f"={r('accelerators', p)}*{r('energy_per_accelerator', p)}",
            s.energy_full, money, horizon=total("energy_full", s.energy_full),
        )
        assert row == self._energy_full_row, "the Energy formula reads the full-load row by number"
        self.row(
            "full_cost", "Total cost at full utilization", "C(1)", f"{cur}/month",
            lambda p: f"={r('fixed', p)}+{r('energy_full', p)}",
            s.full_cost, money, horizon=total("full_cost", s.full_cost),
        )
        self.row(
            "capacity", "Capacity", "K", "tokens/month",
            lambda p: f"={r('accelerators', p)}*{r('tokens_per_second', p)}*3600*hours_per_period",
            s.capacity, style.TOKENS, horizon=total("capacity", s.capacity),
        )
        self.row(
            "tokens_per_accelerator", "Tokens made per accelerator", "", "tokens/month",
            lambda p: f"={r('tokens_per_second', p)}*3600*hours_per_period*{r('utilization', p)}",
            s.tokens_made_per_accelerator, style.TOKENS,
        )
        self.row(
            "tokens_made", "Tokens made", "K x U", "tokens/month",
            lambda p: f"={r('capacity', p)}*{r('utilization', p)}",
            s.tokens_made, style.TOKENS, horizon=total("tokens_made", s.tokens_made),
        )
        self.row(
            "good_tokens", "Good tokens", "G = K x U x Y", "tokens/month",
            lambda p: f"={r('capacity', p)}*{r('utilization', p)}*{r('yield_rate', p)}",
            s.good_tokens, style.TOKENS, horizon=total("good_tokens", s.good_tokens), bold=True,
        )
        self.row(
            "capacity_variance", "Capacity variance", "V", f"{cur}/month",
            lambda p: f"=({r('fixed', p)}+energy_idle_fraction*{r('energy_full', p)})*(1-{r('utilization', p)})",
            s.capacity_variance, money, horizon=total("capacity_variance", s.capacity_variance),
        )

    def _write_per_million(self) -> None:
        s = self.schedule
        per_million = self.ctx.per_million
        cur = self.ctx.scenario.currency
        self.section(f"Per million good tokens ({cur})")
        r = self.ref
        unit = f"{cur}/M"
        self.row(
            "floor", "Floor", "C(1) / K", unit,
            lambda p: f"={r('full_cost', p)}/{r('capacity', p)}*1000000",
            s.floor * MILLION, per_million,
            horizon=(f"=D{self.layout['full_cost']}/D{self.layout['capacity']}*1000000", s.full_cost.sum() / s.capacity.sum() * MILLION),
        )
        self.row(
            "yield_loss", "Yield loss", "floor x (1 - Y) / Y", unit,
            lambda p: f"={r('floor', p)}*(1-{r('yield_rate', p)})/{r('yield_rate', p)}",
            s.yield_loss_per_token * MILLION, per_million,
        )
        self.row(
            "variance_per_million", "Capacity variance", "V / G", unit,
            lambda p: f"={r('capacity_variance', p)}/{r('good_tokens', p)}*1000000",
            s.capacity_variance_per_token * MILLION, per_million,
        )
        self.row(
            "cost", "Cost per good token", "C(U) / G", unit,
            lambda p: f"={r('total', p)}/{r('good_tokens', p)}*1000000",
            s.cost_per_good_token * MILLION, per_million,
            horizon=(f"=D{self.layout['total']}/D{self.layout['good_tokens']}*1000000", s.total.sum() / s.good_tokens.sum() * MILLION),
            bold=True,
        )

    def _write_decay(self) -> None:
        s = self.schedule
        per_million = self.ctx.per_million
        cur = self.ctx.scenario.currency
        unit = f"{cur}/M"
        later = range(1, self.months)
        self.section(f"Decay from the previous month, per million good tokens ({cur})")
        r = self.ref

        def horizon_sum(key: str, values: np.ndarray) -> tuple[str, float] | None:
            if self.months < 2:
                return None
            row = self.layout.rows.get(key, self.layout.next_row)
            return f"=SUM({period_letter(1)}{row}:{self.last}{row})", float(np.nansum(values))

        change = s.change * MILLION
        self.row(
            "change", "Change in cost per good token", "", unit,
            lambda p: f"={r('cost', p)}-{r('cost', p - 1)}",
            change, per_million, periods=later, horizon=horizon_sum("change", change), bold=True,
        )
        # The workings come after the parts on the sheet, so their rows are fixed here.
        step_first = self.layout.next_row + len(CAUSES) + 1
        step_rows = {key: step_first + position for position, (key, _) in enumerate(CAUSES[:-1])}
        keys = [key for key, _ in CAUSES]
        for position, (key, label) in enumerate(CAUSES):
            before = (lambda p: r("cost", p - 1)) if position == 0 else (lambda p, k=keys[position - 1]: f"{period_letter(p)}{step_rows[k]}")
            after = (lambda p: r("cost", p)) if position == len(CAUSES) - 1 else (lambda p, k=key: f"{period_letter(p)}{step_rows[k]}")
            self.row(
                f"decay_{key}", label, "", unit,
                lambda p, a=after, b=before: f"={a(p)}-{b(p)}",
                s.decay[position] * MILLION, per_million, periods=later,
                horizon=horizon_sum(f"decay_{key}", s.decay[position] * MILLION),
            )

        self.section("Decay workings: cost per good token after substituting each cause in turn")
        assert self.layout.next_row == step_first, "the decay parts read the workings rows by number"
        substituted: set[str] = set()
        inputs = {
            "depreciation": "depreciation",
            "throughput": "tokens_per_second",
            "energy_price": "energy_per_accelerator",
            "utilization": "utilization",
            "yield": "yield_rate",
            "fleet": "accelerators",
            "other": "other_fixed",
        }
        for position, (key, label) in enumerate(CAUSES[:-1]):
            substituted.add(key)
            chosen = frozenset(substituted)

            def mixed(p: int, chosen: frozenset[str] = chosen) -> str:
                def value(cause: str) -> str:
                    return r(inputs[cause], p if cause in chosen else p - 1)

                return (
                    f"=({value('depreciation')}+{value('other')}+{value('fleet')}*{value('energy_price')}"
                    f"*(energy_idle_fraction+(1-energy_idle_fraction)*{value('utilization')}))"
                    f"/({value('fleet')}*{value('throughput')}*3600*hours_per_period*{value('utilization')}"
                    f"*{value('yield')})*1000000"
                )

            self.row(
                f"step_{key}", f"after {label.lower()}", "", unit, mixed,
                s.decay_steps[position] * MILLION, per_million, periods=later,
            )

    def _write_restrike(self) -> None:
        s = self.schedule
        recovery = s.recovery
        money = self.ctx.money
        per_million = self.ctx.per_million
        cur = self.ctx.scenario.currency
        policy = s.restrike
        r = self.ref
        ws = self.ws
        self.section("Re-strike and fixed-rate recovery")

        self.row(
            "restruck_rate", "Re-struck rate (this month's cost per good token)", "", f"{cur}/M",
            lambda p: f"={r('cost', p)}", s.cost_per_good_token * MILLION, per_million,
        )
        self.row(
            "restruck_recovered", "Recovered at the re-struck rate", "G x rate", f"{cur}/month",
            lambda p: f"={r('good_tokens', p)}*{r('restruck_rate', p)}/1000000",
            s.good_tokens * s.cost_per_good_token, money,
            horizon=(self.total_over_horizon_of("restruck_recovered"), float((s.good_tokens * s.cost_per_good_token).sum())),
        )

        row = self.layout.add("opening_balance")
        ws[f"A{row}"] = "Balance brought into the first fixed rate (over-recovery +)"
        ws[f"C{row}"] = cur
        ws[f"D{row}"] = policy.opening_balance
        ws[f"D{row}"].number_format = money
        ws[f"D{row}"].fill = style.INPUT_FILL
        ws[f"D{row}"].font = style.INPUT_FONT
        ws[f"D{row}"].protection = style.UNLOCKED
        self.ctx.define("restrike_opening_balance", ws, f"D{row}")
        row = self.layout.add("policy")
        ws[f"A{row}"] = "Fixed rate set in the first month of each fiscal year from"
        ws[f"C{row}"] = policy.fixed_rate_basis
        ws[f"D{row}"] = f"fiscal year starts in month {policy.fiscal_year_start_month}"

        years = s.horizon.fiscal_years
        year_end = {}
        for period in range(self.months):
            year_end[years[period]] = period
        sets_rate = recovery.sets_rate

        def year_range(key: str, p: int) -> str:
            row = self.layout[key]
            return f"{period_letter(p)}{row}:{period_letter(year_end[years[p]])}{row}"

        def base_formula(p: int) -> str:
            if not sets_rate[p]:
                return f"={r('rate_before_balance', p - 1)}"
            if policy.fixed_rate_basis == "first-month":
                return f"={r('cost', p)}"
            return f"=SUM({year_range('total', p)})/SUM({year_range('good_tokens', p)})*1000000"

        self.row(
            "rate_before_balance", "Fixed rate before the balance", "", f"{cur}/M",
            base_formula, recovery.rate_before_balance * MILLION, per_million,
        )
        brought_row = self.layout.next_row + 1
        self.row(
            "fixed_rate", "Fixed rate", "", f"{cur}/M",
            lambda p: (
                f"={r('rate_before_balance', p)}-{period_letter(p)}{brought_row}/SUM({year_range('good_tokens', p)})*1000000"
                if sets_rate[p]
                else f"={r('fixed_rate', p - 1)}"
            ),
            recovery.fixed_rate * MILLION, per_million, bold=True,
        )
        carried_row = brought_row + 3
        self.row(
            "brought_forward", "Balance brought forward", "", cur,
            lambda p: "=restrike_opening_balance" if p == 0 else f"={period_letter(p - 1)}{carried_row}",
            recovery.balance_brought_forward, money,
        )
        self.row(
            "recovered", "Recovered at the fixed rate", "G x fixed rate", f"{cur}/month",
            lambda p: f"={r('good_tokens', p)}*{r('fixed_rate', p)}/1000000",
            recovery.recovered, money, horizon=(self.total_over_horizon_of("recovered"), float(recovery.recovered.sum())),
        )
        self.row(
            "over_recovery", "Over (+) or under (-) recovery", "recovered - C(U)", f"{cur}/month",
            lambda p: f"={r('recovered', p)}-{r('total', p)}",
            recovery.over_recovery, money, horizon=(self.total_over_horizon_of("over_recovery"), float(recovery.over_recovery.sum())),
            bold=True,
        )
        row = self.row(
            "carried_forward", "Balance carried forward", "", cur,
            lambda p: f"={r('brought_forward', p)}+{r('over_recovery', p)}",
            recovery.balance_carried_forward, money,
        )
        assert row == carried_row and self.layout["brought_forward"] == brought_row

    # ------------------------------------------------------------------
    # Quarterly roll-up, waterfall and charts

    def _write_quarterly(self, first_row: int) -> int:
        ws = self.ws
        s = self.schedule
        q = s.quarterly
        money = self.ctx.money
        per_million = self.ctx.per_million
        cur = self.ctx.scenario.currency
        ws[f"A{first_row}"] = "Quarterly roll-up"
        ws[f"A{first_row}"].font = style.SECTION_FONT
        header = first_row + 1
        style.write_header(ws, header, ["Figure", "Symbol", "Unit", ""])
        style.write_header(ws, header, q.labels, column=FIRST_PERIOD_COLUMN)
        row = header

        def span(key: str, index: int, *, from_second: bool = False) -> str | None:
            first = int(q.first[index])
            if from_second:
                first = max(first, 1)
            stop = int(q.stop[index])
            if first >= stop:
                return None
            source = self.layout[key]
            return f"{period_letter(first)}{source}:{period_letter(stop - 1)}{source}"

        def write(label: str, unit: str, formula: Callable[[int], str | None], values: np.ndarray, number_format: str, bold: bool = False) -> int:
            nonlocal row
            row += 1
            ws[f"A{row}"] = label
            ws[f"C{row}"] = unit
            if bold:
                ws[f"A{row}"].font = style.TOTAL_FONT
            for index in range(len(q.labels)):
                text = formula(index)
                if text is not None:
                    self.ctx.formula(ws, f"{period_letter(index)}{row}", text, values[index], number_format, bold=bold)
            return row

        row += 1
        ws[f"A{row}"] = "Months"
        for index in range(len(q.labels)):
            ws[f"{period_letter(index)}{row}"] = int(q.stop[index] - q.first[index])
        rows: dict[str, int] = {}
        for key, label, _ in s.component_rows():
            rows[key] = write(label, f"{cur}/quarter", lambda i, k=key: f"=SUM({span(k, i)})", q.components[key], money)
        rows["total"] = write("Total cost C(U)", f"{cur}/quarter", lambda i: f"=SUM({span('total', i)})", q.total, money, bold=True)
        rows["full_cost"] = write("Total cost at full utilization C(1)", f"{cur}/quarter", lambda i: f"=SUM({span('full_cost', i)})", q.full_cost, money)
        rows["capacity"] = write("Capacity K", "tokens/quarter", lambda i: f"=SUM({span('capacity', i)})", q.capacity, style.TOKENS)
        rows["good_tokens"] = write("Good tokens G", "tokens/quarter", lambda i: f"=SUM({span('good_tokens', i)})", q.good_tokens, style.TOKENS)
        letter = period_letter
        write(
            "Cost per good token (quarter)", f"{cur}/M",
            lambda i: f"={letter(i)}{rows['total']}/{letter(i)}{rows['good_tokens']}*1000000",
            q.cost_per_good_token * MILLION, per_million, bold=True,
        )
        write(
            "Floor (quarter)", f"{cur}/M",
            lambda i: f"={letter(i)}{rows['full_cost']}/{letter(i)}{rows['capacity']}*1000000",
            q.floor * MILLION, per_million,
        )
        write(
            "Cost per good token in the quarter's last month", f"{cur}/M",
            lambda i: f"={letter(int(q.stop[i]) - 1)}{self.layout['cost']}",
            q.exit_rate * MILLION, per_million,
        )
        for position, (key, label) in enumerate(CAUSES):
            write(
                f"Decay in the quarter: {label.lower()}", f"{cur}/M",
                lambda i, k=key: None if span(f"decay_{k}", i, from_second=True) is None else f"=SUM({span(f'decay_{k}', i, from_second=True)})",
                q.decay[position] * MILLION, per_million,
            )
        self._quarterly_over_row = write(
            "Over (+) or under (-) recovery", f"{cur}/quarter",
            lambda i: f"=SUM({span('over_recovery', i)})", q.over_recovery, money,
        )
        self._quarterly_total_row = rows["total"]
        write(
            "Balance carried forward at the quarter's end", cur,
            lambda i: f"={letter(int(q.stop[i]) - 1)}{self.layout['carried_forward']}",
            q.balance_carried_forward, money,
        )
        return row

    def _write_waterfall(self, first_row: int) -> tuple[int, int]:
        """Write the decay waterfall over the horizon; returns its first and last data rows."""
        ws = self.ws
        s = self.schedule
        per_million = self.ctx.per_million
        cur = self.ctx.scenario.currency
        ws[f"A{first_row}"] = f"Decay waterfall over the horizon ({cur} per million good tokens)"
        ws[f"A{first_row}"].font = style.SECTION_FONT
        header = first_row + 1
        style.write_header(ws, header, ["Step", "Change", "Running total", "Base", "Fall", "Rise", "Total"])
        start = float(s.cost_per_good_token[0] * MILLION)
        end = float(s.cost_per_good_token[-1] * MILLION)
        parts = np.nansum(s.decay, axis=1) * MILLION if self.months > 1 else np.zeros(len(CAUSES))

        row = header + 1
        data_first = row
        ws[f"A{row}"] = f"First month ({s.labels[0]})"
        self.ctx.formula(ws, f"B{row}", f"={period_letter(0)}{self.layout['cost']}", start, per_million)
        self.ctx.formula(ws, f"C{row}", f"=B{row}", start, per_million)
        self._waterfall_bars(row, 0.0, 0.0, 0.0, start, is_total=True)
        running = start
        for position, (key, label) in enumerate(CAUSES):
            row += 1
            before = running
            running += float(parts[position])
            ws[f"A{row}"] = label
            if self.months > 1:
                self.ctx.formula(ws, f"B{row}", f"=D{self.layout[f'decay_{key}']}", float(parts[position]), per_million)
            else:
                ws[f"B{row}"] = 0.0
            self.ctx.formula(ws, f"C{row}", f"=C{row - 1}+B{row}", running, per_million)
            self._waterfall_bars(row, min(before, running), max(-parts[position], 0.0), max(parts[position], 0.0), 0.0, is_total=False)
        row += 1
        ws[f"A{row}"] = f"Last month ({s.labels[-1]})"
        self.ctx.formula(ws, f"B{row}", f"={self.last}{self.layout['cost']}", end, per_million)
        self.ctx.formula(ws, f"C{row}", f"=B{row}", end, per_million)
        self._waterfall_bars(row, 0.0, 0.0, 0.0, end, is_total=True)
        self._waterfall_rows = (data_first, row)
        self.ctx.add_check(
            "Schedule: the waterfall ends at the last month's cost",
            close(f"{SHEET}!C{row - 1}", f"{SHEET}!C{row}"),
            "first month plus the decay parts over the horizon equals the last month's cost per good token",
        )
        return data_first, row

    def _waterfall_bars(self, row: int, base: float, fall: float, rise: float, total: float, *, is_total: bool) -> None:
        per_million = self.ctx.per_million
        ws = self.ws
        if is_total:
            for column, value in (("D", 0.0), ("E", 0.0), ("F", 0.0)):
                ws[f"{column}{row}"] = value
            self.ctx.formula(ws, f"G{row}", f"=B{row}", total, per_million)
            return
        self.ctx.formula(ws, f"D{row}", f"=MIN(C{row - 1},C{row})", base, per_million)
        self.ctx.formula(ws, f"E{row}", f"=MAX(-B{row},0)", fall, per_million)
        self.ctx.formula(ws, f"F{row}", f"=MAX(B{row},0)", rise, per_million)
        ws[f"G{row}"] = 0.0

    def _add_charts(self, waterfall: tuple[int, int]) -> None:
        ws = self.ws
        cur = self.ctx.scenario.currency
        first_column = FIRST_PERIOD_COLUMN
        last_column = FIRST_PERIOD_COLUMN + self.months - 1
        categories = Reference(ws, min_col=first_column, max_col=last_column, min_row=HEADER_ROW, max_row=HEADER_ROW)

        line = LineChart()
        line.title = "Cost per million good tokens against the API price"
        line.y_axis.title = f"{cur} per million good tokens"
        line.x_axis.title = "Month"
        line.y_axis.scaling.min = 0
        line.x_axis.delete = False
        line.y_axis.delete = False
        for key, title in (("cost", "Cost per good token"), ("floor", "Floor"), ("fixed_rate", "Fixed rate"), ("api_price", "API price")):
            row = self.layout[key]
            values = Reference(ws, min_col=first_column, max_col=last_column, min_row=row, max_row=row)
            series = Series(values, title=title)
            series.smooth = False
            series.marker.symbol = "none"
            line.series.append(series)
        line.set_categories(categories)
        line.height = 9
        line.width = 22

        first, last = waterfall
        bars = BarChart()
        bars.type = "col"
        bars.grouping = "stacked"
        bars.overlap = 100
        bars.title = "Decay of the cost per good token over the horizon"
        bars.y_axis.title = f"{cur} per million good tokens"
        bars.x_axis.delete = False
        bars.y_axis.delete = False
        for column, colour in ((4, None), (5, _FALL_COLOUR), (6, _RISE_COLOUR), (7, _TOTAL_COLOUR)):
            values = Reference(ws, min_col=column, max_col=column, min_row=first - 1, max_row=last)
            series = Series(values, title_from_data=True)
            if colour is None:
                series.graphicalProperties.noFill = True
                series.graphicalProperties.line.noFill = True
            else:
                series.graphicalProperties.solidFill = colour
            bars.series.append(series)
        bars.set_categories(Reference(ws, min_col=1, max_col=1, min_row=first, max_row=last))
        bars.legend = None
        bars.height = 9
        bars.width = 16

        anchor_row = last + 2
        ws.add_chart(line, f"A{anchor_row}")
        ws.add_chart(bars, f"A{anchor_row + 20}")

    # ------------------------------------------------------------------
    # Checks

    def add_checks(self) -> None:
        ctx = self.ctx
        r = self.layout
        first, last = period_letter(0), self.last

        def months_of(key: str, start: str = first) -> str:
            return f"{SHEET}!{start}{r[key]}:{last}{r[key]}"

        component_sum = "+".join(months_of(key) for key, _, _ in self.schedule.component_rows())
        ctx.add_check(
            "Schedule: components add up to C(U) in every month",
            f"SUMPRODUCT(--(ABS({component_sum}-{months_of('total')})>1E-9*(1+ABS({months_of('total')}))))=0",
            "the seven component rows sum to the total cost of each month",
        )
        ctx.add_check(
            "Schedule: accelerators are in service in every month",
            f"COUNTIF({months_of('accelerators')},\"<=0\")=0",
            "cost per good token is undefined in a month without accelerators",
        )
        ctx.add_check(
            "Schedule: re-struck rate recovers each month's cost",
            f"SUMPRODUCT(--(ABS({months_of('restruck_recovered')}-{months_of('total')})>1E-9*(1+ABS({months_of('total')}))))=0",
            "good tokens x this month's rate = C(U), so a re-struck chargeback neither over- nor under-recovers",
        )
        ctx.add_check(
            "Schedule: balance = opening balance + over- and under-recoveries",
            close(f"{SHEET}!{last}{r['carried_forward']}", f"restrike_opening_balance+SUM({months_of('over_recovery')})"),
            "the balance carried forward accumulates every month's over (+) or under (-) recovery",
        )
        if self.months > 1:
            second = period_letter(1)
            parts = "+".join(months_of(f"decay_{key}", second) for key, _ in CAUSES)
            ctx.add_check(
                "Schedule: decay parts add up to the change in every month",
                f"SUMPRODUCT(--(ABS({parts}-{months_of('change', second)})>1E-9*(1+ABS({months_of('cost', second)}))))=0",
                "depreciation, throughput, energy price, utilization, yield, fleet and other fixed cost explain the whole change",
            )
        ctx.add_check(
            "Schedule: quarterly cost adds up to the horizon's cost",
            close(
                f"SUM({SHEET}!{first}{self._quarterly_total_row}:{period_letter(len(self.schedule.quarterly.labels) - 1)}{self._quarterly_total_row})",
                f"{SHEET}!D{r['total']}",
            ),
            "the quarters split the horizon without a gap or an overlap",
        )
        ctx.add_check(
            "Assets: no asset is depreciated below its salvage value",
            f"SUMPRODUCT(--({self.assets.column('closing_book_value')}<"
            f"{self.assets.column('quantity')}*{self.assets.column('salvage')}-1E-6*(1+{self.assets.column('cost_less_salvage')})))=0",
            "net book value after the last month is at least quantity x salvage for every asset",
        )
