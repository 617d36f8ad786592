"""Reader for ``nvidia-smi --query-gpu=... --format=csv`` logs.

nvidia-smi separates fields with ", ", puts units in the header
(``power.draw [W]``) and, unless ``nounits`` is given, in the values too
(``631.95 W``, ``100 %``). Fields a board does not support read ``[N/A]``,
``[Not Supported]`` or ``[Requested functionality has been deprecated]``. Under MIG,
utilization is ``[N/A]`` while power is real. Timestamps look like
``2026/07/14 08:12:53.353`` and carry no zone.

Besides plain CSV logs (``nvidia-smi --query-gpu=... --format=csv -l 5 >> log``), the
reader accepts captures that interleave several command outputs: each header row that
names a GPU identity field starts a table, which ends at a blank line or a ``#``
line, and everything else is skipped. A file written with ``--format=csv,noheader``
needs the field list (``ReadOptions.nvidia_smi_fields``).
"""

from __future__ import annotations

import re

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.inputs import (
    CsvLineError,
    IgnoredLines,
    csv_fields,
    open_input,
)
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.metering.telemetry import GpuSamples, TelemetryResult, summarize_gpus
from tokenbom_xl.metering.times import parse_timestamp

__all__ = ["FORMAT", "looks_like_nvidia_smi", "read_nvidia_smi"]

FORMAT = "nvidia-smi CSV"

_IDENTITY_FIELDS = ("uuid", "pci.bus_id", "index", "serial")
_UTILIZATION_FIELD = "utilization.gpu"
# power.draw is the 1-second average on Ampere and newer. The other two fields are
# read when a file has no power.draw column.
_POWER_FIELDS = ("power.draw", "power.draw.average", "power.draw.instant")
_HEADER_FIELD = re.compile(r"([a-z_][a-z0-9_.]*)(?: \[([^\]]+)\])?", re.IGNORECASE)
_VALUE = re.compile(r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?: ?(\S+))?")
# Blank lines and comments end a table, and a run of them ends it once.
_SEPARATORS = IgnoredLines(prefixes=(b"#",))


def looks_like_nvidia_smi(first_lines: list[str]) -> bool:
    """Return whether the opening lines contain a --query-gpu header row."""
    return any(_parse_header(line) is not None for line in first_lines)


def _split_fields(line: str) -> list[str]:
    return csv_fields(line, skip_initial_space=True)


def _parse_header(line: str) -> list[tuple[str, str]] | None:
    """Return [(field, unit)] if ``line`` is a --query-gpu header row, else None."""
    if not line or line.startswith("#") or "," not in line:
        return None
    try:
        parts = _split_fields(line)
    except CsvLineError:
        return None
    fields = []
    for part in parts:
        match = _HEADER_FIELD.fullmatch(part.strip())
        if not match:
            return None
        fields.append((match.group(1), match.group(2) or ""))
    names = {name for name, _ in fields}
    if "pid" in names or not names & set(_IDENTITY_FIELDS):
        return None
    return fields


def read_nvidia_smi(path: str, options: ReadOptions) -> TelemetryResult:
    """Read one nvidia-smi CSV log or capture into per-accelerator figures.

    Raises:
        InputError: the file cannot be read, or has no header row and no field list
            was given.
    """
    report = SourceReport("telemetry", FORMAT, path)
    samples = GpuSamples(report, options)
    # The --nvidia-smi-fields list, used as the header wherever the file gives none.
    given_header = [(name.strip(), "") for name in options.nvidia_smi_fields] or None
    header: list[tuple[str, str]] | None = given_header
    tables = 0
    seen_header = given_header is not None
    columns = {name for name, _ in given_header or []}
    with open_input(path, options.limits) as source:
        for number, line in source.lines(_SEPARATORS):
            found = _parse_header(line)
            if found is not None:
                header = found
                tables += 1
                seen_header = True
                columns.update(name for name, _ in found)
                continue
            if not line.strip() or line.startswith("#"):
                header = given_header
                continue
            if header is None:
                if not seen_header and number == 1:
                    raise InputError(
                        f"{path}: line 1: no nvidia-smi header row (field names such as utilization.gpu [%]); "
                        "export with --format=csv rather than csv,noheader, or give the --query-gpu list "
                        "with --nvidia-smi-fields"
                    )
                continue
            report.rows_read += 1
            try:
                values = _split_fields(line)
            except CsvLineError as exc:
                report.reject(number, f"unreadable CSV ({exc})")
                continue
            if _read_row(samples, header, values, number, options):
                report.rows_used += 1
    if not seen_header:
        raise InputError(
            f"{path}: no nvidia-smi --query-gpu header row found; export with --format=csv, "
            "or give the --query-gpu list with --nvidia-smi-fields"
        )
    if tables > 1:
        report.notes.append(
            f"{tables} --query-gpu tables read; other sections of the capture skipped"
        )
    _flag_missing_fields(report, columns)
    return summarize_gpus(samples)


