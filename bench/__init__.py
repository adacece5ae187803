"""The benchmark suite, run from the project root as ``python -m bench [--quick] [--backend B]``.

Every figure is printed beside a baseline measured in the same run on the same data (see
``bench/__main__.py``); the latest run per event count and backend is kept in bench/RESULTS.md and
what the runs taught, written by hand, in bench/FINDINGS.md.

It is a package so that its parts share one copy of each helper instead of importing each other
as top-level scripts: the result row, timing and warnings (``measure``), where each backend's data
lives and the app's command line (``backends``), starting and stopping servers (``servers``), the
statements measured on both databases (``queries``), and the report writer (``report``). One
module per section: (a) ``queries`` and ``repack``, (b) ``api``, (c) ``export`` (with
``export_worker``, run in a process of its own), (d, e3, e4) ``page``, (e1/e2/e5) ``instrument``,
(f) ``throughput``, (g) ``soak``. Test data comes from ``generate`` (shape in ``dataset``).

This file imports nothing of the app, so that ``python -m bench.export_worker`` and the servers'
own imports of ``bench.hello_wsgi`` stay lean.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent  # the project root: where `python -m bench` runs, and the servers' working directory
DATA = BENCH / "data"  # git-ignored: generated databases and artefacts, replaced at will
# The project venv's tools: the suite runs under .venv/bin/python (not resolved, so still the venv).
PROJECT_BIN = Path(sys.executable).parent
