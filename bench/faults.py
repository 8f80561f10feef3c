"""Fault injection against the production server (`make serve`, PostgreSQL, 2 workers).

    .venv/bin/python bench/faults.py [--only 1,2,3] [--submitters 16] [--approvers 200]

Database ``assist_bench_faults`` (dropped and re-created each run, left for inspection).

1. kill -9 of a gunicorn worker during a burst of "Save and submit" from city officials (real
   forms, sessions, CSRF): every acknowledged submission (302) must be in the database, submitted,
   with its audit entries and tags; no request may exist without its audit entry; gunicorn must
   respawn the worker.
2. PostgreSQL restarted (pg_ctlcluster 15 main restart) while officials submit and browse: the
   service must answer again within 10 s of PostgreSQL being back, without being restarted
   itself, and no acknowledged write may be lost. PostgreSQL is started again whatever happens.
3. 200 concurrent attempts to approve the same proposed engagement through the JSON API (20 staff
   members' personal tokens, each used 10 times, all released at once by a barrier): exactly one
   may succeed, the others get 409, and the database holds one approval and one audit entry.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import (
    CSRF_RE,
    PG_CLUSTER,
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

DATABASE = "assist_bench_faults"
ID_RE = re.compile(r"/requests/(\d+)")


def sql(query: str, *params: object) -> list[tuple]:
    import psycopg

    with psycopg.connect(pg_dsn(DATABASE), connect_timeout=10) as conn:
        return conn.execute(query, params).fetchall()


def pg_ready() -> bool:
    return (
        subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], timeout=10).returncode
        == 0
    )


def ensure_pg_running() -> None:
    if pg_ready():
        return
    log("PostgreSQL is down: starting it")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *PG_CLUSTER, "start"],
        timeout=60,
        check=False,
    )
    for _ in range(60):
        if pg_ready():
            return
        time.sleep(0.5)
    raise SystemExit("PostgreSQL did not come back: start it with pg_ctlcluster 15 main start")


# --- Load: officials submitting (and browsing) -------------------------------------------------


class Official(threading.Thread):
    """Signs in, then loops: open the form, save and submit. Logs every attempt's outcome."""

    def __init__(
        self,
        port: int,
        info: dict,
        vocab: dict,
        tag: str,
        stop: threading.Event,
        browse: bool = False,
    ) -> None:
        super().__init__(daemon=True)
        self.client = Client(port, timeout=20)
        self.info, self.vocab, self.tag, self.stop_event = info, vocab, tag, stop
        self.browse = browse
        self.rng = random.Random(info["email"])
        # (title, outcome, request id or None, time answered): outcome "ack", or the failure
        self.attempts: list[tuple[str, str, int | None, float]] = []
        self.ok_times: list[float] = []  # every successful response (any page)
        self.fail_times: list[float] = []
        self.seq = 0

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                if self.browse:
                    status, _, _ = self.client.request("GET", "/requests/")
                    (self.ok_times if status == 200 else self.fail_times).append(time.monotonic())
                    time.sleep(0.05)
                    continue
                status, _, body = self.client.request("GET", "/requests/new")
                if status != 200:
                    self.fail_times.append(time.monotonic())
                    time.sleep(0.1)
                    continue
                self.ok_times.append(time.monotonic())
                self.seq += 1
                title = f"{self.tag}-{self.info['email'].split('@')[0]}-{self.seq}"
                form = request_form(find(CSRF_RE, body) or "", title, self.vocab, self.rng)
                try:
                    status, hdrs, _ = self.client.request("POST", "/requests/new", form=form)
                except HttpError as exc:
                    self.attempts.append((title, f"no answer ({exc})"[:60], None, time.monotonic()))
                    self.fail_times.append(time.monotonic())
                    time.sleep(0.1)
                    continue
                m = ID_RE.search(hdrs.get("location", ""))
                if status == 302 and m:
                    self.attempts.append((title, "ack", int(m.group(1)), time.monotonic()))
                    self.ok_times.append(time.monotonic())
                else:
                    self.attempts.append((title, f"HTTP {status}", None, time.monotonic()))
                    self.fail_times.append(time.monotonic())
                    time.sleep(0.1)
            except HttpError:
                self.fail_times.append(time.monotonic())
                time.sleep(0.1)


def start_officials(port: int, data: dict, tag: str, n: int, browsers: int = 0):
    stop = threading.Event()
    officials = data["officials"]
    threads = [
        Official(port, officials[i % len(officials)], data["vocab"], tag, stop) for i in range(n)
    ]
    threads += [
        Official(port, officials[i % len(officials)], data["vocab"], tag, stop, True)
        for i in range(browsers)
    ]
    for t in threads:
        t.client.login(t.info["email"])
    for t in threads:
        t.start()
    return stop, threads


