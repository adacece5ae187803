"""Writes that can be retried safely: the first answer to a request with an ``Idempotency-Key``.

A client whose POST timed out or came back as a 503 cannot tell whether the event was created.
With a key of its own choosing in the ``Idempotency-Key`` header, it retries without fear: the
first answer is stored in the same transaction as the write, so a retry either finds it (the write
happened: the same answer again, marked ``Idempotent-Replayed: true``) or does not (nothing was
written: the retry does it now). Keys are per user and are kept for ``IDEMPOTENCY_HOURS``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from timeline.store.db import DbSession
from timeline.store.models import IdempotencyKey, User

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, as UUIDs and ULIDs are


class KeyReused(ValueError):
    """The key was sent before with a different request: a client bug, not a retry."""


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: str
    location: str


def check_key(raw: str) -> str:
    """The header's key, or :class:`ValueError` saying what a key must look like."""
    key = raw.strip()
    if not KEY_PATTERN.match(key):
        raise ValueError("Idempotency-Key must be 1-200 printable ASCII characters, e.g. a UUID")
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What a request asked, to tell a retry (same) from a reused key (different)."""
    digest = hashlib.sha256()
    for part in (method.encode(), b"\n", path.encode(), b"\n", body):
        digest.update(part)
    return digest.hexdigest()


def stored_answer(session: DbSession, user: User, key: str, asked: str) -> StoredAnswer | None:
    """The answer given to this key before, or None; :class:`KeyReused` for another request."""
    row = session.get(IdempotencyKey, (user.id, key))
    if row is None:
        return None
    if row.fingerprint != asked:
        raise KeyReused(key)
    return StoredAnswer(row.status, row.body, row.location)


def remember(
    session: DbSession, user: User, key: str, asked: str, answer: StoredAnswer, *, keep_hours: float
) -> None:
    """Store the answer (inside the write's own transaction) and drop keys past their time."""
    now = datetime.now(UTC)
    session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < now - timedelta(hours=keep_hours))
    )
    session.add(
        IdempotencyKey(
            user_id=user.id,
            key=key,
            fingerprint=asked,
            status=answer.status,
            body=answer.body,
            location=answer.location,
            created_at=now,
        )
    )
