"""Serving readers: vLLM metrics, OpenAI-style usage records and OTLP/JSON GenAI spans."""

from __future__ import annotations

import json
import time

import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.openai_usage import read_openai_usage
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.otel import read_otlp
from tokenbom_xl.metering.times import parse_period
from tokenbom_xl.metering.vllm import read_vllm_scrapes

QWEN = "Qwen/Qwen2.5-0.5B-Instruct"


def totals(result):
    return {
        key: (t.output_tokens, t.input_tokens, t.requests)
        for key, t in result.counts.totals.items()
    }


# --- vLLM ---------------------------------------------------------------------


def test_vllm_real_scrape(realdata):
    [result] = read_vllm_scrapes(
        [str(realdata / "tokens/vllm-v1_metrics_scrape_qwen2.5-0.5b_kops.prom")],
        ReadOptions(),
    )

    # An idle server: every token counter is 0; the *_created series are not counts.
    assert totals(result) == {("unassigned", QWEN): (0, 0, 0)}
    assert (
        result.report.rows_read == 7
    )  # generation, prompt and 5 request_success series
    assert "single_sample" in {flag.code for flag in result.report.flags.values()}


def scrape(tmp_path, name, rows):
    lines = ["# TYPE vllm:generation_tokens counter"]
    for engine, value, tenant in rows:
        lines.append(
            f'vllm:generation_tokens_total{{engine="{engine}",model_name="m",tenant="{tenant}"}} {value}'
        )
        lines.append(
            f'vllm:generation_tokens_created{{engine="{engine}",model_name="m",tenant="{tenant}"}} 1.79e9'
        )
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_vllm_shards_summed_and_reset(tmp_path):
    first = scrape(tmp_path, "1.prom", [("0", 100, "ads"), ("1", 50, "ads")])
    second = scrape(
        tmp_path, "2.prom", [("0", 160, "ads"), ("1", 20, "ads")]
    )  # engine 1 restarted
    results = read_vllm_scrapes([first, second], ReadOptions(consumer_label="tenant"))

    # Engine 0 made 60; engine 1 restarted and made 20 since: 80 in all.
    assert totals(results[1]) == {("ads", "m"): (80, 0, 0)}
    assert "counter_reset" in {flag.code for flag in results[1].report.flags.values()}


def test_vllm_untimed_samples_among_timed_left_out(tmp_path):
    series = 'vllm:generation_tokens_total{engine="0",model_name="m"}'
    timed = tmp_path / "timed.prom"
    # Timestamps in ms: 100 then 160 tokens a minute apart.
    timed.write_text(
        "# TYPE vllm:generation_tokens counter\n"
        f"{series} 100 1790000000000\n"
        f"{series} 160 1790000060000\n",
        encoding="utf-8",
    )
    untimed = tmp_path / "untimed.prom"
    untimed.write_text(
        f"# TYPE vllm:generation_tokens counter\n{series} 5\n", encoding="utf-8"
    )

    results = read_vllm_scrapes([str(timed), str(untimed)], ReadOptions())

    # Without the untimed sample the increase is 60; placed first it would read
    # as 5 -> 100 -> 160, an increase of 155.
    output = sum(t.output_tokens for r in results for t in r.counts.totals.values())
    assert output == 60
    flags = {flag.code for r in results for flag in r.report.flags.values()}
    assert "inconsistent" in flags


# --- OpenAI-style usage ---------------------------------------------------------


def test_tgi_chat_stream(realdata):
    result = read_openai_usage(
        str(realdata / "tokens/tgi_chat_stream_usage_llama3.1-8b.json"), ReadOptions()
    )

    # Usage only in the fourth, last chunk (choices: []).
    assert totals(result) == {
        ("unassigned", "meta-llama/Llama-3.1-8B-Instruct"): (3, 39, 1)
    }
    assert result.report.rows_read == 4
    assert result.report.rows_used == 4
    assert result.report.first_time == 1741265133.0


def test_tgi_generate_details(realdata):
    result = read_openai_usage(
        str(realdata / "tokens/tgi_generate_details_bloom560m.json"), ReadOptions()
    )

    # details.generated_tokens 10; 11 prefill tokens; the response names no model.
    assert totals(result) == {("unassigned", "unknown"): (10, 11, 1)}
    assert "no_model" in result.report.flags


def test_openai_chat_stream_cassette(realdata):
    result = read_openai_usage(
        str(realdata / "tokens/openai_chat_stream_include_usage_cassette.yaml"),
        ReadOptions(),
    )

    assert totals(result) == {("unassigned", "gpt-4-0613"): (5, 12, 1)}
    assert result.report.rows_read == 8  # eight data: chunks before [DONE]
    assert result.report.first_time == 1731368639.0


