"""Every catalogue translates every marked string, with the same placeholders, and is compiled.

The strings are extracted afresh from the code (the same command as ``make messages``), so a
string marked today and not yet translated fails here, not in front of a French user.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from assist.i18n import DEFAULT_LANGUAGE, LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "assist" / "translations"
LOCALES = [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def _makefile_extract_options() -> list[str]:
    """The extraction options, from the Makefile (one list for `make messages` and this test)."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = re.search(r"^BABEL_EXTRACT := ((?:.*\\\n)*.*)$", text, re.M)
    assert line, "Makefile: BABEL_EXTRACT is missing"
    return shlex.split(line.group(1).replace("\\\n", " "))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "extract"]
    command += [*_makefile_extract_options(), "--no-location", "-o", str(pot), "."]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    with pot.open("rb") as handle:
        catalog = read_po(handle)
    assert len(catalog) > 300, "the extraction found suspiciously few strings"
    return catalog


def _catalogue(locale: str) -> Catalog:
    path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"no catalogue for {locale}: run `make messages`, then translate {path}"
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def _placeholders(text: str) -> set[str]:
    return {m.group(1) or m.group(0) for m in PLACEHOLDER.finditer(text)}


def _source_placeholders(message: Message) -> set[str]:
    ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
    found: set[str] = set()
    for text in ids:
        found |= _placeholders(text)
    return found - {"num"}  # ngettext's count: a translation may spell "one" instead


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_translates_every_marked_string(locale: str, extracted: Catalog) -> None:
    catalogue = _catalogue(locale)
    missing = []
    for message in extracted:
        if not message.id:
            continue
        translated = catalogue.get(message.id, context=message.context)
        if translated is None or translated.fuzzy or not all(_forms(translated)):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    assert not missing, f"{locale}: {len(missing)} strings untranslated or fuzzy, e.g. " + (
        "; ".join(repr(m) for m in missing[:15])
    )


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_the_placeholders(locale: str) -> None:
    wrong = []
    for message in _catalogue(locale):
        if not message.id or not message.string:
            continue
        expected = _source_placeholders(message)
        for form in _forms(message):
            if form and (_placeholders(form) - {"num"}) != expected:
                wrong.append(f"{message.id!r} → {form!r}")
    assert not wrong, f"{locale}: placeholders differ:\n" + "\n".join(wrong[:20])


@pytest.mark.parametrize("locale", LOCALES)
def test_the_catalogue_is_compiled_and_current(locale: str) -> None:
    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: `make translations` compiles it"
    assert mo.stat().st_mtime >= po.stat().st_mtime, f"{mo} is older than its .po: run make"


def test_the_extraction_sees_templates_python_and_the_taxonomy(extracted: Catalog) -> None:
    ids = {m.id for m in extracted}
    assert "Sign out" in ids  # templates/base.html
    assert "Please fix the following:" in ids  # templates/_macros/forms.html
    assert "Please sign in to see this page." in ids  # assist/__init__.py, lazy
    assert "Risk assessment" in ids  # assist/directory/taxonomy.json


def test_every_template_is_extracted_to_its_end(extracted: Catalog) -> None:
    """Jinja's extractor stops quietly at a tag it does not know: each template's last plainly
    marked string must be in the catalogue template."""
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in extracted}
    simple = re.compile(r"""\b_\(\s*(['"])((?:(?!\1).)+)\1\s*[,)]""")
    lost = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        found = [m.group(2) for m in simple.finditer(template.read_text(encoding="utf-8"))]
        if found and found[-1].replace("\\'", "'") not in ids:
            lost.append(f"{template.relative_to(ROOT)}: {found[-1]!r}")
    assert not lost, "strings not extracted:\n" + "\n".join(lost)
