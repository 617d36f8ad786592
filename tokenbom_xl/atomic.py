"""Atomic file writes for reports: a temporary file in the target folder, then a rename.

The workbook writer has its own copy in :mod:`tokenbom_xl.workbook.save`; this one
imports no spreadsheet library, so the report commands start fast.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tokenbom_xl.errors import OutputError

__all__ = ["write_bytes_atomic"]


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

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
        raise OutputError(f"{path}: is a folder; give a file name")
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
    return path
