"""Opening input files safely: bounded lines, bounded decompression, strict encodings.

Every reader opens its file through :func:`open_input`. Plain files, gzip files and
single-member zip files are read as a stream, and the decompressed bytes are counted
as they come out, so a zip or gzip bomb is stopped at
``ReadLimits.max_decompressed_bytes`` instead of filling memory or disk. Lines are
read with a size bound, so a file with one 2 GB line is rejected after reading
``max_line_bytes + 1`` bytes of it. Text is UTF-8, or UTF-16 when the file starts with
a UTF-16 byte-order mark, which PowerShell's ``>`` writes. Anything else is rejected
with the line and byte where decoding failed.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from tokenbom_xl.errors import InputError

__all__ = [
    "InputFile",
    "ReadLimits",
    "file_magic",
    "open_input",
    "parse_json_text",
    "read_archive_member",
]

MIB = 1024 * 1024
GIB = 1024 * MIB

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True)
class ReadLimits:
    """Size limits for one input file; each is settable from ``tokenbom meter``.

    The defaults are an estimate, sized far above the exports seen so far. A JSON
    Lines record may be 16 MiB and a whole JSON or YAML document 256 MiB, which is
    parsed in memory. A compressed file may expand to 64 GiB, which is streamed.
    """

    max_line_bytes: int = 16 * MIB
    max_document_bytes: int = 256 * MIB
    max_decompressed_bytes: int = 64 * GIB


class _CappedReader(io.RawIOBase):
    """A raw stream over a decompressor that raises once too many bytes came out."""

    def __init__(
        self, source: BinaryIO, limit: int, path: str, compression: str
    ) -> None:
        self._source = source
        self._limit = limit
        self._path = path
        self._compression = compression
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._source.read(len(buffer))
        except EOFError:
            raise InputError(
                f"{self._path}: the {self._compression} data ends early (truncated file); copy the file again"
            ) from None
        except (gzip.BadGzipFile, zlib.error, zipfile.BadZipFile, OSError) as exc:
            raise InputError(
                f"{self._path}: the {self._compression} data is damaged ({exc}); copy the file again"
            ) from None
        self.produced += len(data)
        if self.produced > self._limit:
            raise InputError(
                f"{self._path}: decompresses to more than {self._limit:,} bytes (a zip or gzip bomb, "
                f"or a larger export than expected); raise --max-decompressed-bytes if the file is genuine"
            )
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._source.close()
        super().close()


class InputFile:
    """A readable input: a binary stream after decompression, plus its encoding."""

    def __init__(
        self, path: str, stream: BinaryIO, limits: ReadLimits, compression: str
    ) -> None:
        self.path = path
        self.limits = limits
        self.compression = compression  # "", "gzip" or "zip"
        self._stream = stream
        self.encoding = self._detect_encoding()

    def __enter__(self) -> InputFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._stream.close()

    def _detect_encoding(self) -> str:
        head = self._stream.peek(4)[:4] if hasattr(self._stream, "peek") else b""
        if head.startswith(_UTF8_BOM):
            self._stream.read(3)
            return "utf-8"
        if head[:2] in _UTF16_BOMS:
            return "utf-16"
        return "utf-8"

    def lines(self) -> Iterator[tuple[int, str]]:
        """Yield (line number, text without the line ending), one line at a time.

        Raises:
            InputError: a line is longer than ``max_line_bytes`` or is not valid text.
        """
        if self.encoding == "utf-16":
            yield from self._utf16_lines()
            return
        limit = self.limits.max_line_bytes
        number = 0
        while True:
            raw = self._stream.readline(limit + 1)
            if not raw:
                return
            number += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                raise InputError(self._long_line(number))
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{self.path}: line {number}: not UTF-8 text (byte {exc.start + 1} of the line is "
                    f"0x{raw[exc.start]:02x}); convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8"
                ) from None
            yield number, text.rstrip("\r\n")

    def _utf16_lines(self) -> Iterator[tuple[int, str]]:
        text = io.TextIOWrapper(self._stream, encoding="utf-16", newline=None)
        # A UTF-16 character is at least two bytes, so this bounds the line's bytes too.
        limit = self.limits.max_line_bytes // 2
        number = 0
        try:
            while True:
                line = text.readline(limit + 1)
                if not line:
                    return
                number += 1
                if len(line) > limit and not line.endswith("\n"):
                    raise InputError(self._long_line(number))
                yield number, line.rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{self.path}: line {number + 1}: not valid UTF-16 text ({exc.reason}); "
                "export the file again or convert it to UTF-8"
            ) from None
        finally:
            text.detach()

    def _long_line(self, number: int) -> str:
        return (
            f"{self.path}: line {number} is longer than {self.limits.max_line_bytes:,} bytes "
            "(a damaged or binary file?); raise --max-line-bytes if the line is genuine"
        )

    def read_text(self) -> str:
        """Read the whole document as text, up to ``max_document_bytes``.

        Raises:
            InputError: the document is larger than the limit or is not valid text.
        """
        limit = self.limits.max_document_bytes
        data = self._stream.read(limit + 1)
        if len(data) > limit:
            raise InputError(
                f"{self.path}: larger than {limit:,} bytes, the limit for a whole-document format "
                "(JSON, YAML); split it, export it as JSON Lines, or raise --max-document-bytes"
            )
        try:
            return data.decode(self.encoding).lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise InputError(
                f"{self.path}: line {line}: not {self.encoding.upper()} text (byte 0x{data[exc.start]:02x}); "
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
    if head.startswith(_GZIP_MAGIC):
        inner: BinaryIO = gzip.GzipFile(fileobj=handle, mode="rb")
        capped = _CappedReader(inner, limits.max_decompressed_bytes, shown, "gzip")
        return InputFile(
            shown, io.BufferedReader(capped, buffer_size=1 << 20), limits, "gzip"
        )
    if head.startswith(_ZIP_MAGIC):
        member = _single_zip_member(handle, shown)
        capped = _CappedReader(member, limits.max_decompressed_bytes, shown, "zip")
        return InputFile(
            shown, io.BufferedReader(capped, buffer_size=1 << 20), limits, "zip"
        )
    return InputFile(shown, handle, limits, "")


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
        raise InputError(f"{path}: cannot read the file: {exc.strerror}") from None


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
            f"{path}: a zip file must hold exactly one file, this one holds {len(members)} ({names}); unzip it first"
        )
    return archive.open(members[0])


def read_archive_member(
    archive: zipfile.ZipFile,
    name: str,
    path: str,
    limits: ReadLimits,
    budget: list[int],
) -> bytes:
    """Read one member of a zip archive, counting against a shared decompression budget.

    ``budget`` is a one-element list holding the bytes still allowed for the whole
    archive; the member's declared size is not trusted.

    Raises:
        InputError: the member is damaged, larger than ``max_document_bytes``, or the
            archive as a whole exceeds ``max_decompressed_bytes``.
    """
    allowed = min(limits.max_document_bytes, budget[0])
    try:
        with archive.open(name) as member:
            data = member.read(allowed + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise InputError(
            f"{path}: member {name} is damaged ({exc}); copy the file again"
        ) from None
    if len(data) > allowed:
        if allowed == budget[0]:
            raise InputError(
                f"{path}: decompresses to more than {limits.max_decompressed_bytes:,} bytes (a zip bomb?); "
                "raise --max-decompressed-bytes if the file is genuine"
            )
        raise InputError(
            f"{path}: member {name} is larger than {limits.max_document_bytes:,} bytes; raise --max-document-bytes"
        )
    budget[0] -= len(data)
    return data


def parse_json_text(text: str, path: str) -> Any:
    """Parse JSON, naming the file, line and column of a syntax error.

    Raises:
        InputError: the text is not valid JSON; a document that stops early is
            reported as truncated.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) - 1
        hint = "the file ends early (truncated?)" if truncated else exc.msg
        raise InputError(
            f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON: {hint}; fix or export the file again"
        ) from None
    except RecursionError:
        raise InputError(
            f"{path}: JSON nested too deeply to read; check that the file is a genuine export"
        ) from None
