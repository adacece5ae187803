"""Every change to a custom place (a village no package has), for the editor's page and the API.

Custom places follow the rules events follow (:mod:`timeline.domain.editing`): each function is one
all-or-nothing transaction that writes a revision (who, when, what changed, and the place as it
stood afterwards) and an audit entry; deletes are marks that a restore takes back; a save based on
an old version is refused with :class:`PlaceConflict` instead of replacing someone else's edit.

Input is checked here, once, for the API and the form alike (:func:`parse_place`): a name, up to
:data:`ALTERNATES_MAX` alternate names, a point in range, where the coordinates come from, and
optionally a kind, a country and a region code. The folded search keys (the gazetteer's
:func:`~geodata.place_names.fold`) are written with every save, so search finds a place by any of
its spellings as soon as the transaction commits.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from geodata.gazetteer import ExtraPlace
from geodata.place_names import fold
from timeline.domain import audit
from timeline.domain.features import BROKEN_TEXT, N_, TOO_LONG, Problem
from timeline.domain.input_gate import text_problem
from timeline.domain.revisions import diff
from timeline.store.db import DbSession, writing
from timeline.store.models import User
from timeline.store.place_models import (
    ALTERNATES_MAX,
    KIND_LENGTH,
    NAME_LENGTH,
    REGION_LENGTH,
    SOURCE_LENGTH,
    CustomPlace,
    CustomPlaceName,
    CustomPlaceRevision,
)

FIELDS = ("name", "alternate_names", "lon", "lat", "source", "kind", "country", "region")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# ISO 3166-2 ("RU-KRS", "UA-59") or Natural Earth's own admin-1 code where it has none ("RUS-2593").
REGION_CODE = re.compile(r"^[A-Z0-9]{1,4}-[A-Z0-9]{1,10}$")


class PlaceInvalid(ValueError):
    """Input that cannot be stored; ``problems`` lists every reason, by field."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class PlaceConflict(Exception):
    """The place changed since the editor loaded it; ``place`` is the current version."""

    def __init__(self, place: CustomPlace, expected: int | None):
        super().__init__(f"place {place.id} is at version {place.version}, not {expected}")
        self.place = place
        self.expected = expected


@dataclass(frozen=True)
class PlaceData:
    """A custom place's content, checked: what a revision's snapshot holds."""

    name: str
    lon: float
    lat: float
    source: str
    alternate_names: tuple[str, ...] = ()
    kind: str = ""
    country: str = ""
    region: str = ""

    def content(self) -> dict[str, Any]:
        values = asdict(self)
        values["alternate_names"] = list(self.alternate_names)
        return {name: values[name] for name in FIELDS}


# ---------------------------------------------------------------------------- checking input


