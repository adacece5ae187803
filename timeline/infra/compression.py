"""Compressed answers: brotli or gzip, whichever the browser accepts, for every text answer.

The map page's first load is mostly text (HTML, GeoJSON, JavaScript, CSS); sent as is it was
2.8 MB over the wire, and compressed it is about a quarter of that. This WSGI layer sits outside
the cache front (cache_front.py), so answers served in front of Flask are compressed exactly like
Flask's own:

* only answers of a text type of at least ``MIN_BYTES`` (below that the header costs about what
  compression saves); streamed answers (exports, the audit log's CSV) are compressed as they are
  written, so they still start at once and never sit in memory whole (event streams pass as
  they are: each event must arrive when it is sent);
* an answer that already carries a Content-Encoding (static files, see static_assets.py) passes
  as it is;
* ``Vary: Accept-Encoding`` goes on every answer that could have been compressed, whenever the
  request said what it accepts, so shared caches keep one copy per encoding;
* a compressed answer's ETag gets a suffix (``"…-br"``, ``"…-gz"``): two encodings are two
  representations and must not share a strong validator. The suffix is taken off ``If-None-Match``
  before the app sees it, so the ETag and 304 logic inside (response_cache.py) is unchanged, and
  put back on the 304.

Answers that carry an ETag (shared API answers, fixed for one data version) are compressed once per
process and kept, bounded in bytes; pages (which hold a per-response CSP nonce) are compressed each
time at a quality that costs about a millisecond per 30 KB.
"""

from __future__ import annotations

import gzip
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import brotli  # type: ignore[import-untyped]
from flask import Flask
from werkzeug.http import parse_accept_header

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Answers shorter than this go as they are.
MIN_BYTES = 1024
# Brotli quality for answers made per request: 5 is within a few per cent of the best size on JSON
# and HTML, at a hundredth of quality 11's time.
DYNAMIC_BROTLI_QUALITY = 5
DYNAMIC_GZIP_LEVEL = 6
# Streams (exports) are compressed as fast as they are written: quality 4 keeps up with the writer.
STREAM_BROTLI_QUALITY = 4
SUFFIXES = {"br": "-br", "gzip": "-gz"}
_SUFFIXED = re.compile(r'-(?:br|gz)"')


def is_compressible(content_type: str) -> bool:
    """Text worth compressing: HTML, CSS, JavaScript, SVG, plain text, CSV and every JSON or XML
    flavour (GeoJSON, OpenAPI, schema, problem details, KML). Images, archives, GeoPackage and
    Parquet are compressed already, or binary."""
    mimetype = content_type.split(";", 1)[0].strip().lower()
    return (
        mimetype.startswith("text/")
        or mimetype in ("application/json", "application/javascript", "application/xml", "image/svg+xml")
        or mimetype.endswith(("+json", "+xml"))
    )


def negotiate(accept_encoding: str) -> str | None:
    """The encoding to send: brotli if accepted, else gzip, else none (q=0 refuses one)."""
    if not accept_encoding:
        return None
    accepted = parse_accept_header(accept_encoding)
    quality = {value.lower(): q for value, q in accepted}
    star = quality.get("*", 0)
    for name in ("br", "gzip"):
        if quality.get(name, star) > 0:
            return name
    return None


def compress(body: bytes, encoding: str, *, brotli_quality: int, gzip_level: int) -> bytes:
    if encoding == "br":
        return bytes(brotli.compress(body, quality=brotli_quality))
    return gzip.compress(body, compresslevel=gzip_level, mtime=0)


def suffixed_etag(etag: str, encoding: str) -> str:
    """``"abc"`` → ``"abc-br"``, ``W/"abc"`` → ``W/"abc-br"`` (an unquoted value is left alone)."""
    if etag.endswith('"') and not _SUFFIXED.search(etag):
        return etag[:-1] + SUFFIXES[encoding] + '"'
    return etag


def strip_suffixes(if_none_match: str) -> str:
    """``If-None-Match`` as the app knows its ETags: without this layer's encoding suffixes."""
    return _SUFFIXED.sub('"', if_none_match)


