"""Custom places: the JSON API for tools and the editors' page, both over one set of rules.

An editor adds a village no package has (its name, other spellings, the point and where the point
comes from); from the next request on, every process finds it in ``/api/places`` beside the
gazetteer's places, names it when reverse geocoding, and labels it on the maps. Changes are
revisioned, deletes restorable and stale saves refused, as for events
(:mod:`timeline.domain.custom_places`).

API (``Authorization: Bearer`` token, or the session cookie plus CSRF token, as the events API):
``GET/POST /api/custom-places``, ``GET/PATCH/DELETE /api/custom-places/<id>`` (PATCH with the
version loaded, as If-Match or ``version``), ``POST …/<id>/restore``, ``GET …/<id>/revisions``.
Bad input is a 400 ``{"error", "detail", "problems"}``, a stale version a 409 with the current place.

Pages: ``/edit/places`` lists them (and the deleted ones, to restore), with a form beside a small
map to add or edit one, and each place's history.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from timeline.domain import custom_places as places
from timeline.domain.accounts import acting_user, require
from timeline.domain.custom_places import PlaceConflict, PlaceInvalid
from timeline.domain.features import SET_BY_SERVER, Problem
from timeline.domain.importing import ImportRejected, read_document
from timeline.store.db import db
from timeline.store.place_models import CustomPlace, CustomPlaceRevision
from timeline.web.event_form import errors_by_field

bp = Blueprint("custom_places", __name__)

_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')
FORM_FIELDS = ("name", "alternate_names", "lon", "lat", "source", "kind", "country", "region")


# ---------------------------------------------------------------------------- shared


def place_json(place: CustomPlace) -> dict[str, Any]:
    return {
        "id": place.id,
        "ref": f"custom:{place.id}",
        **places.place_content(place),
        "version": place.version,
        "author": place.author.username if place.author else None,
        "created_at": place.created_at.isoformat(),
        "updated_at": place.updated_at.isoformat(),
        "deleted_at": place.deleted_at.isoformat() if place.deleted_at else None,
    }


def _revision_json(revision: CustomPlaceRevision) -> dict[str, Any]:
    return {
        "revision": revision.id,
        "version": revision.version,
        "action": revision.action,
        "user": revision.user.username if revision.user else None,
        "at": revision.created_at.isoformat(),
        "changes": revision.changes,
        "snapshot": revision.snapshot,
    }


# ---------------------------------------------------------------------------- API


def _error(status: int, error: str, detail: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": error, "detail": detail, **extra}), status


def _invalid(problems: list[Problem]) -> tuple[Response, int]:
    detail = "; ".join(str(p) for p in problems)
    return _error(400, "invalid place", detail, problems=[p.as_dict() for p in problems])


def _json_body() -> dict[str, Any]:
    if not request.mimetype or not request.mimetype.endswith("json"):
        abort(415, description="send JSON (application/json)")
    try:
        body = read_document(request.get_data())
    except ImportRejected as exc:
        abort(400, description=exc.summary)
    if not isinstance(body, dict):
        abort(400, description="the body must be a JSON object")
    return body


def _answer(place: CustomPlace, status: int = 200) -> tuple[Response, int]:
    response = jsonify(place_json(place))
    response.headers["ETag"] = f'"{place.version}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response, status


def _conflict(exc: PlaceConflict) -> tuple[Response, int]:
    detail = (
        f"the place was changed by someone else: it is at version {exc.place.version}, "
        f"your edit was based on version {exc.expected}"
    )
    return _error(409, "conflict", detail, current=place_json(exc.place))


def _expected_version(body: dict[str, Any] | None, *, required: bool = True) -> int | None:
    """The version the client loaded: If-Match (the ETag) or ``version`` in the body."""
    header = request.headers.get("If-Match")
    if header:
        match = _ETAG.match(header.strip())
        if not match:
            abort(412, description='If-Match must be the ETag you loaded, e.g. "3"')
        return int(match.group(1))
    value = (body or {}).get("version")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31:
        return value
    if value is not None:
        abort(400, description="version must be the whole number you loaded")
    if required:
        abort(
            428, description='send the version you loaded (If-Match header or "version") so no edit is lost'
        )
    return None


def _place_or_404(place_id: int, include_deleted: bool = False) -> CustomPlace:
    place = places.get_place(db.session, place_id, include_deleted=include_deleted)
    if place is None:
        abort(404, description=f"no custom place with id {place_id}")
    return place


@bp.get("/api/custom-places")
@require("editor")
def api_list() -> Response:
    """Every live place by name; ``?deleted=true`` lists the deleted ones instead."""
    deleted = request.args.get("deleted", "").lower() in ("1", "true", "yes")
    found = places.list_places(db.session, deleted=deleted)
    response = jsonify({"places": [place_json(p) for p in found]})
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/api/custom-places")
@require("editor")
def api_create() -> tuple[Response, int]:
    body = _json_body()
    if "version" in body:
        return _invalid([Problem("version", SET_BY_SERVER)])
    try:
        data = places.with_region(places.parse_place(body))
    except PlaceInvalid as exc:
        return _invalid(exc.problems)
    place = places.create_place(db.session, data, acting_user())
    response, status = _answer(place, 201)
    response.headers["Location"] = url_for("custom_places.api_get", place_id=place.id)
    return response, status


@bp.get("/api/custom-places/<int:place_id>")
@require("editor")
def api_get(place_id: int) -> tuple[Response, int]:
    """One place, deleted ones too (their ``deleted_at`` says so)."""
    return _answer(_place_or_404(place_id, include_deleted=True))


@bp.route("/api/custom-places/<int:place_id>", methods=["PATCH", "PUT"])
@require("editor")
def api_update(place_id: int) -> tuple[Response, int]:
    """Change the fields the body names, based on the version the client loaded."""
    body = _json_body()
    place = _place_or_404(place_id)
    expected = _expected_version(body)
    try:
        data = places.with_region(places.parse_place(body, base=places.place_data(place)))
        place = places.update_place(db.session, place_id, data, expected, acting_user())
    except PlaceInvalid as exc:
        return _invalid(exc.problems)
    except PlaceConflict as exc:
        return _conflict(exc)
    except LookupError:
        abort(404, description=f"no custom place with id {place_id}")
    return _answer(place)


@bp.delete("/api/custom-places/<int:place_id>")
@require("editor")
def api_delete(place_id: int) -> tuple[Response, int]:
    """Mark a place deleted (searches stop finding it); ``POST …/restore`` brings it back."""
    expected = _expected_version(None, required=False)
    try:
        places.delete_place(db.session, place_id, acting_user(), expected)
    except LookupError:
        abort(404, description=f"no custom place with id {place_id}")
    except PlaceConflict as exc:
        return _conflict(exc)
    return Response(status=204), 204


@bp.post("/api/custom-places/<int:place_id>/restore")
@require("editor")
def api_restore(place_id: int) -> tuple[Response, int]:
    try:
        place = places.restore_place(db.session, place_id, acting_user())
    except LookupError:
        abort(404, description=f"no custom place with id {place_id}")
    return _answer(place)


@bp.get("/api/custom-places/<int:place_id>/revisions")
@require("editor")
def api_revisions(place_id: int) -> Response:
    """Every revision of a place, newest first, with who changed what."""
    place = _place_or_404(place_id, include_deleted=True)
    revisions = [_revision_json(r) for r in places.history(db.session, place)]
    return jsonify({"id": place.id, "revisions": revisions})


# ---------------------------------------------------------------------------- pages


def _values(place: CustomPlace | None) -> dict[str, str]:
    if place is None:
        return dict.fromkeys(FORM_FIELDS, "")
    content = places.place_content(place)
    values = {k: str(content[k]) for k in FORM_FIELDS}
    values["alternate_names"] = "\n".join(content["alternate_names"])
    return values


def _render_form(
    place: CustomPlace | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    version: int | None = None,
    conflict: CustomPlace | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    return (
        render_template(
            "editor/places_form.html",
            place=place,
            values=values,
            errors=errors or {},
            version=version,
            conflict=conflict,
            conflict_values=_values(conflict) if conflict is not None else None,
        ),
        status,
    )


def _form_values() -> dict[str, str]:
    return {k: request.form.get(k, "") for k in FORM_FIELDS}


@bp.get("/edit/places")
@require("editor")
def page_list() -> ResponseReturnValue:
    """The editors' places, and the deleted ones with a button to restore each."""
    return render_template(
        "editor/places.html",
        live=places.list_places(db.session),
        deleted=places.list_places(db.session, deleted=True, limit=200),
    )