def _line(field: str, value: object, limit: int, problems: list[Problem], *, required: bool) -> str:
    """One line of text: a string, trimmed, within ``limit``, without any control character."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(Problem(field, N_("Send this as a string")))
        return ""
    text = value.strip()
    if required and not text:
        problems.append(Problem(field, N_("Fill in this field")))
    elif len(text) > limit:
        problems.append(Problem(field, TOO_LONG, {"limit": limit, "length": len(text)}))
    elif problem := text_problem(text):
        problems.append(Problem(field, BROKEN_TEXT, detail=problem))
    elif any(unicodedata.category(c) == "Cc" for c in text):
        problems.append(Problem(field, N_("Write this on one line, without tabs")))
    return text


def _coordinate(field: str, value: object, bound: float, problems: list[Problem]) -> float:
    """A longitude (``bound`` 180) or latitude (90); a comma is taken as the decimal point, as a
    German editor types it."""
    not_a_number = Problem(
        field, N_("Enter a number, e.g. %(example)s"), {"example": "35.27" if bound == 180 else "51.19"}
    )
    if isinstance(value, str) and value.strip():
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            problems.append(not_a_number)
            return 0.0
    if value is None or value == "":
        problems.append(Problem(field, N_("Fill in this field")))
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(not_a_number)
        return 0.0
    number = float(value)
    if not math.isfinite(number) or not -bound <= number <= bound:
        problems.append(
            Problem(field, N_("Enter a number from -%(bound)s to %(bound)s"), {"bound": f"{bound:g}"})
        )
        return 0.0
    return number


def _alternates(value: object, name: str, problems: list[Problem]) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):  # the form's text area: one name per line (or separated by |)
        value = [part for line in value.splitlines() for part in line.split("|")]
    if not isinstance(value, list | tuple):
        problems.append(Problem("alternate_names", N_("Send the other names as a list of strings")))
        return ()
    names: list[str] = []
    for item in value:
        found: list[Problem] = []
        text = _line("alternate_names", item, NAME_LENGTH, found, required=False)
        if found:
            problems.extend(found[:1])
            return ()
        if text and text != name and text not in names:
            names.append(text)
    if len(names) > ALTERNATES_MAX:
        problems.append(
            Problem(
                "alternate_names",
                N_("List at most %(limit)s other names (there are %(count)s)"),
                {"limit": ALTERNATES_MAX, "count": len(names)},
            )
        )
        return ()
    return tuple(names)


def _code(field: str, value: object, pattern: re.Pattern[str], example: str, problems: list[Problem]) -> str:
    text = _line(field, value, REGION_LENGTH, problems, required=False).upper()
    if text and not pattern.match(text):
        problems.append(
            Problem(field, N_("Enter a code such as %(example)s, or leave this empty"), {"example": example})
        )
        return ""
    return text


def parse_place(body: Mapping[str, Any], base: PlaceData | None = None) -> PlaceData:
    """A checked :class:`PlaceData` from a JSON object or form; fields missing from ``body`` keep
    their value in ``base`` (a partial update). Raises :class:`PlaceInvalid` naming every problem;
    a field this table does not have is one (no silent dropping)."""
    problems = [
        Problem(key, N_("A place has no such field: leave it out"))
        for key in body
        if key not in (*FIELDS, "version")
    ]
    merged: dict[str, Any] = base.content() if base else {}
    merged.update({k: v for k, v in body.items() if k in FIELDS})
    name = _line("name", merged.get("name"), NAME_LENGTH, problems, required=True)
    if name and not fold(name):
        problems.append(Problem("name", N_("Write the name with letters or digits")))
    data = PlaceData(
        name=name,
        alternate_names=_alternates(merged.get("alternate_names"), name, problems),
        lon=_coordinate("lon", merged.get("lon"), 180, problems),
        lat=_coordinate("lat", merged.get("lat"), 90, problems),
        source=_source(merged.get("source"), problems),
        kind=_line("kind", merged.get("kind"), KIND_LENGTH, problems, required=False),
        country=_code("country", merged.get("country"), _COUNTRY, "RU", problems),
        region=_code("region", merged.get("region"), REGION_CODE, "RU-KRS", problems),
    )
    if problems:
        raise PlaceInvalid(problems)
    return data


def _source(value: object, problems: list[Problem]) -> str:
    """Where the coordinates come from: required (a point without it cannot be checked), a URL or
    a few sentences; line breaks are allowed, other control characters are not."""
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem("source", N_("Say where the coordinates come from: a web address or a note")))
        return ""
    text = value.strip()
    if len(text) > SOURCE_LENGTH:
        problems.append(Problem("source", TOO_LONG, {"limit": SOURCE_LENGTH, "length": len(text)}))
    elif problem := text_problem(text):
        problems.append(Problem("source", BROKEN_TEXT, detail=problem))
    return text


def with_region(data: PlaceData) -> PlaceData:
    """``data`` with its country and region codes filled in from the point where the editor left
    them empty, as events get theirs (:mod:`timeline.domain.regions`); without the gazetteer index
    they stay empty. A region is taken only in the country the editor named, if they named one."""
    if data.country and data.region:
        return data
    from timeline.domain.regions import locator

    where = locator()
    if where is None:
        return data
    found = where.at(data.lon, data.lat)
    country = data.country or found.country_code or ""
    region = data.region
    if not region and found.region_code and found.country_code == country:
        region = found.region_code if REGION_CODE.match(found.region_code) else ""
    return replace(data, country=country[:2], region=region)


# ---------------------------------------------------------------------------- reading


def place_content(place: CustomPlace) -> dict[str, Any]:
    """What a revision keeps of a place (its snapshot), and what a diff compares."""
    return {
        "name": place.name,
        "alternate_names": list(place.alternate_names or []),
        "lon": place.lon,
        "lat": place.lat,
        "source": place.source,
        "kind": place.kind,
        "country": place.country,
        "region": place.region,
    }


def place_data(place: CustomPlace) -> PlaceData:
    content = place_content(place)
    content["alternate_names"] = tuple(content["alternate_names"])
    return PlaceData(**content)


# Ids are the databases' 32-bit INTEGER: a larger one names no place (and PostgreSQL would refuse
# to compare it, a 500 instead of a 404).
MAX_ID = 2**31 - 1


def get_place(session: DbSession, place_id: int, include_deleted: bool = False) -> CustomPlace | None:
    if not 0 < place_id <= MAX_ID:
        return None
    place = session.get(CustomPlace, place_id)
    if place is None or (place.deleted_at is not None and not include_deleted):
        return None
    return place


def list_places(session: DbSession, *, deleted: bool = False, limit: int = 1000) -> list[CustomPlace]:
    """Live places by name, or (``deleted``) the deleted ones, most recently deleted first."""
    stmt = select(CustomPlace)
    if deleted:
        stmt = stmt.where(CustomPlace.deleted_at.is_not(None)).order_by(CustomPlace.deleted_at.desc())
    else:
        stmt = stmt.where(CustomPlace.deleted_at.is_(None)).order_by(CustomPlace.name, CustomPlace.id)
    return list(session.scalars(stmt.limit(limit)))


def history(session: DbSession, place: CustomPlace) -> list[CustomPlaceRevision]:
    """Revisions of a place, newest first."""
    stmt = (
        select(CustomPlaceRevision)
        .where(CustomPlaceRevision.place_id == place.id)
        .order_by(CustomPlaceRevision.id.desc())
    )
    return list(session.scalars(stmt))


# ---------------------------------------------------------------------------- writing


def _apply(place: CustomPlace, data: PlaceData) -> None:
    place.name = data.name
    place.alternate_names = list(data.alternate_names)
    place.lon, place.lat = data.lon, data.lat
    place.source, place.kind = data.source, data.kind
    place.country, place.region = data.country, data.region
    keys = {fold(n) for n in (data.name, *data.alternate_names)} - {""}
    keys = {k[:NAME_LENGTH] for k in keys}
    # Kept rows stay (a key removed and added again in one flush would collide on its primary key).
    place.names = [row for row in place.names if row.folded in keys] + [
        CustomPlaceName(folded=key) for key in sorted(keys - {row.folded for row in place.names})
    ]


def _record(
    session: DbSession, place: CustomPlace, action: str, user: User | None, before: dict[str, Any] | None
) -> CustomPlaceRevision:
    session.flush()  # assigns the place's id and its new version
    after = place_content(place)
    revision = CustomPlaceRevision(
        place_id=place.id,
        version=place.version,
        action=action,
        user_id=user.id if user else None,
        changes=diff(_as_content(before) if before else None, _as_content(after)),
        snapshot=after,
    )
    session.add(revision)
    audit.record(
        session, f"place {action}"[:40], user, target=f"place {place.id}", detail=f"version {place.version}"
    )
    return revision


def _as_content(values: dict[str, Any]) -> dict[str, Any]:
    """The shape :func:`timeline.domain.revisions.diff` compares: the point as one field."""
    props = {k: v for k, v in values.items() if k not in ("lon", "lat")}
    return {"geometry": {"type": "Point", "coordinates": [values["lon"], values["lat"]]}, "properties": props}


def create_place(session: DbSession, data: PlaceData, user: User | None) -> CustomPlace:
    """A new custom place, searchable as soon as this returns."""
    with writing(session):
        place = _new(session, data, user)
    return place


def _new(session: DbSession, data: PlaceData, user: User | None) -> CustomPlace:
    place = CustomPlace(author_id=user.id if user else None)
    _apply(place, data)
    session.add(place)
    _record(session, place, "create", user, None)
    return place


# A row of an import names a place already there when a live place of the same (folded) name lies
# this close: importing a file twice adds nothing the second time.
SAME_PLACE_KM = 1.0


def import_places(session: DbSession, rows: list[PlaceData], user: User | None) -> tuple[int, int]:
    """Add every row as a place, all in one transaction (all or nothing), each with its revision;
    a row naming a place already there is skipped. Returns (added, skipped)."""
    from geodata.gazetteer import haversine_km

    added = skipped = 0
    with writing(session):
        for data in rows:
            key = fold(data.name)
            known = [place for place, folded in matching(session, key) if folded == key]
            if any(haversine_km(p.lon, p.lat, data.lon, data.lat) < SAME_PLACE_KM for p in known):
                skipped += 1
                continue
            _new(session, data, user)
            session.flush()  # the next row's duplicate check sees this one
            added += 1
    return added, skipped


def _existing(session: DbSession, place_id: int, include_deleted: bool = False) -> CustomPlace:
    if not 0 < place_id <= MAX_ID:
        raise LookupError(place_id)
    place = session.scalars(select(CustomPlace).where(CustomPlace.id == place_id)).first()
    if place is None or (place.deleted_at is not None and not include_deleted):
        raise LookupError(place_id)
    return place


def _check_version(place: CustomPlace, expected: int | None) -> None:
    if expected is None or place.version != expected:
        raise PlaceConflict(place, expected)


def update_place(
    session: DbSession,
    place_id: int,
    data: PlaceData,
    expected_version: int | None,
    user: User | None,
    action: str = "update",
) -> CustomPlace:
    """Save ``data`` over ``expected_version``; :class:`PlaceConflict` if someone saved first."""
    with writing(session):
        place = _existing(session, place_id)
        _check_version(place, expected_version)
        before = place_content(place)
        _apply(place, data)
        if place_content(place) == before:
            return place  # nothing changed: no revision, no new version
        try:
            _record(session, place, action, user, before)
        except StaleDataError:
            session.rollback()  # another process saved between our read and our write
            current = session.get(CustomPlace, place_id)
            if current is None:
                raise LookupError(place_id) from None
            raise PlaceConflict(current, expected_version) from None
    return place


def delete_place(
    session: DbSession, place_id: int, user: User | None, expected_version: int | None = None
) -> CustomPlace:
    """Mark a place deleted: search no longer finds it, and :func:`restore_place` brings it back."""
    with writing(session):
        place = _existing(session, place_id)
        if expected_version is not None:
            _check_version(place, expected_version)
        before = place_content(place)
        place.deleted_at = datetime.now(UTC)
        place.updated_at = place.deleted_at
        _record(session, place, "delete", user, before)
    return place


def restore_place(session: DbSession, place_id: int, user: User | None) -> CustomPlace:
    """Bring a deleted place back (a new revision); a live place is left as it is."""
    with writing(session):
        place = _existing(session, place_id, include_deleted=True)
        if place.deleted_at is not None:
            before = place_content(place)
            place.deleted_at = None
            place.updated_at = datetime.now(UTC)
            _record(session, place, "restore", user, before)
    return place


def revert_place(
    session: DbSession, place_id: int, revision_id: int, expected_version: int | None, user: User | None
) -> CustomPlace:
    """Make an old revision's content current again, as a new revision."""
    revision = session.get(CustomPlaceRevision, revision_id) if 0 < revision_id <= MAX_ID else None
    if revision is None or revision.place_id != place_id:
        raise LookupError(revision_id)
    data = parse_place(dict(revision.snapshot))
    return update_place(
        session, place_id, data, expected_version, user, action=f"revert to v{revision.version}"
    )