def test_openai_responses_cassette(realdata):
    result = read_openai_usage(
        str(realdata / "tokens/openai_responses_usage_cassette.yaml"), ReadOptions()
    )

    assert totals(result) == {("unassigned", "gpt-4o-mini-2024-07-18"): (6, 22, 1)}
    assert result.report.first_time == 1776481264.0  # created_at


def jsonl(tmp_path, records, name="usage.jsonl"):
    path = tmp_path / name
    path.write_text(
        "".join(json.dumps(record) + "\n" for record in records), encoding="utf-8"
    )
    return str(path)


def test_jsonl_consumer_duplicates_and_bad_counts(tmp_path):
    records = [
        {
            "id": "r1",
            "created": 1793700000,
            "model": "m",
            "metadata": {"team": "ads"},
            "usage": {"prompt_tokens": 5, "completion_tokens": 7},
        },
        {
            "id": "r1",
            "created": 1793700000,
            "model": "m",
            "metadata": {"team": "ads"},
            "usage": {"prompt_tokens": 5, "completion_tokens": 7},
        },
        {
            "id": "r2",
            "created": 1793700001,
            "model": "m",
            "usage": {"input_tokens": 1, "output_tokens": "9"},
        },
        {
            "id": "r3",
            "created": 1793700002,
            "model": "m",
            "usage": {"input_tokens": 1, "output_tokens": -2},
        },
        {"id": "r4", "created": 1793700003, "model": "m"},
        {
            "timestamp": "2026-11-03T00:00:00Z",
            "team": "search",
            "response": {
                "id": "r5",
                "model": "m",
                "usage": {"input_tokens": 2, "output_tokens": 3},
            },
        },
    ]
    result = read_openai_usage(
        jsonl(tmp_path, records), ReadOptions(consumer_field="metadata.team")
    )
    report = result.report

    assert totals(result) == {("ads", "m"): (7, 5, 1), ("unassigned", "m"): (3, 2, 1)}
    assert report.rejections["duplicate record id"].lines == [2]
    assert report.rejections[
        "usage output tokens '9' is not a whole number from 0 to 2^53"
    ].lines == [3]
    assert report.rejections[
        "usage output tokens -2 is not a whole number from 0 to 2^53"
    ].lines == [4]
    assert report.rejections["no usage object"].lines == [5]


def test_stream_without_usage_rejected(tmp_path):
    chunk = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": "m",
        "choices": [{"delta": {"content": "x"}}],
        "usage": None,
    }
    path = tmp_path / "stream.sse"
    path.write_text(
        f"data: {json.dumps(chunk)}\n\ndata: {json.dumps(chunk)}\n\ndata: [DONE]\n",
        encoding="utf-8",
    )
    report = read_openai_usage(str(path), ReadOptions()).report

    assert report.rejections[
        "stream without usage (request it with stream_options.include_usage)"
    ].lines == [1, 3]


@pytest.mark.parametrize("include", [False, True])
def test_stream_outside_period_counts_every_chunk(tmp_path, include):
    # Three chunks of one October stream; the last carries the usage.
    chunks = [
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 1791000000,
            "model": "m",
            "choices": [{"delta": {"content": "x"}}] if index < 2 else [],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2}
            if index == 2
            else None,
        }
        for index in range(3)
    ]
    path = tmp_path / "stream.sse"
    path.write_text(
        "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks)
        + "data: [DONE]\n",
        encoding="utf-8",
    )
    options = ReadOptions(
        period=parse_period("2026-11"), include_outside_period=include
    )
    report = read_openai_usage(str(path), options).report

    assert report.rows_read == 3
    assert report.rows_rejected == 0
    assert report.flags["outside_period"].count == 3
    if include:
        assert report.rows_used == 3
        assert report.rows_used_outside_period == 3
        assert report.rows_outside_period == 0
    else:
        assert report.rows_used == 0
        assert report.rows_outside_period == 3


def test_period_filter(tmp_path):
    records = [
        {
            "id": "a",
            "created": 1793700000,
            "model": "m",
            "usage": {"prompt_tokens": 1, "completion_tokens": 2},
        },  # 2026-11-03
        {
            "id": "b",
            "created": 1791000000,
            "model": "m",
            "usage": {"prompt_tokens": 1, "completion_tokens": 4},
        },  # 2026-10-03
    ]
    result = read_openai_usage(
        jsonl(tmp_path, records), ReadOptions(period=parse_period("2026-11"))
    )

    assert totals(result) == {("unassigned", "m"): (2, 1, 1)}
    assert result.report.rows_outside_period == 1


