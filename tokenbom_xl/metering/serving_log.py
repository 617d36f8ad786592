"""Reader for large serving logs (Parquet, JSON Lines or CSV), aggregated by DuckDB.

A serving gateway or engine that logs one record per request produces tens of
millions of records a month. Reading those in a Python loop would take minutes, so
the log is aggregated by DuckDB, in one pass and in bounded memory: tokens by period,
business unit and model, with each invalid record counted under its reason.

Columns are found by name (case-insensitive):

- time: ``timestamp``, ``time``, ``ts``, ``created``, ``created_at``, ``start_time``
  (a timestamp, ISO 8601 text, or epoch seconds, milliseconds or nanoseconds);
- model: ``model``, ``model_name``, ``response_model``;
- business unit: ``ReadOptions.consumer_column`` (default ``business_unit``);
- output tokens: ``output_tokens``, ``completion_tokens``, ``generated_tokens``,
  ``generation_tokens``; input tokens (optional): ``input_tokens``,
  ``prompt_tokens``.

A record is rejected when its time is unreadable, its model is blank, or its output
token count is missing, negative or not a whole number. JSON Lines and CSV are
scanned once for overlong lines before DuckDB reads them, and gzip-compressed ones are
decompressed in that pass with a byte count, so a gzip bomb stops at the
decompression limit.
"""

from __future__ import annotations

import gzip
import logging
import os
import sys
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.inputs import DecompressionBudget, ReadLimits, file_magic
from tokenbom_xl.metering.options import UNASSIGNED, ReadOptions
from tokenbom_xl.metering.report import Rejection, SourceReport
from tokenbom_xl.metering.tokens import MAX_TOKEN_COUNT, ServingResult, TokenCounts

__all__ = [
    "FORMAT",
    "PeriodCounts",
    "aggregate_serving_log",
    "is_serving_log",
    "read_serving_log",
]

logger = logging.getLogger(__name__)

FORMAT = "serving log"

_TIME = ("timestamp", "time", "ts", "created", "created_at", "start_time")
_MODEL = ("model", "model_name", "response_model")
_OUTPUT = (
    "output_tokens",
    "completion_tokens",
    "generated_tokens",
    "generation_tokens",
)
_INPUT = ("input_tokens", "prompt_tokens")

# Wait this long before showing a progress bar, so short runs stay quiet.
PROGRESS_DELAY_SECONDS = 1.0

# Rejection reasons by the status that _status_sql and _classify_groups give.
_REASONS = {
    "bad_time": "unreadable or missing timestamp",
    "bad_model": "blank model",
    "bad_tokens": "output tokens missing, negative, above 2^53 or not a whole number",
}


def is_serving_log(path: str) -> bool:
    """Return whether a file name is a Parquet file (always a serving log here)."""
    return Path(path).suffix.lower() == ".parquet"


@dataclass
class PeriodCounts:
    """Token counts per calendar month, from one serving log."""

    report: SourceReport
    by_period: dict[str, TokenCounts] = field(default_factory=dict)


