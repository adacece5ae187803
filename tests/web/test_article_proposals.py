"""``POST /api/articles/proposals`` and the editor's ``/edit/articles`` page: editors only, nothing is
saved until a proposal is accepted, and an accepted one is a draft with a revision, made through the
normal write path. Too long an article is a 413, bad input a 400/422 in JSON, and a language the
extractor does not read an empty list with a notice. Both backends."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import GOOD_PASSWORD, SEED_NAME, auth, csrf_token, log_in, seed_article
from sqlalchemy import func, select

from geodata.gazetteer import ensure_index
from timeline.store.db import db
from timeline.store.models import Event, Revision

SEED = seed_article() or Path("/nonexistent") / SEED_NAME
ARTICLE = {
    "text": "Putin hatte das Abkommen im Juni bei einem Besuch in Pjöngjang mit Kim Jong Un unterzeichnet. "
    "Der Kreml veröffentlichte das Gesetz am Wochenende.",
    "published": "2024-11-11",
    "url": "https://example.org/kursk",
    "outlet": "Example News",
    "title": "Russland zieht Soldaten zusammen",
}


@pytest.fixture(scope="session")
def gazetteer_path(request: pytest.FixtureRequest) -> Path:
    """The real index, built once into pytest's cache folder (as tests/geodata does)."""
    return ensure_index(Path(request.config.cache.mkdir("gazetteer")) / "gazetteer.sqlite")


@pytest.fixture
def app(fresh_database: Callable[..., str], app_factory: Callable[..., Flask], gazetteer_path: Path) -> Flask:
    return app_factory(fresh_database(), GAZETTEER_PATH=str(gazetteer_path), ARTICLE_MAX_CHARS=6000)


def _counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(Event))
        revisions = db.session.scalar(select(func.count()).select_from(Revision))
        return int(events or 0), int(revisions or 0)


def _propose(client: FlaskClient, token: str, body: Any, **kwargs: Any) -> Any:
    return client.post("/api/articles/proposals", json=body, headers=auth(token), **kwargs)


def test_editors_get_proposals_and_nothing_is_saved(
    app: Flask, client: FlaskClient, users: dict[str, Any]
) -> None:
    response = _propose(client, users["editor"]["token"], ARTICLE)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["lang"] == "de" and "notice" not in body
    signed, in_force = body["proposals"]
    assert (signed["properties"]["start"], signed["properties"]["date_precision"]) == ("2024-06", "month")
    assert signed["properties"]["place"] == "Pjöngjang, Nordkorea"
    assert signed["geometry"]["type"] == "Point"
    assert signed["properties"]["sources"][0]["url"] == "https://example.org/kursk"
    assert (in_force["properties"]["start"], in_force["properties"]["end"]) == ("2024-11-09", "2024-11-10")
    assert _counts(app) == (0, 0)


