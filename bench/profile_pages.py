"""In-process cost of one page: Flask test client on a PostgreSQL bench database, no network.

    .venv/bin/python bench/profile_pages.py --setup            # create and seed assist_bench_prof
    .venv/bin/python bench/profile_pages.py                    # median ms and SQL queries per page
    .venv/bin/python bench/profile_pages.py --only list --profile 20   # cProfile, top 20 entries

The app runs with the production configuration (ASSIST_ENV=production, Redis for the limiter),
one request at a time, warm caches; each page is requested --n times and the median is printed
with the number of SQL statements one request runs (the pool's pre-ping included).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import (
    CSRF_RE,
    PASSWORD,
    ROOT,
    app_env,
    find,
    free_port,
    prepare_database,
    recreate_database,
)

DATABASE = "assist_bench_prof"


def setup(database: str, organisations: int) -> None:
    url = recreate_database(database)
    env = app_env(url, free_port())
    prepare_database(
        env,
        organisations=organisations,
        officials=4,
        staff=2,
        experts=3,
        per_authority=12,
        matching=5,
        activities=5,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--setup", action="store_true")
    parser.add_argument("--organisations", type=int, default=500)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--profile", type=int, default=0, help="print the top N cProfile rows")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument(
        "--sample",
        action="store_true",
        help="sampling profile (pyinstrument, if installed): wall time by call tree",
    )
    parser.add_argument("--sql", action="store_true", help="print each page's SQL statements")
    args = parser.parse_args()
    if args.setup:
        setup(args.database, args.organisations)

    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}"
    for k, v in app_env(url, 0).items():
        os.environ[k] = v
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import logging

    import sqlalchemy as sa
    from sqlalchemy import event

    from assist import create_app
    from assist.auth.models import User
    from assist.extensions import db
    from assist.requests.models import AssistanceRequest
    from assist.workflow import RequestStatus

    app = create_app()
    logging.getLogger("assist.access").disabled = True
    with app.app_context():
        official = db.session.scalar(
            sa.select(User).where(User.email == "bench.official0@assist.example")
        )
        own = db.session.scalar(
            sa.select(AssistanceRequest.id)
            .where(AssistanceRequest.authority_id == official.authority_id)
            .order_by(AssistanceRequest.id)
        )
        matching = db.session.scalar(
            sa.select(AssistanceRequest.id)
            .where(AssistanceRequest.status == RequestStatus.MATCHING)
            .order_by(AssistanceRequest.id)
        )
        from assist.engagements.models import Engagement

        expert = db.session.scalar(
            sa.select(User).where(User.email == "bench.expert0@assist.example")
        )
        engagement = db.session.scalar(
            sa.select(Engagement.id)
            .where(Engagement.organisation_id == expert.organisation_id)
            .order_by(Engagement.id)
        )
        engine = db.engine
    counter = {"n": 0, "log": False}

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, *_a: object) -> None:
        counter["n"] += 1
        if counter["log"]:
            print("   SQL:", " ".join(statement.split())[:200])

    def client_for(email: str):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = "127.0.0.1"
        c.environ_base["HTTP_REFERER"] = "https://localhost/login"
        body = c.get("/login", base_url="https://localhost").get_data(as_text=True)
        r = c.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": find(CSRF_RE, body)},
            base_url="https://localhost",
        )
        if r.status_code != 302:
            raise SystemExit(f"sign-in of {email}: {r.status_code}")
        return c

    pages = {
        "healthz": (None, "/healthz"),
        "ping": ("bench.official0@assist.example", "/account/session/ping"),
        "list": ("bench.official0@assist.example", "/requests/"),
        "detail": ("bench.official0@assist.example", f"/requests/{own}"),
        "new": ("bench.official0@assist.example", "/requests/new"),
        "engagement": ("bench.expert0@assist.example", f"/engagements/{engagement}"),
    }
    staff_pages = {"experts": f"/requests/{matching}/experts", "review": "/requests/review"}
    only = [p for p in args.only.split(",") if p]
    clients: dict[str | None, object] = {}
    print("| page | median ms | p90 ms | CPU ms (this process) | SQL statements | KiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (email, path) in pages.items():
        if only and name not in only:
            continue
        if email not in clients:
            clients[email] = client_for(email) if email else app.test_client()
        run(name, clients[email], path, args, counter)
    if not only or any(p in staff_pages for p in only):
        staff = staff_client(app)
        for name, path in staff_pages.items():
            if only and name not in only:
                continue
            run(name, staff, path, args, counter)
    return 0


def staff_client(app):
    """Staff sign in with a second factor; the bench data has none for them, so enrol one."""
    import pyotp
    import sqlalchemy as sa

    from assist.auth.models import TotpCredential, User
    from assist.extensions import db

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "bench.staff0@assist.example"))
        secret = db.session.scalar(
            sa.select(TotpCredential.secret).where(TotpCredential.user_id == user.id)
        )
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    c.environ_base["HTTP_REFERER"] = "https://localhost/login"
    base = "https://localhost"
    body = c.get("/login", base_url=base).get_data(as_text=True)
    r = c.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": find(CSRF_RE, body)},
        base_url=base,
    )
    if r.status_code != 302:
        raise SystemExit(f"sign-in of {user.email}: {r.status_code}")
    body = c.get("/login/code", base_url=base).get_data(as_text=True)
    # The current code, or the next one when the current one was used already (a replay).
    totp = pyotp.TOTP(secret)
    step = totp.timecode(time.time())
    for code in (totp.generate_otp(step), totp.generate_otp(step + 1)):
        r = c.post(
            "/login/code",
            data={"code": code, "csrf_token": find(CSRF_RE, body)},
            base_url=base,
        )
        if r.status_code == 302:
            break
    if r.status_code != 302:
        raise SystemExit(f"second factor of {user.email}: {r.status_code}")
    return c


def run(name: str, client, path: str, args, counter: dict) -> None:
    base = "https://localhost"
    for _ in range(5):
        r = client.get(path, base_url=base)
        if r.status_code != 200:
            raise SystemExit(f"{name}: {r.status_code} {r.location}")
    counter["n"], counter["log"] = 0, args.sql
    client.get(path, base_url=base)
    queries, counter["log"] = counter["n"], False
    size = len(r.data) / 1024
    times = []
    cpu0 = time.process_time()
    prof = cProfile.Profile(time.process_time) if args.profile else None
    sampler = None
    if args.sample:
        from pyinstrument import Profiler

        sampler = Profiler(interval=0.0002)
        sampler.start()
    for _ in range(args.n):
        t0 = time.perf_counter()
        if prof:
            prof.enable()
        client.get(path, base_url=base)
        if prof:
            prof.disable()
        times.append((time.perf_counter() - t0) * 1000)
    cpu = (time.process_time() - cpu0) * 1000 / args.n
    if sampler:
        sampler.stop()
        print(sampler.output_text(unicode=False, color=False, show_all=False))
    times.sort()
    print(
        f"| {name} | {statistics.median(times):.2f} | {times[int(len(times) * 0.9)]:.2f} | "
        f"{cpu:.2f} | "
        f"{queries} | {size:.0f} |",
        flush=True,
    )
    if prof:
        stats = pstats.Stats(prof)
        stats.sort_stats(args.sort).print_stats(args.profile)
        by_package: dict[str, float] = {}
        for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
            key = filename.split("site-packages/")[-1].split("/")[0]
            if "/work/" in filename and "site-packages" not in filename:
                key = "app: " + filename.split("/")[-2] + "/" + filename.split("/")[-1]
            by_package[key] = by_package.get(key, 0.0) + tottime
        total = sum(by_package.values())
        print("own time by package (% of profiled time):")
        for key, t in sorted(by_package.items(), key=lambda kv: -kv[1])[:25]:
            print(f"  {100 * t / total:5.1f}%  {key}")


if __name__ == "__main__":
    sys.exit(main())
