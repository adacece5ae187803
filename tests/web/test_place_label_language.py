"""Map labels and place search speak the interface language: German readers see "Moskau", "Kiew"
and "Pjöngjang" where GeoNames has those names, English readers "Moscow", "Kyiv" and "Pyongyang",
and a town without a German name keeps its own ("Kursk")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from geodata.gazetteer import default_path, ensure_index

# Kyiv to Moscow, at the zoom where only the big cities are named.
VIEW = "28,48,40,57"


@pytest.fixture(scope="session")
def gazetteer_path(request: pytest.FixtureRequest) -> Path:
    cache = getattr(request.config, "cache", None)
    return ensure_index(Path(cache.mkdir("gazetteer")) / "gazetteer.sqlite" if cache else default_path())


@pytest.fixture
def app(fresh_database: Callable[..., str], app_factory: Callable[..., Flask], gazetteer_path: Path) -> Flask:
    return app_factory(fresh_database(), GAZETTEER_PATH=str(gazetteer_path))


def _labels(client: FlaskClient, query: str, **headers: str) -> list[str]:
    response = client.get(f"/api/places/labels?bbox={VIEW}&zoom=5{query}", headers=headers)
    assert response.status_code == 200
    return [f["properties"]["label"] for f in response.get_json()["features"]]


@pytest.mark.backends("sqlite")
def test_labels_are_german_for_german_readers_and_english_for_english_ones(client: FlaskClient) -> None:
    german = _labels(client, "&lang=de")
    assert {"Moskau", "Kiew", "Charkiw", "Woronesch", "Kursk"} <= set(german)
    assert not {"Moscow", "Kyiv", "Kharkiv"} & set(german)
    english = _labels(client, "&lang=en")
    assert {"Moscow", "Kyiv", "Kharkiv", "Voronezh", "Kursk"} <= set(english)
    assert not {"Moskau", "Kiew"} & set(english)
    # Without lang=, the interface language decides (the browser's, or the chosen one).
    assert "Moskau" in _labels(client, "", **{"Accept-Language": "de-DE,de;q=0.9"})
    assert "Moscow" in _labels(client, "", **{"Accept-Language": "en-GB"})


@pytest.mark.backends("sqlite")
def test_search_labels_follow_the_language_too(client: FlaskClient) -> None:
    def first(q: str, lang: str) -> str:
        body = client.get("/api/places", query_string={"q": q, "lang": lang}).get_json()
        label: str = body["features"][0]["properties"]["label"]
        return label

    assert first("Pjöngjang", "de") == "Pjöngjang" and first("Pjöngjang", "en") == "Pyongyang"
    assert first("Moskau", "de") == "Moskau" and first("Moskau", "en") == "Moscow"
    assert first("Київ", "de") == "Kiew" and first("Київ", "uk") == "Київ"
    assert first("Sudzha", "de") == "Sudzha"
