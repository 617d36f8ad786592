"""Shared fixtures: the real input files, LibreOffice, and recalculated workbooks.

Locally, tests that need LibreOffice or the real data files skip with a reason when
those are absent. In CI (the CI environment variable is set) they fail instead,
because a skipped recalculation test there would hide a broken workbook.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tokenbom_xl.recalc import RecalculatedWorkbook, find_soffice, recalculate_values

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = REPO_ROOT / "templates"
REFERENCE_SCENARIO = TEMPLATES / "reference_factory.toml"
PHYSICAL_SCENARIO = TEMPLATES / "reference_factory_physical.toml"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> None:
    """Skip locally; fail in CI, where every test must run."""
    if in_ci():
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The folder of real public input files (../shared/realdata beside the checkout).

    Set TOKENBOM_REALDATA to use another location.
    """
    folder = Path(
        os.environ.get("TOKENBOM_REALDATA", REPO_ROOT.parent / "shared" / "realdata")
    )
    if not (folder / "SOURCES.md").is_file():
        skip_or_fail(f"real data folder {folder} is absent")
    return folder


@pytest.fixture(scope="session")
def soffice() -> str:
    """The LibreOffice executable used for recalculation."""
    path = find_soffice()
    if path is None:
        skip_or_fail(
            "LibreOffice (soffice) is not installed; apt-get install libreoffice-calc-nogui"
        )
    return path


_RECALCULATED: dict[str, RecalculatedWorkbook] = {}


@pytest.fixture(scope="session")
def recalc(soffice):
    """Return a function that recalculates a workbook in LibreOffice, cached by content."""

    def run(path: str | Path) -> RecalculatedWorkbook:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if digest not in _RECALCULATED:
            _RECALCULATED[digest] = recalculate_values(path)
        return _RECALCULATED[digest]

    return run


def assert_close(actual, expected, *, rel: float = 1e-9, where: str = "") -> None:
    """Assert two numbers agree to ``rel`` relative (absolute 1e-12 near zero)."""
    assert isinstance(actual, (int, float)) and not isinstance(actual, bool), (
        f"{where}: {actual!r} is not a number"
    )
    tolerance = max(rel * abs(expected), 1e-12)
    assert abs(actual - expected) <= tolerance, (
        f"{where}: {actual!r} != {expected!r} (rel {rel:g})"
    )