def aggregate_serving_log(path: str, options: ReadOptions) -> PeriodCounts:
    """Aggregate a serving log by period, business unit and model with DuckDB.

    Rows outside ``options.period`` (when set) are counted as outside the period.

    Raises:
        InputError: the file cannot be read, lacks a needed column, or DuckDB
            rejects its content (the message keeps DuckDB's line information).
    """
    import duckdb

    report = SourceReport("serving", FORMAT, path)
    source_sql = _table_function(path, options)
    connection = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    try:
        connection.execute("SET TimeZone = 'UTC'")
        # Progress is tracked for query_progress() but never printed by DuckDB itself,
        # which would write it into the command's standard output.
        connection.execute("SET enable_progress_bar = true")
        connection.execute("SET enable_progress_bar_print = false")
        columns = _find_columns(connection, source_sql, path, options.consumer_column)
        if "consumer" not in columns:
            report.flag(
                "unattributed",
                f"no {options.consumer_column} column: tokens counted under 'unassigned'",
                key="unattributed",
            )

        query = _aggregate_query(source_sql, columns)
        groups = _run_query(connection, query, options)
        _see_times(report, groups, options)
        rows = _classify_groups([group[:7] for group in groups], options)
        _fill_report(report, rows, options)
        if report.rows_rejected:
            _record_example_lines(connection, source_sql, columns, options, report)
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(
            f"{path}: failed to aggregate the serving log: {message}"
        ) from None
    finally:
        connection.close()

    result = PeriodCounts(report)
    for period, business_unit, model, status, count, output, prompt in rows:
        if status in ("ok", "outside_used"):
            result.by_period.setdefault(period, TokenCounts(path)).add(
                business_unit or UNASSIGNED,
                options.model_name(model),
                int(output or 0),
                int(prompt or 0),
                int(count),
            )

    if "consumer" in columns and any(
        row[1] is None for row in rows if row[3] in ("ok", "outside_used")
    ):
        report.flag(
            "unattributed",
            f"records without {options.consumer_column} counted under 'unassigned'",
            key="unattributed",
        )
    return result


def read_serving_log(path: str, options: ReadOptions) -> ServingResult:
    """Aggregate a serving log and return the counts of ``options.period``.

    Without a period, every record counts.
    """
    aggregated = aggregate_serving_log(path, options)
    counts = TokenCounts(path)
    for period, period_counts in aggregated.by_period.items():
        if (
            options.period is None
            or options.include_outside_period
            or period == options.period.label
        ):
            counts.merge(period_counts)
    return ServingResult(aggregated.report, counts)


