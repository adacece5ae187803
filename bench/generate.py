"""Synthetic events for the benchmarks: ``python -m bench.generate N DATABASE_URL``.

Benchmarks are only worth comparing when they run on the same data, so everything here derives
from one fixed seed: the same N gives the same rows on any machine. The rows look like the demo
story at scale: points, small areas and short lines over the Kursk region, dated 2024-2025 at day,
month or year precision, German and English text of realistic length, one to three sources each.

The schema comes from the project's migrations (``timeline db upgrade``), never from this file, so
the benchmark measures the indexes and R*Tree triggers production has. Rows go in through
SQLAlchemy Core ``executemany`` on the models' own tables (their type processors turn dates and
JSON into exactly what the ORM stores); the normalised values that ``apply_event_data`` would
compute are produced directly because calling the full feature parser a million times would
dominate the run, and a random sample is checked against ``parse_feature`` + ``apply_event_data``
so the two cannot drift apart unnoticed.

PostgreSQL/PostGIS (``postgresql+psycopg://…/timeline_bench``) gets the same rows from the same
generator. The database is created if missing (with ``CREATE EXTENSION postgis``, which the
migration would otherwise need a superuser for) and marked with a comment, so that only a database
made here is ever dropped and rebuilt. Rows go in through ``COPY … FROM STDIN``, several times
faster than ``executemany``: COPY fires row triggers and computes generated columns like any
INSERT, so the count triggers of migration 0004, the generated ``geom`` and every GiST index are
maintained exactly as in production (0004 offers no bulk path, and none is taken). The load ends
with ``VACUUM (ANALYZE)``: autovacuum would do the same shortly after a real bulk load, and
running it here makes the planner's statistics, hence the plans measured, the same on every run.
A SQLite load ends with ``timeline optimize``, which repacks the R*Tree the triggers filled in the
rows' random order; README tells operators to run it after their own bulk loads.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, create_engine, event, insert, inspect, text
from sqlalchemy.engine import URL, Connection, make_url

from timeline.domain.features import apply_event_data, parse_feature
from timeline.store.models import Category, Event, Source

from . import DATA
from .backends import GENERATOR_VERSION, connect, is_postgres, timeline_cli
from .dataset import FIRST_DAY, LAST_DAY, MONTHS, REGION, month_end

SEED = 20241111
BATCH = 10_000
SAMPLE_PER_BATCH = 10
# COMMENT ON DATABASE of a PostgreSQL database this module created: only such a one may be dropped.
# Existing databases carry these very words, so they must not change.
PG_MARK = "timeline benchmark data made by bench/generate.py; may be dropped and regenerated"

DAYS = [FIRST_DAY + timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]
CREATED_BASE = datetime(2026, 1, 1, tzinfo=UTC)

TOWNS = {
    "Sudzha": (35.27, 51.19), "Kursk": (36.19, 51.73), "Lgov": (35.26, 51.66), "Rylsk": (34.68, 51.57),
    "Korenevo": (34.91, 51.41), "Glushkovo": (34.64, 51.34), "Bolshoye Soldatskoye": (35.51, 51.35),
    "Kurchatov": (35.66, 51.66), "Oboyan": (36.27, 51.21), "Zheleznogorsk": (35.37, 52.34),
    "Belaya": (35.96, 51.07), "Pogrebki": (34.94, 51.28), "Tyotkino": (34.33, 51.27),
}  # fmt: skip
_EN = (
    "troops advance border village reported shelling drone strike bridge destroyed units regional "
    "governor evacuation civilians counteroffensive positions north korean soldiers deployed brigade "
    "artillery supply convoy front line claimed control settlement ministry statement satellite images "
    "show damage near road towards withdrawn according sources confirmed officials said attack overnight "
    "air defence intercepted missiles power station pipeline checkpoint fighting continues heavy losses"
)
_DE = (
    "Truppen rücken vor Grenze Dorf gemeldet Beschuss Drohnenangriff Brücke zerstört Einheiten Gouverneur "
    "Evakuierung Zivilisten Gegenoffensive Stellungen nordkoreanische Soldaten verlegt Brigade Artillerie "
    "Nachschub Konvoi Frontlinie beansprucht Kontrolle Siedlung Ministerium Erklärung Satellitenbilder "
    "zeigen Schäden nahe Straße Richtung zurückgezogen laut Quellen bestätigt Behörden sagten Angriff "
    "nachts Luftabwehr abgefangen Raketen Kraftwerk Pipeline Kontrollpunkt Kämpfe dauern schwere Verluste"
)
EN_WORDS, DE_WORDS = _EN.split(), _DE.split()
ACTORS = ("Ukraine", "Russia", "North Korea", "Rosgvardia", "Wagner", "Kursk regional administration")
OUTLETS = ("The New York Times", "BBC", "Kremlin", "Reuters", "Der Spiegel", "Kyiv Independent", "ISW")
CONFIDENCES = (("confirmed", 0.3), ("reported", 0.5), ("claimed", 0.2))
# The app's own per-field columns compared in the sample check (attribute names on Event).
CHECKED = (
    "id", "title", "description", "lang", "start", "end", "date_precision", "first_day", "last_day",
    "geometry", "geometry_type", "min_lon", "min_lat", "max_lon", "max_lat", "place", "category_slug",
    "actors", "confidence", "status",
)  # fmt: skip


class Texts:
    """Realistic text cheaply: slices of a long pre-made word stream, cut at word boundaries."""

    def __init__(self, rng: random.Random, words: list[str]) -> None:
        self.rng = rng
        self.pool = " ".join(rng.choice(words) for _ in range(150_000))

    def take(self, shortest: int, longest: int) -> str:
        """Text of ``shortest``..``longest`` characters (words are at most 18 characters long)."""
        length = self.rng.randint(shortest, longest - 18)
        start = self.pool.find(" ", self.rng.randrange(len(self.pool) - longest - 100)) + 1
        end = self.pool.find(" ", start + length)
        return self.pool[start:end]


class Generator:
    """Builds event and source rows deterministically from the seed."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.texts = {"en": Texts(self.rng, EN_WORDS), "de": Texts(self.rng, DE_WORDS)}
        self.categories = [c["slug"] for c in load_categories()]
        self.ids: set[str] = set()

    def event(self, pk: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One event row (every column the ORM would write) and its source rows."""
        rng = self.rng
        lang = "de" if rng.random() < 0.4 else "en"
        town, (lon, lat) = rng.choice(list(TOWNS.items()))
        if rng.random() < 0.7:  # mostly spread over the region, partly clustered around towns
            lon, lat = rng.uniform(REGION[0], REGION[2]), rng.uniform(REGION[1], REGION[3])
        else:
            lon = min(max(rng.gauss(lon, 0.08), REGION[0]), REGION[2])
            lat = min(max(rng.gauss(lat, 0.05), REGION[1]), REGION[3])
        geometry = self._geometry(lon, lat)
        coords = _positions(geometry)
        lons, lats = [c[0] for c in coords], [c[1] for c in coords]
        start, end, first, last = self._dates()
        title = f"{town}: {self.texts[lang].take(30 - len(town) - 2, 120 - len(town) - 2)}"
        status = "draft" if rng.random() < 0.02 else "published"
        created = CREATED_BASE - timedelta(seconds=rng.randrange(300 * 86400))
        while (event_id := f"ev-{rng.getrandbits(64):016x}") in self.ids:
            pass
        self.ids.add(event_id)
        row = {
            "pk": pk,
            "id": event_id,
            "title": title,
            "description": _sentence(self.texts[lang].take(200, 1500)) + ".",
            "lang": lang,
            "start_date": start,
            "end_date": end,
            "date_precision": "day" if len(start) == 10 else "month" if len(start) == 7 else "year",
            "first_day": first,
            "last_day": last,
            "geometry": json.dumps(geometry, separators=(",", ":")),
            "geometry_type": geometry["type"],
            "min_lon": min(lons),
            "min_lat": min(lats),
            "max_lon": max(lons),
            "max_lat": max(lats),
            "place": town if rng.random() < 0.8 else f"near {town}",
            "category_slug": rng.choice(self.categories),
            "actors": rng.sample(ACTORS, rng.randint(0, 3)),
            "confidence": rng.choices([c for c, _ in CONFIDENCES], [w for _, w in CONFIDENCES])[0],
            "status": status,
            "created_at": created,
            "updated_at": created + timedelta(seconds=rng.randrange(86400))
            if rng.random() < 0.3
            else created,
            "deleted_at": None,
            "version": 1,
        }
        sources = [
            {
                "event_pk": pk,
                "position": i,
                "url": f"https://news.example.org/{rng.getrandbits(40):010x}",
                "outlet": rng.choice(OUTLETS),
                "title": _sentence(self.texts[lang].take(30, 120)),
                "published": rng.choice(DAYS).isoformat(),
            }
            for i in range(rng.choices((1, 2, 3), (0.5, 0.35, 0.15))[0])
        ]
        return row, sources

    def _geometry(self, lon: float, lat: float) -> dict[str, Any]:
        """90% points, 7% small star-shaped polygons (valid, counter-clockwise), 3% short lines."""
        rng, kind = self.rng, self.rng.random()
        if kind < 0.90:
            return {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]}
        if kind < 0.97:
            n, radius, turn = rng.randint(5, 8), rng.uniform(0.005, 0.05), rng.uniform(0, 2 * math.pi)
            ring = []
            for i in range(n):
                angle = turn + (i + rng.uniform(-0.3, 0.3)) * 2 * math.pi / n
                r = radius * rng.uniform(0.6, 1.0)
                ring.append([round(lon + r * math.cos(angle), 5), round(lat + 0.6 * r * math.sin(angle), 5)])
            return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
        line = [[round(lon, 5), round(lat, 5)]]
        for _ in range(rng.randint(1, 4)):
            step, angle = rng.uniform(0.005, 0.03), rng.uniform(0, 2 * math.pi)
            line.append(
                [
                    round(line[-1][0] + step * math.cos(angle), 5),
                    round(line[-1][1] + step * math.sin(angle), 5),
                ]
            )
        return {"type": "LineString", "coordinates": line}

    def _dates(self) -> tuple[str, str | None, date, date]:
        """(start, end, first_day, last_day): ≈80% day, 15% month, 5% year precision; ≈10% ranges."""
        rng = self.rng
        kind, ranged = rng.random(), rng.random() < 0.10
        if kind < 0.80:
            first = rng.choice(DAYS)
            last = min(first + timedelta(days=rng.randint(1, 30)), LAST_DAY) if ranged else first
            return first.isoformat(), last.isoformat() if ranged else None, first, last
        if kind < 0.95:
            i = rng.randrange(len(MONTHS))
            j = min(i + rng.randint(1, 3), len(MONTHS) - 1) if ranged else i
            (y1, m1), (y2, m2) = MONTHS[i], MONTHS[j]
            end = f"{y2:04d}-{m2:02d}" if ranged else None
            return f"{y1:04d}-{m1:02d}", end, date(y1, m1, 1), month_end(y2, m2)
        year = rng.choice((2024, 2025))
        end_year = 2025 if ranged else year
        return str(year), str(end_year) if ranged else None, date(year, 1, 1), date(end_year, 12, 31)


def table_of(model: type[Any]) -> Table:
    """A model's table (its ``__table__``, typed as the Table it is, for Core inserts)."""
    return cast(Table, model.__table__)


def _sentence(text: str) -> str:
    """Upper-case the first letter only (str.capitalize would lower-case every German noun)."""
    return text[:1].upper() + text[1:]


def _positions(geometry: dict[str, Any]) -> list[list[float]]:
    """The positions that bound a Point, LineString or Polygon (its outer ring)."""
    coords = geometry["coordinates"]
    if geometry["type"] == "Point":
        return [coords]
    positions: list[list[float]] = coords if geometry["type"] == "LineString" else coords[0]
    return positions


def load_categories() -> list[dict[str, str]]:
    """The demo's categories: benchmark events use the same legend as the real story."""
    text_ = resources.files("timeline.demo").joinpath("categories.json").read_text(encoding="utf-8")
    categories: list[dict[str, str]] = json.loads(text_)
    return categories


def check_sample(row: dict[str, Any], sources: list[dict[str, Any]]) -> None:
    """Fail loudly if a generated row differs from what the app's own import path would store."""
    feature = {
        "type": "Feature",
        "id": row["id"],
        "geometry": json.loads(row["geometry"]),
        "properties": {
            "title": row["title"],
            "description": row["description"],
            "lang": row["lang"],
            "start": row["start_date"],
            "end": row["end_date"],
            "date_precision": row["date_precision"],
            "category": row["category_slug"],
            "place": row["place"],
            "actors": row["actors"],
            "confidence": row["confidence"],
            "status": row["status"],
            "sources": [{k: s[k] for k in ("url", "outlet", "title", "published")} for s in sources],
        },
    }
    expected = Event()
    apply_event_data(expected, parse_feature(feature))
    columns = {prop.key: prop.columns[0].key for prop in inspect(Event).column_attrs}
    for attr in CHECKED:
        if getattr(expected, attr) != row[columns[attr]]:
            raise AssertionError(
                f"{row['id']}.{attr}: app stores {getattr(expected, attr)!r}, got {row[columns[attr]]!r}"
            )


def migrate(url: str, command: tuple[str, ...] = ("db", "upgrade")) -> None:
    """Run a ``timeline`` command on the database the way production does, in a subprocess."""
    timeline_cli(url, *command)


def migration_head() -> str:
    """The newest revision in migrations/, so a cache built for an older schema is not reused."""
    from alembic.script import ScriptDirectory

    from timeline.config import PROJECT_ROOT

    head = ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_current_head()
    assert head is not None
    return head


def existing_events(url: str) -> tuple[int, bool]:
    """How many events the database holds, and whether its schema is at the current migration head."""
    with connect(url) as conn:
        if not inspect(conn).has_table("events"):
            return 0, False
        count = conn.scalar(text("SELECT count(*) FROM events")) or 0
        if not inspect(conn).has_table("alembic_version"):
            return count, False
        return count, conn.scalar(text("SELECT version_num FROM alembic_version")) == migration_head()


Rows = list[dict[str, Any]]


def batches(n: int, gen: Generator, sample: random.Random) -> Iterator[tuple[Rows, Rows]]:
    """(event rows, source rows) in batches of BATCH events, a random few checked against the app.

    Both backends load from this one sequence, so the same seed gives the same rows on either.
    """
    extra = {"was_published"} & set(Event.__table__.c.keys())  # added by migration 0002
    for first in range(1, n + 1, BATCH):
        size = min(BATCH, n - first + 1)
        rows, source_rows = [], []
        checks = set(sample.sample(range(size), min(SAMPLE_PER_BATCH, size)))
        for i in range(size):
            row, srcs = gen.event(first + i)
            if extra:
                row["was_published"] = row["status"] == "published"
            if i in checks:
                check_sample(row, srcs)
            rows.append(row)
            source_rows += srcs
        yield rows, source_rows


def _progress(done: int, n: int) -> None:
    print(f"\r  {done:,}/{n:,} events", end="", file=sys.stderr, flush=True)


def insert_all(conn: Connection, n: int, gen: Generator, sample: random.Random) -> None:
    """Batches of BATCH events (and their sources) per transaction; the triggers fill the R*Tree."""
    events, sources = table_of(Event), table_of(Source)
    done = 0
    for rows, source_rows in batches(n, gen, sample):
        conn.execute(insert(events), rows)
        conn.execute(insert(sources), source_rows)
        conn.commit()
        done += len(rows)
        _progress(done, n)
    print(file=sys.stderr)


def copy_all(conn: Connection, n: int, gen: Generator, sample: random.Random) -> None:
    """PostgreSQL: one ``COPY`` of events and one of sources per batch, committed per batch.

    psycopg adapts dates, timestamps and floats itself; the JSON column gets ``json.dumps`` text,
    which is what SQLAlchemy's JSON type would have sent. Sources take their key from the sequence
    (as with executemany); events keep the generator's, and the sequence is moved past them so the
    app's own inserts after the load do not collide.
    """
    driver = conn.connection.driver_connection
    assert driver is not None
    done = 0
    event_columns: list[str] = []
    for rows, source_rows in batches(n, gen, sample):
        event_columns = event_columns or list(rows[0])
        source_columns = list(source_rows[0])
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY events ({', '.join(event_columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([json.dumps(row[c]) if c == "actors" else row[c] for c in event_columns])
            with cursor.copy(f"COPY sources ({', '.join(source_columns)}) FROM STDIN") as copy:
                for src in source_rows:
                    copy.write_row([src[c] for c in source_columns])
        conn.commit()
        done += len(rows)
        _progress(done, n)
    print(file=sys.stderr)
    conn.execute(text("SELECT setval(pg_get_serial_sequence('events', 'pk'), (SELECT max(pk) FROM events))"))
    # Statistics now, not when autovacuum gets round to it: with the planner still believing the
    # tables nearly empty, `timeline cache-features` hash-joins all of events against feature_cache
    # for every batch of 2,000 (about 500 events/s at a million instead of thousands).
    conn.execute(text("ANALYZE events"))
    conn.execute(text("ANALYZE feature_cache"))
    conn.commit()


def _admin(url: str) -> AbstractContextManager[Connection]:
    """An autocommit connection to the same server's database ``postgres``, where CREATE/DROP
    DATABASE and COMMENT ON DATABASE are issued."""
    admin: URL = make_url(url).set(database="postgres")
    return connect(admin.render_as_string(hide_password=False), autocommit=True)


def prepare_postgres(url: str) -> bool:
    """Create the benchmark database (marked, with PostGIS) if missing; True if it was made here.

    Returns whether the database carries PG_MARK, i.e. may be dropped by :func:`reset_postgres`.
    """
    name = make_url(url).database
    if not name:
        raise SystemExit(f"{url}: name a database")
    with _admin(url) as conn:
        oid = conn.scalar(text("SELECT oid FROM pg_database WHERE datname = :name"), {"name": name})
        if oid is None:
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
            conn.exec_driver_sql(f"COMMENT ON DATABASE {quoted} IS '{PG_MARK}'")
            oid = conn.scalar(text("SELECT oid FROM pg_database WHERE datname = :name"), {"name": name})
        mark = conn.scalar(text("SELECT shobj_description(:oid, 'pg_database')"), {"oid": oid})
    with connect(url, autocommit=True) as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    return (mark or "").startswith(PG_MARK)


def _set_mark(url: str, note: dict[str, Any]) -> None:
    """Keep what was loaded (generator version, events, time) in the database's comment, after PG_MARK.

    SQLite caches carry the generator version in their file name; a PostgreSQL database has no
    such name, so the comment is where a later run learns whether the rows are still current.
    """
    with _admin(url) as conn:
        quoted = conn.dialect.identifier_preparer.quote(make_url(url).database or "")
        comment = f"{PG_MARK} | {json.dumps(note)}".replace("'", "''")
        conn.exec_driver_sql(f"COMMENT ON DATABASE {quoted} IS '{comment}'")


def pg_note(url: str) -> dict[str, Any]:
    """What :func:`_set_mark` noted about a PostgreSQL database ({} if nothing, or not PostgreSQL)."""
    if not is_postgres(url):
        return {}
    with connect(url) as conn:
        mark = conn.scalar(
            text("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :db"),
            {"db": make_url(url).database},
        )
    if not mark or " | " not in mark:
        return {}
    try:
        note = json.loads(mark.split(" | ", 1)[1])
    except ValueError:
        return {}
    return note if isinstance(note, dict) else {}


def load_note(url: str) -> str | None:
    """How a reused PostgreSQL database was loaded (when, how long, the phases), for reports."""
    return pg_note(url).get("loaded")


def reset_postgres(url: str) -> None:
    """Drop and recreate a database :func:`prepare_postgres` made (a partial or stale cache)."""
    with _admin(url) as conn:
        quoted = conn.dialect.identifier_preparer.quote(make_url(url).database or "")
        conn.exec_driver_sql(f"DROP DATABASE {quoted} WITH (FORCE)")
    prepare_postgres(url)


def _bulk_session(dbapi_connection: Any, _record: Any) -> None:
    """PostgreSQL bulk load only: a crash just means generating again, so commits need not wait for
    the WAL flush (the server's own durability settings are left alone)."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    dbapi_connection.commit()


def vacuum_analyze(url: str) -> None:
    """Fresh planner statistics and visibility map after the load (see the module docstring)."""
    with connect(url, autocommit=True) as conn:
        for name in ("events", "sources", "feature_cache"):
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {name}")
        # A million trigger updates leave the small count tables mostly dead row versions;
        # production's autovacuum settings for them (migration 0008) keep up with steady
        # writes, not with a bulk load, so they are rewritten here as a compact copy.
        counts = ("event_cell_counts", "event_week_counts", "event_span_counts", "event_cell_span_counts")
        for name in (*counts, "data_version"):
            conn.exec_driver_sql(f"VACUUM (FULL, ANALYZE) {name}")


def _bulk_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Bulk load only (a crash just means generating again): no fsync, a big page cache; WAL stays."""
    dbapi_connection.execute("PRAGMA synchronous=OFF")
    dbapi_connection.execute("PRAGMA cache_size=-262144")


def absolute_url(url: str) -> str:
    """SQLite paths made absolute: Flask-SQLAlchemy would read a relative one inside instance/."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return url
    return parsed.set(database=str(Path(parsed.database).resolve())).render_as_string(hide_password=False)


def generate(n: int, url: str, phases: dict[str, float] | None = None) -> float | None:
    """Fill ``url`` with N events; reuse it when it already holds them (None), else return seconds.

    ``phases``, if given, receives the seconds each step took (migrate, rows, cache-features,
    vacuum or optimize), so a report can say where a load's time went.
    """
    url = absolute_url(url)
    postgres = is_postgres(url)
    database = make_url(url).database
    ours = prepare_postgres(url) if postgres else False
    if not postgres and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    found, current = existing_events(url)
    if found == n and not current:
        migrate(url)  # a schema from before a newer migration: upgrading keeps the rows, and is quicker
        found, current = existing_events(url)
    # A PostgreSQL database of ours records which generator filled it (see _set_mark).
    same_rows = found == n and (not ours or pg_note(url).get("generator") == GENERATOR_VERSION)
    if same_rows and not current and ours:
        # Only the schema moved on: upgrade it in place with the migrations, as production would,
        # instead of loading a million rows again (the rows do not depend on the schema version).
        print(f"{url}: upgrading the schema of the {n:,} events already loaded", file=sys.stderr)
        migrate(url)
        migrate(url, ("cache-features",))
        vacuum_analyze(url)
        return None
    if same_rows and current:
        migrate(url, ("cache-features",))  # finish a cache an interrupted run left half-filled
        return None
    if postgres and ours:
        reset_postgres(url)  # a partial or stale cache of ours: start again from nothing
    elif not postgres and database and Path(database).resolve().is_relative_to(DATA):
        for suffix in ("", "-wal", "-shm"):  # a partial or stale cache: start again from nothing
            Path(database + suffix).unlink(missing_ok=True)
    elif found:  # never delete a database we did not make
        where = "a database bench.generate created" if postgres else f"one under {DATA}"
        raise SystemExit(f"{url} holds {found:,} events; generate into an empty one or {where}")
    times = phases if phases is not None else {}
    started = time.perf_counter()
    migrate(url)
    times["migrate"] = time.perf_counter() - started
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _bulk_pragmas)
    else:
        event.listen(engine, "connect", _bulk_session)
    step = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(insert(table_of(Category)), load_categories())
        conn.commit()
        load = copy_all if postgres else insert_all
        load(conn, n, Generator(), random.Random(SEED + 1))
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    times["rows"] = time.perf_counter() - step
    # Rows inserted directly have no cached Feature JSON yet; the app's own command makes them.
    step = time.perf_counter()
    migrate(url, ("cache-features",))
    times["cache-features"] = time.perf_counter() - step
    # What the operator's guide says to do after a bulk load: PostgreSQL's vacuum and statistics,
    # SQLite's spatial index repacked in space-time order (the rows went in in random order).
    step = time.perf_counter()
    if postgres:
        vacuum_analyze(url)
        times["vacuum"] = time.perf_counter() - step
    else:
        migrate(url, ("optimize",))
        times["optimize"] = time.perf_counter() - step
    seconds = time.perf_counter() - started
    detail = ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
    summary = f"{n:,} events in {seconds:.1f} s ({n / seconds:,.0f} rows/s; {detail})"
    if postgres and ours:
        loaded = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {summary}"
        _set_mark(url, {"generator": GENERATOR_VERSION, "events": n, "loaded": loaded})
    print(f"generated {summary}", file=sys.stderr)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of events")
    parser.add_argument(
        "database_url",
        help="e.g. sqlite:///bench/data/events.sqlite or "
        "postgresql+psycopg://postgres@127.0.0.1:5432/timeline_bench",
    )
    args = parser.parse_args()
    seconds = generate(args.n, args.database_url)
    if seconds is None:
        print(f"{args.database_url} already holds {args.n:,} events; reused", file=sys.stderr)


if __name__ == "__main__":
    main()