def _read_row(
    samples: GpuSamples,
    header: list[tuple[str, str]],
    values: list[str],
    line: int,
    options: ReadOptions,
) -> bool:
    """Add one data row to ``samples`` and return whether it was used."""
    report = samples.report
    if len(values) != len(header):
        report.reject(
            line,
            f"{len(values)} fields where the header has {len(header)} (truncated line?)",
        )
        return False
    row = {
        name: (value.strip(), unit)
        for (name, unit), value in zip(header, values, strict=True)
    }

    gpu = _gpu_identity(row)
    if gpu is None:
        report.reject(line, "no GPU identity (uuid, pci.bus_id, index or serial)")
        return False
    time = None
    if "timestamp" in row:
        parsed = parse_timestamp(row["timestamp"][0], options.naive_zone)
        if parsed is None:
            report.reject(line, f"unreadable timestamp {row['timestamp'][0]!r}")
            return False
        time, had_zone = parsed
        if not had_zone:
            report.flag(
                "no_timezone",
                "nvidia-smi timestamps carry no time zone; read as "
                f"{options.naive_zone}",
                key="no_timezone",
            )

    readings: dict[str, float | None] = {}
    for target, fields, unit in (
        ("utilization_percent", (_UTILIZATION_FIELD,), "%"),
        ("power_w", _POWER_FIELDS, "W"),
    ):
        for field in fields:
            if field in row:
                value = _parse_cell(row[field], unit, field, line, report)
                if value is False:
                    return False
                readings[target] = value  # type: ignore[assignment]
                break
    host = row.get("hostname", ("", ""))[0]
    host = "" if host.startswith("[") else host
    return samples.add(gpu, time, line, host=host, **readings)


def _gpu_identity(row: dict[str, tuple[str, str]]) -> str | None:
    for field in _IDENTITY_FIELDS:
        value = row.get(field, ("", ""))[0]
        if value and not value.startswith("["):
            return value.removeprefix("GPU-") if field == "uuid" else value
    return None


def _parse_cell(
    cell: tuple[str, str], unit: str, field: str, line: int, report: SourceReport
) -> float | None | bool:
    """Return the number in a cell, None for a placeholder, or False after rejecting the row."""
    text, header_unit = cell
    if text.startswith("[") or text in ("N/A", ""):
        report.flag(
            "placeholder",
            f"{field} read {text or 'blank'}",
            line=line,
            key=f"placeholder|{field}|{text}",
        )
        return None
    match = _VALUE.fullmatch(text)
    if not match:
        report.reject(line, f"{field} value {text!r} is not a number")
        return False
    value_unit = match.group(2) or header_unit or unit
    if value_unit != unit:
        report.reject(
            line, f"{field} value {text!r} is in {value_unit}, expected {unit}"
        )
        return False
    return float(match.group(1))


def _flag_missing_fields(report: SourceReport, names: set[str]) -> None:
    if _UTILIZATION_FIELD not in names:
        report.flag(
            "missing_field",
            "no utilization.gpu column: utilization not measured",
            key="no_utilization",
        )
    if not names & set(_POWER_FIELDS):
        report.flag(
            "missing_field", "no power.draw column: power not measured", key="no_power"
        )
    if "timestamp" not in names:
        report.flag(
            "no_timestamps",
            "no timestamp column: time coverage unknown",
            key="no_timestamps",
        )
