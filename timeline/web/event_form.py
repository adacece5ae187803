"""The event form, translated to and from the Feature contract.

The form posts flat fields; they are turned into a Feature and checked by the same
:func:`timeline.features.parse_feature` as the API and the importer, so there is one set of rules.
Problems come back keyed by form field, to be shown next to it with what was typed kept, in the
editor's language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from timeline.domain.features import N_, Problem
from timeline.domain.fields import max_items

SOURCE_FIELDS = ("url", "outlet", "title", "published")


@dataclass
class FormState:
    """What the form shows: values (as typed), errors by field, and the version it was loaded at."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    version: int | None = None


def empty_values(lang: str) -> dict[str, Any]:
    """A new event's form; its text is taken to be in ``lang``, the language the editor reads the
    page in, since that is what an editor most often writes in."""
    return {
        "title": "", "description": "", "lang": lang, "place": "", "category": "", "confidence": "reported",
        "status": "draft", "date_precision": "day", "start": "", "end": "", "actors": "", "geometry": "",
        "lon": "", "lat": "", "sources": [{k: "" for k in SOURCE_FIELDS}],
    }  # fmt: skip


def values_from_feature(feature: dict[str, Any]) -> dict[str, Any]:
    """Form values for an existing event."""
    props = feature["properties"]
    geometry = feature["geometry"]
    lon, lat = geometry["coordinates"][:2] if geometry["type"] == "Point" else ("", "")
    sources = [{k: s.get(k) or "" for k in SOURCE_FIELDS} for s in props.get("sources", [])]
    return {
        "title": props["title"], "description": props["description"], "lang": props["lang"],
        "place": props["place"], "category": props["category"], "confidence": props["confidence"],
        "status": props["status"], "date_precision": props["date_precision"], "start": props["start"],
        "end": props["end"] or "", "actors": "\n".join(props["actors"]),
        "geometry": json.dumps(geometry), "lon": lon, "lat": lat,
        "sources": sources or [{k: "" for k in SOURCE_FIELDS}],
    }  # fmt: skip


def values_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The submitted values exactly as typed (for redisplay)."""
    values = empty_values("en")  # a form without the field keeps the old default
    for key in values:
        if key != "sources" and key in form:
            values[key] = form.get(key, "")
    values["sources"] = _source_rows(form) or [{k: "" for k in SOURCE_FIELDS}]
    return values


def _source_rows(form: MultiDict[str, str]) -> list[dict[str, str]]:
    columns = {k: form.getlist(f"source_{k}")[: max_items("sources")] for k in SOURCE_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    rows = []
    for i in range(count):
        row = {k: (columns[k][i] if i < len(columns[k]) else "").strip() for k in SOURCE_FIELDS}
        rows.append(row)
    return rows


def feature_from_values(
    values: dict[str, Any], *, include_status: bool
) -> tuple[dict[str, Any], list[Problem]]:
    """A Feature built from form values, plus problems only the form can have (coordinates as text)."""
    problems: list[Problem] = []
    geometry: Any = None
    if values["geometry"].strip():
        try:
            geometry = json.loads(values["geometry"], parse_constant=_refuse)
        except ValueError:
            problems.append(
                Problem("geometry", N_("The shape drawn on the map could not be read; draw it again"))
            )
    elif values["lon"].strip() or values["lat"].strip():
        try:
            geometry = {"type": "Point", "coordinates": [float(values["lon"]), float(values["lat"])]}
        except ValueError:
            problems.append(
                Problem("geometry", N_("Enter the longitude and latitude as numbers, e.g. 35.27 and 51.19"))
            )
    props: dict[str, Any] = {
        "title": values["title"],
        "description": values["description"],
        "lang": values["lang"].strip(),
        "place": values["place"],
        "category": values["category"].strip(),
        "confidence": values["confidence"],
        "date_precision": values["date_precision"],
        "start": values["start"].strip() or None,
        "end": values["end"].strip() or None,
        "actors": [a.strip() for a in values["actors"].replace(",", "\n").splitlines() if a.strip()],
        "sources": [
            {k: (row[k] or None) for k in SOURCE_FIELDS} for row in values["sources"] if any(row.values())
        ],
    }
    if include_status:
        props["status"] = values["status"]
    return {"type": "Feature", "geometry": geometry, "properties": props}, problems


def _refuse(name: str) -> Any:
    raise ValueError(name)


def errors_by_field(problems: list[Problem]) -> dict[str, str]:
    """Problems keyed by the form field that shows them (``sources[2]`` stays per row), worded as
    guidance in the request's language; the technical detail the API adds is left out."""
    errors: dict[str, str] = {}
    for p in problems:
        text = p.translated(gettext)
        errors[p.field] = f"{errors[p.field]}; {text}" if p.field in errors else text
    return errors


def problems_summary(problems: list[Problem]) -> str:
    """Every problem on one line, each after the field it is in, for a message outside the form."""
    return "; ".join(f"{name}: {text}" for name, text in errors_by_field(problems).items())
