"""The state shared by the sheet writers while one workbook is built.

Every formula cell is written through :meth:`BuildContext.formula`, which records the
value the engine computed for that cell. The tests recalculate the workbook in
LibreOffice and compare each recorded cell with it, so no figure is computed only once.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils.cell import column_index_from_string
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from tokenbom_xl.engine import BomResult
from tokenbom_xl.scenario import Scenario
from tokenbom_xl.workbook import style

Expected = float | str | bool


@dataclass(frozen=True)
class Expectation:
    """The engine's value for one formula cell."""

    sheet: str
    coordinate: str
    value: Expected


@dataclass(frozen=True)
class Check:
    """One row of the Checks sheet: a formula that must evaluate to TRUE."""

    label: str
    formula: str  # without the leading "="
    explanation: str


@dataclass
class BuildContext:
    """Workbook under construction, the scenario behind it and what has been recorded."""

    workbook: Workbook
    scenario: Scenario
    result: BomResult
    expectations: list[Expectation] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    sheet_index: list[tuple[str, str]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)

    @property
    def money(self) -> str:
        return style.money_format(self.scenario.currency)

    @property
    def per_million(self) -> str:
        return style.per_million_format(self.scenario.currency)

    def add_sheet(self, title: str, description: str) -> Worksheet:
        """Create a sheet and list it on the Cover sheet's index."""
        ws = self.workbook.create_sheet(title)
        self.sheet_index.append((title, description))
        return ws

    def define(self, name: str, ws: Worksheet, coordinate: str) -> None:
        """Create a workbook-scoped defined name for one cell."""
        if name in self.names:
            raise ValueError(
                f"defined name {name!r} is already used for {self.names[name]}"
            )
        column, row = _split_coordinate(coordinate)
        reference = f"{quote_sheet(ws.title)}!${column}${row}"
        self.workbook.defined_names[name] = DefinedName(name, attr_text=reference)
        self.names[name] = reference

    def formula(
        self,
        ws: Worksheet,
        coordinate: str,
        formula: str,
        expected: Any,
        number_format: str | None = None,
        *,
        name: str | None = None,
        bold: bool = False,
    ) -> Cell:
        """Write a formula and record the engine's value for it.

        ``expected`` is a number, a bool, a string, or NaN for a formula that shows
        the text "never" (a crossover that does not exist).
        """
        if not formula.startswith("="):
            raise ValueError(
                f"formula for {ws.title}!{coordinate} must start with '=': {formula!r}"
            )
        column, row = _split_coordinate(coordinate)
        # ws.cell() skips the range parsing of ws[coordinate], which matters on
        # sheets with tens of thousands of formulas.
        cell = ws.cell(row=row, column=_column_index(column))
        cell.value = formula
        if number_format:
            cell.number_format = number_format
        if bold:
            cell.font = style.TOTAL_FONT
        self.expectations.append(Expectation(ws.title, coordinate, _expected(expected)))
        if name:
            self.define(name, ws, coordinate)
        return cell

    def add_check(self, label: str, formula: str, explanation: str) -> None:
        """Add a check that must be TRUE, with ``formula`` written without a leading '='."""
        self.checks.append(Check(label, formula, explanation))


def _expected(value: Any) -> Expected:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value
    number = float(value)
    if math.isnan(number):
        return "never"
    return number


@functools.lru_cache(maxsize=4096)
def _column_index(letters: str) -> int:
    return column_index_from_string(letters)


def _split_coordinate(coordinate: str) -> tuple[str, int]:
    match = re.fullmatch(r"([A-Z]+)(\d+)", coordinate)
    if not match:
        raise ValueError(f"not a cell coordinate: {coordinate!r}")
    return match.group(1), int(match.group(2))


def quote_sheet(title: str) -> str:
    """Quote a sheet title for use in a formula reference."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title):
        return title
    return "'" + title.replace("'", "''") + "'"


_FORMULA_STARTS = {"=", "+", "-", "@", "#"}


def write_text(
    ws: Worksheet, coordinate: str, text: Any, *, font: Font | None = None
) -> Cell:
    """Write ``text`` as a literal string, never as a formula or an error value.

    A value taken from an input file (a scenario name, a business unit, an account
    description) may begin with '=', '+', '-', '@' or '#'. openpyxl would store '=...'
    as a formula and '#N/A' as an error, so the cell type is forced to string after
    the value is set. Characters that XML cannot contain become U+FFFD.
    """
    value = "" if text is None else str(text)
    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    cell = ws[coordinate]
    cell.value = value
    cell.data_type = "s"
    if value[:1] in _FORMULA_STARTS:
        # Excel's own mark for literal text (a leading apostrophe), so the text stays
        # text if someone edits the cell and presses Enter.
        cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell
