"""Draft events from a news article: the seed report's five events come out with their dates,
precisions and places; relative dates are resolved against the publication date; English works;
a language the rules do not know gives no proposals and a notice.

The real gazetteer index is built once into pytest's cache folder (as in test_gazetteer.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from helpers import SEED_NAME, seed_article

from geodata.articles import (
    NOTICE_UNKNOWN_LANGUAGE,
    ArticleExtractor,
    ArticleSource,
    detect_language,
    find_dates,
    load_actors,
    split_sentences,
)
from geodata.gazetteer import Gazetteer, ensure_index, haversine_km

SEED = seed_article() or Path("/nonexistent") / SEED_NAME
# The seed report appeared on Monday, 11 November 2024 (the demo story cites it so).
PUBLISHED = date(2024, 11, 11)
SOURCE = ArticleSource(
    PUBLISHED, "https://example.org/kursk", "Example News", "Russland zieht Soldaten zusammen"
)

KURSK_CITY = (36.19, 51.73)
PYONGYANG = (125.75432, 39.03385)
MOSCOW = (37.61781, 55.75204)


@pytest.fixture(scope="session")
def gazetteer(request: pytest.FixtureRequest) -> Gazetteer:
    return Gazetteer(ensure_index(Path(request.config.cache.mkdir("gazetteer")) / "gazetteer.sqlite"))


@pytest.fixture(scope="session")
def extractor(gazetteer: Gazetteer) -> ArticleExtractor:
    return ArticleExtractor(gazetteer)


@pytest.fixture(scope="session")
def seed_text() -> str:
    if not SEED.exists():
        pytest.skip(f"the seed article is not at {SEED}")
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_proposals(extractor: ArticleExtractor, seed_text: str) -> list[dict[str, Any]]:
    extraction = extractor.propose(seed_text, SOURCE)
    assert extraction.lang == "de" and extraction.notice is None
    return extraction.proposals


def _proposal(proposals: list[dict[str, Any]], *words: str) -> dict[str, Any]:
    """The proposal whose quoted sentence holds every one of ``words``."""
    for proposal in proposals:
        if all(word in proposal["proposal"]["sentence"] for word in words):
            return proposal
    raise AssertionError(f"no proposal quotes {words}; got {[p['proposal']['sentence'] for p in proposals]}")


def _dates(proposal: dict[str, Any]) -> tuple[str, str | None, str]:
    props = proposal["properties"]
    return props["start"], props["end"], props["date_precision"]


def _km(proposal: dict[str, Any], lon_lat: tuple[float, float]) -> float:
    lon, lat = proposal["geometry"]["coordinates"]
    return haversine_km(lon, lat, *lon_lat)


def test_the_troop_build_up_in_kursk_is_november_2024_in_kursk(seed_proposals: list[dict[str, Any]]) -> None:
    build_up = _proposal(seed_proposals, "Gegenoffensive in Kursk", "zieht Russland")
    assert _dates(build_up) == ("2024-11", None, "month")
    assert build_up["proposal"]["date_basis"] == "published"  # no date in the sentence: the report's month
    assert build_up["properties"]["place"].startswith("Kursk")
    assert _km(build_up, KURSK_CITY) < 10
    assert {"Russia", "North Korea"} <= set(build_up["properties"]["actors"])
    # the second telling, "in der Region Kursk", is the oblast
    massed = _proposal(seed_proposals, "Region Kursk", "50.000 Soldaten")
    assert _dates(massed) == ("2024-11", None, "month")
    assert massed["proposal"]["place_ref"] == "ne-admin1:RU-KRS"


def test_the_treaty_was_signed_in_june_2024_in_pyongyang(seed_proposals: list[dict[str, Any]]) -> None:
    signed = _proposal(seed_proposals, "im Juni", "Pjöngjang")
    assert _dates(signed) == ("2024-06", None, "month")
    assert signed["proposal"]["date_text"] == "im Juni"
    assert signed["properties"]["place"] == "Pjöngjang, Nordkorea"
    assert _km(signed, PYONGYANG) < 5
    # "Kim Kong Un", misspelt in the report, is still Kim Jong Un
    assert {"Vladimir Putin", "Kim Jong Un", "North Korea"} <= set(signed["properties"]["actors"])


def test_the_treaty_came_into_force_at_the_weekend_before_the_report(
    seed_proposals: list[dict[str, Any]],
) -> None:
    in_force = _proposal(seed_proposals, "Kreml", "am Wochenende")
    assert _dates(in_force) == ("2024-11-09", "2024-11-10", "day")  # Saturday and Sunday
    assert in_force["properties"]["actors"] == ["Kremlin"]
    assert in_force["proposal"]["place_basis"] == "actor"  # the Kremlin sits in Moscow
    assert _km(in_force, MOSCOW) < 5


def test_north_korean_troops_are_in_the_west_of_the_kursk_region(
    seed_proposals: list[dict[str, Any]],
) -> None:
    troops = _proposal(seed_proposals, "nordkoreanischen Soldaten", "im Westen der Region Kursk")
    assert _dates(troops) == ("2024-11", None, "month")  # "derzeit": the report's month
    assert troops["proposal"]["place_ref"] == "ne-admin1:RU-KRS"
    assert troops["properties"]["place"].startswith("Region Kursk")
    assert {"North Korea", "Russia"} <= set(troops["properties"]["actors"])


def test_october_2024_was_the_costliest_month(seed_proposals: list[dict[str, Any]]) -> None:
    october = _proposal(seed_proposals, "der vergangene Oktober")
    assert _dates(october) == ("2024-10", None, "month")
    # the sentence names no place; its paragraph is about the war in Ukraine
    assert october["properties"]["place"] == "Ukraine"
    assert october["proposal"]["place_basis"] == "paragraph"
    assert october["proposal"]["place_kind"] == "country"


def test_north_korea_sent_troops_in_the_past_weeks(seed_proposals: list[dict[str, Any]]) -> None:
    sent = _proposal(seed_proposals, "in den vergangenen Wochen")
    assert _dates(sent) == ("2024-10-14", "2024-11-11", "day")
    assert sent["proposal"]["place_ref"] == "ne-admin1:RU-KRS"


def test_an_attributive_date_does_not_date_the_sentence(seed_proposals: list[dict[str, Any]]) -> None:
    # "das im Juni vereinbarte Verteidigungsabkommen": June is when it was agreed, not put in force
    put_in_force = _proposal(seed_proposals, "im Juni vereinbarte")
    assert put_in_force["proposal"]["dates"][0]["attributive"] is True
    assert _dates(put_in_force) == ("2024-11", None, "month")
    assert put_in_force["proposal"]["date_basis"] == "published"


def test_each_proposal_is_a_draft_feature_with_the_quote_and_the_article_as_source(
    seed_proposals: list[dict[str, Any]],
) -> None:
    assert len(seed_proposals) >= 5
    for proposal in seed_proposals:
        props = proposal["properties"]
        assert proposal["type"] == "Feature"
        assert props["status"] == "draft" and props["lang"] == "de"
        assert props["description"] == f"„{proposal['proposal']['sentence']}“"
        assert props["sources"] == [
            {"url": "https://example.org/kursk", "outlet": "Example News",
             "title": "Russland zieht Soldaten zusammen", "published": "2024-11-11"}
        ]  # fmt: skip
        assert 0 < len(props["title"]) <= 140
    # headings and a quoted newspaper name are not events or places
    assert not any(p["proposal"]["sentence"] == "Tausende Soldaten aus Nordkorea" for p in seed_proposals)
    assert not any("New York" in place["label"] for p in seed_proposals for place in p["proposal"]["places"])


@pytest.mark.parametrize(
    "lang, sentence, start, end, precision",
    [
        ("de", "Das geschah am 9. November.", "2024-11-09", None, "day"),
        ("de", "Das geschah im Oktober 2024.", "2024-10", None, "month"),
        ("de", "Im Juni kam er.", "2024-06", None, "month"),
        ("de", "Im Dezember soll er kommen.", "2024-12", None, "month"),  # nearer ahead than behind
        ("de", "Der vergangene Oktober war schlimm.", "2024-10", None, "month"),
        ("de", "Das Gesetz erschien am Wochenende.", "2024-11-09", "2024-11-10", "day"),
        ("de", "Er kam am vergangenen Wochenende.", "2024-11-09", "2024-11-10", "day"),
        ("de", "Sie kamen in den vergangenen Wochen.", "2024-10-14", "2024-11-11", "day"),
        ("de", "Es war in der vergangenen Woche.", "2024-11-04", "2024-11-10", "day"),
        ("de", "Vom 9. bis 10. November tagte es.", "2024-11-09", "2024-11-10", "day"),
        ("de", "Die Verluste seit Februar 2022 steigen.", "2022-02", "2024-11", "month"),
        ("de", "Gestern fiel die Entscheidung.", "2024-11-10", None, "day"),
        ("de", "Im Jahr 2023 begann es.", "2023", None, "year"),
        ("en", "It happened on 9 November.", "2024-11-09", None, "day"),
        ("en", "It happened in June 2024.", "2024-06", None, "month"),
        ("en", "It happened on November 9, 2023.", "2023-11-09", None, "day"),
        ("en", "Last October was the worst.", "2024-10", None, "month"),
        ("en", "They met last week.", "2024-11-04", "2024-11-10", "day"),
        ("en", "They meet this weekend.", "2024-11-16", "2024-11-17", "day"),
        ("en", "They met at the weekend.", "2024-11-09", "2024-11-10", "day"),
        ("en", "In recent weeks it grew.", "2024-10-14", "2024-11-11", "day"),
    ],
)
def test_date_expressions_resolve_against_the_publication_date(
    lang: str, sentence: str, start: str, end: str | None, precision: str
) -> None:
    found = find_dates(sentence, lang, PUBLISHED)
    assert len(found) == 1, found
    mention = found[0]
    assert (mention.start.isoformat(), mention.end.isoformat() if mention.end else None) == (start, end)
    assert mention.precision == precision


def test_numbers_that_are_not_years_are_not_dates() -> None:
    assert (
        find_dates("Es waren 10.000 Soldaten und 1500 Getötete, rund 700.000 insgesamt.", "de", PUBLISHED)
        == []
    )
    assert find_dates("They may come; the mai tai is a drink.", "en", PUBLISHED) == []


def test_sentences_split_at_their_ends_but_not_after_ordinals_or_abbreviations() -> None:
    text = "Er kam am 9. November. Dann kamen u. a. Soldaten.\nÜberschrift ohne Punkt\nDas war 2024. Ende."
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Er kam am 9. November.",
        "Dann kamen u. a. Soldaten.",
        "Überschrift ohne Punkt",
        "Das war 2024.",
        "Ende.",
    ]
    assert [s.heading for s in sentences] == [False, False, True, False, False]
    assert [s.paragraph for s in sentences] == [0, 0, 1, 2, 2]


ENGLISH = "\n".join(
    [
        "Russia masses troops for Kursk counteroffensive",
        "Russia has gathered about 50,000 soldiers in the Kursk region, US officials said on Sunday."
        " President Vladimir Putin signed the defence treaty with North Korea in Pyongyang in June 2024."
        " Ukrainian forces entered Sudzha on 6 August."
        " Last week, North Korean soldiers were seen near Korenevo."
        " Tony Radakin spoke to the BBC yesterday.",
    ]
)


def test_an_english_article(extractor: ArticleExtractor) -> None:
    extraction = extractor.propose(ENGLISH, ArticleSource(PUBLISHED))
    assert extraction.lang == "en"
    proposals = extraction.proposals
    massed = _proposal(proposals, "Kursk region")
    assert _dates(massed) == ("2024-11-10", None, "day")  # "on Sunday"
    assert massed["proposal"]["place_ref"] == "ne-admin1:RU-KRS"
    treaty = _proposal(proposals, "Pyongyang")
    assert _dates(treaty) == ("2024-06", None, "month")
    assert _km(treaty, PYONGYANG) < 5
    assert treaty["properties"]["description"] == f"“{treaty['proposal']['sentence']}”"
    # a small town named without a preposition counts when the article is about its region
    sudzha = _proposal(proposals, "Sudzha")
    assert _dates(sudzha) == ("2024-08-06", None, "day")
    assert _km(sudzha, (35.271, 51.191)) < 5
    seen = _proposal(proposals, "Korenevo")
    assert _dates(seen) == ("2024-11-04", "2024-11-10", "day")
    assert {"North Korea"} <= set(seen["properties"]["actors"])
    # a first name and a broadcaster are no places (not Tonj in South Sudan, not Bratislava's "BC")
    radakin = _proposal(proposals, "Radakin")
    assert all(place["kind"] != "city" for place in radakin["proposal"]["places"])


@pytest.mark.parametrize(
    "text",
    [
        "Путин подписал договор с Северной Кореей в Пхеньяне в июне, сообщил Кремль в выходные.",
        "Le président a signé le traité à Pyongyang en juin de cette année pour la coopération militaire.",
        "1234 5678 90",
    ],
)
def test_a_language_the_rules_do_not_know_gives_no_proposals_and_a_notice(
    extractor: ArticleExtractor, text: str
) -> None:
    extraction = extractor.propose(text, SOURCE)
    assert extraction.proposals == []
    assert extraction.notice == NOTICE_UNKNOWN_LANGUAGE


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Am 9. November kam Putin nach Pjöngjang.", "de"),
        ("Putin came to Pyongyang on 9 November.", "en"),
        ("Putin Pjöngjang 9. November.", None),
        ("Der Präsident and minister.", None),
    ],
)
def test_short_texts_are_recognised_by_one_common_word(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang


def test_an_asked_language_overrides_recognition(extractor: ArticleExtractor, seed_text: str) -> None:
    assert detect_language(seed_text) == "de"
    assert extractor.propose(seed_text, SOURCE, lang="fr").notice == NOTICE_UNKNOWN_LANGUAGE


def test_a_5000_character_article_is_read_whole(extractor: ArticleExtractor, seed_text: str) -> None:
    last = "Am 9. November 2024 besuchte Selenskyj Kiew."
    text = (seed_text + "\n") * 2
    text = text[: 5000 - len(last) - 1].rsplit("\n", 1)[0].ljust(5000 - len(last) - 1) + "\n" + last
    assert len(text) == 5000
    extraction = extractor.propose(text, SOURCE)
    assert extraction.lang == "de"
    assert len(extraction.proposals) > len(extractor.propose(seed_text, SOURCE).proposals)
    final = extraction.proposals[-1]
    assert final["proposal"]["sentence"] == last
    assert _dates(final) == ("2024-11-09", None, "day")
    assert final["properties"]["actors"] == ["Volodymyr Zelensky"]
    assert _km(final, (30.5238, 50.45466)) < 5


def test_the_actor_list_is_editable(gazetteer: Gazetteer, tmp_path: Path) -> None:
    path = tmp_path / "actors.csv"
    path.write_text(
        "name,kind,seat,aliases_de,aliases_en,aliases_ru,aliases_uk\n"
        "Tony Radakin,person,London,Radakin,Tony Radakin,,\n",
        encoding="utf-8",
    )
    actors = load_actors(path)
    assert [a.name for a in actors] == ["Tony Radakin"]
    extraction = ArticleExtractor(gazetteer, actors).propose(
        "Der Minister Radakin sprach am Montag in London über die Verluste der Russen.", SOURCE
    )
    (proposal,) = extraction.proposals
    assert proposal["properties"]["actors"] == ["Tony Radakin"]  # Russia is no longer on the list
    assert _dates(proposal) == ("2024-11-11", None, "day")
    assert proposal["properties"]["place"].startswith("London")


def test_the_shipped_actor_list_knows_the_story() -> None:
    names = {actor.name for actor in load_actors()}
    assert {
        "Russia",
        "Ukraine",
        "North Korea",
        "Vladimir Putin",
        "Kim Jong Un",
        "Volodymyr Zelensky",
    } <= names
    zelensky = next(a for a in load_actors() if a.name == "Volodymyr Zelensky")
    assert {"Selenskyj", "Zelensky", "Зеленский", "Зеленський"} <= set(zelensky.aliases)


def test_a_wall_of_capitalised_words_stops_looking_places_up_and_says_so(
    gazetteer: Gazetteer, seed_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geodata.articles

    monkeypatch.setattr(geodata.articles, "MAX_PLACE_LOOKUPS", 5)
    extraction = ArticleExtractor(gazetteer).propose(seed_text, SOURCE)
    assert extraction.notice == geodata.articles.NOTICE_PLACES_LIMITED
    # the dates are still read; only the places of the later sentences are missing
    assert _proposal(extraction.proposals, "der vergangene Oktober")["properties"]["start"] == "2024-10"
    assert any(p["geometry"] is None for p in extraction.proposals)
