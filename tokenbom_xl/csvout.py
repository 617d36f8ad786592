"""Write report CSV files that are safe for spreadsheet import, atomically.

Text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading apostrophe (``'=HYPERLINK(...)``), because a spreadsheet that imports
the file would otherwise run it as a formula (CSV injection). Excel and LibreOffice
show such a cell as the text without the apostrophe. Other readers see the
apostrophe, so they should strip one leading apostrophe from text fields. Numbers are
never changed, so a negative amount stays ``-12.50``.

Money is written from whole cents with exactly two decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tokenbom_xl.atomic import write_bytes_atomic

__all__ = ["cents_text", "neutralize_text", "write_csv"]

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTES = (",", '"', "\n", "\r")


def neutralize_text(values: pd.Series | np.ndarray | Sequence[str]) -> pd.Series:
    """Prefix an apostrophe to each text that a spreadsheet would read as a formula."""
    series = pd.Series(values, dtype=object).astype(str)
    risky = series.str.startswith(_FORMULA_PREFIXES).to_numpy(dtype=bool)
    if risky.any():
        series = series.where(~risky, "'" + series)
    return series


def _quote(text: str) -> str:
    """Quote one CSV field as RFC 4180 requires."""
    if any(character in text for character in _NEEDS_QUOTES):
        return '"' + text.replace('"', '""') + '"'
    return text


def _text_cells(values: np.ndarray) -> list[str]:
    """Neutralize and quote a text column, working on its distinct values only."""
    codes, uniques = pd.factorize(
        np.asarray(values, dtype=object), use_na_sentinel=False
    )
    cells = np.array(
        [_quote(text) for text in neutralize_text(uniques.astype(str)).tolist()],
        dtype=object,
    )
    return cells[codes].tolist() if len(codes) else []


def _value_cells(values: pd.Series) -> list[str]:
    if pd.api.types.is_float_dtype(values.dtype):
        return [repr(value) for value in values.tolist()]
    cells = [str(value) for value in values.tolist()]
    joined = "\x00".join(cells)
    if any(character in joined for character in _NEEDS_QUOTES):
        return [_quote(cell) for cell in cells]
    return cells


def cents_text(cents: np.ndarray) -> list[str]:
    """Format whole cents as text with two decimals: 123456 -> '1234.56', -5 -> '-0.05'.

    Below 2**53 / 100 cents, the float nearest to cents / 100 prints back to the same
    two decimals, so this is exact for any amount a ledger holds.
    """
    return [
        f"{value:.2f}" for value in (np.asarray(cents, dtype=np.int64) / 100.0).tolist()
    ]


def write_csv(
    path: str | Path, frame: pd.DataFrame, *, text_columns: Sequence[str]
) -> Path:
    """Write ``frame`` as UTF-8 CSV through a temporary file and a rename.

    Columns in ``text_columns`` are neutralized for spreadsheet import. The others
    are written as they are, so format money with :func:`cents_text` first. Floats are
    written with Python's shortest round-trip form.

    Raises:
        OutputError: the file cannot be written. An existing file is left as it was.
    """
    columns = []
    for name in frame.columns:
        values = frame[name]
        if name in text_columns:
            columns.append(_text_cells(values.to_numpy()))
        else:
            columns.append(_value_cells(values))
    lines = [",".join(_quote(str(name)) for name in frame.columns)]
    lines.extend(map(",".join, zip(*columns)))
    lines.append("")
    return write_bytes_atomic(path, "\n".join(lines).encode("utf-8"))
