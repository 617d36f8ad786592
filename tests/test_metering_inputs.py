"""Hostile and broken input: each case is flagged, or rejected naming the file and line.

The huge-line cases use sparse files (a 2 GiB hole costs no disk), and the bombs are
compressed as they are generated, so no case fills the disk or memory.
"""

from __future__ import annotations

import gzip
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from tokenbom_xl.cli import main
from tokenbom_xl.errors import InputError
from tokenbom_xl.metering import inputs, tokens
from tokenbom_xl.metering.facility import read_facility_series
from tokenbom_xl.metering.gpu_exposition import read_gpu_exposition
from tokenbom_xl.metering.inputs import RATIO_EXEMPT_BYTES, ReadLimits, open_input
from tokenbom_xl.metering.inspect_eval import read_inspect_log
from tokenbom_xl.metering.ledger import read_ledger
from tokenbom_xl.metering.nvidia_smi import read_nvidia_smi
from tokenbom_xl.metering.openai_usage import read_openai_usage
from tokenbom_xl.metering.options import ReadOptions
from tokenbom_xl.metering.otel import read_otlp
from tokenbom_xl.metering.prometheus import iter_exposition
from tokenbom_xl.metering.pue_table import read_pue_table
from tokenbom_xl.metering.query_range import read_query_range
from tokenbom_xl.metering.report import MAX_FLAG_GROUPS, MAX_REASONS, OTHER_REASONS
from tokenbom_xl.metering.serving_log import read_serving_log
from tokenbom_xl.metering.times import parse_period
from tokenbom_xl.metering.vllm import read_vllm_scrapes

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
        r"two.zip: a zip file must contain exactly one file, but this one contains 2",
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


# --- bombs against the default limits ------------------------------------------
#
# Each bomb is a few MB on disk and would expand about 1000 times. It is written as
# many copies of one small gzip member (or deflate block), so building it takes
# well under a second, and the default compression ratio stops the reader after a
# few hundred MB.

EXPOSITION_HEAD = (
    b"# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).\n"
    b"# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
    b'DCGM_FI_DEV_GPU_UTIL{UUID="GPU-a"} 50\n'
)
BOMB_UNIT_BYTES = 32 << 20


