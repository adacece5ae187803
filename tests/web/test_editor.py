"""Editing through the pages: roles, the form, conflicts and merges, history and restore, trash."""

import re
from html import unescape

import pytest
from helpers import GOOD_PASSWORD, auth, csrf_token, feature, log_in
from sqlalchemy import select

from timeline.store.db import db
from timeline.store.models import Event, Revision


@pytest.fixture
def event_id(load):
    load(feature("ev-x", title="Matrix event", status="draft"))
    return "ev-x"


def client_as(app, users, role):
    client = app.test_client()
    if role != "anonymous":
        log_in(client, users[role]["username"], GOOD_PASSWORD)
    return client


FORM_ROUTES = [
    # method, url, anonymous, editor, admin
    ("GET", "/edit/", 302, 200, 200),
    ("GET", "/edit/events/new", 302, 200, 200),
    ("GET", "/edit/events/{id}", 302, 200, 200),
    ("GET", "/edit/events/{id}/history", 302, 200, 200),
    ("GET", "/edit/trash", 302, 403, 200),
    ("GET", "/admin/users", 302, 403, 200),
    ("GET", "/admin/categories", 302, 403, 200),
    ("GET", "/admin/audit", 302, 403, 200),
    ("GET", "/admin/audit.csv", 302, 403, 200),
    ("POST", "/edit/events/{id}/publish", 302, 403, 302),
    ("POST", "/edit/events/{id}/unpublish", 302, 403, 302),
    ("POST", "/edit/events/{id}/delete", 302, 403, 302),
    ("POST", "/edit/events/{id}/restore", 302, 403, 302),
]


@pytest.mark.parametrize("role", ["anonymous", "editor", "admin"])
@pytest.mark.parametrize(("method", "url", "anonymous", "editor", "admin"), FORM_ROUTES)
def test_form_routes_by_role(app, users, event_id, role, method, url, anonymous, editor, admin):
    client = client_as(app, users, role)
    url = url.format(id=event_id)
    data = {"csrf_token": csrf_token(client, "/login")} if method == "POST" else None
    response = client.open(url, method=method, data=data)
    expected = {"anonymous": anonymous, "editor": editor, "admin": admin}[role]
    assert response.status_code == expected
    if role == "anonymous" and expected == 302:
        assert "/login" in response.headers["Location"]


API_ROUTES = [
    ("GET", "/api/events/{id}", 404, 200, 200),
    ("GET", "/api/events/{id}/revisions", 401, 200, 200),
    ("POST", "/api/events", 401, 201, 201),
    ("PATCH", "/api/events/{id}", 401, 200, 200),
    ("POST", "/api/events/{id}/publish", 401, 403, 200),
    ("POST", "/api/events/{id}/unpublish", 401, 403, 200),
    ("DELETE", "/api/events/{id}", 401, 403, 204),
    ("POST", "/api/events/{id}/restore", 401, 403, 200),
    ("GET", "/api/changes", 200, 200, 200),
    ("GET", "/export/events.geojson", 200, 200, 200),
]


@pytest.mark.parametrize("role", ["anonymous", "editor", "admin"])
@pytest.mark.parametrize(("method", "url", "anonymous", "editor", "admin"), API_ROUTES)
def test_api_routes_by_role(app, users, event_id, role, method, url, anonymous, editor, admin):
    client = app.test_client()
    headers = auth(users[role]["token"]) if role != "anonymous" else {}
    body = None
    if method == "POST" and url == "/api/events":
        body = feature(None)
        body["properties"].pop("status")
    elif method == "PATCH":
        body = {"version": 1, "properties": {"title": "Patched"}}
    response = client.open(url.format(id=event_id), method=method, json=body, headers=headers)
    assert response.status_code == {"anonymous": anonymous, "editor": editor, "admin": admin}[role]


def test_no_state_changes_on_get(app, users, event_id):
    client = client_as(app, users, "admin")
    assert client.get(f"/edit/events/{event_id}/publish").status_code == 405
    assert client.get("/logout").status_code == 405
    assert client.get(f"/api/events/{event_id}/publish").status_code == 405


def test_forms_refuse_a_missing_or_wrong_csrf_token_and_change_nothing(app, users, event_id):
    client = client_as(app, users, "admin")
    assert client.post(f"/edit/events/{event_id}/publish").status_code == 400
    assert client.post(f"/edit/events/{event_id}/publish", data={"csrf_token": "forged"}).status_code == 400
    assert client.post("/api/events", json=feature(None)).status_code == 400  # cookie-authenticated API too
    with app.app_context():
        assert db.session.scalar(select(Event.status).where(Event.id == event_id)) == "draft"


def form_data(client, **overrides):
    data = {
        "csrf_token": csrf_token(client, "/edit/events/new"), "title": "Shelling near Sudzha",
        "lon": "35.27", "lat": "51.19", "geometry": "", "place": "Sudzha", "date_precision": "day",
        "start": "2024-08-10", "end": "", "category": "offensive", "confidence": "reported", "lang": "en",
        "actors": "Russia\nUkraine", "description": "Reports of shelling.",
        "source_url": ["https://example.org/a", ""], "source_outlet": ["Example", ""],
        "source_title": ["Report", ""], "source_published": ["2024-08-10", ""],
    }  # fmt: skip
    data.update(overrides)
    return data


