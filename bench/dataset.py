"""The extent of the generated data: its region, its period and the viewport every section asks for.

The generator, the (a) query windows, the throughput bounding boxes and the soak's clients all
need them, and they must agree; they live here, apart from ``generate`` (which imports the app's
models), so that the server-driving modules need nothing of the app to know where the data is.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

REGION = (33.5, 50.0, 38.5, 52.6)  # min lon, min lat, max lon, max lat: the Kursk region
FIRST_DAY, LAST_DAY = date(2024, 1, 1), date(2025, 12, 31)
MONTHS = [(y, m) for y in (2024, 2025) for m in range(1, 13)]
VIEWPORT = (0.5, 0.26)  # degrees: about 1% of the region's 5° × 2.6°

Box = tuple[float, float, float, float]


def month_end(year: int, month: int) -> date:
    """The last day of a month (its events' ``last_day`` at month precision)."""
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def viewport(rng: random.Random, size: tuple[float, float] = VIEWPORT) -> Box:
    """A box of ``size`` inside the region, corners rounded to 0.001° (as a map URL would carry)."""
    min_lon, min_lat, max_lon, max_lat = REGION
    lon = round(rng.uniform(min_lon, max_lon - size[0]), 3)
    lat = round(rng.uniform(min_lat, max_lat - size[1]), 3)
    return lon, lat, round(lon + size[0], 3), round(lat + size[1], 3)
