"""Mixed traffic against the production server (`make serve`, PostgreSQL, Redis, 2 workers).

    .venv/bin/python bench/load.py [--duration 60] [--users 50] [--think 1.0]
        [--wrk-seconds 2] [--wrk-rounds 5]

1. Creates the database ``assist_bench`` (dropped and re-created on each run, left in place
   afterwards for inspection; ``--drop`` removes it at the end): migrations (`flask db upgrade`),
   demo data (`flask seed-demo`), 500 expert organisations, the bench users, requests to browse,
   requests in matching, and one engagement per expert with activities to record.
2. Starts `make serve` on a free loopback port (ASSIST_ENV=production, WEB_CONCURRENCY=2).
3. Throughput with wrk (light, C): GET /healthz (hello world of the same app), the session ping
   (the cheapest signed-in answer: the floor of every signed-in page), then the request list and
   a request's detail page signed in as a city official; each one's req/s as a ratio of /healthz.
4. Mixed traffic for --duration seconds from --users simulated users, one Python thread and one
   keep-alive connection each, everyone signed in through the real forms first (staff with their
   TOTP code): 50% city officials (browse the list and details, save-and-submit new requests),
   20% Efus staff (ranked experts for requests in matching, the review queue), 30% experts
   (their engagement, record delivered activities). Each user waits --think seconds on average
   between pages (0 = as fast as possible). Prints req/s and p50/p95/p99 per route and errors,
   the same routes timed inside the workers (bench/server_log.py), and where the machine's CPU
   went meanwhile (app workers, PostgreSQL, this load generator, other, idle).
5. Checks in the database that every acknowledged write (302) is there with its audit entry.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import (
    CSRF_RE,
    HOST,
    VERSION_RE,
    Client,
    HttpError,
    Server,
    app_env,
    find,
    free_port,
    log,
    machine,
    pg_dsn,
    prepare_database,
    print_machine,
    recreate_database,
    request_form,
)

DATABASE = "assist_bench"
ID_RE = re.compile(r"/(\d+)")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# --- wrk ---------------------------------------------------------------------------------------

WRK_LUA = """
ids = {%(ids)s}
i = 0
bad = 0
threads = {}
function setup(thread) table.insert(threads, thread) end
request = function()
  if #ids == 0 then return wrk.format("GET", "%(path)s") end
  i = i %% #ids + 1
  return wrk.format("GET", "%(path)s" .. ids[i])
