"""A newcomer's `make run` installs the project without pages of build warnings.

The editable install used to print setuptools' ``BuildBackendWarning`` blocks (about 200 lines at
one point), which buried the lines that matter. The install is run for real, as `make install`
runs it, into a throwaway environment, so that the project's own environment is never touched
while other tests use it.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_editable_install_prints_no_build_warnings(tmp_path: Path) -> None:
    target = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps"]
    result = subprocess.run(
        [*command, "-e", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    # pip's own notes about the machine's package index locations are not the project's doing.
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith("WARNING: Location")
    ]
    assert lines == [], "\n".join(lines)
    pth = list((target / "lib").glob("python*/site-packages/__editable__*.pth"))
    assert len(pth) == 1
    assert pth[0].read_text().split() == [str(ROOT)]
