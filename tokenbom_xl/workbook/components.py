"""One sheet per component: its basis, its formula, its drivers and its TBM destination.

Each sheet ends in a named monthly cost (``cost_silicon`` and so on) that the
Summary sheet adds up. Energy also names its full-load cost ``cost_energy_full`` and
its idle floor ``cost_energy_idle``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenbom_xl import engine
from tokenbom_xl.scenario import (
    EnergyPhysical,
    FabricCapex,
    FabricShare,
    FacilityFixed,
    FacilityPerKw,
    FacilityPerRack,
)
from tokenbom_xl.tbm import TbmRoute, routes_for
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.context import BuildContext, write_text


@dataclass(frozen=True)
class Line:
    """A driver row: label, formula, engine value, unit and number format."""

    label: str
    formula: str
    expected: float
    unit: str
    number_format: str


@dataclass(frozen=True)
class ComponentSheet:
    key: str
    title: str
    definition: str
    behaviour: str
    basis: str
    formula_text: str
    lines: list[Line]
    cost_formula: str
    cost: float


def write_component_sheets(ctx: BuildContext, routes: list[TbmRoute]) -> None:
    """Write one sheet per component, each ending in its named monthly cost."""
    for sheet in component_sheets(ctx):
        _write_sheet(ctx, sheet, routes_for(routes, sheet.title))


def component_sheets(ctx: BuildContext) -> list[ComponentSheet]:
    """Describe the seven component sheets for the context's scenario."""
    return [
        _silicon_sheet(ctx),
        _fabric_sheet(ctx),
        _facility_sheet(ctx),
        _energy_sheet(ctx),
        _platform_sheet(ctx),
        _lifecycle_sheet(ctx),
        _operations_sheet(ctx),
    ]


def _silicon_sheet(ctx: BuildContext) -> ComponentSheet:
    scenario, money, currency = ctx.scenario, ctx.money, ctx.scenario.currency
    silicon = scenario.silicon
    return ComponentSheet(
        key="silicon",
        title="Silicon",
        definition="Accelerators that run the forward pass, depreciated over their useful life.",
        behaviour="fixed (capital)",
        basis=f"{scenario.accelerators} accelerators, {silicon.method} depreciation over {silicon.life_months} months",
        formula_text=(
            "accelerators x one unit's monthly charge. Straight-line: (price - salvage) / life while age < life. "
            "Declining-balance: VDB(price, salvage, life, age, age + 1, 2). Zero once fully depreciated."
        ),
        lines=[
            Line(
                "Accelerators",
                "=accelerators",
                scenario.accelerators,
                "accelerators",
                style.TOKENS,
            ),
            Line(
                "Unit price", "=silicon_unit_price", silicon.unit_price, currency, money
            ),
            Line(
                "Salvage per unit", "=silicon_salvage", silicon.salvage, currency, money
            ),
            Line(
                "Depreciation life",
                "=silicon_life_months",
                silicon.life_months,
                "months",
                style.TOKENS,
            ),
            Line(
                "Age at the start of the period",
                "=silicon_age_months",
                silicon.age_months,
                "months",
                style.TOKENS,
            ),
            Line(
                "Monthly charge per accelerator",
                "=IF(silicon_age_months<silicon_life_months,"
                'IF(silicon_method="declining-balance",'
                "VDB(silicon_unit_price,silicon_salvage,silicon_life_months,silicon_age_months,silicon_age_months+1,2,FALSE),"
                "(silicon_unit_price-silicon_salvage)/silicon_life_months),0)",
                float(engine.silicon_cost(silicon, 1)),
                f"{currency}/month",
                money,
            ),
        ],
        cost_formula="=accelerators*{prev}",
        cost=ctx.result.components.silicon,
    )


