"""Cheaper saving (uncompressed by default) keeps every integrity check of matching/persistence."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from matching import Matcher, RequestProfile, fingerprint, load_matcher, save_matcher
from tests.matching.conftest import small_directory

REQ = RequestProfile(text="counselling for families", languages={"en"})


@pytest.mark.parametrize("compress", [0, 3])
def test_either_level_round_trips_with_its_sidecar(tmp_path: Path, compress: int) -> None:
    experts = small_directory()
    m = Matcher().fit(experts)
    fp = fingerprint(experts, m)
    path = save_matcher(m, tmp_path, "d", fp, compress=compress)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert set(meta) == {"format", "sklearn_version", "fingerprint", "sha256"}
    loaded = load_matcher(tmp_path, "d", fp)
    np.testing.assert_array_equal(loaded.score_matrix([REQ]), m.score_matrix([REQ]))
    assert load_matcher(tmp_path, "d", "another fingerprint") is None


def test_default_is_uncompressed(tmp_path: Path) -> None:
    m = Matcher().fit(small_directory())
    plain = save_matcher(m, tmp_path, "plain", "fp").stat().st_size
    packed = save_matcher(m, tmp_path, "packed", "fp", compress=3).stat().st_size
    assert plain > packed
    assert isinstance(joblib.load(tmp_path / "matching" / "plain.joblib"), Matcher)


def test_an_uncompressed_file_changed_by_one_byte_is_not_unpickled(tmp_path: Path) -> None:
    m = Matcher().fit(small_directory())
    path = save_matcher(m, tmp_path, "d", "fp")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    assert load_matcher(tmp_path, "d", "fp") is None


@pytest.mark.parametrize("compress", [-1, 10, True, 1.5, "3"])
def test_refuses_a_level_joblib_does_not_have(tmp_path: Path, compress: object) -> None:
    m = Matcher().fit(small_directory())
    with pytest.raises(ValueError, match="compress"):
        save_matcher(m, tmp_path, "d", "fp", compress=compress)  # type: ignore[arg-type]
    assert not (tmp_path / "matching" / "d.joblib").exists()
