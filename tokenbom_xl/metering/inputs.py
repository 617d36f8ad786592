"""Safe opening of input files: bounded lines, bounded decompression, strict encodings.

Every reader opens its file through :func:`open_input`. Plain files, gzip files and
single-member zip files are read as a stream, and the decompressed bytes are counted
as they come out, so a zip or gzip bomb is stopped at the limits of
:class:`ReadLimits` instead of filling memory or disk. Lines are read with a size
bound, so a file with one 2 GB line is rejected after reading ``max_line_bytes`` of
it. Runs of lines that a reader ignores, such as blank lines and comments, are passed
over in bulk, so a file of millions of two-byte comment lines costs about as much as
its decompression. Text is UTF-8, or UTF-16 when the file starts with a UTF-16
byte-order mark, which PowerShell's ``>`` writes. UTF-16 is converted to UTF-8 as it
is read. Anything else is rejected with the line and byte where decoding failed.
"""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import io
import os
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from tokenbom_xl.errors import InputError

__all__ = [
    "RATIO_EXEMPT_BYTES",
    "CsvLineError",
    "DecompressionBudget",
    "IgnoredLines",
    "InputFile",
    "ReadLimits",
    "csv_fields",
    "file_magic",
    "first_nonblank",
    "open_input",
    "read_archive_member",
]

MIB = 1024 * 1024
GIB = 1024 * MIB

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}

# Bytes read from the (decompressed) stream at a time.
_CHUNK_BYTES = 1 << 20

# Decompressed output up to this size is allowed whatever the compression ratio, so
# a small, highly repetitive file is never taken for a bomb.
RATIO_EXEMPT_BYTES = 16 * MIB


@dataclass(frozen=True)
class ReadLimits:
    """Size limits for one input file, each settable with an option of ``tokenbom meter``.

    A JSON Lines record may be 16 MiB, and a whole JSON or YAML document, which is
    parsed in memory, 256 MiB. Both are estimates far above the exports seen so far.

    A gzip or zip input may expand to ``max_compression_ratio`` times its size on
    disk, past the first ``RATIO_EXEMPT_BYTES``, and never beyond
    ``max_decompressed_bytes``. The ratio is what stops a bomb early. Deflate
    expands at most about 1032 to 1, while the most repetitive export measured, a
    day of idle DCGM exposition with timestamps and Kubernetes labels, compresses
    about 102 to 1 with ``gzip -9``. A ratio of 200 admits that with room to spare
    and stops a 4 MB bomb after 800 MB. Apache POI's zip-bomb check works the same
    way, with a limit of 100 to 1. The 16 GiB cap bounds the work on a large genuine
    file, such as a month of tens of millions of serving records of a few hundred
    bytes each.
    """

    max_line_bytes: int = 16 * MIB
    max_document_bytes: int = 256 * MIB
    max_decompressed_bytes: int = 16 * GIB
    max_compression_ratio: int = 200


class DecompressionBudget:
    """Decompressed-size allowance of one compressed file, counted as bytes come out."""

    def __init__(
        self, path: str, limits: ReadLimits, compressed_bytes: int, compression: str
    ) -> None:
        self.path = path
        self.limits = limits
        self.compressed_bytes = compressed_bytes
        self.compression = compression  # "gzip" or "zip", for messages
        by_ratio = max(
            RATIO_EXEMPT_BYTES, compressed_bytes * limits.max_compression_ratio
        )
        self.allowed = min(limits.max_decompressed_bytes, by_ratio)
        self.produced = 0

    @property
    def remaining(self) -> int:
        return self.allowed - self.produced

    def count(self, size: int) -> None:
        """Count ``size`` more decompressed bytes.

        Raises:
            InputError: the total exceeds the allowance; the message names the file,
                the limit reached and the option that raises it.
        """
        self.produced += size
        if self.produced <= self.allowed:
            return
        if self.allowed < self.limits.max_decompressed_bytes:
            raise InputError(
                f"{self.path}: decompresses to more than {self.allowed:,} bytes, over "
                f"{self.limits.max_compression_ratio} times its {self.compressed_bytes:,} "
                f"bytes on disk (a {self.compression} bomb?); raise --max-compression-ratio "
                "if the file is genuine"
            )
        raise InputError(
            f"{self.path}: decompresses to more than {self.allowed:,} bytes (a "
            f"{self.compression} bomb, or a larger export than expected); raise "
            "--max-decompressed-bytes if the file is genuine"
        )


class _CappedReader(io.RawIOBase):
    """Raw stream over a decompressor that raises InputError once its budget is spent."""

    def __init__(self, source: BinaryIO, budget: DecompressionBudget) -> None:
        self._source = source
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        budget = self._budget
        try:
            data = self._source.read(len(buffer))
        except EOFError:
            raise InputError(
                f"{budget.path}: the {budget.compression} data ends early (truncated file); copy the file again"
            ) from None
        except (gzip.BadGzipFile, zlib.error, zipfile.BadZipFile, OSError) as exc:
            raise InputError(
                f"{budget.path}: the {budget.compression} data is damaged ({exc}); copy the file again"
            ) from None
        budget.count(len(data))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._source.close()
        super().close()


class _Utf16Reader(io.RawIOBase):
    """Raw stream that decodes UTF-16 text and returns it encoded as UTF-8."""

    def __init__(self, source: BinaryIO, codec: str, path: str) -> None:
        self._source = source
        # "utf-16-le" or "utf-16-be". The caller has already consumed the byte-order mark.
        self._codec = codec
        self._decoder = codecs.getincrementaldecoder(codec)("strict")
        self._path = path
        self._pending = b""
        self._newlines = 0
        self._finished = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending and not self._finished:
            chunk = self._source.read(_CHUNK_BYTES)
            self._finished = not chunk
            try:
                text = self._decoder.decode(chunk, final=self._finished)
            except UnicodeDecodeError as exc:
                before = exc.object[: exc.start].decode(self._codec, "replace")
                line = self._newlines + before.count("\n") + 1
                raise InputError(
                    f"{self._path}: line {line}: not valid UTF-16 text ({exc.reason}); "
                    "export the file again or convert it to UTF-8"
                ) from None
            self._newlines += text.count("\n")
            self._pending = text.encode("utf-8")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def close(self) -> None:
        self._source.close()
        super().close()


# Ignored lines read one at a time before a bulk skip is tried. A failed try doubles
# the number, up to the maximum, so files that alternate comments and data lines do
# not pay for a bulk scan after every comment.
_BULK_AFTER = 16
_MAX_BULK_AFTER = 1 << 16
# Bytes of the buffer that the first bulk scan looks at. Each scan that finds only
# ignored lines makes the next one look at four times as many.
_FIRST_WINDOW = 16 * 1024


@functools.lru_cache(maxsize=16)
def _first_byte_marks(prefixes: tuple[bytes, ...]) -> bytes | None:
    """Return the translation table of :meth:`IgnoredLines._all_ignored`, if usable."""
    if any(len(prefix) != 1 for prefix in prefixes):
        return None
    table = bytearray(b"x" * 256)
    table[ord("\n")] = ord("\n")
    for prefix in prefixes:
        table[prefix[0]] = ord("a")
    return bytes(table)


@dataclass(frozen=True)
class IgnoredLines:
    """Lines that a reader ignores, which :meth:`InputFile.lines` may pass over in bulk.

    A line is ignored when it is empty or only a carriage return, or when it starts
    with one of ``prefixes`` and contains none of ``unless``. Leading whitespace is
    not stripped, so a line that the reader would strip to nothing is still read
    one at a time, which is slower but gives the same result.
    """

    prefixes: tuple[bytes, ...] = ()
    unless: tuple[bytes, ...] = ()

    def matches(self, raw: bytes) -> bool:
        """Return whether one line, given with its line ending, is ignored."""
        content = raw[:-1] if raw.endswith(b"\n") else raw
        if content in (b"", b"\r"):
            return True
        return content.startswith(self.prefixes) and not any(
            word in content for word in self.unless
        )

    def leading_run(
        self, buffer: bytes, start: int, size: int
    ) -> tuple[int, int, bool]:
        """Find the complete ignored lines at ``buffer[start:start + size]``.

        Returns (bytes, lines, whole): the size and line count of the run, and
        whether it covers every complete line in that part of the buffer.
        """
        count = buffer.count(b"\n", start, start + size)
        if count == 0:
            return 0, 0, True
        end = buffer.rfind(b"\n", start, start + size) + 1 - start
        if self._all_ignored(buffer, start, end):
            return end, count, True
        return self._run_by_line(buffer, start, end)

    def _all_ignored(self, buffer: bytes, start: int, end: int) -> bool:
        """Return whether every line in ``buffer[start:start + end]`` is ignored.

        Looks only at the first byte of each line, in two passes over the bytes.
        Returns False when unsure: for a line that starts with a carriage return,
        for prefixes of several bytes, and when a word of ``unless`` is present.
        """
        table = _first_byte_marks(self.prefixes)
        if table is None:
            return False
        # Newlines stay, bytes that may start an ignored line become "a" and all
        # others "x", so a line that is not ignored shows as "\nx".
        marked = buffer[start : start + end].translate(table)
        if marked.startswith(b"x") or b"\nx" in marked:
            return False
        return not any(
            buffer.find(word, start, start + end) >= 0 for word in self.unless
        )

    def _run_by_line(
        self, buffer: bytes, start: int, size: int
    ) -> tuple[int, int, bool]:
        """Return what :meth:`leading_run` returns, checking the lines one by one."""
        window = np.frombuffer(buffer, dtype=np.uint8, count=size, offset=start)
        ends = np.flatnonzero(window == ord("\n"))
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        lengths = ends - starts
        ignored = (lengths == 0) | ((lengths == 1) & (window[starts] == ord("\r")))
        for prefix in self.prefixes:
            found = lengths >= len(prefix)
            for offset, byte in enumerate(prefix):
                found &= window[np.minimum(starts + offset, size - 1)] == byte
            ignored |= found
        kept = np.flatnonzero(~ignored)
        lines = int(kept[0]) if len(kept) else len(ends)
        run = int(ends[lines - 1]) + 1 if lines else 0
        for word in self.unless:
            found_at = buffer.find(word, start, start + run)
            if found_at >= 0:
                # The run ends before the line that contains the word.
                newline = buffer.rfind(b"\n", start, found_at)
                run = 0 if newline < 0 else newline + 1 - start
                lines = buffer.count(b"\n", start, start + run)
        return run, lines, lines == len(ends)


