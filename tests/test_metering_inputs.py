"""Hostile and broken input: each case is flagged, or rejected naming the file and line.

The huge-line cases use sparse files (a 2 GiB hole costs no disk), and the bombs are
compressed as they are generated, so no case fills the disk or memory.
"""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tokenbom_xl.cli import main
from tokenbom_xl.errors import InputError
from tokenbom_xl.metering.facility import read_facility_series
from tokenbom_xl.metering.gpu_exposition import read_gpu_exposition
from tokenbom_xl.metering.inputs import ReadLimits, open_input
from tokenbom_xl.metering.inspect_eval import read_inspect_log
from tokenbom_xl.metering.nvidia_smi import read_nvidia_smi
from tokenbom_xl.metering.openai_usage import read_openai_usage
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.query_range import read_query_range
from tokenbom_xl.metering.serving_log import read_serving_log

TWO_GIB = 2 * 1024**3
SMALL = ReadLimits(
    max_line_bytes=1 << 20, max_document_bytes=4 << 20, max_decompressed_bytes=8 << 20
)
HEADER = b"timestamp, uuid, utilization.gpu [%], power.draw [W]\n"
ROW = b"2026/11/02 10:00:00.000, GPU-a, 40 %, 300 W\n"


# --- builders: each writes one hostile file and returns its path ------------------


def huge_line(tmp_path: Path, prefix: bytes = HEADER, size: int = TWO_GIB) -> Path:
    """A header, then one line of NUL bytes (2 GiB by default) that occupies no disk."""
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.write(prefix)
        handle.truncate(size)
    return path


# About one MiB in ten lines, so a bomb trips the decompression limit, not the line
# limit, after few rows.
FILLER = (b"0" * 100_000 + b"\n") * 10


def gzip_bomb(tmp_path: Path) -> Path:
    """64 MiB of text compressed to well under 1 MiB."""
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(HEADER)
        for _ in range(64):
            handle.write(FILLER)
    return path


def zip_bomb(tmp_path: Path) -> Path:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("log.csv", "w") as member:
            member.write(HEADER)
            for _ in range(64):
                member.write(FILLER)
    return path


def two_member_zip(tmp_path: Path) -> Path:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", HEADER + ROW)
        archive.writestr("b.csv", HEADER + ROW)
    return path


