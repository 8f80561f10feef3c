"""Save and load fitted matchers, only inside the app's instance folder, refitting on mismatch."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from matching.concepts import LEXICON_PATH
from matching.matcher import Matcher
from matching.profiles import ExpertProfile

__all__ = [
    "FORMAT_VERSION",
    "fingerprint",
    "load_matcher",
    "load_or_fit",
    "matcher_path",
    "save_matcher",
]

#: Bumped when the saved layout or the Matcher's learned state changes shape
#: (2: Matcher gained `text_baseline`; a version-1 pickle would lack it.
#: 3: Matcher gained `concepts` and `concept_weight`.)
FORMAT_VERSION = 3
SUBDIR = "matching"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def _canonical(obj: Any) -> Any:
    """A JSON-serialisable, order-independent form of profiles and parameters."""
    if isinstance(obj, ExpertProfile):
        return {k: _canonical(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (set, frozenset)):
        return sorted(_canonical(v) for v in obj)
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return repr(obj)


def fingerprint(experts: Sequence[ExpertProfile], matcher: Matcher | None = None) -> str:
    """A SHA-256 of the directory (and the matcher's parameters).

    Parameters
    ----------
    experts : sequence of ExpertProfile
        In fit order (order changes the score columns, so it is part of the hash).
    matcher : Matcher or None, default=None
        Its ``get_params()`` are included when given.

    Returns
    -------
    str
        64 hex digits.
    """
    payload = {
        "experts": [_canonical(e) for e in experts],
        "params": None if matcher is None else _canonical(matcher.get_params()),
    }
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def matcher_path(instance_dir: str | os.PathLike[str], name: str) -> Path:
    """The joblib file for ``name`` under ``instance_dir/matching/``, checked to stay inside.

    Raises
    ------
    ValueError
        ``instance_dir`` is not an existing directory, ``name`` is not a plain
        file stem, or the path (after resolving symlinks) leaves the folder.
    """
    root = Path(instance_dir)
    if not root.is_dir():
        raise ValueError(f"instance folder {str(root)!r} does not exist or is not a directory")
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ValueError(
            f"matcher name {name!r} must be letters, digits, '_', '-' or '.' (no path)"
        )
    root = root.resolve(strict=True)
    path = (root / SUBDIR / f"{name}.joblib").resolve()
    if not path.is_relative_to(root / SUBDIR):
        raise ValueError(f"refusing {str(path)!r}: it is outside the instance folder {str(root)!r}")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_atomic(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_matcher(
    matcher: Matcher,
    instance_dir: str | os.PathLike[str],
    name: str,
    fingerprint: str,
    *,
    compress: int = 0,
) -> Path:
    """Save a fitted matcher as ``instance_dir/matching/<name>.joblib`` plus a JSON sidecar.

    The sidecar records the scikit-learn version, the data fingerprint and the
    file's SHA-256; :func:`load_matcher` reads it before unpickling anything.

    Parameters
    ----------
    matcher : Matcher
        Fitted.
    instance_dir : path
        The app's instance folder (must exist).
    name : str
        File stem, e.g. ``"directory"``.
    fingerprint : str
        Identifies the data the matcher was fitted on (see :func:`fingerprint`
        or the app's version stamp).
    compress : int, default=0
        joblib's zlib level. Uncompressed is the fastest to write and to read back
        (500 organisations: 1.7 MB, dump ~27 ms and load ~14 ms, against 0.45 MB, ~45 ms
        and ~20 ms at level 3); the SHA-256 check is the same either way.

    Returns
    -------
    Path
        The joblib file written.
    """
    check_is_fitted(matcher, "weights_")
    if not isinstance(fingerprint, str) or not fingerprint:
        raise ValueError("fingerprint must be a non-empty string")
    if isinstance(compress, bool) or not isinstance(compress, int) or not 0 <= compress <= 9:
        raise ValueError(f"compress must be an integer from 0 to 9, got {compress!r}")
    path = matcher_path(instance_dir, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(path, lambda p: joblib.dump(matcher, p, compress=compress))
    meta = {
        "format": FORMAT_VERSION,
        "sklearn_version": sklearn.__version__,
        "fingerprint": fingerprint,
        "sha256": _sha256(path),
    }
    meta_path = path.with_suffix(".json")
    _write_atomic(meta_path, lambda p: p.write_text(json.dumps(meta, indent=2), encoding="utf-8"))
    return path


def load_matcher(
    instance_dir: str | os.PathLike[str], name: str, fingerprint: str
) -> Matcher | None:
    """Load a matcher saved by :func:`save_matcher`, or ``None`` if it should be refitted.

    Returns ``None`` when the files are missing, or the sidecar's format,
    scikit-learn version or fingerprint differ, or the joblib file's hash does
    not match the sidecar. Nothing is unpickled in those cases.

    Parameters
    ----------
    instance_dir : path
    name : str
    fingerprint : str
        The fingerprint of the data the caller would fit on now.

    Returns
    -------
    Matcher or None

    Raises
    ------
    ValueError
        The path would leave the instance folder.
    """
    path = matcher_path(instance_dir, name)
    meta_path = path.with_suffix(".json")
    if not (path.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or (
        meta.get("format") != FORMAT_VERSION
        or meta.get("sklearn_version") != sklearn.__version__
        or meta.get("fingerprint") != fingerprint
        or meta.get("sha256") != _sha256(path)
    ):
        return None
    matcher = joblib.load(path)
    if not isinstance(matcher, Matcher):
        return None
    return matcher


def load_or_fit(
    instance_dir: str | os.PathLike[str],
    name: str,
    experts: Sequence[ExpertProfile],
    matcher: Matcher | None = None,
    *,
    stamp: str = "",
) -> Matcher:
    """Load the cached matcher for this directory, or fit and save a new one.

    Parameters
    ----------
    instance_dir : path
        The app's instance folder.
    name : str
        Cache file stem.
    experts : sequence of ExpertProfile
        The current directory.
    matcher : Matcher or None, default=None
        Unfitted template (parameters); ``Matcher()`` when ``None``.
    stamp : str, default=""
        Extra text mixed into the fingerprint, e.g. the database version stamp.

    Returns
    -------
    Matcher
        Fitted on ``experts``.
    """
    template = Matcher() if matcher is None else matcher
    # The lexicon is data read at fit time: editing it must invalidate the cache.
    lexicon = hashlib.sha256(LEXICON_PATH.read_bytes()).hexdigest()
    key = hashlib.sha256(
        f"{stamp}\n{fingerprint(experts, template)}\n{lexicon}".encode()
    ).hexdigest()
    cached = load_matcher(instance_dir, name, key)
    if cached is not None:
        return cached
    fitted = clone(template).fit(list(experts))
    save_matcher(fitted, instance_dir, name, key)
    return fitted
