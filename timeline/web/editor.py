"""Editing pages: the event form beside a map, history with restore, conflicts with merge, trash.

Views stay thin: they translate the form (editor_form), call the editing functions, and turn their
outcomes into pages. Every state change is a POST with a CSRF token.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from timeline.domain import editing
from timeline.domain.accounts import acting_user, require
from timeline.domain.features import FeatureError, event_to_feature, parse_feature
from timeline.domain.input_gate import has_bidi_controls
from timeline.domain.revisions import history
from timeline.store.db import db
from timeline.store.models import CONFIDENCES, Category, Event, Revision
from timeline.web.event_form import (
    FormState,
    empty_values,
    errors_by_field,
    feature_from_values,
    problems_summary,
    values_from_feature,
    values_from_form,
)
from timeline.web.language import select_locale

bp = Blueprint("editor", __name__, url_prefix="/edit")


def _categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.label)))


def _form_text() -> dict[str, str]:
    """What the form's script shows (static/js/editor.js), in the editor's language; the script
    fills in the %(name)s placeholders."""
    return {
        "nearest": _("Nearest place: %(name)s (%(distance)s km)"),
        "under_one": _("under 1"),
        "use_name": _("Use this name"),
        "no_place": _("No place of that name is known"),
    }


def _render_form(state: FormState, event: Event | None, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "editor/form.html",
            state=state,
            event=event,
            categories=_categories(),
            confidences=CONFIDENCES,
            user=acting_user(),
            form_text=_form_text(),
        ),
        status,
    )


def _event_or_404(event_id: str, include_deleted: bool = False) -> Event:
    event = db.session.scalar(select(Event).where(Event.id == event_id))
    if event is None or (event.deleted_at is not None and not include_deleted):
        abort(404, description=f"no event with id {event_id!r}")
    return event


@bp.get("/")
@require("editor")
def dashboard() -> ResponseReturnValue:
    """Every event, drafts included, most recently changed first."""
    events = db.session.scalars(
        select(Event).where(Event.deleted_at.is_(None)).order_by(Event.updated_at.desc(), Event.id).limit(500)
    ).all()
    lang = select_locale()
    labels = {category.slug: category.label_in(lang) for category in _categories()}
    return render_template("editor/dashboard.html", events=events, labels=labels, user=acting_user())


@bp.route("/events/new", methods=["GET", "POST"])
@require("editor")
def new_event() -> ResponseReturnValue:
    user = acting_user()
    if request.method == "GET":
        return _render_form(FormState(values=empty_values(select_locale())), None)
    values = values_from_form(request.form)
    feature, problems = feature_from_values(values, include_status=user.is_admin)
    try:
        if problems:
            raise FeatureError(problems)
        data = parse_feature(feature)
        event = editing.create_event(db.session, data, user)
    except FeatureError as exc:
        return _render_form(FormState(values=values, errors=errors_by_field(exc.problems)), None, 422)
    if event.status == "draft":
        flash(_("Saved “%(title)s” as a draft.", title=event.title))
    else:
        flash(_("Saved “%(title)s” as published.", title=event.title))
    _flag_reordering(event.title)
    return redirect(url_for("editor.edit_event", event_id=event.id))


@bp.route("/events/<event_id>", methods=["GET", "POST"])
@require("editor")
def edit_event(event_id: str) -> ResponseReturnValue:
    user = acting_user()
    event = _event_or_404(event_id)
    if request.method == "GET":
        _flag_reordering(event.title)
        values = values_from_feature(event_to_feature(event))
        return _render_form(FormState(values=values, version=event.version), event)
    values = values_from_form(request.form)
    loaded = _int(request.form.get("version"))
    feature, problems = feature_from_values(values, include_status=user.is_admin)
    try:
        if problems:
            raise FeatureError(problems)
        # The form has no fields for a dataset's id and facts: they stay as they are.
        kept = {"external_id": event.external_id, "attributes": dict(event.attributes or {})}
        data = parse_feature({**feature, "id": event.id, "properties": {**feature["properties"], **kept}})
        editing.update_event(db.session, event.id, data, loaded, user)
    except FeatureError as exc:
        state = FormState(values=values, errors=errors_by_field(exc.problems), version=loaded)
        return _render_form(state, event, 422)
    except editing.Conflict as exc:
        return _conflict_page(exc.event, feature, loaded)
    flash(_("Saved."))
    _flag_reordering(data.title)
    return redirect(url_for("editor.edit_event", event_id=event.id))


def _flag_reordering(title: str) -> None:
    """Warn when a title holds direction controls, which can make it read otherwise than it is."""
    if has_bidi_controls(title):
        flash(
            _(
                "The title contains invisible characters that change the order in which text is shown "
                "(Unicode direction controls). Check that it reads as intended, or retype it."
            )
        )


def _conflict_page(current: Event, mine: dict[str, Any], loaded: int | None) -> ResponseReturnValue:
    """Both versions side by side; the editor picks, field by field, what to keep."""
    rows = editing.compare_versions(mine, event_to_feature(current))
    author = db.session.scalar(
        select(Revision).where(Revision.event_pk == current.pk).order_by(Revision.id.desc()).limit(1)
    )
    return (
        render_template(
            "editor/conflict.html",
            event=current,
            rows=rows,
            loaded=loaded,
            mine_json=json.dumps(mine),
            last=author,
        ),
        409,
    )


@bp.post("/events/<event_id>/merge")
@require("editor")
def merge(event_id: str) -> ResponseReturnValue:
    """Save the editor's choice per field over the version shown on the conflict page."""
    user = acting_user()
    event = _event_or_404(event_id)
    try:
        mine = json.loads(request.form.get("mine", ""))
        mine_fields = editing.flat_fields(mine)
    except (ValueError, KeyError, TypeError):
        abort(400, description="the merge form was damaged; open the event and edit it again")
    keep_mine = {name for name in mine_fields if request.form.get(f"take_{name}") == "mine"}
    try:
        editing.merge_versions(db.session, event.id, mine, keep_mine, _int(request.form.get("version")), user)
    except LookupError:
        abort(404, description=f"no event with id {event_id!r}")
    except FeatureError as exc:
        flash(_("The merged event is not valid: %(problems)s", problems=problems_summary(exc.problems)))
        return redirect(url_for("editor.edit_event", event_id=event.id))
    except editing.Conflict as exc:
        return _conflict_page(exc.event, mine, _int(request.form.get("version")))
    flash(_("Merged and saved."))
    return redirect(url_for("editor.edit_event", event_id=event.id))


