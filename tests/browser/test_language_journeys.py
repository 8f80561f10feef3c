"""The app in French and in Spanish: a Rennes official whose browser asks for French, and a Málaga
official who switches to Spanish, each write, save and submit a request in their own language.

Every label is looked up through the live app's own catalogue (``translator``), so these tests fail
when a page shows English, when a translation is missing, or when the language is not followed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from babel.dates import format_date
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import serious_violations, sign_in, translator


def _new_page(browser: Browser, locale: str) -> Page:
    context = browser.new_context(locale=locale)
    return context.new_page()


def test_a_french_speaking_official_works_in_french(browser: Browser, live_server: str) -> None:
    fr = translator(live_server, "fr")
    page = _new_page(browser, "fr-FR")  # Accept-Language: fr-FR
    checked: dict[str, list] = {}

    sign_in(page, live_server, "official.rennes@assist.example", t=fr)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    nav = page.get_by_role("navigation", name=fr("Main"))
    expect(nav.get_by_role("button", name=fr("Sign out"))).to_be_visible()
    checked["list"] = serious_violations(page)

    page.get_by_role("link", name=fr("New request")).click()
    expect(page.get_by_label(fr("Language of the text"))).to_have_value("fr")
    checked["form"] = serious_violations(page)
    page.get_by_label(fr("Title")).fill("Formation des conseillers à la préparation des sorties")
    page.get_by_label(fr("Local context")).fill(
        "Les conseillers pénitentiaires d'insertion et de probation et les services de la ville "
        "préparent les sorties de détention chacun de leur côté, souvent trop tard."
    )
    page.get_by_label(fr("Needs")).fill(
        "Une formation de deux jours pour les conseillers et un protocole commun de sortie."
    )
    page.get_by_label(fr("Release and transition")).check()
    page.get_by_label(fr("Training"), exact=True).check()
    page.get_by_label(fr("French"), exact=True).check()  # a working language
    page.get_by_role("button", name=fr("Save draft")).click()

    expect(page.locator("#request-status")).to_have_text(fr("Draft", "request status"))
    today = format_date(datetime.now(UTC).date(), "medium", locale="fr")
    expect(page.locator("main")).to_contain_text(today)  # dates in the reader's format
    checked["detail"] = serious_violations(page)

    page.get_by_role("button", name=fr("Submit to Efus")).click()
    expect(page.locator("#request-status")).to_have_text(fr("Submitted", "request status"))
    assert checked == {name: [] for name in checked}, checked


def test_a_malaga_official_switches_to_spanish_and_confirms_the_language(
    page: Page, live_server: str
) -> None:
    en, es = str, translator(live_server, "es")
    sign_in(page, live_server, "official@assist.example")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # The switcher is on every page; the choice is saved with the account.
    page.get_by_label(en("Language"), exact=True).select_option("es")
    page.get_by_role("button", name=en("Change language")).click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    nav = page.get_by_role("navigation", name=es("Main"))
    nav.get_by_role("link", name=es("Requests"), exact=True).click()

    page.get_by_role("link", name=es("New request")).click()
    page.get_by_label(es("Title")).fill("Apoyo a las familias tras la excarcelación")
    page.get_by_label(es("Local context")).fill(
        "Los servicios sociales municipales y el medio abierto penitenciario no se coordinan "
        "cuando una persona sale de prisión; las familias no reciben apoyo."
    )
    page.get_by_label(es("Needs")).fill(
        "Formación para los profesionales en el trabajo con familias y redes de apoyo."
    )
    page.get_by_label(es("Family and network support")).check()
    page.get_by_label(es("Training"), exact=True).check()
    page.get_by_label(es("Spanish"), exact=True).check()  # a working language
    # Say the text is in English: the service notices it reads as Spanish and asks.
    page.get_by_label(es("Language of the text")).select_option("en")
    page.get_by_role("button", name=es("Save draft")).click()

    error = page.locator("#language-error")
    expect(error).to_contain_text(es("Spanish"))
    expect(page.get_by_label(es("Needs"))).to_have_value(
        "Formación para los profesionales en el trabajo con familias y redes de apoyo."
    )
    assert serious_violations(page) == []

    page.get_by_label(es("Language of the text")).select_option("es")
    page.get_by_role("button", name=es("Save draft")).click()
    expect(page.locator("#request-status")).to_have_text(es("Draft", "request status"))
    expect(page.locator("main")).to_contain_text(es("Spanish"))

    page.get_by_role("button", name=es("Submit to Efus")).click()
    expect(page.locator("#request-status")).to_have_text(es("Submitted", "request status"))
    assert serious_violations(page) == []
