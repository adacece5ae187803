"""Admin pages: users and their roles, categories, and the audit log (with CSV export)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from timeline.domain import audit
from timeline.domain.accounts import (
    PasswordRejected,
    acting_user,
    create_user,
    current_user,
    end_sessions,
    require,
)
from timeline.domain.categories import LABEL_LANGUAGES, LABEL_LENGTH, SLUG_PATTERN, set_labels
from timeline.domain.input_gate import text_problem
from timeline.store.db import db, writing
from timeline.store.models import ROLES, AuditEntry, Category, User
from timeline.web.params import int_param

bp = Blueprint("admin", __name__, url_prefix="/admin")

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
AUDIT_PAGE = 200


def _role_name(role: str) -> str:
    """A role as the reader's language names it (the stored value stays the English key)."""
    names: dict[str, str] = {"editor": _("editor"), "admin": _("admin")}
    return names.get(role, role)


@bp.route("/users", methods=["GET", "POST"])
@require("admin")
def users() -> ResponseReturnValue:
    """List accounts; create one (the password policy applies here as on the command line)."""
    error = None
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "")
        role = request.form.get("role", "")
        try:
            with writing(db.session):
                create_user(username, request.form.get("password", ""), role)
                audit.record(
                    db.session, "user_create", current_user(), target=username, detail=f"role {role}"
                )
            flash(_("Created %(role)s %(name)s.", role=_role_name(role), name=username))
            return redirect(url_for("admin.users"))
        except (ValueError, PasswordRejected) as exc:
            error, status = str(exc), 422
    accounts = db.session.scalars(select(User).order_by(User.username)).all()
    form = {"username": request.form.get("username", ""), "role": request.form.get("role", "editor")}
    return render_template("admin/users.html", users=accounts, roles=ROLES, error=error, form=form), status


@bp.post("/users/<int:user_id>")
@require("admin")
def update_user(user_id: int) -> ResponseReturnValue:
    """Change a role, end a user's sessions, deactivate (ends every session and token) or reactivate."""
    me = acting_user()
    action = request.form.get("action")
    if user_id == me.id and action in ("deactivate", "role"):
        flash(_("You cannot demote or deactivate yourself; ask another admin."))
        return redirect(url_for("admin.users"))
    with writing(db.session):
        user = db.session.get(User, user_id)
        if user is None:
            abort(404, description=_("There is no such user."))
        if action == "role" and request.form.get("role") in ROLES:
            user.role = request.form["role"]
            detail = f"role {user.role}"
        elif action == "deactivate":
            user.deactivated_at = datetime.now(UTC)
            end_sessions(user)
            detail = "deactivated"
        elif action == "end_sessions":
            ended = end_sessions(user)
            detail = f"{ended} sessions ended"
        elif action == "reactivate":
            user.deactivated_at = None
            detail = "reactivated"
        else:
            abort(400, description=_("That action is unknown."))
        audit.record(db.session, "user_update", me, target=user.username, detail=detail)
    if action == "role":
        flash(_("%(name)s: role %(role)s.", name=user.username, role=_role_name(user.role)))
    elif action == "deactivate":
        flash(_("%(name)s: deactivated.", name=user.username))
    elif action == "end_sessions":
        flash(
            ngettext(
                "%(name)s: %(num)d session ended.",
                "%(name)s: %(num)d sessions ended.",
                ended,
                name=user.username,
            )
        )
    else:
        flash(_("%(name)s: reactivated.", name=user.username))
    return redirect(url_for("admin.users"))


@bp.route("/categories", methods=["GET", "POST"])
@require("admin")
def categories() -> ResponseReturnValue:
    """Add a category or change one's labels and colour (slugs are permanent: events carry them).

    The base label is what exports carry and every language without its own shows; the German one
    is what German visitors see in the legend, the filters, the event pages and the editor.
    """
    error, status = None, 200
    if request.method == "POST":
        slug = request.form.get("slug", "").strip()
        label = request.form.get("label", "").strip()
        colour = request.form.get("colour", "").strip()
        labels = {lang: request.form.get(f"label_{lang}", "").strip() for lang in LABEL_LANGUAGES}
        if not SLUG_PATTERN.match(slug):
            error = _("The slug must be lower-case letters, digits and '-'.")
        elif not label or len(label) > LABEL_LENGTH:
            error = _("The label must be 1-%(most)d characters.", most=LABEL_LENGTH)
        elif any(len(text) > LABEL_LENGTH for text in labels.values()):
            error = _("The German label must be at most %(most)d characters.", most=LABEL_LENGTH)
        elif any(text_problem(text) for text in (label, *labels.values())):
            error = _("A label holds characters that cannot be shown.")
        elif not COLOUR.match(colour):
            error = _("The colour must look like #1f77b4.")
        else:
            with writing(db.session):
                category = db.session.get(Category, slug) or Category(slug=slug)
                category.label, category.colour = label, colour.lower()
                set_labels(category, labels)
                db.session.add(category)
                shown = " ".join([label, *(f"{k}:{v}" for k, v in labels.items() if v), colour])
                audit.record(db.session, "category_save", current_user(), target=slug, detail=shown)
            flash(_("Saved category %(slug)s.", slug=slug))
            return redirect(url_for("admin.categories"))
        status = 422
    rows = db.session.scalars(select(Category).order_by(Category.label)).all()
    return render_template("admin/categories.html", categories=rows, error=error, form=request.form), status


@bp.get("/audit")
@require("admin")
def audit_log() -> ResponseReturnValue:
    """The newest audit entries, with paging by id."""
    raw_before = request.args.get("before")
    before = int_param("before", raw_before, 1, None) if raw_before else None
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE)
    if before:
        stmt = stmt.where(AuditEntry.id < before)
    entries = db.session.scalars(stmt).all()
    older = entries[-1].id if len(entries) == AUDIT_PAGE else None
    return render_template("admin/audit.html", entries=entries, older=older)


@bp.get("/audit.csv")
@require("admin")
def audit_csv() -> Response:
    """The whole audit log as CSV (cells that a spreadsheet would run as formulas are defused)."""
    response = Response(stream_with_context(audit.csv_rows(db.session)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="timeline-audit.csv"'
    return response