def _sql_string(text: str) -> str:
    """Return ``text`` as a quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _table_function(path: str, options: ReadOptions) -> str:
    """Return the DuckDB table function that reads ``path``."""
    magic = file_magic(path)
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    if magic == b"PAR1":
        return f"read_parquet({_sql_string(path)})"
    if magic[:2] == b"PK":
        raise InputError(
            f"{path}: a zip archive; unzip the serving log, or compress it with gzip"
        )
    compression = "gzip" if magic[:2] == b"\x1f\x8b" else "none"
    _check_line_lengths(path, options.limits, compressed=compression == "gzip")
    limit = options.limits.max_line_bytes
    if ".csv" in suffixes or ".tsv" in suffixes:
        return (
            f"read_csv({_sql_string(path)}, header = true, compression = '{compression}', "
            f"max_line_size = {limit}, all_varchar = false)"
        )
    return (
        f"read_json({_sql_string(path)}, format = 'newline_delimited', compression = '{compression}', "
        f"maximum_object_size = {limit})"
    )


# Bytes scanned at a time when checking line lengths.
_SCAN_CHUNK = 8 << 20


def _check_line_lengths(path: str, limits: ReadLimits, *, compressed: bool) -> None:
    """Check line lengths (and, for gzip, the decompressed size) before DuckDB reads.

    DuckDB rejects an overlong line too, but its time grows faster than the line
    (seconds for 64 MiB), so a 2 GB line is caught here, at disk speed: newlines are
    found with NumPy a chunk at a time.

    Raises:
        InputError: a line is longer than ``max_line_bytes``, or a gzip file
            expands beyond its :class:`DecompressionBudget` or is damaged.
    """
    opener = gzip.open if compressed else open
    budget = DecompressionBudget(path, limits, os.path.getsize(path), "gzip")
    line = 1
    current = 0  # bytes of the current line seen so far
    try:
        with opener(path, "rb") as stream:
            while chunk := stream.read(_SCAN_CHUNK):
                if compressed:
                    budget.count(len(chunk))
                newlines = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
                if len(newlines) == 0:
                    current += len(chunk)
                else:
                    lengths = np.diff(newlines, prepend=-1) - 1
                    lengths[0] += current
                    longest = int(np.argmax(lengths))
                    if lengths[longest] > limits.max_line_bytes:
                        current = int(lengths[longest])
                        line += longest
                        break
                    line += len(newlines)
                    current = len(chunk) - int(newlines[-1]) - 1
                if current > limits.max_line_bytes:
                    break
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(
            f"{path}: the gzip data is damaged or truncated ({exc}); copy the file again"
        ) from None
    if current > limits.max_line_bytes:
        raise InputError(
            f"{path}: line {line} is longer than {limits.max_line_bytes:,} bytes "
            "(a damaged or binary file?); raise --max-line-bytes if the line is genuine"
        )


def _find_columns(
    connection: object, source_sql: str, path: str, consumer_column: str
) -> dict[str, tuple[str, str]]:
    """Return role -> (column name, DuckDB type) for the columns the reader uses."""
    described = connection.execute(f"DESCRIBE SELECT * FROM {source_sql}").fetchall()  # type: ignore[attr-defined]
    by_name = {str(row[0]).lower(): (str(row[0]), str(row[1])) for row in described}
    found: dict[str, tuple[str, str]] = {}
    for role, names in (
        ("time", _TIME),
        ("model", _MODEL),
        ("output", _OUTPUT),
        ("input", _INPUT),
    ):
        for name in names:
            if name in by_name:
                found[role] = by_name[name]
                break
    consumer = by_name.get(consumer_column.lower())
    if consumer is not None:
        found["consumer"] = consumer
    missing = [role for role in ("time", "model", "output") if role not in found]
    if missing:
        names = {"time": _TIME[0], "model": _MODEL[0], "output": _OUTPUT[0]}
        raise InputError(
            f"{path}: no {', '.join(names[role] for role in missing)} column "
            f"(found {', '.join(by_name) or 'none'}); see docs/metering.md for the accepted names"
        )
    return found


def _sql_identifier(name: str) -> str:
    """Return ``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _epoch_expression(value: str) -> str:
    """Return SQL that converts an epoch number in s, ms, us or ns (by its size) to a TIMESTAMP."""
    return (
        f"CASE WHEN {value} < 0 THEN NULL "
        f"WHEN {value} >= 1e17 THEN to_timestamp({value} / 1e9) "
        f"WHEN {value} >= 1e14 THEN to_timestamp({value} / 1e6) "
        f"WHEN {value} >= 1e11 THEN to_timestamp({value} / 1e3) "
        f"ELSE to_timestamp({value}) END::TIMESTAMP"
    )


_NUMERIC_TYPES = (
    "BIGINT",
    "INTEGER",
    "SMALLINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
    "DOUBLE",
    "FLOAT",
    "DECIMAL",
)


def _time_expression(column: tuple[str, str]) -> str:
    name, kind = _sql_identifier(column[0]), column[1].upper()
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        # TIMESTAMP WITH TIME ZONE converts to UTC, the session's zone.
        return f"{name}::TIMESTAMP"
    if kind.startswith(_NUMERIC_TYPES):
        return _epoch_expression(f"{name}::DOUBLE")
    # Text, or JSON containing text and numbers: ISO 8601 first, else an epoch number.
    text = f"({name}->>'$')" if kind == "JSON" else f"{name}::VARCHAR"
    return f"coalesce(try_cast({text} AS TIMESTAMPTZ)::TIMESTAMP, {_epoch_expression(f'try_cast({text} AS DOUBLE)')})"


