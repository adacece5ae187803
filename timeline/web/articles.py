"""From a pasted news article to draft events: the proposals API and the editor's page, kept thin.

``POST /api/articles/proposals`` answers the proposals :mod:`geodata.articles` reads from an
article (dated sentences with their places and actors, each a GeoJSON Feature of a draft) and
saves nothing. ``/edit/articles`` is the same for people: paste, read the proposals, correct one
and *Accept* it, which creates a draft through the normal write path
(:func:`timeline.domain.editing.create_event`: checked by ``parse_feature``, with a revision).
The gazetteer is ``GAZETTEER_PATH``, the actors list ``ARTICLE_ACTORS_PATH`` (else the shipped
``geodata/data/actors.csv``), and an article may have ``ARTICLE_MAX_CHARS`` characters (50,000).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from geodata.articles import (
    LANGUAGES,
    NOTICE_PLACES_LIMITED,
    NOTICE_UNKNOWN_LANGUAGE,
    ArticleSource,
    Extraction,
    shared_extractor,
)
from geodata.dates import DateError, parse_partial_date
from geodata.gazetteer import Gazetteer, GazetteerError, default_path, open_gazetteer
from timeline.domain import editing
from timeline.domain.accounts import acting_user, require
from timeline.domain.features import BROKEN_TEXT, N_, TOO_LONG, FeatureError, Problem, parse_feature
from timeline.domain.fields import SOURCE_LIMITS
from timeline.domain.input_gate import text_problem
from timeline.infra.errors import error_response
from timeline.store.db import db
from timeline.web.event_form import errors_by_field

bp = Blueprint("articles", __name__)

DEFAULT_MAX_CHARS = 50_000
NOTICE_NO_PLACES = "place index unavailable"
COORDINATES_AS_NUMBERS = N_("Enter the longitude and latitude as numbers, e.g. 35.27 and 51.19")


# ---------------------------------------------------------------------------- reading the request


@dataclass
class ArticleInput:
    """An article as the editor gave it; ``problems`` says what is wrong with it, field by field."""

    text: str = ""
    published: str = ""
    url: str = ""
    outlet: str = ""
    title: str = ""
    lang: str = ""
    problems: list[Problem] = field(default_factory=list)
    too_long: bool = False

    def source(self) -> ArticleSource:
        return ArticleSource(date.fromisoformat(self.published), self.url or None, self.outlet, self.title)


def max_chars() -> int:
    return int(current_app.config.get("ARTICLE_MAX_CHARS") or DEFAULT_MAX_CHARS)


def read_article(raw: dict[str, Any]) -> ArticleInput:
    """Check every field of a submitted article and collect what is wrong (nothing is raised)."""
    article = ArticleInput()
    problems = article.problems

    def text_field(name: str, required: bool = False, limit: int | None = None) -> str:
        value = raw.get(name)
        if value is None or value == "":
            if required:
                problems.append(Problem(name, N_("Fill in this field")))
            return ""
        if not isinstance(value, str):
            problems.append(Problem(name, N_("Send this as a string")))
            return ""
        if problem := text_problem(value):
            problems.append(Problem(name, BROKEN_TEXT, detail=problem))
            return ""
        if limit is not None and len(value) > limit:
            problems.append(Problem(name, TOO_LONG, {"limit": limit, "length": len(value)}))
            return ""
        return value.strip()

    article.text = text_field("text", required=True)
    if len(article.text) > max_chars():
        article.too_long = True
    elif not article.text and not any(p.field == "text" for p in problems):
        problems.append(Problem("text", N_("Paste the article's text")))
    article.published = text_field("published", required=True)
    if article.published:
        try:
            if parse_partial_date(article.published).precision != "day":
                raise DateError("must be a day")
        except DateError:
            problems.append(
                Problem(
                    "published",
                    N_("Enter the day it was published, such as 2024-11-11 (“%(value)s” is not one)"),
                    {"value": article.published},
                )
            )
            article.published = ""
    article.url = text_field("url", limit=SOURCE_LIMITS["url"])
    if article.url and not article.url.lower().startswith(("http://", "https://")):
        problems.append(Problem("url", N_("Enter a web address that starts with http:// or https://")))
    article.outlet = text_field("outlet", limit=SOURCE_LIMITS["outlet"])
    article.title = text_field("title", limit=SOURCE_LIMITS["title"])
    article.lang = text_field("lang", limit=35)
    return article


def _extract(article: ArticleInput) -> Extraction:
    """The proposals for a checked article; without a place index, still the dates, with a notice."""
    configured = current_app.config.get("GAZETTEER_PATH")
    gazetteer: Gazetteer | None
    try:
        gazetteer = open_gazetteer(Path(configured) if configured else default_path(), wait=False)
    except GazetteerError as exc:  # IndexNotReady included: a build runs, try again in a minute
        current_app.logger.warning("articles: no place index: %s", exc)
        gazetteer = None
    actors = current_app.config.get("ARTICLE_ACTORS_PATH")
    extractor = shared_extractor(gazetteer, Path(actors) if actors else None)
    extraction = extractor.propose(article.text, article.source(), lang=article.lang or None)
    if gazetteer is None and extraction.notice is None:
        extraction.notice = NOTICE_NO_PLACES
    return extraction


def _notice_text(code: str | None) -> str | None:
    """The notice in the interface language."""
    if code == NOTICE_UNKNOWN_LANGUAGE:
        return str(
            _(
                "The text is in a language the extractor does not read (it reads German and English),"
                " so there are no proposals. Add events by hand."
            )
        )
    if code == NOTICE_PLACES_LIMITED:
        return str(
            _(
                "The article names too many capitalised words to look them all up:"
                " places were looked up for its first part only."
            )
        )
    if code == NOTICE_NO_PLACES:
        return str(_("The place index is not ready yet: places were not looked up. Try again in a minute."))
    return None


# ---------------------------------------------------------------------------- the API


@bp.post("/api/articles/proposals")
@require("editor")
def propose() -> ResponseReturnValue:
    """Proposed draft events for an article (nothing is saved)."""
    if not request.mimetype or not request.mimetype.endswith("json"):
        return error_response(415, "unsupported media type", "send the article as JSON (application/json)")
    raw = request.get_json(silent=True)
    if not isinstance(raw, dict):
        return error_response(
            400, "bad request", "the body must be a JSON object: {text, published, url, outlet, title, lang?}"
        )
    article = read_article(raw)
    if article.too_long:
        limit = max_chars()
        detail = f"the text has {len(article.text)} characters; at most {limit} are read"
        return error_response(413, "article too large", detail, limit=limit)
    if article.problems:
        return error_response(
            422, "invalid article", "; ".join(str(p) for p in article.problems),
            problems=[p.as_dict() for p in article.problems],
        )  # fmt: skip
    extraction = _extract(article)
    body: dict[str, Any] = {"lang": extraction.lang, "proposals": extraction.proposals}
    if extraction.notice:
        body["notice"] = _notice_text(extraction.notice)
        body["notice_code"] = extraction.notice
    response: Response = jsonify(body)
    return response


# ---------------------------------------------------------------------------- the editor's page


@dataclass
class ProposalCard:
    """One proposal as the page shows it: editable fields, and the draft it became once accepted."""

    index: int
    feature: dict[str, Any]
    values: dict[str, str]
    event_id: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def proposal(self) -> dict[str, Any]:
        return _object(self.feature.get("proposal"))


def _object(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (a page's hidden field may be tampered with)."""
    return value if isinstance(value, dict) else {}


