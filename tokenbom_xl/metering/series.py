"""Time arithmetic on sampled series: ordering, gaps, gauges and counters.

A gauge sample (utilization, power, PUE) covers the interval from its timestamp to
the next sample. It never covers more than the series' usual interval, its median
spacing, so a hole in the data is a gap and not a stretched reading. A counter
(energy in mJ since boot, tokens since start) contributes its increases. A decrease
means the counter was reset (a restart or a driver reload), and the value after the
reset counts as the increase since it, as Prometheus' ``increase()`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tokenbom_xl.metering.report import SourceReport, format_time

__all__ = [
    "GaugeIntegral",
    "counter_increase",
    "integrate_gauge",
    "order_samples",
    "typical_step",
]

# An interval longer than this many usual intervals is reported as a gap.
GAP_FACTOR = 2.0


def order_samples(
    times: NDArray[np.float64],
    lines: NDArray[np.int64],
    report: SourceReport,
    series: str,
) -> NDArray[np.int64]:
    """Return the indices of the samples to keep, in time order.

    Flags timestamps that go backwards in file order and rejects a second sample with
    the same timestamp as an earlier one (the first is kept, and the count is exact).
    """
    if len(times) == 0:
        return np.zeros(0, dtype=np.int64)
    backwards = np.flatnonzero(np.diff(times) < 0)
    if len(backwards):
        first = int(lines[backwards[0] + 1])
        report.flag(
            "clock_backwards",
            f"{series}: timestamps go backwards {len(backwards)} time(s); samples sorted by time",
            line=first,
            key=f"clock_backwards|{series}",
        )
    order = np.argsort(times, kind="stable")
    ordered = times[order]
    duplicate = np.zeros(len(order), dtype=bool)
    duplicate[1:] = ordered[1:] == ordered[:-1]
    if duplicate.any():
        for index in order[duplicate]:
            report.reject(int(lines[index]), f"duplicate timestamp for {series}")
        report.flag(
            "duplicate_timestamp",
            f"{series}: {int(duplicate.sum())} sample(s) repeat a timestamp",
            line=int(lines[order[duplicate][0]]),
            key=f"duplicate_timestamp|{series}",
        )
    return order[~duplicate]


def typical_step(times: NDArray[np.float64]) -> float | None:
    """Return the median positive spacing of sorted ``times``, or None for one sample."""
    if len(times) < 2:
        return None
    steps = np.diff(times)
    steps = steps[steps > 0]
    return float(np.median(steps)) if len(steps) else None


@dataclass(frozen=True)
class GaugeIntegral:
    """A gauge integrated over the time its samples cover."""

    covered_seconds: float
    integral: float  # sum of value x seconds
    gap_count: int
    gap_seconds: float


def integrate_gauge(
    times: NDArray[np.float64],
    values: NDArray[np.float64],
    step: float,
    *,
    end: float | None = None,
    report: SourceReport | None = None,
    series: str = "",
) -> GaugeIntegral:
    """Integrate a gauge sampled at sorted ``times``, where NaN values cover no time.

    Each sample covers up to ``step`` seconds forward, cut at the next sample and at
    ``end`` (the end of the period). Spacings above ``GAP_FACTOR * step`` are gaps
    and are flagged on ``report``.
    """
    if len(times) == 0:
        return GaugeIntegral(0.0, 0.0, 0, 0.0)
    spacing = np.append(np.diff(times), np.inf)
    covered = np.minimum(spacing, step)
    if end is not None:
        covered = np.clip(np.minimum(covered, end - times), 0.0, None)
    known = np.isfinite(values)
    covered_seconds = float(covered[known].sum())
    integral = float((covered[known] * values[known]).sum())

    gaps = np.flatnonzero(spacing[:-1] > GAP_FACTOR * step)
    gap_seconds = float((spacing[gaps] - step).sum()) if len(gaps) else 0.0
    if len(gaps) and report is not None:
        widest = gaps[np.argmax(spacing[gaps])]
        report.flag(
            "gap",
            f"{series}: {len(gaps)} gap(s) totalling {_format_duration(gap_seconds)}, the longest from "
            f"{format_time(float(times[widest]))} to {format_time(float(times[widest + 1]))}",
            key=f"gap|{series}",
        )
    return GaugeIntegral(covered_seconds, integral, len(gaps), gap_seconds)


def counter_increase(
    values: NDArray[np.float64],
    lines: NDArray[np.int64],
    report: SourceReport,
    series: str,
) -> tuple[float, int]:
    """Return (increase, resets) of a counter sampled in time order.

    NaN samples are skipped. A decrease is a reset: the value after it is the
    increase since the reset, and each reset is flagged with its line.
    """
    known = np.isfinite(values)
    values = values[known]
    lines = lines[known]
    if len(values) < 2:
        return 0.0, 0
    deltas = np.diff(values)
    resets = deltas < 0
    increase = float(deltas[~resets].sum() + values[1:][resets].sum())
    count = int(resets.sum())
    if count:
        report.flag(
            "counter_reset",
            f"{series}: counter reset {count} time(s); counted from zero after each",
            line=int(lines[1:][resets][0]),
            key=f"counter_reset|{series}",
        )
    return increase, count


def _format_duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"
