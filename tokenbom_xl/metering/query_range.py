"""Reader for Prometheus HTTP API ``query_range`` (and instant ``query``) JSON.

The response is ``{"status": "success", "data": {"resultType": "matrix", "result":
[{"metric": {...labels}, "values": [[epoch, "value"], ...]}]}}``. Values are strings
and may be ``"NaN"`` or ``"+Inf"``. Missing steps are absent because Prometheus
does not fill gaps, and the reader reports them as gaps. Each series is matched by its
``__name__`` label to the same metrics as the exposition reader, so the query must
select a metric (``DCGM_FI_DEV_GPU_UTIL``), not an expression that drops the name.
"""

from __future__ import annotations

import math
from typing import Any

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.gpu_exposition import GPU_METRICS, gpu_identity
from tokenbom_xl.metering.inputs import open_input
from tokenbom_xl.metering.json_text import parse_json_text
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.metering.telemetry import GpuSamples, TelemetryResult, summarize_gpus

__all__ = ["FORMAT", "looks_like_query_range", "read_query_range"]

FORMAT = "Prometheus query_range JSON"


def looks_like_query_range(document: Any) -> bool:
    """Return whether a parsed JSON document is a Prometheus API query response."""
    return (
        isinstance(document, dict)
        and isinstance(document.get("data"), dict)
        and "resultType" in document["data"]
    )


def read_query_range(path: str, options: ReadOptions) -> TelemetryResult:
    """Read one query_range or query response into per-accelerator figures.

    Raises:
        InputError: the file is not a successful Prometheus API response.
    """
    report = SourceReport("telemetry", FORMAT, path)
    samples = GpuSamples(report, options)
    with open_input(path, options.limits) as source:
        document = parse_json_text(source.read_text(), path)
    if not looks_like_query_range(document):
        raise InputError(
            f"{path}: not a Prometheus API response (no data.resultType); save the JSON of /api/v1/query_range"
        )
    if document.get("status") != "success":
        raise InputError(
            f"{path}: the Prometheus response has status {document.get('status')!r}: {document.get('error', '')}"
        )
    kind = document["data"]["resultType"]
    if kind not in ("matrix", "vector"):
        raise InputError(
            f"{path}: resultType {kind!r} contains no series; query a metric over a range"
        )
    results = document["data"].get("result") or []
    for index, series in enumerate(results, start=1):
        _read_series(samples, series, index, kind)
    return summarize_gpus(samples)


def _read_series(samples: GpuSamples, series: Any, index: int, kind: str) -> None:
    """Add the points of series number ``index`` to ``samples``, one row per point.

    JSON has no useful line numbers, so rejections name the series instead.
    """
    report = samples.report
    labels = series.get("metric", {}) if isinstance(series, dict) else {}
    points = None
    if isinstance(series, dict):
        points = series.get("values") if kind == "matrix" else series.get("value")
    if kind == "vector" and points is not None:
        points = [points]
    if not isinstance(points, list):
        report.rows_read += 1
        report.reject(None, f"series {index} has no values list")
        return
    name = str(labels.get("__name__", ""))
    reading = GPU_METRICS.get(name.removesuffix("_total"))
    gpu, host = gpu_identity({str(k): str(v) for k, v in labels.items()})
    for point in points:
        report.rows_read += 1
        if reading is None:
            shown = name or "no __name__ label (query a bare metric, not an expression)"
            report.reject(
                None,
                f"series {index}: metric {shown} is not a GPU utilization, power or energy metric",
            )
            continue
        if gpu is None:
            report.reject(None, f"series {index}: no GPU label")
            continue
        parsed = _parse_point(point)
        if parsed is None:
            report.reject(
                None, f'series {index}: point {point!r} is not [epoch, "value"]'
            )
            continue
        time, value = parsed
        if math.isnan(value):
            report.reject(None, f"series {index}: value NaN")
            continue
        if samples.add(gpu, time, 0, host=host, **{reading: value}):
            report.rows_used += 1


def _parse_point(point: Any) -> tuple[float, float] | None:
    """Return (epoch seconds, value) from ``[epoch, "value"]``, or None if invalid."""
    if not isinstance(point, list) or len(point) != 2:
        return None
    stamp, text = point
    if (
        not isinstance(stamp, (int, float))
        or isinstance(stamp, bool)
        or not isinstance(text, str)
    ):
        return None
    try:
        return float(stamp), float(text)
    except (ValueError, OverflowError):
        # OverflowError: an integer timestamp too large for a float.
        return None
