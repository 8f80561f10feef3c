"""Bad input gives a clear ValueError at the edge, never a crash inside scikit-learn."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import Decision, ExpertProfile, Matcher, RequestProfile
from tests.matching.conftest import small_directory


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": ""}, "non-empty string"),
        ({"id": 3}, "non-empty string"),
        ({"documents": "one long string"}, "not a single string"),
        ({"documents": ["fine", 42]}, "document 1 is a int"),
        ({"documents": ["fine", None]}, "document 1 is a NoneType"),
        ({"themes": "exit_mentoring"}, "not a single string"),
        ({"themes": ["exit_mentoring", ""]}, "non-empty strings"),
        ({"languages": ["english"]}, "ISO 639-1"),
        ({"countries": ["Spain"]}, "ISO 3166"),
        ({"capacity": -1}, "non-negative integer"),
        ({"capacity": True}, "non-negative integer"),
        ({"active_engagements": 1.5}, "non-negative integer"),
        ({"feedback": [7]}, "outside 1-5"),
        ({"feedback": [float("nan")]}, "not a number"),
    ],
)
def test_expert_profile_rejects(kwargs: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"id": "x", "documents": ["profile text"]}
    with pytest.raises(ValueError, match=message):
        ExpertProfile(**{**base, **kwargs})


def test_expert_profile_normalises() -> None:
    e = ExpertProfile(
        id=" x ", documents=["a b", "  "], languages=["EN"], countries={"es"}, themes=["t", "t"]
    )
    assert e.id == "x"
    assert e.documents == ("a b",)
    assert e.languages == frozenset({"en"})
    assert e.countries == frozenset({"ES"})
    assert e.themes == frozenset({"t"})
    assert hash(e) == hash(
        ExpertProfile(id="x", documents=["a b"], languages={"en"}, countries={"ES"}, themes={"t"})
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "   "}, "is empty"),
        ({"text": None}, "text must be a string"),
        ({"text": ["a list"]}, "text must be a string"),
        ({"text": "ok", "excluded": {"vpn": ""}}, "needs a reason"),
        ({"text": "ok", "excluded": ["vpn"]}, "excluded must map"),
        ({"text": "ok", "demand": 0}, "at least 1"),
        ({"text": "ok", "country": "Spain"}, "ISO 3166"),
        ({"text": "ok", "languages": "es"}, "not a single string"),
        ({"text": "ok", "id": ""}, "non-empty string"),
    ],
)
def test_request_profile_rejects(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RequestProfile(**kwargs)


def test_empty_expert_is_accepted_and_scores_no_text() -> None:
    m = Matcher().fit([*small_directory(), ExpertProfile(id="new", documents=["   "])])
    ranked = m.rank(RequestProfile(text="families"), k=None)
    new = next(x for x in ranked if x.expert_id == "new")
    assert new.signals["text"] == 0.0
    assert new.score < ranked[0].score


def test_request_is_hashable() -> None:
    r = RequestProfile(text="x", excluded={"a": "b"}, themes=["t"])
    assert hash(r) == hash(RequestProfile(text="x", excluded={"a": "b"}, themes={"t"}))


@pytest.mark.parametrize(
    ("experts", "message"),
    [
        ([], "directory is empty"),
        ("not a list", "list of ExpertProfile"),
        (["text"], "not an ExpertProfile"),
        ([{"id": "x"}], "not an ExpertProfile"),
    ],
)
def test_fit_rejects(experts: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Matcher().fit(experts)


def test_fit_rejects_duplicate_ids() -> None:
    e = small_directory()
    with pytest.raises(ValueError, match=r"duplicate expert ids: \['vpn'\]"):
        Matcher().fit([*e, e[0]])


def test_fit_rejects_documents_without_words() -> None:
    with pytest.raises(ValueError, match="no usable words"):
        Matcher().fit([ExpertProfile(id="a", documents=["the of and", "123 !!"])])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"analyzer": "bogus"}, "analyzer must be one of"),
        ({"combine": "sum"}, "combine must be one of"),
        ({"prefix_length": 1}, "prefix_length"),
        ({"weights": {"bogus": 1.0}}, "unknown signal"),
        ({"weights": {"text": -1.0}}, "non-negative"),
        ({"weights": {"text": 0.0}}, "at least one weight"),
        ({"min_decisions": 0}, "min_decisions"),
        ({"vocabulary": {"colours": {"red"}}}, "unknown field"),
    ],
)
def test_bad_parameters(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Matcher(**params).fit(small_directory())


def test_vocabulary_rejects_unknown_codes() -> None:
    vocab = {
        "themes": {
            "exit_mentoring",
            "staff_training",
            "release_transition",
            "family_network_support",
        }
    }
    with pytest.raises(
        ValueError, match=r"expert 'rj': unknown themes code\(s\) \['restorative_justice'\]"
    ):
        Matcher(vocabulary=vocab).fit(small_directory())
    m = Matcher(vocabulary={"themes": vocab["themes"] | {"restorative_justice", "employment"}}).fit(
        small_directory()
    )
    with pytest.raises(ValueError, match=r"unknown themes code\(s\) \['exit_work'\]"):
        m.rank(RequestProfile(text="x", themes={"exit_work"}))
    # Without a vocabulary any non-empty code is accepted.
    Matcher().fit(small_directory()).rank(RequestProfile(text="x", themes={"exit_work"}))


@pytest.mark.parametrize("k", [0, -1, 2.5, True, "3"])
def test_rank_rejects_bad_k(matcher: Matcher, k: Any) -> None:
    with pytest.raises(ValueError, match="k must be"):
        matcher.rank(RequestProfile(text="x"), k=k)


def test_rank_rejects_non_request(matcher: Matcher) -> None:
    with pytest.raises(ValueError, match="RequestProfile"):
        matcher.rank("families")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="list of RequestProfile"):
        matcher.score_matrix(RequestProfile(text="x"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a RequestProfile"):
        matcher.score_matrix(["x"])  # type: ignore[list-item]


def test_empty_request_list(matcher: Matcher) -> None:
    assert matcher.score_matrix([]).shape == (0, 4)


def test_unknown_words_give_zero_text(matcher: Matcher) -> None:
    ranked = matcher.rank(RequestProfile(text="zzqx wqpl 12345 !!!"), k=None)
    assert len(ranked) == 4
    assert all(m.signals["text"] == 0.0 for m in ranked)


def test_decision_validation() -> None:
    r = RequestProfile(text="x")
    with pytest.raises(ValueError, match="both chosen and passed over"):
        Decision(request=r, chosen="a", passed_over=["a"])
    with pytest.raises(ValueError, match="RequestProfile"):
        Decision(request="x", chosen="a")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a single string"):
        Decision(request=r, chosen="a", passed_over="b")


_FITTED = Matcher().fit(small_directory())


@settings(max_examples=60, deadline=None, database=None)
@given(st.text(min_size=1, max_size=300))
def test_any_text_ranks_without_crashing(text: str) -> None:
    try:
        req = RequestProfile(text=text)
    except ValueError:
        assert not text.strip()
        return
    ranked = _FITTED.rank(req, k=None)
    assert len(ranked) == 4
    assert all(-2.0 < m.score <= 1.0 for m in ranked)