def test_cassette_aliases_rejected(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(
        "a: &a [x, x]\nb: &b [*a, *a]\ninteractions: [*b, *b]\n", encoding="utf-8"
    )

    with pytest.raises(
        InputError,
        match=r"line 2: invalid YAML cassette \(YAML aliases are not accepted",
    ):
        read_openai_usage(str(path), ReadOptions())


@pytest.mark.parametrize("date", ["-0000", ""])
def test_cassette_date_without_zone_is_utc(tmp_path, monkeypatch, date):
    # HTTP dates are always UTC. Python returns a naive datetime for "-0000" and
    # for no zone, which must not be read in the machine's local zone.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    path = tmp_path / "cassette.yaml"
    path.write_text(
        "interactions:\n"
        '- request: {body: \'{"model": "m"}\'}\n'
        f"  response: {{headers: {{Date: ['Sat, 31 Oct 2026 22:00:00 {date}']}}, "
        'body: {string: \'{"usage": {"completion_tokens": 3}}\'}}\n',
        encoding="utf-8",
    )
    try:
        result = read_openai_usage(str(path), ReadOptions())
    finally:
        monkeypatch.undo()
        time.tzset()

    assert totals(result) == {("unassigned", "m"): (3, 0, 1)}
    assert result.report.coverage == "2026-10-31T22:00:00Z to 2026-10-31T22:00:00Z"


# --- OTLP/JSON GenAI spans --------------------------------------------------------


def attribute(key, value):
    kind = "intValue" if isinstance(value, int) else "stringValue"
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


def span(span_id, parent, output=None, model=None, tenant=None):
    attributes = []
    if output is not None:
        attributes.append(attribute("gen_ai.usage.output_tokens", output))
        attributes.append(attribute("gen_ai.usage.input_tokens", 1))
    if model:
        attributes.append(attribute("gen_ai.response.model", model))
    if tenant:
        attributes.append(attribute("tenant.id", tenant))
    return {
        "traceId": "t1",
        "spanId": span_id,
        "parentSpanId": parent,
        "startTimeUnixNano": "1793700000000000000",
        "attributes": attributes,
    }


def otlp_file(tmp_path, spans, resource_tenant="ads"):
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [attribute("tenant.id", resource_tenant)]},
                "scopeSpans": [{"scope": {"name": "genai"}, "spans": spans}],
            }
        ]
    }
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def test_otlp_parent_not_counted_twice(tmp_path):
    spans = [
        span("agent", "", output=30, model="m"),  # repeats its children's 10 + 20
        span("tool", "agent"),  # no usage, between the agent and one call
        span("call1", "tool", output=10, model="m"),
        span(
            "call2", "agent", output="20", model="m", tenant="search"
        ),  # count as a string
    ]
    result = read_otlp(
        otlp_file(tmp_path, spans), ReadOptions(consumer_attribute="tenant.id")
    )
    report = result.report

    assert totals(result) == {("ads", "m"): (10, 1, 1), ("search", "m"): (20, 1, 1)}
    assert report.rows_read == 3
    assert report.rows_used == 2
    assert (
        report.rejections[
            "parent span repeats its children's usage (counted once, in the children)"
        ].count
        == 1
    )
    assert "double_count" in {flag.code for flag in report.flags.values()}
    assert "inconsistent" not in {flag.code for flag in report.flags.values()}


def test_otlp_parent_disagreeing_with_children(tmp_path):
    spans = [
        span("agent", "", output=99, model="m"),
        span("call", "agent", output=10, model="m"),
    ]
    report = read_otlp(otlp_file(tmp_path, spans), ReadOptions()).report

    assert "inconsistent" in {flag.code for flag in report.flags.values()}


def test_otlp_bad_count(tmp_path):
    spans = [span("call", "", output="ten", model="m")]
    report = read_otlp(otlp_file(tmp_path, spans), ReadOptions()).report

    assert (
        report.rejections[
            "token count 'ten' is not a whole number from 0 to 2^53"
        ].count
        == 1
    )


# --- hostile nesting and values ---------------------------------------------------

DEEP_OBJECT = '{"a":' * 50_000 + "1" + "}" * 50_000


def test_jsonl_deep_line_rejected(tmp_path):
    record = {"id": "r1", "model": "m", "usage": {"completion_tokens": 2}}
    path = tmp_path / "usage.jsonl"
    path.write_text(json.dumps(record) + "\n" + DEEP_OBJECT + "\n", encoding="utf-8")
    result = read_openai_usage(str(path), ReadOptions())
    rejection = result.report.rejections[
        "invalid JSON (nested more than 100 levels deep)"
    ]

    assert totals(result) == {("unassigned", "m"): (2, 0, 1)}
    assert rejection.lines == [2]


