"""Match reasons rendered in the reader's language from ``Match.explanations``.

The real catalogues are being translated while this is written, so the French tests use a
stand-in catalogue that marks every French string with "«fr»": they check which text went
through gettext (sentences and taxonomy labels alike), not the wording of a translation.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from assist.directory.models import TaxonomyTerm, TermKind
from assist.directory.queries import term_labels
from assist.engagements import ranking
from assist.engagements.models import ConflictOfInterest
from assist.engagements.reasons import RENDERERS, Labels, number, render, render_matches
from assist.extensions import db
from assist.roles import Role
from assist.workflow import RequestStatus
from matching import REASON_CODES, Matcher, Reason
from matching.evaluate import load_eval_set
from tests.factories import make_authority, make_organisation, make_request, make_user, tag
from tests.stand_in_catalogue import use_stand_in

MARK = "«fr» "
EVAL_SET = Path(__file__).resolve().parents[2] / "data" / "eval_set.json"


def _mark_french(locale: str, message: str) -> str:
    return MARK + message if locale == "fr" else message


@pytest.fixture
def french(monkeypatch: pytest.MonkeyPatch) -> None:
    use_stand_in(monkeypatch, _mark_french)


@pytest.fixture
def ranked_page(app):
    """A request and a directory that between them produce every reason the app can show."""
    authority = make_authority(country="ES")
    exit_org = tag(
        make_organisation(
            "Exit Mentors",
            description="Exit work and mentoring for people leaving violent right-wing groups; "
            "family counselling; housing and work after release.",
            capacity=3,
        ),
        themes=["exit_mentoring", "family_network_support"],
        target_groups=["families"],
        formats=["training"],
        languages=["es", "en"],
        countries=["ES"],
    )
    german = tag(
        make_organisation("Dialogue Circle", description="Restorative justice dialogue."),
        themes=["restorative_justice"],
        languages=["de"],
    )
    booked = make_organisation(
        "Booked Up", description="Exit mentoring after release from prison.", capacity=0
    )
    vetoed = tag(
        make_organisation("Vetoed", description="Family counselling and exit mentoring."),
        themes=["exit_mentoring"],
    )
    req = make_request(
        authority,
        status=RequestStatus.MATCHING,
        context="People leaving violent right-wing groups after release need exit mentoring, "
        "and their families need counselling.",
        needs="Exit work training for municipal case managers.",
        terms={
            "themes": ["exit_mentoring", "family_network_support"],
            "target_groups": ["families"],
            "formats": ["training"],
            "languages": ["es"],
        },
    )
    db.session.add(
        ConflictOfInterest(
            organisation=vetoed,
            authority=authority,
            reason="<b>already contracted</b>",
            created_by=req.created_by,
        )
    )
    db.session.flush()
    return {"req": req, "orgs": (exit_org, german, booked, vetoed)}


def test_every_reason_code_of_matching_has_a_renderer() -> None:
    assert set(RENDERERS) == set(REASON_CODES)


def test_in_english_the_page_says_exactly_what_matching_says(app, ranked_page) -> None:
    matches = [r.match for r in ranking.rank_experts(ranked_page["req"])]
    rendered = render_matches(matches)
    assert rendered == [list(m.reasons) for m in matches]
    seen = {e.code for m in matches for e in m.explanations}
    expected = {"excluded", "no_common_language", "at_capacity", "text", "themes"}
    expected |= {"target_groups", "formats", "language", "languages_not_given", "country"}
    assert expected | {"availability", "text_baseline"} <= seen
    assert all(type(text) is str for texts in rendered for text in texts)


@pytest.mark.parametrize("baseline", ["mean", "csls"])
def test_in_english_every_reason_of_the_evaluation_set_is_unchanged(app, baseline) -> None:
    """Feedback, free slots and both baselines too, with the app's labels for the codes."""
    data = load_eval_set(EVAL_SET)
    experts = list(data.experts)
    experts[0] = dataclasses.replace(experts[0], capacity=2, active_engagements=2)
    experts[1] = dataclasses.replace(experts[1], languages=frozenset())
    labels = term_labels(ranking.LABEL_KINDS)
    matcher = Matcher(labels=labels, text_baseline=baseline).fit(experts)
    matches = [
        m
        for req in data.requests
        for m in matcher.rank(
            dataclasses.replace(req, excluded={experts[2].id: "conflict"}),
            k=None,
            include_excluded=True,
        )
    ]
    assert {e.code for m in matches for e in m.explanations} == set(REASON_CODES)
    assert render_matches(matches) == [list(m.reasons) for m in matches]


