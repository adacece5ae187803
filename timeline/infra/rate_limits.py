"""Rate limits that hold across every process and host serving the site.

Two limits, one storage setting (``RATELIMIT_STORAGE_URL``):

* **failed logins**, per client address and per username (10 in 15 minutes, then 429; the per-user
  limit does not apply from addresses the user logged in from in the last 30 days). By default
  they are counted in the audit log, which every process shares through the database, so the
  embedded setup needs nothing more. With a storage URL (``redis://…``; ``memory://`` for one
  process) the `limits` library counts them there instead, off the database.
* **API requests per client address** (``API_RATE_LIMIT``, e.g. ``600/minute``; off by default),
  on /api and /export, in that storage (``memory://`` when none is set, which is per process, so a
  deployment of several processes sets a Redis URL). Over the limit: 429 with ``Retry-After``.
* **anonymous validation** (``VALIDATE_RATE_LIMIT``, default ``30/minute`` per address): the
  validator is open to anyone and costs what an import costs, so it has its own allowance.

Behind a load balancer, set ``PROXY_COUNT`` (config.py) so the client address is the visitor's, not
the balancer's.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import timedelta
from typing import Protocol

from flask import Flask, current_app, jsonify, request, session
from flask.typing import ResponseReturnValue
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from timeline.domain import audit
from timeline.store.db import db

MAX_LOGIN_FAILURES = 10
KNOWN_ADDRESS_DAYS = 30
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_LIMIT: RateLimitItem = parse(f"{MAX_LOGIN_FAILURES}/{int(LOGIN_WINDOW.total_seconds() // 60)} minutes")
LIMITED_BLUEPRINTS = ("api", "write_api", "changes", "export")
log = logging.getLogger(__name__)


class LoginThrottle(Protocol):
    """Counts failed logins; ``blocked`` once either the address or the username has too many."""

    def blocked(self, address: str, username: str) -> bool: ...

    def failed(self, address: str, username: str) -> None: ...


def known_address(address: str, username: str) -> bool:
    """Whether the user logged in from this address lately: failures elsewhere do not lock them out.

    Counting failures per username stops guessing spread over many addresses, but anyone could use
    it to keep an editor out for good with ten wrong passwords every 15 minutes. So the per-user
    limit holds only for addresses the user has not logged in from in the last
    ``KNOWN_ADDRESS_DAYS``; the per-address limit still holds everywhere.
    """
    return audit.logged_in_from(db.session, username, address, since=timedelta(days=KNOWN_ADDRESS_DAYS))


class AuditLogThrottle:
    """Failures counted in the audit log (account.py writes a ``login_failed`` entry for each)."""

    def blocked(self, address: str, username: str) -> bool:
        def count(**match: str) -> int:
            return audit.recent_count(db.session, "login_failed", since=LOGIN_WINDOW, **match)

        too_many = MAX_LOGIN_FAILURES
        if count(remote_addr=address) >= too_many:
            return True
        return count(target=username) >= too_many and not known_address(address, username)

    def failed(self, address: str, username: str) -> None:
        """Nothing more to do: the audit entry is the count."""


class StorageThrottle:
    """Failures counted in a `limits` storage (Redis for many processes), in a moving window.

    While the storage is unreachable the audit log counts instead: an outage of Redis must neither
    lock everybody out nor open the door to guessing passwords.
    """

    def __init__(self, storage: Storage):
        self.limiter = MovingWindowRateLimiter(storage)
        self.fallback = AuditLogThrottle()

    def blocked(self, address: str, username: str) -> bool:
        try:
            if not self.limiter.test(LOGIN_LIMIT, "login-address", address):
                return True
            user_over = not self.limiter.test(LOGIN_LIMIT, "login-user", username)
            return user_over and not known_address(address, username)
        except Exception:  # any storage failure; see the class docstring
            log.warning("rate-limit storage unavailable; counting failed logins in the audit log")
            return self.fallback.blocked(address, username)

    def failed(self, address: str, username: str) -> None:
        try:
            self.limiter.hit(LOGIN_LIMIT, "login-address", address)
            self.limiter.hit(LOGIN_LIMIT, "login-user", username)
        except Exception:  # the audit entry still records the failure
            log.warning("rate-limit storage unavailable; failed login not counted there")


def login_throttle() -> LoginThrottle:
    throttle: LoginThrottle = current_app.extensions["login_throttle"]
    return throttle


def _limit_api() -> ResponseReturnValue | None:
    """Before each request to the API and exports: count it against the client's address."""
    if request.blueprint not in LIMITED_BLUEPRINTS:
        return None
    return _count("api", current_app.extensions["api_limit"])


def _limit_anonymous_validation() -> ResponseReturnValue | None:
    """Before each anonymous call of the validator: its own, smaller allowance per address.

    Checking a file costs the server what importing it would, for anyone who asks: editors (a token
    or a session) are not counted, everyone else shares ``VALIDATE_RATE_LIMIT`` per address.
    """
    if request.endpoint != "api.validate" or request.headers.get("Authorization") or "uid" in session:
        return None
    return _count("validate", current_app.extensions["validate_limit"])


def _count(name: str, item: RateLimitItem) -> ResponseReturnValue | None:
    """Count this request under ``name``; a 429 with ``Retry-After`` once the address is over."""
    limiter: FixedWindowRateLimiter = current_app.extensions["api_limiter"]
    address = audit.client_address()
    try:
        if limiter.hit(item, name, address):
            return None
        reset_at, _ = limiter.get_window_stats(item, name, address)
    except Exception:  # an unreachable limit store must not take the API down
        log.warning("rate-limit storage unavailable; request not counted")
        return None
    retry_after = max(1, math.ceil(reset_at - time.time()))
    response = jsonify(
        {"error": "too many requests", "detail": f"at most {item} per client; try again in {retry_after} s"}
    )
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def _storage(url: str, prefix: str) -> Storage:
    """A `limits` storage; Redis keys carry this deployment's prefix (as the response cache's do)."""
    if url.startswith(("redis://", "rediss://", "redis+unix://")):
        storage = storage_from_string(url, key_prefix=f"{prefix}:limits", socket_timeout=0.5)
    else:
        storage = storage_from_string(url)
    if not isinstance(storage, Storage):  # an ``async+…`` URL: the limiters here are synchronous
        raise ValueError(f"RATELIMIT_STORAGE_URL {url!r} names an asyncio storage; use a synchronous one")
    return storage


def init_app(app: Flask) -> None:
    url = app.config.get("RATELIMIT_STORAGE_URL", "")
    storage = _storage(url, app.extensions["response_cache_prefix"]) if url else None
    app.extensions["login_throttle"] = StorageThrottle(storage) if storage else AuditLogThrottle()
    app.extensions["api_limiter"] = FixedWindowRateLimiter(storage or storage_from_string("memory://"))
    if spec := app.config.get("VALIDATE_RATE_LIMIT", ""):
        app.extensions["validate_limit"] = parse(spec)
        app.before_request(_limit_anonymous_validation)
    if spec := app.config.get("API_RATE_LIMIT", ""):
        app.extensions["api_limit"] = parse(spec)
        app.before_request(_limit_api)
