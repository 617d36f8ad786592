"""Reader for OpenAI-style usage records, as JSON, JSON Lines, SSE or recorded cassettes.

It reads these shapes, each taken from real servers and clients:

- a Chat Completions response: ``usage.prompt_tokens`` and ``usage.completion_tokens``;
- a Responses API response: ``usage.input_tokens`` and ``usage.output_tokens``, also
  wrapped in a ``response.completed`` stream event;
- a stream of ``chat.completion.chunk`` objects (a JSON array, JSON Lines, or
  ``data:`` lines of server-sent events): usage arrives only in the last chunk
  (``choices: []``), and only when the request set
  ``stream_options.include_usage``. A stream without it has no usage and is rejected;
- a Hugging Face TGI ``/generate`` response: ``details.generated_tokens``;
- a VCR cassette (YAML with ``interactions``), as HTTP client test suites record them:
  each response body is one of the above, and the request body supplies the model
  and the consumer when the response lacks them.

A JSON Lines record may also wrap the response in ``response`` next to its own fields
(for example a gateway log with a timestamp and a team). The business unit is the
value at ``ReadOptions.consumer_field`` (a dotted path such as ``metadata.team``),
looked up in the record, its wrapper, then the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import yaml

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.inputs import IgnoredLines, first_nonblank, open_input
from tokenbom_xl.metering.json_text import (
    MAX_NESTING_DEPTH,
    InvalidJson,
    decode_json,
    parse_json_text,
)
from tokenbom_xl.metering.options import UNASSIGNED, ReadOptions
from tokenbom_xl.metering.report import SourceReport
from tokenbom_xl.metering.times import parse_epoch, parse_timestamp
from tokenbom_xl.metering.tokens import MAX_TOKEN_COUNT, ServingResult, TokenCounts

__all__ = ["FORMAT", "looks_like_usage_document", "read_openai_usage"]

FORMAT = "OpenAI-style usage"

_FAILED_STATUSES = frozenset({"failed", "incomplete", "cancelled"})

# Lines of JSON Lines and server-sent events that contain no record.
_NO_RECORD = IgnoredLines(prefixes=(b":", b"event:", b"id:", b"retry:"))


@dataclass
class _Context:
    """Line, request, wrapper and fallback time of one record."""

    line: int | None
    request: dict[str, Any]
    wrapper: dict[str, Any]
    time: float | None = None


def looks_like_usage_document(document: Any) -> bool:
    """Return whether a parsed JSON document contains OpenAI-style usage or TGI details."""
    items = document if isinstance(document, list) else [document]
    return any(
        isinstance(item, dict)
        and (
            "usage" in item
            or "details" in item
            or item.get("object") == "chat.completion.chunk"
            or "response" in item
        )
        for item in items[:50]
    )


class _CassetteLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects aliases and deep nesting, which cassettes never use.

    Aliases let a small file describe an exponentially large structure (the
    'billion laughs' attack), so they are rejected outright. PyYAML composes nested
    collections recursively, so nesting is limited as for JSON.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases are not accepted", event.start_mark
            )
        if not self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_NESTING_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"YAML nested more than {MAX_NESTING_DEPTH} levels deep",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Reader:
    """Reading state of one usage file: report, token counts, seen ids and streams."""

    def __init__(self, path: str, options: ReadOptions) -> None:
        self.options = options
        self.report = SourceReport("serving", FORMAT, path)
        self.counts = TokenCounts(path)
        self.seen_ids: dict[str, int | None] = {}
        self.streams: dict[str, list[tuple[dict[str, Any], _Context]]] = {}

    # Entry points per container format -------------------------------------------

    def read_document(self, document: Any, context: _Context) -> None:
        items = document if isinstance(document, list) else [document]
        for item in items:
            self.read_record(item, context)

    def read_lines(self, lines: Iterable[tuple[int, str]]) -> None:
        for number, line in lines:
            text = line.strip()
            if not text or text.startswith((":", "event:", "id:", "retry:")):
                continue
            if text.startswith("data:"):
                text = text[5:].strip()
                if text == "[DONE]":
                    continue
            try:
                record = decode_json(text)
            except InvalidJson as exc:
                self.report.rows_read += 1
                self.report.reject(number, f"invalid JSON ({exc.reason})")
                continue
            self.read_record(record, _Context(number, {}, {}))

    def read_cassette(self, text: str) -> None:
        try:
            cassette = yaml.load(text, Loader=_CassetteLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise InputError(
                f"{self.report.file}: {where}invalid YAML cassette ({problem}); record it again"
            ) from None
        except ValueError as exc:
            # PyYAML's constructors raise ValueError for values such as 2024-02-30 or
            # an integer of more than 4,300 digits.
            raise InputError(
                f"{self.report.file}: invalid YAML cassette (a value cannot be read: {str(exc)[:200]}); "
                "record it again"
            ) from None
        interactions = (
            cassette.get("interactions") if isinstance(cassette, dict) else None
        )
        if not isinstance(interactions, list):
            raise InputError(
                f"{self.report.file}: a cassette needs an 'interactions' list"
            )
        for interaction in interactions:
            self._read_interaction(interaction)

    def _read_interaction(self, interaction: Any) -> None:
        request = _dig(interaction, "request") or {}
        response = _dig(interaction, "response") or {}
        request_body = _parse_json_object(_dig(request, "body"))
        body = _dig(response, "body", "string")
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        date = _response_header(response, "date")
        context = _Context(None, request_body, {}, _http_date(date))
        if not isinstance(body, str) or not body.strip():
            self.report.rows_read += 1
            self.report.reject(None, "cassette interaction without a response body")
            return
        text = body.strip()
        if text.startswith("data:") or "\ndata:" in text:
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("data:") and line[5:].strip() != "[DONE]":
                    parsed = _parse_json_object(line[5:].strip())
                    self.read_record(parsed if parsed else line, context)
        else:
            parsed = _parse_json_object(text)
            self.read_record(parsed if parsed else text, context)

    # One record -----------------------------------------------------------------

    def read_record(self, record: Any, context: _Context) -> None:
        self.report.rows_read += 1
        if not isinstance(record, dict):
            self.report.reject(context.line, "not a JSON object")
            return
        if record.get("type") == "response.completed" and isinstance(
            record.get("response"), dict
        ):
            record = record["response"]
        elif "usage" not in record and isinstance(record.get("response"), dict):
            context = _Context(context.line, context.request, record, context.time)
            record = record["response"]
        if record.get("object") == "chat.completion.chunk":
            self.streams.setdefault(str(record.get("id", "")), []).append(
                (record, context)
            )
            return
        if (
            isinstance(record.get("details"), dict)
            and "generated_tokens" in record["details"]
        ):
            self._count_tgi_generate(record, context)
            return
        if not isinstance(record.get("usage"), dict):
            self.report.reject(context.line, "no usage object")
            return
        self._count_usage(record, record["usage"], context)

    def finish_streams(self) -> None:
        """Count each chunk stream once, from the chunk that carries its usage."""
        for stream_id, chunks in self.streams.items():
            with_usage = [
                (chunk, context)
                for chunk, context in chunks
                if isinstance(chunk.get("usage"), dict)
            ]
            if not with_usage:
                for _, context in chunks:
                    self.report.reject(
                        context.line,
                        "stream without usage (request it with stream_options.include_usage)",
                    )
                continue
            if len(with_usage) > 1:
                self.report.flag(
                    "inconsistent",
                    f"stream {stream_id!r} carries usage in {len(with_usage)} chunks; the last was used",
                    key="multi_usage",
                )
            chunk, context = with_usage[-1]
            outside_before = self.report.rows_outside_period
            if self._count_usage(chunk, chunk["usage"], context, rows=len(chunks)):
                continue
            if self.report.rows_outside_period > outside_before:
                # Every chunk was counted as outside the period with the usage chunk.
                continue
            # The usage chunk was rejected, so the stream's other chunks are too.
            for other_chunk, other in chunks:
                if other_chunk is not chunk:
                    self.report.reject(
                        other.line, "chunk of a stream whose usage was rejected"
                    )

    def _count_tgi_generate(self, record: dict[str, Any], context: _Context) -> None:
        details = record["details"]
        output = details.get("generated_tokens")
        prefill = details.get("prefill")
        usage = {
            "output_tokens": output,
            "input_tokens": len(prefill) if isinstance(prefill, list) else 0,
        }
        self._count_usage(record, usage, context)

    def _count_usage(
        self,
        record: dict[str, Any],
        usage: dict[str, Any],
        context: _Context,
        rows: int = 1,
    ) -> bool:
        """Count one record's usage and return whether it was counted.

        ``rows`` is the number of rows that the record represents, such as the
        chunks of a stream. A rejected record is named on the report.
        """
        report = self.report
        output = _first_present(usage, "completion_tokens", "output_tokens")
        prompt = _first_present(usage, "prompt_tokens", "input_tokens")
        for name, value in (("output tokens", output), ("input tokens", prompt)):
            if value is not None and not _is_token_count(value):
                report.reject(
                    context.line,
                    f"usage {name} {value!r} is not a whole number from 0 to 2^53",
                )
                return False
        if output is None:
            report.reject(
                context.line, "usage has no completion_tokens or output_tokens"
            )
            return False

        total = usage.get("total_tokens")
        if _is_token_count(total) and total != output + (prompt or 0):
            report.flag(
                "inconsistent",
                "total_tokens differs from input plus output tokens",
                line=context.line,
                key="total",
            )

        record_id = str(record.get("id") or "")
        if record_id:
            if record_id in self.seen_ids:
                report.reject(context.line, "duplicate record id")
                report.flag(
                    "duplicate_record",
                    f"id {record_id} appears more than once",
                    line=context.line,
                    key="duplicate_id",
                )
                return False
            self.seen_ids[record_id] = context.line

        time = (
            _record_time(record, self.options)
            or _record_time(context.wrapper, self.options)
            or context.time
        )
        if not self.options.in_period(report, time, context.line, rows):
            return False

        model = (
            record.get("model")
            or context.wrapper.get("model")
            or context.request.get("model")
        )
        if not model:
            report.flag(
                "missing_field",
                "no model name: counted under 'unknown'",
                key="no_model",
            )
            model = "unknown"
        if str(record.get("status", "")).lower() in _FAILED_STATUSES:
            report.flag(
                "failed_requests",
                "responses with status failed, incomplete or cancelled",
                line=context.line,
                key="failed",
            )

        business_unit = self._business_unit(record, context)
        self.counts.add(
            business_unit,
            self.options.model_name(str(model)),
            int(output),
            int(prompt or 0),
        )
        report.rows_used += rows
        return True

    def _business_unit(self, record: dict[str, Any], context: _Context) -> str:
        path = self.options.consumer_field
        if path:
            for source in (record, context.wrapper, context.request):
                value = _dig(source, *path.split("."))
                if (
                    isinstance(value, (str, int))
                    and not isinstance(value, bool)
                    and str(value).strip()
                ):
                    return str(value).strip()
        self.report.flag(
            "unattributed",
            "records without a consumer counted under 'unassigned'",
            key="unattributed",
        )
        return UNASSIGNED


def read_openai_usage(path: str, options: ReadOptions) -> ServingResult:
    """Read OpenAI-style usage records from JSON, JSON Lines, SSE or a YAML cassette.

    Raises:
        InputError: the file cannot be read, or is a JSON or YAML document with a
            syntax error (the message names the line).
    """
    reader = _Reader(path, options)
    with open_input(path, options.limits) as source:
        # Only blank lines come before the first record, so runs of them are skipped.
        number, head = first_nonblank(source.lines(IgnoredLines()))
        if head.strip().startswith(("data:", "event:", ":")) or _is_json_line(
            head.strip()
        ):
            reader.read_lines([(number, head)])
            reader.read_lines(source.lines(_NO_RECORD, after=number))
        elif head:
            # Blank lines replace the ones skipped before the head, so that syntax
            # errors name the lines of the file.
            text = "\n" * max(number - 1, 0) + head + "\n" + source.read_text()
            if head.strip().startswith(("[", "{")):
                document = parse_json_text(text, path)
                reader.read_document(document, _Context(None, {}, {}))
            else:
                reader.read_cassette(text)
    reader.finish_streams()
    return ServingResult(reader.report, reader.counts)


def _is_json_line(text: str) -> bool:
    """Return whether one line is a complete JSON object (so the file is JSON Lines)."""
    if not text.startswith("{"):
        return False
    try:
        decode_json(text)
    except InvalidJson:
        return False
    return True


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _first_present(usage: dict[str, Any], *names: str) -> Any:
    for name in names:
        if usage.get(name) is not None:
            return usage[name]
    return None


def _is_token_count(value: Any) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and 0 <= value <= MAX_TOKEN_COUNT
    )


def _parse_json_object(value: Any) -> dict[str, Any]:
    """Return ``value`` as a JSON object, parsing it from text, or {} otherwise."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            parsed = decode_json(value)
        except InvalidJson:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _response_header(response: Any, name: str) -> str | None:
    headers = _dig(response, "headers")
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value[0] if isinstance(value, list) and value else value)
    return None


def _http_date(text: str | None) -> float | None:
    """Parse an HTTP Date header into epoch seconds, or return None if unreadable.

    HTTP dates are in UTC (RFC 9110, section 5.6.7). Python returns a naive
    datetime for the zone "-0000" or no zone, so that is read as UTC too.
    """
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _record_time(record: dict[str, Any], options: ReadOptions) -> float | None:
    for key in ("created", "created_at", "timestamp", "time"):
        value = record.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return parse_epoch(value)
        if isinstance(value, str):
            parsed = parse_timestamp(value, options.naive_zone)
            if parsed is not None:
                return parsed[0]
    return None