def check_writes(tag: str, threads: list[Official]) -> dict[str, int]:
    attempts = [a for t in threads for a in t.attempts]
    acked = {rid for _, outcome, rid, _ in attempts if outcome == "ack"}
    failed_titles = {title for title, outcome, _, _ in attempts if outcome != "ack"}
    rows = sql(
        """SELECT r.id, r.title, r.status,
             (SELECT count(*) FROM audit_entries a WHERE a.object_type = 'assistance_requests'
                AND a.object_id = r.id AND a.action = 'create'),
             (SELECT count(*) FROM audit_entries a WHERE a.object_type = 'assistance_requests'
                AND a.object_id = r.id AND a.action = 'submit'),
             (SELECT count(*) FROM request_terms t WHERE t.request_id = r.id)
           FROM assistance_requests r WHERE r.title LIKE %s""",
        f"{tag}-%",
    )
    by_id = {r[0]: r for r in rows}
    complete = {r[0] for r in rows if r[2] == "submitted" and r[3] == 1 and r[4] == 1 and r[5] > 0}
    half = [r for r in rows if r[3] != 1 or (r[2] == "submitted" and r[4] != 1) or r[5] == 0]
    stored_failed = Counter(r[2] for r in rows if r[1] in failed_titles)
    return {
        "submissions attempted": len(attempts),
        "acknowledged (302)": len(acked),
        "acknowledged and stored complete": len(acked & complete),
        "acknowledged but missing or incomplete (LOST)": len(acked - complete),
        "rows half-written (no audit entry / no tags)": len(half),
        "not acknowledged": len(attempts) - len(acked),
        "  of which stored anyway as submitted": stored_failed.get("submitted", 0),
        "  of which stored as draft only": stored_failed.get("draft", 0),
        "rows in the database for this test": len(by_id),
    }


# --- The three faults --------------------------------------------------------------------------


def fault_kill_worker(server: Server, port: int, data: dict, n: int, seconds: float) -> dict:
    import os
    import signal

    stop, threads = start_officials(port, data, "F1", n)
    time.sleep(seconds / 3)
    before = server.worker_pids()
    victim = before[0]
    t_kill = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    log(f"fault 1: SIGKILL worker {victim} (workers {before})")
    time.sleep(seconds * 2 / 3)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    after = server.worker_pids()
    first_ok = min((x for t in threads for x in t.ok_times if x > t_kill), default=None)
    res = check_writes("F1", threads)
    res.update(
        {
            "workers before / after": f"{before} / {after}",
            "killed worker respawned": int(victim not in after and len(after) == len(before)),
            "failed answers (in flight on the killed worker)": sum(
                len(t.fail_times) for t in threads
            ),
            "first success after the kill (ms)": round((first_ok - t_kill) * 1000)
            if first_ok
            else -1,
        }
    )
    res["PASS"] = int(
        res["acknowledged but missing or incomplete (LOST)"] == 0
        and res["rows half-written (no audit entry / no tags)"] == 0
        and res["killed worker respawned"] == 1
    )
    return res


