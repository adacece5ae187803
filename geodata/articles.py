"""From a news article to draft events: dated sentences, their places and their actors.

An editor reading a report ("Putin hatte das Abkommen im Juni bei einem Besuch in Pjöngjang …
unterzeichnet") should not retype what the text already says. :class:`ArticleExtractor` splits an
article into sentences and proposes one draft event per sentence that carries a date:

* **Dates** are read by rules, in German and English, and resolved against the publication date:
  absolute ("am 9. November", "im Oktober 2024", "June 2024") and relative ("am Wochenende",
  "der vergangene Oktober", "in den vergangenen Wochen", "last week"), each at the precision the
  words support: a day, a month, a year, or a range of days ("am Wochenende" is a Saturday and a
  Sunday). A date that only describes a noun ("das im Juni vereinbarte Abkommen") does not date
  the sentence.
* **Places** are runs of capitalised words looked up in the offline gazetteer, with German
  endings taken off ("Kursker" → "Kursk", "Moskaus" → "Moskau") and region words heeded
  ("Region Kursk", "Kursker Gebiet" → the oblast, not the city). A small town or a country counts
  only after a preposition of place ("bei Sudscha", "in der Ukraine"), because many common words
  are also the name of some village somewhere.
* **Actors** come from a small list an editor can change (``geodata/data/actors.csv``: a name, a
  kind, a seat and aliases in German, English, Russian and Ukrainian).

A sentence with no date of its own is proposed only when it names a place and an actor (the news
of the day: dated to the publication month, and marked so). Every proposal is a GeoJSON Feature a
draft can be made from, with the sentence quoted and the article as its source; nothing is stored
here. Text in a language the rules do not know gives no proposals and a notice saying why.
Framework-free: imports neither Flask nor the store.
"""

from __future__ import annotations

import calendar
import csv
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, Protocol

from geodata.dates import PartialDate, Precision
from geodata.gazetteer import Place, haversine_km
from geodata.place_names import fold

LANGUAGES = ("de", "en")
# Up to this many words, one common word of a language (and none of the other) names it.
SHORT_TEXT_WORDS = 25
ACTORS_FILE = Path(__file__).resolve().parent / "data" / "actors.csv"
TITLE_LENGTH = 140
# How far back "in den vergangenen Wochen" / "in recent weeks" reaches, and "in den kommenden Tagen" ahead.
RECENT_WEEKS_DAYS = 28
COMING_DAYS = 7
RECENT_DAYS = 7
# A town found without a preposition of place must be at least this big to count: below it, too
# many common words and first names are the name of some town ("Teile", "Kim", "Tony").
UNQUALIFIED_POPULATION = 100_000
# ... unless it lies this close to a place the article names for sure.
WEAK_PLACE_KM = 250.0
# Distinct gazetteer lookups per article (about half a millisecond each): a real 50,000-character
# article needs a few thousand; a wall of capitalised gibberish is cut off here, not left to run.
MAX_PLACE_LOOKUPS = 6000

DateBasis = Literal["text", "published"]
PlaceBasis = Literal["sentence", "actor", "paragraph"]


class PlaceSearch(Protocol):
    """What the extractor needs of a gazetteer (:class:`geodata.gazetteer.Gazetteer` has it)."""

    def search(
        self,
        q: str,
        near: tuple[float, float] | None = None,
        bbox: Sequence[float] | None = None,
        limit: int = 10,
        lang: str = "en",
    ) -> list[Place]: ...


# ---------------------------------------------------------------------------- sentences


@dataclass(frozen=True)
class Sentence:
    """One sentence, with the paragraph it is in (a heading is a paragraph of its own)."""

    text: str
    paragraph: int
    index: int
    # A line without closing punctuation: a heading, which sums up rather than tells.
    heading: bool = False


def _word_set(words: str, folded: bool = False) -> frozenset[str]:
    """A set of words written as one string (lists of words read better that way)."""
    return frozenset(fold(w) if folded else w for w in words.split())


# Words whose trailing period does not end a sentence.
_ABBREVIATIONS = _word_set(
    "z b u a d h bzw ca dr prof nr st mr mrs ms vs etc inkl evtl ggf vgl jh jhd mio mrd"
    " no gen lt col sgt jan feb aug sept oct okt nov dec dez"
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"'“”»«‘’)]*(?=\s+)")


def split_sentences(text: str) -> list[Sentence]:
    """Paragraphs are lines; a sentence ends at . ! ? before a capital, a digit or a quote.

    Not after an abbreviation ("u. a.", "Dr.") or a German ordinal ("am 9. November").
    """
    sentences: list[Sentence] = []
    paragraphs = [line.strip() for line in text.splitlines()]
    for number, paragraph in enumerate(p for p in paragraphs if p):
        start = 0
        for match in _SENTENCE_END.finditer(paragraph):
            after = paragraph[match.end() :].lstrip()
            if not after or not (after[0].isupper() or after[0].isdigit() or after[0] in "\"„“«»'‘"):
                continue
            before = paragraph[start : match.start()]
            last_word = re.search(r"(\w+)$", before)
            if match.group().startswith(".") and last_word:
                word = last_word.group(1)
                if word.lower() in _ABBREVIATIONS or len(word) == 1 or (word.isdigit() and len(word) <= 2):
                    continue
            _add_sentence(sentences, paragraph[start : match.end()], number, False)
            start = match.end()
        heading = start == 0 and not re.search(r"[.!?:…][\"'“”»«‘’)]*$", paragraph)
        _add_sentence(sentences, paragraph[start:], number, heading)
    return sentences