def _records_sql(source_sql: str, columns: dict[str, tuple[str, str]]) -> str:
    """Return a SELECT of the typed columns, one row per record."""
    business_unit = (
        f"try_cast({_sql_identifier(columns['consumer'][0])} AS VARCHAR)"
        if "consumer" in columns
        else "NULL"
    )
    output = _sql_identifier(columns["output"][0])
    prompt = (
        f"try_cast({_sql_identifier(columns['input'][0])} AS BIGINT)"
        if "input" in columns
        else "0"
    )
    return f"""
            SELECT
                {_time_expression(columns["time"])} AS ts,
                {business_unit} AS business_unit,
                try_cast({_sql_identifier(columns["model"][0])} AS VARCHAR) AS model,
                try_cast({output} AS BIGINT) AS output_tokens,
                try_cast({output} AS DOUBLE) AS output_number,
                {prompt} AS input_tokens
            FROM {source_sql}"""


def _status_sql(options: ReadOptions) -> str:
    """Return the CASE expression that classifies a record as ok, outside or a reason."""
    period_filter = "TRUE"
    if options.period is not None and not options.include_outside_period:
        period_filter = f"strftime(ts, '%Y-%m') = {_sql_string(options.period.label)}"
    return f"""CASE
                    WHEN ts IS NULL THEN 'bad_time'
                    WHEN model IS NULL OR trim(model) = '' THEN 'bad_model'
                    WHEN output_tokens IS NULL OR output_tokens < 0
                         OR output_tokens > {MAX_TOKEN_COUNT}
                         OR output_number <> output_tokens THEN 'bad_tokens'
                    WHEN NOT ({period_filter}) THEN 'outside'
                    ELSE 'ok'
                END"""


def _aggregate_query(source_sql: str, columns: dict[str, tuple[str, str]]) -> str:
    """Return the GROUP BY over (period, business unit, model).

    Invalid token counts are counted per group rather than filtered row by row, and
    unreadable times and blank models become groups of their own that
    :func:`_classify_groups` rejects, so the query costs little more than a bare
    GROUP BY.
    """
    invalid = f"output_tokens IS NULL OR output_tokens < 0 OR output_tokens > {MAX_TOKEN_COUNT}"
    if not columns["output"][1].upper().startswith(_INTEGER_TYPES):
        invalid += " OR output_number <> output_tokens"
    return f"""
        WITH records AS ({_records_sql(source_sql, columns)}
        )
        SELECT
            strftime(ts, '%Y-%m') AS period,
            business_unit,
            model,
            count(*),
            count(*) FILTER (WHERE {invalid}),
            sum(output_tokens) FILTER (WHERE NOT ({invalid})),
            sum(input_tokens) FILTER (WHERE NOT ({invalid})),
            epoch(min(ts) FILTER (WHERE NOT ({invalid}))),
            epoch(max(ts) FILTER (WHERE NOT ({invalid})))
        FROM records
        GROUP BY ALL
        ORDER BY ALL
    """


_INTEGER_TYPES = (
    "BIGINT",
    "INTEGER",
    "SMALLINT",
    "TINYINT",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
    "HUGEINT",
)


def _see_times(report: SourceReport, groups: list[tuple], options: ReadOptions) -> None:
    """Widen the report's time coverage with the first and last valid record counted."""
    label = options.period.label if options.period is not None else None
    for group in groups:
        period, model, first, last = group[0], group[2], group[7], group[8]
        # A group with a blank model is rejected whole, as _classify_groups does.
        if first is None or period is None or model is None or not model.strip():
            continue
        if label is None or options.include_outside_period or period == label:
            report.see_time(float(first))
            report.see_time(float(last))


def _classify_groups(groups: list[tuple], options: ReadOptions) -> list[tuple]:
    """Split aggregated groups into (period, unit, model, status, count, output, input) rows.

    The order of reasons matches the row-level classification of
    :func:`_status_sql`: unreadable time, then blank model, then invalid tokens,
    then outside the period. Valid records outside the period have the status
    ``outside``, or ``outside_used`` with ``include_outside_period``.
    """
    rows = []
    label = options.period.label if options.period is not None else None
    outside = "outside_used" if options.include_outside_period else "outside"
    for period, business_unit, model, count, invalid, output, prompt in groups:
        if period is None:
            rows.append((None, None, None, "bad_time", count, 0, 0))
            continue
        if model is None or not model.strip():
            rows.append((None, None, None, "bad_model", count, 0, 0))
            continue
        if invalid:
            rows.append((None, None, None, "bad_tokens", invalid, 0, 0))
        valid = count - invalid
        if valid:
            status = outside if label is not None and period != label else "ok"
            rows.append(
                (period, business_unit, model, status, valid, output or 0, prompt or 0)
            )
    return rows


