"""Who is asking: accounts, passwords, sessions, API tokens and role checks.

A session is a row of ``user_sessions`` named by Flask's signed cookie. The cookie alone proves
nothing any more: the row must be open, not idle for longer than ``SESSION_IDLE_MINUTES`` and not
older than ``SESSION_MAX_HOURS``, and the user active with the same ``session_epoch``. Logging out
closes the row, so a copy of the cookie taken before is worthless; ending every session of a user
(log out everywhere, an admin's deactivation) closes all their rows and bumps the epoch. The rows
are in the database every process and host reads, so that holds across a whole deployment.
API tokens are random secrets of which only a SHA-256 hash is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache, wraps
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, g, request, session
from sqlalchemy import select
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from timeline.domain import audit
from timeline.store.db import db, writing
from timeline.store.models import ROLES, ApiToken, User, UserSession

MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "tlm_"  # noqa: S105  (a marker that makes leaked tokens easy to scan for, not a secret)
_COMMON = frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"])
TOKEN_USE_LOG_INTERVAL = timedelta(minutes=5)

F = TypeVar("F", bound=Callable[..., Any])


class PasswordRejected(ValueError):
    """A password that does not meet the policy; the message says why."""


def check_password_policy(password: str, username: str = "") -> None:
    """At least 12 characters, not a common password, not guessable from the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if password.casefold() in _COMMON:
        raise PasswordRejected("the password is in a list of commonly used passwords")
    if zxcvbn(password[:100], user_inputs=[username, "timeline", "map"])["score"] < 3:
        raise PasswordRejected("the password is too easy to guess (avoid words, names and repeated patterns)")


@lru_cache(maxsize=4)
def _hasher(memory_kib: int, time_cost: int) -> tuple[PasswordHasher, str]:
    """The Argon2id hasher for these costs, and a dummy hash made with it.

    The dummy is verified for unknown usernames, so they take as long as a wrong password.
    """
    hasher = PasswordHasher(memory_cost=memory_kib, time_cost=time_cost)
    return hasher, hasher.hash("not-a-real-password-only-for-timing")


def _current_hasher() -> tuple[PasswordHasher, str]:
    config = current_app.config
    return _hasher(config.get("ARGON2_MEMORY_KIB", 65536), config.get("ARGON2_TIME_COST", 3))


def hash_password(password: str) -> str:
    return _current_hasher()[0].hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password in about the same time whether or not the user exists."""
    hasher, dummy = _current_hasher()
    try:
        return hasher.verify(user.password_hash if user else dummy, password) and user is not None
    except (VerificationError, InvalidHashError):
        return False


def create_user(username: str, password: str, role: str) -> User:
    """A new account (the caller commits)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    username = username.strip()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        raise ValueError("the username must be 1-80 characters without spaces")
    if db.session.scalar(select(User).where(User.username == username)):
        raise ValueError(f"a user named {username!r} already exists")
    check_password_policy(password, username)
    user = User(username=username, password_hash=hash_password(password), role=role)
    db.session.add(user)
    return user


def set_password(user: User, password: str) -> int:
    """Give ``user`` a new password (the caller commits) and end every session they have open:
    whoever knew the old one may be logged in with it. Returns how many sessions were ended."""
    check_password_policy(password, user.username)
    user.password_hash = hash_password(password)
    return end_sessions(user)


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


# ---------------------------------------------------------------------------- sessions


# How often an open session's last use is written down (its idle timeout is measured from it).
TOUCH_INTERVAL = timedelta(minutes=1)


def log_in(user: User) -> None:
    """Start a fresh session: the old cookie's contents (and any fixed session id) are dropped."""
    sid = secrets.token_urlsafe(32)
    with writing(db.session):
        db.session.add(UserSession(id=sid, user_id=user.id, remote_addr=audit.client_address()[:64]))
    session.clear()
    session["uid"] = user.id
    session["epoch"] = user.session_epoch
    session["sid"] = sid
    session.permanent = True


