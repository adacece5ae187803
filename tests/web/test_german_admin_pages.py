"""The editing, admin, OGC and error pages in German: a German reader sees German sentences with the
names, titles and numbers filled in (and escaped), while what the forms send stays the same keys."""

import html as html_lib
import re

from helpers import GOOD_PASSWORD, auth, csrf_token, feature, log_in


def german_client(app, users=None, role=None):
    client = app.test_client()
    client.set_cookie("lang", "de")
    if role:
        log_in(client, users[role]["username"], GOOD_PASSWORD)
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def test_login_page_is_german(app):
    page = text(german_client(app).get("/login"))
    assert "<h1>Anmelden</h1>" in page and "Benutzername" in page and "Passwort" in page


def test_saving_a_new_event_flashes_a_german_sentence_with_the_escaped_title(app, users, load):
    load(feature("seed", category="offensive"))
    client = german_client(app, users, "editor")
    form_page = text(client.get("/edit/events/new"))
    assert "<h1>Neues Ereignis</h1>" in form_page and "Entwurf speichern" in form_page
    # The form sends the key; the reader sees the German word.
    assert '<option value="day"' in form_page and ">Tag</option>" in form_page
    data = {
        "csrf_token": csrf_token(client, "/edit/events/new"), "title": "<b>Beschuss</b> bei Sudscha",
        "lon": "35.27", "lat": "51.19", "geometry": "", "place": "Sudzha", "date_precision": "day",
        "start": "2024-08-10", "end": "", "category": "offensive", "confidence": "reported", "lang": "de",
        "actors": "", "description": "", "source_url": [""], "source_outlet": [""], "source_title": [""],
        "source_published": [""],
    }  # fmt: skip
    saved = client.post("/edit/events/new", data=data, follow_redirects=True)
    assert saved.status_code == 200
    assert "„&lt;b&gt;Beschuss&lt;/b&gt; bei Sudscha“ als Entwurf gespeichert." in text(saved)
    dashboard = text(client.get("/edit/"))
    assert "<h1>Ereignisse</h1>" in dashboard and ">Entwurf</span>" in dashboard


def test_history_names_versions_and_actions_in_german(app, users, load):
    load(feature("ev-h", title="Erster <Titel>"))
    client = german_client(app, users, "editor")
    client.patch("/api/events/ev-h", json={"version": 1, "properties": {"title": "Zweiter"}},
                 headers=auth(users["editor"]["token"]))  # fmt: skip
    page = text(client.get("/edit/events/ev-h/history"))
    assert "<h1>Verlauf: <span lang=" in page and "Zweiter</span></h1>" in page
    assert "Version 2 · geändert · " + users["editor"]["username"] in page
    assert "Diese Version wiederherstellen" in page


def test_conflict_page_explains_in_german_who_saved_first(app, users, load):
    load(feature("ev-c", title="Original", place="Sudzha"))
    first = german_client(app, users, "editor")
    second = german_client(app, users, "admin")

    def form(client, title):
        page = text(client.get("/edit/events/ev-c"))
        fields = dict(re.findall(r'<input name="(\w+)"[^>]*?value="([^"]*)"', page))
        return {**fields, "title": title, "version": "1", "geometry": "", "date_precision": "day",
                "category": "offensive", "confidence": "reported", "status": "published",
                "csrf_token": csrf_token(client, "/edit/events/ev-c")}  # fmt: skip

    first_form, second_form = form(first, "Erste Fassung"), form(second, "Zweite Fassung")
    assert first.post("/edit/events/ev-c", data=first_form).status_code == 302
    conflict = second.post("/edit/events/ev-c", data=second_form)
    assert conflict.status_code == 409
    page = html_lib.unescape(text(conflict))
    editor = users["editor"]["username"]
    started = "Sie haben mit Version 1 begonnen; inzwischen ist es Version 2"
    assert f"{started} (gespeichert von {editor})." in page
    assert "Zusammenführung speichern" in page and '<th scope="row">Titel</th>' in page


def test_admin_creates_a_user_in_german_and_the_role_keys_stay_english(app, users):
    client = german_client(app, users, "admin")
    page = text(client.get("/admin/users"))
    assert '<option value="editor"' in page and ">Redakteur</option>" in page and "Benutzer anlegen" in page
    account = {"username": "neu1", "role": "editor", "password": GOOD_PASSWORD}
    token = csrf_token(client, "/admin/users")
    created = client.post("/admin/users", data={**account, "csrf_token": token}, follow_redirects=True)
    assert created.status_code == 200 and "Redakteur neu1 angelegt." in text(created)
    me = users["admin"]["id"]
    refused = client.post(
        f"/admin/users/{me}",
        data={"action": "deactivate", "csrf_token": csrf_token(client, "/admin/users")},
        follow_redirects=True,
    )
    assert "Sie können sich nicht selbst herabstufen oder deaktivieren" in text(refused)


def test_ogc_items_and_error_pages_are_german(app, load):
    load(feature("ev-o", title="Ort"))
    client = german_client(app)
    items = text(client.get("/ogc/collections/events/items", query_string={"f": "html"}))
    assert "1 von 1 passenden Ereignissen." in items and "<th>Titel</th>" in items
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Zurück zur Karte" in text(missing)
    # The title and explanation are German too, not Werkzeug's English description.
    assert "404 — Nicht gefunden" in text(missing) and "Unter dieser Adresse gibt es nichts" in text(missing)
    assert "The requested URL was not found" not in text(missing)
    event = client.get("/events/no-such-event")
    assert event.status_code == 404 and "Nicht gefunden" in text(event) and "no event" not in text(event)


def test_the_event_list_names_categories_in_the_readers_language(app, users, load):
    from timeline.store.db import db
    from timeline.store.models import Category

    load(feature("seed", category="offensive"))
    with app.app_context():
        category = db.session.get(Category, "offensive")
        category.label, category.labels = "Ground operations", {"de": "Bodenoperationen <i>"}
        db.session.commit()
        db.session.remove()
    german = text(german_client(app, users, "editor").get("/edit/"))
    assert '<td data-label="Kategorie">Bodenoperationen &lt;i&gt;</td>' in german
    english = app.test_client()
    log_in(english, users["editor"]["username"], GOOD_PASSWORD)
    assert '<td data-label="Category">Ground operations</td>' in text(english.get("/edit/"))