@bp.route("/edit/places/new", methods=["GET", "POST"])
@require("editor")
def page_new() -> ResponseReturnValue:
    if request.method == "GET":
        return _render_form(None, _values(None))
    values = _form_values()
    try:
        data = places.with_region(places.parse_place(values))
    except PlaceInvalid as exc:
        return _render_form(None, values, errors_by_field(exc.problems), status=422)
    place = places.create_place(db.session, data, acting_user())
    flash(_("Added the place “%(name)s”; it is found in place search from now on.", name=place.name))
    return redirect(url_for("custom_places.page_list"))


@bp.route("/edit/places/<int:place_id>", methods=["GET", "POST"])
@require("editor")
def page_edit(place_id: int) -> ResponseReturnValue:
    place = _place_or_404(place_id)
    if request.method == "GET":
        return _render_form(place, _values(place), version=place.version)
    values = _form_values()
    loaded = _int(request.form.get("version"))
    try:
        data = places.with_region(places.parse_place(values))
        places.update_place(db.session, place.id, data, loaded, acting_user())
    except PlaceInvalid as exc:
        return _render_form(place, values, errors_by_field(exc.problems), version=loaded, status=422)
    except PlaceConflict as exc:
        # What the editor typed stays; the saved version is shown beside it, and saving again
        # (now based on that version) replaces it knowingly.
        return _render_form(exc.place, values, version=exc.place.version, conflict=exc.place, status=409)
    except LookupError:
        abort(404, description=f"no custom place with id {place_id}")
    flash(_("Saved the place “%(name)s”.", name=data.name))
    return redirect(url_for("custom_places.page_list"))


