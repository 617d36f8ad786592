"""Recalculate a workbook with LibreOffice headless, and read the results.

By default LibreOffice keeps a cell's cached value when it loads an .xlsx. Each run
therefore gets a fresh user profile whose settings force recalculation on load
(``OOXMLRecalcMode`` = 0, "always"). Each run has its own profile folder, because two
soffice processes that share one block each other.

The recalculated copy is for reading values only: LibreOffice rewrites some formulas
when it saves, so it is never shipped.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from tokenbom_xl.errors import InputError, OutputError

__all__ = ["RecalculatedWorkbook", "find_soffice", "recalculate", "recalculate_values"]

logger = logging.getLogger(__name__)

# Error values a formula can evaluate to, in Excel and LibreOffice.
ERROR_VALUES = frozenset(
    {
        "#NULL!",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#N/A",
        "#GETTING_DATA",
        "Err:502",
        "Err:504",
        "Err:508",
        "Err:511",
        "Err:522",
    }
)

_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""

# Seconds. A cold start on a small machine takes about 5 to 20 s (an estimate).
DEFAULT_TIMEOUT = 300.0

# A generated workbook's parts unpack to a few MB, and even one with a large usage
# table to a few hundred. Spreadsheet XML compresses about 10:1 to 30:1, so a part
# over 16 MiB that compresses more than 200:1 is a decompression bomb.
MAX_UNCOMPRESSED_BYTES = 512 * 2**20
_BOMB_RATIO = 200
_BOMB_MIN_BYTES = 16 * 2**20


def find_soffice() -> str | None:
    """Return the LibreOffice executable: $TOKENBOM_SOFFICE, soffice or libreoffice."""
    configured = os.environ.get("TOKENBOM_SOFFICE")
    if configured:
        return configured if Path(configured).is_file() else shutil.which(configured)
    return shutil.which("soffice") or shutil.which("libreoffice")


def recalculate(
    path: str | Path, outdir: str | Path, *, timeout: float = DEFAULT_TIMEOUT
) -> Path:
    """Recalculate ``path`` in LibreOffice and write the result into ``outdir``.

    Returns the path of the recalculated copy (same file name, in ``outdir``).

    Raises:
        InputError: ``path`` does not exist.
        OutputError: LibreOffice is not installed, fails, or times out.
    """
    source = Path(path).resolve()
    if not source.is_file():
        raise InputError(f"{path}: workbook not found; check the path")
    soffice = find_soffice()
    if soffice is None:
        raise OutputError(
            "LibreOffice is not installed (no soffice on PATH); install it, for example "
            "`apt-get install -y libreoffice-calc-nogui`, or set TOKENBOM_SOFFICE to its path"
        )
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tokenbom-lo-") as profile:
        settings = Path(profile, "user", "registrymodifications.xcu")
        settings.parent.mkdir(parents=True)
        settings.write_text(_PROFILE_SETTINGS, encoding="utf-8")
        command = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(outdir),
            str(source),
        ]
        logger.info("recalculating %s with %s", source, soffice)
        try:
            completed = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise OutputError(
                f"{source}: LibreOffice timed out after {timeout:g} s; raise the "
                "timeout (tokenbom check --timeout) or check that soffice --headless "
                "starts on this machine"
            ) from None
        except OSError as exc:
            raise OutputError(
                f"failed to start LibreOffice ({soffice}): {exc.strerror or exc}; "
                "check the installation or set TOKENBOM_SOFFICE to a working soffice"
            ) from None
    result = outdir / source.name
    if completed.returncode != 0 or not result.is_file():
        detail = (completed.stderr or completed.stdout).strip()
        raise OutputError(
            f"{source}: LibreOffice failed to recalculate the workbook (exit {completed.returncode}): {detail}"
        )
    return result


@dataclass
class RecalculatedWorkbook:
    """Values of a recalculated workbook, with the formula cells of the original."""

    values: dict[str, dict[str, Any]]  # sheet -> coordinate -> value
    formula_cells: dict[str, list[str]]  # sheet -> coordinates that contain a formula
    # Defined name -> (sheet, coordinate), for single-cell names.
    names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def value(self, sheet: str, coordinate: str) -> Any:
        return self.values.get(sheet, {}).get(coordinate)

    def named(self, name: str) -> Any:
        """Return the recalculated value of a single-cell defined name."""
        sheet, coordinate = self.names[name]
        return self.value(sheet, coordinate)

    def errors(self) -> list[tuple[str, str, Any]]:
        """Return (sheet, coordinate, value) for every formula cell that evaluated to an error."""
        found = []
        for sheet, coordinates in self.formula_cells.items():
            for coordinate in coordinates:
                value = self.value(sheet, coordinate)
                if isinstance(value, str) and value in ERROR_VALUES:
                    found.append((sheet, coordinate, value))
        return found


def recalculate_values(
    path: str | Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
) -> RecalculatedWorkbook:
    """Recalculate ``path`` in LibreOffice and read back every value.

    Raises:
        InputError: the file is missing, is not a readable .xlsx workbook, or its
            parts would unpack to more than ``max_uncompressed_bytes`` or at a
            ratio that only a decompression bomb reaches.
        OutputError: LibreOffice fails.
    """
    _require_plausible_size(path, max_uncompressed_bytes)
    original = _load(path, data_only=False)
    formula_cells: dict[str, list[str]] = {}
    for ws in original.worksheets:
        formula_cells[ws.title] = [
            cell.coordinate
            for row in ws.iter_rows()
            for cell in row
            if cell.data_type == "f"
        ]
    names = {}
    for name, definition in original.defined_names.items():
        destinations = list(definition.destinations)
        if len(destinations) == 1:
            sheet, reference = destinations[0]
            names[name] = (sheet, reference.replace("$", ""))

    with tempfile.TemporaryDirectory(prefix="tokenbom-recalc-") as outdir:
        recalculated = _load(recalculate(path, outdir, timeout=timeout), data_only=True)
        values = {
            ws.title: {
                cell.coordinate: cell.value
                for row in ws.iter_rows()
                for cell in row
                if cell.value is not None
            }
            for ws in recalculated.worksheets
        }
    return RecalculatedWorkbook(values=values, formula_cells=formula_cells, names=names)


def _require_plausible_size(path: str | Path, limit: int) -> None:
    """Raise InputError before openpyxl unpacks an archive that is too large."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except FileNotFoundError:
        raise InputError(f"{path}: workbook not found; check the path") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    total = sum(entry.file_size for entry in entries)
    if total > limit:
        raise InputError(
            f"{path}: its parts unpack to {total / 2**20:,.0f} MiB, over the limit of "
            f"{limit / 2**20:,.0f} MiB; raise --max-size-mb if the workbook is genuine"
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > _BOMB_MIN_BYTES and ratio > _BOMB_RATIO:
            raise InputError(
                f"{path}: part {entry.filename} unpacks {ratio:,.0f} times its stored "
                "size, which only a decompression bomb does; the file is rejected"
            )


def _load(path: str | Path, *, data_only: bool):
    try:
        return load_workbook(path, data_only=data_only)
    except FileNotFoundError:
        raise InputError(f"{path}: workbook not found; check the path") from None
    except (
        zipfile.BadZipFile,
        ElementTree.ParseError,
        InvalidFileException,
        KeyError,
        ValueError,
        TypeError,
        OSError,
    ) as exc:
        # openpyxl raises these for a damaged file or one that is not .xlsx.
        raise InputError(
            f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