def _run_query(connection: object, query: str, options: ReadOptions) -> list[tuple]:
    """Run ``query``; on a terminal, show DuckDB's progress once it takes a while."""
    if not (options.progress and sys.stderr.isatty()):
        return connection.execute(query).fetchall()  # type: ignore[attr-defined]
    import click

    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["rows"] = connection.execute(query).fetchall()  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001  (re-raised in the caller's thread below)
            outcome["error"] = exc

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(PROGRESS_DELAY_SECONDS)
    if worker.is_alive():
        with click.progressbar(
            length=100, label="Aggregating serving log", file=sys.stderr
        ) as bar:
            shown = 0
            while worker.is_alive():
                worker.join(0.2)
                percent = connection.query_progress()  # type: ignore[attr-defined]
                if percent is not None and percent > shown:
                    bar.update(int(percent) - shown)
                    shown = int(percent)
            bar.update(100 - shown)
    worker.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["rows"]  # type: ignore[return-value]


def _fill_report(report: SourceReport, rows: list[tuple], options: ReadOptions) -> None:
    """Add the classified rows to the report's counts, flags and rejections."""
    label = options.period.label if options.period else ""
    for _, _, _, status, count, _, _ in rows:
        report.rows_read += int(count)
        if status == "ok":
            report.rows_used += int(count)
        elif status == "outside":
            report.rows_outside_period += int(count)
            report.flag(
                "outside_period",
                f"records outside {label} were left out",
                key="outside_period",
                count=int(count),
            )
        elif status == "outside_used":
            report.rows_used += int(count)
            report.rows_used_outside_period += int(count)
            report.flag(
                "outside_period",
                f"records outside {label} were counted (--include-outside-period)",
                key="outside_period",
                count=int(count),
            )
        else:
            reason = _REASONS[status]
            report.rejections.setdefault(reason, Rejection(reason)).count += int(count)


# Maximum number of rejected records per reason whose row number is looked up.
EXAMPLES_PER_REASON = 5


def _record_example_lines(
    connection: object,
    source_sql: str,
    columns: dict[str, tuple[str, str]],
    options: ReadOptions,
    report: SourceReport,
) -> None:
    """Record the line numbers of the first rejected records of each reason.

    A CSV record's line is its row number plus one for the header; a JSON Lines
    record's line is its row number. For Parquet the number is the row, counted
    from 1.
    """
    # NOTE: row_number() OVER () follows DuckDB's scan order. That is the file's
    # order for a single-threaded scan, but with several threads the numbers name
    # real rejected records that may not be the first ones.
    header_lines = 1 if "read_csv(" in source_sql else 0
    query = f"""
        WITH records AS ({_records_sql(source_sql, columns)}),
        numbered AS (SELECT *, row_number() OVER () AS row_index FROM records),
        classified AS (SELECT row_index, {_status_sql(options)} AS status FROM numbered)
        SELECT status, row_index FROM classified
        WHERE status NOT IN ('ok', 'outside')
        QUALIFY row_number() OVER (PARTITION BY status ORDER BY row_index) <= {EXAMPLES_PER_REASON}
        ORDER BY status, row_index
    """
    for status, row_index in connection.execute(query).fetchall():  # type: ignore[attr-defined]
        rejection = report.rejections.get(_REASONS[status])
        if rejection is not None:
            rejection.lines.append(int(row_index) + header_lines)
