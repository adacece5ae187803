"""The framework-free cores import neither Flask nor the store when they run, not only on paper.

import-linter (in ``make test``) checks the import statements; this checks what a fresh interpreter
actually loads, which also catches an import made through a package's ``__init__``.
"""

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "modules, forbidden",
    [
        (["geodata.dates", "geodata.geometry", "geodata.place_names", "geodata.gazetteer"],
         ["flask", "sqlalchemy", "timeline"]),
        (
            ["timeline.formats", "timeline.formats.geojson"],
            ["flask", "sqlalchemy", "timeline.store", "timeline.web"],
        ),
    ],
)
def test_importing_a_core_loads_no_framework(modules, forbidden):
    code = (
        f"import sys, {', '.join(modules)}; "
        f"bad = [m for m in {forbidden!r} if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_and_its_cli_load_no_dataframe_library():
    """The importer's memory budget (issue 11) has no room for pandas and pyarrow (about 150 MB):
    only the map pages' Folium and the GIS file formats may load them, when they are used."""
    code = (
        "import sys; from timeline.cli import main; from timeline.app import create_app; create_app(); "
        "bad = [m for m in ('pandas', 'pyarrow', 'folium', 'geopandas') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