def test_editor_creates_a_draft_through_the_form(app, users, load):
    load(feature("seed", category="offensive"))  # so the category exists
    client = client_as(app, users, "editor")
    response = client.post("/edit/events/new", data=form_data(client))
    assert response.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.title == "Shelling near Sudzha"))
        assert event.status == "draft"
        assert event.actors == ["Russia", "Ukraine"]
        assert [s.url for s in event.sources] == ["https://example.org/a"]
        assert event.author.username == "editor1"
        assert event.geometry_type == "Point" and event.min_lon == 35.27


def test_a_drawn_line_is_stored(app, users):
    client = client_as(app, users, "editor")
    line = '{"type": "LineString", "coordinates": [[35.0, 51.0], [35.5, 51.2]]}'
    assert (
        client.post("/edit/events/new", data=form_data(client, geometry=line, lon="", lat="")).status_code
        == 302
    )
    with app.app_context():
        assert db.session.scalar(select(Event.geometry_type)) == "LineString"


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"start": "2024-02-30"}, "start", "Enter the start date as a year, month or day"),
        ({"lon": "east", "lat": "51"}, "geometry", "Enter the longitude and latitude as numbers"),
        ({"lon": "", "lat": ""}, "geometry", "Mark the place on the map"),
        ({"lon": "200"}, "geometry", "Enter a longitude from -180 to 180"),
        ({"title": ""}, "title", "Fill in this field"),
        (
            {"source_url": ["javascript:alert(1)", ""]},
            "sources[0]",
            "Enter a web address starting with http://",
        ),
    ],
)
def test_form_errors_appear_next_to_the_field_and_keep_what_was_typed(app, users, override, field, message):
    client = client_as(app, users, "editor")
    response = client.post(
        "/edit/events/new", data=form_data(client, description="Typed text stays", **override)
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'id="error-{re.escape(field)}"[^>]*>([^<]*)<', html)
    assert error and message in error.group(1)
    assert "Typed text stays" in html
    with app.app_context():
        assert db.session.scalar(select(Event)) is None


def field_error(html, field):
    """The message shown beside a form field, as a reader sees it (entities decoded)."""
    found = re.search(rf'id="error-{re.escape(field)}"[^>]*>([^<]*)<', html)
    return unescape(found.group(1)) if found else None


GUIDANCE = [
    # form overrides, field, English, German
    ({"start": "2024-08-10", "end": "2024-08-01"}, "start",
     "Enter the end date on or after the start date (2024-08-01 is before 2024-08-10)",
     "Geben Sie als Ende ein Datum am oder nach dem Beginn ein (2024-08-01 liegt vor 2024-08-10)"),
    ({"start": "10.08.2024"}, "start",
     "Enter the start date as a year, month or day such as 2024, 2024-10 or 2024-11-11 "
     "(“10.08.2024” is not a date)",
     "Geben Sie den Beginn als Jahr, Monat oder Tag ein, z. B. 2024, 2024-10 oder 2024-11-11 "
     "(„10.08.2024“ ist kein Datum)"),
    ({"date_precision": "day", "start": "2024-08"}, "start",
     "Enter the start date as a day, e.g. 2024-11-11, or choose a coarser precision",
     "Geben Sie für den Beginn einen Tag an, z. B. 2024-11-11, oder wählen Sie eine gröbere Genauigkeit"),
    ({"title": "   "}, "title", "Fill in this field", "Bitte füllen Sie dieses Feld aus"),
    ({"lat": "95"}, "geometry",
     "Enter a longitude from -180 to 180 and a latitude from -90 to 90, e.g. 35.27 and 51.19",
     "Geben Sie einen Längengrad von -180 bis 180 und einen Breitengrad von -90 bis 90 ein, "
     "z. B. 35.27 und 51.19"),
    ({"source_url": ["www.example.org/a", ""]}, "sources[0]",
     "Enter a web address starting with http:// or https:// (“www.example.org/a” is not one)",
     "Geben Sie eine Webadresse ein, die mit http:// oder https:// beginnt "
     "(„www.example.org/a“ tut das nicht)"),
]  # fmt: skip


@pytest.mark.parametrize(("override", "field", "english", "german"), GUIDANCE)
def test_a_bad_form_is_answered_with_guidance_beside_the_field(app, users, override, field, english, german):
    client = client_as(app, users, "editor")
    response = client.post("/edit/events/new", data=form_data(client, **override))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, field) == english
    assert "ISO 8601" not in html and "precision but" not in html  # the API's detail stays out of the form


