"""Metering bridge: reads every source of one period into a :class:`Metered`.

:func:`meter` chooses a reader for each file (by its content, or by a ``FORMAT:``
prefix on the path), runs it, and combines the results:

- utilization: busy over observed accelerator-seconds across telemetry sources
  (timed sources win over single scrapes);
- energy: mean accelerator power, full-load and idle power fitted from (U, W)
  readings, and PUE. PUE is time-weighted over facility series, series with
  timestamps win over those without, and a published table is used only when no
  series is given;
- tokens by business unit and model from serving sources, split into good and
  scrapped by the yield of their model from evaluation sources;
- booked costs and depreciation profiles from the ledger.

Whatever no source measured is listed in ``taken_from_scenario``.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tokenbom_xl import __version__
from tokenbom_xl.errors import InputError
from tokenbom_xl.metering import (
    facility,
    gpu_exposition,
    inspect_eval,
    ledger,
    nvidia_smi,
    openai_usage,
    otel,
    pue_table,
    query_range,
    serving_log,
    vllm,
)
from tokenbom_xl.metering.formats import FORMATS
from tokenbom_xl.metering.inputs import file_magic, open_input
from tokenbom_xl.metering.metered import (
    BookedEntry,
    EnergyEntry,
    FlagEntry,
    Metered,
    ProfileEntry,
    RejectionEntry,
    SourceEntry,
    TokenEntry,
    UtilizationEntry,
    YieldEntry,
)
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.prometheus import looks_like_exposition
from tokenbom_xl.metering.report import SourceReport, format_time
from tokenbom_xl.metering.telemetry import TelemetryResult, summarize_telemetry
from tokenbom_xl.metering.tokens import ServingResult, TokenCounts

__all__ = ["FORMATS", "MeterInputs", "meter", "split_format"]

logger = logging.getLogger(__name__)

# Number of opening lines read to detect a format. It is enough to get past the
# preamble of a capture file that interleaves several nvidia-smi outputs.
_SNIFF_LINES = 40


@dataclass
class MeterInputs:
    """Input file arguments of one period, by kind of source."""

    telemetry: Sequence[str] = ()
    facility: Sequence[str] = ()
    serving: Sequence[str] = ()
    eval: Sequence[str] = ()
    ledger: Sequence[str] = ()


@dataclass
class _Collected:
    """Reader results of one run by kind, and the source report of every file."""

    telemetry: list[TelemetryResult] = field(default_factory=list)
    facility: list[facility.FacilityResult] = field(default_factory=list)
    serving: list[ServingResult] = field(default_factory=list)
    evals: list[inspect_eval.EvalResult] = field(default_factory=list)
    ledgers: list[ledger.LedgerResult] = field(default_factory=list)
    reports: list[SourceReport] = field(default_factory=list)


def split_format(kind: str, argument: str) -> tuple[str | None, str]:
    """Split 'FORMAT:PATH' into (format, path), or return (None, argument) without a prefix.

    Text before the first colon is a prefix when it is a format of ``kind``, or when
    it looks like a format name (a letter, then letters, digits, '-' or '_') and the
    whole argument is not an existing file. A single letter is a Windows drive, as
    in C:/data/pue.csv, never a prefix.

    Raises:
        InputError: the prefix names no format of ``kind`` or no path follows it;
            the message lists the formats of ``kind``.
    """
    head, sep, rest = argument.partition(":")
    if not sep:
        return None, argument
    if head in FORMATS[kind]:
        if not rest:
            raise InputError(
                f"--{kind} {argument}: the path after {head}: is missing; "
                f"give it as {head}:PATH"
            )
        return head, rest
    if not _FORMAT_NAME.fullmatch(head) or os.path.lexists(argument):
        return None, argument
    raise InputError(f"--{kind} {argument}: {_describe_invalid_prefix(kind, head)}")


# Text that a user may have meant as a FORMAT: prefix, valid or not. It has two or
# more characters, so a Windows drive letter such as C: is not one.
_FORMAT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]+")


def _describe_invalid_prefix(kind: str, head: str) -> str:
    """Return a message that describes an invalid prefix and lists the valid ones."""
    valid = ", ".join(FORMATS[kind])
    fix = f"use one of {valid}, or drop the prefix to detect the format"
    others = [other for other, names in FORMATS.items() if head in names]
    if others:
        return f"{head} is a format of --{others[0]}, not of --{kind}; {fix}"
    close = difflib.get_close_matches(head.lower(), FORMATS[kind], n=1)
    if close:
        return f"unknown format {head!r}; did you mean {close[0]}? Otherwise {fix}"
    return f"unknown format {head!r}; {fix}"


def meter(
    inputs: MeterInputs,
    options: ReadOptions,
    *,
    on_file: Callable[[str, str], None] | None = None,
) -> Metered:
    """Read every input file and combine them into one period's metered inputs.

    ``on_file(kind, path)`` is called before each file is read, for progress output.

    Raises:
        InputError: a file cannot be read or is not of a known format; the message
            names the file and, where it applies, the line.
    """
    if options.period is None:
        raise InputError("missing period; give one such as --period 2026-11")
    sources = _split_arguments(inputs)
    collected = _Collected()
    vllm_paths: list[str] = []
    order: list[str] = []
    for kind, format_name, path in sources:
        order.append(path)
        if on_file is not None:
            on_file(kind, path)
        format_name = format_name or _detect_format(kind, path, options)
        logger.info("reading %s as %s", path, format_name)
        if format_name == "vllm":
            vllm_paths.append(path)
            continue
        _read_file(kind, format_name, path, options, collected)

    if vllm_paths:
        for result in vllm.read_vllm_scrapes(vllm_paths, options):
            collected.serving.append(result)
            collected.reports.append(result.report)
    # Reports follow the order the files were given (vLLM scrapes are read together).
    collected.reports.sort(key=lambda report: order.index(report.file))
    return _combine_results(collected, options)


def _split_arguments(inputs: MeterInputs) -> list[tuple[str, str | None, str]]:
    """Split every argument into (kind, format or None, path), rejecting repeats.

    A file given twice to one kind of source would be counted twice, so a repeat
    is an error, whether it is spelled alike, with a FORMAT: prefix, through a
    symbolic link or as a hard link. Files are compared by device and inode, and
    by resolved path where that is unavailable. One file may go to different
    kinds, such as a Prometheus scrape with both DCGM and vLLM metrics given to
    telemetry and serving, because each kind reads other metrics from it.

    Raises:
        InputError: an invalid FORMAT: prefix, or a file given twice to one kind;
            the message names both arguments.
    """
    sources = []
    seen: dict[tuple[str, object], str] = {}
    for kind in ("telemetry", "facility", "serving", "eval", "ledger"):
        for argument in getattr(inputs, kind):
            format_name, path = split_format(kind, argument)
            sources.append((kind, format_name, path))
            identity = _file_identity(path)
            if identity is None:
                continue
            first = seen.get((kind, identity))
            if first is not None:
                raise InputError(
                    f"--{kind} {argument} is the same file as --{kind} {first}"
                    f"{_same_file_note(first, argument, kind)}; give each file once, "
                    "because its records would be counted twice"
                )
            seen[(kind, identity)] = argument
    return sources


def _file_identity(path: str) -> object | None:
    """Return the identity of ``path``'s file: (device, inode), else its resolved path.

    Returns None when the file cannot be examined, so that its reader reports why.
    """
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    # Python's os.stat_result docs say that st_ino identifies a file on its st_dev
    # only when it is non-zero, so an inode of 0 falls back to the resolved path.
    if status.st_ino:
        return (status.st_dev, status.st_ino)
    return os.path.realpath(path)


def _same_file_note(first: str, second: str, kind: str) -> str:
    """Return how two differently spelled arguments name one file, or '' if alike."""
    first_path = split_format(kind, first)[1]
    second_path = split_format(kind, second)[1]
    if first_path == second_path:
        return ""
    if os.path.realpath(first_path) == os.path.realpath(second_path):
        return f" (both are {os.path.realpath(first_path)})"
    return " (hard links to one file)"


def _read_file(
    kind: str, format_name: str, path: str, options: ReadOptions, collected: _Collected
) -> None:
    """Read ``path`` with the reader of ``format_name`` and collect the result."""
    readers: dict[str, Callable[[str, ReadOptions], Any]] = {
        "nvidia-smi": nvidia_smi.read_nvidia_smi,
        "prometheus": gpu_exposition.read_gpu_exposition,
        "query-range": query_range.read_query_range,
        "facility-series": facility.read_facility_series,
        "pue-table": pue_table.read_pue_table,
        "openai": openai_usage.read_openai_usage,
        "otlp": otel.read_otlp,
        "serving-log": serving_log.read_serving_log,
        "inspect": inspect_eval.read_inspect_log,
        "gl": ledger.read_ledger,
    }
    result = readers[format_name](path, options)
    target = {
        "telemetry": collected.telemetry,
        "facility": collected.facility,
        "serving": collected.serving,
        "eval": collected.evals,
        "ledger": collected.ledgers,
    }[kind]
    target.append(result)
    collected.reports.append(result.report)


def _detect_format(kind: str, path: str, options: ReadOptions) -> str:
    """Return the format of ``path``, detected from its opening bytes and lines.

    Raises:
        InputError: the content matches no format of this kind.
    """
    if kind == "eval":
        return "inspect"
    if kind == "ledger":
        return "gl"
    if kind == "serving" and file_magic(path) == b"PAR1":
        return "serving-log"
    lines = _read_first_lines(path, options)
    text = "\n".join(lines)
    head = next((line.strip() for line in lines if line.strip()), "")
    if kind == "telemetry":
        if head.startswith("{"):
            return "query-range"
        if nvidia_smi.looks_like_nvidia_smi(lines):
            return "nvidia-smi"
        if looks_like_exposition(lines):
            return "prometheus"
        if "nvidia-smi" in text.lower():
            # A capture of several nvidia-smi outputs whose first table starts
            # beyond the lines read.
            return "nvidia-smi"
    elif kind == "facility":
        if head.startswith(("[", "{")):
            return "facility-series"
        return (
            "pue-table" if pue_table.looks_like_pue_table(head) else "facility-series"
        )
    elif kind == "serving":
        if otel.looks_like_otlp(text):
            return "otlp"
        if vllm.looks_like_vllm(lines) and looks_like_exposition(lines):
            return "vllm"
        if _looks_like_flat_log(head):
            return "serving-log"
        return "openai"
    choices = ", ".join(FORMATS[kind])
    raise InputError(
        f"{path}: not a recognised {kind} format; name it with a prefix such as "
        f"{FORMATS[kind][0]}:{path} (one of {choices})"
    )


def _read_first_lines(path: str, options: ReadOptions) -> list[str]:
    lines = []
    with open_input(path, options.limits) as source:
        for _, line in source.lines():
            lines.append(line)
            if len(lines) >= _SNIFF_LINES:
                break
    return lines


def _looks_like_flat_log(head: str) -> bool:
    """Return whether the first line is a flat serving-log record or CSV header."""
    lowered = head.lower()
    has_tokens = any(
        name in lowered
        for name in ("output_tokens", "completion_tokens", "generated_tokens")
    )
    if head.startswith("{"):
        return (
            has_tokens
            and '"usage"' not in lowered
            and '"response"' not in lowered
            and '"object"' not in lowered
        )
    return has_tokens and "," in head


# ---------------------------------------------------------------------------
# Combining


def _combine_results(collected: _Collected, options: ReadOptions) -> Metered:
    """Combine the collected results and list what no source measured."""
    period = options.period.label  # type: ignore[union-attr]
    unmeasured: list[str] = []

    utilization, energy = _telemetry_entries(collected.telemetry)
    pue, pue_sources = _combined_pue(collected.facility)
    if pue is not None:
        energy = (energy or EnergyEntry()).model_copy(
            update={"pue": pue, "pue_sources": pue_sources}
        )
    if utilization is None:
        unmeasured.append("utilization")
    if energy is None or energy.mean_power_w is None:
        unmeasured.append("accelerator power")
    if pue is None:
        unmeasured.append("PUE")

    yields = _yield_entries(collected.evals)
    counts = TokenCounts()
    for result in collected.serving:
        counts.merge(result.counts)
    tokens = _token_entries(counts, {entry.model: entry for entry in yields})
    yield_rate, basis = _overall_yield(tokens, yields)
    if not tokens:
        unmeasured.append("tokens")
    if yield_rate is None:
        unmeasured.append("yield")

    booked, profiles = _ledger_entries(collected.ledgers)
    if not booked:
        unmeasured.append("booked costs")

    return Metered(
        period=period,
        generated_by=f"tokenbom_xl {__version__}",
        utilization=utilization,
        energy=energy,
        yield_rate=yield_rate,
        yield_basis=basis,
        tokens=tokens,
        yields=yields,
        booked=booked,
        depreciation_profiles=profiles,
        taken_from_scenario=unmeasured,
        sources=[_source_entry(report) for report in collected.reports],
    )


def _telemetry_entries(
    results: list[TelemetryResult],
) -> tuple[UtilizationEntry | None, EnergyEntry | None]:
    summary = summarize_telemetry(results)
    if summary is None:
        return None, None
    utilization = None
    if summary.utilization is not None:
        utilization = UtilizationEntry(
            value=min(max(summary.utilization, 0.0), 1.0),
            busy_accelerator_seconds=summary.busy_seconds,
            observed_accelerator_seconds=summary.utilization_seconds,
            accelerators_seen=len(summary.accelerators),
            timed=summary.timed,
            sources=list(summary.sources),
        )
    energy = None
    if summary.mean_power_w is not None:
        energy = EnergyEntry(
            mean_power_w=summary.mean_power_w,
            it_kwh=summary.it_kwh,
            observed_accelerator_hours=summary.observed_hours,
            full_load_power_w=summary.fit.full_load_w if summary.fit else None,
            idle_power_w=summary.fit.idle_w if summary.fit else None,
            power_sources=list(summary.sources),
        )
    return utilization, energy


def _combined_pue(
    results: list[facility.FacilityResult],
) -> tuple[float | None, list[str]]:
    """Return the weighted mean PUE of the chosen facility files, and those files.

    Timed series are weighted by covered seconds and the others by their reading
    count. The two weights cannot be mixed, so timed series win over untimed ones,
    and any series wins over a published table. Files left out are flagged.
    """
    series = [
        result for result in results if not result.table and result.pue is not None
    ]
    timed = [result for result in series if result.timed]
    tables = [result for result in results if result.table and result.pue is not None]
    chosen = timed or series or tables
    for result in series:
        if timed and not result.timed:
            result.report.flag(
                "not_selected",
                "PUE not used: a facility series with timestamps was given",
                key="not_selected",
            )
    if series:
        for result in tables:
            result.report.flag(
                "not_selected",
                "PUE not used: a measured facility series was given",
                key="not_selected",
            )
    if not chosen:
        return None, []

    weight = sum(result.weight_seconds for result in chosen)
    pue = sum(result.pue * result.weight_seconds for result in chosen) / weight  # type: ignore[operator]
    return pue, [result.report.file for result in chosen]


def _yield_entries(results: list[inspect_eval.EvalResult]) -> list[YieldEntry]:
    models: dict[str, inspect_eval.ModelYield] = {}
    for result in results:
        for model, counts in result.models.items():
            total = models.setdefault(model, inspect_eval.ModelYield())
            total.samples += counts.samples
            total.good_samples += counts.good_samples
            total.output_tokens += counts.output_tokens
            total.good_output_tokens += counts.good_output_tokens
    entries = []
    for model, counts in sorted(models.items()):
        if counts.yield_rate is None:
            continue
        entries.append(
            YieldEntry(
                model=model,
                yield_rate=counts.yield_rate,
                samples=counts.samples,
                good_samples=counts.good_samples,
                output_tokens=counts.output_tokens,
                good_output_tokens=counts.good_output_tokens,
            )
        )
    return entries


def _token_entries(
    counts: TokenCounts, yields: dict[str, YieldEntry]
) -> list[TokenEntry]:
    entries = []
    for (business_unit, model), totals in sorted(counts.totals.items()):
        entry = yields.get(model)
        good = scrapped = None
        if entry is not None:
            good = _round_tokens_half_up(totals.output_tokens * entry.yield_rate)
            scrapped = totals.output_tokens - good
        entries.append(
            TokenEntry(
                business_unit=business_unit,
                model=model,
                output_tokens=totals.output_tokens,
                input_tokens=totals.input_tokens,
                requests=totals.requests,
                yield_rate=entry.yield_rate if entry else None,
                good_tokens=good,
                scrapped_tokens=scrapped,
            )
        )
    return entries


def _round_tokens_half_up(value: float) -> int:
    """Round a non-negative token estimate to a whole token, halves up."""
    return int(value + 0.5)


def _overall_yield(
    tokens: list[TokenEntry], yields: list[YieldEntry]
) -> tuple[float | None, str]:
    """Return the factory's yield and a description of its basis.

    The yield weights each served model's output tokens by that model's yield.
    Without served tokens of an evaluated model, it falls back to the good share
    of the evaluated output tokens, then to the share of samples that passed.
    Returns (None, "") when nothing was evaluated.
    """
    served = [entry for entry in tokens if entry.good_tokens is not None]
    served_tokens = sum(entry.output_tokens for entry in served)
    if served_tokens > 0:
        good = sum(entry.good_tokens or 0 for entry in served)
        basis = "served output tokens of the evaluated models, weighted by model yield"
        return good / served_tokens, basis

    scored = sum(entry.output_tokens for entry in yields)
    if scored > 0:
        good = sum(entry.good_output_tokens for entry in yields)
        return good / scored, "output tokens of the evaluated samples"

    samples = sum(entry.samples for entry in yields)
    if samples > 0:
        passed = sum(entry.good_samples for entry in yields)
        return passed / samples, "share of evaluated samples that passed"
    return None, ""


def _ledger_entries(
    results: list[ledger.LedgerResult],
) -> tuple[list[BookedEntry], list[ProfileEntry]]:
    totals: dict[tuple[str, str], tuple[Decimal, int]] = {}
    profiles = []
    for result in results:
        for key, booked in result.booked.items():
            amount, lines = totals.get(key, (Decimal(0), 0))
            totals[key] = (
                ledger.add_amounts(amount, booked.amount),
                lines + booked.lines,
            )
        profiles.extend(
            ProfileEntry(
                name=p.name,
                asset_account=p.asset_account,
                expense_account=p.expense_account,
                life_months=p.life_months,
            )
            for p in result.profiles
        )
    booked_entries = [
        BookedEntry(
            account=account, cost_centre=cost_centre, amount=str(amount), lines=lines
        )
        for (account, cost_centre), (amount, lines) in sorted(totals.items())
    ]
    return booked_entries, profiles


def _source_entry(report: SourceReport) -> SourceEntry:
    return SourceEntry(
        kind=report.kind,
        format=report.format,
        file=report.file,
        first_time=format_time(report.first_time),
        last_time=format_time(report.last_time),
        rows_read=report.rows_read,
        rows_used=report.rows_used,
        rows_outside_period=report.rows_outside_period,
        rows_rejected=report.rows_rejected,
        rows_used_outside_period=report.rows_used_outside_period,
        rejections=[
            RejectionEntry(reason=r.reason, count=r.count, lines=r.lines)
            for r in report.rejections.values()
        ],
        flags=[
            FlagEntry(code=f.code, message=f.message, count=f.count, line=f.line)
            for f in report.flags.values()
        ],
        notes=report.notes,
    )
