"""Input format names by kind of source, as a path's ``FORMAT:`` prefix gives them.

This module is separate from the readers, so the command line can list the
formats without importing the readers' libraries.
"""

from __future__ import annotations

__all__ = ["FORMATS"]

FORMATS: dict[str, tuple[str, ...]] = {
    "telemetry": ("nvidia-smi", "prometheus", "query-range"),
    "facility": ("facility-series", "pue-table"),
    "serving": ("vllm", "openai", "otlp", "serving-log"),
    "eval": ("inspect",),
    "ledger": ("gl",),
}
