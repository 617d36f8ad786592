"""The installable package: its package list, public names and shipped templates."""

from __future__ import annotations

import tomllib

from conftest import REPO_ROOT

import tokenbom_xl
from tokenbom_xl.resources import template_path


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(REPO_ROOT).parts)
        for init in (REPO_ROOT / "tokenbom_xl").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found - listed == set(), "add these packages to [tool.setuptools] packages"


def test_public_names_are_exported():
    for name in tokenbom_xl.__all__:
        assert hasattr(tokenbom_xl, name), name


def test_reference_templates_are_shipped():
    assert template_path("reference_factory.toml").is_file()
    assert template_path("reference_factory_physical.toml").is_file()
    assert template_path("tbm_mapping.csv").is_file()