class InputFile:
    """Readable input of decompressed UTF-8 text, read by line or as one document."""

    def __init__(
        self, path: str, stream: BinaryIO, limits: ReadLimits, compression: str
    ) -> None:
        self.path = path
        self.limits = limits
        self.compression = compression  # "", "gzip" or "zip"
        self._stream = stream
        self._buffer = b""
        self._position = 0  # index of the next unread byte in _buffer
        # The file's encoding. The text that the methods return is always UTF-8.
        self.encoding = self._detect_encoding()

    def __enter__(self) -> InputFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._stream.close()

    def _detect_encoding(self) -> str:
        """Consume a byte-order mark and return the encoding, decoding UTF-16 from here on."""
        head = self._stream.peek(4)[:4] if hasattr(self._stream, "peek") else b""
        if head.startswith(_UTF8_BOM):
            self._stream.read(3)
            return "utf-8"
        codec = _UTF16_BOMS.get(head[:2])
        if codec is not None:
            self._stream.read(2)
            self._stream = _Utf16Reader(self._stream, codec, self.path)
            return "utf-16"
        return "utf-8"

    def _fill(self) -> bool:
        """Append the next chunk of the stream to the buffer, or return False at the end."""
        chunk = self._stream.read(_CHUNK_BYTES)
        if not chunk:
            return False
        self._buffer = self._buffer[self._position :] + chunk
        self._position = 0
        return True

    def lines(
        self, ignored: IgnoredLines | None = None, *, after: int = 0
    ) -> Iterator[tuple[int, str]]:
        """Yield (line number, text without the line ending), one line at a time.

        When ``ignored`` is given, long runs of lines that it matches are skipped in
        bulk after their first lines were yielded. A reader must therefore need no
        more than the first lines of such a run. ``after`` is the number of lines
        that an earlier call already yielded, so the numbering continues when a
        reader switches to another ``ignored`` rule.

        Raises:
            InputError: a line is longer than ``max_line_bytes`` or is not valid text.
        """
        limit = self.limits.max_line_bytes
        number = after
        streak = 0  # ignored lines in a row, read one at a time
        patience = _BULK_AFTER
        while True:
            raw = self._next_line(number + 1)
            if raw is None:
                return
            number += 1
            if len(raw) - raw.endswith(b"\n") > limit:
                raise InputError(self._long_line_message(number))
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    self._not_utf8_message(number, exc.start, raw[exc.start])
                ) from None
            yield number, text.rstrip("\r\n")
            if ignored is None:
                continue
            if not ignored.matches(raw):
                streak = 0
                continue
            streak += 1
            if streak >= patience:
                skipped = self._skip_ignored(ignored, number)
                number += skipped
                streak = 0
                patience = (
                    _BULK_AFTER if skipped else min(2 * patience, _MAX_BULK_AFTER)
                )

    def _next_line(self, number: int) -> bytes | None:
        """Return the next line with its line ending, or None at the end of the file."""
        limit = self.limits.max_line_bytes
        end = self._buffer.find(b"\n", self._position)
        while end < 0:
            pending = len(self._buffer) - self._position
            if pending > limit:
                raise InputError(self._long_line_message(number))
            if not self._fill():
                break
            end = self._buffer.find(b"\n", pending)
        if end < 0:
            raw = self._buffer[self._position :]
            self._buffer, self._position = b"", 0
            return raw or None
        raw = self._buffer[self._position : end + 1]
        self._position = end + 1
        return raw

    def _skip_ignored(self, ignored: IgnoredLines, number: int) -> int:
        """Pass over the ignored lines that follow line ``number`` and return their count."""
        skipped = 0
        window = _FIRST_WINDOW
        while True:
            available = len(self._buffer) - self._position
            size = min(window, available)
            run, lines, whole = (
                ignored.leading_run(self._buffer, self._position, size)
                if size
                else (0, 0, True)
            )
            if run:
                self._check_utf8(self._position, run, number + skipped)
                self._position += run
                skipped += lines
            if not whole:
                return skipped
            if size < available:
                window *= 4
                continue
            # Only part of a line is left in the buffer.
            if available - run > self.limits.max_line_bytes or not self._fill():
                return skipped

    def _check_utf8(self, start: int, size: int, number: int) -> None:
        """Check that skipped lines are UTF-8 too, naming the line that is not."""
        if self._buffer[start : start + size].isascii():
            return
        try:
            codecs.utf_8_decode(
                memoryview(self._buffer)[start : start + size], "strict", True
            )
        except UnicodeDecodeError as exc:
            position = start + exc.start
            newline = self._buffer.rfind(b"\n", start, position)
            line_start = start if newline < 0 else newline + 1
            line = number + self._buffer.count(b"\n", start, position) + 1
            raise InputError(
                self._not_utf8_message(
                    line, position - line_start, self._buffer[position]
                )
            ) from None

    def _not_utf8_message(self, number: int, index: int, value: int) -> str:
        return (
            f"{self.path}: line {number}: not UTF-8 text (byte {index + 1} of the line is "
            f"0x{value:02x}); convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8"
        )

    def _long_line_message(self, number: int) -> str:
        return (
            f"{self.path}: line {number} is longer than {self.limits.max_line_bytes:,} bytes "
            "(a damaged or binary file?); raise --max-line-bytes if the line is genuine"
        )

    def read_text(self) -> str:
        """Read the rest of the file as text, up to ``max_document_bytes``.

        Raises:
            InputError: the document is larger than the limit or is not valid text.
        """
        limit = self.limits.max_document_bytes
        parts = [self._buffer[self._position :]]
        self._buffer, self._position = b"", 0
        size = len(parts[0])
        while size <= limit:
            chunk = self._stream.read(min(_CHUNK_BYTES, limit + 1 - size))
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        if size > limit:
            raise InputError(
                f"{self.path}: larger than {limit:,} bytes, the limit for a whole-document format "
                "(JSON, YAML); split it, export it as JSON Lines, or raise --max-document-bytes"
            )
        data = b"".join(parts)
        try:
            return data.decode("utf-8").lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InputError(
                f"{self.path}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                "convert the file to UTF-8"
            ) from None


