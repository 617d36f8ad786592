"""The Inputs sheet: every scenario value in a named cell.

Each parameter gets a defined name equal to its flat name (``silicon_unit_price``),
so every other sheet's formulas read like the scenario file. Numeric inputs are
unlocked and carry data validation with the scenario's own allowed range. Text that
chooses a basis is locked, because switching basis changes which inputs exist, so it
is done in the scenario file.
"""

from __future__ import annotations

from openpyxl.worksheet.datavalidation import DataValidation

from tokenbom_xl.scenario import Parameter, scenario_parameters
from tokenbom_xl.workbook import style
from tokenbom_xl.workbook.context import BuildContext, write_text

FIRST_ROW = 5

# Text inputs that the formulas follow, so a user may change them in the workbook.
_EDITABLE_CHOICES = {
    "silicon_method": ("straight-line", "declining-balance"),
    "chargeback_unreserved_idle": ("central", "spread-by-usage"),
}


def write_inputs(ctx: BuildContext) -> None:
    """Write the Inputs sheet and define a name for every parameter's value cell."""
    ws = ctx.add_sheet("Inputs", "Every scenario value; yellow cells are inputs")
    ws["A1"] = "Inputs"
    ws["A1"].font = style.TITLE_FONT
    ws["A2"] = (
        "Yellow cells are inputs: change one and every sheet recalculates. Grey cells "
        "choose a basis; change those in the scenario file and rebuild."
    )
    ws["A2"].font = style.SUBTITLE_FONT
    style.write_header(
        ws,
        FIRST_ROW - 1,
        ["Parameter (defined name)", "Value", "Unit", "Description", "Allowed"],
    )

    for offset, parameter in enumerate(scenario_parameters(ctx.scenario)):
        row = FIRST_ROW + offset
        write_text(ws, f"A{row}", parameter.name)
        value_cell = ws[f"B{row}"]
        if parameter.is_number:
            value_cell.value = parameter.value
            value_cell.number_format = _number_format(ctx, parameter)
            _mark_input(value_cell)
            _validate_number(ws, f"B{row}", parameter)
        elif parameter.name in _EDITABLE_CHOICES:
            write_text(ws, f"B{row}", parameter.value)
            _mark_input(value_cell)
            _validate_choice(
                ws, f"B{row}", parameter.name, _EDITABLE_CHOICES[parameter.name]
            )
        else:
            write_text(ws, f"B{row}", parameter.value)
            value_cell.fill = style.STRUCTURAL_FILL
        ws[f"C{row}"] = _unit_text(ctx, parameter)
        ws[f"D{row}"] = parameter.description
        ws[f"E{row}"] = _allowed_text(parameter)
        ctx.define(parameter.name, ws, f"B{row}")

    style.set_column_widths(ws, {"A": 34, "B": 20, "C": 16, "D": 70, "E": 22})
    style.finish_sheet(
        ws, freeze=f"B{FIRST_ROW}", title_rows=f"{FIRST_ROW - 1}:{FIRST_ROW - 1}"
    )


def _mark_input(cell) -> None:
    cell.fill = style.INPUT_FILL
    cell.font = style.INPUT_FONT
    cell.protection = style.UNLOCKED


def _number_format(ctx: BuildContext, parameter: Parameter) -> str:
    if parameter.unit == "money":
        return ctx.money
    if parameter.unit in ("money/kWh", "money/M tokens"):
        return "#,##0.0000"
    if parameter.unit == "fraction":
        return style.FRACTION
    if isinstance(parameter.value, int):
        return style.TOKENS
    return style.NUMBER


def _unit_text(ctx: BuildContext, parameter: Parameter) -> str:
    return parameter.unit.replace("money", ctx.scenario.currency)


def _bounds(parameter: Parameter, reference: str, *, separator: str = "") -> list[str]:
    """Return the parameter's bounds as comparisons such as 'B7>0'."""
    conditions = []
    if parameter.minimum is not None:
        operator = ">=" if parameter.minimum_inclusive else ">"
        conditions.append(
            f"{reference}{separator}{operator}{separator}{_number(parameter.minimum)}"
        )
    if parameter.maximum is not None:
        operator = "<=" if parameter.maximum_inclusive else "<"
        conditions.append(
            f"{reference}{separator}{operator}{separator}{_number(parameter.maximum)}"
        )
    return conditions


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _allowed_text(parameter: Parameter) -> str:
    if not parameter.is_number:
        choices = _EDITABLE_CHOICES.get(parameter.name)
        return " or ".join(choices) if choices else "set in the scenario file"
    parts = [
        c.replace("value ", "") for c in _bounds(parameter, "value", separator=" ")
    ]
    kind = "whole number" if isinstance(parameter.value, int) else "number"
    return f"{kind} {' and '.join(parts)}".strip()


def _validate_number(ws, coordinate: str, parameter: Parameter) -> None:
    conditions = [f"ISNUMBER({coordinate})", *_bounds(parameter, coordinate)]
    if isinstance(parameter.value, int):
        conditions.append(f"INT({coordinate})={coordinate}")
    validation = DataValidation(
        type="custom",
        formula1=f"AND({','.join(conditions)})",
        allow_blank=False,
        showErrorMessage=True,
        errorTitle=f"Invalid {parameter.name}",
        error=f"{parameter.name} must be a {_allowed_text(parameter)}.",
        showInputMessage=True,
        promptTitle=parameter.name[:32],
        prompt=f"{parameter.description} ({_allowed_text(parameter)})"[:255],
    )
    ws.add_data_validation(validation)
    validation.add(coordinate)


def _validate_choice(ws, coordinate: str, name: str, choices: tuple[str, ...]) -> None:
    validation = DataValidation(
        type="list",
        formula1='"' + ",".join(choices) + '"',
        allow_blank=False,
        showErrorMessage=True,
        errorTitle=f"Invalid {name}",
        error=f"{name} must be one of: {', '.join(choices)}.",
    )
    ws.add_data_validation(validation)
    validation.add(coordinate)
