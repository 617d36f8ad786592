"""Accelerator telemetry: samples per accelerator, then utilization and energy.

The three telemetry readers (nvidia-smi CSV, Prometheus exposition, Prometheus
``query_range`` JSON) add samples to a :class:`GpuSamples`; :func:`summarize_gpus`
turns them into per-accelerator figures:

- busy accelerator-seconds: utilization integrated over the covered time;
- energy: the increase of an energy counter (mJ since boot) where the source has one,
  else power integrated over the covered time;
- (utilization, power) pairs, from which :func:`fit_power` estimates full-load and
  idle power for the Energy component.

Samples without timestamps (a single scrape) cannot be integrated: they count as
point readings, each with equal weight, and only when no timed source exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.metering.series import (
    counter_increase,
    integrate_gauge,
    order_samples,
    typical_step,
)

__all__ = [
    "MAX_POWER_W",
    "GpuFigures",
    "GpuReading",
    "GpuSamples",
    "PowerFit",
    "TelemetryResult",
    "TelemetrySummary",
    "fit_power",
    "summarize_gpus",
    "summarize_telemetry",
]

# Board power above this is not a reading. The largest single accelerators draw
# about 1.2 kW (2025), and the bound leaves room for superchip modules.
MAX_POWER_W = 5000.0

# An energy counter (mJ since boot) above this is not a reading: MAX_POWER_W for 100
# years, in mJ.
MAX_ENERGY_MJ = MAX_POWER_W * 1000.0 * 100 * 365.25 * 86400

# Values that exporters write for "no data": 2^32-1, 2^31-1, 2^63-1 and 2^64-1
# (the DCGM exporter writes 4294967295 for utilization it cannot read).
SENTINELS = frozenset(
    {4294967295.0, 2147483647.0, 9223372036854775807.0, 18446744073709551615.0}
)

# A utilization spread at least this wide is needed to fit full-load and idle power.
MIN_FIT_SPREAD = 0.2


@dataclass
class GpuReading:
    """One accelerator's readings at one time; NaN where a metric was not read."""

    time: float | None
    line: int
    utilization: float = math.nan
    power_w: float = math.nan
    energy_mj: float = math.nan


@dataclass
class GpuSamples:
    """Samples per accelerator as a reader adds them, merged by timestamp."""

    report: SourceReport
    options: ReadOptions
    series: dict[str, dict[float | None, GpuReading]] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        gpu: str,
        time: float | None,
        line: int,
        *,
        host: str = "",
        utilization: float | None = None,
        utilization_percent: float | None = None,
        power_w: float | None = None,
        energy_mj: float | None = None,
    ) -> bool:
        """Add readings for one accelerator at one time and return whether they were used.

        Give utilization as a fraction or as a percent. Readings for the same
        accelerator and time merge into one sample (the Prometheus formats write one
        line per metric). A second reading of the same metric at the same time is a
        duplicate and is rejected. Impossible and sentinel values are flagged and left
        out, and a row left with no reading at all is rejected.
        """
        if not self.options.in_period(self.report, time, line):
            return False
        if utilization_percent is not None:
            utilization = self._validated(
                utilization_percent, 0.0, 100.0, "utilization (%)", gpu, line
            )
            utilization = None if utilization is None else utilization / 100.0
        else:
            utilization = self._validated(
                utilization, 0.0, 1.0, "utilization (ratio)", gpu, line
            )
        readings = {
            "utilization": utilization,
            "power_w": self._validated(
                power_w, 0.0, MAX_POWER_W, "power (W)", gpu, line
            ),
            "energy_mj": self._validated(
                energy_mj, 0.0, MAX_ENERGY_MJ, "energy counter (mJ)", gpu, line
            ),
        }
        readings = {
            name: value for name, value in readings.items() if value is not None
        }
        if not readings:
            self.report.reject(line, "no usable utilization, power or energy reading")
            return False

        samples = self.series.setdefault(gpu, {})
        if host:
            self.hosts.setdefault(gpu, host)
        sample = samples.get(time)
        if sample is None:
            sample = samples[time] = GpuReading(time, line)
        for name in readings:
            if not math.isnan(getattr(sample, name)):
                where = (
                    "at the same timestamp"
                    if time is not None
                    else "in one untimed scrape"
                )
                self.report.reject(
                    line,
                    f"duplicate {name.replace('_', ' ')} reading for GPU {gpu} {where}",
                )
                self.report.flag(
                    "duplicate_timestamp",
                    f"GPU {gpu}: repeated readings {where}; the first was kept",
                    line=line,
                    key=f"duplicate|{gpu}",
                )
                return False
        for name, value in readings.items():
            setattr(sample, name, value)
        return True

    def _validated(
        self,
        value: float | None,
        low: float,
        high: float,
        metric: str,
        gpu: str,
        line: int,
    ) -> float | None:
        """Return ``value``, or None after flagging a sentinel or out-of-range value."""
        if value is None or math.isnan(value):
            return None
        if value in SENTINELS:
            self.report.flag(
                "sentinel",
                f"{metric} of GPU {gpu} read {value:.0f}, a 'no data' value; excluded",
                line=line,
                key=f"sentinel|{metric}",
            )
            return None
        if not low <= value <= high:
            self.report.flag(
                "impossible_value",
                f"{metric} of GPU {gpu} read {value:g}, outside {low:g} to {high:g}; excluded",
                line=line,
                key=f"impossible|{metric}",
            )
            return None
        return value


