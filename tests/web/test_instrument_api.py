"""Server side of the map-and-timeline instrument: clusters, weekly density, event pages, embed,
and the German interface."""

import re

import pytest
from helpers import XSS_PAYLOADS, feature, square


@pytest.fixture
def spread(load):
    """60 events over the Kursk region and three months, in three categories."""
    features = []
    for i in range(60):
        lon = 33.6 + (i * 0.083) % 4.5
        lat = 50.1 + (i * 0.047) % 2.4
        month = 8 + i % 3
        features.append(feature(f"e{i:02d}", lon=lon, lat=lat, start=f"2024-{month:02d}-{1 + i % 28:02d}",
                                category=("offensive", "deployment", "diplomacy")[i % 3]))  # fmt: skip
    features.append(
        feature("area", geometry=square(35.0, 51.0, 0.4), start="2024-08", date_precision="month")
    )
    load(*features)
    return features


@pytest.mark.parametrize(
    "query", ["", "category=offensive", "start=2024-09&end=2024-09", "bbox=34,50.5,36,52"]
)
def test_cluster_counts_add_up_at_every_zoom(client, spread, query):
    expected = client.get(f"/api/events?limit=1&{query}").get_json()["numberMatched"]
    assert expected > 0
    for zoom in range(0, 19):
        body = client.get(f"/api/clusters?zoom={zoom}&{query}").get_json()
        counts = [f["properties"]["count"] for f in body["features"]]
        assert sum(counts) == expected == body["numberMatched"], zoom
        assert all(c > 0 for c in counts)
    # Coarse zooms merge, fine zooms split.
    coarse = client.get(f"/api/clusters?zoom=2&{query}").get_json()["features"]
    fine = client.get(f"/api/clusters?zoom=14&{query}").get_json()["features"]
    assert len(coarse) < len(fine)


def test_a_cluster_says_where_its_events_are(client, spread):
    [cell] = client.get("/api/clusters?zoom=0").get_json()["features"]
    west, south, east, north = cell["properties"]["bbox"]
    lon, lat = cell["geometry"]["coordinates"]
    assert west <= lon <= east and south <= lat <= north
    # Its extent holds every event (33.6-38.1 E, 50.1-52.5 N), so zooming to it shows them all.
    assert west <= 33.6 and south <= 50.1 and east >= 38.1 and north >= 52.5


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("", "zoom"), ("zoom=23", "zoom"), ("zoom=-1", "zoom"), ("zoom=x", "zoom"),
     ("zoom=5&bbox=1,2,3", "bbox"), ("zoom=5&start=2024-10&end=2024-09", "start"),
     ("zoom=5&category=nope", "category")],
)  # fmt: skip
def test_bad_cluster_parameters_are_named(client, spread, query, parameter):
    response = client.get(f"/api/clusters?{query}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


def test_weekly_density_counts_every_matching_event_by_its_monday(client, spread):
    body = client.get("/api/density").get_json()
    assert body["bin"] == "week"
    total = client.get("/api/events?limit=1").get_json()["numberMatched"]
    assert sum(w["count"] for w in body["weeks"]) == total
    from datetime import date

    starts = [date.fromisoformat(w["start"]) for w in body["weeks"]]
    assert all(d.weekday() == 0 for d in starts) and starts == sorted(starts)
    filtered = client.get("/api/density?category=diplomacy").get_json()
    assert sum(w["count"] for w in filtered["weeks"]) == 20


def test_density_week_of_a_known_day(client, load):
    load(feature("a", start="2024-08-06"), feature("b", start="2024-08-11"), feature("c", start="2024-08-12"))
    weeks = client.get("/api/density").get_json()["weeks"]
    assert weeks == [{"start": "2024-08-05", "count": 2}, {"start": "2024-08-12", "count": 1}]


def test_event_page_has_the_facts_a_small_map_and_open_graph_tags(client, load):
    load(feature("ev-p", title="Putin setzt Abkommen in Kraft", lang="de", start="2024-11",
                 date_precision="month", place="Moskau", description="Ratifizierungsgesetz veröffentlicht.",
                 sources=[{"url": "http://kremlin.ru/", "outlet": "Kremlin", "title": "Law"}]))  # fmt: skip
    response = client.get("/events/ev-p", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<meta property="og:title" content="Putin setzt Abkommen in Kraft">' in html
    assert 'property="og:url" content="http://localhost/events/ev-p"' in html
    assert "November 2024" in html  # the date at its precision
    assert '<article lang="de">' in html
    assert '<a href="http://kremlin.ru/" rel="noopener noreferrer nofollow">Kremlin: Law</a>' in html
    assert re.search(r'<div class="folium-map" id="map_[0-9a-f]+"', html)
    german = client.get("/events/ev-p", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True)
    assert "November 2024" in german and "Quellen" in german and "Ort" in german


def test_event_pages_of_drafts_are_not_found(client, load):
    load(feature("ev-d", status="draft"))
    assert client.get("/events/ev-d").status_code == 404
    assert client.get("/events/nope").status_code == 404


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_event_page_escapes_hostile_text(client, load, payload):
    load(feature("ev-x", title=payload, description=payload, place=payload, actors=[payload],
                 sources=[{"url": "https://example.org/", "outlet": payload, "title": payload}]))  # fmt: skip
    html = client.get("/events/ev-x").get_data(as_text=True)
    assert payload not in html
    assert "onerror=alert" not in html.replace("onerror=alert(&#39;img&#39;)", "")
    assert "<svg onload" not in html and "<img src=x" not in html and "<script>alert" not in html


def test_only_the_embed_view_may_be_framed(client):
    embed = client.get("/embed")
    assert embed.status_code == 200
    assert "frame-ancestors *" in embed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in embed.headers
    html = embed.get_data(as_text=True)
    assert 'class="topbar"' not in html and "Log in" not in html
    assert 'id="open-full"' in html
    for path in ("/", "/events/nope", "/login"):
        response = client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_interface_language_follows_the_browser_and_the_switcher_sticks(client):
    german = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="de">' in german
    assert "Ereignisse werden geladen" in german and "Einbettungscode kopieren" in german
    english = client.get("/", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Copy embed code" in english
    switched = client.post("/language", data={"lang": "en", "next": "/?map=7/51/35"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/?map=7/51/35"
    assert "HttpOnly" in switched.headers["Set-Cookie"]
    after = client.get("/", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    assert '<html lang="en">' in after


def test_language_switch_refuses_foreign_redirects_and_unknown_languages(client):
    response = client.post("/language", data={"lang": "fr", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    assert "Set-Cookie" not in response.headers
    assert client.get("/language").status_code == 405  # no state change on GET


def test_ui_strings_for_the_script_are_translated(client):
    html = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    data = re.search(r'<script type="application/json" id="ui-text">(.*?)</script>', html, re.S).group(1)
    import json

    text = json.loads(data)
    assert text["count"] == "%(visible)s von %(total)s Ereignissen"
    assert text["reported"] == "berichtet"
