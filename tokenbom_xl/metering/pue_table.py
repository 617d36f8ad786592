"""Reader for published per-site PUE tables (CSV or TSV).

Operators publish one row per campus with a recent PUE and, where a campus has a
year of data, a trailing twelve-month (TTM) PUE. New campuses leave TTM blank, and
the table may end with a footnote line. The first column names the site, and the
columns whose header contains "PUE" contain the values. The row is chosen with
``ReadOptions.site`` (exact name, case-insensitive, or a unique part of it). Its TTM
value is preferred because it smooths out seasons, and a blank TTM falls back to the
recent value with a flag.
"""

from __future__ import annotations

import math

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.facility import MAX_PUE, MIN_PUE, FacilityResult
from tokenbom_xl.metering.inputs import (
    CsvLineError,
    IgnoredLines,
    csv_fields,
    open_input,
)
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.report import SourceReport

__all__ = ["FORMAT", "looks_like_pue_table", "read_pue_table"]

FORMAT = "published PUE table"

_TTM_WORDS = ("ttm", "trailing", "annual", "twelve")
# Skipped lines quoted in the notes. The rest are only counted.
_NOTED_LINES = 5


def looks_like_pue_table(header_line: str) -> bool:
    """Return whether a header row names PUE columns but no time column."""
    names = [name.strip().lower() for name in header_line.replace("\t", ",").split(",")]
    has_pue = any("pue" in name for name in names[1:])
    has_time = any(
        name in ("timestamp", "time", "ts", "datetime", "date") for name in names
    )
    return has_pue and not has_time


def read_pue_table(path: str, options: ReadOptions) -> FacilityResult:
    """Read a published PUE table and take the PUE of ``options.site``.

    Raises:
        InputError: the file has no PUE column, or the site matches no row or
            several rows.
    """
    report = SourceReport("facility", FORMAT, path)
    sites: dict[str, tuple[int, float | None, float | None]] = {}
    with open_input(path, options.limits) as source:
        lines = source.lines(IgnoredLines())
        try:
            _, header_line = next(lines)
        except StopIteration:
            raise InputError(
                f"{path}: the file is empty; export the table with its header"
            ) from None
        delimiter = "\t" if "\t" in header_line else ","
        try:
            header = [
                name.strip().lower() for name in csv_fields(header_line, delimiter)
            ]
        except CsvLineError as exc:
            raise InputError(
                f"{path}: line 1: unreadable CSV header ({exc}); export the table with its header"
            ) from None
        columns = [
            index for index, name in enumerate(header) if "pue" in name and index > 0
        ]
        if not columns:
            raise InputError(
                f"{path}: line 1: no column whose name contains PUE; export the table with its header"
            )

        ttm = next(
            (
                index
                for index in columns
                if any(word in header[index] for word in _TTM_WORDS)
            ),
            None,
        )
        recent = next((index for index in columns if index != ttm), ttm)

        skipped = 0
        for number, line in lines:
            try:
                values = csv_fields(line, delimiter) if line.strip() else []
            except CsvLineError as exc:
                report.rows_read += 1
                report.reject(number, f"unreadable CSV ({exc})")
                continue
            if len(values) < 2:
                if line.strip():
                    skipped += 1
                if line.strip() and skipped <= _NOTED_LINES:
                    report.notes.append(
                        f"line {number} skipped (a note, not a row): {line.strip()[:80]}"
                    )
                continue
            report.rows_read += 1
            site = values[0].strip()
            recent_value = _cell_pue(values, recent)
            ttm_value = _cell_pue(values, ttm) if ttm is not None else None
            if (
                _is_nan(recent_value)
                or _is_nan(ttm_value)
                or (recent_value is None and ttm_value is None)
            ):
                report.reject(
                    number,
                    f"site {site!r}: PUE missing or outside {MIN_PUE:g} to {MAX_PUE:g}",
                )
                continue
            report.rows_used += 1
            sites[site] = (number, recent_value, ttm_value)
    if skipped > _NOTED_LINES:
        report.notes.append(
            f"{skipped - _NOTED_LINES} more lines with a single field skipped"
        )
    return _choose_site(sites, report, options)


def _cell_pue(values: list[str], index: int | None) -> float | None:
    """Return the PUE in a cell, None when blank, or math.nan when impossible."""
    if index is None or index >= len(values) or not values[index].strip():
        return None
    try:
        value = float(values[index])
    except ValueError:
        return math.nan
    return value if MIN_PUE <= value <= MAX_PUE else math.nan


def _choose_site(
    sites: dict[str, tuple[int, float | None, float | None]],
    report: SourceReport,
    options: ReadOptions,
) -> FacilityResult:
    """Return the PUE of the site that ``--site`` names, or of the only site.

    Raises:
        InputError: ``--site`` matches no site or several sites.
    """
    if not options.site:
        if not sites:
            report.flag("missing_field", "no site row with a usable PUE", key="no_pue")
            return FacilityResult(report, None, 0.0, False, table=True)
        if len(sites) == 1:
            chosen = next(iter(sites))
        else:
            report.flag(
                "not_selected",
                f"{len(sites)} sites and none chosen; give --site to take one",
                key="no_site",
            )
            return FacilityResult(report, None, 0.0, False, table=True)
    else:
        requested = options.site.strip().lower()
        exact = [site for site in sites if site.lower() == requested]
        partial = [site for site in sites if requested in site.lower()]
        matches = exact or partial
        if len(matches) != 1:
            shown = ", ".join(matches[:5]) if matches else "none"
            raise InputError(
                f"{report.file}: --site {options.site!r} matches {len(matches)} sites ({shown}); give the exact site name"
            )
        chosen = matches[0]
    line, recent, ttm = sites[chosen]
    if ttm is None:
        report.flag(
            "missing_field",
            f"{chosen}: no trailing twelve-month PUE; the recent value is used",
            line=line,
            key="no_ttm",
        )
    value = ttm if ttm is not None else recent
    report.notes.append(f"site {chosen}: PUE {value:g}")
    return FacilityResult(report, value, 1.0, False, table=True, site=chosen)


def _is_nan(value: float | None) -> bool:
    return value is not None and math.isnan(value)