@dataclass(frozen=True)
class GpuFigures:
    """One accelerator's figures from one source."""

    gpu: str
    host: str
    timed: bool
    samples: int
    # For an untimed source each sample weighs 1 instead of its seconds: busy_seconds
    # is then the sum of utilization readings, energy_joules the sum of power readings,
    # and the *_seconds fields count the readings.
    busy_seconds: float
    utilization_seconds: float
    energy_joules: float
    energy_seconds: float
    fit_points: tuple[tuple[float, float], ...]  # (utilization, power W)
    first_time: float | None
    last_time: float | None


@dataclass
class TelemetryResult:
    """Figures per accelerator from one telemetry file, and its source report."""

    report: SourceReport
    gpus: list[GpuFigures]
    # Readings per accelerator, in file order
    readings: dict[str, list[GpuReading]] = field(default_factory=dict)


def summarize_gpus(samples: GpuSamples) -> TelemetryResult:
    """Turn collected samples into per-accelerator figures and flag missing ones."""
    report = samples.report
    figures = []
    for gpu, by_time in samples.series.items():
        figures.append(
            _gpu_figures(
                gpu,
                samples.hosts.get(gpu, ""),
                list(by_time.values()),
                samples.options,
                report,
            )
        )
    _flag_missing_gpus(figures, report)
    if not figures:
        report.flag(
            "missing_field",
            "no accelerator utilization, power or energy readings found",
            key="no_gpus",
        )
    readings = {gpu: list(by_time.values()) for gpu, by_time in samples.series.items()}
    return TelemetryResult(report, figures, readings)


def _gpu_figures(
    gpu: str,
    host: str,
    samples: list[GpuReading],
    options: ReadOptions,
    report: SourceReport,
) -> GpuFigures:
    """Integrate one accelerator's timed samples, or sum its point readings."""
    lines = np.array([s.line for s in samples], dtype=np.int64)
    utilization = np.array([s.utilization for s in samples])
    power = np.array([s.power_w for s in samples])
    energy = np.array([s.energy_mj for s in samples])
    both = np.isfinite(utilization) & np.isfinite(power)
    fit_points = tuple(
        zip(utilization[both].tolist(), power[both].tolist(), strict=True)
    )
    timed_mask = np.array([s.time is not None for s in samples])

    if timed_mask.all() and len(samples) >= 2:
        times = np.array([s.time for s in samples], dtype=float)
        keep = order_samples(times, lines, report, f"GPU {gpu}")
        times, lines, utilization, power, energy = (
            times[keep],
            lines[keep],
            utilization[keep],
            power[keep],
            energy[keep],
        )
        step = typical_step(times)
        if step is not None:
            end = (
                options.period.end
                if options.period and not options.include_outside_period
                else None
            )
            used = integrate_gauge(
                times, utilization, step, end=end, report=report, series=f"GPU {gpu}"
            )
            drawn = integrate_gauge(times, power, step, end=end)
            energy_joules, energy_seconds = drawn.integral, drawn.covered_seconds

            # An energy counter with two or more readings replaces integrated power.
            counted = np.isfinite(energy)
            if counted.sum() >= 2:
                increase, _ = counter_increase(
                    energy, lines, report, f"GPU {gpu} energy counter"
                )
                energy_joules = increase / 1000.0
                energy_seconds = float(times[counted][-1] - times[counted][0])
            return GpuFigures(
                gpu,
                host,
                True,
                len(times),
                used.integral,
                used.covered_seconds,
                energy_joules,
                energy_seconds,
                fit_points,
                float(times[0]),
                float(times[-1]),
            )

    # Point readings, or timed samples that leave no interval to integrate over.
    if not timed_mask.all():
        report.flag(
            "no_timestamps",
            "samples carry no timestamps; each counts as one point reading",
            key="no_timestamps",
        )
    else:
        report.flag(
            "single_sample",
            "one sample per accelerator; each counts as one point reading",
            key="single_sample",
        )

    known = np.isfinite(utilization)
    drawn = np.isfinite(power)
    times = [s.time for s in samples if s.time is not None]
    return GpuFigures(
        gpu,
        host,
        False,
        len(samples),
        float(utilization[known].sum()),
        float(known.sum()),
        float(power[drawn].sum()),
        float(drawn.sum()),
        fit_points,
        min(times) if times else None,
        max(times) if times else None,
    )


