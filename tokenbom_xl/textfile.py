"""Read a whole input file as text, with errors that name the file and the fix."""

from __future__ import annotations

from pathlib import Path

from tokenbom_xl.errors import InputError


def read_text_file(path: str | Path, *, kind: str, file_format: str = "CSV") -> str:
    """Return the text of ``path``, a UTF-8 file (a leading byte-order mark is dropped).

    ``kind`` names the file in messages ("asset register"), and ``file_format`` is
    what the user should save it as ("CSV", "TOML").

    Raises:
        InputError: the file is missing, is a folder, is not UTF-8 or cannot be read.
    """
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: {kind} file not found; check the path") from None
    except IsADirectoryError:
        raise InputError(
            f"{path}: is a folder; give the {kind} {file_format} file"
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the {kind} as UTF-8 "
            f"{file_format}"
        ) from None
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the {kind} file: {exc.strerror or exc}"
        ) from None
