"""Configuration, read from the environment so that every process of a deployment agrees."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment; for a single local instance, one kept in ``instance/``.

    Several processes serving one site must share the key, so production sets SECRET_KEY; the file
    fallback keeps `make run` working without setup and without a key baked into the code.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: Path) -> dict[str, Any]:
    """The settings a deployment controls, with defaults that make the embedded setup work."""
    default_db = f"sqlite:///{instance_path / 'timeline.sqlite'}"
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL") or default_db,
        "SECRET_KEY": _secret_key(instance_path),
        # Map tiles are off by default: the page then makes no request beyond this server and
        # draws the bundled boundaries instead. e.g. TILE_URL=https://tile.openstreetmap.org/{z}/{x}/{y}.png
        "TILE_URL": os.environ.get("TILE_URL", ""),
        "TILE_ATTRIBUTION": os.environ.get("TILE_ATTRIBUTION", "&copy; OpenStreetMap contributors"),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024))),
        # Files imported over the web (POST /api/imports, /admin/import) may be larger than requests.
        "UPLOAD_MAX_BYTES": int(os.environ.get("UPLOAD_MAX_BYTES", str(100 * 1024 * 1024))),
        # Draft events from a pasted article (/edit/articles): its size limit, and the actors list
        # the extractor recognises (default: geodata/data/actors.csv).
        "ARTICLE_MAX_CHARS": int(os.environ.get("ARTICLE_MAX_CHARS", "50000")),
        "ARTICLE_ACTORS_PATH": os.environ.get("ARTICLE_ACTORS_PATH", ""),
        "STATIC_DIR": os.environ.get("STATIC_DIR", str(PROJECT_ROOT / "static")),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure is also set per request when it arrives over HTTPS (see security.py).
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes"),
        # A login lasts at most SESSION_MAX_HOURS, and ends after SESSION_IDLE_MINUTES unused.
        "SESSION_MAX_HOURS": float(os.environ.get("SESSION_MAX_HOURS", "12")),
        "SESSION_IDLE_MINUTES": float(os.environ.get("SESSION_IDLE_MINUTES", "120")),
        # How long the first answer to a write sent with an Idempotency-Key is kept for its retries.
        "IDEMPOTENCY_HOURS": float(os.environ.get("IDEMPOTENCY_HOURS", "24")),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=float(os.environ.get("SESSION_MAX_HOURS", "12"))),
        # Shared state for many processes and hosts (timeline/infra/response_cache.py and
        # timeline/infra/rate_limits.py): memory:// (per process, the default), none, or
        # redis://host:6379/0 shared by all.
        "CACHE_URL": os.environ.get("CACHE_URL", ""),
        # Deployments sharing one Redis need distinct prefixes (default: from the database URL).
        "CACHE_KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", ""),
        "CACHE_MAX_BYTES": int(os.environ.get("CACHE_MAX_BYTES", str(32 * 1024 * 1024))),
        # Seconds browsers and CDNs may reuse an anonymous API answer without revalidating (ETag).
        "API_MAX_AGE": int(os.environ.get("API_MAX_AGE", "0")),
        # Failed logins: counted in the audit log unless a storage is named (redis://…, memory://).
        "RATELIMIT_STORAGE_URL": os.environ.get("RATELIMIT_STORAGE_URL", ""),
        # Requests per client address to /api and /export, e.g. "600/minute"; empty: no limit.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", ""),
        # Anonymous calls of /api/validate per client address (editors are not counted); empty: none.
        "VALIDATE_RATE_LIMIT": os.environ.get("VALIDATE_RATE_LIMIT", "30/minute"),
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host are to be trusted.
        "PROXY_COUNT": int(os.environ.get("PROXY_COUNT", "0")),
        # Database time one request may spend (seconds; 0: unlimited), and expensive anonymous
        # requests one client address may have in progress per process (0: unlimited).
        "REQUEST_DATABASE_SECONDS": float(os.environ.get("REQUEST_DATABASE_SECONDS", "10")),
        "ANONYMOUS_CONCURRENCY": int(os.environ.get("ANONYMOUS_CONCURRENCY", "4")),
        # Seconds browsers keep to HTTPS once they were served over it (Strict-Transport-Security,
        # sent on HTTPS answers only; behind a proxy PROXY_COUNT must be set for HTTPS to be seen).
        "HSTS_MAX_AGE": int(os.environ.get("HSTS_MAX_AGE", str(365 * 24 * 3600))),
        # style-src without 'unsafe-inline' (the default): inline <style> only with the response's
        # nonce, and no style="" attributes (timeline/infra/security.py); every page keeps to it
        # (tests/browser/test_strict_styles.py). CSP_STRICT_STYLES=0 relaxes it, e.g. for a theme
        # or tile layer of one's own that needs inline styles.
        "CSP_STRICT_STYLES": os.environ.get("CSP_STRICT_STYLES", "1").lower() not in ("0", "false", "no"),
        # Bytes of compressed API answers kept per process (timeline/infra/compression.py).
        "COMPRESSION_CACHE_BYTES": int(os.environ.get("COMPRESSION_CACHE_BYTES", str(16 * 1024 * 1024))),
        # CSRF is checked in security.py for cookie-authenticated writes; token clients are exempt.
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,
    }
