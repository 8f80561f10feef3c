"""How long the staff's ranked-experts page takes, against the app's own /healthz in the same run.

    python bench/app_ranking.py [--organisations N] [--repeat R]

Builds a fresh SQLite database from the migrations, loads the demo data (five PREPARE expert
organisations), optionally adds N synthetic organisations, and times through the test client:
the /healthz route (baseline), the ranking function alone (warm per-process cache), and the
whole ranked-experts page (sign-in cookie, queries, ranking, template). Prints p50/p95 in ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from assist import create_app  # noqa: E402
from assist.auth.models import User  # noqa: E402
from assist.demo import seed  # noqa: E402
from assist.directory import services as directory_services  # noqa: E402
from assist.engagements import ranking  # noqa: E402
from assist.extensions import db  # noqa: E402
from assist.requests.models import AssistanceRequest  # noqa: E402

WORDS = (
    "probation prison release exit mentoring family counselling restorative dialogue training "
    "risk assessment protocol municipality police youth justice employment housing mental health "
    "returnees women juveniles jihadist right-wing extremism case conference evaluation workshop"
).split()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=0, help="synthetic ones to add")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="assist-bench-"))
    app = create_app(
        {
            "ASSIST_ENV": "development",
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
            "MATCHING_CACHE_DIR": str(tmp),
            "WTF_CSRF_ENABLED": False,
        }
    )
    rng = random.Random(7)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed("bench password 2026")
        admin = db.session.scalar(sa.select(User).where(User.role == "admin"))
        for i in range(args.organisations):
            directory_services.save_organisation(
                admin,
                directory_services.OrganisationData(
                    name=f"Synthetic organisation {i}",
                    country=rng.choice(["DE", "FR", "ES", "NL", "BE", "SE"]),
                    description=" ".join(rng.choices(WORDS, k=150)),
                    capacity=rng.randint(0, 4),
                    terms={"languages": rng.sample(["en", "fr", "es", "nl", "de"], 2)},
                ),
            )
        db.session.commit()
        staff = db.session.scalar(sa.select(User).where(User.role == "staff"))
        request_ids = list(db.session.scalars(sa.select(AssistanceRequest.id)))
        token = staff.session_token
        # A session row that passed the second factor (staff always need one), as after a
        # full sign-in; without it every page would send staff to the set-up page.
        from assist.auth.sessions import start_session

        _, sid = start_session(staff, user_agent="bench", second_factor=True)
        db.session.commit()
        n_orgs = len(ranking.fitted().names)
        start = time.perf_counter()
        ranking.reset_cache()
        ranking.fitted()
        build_ms = (time.perf_counter() - start) * 1000

        reqs = [db.session.get(AssistanceRequest, i) for i in request_ids]
        rank_only = timed(lambda: ranking.rank_experts(rng.choice(reqs)), args.repeat)

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_sid"] = sid
    baseline = timed(lambda: client.get("/healthz"), args.repeat)
    page = timed(lambda: client.get(f"/requests/{rng.choice(request_ids)}/experts"), args.repeat)
    if client.get(f"/requests/{request_ids[0]}/experts").status_code != 200:
        raise SystemExit("the ranking page did not answer 200: the figures would mean nothing")

    def row(name: str, values: list[float]) -> str:
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        return f"{name:<34} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms"

    print(
        f"directory: {n_orgs} active organisations; index build {build_ms:.0f} ms "
        "(after reset_cache(): no index in this process, its documents already analysed)"
    )
    print(row("baseline GET /healthz", baseline))
    print(row("rank_experts() (warm cache)", rank_only))
    print(row("GET /requests/<id>/experts", page))
    ratio = statistics.median(page) / statistics.median(baseline)
    print(f"{'page / baseline (p50)':<34} {ratio:.1f} x   target: page well under 100 ms")


if __name__ == "__main__":
    main()
