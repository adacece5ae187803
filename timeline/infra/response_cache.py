"""Shared answers to anonymous reads: ETags, 304s, and a response cache that is never stale.

Every write moves one number in the database, the data version (migration 0006; triggers move it in
the writer's own transaction, whichever process or tool wrote). A read answer is a function of that
version and the URL, so both go into the cache key and the ETag:

* a process serves a cached answer only while the version it read is unchanged, so no process ever
  serves what another has since changed, and nothing needs invalidating across hosts;
* a browser or CDN that revalidates (``If-None-Match``) gets 304 without a query being run;
* with ``CACHE_URL=redis://…`` every process and host shares one cache; by default each process
  keeps its own, bounded in bytes.

Only anonymous visitors share answers: editors see drafts, so theirs are computed every time and
marked ``private, no-store`` (security.py). A cache that fails (Redis away) costs speed, never an
answer: the view then runs as if nothing were cached.

Hits for anonymous GETs are usually answered before Flask runs, by cache_front.py, from the same
key, ETag and headers as the decorator here uses; this decorator stores what the views compute and
answers whatever the front passes on.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, Protocol, TypeVar, cast

from flask import Flask, Response, current_app, make_response, request
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import DBAPIError
from werkzeug.http import quote_etag

from timeline.domain.accounts import current_user
from timeline.infra.budgets import claim_computing_slot
from timeline.store.db import db

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

# Answers larger than this are not kept (a 1,000-feature page is about 1.6 MB): they are rare, and
# one of them would push out hundreds of the viewport pages the cache exists for.
MAX_ENTRY_BYTES = 512 * 1024
# How long Redis keeps an answer. Once the data version moves on its key is never asked for again, so
# this only bounds the memory dead answers take there (Redis's own maxmemory policy is the other bound).
REDIS_TTL_SECONDS = 600


class Store(Protocol):
    """Where cached answers live: bytes by key, each made at a data version."""

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, version: int) -> None: ...


class MemoryStore:
    """This process's own cache, holding answers of the newest data version only.

    Once a newer version is seen, every older answer is unreachable (its key names the old version),
    so they are dropped at once rather than left to age out: with writes arriving all the time, a
    cache that kept them would fill to ``max_bytes`` with dead entries (the soak benchmark saw each
    worker grow by the whole limit). Within one version, the least recently used go first.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.used = 0
        self.version = 0
        self.entries: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()  # gthread workers share one store between threads

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, version: int) -> None:
        if len(value) > self.max_bytes:
            return
        with self.lock:
            if version < self.version:
                return  # made from data that has since changed: nobody will ask for it
            if version > self.version:
                self.entries.clear()
                self.used, self.version = 0, version
            old = self.entries.pop(key, None)
            self.used += len(key) + len(value) - (len(key) + len(old) if old is not None else 0)
            self.entries[key] = value
            while self.used > self.max_bytes:
                dropped_key, dropped = self.entries.popitem(last=False)
                self.used -= len(dropped_key) + len(dropped)


class RedisStore:
    """One cache for every process and host, in Redis (plain bytes: nothing is unpickled)."""

    def __init__(self, url: str):
        import redis  # only deployments that use Redis need the server; the client is installed

        # Short timeouts: a slow cache must not become a slow site.
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def get(self, key: str) -> bytes | None:
        return cast(bytes | None, self.client.get(key))

    def set(self, key: str, value: bytes, version: int) -> None:
        self.client.set(key, value, ex=REDIS_TTL_SECONDS)


class NoStore:
    """``CACHE_URL=none``: ETags and 304s still work, bodies are always computed."""

    def get(self, key: str) -> bytes | None:
        return None

    def set(self, key: str, value: bytes, version: int) -> None:
        return None


def store_from_url(url: str, max_bytes: int) -> Store:
    """``memory://`` (the default), ``none``, or a Redis URL (``redis://``, ``rediss://``, ``unix://``)."""
    scheme = url.split(":", 1)[0].lower() if url else "memory"
    if scheme == "memory":
        return MemoryStore(max_bytes)
    if scheme in ("none", "off", "null"):
        return NoStore()
    if scheme in ("redis", "rediss", "unix"):
        return RedisStore(url)
    raise ValueError(f"CACHE_URL must be memory://, none or a redis:// URL, got {url.split('://')[0]}://…")


def init_app(app: Flask) -> None:
    app.extensions["response_cache_prefix"] = key_prefix(app)
    app.extensions["response_cache"] = store_from_url(
        app.config.get("CACHE_URL", ""), int(app.config["CACHE_MAX_BYTES"])
    )


VERSION_SQL = "SELECT version FROM data_version WHERE id = 1"


