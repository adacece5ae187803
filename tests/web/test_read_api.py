"""The read API: filters, paging, visibility and errors, as a client sees them."""

import pytest
from helpers import feature, feature_ids, square
from sqlalchemy import text

from timeline.store.db import db


def ids(response):
    return feature_ids(response)


@pytest.fixture
def story(load):
    """Events spread over place, time, precision, category and confidence."""
    load(
        feature("sudzha-day", start="2024-08-06"),
        feature(
            "kursk-month",
            lon=36.185,
            lat=51.727,
            start="2024-10",
            date_precision="month",
            category="deployment",
            confidence="reported",
            title="North Korean troops arrive",
            description="Tausende Soldaten",
            place="Kursk",
        ),
        feature(
            "year-2023",
            lon=37.6,
            lat=55.75,
            start="2023",
            date_precision="year",
            category="diplomacy",
            confidence="claimed",
            title="Talks in Moscow",
            place="Moskau",
        ),
        feature(
            "range-aug-nov",
            geometry=square(35.0, 51.0, 0.3),
            start="2024-08-06",
            end="2024-11-11",
            category="offensive",
            title="Area held",
        ),
        feature(
            "pyongyang",
            lon=125.75,
            lat=39.03,
            start="2024-06-19",
            category="diplomacy",
            title="Treaty signed",
        ),
        feature("draft-one", start="2024-08-07", status="draft", title="Unchecked rumour"),
    )


def test_feature_collection_shape(client, story):
    body = client.get("/api/events").get_json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == body["numberReturned"] == 5
    first = body["features"][0]
    assert first["id"] == "year-2023"  # timeline order: earliest first
    assert set(first["properties"]) == {
        "title",
        "description",
        "lang",
        "start",
        "end",
        "date_precision",
        "category",
        "place",
        "actors",
        "confidence",
        "status",
        "sources",
        "created_at",
        "updated_at",
        "version",
    }
    assert first["properties"]["start"] == "2023"
    assert first["properties"]["date_precision"] == "year"
    assert first["properties"]["version"] == 1
    assert first["properties"]["created_at"].endswith("Z")


def test_content_type_is_geojson(client, story):
    assert client.get("/api/events").mimetype == "application/geo+json"
    assert client.get("/api/events/sudzha-day").mimetype == "application/geo+json"


def test_drafts_are_invisible_to_anonymous_readers(client, story):
    assert "draft-one" not in ids(client.get("/api/events?limit=1000"))
    assert client.get("/api/events/draft-one").status_code == 404
    assert "draft-one" not in client.get("/export/events.geojson").get_data(as_text=True)


def test_one_event(client, story):
    body = client.get("/api/events/range-aug-nov").get_json()
    assert body["type"] == "Feature"
    assert body["properties"]["end"] == "2024-11-11"
    assert body["geometry"]["type"] == "Polygon"


def test_unknown_event_is_a_json_404(client, story):
    response = client.get("/api/events/nope")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not found"
    assert "nope" in response.get_json()["detail"]


@pytest.mark.parametrize(
    ("bbox", "expected"),
    [
        ("35.2,51.1,35.3,51.2", {"sudzha-day", "range-aug-nov"}),
        ("36,51.5,36.5,52", {"kursk-month"}),
        ("120,30,130,45", {"pyongyang"}),
        ("0,0,1,1", set()),
        ("170,30,126,45", {"pyongyang"}),  # crosses the antimeridian: 170..180 and -180..126
    ],
)
def test_bbox_filter(client, story, bbox, expected):
    assert set(ids(client.get(f"/api/events?bbox={bbox}"))) == expected


def test_bbox_uses_the_exact_shape_not_just_its_box(client, load):
    # An L-shaped line whose bounding box covers the query box, but whose line does not.
    load(feature("l-line", geometry={"type": "LineString", "coordinates": [[30, 50], [32, 50], [32, 52]]}))
    assert ids(client.get("/api/events?bbox=30.5,51,31.5,51.5")) == []
    assert ids(client.get("/api/events?bbox=31.9,50.5,32.1,51")) == ["l-line"]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # A month-precise event overlaps any window inside its month.
        ("start=2024-10-15&end=2024-10-20", {"kursk-month", "range-aug-nov"}),
        # A day-precise event only its own day.
        ("start=2024-08-06&end=2024-08-06", {"sudzha-day", "range-aug-nov"}),
        ("start=2024-08-07&end=2024-08-31", {"range-aug-nov"}),
        # A year-precise event any window in that year.
        ("start=2023-07-01&end=2023-07-01", {"year-2023"}),
        # Windows at month and year precision cover their whole period.
        ("start=2024-06&end=2024-06", {"pyongyang"}),
        ("start=2023&end=2023", {"year-2023"}),
        ("start=2024-11-12", set()),
        ("end=2023-12-31", {"year-2023"}),
        ("start=2024-11-11", {"range-aug-nov"}),
    ],
)
def test_time_window_overlap_counts_each_events_precision(client, story, window, expected):
    assert set(ids(client.get(f"/api/events?{window}"))) == expected


