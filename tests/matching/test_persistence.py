"""Saving and loading only inside the instance folder, refitting on any mismatch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from matching import Matcher, RequestProfile, fingerprint, load_matcher, load_or_fit, save_matcher
from matching.persistence import matcher_path
from tests.matching.conftest import small_directory

REQ = RequestProfile(text="counselling for families", languages={"en"})


def test_round_trip(tmp_path: Path) -> None:
    experts = small_directory()
    m = Matcher().fit(experts)
    fp = fingerprint(experts, m)
    path = save_matcher(m, tmp_path, "directory", fp)
    assert path == tmp_path.resolve() / "matching" / "directory.joblib"
    loaded = load_matcher(tmp_path, "directory", fp)
    assert isinstance(loaded, Matcher)
    np.testing.assert_array_equal(loaded.score_matrix([REQ]), m.score_matrix([REQ]))
    assert loaded.rank(REQ) == m.rank(REQ)


def test_missing_file_returns_none(tmp_path: Path) -> None:
    assert load_matcher(tmp_path, "nothing", "fp") is None


def test_fingerprint_mismatch_returns_none(tmp_path: Path) -> None:
    experts = small_directory()
    m = Matcher().fit(experts)
    save_matcher(m, tmp_path, "d", fingerprint(experts, m))
    assert load_matcher(tmp_path, "d", fingerprint(experts[:3], m)) is None
    assert load_matcher(tmp_path, "d", fingerprint(experts, Matcher(combine="max"))) is None


def test_version_mismatch_returns_none(tmp_path: Path) -> None:
    m = Matcher().fit(small_directory())
    path = save_matcher(m, tmp_path, "d", "fp")
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["sklearn_version"] = "0.0.1"
    meta_path.write_text(json.dumps(meta))
    assert load_matcher(tmp_path, "d", "fp") is None


def test_tampered_file_is_not_unpickled(tmp_path: Path) -> None:
    m = Matcher().fit(small_directory())
    path = save_matcher(m, tmp_path, "d", "fp")
    path.write_bytes(b"not what was saved")
    assert load_matcher(tmp_path, "d", "fp") is None


@pytest.mark.parametrize(
    "name", ["../escape", "/etc/passwd", "a/b", "", "..", ".hidden", "x" * 200]
)
def test_refuses_names_that_leave_the_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        matcher_path(tmp_path, name)
    with pytest.raises(ValueError):
        load_matcher(tmp_path, name, "fp")


def test_refuses_symlink_out_of_the_folder(tmp_path: Path) -> None:
    instance, outside = tmp_path / "instance", tmp_path / "outside"
    instance.mkdir()
    outside.mkdir()
    m = Matcher().fit(small_directory())
    save_matcher(m, outside, "d", "fp")
    os.symlink(outside / "matching", instance / "matching")
    with pytest.raises(ValueError, match="outside the instance folder"):
        load_matcher(instance, "d", "fp")
    (instance / "matching").unlink()
    (instance / "matching").mkdir()
    os.symlink(outside / "matching" / "d.joblib", instance / "matching" / "d.joblib")
    with pytest.raises(ValueError, match="outside the instance folder"):
        load_matcher(instance, "d", "fp")


def test_refuses_missing_instance_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        save_matcher(Matcher().fit(small_directory()), tmp_path / "nope", "d", "fp")


def test_save_needs_fitted_matcher_and_fingerprint(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        save_matcher(Matcher().fit(small_directory()), tmp_path, "d", "")
    with pytest.raises(Exception, match="not fitted"):
        save_matcher(Matcher(), tmp_path, "d", "fp")


def test_load_or_fit_refits_on_change(tmp_path: Path) -> None:
    experts = small_directory()
    first = load_or_fit(tmp_path, "d", experts, stamp="v1")
    path = tmp_path / "matching" / "d.joblib"
    mtime = path.stat().st_mtime_ns
    again = load_or_fit(tmp_path, "d", experts, stamp="v1")
    assert again is not first and again.expert_ids_ == first.expert_ids_
    assert path.stat().st_mtime_ns == mtime  # loaded, not rewritten
    changed = load_or_fit(tmp_path, "d", experts[:2], stamp="v1")
    assert changed.expert_ids_ == ["vpn", "hayat"]
    restamped = load_or_fit(tmp_path, "d", experts[:2], stamp="v2")
    assert restamped.expert_ids_ == ["vpn", "hayat"]


def test_fingerprint_is_order_and_content_sensitive() -> None:
    e = small_directory()
    assert fingerprint(e) == fingerprint(small_directory())
    assert fingerprint(e) != fingerprint(e[::-1])
    assert len(fingerprint(e)) == 64
