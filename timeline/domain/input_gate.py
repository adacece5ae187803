"""The one input gate: what any text, number or redirect target from outside must satisfy.

Every path in (the write API, the editor's forms, imports, the validator and query parameters)
calls these checks, so a value refused on one path is refused on all of them, with the same words.
They reject what would otherwise fail later and worse: an unpaired UTF-16 surrogate (JSON's
``"\\ud800"``) is not Unicode text, cannot be encoded for the database or the response, and was a
500; control characters hide text from readers and break CSV and terminals; an integer beyond
64 bits overflows the database's parameter and was a 500 too.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# C0 controls other than tab and the newlines (LF, and the CR of a browser's CR LF), and the
# surrogate code points, which are never valid alone.
_REFUSED_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# Characters that reorder how text is displayed (Trojan Source): allowed, since right-to-left
# names need them, but flagged to editors in titles, where a reordered title misleads.
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")

# The range of the databases' BIGINT, which is what every integer parameter ends up compared to.
SQL_INTEGER_MIN = -(2**63)
SQL_INTEGER_MAX = 2**63 - 1


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be taken as text, or None when it can."""
    found = _REFUSED_IN_TEXT.search(value)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        return f"contains an unpaired UTF-16 surrogate (U+{code:04X}), which is not Unicode text"
    if code == 0:
        return "contains a NUL character"
    return f"contains the control character U+{code:04X}; only tab and line breaks are allowed"


def check_text(value: str) -> str:
    """``value`` itself, or :class:`ValueError` saying what is wrong with it."""
    if problem := text_problem(value):
        raise ValueError(problem)
    return value


def has_bidi_controls(value: str) -> bool:
    """Whether the text holds characters that change its display order."""
    return _BIDI_CONTROLS.search(value) is not None


def integer_problem(value: int) -> str | None:
    """Why an integer cannot reach SQL (it does not fit in 64 bits), or None."""
    if SQL_INTEGER_MIN <= value <= SQL_INTEGER_MAX:
        return None
    return f"is too large (at most {SQL_INTEGER_MAX})"


def local_redirect_target(target: str | None) -> str | None:
    """``target`` when it is a path on this site that is safe to redirect to, else None.

    Only a relative path that starts with one ``/`` qualifies: no scheme or host (no open
    redirect), no backslash (browsers read ``/\\evil.example`` as another host), and no control
    characters (CR or LF in a Location header is a header injection, and Werkzeug refuses it with
    a 500).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    if text_problem(target) is not None:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
