"""Reader for OpenTelemetry GenAI spans in OTLP/JSON.

The file is an OTLP ``ExportTraceServiceRequest`` as JSON (``resourceSpans`` ->
``scopeSpans`` -> ``spans``), or JSON Lines of them as the collector's file exporter
writes. Usage follows the GenAI semantic conventions (1.41, status Development):
``gen_ai.usage.output_tokens`` and ``gen_ai.usage.input_tokens``, with the model in
``gen_ai.response.model`` or ``gen_ai.request.model``. OTLP/JSON writes 64-bit
integers as strings (``{"intValue": "42"}``), and some exporters put numbers in
``stringValue``. Both are read as whole numbers.

Agent and workflow spans often carry the sum of their children's usage. A span is
counted only when no span below it carries usage, so each token is counted once. A
skipped parent is reported, and flagged when its total differs from its children's.
The business unit is the span or resource attribute named by
``ReadOptions.consumer_attribute``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.inputs import IgnoredLines, first_nonblank, open_input
from tokenbom_xl.metering.json_text import InvalidJson, decode_json, parse_json_text
from tokenbom_xl.metering.options import UNASSIGNED, ReadOptions
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.metering.times import parse_epoch
from tokenbom_xl.metering.tokens import MAX_TOKEN_COUNT, ServingResult, TokenCounts

__all__ = ["FORMAT", "looks_like_otlp", "read_otlp"]

FORMAT = "OTLP/JSON GenAI spans"

OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
INPUT_TOKENS = "gen_ai.usage.input_tokens"


def looks_like_otlp(head: str) -> bool:
    """Return whether the opening text of a file names OTLP ``resourceSpans``."""
    return '"resourceSpans"' in head


SpanKey = tuple[str, str]  # (trace id, span id)


@dataclass
class _Span:
    """Span that carries usage, with its merged attributes and token counts."""

    key: SpanKey
    line: int | None
    attributes: dict[str, Any]
    time: float | None
    output: int
    input: int


@dataclass
class _Spans:
    """Every span's parent, and the spans that carry usage."""

    parents: dict[SpanKey, SpanKey] = field(default_factory=dict)
    usage: dict[SpanKey, _Span] = field(default_factory=dict)


def read_otlp(path: str, options: ReadOptions) -> ServingResult:
    """Read GenAI token usage from OTLP/JSON spans, counting nested usage once.

    Raises:
        InputError: the file cannot be read or is not OTLP/JSON.
    """
    report = SourceReport("serving", FORMAT, path)
    spans = _Spans()
    with open_input(path, options.limits) as source:
        lines = source.lines(IgnoredLines())
        head_number, head = first_nonblank(lines)
        if head.strip().startswith("{") and _is_complete_json(head):
            # JSON Lines, one export request per line, as the collector's file exporter writes.
            for number, line in itertools.chain([(head_number, head)], lines):
                if line.strip():
                    _collect_spans(
                        parse_json_text(line, f"{path}: line {number}"),
                        number,
                        spans,
                        report,
                    )
        else:
            # Blank lines replace the ones skipped before the head, so that syntax
            # errors name the lines of the file.
            text = "\n" * max(head_number - 1, 0) + head + "\n" + source.read_text()
            _collect_spans(parse_json_text(text, path), None, spans, report)
    counts = _count_spans(spans, report, options)
    return ServingResult(report, counts)


def _is_complete_json(text: str) -> bool:
    try:
        decode_json(text)
    except InvalidJson:
        return False
    return True


def _collect_spans(
    document: Any, line: int | None, spans: _Spans, report: SourceReport
) -> None:
    """Add the spans of one export request to ``spans``."""
    if not isinstance(document, dict) or not isinstance(
        document.get("resourceSpans"), list
    ):
        raise InputError(
            f"{report.file}{f': line {line}' if line else ''}: not OTLP/JSON (no resourceSpans list)"
        )
    for resource_spans in document["resourceSpans"]:
        resource = _attribute_map(_get(resource_spans, "resource", "attributes"))
        for scope_spans in _get(resource_spans, "scopeSpans") or []:
            for span in _get(scope_spans, "spans") or []:
                if isinstance(span, dict):
                    _add_span(span, resource, line, spans, report)


def _add_span(
    span: dict[str, Any],
    resource: dict[str, Any],
    line: int | None,
    spans: _Spans,
    report: SourceReport,
) -> None:
    trace = str(span.get("traceId", ""))
    key = (trace, str(span.get("spanId", "")))
    parent_id = str(span.get("parentSpanId") or "")
    if parent_id:
        spans.parents[key] = (trace, parent_id)

    attributes = {**resource, **_attribute_map(span.get("attributes"))}
    if OUTPUT_TOKENS not in attributes and INPUT_TOKENS not in attributes:
        return
    report.rows_read += 1
    output = _token_count(attributes.get(OUTPUT_TOKENS))
    prompt = _token_count(attributes.get(INPUT_TOKENS, 0))
    if output is None or prompt is None:
        shown = (
            attributes.get(OUTPUT_TOKENS)
            if output is None
            else attributes.get(INPUT_TOKENS)
        )
        report.reject(
            line, f"token count {shown!r} is not a whole number from 0 to 2^53"
        )
        return

    if key in spans.usage:
        report.reject(line, "duplicate span id")
        report.flag(
            "duplicate_record",
            f"span {key[1]} appears more than once",
            line=line,
            key="duplicate_span",
        )
        return
    spans.usage[key] = _Span(
        key,
        line,
        attributes,
        _epoch_from_nanos(span.get("startTimeUnixNano")),
        output,
        prompt,
    )


