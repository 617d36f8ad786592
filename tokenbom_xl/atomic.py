"""Atomic file writes: a temporary file in the target folder, then a rename.

Readers of the target see the old file or the whole new one, never a partial write,
and a failed write leaves the old file as it was. Every output of the package (the
workbooks, the report CSV files, the metered TOML) is written here. The module
imports no spreadsheet library, so the report commands start fast.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from tokenbom_xl.errors import OutputError

__all__ = ["replace_problem", "write_bytes_atomic"]


def replace_problem(path: Path, *, example_name: str | None = None) -> str | None:
    """Return why an existing ``path`` must not be replaced, or None if it may be.

    Only a regular file, or no file at all, may be replaced. A rename over a symbolic
    link would replace the link and leave the file it points to unchanged, and a
    rename over a FIFO, a device or a socket would remove that special file.
    """
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        # The file does not exist, or a parent folder is missing, not a folder or not
        # readable. The write itself then fails and reports the reason.
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return (
            f"{path}: is a symbolic link (to {os.readlink(path)}); give the path of "
            "a regular file instead, such as the file the link points to"
        )
    if stat.S_ISDIR(mode):
        example = path / (example_name or "report.csv")
        return f"{path}: is a folder; give a file name such as {example}"
    if stat.S_ISFIFO(mode):
        kind = "a FIFO (named pipe)"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    else:
        kind = "a special file"
    return (
        f"{path}: is {kind}, not a regular file, so it cannot be replaced; "
        "give the path of a regular file"
    )


def write_bytes_atomic(
    path: str | Path, data: bytes, *, example_name: str | None = None
) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    ``example_name`` is the file name suggested when ``path`` is a folder.

    Raises:
        OutputError: ``path`` exists and is not a regular file (checked before the
            temporary file is written), or the folder cannot be created or written
            to. The target is left as it was.
    """
    path = Path(path)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{folder}: cannot create the output folder: {_reason(exc)}; "
            "create it yourself or write the output to a folder you can write to"
        ) from None
    problem = replace_problem(path, example_name=example_name)
    if problem is not None:
        raise OutputError(problem)
    temporary = None
    try:
        with tempfile.NamedTemporaryFile(
            dir=folder, prefix=f".{path.name}.", suffix=".tmp", delete=False
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
        raise OutputError(_write_failure(path, exc)) from None
    return path


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _write_failure(path: Path, exc: OSError) -> str:
    """Name the folder and the fix for the common reasons a write fails."""
    folder = path.parent
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (
            f"{path}: cannot write the file: no permission to create files in the "
            f"folder {folder}; write the output to a folder you can write to, or "
            "ask for write permission on this one"
        )
    if exc.errno == errno.EROFS:
        return (
            f"{path}: cannot write the file: the folder {folder} is on a read-only "
            "file system; write the output to a writable folder"
        )
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"{path}: cannot write the file: no space left for the folder {folder} "
            f"({_reason(exc)}); free some space or write the output elsewhere"
        )
    return f"{path}: cannot write the file in the folder {folder}: {_reason(exc)}"