def test_time_and_place_together(client, story):
    assert set(ids(client.get("/api/events?bbox=34,50,37,52&start=2024-10&end=2024-10"))) == {
        "kursk-month",
        "range-aug-nov",
    }


def test_category_filter_is_repeatable(client, story):
    assert set(ids(client.get("/api/events?category=diplomacy"))) == {"year-2023", "pyongyang"}
    both = ids(client.get("/api/events?category=diplomacy&category=deployment"))
    assert set(both) == {"year-2023", "pyongyang", "kursk-month"}
    assert set(ids(client.get("/api/events?category=diplomacy,deployment"))) == set(both)


def test_confidence_filter(client, story):
    assert ids(client.get("/api/events?confidence=claimed")) == ["year-2023"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("korean", {"kursk-month"}),
        ("soldaten", {"kursk-month"}),
        ("MOSKAU", {"year-2023"}),
        ("50%", set()),
        ("_", set()),
    ],
)
def test_text_search_in_title_description_and_place(client, story, q, expected):
    assert set(ids(client.get("/api/events", query_string={"q": q}))) == expected


@pytest.mark.parametrize("q", ["суджа", "СУДЖА", "STRASSE", "hauptstraße"])
def test_text_search_folds_case_beyond_ascii(client, load, q):
    # A word is found from its start: STRASSE finds "Straße" (Hauptstraße only through "haupt").
    load(feature("cyrillic", title="Бои в Судже", place="Суджа", description="Straße: an der Hauptstraße"))
    assert ids(client.get("/api/events", query_string={"q": q})) == ["cyrillic"]


def test_paging_with_next_links(client, story):
    seen = []
    url = "/api/events?limit=2&category=diplomacy,offensive,deployment"
    pages = 0
    while url:
        body = client.get(url).get_json()
        assert body["numberMatched"] == 5
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert seen == ids(client.get("/api/events"))


@pytest.mark.parametrize("window", ["", "&start=2000-01-01&end=2099-12-31", "&bbox=-180,-90,180,90"])
def test_offset_past_the_end(client, story, window):
    """With a place or time filter the count rides on the page's rows; past the end there are none."""
    body = client.get(f"/api/events?offset=50{window}").get_json()
    assert body["numberReturned"] == 0 and body["numberMatched"] == 5
    assert not [link for link in body["links"] if link["rel"] == "next"]


