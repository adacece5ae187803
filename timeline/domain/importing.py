"""All-or-nothing import of GeoJSON FeatureCollections.

Every feature is checked before anything is written; one bad feature means nothing is stored, and
the report lists every bad feature with its index and reasons, so an editor can fix a file in one
pass. Features with an ``id`` update the event of that id (re-importing an export, or loading the
demo twice, never duplicates). A category slug the database does not know yet is created and
reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from timeline.domain.categories import ensure_categories
from timeline.domain.features import (
    EventData,
    FeatureError,
    Problem,
    apply_event_data,
    feature_content,
    parse_feature,
    refuse_crs,
)
from timeline.domain.revisions import record_revision
from timeline.formats.geojson import UnreadableDocument, load_json
from timeline.store.db import DbSession, writing
from timeline.store.models import Event, User
from timeline.store.queries import events_by_ids


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
    """What an import did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_categories: list[str] = field(default_factory=list)
    unknown_properties: dict[str, list[int]] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"]
        out += [f"new category added: {slug}" for slug in self.new_categories]
        out += [
            f"unknown property {name!r} ignored (features {', '.join(map(str, idx))})"
            for name, idx in sorted(self.unknown_properties.items())
        ]
        return out


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
    """Check, then store every feature in one transaction, each change with its revision."""
    checked = check_collection(document)
    report = ImportReport()
    for index, data in enumerate(checked):
        for name in data.unknown_properties:
            report.unknown_properties.setdefault(name, []).append(index)
    with writing(session):
        report.new_categories = ensure_categories(session, {d.category for d in checked})
        existing = events_by_ids(session, [d.id for d in checked if d.id])
        for data in checked:
            event = existing.get(data.id) if data.id else None
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
                continue
            else:
                report.updated += 1
            record_revision(session, event, "import", user, before)
    return report
