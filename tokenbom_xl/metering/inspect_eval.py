"""Reader for Inspect AI evaluation logs: yield by model.

An Inspect log contains the evaluated model (``eval.model``, such as
``openai/gpt-4o-mini``), the run's ``status`` and one entry per sample and epoch with
its ``scores`` and its token usage (``model_usage`` per model, or ``output.usage``).
Both log formats are read: the ``.json`` log, and the ``.eval`` zip archive
(``header.json`` plus ``samples/*.json``), whose members are decompressed under the
same size limits as any other file.

A sample is good when :class:`~tokenbom_xl.metering.options.GoodTokenRule` accepts
its score. The output tokens of a good sample are good tokens, and those of other
samples are scrapped. Yield is good output tokens over all output tokens of the
scored samples. Samples that ended in an error have no score and are rejected. A
run whose status is not ``success`` is flagged, because its samples may not be
representative.

Model names lose Inspect's provider prefix (``openai/gpt-4o-mini`` becomes
``gpt-4o-mini``), so they match the names that serving engines report.
``--model-map`` renames them further.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.inputs import (
    DecompressionBudget,
    ReadLimits,
    file_magic,
    open_input,
    read_archive_member,
)
from tokenbom_xl.metering.json_text import parse_json_text
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.metering.times import parse_timestamp
from tokenbom_xl.metering.tokens import MAX_TOKEN_COUNT

__all__ = ["FORMAT", "EvalResult", "ModelYield", "read_inspect_log"]

FORMAT = "Inspect eval log"


@dataclass
class ModelYield:
    """Scored samples and their output tokens for one model."""

    samples: int = 0
    good_samples: int = 0
    output_tokens: int = 0
    good_output_tokens: int = 0

    @property
    def yield_rate(self) -> float | None:
        """Good share of output tokens, or of samples if none has output tokens."""
        if self.output_tokens > 0:
            return self.good_output_tokens / self.output_tokens
        if self.samples > 0:
            return self.good_samples / self.samples
        return None


@dataclass
class EvalResult:
    """Yield counts per model from one evaluation log, and its source report."""

    report: SourceReport
    models: dict[str, ModelYield] = field(default_factory=dict)
    # (sample id, epoch, score, good) of every sample counted
    scores: list[tuple[Any, int, Any, bool]] = field(default_factory=list)


def read_inspect_log(path: str, options: ReadOptions) -> EvalResult:
    """Read an Inspect ``.json`` or ``.eval`` log into yield counts per model.

    Raises:
        InputError: the file is not an Inspect log, or is damaged.
    """
    report = SourceReport("eval", FORMAT, path)
    if file_magic(path) == b"PK\x03\x04" and _is_archive(path):
        header, samples = _read_eval_archive(path, options.limits)
    else:
        with open_input(path, options.limits) as source:
            header = parse_json_text(source.read_text(), path)
        if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
            raise InputError(
                f"{path}: not an Inspect eval log (no 'eval' object); give the log written by inspect eval"
            )
        samples = header.get("samples") or []
    result = EvalResult(report)
    _read_header(header, result, options)
    model = _model_name(str(header["eval"].get("model", "unknown")), options)
    seen: set[tuple[str, str]] = set()
    for sample in samples:
        _read_sample(sample, model, header, result, options, seen)
    if not samples:
        report.flag(
            "missing_field",
            "the log contains no samples (written with log_samples off?)",
            key="no_samples",
        )
    return result


def _is_archive(path: str) -> bool:
    """Return whether a zip file is an .eval archive, which contains header.json."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "header.json" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _read_eval_archive(
    path: str, limits: ReadLimits
) -> tuple[dict[str, Any], list[Any]]:
    """Return the header and the samples of an .eval archive, within ``limits``."""
    try:
        budget = DecompressionBudget(path, limits, os.path.getsize(path), "zip")
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            f"{path}: not a readable .eval archive ({exc}); copy the file again"
        ) from None
    with archive:
        names = archive.namelist()
        if "header.json" not in names:
            raise InputError(
                f"{path}: .eval archive without header.json; give a complete Inspect log"
            )
        header = parse_json_text(
            read_archive_member(archive, "header.json", budget).decode(
                "utf-8", "replace"
            ),
            f"{path}: header.json",
        )
        if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
            raise InputError(f"{path}: header.json has no 'eval' object")
        samples = []
        for name in sorted(
            name
            for name in names
            if name.startswith("samples/") and name.endswith(".json")
        ):
            data = read_archive_member(archive, name, budget)
            samples.append(
                parse_json_text(data.decode("utf-8", "replace"), f"{path}: {name}")
            )
    return header, samples