def _fabric_sheet(ctx: BuildContext) -> ComponentSheet:
    fabric, money, currency = ctx.scenario.fabric, ctx.money, ctx.scenario.currency
    components = ctx.result.components
    if isinstance(fabric, FabricShare):
        lines = [
            Line(
                "Silicon charge",
                "=cost_silicon",
                components.silicon,
                f"{currency}/month",
                money,
            ),
            Line(
                "Share of Silicon",
                "=fabric_share_of_silicon",
                fabric.share_of_silicon,
                "fraction",
                style.PERCENT,
            ),
        ]
        formula, basis, text = (
            "=cost_silicon*fabric_share_of_silicon",
            f"{fabric.share_of_silicon:.0%} of Silicon",
            "Silicon charge x share of Silicon",
        )
    else:
        assert isinstance(fabric, FabricCapex)
        lines = [
            Line("Fabric capital", "=fabric_capex", fabric.capex, currency, money),
            Line(
                "Amortization life",
                "=fabric_life_months",
                fabric.life_months,
                "months",
                style.TOKENS,
            ),
        ]
        formula, basis, text = (
            "=fabric_capex/fabric_life_months",
            "own capital, straight-line",
            "capital / life in months",
        )
    return ComponentSheet(
        "fabric",
        "Fabric",
        "Interconnect, head and control nodes, and the local storage that feeds the accelerators.",
        "fixed (capital)",
        basis,
        text,
        lines,
        formula,
        components.fabric,
    )


def _facility_sheet(ctx: BuildContext) -> ComponentSheet:
    facility, money, currency = ctx.scenario.facility, ctx.money, ctx.scenario.currency
    if isinstance(facility, FacilityFixed):
        lines = [
            Line(
                "Monthly plant cost",
                "=facility_monthly_cost",
                facility.monthly_cost,
                currency,
                money,
            )
        ]
        formula, basis, text = (
            "=facility_monthly_cost",
            "fixed monthly cost",
            "fixed monthly cost",
        )
    elif isinstance(facility, FacilityPerRack):
        lines = [
            Line("Racks", "=facility_racks", facility.racks, "racks", style.NUMBER),
            Line(
                "Cost per rack",
                "=facility_cost_per_rack",
                facility.cost_per_rack,
                f"{currency}/rack",
                money,
            ),
        ]
        formula, basis, text = (
            "=facility_racks*facility_cost_per_rack",
            "per rack",
            "racks x cost per rack",
        )
    else:
        assert isinstance(facility, FacilityPerKw)
        lines = [
            Line(
                "Provisioned power",
                "=facility_provisioned_kw",
                facility.provisioned_kw,
                "kW",
                style.NUMBER,
            ),
            Line(
                "Cost per kW",
                "=facility_cost_per_kw",
                facility.cost_per_kw,
                f"{currency}/kW",
                money,
            ),
        ]
        formula, basis, text = (
            "=facility_provisioned_kw*facility_cost_per_kw",
            "per provisioned kW",
            "provisioned kW x cost per kW",
        )
    return ComponentSheet(
        "facility",
        "Facility",
        "Data-centre space, racks, shell and the fixed mechanical and electrical plant.",
        "fixed",
        basis,
        text,
        lines,
        formula,
        ctx.result.components.facility,
    )


def _platform_sheet(ctx: BuildContext) -> ComponentSheet:
    platform, money, currency = ctx.scenario.platform, ctx.money, ctx.scenario.currency
    return ComponentSheet(
        "platform",
        "Platform",
        "Inference engine, scheduler, orchestrator, cluster manager and model licences.",
        "fixed",
        "licences plus per-node fees",
        "licences + nodes x fee per node + model licences",
        [
            Line(
                "Serving and orchestration licences",
                "=platform_licences_monthly",
                platform.licences_monthly,
                currency,
                money,
            ),
            Line(
                "Nodes paying a per-node fee",
                "=platform_nodes",
                platform.nodes,
                "nodes",
                style.TOKENS,
            ),
            Line(
                "Fee per node",
                "=platform_fee_per_node",
                platform.fee_per_node,
                currency,
                money,
            ),
            Line(
                "Model licences",
                "=platform_model_licences_monthly",
                platform.model_licences_monthly,
                currency,
                money,
            ),
        ],
        "=platform_licences_monthly+platform_nodes*platform_fee_per_node+platform_model_licences_monthly",
        ctx.result.components.platform,
    )


