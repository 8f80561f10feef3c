"""The interface's languages: choosing one per request, switching, formatting, detecting a text's.

The catalogues live in ``assist/translations/<code>/LC_MESSAGES/messages.po``, compiled to ``.mo``
by ``make run`` and ``make test``; ``make messages`` re-extracts and updates them. The language of
a page is, in order: the signed-in user's saved preference, the choice made with the switcher (kept
in the session cookie, for pages before signing in), the browser's Accept-Language, English.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from functools import cache
from typing import Any

from flask import Blueprint, Flask, has_request_context, redirect, request, session
from flask_babel import (
    Babel,
    format_date,
    format_decimal,
    format_percent,
    format_time,
    get_locale,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from assist.extensions import db
from assist.urls import safe_next_url

#: The interface's languages, each named in itself (that is how people look for their own).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "nl": "Nederlands",
    "de": "Deutsch",
    "ca": "Català",
}
DEFAULT_LANGUAGE = "en"
#: Languages a request's text may be written in: the interface's, and Swedish (Fryshuset).
TEXT_LANGUAGES: dict[str, Any] = {
    "en": _l("English"),
    "fr": _l("French"),
    "es": _l("Spanish"),
    "nl": _l("Dutch"),
    "de": _l("German"),
    "ca": _l("Catalan"),
    "sv": _l("Swedish"),
}
SESSION_KEY = "language"

babel = Babel()
bp = Blueprint("i18n", __name__)


def reading_language(code: str | None) -> str:
    """The language to write to someone whose saved preference is ``code``, when no browser is
    there to ask (e-mails, notifications): the preference, else the source language."""
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def select_locale() -> str:
    if not has_request_context():  # CLI commands and background work: the source language
        return DEFAULT_LANGUAGE
    user_choice = getattr(current_user, "language", None) if current_user else None
    if user_choice in LANGUAGES:
        return user_choice
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(format_decimal=format_decimal, format_percent=format_percent)
    app.register_blueprint(bp)

    @app.context_processor
    def _languages() -> dict[str, Any]:
        return {"LANGUAGES": LANGUAGES, "current_language": str(get_locale() or DEFAULT_LANGUAGE)}

    app.add_template_filter(_format_datetime, "datetime")
    app.add_template_filter(_format_month, "month")
    app.add_template_filter(_format_date, "date")


def _format_datetime(value: datetime | None) -> str:
    # Stored times are naive UTC; the page says so, in the reader's format (no seconds).
    return f"{format_date(value, 'medium')} {format_time(value, 'short')} UTC" if value else ""


def _format_date(value: date | None) -> str:
    return format_date(value, "medium") if value else ""


def _format_month(value: date | None) -> str:
    return format_date(value, "LLLL yyyy") if value else ""


@bp.post("/language")
def switch() -> Response:
    """The switcher on every page: remember the choice, for this browser and the signed-in user."""
    code = request.form.get("language", "")
    if code in LANGUAGES:
        session[SESSION_KEY] = code
        if current_user.is_authenticated and current_user.language != code:
            # Imported here: assist.auth.services imports this module.
            from assist.auth.decorators import current_actor
            from assist.auth.services import set_language

            set_language(current_actor(), code)
            db.session.commit()
    return redirect(safe_next_url(request.form.get("next")) or "/")


@cache
def _identifier() -> Any:
    """py3langid's model (about 0.5 s to load, once per process), limited to our languages."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(TEXT_LANGUAGES))
    return identifier


#: Below this many letters a guess is not worth showing.
MIN_LETTERS = 20
#: Below this probability the text is called mixed or unclear.
MIN_CONFIDENCE = 0.8


def detect_language(*texts: str) -> str | None:
    """The language most of these texts are written in, or None when too short or unclear."""
    text = "\n".join(t for t in texts if t)
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    code, probability = _identifier().classify(text)
    return code if probability >= MIN_CONFIDENCE else None


def extract_taxonomy(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator:
    """Babel extractor (babel.cfg) for the taxonomy: the terms are data, their labels are UI."""
    data = json.load(fileobj)
    for kind, terms in data.items():
        if kind.startswith("_"):
            continue
        for term in terms:
            for key in ("group", "label", "description"):
                if term.get(key):
                    yield 0, None, term[key], [f"taxonomy {kind}.{term['code']} {key}"]