def test_sse_deep_event_rejected(tmp_path):
    path = tmp_path / "stream.txt"
    path.write_text(": keep-alive\n\ndata: " + DEEP_OBJECT + "\n", encoding="utf-8")
    report = read_openai_usage(str(path), ReadOptions()).report

    assert report.rejections[
        "invalid JSON (nested more than 100 levels deep)"
    ].lines == [3]


def test_deep_json_document_names_file(tmp_path):
    path = tmp_path / "usage.json"
    path.write_text("\n" * 30 + "[" + DEEP_OBJECT + "]", encoding="utf-8")

    with pytest.raises(InputError, match=r"usage\.json: JSON nested 50,001 levels"):
        read_openai_usage(str(path), ReadOptions())


def test_document_errors_keep_line_numbers(tmp_path):
    # Leading blank lines are skipped in bulk but still counted.
    path = tmp_path / "usage.json"
    path.write_text("\n" * 40 + '[{"usage": {}},\n  oops]', encoding="utf-8")

    with pytest.raises(
        InputError, match=r"usage\.json: line 42, column 3: invalid JSON"
    ):
        read_openai_usage(str(path), ReadOptions())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "interactions:\n- " + "[" * 5000 + "]" * 5000 + "\n",
            r"line 2: invalid YAML cassette \(YAML nested more than 100 levels deep",
        ),
        (
            "interactions:\n" + "".join("  " * n + "a:\n" for n in range(2000)),
            r"line 102: invalid YAML cassette \(YAML nested more than 100 levels deep",
        ),
        (
            "interactions: " + "9" * 5000 + "\n",
            r"invalid YAML cassette \(a value cannot be read: Exceeds the limit",
        ),
        (
            "interactions: 2024-02-30\n",
            r"invalid YAML cassette \(a value cannot be read: day is out of range",
        ),
    ],
    ids=["flow", "block", "long integer", "impossible date"],
)
def test_hostile_cassette_rejected(tmp_path, text, message):
    path = tmp_path / "cassette.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(
        InputError, match=r"cassette\.yaml: " + message.removeprefix("^")
    ):
        read_openai_usage(str(path), ReadOptions())


def test_cassette_deep_body_not_parsed(tmp_path):
    body = json.dumps(DEEP_OBJECT)[1:-1]
    path = tmp_path / "cassette.yaml"
    path.write_text(
        "interactions:\n- request: {body: '" + body + "'}\n"
        '  response: {body: {string: \'{"usage": {"completion_tokens": 1}, '
        '"model": "m"}\'}}\n',
        encoding="utf-8",
    )
    result = read_openai_usage(str(path), ReadOptions())

    assert totals(result) == {("unassigned", "m"): (1, 0, 1)}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"resourceSpans": ' + "[" * 5000 + "]" * 5000 + "}\n",
            r"spans\.json: JSON nested",
        ),
        (
            '{"resourceSpans": []}\n' + DEEP_OBJECT + "\n",
            r"spans\.json: line 2: JSON nested",
        ),
    ],
    ids=["document", "JSON Lines"],
)
def test_otlp_deep_nesting_rejected(tmp_path, text, message):
    path = tmp_path / "spans.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(InputError, match=message):
        read_otlp(str(path), ReadOptions())


def test_otlp_long_parent_chain(tmp_path):
    # 20,000 nested agent spans that each repeat the usage of the one leaf: every
    # span is walked about once, where a walk per span took minutes.
    spans = [span(f"s{n}", f"s{n - 1}" if n else "", 5, "m") for n in range(20_000)]
    result = read_otlp(otlp_file(tmp_path, spans), ReadOptions())
    flags = {flag.code for flag in result.report.flags.values()}

    assert totals(result) == {("unassigned", "m"): (5, 1, 1)}
    assert result.report.rows_rejected == 19_999
    assert "inconsistent" not in flags


def test_otlp_parent_loop(tmp_path):
    # Damaged parent links that loop: a leaf under the loop is still counted once.
    spans = [
        span("a", "b", 7, "m"),
        span("b", "a", 7, "m"),
        span("c", "b", 7, "m"),
    ]
    result = read_otlp(otlp_file(tmp_path, spans), ReadOptions())

    assert totals(result) == {("unassigned", "m"): (7, 1, 1)}
    assert result.report.rows_rejected == 2
