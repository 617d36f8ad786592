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
    for sheet in component_sheets(ctx):
        _write_sheet(ctx, sheet, routes_for(routes, sheet.title))


def component_sheets(ctx: BuildContext) -> list[ComponentSheet]:
    """Describe the seven component sheets for the context's scenario."""
    s = ctx.scenario
    c = ctx.result.components
    money = ctx.money
    cur = s.currency
    count = style.TOKENS

    silicon_unit = float(engine.silicon_cost(s.silicon, 1))
    silicon = ComponentSheet(
        key="silicon",
        title="Silicon",
        definition="Accelerators that run the forward pass, depreciated over their useful life.",
        behaviour="fixed (capital)",
        basis=f"{s.accelerators} accelerators, {s.silicon.method} depreciation over {s.silicon.life_months} months",
        formula_text=(
            "accelerators x one unit's monthly charge; straight-line: (price - salvage) / life while age < life; "
            "declining-balance: VDB(price, salvage, life, age, age + 1, 2), 0 once fully depreciated"
        ),
        lines=[
            Line("Accelerators", "=accelerators", s.accelerators, "accelerators", count),
            Line("Unit price", "=silicon_unit_price", s.silicon.unit_price, cur, money),
            Line("Salvage per unit", "=silicon_salvage", s.silicon.salvage, cur, money),
            Line("Depreciation life", "=silicon_life_months", s.silicon.life_months, "months", count),
            Line("Age at the start of the period", "=silicon_age_months", s.silicon.age_months, "months", count),
            Line(
                "Monthly charge per accelerator",
                "=IF(silicon_age_months<silicon_life_months,"
                'IF(silicon_method="declining-balance",'
                "VDB(silicon_unit_price,silicon_salvage,silicon_life_months,silicon_age_months,silicon_age_months+1,2,FALSE),"
                "(silicon_unit_price-silicon_salvage)/silicon_life_months),0)",
                silicon_unit,
                f"{cur}/month",
                money,
            ),
        ],
        cost_formula="=accelerators*{prev}",
        cost=c.silicon,
    )

    if isinstance(s.fabric, FabricShare):
        fabric_lines = [
            Line("Silicon charge", "=cost_silicon", c.silicon, f"{cur}/month", money),
            Line("Share of Silicon", "=fabric_share_of_silicon", s.fabric.share_of_silicon, "fraction", style.PERCENT),
        ]
        fabric_formula, fabric_basis = "=cost_silicon*fabric_share_of_silicon", f"{s.fabric.share_of_silicon:.0%} of Silicon"
        fabric_text = "Silicon charge x share of Silicon"
    else:
        assert isinstance(s.fabric, FabricCapex)
        fabric_lines = [
            Line("Fabric capital", "=fabric_capex", s.fabric.capex, cur, money),
            Line("Amortization life", "=fabric_life_months", s.fabric.life_months, "months", count),
        ]
        fabric_formula, fabric_basis = "=fabric_capex/fabric_life_months", "own capital, straight-line"
        fabric_text = "capital / life in months"
    fabric = ComponentSheet(
        "fabric",
        "Fabric",
        "Interconnect, head and control nodes, and the local storage that feeds the accelerators.",
        "fixed (capital)",
        fabric_basis,
        fabric_text,
        fabric_lines,
        fabric_formula,
        c.fabric,
    )

    f = s.facility
    if isinstance(f, FacilityFixed):
        facility_lines = [Line("Monthly plant cost", "=facility_monthly_cost", f.monthly_cost, cur, money)]
        facility_formula, facility_basis, facility_text = "=facility_monthly_cost", "fixed monthly cost", "fixed monthly cost"
    elif isinstance(f, FacilityPerRack):
        facility_lines = [
            Line("Racks", "=facility_racks", f.racks, "racks", style.NUMBER),
            Line("Cost per rack", "=facility_cost_per_rack", f.cost_per_rack, f"{cur}/rack", money),
        ]
        facility_formula, facility_basis, facility_text = (
            "=facility_racks*facility_cost_per_rack",
            "per rack",
            "racks x cost per rack",
        )
    else:
        assert isinstance(f, FacilityPerKw)
        facility_lines = [
            Line("Provisioned power", "=facility_provisioned_kw", f.provisioned_kw, "kW", style.NUMBER),
            Line("Cost per kW", "=facility_cost_per_kw", f.cost_per_kw, f"{cur}/kW", money),
        ]
        facility_formula, facility_basis, facility_text = (
            "=facility_provisioned_kw*facility_cost_per_kw",
            "per provisioned kW",
            "provisioned kW x cost per kW",
        )
    facility = ComponentSheet(
        "facility",
        "Facility",
        "Data-centre space, racks, shell and the fixed mechanical and electrical plant.",
        "fixed",
        facility_basis,
        facility_text,
        facility_lines,
        facility_formula,
        c.facility,
    )

    p = s.platform
    platform = ComponentSheet(
        "platform",
        "Platform",
        "Inference engine, scheduler, orchestrator, cluster manager and model licences.",
        "fixed",
        "licences plus per-node fees",
        "licences + nodes x fee per node + model licences",
        [
            Line("Serving and orchestration licences", "=platform_licences_monthly", p.licences_monthly, cur, money),
            Line("Nodes paying a per-node fee", "=platform_nodes", p.nodes, "nodes", count),
            Line("Fee per node", "=platform_fee_per_node", p.fee_per_node, cur, money),
            Line("Model licences", "=platform_model_licences_monthly", p.model_licences_monthly, cur, money),
        ],
        "=platform_licences_monthly+platform_nodes*platform_fee_per_node+platform_model_licences_monthly",
        c.platform,
    )

    m = s.model_lifecycle
    lifecycle = ComponentSheet(
        "model_lifecycle",
        "Model Lifecycle",
        "Recurring tuning, retraining and evaluation that keep the model fit to produce good tokens.",
        "fixed, recurring",
        f"{m.cycles_per_year:g} cycles a year plus labour",
        "cost per cycle x cycles per year / 12 + labour",
        [
            Line("Cost per cycle", "=model_lifecycle_cost_per_cycle", m.cost_per_cycle, cur, money),
            Line("Cycles per year", "=model_lifecycle_cycles_per_year", m.cycles_per_year, "cycles/year", style.NUMBER),
            Line("Labour", "=model_lifecycle_labour_monthly", m.labour_monthly, f"{cur}/month", money),
        ],
        "=model_lifecycle_cost_per_cycle*model_lifecycle_cycles_per_year/12+model_lifecycle_labour_monthly",
        c.model_lifecycle,
    )

    o = s.operations
    operations = ComponentSheet(
        "operations",
        "Operations",
        "Platform engineering, site reliability and ML operations that keep the factory running.",
        "fixed",
        f"{o.fte:g} FTE at {o.annual_cost_per_fte:,.0f} {cur} a year, {o.share:.0%} allocated",
        "FTE x annual cost per FTE / 12 x share",
        [
            Line("Full-time equivalents", "=operations_fte", o.fte, "FTE", style.NUMBER),
            Line("Annual cost per FTE", "=operations_annual_cost_per_fte", o.annual_cost_per_fte, f"{cur}/year", money),
            Line("Share allocated to this factory", "=operations_share", o.share, "fraction", style.PERCENT),
        ],
        "=operations_fte*operations_annual_cost_per_fte/12*operations_share",
        c.operations,
    )

    return [silicon, fabric, facility, _energy_sheet(ctx), platform, lifecycle, operations]


