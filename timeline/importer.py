"""All-or-nothing import of GeoJSON FeatureCollections.

Every feature is checked before anything is written; one bad feature means nothing is stored, and
the report lists every bad feature with its index and reasons, so an editor can fix a file in one
pass. Features with an ``id`` update the event of that id (re-importing an export, or loading the
demo twice, never duplicates). A category slug the database does not know yet is created and
reported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import writing
from .features import EventData, FeatureError, Problem, apply_event_data, feature_content, parse_feature
from .models import Category, Event, User
from .queries import events_by_ids
from .revisions import record_revision

# Distinct, colour-blind-friendly hues (Okabe-Ito and Tol) for categories an import brings in.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#882255", "#117733", "#999933")
MAX_NESTING = 64


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


def load_json(text: str | bytes) -> Any:
    """Parse JSON strictly: NaN and Infinity are not JSON, and absurd nesting is refused early."""

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    try:
        value = json.loads(text, parse_constant=refuse_constant)
    except RecursionError:
        raise ImportRejected("the JSON is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRejected(f"not valid JSON: {exc}") from None
    if _depth(value) > MAX_NESTING:
        raise ImportRejected("the JSON is nested too deeply")
    return value


def _depth(value: Any) -> int:
    stack, deepest = [(value, 1)], 0
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack += [(v, level + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, level + 1) for v in item]
    return deepest


def check_collection(document: Any) -> list[EventData]:
    """Check every feature of a FeatureCollection; raise :class:`ImportRejected` listing each bad one."""
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise ImportRejected('expected a GeoJSON FeatureCollection ({"type": "FeatureCollection", ...})')
    features = document.get("features")
    if not isinstance(features, list):
        raise ImportRejected('the FeatureCollection has no "features" array')
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


def import_collection(session: Session, document: Any, user: User | None = None) -> ImportReport:
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


def ensure_categories(session: Session, slugs: set[str]) -> list[str]:
    """Create the categories that do not exist yet; return their slugs."""
    known = set(session.scalars(select(Category.slug).where(Category.slug.in_(slugs))))
    created = sorted(slugs - known)
    for slug in created:
        session.add(Category(slug=slug, label=slug.replace("-", " ").capitalize(), colour=colour_for(slug)))
    return created


def colour_for(slug: str) -> str:
    """A stable colour per slug, so the same category looks the same on every instance."""
    digest = hashlib.sha256(slug.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]
