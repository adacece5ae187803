"""``GET /api/regions``: the countries and regions the map page's region filter offers.

Only published, live events count (a draft's place is not public), each country lists its regions
with their counts, events at sea are in no entry, and every code it answers is one ``region=`` or
``country=`` accepts, selecting exactly that many events.
"""

from __future__ import annotations

import pytest
from helpers import feature, skip_or_fail

from geodata.gazetteer import default_path

SUMY = (34.80, 50.91)  # Sumy, in Sumy Oblast (UA-59)
KURSK = (36.19, 51.73)  # Kursk, in Kursk Oblast (RU-KRS)
BELGOROD = (36.59, 50.60)  # Belgorod, in Belgorod Oblast (RU-BEL)


@pytest.fixture(autouse=True)
def _gazetteer() -> None:
    if not default_path().exists():
        skip_or_fail(f"the gazetteer index ({default_path()}); build it with `make places`")


@pytest.fixture
def story(load) -> None:
    load(
        feature("sudzha"),  # Sudzha, Kursk Oblast
        feature("kursk", lon=KURSK[0], lat=KURSK[1], title="Kursk", start="2024-08-20"),
        feature("belgorod", lon=BELGOROD[0], lat=BELGOROD[1], title="Belgorod", start="2024-08-21"),
        feature("sumy", lon=SUMY[0], lat=SUMY[1], title="Sumy", start="2024-09-01"),
        feature("sea", lon=30.0, lat=43.0, title="At sea", start="2024-10-02"),
        feature("draft", lon=SUMY[0], lat=SUMY[1], title="Not yet public", status="draft"),
    )


def test_regions_lists_each_country_with_its_regions_and_counts(client, story):
    response = client.get("/api/regions")
    assert response.status_code == 200
    countries = response.get_json()["countries"]
    assert [(c["code"], c["name"], c["count"]) for c in countries] == [
        ("RU", "Russian Federation", 3),
        ("UA", "Ukraine", 1),  # the draft in Sumy is not counted
    ]
    russia, ukraine = countries
    assert [(r["code"], r["name"], r["count"]) for r in russia["regions"]] == [
        ("RU-BEL", "Belgorod Oblast", 1),
        ("RU-KRS", "Kursk Oblast", 2),
    ]
    assert [(r["code"], r["count"]) for r in ukraine["regions"]] == [("UA-59", 1)]


def test_every_listed_code_filters_the_events_to_its_count(client, story):
    countries = client.get("/api/regions").get_json()["countries"]
    for country in countries:
        matched = client.get(f"/api/events?country={country['code']}").get_json()["numberMatched"]
        assert matched == country["count"], country["code"]
        for region in country["regions"]:
            matched = client.get(f"/api/events?region={region['code']}").get_json()["numberMatched"]
            assert matched == region["count"], region["code"]


def test_an_empty_story_has_no_regions(client):
    response = client.get("/api/regions")
    assert response.status_code == 200
    assert response.get_json() == {"countries": []}
