"""Helpers shared by the errors-server tests: the fixture catalogue and the package catalogue."""

from __future__ import annotations

from pathlib import Path

from shared.errorcodes import Catalogue, load_catalogue
from shared.errorcodes.catalogue import DATA_DIR

FIXTURE_DATA = Path(__file__).resolve().parent / "fixtures" / "errors" / "data"


def fixture_catalogue() -> Catalogue:
    """Return the small catalogue written for the tests, in the real data-file format."""
    return load_catalogue(FIXTURE_DATA)


def package_catalogue() -> Catalogue:
    """Return the catalogue shipped in the package's data folder."""
    return load_catalogue(DATA_DIR)
