"""German and English user interface.

The language comes from a cookie the switcher sets, else from the browser's Accept-Language. It
only changes the interface: each event's own text keeps its own language (the ``lang`` attribute).
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, url_for
from flask_babel import Babel, format_decimal, get_locale
from werkzeug.wrappers import Response

from timeline.domain.input_gate import local_redirect_target

LANGUAGES = ("en", "de")
COOKIE = "lang"

babel = Babel()
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


@bp.post("/language")
def choose_language() -> Response:
    """Remember the visitor's choice (a preference cookie) and go back where they were."""
    lang = request.form.get("lang", "")
    target = local_redirect_target(request.form.get("next")) or url_for("pages.index")
    response = redirect(target)
    if lang in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale())
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    # Counts as the reader writes them: 100,000 in English, 100.000 in German.
    app.jinja_env.filters["number"] = format_decimal
