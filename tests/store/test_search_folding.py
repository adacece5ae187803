"""The words of timeline/store/folding.py are the words both backends index, for every code point.

Search answers agree between SQLite and PostgreSQL only if both see the same words: SQLite's FTS5
tokenizer must keep the words the app hands it as they are, and PostgreSQL's SQL function (migration
0009, with the server's unaccent) must make the same words as the app's Python.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import text

from timeline.store import folding
from timeline.store.db import db
from timeline.store.folding import search_text, search_words

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0009_full_text_search.py"
CODE_POINTS = [c for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF]


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("migration_0009", MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _texts(size: int = 4096) -> Iterator[str]:
    """Every code point, each inside a word and alone, ``size`` of them to a text."""
    for i in range(0, len(CODE_POINTS), size):
        yield " ".join(f"q{chr(c)}q {chr(c)}" for c in CODE_POINTS[i : i + size])


EXAMPLES = [
    ("Angriff auf die Hauptstraße", ["angriff", "auf", "die", "hauptstrasse"]),
    ("STRASSE Straße straße", ["strasse", "strasse", "strasse"]),
    ("«Суджа» — СУДЖА", ["суджа", "суджа"]),
    ("Café, Łódź; Ærø", ["cafe", "lodz", "aero"]),
    ("ёлка Йошкар-Ола", ["елка", "йошкар", "ола"]),  # ё loses its dots, й keeps its breve
    ("ΣΥΝΟΡΑ σύνορα", ["συνορα", "συνορα"]),
    ("news.example.org/x?q=1", ["news", "example", "org", "x", "q", "1"]),
    ("l'explosion (M2)", ["l", "explosion", "m2"]),
    ("©BBC ½", ["c", "bbc", "1", "2"]),
    ("x" * 250, ["x" * folding.MAX_WORD]),
    ("!!! ...", []),
    ("Straße Σίσυφος ﬁnal µ", ["strasse", "σισυφοσ", "final", "μ"]),
]


@pytest.mark.parametrize(("written", "words"), EXAMPLES)
def test_words_are_folded_and_split_alike_for_index_and_query(written, words):
    assert search_words(written) == words


@pytest.mark.backends("postgis")
def test_postgres_makes_the_same_words_of_everyday_text(app):
    """Text with ß or ς and none of tl_casefold's rarer characters takes a quicker path there."""
    with app.app_context():
        for written, words in EXAMPLES:
            made = db.session.execute(text("SELECT tl_search_words(:t)"), {"t": written}).scalar()
            assert made == " ".join(words), written
        db.session.remove()


def test_the_migration_splits_words_where_the_app_does():
    migration = _migration()
    assert migration.SEPARATORS == folding._SEPARATORS
    assert migration.MAX_WORD == folding.MAX_WORD


def test_the_quick_path_for_common_text_folds_as_the_full_tables():
    """Text within the BMP takes regular expressions Python's re runs far faster (see folding.py)."""
    for written in _texts():
        if max(written) > "\uffff":
            break
        slow = [
            w[: folding.MAX_WORD] for w in folding._WORD.findall(written.casefold().translate(folding._FOLD))
        ]
        assert search_words(written) == slow


def test_sqlite_tokenizer_keeps_the_apps_words_as_they_are():
    """unicode61 (as migration 0009 configures it) splits the app's text exactly into its words."""
    connection = sqlite3.connect(":memory:")
    connection.execute(f"CREATE VIRTUAL TABLE words USING fts5(doc, {_migration()._TOKENIZE})")
    connection.execute("CREATE VIRTUAL TABLE tokens USING fts5vocab(words, 'instance')")
    texts = list(_texts())
    connection.executemany("INSERT INTO words (rowid, doc) VALUES (?, ?)", enumerate(map(search_text, texts)))
    found: dict[int, list[str]] = {}
    for doc, term in connection.execute("SELECT doc, term FROM tokens ORDER BY doc, offset"):
        found.setdefault(doc, []).append(term)
    for i, written in enumerate(texts):
        assert found.get(i, []) == search_words(written), written[:60]


@pytest.mark.backends("postgis")
def test_postgres_makes_the_apps_words_from_every_character(app):
    """``tl_search_words`` (tl_casefold, the server's unaccent, the separators) equals the Python."""
    texts = list(_texts())
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT tl_search_words(t) FROM unnest(CAST(:texts AS text[])) WITH ORDINALITY AS x(t, n)"
                " ORDER BY n"
            ),
            {"texts": texts},
        ).scalars()
        made = list(rows)
        db.session.remove()
    for written, words in zip(texts, made, strict=True):
        assert words == search_text(written), written[:60]