def open_input(path: str | Path, limits: ReadLimits | None = None) -> InputFile:
    """Open ``path`` for reading, decompressing gzip and single-member zip files.

    Raises:
        InputError: the file is missing, unreadable, a folder, a damaged archive, or
            an archive with more than one member.
    """
    limits = limits or ReadLimits()
    shown = str(path)
    handle = _open_binary(shown)
    head = handle.peek(4)[:4]
    for magic, compression in ((_GZIP_MAGIC, "gzip"), (_ZIP_MAGIC, "zip")):
        if not head.startswith(magic):
            continue
        budget = DecompressionBudget(
            shown, limits, os.fstat(handle.fileno()).st_size, compression
        )
        inner: BinaryIO = (
            gzip.GzipFile(fileobj=handle, mode="rb")
            if compression == "gzip"
            else _single_zip_member(handle, shown)
        )
        capped = _CappedReader(inner, budget)
        return InputFile(
            shown,
            io.BufferedReader(capped, buffer_size=_CHUNK_BYTES),
            limits,
            compression,
        )
    return InputFile(shown, handle, limits, "")


class CsvLineError(ValueError):
    """Error for a line that Python's csv module cannot split. The message gives the cause."""


def csv_fields(
    line: str, delimiter: str = ",", *, skip_initial_space: bool = False
) -> list[str]:
    """Split one line of CSV into its fields.

    Raises:
        CsvLineError: the csv module rejects the line, for example because a field
            is longer than its limit of 131,072 characters.
    """
    reader = csv.reader(
        [line], delimiter=delimiter, skipinitialspace=skip_initial_space
    )
    try:
        return next(reader, [])
    except csv.Error as exc:
        raise CsvLineError(str(exc)) from None


def first_nonblank(lines: Iterator[tuple[int, str]]) -> tuple[int, str]:
    """Return the first line of ``lines`` that is not blank, or (0, "") if none is."""
    for number, line in lines:
        if line.strip():
            return number, line
    return 0, ""


def file_magic(path: str | Path) -> bytes:
    """Return the first four bytes of a file, to tell archives from text.

    Raises:
        InputError: the file is missing, a folder or unreadable.
    """
    with _open_binary(str(path)) as handle:
        return handle.read(4)


def _open_binary(path: str) -> io.BufferedReader:
    try:
        return open(path, "rb", buffering=1 << 20)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found; check the path") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder; give the file inside it") from None
    except OSError as exc:
        raise InputError(f"{path}: failed to open the file: {exc.strerror}") from None


def _single_zip_member(handle: io.BufferedReader, path: str) -> BinaryIO:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            f"{path}: not a readable zip file ({exc}); copy the file again"
        ) from None
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) != 1:
        names = ", ".join(info.filename for info in members[:5]) or "none"
        raise InputError(
            f"{path}: a zip file must contain exactly one file, but this one contains {len(members)} ({names}); unzip it first"
        )
    return archive.open(members[0])


def read_archive_member(
    archive: zipfile.ZipFile, name: str, budget: DecompressionBudget
) -> bytes:
    """Read one member of a zip archive, counting against the archive's budget.

    The member's declared size is not trusted: at most one byte more than the
    budget or ``max_document_bytes`` allows is decompressed.

    Raises:
        InputError: the member is damaged or larger than ``max_document_bytes``, or
            the archive as a whole expands beyond its budget.
    """
    path, limits = budget.path, budget.limits
    allowed = min(limits.max_document_bytes, max(budget.remaining, 0))
    try:
        with archive.open(name) as member:
            data = member.read(allowed + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise InputError(
            f"{path}: member {name} is damaged ({exc}); copy the file again"
        ) from None
    if len(data) > limits.max_document_bytes:
        raise InputError(
            f"{path}: member {name} is larger than {limits.max_document_bytes:,} bytes; raise --max-document-bytes"
        )
    budget.count(len(data))
    return data
