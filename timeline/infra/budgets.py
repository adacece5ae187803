"""Budgets for expensive requests: database time per request, and anonymous requests at once.

- Every request's database work has a deadline (``REQUEST_DATABASE_SECONDS``, default 10 s; see
  :mod:`timeline.store.budget`); over it the answer is 503 with ``Retry-After`` and a JSON error
  that says what to do, and the connection goes back to the pool at once.
- The answers whose cost grows with what is asked (event pages, clusters, density, downloads:
  the response cache's shared views) are computed for at most ``ANONYMOUS_CONCURRENCY`` requests
  at once per client address in each process (default 4); more from the same address get 429 at
  once instead of queueing in front of every other visitor and the load balancer's health check.
  Answers from the cache, and editors, are not counted.
"""

from __future__ import annotations

import threading
from collections import Counter

from flask import Flask, Response, current_app, g, jsonify

from timeline.domain import audit
from timeline.store import budget

RETRY_AFTER_SECONDS = 2


class ConcurrencyLimit:
    """How many requests each client address has in progress here, capped at ``most``."""

    def __init__(self, most: int):
        self.most = most
        self._lock = threading.Lock()
        self._running: Counter[str] = Counter()

    def enter(self, address: str) -> bool:
        """Count one more request for ``address``; False (and nothing counted) when at the cap."""
        with self._lock:
            if self._running[address] >= self.most:
                return False
            self._running[address] += 1
            return True

    def leave(self, address: str) -> None:
        with self._lock:
            self._running[address] -= 1
            if self._running[address] <= 0:
                del self._running[address]


def _start() -> None:
    g.database_deadline = budget.start(current_app.config.get("REQUEST_DATABASE_SECONDS"))


def claim_computing_slot() -> Response | None:
    """Before an anonymous request computes an answer: count it against its address, or 429.

    Called by the response cache's ``shared`` views when they are about to compute (not for
    answers served from the cache, nor for requests that wait for another's computation), so a
    burst for one link costs one slot and an office behind one address is not turned away.
    """
    limit: ConcurrencyLimit | None = current_app.extensions.get("anonymous_concurrency")
    if limit is None or "counted_address" in g:
        return None
    address = audit.client_address()
    if limit.enter(address):
        g.counted_address = address
        return None
    response = jsonify(
        {
            "error": "too many requests",
            "detail": f"at most {limit.most} such requests at once per client; wait for one to finish",
        }
    )
    response.status_code = 429
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _finish(_error: BaseException | None) -> None:
    limit: ConcurrencyLimit | None = current_app.extensions.get("anonymous_concurrency")
    if limit is not None and (address := g.pop("counted_address", None)) is not None:
        limit.leave(address)
    if (token := g.pop("database_deadline", None)) is not None:
        budget.stop(token)


def init_app(app: Flask) -> None:
    if most := int(app.config.get("ANONYMOUS_CONCURRENCY", 0)):
        app.extensions["anonymous_concurrency"] = ConcurrencyLimit(most)
    app.before_request(_start)
    app.teardown_request(_finish)
