"""Every piece of text a template shows is marked for translation.

The scan reads each template with Jinja's own lexer. Outside ``{{ }}`` and ``{% %}`` it parses
the HTML and flags visible text and the attributes people read (title, aria-label, placeholder,
alt, button values, confirmation prompts) that still hold words. Inside them, it flags string
literals that read like prose ("Save", "Sign out") unless they are the argument of ``_()``,
``gettext`` or ``ngettext``. ``{% trans %}`` blocks are marked by definition.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))

#: Names, not words: they read the same in every language.
UNTRANSLATED = re.compile(r"PREPARE Assist|PREPARE|Efus|PDF|CSV|JSON|API|UTC|TOTP|QR|&\w+;")
WORD = re.compile(r"[^\W\d_]{2,}")
PROSE_LITERAL = re.compile(r"^[A-Z][a-z]")
IDENTIFIER = re.compile(r"(?:[A-Z][a-z0-9]+){2,}")  # CodesField, BooleanField: Python names
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "data-confirm", "aria-description"}
BUTTON_TYPES = {"submit", "button", "reset"}
GETTEXT = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
#: What a Jinja construct becomes for the HTML parser (a space keeps tags parseable).
HOLE = " "

# Only its lexer is used (nothing is rendered), so autoescaping is irrelevant here.
lexer_env = Environment(  # noqa: S701
    extensions=["jinja2.ext.i18n", "jinja2.ext.do", "jinja2.ext.loopcontrols"]
)


def has_words(text: str) -> bool:
    return bool(WORD.search(UNTRANSLATED.sub(" ", text)))


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[int, str]] = []
        self._raw = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._raw += 1
        values = dict(attrs)
        for name, value in attrs:
            readable = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in BUTTON_TYPES
            )
            if readable and value and has_words(value):
                self.found.append((self.getpos()[0], f'{name}="{value.strip()}"'))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._raw = max(0, self._raw - 1)

    def handle_data(self, data: str) -> None:
        if not self._raw and has_words(data):
            self.found.append((self.getpos()[0], " ".join(data.split())))


def unmarked(source: str) -> list[tuple[int, str]]:
    """(line, text) for every piece of text not marked for translation."""
    html: list[str] = []
    found: list[tuple[int, str]] = []
    line = 1
    in_trans = False
    gettext_depth = 0  # parentheses open since a gettext call began
    previous = ("", "")
    for lineno, kind, value in lexer_env.lex(source):
        if kind == "data":
            if not in_trans:
                html.append("\n" * max(0, lineno - line))
                line = max(line, lineno)
                html.append(value)
                line += value.count("\n")
            continue
        if kind == "whitespace":
            continue
        if kind in ("variable_begin", "block_begin"):
            html.append(HOLE)
        elif kind == "name" and previous[0] == "block_begin":
            in_trans = value == "trans" or (in_trans and value != "endtrans")
        elif (kind, value) == ("operator", "("):
            if gettext_depth or (previous[0] == "name" and previous[1] in GETTEXT):
                gettext_depth += 1
        elif (kind, value) == ("operator", ")") and gettext_depth:
            gettext_depth -= 1
        elif kind == "string" and not gettext_depth:
            text = value[1:-1]  # the raw lexer keeps the quotes
            prose = PROSE_LITERAL.match(text) and not IDENTIFIER.fullmatch(text)
            if prose and not UNTRANSLATED.fullmatch(text):
                found.append((lineno, f"'{text}' (a string in template code)"))
        previous = (kind, value)
    scanner = _Scanner()
    scanner.feed("".join(html))
    scanner.close()
    return sorted(found + scanner.found)


@pytest.mark.parametrize(
    "template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates"))
)
def test_template_text_is_marked_for_translation(template: Path) -> None:
    offences = unmarked(template.read_text(encoding="utf-8"))
    assert not offences, f"{template.relative_to(ROOT)}: text not marked for translation:\n" + (
        "\n".join(f"  line {line}: {text}" for line, text in offences)
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("<p>Save draft</p>", ["Save draft"]),
        ("<p>{{ _('Save draft') }}</p>", []),
        ('<a title="Your account">x</a>', ['title="Your account"']),
        ("<a title=\"{{ _('Your account') }}\">{{ name }}</a>", []),
        ('<input type="submit" value="Send">', ['value="Send"']),
        ('<input type="hidden" name="next" value="Send">', []),
        ("{% set title = 'Requests' %}", ["'Requests' (a string in template code)"]),
        ("{{ field(f, label=_('Requests')) }}", []),
        ("{{ url_for('requests.index') }} {{ x|join(', ') }}", []),
        ("{% trans n=3 %}{{ n }} rows{% endtrans %}", []),
        ("<p>{{ count }} unread</p>", ["unread"]),
        ('<body{% if x %} data-x="{{ y }}"{% endif %}>', []),
        ("{{ f.type == 'CodesField' }}", []),
        ("<p>PREPARE Assist · {{ year }} — 3</p>", []),
        ("<script src='x.js'></script><!-- a comment -->", []),
    ],
)
def test_the_scan_finds_unmarked_text(source: str, expected: list[str]) -> None:
    assert [text for _line, text in unmarked(source)] == expected


def test_the_scan_reports_the_right_line() -> None:
    source = "<div>\n{% if x %}\n{{ _('ok') }}\n{% endif %}\n<p>\nNot marked</p></div>"
    assert unmarked(source) == [(5, "Not marked")]
