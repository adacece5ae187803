"""Static files: content-hash URLs kept for a year, module imports that carry the same hashes,
revalidation for URLs without a hash, and compressed bodies that decode to the file."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import brotli
import pytest

from timeline.infra import static_assets

BROWSER = "gzip, deflate, br, zstd"
IMMUTABLE = "public, max-age=31536000, immutable"
STATIC = Path(__file__).resolve().parents[2] / "static"


def fetch(client, url, **headers):
    with client.get(url, headers=headers) as response:
        response.get_data()
        return response


def page_assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def test_the_page_s_static_urls_carry_hashes_and_are_kept_for_a_year(client):
    html = client.get("/").get_data(as_text=True)
    urls = [url for url in page_assets(html) if "?v=" in url]
    assert any(url.startswith("/static/js/app.js?v=") for url in urls)
    assert any(url.startswith("/static/css/app.css?v=") for url in urls)
    for url in urls:
        response = fetch(client, url, **{"Accept-Encoding": BROWSER})
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == IMMUTABLE, url


def test_every_module_import_asks_for_a_url_the_page_preloads(client):
    """The imports inside the modules name the same hashed URLs as the page's modulepreload links, so
    the browser reuses each preload and every module is cached for a year."""
    from timeline.web.pages import _imported_modules

    _imported_modules.cache_clear()  # the page reads the import graph once per process
    html = client.get("/").get_data(as_text=True)
    preloads = set(re.findall(r'<link rel="modulepreload" href="([^"]+)">', html))
    entry = re.search(r'<script type="module" nonce="[^"]+" src="([^"]+)"', html).group(1)
    seen, pending = set(), [entry]
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = fetch(client, url)
        assert response.status_code == 200 and response.headers["Cache-Control"] == IMMUTABLE, url
        base = url.split("?")[0].rsplit("/", 1)[0]
        for spec in re.findall(r"""from\s*["'](\.\.?/[^"']+)["']""", response.get_data(as_text=True)):
            assert "?v=" in spec, f"{url} imports {spec} without a hash"
            parts = (base + "/" + spec).split("/")
            resolved: list[str] = []
            for part in parts:
                if part == "..":
                    resolved.pop()
                elif part != ".":
                    resolved.append(part)
            target = "/".join(resolved)
            assert target in preloads, f"{target} is imported but not preloaded"
            pending.append(target)
    assert len(seen) > 5


def test_a_url_without_its_hash_is_revalidated_and_answered_304_while_unchanged(client):
    plain = fetch(client, "/static/vendor/leaflet/leaflet.css")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "public, no-cache"
    again = fetch(client, "/static/vendor/leaflet/leaflet.css", **{"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    outdated = fetch(client, "/static/css/app.css?v=0000000000000000")
    assert outdated.status_code == 200 and outdated.headers["Cache-Control"] == "public, no-cache"


@pytest.mark.parametrize("name", ["vendor/leaflet/leaflet.js", "basemap/countries.geojson", "css/app.css"])
def test_static_files_come_compressed_and_decode_to_the_file(client, name):
    on_disk = (STATIC / name).read_bytes()
    br = fetch(client, f"/static/{name}", **{"Accept-Encoding": BROWSER})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.get_data()) == on_disk
    assert len(br.get_data()) < len(on_disk) / 2
    assert "Accept-Encoding" in br.headers["Vary"]
    gz = fetch(client, f"/static/{name}", **{"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.get_data()) == on_disk
    assert br.headers["ETag"] != gz.headers["ETag"]
    revalidated = fetch(
        client, f"/static/{name}", **{"Accept-Encoding": BROWSER, "If-None-Match": br.headers["ETag"]}
    )
    assert revalidated.status_code == 304 and revalidated.headers["ETag"] == br.headers["ETag"]


def test_types_browsers_insist_on(client):
    assert fetch(client, "/static/js/app.js").mimetype == "text/javascript"
    assert fetch(client, "/static/basemap/admin1.geojson").mimetype == "application/geo+json"
    assert fetch(client, "/static/favicon.svg").mimetype == "image/svg+xml"
    assert fetch(client, "/static/../setup.cfg").status_code == 404
    assert fetch(client, "/static/js/").status_code == 404
    assert fetch(client, "/static/js/no-such.js").status_code == 404


def test_changing_a_deep_module_changes_every_url_above_it(
    fresh_database, app_factory, tmp_path, monkeypatch
):
    monkeypatch.setattr(static_assets, "RECHECK_SECONDS", 0)
    (tmp_path / "js" / "shared").mkdir(parents=True)
    (tmp_path / "js" / "entry.js").write_text('import { b } from "./middle.js";\nconsole.log(b);\n')
    (tmp_path / "js" / "middle.js").write_text('export { c as b } from "./shared/deep.js";\n')
    (tmp_path / "js" / "shared" / "deep.js").write_text("export const c = 1;\n")
    app = app_factory(fresh_database("assets"), STATIC_DIR=str(tmp_path))
    client = app.test_client()

    def url(name: str) -> str:
        with app.test_request_context():
            from flask import url_for

            return url_for("pages.static", filename=name)

    entry_before, deep_before = url("js/entry.js"), url("js/shared/deep.js")
    (tmp_path / "js" / "shared" / "deep.js").write_text("export const c = 22;\n")
    entry_after, deep_after = url("js/entry.js"), url("js/shared/deep.js")
    assert deep_after != deep_before and entry_after != entry_before
    middle = fetch(client, url("js/middle.js")).get_data(as_text=True)
    assert f'"./shared/deep.js?v={deep_after.split("?v=")[1]}"' in middle
    served = fetch(client, entry_after)
    assert served.headers["Cache-Control"] == IMMUTABLE
    assert f'"./middle.js?v={url("js/middle.js").split("?v=")[1]}"' in served.get_data(as_text=True)
    # The old entry URL (a page cached before the change) still works, but is no longer immutable.
    assert fetch(client, entry_before).headers["Cache-Control"] == "public, no-cache"


def test_a_build_s_precompressed_copy_is_sent_while_it_is_not_older_than_the_file(
    fresh_database, app_factory, tmp_path, monkeypatch
):
    monkeypatch.setattr(static_assets, "RECHECK_SECONDS", 0)
    data = b'{"type": "FeatureCollection", "features": []}' + b" " * 4000
    (tmp_path / "big.geojson").write_bytes(data)
    (tmp_path / "big.geojson.br").write_bytes(brotli.compress(data, quality=0))  # unlike any of ours
    client = app_factory(fresh_database("pre"), STATIC_DIR=str(tmp_path)).test_client()
    sent = fetch(client, "/static/big.geojson", **{"Accept-Encoding": BROWSER})
    assert sent.get_data() == (tmp_path / "big.geojson.br").read_bytes()
    assert brotli.decompress(sent.get_data()) == data
    # The file rebuilt after its copy: the stale copy is not sent, the new file is.
    newer = data.replace(b"[]", b"[ ]")
    (tmp_path / "big.geojson").write_bytes(newer)
    stamp = (tmp_path / "big.geojson").stat().st_mtime_ns
    os.utime(tmp_path / "big.geojson.br", ns=(stamp - 10**9, stamp - 10**9))
    again = fetch(client, "/static/big.geojson", **{"Accept-Encoding": BROWSER})
    assert brotli.decompress(again.get_data()) == newer


def test_warming_up_prepares_every_compressible_file_at_its_smallest(fresh_database, app_factory, tmp_path):
    text = "".join(f"const value{i} = {i * 7};\n" for i in range(400)).encode()
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "big.js").write_bytes(text)
    (tmp_path / "tiny.css").write_text("a{}")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG" + bytes(4000))
    app = app_factory(fresh_database("warm"), STATIC_DIR=str(tmp_path))
    assert app.extensions["static_assets"].warm() == 1  # big.js only: tiny.css is small, PNG binary
    sent = fetch(app.test_client(), "/static/js/big.js", **{"Accept-Encoding": BROWSER})
    assert sent.get_data() == brotli.compress(text, quality=11)
