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
from decimal import Decimal
from functools import cache, cached_property, lru_cache
from typing import Any

from babel import Locale, dates, numbers
from babel.support import NullTranslations, Translations
from flask import (
    Blueprint,
    Flask,
    g,
    has_app_context,
    has_request_context,
    redirect,
    request,
    session,
)
from flask_babel import Babel, Domain, get_locale
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


class CatalogueDomain(Domain):
    """Flask-Babel's message domain, with a cheaper lookup of the request's catalogue.

    Every gettext call (templates, lazy strings, services) asks the domain for the catalogue.
    Flask-Babel finds it through several context-local lookups and the locale's identifier as
    a string, about 8 µs a call against 0.15 µs for the message itself, and a page makes a few
    hundred calls. Here the catalogue is kept per ``Locale`` (the process's catalogues are
    read-only once loaded, as in Flask-Babel), and found from the request's locale alone.
    ``force_locale`` and ``refresh`` change that locale, so they keep working.
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_locale: dict[Locale, Translations | NullTranslations] = {}

    def get_translations(self) -> Translations | NullTranslations:
        locale = _current_locale()
        if locale is None:  # outside a request or app context
            return NullTranslations()
        try:
            return self._by_locale[locale]
        except KeyError:
            catalogue = self._by_locale[locale] = super().get_translations()
            return catalogue


def _current_locale() -> Locale | None:
    """``flask_babel.get_locale()``, read straight from where Flask-Babel keeps it for this
    context (``g._flask_babel.babel_locale``, which ``force_locale`` and ``refresh`` change)
    when it is there: one context lookup instead of about ten."""
    if has_app_context():
        kept = getattr(g.get("_flask_babel"), "babel_locale", None)
        if kept is not None:
            return kept
    return get_locale()


DOMAIN = CatalogueDomain()


class _Babel(Babel):
    # One domain for the process: every app built from this code reads the same catalogues.
    @cached_property
    def domain_instance(self) -> Domain:
        return DOMAIN


babel = _Babel()
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
    # The same callables Flask-Babel installs, straight to the domain (one lookup less a call).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: DOMAIN.get_translations().ugettext(s),
        ngettext=lambda s, p, n: DOMAIN.get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: DOMAIN.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: DOMAIN.get_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(format_decimal=format_decimal, format_percent=format_percent)
    app.register_blueprint(bp)

    @app.context_processor
    def _languages() -> dict[str, Any]:
        return {"LANGUAGES": LANGUAGES, "current_language": str(get_locale() or DEFAULT_LANGUAGE)}

    app.add_template_filter(_format_datetime, "datetime")
    app.add_template_filter(_format_month, "month")
    app.add_template_filter(_format_date, "date")


# Dates and numbers in the reader's format (Babel's CLDR data). Babel parses a locale's
# pattern on every call; the parsed patterns are kept here, per locale and format (a few dozen).


def _locale() -> Locale:
    return _current_locale() or Locale.parse(DEFAULT_LANGUAGE)


@lru_cache(maxsize=256)
def _date_pattern(locale: Locale, kind: str, name: str) -> dates.DateTimePattern:
    if kind == "date":
        return dates.parse_pattern(dates.get_date_format(name, locale=locale))
    if kind == "time":
        return dates.parse_pattern(dates.get_time_format(name, locale=locale))
    return dates.parse_pattern(name)


@lru_cache(maxsize=256)
def _number_pattern(locale: Locale, kind: str, format: str | None) -> numbers.NumberPattern:
    if format is not None:
        return numbers.parse_pattern(format)
    formats = locale.percent_formats if kind == "percent" else locale.decimal_formats
    return numbers.parse_pattern(formats[None])


def format_decimal(number: float | Decimal | str, format: str | None = None) -> str:
    """A number the reader's way ("1,234.5", "1 234,5", "1.234,5"), as ``flask_babel``'s."""
    locale = _locale()
    return _number_pattern(locale, "decimal", format).apply(number, locale)


@lru_cache(maxsize=64)
def _signs(locale: Locale) -> tuple[str, str]:
    return numbers.get_decimal_symbol(locale), numbers.get_minus_sign_symbol(locale)


def format_fixed(value: float, digits: int) -> str:
    """``value`` with exactly ``digits`` decimals and no grouping, in the reader's signs: what
    ``format_decimal(Decimal(f"{value:.{digits}f}"), "0.000…")`` writes, without Babel's pattern
    machinery (the ranking page writes a few hundred such shares)."""
    decimal_sign, minus_sign = _signs(_locale())
    text = f"{value:.{digits}f}"
    return text.replace("-", minus_sign).replace(".", decimal_sign)


def format_percent(number: float | Decimal | str, format: str | None = None) -> str:
    locale = _locale()
    return _number_pattern(locale, "percent", format).apply(number, locale)


def _date_text(value: date, kind: str, name: str) -> str:
    locale = _locale()
    day = value.date() if isinstance(value, datetime) else value
    return _date_pattern(locale, kind, name).apply(day, locale)


def _format_datetime(value: datetime | None) -> str:
    # Stored times are naive UTC; the page says so, in the reader's format (no seconds).
    if not value:
        return ""
    locale = _locale()
    time = _date_pattern(locale, "time", "short").apply(value, locale)
    return f"{_date_text(value, 'date', 'medium')} {time} UTC"


def _format_date(value: date | None) -> str:
    return _date_text(value, "date", "medium") if value else ""


def _format_month(value: date | None) -> str:
    return _date_text(value, "pattern", "LLLL yyyy") if value else ""


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
