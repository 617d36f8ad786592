"""Reader for vLLM's Prometheus metrics (``/metrics`` scrapes of vLLM V1).

vLLM counts tokens per engine shard: ``vllm:generation_tokens_total`` (output) and
``vllm:prompt_tokens_total`` (input), labelled ``model_name`` and ``engine``, and
requests in ``vllm:request_success_total`` by ``finished_reason``. Shards are summed.
The ``*_created`` series contain the Unix time a counter started, not a count, and
are skipped.

Counters only grow while the server runs. Across several scrapes (several files in
time order, or one file whose samples carry timestamps) the tokens made are the
counter's increase, and a drop is a restart: the value after it counts from zero. A
single scrape gives the total since the engine started, and is flagged as such.
The business unit comes from the label named by ``ReadOptions.consumer_label``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tokenbom_xl.metering.inputs import open_input
from tokenbom_xl.metering.options import UNASSIGNED, ReadOptions
from tokenbom_xl.metering.prometheus import iter_exposition
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.metering.series import counter_increase, order_samples
from tokenbom_xl.metering.tokens import MAX_TOKEN_COUNT, ServingResult, TokenCounts

__all__ = ["FORMAT", "looks_like_vllm", "read_vllm_scrapes"]

FORMAT = "vLLM metrics"

_COUNTERS = {
    "vllm:generation_tokens_total": "output",
    "vllm:prompt_tokens_total": "input",
    "vllm:request_success_total": "requests",
}


def looks_like_vllm(first_lines: list[str]) -> bool:
    """Return whether the opening lines name a vllm: metric."""
    return any("vllm:" in line for line in first_lines)


@dataclass
class _Series:
    """Samples of one counter series, and the report of the file of its last sample."""

    report: SourceReport
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    timed: list[bool] = field(default_factory=list)


def read_vllm_scrapes(paths: list[str], options: ReadOptions) -> list[ServingResult]:
    """Read one or more vLLM scrapes, given in time order, into token counts.

    Returns one result per file. The counts of a counter series go to the file of
    its last sample, so a series spread over several files is counted once.

    Raises:
        InputError: a file cannot be read or is not valid exposition.
    """
    reports = {path: SourceReport("serving", FORMAT, path) for path in paths}
    series: dict[tuple[str, tuple[tuple[str, str], ...]], _Series] = {}
    for file_index, path in enumerate(paths):
        report = reports[path]
        with open_input(path, options.limits) as source:
            for sample in iter_exposition(source):
                if sample.name not in _COUNTERS:
                    continue
                report.rows_read += 1
                if not options.in_period(report, sample.timestamp, sample.line):
                    continue
                if not 0 <= sample.value <= MAX_TOKEN_COUNT:  # NaN fails too
                    report.reject(
                        sample.line, f"{sample.name} = {sample.value:g} is not a count"
                    )
                    continue
                key = (sample.name, tuple(sorted(sample.labels.items())))
                entry = series.setdefault(key, _Series(report))
                entry.report = report
                # Untimed scrapes are ordered as the files were given.
                entry.times.append(
                    sample.timestamp
                    if sample.timestamp is not None
                    else float(file_index)
                )
                entry.values.append(sample.value)
                entry.lines.append(sample.line)
                entry.timed.append(sample.timestamp is not None)
                report.rows_used += 1

    counts = {path: TokenCounts(path) for path in paths}
    for (name, labels), entry in series.items():
        label_map = dict(labels)
        model = options.model_name(label_map.get("model_name", "unknown"))
        business_unit = label_map.get(options.consumer_label or "", "") or UNASSIGNED
        if business_unit == UNASSIGNED:
            entry.report.flag(
                "unattributed",
                "no consumer label: tokens counted under 'unassigned'",
                key="unattributed",
            )
        amount = _counter_total(
            entry, f"{name} {model} engine {label_map.get('engine', '?')}"
        )
        kind = _COUNTERS[name]
        if kind == "output":
            counts[entry.report.file].add(business_unit, model, amount, 0, 0)
        elif kind == "input":
            counts[entry.report.file].add(business_unit, model, 0, amount, 0)
        else:
            counts[entry.report.file].add(business_unit, model, 0, 0, amount)
    return [ServingResult(reports[path], counts[path]) for path in paths]


def _counter_total(entry: _Series, name: str) -> int:
    """Return the counter's increase, or its value for a single scrape, rounded."""
    times = np.array(entry.times)
    values = np.array(entry.values)
    lines = np.array(entry.lines, dtype=np.int64)
    timed = np.array(entry.timed, dtype=bool)
    if timed.any() and not timed.all():
        # A file index cannot be placed among real timestamps, so untimed samples
        # of a series that also has timed ones are left out rather than guessed.
        entry.report.flag(
            "inconsistent",
            f"{name}: samples with and without timestamps in one series; "
            f"{int((~timed).sum())} untimed sample(s) left out",
            key=f"mixed_times {name}",
        )
        times, values, lines = times[timed], values[timed], lines[timed]
    keep = order_samples(times, lines, entry.report, name)
    values, lines = values[keep], lines[keep]
    if len(values) == 1:
        entry.report.flag(
            "single_sample",
            "one scrape: counters are totals since the engine started, not the period's increase",
            key="single_scrape",
        )
        return int(round(values[0]))
    increase, _ = counter_increase(values, lines, entry.report, name)
    return int(round(increase))