def _read_header(
    header: dict[str, Any], result: EvalResult, options: ReadOptions
) -> None:
    report = result.report
    status = header.get("status")
    if status != "success":
        report.flag(
            "partial",
            f"the eval run's status is {status!r}, not 'success'",
            key="status",
        )
    stats = header.get("stats") if isinstance(header.get("stats"), dict) else {}
    for value in (
        stats.get("started_at"),
        stats.get("completed_at"),
        header["eval"].get("created"),
    ):
        parsed = (
            parse_timestamp(value, options.naive_zone)
            if isinstance(value, str)
            else None
        )
        if parsed is not None:
            report.see_time(parsed[0])


def _model_name(raw: str, options: ReadOptions) -> str:
    """Return the name after --model-map, dropping the provider prefix unless mapped."""
    if raw in options.model_map:
        return options.model_map[raw]
    bare = raw.split("/", 1)[1] if "/" in raw else raw
    return options.model_name(bare)


def _read_sample(
    sample: Any,
    model: str,
    header: dict[str, Any],
    result: EvalResult,
    options: ReadOptions,
    seen: set[tuple[str, str]],
) -> None:
    """Count one sample under ``model``, or reject it with the reason."""
    report = result.report
    report.rows_read += 1
    if not isinstance(sample, dict):
        report.reject(None, "sample is not a JSON object")
        return
    key = (str(sample.get("id")), str(sample.get("epoch", 1)))
    if key in seen:
        report.reject(None, "duplicate sample id and epoch")
        report.flag(
            "duplicate_record",
            f"sample {key[0]} epoch {key[1]} appears more than once",
            key="duplicate_sample",
        )
        return
    seen.add(key)

    if sample.get("error"):
        report.reject(None, "sample ended in an error (no score)")
        return
    score = _sample_score(sample, options)
    if score is None:
        report.reject(None, f"no score from {options.good_rule.scorer or 'any scorer'}")
        return
    good = options.good_rule.is_good(score)
    if good is None:
        report.reject(
            None,
            f"score {score!r} is not a single value; choose the scorer with --scorer",
        )
        return
    tokens = _sample_output_tokens(sample, header)
    if tokens is None:
        report.reject(None, "sample has no output token count")
        return
    # Samples carry no time of their own, so the run's earliest time decides.
    if not options.in_period(report, report.first_time):
        return

    counts = result.models.setdefault(model, ModelYield())
    counts.samples += 1
    counts.output_tokens += tokens
    if good:
        counts.good_samples += 1
        counts.good_output_tokens += tokens
    numeric_epoch = key[1].isascii() and key[1].isdigit() and len(key[1]) <= 9
    epoch = int(key[1]) if numeric_epoch else 1
    result.scores.append((sample.get("id"), epoch, score, good))
    report.rows_used += 1


def _sample_score(sample: dict[str, Any], options: ReadOptions) -> Any:
    """Return the value of the chosen scorer's score, or None when it has none."""
    scores = sample.get("scores")
    if not isinstance(scores, dict) or not scores:
        return None
    name = options.good_rule.scorer or next(iter(scores))
    entry = scores.get(name)
    return entry.get("value") if isinstance(entry, dict) else None


def _sample_output_tokens(sample: dict[str, Any], header: dict[str, Any]) -> int | None:
    """Return the evaluated model's output tokens, or None when absent or invalid."""
    evaluated = header["eval"].get("model")
    usage = sample.get("model_usage")
    if isinstance(usage, dict) and isinstance(usage.get(evaluated), dict):
        value = usage[evaluated].get("output_tokens")
    else:
        output = sample.get("output")
        value = (
            output.get("usage", {}).get("output_tokens")
            if isinstance(output, dict) and isinstance(output.get("usage"), dict)
            else None
        )
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value <= MAX_TOKEN_COUNT else None
    return None
