"""Reader for facility PUE and power time series (CSV, TSV or JSON).

A building management system or a data-centre dashboard exports one row per
interval with a timestamp (ISO 8601 or epoch seconds or milliseconds) and either a
PUE or facility and IT power. Recognised columns (case-insensitive):

- time: ``timestamp``, ``time``, ``ts``, ``datetime``, ``date``;
- PUE: ``pue``, with optional ``min_pue`` and ``max_pue`` checked for consistency;
- power: ``facility_kw`` (or ``total_kw``, ``facility_power_kw``) and ``it_kw``
  (or ``it_power_kw``), or the same names ending in ``_w`` for watts.

A PUE outside 1 to 5, or a negative, zero or non-numeric power reading, cannot be
physical. Such readings are flagged and excluded, never averaged in. The period's
PUE is the time-weighted mean of the remaining readings, so a gap shortens the
covered time instead of stretching the readings around it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.inputs import open_input
from tokenbom_xl.metering.json_text import parse_json_text
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.metering.series import integrate_gauge, order_samples, typical_step
from tokenbom_xl.metering.times import parse_epoch, parse_timestamp

__all__ = ["FORMAT", "MAX_PUE", "MIN_PUE", "FacilityResult", "read_facility_series"]

FORMAT = "facility series"

# The accepted range of PUE. Total facility power over IT power is at least 1, and
# 5 is a generous upper bound for an operating data centre. The scenario accepts
# the same range.
MIN_PUE = 1.0
MAX_PUE = 5.0

_TIME_KEYS = ("timestamp", "time", "ts", "datetime", "date")
_FACILITY_KEYS = {
    "facility_kw": 1.0,
    "total_kw": 1.0,
    "facility_power_kw": 1.0,
    "facility_w": 1e-3,
    "total_w": 1e-3,
    "facility_power_w": 1e-3,
}
_IT_KEYS = {"it_kw": 1.0, "it_power_kw": 1.0, "it_w": 1e-3, "it_power_w": 1e-3}


@dataclass(frozen=True)
class FacilityResult:
    """PUE from one facility file, with the weight it carries when sources combine."""

    report: SourceReport
    pue: float | None
    # Covered seconds of a timed series, the reading count of an untimed one, and 1
    # for a published table.
    weight_seconds: float
    timed: bool
    table: bool = False
    site: str | None = None


def read_facility_series(path: str, options: ReadOptions) -> FacilityResult:
    """Read a PUE or facility-power series from CSV, TSV or JSON.

    Raises:
        InputError: the file cannot be read, or has neither a PUE column nor a
            facility and an IT power column.
    """
    report = SourceReport("facility", FORMAT, path)
    with open_input(path, options.limits) as source:
        text = source.read_text()
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        rows = _json_rows(parse_json_text(text, path), path)
    else:
        rows = _csv_rows(text, path)
    return _summarize_rows(rows, report, options)


def _json_rows(document: Any, path: str) -> list[tuple[int, dict[str, Any]]]:
    if isinstance(document, dict):
        for key in ("data", "values", "series", "readings"):
            if isinstance(document.get(key), list):
                document = document[key]
                break
    if not isinstance(document, list):
        raise InputError(
            f"{path}: expected a JSON list of readings, or an object with a 'data', "
            "'values', 'series' or 'readings' list; export the series in one of "
            "these shapes or as CSV"
        )
    # JSON has no line per row, so rows are numbered from 1 in list order.
    return [
        (index, item if isinstance(item, dict) else {})
        for index, item in enumerate(document, start=1)
    ]


def _csv_rows(text: str, path: str) -> list[tuple[int, dict[str, Any]]]:
    lines = text.splitlines()
    if not lines:
        raise InputError(
            f"{path}: the file is empty; export the series with a header row"
        )
    delimiter = ","
    if "\t" in lines[0]:
        delimiter = "\t"
    elif lines[0].count(";") > lines[0].count(","):
        delimiter = ";"
    reader = csv.reader(lines, delimiter=delimiter)
    rows = []
    try:
        header = [name.strip().lower() for name in next(reader)]
        for number, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            if len(values) != len(header):
                rows.append((number, {"__fields__": len(values)}))
                continue
            rows.append((number, dict(zip(header, values, strict=True))))
    except csv.Error as exc:
        # A field longer than the csv module's limit, usually an unclosed quote
        # that ran to the end of the file.
        raise InputError(
            f"{path}: line {reader.line_num}: unreadable CSV ({exc}); check the quotes "
            "or export the file again"
        ) from None
    return rows


def _summarize_rows(
    rows: list[tuple[int, dict[str, Any]]], report: SourceReport, options: ReadOptions
) -> FacilityResult:
    """Check the rows, then return their time-weighted PUE and its weight."""
    keys = {str(key).lower() for _, row in rows for key in row}
    time_key = next((key for key in _TIME_KEYS if key in keys), None)
    has_power = bool(keys & set(_FACILITY_KEYS)) and bool(keys & set(_IT_KEYS))
    if "pue" not in keys and not has_power:
        raise InputError(
            f"{report.file}: no PUE column and no facility_kw and it_kw columns; "
            "export the PUE series or both power series"
        )
    if time_key is None:
        report.flag(
            "no_timestamps",
            "no timestamp column: readings weigh equally",
            key="no_timestamps",
        )

    times, values, lines = [], [], []
    for line, row in rows:
        report.rows_read += 1
        row = {str(key).lower(): value for key, value in row.items()}
        if "__fields__" in row:
            report.reject(line, "wrong number of fields (truncated line?)")
            continue
        time = None
        if time_key is not None:
            time = _parse_time(row.get(time_key), options)
            if time is None:
                report.reject(line, f"unreadable {time_key} {row.get(time_key)!r}")
                continue
        pue = _row_pue(row, line, report)
        if pue is None:
            continue
        if not options.in_period(report, time, line):
            continue
        report.rows_used += 1
        times.append(math.nan if time is None else time)
        values.append(pue)
        lines.append(line)

    if not values:
        report.flag("missing_field", "no usable PUE reading", key="no_pue")
        return FacilityResult(report, None, 0.0, time_key is not None)

    values_array = np.array(values)
    if time_key is None or len(values) < 2:
        if time_key is not None:
            report.flag(
                "single_sample", "one reading: used as it is", key="single_sample"
            )
        return FacilityResult(
            report, float(values_array.mean()), float(len(values)), False
        )

    times_array = np.array(times)
    lines_array = np.array(lines, dtype=np.int64)
    keep = order_samples(times_array, lines_array, report, "PUE")
    times_array, values_array = times_array[keep], values_array[keep]
    report.rows_used -= len(values) - len(keep)
    step = typical_step(times_array) or 0.0
    end = (
        options.period.end
        if options.period and not options.include_outside_period
        else None
    )
    integral = integrate_gauge(
        times_array, values_array, step, end=end, report=report, series="PUE"
    )
    if integral.covered_seconds <= 0:
        return FacilityResult(
            report, float(values_array.mean()), float(len(values_array)), False
        )
    return FacilityResult(
        report,
        integral.integral / integral.covered_seconds,
        integral.covered_seconds,
        True,
    )


def _parse_time(value: Any, options: ReadOptions) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return parse_epoch(value)
    parsed = parse_timestamp(str(value), options.naive_zone)
    return parsed[0] if parsed else None


def _parse_number(value: Any) -> float | None:
    """Return a cell as a float, None when blank, or NaN when it is not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return math.inf
    text = str(value).strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return math.nan