def _card(index: int, feature: dict[str, Any]) -> ProposalCard:
    props = _object(feature.get("properties"))
    coordinates = _object(feature.get("geometry")).get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) != 2:
        coordinates = ["", ""]
    values = {
        "title": str(props.get("title") or ""),
        "start": str(props.get("start") or ""),
        "end": str(props.get("end") or ""),
        "date_precision": str(props.get("date_precision") or "day"),
        "place": str(props.get("place") or ""),
        "lon": str(coordinates[0]),
        "lat": str(coordinates[1]),
    }
    return ProposalCard(index, feature, values)


def _posted_cards() -> list[ProposalCard]:
    """The proposals the page showed, as the editor may have corrected them."""
    cards = []
    count = _int(request.form.get("proposals")) or 0
    for index in range(min(count, 2000)):
        try:
            feature = json.loads(request.form.get(f"p{index}_feature", ""))
        except ValueError:
            continue
        if not isinstance(feature, dict):
            continue
        card = _card(index, feature)
        for name in card.values:
            posted = request.form.get(f"p{index}_{name}")
            if posted is not None:
                card.values[name] = posted.strip()
        card.event_id = request.form.get(f"p{index}_event") or None
        cards.append(card)
    return cards


def _accepted_feature(card: ProposalCard) -> dict[str, Any]:
    """The draft's Feature: the proposal, with the editor's corrections, always a draft."""
    props = dict(_object(card.feature.get("properties")))
    values = card.values
    props.update(
        title=values["title"],
        start=values["start"] or None,
        end=values["end"] or None,
        date_precision=values["date_precision"] or None,
        place=values["place"],
        status="draft",
    )
    geometry: dict[str, Any] | None = None
    if values["lon"] or values["lat"]:
        try:
            lon, lat = float(values["lon"]), float(values["lat"])
        except ValueError:
            raise FeatureError([Problem("geometry", COORDINATES_AS_NUMBERS)]) from None
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise FeatureError([Problem("geometry", COORDINATES_AS_NUMBERS)])
        geometry = {"type": "Point", "coordinates": [lon, lat]}
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _render(
    article: ArticleInput, cards: list[ProposalCard] | None, notice: str | None = None, status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "editor/article.html",
            article=article,
            errors=errors_by_field(article.problems),
            cards=cards,
            notice=notice,
            languages=LANGUAGES,
            limit=max_chars(),
        ),
        status,
    )


@bp.route("/edit/articles", methods=["GET", "POST"])
@require("editor")
def article_page() -> ResponseReturnValue:
    """Paste an article, read its proposals, accept the ones worth keeping (each becomes a draft)."""
    if request.method == "GET":
        return _render(ArticleInput(published=date.today().isoformat()), None)
    article = read_article(request.form.to_dict())
    if article.too_long:
        too_long = N_("The article is longer than %(limit)s characters; paste a part of it.")
        article.problems.append(Problem("text", too_long, {"limit": max_chars()}))
        return _render(article, None, status=413)
    if article.problems:
        return _render(article, None, status=422)
    accept = request.form.get("accept")
    if accept is None:
        extraction = _extract(article)
        cards = [_card(i, feature) for i, feature in enumerate(extraction.proposals)]
        return _render(article, cards, _notice_text(extraction.notice))
    cards = _posted_cards()
    chosen = next((card for card in cards if str(card.index) == accept), None)
    if chosen is None:
        return error_response(400, "bad request", "the proposal to accept is not on the page; propose again")
    if chosen.event_id:
        return _render(article, cards)  # accepted already (a second click): one draft is enough
    try:
        data = parse_feature(_accepted_feature(chosen))
        event = editing.create_event(db.session, data, acting_user())
    except FeatureError as exc:
        chosen.errors = [f"{name}: {text}" for name, text in errors_by_field(exc.problems).items()]
        return _render(article, cards, status=422)
    chosen.event_id = event.id
    return _render(article, cards)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