@pytest.mark.parametrize(("override", "field", "english", "german"), GUIDANCE)
def test_a_bad_form_is_answered_in_german_for_a_german_editor(app, users, override, field, english, german):
    client = client_as(app, users, "editor")
    client.set_cookie("lang", "de")
    response = client.post("/edit/events/new", data=form_data(client, **override))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_error(html, field) == german
    assert english not in html


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_new_events_text_language_starts_as_the_editors_page_language(app, users, lang):
    client = client_as(app, users, "editor")
    client.set_cookie("lang", lang)
    html = client.get("/edit/events/new").get_data(as_text=True)
    assert re.search(r'<input name="lang" value="([^"]*)"', html).group(1) == lang


def test_the_api_keeps_english_messages_with_their_detail_whatever_the_language(client, users):
    response = client.post(
        "/api/events",
        json=feature(None, start="2024-02-30"),
        headers={**auth(users["admin"]["token"]), "Accept-Language": "de"},
    )
    assert response.status_code == 422
    [problem] = response.get_json()["problems"]
    assert problem["field"] == "start"
    assert problem["message"].startswith("Enter the start date as a year, month or day")
    assert "2024-02 has 29 days" in problem["message"]


def test_stale_form_save_shows_both_versions_and_merges(app, users, load):
    load(feature("ev-c", title="Original title", place="Sudzha"))
    first = client_as(app, users, "editor")
    second = client_as(app, users, "admin")
    form_first = form_data(first, title="First editor's title", place="Sudzha", version="1")
    form_second = form_data(
        second, title="Original title", place="Sudscha (admin)", version="1", status="published"
    )
    assert first.post("/edit/events/ev-c", data=form_first).status_code == 302
    conflict = second.post("/edit/events/ev-c", data=form_second)
    assert conflict.status_code == 409
    html = conflict.get_data(as_text=True)
    assert "First editor&#39;s title" in html and "Sudscha (admin)" in html
    mine = re.search(r'name="mine" value="([^"]+)"', html).group(1)
    import html as html_lib

    merge = {"csrf_token": csrf_token(second, "/edit/"), "version": "2", "mine": html_lib.unescape(mine),
             "take_title": "theirs", "take_place": "mine"}  # fmt: skip
    assert second.post("/edit/events/ev-c/merge", data=merge).status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.id == "ev-c"))
        assert (event.title, event.place, event.version) == ("First editor's title", "Sudscha (admin)", 3)


def test_history_shows_diffs_and_restores_an_old_revision(app, users, load):
    load(feature("ev-h", title="First", geometry={"type": "Point", "coordinates": [35.0, 51.0]}))
    client = client_as(app, users, "editor")
    client.patch("/api/events/ev-h", json={"version": 1, "properties": {"title": "Second"},
                                           "geometry": {"type": "Point", "coordinates": [36.0, 51.5]}},
                 headers=auth(users["editor"]["token"]))  # fmt: skip
    page = client.get("/edit/events/ev-h/history")
    html = page.get_data(as_text=True)
    assert "Version 2 · update · editor1" in html
    assert "First" in html and "Second" in html
    assert 'class="diff-map"' in html  # the geometry change gets its map
    with app.app_context():
        first_revision = db.session.scalar(select(Revision).where(Revision.version == 1))
    token = csrf_token(client, "/edit/events/ev-h/history")
    restored = client.post(
        f"/edit/events/ev-h/revert/{first_revision.id}", data={"csrf_token": token, "version": "2"}
    )
    assert restored.status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.id == "ev-h"))
        assert (event.title, event.version, event.min_lon) == ("First", 3, 35.0)
        newest = db.session.scalar(select(Revision).order_by(Revision.id.desc()))
        assert newest.action == "revert to v1"
        assert newest.changes["title"] == ["Second", "First"]


def test_delete_trash_restore_round_trip_through_pages(app, users, load):
    load(feature("ev-t", title="Trash me"))
    client = client_as(app, users, "admin")
    token = csrf_token(client, "/edit/")
    assert client.post("/edit/events/ev-t/delete", data={"csrf_token": token}).status_code == 302
    assert "Trash me" in client.get("/edit/trash").get_data(as_text=True)
    assert "Trash me" not in client.get("/edit/").get_data(as_text=True)
    assert app.test_client().get("/api/events/ev-t").status_code == 404
    assert client.post("/edit/events/ev-t/restore", data={"csrf_token": token}).status_code == 302
    assert "Trash me" not in client.get("/edit/trash").get_data(as_text=True)
    assert app.test_client().get("/api/events/ev-t").status_code == 200


def test_hostile_text_is_escaped_in_every_editing_page(app, users, load):
    payload = "<img src=x onerror=alert(1)>"
    load(feature("ev-xss", title=payload, description=payload, place=payload, actors=[payload]))
    client = client_as(app, users, "admin")
    client.patch("/api/events/ev-xss", json={"version": 1, "properties": {"title": payload + "!"}},
                 headers=auth(users["admin"]["token"]))  # fmt: skip
    for url in ("/edit/", "/edit/events/ev-xss", "/edit/events/ev-xss/history"):
        html = client.get(url).get_data(as_text=True)
        assert payload not in html, url
        assert "&lt;img src=x onerror=alert(1)&gt;" in html, url
