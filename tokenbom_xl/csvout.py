"""Writing report CSV files: safe for spreadsheet import, and atomic.

Text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading apostrophe (``'=HYPERLINK(...)``), because a spreadsheet that imports
the file would otherwise run it as a formula (CSV injection). Excel and LibreOffice
show such a cell as the text without the apostrophe; other readers see the
apostrophe and should strip one leading apostrophe from text fields. Numbers are
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

_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_text(values: pd.Series | np.ndarray | Sequence[str]) -> pd.Series:
    """Prefix an apostrophe to each text that a spreadsheet would read as a formula."""
    series = pd.Series(values, dtype=object).astype(str)
    risky = series.str.startswith(_FORMULA_LEADS).to_numpy(dtype=bool)
    if risky.any():
        series = series.where(~risky, "'" + series)
    return series


def cents_text(cents: np.ndarray) -> pd.Series:
    """Format whole cents as text with two decimals: 123456 -> '1234.56', -5 -> '-0.05'."""
    values = np.asarray(cents, dtype=np.int64)
    magnitude = np.abs(values)
    whole = pd.Series(magnitude // 100).astype(str)
    fraction = pd.Series(magnitude % 100).astype(str).str.zfill(2)
    sign = pd.Series(np.where(values < 0, "-", ""), dtype=object)
    return sign + whole + "." + fraction


def write_csv(path: str | Path, frame: pd.DataFrame, *, text_columns: Sequence[str]) -> Path:
    """Write ``frame`` as UTF-8 CSV through a temporary file and a rename.

    Columns in ``text_columns`` are neutralized for spreadsheet import; the others
    are written as they are (format money with :func:`cents_text` first).

    Raises:
        OutputError: the file cannot be written; an existing file is left as it was.
    """
    out = frame.copy()
    for column in text_columns:
        out[column] = neutralize_text(out[column].to_numpy())
    data = out.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return write_bytes_atomic(path, data)