@pytest.mark.parametrize("view", ["full", "summary"])
def test_pages_of_a_window_count_every_match(client, story, view):
    everything = ids(client.get("/api/events?start=2000-01-01&end=2099-12-31"))
    assert len(everything) == 5
    seen = []
    for offset in range(0, 6, 2):
        url = f"/api/events?start=2000-01-01&end=2099-12-31&limit=2&offset={offset}&view={view}"
        body = client.get(url).get_json()
        assert body["numberMatched"] == 5
        seen += [f["id"] for f in body["features"]]
    assert seen == everything


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=0,0,200,1", "bbox"),
        ("bbox=nan,0,1,1", "bbox"),
        ("bbox=0,10,1,5", "bbox"),
        ("start=2024-02-30", "start"),
        ("end=2024-13", "end"),
        ("start=2024-11&end=2024-10", "start"),
        ("limit=0", "limit"),
        ("limit=100001", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("confidence=rumour", "confidence"),
        ("category=no-such-category", "category"),
        ("limit=1&limit=2", "limit"),
        (f"q={'x' * 201}", "q"),
    ],
)
def test_bad_parameters_get_400_naming_the_parameter(client, story, query, parameter):
    response = client.get(f"/api/events?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == parameter
    assert body["error"] == "invalid parameter"
    assert body["detail"]


def test_categories_list(client, story):
    slugs = {c["slug"] for c in client.get("/api/categories").get_json()["categories"]}
    assert slugs == {"offensive", "deployment", "diplomacy"}


def test_unknown_routes_are_json_under_api(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not found"


def test_wrong_method_is_a_json_405(client):
    response = client.put("/api/events", json={})
    assert response.status_code == 405
    assert response.get_json()["error"] == "method not allowed"


def test_validate_accepts_a_good_collection_and_stores_nothing(client):
    body = {"type": "FeatureCollection", "features": [feature("a"), feature("b")]}
    response = client.post("/api/validate", json=body)
    assert response.status_code == 200
    assert response.get_json() == {"valid": True, "features": 2}
    assert client.get("/api/events").get_json()["numberMatched"] == 0


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        (feature(start="2024-02-30"), "start", "has 29 days"),
        (feature(start="2024-13", date_precision="month"), "start", "month 13"),
        (
            feature(start="2024-11-11", end="2024-11-01"),
            "start",
            "Enter the end date on or after the start date",
        ),
        (feature(lon=181), "geometry", "outside -180..180"),
        (
            feature(geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
            "geometry",
            "not closed",
        ),
        (
            feature(geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}),
            "geometry",
            "Self-intersection",
        ),
        (feature(confidence="rumour"), "confidence", "Choose one of confirmed, reported, claimed"),
        (feature(sources=[{"url": "javascript:alert(1)"}]), "sources[0]", "http:// or https://"),
    ],
)
def test_validate_names_the_field_of_each_bad_feature(client, bad, field, reason):
    body = {"type": "FeatureCollection", "features": [feature("ok"), bad]}
    response = client.post("/api/validate", json=body)
    assert response.status_code == 422
    result = response.get_json()
    assert result["error"] == "invalid features"
    assert "1 of 2 features are invalid" in result["detail"]
    [problem] = result["problems"]
    assert problem["index"] == 1
    assert problem["problems"][0]["field"] == field
    assert reason in problem["problems"][0]["message"]


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        ('{"type": "Feature", "geometry": {"type": "Point", "coordinates": [NaN, Infinity]}}', "NaN"),
        ('{"type": "FeatureCollection", "features": [', "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (b"\xff\xfe not utf-8", "not valid JSON"),
    ],
)
def test_validate_refuses_malformed_json_with_400(client, data, detail):
    response = client.post("/api/validate", data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed JSON"
    assert detail in response.get_json()["detail"]


def test_validate_needs_json_and_a_sane_size(app, client):
    assert client.post("/api/validate", data="x", content_type="text/plain").status_code == 415
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/api/validate", data="[" + "1," * 1000 + "1]", content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "request entity too large"


def test_summary_view_trims_features_to_what_drawing_needs(client, story):
    body = client.get("/api/events?view=summary&limit=2").get_json()
    props = body["features"][0]["properties"]
    from timeline.domain.features import SUMMARY_PROPERTIES

    assert set(props) == set(SUMMARY_PROPERTIES) >= {"title", "start", "date_precision", "category"}
    assert body["features"][0]["geometry"]["type"] == "Point"
    nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert "view=summary" in nxt
    response = client.get("/api/events?view=everything")
    assert response.status_code == 400 and response.get_json()["parameter"] == "view"


def test_full_features_come_from_the_feature_cache_or_else_the_mapping(app, client, load):
    load(
        feature("a", title="Суджа, cached", start="2024-08-06"),
        feature("b", title="Straße, not cached", start="2024-08-07"),
        feature("c", title="cached too", start="2024-08-08"),
    )
    before = client.get("/api/events").get_json()
    with app.app_context():
        db.session.execute(
            text("DELETE FROM feature_cache WHERE event_pk = (SELECT pk FROM events WHERE id = 'b')")
        )
        db.session.commit()
    after = client.get("/api/events?limit=50").get_json()
    assert [f["id"] for f in after["features"]] == ["a", "b", "c"]
    assert after["features"] == before["features"]
    assert after["features"][1]["properties"]["title"] == "Straße, not cached"


def follow_next(client, url):
    """Every page a client reads by following ``next`` links, as GDAL's OGC API driver does."""
    pages = []
    while url:
        body = client.get(url).get_json()
        pages.append(body)
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://localhost", "") if nxt else None
    return pages


@pytest.mark.parametrize("extra", ["", "&bbox=30,45,40,55", "&start=2024-01-01&end=2024-12-31&view=summary"])
def test_next_links_page_by_key_through_ties_without_repeats(client, load, extra):
    # Twelve events on three days: paging must order ties by id and neither skip nor repeat one.
    load(*(feature(f"ev-{i:02d}", start=f"2024-08-0{1 + i % 3}", lon=35 + i / 100) for i in range(12)))
    pages = follow_next(client, f"/api/events?limit=5{extra}")
    seen = [f["id"] for page in pages for f in page["features"]]
    assert seen == ids(client.get(f"/api/events?limit=100{extra}"))
    assert len(seen) == 12 and len(set(seen)) == 12
    assert [page["numberMatched"] for page in pages] == [12, 12, 12]
    assert "after=" in pages[0]["links"][1]["href"]


def test_a_keyset_page_is_stable_when_earlier_events_arrive(client, load):
    load(*(feature(f"ev-{i}", start=f"2024-08-0{i + 1}") for i in range(4)))
    first = client.get("/api/events?limit=2").get_json()
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    nxt = nxt.replace("http://localhost", "")
    load(feature("earlier", start="2024-07-01"))  # would shift every OFFSET page by one
    second = client.get(nxt).get_json()
    assert [f["id"] for f in first["features"]] == ["ev-0", "ev-1"]
    assert [f["id"] for f in second["features"]] == ["ev-2", "ev-3"]


GOOD_TOKEN = "MjAyNC0wOC0wMXwyMDI0LTA4LTAxfGE"  # 2024-08-01|2024-08-01|a


# A well-formed token whose event id holds a NUL, which PostgreSQL text cannot store.
NUL_TOKEN = "MjAyNC0wOC0wMXwyMDI0LTA4LTAxfGEAYg"  # 2024-08-01|2024-08-01|a\x00b


@pytest.mark.parametrize(
    "query", ["after=bm90LWEta2V5", "after=%%%", f"after={GOOD_TOKEN}&offset=5", f"after={NUL_TOKEN}"]
)
def test_a_bad_page_token_is_a_400(client, query):
    response = client.get(f"/api/events?{query}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == "after"


# ---------------------------------------------------------------------------- ranking: sort=relevance


@pytest.fixture
def ranked(load):
    """Events holding both words of "sudzha convoy": in the title twice, once, or not at all."""
    load(
        feature("body-only", start="2024-01-05", title="Report", description="A convoy near Sudzha"),
        feature("one-title-word", start="2024-02-05", title="Convoy", description="Seen near Sudzha"),
        feature("both-title-words", start="2024-03-05", title="Sudzha convoy", description="Trucks"),
        feature("both-later", start="2024-04-05", title="Convoy to Sudzha", description="Again"),
        feature("one-word-only", start="2024-05-05", title="Sudzha", description="Quiet day"),
    )


def test_relevance_ranks_events_by_the_query_words_in_their_titles(client, ranked):
    q = "sudzha convoy"
    assert ids(client.get("/api/events", query_string={"q": q})) == [
        "body-only", "one-title-word", "both-title-words", "both-later",
    ]  # fmt: skip
    ranked_ids = ids(client.get("/api/events", query_string={"q": q, "sort": "relevance"}))
    assert ranked_ids == ["both-title-words", "both-later", "one-title-word", "body-only"]
    summary = client.get("/api/events", query_string={"q": q, "sort": "relevance", "view": "summary"})
    assert ids(summary) == ranked_ids


def test_a_ranking_pages_by_offset_and_its_links_keep_the_order(client, ranked):
    url = "/api/events?q=sudzha+convoy&sort=relevance&limit=3"
    seen = []
    while url:
        body = client.get(url).get_json()
        assert body["numberMatched"] == 4
        seen += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert all("sort=relevance" in link["href"] for link in body["links"])
        url = nxt[0].replace("http://localhost", "") if nxt else None
    assert seen == ["both-title-words", "both-later", "one-title-word", "body-only"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("sort=relevance", "sort"),  # nothing to rank by
        ("q=sudzha&sort=newest", "sort"),
        ("q=sudzha&sort=relevance&sort=time", "sort"),
        ("q=sudzha&sort=relevance&after=MjAyNC0wMS0wNXwyMDI0LTAxLTA1fGJvZHktb25seQ", "after"),
    ],
)
def test_bad_sort_parameters_get_400(client, ranked, query, parameter):
    response = client.get(f"/api/events?{query}")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


def test_timeline_order_pages_a_text_search_by_key(client, ranked):
    first = client.get("/api/events?q=sudzha&limit=2&sort=time").get_json()
    assert [f["id"] for f in first["features"]] == ["body-only", "one-title-word"]
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "after=" in nxt and "sort=" not in nxt
    rest = client.get(nxt.replace("http://localhost", "")).get_json()
    assert [f["id"] for f in rest["features"]] == ["both-title-words", "both-later"]
