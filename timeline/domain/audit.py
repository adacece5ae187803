"""The audit log: who did what, when and from where.

Entries join the transaction of the change they describe, so the log never claims an edit that
was rolled back, and never misses one that was committed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from flask import has_request_context, request
from sqlalchemy import func, select

from timeline.store.db import DbSession
from timeline.store.models import AuditEntry, User

# Characters that make a spreadsheet treat a cell as a formula (OWASP ASVS 1.2.10).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def client_address() -> str:
    return (request.remote_addr or "") if has_request_context() else "cli"


def record(session: DbSession, action: str, user: User | None, target: str = "", detail: str = "") -> None:
    """Add an entry to the current transaction (the caller commits)."""
    session.add(
        AuditEntry(
            action=action,
            user_id=user.id if user else None,
            username=user.username if user else "",
            target=target[:200],
            detail=detail,
            remote_addr=client_address()[:64],
        )
    )


def log_now(session: DbSession, action: str, user: User | None, target: str = "", detail: str = "") -> None:
    """Record an entry in a transaction of its own (failed logins, logins, token use)."""
    from timeline.store.db import writing

    with writing(session):
        record(session, action, user, target, detail)


def recent_count(session: DbSession, action: str, *, since: timedelta, **match: str) -> int:
    """How often ``action`` was logged lately for a given address or username (rate limits)."""
    stmt = (
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == action, AuditEntry.at >= datetime.now(UTC) - since)
    )
    for column, value in match.items():
        stmt = stmt.where(getattr(AuditEntry, column) == value)
    return session.scalar(stmt) or 0


def logged_in_from(session: DbSession, username: str, address: str, *, since: timedelta) -> bool:
    """Whether ``username`` logged in successfully from ``address`` lately (a known place of theirs)."""
    stmt = (
        select(AuditEntry.id)
        .join(User, User.id == AuditEntry.user_id)
        .where(
            AuditEntry.action == "login",
            AuditEntry.remote_addr == address,
            User.username == username,
            AuditEntry.at >= datetime.now(UTC) - since,
        )
        .limit(1)
    )
    return session.scalar(stmt) is not None


def csv_safe(value: object) -> str:
    """A cell a spreadsheet shows as text, never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_rows(session: DbSession) -> Iterator[str]:
    """The whole log as CSV, oldest first, streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["at", "username", "action", "target", "detail", "remote_addr"])
    stmt = select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    for entry in session.scalars(stmt):
        writer.writerow(
            [
                csv_safe(v)
                for v in (
                    entry.at.isoformat(),
                    entry.username,
                    entry.action,
                    entry.target,
                    entry.detail,
                    entry.remote_addr,
                )
            ]
        )
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
