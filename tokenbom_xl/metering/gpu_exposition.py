"""Reader for accelerator metrics in Prometheus text exposition.

It reads the metrics of two exporters:

- the DCGM exporter: ``DCGM_FI_DEV_GPU_UTIL`` (%), ``DCGM_FI_DEV_POWER_USAGE`` (W) and
  ``DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION`` (mJ since boot, a counter that resets on
  a driver reload), labelled ``gpu``, ``UUID`` and ``Hostname``;
- nvidia_gpu_exporter: ``nvidia_smi_utilization_gpu_ratio`` (0 to 1) and
  ``nvidia_smi_power_draw_watts``, labelled ``uuid``.

A single scrape has no timestamps, so it gives point readings. Several scrapes in one
file (each sample with its millisecond timestamp, as ``promtool tsdb dump`` or a
federation scrape writes them) give time series. Every other metric is skipped.
"""

from __future__ import annotations

from tokenbom_xl.metering.inputs import open_input
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.prometheus import iter_exposition
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.metering.telemetry import GpuSamples, TelemetryResult, summarize_gpus

__all__ = ["FORMAT", "GPU_METRICS", "gpu_identity", "read_gpu_exposition"]

FORMAT = "Prometheus exposition (GPU)"

# Metric name (without a _total suffix) -> the GpuSamples.add keyword it fills.
GPU_METRICS: dict[str, str] = {
    "DCGM_FI_DEV_GPU_UTIL": "utilization_percent",
    "DCGM_FI_DEV_POWER_USAGE": "power_w",
    "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": "energy_mj",
    "nvidia_smi_utilization_gpu_ratio": "utilization",
    "nvidia_smi_power_draw_watts": "power_w",
}

_GPU_LABELS = ("UUID", "uuid", "gpu_uuid", "pci_bus_id", "gpu", "minor_number")
_HOST_LABELS = ("Hostname", "hostname", "instance", "node", "kubernetes_node")


def gpu_identity(labels: dict[str, str]) -> tuple[str | None, str]:
    """Return (accelerator id, host) from a series' labels, with an id of None if absent."""
    host = next((labels[name] for name in _HOST_LABELS if labels.get(name)), "")
    for name in _GPU_LABELS:
        value = labels.get(name)
        if value:
            gpu = value.removeprefix("GPU-")
            # A bare index such as gpu="0" is only unique within one host.
            if name in ("gpu", "minor_number") and host:
                gpu = f"{host}/{gpu}"
            return gpu, host
    return None, host


def read_gpu_exposition(path: str, options: ReadOptions) -> TelemetryResult:
    """Read one exposition file of DCGM or nvidia_gpu_exporter metrics.

    Raises:
        InputError: the file cannot be read or is not valid exposition.
    """
    report = SourceReport("telemetry", FORMAT, path)
    samples = GpuSamples(report, options)
    skipped = 0
    with open_input(path, options.limits) as source:
        for sample in iter_exposition(source):
            reading = GPU_METRICS.get(sample.name.removesuffix("_total"))
            if reading is None:
                skipped += 1
                continue
            report.rows_read += 1
            gpu, host = gpu_identity(sample.labels)
            if gpu is None:
                report.reject(
                    sample.line,
                    f"{sample.name} has no GPU label ({', '.join(_GPU_LABELS)})",
                )
                continue
            if samples.add(
                gpu, sample.timestamp, sample.line, host=host, **{reading: sample.value}
            ):
                report.rows_used += 1
    report.notes.append(f"{skipped} samples of other metrics skipped")
    return summarize_gpus(samples)
