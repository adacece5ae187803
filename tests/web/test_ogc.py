"""OGC API – Features, Part 1 Core, as a client sees it: documents, items, paging, errors, HTML."""

import pytest
from helpers import XSS_PAYLOADS, feature, feature_ids, square


def ids(response):
    return feature_ids(response, "application/geo+json")


@pytest.fixture
def story(load):
    load(
        feature("sudzha-day", start="2024-08-06"),
        feature(
            "kursk-month", lon=36.185, lat=51.727, start="2024-10", date_precision="month", place="Kursk"
        ),
        feature("moscow-2023", lon=37.6, lat=55.75, start="2023", date_precision="year"),
        feature("span", lon=30.5, lat=50.45, start="2024-11-20", end="2024-12-10"),
        feature("area", geometry=square(33.0, 48.0, 1.0), start="2025-01-02"),
        feature("draft", start="2024-08-06", status="draft"),
    )


def test_landing_page_links_to_the_definition_conformance_and_data(client):
    body = client.get("/ogc").get_json()
    rels = {link["rel"]: link for link in body["links"]}
    assert {"self", "conformance", "data", "service-desc"} <= rels.keys()
    assert rels["service-desc"]["href"].endswith("/ogc/api")
    assert client.get(rels["conformance"]["href"]).status_code == 200


def test_conformance_lists_core_geojson_html_and_openapi(client):
    classes = client.get("/ogc/conformance").get_json()["conformsTo"]
    for name in ("core", "geojson", "html", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{name}" in classes


def test_collection_extent_covers_published_events_only(client, story):
    listed = client.get("/ogc/collections").get_json()["collections"]
    assert [c["id"] for c in listed] == ["events"]
    extent = client.get("/ogc/collections/events").get_json()["extent"]
    assert extent["spatial"]["bbox"] == [[30.5, 48.0, 37.6, 55.75]]
    assert extent["temporal"]["interval"] == [["2023-01-01T00:00:00Z", "2025-01-02T23:59:59Z"]]


def test_unknown_collection_is_a_404_exception(client):
    response = client.get("/ogc/collections/nope")
    assert response.status_code == 404
    assert response.get_json()["code"] == "NotFound"


def test_items_are_published_events_with_counts(client, story):
    response = client.get("/ogc/collections/events/items")
    body = response.get_json()
    assert sorted(ids(response)) == ["area", "kursk-month", "moscow-2023", "span", "sudzha-day"]
    assert body["numberMatched"] == 5 and body["numberReturned"] == 5
    assert body["timeStamp"].endswith("Z")


def test_bbox_selects_events_in_the_box(client, story):
    assert ids(client.get("/ogc/collections/events/items?bbox=35,51,37,52")) == ["sudzha-day", "kursk-month"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-10-15", ["kursk-month"]),  # inside the month the event is dated to
        ("2024-10-15T12:00:00Z", ["kursk-month"]),
        ("2024-12-01/2025-01-01", ["span"]),
        ("../2024-08-06", ["moscow-2023", "sudzha-day"]),
        ("2024-12-01/..", ["span", "area"]),
        ("../..", ["moscow-2023", "sudzha-day", "kursk-month", "span", "area"]),
    ],
)
def test_datetime_matches_events_whose_days_overlap_it(client, story, value, expected):
    assert ids(client.get("/ogc/collections/events/items", query_string={"datetime": value})) == expected


def test_paging_follows_next_links_through_every_event(client, story):
    seen, url, pages = [], "/ogc/collections/events/items?limit=2", 0
    while url:
        body = client.get(url).get_json()
        assert body["numberMatched"] == 5
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        pages += 1
    assert seen == ["moscow-2023", "sudzha-day", "kursk-month", "span", "area"]
    assert pages == 3