def test_the_seed_article_gives_its_five_events(client: FlaskClient, users: dict[str, Any]) -> None:
    if not SEED.exists():
        pytest.skip(f"the seed article is not at {SEED}")
    article = {**ARTICLE, "text": SEED.read_text(encoding="utf-8")}
    body = _propose(client, users["editor"]["token"], article).get_json()
    by_date = {(p["properties"]["start"], p["properties"]["end"]) for p in body["proposals"]}
    assert {("2024-11", None), ("2024-06", None), ("2024-11-09", "2024-11-10"), ("2024-10", None)} <= by_date


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_anonymous_callers_are_refused(app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    response = client.post("/api/articles/proposals", json=ARTICLE, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]


def test_a_session_needs_the_csrf_token(app: Flask, client: FlaskClient, users: dict[str, Any]) -> None:
    log_in(client, users["editor"]["username"], GOOD_PASSWORD)
    refused = client.post("/api/articles/proposals", json=ARTICLE)
    assert refused.status_code == 400
    token = csrf_token(client, "/edit/articles")
    answered = client.post("/api/articles/proposals", json=ARTICLE, headers={"X-CSRFToken": token})
    assert answered.status_code == 200
    assert len(answered.get_json()["proposals"]) == 2


def test_an_article_over_the_limit_is_413(app: Flask, client: FlaskClient, users: dict[str, Any]) -> None:
    text = "Im Juni geschah es. " * 300 + "x" * 1000
    response = _propose(client, users["editor"]["token"], {**ARTICLE, "text": text})
    assert response.status_code == 413
    body = response.get_json()
    assert body["error"] == "article too large" and body["limit"] == 6000
    assert "7000 characters" in body["detail"]
    assert _counts(app) == (0, 0)


def test_the_limit_defaults_to_50000(
    fresh_database: Callable[..., str], app_factory: Callable[..., Flask], users_on: Any, gazetteer_path: Path
) -> None:
    app = app_factory(fresh_database("default_limit"), GAZETTEER_PATH=str(gazetteer_path))
    token = users_on(app)["editor"]["token"]
    client = app.test_client()
    assert _propose(client, token, {**ARTICLE, "text": "Im Juni geschah es. " * 2500}).status_code == 200
    assert _propose(client, token, {**ARTICLE, "text": "Im Juni geschah es. " * 2501}).status_code == 413


@pytest.mark.parametrize(
    "body, status, field",
    [
        ("not an object", 400, None),
        (["a list"], 400, None),
        ({**ARTICLE, "text": ""}, 422, "text"),
        ({**ARTICLE, "text": "   \n "}, 422, "text"),
        ({**ARTICLE, "text": 42}, 422, "text"),
        ({**ARTICLE, "text": "Im Juni\x00 geschah es."}, 422, "text"),
        ({k: v for k, v in ARTICLE.items() if k != "published"}, 422, "published"),
        ({**ARTICLE, "published": "2024-11"}, 422, "published"),
        ({**ARTICLE, "published": "11.11.2024"}, 422, "published"),
        ({**ARTICLE, "published": "2024-02-30"}, 422, "published"),
        ({**ARTICLE, "url": "javascript:alert(1)"}, 422, "url"),
        ({**ARTICLE, "outlet": ["x"]}, 422, "outlet"),
        ({**ARTICLE, "title": "x" * 5000}, 422, "title"),
        ({**ARTICLE, "lang": 7}, 422, "lang"),
    ],
)
def test_bad_input_is_a_json_4xx_naming_the_field(
    app: Flask, client: FlaskClient, users: dict[str, Any], body: Any, status: int, field: str | None
) -> None:
    response = _propose(client, users["editor"]["token"], body)
    assert response.status_code == status, response.get_json()
    answer = response.get_json()
    assert answer["error"] and answer["detail"]
    if field:
        assert field in {p["field"] for p in answer["problems"]}
    assert _counts(app) == (0, 0)


def test_a_body_that_is_not_json_is_refused(client: FlaskClient, users: dict[str, Any]) -> None:
    headers = {**auth(users["editor"]["token"]), "Content-Type": "application/json"}
    broken = client.post("/api/articles/proposals", data="{not json", headers=headers)
    assert broken.status_code == 400 and broken.get_json()["error"]
    form = client.post("/api/articles/proposals", data=ARTICLE, headers=auth(users["editor"]["token"]))
    assert form.status_code == 415 and form.get_json()["error"]


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Путин подписал договор в Пхеньяне в июне, сообщил Кремль в выходные дни.", None),
        (ARTICLE["text"], "fr"),
    ],
)
def test_an_unknown_language_is_an_empty_list_with_a_notice(
    client: FlaskClient, users: dict[str, Any], text: str, lang: str | None
) -> None:
    body = {**ARTICLE, "text": text, **({"lang": lang} if lang else {})}
    response = _propose(client, users["editor"]["token"], body)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["proposals"] == []
    assert answer["notice_code"] == "unknown language"
    assert "German and English" in answer["notice"]