def fault_restart_postgres(server: Server, port: int, data: dict, n: int, seconds: float) -> dict:
    master, workers = server.master_pid(), server.worker_pids()
    stop, threads = start_officials(port, data, "F2", n, browsers=max(2, n // 3))
    try:
        time.sleep(seconds / 4)
        log("fault 2: restarting PostgreSQL")
        t_start = time.monotonic()
        out = subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *PG_CLUSTER, "restart"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        deadline = time.monotonic() + 60
        while not pg_ready() and time.monotonic() < deadline:
            time.sleep(0.1)
        t_back = time.monotonic()
        log(f"fault 2: PostgreSQL back after {t_back - t_start:.1f} s (rc {out.returncode})")
        time.sleep(seconds * 3 / 4)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        ensure_pg_running()
    first_ok = min((x for t in threads for x in t.ok_times if x > t_back), default=None)
    # Every user served again: each thread's first success after PostgreSQL came back.
    per_user = [min((x for x in t.ok_times if x > t_back), default=None) for t in threads]
    all_back = None if None in per_user else max(per_user)
    late_fail = sum(1 for t in threads for x in t.fail_times if first_ok and x > first_ok + 1)
    res = check_writes("F2", threads)
    res.update(
        {
            "PostgreSQL down for (s)": round(t_back - t_start, 1),
            "failed answers during the outage": sum(len(t.fail_times) for t in threads),
            "first success after PostgreSQL was back (ms)": round((first_ok - t_back) * 1000)
            if first_ok
            else -1,
            "every user served again after (ms)": round((all_back - t_back) * 1000)
            if all_back
            else -1,
            "failures later than 1 s after the first success": late_fail,
            "gunicorn master and workers unchanged": int(
                server.master_pid() == master and server.worker_pids() == workers
            ),
        }
    )
    res["PASS"] = int(
        res["acknowledged but missing or incomplete (LOST)"] == 0
        and res["rows half-written (no audit entry / no tags)"] == 0
        and first_ok is not None
        and all_back is not None
        and all_back - t_back < 10
    )
    return res


def fault_concurrent_approve(port: int, data: dict, attempts: int) -> dict:
    engagement = data["proposed"][0]
    tokens = data["tokens"]
    barrier = threading.Barrier(attempts, timeout=60)
    results: list[int] = [0] * attempts
    bodies: list[str] = [""] * attempts

    def attempt(i: int) -> None:
        client = Client(port, timeout=60)
        try:
            # Open the connection before the barrier, so the requests leave together.
            client.request("GET", "/healthz")
            barrier.wait()
            status, _, body = client.request(
                "POST",
                f"/api/v1/engagements/{engagement['id']}/transitions",
                json_body={"action": "approve", "version": engagement["version"], "comment": ""},
                headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
            )
            results[i], bodies[i] = status, body[:200]
        except (HttpError, threading.BrokenBarrierError) as exc:
            results[i], bodies[i] = -1, str(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=attempt, args=(i,), daemon=True) for i in range(attempts)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.perf_counter() - t0
    counts = Counter(results)
    row = sql(
        "SELECT status, version, approved_by_id FROM engagements WHERE id = %s", engagement["id"]
    )[0]
    audits = sql(
        """SELECT count(*) FROM audit_entries WHERE object_type = 'engagements'
           AND object_id = %s AND action = 'approve'""",
        engagement["id"],
    )[0][0]
    others = sorted({b for s, b in zip(results, bodies, strict=True) if s not in (200, 409)})[:3]
    res = {
        "attempts": attempts,
        "staff tokens used": len(tokens),
        "answered 200 (approved)": counts.get(200, 0),
        "answered 409 (changed meanwhile)": counts.get(409, 0),
        "other answers": sum(v for k, v in counts.items() if k not in (200, 409)),
        "engagement status / version in the database": f"{row[0]} / {row[1]}",
        "approve audit entries": audits,
        "wall time (s)": round(elapsed, 2),
    }
    if others:
        res["examples of other answers"] = " | ".join(others)
    res["PASS"] = int(
        counts.get(200, 0) == 1
        and counts.get(409, 0) == attempts - 1
        and row[0] == "approved"
        and audits == 1
    )
    return res


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="1,2,3", help="which faults, e.g. 1,3")
    parser.add_argument("--submitters", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=12, help="length of faults 1 and 2")
    parser.add_argument("--approvers", type=int, default=200)
    args = parser.parse_args()
    only = {int(x) for x in args.only.split(",")}

    print_machine(machine())
    ensure_pg_running()
    url = recreate_database(DATABASE)
    port = free_port()
    env = app_env(url, port)
    data = prepare_database(
        env,
        organisations=40,
        officials=args.submitters,
        staff=0,
        experts=0,
        per_authority=2,
        matching=0,
        proposed=1,
        activities=0,
        tokens=20,
    )
    server = Server(env, port)
    server.start()
    results: dict[str, dict] = {}
    try:
        if 1 in only:
            results["1. kill -9 a worker during a burst of submissions"] = fault_kill_worker(
                server, port, data, args.submitters, args.seconds
            )
            time.sleep(2)
        if 2 in only:
            results["2. restart PostgreSQL during load"] = fault_restart_postgres(
                server, port, data, args.submitters, args.seconds * 1.5
            )
        if 3 in only:
            results[f"3. {args.approvers} concurrent approvals of one engagement"] = (
                fault_concurrent_approve(port, data, args.approvers)
            )
    finally:
        server.stop()
        ensure_pg_running()

    failed = 0
    for name, res in results.items():
        ok = res.pop("PASS")
        failed += 0 if ok else 1
        print()
        print(f"### {name}: {'PASS' if ok else 'FAIL'}")
        print()
        print("| | |")
        print("|---|---:|")
        for k, v in res.items():
            print(f"| {k} | {v} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
