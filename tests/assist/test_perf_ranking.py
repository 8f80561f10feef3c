"""Cheaper index rebuilds (assist/engagements/ranking.py): the same rankings, less work.

A process's first build loads what another one saved for the stamp, or fits and saves; later
builds refit in memory (their analysed documents are cached by matching.text) and save
nothing. Organisations come from plain rows, and unchanged ones keep their profile object.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assist.delivery import services as delivery
from assist.directory.models import ExpertOrganisation
from assist.directory.queries import term_labels
from assist.engagements import ranking
from assist.engagements import services as engagement_services
from assist.extensions import db
from matching import Matcher, load_or_fit
from tests.assist.delivery.test_delivery import RECORD, deliver, world  # noqa: F401 - fixture
from tests.assist.test_ranking import directory, request_for  # noqa: F401 - fixture
from tests.factories import make_organisation, tag


@pytest.fixture
def cold(app, tmp_path, monkeypatch):
    """A process that has not built an index yet, saving into its own folder."""
    monkeypatch.setitem(app.config, "MATCHING_CACHE_DIR", str(tmp_path))
    cache = ranking._cache()
    monkeypatch.setattr(cache, "warm", False)
    monkeypatch.setattr(cache, "profiles", {})
    ranking.reset_cache()
    return tmp_path / "matching" / "experts.joblib"


def _fresh_matcher() -> Matcher:
    """What a new process would fit for the current database, with no cache at all."""
    rows = sa.select(ExpertOrganisation).where(ExpertOrganisation.is_active)
    orgs = sorted(db.session.scalars(rows), key=lambda o: o.id)
    from assist.engagements.queries import active_engagement_counts

    active = active_engagement_counts()
    reports, ratings = ranking.delivery_history()
    profiles = [
        ranking.expert_profile(o, active.get(o.id, 0), reports.get(o.id, ()), ratings.get(o.id, ()))
        for o in orgs
    ]
    return Matcher(labels=term_labels(ranking.LABEL_KINDS)).fit(profiles)


def test_first_build_saves_later_ones_refit_without_writing(app, directory, cold) -> None:  # noqa: F811
    exit_org, _ = directory
    req = request_for()
    first = ranking.rank_experts(req)
    assert cold.is_file()  # the first build of the process fitted and saved
    written = cold.stat().st_mtime_ns
    exit_org.capacity = 5  # moves the stamp
    db.session.flush()
    second = ranking.rank_experts(req)
    assert cold.stat().st_mtime_ns == written  # refitted in memory, nothing saved
    assert [r.name for r in first] == [r.name for r in second]
    assert ranking._cache().warm


def test_a_new_process_loads_what_another_saved_for_the_stamp(app, directory, cold) -> None:  # noqa: F811
    ranking.fitted()
    written = cold.stat().st_mtime_ns
    ranking._cache().warm = False
    ranking.reset_cache()
    ranking.fitted()
    assert cold.stat().st_mtime_ns == written  # loaded, not fitted and saved again


def test_refitted_index_ranks_like_a_fresh_process(app, directory, cold) -> None:  # noqa: F811
    exit_org, rj_org = directory
    req = request_for()
    ranking.rank_experts(req)
    # Changes of every kind the index reads, each followed by a rebuild in this warm process.
    exit_org.description += " Also: mentoring of returnees' families."
    db.session.flush()
    ranking.rank_experts(req)
    tag(
        make_organisation("New Circle", description="Family counselling after release."),
        themes=["family_network_support"],
        languages=["es"],
    )
    rj_org.is_active = False
    db.session.flush()
    warm = ranking.fitted().matcher
    fresh = _fresh_matcher()
    profile = ranking.request_profile(req, ranking.vetoes_for(req))
    assert warm.expert_ids_ == fresh.expert_ids_
    assert warm.experts_ == fresh.experts_
    assert warm.rank(profile, k=None) == fresh.rank(profile, k=None)


def test_unchanged_organisations_keep_their_profile_object(app, directory, cold) -> None:  # noqa: F811
    exit_org, rj_org = directory
    before = {p.id: p for p in ranking.fitted().matcher.experts_}
    rj_org.capacity = 9
    db.session.flush()
    after = {p.id: p for p in ranking.fitted().matcher.experts_}
    assert after[str(exit_org.id)] is before[str(exit_org.id)]
    assert after[str(rj_org.id)] is not before[str(rj_org.id)]
    assert after[str(rj_org.id)].capacity == 9
    rj_org.is_active = False
    db.session.flush()
    assert set(ranking._cache().profiles) >= {exit_org.id}
    ranking.fitted()
    assert rj_org.id not in ranking._cache().profiles  # only the current directory is kept


def test_plain_rows_make_the_same_profiles_as_the_model(app, directory) -> None:  # noqa: F811
    rows = {row.id: row for row in ranking._directory()}
    for org in db.session.scalars(sa.select(ExpertOrganisation)):
        if org.is_active:
            assert ranking.expert_profile(rows[org.id]) == ranking.expert_profile(org)
            assert rows[org.id].name == org.name
        else:
            assert org.id not in rows


def test_load_or_fit_still_checks_what_it_loads(app, directory, cold) -> None:  # noqa: F811
    ranking.fitted()
    profiles = ranking.fitted().matcher.experts_
    # Another stamp, or other profiles, never load that file.
    other = load_or_fit(cold.parent.parent, "experts", profiles[:1], stamp="another")
    assert other.expert_ids_ == [profiles[0].id]


# --- delivered reports: up to MATCHING_REPORTS_MAX_AGE late, nothing else --------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = _Clock()
    monkeypatch.setattr(ranking, "_clock", fake)
    return fake


def _documents(org) -> list[str]:
    profile = next(p for p in ranking.fitted().matcher.experts_ if p.id == str(org.id))
    return list(profile.documents)


def _second_report(w: dict, text: str) -> None:
    activity = delivery.plan_activity(
        w["engagement"],
        w["expert"],
        delivery.PlanData(format="training", topic=text, place="Málaga"),
    )
    delivery.record_activity(activity, w["expert"], RECORD)


def test_a_new_report_reaches_the_index_within_the_max_age(app, world, clock) -> None:  # noqa: F811
    deliver(world)
    ranking.reset_cache()
    first = ranking.fitted()
    _second_report(world, "Workshop on family counselling")
    kept = ranking.fitted()
    assert kept.stamp == ranking.current_stamp() != first.stamp
    assert kept.matcher is first.matcher  # only a report changed: not refitted yet
    assert not any("family counselling" in d for d in _documents(world["org"]))
    clock.now += ranking.REPORTS_MAX_AGE - 1
    assert ranking.fitted() is kept
    clock.now += 1  # the kept reports are now REPORTS_MAX_AGE old: refit, same stamp
    assert any("family counselling" in d for d in _documents(world["org"]))
    refitted = ranking.fitted()
    assert refitted.matcher is not first.matcher and not refitted.stale
    assert ranking.fitted() is refitted


def test_max_age_zero_refits_on_every_report(app, world, clock, monkeypatch) -> None:  # noqa: F811
    monkeypatch.setitem(app.config, "MATCHING_REPORTS_MAX_AGE", 0)
    deliver(world)
    first = ranking.fitted()
    _second_report(world, "Workshop on family counselling")
    assert ranking.fitted().matcher is not first.matcher
    assert any("family counselling" in d for d in _documents(world["org"]))


@pytest.mark.parametrize("change", ["profile", "capacity", "inactive", "capacity_in_use", "rating"])
def test_everything_but_reports_applies_at_once(app, world, clock, change) -> None:  # noqa: F811
    org, e = world["org"], world["engagement"]
    deliver(world)
    _second_report(world, "Workshop on family counselling")
    first = ranking.fitted()
    if change == "profile":
        org.description = "Mediation and restorative justice."
    elif change == "capacity":
        org.capacity = 7
    elif change == "inactive":
        org.is_active = False
    elif change == "capacity_in_use":
        engagement_services.transition_engagement(e, world["expert"], "finish_delivery")
        for activity in e.activities:
            delivery.transition_activity(activity, world["city"], "confirm")
        delivery.rate_engagement(e, world["city"], 4, "")
        engagement_services.transition_engagement(e, world["staff"], "close")
    else:
        engagement_services.transition_engagement(e, world["expert"], "finish_delivery")
        for activity in e.activities:
            delivery.transition_activity(activity, world["city"], "confirm")
        delivery.rate_engagement(e, world["city"], 2, "")
    db.session.flush()
    index = ranking.fitted()
    assert index.matcher is not first.matcher and not index.stale
    if change == "inactive":
        assert str(org.id) not in index.names
        return
    profile = next(p for p in index.matcher.experts_ if p.id == str(org.id))
    assert any("family counselling" in d for d in profile.documents)  # reports read again too
    if change == "profile":
        assert profile.documents[0] == "Mediation and restorative justice."
    elif change == "capacity":
        assert profile.capacity == 7
    elif change == "capacity_in_use":
        assert profile.active_engagements == 0
    else:
        assert list(profile.feedback) == [2]
