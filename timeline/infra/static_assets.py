"""Static files with content-hash URLs that browsers keep for a year, sent compressed.

``url_for("pages.static", filename=…)`` gets ``?v=<hash of the file>`` (an app-wide url_defaults,
so no template changes): an answer to a URL whose ``v`` is the file's current hash is
``immutable`` for a year, because a changed file gets a new URL. Anything else (a URL without
``v``, or an old page's outdated ``v``) is ``no-cache``: the browser keeps it but asks each time,
and its ETag (the same hash) gets a 304 while the file is unchanged.

ES modules import each other by relative URL (``import … from "./shared/dom.js"``), which would
otherwise be fetched without ``v``. So a module is served with each relative import rewritten to
carry its target's hash, and a module's own hash covers every module it reaches, so changing a
deep module changes the URL of every module above it, up to the page's entry. The page's
``<link rel="modulepreload">`` URLs come from the same url_for and so are the very URLs the
imports ask for: nothing is fetched twice, and every module is cached for a year.

Files are read once per change (a stat at most once a second per file) and kept in memory with
their brotli and gzip forms: the first request for a file gets a quick compression (brotli 5,
milliseconds) and a background thread replaces it with the smallest (brotli 11, about a second for
the 1 MB boundary files), so no visitor waits for it. A build may instead write ``name.br`` and
``name.gz`` beside a file; they are sent as they are while not older than the file (files whose
imports are rewritten are always compressed here). Files over ``MAX_IN_MEMORY`` are sent from
disk, uncompressed.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, request, send_from_directory
from werkzeug.http import quote_etag
from werkzeug.security import safe_join
from werkzeug.utils import get_content_type

from timeline.infra.compression import MIN_BYTES, compress, is_compressible, negotiate, suffixed_etag

ENDPOINT = "pages.static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"
MAX_IN_MEMORY = 8 * 1024 * 1024
# How often a file's modification time is looked at again (a running server picks up a rebuilt
# asset within this many seconds; a production server, whose files never change, stats rarely).
RECHECK_SECONDS = 1.0
QUICK = {"br": 5, "gzip": 6}
PRECOMPRESSED = {"br": ".br", "gzip": ".gz"}
BEST = {"br": 11, "gzip": 9}

# Browsers run a module only when it is served as JavaScript; the host's mime.types is not asked.
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".geojson": "application/geo+json",
    ".json": "application/json",
}
JS_SUFFIXES = (".js", ".mjs")

# A relative module specifier: `from "./x.js"`, `import "./x.js"`, `import("./x.js")`.
_SPECIFIER = re.compile(
    r"""(?P<lead>\bfrom\s*|^\s*import\s*|\bimport\s*\(\s*)(?P<quote>["'])(?P<spec>\.\.?/[^"'?#\s]+)(?P=quote)""",
    re.MULTILINE,
)


@dataclass
class _Raw:
    stamp: tuple[int, int]  # (mtime_ns, size)
    body: bytes
    imports: tuple[tuple[str, str], ...]  # (specifier, target name) for JS, else ()


@dataclass
class Asset:
    """One file as served: its body (imports rewritten for JS), hash and compressed forms."""

    name: str
    body: bytes
    digest: str
    content_type: str
    compressed: dict[str, bytes] = field(default_factory=dict)
    best: set[str] = field(default_factory=set)
    # The file's own modification time, for a file served exactly as on disk (None: rewritten),
    # which a precompressed sibling (``x.js.br``, ``x.js.gz``) must not be older than.
    unchanged_since_ns: int | None = None


class StaticAssets:
    """The files under one static folder, with hashes that cover what a module imports."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.lock = threading.RLock()
        self._raw: dict[str, _Raw] = {}
        self._checked: dict[str, float] = {}
        self._assets: dict[str, tuple[tuple[Any, ...], Asset]] = {}

    def normalise(self, filename: str) -> str | None:
        """The file's path under the root, or None when it is outside it or not a file."""
        joined = safe_join(str(self.root), filename)
        if joined is None:
            return None
        path = Path(joined)
        if not path.is_file():
            return None
        return path.resolve().relative_to(self.root).as_posix()

    def _read(self, name: str) -> _Raw | None:
        now = time.monotonic()
        known = self._raw.get(name)
        if known is not None and now - self._checked.get(name, 0) < RECHECK_SECONDS:
            return known
        try:
            stat = (self.root / name).stat()
        except OSError:
            self._raw.pop(name, None)
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        self._checked[name] = now
        if known is not None and known.stamp == stamp:
            return known
        if stat.st_size > MAX_IN_MEMORY:
            return None
        body = (self.root / name).read_bytes()
        raw = _Raw(stamp, body, self._imports_of(name, body) if name.endswith(JS_SUFFIXES) else ())
        self._raw[name] = raw
        return raw

    def _imports_of(self, name: str, body: bytes) -> tuple[tuple[str, str], ...]:
        found: list[tuple[str, str]] = []
        base = (self.root / name).parent
        for match in _SPECIFIER.finditer(body.decode("utf-8", "replace")):
            target = (base / match["spec"]).resolve()
            if target.is_relative_to(self.root):
                found.append((match["spec"], target.relative_to(self.root).as_posix()))
        return tuple(found)

    def _closure(self, name: str) -> list[tuple[str, _Raw]]:
        """The file and every module it reaches (cycles included once), each as read now."""
        seen: dict[str, _Raw] = {}
        pending = [name]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            raw = self._read(current)
            if raw is None:
                continue
            seen[current] = raw
            pending.extend(target for _, target in raw.imports)
        return sorted(seen.items())

    def _digest(self, closure: list[tuple[str, _Raw]]) -> str:
        hasher = hashlib.blake2b(digest_size=8)
        for name, raw in closure:
            hasher.update(name.encode() + b"\0" + raw.body + b"\0")
        return hasher.hexdigest()

    def asset(self, name: str) -> Asset | None:
        """The file as served, rebuilt when it or any module it reaches has changed."""
        with self.lock:
            closure = self._closure(name)
            raw = dict(closure).get(name)
            if raw is None:
                return None
            stamps = tuple((each, each_raw.stamp) for each, each_raw in closure)
            known = self._assets.get(name)
            if known is not None and known[0] == stamps:
                return known[1]
            body = raw.body
            if raw.imports:
                body = self._rewrite(name, body)
            suffix = Path(name).suffix.lower()
            mimetype = (
                CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
            )
            asset = Asset(name, body, self._digest(closure), get_content_type(mimetype, "utf-8"))
            asset.unchanged_since_ns = None if raw.imports else raw.stamp[0]
            self._assets[name] = (stamps, asset)
            return asset

    def _rewrite(self, name: str, body: bytes) -> bytes:
        """Each relative import made to carry its target's hash (targets that do not exist are left
        alone: the browser then reports the missing module itself)."""
        base = (self.root / name).parent

        def with_hash(match: re.Match[str]) -> str:
            target = (base / match["spec"]).resolve()
            if not target.is_relative_to(self.root):
                return match[0]
            closure = self._closure(target.relative_to(self.root).as_posix())
            if not closure:
                return match[0]
            return f"{match['lead']}{match['quote']}{match['spec']}?v={self._digest(closure)}{match['quote']}"

        return _SPECIFIER.sub(with_hash, body.decode("utf-8")).encode("utf-8")

    def digest(self, filename: str) -> str | None:
        """The hash for a URL to ``filename`` (None for a folder or a missing file)."""
        name = self.normalise(filename)
        if name is None:
            return None
        asset = self.asset(name)
        return asset.digest if asset else None

    def compressed(self, asset: Asset, encoding: str) -> bytes:
        """The file in ``encoding``: quick the first time, the smallest once the background is done."""
        with self.lock:
            body = asset.compressed.get(encoding)
            if body is not None:
                return body
            body = self._precompressed(asset, encoding)
            if body is not None:
                asset.compressed[encoding] = body
                asset.best.add(encoding)
                return body
            body = compress(asset.body, encoding, brotli_quality=QUICK["br"], gzip_level=QUICK["gzip"])
            asset.compressed[encoding] = body
        threading.Thread(target=self._compress_best, args=(asset, encoding), daemon=True).start()
        return body

    def warm(self, encodings: tuple[str, ...] = ("br", "gzip")) -> int:
        """Compress every compressible file at its best now (gunicorn.conf.py runs this in each new
        worker's background), so that even the first visitor after a start gets the smallest
        bodies. Returns how many files were prepared."""
        prepared = 0
        for path in sorted(self.root.rglob("*")):
            name = path.relative_to(self.root).as_posix()
            if not path.is_file() or name.endswith(tuple(PRECOMPRESSED.values())):
                continue
            asset = self.asset(name)
            if asset is None or not is_compressible(asset.content_type) or len(asset.body) < MIN_BYTES:
                continue
            for encoding in encodings:
                with self.lock:
                    if encoding in asset.best:
                        continue
                    ready = self._precompressed(asset, encoding)
                    if ready is not None:
                        asset.compressed[encoding] = ready
                        asset.best.add(encoding)
                        continue
                self._compress_best(asset, encoding)
            prepared += 1
        return prepared

    def _precompressed(self, asset: Asset, encoding: str) -> bytes | None:
        """A build's own compressed copy beside the file (``name.br``, ``name.gz``), when it is at
        least as new as the file and the file is served as it is."""
        if asset.unchanged_since_ns is None:
            return None
        sibling = self.root / (asset.name + PRECOMPRESSED[encoding])
        try:
            if sibling.stat().st_mtime_ns < asset.unchanged_since_ns:
                return None
            return sibling.read_bytes()
        except OSError:
            return None

    def _compress_best(self, asset: Asset, encoding: str) -> None:
        smallest = compress(asset.body, encoding, brotli_quality=BEST["br"], gzip_level=BEST["gzip"])
        with self.lock:
            current = asset.compressed.get(encoding)
            if current is None or len(smallest) < len(current):
                asset.compressed[encoding] = smallest
            asset.best.add(encoding)


def serve_static(filename: str) -> Response:
    """Front-end assets, ours and the vendor files the build copies from the npm registry."""
    assets: StaticAssets = current_app.extensions["static_assets"]
    name = assets.normalise(filename)
    if name is None:
        abort(404)
    asset = assets.asset(name)
    if asset is None:  # too large to keep in memory: from disk, as is
        return send_from_directory(assets.root, name, max_age=0)
    fingerprinted = request.args.get("v") == asset.digest
    cache_control = IMMUTABLE if fingerprinted else REVALIDATE
    compressible = is_compressible(asset.content_type) and len(asset.body) >= MIN_BYTES
    encoding = negotiate(request.headers.get("Accept-Encoding", "")) if compressible else None
    if request.if_none_match.contains(asset.digest):
        response = current_app.response_class(status=304)
        response.set_etag(asset.digest)  # compression.py adds the encoding's suffix back
    elif encoding is not None:
        response = current_app.response_class(
            assets.compressed(asset, encoding), content_type=asset.content_type
        )
        response.headers["Content-Encoding"] = encoding
        response.headers["ETag"] = suffixed_etag(quote_etag(asset.digest), encoding)
    else:
        response = current_app.response_class(asset.body, content_type=asset.content_type)
        response.set_etag(asset.digest)
    response.headers["Cache-Control"] = cache_control
    if compressible and "Accept-Encoding" in request.headers:
        response.vary.add("Accept-Encoding")
    return response


def _fingerprint(endpoint: str, values: dict[str, Any]) -> None:
    """url_for's hook: a static file's URL carries its hash."""
    if endpoint != ENDPOINT or "v" in values or not isinstance(values.get("filename"), str):
        return
    digest = current_app.extensions["static_assets"].digest(values["filename"])
    if digest is not None:
        values["v"] = digest


def init_app(app: Flask) -> None:
    """Serve ``pages.static`` from here (after the blueprints are registered) and hash its URLs."""
    app.extensions["static_assets"] = StaticAssets(Path(app.config["STATIC_DIR"]))
    if ENDPOINT in app.view_functions:
        app.view_functions[ENDPOINT] = serve_static
    app.url_defaults(_fingerprint)