def truncated_gzip(tmp_path: Path) -> Path:
    data = gzip.compress(HEADER + ROW * 2000)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def latin1_csv(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.csv"
    path.write_bytes(HEADER + b"2026/11/02 10:00:00.000, GPU-caf\xe9, 40 %, 300 W\n")
    return path


def truncated_json(tmp_path: Path) -> Path:
    path = tmp_path / "cut.json"
    path.write_text(
        '[{"timestamp": 1793700000000, "pue": 1.1},\n {"timestamp": 17937',
        encoding="utf-8",
    )
    return path


def binary_exposition(tmp_path: Path) -> Path:
    path = tmp_path / "binary.prom"
    path.write_bytes(b"# TYPE x gauge\n\x00\x01\x02 garbage\n")
    return path


def rows(tmp_path: Path, *lines: bytes) -> Path:
    path = tmp_path / "rows.csv"
    path.write_bytes(HEADER + b"".join(lines))
    return path


def counter_reset(tmp_path: Path) -> Path:
    path = tmp_path / "reset.prom"
    path.write_text(
        'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{UUID="GPU-a"} 5000 1790000000000\n'
        'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{UUID="GPU-a"} 100 1790000030000\n',
        encoding="utf-8",
    )
    return path


def inspect_truncated(tmp_path: Path) -> Path:
    path = tmp_path / "cut_eval.json"
    path.write_text(
        json.dumps({"eval": {"model": "m"}, "samples": []})[:-5], encoding="utf-8"
    )
    return path


def document_2gib(tmp_path: Path) -> Path:
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.write(b"[")
        handle.truncate(TWO_GIB)
    return path


# Columns: case, builder, reader, limits, outcome ("error" regex, or ("flag", code),
# or ("reject", reason, first line)).
CASES = [
    (
        "2 GiB line, nvidia-smi",
        huge_line,
        read_nvidia_smi,
        ReadLimits(),
        r"huge.csv: line 2 is longer than 16,777,216 bytes",
    ),
    (
        "2 GiB line, exposition",
        lambda p: huge_line(p, b"# TYPE x gauge\n"),
        read_gpu_exposition,
        SMALL,
        r"huge.csv: line 2 is longer than 1,048,576 bytes",
    ),
    (
        "2 GiB line, usage JSONL",
        lambda p: huge_line(p, b'{"usage": {}}\n'),
        read_openai_usage,
        SMALL,
        r"huge.csv: line 2 is longer than",
    ),
    (
        "2 GiB JSON document",
        document_2gib,
        read_query_range,
        SMALL,
        r"huge.json: larger than 4,194,304 bytes",
    ),
    (
        "2 GiB JSON document, facility",
        document_2gib,
        read_facility_series,
        SMALL,
        r"huge.json: larger than 4,194,304 bytes",
    ),
    (
        "gzip bomb",
        gzip_bomb,
        read_nvidia_smi,
        SMALL,
        r"bomb.csv.gz: decompresses to more than 8,388,608 bytes",
    ),
    (
        "zip bomb",
        zip_bomb,
        read_nvidia_smi,
        SMALL,
        r"bomb.zip: decompresses to more than 8,388,608 bytes",
    ),
    (
        "zip with two files",
        two_member_zip,
        read_nvidia_smi,
        SMALL,
        r"two.zip: a zip file must hold exactly one file, this one holds 2",
    ),
    (
        "truncated gzip",
        truncated_gzip,
        read_nvidia_smi,
        SMALL,
        r"cut.csv.gz: the gzip data ends early \(truncated file\)",
    ),
    (
        "latin-1 bytes",
        latin1_csv,
        read_nvidia_smi,
        SMALL,
        r"latin1.csv: line 2: not UTF-8 text \(byte 33 of the line is 0xe9\)",
    ),
    (
        "truncated JSON",
        truncated_json,
        read_facility_series,
        SMALL,
        r"cut.json: line 2, column 21: invalid JSON: the file ends early",
    ),
    (
        "truncated Inspect log",
        inspect_truncated,
        read_inspect_log,
        SMALL,
        r"cut_eval.json: line 1, column \d+: invalid JSON",
    ),
    (
        "binary exposition",
        binary_exposition,
        read_gpu_exposition,
        SMALL,
        r"binary.prom: line 2: not valid Prometheus text exposition",
    ),
    (
        "truncated last row",
        lambda p: rows(p, ROW, b"2026/11/02 10:00:10.000, GPU-a, 4"),
        read_nvidia_smi,
        SMALL,
        ("reject", "3 fields where the header has 4 (truncated line?)", 3),
    ),
    (
        "impossible reading",
        lambda p: rows(p, b"2026/11/02 10:00:00.000, GPU-a, 40 %, -300 W\n"),
        read_nvidia_smi,
        SMALL,
        ("flag", "impossible_value"),
    ),
    (
        "duplicate timestamp",
        lambda p: rows(p, ROW, ROW),
        read_nvidia_smi,
        SMALL,
        ("flag", "duplicate_timestamp"),
    ),
    (
        "clock backwards",
        lambda p: rows(p, ROW.replace(b":00.000", b":30.000"), ROW),
        read_nvidia_smi,
        SMALL,
        ("flag", "clock_backwards"),
    ),
    (
        "counter reset",
        counter_reset,
        read_gpu_exposition,
        SMALL,
        ("flag", "counter_reset"),
    ),
]


@pytest.mark.parametrize(
    ("builder", "reader", "limits", "outcome"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_hostile_input(tmp_path, builder, reader, limits, outcome):
    path = str(builder(tmp_path))
    options = ReadOptions(limits=limits)
    if isinstance(outcome, str):
        with pytest.raises(InputError, match=outcome):
            reader(path, options)
        return
    report = reader(path, options).report
    if outcome[0] == "flag":
        assert outcome[1] in {flag.code for flag in report.flags.values()}
    else:
        assert report.rejections[outcome[1]].lines == [outcome[2]]


def test_huge_line_in_serving_log(tmp_path):
    path = huge_line(tmp_path, b"timestamp,business_unit,model,output_tokens\n")
    with pytest.raises(
        InputError, match=r"huge.csv: line 2 is longer than 1,048,576 bytes"
    ):
        read_serving_log(str(path), ReadOptions(limits=SMALL))


def test_long_line_after_many_short_ones(tmp_path):
    path = tmp_path / "log.jsonl"
    record = (
        b'{"timestamp": "2026-11-01T00:00:00Z", "model": "m", "output_tokens": 1}\n'
    )
    path.write_bytes(
        record * 200_000 + b'{"model": "' + b"x" * (2 << 20) + b'"}\n' + record
    )
    with pytest.raises(
        InputError, match=r"log.jsonl: line 200001 is longer than 1,048,576 bytes"
    ):
        read_serving_log(str(path), ReadOptions(limits=SMALL))


def test_utf16_with_byte_order_mark(tmp_path):
    # PowerShell's `>` writes UTF-16 with a byte-order mark.
    path = tmp_path / "windows.csv"
    path.write_bytes((HEADER + ROW).decode().encode("utf-16"))
    result = read_nvidia_smi(str(path), ReadOptions())

    assert result.readings["a"][0].power_w == 300.0


def test_utf8_byte_order_mark_stripped(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER + ROW)
    with open_input(str(path)) as source:
        assert next(source.lines()) == (1, HEADER.decode().rstrip("\n"))


def test_gzip_input_read_transparently(tmp_path):
    path = tmp_path / "log.csv.gz"
    path.write_bytes(gzip.compress(HEADER + ROW))

    assert read_nvidia_smi(str(path), ReadOptions()).readings["a"][0].utilization == 0.4


# The same hostile files through the command line: exit 2, one message, no traceback,
# no output file.
CLI_CASES = [
    ("--telemetry", latin1_csv, "line 2: not UTF-8 text"),
    ("--telemetry", gzip_bomb, "decompresses to more than"),
    ("--facility", truncated_json, "line 2, column 21: invalid JSON"),
    ("--serving", lambda p: huge_line(p, b'{"usage": {}}\n'), "line 2 is longer than"),
]


@pytest.mark.parametrize(("option", "builder", "message"), CLI_CASES)
def test_cli_rejects_hostile_file(tmp_path, option, builder, message):
    path = builder(tmp_path)
    output = tmp_path / "metered.toml"
    arguments = [
        "meter",
        "--period",
        "2026-11",
        option,
        str(path),
        "-o",
        str(output),
        "--max-decompressed-bytes",
        str(8 << 20),
    ]
    result = CliRunner().invoke(main, arguments)

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not output.exists()