def _parents_of_usage(spans: _Spans) -> set[SpanKey]:
    """Return every span with a usage span anywhere below it, in linear time.

    Each walk up the parent links stops at a span already found, whose ancestors
    were found with it, so every span is visited about once however long the
    chains are. A span whose parent links loop back to it counts as its own
    ancestor.
    """
    found: set[SpanKey] = set()
    for key in spans.usage:
        node = spans.parents.get(key)
        while node is not None and node not in found:
            found.add(node)
            node = spans.parents.get(node)
    return found


def _nearest_usage_parents(spans: _Spans) -> dict[SpanKey, SpanKey]:
    """Return, for each usage span, the nearest usage span above it, if any.

    Spans without usage in between are remembered once resolved, so long chains
    are walked once.
    """
    resolved: dict[SpanKey, SpanKey | None] = {}
    nearest: dict[SpanKey, SpanKey] = {}
    for key in spans.usage:
        path: list[SpanKey] = []
        node = spans.parents.get(key)
        nearest_parent: SpanKey | None = None
        while node is not None:
            if node in spans.usage:
                nearest_parent = node
                break
            if node in resolved:
                nearest_parent = resolved[node]
                break
            if node in path:  # a loop of spans without usage
                break
            path.append(node)
            node = spans.parents.get(node)
        for step in path:
            resolved[step] = nearest_parent
        if nearest_parent is not None and nearest_parent != key:
            nearest[key] = nearest_parent
    return nearest


def _usage_below(spans: _Spans, parents: set[SpanKey]) -> dict[SpanKey, int]:
    """Return, for each usage parent, the output tokens of the counted spans below it."""
    nearest = _nearest_usage_parents(spans)
    children: dict[SpanKey, list[SpanKey]] = {}
    for key, parent in nearest.items():
        children.setdefault(parent, []).append(key)
    totals: dict[SpanKey, int] = {}
    in_progress: set[SpanKey] = set()
    # An iterative post-order walk from each usage parent, so deep trees need no
    # recursion. A span met again while in progress closes a loop and adds nothing.
    for root in (key for key in spans.usage if key in parents):
        stack: list[tuple[SpanKey, bool]] = [(root, False)]
        while stack:
            key, expanded = stack.pop()
            if key in totals:
                continue
            if expanded:
                in_progress.discard(key)
                totals[key] = sum(
                    totals.get(child, 0)
                    if child in parents
                    else spans.usage[child].output
                    for child in children.get(key, [])
                )
                continue
            if key in in_progress:
                continue
            in_progress.add(key)
            stack.append((key, True))
            for child in children.get(key, []):
                if child in parents and child not in totals:
                    stack.append((child, False))
    return totals


def _count_spans(
    spans: _Spans, report: SourceReport, options: ReadOptions
) -> TokenCounts:
    # A usage span with another usage span anywhere below it, even through spans
    # without usage, is a parent that repeats usage. Only the others are counted.
    has_usage_below = _parents_of_usage(spans)
    counted_below = _usage_below(spans, has_usage_below)

    counts = TokenCounts(report.file)
    for key, span in spans.usage.items():
        if key in has_usage_below:
            report.reject(
                span.line,
                "parent span repeats its children's usage (counted once, in the children)",
            )
            report.flag(
                "double_count",
                "parent spans that repeat their children's usage were not counted",
                key="double_count",
            )
            below = counted_below.get(key, 0)
            if below != span.output:
                report.flag(
                    "inconsistent",
                    f"span {key[1]} reports {span.output} output tokens, the spans below it {below}",
                    line=span.line,
                    key=f"parent|{key}",
                )
            continue
        if not options.in_period(report, span.time, span.line):
            continue
        model = span.attributes.get("gen_ai.response.model") or span.attributes.get(
            "gen_ai.request.model"
        )
        if not model:
            report.flag(
                "missing_field",
                "no gen_ai model attribute: counted under 'unknown'",
                key="no_model",
            )
            model = "unknown"
        consumer = (
            span.attributes.get(options.consumer_attribute)
            if options.consumer_attribute
            else None
        )
        if consumer in (None, ""):
            report.flag(
                "unattributed",
                "spans without a consumer attribute counted under 'unassigned'",
                key="unattributed",
            )
            consumer = UNASSIGNED
        counts.add(
            str(consumer), options.model_name(str(model)), span.output, span.input
        )
        report.rows_used += 1
    return counts


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _attribute_map(items: Any) -> dict[str, Any]:
    """Return OTLP key-value attributes as a dict of plain values."""
    result: dict[str, Any] = {}
    if not isinstance(items, list):
        return result
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            result[item["key"]] = _unwrap_any_value(item.get("value"))
    return result


def _unwrap_any_value(value: Any) -> Any:
    """Return the scalar inside an OTLP AnyValue, or None for arrays, maps and bytes."""
    if not isinstance(value, dict):
        return value
    for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
        if kind in value:
            return value[kind]
    return None


def _token_count(value: Any) -> int | None:
    """Return a token count from an int, an integral float or a digit string, else None.

    Counts above ``MAX_TOKEN_COUNT`` are None too.
    """
    number = _non_negative_integer(value)
    return number if number is not None and number <= MAX_TOKEN_COUNT else None


def _non_negative_integer(value: Any) -> int | None:
    """Return a whole number >= 0 from an int, an integral float or ASCII digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if isinstance(value, str):
        text = value.strip()
        # 20 digits are enough for any uint64, and int() rejects more than 4,300.
        if text.isascii() and text.isdigit() and len(text) <= 20:
            return int(text)
    return None


def _epoch_from_nanos(value: Any) -> float | None:
    """Return epoch seconds from startTimeUnixNano, or None when unset or invalid."""
    number = _non_negative_integer(value)
    return parse_epoch(number) if number else None
