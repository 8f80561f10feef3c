"""Match.explanations: every English reason has its structured twin, with codes and numbers."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from matching import REASON_CODES, ExpertProfile, Match, Matcher, Reason, RequestProfile
from matching.evaluate import EvalSet
from matching.matcher import CAPACITY_PENALTY, LANGUAGE_PENALTY
from matching.text import CSLS_K

#: The English text each code must produce (so a reason and its explanation cannot disagree).
ENGLISH = {
    "excluded": r"excluded: .+",
    "no_common_language": r"no common working language \(expert: .*; request: .*\)",
    "at_capacity": r"at capacity \(\d+ of \d+ engagements\)",
    "text": r"text similarity \d\.\d\d(; top shared terms: .+?)?(; shared concept: .+)? \(\+.+\)",
    "themes": r"shares themes: .+ \(\+.+\)",
    "target_groups": r"works with: .+ \(\+.+\)",
    "formats": r"offers: .+ \(\+.+\)",
    "language": r"works in .+ \(\+.+\)",
    "languages_not_given": r"working languages not given by the expert \(\+.+\)",
    "country": r"has worked in .+ \(\+.+\)",
    "availability": r"\d+ of \d+ engagement slots free \(\+.+\)",
    "feedback": r"feedback \d\.\d/5 from \d+ engagements? \(\+.+\)",
    "text_baseline": r"less this request's (mean|top-\d+ mean) text similarity to the "
    r"directory, \d\.\d\d \(-\d\.\d\d\d\)",
}
SIGNAL_CODES = {
    "text": "text",
    "themes": "themes",
    "target_groups": "target_groups",
    "formats": "formats",
    "language": "language",
    "languages_not_given": "language",
    "country": "country",
    "availability": "availability",
    "feedback": "feedback",
}


def by_code(match: Match) -> dict[str, tuple[str, Reason]]:
    return {e.code: (r, e) for r, e in zip(match.reasons, match.explanations, strict=True)}


def check_aligned(match: Match) -> None:
    """One explanation per reason, same order, the right keys, plain data, matching text."""
    assert len(match.explanations) == len(match.reasons)
    for text, reason in zip(match.reasons, match.explanations, strict=True):
        assert isinstance(reason, Reason)
        assert set(reason.values) == set(REASON_CODES[reason.code])
        json.dumps(dict(reason.values))  # codes and numbers only: serialisable as they are
        assert re.fullmatch(ENGLISH[reason.code], text), (reason.code, text)
        if reason.code in SIGNAL_CODES:
            c = match.contributions[SIGNAL_CODES[reason.code]]
            assert reason.contribution == pytest.approx(c)
            assert text.endswith(f"(+{c:.3f})")
        elif reason.code == "text_baseline":
            assert reason.contribution == pytest.approx(match.contributions["text_baseline"])
            assert text.endswith(f"(-{-reason.contribution:.3f})")


@pytest.fixture
def request_with_everything() -> RequestProfile:
    return RequestProfile(
        id="fam",
        text="Parents are worried that their sons are joining a violent Islamist group; "
        "we need counselling for these families and family support after release.",
        themes={"family_network_support", "exit_mentoring"},
        target_groups={"families", "released_terrorist_offenders"},
        formats={"training"},
        languages={"en"},
        country="DE",
        excluded={"face": "conflict of interest with the city"},
    )


def test_each_signal_reason_carries_codes_and_numbers(
    matcher: Matcher, request_with_everything: RequestProfile
) -> None:
    ranked = {m.expert_id: m for m in matcher.rank(request_with_everything, k=None)}
    hayat = by_code(ranked["hayat"])
    text, reason = hayat["text"]
    assert reason.values["similarity"] == pytest.approx(ranked["hayat"].signals["text"])
    assert reason.values["terms"] == ("families", "counselling", "islamist")
    assert reason.values["concepts"] == ("family_network_support", "families")
    assert text.startswith(f"text similarity {reason.values['similarity']:.2f}; ")
    assert "top shared terms: families, counselling, islamist" in text
    assert hayat["themes"][1].values["codes"] == ("family_network_support",)
    assert hayat["target_groups"][1].values["codes"] == ("families",)
    assert hayat["language"][1].values["codes"] == ("en",)
    assert dict(hayat["availability"][1].values) == {"free": 2, "capacity": 2}

    vpn = by_code(ranked["vpn"])
    assert vpn["themes"][1].values["codes"] == ("exit_mentoring",)
    assert vpn["target_groups"][1].values["codes"] == ("released_terrorist_offenders",)
    assert vpn["formats"][1].values["codes"] == ("training",)
    assert vpn["country"][1].values["code"] == "DE"
    assert vpn["country"][0].startswith("has worked in Germany")
    assert dict(vpn["feedback"][1].values) == {"mean": 4.5, "n": 2}
    assert vpn["feedback"][0].startswith("feedback 4.5/5 from 2 engagements")
    assert dict(vpn["availability"][1].values) == {"free": 2, "capacity": 3}

    baseline = vpn["text_baseline"][1]
    assert baseline.values["kind"] == "mean"
    assert baseline.values["k"] == CSLS_K
    assert baseline.contribution == pytest.approx(
        -matcher.weights_["text"] * baseline.values["baseline"]
    )
    for m in ranked.values():
        check_aligned(m)


def test_head_reasons_veto_language_and_capacity(
    matcher: Matcher, request_with_everything: RequestProfile
) -> None:
    ranked = matcher.rank(request_with_everything, k=None, include_excluded=True)
    face = next(m for m in ranked if m.expert_id == "face")
    assert face.explanations[0] == Reason(
        "excluded", {"reason": "conflict of interest with the city"}, None
    )
    assert face.reasons[0] == "excluded: conflict of interest with the city"

    rj = next(m for m in ranked if m.expert_id == "rj")
    assert [e.code for e in rj.explanations[:2]] == ["no_common_language", "at_capacity"]
    language, capacity = rj.explanations[:2]
    assert dict(language.values) == {"expert_languages": ("ca", "es"), "request_languages": ("en",)}
    assert language.contribution == -LANGUAGE_PENALTY
    assert dict(capacity.values) == {"active": 1, "capacity": 1}
    assert capacity.contribution == -CAPACITY_PENALTY
    assert rj.reasons[:2] == (
        "no common working language (expert: ca, es; request: en)",
        "at capacity (1 of 1 engagements)",
    )
    for m in ranked:
        check_aligned(m)


def test_languages_not_given_and_csls_baseline() -> None:
    m = Matcher(text_baseline="csls").fit(
        [
            ExpertProfile(id="a", documents=["family counselling for parents"]),
            ExpertProfile(id="b", documents=["x y z"], languages={"de"}),
        ]
    )
    a = m.explain(RequestProfile(text="family counselling", languages={"es"}), "a")
    codes = by_code(a)
    assert codes["languages_not_given"][1].values == {}
    assert codes["text_baseline"][1].values["kind"] == "csls"
    assert f"top-{CSLS_K} mean" in codes["text_baseline"][0]
    check_aligned(a)


def test_labels_change_the_english_text_not_the_codes(
    experts: list[ExpertProfile], request_with_everything: RequestProfile
) -> None:
    labelled = Matcher(labels={"exit_mentoring": "Exit work", "DE": "Deutschland"}).fit(experts)
    vpn = by_code(labelled.explain(request_with_everything, "vpn"))
    assert vpn["themes"][0].startswith("shares themes: Exit work (+")
    assert vpn["themes"][1].values["codes"] == ("exit_mentoring",)
    assert vpn["country"][0].startswith("has worked in Deutschland (+")
    assert vpn["country"][1].values["code"] == "DE"


def test_every_reason_code_is_produced_and_aligned(eval_set: EvalSet) -> None:
    experts = list(eval_set.experts)
    experts[0] = dataclasses.replace(experts[0], capacity=2, active_engagements=2)
    experts[1] = dataclasses.replace(experts[1], languages=frozenset())
    matcher = Matcher().fit(experts)
    seen: set[str] = set()
    for req in eval_set.requests:
        req = dataclasses.replace(req, excluded={experts[2].id: "conflict"})
        for match in matcher.rank(req, k=None, include_excluded=True):
            check_aligned(match)
            seen.update(e.code for e in match.explanations)
    assert seen == set(REASON_CODES)


def test_reason_and_match_validate_their_data() -> None:
    with pytest.raises(ValueError, match="unknown reason code"):
        Reason("shares themes", {"codes": ("x",)})
    with pytest.raises(ValueError, match=r"lack \['capacity'\]"):
        Reason("availability", {"free": 1})
    reason = Reason("themes", {"codes": ("x",)}, 0.1)
    assert hash(reason) == hash(Reason("themes", {"codes": ("x",)}, 0.1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        reason.code = "formats"  # type: ignore[misc]
    fields = {"expert_id": "a", "score": 0.1, "contributions": {}, "signals": {}}
    fields |= {"has_common_language": None, "at_capacity": False}
    with pytest.raises(ValueError, match="one per reason"):
        Match(reasons=("a", "b"), explanations=(reason,), **fields)
    assert Match(reasons=("a",), **fields).explanations == ()  # built by hand: none given