def _energy_sheet(ctx: BuildContext) -> ComponentSheet:
    s = ctx.scenario
    c = ctx.result.components
    cur = s.currency
    e = s.energy
    if isinstance(e, EnergyPhysical):
        if e.wall_kw is not None:
            power = [Line("Full-load power at the wall", "=energy_wall_kw", e.wall_kw, "kW", style.NUMBER)]
            kw_ref = "energy_wall_kw"
        else:
            power = [
                Line("Full-load IT power", "=energy_it_kw", e.it_kw, "kW", style.NUMBER),
                Line("PUE", "=energy_pue", e.pue, "ratio", "0.00"),
            ]
            kw_ref = "energy_it_kw*energy_pue"
        lines = [
            *power,
            Line("Hours in the period", "=hours_per_period", s.hours_per_period, "hours", style.NUMBER),
            Line("Price", "=energy_price_per_kwh", e.price_per_kwh, f"{cur}/kWh", "0.0000"),
        ]
        full_formula = f"={kw_ref}*hours_per_period*energy_price_per_kwh"
        basis = "power x hours x price"
        text = "E_full = kW at the wall x hours x price; E(U) = E_full x (i + (1 - i) x U)"
    else:
        lines = []
        full_formula = "=energy_full_load_cost"
        basis = "stated full-load amount"
        text = "E_full stated; E(U) = E_full x (i + (1 - i) x U)"
    return ComponentSheet(
        "energy",
        "Energy",
        "Electricity for the accelerators and the cooling that removes their heat: the variable cost.",
        "variable, with an idle floor",
        basis,
        text,
        lines,
        full_formula,
        c.energy_full,
    )


