"""Saving a workbook byte-for-byte reproducibly, and atomically.

openpyxl stamps the current time into ``docProps/core.xml`` and into every zip entry,
so two saves of the same workbook differ. Here the document timestamps are fixed and
the zip is rewritten with fixed entry times, so the same input gives the same bytes.
The file is written under a temporary name in the target folder and renamed over the
target only when complete, so a failed run never leaves a partial workbook or
replaces a good one.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl.workbook import Workbook
from openpyxl.writer.excel import ExcelWriter

from tokenbom_xl.errors import OutputError

logger = logging.getLogger(__name__)

# The document's created and modified time. Fixed, because the workbook describes the
# scenario, not the moment it was built.
DOCUMENT_TIME = datetime(2000, 1, 1, 0, 0, 0)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def workbook_bytes(workbook: Workbook) -> bytes:
    """Serialize ``workbook`` to .xlsx bytes with fixed timestamps."""
    workbook.properties.created = DOCUMENT_TIME
    workbook.properties.modified = DOCUMENT_TIME
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        writer = ExcelWriter(workbook, archive)
        # ExcelWriter.save() would reset the modified time; write_data() does not.
        writer.write_data()
    return _normalize_zip(buffer.getvalue())


def _normalize_zip(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename), compresslevel=6)
    return out.getvalue()


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Raises:
        OutputError: the folder cannot be created or the file cannot be written; the
            target is left as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{path.parent}: cannot create the output folder: {exc.strerror}"
        ) from None
    if path.is_dir():
        raise OutputError(
            f"{path}: is a folder; give a file name such as {path / 'token_bom.xlsx'}"
        )
    temporary = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            temporary = Path(handle.name)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise OutputError(
            f"{path}: cannot write the file: {exc.strerror or exc}"
        ) from None
    logger.debug("wrote %s (%d bytes)", path, len(data))
    return path