@bp.post("/edit/places/<int:place_id>/delete")
@require("editor")
def page_delete(place_id: int) -> ResponseReturnValue:
    try:
        place = places.delete_place(db.session, place_id, acting_user())
    except LookupError:
        abort(404, description=f"no custom place with id {place_id}")
    flash(_("Deleted the place “%(name)s”; it can be restored below.", name=place.name))
    return redirect(url_for("custom_places.page_list"))


@bp.post("/edit/places/<int:place_id>/restore")
@require("editor")
def page_restore(place_id: int) -> ResponseReturnValue:
    try:
        place = places.restore_place(db.session, place_id, acting_user())
    except LookupError:
        abort(404, description=f"no custom place with id {place_id}")
    flash(_("Restored the place “%(name)s”.", name=place.name))
    return redirect(url_for("custom_places.page_list"))


@bp.get("/edit/places/<int:place_id>/history")
@require("editor")
def page_history(place_id: int) -> ResponseReturnValue:
    place = _place_or_404(place_id, include_deleted=True)
    return render_template(
        "editor/places_history.html", place=place, revisions=places.history(db.session, place)
    )


@bp.post("/edit/places/<int:place_id>/revert/<int:revision_id>")
@require("editor")
def page_revert(place_id: int, revision_id: int) -> ResponseReturnValue:
    try:
        places.revert_place(
            db.session, place_id, revision_id, _int(request.form.get("version")), acting_user()
        )
    except LookupError:
        abort(404, description="no such revision of this place, or the place is deleted")
    except PlaceConflict:
        flash(_("The place changed while you were looking at its history; check the newest revision first."))
        return redirect(url_for("custom_places.page_history", place_id=place_id))
    except PlaceInvalid as exc:
        abort(400, description=str(exc))
    flash(_("Restored that revision as a new revision."))
    return redirect(url_for("custom_places.page_history", place_id=place_id))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------- OpenAPI


def openapi_paths(if_match: dict[str, Any]) -> dict[str, Any]:
    """The API's paths for the OpenAPI document (timeline/web/openapi.py adds them to its own,
    and gives the ``If-Match`` parameter the events' operations use too)."""
    error = {"$ref": "#/components/responses/Error"}
    place = {
        "type": "object",
        "description": "a custom place (id, name, alternate_names, lon, lat, source, kind, country, "
        "region, version, author, created_at, updated_at, deleted_at)",
    }
    body = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    place_id = {
        "name": "placeId",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": places.MAX_ID},
        "description": "the custom place's id",
    }

    def op(summary: str, ok: tuple[str, str], *errors: int, **extra: Any) -> dict[str, Any]:
        status, description = ok
        answer: dict[str, Any] = {"description": description}
        if status != "204":
            answer["content"] = {"application/json": {"schema": place}}
        responses = {status: answer, **{str(e): error for e in (401, 403, *errors)}, "default": error}
        return {"summary": summary, "security": [{"bearer": []}], "responses": responses, **extra}

    change = op(
        "change some fields over the version you loaded",
        ("200", "the place as stored"),
        *(400, 404, 409, 412, 415, 428),
        parameters=[place_id, if_match],
        requestBody=body,
    )
    return {
        "/api/custom-places": {
            "get": op("editors' places (?deleted=true: the deleted ones)", ("200", "the places")),
            "post": op(
                "add a place that the gazetteer lacks",
                ("201", "the place as stored"),
                400,
                415,
                requestBody=body,
            ),
        },
        "/api/custom-places/{placeId}": {
            "get": op("one place", ("200", "the place"), 404, parameters=[place_id]),
            "patch": change,
            "put": {**change, "summary": "as PATCH"},
            "delete": op(
                "delete a place (soft: it can be restored)",
                ("204", "deleted"),
                404,
                409,
                412,
                parameters=[place_id, if_match],
            ),
        },
        "/api/custom-places/{placeId}/restore": {
            "post": op("restore a deleted place", ("200", "restored"), 404, parameters=[place_id]),
        },
        "/api/custom-places/{placeId}/revisions": {
            "get": op(
                "every saved version, newest first", ("200", "the revisions"), 404, parameters=[place_id]
            ),
        },
    }