end
response = function(status, headers, body) if status ~= 200 then bad = bad + 1 end end
done = function(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do b = b + t:get("bad") end
  io.write(string.format("NON200 %%d\\n", b))
end
"""


def wrk(
    port: int,
    path: str,
    seconds: int,
    connections: int,
    cookie: str = "",
    ids: list[int] | None = None,
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_LUA % {"ids": ", ".join(map(str, ids or [])), "path": path})
        script = fh.name
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(f"http://{HOST}:{port}{path if not ids else path + str(ids[0])}")
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    out = run.stdout
    Path(script).unlink(missing_ok=True)
    if "Requests/sec" not in out:
        log(f"wrk {path}: unexpected output: {out[-500:]} {run.stderr[-500:]}")

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non200 = re.search(r"NON200 (\d+)", out)
    if errors:
        log(f"wrk {path}: {errors.group(0)}")
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": int(total.group(1)) if total else 0,
        "p50": ms("50%"),
        "p90": ms("90%"),
        "p99": ms("99%"),
        "errors": (sum(int(x) for x in errors.groups()) if errors else 0)
        + (int(non200.group(1)) if non200 else 1),
    }


# --- Simulated users ---------------------------------------------------------------------------


class User:
    def __init__(self, role: str, info: dict, port: int, data: dict, seed: int) -> None:
        self.role, self.info, self.data = role, info, data
        self.client = Client(port)
        self.rng = random.Random(seed)
        self.samples: list[tuple[str, bool, float, float]] = []  # route, ok, ms, end time
        self.errors: list[str] = []
        self.acked_requests: list[int] = []
        self.acked_records: list[int] = []
        self.activities = list(info.get("activities", []))
        self.record = True

    # One HTTP request, timed and checked.
    def hit(self, route: str, method: str, path: str, expect: int, **kw) -> tuple[int, dict, str]:
        start = time.perf_counter()
        try:
            status, hdrs, body = self.client.request(method, path, **kw)
        except HttpError as exc:
            status, hdrs, body = 0, {}, str(exc)
        end = time.perf_counter()
        if self.record:
            self.samples.append((route, status == expect, (end - start) * 1000, end))
        if status != expect:
            self.errors.append(f"{method} {path}: {status} {body[:160]!r}")
            raise HttpError(f"{route}: {status}")
        return status, hdrs, body

    def follow(self, hdrs: dict, route: str) -> None:
        location = hdrs.get("location", "").split("#", 1)[0]
        path = "/" + location.split("/", 3)[3] if location.startswith("http") else location
        self.hit(route, "GET", path, 200)

    def think(self, mean: float) -> None:
        if mean > 0:
            time.sleep(self.rng.uniform(0.5 * mean, 1.5 * mean))

    # What each role does.
    def official(self) -> None:
        roll = self.rng.random()
        if roll < 0.45:
            suffix = self.rng.choice(["", "", "?status=submitted"])
            self.hit("GET /requests/", "GET", "/requests/" + suffix, 200)
        elif roll < 0.85:
            rid = self.rng.choice(self.info["requests"])
            self.hit("GET /requests/<id>", "GET", f"/requests/{rid}", 200)
        else:
            _, _, body = self.hit("GET /requests/new", "GET", "/requests/new", 200)
            title = f"Load {self.info['email'].split('@')[0]} {len(self.acked_requests)}"
            form = request_form(find(CSRF_RE, body) or "", title, self.data["vocab"], self.rng)
            _, hdrs, _ = self.hit("POST /requests/new", "POST", "/requests/new", 302, form=form)
            m = ID_RE.search(hdrs.get("location", "").split("/requests", 1)[-1])
            if m:
                self.acked_requests.append(int(m.group(1)))
            self.follow(hdrs, "GET /requests/<id>")

    def staff(self) -> None:
        roll = self.rng.random()
        if roll < 0.7:
            rid = self.rng.choice(self.data["matching"])
            self.hit("GET /requests/<id>/experts", "GET", f"/requests/{rid}/experts", 200)
        elif roll < 0.9:
            self.hit("GET /requests/review", "GET", "/requests/review", 200)
        else:
            rid = self.rng.choice(self.data["matching"])
            self.hit("GET /requests/<id>", "GET", f"/requests/{rid}", 200)

    def expert(self) -> None:
        eng = self.info["engagement"]
        if self.rng.random() < 0.45 or not self.activities or self.data.get("no_records"):
            self.hit("GET /engagements/<id>", "GET", f"/engagements/{eng}", 200)
            return
        aid = self.activities.pop(0)
        _, _, body = self.hit(
            "GET /activities/<id>/record", "GET", f"/activities/{aid}/record", 200
        )
        form = {
            "csrf_token": find(CSRF_RE, body) or "",
            "version": find(VERSION_RE, body) or "",
            "delivered_on": self.data["today"],
            "duration_hours": str(self.rng.choice([2, 3, 6, 12])),
            "p_municipal_staff": str(self.rng.randint(2, 12)),
            "p_probation": str(self.rng.randint(0, 5)),
            "summary": "A workshop on the release-preparation protocol with role plays.",
            "outcomes": "A draft checklist for the first meeting after release.",
            "follow_up": "The city circulates the checklist to the probation service.",
        }
        _, hdrs, _ = self.hit(
            "POST /activities/<id>/record", "POST", f"/activities/{aid}/record", 302, form=form
        )
        self.acked_records.append(aid)
        self.follow(hdrs, "GET /engagements/<id>")

    def step(self) -> None:
        getattr(self, {"official": "official", "staff": "staff", "expert": "expert"}[self.role])()

    def run(self, until: float, think: float) -> None:
        while time.monotonic() < until:
            try:
                self.step()
            except HttpError:
                time.sleep(0.2)  # an error is counted; do not spin
            self.think(think)


def sign_in_all(users: list[User]) -> list[str]:
    failures: list[str] = []

    def go(u: User) -> None:
        try:
            u.client.login(u.info["email"], u.info.get("secret"))
        except HttpError as exc:
            failures.append(str(exc))

    threads = [threading.Thread(target=go, args=(u,)) for u in users]
    for i, t in enumerate(threads):
        t.start()
        if i % 8 == 7:  # sign-in hashes passwords (scrypt): do not stampede it
            time.sleep(0.3)
    for t in threads:
        t.join(timeout=120)
    return failures


def summarise_wrk(results: list[dict[str, float]], baseline: list[dict[str, float]]) -> dict:
    """Median figures of a route's wrk rounds, and the median of its per-round ratio to the
    baseline's req/s in the same round."""
    ratios = [r["rps"] / b["rps"] for r, b in zip(results, baseline, strict=True) if b["rps"]]
    return {
        "rps": statistics.median(r["rps"] for r in results),
        "rps_range": (min(r["rps"] for r in results), max(r["rps"] for r in results)),
        "p50": statistics.median(r["p50"] for r in results),
        "p90": statistics.median(r["p90"] for r in results),
        "p99": statistics.median(r["p99"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "ratio": statistics.median(ratios) if ratios else float("nan"),
        "ratio_range": (min(ratios), max(ratios)) if ratios else (float("nan"),) * 2,
    }


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (those still running)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() == "postgres":
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine so far, all cores (/proc/stat)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / tick, idle / tick


def run_phase(users: list[User], seconds: float, think: float, record: bool) -> float:
    for u in users:
        u.record = record
    until = time.monotonic() + seconds
    start = time.perf_counter()
    threads = [threading.Thread(target=u.run, args=(until, think), daemon=True) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    return time.perf_counter() - start


def verify(db: str, requests: list[int], records: list[int]) -> dict[str, int]:
    import psycopg

    with psycopg.connect(pg_dsn(db), connect_timeout=10) as conn:

        def one(sql: str, *params: object) -> int:
            return conn.execute(sql, params).fetchone()[0]

        return {
            "acknowledged submissions": len(requests),
            "  found submitted with create+submit audit": one(
                """SELECT count(*) FROM assistance_requests r WHERE r.id = ANY(%s)
                   AND r.status = 'submitted'
                   AND EXISTS (SELECT 1 FROM audit_entries a WHERE a.object_type =
                       'assistance_requests' AND a.object_id = r.id AND a.action = 'create')
                   AND EXISTS (SELECT 1 FROM audit_entries a WHERE a.object_type =
                       'assistance_requests' AND a.object_id = r.id AND a.action = 'submit')
                   AND EXISTS (SELECT 1 FROM request_terms t WHERE t.request_id = r.id)""",
                requests,
            ),
            "acknowledged activity records": len(records),
            "  found delivered with record audit": one(
                """SELECT count(*) FROM activities x WHERE x.id = ANY(%s)
                   AND x.status = 'delivered' AND EXISTS (SELECT 1 FROM audit_entries a
                   WHERE a.object_type = 'activities' AND a.object_id = x.id
                   AND a.action = 'record')""",
                records,
            ),
            "requests without a create audit entry": one(
                """SELECT count(*) FROM assistance_requests r WHERE NOT EXISTS (SELECT 1 FROM
                   audit_entries a WHERE a.object_type = 'assistance_requests'
                   AND a.object_id = r.id AND a.action = 'create')"""
            ),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds of mixed traffic")
    parser.add_argument("--users", type=int, default=50, help="simulated users")
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean think time between pages in seconds (0: no pause)",
    )
    parser.add_argument("--organisations", type=int, default=500)
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=value for the server (repeatable)"
    )
    parser.add_argument("--wrk-seconds", type=int, default=2, help="length of one wrk window")
    parser.add_argument("--wrk-rounds", type=int, default=5, help="windows per route, in turns")
    parser.add_argument("--wrk-connections", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=8)
    parser.add_argument("--database", default=DATABASE)
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    parser.add_argument(
        "--no-records",
        action="store_true",
        help="experts only browse (diagnosis: no writes that move the index)",
    )
    args = parser.parse_args()

    info = machine()
    print_machine(info)
    n_staff = max(1, round(args.users * 0.2))
    n_experts = max(1, round(args.users * 0.3))
    n_officials = max(1, args.users - n_staff - n_experts)
    # Enough activities for an expert recording every ~2 s without think time.
    per_expert = int((args.duration + args.warmup) / max(args.think, 0.25) * 0.6) + 10

    log(f"creating database {args.database}")
    url = recreate_database(args.database)
    port = free_port()
    env = app_env(url, port, **dict(e.split("=", 1) for e in args.env))
    data = prepare_database(
        env,
        organisations=args.organisations,
        officials=n_officials,
        staff=n_staff,
        experts=n_experts,
        per_authority=12,
        matching=20,
        activities=per_expert,
    )
    data["no_records"] = args.no_records
    server = Server(env, port)
    server.start()
    rc = 0
    try:
        rng = random.Random(3)
        users = (
            [User("official", o, port, data, rng.random()) for o in data["officials"]]
            + [User("staff", s, port, data, rng.random()) for s in data["staff"]]
            + [User("expert", e, port, data, rng.random()) for e in data["experts"]]
        )
        t0 = time.perf_counter()
        failures = sign_in_all(users)
        log(
            f"{len(users)} users signed in in {time.perf_counter() - t0:.1f} s "
            f"({len(failures)} failures)"
        )
        if failures:
            print("sign-in failures:", *failures[:5], sep="\n  ")
            return 1

        log(f"warm-up {args.warmup:.0f} s (not recorded)")
        run_phase(users, args.warmup, args.think, record=False)
        warm_errors = sum(len(u.errors) for u in users)

        # Throughput with wrk, signed in as a city official of the first authority.
        browser = Client(port)
        browser.login(data["officials"][0]["email"])
        ids = data["officials"][0]["requests"]
        cookie = browser.session_cookie
        targets = {
            "GET /healthz": ("/healthz", "", None),
            # The cheapest signed-in answer: the checks every page makes (cookie, session row,
            # user), one query and no page. No signed-in page can be faster than this floor.
            "GET /account/session/ping": ("/account/session/ping", cookie, None),
            "GET /requests/": ("/requests/", cookie, None),
            "GET /requests/<id>": ("/requests/", cookie, ids),
        }
        # Short windows taking turns, so that a slower spell of the shared machine weighs on
        # every route alike: each route's ratio to /healthz is taken within its round, and the
        # median over the rounds is reported.
        log(f"wrk: {', '.join(targets)}: {args.wrk_rounds} rounds of {args.wrk_seconds} s each")
        rounds: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
        for _ in range(args.wrk_rounds):
            for name, (path, with_cookie, some_ids) in targets.items():
                rounds[name].append(
                    wrk(port, path, args.wrk_seconds, args.wrk_connections, with_cookie, some_ids)
                )
        thr = {
            name: summarise_wrk(results, rounds["GET /healthz"]) for name, results in rounds.items()
        }

        log(
            f"mixed traffic: {len(users)} users ({n_officials} officials, {n_staff} staff, "
            f"{n_experts} experts), {args.duration:.0f} s, think {args.think} s"
        )
        for u in users:
            u.errors.clear()
        workers, pg = server.worker_pids(), postgres_pids()
        cpu_before = ([cpu_seconds([w]) for w in workers], cpu_seconds(pg), time.process_time())
        busy_before = machine_busy_seconds()
        mixed_started = time.strftime("%H:%M:%S")
        elapsed = run_phase(users, args.duration, args.think, record=True)
        busy_after = machine_busy_seconds()
        cpu = {
            f"app worker {n + 1}": cpu_seconds([w]) - before
            for n, (w, before) in enumerate(zip(workers, cpu_before[0], strict=True))
        }
        cpu |= {
            "PostgreSQL": cpu_seconds(pg) - cpu_before[1],
            "load generator (this process)": time.process_time() - cpu_before[2],
        }
        cpu["other"] = busy_after[0] - busy_before[0] - sum(cpu.values())
        cpu["idle"] = busy_after[1] - busy_before[1]
        checks = verify(
            args.database,
            [i for u in users for i in u.acked_requests],
            [i for u in users for i in u.acked_records],
        )
        workers_after = server.worker_pids()
    finally:
        server.stop()
        if args.drop:
            import psycopg
            from _server import PG_ADMIN

            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    # --- Report ---
    by_route: dict[str, list[float]] = defaultdict(list)
    errors_by_route: dict[str, int] = defaultdict(int)
    for u in users:
        for route, ok, ms, _ in u.samples:
            by_route[route].append(ms)
            errors_by_route[route] += 0 if ok else 1
    total = sum(len(v) for v in by_route.values())
    errors = [e for u in users for e in u.errors]
    print()
    print(
        f"mixed traffic: {len(users)} users ({n_officials} city officials, {n_staff} staff, "
        f"{n_experts} experts), {elapsed:.1f} s, mean think time {args.think} s, "
        f"{data['organisations']} expert organisations, 2 gunicorn workers x 4 threads"
    )
    print()
    print("| route | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for route in sorted(by_route, key=lambda r: -len(by_route[r])):
        v = by_route[route]
        print(
            f"| {route} | {len(v)} | {len(v) / elapsed:.1f} | {statistics.median(v):.1f} | "
            f"{percentile(v, 0.95):.1f} | {percentile(v, 0.99):.1f} | {errors_by_route[route]} |"
        )
    everything = [ms for v in by_route.values() for ms in v]
    print(
        f"| **all** | {total} | {total / elapsed:.1f} | {statistics.median(everything):.1f} | "
        f"{percentile(everything, 0.95):.1f} | {percentile(everything, 0.99):.1f} | "
        f"{len(errors)} |"
    )
    print()
    cores = os.cpu_count() or 1
    print(
        f"CPU during the measured phase ({cores} cores x {elapsed:.0f} s = "
        f"{cores * elapsed:.0f} core-seconds): "
        + ", ".join(f"{k} {v:.1f} ({100 * v / (cores * elapsed):.0f}%)" for k, v in cpu.items())
    )
    print(f"errors during the measured phase: {len(errors)} (warm-up: {warm_errors})")
    for e in errors[:10]:
        print("  ", e)
    print()
    print(
        f"throughput with wrk (1 thread, {args.wrk_connections} connections, "
        f"{args.wrk_rounds} rounds of {args.wrk_seconds} s per route taking turns, "
        "signed in as a city official; medians over the rounds):"
    )
    print()
    print(
        "| route | req/s | req/s range | p50 ms | p90 ms | p99 ms | errors/non-200 "
        "| ratio to /healthz (range) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for route, r in thr.items():
        low, high = r["rps_range"]
        r_low, r_high = r["ratio_range"]
        print(
            f"| {route} | {r['rps']:.0f} | {low:.0f}–{high:.0f} | {r['p50']:.1f} | "
            f"{r['p90']:.1f} | {r['p99']:.1f} | {r['errors']} | "
            f"{r['ratio']:.2f} ({r_low:.2f}–{r_high:.2f}) |"
        )
    print()
    # The same routes timed inside the workers (the app's request log): the difference from
    # the client's figures above is the time spent queueing for a worker thread and a core.
    subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve().parent / "server_log.py"),
            str(server.log_path),
            "--since",
            mixed_started,
            "--seconds",
            f"{elapsed:.0f}",
        ],
        check=False,
        timeout=120,
    )
    print()
    print("database checks after the run:")
    for k, v in checks.items():
        print(f"  {k}: {v}")
    print(f"  gunicorn workers at the end: {workers_after}")
    print()
    rank = by_route.get("GET /requests/<id>/experts", [])
    verdicts = {
        "errors == 0": not errors and all(r["errors"] == 0 for r in thr.values()),
        "list >= 40% of /healthz req/s": thr["GET /requests/"]["ratio"] >= 0.4,
        "detail >= 40% of /healthz req/s": thr["GET /requests/<id>"]["ratio"] >= 0.4,
        "ranked experts p95 < 150 ms": bool(rank) and percentile(rank, 0.95) < 150,
        "every acknowledged write stored": (
            checks["  found submitted with create+submit audit"]
            == checks["acknowledged submissions"]
            and checks["  found delivered with record audit"]
            == checks["acknowledged activity records"]
            and checks["requests without a create audit entry"] == 0
        ),
    }
    for k, ok in verdicts.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {k}")
        rc |= 0 if ok else 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