def _add_sentence(sentences: list[Sentence], text: str, paragraph: int, heading: bool) -> None:
    text = " ".join(text.split())
    if text:
        sentences.append(Sentence(text, paragraph, len(sentences), heading))


# ---------------------------------------------------------------------------- language

_STOPWORDS = {
    "de": _word_set(
        "der die das und ist nicht mit von den dem sich des ein eine einen einem auf für im zu auch"
        " hat haben wird werden nach bei aus über sind war wurde als noch zum zur dass oder"
    ),
    "en": _word_set(
        "the and of to is was that for on with as by has have from at it were are be said its"
        " this which their an been will would not"
    ),
}


def detect_language(text: str) -> str | None:
    """``de`` or ``en`` by their commonest words, or None when the text is neither (or too short to tell)."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return None
    counts = {lang: sum(1 for w in words if w in stop) for lang, stop in _STOPWORDS.items()}
    (lang, best), (_, second) = sorted(counts.items(), key=lambda item: item[1], reverse=True)
    if best >= 2 and best >= 0.08 * len(words):
        return lang
    # A sentence or two has few common words: one, and none of the other language, will do.
    if best >= 1 and second == 0 and len(words) <= SHORT_TEXT_WORDS:
        return lang
    return None


# ---------------------------------------------------------------------------- dates


@dataclass(frozen=True)
class DateMention:
    """A date expression in a sentence, resolved: start, optional end, at one precision."""

    text: str
    start: PartialDate
    end: PartialDate | None
    span: tuple[int, int]
    relative: bool
    # True when the date only describes a noun ("das im Juni vereinbarte Abkommen").
    attributive: bool = False

    @property
    def precision(self) -> Precision:
        return self.start.precision


_MONTHS_DE = {
    "januar": 1, "jänner": 1, "februar": 2, "märz": 3, "april": 4, "mai": 5, "juni": 6, "juli": 7,
    "august": 8, "september": 9, "oktober": 10, "november": 11, "dezember": 12,
}  # fmt: skip
_MONTHS_EN = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
_WEEKDAYS_DE = {"montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5,
                "sonnabend": 5, "sonntag": 6}  # fmt: skip
_WEEKDAYS_EN = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
                "sunday": 6}  # fmt: skip


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


def _capitalised(words: Iterable[str]) -> str:
    # Month and weekday names are capitalised in both languages: "may" and "mai" stay words.
    return _alternatives(w[:1].upper() + w[1:] for w in words)


_YEAR = r"(?P<year>(?:1[89]|20)\d\d)(?![\d.,]\d)"
_DAY = r"(?P<day>[0-3]?\d)"


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    resolve: str  # the name of the resolver below
    relative: bool


def _rules(lang: str) -> list[_Rule]:
    months = _capitalised(_MONTHS_DE if lang == "de" else _MONTHS_EN)
    weekdays = _capitalised(_WEEKDAYS_DE if lang == "de" else _WEEKDAYS_EN)
    month = rf"(?P<month>{months})"

    def rule(pattern: str, resolve: str, relative: bool = False, flags: int = 0) -> _Rule:
        return _Rule(re.compile(pattern, flags), resolve, relative)

    i = re.IGNORECASE
    if lang == "de":
        past = r"(?i:vergangene[nmrs]?|letzte[nmrs]?|vorige[nmrs]?|zurückliegende[nmrs]?)"
        coming = r"(?i:kommende[nmrs]?|nächste[nmrs]?|folgende[nmrs]?)"
        return [
            rule(
                rf"\b(?:(?i:am|vom|dem|den)\s+)?(?P<day0>[0-3]?\d)\.?\s*(?:-|–|bis|und)\s*{_DAY}\.\s*{month}"
                rf"(?:\s+{_YEAR})?",
                "day_range",
            ),
            rule(rf"\b(?:(?i:am|vom|dem|den|seit|bis)\s+)?{_DAY}\.\s*{month}(?:\s+{_YEAR})?", "day"),
            rule(rf"\b(?:(?i:im|seit|bis|ab|anfang|mitte|ende)\s+)?{month}\s+{_YEAR}", "month"),
            rule(rf"\b(?:(?i:der|den|dem|des|im)\s+)?{past}\s+{month}\b", "past_month", True),
            rule(rf"\b(?:(?i:der|den|dem|des|im)\s+)?{coming}\s+{month}\b", "coming_month", True),
            rule(rf"\b(?i:im|seit|bis|ab|anfang|mitte|ende)\s+{month}\b", "month", True),
            rule(rf"\b(?:(?:am|an\s+diese[mn]|übe?r\s+das|{past})\s+)+Wochenende\b", "weekend", True, i),
            rule(rf"\b(?:(?:am\s+)?{coming})\s+Wochenende\b", "next_weekend", True, i),
            rule(rf"\b(?:in\s+den\s+)?{past}\s+(?:paar\s+|beiden\s+)?Wochen\b", "recent_weeks", True, i),
            rule(rf"\b(?:in\s+den\s+)?{past}\s+(?:paar\s+|beiden\s+)?Tagen?\b", "recent_days", True, i),
            rule(rf"\b(?:in\s+den\s+)?{coming}\s+(?:paar\s+)?Tagen?\b", "coming_days", True, i),
            rule(rf"\b(?:in\s+den\s+)?{coming}\s+(?:paar\s+)?Wochen\b", "coming_weeks", True, i),
            rule(rf"\b(?:(?:in\s+der|die)\s+)?{past}\s+Woche\b", "last_week", True, i),
            rule(r"\b(?:in\s+dieser|diese)\s+Woche\b", "this_week", True, i),
            rule(rf"\b(?:(?:im|den)\s+)?{past}\s+Monat\b", "last_month", True, i),
            rule(r"\b(?:in\s+diesem|diesen)\s+Monat\b", "this_month", True, i),
            rule(rf"\b(?:(?:im|das)\s+)?{past}\s+Jahr\b", "last_year", True, i),
            rule(r"\b(?:in\s+diesem|dieses)\s+Jahr\b", "this_year", True, i),
            rule(rf"\b(?:(?i:am)\s+)?{past}\s+(?P<weekday>{weekdays})\b", "weekday", True),
            rule(rf"\b(?i:am)\s+(?P<weekday>{weekdays})\b", "weekday", True),
            rule(r"\bvorgestern\b", "day_before_yesterday", True, i),
            rule(r"\bgestern\b", "yesterday", True, i),
            rule(r"\bheute\b", "today", True, i),
            rule(r"\b(?:derzeit|zurzeit|gegenwärtig|momentan|aktuell)\b", "present", True, i),
            rule(rf"\b(?:(?i:im\s+jahre?|seit|bis|ab)\s+)?{_YEAR}", "year"),
        ]
    past = r"(?i:last|past|previous)"
    coming = r"(?i:next|coming)"
    ordinal = r"(?:st|nd|rd|th)?"
    return [
        rule(
            rf"\b(?:(?i:on)\s+)?(?P<day0>[0-3]?\d){ordinal}\s*(?:-|–|and|to)\s*{_DAY}{ordinal}\s+{month}"
            rf"(?:,?\s+{_YEAR})?",
            "day_range",
        ),
        rule(
            rf"\b(?:(?i:on|since|until|from)\s+)?(?:the\s+)?{_DAY}{ordinal}\s+(?:of\s+)?{month}(?:,?\s+{_YEAR})?",
            "day",
        ),
        rule(rf"\b(?:(?i:on|since|until|from)\s+)?{month}\s+{_DAY}{ordinal}(?!\d)(?:,?\s+{_YEAR})?", "day"),
        rule(rf"\b(?:(?i:in|since|until|by|early|mid|late)[\s-]+)?{month}\s+(?:of\s+)?{_YEAR}", "month"),
        rule(rf"\b{past}\s+{month}\b", "past_month", True),
        rule(rf"\b{coming}\s+{month}\b", "coming_month", True),
        rule(rf"\b(?i:in|since|until|by|early|mid|late|this)[\s-]+{month}\b", "month", True),
        rule(rf"\b(?:(?:at|over|on)\s+the|{past})\s+weekend\b", "weekend", True, i),
        rule(r"\bthis\s+weekend\b", "this_weekend", True, i),
        rule(rf"\b{coming}\s+weekend\b", "next_weekend", True, i),
        rule(
            rf"\b(?:in|over|during)\s+(?:the\s+)?(?:recent|{past})\s+(?:few\s+|two\s+|several\s+)?weeks\b",
            "recent_weeks",
            True,
            i,
        ),
        rule(r"\bin\s+recent\s+weeks\b", "recent_weeks", True, i),
        rule(rf"\b(?:in|over|during)\s+the\s+{past}\s+(?:few\s+)?days\b", "recent_days", True, i),
        rule(rf"\b(?:in|over)\s+the\s+{coming}\s+(?:few\s+)?days\b", "coming_days", True, i),
        rule(rf"\b(?:in|over)\s+the\s+{coming}\s+(?:few\s+)?weeks\b", "coming_weeks", True, i),
        rule(rf"\b{past}\s+week\b", "last_week", True, i),
        rule(r"\bthis\s+week\b", "this_week", True, i),
        rule(rf"\b{past}\s+month\b", "last_month", True, i),
        rule(r"\bthis\s+month\b", "this_month", True, i),
        rule(rf"\b{past}\s+year\b", "last_year", True, i),
        rule(r"\bthis\s+year\b", "this_year", True, i),
        rule(rf"\b(?:(?i:on)\s+|{past}\s+)?(?P<weekday>{weekdays})\b", "weekday", True),
        rule(r"\bthe\s+day\s+before\s+yesterday\b", "day_before_yesterday", True, i),
        rule(r"\byesterday\b", "yesterday", True, i),
        rule(r"\btoday\b", "today", True, i),
        rule(r"\b(?:currently|at\s+present|presently)\b", "present", True, i),
        rule(rf"\b(?:(?i:in|since|until|by)\s+)?{_YEAR}", "year"),
    ]


_RULES = {lang: _rules(lang) for lang in LANGUAGES}
_SINCE = re.compile(r"^(?:seit|since|ab|from)\b", re.IGNORECASE)
_UNTIL = re.compile(r"^(?:bis|until|by)\b", re.IGNORECASE)
_ARTICLE_BEFORE = re.compile(r"\b(?:das|der|die|den|dem|des|ein|eine|einen|einem|eines|einer)\s+$")
_PARTICIPLE_AFTER = re.compile(r"^\s+[a-zäöüß]+(?:te|ten|tes|ter|tem|ene|enen|enes|ener|enem|ende|enden)\b")


def _day(d: date) -> PartialDate:
    return PartialDate(d, "day")


def _month(year: int, month: int) -> PartialDate:
    return PartialDate(date(year, month, 1), "month")


def _shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + by
    return index // 12, index % 12 + 1


def _nearest_year(published: date, month: int, day: int | None = None) -> int:
    """The year that puts a month (and day) given without one nearest the publication date.

    "im Juni" in November is last June; "im Dezember" in November is the coming one. A tie goes
    to the past, which is what reports mostly tell of.
    """
    best_year, best_distance = published.year, None
    for year in (published.year - 1, published.year, published.year + 1):
        last = calendar.monthrange(year, month)[1]
        moment = date(year, month, min(day, last) if day else 15)
        distance = abs((moment - published).days) + (0.5 if moment > published else 0)
        if best_distance is None or distance < best_distance:
            best_year, best_distance = year, distance
    return best_year


def _month_number(lang: str, name: str) -> int:
    return (_MONTHS_DE if lang == "de" else _MONTHS_EN)[name.lower()]


def _resolve(
    kind: str, match: re.Match[str], lang: str, published: date
) -> tuple[PartialDate, PartialDate | None] | None:
    """The start and end a matched expression stands for, or None when it names no real date."""
    groups = match.groupdict()
    year = int(groups["year"]) if groups.get("year") else None
    month = _month_number(lang, groups["month"]) if groups.get("month") else None
    pub_month = _month(published.year, published.month)
    monday = published - timedelta(days=published.weekday())
    try:
        if kind in ("day", "day_range"):
            assert month is not None
            day = int(groups["day"])
            first_day = int(groups["day0"]) if kind == "day_range" else day
            year = year or _nearest_year(published, month, day)
            last = _day(date(year, month, day))
            first = _day(date(year, month, first_day))
            if kind == "day_range" and first.first_day < last.first_day:
                return first, last
            return last, None
        if kind == "month":
            assert month is not None
            return _month(year or _nearest_year(published, month), month), None
        if kind == "past_month":
            assert month is not None
            year = published.year if month < published.month else published.year - 1
            return _month(year, month), None
        if kind == "coming_month":
            assert month is not None
            year = published.year if month > published.month else published.year + 1
            return _month(year, month), None
        if kind == "year":
            assert year is not None
            return PartialDate(date(year, 1, 1), "year"), None
    except ValueError:  # "31. Juni": no such day
        return None
    if kind == "weekend":  # the weekend under way or just past
        saturday = published - timedelta(days=(published.weekday() - 5) % 7)
        return _day(saturday), _day(saturday + timedelta(days=1))
    if kind == "this_weekend":  # the Saturday and Sunday of the publication's week
        saturday = monday + timedelta(days=5)
        return _day(saturday), _day(saturday + timedelta(days=1))
    if kind == "next_weekend":
        saturday = published + timedelta(days=(5 - published.weekday()) % 7 or 7)
        return _day(saturday), _day(saturday + timedelta(days=1))
    if kind == "recent_weeks":
        return _day(published - timedelta(days=RECENT_WEEKS_DAYS)), _day(published)
    if kind == "recent_days":
        return _day(published - timedelta(days=RECENT_DAYS)), _day(published)
    if kind == "coming_days":
        return _day(published), _day(published + timedelta(days=COMING_DAYS))
    if kind == "coming_weeks":
        return _day(published), _day(published + timedelta(days=RECENT_WEEKS_DAYS))
    if kind == "last_week":
        return _day(monday - timedelta(days=7)), _day(monday - timedelta(days=1))
    if kind == "this_week":
        return _day(monday), _day(monday + timedelta(days=6))
    if kind == "last_month":
        return _month(*_shift_month(published.year, published.month, -1)), None
    if kind in ("this_month", "present"):
        return pub_month, None
    if kind == "last_year":
        return PartialDate(date(published.year - 1, 1, 1), "year"), None
    if kind == "this_year":
        return PartialDate(date(published.year, 1, 1), "year"), None
    if kind == "weekday":  # the latest such day up to the publication
        weekdays = _WEEKDAYS_DE if lang == "de" else _WEEKDAYS_EN
        wanted = weekdays[groups["weekday"].lower()]
        return _day(published - timedelta(days=(published.weekday() - wanted) % 7)), None
    if kind == "yesterday":
        return _day(published - timedelta(days=1)), None
    if kind == "day_before_yesterday":
        return _day(published - timedelta(days=2)), None
    if kind == "today":
        return _day(published), None
    raise ValueError(f"no resolver for {kind}")


def find_dates(sentence: str, lang: str, published: date) -> list[DateMention]:
    """Every date expression in ``sentence``, resolved against ``published``, in reading order.

    Rules are tried from the most specific to the least, and a span taken by one is not read
    again ("am 9. November 2024" is one day, not also a year). "seit Februar 2022" runs from
    then to the publication; "bis …" is the date itself.
    """
    if lang not in _RULES:
        return []
    taken: list[tuple[int, int]] = []
    found: list[DateMention] = []
    for rule in _RULES[lang]:
        for match in rule.pattern.finditer(sentence):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            resolved = _resolve(rule.resolve, match, lang, published)
            if resolved is None:
                continue
            start, end = resolved
            text = match.group()
            if _SINCE.match(text) and end is None:
                until = PartialDate(published, "day").at_precision(start.precision)
                end = until if until.first_day > start.first_day else None
            attributive = bool(
                lang == "de"
                and _ARTICLE_BEFORE.search(sentence[: span[0]])
                and _PARTICIPLE_AFTER.match(sentence[span[1] :])
            )
            taken.append(span)
            found.append(DateMention(text, start, end, span, rule.relative, attributive))
    return sorted(found, key=lambda mention: mention.span)


# ---------------------------------------------------------------------------- actors


@dataclass(frozen=True)
class Actor:
    """Someone the list knows: ``kind`` is country, person or institution; ``seat`` a place name."""

    name: str
    kind: str
    seat: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class _Alias:
    words: tuple[str, ...]  # folded
    exact_case: str | None  # an acronym (USA, NATO) matches only as written
    actor: Actor


# German (and English plural) endings an alias may carry in the text: "Russlands", "nordkoreanischen".
_ENDINGS = ("", "s", "e", "es", "en", "er", "em", "n", "ns", "ern", "ers")


def load_actors(path: Path | None = None) -> list[Actor]:
    """Read the actors file: ``name,kind,seat,aliases_de,aliases_en,aliases_ru,aliases_uk``.

    Aliases are split by ``|``; any column whose name starts with ``aliases`` is read.
    """
    actors = []
    with (path or ACTORS_FILE).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            name = (row.get("name") or "").strip()
            if not name:
                continue
            aliases = [name]
            for column, value in row.items():
                if column and column.startswith("aliases") and value:
                    aliases.extend(a.strip() for a in value.split("|") if a.strip())
            actors.append(
                Actor(
                    name=name,
                    kind=(row.get("kind") or "").strip() or "other",
                    seat=(row.get("seat") or "").strip() or None,
                    aliases=tuple(dict.fromkeys(aliases)),
                )
            )
    return actors


def _alias_index(actors: Sequence[Actor]) -> dict[str, list[_Alias]]:
    index: dict[str, list[_Alias]] = {}
    for actor in actors:
        for alias in actor.aliases:
            words = tuple(fold(word) for word in _words(alias))
            if not words or not all(words):
                continue
            acronym = alias if alias.replace(".", "").isupper() and len(alias.replace(".", "")) <= 5 else None
            index.setdefault(words[0], []).append(_Alias(words, acronym, actor))
    for aliases in index.values():
        aliases.sort(key=lambda a: len(a.words), reverse=True)
    return index


def _one_letter_apart(a: str, b: str) -> bool:
    return len(a) == len(b) >= 3 and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def _word_matches(token: str, word: str, last: bool) -> bool:
    if token == word:
        return True
    if not last or len(word) < 4 or not token.startswith(word):
        return False
    return token[len(word) :] in _ENDINGS


# ---------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    text: str
    folded: str
    start: int
    end: int


def _words(text: str) -> list[str]:
    return [m.group() for m in re.finditer(r"[^\W\d_]+", text)]


def _tokens(sentence: str) -> list[_Token]:
    tokens = []
    for match in re.finditer(r"[^\W\d_]+", sentence):
        tokens.append(_Token(match.group(), fold(match.group()), match.start(), match.end()))
    return tokens


# ---------------------------------------------------------------------------- places


@dataclass(frozen=True)
class PlaceMention:
    """A place a sentence names: the words, and the gazetteer entry they were resolved to."""

    text: str
    place: Place
    span: tuple[int, int]
    # The name as the article gives it, in its base form ("Moskau" for "Moskaus"): the event's place name.
    name: str
    # A small town named without a preposition: kept only if it lies near a place found for sure.
    weak: bool = False


# Capitalised words that are no place however a gazetteer spells its villages: sentence-initial
# function words, compass points, and nouns that collide with place names.
_NOT_PLACES = _word_set(
    (
        "Der Die Das Den Dem Des Ein Eine Einen Einem Eines Er Sie Es Wir Ihr Man Mit Bei Nach Von Aus Im In"
        " Am An Auf Für Um Zu Zur Zum Vor Seit Bis Über Unter Dabei Damit Dazu Daher Doch Dies Diese Dieser"
        " Dort Hier Jetzt Noch Nur Auch Aber Und Oder Wie Wo Was Wer Als Ob So Zudem Laut Letztere Darunter"
        " Gleichwohl Weder Einige Tausende Norden Süden Osten Westen Nordosten Nordwesten Südosten Südwesten"
        " Region Gebiet Oblast Bezirk Provinz Grenzregion Land Stadt Dorf Front Grenze Teile Armee Regierung"
        " Präsident Präsidenten Machthaber Beamte Soldaten Truppen Monat Monate Monaten Jahr Woche Tag"
        " The A An He She It We They This That These Those There Here In On At By For From With After Before"
        " Since During Until Meanwhile However According Some Many North South East West Region Province"
        " President Minister Officials Troops Soldiers Army Government Monday"
    ),
    folded=True,
)
_REGION_WORDS = _word_set("Region Gebiet Oblast Bezirk Provinz Grenzregion Gebiets Regionen", folded=True)
_REGION_AFTER = _word_set("Oblast Gebiet Gebiets region province", folded=True)
_LOCATIVE = _word_set(
    (
        "in im bei beim nach nahe nahé um aus nördlich südlich östlich westlich vor auf gegen"
        " near at from into to outside around across of inside towards"
    ),
    folded=True,
)
_DETERMINERS = _word_set(
    "der die das den dem des the russische russischen ukrainische ukrainischen", folded=True
)
_QUOTES = re.compile(r"\"[^\"]*\"|„[^“”\"]*[“”\"]|“[^”]*”|«[^»]*»|»[^«]*«")
_KIND_RANK = {"custom": 0, "city": 1, "region": 2, "country": 3}


class _PlaceMatcher:
    """Runs of capitalised words resolved by the gazetteer, one lookup per distinct phrase."""

    def __init__(self, gazetteer: PlaceSearch | None, lang: str):
        self.gazetteer = gazetteer
        self.lang = lang
        self.cache: dict[str, list[Place]] = {}
        self.exhausted = False

    def lookup(self, phrase: str) -> list[Place]:
        """Places whose whole name (not a prefix) is ``phrase``, best first."""
        if self.gazetteer is None:
            return []
        key = fold(phrase)
        if len(key) < 3:  # "BBC" folds to "bc": two letters name too many places
            return []
        if key not in self.cache:
            if len(self.cache) >= MAX_PLACE_LOOKUPS:
                self.exhausted = True
                return []
            found = self.gazetteer.search(phrase, limit=10, lang=self.lang) if key else []
            self.cache[key] = [p for p in found if p.matched == key]
        return self.cache[key]

    def places(self, sentence: str, tokens: Sequence[_Token], taken: set[int]) -> list[PlaceMention]:
        quotes = [m.span() for m in _QUOTES.finditer(sentence)]
        found: list[PlaceMention] = []
        i = 0
        while i < len(tokens):
            mention, used = self._at(sentence, tokens, i, taken, quotes)
            if mention is not None:
                found.append(mention)
                i += used
            else:
                i += 1
        return found

    def _at(
        self,
        sentence: str,
        tokens: Sequence[_Token],
        i: int,
        taken: set[int],
        quotes: Sequence[tuple[int, int]],
    ) -> tuple[PlaceMention | None, int]:
        if not tokens[i].text[:1].isupper() or tokens[i].folded in _NOT_PLACES:
            return None, 1
        qualified = self._qualified(tokens, i)
        for n in (3, 2, 1):
            run = tokens[i : i + n]
            if len(run) < n or not all(t.text[:1].isupper() for t in run) or not _adjacent(sentence, run):
                continue
            if any(t.folded in _NOT_PLACES for t in run[1:]) and n > 1:
                continue
            start, end = run[0].start, run[-1].end
            # Actors' words are not places, unless a preposition says they are ("in der Ukraine").
            if any(k in taken for k in range(i, i + n)) and not qualified:
                continue
            if any(q0 <= start and end <= q1 and sentence[q0 + 1 : q1 - 1].strip() != sentence[start:end]
                   for q0, q1 in quotes):  # fmt: skip
                continue  # a name inside a quoted title ("New York Times")
            region_cue = self._region_cue(tokens, i, n)
            resolved = self._resolve(" ".join(t.text for t in run), qualified, region_cue is not None)
            if resolved is not None:
                place, name, weak = resolved
                if region_cue is not None:
                    start, end = min(start, region_cue.start), max(end, region_cue.end)
                    name = sentence[start:end]
                return PlaceMention(sentence[start:end], place, (start, end), name, weak), n
        return None, 1

    def _qualified(self, tokens: Sequence[_Token], i: int) -> bool:
        """Whether a preposition of place comes just before (over an article or adjective, a region word)."""
        j = i - 1
        while (
            j >= 0 and i - j <= 3 and (tokens[j].folded in _DETERMINERS or tokens[j].folded in _REGION_WORDS)
        ):
            j -= 1
        return j >= 0 and tokens[j].folded in _LOCATIVE

    @staticmethod
    def _region_cue(tokens: Sequence[_Token], i: int, n: int) -> _Token | None:
        """A region word just before ("Region Kursk", "Grenzregion Kursk") or after ("Kursker Gebiet")."""
        if i > 0 and (tokens[i - 1].folded in _REGION_WORDS or tokens[i - 1].folded.endswith("region")):
            return tokens[i - 1]
        if i + n < len(tokens) and tokens[i + n].folded in _REGION_AFTER:
            return tokens[i + n]
        return None

    def _resolve(self, phrase: str, qualified: bool, region: bool) -> tuple[Place, str, bool] | None:
        """The place a phrase names, the form of the phrase that named it, and whether it is weak."""
        weak: tuple[Place, str, bool] | None = None
        for variant in _case_variants(phrase):
            candidates = self.lookup(variant)
            if region:
                regions = [p for p in candidates if p.kind == "region"]
                if not regions:
                    regions = [p for p in self.lookup(f"{variant} Oblast") if p.kind == "region"]
                if regions:
                    return regions[0], variant, False
            for place in candidates:
                if _acceptable(place, qualified, variant):
                    return place, variant, False
                if weak is None and place.kind == "city":
                    weak = place, variant, True
        return weak


def _adjacent(sentence: str, run: Sequence[_Token]) -> bool:
    return all(sentence[a.end : b.start] in (" ", "-") for a, b in pairwise(run))


def _case_variants(phrase: str) -> Iterator[str]:
    """The phrase, then with a German ending off its last word ("Kursker" → "Kursk", "Moskaus" → "Moskau")."""
    yield phrase
    for ending in ("s", "er", "ers", "ern", "es"):
        if phrase.endswith(ending) and len(phrase) - len(ending) >= 4:
            yield phrase[: -len(ending)]


def _acceptable(place: Place, qualified: bool, phrase: str) -> bool:
    if place.kind == "country":
        return qualified
    if place.kind == "custom" or qualified:
        return True
    if place.kind == "region":
        return len(phrase) >= 5
    return place.population >= UNQUALIFIED_POPULATION


# ---------------------------------------------------------------------------- proposals


@dataclass(frozen=True)
class ArticleSource:
    """Where the article comes from: stored as the source of every event made from it."""

    published: date
    url: str | None = None
    outlet: str = ""
    title: str = ""

    def as_source(self) -> dict[str, Any]:
        return {"url": self.url or None, "outlet": self.outlet, "title": self.title,
                "published": self.published.isoformat()}  # fmt: skip


@dataclass
class Extraction:
    """What an article gave: the language read, the proposals, and a notice when there are none to give."""

    lang: str | None
    proposals: list[dict[str, Any]] = field(default_factory=list)
    notice: str | None = None


NOTICE_UNKNOWN_LANGUAGE = "unknown language"
NOTICE_PLACES_LIMITED = "place lookups limited"


@dataclass
class _Found:
    sentence: Sentence
    dates: list[DateMention]
    places: list[PlaceMention]
    actors: list[Actor]


class ArticleExtractor:
    """Proposes draft events for an article; share one per process (it keeps only the actor list)."""

    def __init__(self, gazetteer: PlaceSearch | None, actors: Sequence[Actor] | None = None):
        self.gazetteer = gazetteer
        self.actors = list(actors) if actors is not None else load_actors()
        self._aliases = _alias_index(self.actors)

    def propose(self, text: str, source: ArticleSource, lang: str | None = None) -> Extraction:
        """One proposal per sentence that carries a date (or names a place and an actor), in reading order."""
        lang = lang or detect_language(text)
        if lang not in LANGUAGES:
            return Extraction(lang=lang, notice=NOTICE_UNKNOWN_LANGUAGE)
        assert lang is not None
        matcher = _PlaceMatcher(self.gazetteer, lang)
        found = [self._read(sentence, lang, source.published, matcher) for sentence in split_sentences(text)]
        _drop_lone_weak_places(found)
        paragraph_places: dict[int, PlaceMention] = {}
        for item in found:
            if item.places and item.sentence.paragraph not in paragraph_places:
                paragraph_places[item.sentence.paragraph] = item.places[0]
        proposals = []
        for item in found:
            proposal = self._proposal(item, lang, source, matcher, paragraph_places)
            if proposal is not None:
                proposals.append(proposal)
        notice = NOTICE_PLACES_LIMITED if matcher.exhausted else None
        return Extraction(lang=lang, proposals=proposals, notice=notice)

    def _read(self, sentence: Sentence, lang: str, published: date, matcher: _PlaceMatcher) -> _Found:
        dates = find_dates(sentence.text, lang, published)
        tokens = _tokens(sentence.text)
        inside_dates = {
            k for k, t in enumerate(tokens) if any(d.span[0] <= t.start < d.span[1] for d in dates)
        }
        actors, actor_tokens = self._actors(tokens)
        places = matcher.places(sentence.text, tokens, actor_tokens | inside_dates)
        # A date's words are never a place ("im Juni" is not Yunji): drop what overlaps one.
        places = [
            p for p in places if not any(d.span[0] < p.span[1] and p.span[0] < d.span[1] for d in dates)
        ]
        return _Found(sentence, dates, places, actors)

    def _actors(self, tokens: Sequence[_Token]) -> tuple[list[Actor], set[int]]:
        found: list[Actor] = []
        used: set[int] = set()
        i = 0
        while i < len(tokens):
            length = self._actor_at(tokens, i, found)
            if length:
                used.update(range(i, i + length))
                i += length
            else:
                i += 1
        return found, used

    def _actor_at(self, tokens: Sequence[_Token], i: int, found: list[Actor]) -> int:
        candidates = list(self._aliases.get(tokens[i].folded, ()))
        for ending in _ENDINGS[1:]:
            if tokens[i].folded.endswith(ending):
                candidates += self._aliases.get(tokens[i].folded[: -len(ending)], ())
        for alias in sorted(candidates, key=lambda a: len(a.words), reverse=True):
            n = len(alias.words)
            run = tokens[i : i + n]
            if len(run) < n:
                continue
            if alias.exact_case is not None and " ".join(t.text for t in run) != " ".join(
                _words(alias.exact_case)
            ):
                continue
            misses = [k for k in range(n) if not _word_matches(run[k].folded, alias.words[k], k == n - 1)]
            # One letter off in one word of a long name still names it ("Kim Kong Un").
            if misses and not (
                n >= 3
                and len(misses) == 1
                and _one_letter_apart(run[misses[0]].folded, alias.words[misses[0]])
            ):
                continue
            if alias.actor not in found:
                found.append(alias.actor)
            return n
        return 0

    def _proposal(
        self,
        item: _Found,
        lang: str,
        source: ArticleSource,
        matcher: _PlaceMatcher,
        paragraph_places: dict[int, PlaceMention],
    ) -> dict[str, Any] | None:
        dating = [d for d in item.dates if not d.attributive]
        place, place_name, place_basis = self._best_place(item, matcher)
        if dating:
            mention = dating[0]
            start, end, date_text, date_basis = mention.start, mention.end, mention.text, "text"
            if place is None and item.sentence.paragraph in paragraph_places:
                setting = paragraph_places[item.sentence.paragraph]
                place, place_name, place_basis = setting.place, setting.name, "paragraph"
        elif place is not None and item.actors and not item.sentence.heading:
            # The news of the day, told without a date: dated to the month of the report.
            start, end, date_text, date_basis = (
                _month(source.published.year, source.published.month),
                None,
                "",
                "published",
            )
        else:
            return None
        sentence = item.sentence.text
        quote = f"„{sentence}“" if lang == "de" else f"“{sentence}”"
        properties: dict[str, Any] = {
            "title": _title(sentence),
            "description": quote,
            "lang": lang,
            "start": start.isoformat(),
            "end": end.isoformat() if end else None,
            "date_precision": start.precision,
            "place": _place_label(place, place_name) if place else "",
            "actors": [actor.name for actor in item.actors],
            "confidence": "reported",
            "status": "draft",
            "sources": [source.as_source()],
        }
        geometry = (
            {"type": "Point", "coordinates": [round(place.lon, 6), round(place.lat, 6)]} if place else None
        )
        return {
            "type": "Feature",
            "geometry": geometry,
            "properties": properties,
            "proposal": {
                "sentence": sentence,
                "sentence_index": item.sentence.index,
                "paragraph": item.sentence.paragraph,
                "date_text": date_text,
                "date_basis": date_basis,
                "dates": [
                    {
                        "text": d.text,
                        "start": d.start.isoformat(),
                        "end": d.end.isoformat() if d.end else None,
                        "date_precision": d.precision,
                        "attributive": d.attributive,
                    }
                    for d in item.dates
                ],
                "place_ref": place.ref if place else None,
                "place_kind": place.kind if place else None,
                "place_basis": place_basis if place else None,
                "places": [
                    {
                        "text": m.text,
                        "ref": m.place.ref,
                        "label": m.place.label,
                        "kind": m.place.kind,
                        "coordinates": [round(m.place.lon, 6), round(m.place.lat, 6)],
                    }
                    for m in item.places
                ],
            },
        }

    def _best_place(
        self, item: _Found, matcher: _PlaceMatcher
    ) -> tuple[Place | None, str, PlaceBasis | None]:
        """The most specific place the sentence names; else the seat of a person or institution in it."""
        if item.places:
            ranked = sorted(
                enumerate(item.places), key=lambda pair: (_KIND_RANK.get(pair[1].place.kind, 9), pair[0])
            )
            best = ranked[0][1]
            return best.place, best.name, "sentence"
        for actor in item.actors:
            if actor.seat and actor.kind != "country":
                seats = matcher.lookup(actor.seat)
                if seats:
                    return seats[0], seats[0].label, "actor"
        return None, "", None


def _drop_lone_weak_places(found: Sequence[_Found]) -> None:
    """Keep a small town named without a preposition only near a place the article names for sure.

    "Ukrainian forces entered Sudzha" in a report about Kursk is Sudzha; "Tony said" in the same
    report is not Tonj in South Sudan.
    """
    strong = [m.place for item in found for m in item.places if not m.weak]
    for item in found:
        item.places = [
            m
            for m in item.places
            if not m.weak
            or any(haversine_km(m.place.lon, m.place.lat, p.lon, p.lat) <= WEAK_PLACE_KM for p in strong)
        ]


def _title(sentence: str) -> str:
    text = sentence.strip().strip('"„“”»«').strip()
    if len(text) <= TITLE_LENGTH:
        return text
    cut = text[: TITLE_LENGTH - 1].rsplit(" ", 1)[0].rstrip(",;:-–")
    return cut + "…"


def _place_label(place: Place, name: str) -> str:
    """The name as the article writes it, then the region and country in the article's language."""
    parts = [name or place.label]
    if place.kind in ("city", "custom") and place.region_label:
        parts.append(place.region_label)
    if place.kind != "country" and place.country_label:
        parts.append(place.country_label)
    return ", ".join(dict.fromkeys(parts))


# ---------------------------------------------------------------------------- sharing

_EXTRACTORS: dict[tuple[int, Path, float], ArticleExtractor] = {}
_EXTRACTORS_LOCK = threading.Lock()


def shared_extractor(gazetteer: PlaceSearch | None, actors_path: Path | None = None) -> ArticleExtractor:
    """One extractor per gazetteer and actors file, read again when the file is edited."""
    path = actors_path or ACTORS_FILE
    key = (id(gazetteer), path, path.stat().st_mtime)
    with _EXTRACTORS_LOCK:
        extractor = _EXTRACTORS.get(key)
        if extractor is None:
            for old in [k for k in _EXTRACTORS if k[:2] == key[:2]]:
                del _EXTRACTORS[old]
            extractor = _EXTRACTORS[key] = ArticleExtractor(gazetteer, load_actors(path))
        return extractor
