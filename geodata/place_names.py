"""Folding place names to one Latin skeleton, so that spellings of one place compare equal.

Editors type a place in the language of their source ("Суджа", "Sudzha", "Pjöngjang", "Guyevo"),
and GeoNames stores yet other spellings. Instead of guessing a language, every name, in the index
and in a query alike, is folded the same way: case, accents and apostrophes go, Cyrillic (Russian
and Ukrainian) is transliterated, and the common romanisation variants (kh/h, j/y, y/i, ye/e,
ts/tz/c, w/v, doubled letters) collapse. The result is only a key to compare and prefix-search;
it is never shown. Framework-free: imports neither Flask nor the store.
"""

from __future__ import annotations

import re
import unicodedata

_CYRILLIC: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e", "є": "e",
    "ж": "zh", "з": "z", "и": "i", "і": "i", "ї": "i", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ў": "u", "ф": "f",
    "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya",
}  # fmt: skip

# Apostrophes and soft-sign marks that romanisations write or drop at will ("Bol'shoye").
_DROPPED = "'’ʼʻ`´\u02b9\u02ba\""

# Applied in order, on the Latin string: each folds a pair of common romanisation variants.
_VARIANTS: tuple[tuple[str, str], ...] = (
    ("shch", "sh"), ("sch", "sh"), ("kh", "h"), ("tz", "c"), ("ts", "c"), ("j", "y"),
    ("w", "v"), ("y", "i"), ("ie", "e"), ("ae", "a"), ("oe", "o"), ("ue", "u"),
)  # fmt: skip

_SEPARATORS = re.compile(r"[\s\-‐‑–—_.,/()]+")
_DOUBLED = re.compile(r"([a-z])\1+")


def fold(name: str) -> str:
    """Return the comparison key of ``name``: lower-case Latin letters, digits and single spaces.

    "Гуево", "Guevo" and "Guyevo" give the same key, as do "Суджа"/"Sudzha", "Київ"/"Kyiv" and
    "Pjöngjang"/"Pyongyang". Scripts other than Latin and Cyrillic keep their letters (folded
    for case), so they still match themselves.
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(_CYRILLIC.get(char, char) for char in text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c) and c not in _DROPPED)
    text = text.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("ł", "l")
    words = []
    for word in _SEPARATORS.split(text):
        for old, new in _VARIANTS:
            word = word.replace(old, new)
        word = _DOUBLED.sub(r"\1", word)
        word = "".join(c for c in word if c.isalnum())
        if word:
            words.append(word)
    return " ".join(words)