def log_out() -> None:
    """End this session here and everywhere its cookie may have been copied to."""
    sid = session.get("sid")
    session.clear()
    if isinstance(sid, str):
        with writing(db.session):
            row = db.session.get(UserSession, sid)
            if row is not None and row.ended_at is None:
                row.ended_at = datetime.now(UTC)


def end_sessions(user: User) -> int:
    """End every open session of ``user`` (the caller's transaction commits); how many were open.

    Also bumps the session epoch, which ends sessions from before server-side sessions existed.
    """
    now = datetime.now(UTC)
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all()
    for row in rows:
        row.ended_at = now
    user.session_epoch += 1
    return len(rows)


def _session_open(sid: object, user: User) -> bool:
    """Whether the cookie's session row is open and within its idle and absolute lifetimes."""
    if not isinstance(sid, str):
        return False
    row = db.session.get(UserSession, sid)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return False
    now = datetime.now(UTC)
    created, seen = _aware(row.created_at), _aware(row.last_seen_at)
    idle = timedelta(minutes=float(current_app.config.get("SESSION_IDLE_MINUTES", 120)))
    lifetime = timedelta(hours=float(current_app.config.get("SESSION_MAX_HOURS", 12)))
    if now - seen > idle or now - created > lifetime:
        return False
    if now - seen > TOUCH_INTERVAL:
        g.touch_session = sid  # written after the answer (touch_session), outside the view's work
    return True


def touch_session() -> None:
    """Write down that the request's session was used (at most once a minute per session).

    Called after the view, so the write never lands inside a transaction of the view's own.
    """
    sid = g.pop("touch_session", None)
    if sid is None:
        return
    with writing(db.session):
        row = db.session.get(UserSession, sid)
        if row is not None:
            row.last_seen_at = datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they are all UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------- tokens


def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new API token; the secret is returned once and only its hash is kept (the caller commits)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:12], token_hash=_token_hash(secret))
    db.session.add(token)
    return token, secret


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _user_from_token(secret: str) -> User:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        abort(401, description="the API token is unknown, revoked or belongs to a deactivated user")
    now = datetime.now(UTC)
    last = token.last_used_at.replace(tzinfo=UTC) if token.last_used_at else None
    if last is None or now - last > TOKEN_USE_LOG_INTERVAL:
        # Throttled, so a busy script does not turn every read into a write.
        with writing(db.session):
            token.last_used_at = now
            audit.record(db.session, "token_use", token.user, target=f"token {token.prefix}…")
    return token.user


# ---------------------------------------------------------------------------- the current user


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def current_user() -> User | None:
    """The user behind this request (token or session), or None for an anonymous visitor."""
    if "user" not in g:
        g.user = _load_user()
    user: User | None = g.user
    return user


def acting_user() -> User:
    """The user a view behind :func:`require` acts for (never None there: require let them in)."""
    user = current_user()
    if user is None:
        abort(401, description="log in or send an API token")
    return user


def _load_user() -> User | None:
    if request.headers.get("Authorization"):
        secret = bearer_token()
        if secret is None:
            abort(401, description="use 'Authorization: Bearer <token>'")
        return _user_from_token(secret)
    uid = session.get("uid")
    if uid is None:
        return None
    user = db.session.get(User, uid)
    if (
        user is None
        or not user.active
        or user.session_epoch != session.get("epoch")
        or not _session_open(session.get("sid"), user)
    ):
        session.clear()
        return None
    return user


def is_editor() -> bool:
    """Editors and admins see drafts; anonymous visitors never do."""
    return current_user() is not None


def require(role: str = "editor") -> Callable[[F], F]:
    """Decorator: 401 for anonymous requests, 403 for a role below ``role``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                abort(401, description="log in or send an API token")
            if role == "admin" and not user.is_admin:
                abort(403, description="this needs the admin role")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
