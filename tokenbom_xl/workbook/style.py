"""Cell styles and number formats shared by every sheet.

Conventions: inputs have a yellow fill and blue text and are unlocked. Everything else
is locked under sheet protection without a password, so a controller can unprotect a
sheet but cannot overwrite a formula by accident.
"""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.worksheet.worksheet import Worksheet

TITLE_FONT = Font(bold=True, size=14)
SUBTITLE_FONT = Font(italic=True, color="595959")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
SECTION_FONT = Font(bold=True, size=12)
TOTAL_FONT = Font(bold=True)
INPUT_FONT = Font(color="0000FF")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
STRUCTURAL_FILL = PatternFill("solid", fgColor="EDEDED")
CHECK_FONT = Font(bold=True)
TOTAL_BORDER = Border(top=Side(style="thin"), bottom=Side(style="double"))
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)

PERCENT = "0.0%"
FRACTION = "0.0000"
TOKENS = "#,##0"
NUMBER = "#,##0.####"
INTEGER = "0"

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}


def money_format(currency: str) -> str:
    """Return the number format for money in ``currency`` (two decimals)."""
    symbol = _SYMBOLS.get(currency)
    if symbol:
        return f'"{symbol}"#,##0.00;-"{symbol}"#,##0.00'
    return f'#,##0.00" {currency}";-#,##0.00" {currency}"'


def per_million_format(currency: str) -> str:
    """Return the number format for a cost per million tokens (four decimals)."""
    symbol = _SYMBOLS.get(currency)
    if symbol:
        return f'"{symbol}"#,##0.0000" /M"'
    return f'#,##0.0000" {currency}/M"'


def write_header(ws: Worksheet, row: int, labels: list[str], column: int = 1) -> None:
    """Write a header row in the table style."""
    for offset, label in enumerate(labels):
        cell = ws.cell(row=row, column=column + offset, value=label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    if any(len(label) > 18 for label in labels):
        ws.row_dimensions[row].height = 30


def set_column_widths(ws: Worksheet, widths: dict[str, float]) -> None:
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width


def finish_sheet(
    ws: Worksheet,
    *,
    freeze: str | None,
    title_rows: str | None = None,
    title_columns: str | None = None,
    landscape: bool = True,
) -> None:
    """Apply frozen panes, print set-up and password-free protection to a sheet.

    A sheet fits one page wide, unless ``title_columns`` is given. Such a sheet is
    too wide for one page (a column per month), so it prints at 70% across several
    pages with those columns repeated on each.
    """
    if freeze:
        ws.freeze_panes = freeze
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.oddFooter.center.text = "&A - page &P of &N"
    if title_rows:
        ws.print_title_rows = title_rows
    if title_columns:
        ws.sheet_properties.pageSetUpPr.fitToPage = False
        ws.page_setup.scale = 70
        ws.print_title_cols = title_columns
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def group_helper_columns(ws: Worksheet, first: str, last: str) -> None:
    """Collapse the helper columns ``first``:``last`` into an outline group.

    The columns stay in the workbook and in every formula. The reader expands them
    with the outline's + button to audit the arithmetic.
    """
    ws.column_dimensions.group(first, last, outline_level=1, hidden=True)
    ws.sheet_properties.outlinePr.summaryRight = False
