"""Logging in and out (of this session, or of all of a user's sessions at once).

Failed logins are limited per address and per username (timeline/infra/rate_limits.py: counted in
the audit log, or in Redis), so the limit holds across every process that serves the site; the
answer to a wrong password and to an unknown user is the same.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from timeline.domain import audit
from timeline.domain.accounts import (
    acting_user,
    current_user,
    end_sessions,
    find_user,
    log_in,
    log_out,
    require,
    verify_password,
)
from timeline.domain.input_gate import local_redirect_target
from timeline.infra.rate_limits import login_throttle
from timeline.store.db import db, writing

bp = Blueprint("account", __name__)

LOGIN_FAILED = "Invalid username or password."


def _safe_next(target: str | None) -> str:
    """Only redirect within this site after login (no open redirect, no header injection)."""
    return local_redirect_target(target) or url_for("editor.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """The login form; a new session id on success, the same message for every failure."""
    if request.method == "GET":
        return render_template("account/login.html", next=request.args.get("next", ""))
    username = (request.form.get("username") or "").strip()[:80]
    password = request.form.get("password") or ""
    address = audit.client_address()
    throttle = login_throttle()
    if throttle.blocked(address, username):
        message = "Too many failed logins. Try again in 15 minutes."
        return render_template("account/login.html", error=message, username=username), 429
    user = find_user(username)
    if not verify_password(user, password) or user is None or not user.active:
        audit.log_now(db.session, "login_failed", None, target=username)
        throttle.failed(address, username)
        return render_template("account/login.html", error=LOGIN_FAILED, username=username), 401
    log_in(user)
    audit.log_now(db.session, "login", user)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout/everywhere")
@require("editor")
def logout_everywhere() -> Response:
    """End every session of this user, on every device, this one included."""
    user = acting_user()
    with writing(db.session):
        ended = end_sessions(user)
        audit.record(db.session, "logout_everywhere", user, detail=f"{ended} sessions ended")
    log_out()
    return redirect(url_for("account.login"))


@bp.post("/logout")
def logout() -> Response:
    user = current_user()
    if user is not None:
        audit.log_now(db.session, "logout", user)
    log_out()
    return redirect(url_for("pages.index"))
