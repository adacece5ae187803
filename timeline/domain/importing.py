"""All-or-nothing import of GeoJSON FeatureCollections.

Every feature is checked before anything is kept; one bad feature means nothing is stored, and
the report lists every bad feature with its index and reasons (the first MAX_LISTED of them, and
how many there were), so an editor can fix a file in one pass. Features with an ``id`` update the
event of that id (re-importing an export, or loading the demo twice, never duplicates). A category
slug the database does not know yet is created and reported.

Files go through :func:`import_stream`, the one entry point of the command line, the demo story and
uploads: it reads the file feature by feature (:class:`timeline.formats.geojson.FeatureStream`),
so memory stays flat however large the file, and writes in one transaction:

1. one pass over the features, in the write transaction: each is checked with the same
   :func:`parse_feature` as every other path; a good one is turned into its event row, feature
   cache JSON and revision right away and staged in temporary tables (timeline/store/bulk.py),
   a bad one is noted, and from the first bad one on only ids are staged (to report repeats);
2. checks over the whole file: the collection's own members, and ids repeated (a query over the
   staged ids, not a set in memory); anything wrong and the transaction is rolled back whole;
3. features whose id is an existing event's update it through the ORM, as before, with the
   triggers in force; all new events are written with one statement per table, and the R*Tree,
   counts and data version are filled in bulk (store/bulk.py), the R*Tree packed as
   ``timeline optimize`` packs it; then commit.

A dry run is the whole import, writes included, in a transaction that is rolled back, so it counts
exactly what the import would create, update and leave unchanged. A process killed at any
point leaves nothing: the transaction was never committed. :func:`import_collection` is the
row-by-row path for documents already in memory (the test fixtures), and the baseline the bulk
path is compared with in tests and in the benchmark.
"""

from __future__ import annotations

import gc
import json
import operator
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, cast

from sqlalchemy import inspect

from timeline.domain import audit
from timeline.domain.categories import ensure_categories
from timeline.domain.features import (
    EventData,
    FeatureError,
    Problem,
    SourceData,
    apply_event_data,
    event_to_feature,
    feature_content,
    parse_feature,
    refuse_crs,
)
from timeline.domain.fields import SERVER_MANAGED
from timeline.domain.revisions import diff, record_revision
from timeline.formats.geojson import CollectionStream, FeatureStream, UnreadableDocument, load_json
from timeline.store.bulk import EVENT_COLUMNS, AuditFields, StagedEvent, Staging
from timeline.store.db import DbSession, writing
from timeline.store.models import AuditEntry, Event, FeatureCache, Revision, Source, User, utcnow
from timeline.store.queries import events_by_ids

# Bad features listed in a rejection (all are counted); indexes kept per unknown property.
MAX_LISTED = 1000
MAX_INDEXES = 20
# Features staged per statement (executemany or COPY): large enough to amortise each round trip.
BATCH = 2000


@dataclass
class FeatureProblem:
    """What is wrong with one feature of a file."""

    index: int
    feature_id: str | None
    problems: list[Problem]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "id": self.feature_id, "problems": [p.as_dict() for p in self.problems]}

    def __str__(self) -> str:
        name = f" ({self.feature_id})" if self.feature_id else ""
        return f"feature {self.index}{name}: " + "; ".join(str(p) for p in self.problems)