FIRST_LINE_ROW = 10


def _write_sheet(ctx: BuildContext, sheet: ComponentSheet, routes: list[TbmRoute]) -> None:
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
        ctx.formula(ws, f"B{row}", sheet.cost_formula, sheet.cost, ctx.money, name="cost_energy_full", bold=True)
        ws[f"C{row}"] = f"{cur}/month"
        row += 1
        ws[f"A{row}"] = "Idle-power fraction (i)"
        ctx.formula(ws, f"B{row}", "=energy_idle_fraction", result.components.idle_fraction, style.PERCENT)
        ws[f"C{row}"] = "fraction"
        row += 1
        ws[f"A{row}"] = "Idle energy floor (i x E_full)"
        ctx.formula(ws, f"B{row}", "=energy_idle_fraction*cost_energy_full", result.components.idle_energy, ctx.money, name="cost_energy_idle")
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
        cost_cell = ctx.formula(ws, f"B{row}", formula, sheet.cost, ctx.money, name=f"cost_{sheet.key}", bold=True)
        monthly = sheet.cost
    ws[f"A{row}"].font = style.TOTAL_FONT
    cost_cell.border = style.TOTAL_BORDER
    ws[f"C{row}"] = f"{cur}/month"
    cost_ref = f"B{row}"
    row += 2

    ws[f"A{row}"] = "Share of total cost C(U)"
    ctx.formula(ws, f"B{row}", f"={cost_ref}/bom_total", monthly / float(result.total), style.PERCENT)
    ws[f"C{row}"] = "fraction"
    row += 1
    ws[f"A{row}"] = "Per million good tokens"
    ctx.formula(ws, f"B{row}", f"={cost_ref}/bom_good_tokens*1000000", monthly / float(result.good_tokens) * 1e6, ctx.per_million)
    ws[f"C{row}"] = f"{cur}/M tokens"

    style.set_column_widths(ws, {"A": 42, "B": 22, "C": 16})
    ws.column_dimensions["B"].width = 22
    for offset in range(len(facts)):
        ws.merge_cells(start_row=4 + offset, start_column=2, end_row=4 + offset, end_column=8)
        ws.row_dimensions[4 + offset].height = 30
    style.finish_sheet(ws, freeze=f"A{FIRST_LINE_ROW}", title_rows=f"{FIRST_LINE_ROW - 1}:{FIRST_LINE_ROW - 1}")


def _route_text(route: TbmRoute) -> str:
    tower = route.resource_tower + (f" / {route.sub_tower}" if route.sub_tower else "")
    return f"{route.cost_pool} > {tower} > {route.solution} ({route.split_percent:g}%)"