def _lifecycle_sheet(ctx: BuildContext) -> ComponentSheet:
    lifecycle, money, currency = (
        ctx.scenario.model_lifecycle,
        ctx.money,
        ctx.scenario.currency,
    )
    return ComponentSheet(
        "model_lifecycle",
        "Model Lifecycle",
        "Recurring tuning, retraining and evaluation that keep the model fit to produce good tokens.",
        "fixed, recurring",
        f"{lifecycle.cycles_per_year:g} cycles a year plus labour",
        "cost per cycle x cycles per year / 12 + labour",
        [
            Line(
                "Cost per cycle",
                "=model_lifecycle_cost_per_cycle",
                lifecycle.cost_per_cycle,
                currency,
                money,
            ),
            Line(
                "Cycles per year",
                "=model_lifecycle_cycles_per_year",
                lifecycle.cycles_per_year,
                "cycles/year",
                style.NUMBER,
            ),
            Line(
                "Labour",
                "=model_lifecycle_labour_monthly",
                lifecycle.labour_monthly,
                f"{currency}/month",
                money,
            ),
        ],
        "=model_lifecycle_cost_per_cycle*model_lifecycle_cycles_per_year/12+model_lifecycle_labour_monthly",
        ctx.result.components.model_lifecycle,
    )


def _operations_sheet(ctx: BuildContext) -> ComponentSheet:
    operations, money, currency = (
        ctx.scenario.operations,
        ctx.money,
        ctx.scenario.currency,
    )
    return ComponentSheet(
        "operations",
        "Operations",
        "Platform engineering, site reliability and ML operations that keep the factory running.",
        "fixed",
        f"{operations.fte:g} FTE at {operations.annual_cost_per_fte:,.0f} {currency} a year, {operations.share:.0%} allocated",
        "FTE x annual cost per FTE / 12 x share",
        [
            Line(
                "Full-time equivalents",
                "=operations_fte",
                operations.fte,
                "FTE",
                style.NUMBER,
            ),
            Line(
                "Annual cost per FTE",
                "=operations_annual_cost_per_fte",
                operations.annual_cost_per_fte,
                f"{currency}/year",
                money,
            ),
            Line(
                "Share allocated to this factory",
                "=operations_share",
                operations.share,
                "fraction",
                style.PERCENT,
            ),
        ],
        "=operations_fte*operations_annual_cost_per_fte/12*operations_share",
        ctx.result.components.operations,
    )


def _energy_sheet(ctx: BuildContext) -> ComponentSheet:
    scenario, currency = ctx.scenario, ctx.scenario.currency
    energy = scenario.energy
    if isinstance(energy, EnergyPhysical):
        if energy.wall_kw is not None:
            power = [
                Line(
                    "Full-load power at the wall",
                    "=energy_wall_kw",
                    energy.wall_kw,
                    "kW",
                    style.NUMBER,
                )
            ]
            kw_reference = "energy_wall_kw"
        else:
            power = [
                Line(
                    "Full-load IT power",
                    "=energy_it_kw",
                    energy.it_kw,
                    "kW",
                    style.NUMBER,
                ),
                Line("PUE", "=energy_pue", energy.pue, "ratio", "0.00"),
            ]
            kw_reference = "energy_it_kw*energy_pue"
        lines = [
            *power,
            Line(
                "Hours in the period",
                "=hours_per_period",
                scenario.hours_per_period,
                "hours",
                style.NUMBER,
            ),
            Line(
                "Price",
                "=energy_price_per_kwh",
                energy.price_per_kwh,
                f"{currency}/kWh",
                "0.0000",
            ),
        ]
        full_formula = f"={kw_reference}*hours_per_period*energy_price_per_kwh"
        basis = "power x hours x price"
        text = "E_full = kW at the wall x hours x price, and E(U) = E_full x (i + (1 - i) x U)"
    else:
        lines = []
        full_formula = "=energy_full_load_cost"
        basis = "stated full-load amount"
        text = "E_full as stated, and E(U) = E_full x (i + (1 - i) x U)"
    return ComponentSheet(
        "energy",
        "Energy",
        "Electricity for the accelerators and the cooling that removes their heat: the variable cost.",
        "variable, with an idle floor",
        basis,
        text,
        lines,
        full_formula,
        ctx.result.components.energy_full,
    )


FIRST_LINE_ROW = 10