def test_a_5000_character_article_is_answered(client: FlaskClient, users: dict[str, Any]) -> None:
    sentence = "Russland griff im Oktober 2024 in der Region Kursk an. "
    text = (sentence * (5000 // len(sentence) + 1))[:5000]
    response = _propose(client, users["editor"]["token"], {**ARTICLE, "text": text})
    assert response.status_code == 200
    proposals = response.get_json()["proposals"]
    assert len(proposals) == text.count("Oktober 2024")
    assert all(p["properties"]["start"] == "2024-10" for p in proposals)


# ---------------------------------------------------------------------------- the page


def _logged_in(app: Flask, users: dict[str, Any], role: str = "editor") -> FlaskClient:
    client = app.test_client()
    log_in(client, users[role]["username"], GOOD_PASSWORD)
    return client


def _form(client: FlaskClient, **extra: str) -> dict[str, str]:
    return {"csrf_token": csrf_token(client, "/edit/articles"), **ARTICLE, **extra}


def _page_fields(html: str) -> dict[str, str]:
    """The proposal fields a browser would send back: inputs and the hidden feature textareas."""
    fields = {}
    for name, value in re.findall(r'<input[^>]*name="(p\d+_\w+|proposals)"[^>]*value="([^"]*)"', html):
        fields[name] = value
    for name, value in re.findall(r'<textarea name="(p\d+_feature)" hidden>(.*?)</textarea>', html, re.S):
        fields[name] = value
    import html as html_module

    return {name: html_module.unescape(value) for name, value in fields.items()}


def test_the_page_is_for_editors(app: Flask, users: dict[str, Any]) -> None:
    anonymous = app.test_client().get("/edit/articles")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    page = _logged_in(app, users).get("/edit/articles")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.get_data(as_text=True)


def test_the_page_refuses_a_post_without_csrf(app: Flask, users: dict[str, Any]) -> None:
    client = _logged_in(app, users)
    assert client.post("/edit/articles", data=ARTICLE).status_code == 400


def test_propose_then_accept_makes_one_draft_with_a_revision(app: Flask, users: dict[str, Any]) -> None:
    client = _logged_in(app, users, "admin")  # even an admin's accepted proposal is a draft
    proposed = client.post("/edit/articles", data=_form(client))
    assert proposed.status_code == 200
    html = proposed.get_data(as_text=True)
    assert "Pjöngjang" in html and "Accept" in html
    assert _counts(app) == (0, 0)

    fields = _page_fields(html)
    assert fields["proposals"] == "2"
    fields["p1_title"] = "Putin setzt das Abkommen in Kraft"
    accepted = client.post("/edit/articles", data={**_form(client), **fields, "accept": "1"})
    assert accepted.status_code == 200
    with app.app_context():
        (event,) = db.session.scalars(select(Event)).all()
        assert event.status == "draft"
        assert event.title == "Putin setzt das Abkommen in Kraft"
        assert (event.start, event.end, event.date_precision) == ("2024-11-09", "2024-11-10", "day")
        assert event.actors == ["Kremlin"]
        assert event.description.startswith("„Der Kreml veröffentlichte")
        assert [(s.url, s.outlet, s.published) for s in event.sources] == [
            ("https://example.org/kursk", "Example News", "2024-11-11")
        ]
        revisions = db.session.scalars(select(Revision).where(Revision.event_pk == event.pk)).all()
        assert [r.action for r in revisions] == ["create"]
        event_id = event.id
    page = accepted.get_data(as_text=True)
    assert f'href="/edit/events/{event_id}"' in page
    # the other proposal is still there to accept; a second click on the first makes no second draft
    again = client.post("/edit/articles", data={**_form(client), **_page_fields(page), "accept": "1"})
    assert again.status_code == 200
    assert _counts(app) == (1, 1)
    assert client.get(f"/edit/events/{event_id}").status_code == 200


def test_a_proposal_without_a_place_is_not_saved_until_one_is_given(
    app: Flask, users: dict[str, Any]
) -> None:
    client = _logged_in(app, users)
    article = {"text": "Am 9. November wurde das Gesetz unterzeichnet, heißt es."}
    html = client.post("/edit/articles", data=_form(client, **article)).get_data(as_text=True)
    fields = _page_fields(html)
    assert fields["p0_lon"] == "" and fields["p0_lat"] == ""
    refused = client.post("/edit/articles", data={**_form(client, **article), **fields, "accept": "0"})
    assert refused.status_code == 422
    assert "geometry" in refused.get_data(as_text=True)
    assert _counts(app) == (0, 0)
    fields.update(p0_lon="37.6178", p0_lat="55.7520", p0_place="Moskau")
    saved = client.post("/edit/articles", data={**_form(client, **article), **fields, "accept": "0"})
    assert saved.status_code == 200
    assert _counts(app) == (1, 1)


def test_the_page_says_what_is_wrong(app: Flask, users: dict[str, Any]) -> None:
    client = _logged_in(app, users)
    too_long = client.post("/edit/articles", data=_form(client, text="Im Juni geschah es. " * 400))
    assert too_long.status_code == 413
    assert "6000" in too_long.get_data(as_text=True)
    bad_date = client.post("/edit/articles", data=_form(client, published="gestern"))
    assert bad_date.status_code == 422
    assert "error-published" in bad_date.get_data(as_text=True)
    russian = "Путин подписал договор в июне."
    unknown = client.post("/edit/articles", data=_form(client, lang="", text=russian))
    assert unknown.status_code == 200
    assert 'id="article-notice"' in unknown.get_data(as_text=True)
    assert _counts(app) == (0, 0)


def test_a_german_editor_reads_what_is_wrong_in_german(app: Flask, users: dict[str, Any]) -> None:
    client = _logged_in(app, users)
    client.post("/language", data={"lang": "de", "csrf_token": csrf_token(client, "/edit/articles")})
    form = _form(client, published="gestern", url="ftp://example.org/a")
    html = client.post("/edit/articles", data=form).get_data(as_text=True)
    assert "Geben Sie den Tag der Veröffentlichung ein, etwa 2024-11-11 („gestern“ ist keiner)" in html
    assert "Geben Sie eine Webadresse ein, die mit http:// oder https:// beginnt" in html
    assert "is not a day" not in html and "Enter the day" not in html
    too_long = client.post("/edit/articles", data=_form(client, text="Im Juni geschah es. " * 400))
    assert "Der Artikel ist länger als 6000 Zeichen" in too_long.get_data(as_text=True)
    assert _counts(app) == (0, 0)


def test_article_text_is_escaped_on_the_page(app: Flask, users: dict[str, Any]) -> None:
    client = _logged_in(app, users)
    text = "Am 9. November kam <script>alert('x')</script> nach Pjöngjang, sagte Putin."
    html = client.post("/edit/articles", data=_form(client, text=text, lang="de")).get_data(as_text=True)
    assert "<script>alert" not in html
    feature = json.loads(_page_fields(html)["p0_feature"])
    assert "<script>alert('x')</script>" in feature["proposal"]["sentence"]


def test_the_page_is_in_german(app: Flask, users: dict[str, Any]) -> None:
    client = _logged_in(app, users)
    client.post("/language", data={"lang": "de", "csrf_token": csrf_token(client, "/edit/articles")})
    html = client.get("/edit/articles", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Ereignisse aus einem Artikel" in html


@pytest.mark.parametrize(
    "tampered",
    [
        '{"type": "Feature", "properties": ["x"], "geometry": "here", "proposal": 3}',
        '{"type": "Feature", "properties": {"title": 5, "status": "published"},'
        ' "geometry": {"coordinates": 1}}',
        "[1, 2]",
        "not json",
    ],
)
def test_a_tampered_proposal_is_refused_and_saves_nothing(
    app: Flask, users: dict[str, Any], tampered: str
) -> None:
    client = _logged_in(app, users)
    fields = {"proposals": "1", "p0_feature": tampered, "accept": "0"}
    response = client.post("/edit/articles", data={**_form(client), **fields})
    assert response.status_code in (400, 422)
    assert _counts(app) == (0, 0)