def gzip_members_bomb(path: Path, head: bytes, line: bytes, copies: int) -> Path:
    """``head``, then ``copies`` x 32 MiB of ``line`` as concatenated gzip members."""
    member = gzip.compress(line * (BOMB_UNIT_BYTES // len(line)), 9)
    with open(path, "wb") as handle:
        handle.write(gzip.compress(head))
        for _ in range(copies):
            handle.write(member)
    return path


def deflate_bomb(line: bytes, copies: int, head: bytes = b"") -> bytes:
    """A raw deflate stream of ``head`` and ``copies`` x 32 MiB of ``line``."""

    def flushed(data: bytes) -> bytes:
        # A full flush ends the block on a byte boundary with an empty history, so
        # such pieces can follow each other.
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)

    block = flushed(line * (BOMB_UNIT_BYTES // len(line)))
    # b"\x03\x00" is an empty final block.
    return flushed(head) + block * copies + b"\x03\x00"


def handmade_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip file of (name, deflate data, declared size, CRC-32) members.

    A bomb declares a large size and a wrong CRC, which readers only find out at
    the end of a member.
    """
    local_parts, central_parts, offset = [], [], 0
    for name, data, declared, crc in members:
        encoded = name.encode()
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0,
            8,
            0,
            0x21,
            crc,
            len(data),
            declared,
            len(encoded),
            0,
        )
        central_parts.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(data),
                declared,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
        local_parts.append(header + encoded + data)
        offset += len(header) + len(encoded) + len(data)
    central = b"".join(central_parts)
    end = struct.pack(
        "<IHHHHIIH",
        0x06054B50,
        0,
        0,
        len(members),
        len(members),
        len(central),
        offset,
        0,
    )
    path.write_bytes(b"".join(local_parts) + central + end)
    return path


RATIO_MESSAGE = (
    r"over 200 times its [\d,]+ bytes on disk .*raise --max-compression-ratio"
)


@pytest.mark.parametrize(
    "line", [b"#\n", b"\n", b"\r\n", b"# a comment\n"], ids=["#", "LF", "CRLF", "text"]
)
def test_comment_bomb_exposition(tmp_path, line):
    path = gzip_members_bomb(tmp_path / "x.prom.gz", EXPOSITION_HEAD, line, 32)

    with pytest.raises(InputError, match=r"x\.prom\.gz: decompresses to more than"):
        read_gpu_exposition(str(path), ReadOptions())


def test_comment_bomb_message(tmp_path):
    path = gzip_members_bomb(tmp_path / "x.prom.gz", EXPOSITION_HEAD, b"#\n", 32)

    with pytest.raises(InputError, match=RATIO_MESSAGE):
        read_gpu_exposition(str(path), ReadOptions())


def test_comment_bomb_cli(tmp_path):
    path = gzip_members_bomb(tmp_path / "x.prom.gz", EXPOSITION_HEAD, b"#\n", 32)
    output = tmp_path / "metered.toml"
    arguments = ["meter", "--period", "2026-11", "--telemetry", str(path)]
    result = CliRunner().invoke(main, arguments + ["-o", str(output)])

    assert result.exit_code == 2, result.output
    assert "x.prom.gz: decompresses to more than" in result.output
    assert "--max-compression-ratio" in result.output
    assert not output.exists()


def test_small_repetitive_file_exempt(tmp_path):
    # 8 MiB of comments in a file of about 8 KiB expands about 1000 times, which the
    # default ratio allows only because the output is under RATIO_EXEMPT_BYTES.
    path = tmp_path / "x.prom.gz"
    path.write_bytes(
        gzip.compress(EXPOSITION_HEAD + b"#\n" * (4 << 20) + EXPOSITION_HEAD[-38:])
    )
    assert RATIO_EXEMPT_BYTES > 8 << 20

    result = read_gpu_exposition(str(path), ReadOptions())

    assert result.report.rows_used == 1
    # The last line repeats the first sample, so it proves the whole file was read.
    assert result.report.rejections[
        "duplicate utilization reading for GPU a in one untimed scrape"
    ].lines == [4 * 1024 * 1024 + 4]


def test_compression_ratio_option(tmp_path):
    path = gzip_members_bomb(tmp_path / "x.prom.gz", EXPOSITION_HEAD, b"#\n", 32)
    output = tmp_path / "metered.toml"
    arguments = ["meter", "--period", "2026-11", "--telemetry", str(path)]
    arguments += ["--max-compression-ratio", "50", "-o", str(output)]
    result = CliRunner().invoke(main, arguments)

    assert result.exit_code == 2, result.output
    assert "over 50 times its" in result.output
    assert not output.exists()


def test_blank_line_bomb_nvidia_smi(tmp_path):
    path = gzip_members_bomb(tmp_path / "gpu.csv.gz", HEADER + ROW, b"\n", 32)

    with pytest.raises(InputError, match=RATIO_MESSAGE):
        read_nvidia_smi(str(path), ReadOptions())


def test_data_line_bomb_stops(tmp_path, monkeypatch):
    # Data lines cannot be skipped, so the ratio is what bounds the work on them.
    monkeypatch.setattr(inputs, "RATIO_EXEMPT_BYTES", 1 << 20)
    line = EXPOSITION_HEAD.splitlines(keepends=True)[-1]
    path = gzip_members_bomb(tmp_path / "x.prom.gz", EXPOSITION_HEAD, line, 1)
    limits = ReadLimits(max_compression_ratio=2)

    with pytest.raises(InputError, match=r"over 2 times its"):
        read_gpu_exposition(str(path), ReadOptions(limits=limits))


def test_zip_bomb_default_limits(tmp_path):
    data = deflate_bomb(b"#\n", 128)
    path = handmade_zip(tmp_path / "x.zip", [("x.prom", data, 0xFFFFFFF0, 0)])

    with pytest.raises(InputError, match=r"x\.zip: decompresses to more than"):
        read_gpu_exposition(str(path), ReadOptions())


def test_eval_archive_bomb_default_limits(tmp_path):
    # Each sample is valid JSON followed by 192 MiB of spaces, under
    # max_document_bytes; together the samples pass the ratio.
    header = json.dumps({"eval": {"model": "m"}}).encode()
    sample_head = b'{"id": 1}'
    crc = zlib.crc32(sample_head)
    for _ in range(6):
        crc = zlib.crc32(b" " * BOMB_UNIT_BYTES, crc)
    size = len(sample_head) + 6 * BOMB_UNIT_BYTES
    sample = deflate_bomb(b" ", 6, sample_head)
    members = [
        ("header.json", zlib.compress(header)[2:-4], len(header), zlib.crc32(header))
    ]
    members += [(f"samples/{n}.json", sample, size, crc) for n in range(8)]
    path = handmade_zip(tmp_path / "bomb.eval", members)

    with pytest.raises(InputError, match=r"bomb\.eval: decompresses to more than"):
        read_inspect_log(str(path), ReadOptions())


def test_serving_log_gzip_bomb_default_limits(tmp_path):
    head = b"timestamp,business_unit,model,output_tokens\n"
    path = gzip_members_bomb(tmp_path / "log.csv.gz", head, b"\n", 32)

    with pytest.raises(InputError, match=RATIO_MESSAGE):
        read_serving_log(str(path), ReadOptions())


def test_absolute_cap_names_its_option(tmp_path):
    path = gzip_members_bomb(tmp_path / "x.prom.gz", EXPOSITION_HEAD, b"#\n", 1)
    limits = ReadLimits(max_decompressed_bytes=4 << 20)

    with pytest.raises(
        InputError,
        match=r"more than 4,194,304 bytes .*raise --max-decompressed-bytes",
    ):
        read_gpu_exposition(str(path), ReadOptions(limits=limits))


# --- ignored lines are skipped in bulk, with line numbers kept -----------------


def test_line_numbers_after_comment_runs(tmp_path):
    path = tmp_path / "x.prom"
    path.write_bytes(
        EXPOSITION_HEAD
        + b"#\n" * 100_000
        + b"\n" * 100_000
        + b"# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).\n"
        + b"# TYPE DCGM_FI_DEV_POWER_USAGE gauge\n"
        + b'DCGM_FI_DEV_POWER_USAGE{UUID="GPU-a"} -5\n'
    )
    report = read_gpu_exposition(str(path), ReadOptions()).report
    flag = report.flags["impossible|power (W)"]

    assert flag.line == 200_006


def test_help_line_after_comment_run_is_read(tmp_path):
    # A counter's TYPE line decides its sample names; it must not be skipped.
    path = tmp_path / "x.prom"
    path.write_bytes(b"#\n" * 50_000 + b"# TYPE x counter\n" + b"x 1\n")
    with open_input(str(path)) as source:
        samples = list(iter_exposition(source))

    assert [(sample.name, sample.line) for sample in samples] == [("x_total", 50_002)]


def test_invalid_utf8_in_skipped_comments(tmp_path):
    path = tmp_path / "x.prom"
    path.write_bytes(EXPOSITION_HEAD + b"#\n" * 70_000 + b"# caf\xe9\n" + b"#\n" * 10)

    with pytest.raises(
        InputError, match=r"x\.prom: line 70004: not UTF-8 text \(byte 6 of the line"
    ):
        read_gpu_exposition(str(path), ReadOptions())


def test_blank_runs_end_nvidia_smi_tables(tmp_path):
    # A capture: a table, a long blank run, other output, then a second table.
    path = tmp_path / "capture.txt"
    path.write_bytes(
        HEADER
        + ROW
        + b"\n" * 50_000
        + b"Mon Nov  2 10:00:05 2026\n"
        + HEADER
        + ROW.replace(b"10:00:00", b"10:00:05")
    )
    report = read_nvidia_smi(str(path), ReadOptions()).report

    assert report.rows_rejected == 0
    assert report.notes == [
        "2 --query-gpu tables read; other sections of the capture skipped"
    ]


def test_ignored_lines_alternating_with_data(tmp_path):
    path = tmp_path / "x.prom"
    body = b"".join(
        b"#\n" * (n % 40) + b'DCGM_FI_DEV_GPU_UTIL{UUID="GPU-%d"} 50\n' % n
        for n in range(2000)
    )
    path.write_bytes(body)
    lines = body.split(b"\n")
    result = read_gpu_exposition(str(path), ReadOptions())

    assert len(result.gpus) == 2000
    assert (
        result.readings["1999"][0].line
        == lines.index(b'DCGM_FI_DEV_GPU_UTIL{UUID="GPU-1999"} 50') + 1
    )


def test_utf16_blank_runs_and_bad_surrogate(tmp_path):
    path = tmp_path / "windows.prom"
    power = b'DCGM_FI_DEV_POWER_USAGE{UUID="GPU-a"} 300\r\n'
    text = (EXPOSITION_HEAD + b"\r\n" * 40_000 + power).decode()
    path.write_bytes(text.encode("utf-16"))
    readings = read_gpu_exposition(str(path), ReadOptions()).readings["a"]

    assert readings[0].power_w == 300.0
    assert readings[0].line == 3

    broken = tmp_path / "broken.prom"
    broken.write_bytes(text.encode("utf-16") + "#x\n".encode("utf-16-le") + b"\x00\xd8")
    with pytest.raises(InputError, match=r"broken\.prom: line 40006: not valid UTF-16"):
        read_gpu_exposition(str(broken), ReadOptions())


def test_long_family_split_into_batches(tmp_path):
    path = tmp_path / "x.prom"
    samples = b"".join(b"x %d %d\n" % (n, 1_790_000_000_000 + n) for n in range(25_000))
    path.write_bytes(b"# HELP x a counter\n# TYPE x counter\n" + samples)
    with open_input(str(path)) as source:
        read = list(iter_exposition(source))

    assert len(read) == 25_000
    assert {sample.name for sample in read} == {"x_total"}
    assert [sample.line for sample in read] == list(range(3, 25_003))
    assert read[-1].value == 24_999


# --- hostile values: rejected or flagged, never a traceback ---------------------

BIG = "9" * 400  # an integer too large for a float
NOVEMBER = ReadOptions(period=parse_period("2026-11"))
NOV = 1_793_750_400  # 2026-11-05T00:00:00Z


def usage_line(**fields) -> str:
    record = {"id": "r", "model": "m", "usage": {"completion_tokens": 3}, **fields}
    return json.dumps(record) + "\n"


def otlp_span(tokens: str, start: str) -> str:
    span = {
        "traceId": "t",
        "spanId": "s",
        "startTimeUnixNano": start,
        "attributes": [
            {"key": "gen_ai.usage.output_tokens", "value": {"intValue": tokens}}
        ],
    }
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})


def query_range_json(points: str, metric: str = "DCGM_FI_DEV_GPU_UTIL") -> str:
    return (
        '{"status": "success", "data": {"resultType": "matrix", "result": [{"metric": '
        f'{{"__name__": "{metric}", "UUID": "GPU-a"}}, "values": {points}}}]}}}}'
    )


def inspect_log(sample: dict) -> str:
    sample = {"id": 1, "epoch": 1, "scores": {"s": {"value": "C"}}, **sample}
    sample.setdefault("output", {"usage": {"output_tokens": 5}})
    header = {"eval": {"model": "openai/m"}, "status": "success"}
    return json.dumps({**header, "samples": [sample]})


TIME_REJECTED = ("reject", "timestamp not between 1970 and 9999")

# Columns: case, reader, file name, content, outcome: ("reject", reason) for one
# rejected row, ("flag", code), or ("used", rows used). A usage record or span whose
# time cannot be read counts as one without a time, like one whose time text is
# unreadable.
VALUE_CASES = [
    (
        "usage time 1e30",
        read_openai_usage,
        "u.jsonl",
        usage_line(created=1e30),
        ("used", 1),
    ),
    (
        "usage time too large for a float",
        read_openai_usage,
        "u.jsonl",
        usage_line(created=int(BIG)),
        ("used", 1),
    ),
    (
        "usage tokens above 2^53",
        read_openai_usage,
        "u.jsonl",
        usage_line(usage={"completion_tokens": 2**53 + 1}),
        (
            "reject",
            f"usage output tokens {2**53 + 1} is not a whole number from 0 to 2^53",
        ),
    ),
    (
        "OTLP count in superscript digits",
        read_otlp,
        "s.json",
        otlp_span("²", "1793750400000000000"),
        ("reject", "token count '²' is not a whole number from 0 to 2^53"),
    ),
    (
        "OTLP count of 400 digits",
        read_otlp,
        "s.json",
        otlp_span(BIG, "1793750400000000000"),
        (
            "reject",
            f"token count '{BIG}' is not a whole number from 0 to 2^53"[:297] + "...",
        ),
    ),
    (
        "OTLP start time 1e30 ns",
        read_otlp,
        "s.json",
        otlp_span("5", "1" + "0" * 30),
        ("used", 1),
    ),
    (
        "query_range time too large for a float",
        read_query_range,
        "q.json",
        query_range_json(f'[[{BIG}, "1"]]'),
        (
            "reject",
            f"series 1: point [{BIG}, '1'] is not [epoch, \"value\"]"[:297] + "...",
        ),
    ),
    (
        "query_range time 1e30",
        read_query_range,
        "q.json",
        query_range_json('[[1e30, "1"]]'),
        TIME_REJECTED,
    ),
    (
        "query_range time NaN",
        read_query_range,
        "q.json",
        query_range_json(f'[[NaN, "1"], [{NOV}, "2"]]'),
        TIME_REJECTED,
    ),
    (
        "query_range energy +Inf",
        read_query_range,
        "q.json",
        query_range_json(
            f'[[{NOV}, "0"], [{NOV + 15}, "+Inf"]]',
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION",
        ),
        ("flag", "impossible_value"),
    ),
    (
        "exposition energy 1e308",
        read_gpu_exposition,
        "e.prom",
        'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{UUID="GPU-a"} 1e308\n',
        ("flag", "impossible_value"),
    ),
    (
        "exposition timestamp of 40 digits",
        read_gpu_exposition,
        "e.prom",
        'DCGM_FI_DEV_GPU_UTIL{UUID="GPU-a"} 50 ' + "9" * 40 + "\n",
        TIME_REJECTED,
    ),
    (
        "exposition value too large for a float",
        read_gpu_exposition,
        "e.prom",
        'DCGM_FI_DEV_POWER_USAGE{UUID="GPU-a"} ' + BIG + "\n",
        ("flag", "impossible_value"),
    ),
    (
        "nvidia-smi epoch time 1e30",
        read_nvidia_smi,
        "g.csv",
        "timestamp, uuid, utilization.gpu [%]\n1e30, GPU-a, 50 %\n",
        ("reject", "unreadable timestamp '1e30'"),
    ),
    (
        "facility PUE too large for a float",
        read_facility_series,
        "f.json",
        f'[{{"timestamp": {NOV}, "pue": {BIG}}}]',
        ("flag", "impossible_value"),
    ),
    (
        "facility time 1e30",
        read_facility_series,
        "f.csv",
        "timestamp,pue\n1e30,1.2\n",
        ("reject", "unreadable timestamp '1e30'"),
    ),
    (
        "Inspect score too large for a float",
        read_inspect_log,
        "i.json",
        inspect_log({"scores": {"s": {"value": int(BIG)}}}),
        ("used", 1),
    ),
    (
        "Inspect epoch in superscript digits",
        read_inspect_log,
        "i.json",
        inspect_log({"epoch": "²"}),
        ("used", 1),
    ),
    (
        "Inspect tokens above 2^53",
        read_inspect_log,
        "i.json",
        inspect_log({"output": {"usage": {"output_tokens": 2**53 + 1}}}),
        ("reject", "sample has no output token count"),
    ),
]


@pytest.mark.parametrize(
    ("reader", "name", "content", "outcome"),
    [case[1:] for case in VALUE_CASES],
    ids=[case[0] for case in VALUE_CASES],
)
def test_hostile_value(tmp_path, reader, name, content, outcome):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    report = reader(str(path), NOVEMBER).report

    if outcome[0] == "reject":
        assert report.rejections[outcome[1]].count == 1
    elif outcome[0] == "flag":
        assert outcome[1] in {flag.code for flag in report.flags.values()}
    else:
        assert report.rows_used == outcome[1]


def test_vllm_counter_above_2_53(tmp_path):
    path = tmp_path / "vllm.prom"
    path.write_text(
        'vllm:generation_tokens_total{model_name="m",engine="0"} 0 1793750400000\n'
        'vllm:generation_tokens_total{model_name="m",engine="0"} 1.7e308 1793750415000\n',
        encoding="utf-8",
    )
    [result] = read_vllm_scrapes([str(path)], NOVEMBER)
    reason = "vllm:generation_tokens_total = 1.7e+308 is not a count"

    assert result.report.rejections[reason].lines == [2]


def test_ledger_amounts_exact_or_rejected(tmp_path):
    path = tmp_path / "gl.csv"
    path.write_text(
        "period,account,amount\n"
        "2026-11,6100,123456789012345678901.23\n"
        "2026-11,6100,0.01\n"
        "2026-11,6100,1e999999999\n"
        "2026-11,6100,0.0000000000001\n",
        encoding="utf-8",
    )
    result = read_ledger(str(path), NOVEMBER)
    reason = "amount of 10^24 or more, or with more than 12 decimal places"

    # Python's default context would round this 23-digit total.
    assert str(result.booked[("6100", "")].amount) == "123456789012345678901.24"
    assert result.report.rejections[reason].lines == [4, 5]


def test_report_lists_first_reasons(tmp_path):
    path = tmp_path / "f.csv"
    rows = "".join(f"bad-{n},1.2\n" for n in range(1000))
    path.write_text("timestamp,pue\n" + rows, encoding="utf-8")
    report = read_facility_series(str(path), NOVEMBER).report

    assert len(report.rejections) == MAX_REASONS + 1
    assert report.rejections[OTHER_REASONS].count == 1000 - MAX_REASONS
    assert report.rows_rejected == 1000


def test_report_lists_first_flags(tmp_path):
    path = tmp_path / "g.prom"
    path.write_text(
        "".join(
            f'DCGM_FI_DEV_GPU_UTIL{{UUID="GPU-{n}"}} 50 {1793750400000 + 15000 * k}\n'
            for n in range(200)
            for k in range(1 if n else 3)
        ),
        encoding="utf-8",
    )
    report = read_gpu_exposition(str(path), NOVEMBER).report
    missing = [flag for flag in report.flags.values() if flag.code == "missing_gpu"]

    assert len(report.flags) <= MAX_FLAG_GROUPS + 1
    assert sum(flag.count for flag in missing) == 199


def test_report_cuts_long_reasons(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("timestamp,pue\n" + "x" * 100_000 + ",1.2\n", encoding="utf-8")
    report = read_facility_series(str(path), NOVEMBER).report
    [reason] = report.rejections

    assert len(reason) == 300
    assert reason.endswith("...")


def test_too_many_business_units(tmp_path, monkeypatch):
    monkeypatch.setattr(tokens, "MAX_TOKEN_GROUPS", 10)
    path = tmp_path / "u.jsonl"
    path.write_text(
        "".join(usage_line(id=f"r{n}", metadata={"team": f"t{n}"}) for n in range(11)),
        encoding="utf-8",
    )
    options = ReadOptions(consumer_field="metadata.team")

    with pytest.raises(
        InputError, match=r"u\.jsonl: more than 10 distinct business unit and model"
    ):
        read_openai_usage(str(path), options)


# A CSV field longer than the csv module's limit (131,072 characters) rejects its
# row in line-based readers and stops the whole-file facility reader.
LONG_FIELD = "x" * 200_000
CSV_FIELD_CASES = [
    (
        "nvidia-smi row",
        read_nvidia_smi,
        "g.csv",
        f"timestamp, uuid, utilization.gpu [%]\n2026/11/02 10:00:00.000, {LONG_FIELD}, 40 %\n",
        ("reject", 2),
    ),
    (
        "ledger row",
        read_ledger,
        "gl.csv",
        f"period,account,amount\n2026-11,{LONG_FIELD},1\n",
        ("reject", 2),
    ),
    (
        "PUE table row",
        read_pue_table,
        "pue.tsv",
        f"site\tPUE TTM\n{LONG_FIELD}\t1.1\n",
        ("reject", 2),
    ),
    (
        "ledger header",
        read_ledger,
        "gl.csv",
        LONG_FIELD + "\n",
        ("error", r"gl\.csv: line 1: unreadable CSV header"),
    ),
    (
        "facility unclosed quote",
        read_facility_series,
        "f.csv",
        f'timestamp,pue\n"{LONG_FIELD}\n',
        ("error", r"f\.csv: line 2: unreadable CSV \(field larger than field limit"),
    ),
]


@pytest.mark.parametrize(
    ("reader", "name", "content", "outcome"),
    [case[1:] for case in CSV_FIELD_CASES],
    ids=[case[0] for case in CSV_FIELD_CASES],
)
def test_csv_field_too_long(tmp_path, reader, name, content, outcome):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    if outcome[0] == "error":
        with pytest.raises(InputError, match=outcome[1]):
            reader(str(path), NOVEMBER)
        return
    report = reader(str(path), NOVEMBER).report
    reason = "unreadable CSV (field larger than field limit (131072))"

    assert report.rejections[reason].lines == [outcome[1]]