def _flag_missing_gpus(figures: list[GpuFigures], report: SourceReport) -> None:
    """Flag accelerators with clearly fewer samples than the best-covered one."""
    if len(figures) < 2:
        return
    max_samples = max(figure.samples for figure in figures)
    for figure in figures:
        if figure.samples < 0.9 * max_samples:
            report.flag(
                "missing_gpu",
                f"GPU {figure.gpu} has {figure.samples} sample(s) where another has {max_samples}",
                key=f"missing_gpu|{figure.gpu}",
            )


@dataclass(frozen=True)
class PowerFit:
    """Board power at full load and at idle, from a straight line through (U, W)."""

    full_load_w: float
    idle_w: float
    points: int

    @property
    def idle_fraction(self) -> float:
        """Idle power over full-load power, or 0 when full-load power is not positive."""
        return self.idle_w / self.full_load_w if self.full_load_w > 0 else 0.0


def fit_power(points: list[tuple[float, float]]) -> PowerFit | None:
    """Fit power = idle + (full - idle) x utilization by least squares.

    Returns None unless the utilization readings span at least ``MIN_FIT_SPREAD``
    and the fitted line rises with load. Idle power is floored at 0.
    """
    if len(points) < 2:
        return None
    u = np.array([p[0] for p in points])
    w = np.array([p[1] for p in points])
    if u.max() - u.min() < MIN_FIT_SPREAD:
        return None
    slope, intercept = np.polyfit(u, w, 1)
    if slope <= 0:
        return None
    idle = max(float(intercept), 0.0)
    return PowerFit(
        full_load_w=float(intercept + slope), idle_w=idle, points=len(points)
    )


def _mean_fit(fits: list[PowerFit | None]) -> PowerFit | None:
    """Average per-accelerator fits weighted by their readings, or None if none fitted."""
    fitted = [fit for fit in fits if fit is not None]
    if not fitted:
        return None
    points = sum(fit.points for fit in fitted)
    return PowerFit(
        full_load_w=sum(fit.full_load_w * fit.points for fit in fitted) / points,
        idle_w=sum(fit.idle_w * fit.points for fit in fitted) / points,
        points=points,
    )


@dataclass(frozen=True)
class TelemetrySummary:
    """Utilization and energy over every telemetry source that had readings."""

    accelerators: tuple[str, ...]
    timed: bool
    busy_seconds: float
    utilization_seconds: float
    energy_joules: float
    energy_seconds: float
    fit: PowerFit | None
    sources: tuple[str, ...]

    @property
    def utilization(self) -> float | None:
        """Busy over observed accelerator-seconds, or None when nothing was observed."""
        if self.utilization_seconds <= 0:
            return None
        return self.busy_seconds / self.utilization_seconds

    @property
    def mean_power_w(self) -> float | None:
        """Time-weighted mean board power of one accelerator."""
        if self.energy_seconds <= 0:
            return None
        return self.energy_joules / self.energy_seconds

    @property
    def it_kwh(self) -> float | None:
        """IT energy observed over the covered time, or None for point readings."""
        return self.energy_joules / 3.6e6 if self.timed else None

    @property
    def observed_hours(self) -> float | None:
        """Accelerator-hours covered by power or energy readings, or None for point readings."""
        return self.energy_seconds / 3600.0 if self.timed else None


def summarize_telemetry(results: list[TelemetryResult]) -> TelemetrySummary | None:
    """Combine telemetry sources, preferring timed sources over untimed point readings."""
    figures = [(result, figure) for result in results for figure in result.gpus]
    if not figures:
        return None
    timed = [pair for pair in figures if pair[1].timed]
    chosen = timed or figures
    for result, figure in figures:
        if timed and not figure.timed:
            result.report.flag(
                "not_selected",
                "point readings not used: timed telemetry from another source was available",
                key="not_selected",
            )
    # Each accelerator is fitted on its own readings (pooled across the chosen sources
    # that report it), so an idle reading of one board never pairs with a load reading
    # of another.
    points: dict[str, list[tuple[float, float]]] = {}
    for _, figure in chosen:
        points.setdefault(figure.gpu, []).extend(figure.fit_points)
    return TelemetrySummary(
        accelerators=tuple(sorted({figure.gpu for _, figure in chosen})),
        timed=bool(timed),
        busy_seconds=sum(figure.busy_seconds for _, figure in chosen),
        utilization_seconds=sum(figure.utilization_seconds for _, figure in chosen),
        energy_joules=sum(figure.energy_joules for _, figure in chosen),
        energy_seconds=sum(figure.energy_seconds for _, figure in chosen),
        fit=_mean_fit([fit_power(gpu_points) for gpu_points in points.values()]),
        sources=tuple(dict.fromkeys(result.report.file for result, _ in chosen)),
    )
