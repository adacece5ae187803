"""The map page as served: a Folium shell with local assets, no event text baked in, strict headers."""

import re

import pytest
from helpers import GOOD_PASSWORD, XSS_PAYLOADS, feature, log_in


def test_map_page_is_a_folium_shell_with_local_assets(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<div class="folium-map" id="map_[0-9a-f]+"', html)
    assert re.search(r'src="/static/vendor/leaflet/leaflet\.js\?v=[0-9a-f]+" defer', html)  # cached, deferred
    assert re.search(r'href="/static/vendor/leaflet/leaflet\.css\?v=[0-9a-f]+"', html)
    assert 'id="timeline"' in html
    # Nothing is fetched from another host: every src/href for scripts and styles is local.
    for url in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html):
        assert url.startswith("/"), url
    # Nor anything built at run time: the only absolute URLs in the page are links a visitor may
    # follow (the attribution), never one a script, style or Folium's template could load from.
    links = re.findall(r'<a [^>]*href="((?:https?:)?//[^"]+)"', html)
    assert sorted(links) == ["https://www.geonames.org/", "https://www.naturalearthdata.com/"]
    without_links = re.sub(r"<a [^>]*>", "<a>", html)
    assert re.findall(r"(?:https?:)?//[\w.-]+", without_links) == []


def test_inline_scripts_carry_the_csp_nonce(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    html = response.get_data(as_text=True)
    # Inline scripts that run (JSON data blocks do not) must carry the nonce.
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>", html)
    assert inline, "the Folium map script is inline"
    assert all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert "frame-ancestors 'none'" in csp
    assert "connect-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert client.get("/").headers["Content-Security-Policy"] != csp  # a fresh nonce per response


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_event_text_is_never_baked_into_the_page(client, load, payload):
    load(feature("x", title=payload, description=payload, place=payload))
    html = client.get("/").get_data(as_text=True)
    assert payload not in html
    assert "onerror" not in html and "onload=" not in html


def test_configured_tiles_are_allowed_and_credited(app):
    app.config["TILE_URL"] = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    with app.test_client() as client:
        response = client.get("/")
    html = response.get_data(as_text=True)
    assert "tile.openstreetmap.org" in html
    assert "OpenStreetMap contributors" in html
    assert (
        "img-src 'self' data: https://tile.openstreetmap.org" in response.headers["Content-Security-Policy"]
    )


def page_config_of(html):
    """The settings a page gives its scripts (its #page-config JSON block)."""
    import json

    block = re.search(r'<script type="application/json" id="page-config">(.*?)</script>', html, re.S)
    assert block, "no page config in the page"
    return json.loads(block.group(1))


def test_no_tiles_by_default(client):
    html = client.get("/").get_data(as_text=True)
    assert "L.tileLayer" not in html
    assert page_config_of(html)["tiles"] is False


def test_the_page_script_is_a_module_with_its_settings_from_the_server(client):
    html = client.get("/").get_data(as_text=True)
    entry = re.findall(r'<script type="module" nonce="[^"]+" src="([^"]+)"></script>', html)
    # Its URL carries the file's content hash, so browsers may keep it for a year.
    assert len(entry) == 1 and re.fullmatch(r"/static/js/app\.js\?v=[0-9a-f]{16}", entry[0]), entry
    config = page_config_of(html)
    assert config["defaultView"] == {"centre": [51.4, 35.4], "zoom": 7}
    assert config["confidences"] == ["confirmed", "reported", "claimed"]
    assert config["urls"]["eventPage"] == f"/events/{config['idPlaceholder']}"
    map_name = re.search(r'<div class="folium-map" id="(map_[0-9a-f]+)"', html).group(1)
    assert config["page"]["mapVariable"] == map_name
    # The modules app.js imports are preloaded, so the browser fetches them at once.
    preloads = re.findall(r'<link rel="modulepreload" href="([^"]+)">', html)
    paths = [url.split("?")[0] for url in preloads]
    assert "/static/js/shared/config.js" in paths and "/static/js/map/store.js" in paths
    for url in preloads:
        assert fetch(client, url).status_code == 200, url
    # Only the Folium map script is inline; what it needs to know arrives as data, not script.
    assert "data-api=" not in html and "data-map=" not in html


def fetch(client, url):
    """GET a file response and close it (file responses hold an open file until closed)."""
    with client.get(url) as response:
        response.get_data()
        return response


def test_own_static_assets_are_served(client):
    script = fetch(client, "/static/js/app.js")
    assert script.status_code == 200
    assert script.mimetype == "text/javascript"  # browsers run modules only when served as JavaScript
    assert fetch(client, "/static/css/app.css").status_code == 200
    assert fetch(client, "/static/../setup.cfg").status_code == 404


def test_built_vendor_and_basemap_assets_are_served(client):
    """`make` builds these from the npm registry; the page needs them offline."""
    assert fetch(client, "/static/vendor/leaflet/leaflet.js").status_code == 200
    assert fetch(client, "/static/vendor/leaflet/leaflet.css").status_code == 200
    for name in ("countries.geojson", "admin1.geojson"):
        response = fetch(client, f"/static/basemap/{name}")
        assert response.status_code == 200
        assert response.get_json()["type"] == "FeatureCollection"
    admin1 = fetch(client, "/static/basemap/admin1.geojson").get_json()
    assert "RU-KRS" in [f["properties"].get("iso_3166_2") for f in admin1["features"]]  # Kursk Oblast


def test_unknown_page_is_an_html_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Back to the map" in response.get_data(as_text=True)
    assert "404 — Not found" in response.get_data(as_text=True)


def test_an_error_page_in_english_keeps_the_specific_reason(client):
    response = client.get("/events/no-such-event")
    assert response.status_code == 404
    assert "no-such-event" in response.get_data(as_text=True)


def test_server_errors_reveal_nothing(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.test_client() as client:
        response = client.get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert response.get_json()["error"] == "internal server error"


def test_editors_find_custom_places_in_the_top_bar_visitors_do_not(client, users):
    assert "/edit/places" not in client.get("/").get_data(as_text=True)
    log_in(client, users["editor"]["username"], GOOD_PASSWORD)
    html = client.get("/").get_data(as_text=True)
    assert '<a href="/edit/places">Custom places</a>' in html
    client.set_cookie("lang", "de")
    assert '<a href="/edit/places">Eigene Orte</a>' in client.get("/edit/").get_data(as_text=True)


def test_the_map_page_offers_a_region_filter_in_the_visitors_language(client):
    html = client.get("/").get_data(as_text=True)
    assert '<select id="region-filter" name="region">' in html and ">All regions</option>" in html
    client.set_cookie("lang", "de")
    html = client.get("/").get_data(as_text=True)
    assert '<label for="region-filter">Region</label>' in html and ">Alle Regionen</option>" in html