@bp.get("/events/<event_id>/history")
@require("editor")
def event_history(event_id: str) -> ResponseReturnValue:
    """Every revision with a readable diff; geometry changes are drawn on a small map."""
    event = _event_or_404(event_id, include_deleted=True)
    return render_template("editor/history.html", event=event, revisions=history(db.session, event))


@bp.post("/events/<event_id>/revert/<int:revision_id>")
@require("editor")
def revert(event_id: str, revision_id: int) -> ResponseReturnValue:
    try:
        editing.revert_to(db.session, event_id, revision_id, _int(request.form.get("version")), acting_user())
    except LookupError:
        abort(404, description="no such revision of this event")
    except editing.Conflict:
        flash(_("The event changed while you were looking at its history; check the newest revision first."))
        return redirect(url_for("editor.event_history", event_id=event_id))
    flash(_("Restored that revision as a new revision."))
    return redirect(url_for("editor.event_history", event_id=event_id))


@bp.post("/events/<event_id>/<any(publish, unpublish, delete, restore):action>")
@require("admin")
def change_state(event_id: str, action: str) -> ResponseReturnValue:
    user = acting_user()
    try:
        if action == "publish":
            editing.set_status(db.session, event_id, "published", user)
            flash(_("Published."))
        elif action == "unpublish":
            editing.set_status(db.session, event_id, "draft", user)
            flash(_("Unpublished: now a draft."))
        elif action == "delete":
            editing.delete_event(db.session, event_id, user)
            flash(_("Moved to the trash."))
        else:
            editing.restore_event(db.session, event_id, user)
            flash(_("Restored from the trash."))
    except LookupError:
        abort(404, description=f"no event with id {event_id!r}")
    if action == "delete":
        return redirect(url_for("editor.trash"))
    return redirect(url_for("editor.edit_event", event_id=event_id))


@bp.get("/trash")
@require("admin")
def trash() -> ResponseReturnValue:
    """Deleted events, each restorable."""
    events = db.session.scalars(
        select(Event).where(Event.deleted_at.is_not(None)).order_by(Event.deleted_at.desc())
    ).all()
    return render_template("editor/trash.html", events=events)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
