"""Category labels in the reader's language: the categories API, the map page, the event page, the
editor's select and the admin's categories page (with its form messages) in German and English.
Exports keep the slug, which is what features carry."""

from __future__ import annotations

import html
import json
import re

import pytest
from helpers import GOOD_PASSWORD, csrf_token, feature, log_in

from timeline.store.db import db
from timeline.store.models import Category

GERMAN_DEMO = {
    "offensive": "Bodenoperationen",
    "deployment": "Truppenverlegungen",
    "diplomacy": "Diplomatie und Verträge",
    "casualties": "Verluste",
    "arms-supply": "Waffenlieferungen",
    "assessment": "Lageeinschätzungen",
}


@pytest.fixture
def casualties(app, load):
    """A published event in the category "casualties", which has a German label."""
    with app.app_context():
        db.session.add(
            Category(slug="casualties", label="Casualties", colour="#882255", labels={"de": "Verluste"})
        )
        db.session.commit()
    load(feature("ev-losses", category="casualties", title="Losses near Sudzha"))


def _page_categories(client) -> dict[str, str]:
    """The labels the map page's legend shows: the categories URL its config names, fetched."""
    page = client.get("/").get_data(as_text=True)
    config = json.loads(html.unescape(re.search(r'id="page-config">(.*?)</script>', page, re.S).group(1)))
    body = client.get(config["urls"]["categories"]).get_json()
    return {c["slug"]: c["label"] for c in body["categories"]}


def test_the_demo_categories_have_german_labels(runner, client):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    german = client.get("/api/categories", query_string={"lang": "de"}).get_json()["categories"]
    assert {c["slug"]: c["label"] for c in german} == GERMAN_DEMO
    english = {c["slug"]: c for c in client.get("/api/categories").get_json()["categories"]}
    assert english["casualties"]["label"] == "Casualties"
    assert english["casualties"]["labels"] == {"de": "Verluste"}


def test_the_map_page_asks_for_labels_in_its_language(client, casualties):
    client.set_cookie("lang", "de")
    assert _page_categories(client)["casualties"] == "Verluste"
    client.set_cookie("lang", "en")
    assert _page_categories(client)["casualties"] == "Casualties"


def test_event_page_and_editor_show_the_label_in_the_interface_language(client, users, casualties):
    client.set_cookie("lang", "de")
    assert "<dd>Verluste</dd>" in client.get("/events/ev-losses").get_data(as_text=True)
    log_in(client, users["editor"]["username"], GOOD_PASSWORD)
    form = client.get("/edit/events/new").get_data(as_text=True)
    assert re.search(r'<option value="casualties"[^>]*>Verluste</option>', form), form
    client.set_cookie("lang", "en")
    assert "<dd>Casualties</dd>" in client.get("/events/ev-losses").get_data(as_text=True)


def test_an_export_keeps_the_slug(client, casualties):
    body = json.loads(client.get("/export/events.geojson").data)
    assert [f["properties"]["category"] for f in body["features"]] == ["casualties"]


def test_an_unknown_label_language_is_a_400(client):
    response = client.get("/api/categories", query_string={"lang": "xx"})
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_an_admin_edits_the_german_label_and_german_readers_see_it(app, client, users, casualties):
    log_in(client, users["admin"]["username"], GOOD_PASSWORD)
    form = {"slug": "casualties", "label": "Casualties", "label_de": "Opfer", "colour": "#882255"}
    response = client.post(
        "/admin/categories", data={**form, "csrf_token": csrf_token(client, "/admin/categories")}
    )
    assert response.status_code == 302
    page = client.get("/admin/categories").get_data(as_text=True)
    assert '<td lang="de">Opfer</td>' in page
    visitor = app.test_client()
    visitor.set_cookie("lang", "de")
    assert _page_categories(visitor)["casualties"] == "Opfer"
    assert "<dd>Opfer</dd>" in visitor.get("/events/ev-losses").get_data(as_text=True)
    visitor.set_cookie("lang", "en")
    assert _page_categories(visitor)["casualties"] == "Casualties"


@pytest.mark.parametrize(
    ("form", "german", "english"),
    [
        ({"slug": "Bad Slug"}, "Das Kürzel darf nur", "The slug must be"),
        ({"label": ""}, "Die Bezeichnung muss 1 bis 200", "The label must be 1-200"),
        ({"label_de": "x" * 201}, "Die deutsche Bezeichnung darf höchstens 200", "The German label must be"),
        ({"colour": "red"}, "Die Farbe muss wie #1f77b4 aussehen", "The colour must look like"),
    ],
)
def test_admin_category_form_errors_are_in_the_users_language(client, users, form, german, english):
    log_in(client, users["admin"]["username"], GOOD_PASSWORD)
    good = {"slug": "new-kind", "label": "New kind", "label_de": "Neue Art", "colour": "#117733"}
    for lang, message in (("de", german), ("en", english)):
        client.set_cookie("lang", lang)
        data = {**good, **form, "csrf_token": csrf_token(client, "/admin/categories")}
        response = client.post("/admin/categories", data=data)
        assert response.status_code == 422
        assert message in html.unescape(response.get_data(as_text=True)), lang
