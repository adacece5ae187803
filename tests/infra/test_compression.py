"""Compressed answers: what a browser that accepts brotli or gzip receives, and what it can reuse.

Every test decodes what it got the way a browser would and compares it with the uncompressed
answer, so a wrong Content-Encoding, a truncated body or a stale cached body would show.
"""

from __future__ import annotations

import gzip
import json
import re

import brotli
import pytest
from helpers import feature

BROWSER = "gzip, deflate, br, zstd"  # what Chromium sends
API = "/api/events?bbox=30,45,40,55&limit=50"


def decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(response.get_data())
    if encoding == "gzip":
        return gzip.decompress(response.get_data())
    assert encoding is None, encoding
    return response.get_data()


def without_nonces(html: bytes) -> bytes:
    return re.sub(rb'nonce[-=]"?[A-Za-z0-9_-]+', b"nonce", html)


@pytest.fixture
def stocked(client, load):
    load(
        *(
            feature(f"ev-{i}", title=f"Shelling near village {i}", lon=35 + i / 20, lat=51.2)
            for i in range(20)
        )
    )
    return client


@pytest.mark.parametrize(
    ("accept", "expected"), [(BROWSER, "br"), ("gzip", "gzip"), ("br;q=0, gzip", "gzip")]
)
def test_the_map_page_comes_compressed_as_the_browser_accepts(stocked, accept, expected):
    plain = stocked.get("/")
    packed = stocked.get("/", headers={"Accept-Encoding": accept})
    assert packed.status_code == plain.status_code == 200
    assert packed.headers["Content-Encoding"] == expected
    assert int(packed.headers["Content-Length"]) == len(packed.get_data()) < len(plain.get_data()) / 2
    assert without_nonces(decoded(packed)) == without_nonces(plain.get_data())
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert packed.headers["Content-Type"] == plain.headers["Content-Type"]


def test_a_client_that_accepts_no_compression_gets_the_plain_answer(stocked):
    for accept in (None, "identity", "br;q=0, gzip;q=0"):
        headers = {"Accept-Encoding": accept} if accept else {}
        response = stocked.get(API, headers=headers)
        assert "Content-Encoding" not in response.headers
        assert response.get_json()["type"] == "FeatureCollection"
        if accept:  # a shared cache must still keep the compressed copies apart from this one
            assert "Accept-Encoding" in response.headers["Vary"]


def test_api_answers_are_compressed_with_an_etag_per_encoding_and_revalidate(stocked):
    plain = stocked.get(API)
    first = stocked.get(API, headers={"Accept-Encoding": BROWSER})
    again = stocked.get(API, headers={"Accept-Encoding": BROWSER})  # answered in front of Flask
    assert again.headers["X-Cache"] == "hit"
    assert first.headers["Content-Encoding"] == again.headers["Content-Encoding"] == "br"
    assert decoded(first) == decoded(again) == plain.get_data()
    assert first.headers["ETag"] == again.headers["ETag"] == plain.headers["ETag"][:-1] + '-br"'
    gzipped = stocked.get(API, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gz"'
    assert decoded(gzipped) == plain.get_data()

    revalidated = stocked.get(
        API, headers={"Accept-Encoding": BROWSER, "If-None-Match": first.headers["ETag"]}
    )
    assert revalidated.status_code == 304 and revalidated.get_data() == b""
    assert revalidated.headers["ETag"] == first.headers["ETag"]
    # The plain validator still works for a client without compression.
    assert stocked.get(API, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304


def test_a_write_changes_the_compressed_answer_too(stocked, load):
    before = stocked.get(API, headers={"Accept-Encoding": BROWSER})
    load(feature("ev-new", title="A later strike", lon=35.5, lat=51.3))
    after = stocked.get(API, headers={"Accept-Encoding": BROWSER, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert "ev-new" in [f["id"] for f in json.loads(decoded(after))["features"]]
    assert after.headers["ETag"] != before.headers["ETag"]


def test_small_answers_go_uncompressed(client):
    response = client.get("/healthz", headers={"Accept-Encoding": BROWSER})
    assert response.status_code in (200, 503)
    assert len(response.get_data()) < 1024
    assert "Content-Encoding" not in response.headers


def test_a_streamed_export_is_compressed_as_it_streams(stocked):
    with stocked.get("/export/events.geojson") as response:
        plain = response.get_data()
    for accept, expected in ((BROWSER, "br"), ("gzip", "gzip")):
        with stocked.get("/export/events.geojson", headers={"Accept-Encoding": accept}) as response:
            assert response.status_code == 200
            assert response.is_streamed and "Content-Length" not in response.headers
            assert response.headers["Content-Encoding"] == expected
            assert response.headers["Content-Disposition"].startswith("attachment")
            assert decoded(response) == plain
    assert b"Shelling near village 3" in plain


def test_an_editor_s_private_answer_is_compressed_and_stays_private(client, load, users):
    load(*(feature(f"ev-{i}", title=f"Event {i}") for i in range(10)))
    token = users["editor"]["token"]
    response = client.get(API, headers={"Accept-Encoding": BROWSER, "Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "br"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert len(json.loads(decoded(response))["features"]) == 10
