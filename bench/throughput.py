"""wrk only, against an already seeded bench database (quick: no seeding, no mixed traffic).

    .venv/bin/python bench/profile_pages.py --setup        # once: seeds assist_bench_prof
    .venv/bin/python bench/throughput.py [--seconds 5] [--rounds 2] [--env GUNICORN_THREADS=1]

Starts `make serve` on the database (2 workers, production settings), signs in as a city
official, then runs wrk on /healthz, the request list and a request's detail page, in turn,
--rounds times, and prints each page's req/s and its ratio to /healthz in the same round.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import Client, Server, app_env, free_port, log
from load import wrk


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="assist_bench_prof")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--env", action="append", default=[], help="NAME=value for the server")
    args = parser.parse_args()
    extra = dict(e.split("=", 1) for e in args.env)
    port = free_port()
    env = app_env(f"postgresql+psycopg://postgres@127.0.0.1:5432/{args.database}", port, **extra)
    server = Server(env, port)
    server.start()
    ratios: dict[str, list[float]] = {"ping": [], "list": [], "detail": []}
    try:
        browser = Client(port)
        browser.login("bench.official0@assist.example")
        import psycopg
        from _server import pg_dsn

        with psycopg.connect(pg_dsn(args.database)) as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    """SELECT r.id FROM assistance_requests r JOIN users u
                       ON u.authority_id = r.authority_id
                       WHERE u.email = 'bench.official0@assist.example' ORDER BY r.id"""
                )
            ]
        cookie = browser.session_cookie
        for n in range(args.rounds):
            hz = wrk(port, "/healthz", args.seconds, args.connections)
            # The cheapest signed-in answer: the user and session checks every page makes, no page.
            ping = wrk(port, "/account/session/ping", args.seconds, args.connections, cookie)
            lst = wrk(port, "/requests/", args.seconds, args.connections, cookie)
            det = wrk(port, "/requests/", args.seconds, args.connections, cookie, ids)
            ratios["ping"].append(ping["rps"] / hz["rps"])
            ratios["list"].append(lst["rps"] / hz["rps"])
            ratios["detail"].append(det["rps"] / hz["rps"])
            print(
                f"round {n + 1}: healthz {hz['rps']:.0f} req/s; "
                f"signed-in ping {ping['rps']:.0f} ({ratios['ping'][-1]:.2f}, "
                f"errors {ping['errors']}); list {lst['rps']:.0f} "
                f"({ratios['list'][-1]:.2f}, p50 {lst['p50']:.1f} ms, errors {lst['errors']}); "
                f"detail {det['rps']:.0f} ({ratios['detail'][-1]:.2f}, p50 {det['p50']:.1f} ms, "
                f"errors {det['errors']})",
                flush=True,
            )
    finally:
        server.stop()
    log(
        f"median ratios: signed-in ping {statistics.median(ratios['ping']):.3f}, "
        f"list {statistics.median(ratios['list']):.3f}, "
        f"detail {statistics.median(ratios['detail']):.3f} ({extra or 'defaults'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
