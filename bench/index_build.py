"""What one rebuild of the matching index costs in the app, on a PostgreSQL bench database.

    .venv/bin/python bench/index_build.py [--database assist_bench] [--repeat 10] [--bumps 40]

Uses the data `bench/load.py` (``assist_bench``) or `bench/profile_pages.py --setup`
(``assist_bench_prof``) left in place: 500 expert organisations, their profiles and delivered
reports. In one process, one step at a time (median and max of --repeat runs, ms):

1. the rows -> profiles step of ``ranking.build`` (SQL included);
2. ``Matcher.fit`` with an empty per-process analysis cache (a fresh worker), then with a warm
   one (same documents), then after one organisation gained a delivered report (the common case
   under load: one new document);
3. ``save_matcher`` / ``load_matcher`` as the app calls them (file size too), and joblib with
   other compression levels for comparison;
4. ``Matcher.learn`` with the staff's decisions;
5. end to end: --bumps times, move the stamp (as any indexed write does, committed) and time
   ``rank_experts`` for a request in matching: with MATCHING_REPORTS_MAX_AGE=0 (every stamp
   refits), then as configured (a stamp change with nothing else changed is what a delivered
   report looks like, so the index is kept up to that age); then with no bump (warm). The stamp
   changes are committed to the bench database, nothing else is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import ROOT, app_env


def _timed(fn, repeat: int) -> tuple[list[float], object]:
    out, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out, result


def _row(name: str, values: list[float], extra: str = "") -> None:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    print(
        f"| {name} | {statistics.median(values):.1f} | {p95:.1f} | {len(values)} | {extra} |",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="assist_bench")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--bumps", type=int, default=40)
    args = parser.parse_args()

    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}"
    cache_dir = tempfile.mkdtemp(prefix="assist-index-")
    for k, v in app_env(url, 0, MATCHING_CACHE_DIR=cache_dir).items():
        os.environ[k] = v
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import logging

    import joblib
    import sqlalchemy as sa
    from sklearn.base import clone

    from assist import create_app
    from assist.directory.queries import term_labels
    from assist.engagements import ranking
    from assist.engagements.queries import active_engagement_counts
    from assist.engagements.views import SHOWN
    from assist.extensions import db
    from assist.requests.models import AssistanceRequest
    from assist.workflow import RequestStatus
    from matching import Matcher, load_matcher, save_matcher
    from matching import text as text_module

    clear = getattr(text_module, "clear_analysis_cache", None)
    app = create_app()
    logging.getLogger("assist.access").disabled = True
    logging.getLogger("assist.matching").disabled = True
    with app.app_context():

        def profiles():
            orgs = ranking._directory()
            active = active_engagement_counts()
            reports, ratings = ranking.delivery_history()
            template = Matcher(labels=term_labels(ranking.LABEL_KINDS))
            experts = [
                ranking.expert_profile(
                    o, active.get(o.id, 0), reports.get(o.id, ()), ratings.get(o.id, ())
                )
                for o in orgs
            ]
            return template, experts

        times, (template, experts) = _timed(profiles, args.repeat)
        n_docs = sum(len(e.documents) for e in experts)
        n_tokens = sum(len(d.split()) for e in experts for d in e.documents)
        print(
            f"directory: {len(experts)} organisations, {n_docs} documents, "
            f"~{n_tokens} words; cache folder {cache_dir}\n"
        )
        print("| step | median ms | p95 ms | runs | note |")
        print("|---|---:|---:|---:|---|")
        db.session.rollback()
        _row("rows -> profiles (SQL + profiles)", times)

        def cold_fit():
            if clear is not None:
                clear()
            return clone(template).fit(experts)

        times, fitted = _timed(cold_fit, args.repeat)
        _row("fit, empty analysis cache", times, "" if clear else "no cache in matching/text.py")
        times, fitted = _timed(lambda: clone(template).fit(experts), args.repeat)
        _row("fit, warm analysis cache", times)
        grown = list(experts)
        j = next(i for i, e in enumerate(grown) if e.documents)
        for i in range(args.repeat):
            e = grown[j]
            report = f"Delivered workshop {i} on probation, exit mentoring and family support."
            grown[j] = dataclasses.replace(e, documents=[*e.documents, report])
            t0 = time.perf_counter()
            clone(template).fit(grown)
            times[i] = (time.perf_counter() - t0) * 1000
        _row("fit, one new document", times)

        fp = "bench"
        times, path = _timed(lambda: save_matcher(fitted, cache_dir, "experts", fp), args.repeat)
        size = Path(path).stat().st_size / 1024
        _row("save_matcher (as the app saves)", times, f"{size:.0f} KiB")
        times, loaded = _timed(lambda: load_matcher(cache_dir, "experts", fp), args.repeat)
        if loaded is None:
            raise SystemExit("load_matcher refused the file it just saved")
        _row("load_matcher (sha256 + unpickle)", times)
        for level in (0, 1, 3):
            other = Path(cache_dir) / f"compress{level}.joblib"
            times, _ = _timed(
                lambda o=other, c=level: joblib.dump(fitted, o, compress=c), args.repeat
            )
            kib = other.stat().st_size / 1024
            _row(f"joblib.dump compress={level}", times, f"{kib:.0f} KiB")
            times, _ = _timed(lambda o=other: joblib.load(o), args.repeat)
            _row(f"joblib.load compress={level}", times)

        decisions = ranking.staff_decisions()
        t_learn, _ = _timed(lambda: fitted.learn(decisions), args.repeat)
        _row("learn (staff decisions)", t_learn, f"{len(decisions)} decisions")

        req_id = db.session.scalar(
            sa.select(AssistanceRequest.id)
            .where(AssistanceRequest.status == RequestStatus.MATCHING)
            .order_by(AssistanceRequest.id)
        )
        db.session.rollback()
        ranking.reset_cache()

        def bumped():
            ranking.bump_stamp()
            db.session.commit()
            req = db.session.get(AssistanceRequest, req_id)
            t0 = time.perf_counter()
            ranking.rank_experts(req, k=SHOWN)
            ms = (time.perf_counter() - t0) * 1000
            db.session.rollback()
            return ms

        max_age = app.config.get("MATCHING_REPORTS_MAX_AGE", getattr(ranking, "REPORTS_MAX_AGE", 0))
        app.config["MATCHING_REPORTS_MAX_AGE"] = 0
        bumped()  # the first one fills this process's caches
        _row("rank_experts after a stamp change, refit", [bumped() for _ in range(args.bumps)])
        app.config["MATCHING_REPORTS_MAX_AGE"] = max_age
        _row(
            "rank_experts after a stamp change, as configured",
            [bumped() for _ in range(args.bumps)],
            f"MATCHING_REPORTS_MAX_AGE {max_age} s: only the stamp moved",
        )

        def warm():
            req = db.session.get(AssistanceRequest, req_id)
            t0 = time.perf_counter()
            ranking.rank_experts(req, k=SHOWN)
            ms = (time.perf_counter() - t0) * 1000
            db.session.rollback()
            return ms

        _row("rank_experts, same stamp (warm)", [warm() for _ in range(args.bumps)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
