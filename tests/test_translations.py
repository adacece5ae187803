"""The German interface is complete: every string the code and templates mark for translation has a
German, not-fuzzy msgstr, and no template shows visible text that bypasses ``_()``.

The marked strings come from ``pybabel extract`` with the project's babel.cfg (what `make messages`
runs), so a string added anywhere without its German fails here, not in front of a reader.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "timeline" / "templates"
GERMAN = ROOT / "timeline" / "translations" / "de" / "LC_MESSAGES" / "messages.po"

# Visible words that are the same in every language: names, and technical terms shown as such.
NOT_TRANSLATED = {
    "Timeline Map",  # the product's name
    "GeoJSON", "CSV", "KML", "GeoPackage", "FlatGeobuf", "GeoParquet", "JSON", "OpenAPI", "API",
    "OGC API – Features", "OGC API - Features", "CQL2", "Leaflet", "vis-timeline", "OpenStreetMap",
    "Natural Earth", "GeoNames", "Swagger UI", "ETag", "WGS 84", "EPSG:4326", "ISO 8601", "UTC",
    "Deutsch", "English",  # each language's own name, shown in the switcher
    "CC BY 4.0",  # a licence's name
}  # fmt: skip
# Attributes whose values a visitor sees or hears.
VISIBLE_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label", "value"}
LETTER = re.compile(r"[^\W\d_]")
GETTEXT = {"_", "gettext", "ngettext", "lazy_gettext", "pgettext", "npgettext"}

# Not yet marked for translation (issue 10, point 8): each entry is expected to fail below, and
# must be removed from here once its text is wrapped in _() and translated (the test then says so).
PENDING_TEMPLATES: set[str] = set()
PENDING_FLASHES: set[str] = set()
PLACEHOLDER = "\x00"


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Every msgid marked in the code and templates, as `make messages` extracts them."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    done = subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-o", str(pot), "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with pot.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def german() -> Catalog:
    with GERMAN.open("rb") as handle:
        return read_po(handle, locale="de")


def where(message) -> str:
    return ", ".join(f"{path}:{line}" for path, line in message.locations[:2])


def test_every_marked_string_has_a_german_translation(extracted, german):
    missing = [
        f"{message.id!r} ({where(message)})"
        for message in extracted
        if message.id and german.get(message.id, message.context) is None
    ]
    assert not missing, (
        f"{len(missing)} strings have no German entry (make messages, then translate):\n" + "\n".join(missing)
    )


def test_no_german_entry_is_empty_or_fuzzy(extracted, german):
    used = {
        message.id if isinstance(message.id, str) else message.id[0] for message in extracted if message.id
    }
    bad = []
    for message in german:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key not in used:
            continue  # an entry no code uses any more does no harm (make messages marks it obsolete)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            bad.append(f"fuzzy: {key!r}")
        elif not all(strings):
            bad.append(f"empty: {key!r}")
    assert not bad, "\n".join(bad)


class _VisibleText(HTMLParser):
    """Collects text nodes and visible attribute values outside <script>, <style> and <code>."""

    SILENT: ClassVar[set[str]] = {"script", "style", "code", "pre"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SILENT:
            self.open.append(tag)
        if tag != "input" or dict(attrs).get("type") not in ("submit", "button", "reset"):
            attrs = [(k, v) for k, v in attrs if k != "value"]  # a field's value is data, not interface
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.found.append(value)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if not self.open:
            self.found.append(data)


def _outside_jinja(source: str) -> str:
    """The template with every ``{{ … }}``, ``{% … %}`` and ``{# … #}`` replaced by a placeholder,
    and the text of ``{% trans %}`` blocks (translated as a whole) too."""
    environment = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    parts: list[str] = []
    in_trans = False
    block_name: str | None = None
    for _, token, value in environment.lex(source):
        if token == "block_begin":
            block_name = ""
        elif token == "name" and block_name == "":
            block_name = value
        elif token == "block_end":
            in_trans = block_name == "trans" or (in_trans and block_name not in ("endtrans", None))
            block_name = None
        if token == "data" and not in_trans:
            parts.append(value)
        elif not parts or parts[-1] != PLACEHOLDER:
            parts.append(PLACEHOLDER)
    return "".join(parts)


def untranslated_text(source: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(_outside_jinja(source))
    parser.close()
    found = []
    for text in parser.found:
        for piece in text.split(PLACEHOLDER):
            piece = " ".join(piece.split())
            if (
                LETTER.search(piece)
                and piece.strip(" .,:;()·–—-/|") not in NOT_TRANSLATED
                and not piece.startswith(("http://", "https://"))  # an example address
            ):
                found.append(piece)
    return found


def _pending(names: set[str], found: list[str]) -> list[object]:
    """``found`` as test parameters, those in ``names`` expected to fail (strictly: once one
    passes, the test says to take it off the list)."""
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason="not yet translated"))
        if name in names
        else name
        for name in found
    ]


TEMPLATE_FILES = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("template", _pending(PENDING_TEMPLATES, TEMPLATE_FILES))
def test_templates_show_no_text_outside_translation(template):
    found = untranslated_text((TEMPLATES / template).read_text(encoding="utf-8"))
    assert not found, f"{template} shows text that is not marked for translation: {found}"


def test_the_template_check_finds_unmarked_text():
    """The check itself: text, a visible attribute and a word beside a tag are found; marked text,
    script, brand names and {% trans %} blocks are not."""
    source = """<p>Hello {{ name }}</p><a title="Open it" href="{{ url }}">{{ _("Go") }}</a>
    <script>const x = "not text";</script><span>Timeline Map</span>{% trans %}All good{% endtrans %}
    <button>{{ _("Save") }} now</button>"""
    assert untranslated_text(source) == ["Hello", "Open it", "now"]


def untranslated_flashes(source: str) -> list[str]:
    """Messages given to flash() as text that never passes through gettext."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "flash" and node.args):
            continue
        message = node.args[0]
        wrapped = isinstance(message, ast.Call) and getattr(message.func, "id", None) in GETTEXT
        formatted = (  # _("… %(name)s …") % {...}: the text is translated, the values are data
            isinstance(message, ast.BinOp)
            and isinstance(message.left, ast.Call)
            and getattr(message.left.func, "id", None) in GETTEXT
        )
        if not (wrapped or formatted):
            found.append(f"line {node.lineno}: {ast.unparse(message)[:80]}")
    return found


PYTHON_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "timeline").rglob("*.py"))


@pytest.mark.parametrize("module", _pending(PENDING_FLASHES, PYTHON_FILES))
def test_flash_messages_are_translated(module):
    found = untranslated_flashes((ROOT / module).read_text(encoding="utf-8"))
    assert not found, f"{module} flashes text that is not marked for translation: {found}"


def test_the_flash_check_finds_unmarked_messages():
    source = (
        """flash("Saved.")\nflash(f"Saved {x}.")\nflash(_("Saved."))\nflash(_("Saved %(x)s.") % {"x": x})"""
    )
    assert [line.split(":")[0] for line in untranslated_flashes(source)] == ["line 1", "line 2"]
