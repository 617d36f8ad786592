"""Parsing untrusted JSON: the nesting limit, long integers and syntax errors."""

from __future__ import annotations

import json

import pytest

from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.json_text import (
    MAX_NESTING_DEPTH,
    InvalidJson,
    decode_json,
    parse_json_text,
)


def nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def test_depth_at_limit_accepted():
    assert decode_json(nested(MAX_NESTING_DEPTH)) is not None


@pytest.mark.parametrize(
    "text",
    [
        nested(MAX_NESTING_DEPTH + 1),
        '{"a":' * (MAX_NESTING_DEPTH + 1) + "1" + "}" * (MAX_NESTING_DEPTH + 1),
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        nested(50_000),
    ],
    ids=["arrays just over", "objects just over", "objects 50,000", "arrays 50,000"],
)
def test_depth_over_limit_rejected(text):
    with pytest.raises(InvalidJson, match=r"more than the 100 accepted") as caught:
        decode_json(text)

    assert caught.value.reason == "nested more than 100 levels deep"


def test_brackets_in_strings_not_counted():
    # Unbalanced brackets and escaped quotes inside strings do not nest anything.
    text = json.dumps(
        {"open": "[" * 500, "close": "]" * 500, "quote": '\\"[[[', "x": [[1]]}
    )

    assert decode_json(text)["x"] == [[1]]


def test_closing_brackets_in_strings_do_not_hide_depth():
    deep = nested(MAX_NESTING_DEPTH)
    text = '{"a": "' + "]" * 500 + '", "b": ' + deep + "}"

    with pytest.raises(InvalidJson, match=r"nested 101 levels deep"):
        decode_json(text)


def test_integer_too_long():
    with pytest.raises(InvalidJson, match=r"more than 4,300 digits") as caught:
        decode_json('{"tokens": ' + "9" * 5000 + "}")

    assert caught.value.reason == "an integer of more than 4,300 digits"


def test_syntax_error_names_position():
    with pytest.raises(InvalidJson, match=r"line 2, column 4: invalid JSON") as caught:
        decode_json("[1,\n 2 3]")

    assert caught.value.reason == "Expecting ',' delimiter"


def test_parse_json_text_names_file():
    with pytest.raises(InputError, match=r"^usage\.json: JSON nested 200 levels"):
        parse_json_text(nested(200), "usage.json")
