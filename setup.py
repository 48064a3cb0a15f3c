"""Build hook: a wheel of Ruta is the whole app, Spanish included (the metadata is in pyproject.toml).

The repository keeps templates/ and migrations/ at its top level and the Spanish translations as .po fragments; the
compiled catalogue is never committed. Building a wheel (`pip install .`, `python -m build`) copies templates/ and
migrations/ into the package and compiles the catalogues with the same merge as `make translations`
(caseapp/i18n_catalog.py), so an installed Ruta needs no source tree. caseapp finds them inside the package first
(caseapp/__init__.py). An editable install (`pip install -e .`) reads them from the source tree instead.
"""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _i18n_catalog():
    # Loaded by path: importing the caseapp package would need Flask, which the build environment does not have.
    spec = importlib.util.spec_from_file_location("_ruta_i18n_catalog", HERE / "caseapp" / "i18n_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        package = Path(self.build_lib) / "caseapp"
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for folder in ("templates", "migrations"):
            shutil.rmtree(package / folder, ignore_errors=True)  # nothing stale from an earlier build
            shutil.copytree(HERE / folder, package / folder, ignore=ignore)
        catalog = _i18n_catalog()
        for locale in catalog.LOCALES:
            out = package / "translations" / locale / "LC_MESSAGES"
            out.mkdir(parents=True, exist_ok=True)
            with (out / "messages.mo").open("wb") as fh:
                catalog.write_mo(fh, catalog.merged(locale), use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithCatalogues})