def test_default_limit_is_ten(client, load):
    load(*[feature(f"ev-{i:02}") for i in range(12)])
    body = client.get("/ogc/collections/events/items").get_json()
    assert body["numberReturned"] == 10 and body["numberMatched"] == 12


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "datetime=yesterday",
        "datetime=2024-12-01/2024-01-01",
        "datetime=../..%2F..",
        "datetime=..",
        "limit=0",
        "limit=10001",
        "limit=ten",
        "f=xml",
        "colour=red",
        "filter=category%20%3D",
        "filter=status%20%3D%20%27draft%27",
        "filter=category%3D%27a%27&filter-lang=ecql",
        "filter=category%3D%27a%27&filter-crs=EPSG%3A4326",
        "filter=category%3D%27a%27&filter=place%3D%27b%27",
        "filter=%7Bnot%20json&filter-lang=cql2-json",
        "filter=place%3D%27a%01%27",
    ],
)
def test_bad_parameters_are_400_ogc_exceptions(client, query):
    response = client.get(f"/ogc/collections/events/items?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"] and body["error"] and body["detail"]


def test_one_item_and_unknown_or_draft_ids_are_404(client, story):
    response = client.get("/ogc/collections/events/items/span")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    assert response.get_json()["properties"]["end"] == "2024-12-10"
    for missing in ("nope", "draft"):
        response = client.get(f"/ogc/collections/events/items/{missing}")
        assert response.status_code == 404
        assert response.get_json()["code"] == "NotFound"


def test_etags_answer_304(client, story):
    first = client.get("/ogc/collections/events/items?bbox=35,51,37,52")
    assert first.headers["ETag"]
    again = client.get(
        "/ogc/collections/events/items?bbox=35,51,37,52", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304


def test_media_types(client, story):
    assert client.get("/ogc").mimetype == "application/json"
    assert client.get("/ogc/collections").mimetype == "application/json"
    api = client.get("/ogc/api")
    assert api.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert set(api.get_json()["paths"]) >= {
        "/",
        "/conformance",
        "/collections",
        "/collections/{collectionId}/items",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/events",
        "/ogc/collections/events/items",
        "/ogc/collections/events/items/hostile",
        "/ogc/api",
    ],
)
def test_html_pages_escape_every_text(client, load, path):
    load(feature("hostile", title=XSS_PAYLOADS[0], place=XSS_PAYLOADS[1], description=XSS_PAYLOADS[4]))
    response = client.get(path, query_string={"f": "html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Timeline Map" in html
    for payload in XSS_PAYLOADS:
        assert payload not in html


def test_queryables_list_what_a_filter_may_name(client):
    response = client.get("/ogc/collections/events/queryables")
    assert response.status_code == 200 and response.mimetype == "application/schema+json"
    properties = response.get_json()["properties"]
    assert {"category", "confidence", "place", "geometry", "interval"} <= properties.keys()
    assert "status" not in properties


def test_conformance_lists_the_filter_and_cql2_classes(client):
    classes = client.get("/ogc/conformance").get_json()["conformsTo"]
    for name in ("filter", "features-filter", "queryables"):
        assert f"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/{name}" in classes
    for name in ("cql2-text", "cql2-json", "basic-cql2"):
        assert f"http://www.opengis.net/spec/cql2/1.0/conf/{name}" in classes


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"filter": "place = 'Kursk'"}, ["kursk-month"]),
        ({"filter": "start >= DATE('2024-08-06') AND place <> 'Kursk'"}, ["sudzha-day", "span", "area"]),
        ({"filter": "place = 'Kursk'", "bbox": "30,40,31,51"}, []),  # ANDed with the bbox
        ({"filter": "category = 'offensive'", "datetime": "2024-11-01/.."}, ["span", "area"]),
        (
            {
                "filter": '{"op": "like", "args": [{"property": "place"}, "Kur%"]}',
                "filter-lang": "cql2-json",
            },
            ["kursk-month"],
        ),
        ({"filter": "id = 'draft'"}, []),  # a filter never reaches a draft
    ],
)
def test_items_filter_selects_with_cql2(client, story, query, expected):
    response = client.get("/ogc/collections/events/items", query_string=query)
    assert ids(response) == expected
    assert response.get_json()["numberMatched"] == len(expected)


def test_next_links_keep_the_filter(client, story):
    query = {"filter": "place <> 'Kursk'", "limit": "2"}
    seen, url = [], "/ogc/collections/events/items"
    while url:
        body = client.get(url, query_string=query or None).get_json()
        query = {}  # the next link carries everything
        assert body["numberMatched"] == 4
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert seen == ["moscow-2023", "sudzha-day", "span", "area"]


def test_unknown_ogc_paths_answer_json(client):
    response = client.get("/ogc/collections/events/nothing-here")
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"]
