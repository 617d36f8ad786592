"""Output paths of the commands: checked before any input is read or output written.

A run must never write over one of its own input files, and two outputs of one run
must not share a file, because the second write would destroy the first. Paths are
compared after resolving symbolic links and ``..``, and by device and inode when
both files exist, so ``./usage.csv``, a symbolic link to it and a hard link to it
all count as the same file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from tokenbom_xl.atomic import replace_problem
from tokenbom_xl.errors import InputError

__all__ = ["OutputFile", "check_output_paths"]

# A command's file arguments as (label, path) pairs, e.g. ("--usage", Path("u.csv")).
# A path of None is an option that was not given and is skipped.
LabelledPaths = Iterable[tuple[str, str | Path | None]]


class OutputFile(click.Path):
    """Click type of an output file option: rejects an empty path and an existing folder."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, str) and value == "":
            self.fail("the path is empty; give the file to write", param, ctx)
        return super().convert(value, param, ctx)


def check_output_paths(outputs: LabelledPaths, inputs: LabelledPaths) -> None:
    """Reject outputs that are an input file, another output, or not a regular file.

    Raises:
        InputError: the message names the output and the file it clashes with.
    """
    given_inputs = [(label, Path(path)) for label, path in inputs if path is not None]
    seen_outputs: list[tuple[str, Path]] = []
    for label, path in outputs:
        if path is None:
            continue
        path = Path(path)
        problem = replace_problem(path)
        if problem is not None:
            raise InputError(f"{label}: {problem}")
        for input_label, input_path in given_inputs:
            if _same_file(path, input_path):
                raise InputError(
                    f"{label} {path} is the {input_label} input file {input_path}"
                    f"{_resolved_note(path, input_path)}; writing it would destroy the "
                    "input, so give the output another file name"
                )
        for other_label, other_path in seen_outputs:
            if _same_file(path, other_path):
                raise InputError(
                    f"{label} {path} and {other_label} {other_path} are the same file"
                    f"{_resolved_note(path, other_path)}; give each output its own file name"
                )
        seen_outputs.append((label, path))


def _same_file(first: Path, second: Path) -> bool:
    """Return whether two paths name one file, by resolved path or by inode."""
    if _resolved(first) == _resolved(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def _resolved(path: Path) -> Path:
    # resolve() follows symbolic links before it removes "..", as the system does.
    return path.resolve()


def _resolved_note(first: Path, second: Path) -> str:
    """Return how two differently spelled paths name one file, or '' if alike."""
    if str(first) == str(second):
        return ""
    if _resolved(first) == _resolved(second):
        return f" (both are {_resolved(second)})"
    return " (hard links to one file)"
