"""geodata/ is the framework-free core: importing it must not pull in Flask or SQLAlchemy."""

import subprocess
import sys


def test_geodata_imports_without_flask():
    code = (
        "import sys, geodata.dates, geodata.geometry; "
        "bad = [m for m in ('flask', 'sqlalchemy', 'timeline') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
