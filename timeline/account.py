"""Logging in and out.

Failed logins are counted in the audit log itself, so the limit holds across every process that
serves the site, and the answer to a wrong password and to an unknown user is the same.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from . import audit
from .auth import current_user, find_user, log_in, log_out, verify_password
from .db import db

bp = Blueprint("account", __name__)

MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)
LOGIN_FAILED = "Invalid username or password."


def _safe_next(target: str | None) -> str:
    """Only redirect within this site after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("editor.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """The login form; a new session id on success, the same message for every failure."""
    if request.method == "GET":
        return render_template("account/login.html", next=request.args.get("next", ""))
    username = (request.form.get("username") or "").strip()[:80]
    password = request.form.get("password") or ""
    address = audit.client_address()
    too_many = (
        audit.recent_count(db.session, "login_failed", since=FAILURE_WINDOW, remote_addr=address)
        >= MAX_FAILURES
        or audit.recent_count(db.session, "login_failed", since=FAILURE_WINDOW, target=username)
        >= MAX_FAILURES
    )
    if too_many:
        message = "Too many failed logins. Try again in 15 minutes."
        return render_template("account/login.html", error=message, username=username), 429
    user = find_user(username)
    if not verify_password(user, password) or user is None or not user.active:
        audit.log_now(db.session, "login_failed", None, target=username)
        return render_template("account/login.html", error=LOGIN_FAILED, username=username), 401
    log_in(user)
    audit.log_now(db.session, "login", user)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    user = current_user()
    if user is not None:
        audit.log_now(db.session, "logout", user)
    log_out()
    return redirect(url_for("pages.index"))
