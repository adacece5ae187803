"""A large CSV or ACLED table imports through the command line in bounded memory: rows are read,
checked and staged one by one, never held as a whole table (issue 12)."""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from timeline.formats.acled import COLUMNS as ACLED_COLUMNS

ROWS = 200_000
LIMIT_MB = 300  # issue 12's goal, the same as a GeoJSON file's (issue 11)


def write_csv(path: Path, n: int) -> Path:
    """A plain CSV of n point events, written as it is generated."""
    rng = random.Random(12)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "title", "start", "category", "lat", "lon", "sources"])
        for i in range(n):
            writer.writerow([
                f"c{i}", f"Event {i}", f"2024-{1 + i % 12:02d}-{rng.randrange(1, 29):02d}", "military",
                round(rng.uniform(50.5, 52), 5), round(rng.uniform(34, 37), 5), f"https://example.org/{i}",
            ])  # fmt: skip
    return path


def write_acled(path: Path, n: int) -> Path:
    """An ACLED export of n events with all 31 columns, written as it is generated."""
    rng = random.Random(13)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=ACLED_COLUMNS, restval="")
        writer.writeheader()
        for i in range(n):
            writer.writerow({
                "event_id_cnty": f"UKR{i}", "event_date": f"2024-{1 + i % 12:02d}-{rng.randrange(1, 29):02d}",
                "year": "2024", "time_precision": str(1 + i % 3), "event_type": "Battles",
                "sub_event_type": "Armed clash", "actor1": "Military Forces of Russia",
                "country": "Ukraine", "admin1": "Sumy", "location": f"Village {i % 500}",
                "latitude": round(rng.uniform(50.5, 52), 5), "longitude": round(rng.uniform(34, 37), 5),
                "geo_precision": "1", "source": "Ukrainska Pravda; Suspilne", "fatalities": str(i % 4),
                "notes": f"On this day, forces clashed near village {i % 500}.",
            })  # fmt: skip
    return path


def import_peak_mb(path: Path, url: str, *options: str) -> tuple[str, float]:
    """Import the file with ``timeline import`` in a fresh process: its output and peak RSS."""
    code = (
        "from timeline.cli import main\n"
        "try:\n"
        f"    main(['import', *{list(options)!r}, {str(path)!r}], standalone_mode=False)\n"
        "finally:\n"
        "    peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
        "    print('peak_kib', peak)\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "table-memory", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    # VmHWM is this process's own peak (ru_maxrss would carry the forking pytest worker's).
    return done.stdout, int(done.stdout.split("peak_kib")[-1]) / 1024


@pytest.mark.backends("sqlite")
def test_a_200000_row_csv_imports_in_bounded_memory(app, tmp_path):
    path = write_csv(tmp_path / "events.csv", ROWS)
    output, peak_mb = import_peak_mb(path, app.config["SQLALCHEMY_DATABASE_URI"])
    assert f"{ROWS} created" in output, output
    assert peak_mb < LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"


@pytest.mark.backends("sqlite")
def test_a_200000_row_acled_file_imports_in_bounded_memory(app, tmp_path):
    """The whole import: reading, checking, writing, and the look for events that earlier ACLED
    files brought and this one lacks (which reads the stored ACLED events in pages)."""
    path = write_acled(tmp_path / "acled.csv", ROWS)
    output, peak_mb = import_peak_mb(path, app.config["SQLALCHEMY_DATABASE_URI"])
    assert f"{ROWS} created" in output, output
    assert peak_mb < LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"