def _row_pue(row: dict[str, Any], line: int, report: SourceReport) -> float | None:
    """Return the row's PUE, or None after rejecting the row."""
    pue = _parse_number(row.get("pue"))
    if pue is None:
        facility = _row_power(row, _FACILITY_KEYS)
        it = _row_power(row, _IT_KEYS)
        if facility is None or it is None:
            report.reject(line, "no PUE and no facility and IT power")
            return None
        if math.isnan(facility) or math.isnan(it) or facility < 0 or it <= 0:
            report.reject(
                line,
                f"impossible power reading (facility {facility:g} kW, IT {it:g} kW)",
            )
            report.flag(
                "impossible_value",
                "negative, zero or unreadable power excluded",
                line=line,
                key="impossible_power",
            )
            return None
        pue = facility / it
    if math.isnan(pue) or not MIN_PUE <= pue <= MAX_PUE:
        report.reject(
            line, f"impossible PUE {pue:g} (outside {MIN_PUE:g} to {MAX_PUE:g})"
        )
        report.flag(
            "impossible_value",
            f"PUE outside {MIN_PUE:g} to {MAX_PUE:g} excluded",
            line=line,
            key="impossible_pue",
        )
        return None
    low, high = _parse_number(row.get("min_pue")), _parse_number(row.get("max_pue"))
    if low is not None and high is not None and not low <= pue <= high:
        report.flag(
            "inconsistent",
            f"PUE {pue:g} outside its own min {low:g} and max {high:g}",
            line=line,
            key="minmax",
        )
    return pue


def _row_power(row: dict[str, Any], keys: dict[str, float]) -> float | None:
    """Return the first power column of ``keys`` in kW, or None when none is set."""
    for key, scale in keys.items():
        value = _parse_number(row.get(key))
        if value is not None:
            return value * scale
    return None