def _write_sheet(
    ctx: BuildContext, sheet: ComponentSheet, routes: list[TbmRoute]
) -> None:
    ws = ctx.add_sheet(sheet.title, f"{sheet.title}: basis, drivers and monthly cost")
    ws["A1"] = sheet.title
    ws["A1"].font = style.TITLE_FONT
    ws["A2"] = sheet.definition
    ws["A2"].font = style.SUBTITLE_FONT
    facts = [
        ("Behaviour", sheet.behaviour),
        ("Basis", sheet.basis),
        ("Formula", sheet.formula_text),
        ("TBM destination", "; ".join(_route_text(route) for route in routes)),
    ]
    for offset, (label, text) in enumerate(facts):
        ws[f"A{4 + offset}"] = label
        ws[f"A{4 + offset}"].font = style.TOTAL_FONT
        write_text(ws, f"B{4 + offset}", text).alignment = style.WRAP

    style.write_header(ws, FIRST_LINE_ROW - 1, ["Driver", "Value", "Unit"])
    row = FIRST_LINE_ROW
    for line in sheet.lines:
        ws[f"A{row}"] = line.label
        ctx.formula(ws, f"B{row}", line.formula, line.expected, line.number_format)
        ws[f"C{row}"] = line.unit
        row += 1

    cur = ctx.scenario.currency
    result = ctx.result
    if sheet.key == "energy":
        ws[f"A{row}"] = "Energy cost at full utilization (E_full)"
        ctx.formula(
            ws,
            f"B{row}",
            sheet.cost_formula,
            sheet.cost,
            ctx.money,
            name="cost_energy_full",
            bold=True,
        )
        ws[f"C{row}"] = f"{cur}/month"
        row += 1
        ws[f"A{row}"] = "Idle-power fraction (i)"
        ctx.formula(
            ws,
            f"B{row}",
            "=energy_idle_fraction",
            result.components.idle_fraction,
            style.PERCENT,
        )
        ws[f"C{row}"] = "fraction"
        row += 1
        ws[f"A{row}"] = "Idle energy floor (i x E_full)"
        ctx.formula(
            ws,
            f"B{row}",
            "=energy_idle_fraction*cost_energy_full",
            result.components.idle_energy,
            ctx.money,
            name="cost_energy_idle",
        )
        ws[f"C{row}"] = f"{cur}/month"
        row += 1
        ws[f"A{row}"] = "Utilization (U)"
        ctx.formula(ws, f"B{row}", "=utilization", result.utilization, style.PERCENT)
        ws[f"C{row}"] = "fraction"
        row += 1
        ws[f"A{row}"] = "Energy cost at U, E(U)"
        cost_cell = ctx.formula(
            ws,
            f"B{row}",
            "=cost_energy_full*(energy_idle_fraction+(1-energy_idle_fraction)*utilization)",
            result.energy,
            ctx.money,
            name="cost_energy",
            bold=True,
        )
        monthly = float(result.energy)
    else:
        ws[f"A{row}"] = "Monthly cost"
        formula = sheet.cost_formula.replace("{prev}", f"B{row - 1}")
        cost_cell = ctx.formula(
            ws,
            f"B{row}",
            formula,
            sheet.cost,
            ctx.money,
            name=f"cost_{sheet.key}",
            bold=True,
        )
        monthly = sheet.cost
    ws[f"A{row}"].font = style.TOTAL_FONT
    cost_cell.border = style.TOTAL_BORDER
    ws[f"C{row}"] = f"{cur}/month"
    cost_ref = f"B{row}"
    row += 2

    ws[f"A{row}"] = "Share of total cost C(U)"
    ctx.formula(
        ws,
        f"B{row}",
        f"={cost_ref}/bom_total",
        monthly / float(result.total),
        style.PERCENT,
    )
    ws[f"C{row}"] = "fraction"
    row += 1
    ws[f"A{row}"] = "Per million good tokens"
    ctx.formula(
        ws,
        f"B{row}",
        f"={cost_ref}/bom_good_tokens*1000000",
        monthly / float(result.good_tokens) * 1e6,
        ctx.per_million,
    )
    ws[f"C{row}"] = f"{cur}/M tokens"

    style.set_column_widths(ws, {"A": 42, "B": 22, "C": 16})
    ws.column_dimensions["B"].width = 22
    for offset in range(len(facts)):
        ws.merge_cells(
            start_row=4 + offset, start_column=2, end_row=4 + offset, end_column=8
        )
        ws.row_dimensions[4 + offset].height = 30

    style.finish_sheet(
        ws,
        freeze=f"A{FIRST_LINE_ROW}",
        title_rows=f"{FIRST_LINE_ROW - 1}:{FIRST_LINE_ROW - 1}",
    )


def _route_text(route: TbmRoute) -> str:
    tower = route.resource_tower + (f" / {route.sub_tower}" if route.sub_tower else "")
    return f"{route.cost_pool} > {tower} > {route.solution} ({route.split_percent:g}%)"