class CompressedCache:
    """Compressed bodies of answers that have an ETag, by URL path, ETag and encoding (LRU, in bytes)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.used = 0
        self.entries: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, str, str]) -> bytes | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def set(self, key: tuple[str, str, str], value: bytes) -> None:
        if len(value) > self.max_bytes // 4:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            self.used += len(value) - (len(old) if old is not None else 0)
            self.entries[key] = value
            while self.used > self.max_bytes:
                _, dropped = self.entries.popitem(last=False)
                self.used -= len(dropped)


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def _without(headers: list[tuple[str, str]], *names: str) -> list[tuple[str, str]]:
    lowered = {name.lower() for name in names}
    return [(key, value) for key, value in headers if key.lower() not in lowered]


def _with_vary(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    vary = _header(headers, "Vary")
    if vary is None:
        return [*headers, ("Vary", "Accept-Encoding")]
    if "accept-encoding" in vary.lower() or vary.strip() == "*":
        return headers
    return [*_without(headers, "Vary"), ("Vary", f"{vary}, Accept-Encoding")]


class Compression:
    """WSGI middleware: compresses the wrapped app's text answers as the request accepts."""

    def __init__(self, wsgi_app: WSGIApp, cache: CompressedCache):
        self.wsgi_app = wsgi_app
        self.cache = cache

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        accept = environ.get("HTTP_ACCEPT_ENCODING", "")
        encoding = negotiate(accept)
        if_none_match: str = environ.get("HTTP_IF_NONE_MATCH", "")
        stripped = bool(if_none_match) and strip_suffixes(if_none_match) != if_none_match
        if stripped:
            environ["HTTP_IF_NONE_MATCH"] = strip_suffixes(if_none_match)
        captured: dict[str, Any] = {}
        written: list[bytes] = []

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], Any]:
            captured.update(status=status, headers=list(headers), exc_info=exc_info)
            return written.append  # the legacy write() callable: its bytes come before the iterable's

        body_iter = self.wsgi_app(environ, capture)
        status: str = captured["status"]
        headers: list[tuple[str, str]] = captured["headers"]
        exc_info = captured["exc_info"]

        if status.startswith("304"):
            etag = _header(headers, "ETag")
            if stripped and encoding and etag:
                headers = [*_without(headers, "ETag"), ("ETag", suffixed_etag(etag, encoding))]
            start_response(status, headers, exc_info)
            return self._chain(written, body_iter)

        length = _header(headers, "Content-Length")
        content_type = _header(headers, "Content-Type") or ""
        eligible = (
            environ.get("REQUEST_METHOD") in ("GET", "HEAD", "POST", "PATCH", "PUT")
            and (length is None or int(length) >= MIN_BYTES)
            and _header(headers, "Content-Encoding") is None
            and is_compressible(content_type)
            and not content_type.startswith("text/event-stream")  # each event must arrive at once
        )
        if eligible and accept:
            headers = _with_vary(headers)
        if not eligible or encoding is None or environ.get("REQUEST_METHOD") == "HEAD":
            start_response(status, headers, exc_info)
            return self._chain(written, body_iter)
        etag = _header(headers, "ETag")
        if length is None:  # a stream (an export): compressed as it goes, never held whole
            headers = [*_without(headers, "ETag"), ("Content-Encoding", encoding)]
            if etag:
                headers.append(("ETag", suffixed_etag(etag, encoding)))
            start_response(status, headers, exc_info)
            return _CompressedStream(self._chain(written, body_iter), encoding)

        try:
            body = b"".join(written) + b"".join(body_iter)
        finally:
            close = getattr(body_iter, "close", None)
            if close is not None:
                close()
        key = (environ.get("PATH_INFO", ""), etag, encoding) if etag and status.startswith("200") else None
        compressed = self.cache.get(key) if key else None
        if compressed is None:
            compressed = compress(
                body, encoding, brotli_quality=DYNAMIC_BROTLI_QUALITY, gzip_level=DYNAMIC_GZIP_LEVEL
            )
            if key:
                self.cache.set(key, compressed)
        headers = _without(headers, "Content-Length", "ETag")
        headers += [("Content-Encoding", encoding), ("Content-Length", str(len(compressed)))]
        if etag:
            headers.append(("ETag", suffixed_etag(etag, encoding)))
        start_response(status, headers, exc_info)
        return [compressed]

    @staticmethod
    def _chain(written: list[bytes], body_iter: Iterable[bytes]) -> Iterable[bytes]:
        """The body as the app made it (keeping its close(), which streamed answers rely on)."""
        if not written:
            return body_iter
        return _Prefixed(written, body_iter)


class _CompressedStream:
    """A streamed body compressed chunk by chunk (brotli's and zlib's own buffers decide when
    bytes go out; a large export flows at about its uncompressed pace), keeping its close()."""

    def __init__(self, body: Iterable[bytes], encoding: str):
        self.body = body
        self.encoding = encoding

    def __iter__(self) -> Any:
        if self.encoding == "br":
            compressor = brotli.Compressor(quality=STREAM_BROTLI_QUALITY)
            process, finish = compressor.process, compressor.finish
        else:
            packer = zlib.compressobj(DYNAMIC_GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            process, finish = packer.compress, packer.flush
        for chunk in self.body:
            if out := process(chunk):
                yield out
        yield finish()

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()


class _Prefixed:
    """Bytes given to write() before the app's iterable, with the iterable's close() kept."""

    def __init__(self, first: list[bytes], rest: Iterable[bytes]):
        self.first = first
        self.rest = rest

    def __iter__(self) -> Any:
        yield from self.first
        yield from self.rest

    def close(self) -> None:
        close = getattr(self.rest, "close", None)
        if close is not None:
            close()


def init_app(app: Flask) -> None:
    """Wrap the app (outside the cache front, inside any proxy fix)."""
    cache = CompressedCache(int(app.config.get("COMPRESSION_CACHE_BYTES", 16 * 1024 * 1024)))
    app.extensions["compressed_cache"] = cache
    app.wsgi_app = Compression(app.wsgi_app, cache)  # type: ignore[method-assign]