class ImportRejected(ValueError):
    """The file was not imported; ``problems`` says why, feature by feature."""

    def __init__(self, summary: str, problems: Sequence[FeatureProblem] = ()):
        super().__init__(summary)
        self.summary = summary
        self.problems = list(problems)


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, found)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_categories: list[str] = field(default_factory=list)
    # Property name -> the first MAX_INDEXES features (indexes) that had it, and how many did.
    unknown_properties: dict[str, list[int]] = field(default_factory=dict)
    unknown_counts: dict[str, int] = field(default_factory=dict)
    features: int = 0
    dry_run: bool = False

    def note_unknown(self, index: int, names: Sequence[str]) -> None:
        for name in names:
            seen = self.unknown_counts.get(name, 0)
            self.unknown_counts[name] = seen + 1
            if seen < MAX_INDEXES:
                self.unknown_properties.setdefault(name, []).append(index)

    def lines(self) -> list[str]:
        if self.dry_run:
            out = [
                f"all {self.features:,} features are valid; nothing was stored: {self.created} would be "
                f"created, {self.updated} updated, {self.unchanged} unchanged"
            ]
            out += [f"new category would be added: {slug}" for slug in self.new_categories]
        else:
            out = [f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"]
            out += [f"new category added: {slug}" for slug in self.new_categories]
        for name, indexes in sorted(self.unknown_properties.items()):
            more = self.unknown_counts.get(name, len(indexes)) - len(indexes)
            listed = ", ".join(map(str, indexes)) + (f" and {more:,} more" if more > 0 else "")
            out.append(f"unknown property {name!r} ignored (features {listed})")
        return out


@dataclass(frozen=True)
class ImportProgress:
    """Where an import is, for a progress bar: the stage, bytes read of the file, features checked."""

    stage: str  # "checking" while the file is read, then "writing"
    position: int
    size: int
    features: int


ProgressCallback = Callable[[ImportProgress], None]


def read_document(data: str | bytes) -> Any:
    """A JSON document read strictly (see :func:`timeline.formats.geojson.load_json`)."""
    try:
        return load_json(data)
    except UnreadableDocument as exc:
        raise ImportRejected(str(exc)) from None


def check_collection(document: Any) -> list[EventData]:
    """Check every feature of a FeatureCollection; raise :class:`ImportRejected` listing each bad one."""
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportRejected('expected a GeoJSON FeatureCollection ({"type": "FeatureCollection", ...})')
    features = document.get("features")
    if not isinstance(features, list):
        raise ImportRejected('the FeatureCollection has no "features" array')
    if "crs" in document:
        try:
            refuse_crs(document["crs"])
        except ValueError as exc:
            raise ImportRejected(f"crs: {exc}") from None
    checked: list[EventData] = []
    bad: list[FeatureProblem] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(features):
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        label = str(raw_id) if raw_id is not None else None
        try:
            data = parse_feature(raw)
        except FeatureError as exc:
            bad.append(FeatureProblem(index, label, exc.problems))
            continue
        if data.id is not None and data.id in seen:
            problem = Problem("id", f"{data.id!r} is also the id of feature {seen[data.id]}")
            bad.append(FeatureProblem(index, label, [problem]))
            continue
        if data.id is not None:
            seen[data.id] = index
        checked.append(data)
    if bad:
        raise ImportRejected(f"{len(bad)} of {len(features)} features are invalid; nothing was imported", bad)
    return checked


def import_collection(session: DbSession, document: Any, user: User | None = None) -> ImportReport:
    """Check, then store every feature in one transaction, each change with its revision, row by row.

    For documents already in memory; files go through :func:`import_stream`.
    """
    checked = check_collection(document)
    report = ImportReport(features=len(checked))
    for index, data in enumerate(checked):
        report.note_unknown(index, data.unknown_properties)
    with writing(session):
        report.new_categories = ensure_categories(session, {d.category for d in checked})
        existing = events_by_ids(session, [d.id for d in checked if d.id])
        for data in checked:
            _store(session, existing.get(data.id) if data.id else None, data, user, report)
    return report


def _store(
    session: DbSession, event: Event | None, data: EventData, user: User | None, report: ImportReport
) -> None:
    """Create or update one event through the ORM, with its revision unless nothing changed."""
    before = feature_content(event) if event is not None else None
    if event is None:
        event = Event()
        session.add(event)
    apply_event_data(event, data)
    event.deleted_at = None  # importing an event again brings it back
    event.was_published = event.was_published or data.status == "published"
    if before is None:
        report.created += 1
    elif feature_content(event) == before:
        report.unchanged += 1
        return
    else:
        report.updated += 1
    record_revision(session, event, "import", user, before)


# ---------------------------------------------------------------------------- files, streamed


def import_stream(
    session: DbSession,
    source: IO[bytes],
    user: User | None = None,
    *,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Check and store a GeoJSON FeatureCollection read from a binary file, all or nothing.

    The one entry point for files (the command line, the demo story, uploads); see the module
    docstring for the passes. Raises :class:`ImportRejected` with every problem found, in which
    case nothing was stored; ``dry_run`` does the whole import and rolls it back, so its report
    counts what the import would create, update and leave unchanged, and nothing is kept.
    """
    try:
        stream = FeatureStream(source)
    except UnreadableDocument as exc:
        raise ImportRejected(str(exc)) from None
    return import_features(session, stream, user, dry_run=dry_run, progress=progress)


def import_features(
    session: DbSession,
    stream: FeatureStream | CollectionStream,
    user: User | None = None,
    *,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """:func:`import_stream` for features already read: a file's stream, or the collection a
    table or GIS reader built (which thus skips being written as JSON and parsed again)."""
    _check_members(stream, final=False)
    # A dry run is the import itself, rolled back: its counts of created, updated and unchanged
    # events are the ones the import would give, found by the same code.
    with writing(session, rehearsal=dry_run):
        report = _Import(session, stream, user, progress).run()
    report.dry_run = dry_run
    return report


def _check_members(stream: FeatureStream | CollectionStream, *, final: bool) -> None:
    """The collection's own members: a FeatureCollection, with a features array, in WGS 84.

    Checked on what the head of the file held before any feature is read (so a GeoJSON Feature
    or a foreign CRS is refused at once), and again at the end, when members written after the
    features are known too (``final``).
    """
    members = stream.members
    if not stream.is_object or (("type" in members or final) and members.get("type") != "FeatureCollection"):
        raise ImportRejected('expected a GeoJSON FeatureCollection ({"type": "FeatureCollection", ...})')
    if not stream.has_features:
        raise ImportRejected('the FeatureCollection has no "features" array')
    if "crs" in members:
        try:
            refuse_crs(members["crs"])
        except ValueError as exc:
            raise ImportRejected(f"crs: {exc}") from None


class _Draft:
    """What the one Event <-> Feature mapping reads and writes, without an ORM object.

    :func:`apply_event_data` and :func:`event_to_feature` compute a new event's columns and its
    Feature from this as they would from an :class:`Event`, for a fraction of the cost (an ORM
    instance, with its sources, costs tens of microseconds to make; a million of them, minutes).
    Its sources are the checked ones themselves, so the mapping finds them already in place.
    """

    pk = None
    id: str | None = None

    def __init__(self, sources: list[SourceData], now: datetime):
        self.sources = sources
        self.created_at = self.updated_at = now
        self.version = 1


# Event attribute names of the staged columns (start_date is the attribute start, and so on).
_ATTRIBUTES = {prop.columns[0].key: prop.key for prop in inspect(Event).column_attrs}
STAGED_ATTRIBUTES = tuple(_ATTRIBUTES[column] for column in EVENT_COLUMNS)
_staged_values = operator.attrgetter(*STAGED_ATTRIBUTES)


def staged_event(index: int, data: EventData, now: datetime) -> StagedEvent:
    """A new event's row, feature cache JSON and first revision, from checked data.

    The same values the ORM path stores (tests/domain/test_bulk_import.py compares the two): the
    row and Feature from the one mapping, the cache text as :func:`feature_json` writes it, the
    snapshot as :func:`feature_content` makes it, the changes as :func:`diff` from nothing.
    """
    draft = _Draft(data.sources, now)
    apply_event_data(cast(Event, draft), data)
    feature = event_to_feature(cast(Event, draft))
    text = json.dumps(feature, ensure_ascii=False, separators=(",", ":"))  # = feature_json(event)
    props = feature["properties"]
    snapshot = {**feature, "properties": {k: v for k, v in props.items() if k not in SERVER_MANAGED}}
    values = _staged_values(draft)
    sources = [(i, s.url, s.outlet, s.title, s.published) for i, s in enumerate(data.sources)]
    return StagedEvent(index, values, text, snapshot, diff(None, snapshot), sources)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while the pass over a file allocates.

    Each feature makes dozens of short-lived dicts and lists, and every 700 allocations the
    collector would walk the young ones: about a tenth of an import's time, for objects that hold
    no reference cycles and are freed by their reference counts anyway.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


class _Import:
    """One run of :func:`import_stream` inside its transaction."""

    def __init__(
        self,
        session: DbSession,
        stream: FeatureStream | CollectionStream,
        user: User | None,
        progress: ProgressCallback | None,
    ):
        self.session = session
        self.stream = stream
        self.user = user
        self.progress = progress
        self.report = ImportReport()
        self.problems: list[FeatureProblem] = []
        self.bad = 0
        self.now = utcnow()

    def _tell(self, stage: str) -> None:
        if self.progress is not None:
            stream = self.stream
            self.progress(ImportProgress(stage, stream.position, stream.size, self.report.features))

    def run(self) -> ImportReport:
        staging = Staging(self.session)
        with _fewer_collections():
            categories = self._check_features(staging)
        staging.index_ids()
        repeated, listed = staging.duplicates(MAX_LISTED)
        clashes = [] if self.bad else staging.external_id_clashes(MAX_LISTED)
        if self.bad or repeated or clashes:
            self._reject(repeated, listed, clashes)
        self._tell("writing")
        report = self.report
        report.new_categories = ensure_categories(self.session, categories)
        self.session.flush()  # the categories, before rows that refer to them are written in SQL
        if staging.mark_existing():
            report.unchanged += staging.drop_unchanged(SERVER_MANAGED)
            self._update_existing(staging)
        user = self.user
        who = AuditFields(
            user.id if user else None, user.username if user else "", "import", audit.client_address()[:64]
        )
        report.created += staging.insert_new(self.now, who)
        staging.close()
        return report

    def _check_features(self, staging: Staging) -> set[str]:
        """The pass over the file: check each feature, stage the good ones (only ids after a bad one)."""
        batch: list[StagedEvent] = []
        ids: list[tuple[int, str]] = []
        categories: set[str] = set()
        try:
            for index, raw in enumerate(self.stream.features()):
                self._check_one(index, raw, batch, ids, categories)
                if len(batch) >= BATCH or len(ids) >= BATCH:
                    staging.add(batch)
                    staging.add_ids(ids)
                    batch.clear()
                    ids.clear()
                    self._tell("checking")
        except UnreadableDocument as exc:
            raise ImportRejected(str(exc)) from None
        staging.add(batch)
        staging.add_ids(ids)
        self._tell("checking")
        _check_members(self.stream, final=True)
        return categories

    def _check_one(
        self,
        index: int,
        raw: Any,
        batch: list[StagedEvent],
        ids: list[tuple[int, str]],
        categories: set[str],
    ) -> None:
        """Check one feature; stage it as a new event's row, or only its id once any was bad."""
        report = self.report
        report.features = index + 1
        try:
            data = parse_feature(raw)
        except FeatureError as exc:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            label = str(raw_id) if raw_id is not None else None
            self._problem(FeatureProblem(index, label, exc.problems))
            return
        report.note_unknown(index, data.unknown_properties)
        if self.bad:
            if data.id is not None:
                ids.append((index, data.id))
        else:
            categories.add(data.category)
            batch.append(staged_event(index, data, self.now))

    def _problem(self, problem: FeatureProblem) -> None:
        self.bad += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)

    def _reject(
        self,
        repeated: int,
        listed: Sequence[tuple[int, str, int]],
        clashes: Sequence[tuple[int, str, str]] = (),
    ) -> None:
        problems = self.problems + [
            FeatureProblem(index, event_id, [Problem("id", f"{event_id!r} is also the id of feature {at}")])
            for index, event_id, at in listed
        ]
        problems += [
            FeatureProblem(index, None, [Problem("external_id", f"{external!r} is already that of {holder}")])
            for index, external, holder in clashes
        ]
        problems.sort(key=lambda p: p.index)
        invalid = self.bad + repeated + len(clashes)
        summary = f"{invalid:,} of {self.report.features:,} features are invalid; nothing was imported"
        if invalid > MAX_LISTED:
            summary += f" (the first {MAX_LISTED:,} are listed)"
        raise ImportRejected(summary, problems[:MAX_LISTED])

    def _update_existing(self, staging: Staging) -> None:
        """Staged features whose id is an existing event's: updated through the ORM, as by
        :func:`import_collection` (with the triggers in force), a batch at a time."""
        session = self.session
        for batch in staging.existing():
            events = events_by_ids(session, [row.event_id for row in batch])
            for row in batch:
                _store(session, events[row.event_id], parse_feature(row.snapshot), self.user, self.report)
            session.flush()
            for obj in list(session.identity_map.values()):  # keep the session small
                if isinstance(obj, (Event, Source, Revision, FeatureCache, AuditEntry)) and obj in session:
                    session.expunge(obj)  # an event takes its sources along
            self._tell("writing")