def read_version(engine: Engine) -> int:
    """The data version, read on a pooled connection of its own, with no ORM session and no
    transaction to open and close: on a cache hit it is the only database work the request does,
    and the ORM's bookkeeping would be two thirds of the request's time.

    The view, on a miss, reads in a later snapshot; if a write lands in between, a newer answer is
    kept under the older version's key, which no request asks for once the version has moved on.
    """
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(VERSION_SQL)
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
    except dbapi_error as exc:  # as SQLAlchemy would raise it, so the app answers 503 (serving.py)
        raise DBAPIError.instance(VERSION_SQL, None, exc, dbapi_error) from exc
    return int(row[0]) if row else 0


def key_prefix(app: Flask) -> str:
    """What keeps two deployments sharing one Redis apart: ``CACHE_KEY_PREFIX``, or else a digest of
    the database URL (every process of one deployment has the same; the password is left out)."""
    if prefix := app.config.get("CACHE_KEY_PREFIX"):
        return str(prefix)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    return "timeline:" + hashlib.blake2b(url.encode(), digest_size=6).hexdigest()


def cache_key(prefix: str, version: int, environ: Mapping[str, Any]) -> str:
    """The whole URL: bodies hold absolute links, so the host and scheme matter as much as the query.

    Read from the WSGI environ as sent (after ProxyFix, when configured), not from ``request.url``:
    normalising the URL is a fifth of a cache hit's time, and two spellings of one URL merely
    cost a second cache entry.
    """
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    url = (
        f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('SCRIPT_NAME', '')}"
        f"{environ.get('PATH_INFO', '')}?{environ.get('QUERY_STRING', '')}"
    )
    return f"{prefix}:v{version}:{url}"


def etag_for(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def cache_control(config: Mapping[str, Any]) -> str:
    """May be stored by browsers and CDNs, revalidated after ``API_MAX_AGE`` seconds (0: every time)."""
    max_age = int(config.get("API_MAX_AGE", 0))
    return f"public, max-age={max_age}" if max_age > 0 else "public, no-cache"


def _pack(response: Response) -> bytes:
    return (response.content_type or "").encode() + b"\n" + response.get_data()


def not_modified_headers(etag: str, config: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [("ETag", quote_etag(etag)), ("Cache-Control", cache_control(config))]


def unpack(value: bytes, etag: str, config: Mapping[str, Any]) -> tuple[bytes, list[tuple[str, str]]]:
    """A cached answer's body and headers, all given at once (setting them one by one on a Response
    is a tenth of a hit's time: each set scans the header list)."""
    content_type, _, body = value.partition(b"\n")
    headers = [
        ("Content-Type", content_type.decode()),
        ("Content-Length", str(len(body))),
        ("X-Cache", "hit"),
        *not_modified_headers(etag, config),
    ]
    return body, headers


def _try(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except Exception:  # a cache outage must cost speed, never an answer
        log.warning("response cache unavailable; answering without it", exc_info=True)
        return None


# Answers being computed in this process, by key: a burst of requests for one uncached URL (a shared
# link right after a write) is answered by one thread while the others wait for its result.
_computing: dict[str, threading.Event] = {}
_computing_lock = threading.Lock()
WAIT_SECONDS = 10


def _wait_for_another(key: str) -> bool:
    """Claim ``key`` for this thread (False), or wait while another thread computes it (True)."""
    with _computing_lock:
        running = _computing.get(key)
        if running is None:
            _computing[key] = threading.Event()
            return False
    running.wait(WAIT_SECONDS)
    return True


def _done(key: str) -> None:
    with _computing_lock:
        running = _computing.pop(key, None)
    if running is not None:
        running.set()


def shared(view: F) -> F:
    """Decorator for GET views whose answer depends only on the URL and the data (never on who asks,
    for anonymous visitors): adds an ETag, answers 304 to a matching ``If-None-Match``, and serves
    and keeps bodies in the response cache. Streamed answers get the ETag but are not kept.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is not None:
            return view(*args, **kwargs)
        version = read_version(db.engine)
        key = cache_key(current_app.extensions["response_cache_prefix"], version, request.environ)
        etag = etag_for(key)
        if request.if_none_match.contains(etag):
            response = current_app.response_class(status=304)
        else:
            store: Store = current_app.extensions["response_cache"]
            cached = _try(lambda: store.get(key))
            waited = cached is None and _wait_for_another(key)
            if waited:
                cached = _try(lambda: store.get(key))
            if cached is not None:
                body, headers = unpack(cached, etag, current_app.config)
                return current_app.response_class(body, headers=headers)
            try:
                if (refused := claim_computing_slot()) is not None:
                    return refused
                response = make_response(view(*args, **kwargs))
                size = response.content_length
                cacheable = response.status_code == 200 and not response.is_streamed
                if cacheable and size is not None and size <= MAX_ENTRY_BYTES:
                    packed = _pack(response)
                    _try(lambda: store.set(key, packed, version))
            finally:
                if not waited:  # only the thread that claimed the key releases it
                    _done(key)
            if response.status_code != 200:
                return response
        response.set_etag(etag)
        response.headers["Cache-Control"] = cache_control(current_app.config)
        return response

    return cast(F, wrapped)
