"""Files shipped with the package: the scenario and mapping templates.

In a source checkout they are in the top-level ``templates/`` folder. An installed
package contains the same folder as ``tokenbom_xl.templates``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def template_path(name: str) -> Path:
    """Return the path of a shipped template such as ``reference_factory.toml``.

    Raises:
        FileNotFoundError: no template of that name is shipped.
    """
    try:
        candidate = Path(str(resources.files("tokenbom_xl.templates").joinpath(name)))
    except ModuleNotFoundError:
        candidate = _CHECKOUT_TEMPLATES / name
    if not candidate.is_file():
        raise FileNotFoundError(f"template {name!r} is not shipped with tokenbom_xl")
    return candidate