# ---------------------------------------------------------------------------- searching


def matching(session: DbSession, key: str, limit: int = 300) -> list[tuple[CustomPlace, str]]:
    """Live places with a name whose folded key is ``key`` or begins with it, with the shortest
    such key of each (what the gazetteer's ranking calls the match)."""
    if not key:
        return []
    stmt = (
        select(CustomPlace, CustomPlaceName.folded)
        .join(CustomPlaceName, CustomPlaceName.place_id == CustomPlace.id)
        .where(CustomPlace.deleted_at.is_(None), CustomPlaceName.folded.startswith(key, autoescape=True))
        .limit(limit)
    )
    best: dict[int, tuple[CustomPlace, str]] = {}
    for place, folded in session.execute(stmt):
        if not folded.startswith(key):  # LIKE ignores case on SQLite; the keys are folded already
            continue
        known = best.get(place.id)
        if known is None or len(folded) < len(known[1]):
            best[place.id] = (place, folded)
    return list(best.values())


def in_box(
    session: DbSession, west: float, south: float, east: float, north: float, limit: int = 300
) -> list[CustomPlace]:
    """Live places inside a box (``west > east`` crosses the antimeridian)."""
    stmt = select(CustomPlace).where(
        CustomPlace.deleted_at.is_(None), CustomPlace.lat >= south, CustomPlace.lat <= north
    )
    if west <= east:
        stmt = stmt.where(CustomPlace.lon >= west, CustomPlace.lon <= east)
    else:
        stmt = stmt.where((CustomPlace.lon >= west) | (CustomPlace.lon <= east))
    return list(session.scalars(stmt.order_by(CustomPlace.id).limit(limit)))


def near_point(
    session: DbSession, lon: float, lat: float, radius_km: float, limit: int = 300
) -> list[CustomPlace]:
    """Live places in the box around a point that holds every place within ``radius_km``."""
    dlat = min(90.0, radius_km / 111.0)
    cos = math.cos(math.radians(min(89.0, abs(lat) + dlat)))
    dlon = 180.0 if cos <= 0 else min(180.0, radius_km / (111.0 * cos))
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    if dlon >= 180.0:
        return in_box(session, -180.0, south, 180.0, north, limit)
    west, east = lon - dlon, lon + dlon
    west = west + 360.0 if west < -180.0 else west
    east = east - 360.0 if east > 180.0 else east
    return in_box(session, west, south, east, north, limit)


def as_extra(place: CustomPlace, matched: str = "") -> ExtraPlace:
    """A custom place as the gazetteer ranks and labels it beside its own places."""
    return ExtraPlace(
        ref=f"custom:{place.id}",
        name=place.name,
        lon=place.lon,
        lat=place.lat,
        source=place.source,
        country=place.country,
        region=place.region,
        matched=matched,
        feature_class=place.kind,
    )
