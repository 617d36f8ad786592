"""Save a workbook byte-for-byte reproducibly, and atomically.

openpyxl stamps the current time into ``docProps/core.xml`` and into every zip entry,
so two saves of the same workbook differ. Here the document timestamps are fixed and
the zip is rewritten with fixed entry times, so the same input gives the same bytes.
The file is written by :func:`tokenbom_xl.atomic.write_bytes_atomic` under a
temporary name in the target folder and renamed over the target only when complete.
A failed run therefore never leaves a partial workbook or replaces a good one.
"""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import datetime
from pathlib import Path

from openpyxl.workbook import Workbook
from openpyxl.writer.excel import ExcelWriter

from tokenbom_xl.atomic import write_bytes_atomic

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
    """Write workbook ``data`` to ``path`` through :func:`write_bytes_atomic`.

    Raises:
        OutputError: ``path`` is not a regular file, or the folder cannot be created
            or written to. The target is left as it was.
    """
    written = write_bytes_atomic(path, data, example_name="token_bom.xlsx")
    logger.debug("wrote %s (%d bytes)", written, len(data))
    return written