def test_one_query_for_the_terms_of_a_whole_page(app, ranked_page) -> None:
    matches = [r.match for r in ranking.rank_experts(ranked_page["req"])]
    statements: list[str] = []
    connection = db.session.connection()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(connection, "before_cursor_execute", listener)
    try:
        render_matches(matches)
    finally:
        sa.event.remove(connection, "before_cursor_execute", listener)
    assert len(statements) == 1
    assert "taxonomy_terms" in statements[0]


def test_in_french_sentences_and_taxonomy_labels_are_translated(app, french, ranked_page) -> None:
    matches = {r.name: r.match for r in ranking.rank_experts(ranked_page["req"])}
    with force_locale("fr"):
        texts = dict(zip(matches, render_matches(list(matches.values())), strict=True))
    exit_reasons = texts["Exit Mentors"]
    assert all(text.startswith(MARK) for texts_ in texts.values() for text in texts_)
    themes = next(t for t in exit_reasons if "shares themes" in t)
    # The theme is named by its term's display_label, in the reader's language.
    assert MARK + "Exit work and mentoring" in themes
    assert MARK + "Family and network support" in themes
    assert any(MARK + "Families" in t for t in exit_reasons if "works with" in t)
    assert any(MARK + "Training" in t for t in exit_reasons if "offers" in t)
    assert any(MARK + "Spanish" in t for t in exit_reasons if "works in" in t)
    assert any(MARK + "Spain" in t for t in exit_reasons if "has worked in" in t)
    assert all(type(t) is str for t in exit_reasons)


def test_a_term_is_shown_by_its_display_label(app, ranked_page) -> None:
    term = db.session.scalar(
        sa.select(TaxonomyTerm).where(
            TaxonomyTerm.kind == TermKind.THEME, TaxonomyTerm.code == "exit_mentoring"
        )
    )
    term.label = "Mentorat de sortie"
    db.session.flush()
    reason = Reason("themes", {"codes": ("exit_mentoring",)}, 0.15)
    labels = Labels.for_reasons([reason])
    assert render(reason, labels) == "shares themes: Mentorat de sortie (+0.150)"


def test_numbers_use_the_readers_decimal_separator(app) -> None:
    feedback = Reason("feedback", {"mean": 4.5, "n": 2}, 0.42)
    one = Reason("feedback", {"mean": 4.0, "n": 1}, 0.03)
    text = Reason("text", {"similarity": 0.2, "terms": ("prison",), "concepts": ()}, 0.108)
    baseline = Reason("text_baseline", {"baseline": 0.0912, "kind": "mean", "k": 10}, -0.05)
    labels = Labels({})
    with force_locale("de"):
        assert number(0.42, 2) == "0,42"
        # The sentences come from the German catalogue; the numbers are what this test is about.
        german = [render(r, labels) for r in (feedback, one, text, baseline)]
    assert "4,5/5" in german[0] and "(+0,420)" in german[0]
    assert "4,0/5" in german[1] and "(+0,030)" in german[1]
    assert "0,20" in german[2] and "prison" in german[2]
    assert "0,09" in german[3] and "(-0,050)" in german[3]
    assert render(feedback, labels) == "feedback 4.5/5 from 2 engagements (+0.420)"


def test_codes_outside_the_taxonomy_fall_back_to_babel_names(app) -> None:
    labels = Labels({})
    with force_locale("de"):
        assert "Polnisch" in render(Reason("language", {"codes": ("pl",)}, 0.06), labels)
        assert "Tunesien" in render(Reason("country", {"code": "TN"}, 0.04), labels)


def test_the_ranking_page_shows_the_rendered_reasons_escaped(app, login_as, ranked_page) -> None:
    req = ranked_page["req"]
    client = login_as(make_user(Role.STAFF))
    page = client.get(f"/requests/{req.id}/experts?all=1").get_data(as_text=True)
    for r in ranking.rank_experts(req):
        for reason in r.match.reasons:
            if "<" not in reason:
                assert f"<li>{reason}</li>".replace("'", "&#39;") in page, reason
    assert "&lt;b&gt;already contracted&lt;/b&gt;" in page
    assert "<b>already contracted</b>" not in page


def test_the_ranking_page_in_french(app, french, login_as, ranked_page) -> None:
    req = ranked_page["req"]
    client = login_as(make_user(Role.STAFF, language="fr"))
    page = client.get(f"/requests/{req.id}/experts").get_data(as_text=True)
    assert MARK + "shares themes: " + MARK + "Exit work and mentoring" in page
    assert '<ul class="mb-2 small" lang="en">' not in page
