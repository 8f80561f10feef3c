"""Shared helpers for bench/load.py and bench/faults.py.

- a dedicated PostgreSQL database, created from the migrations and seeded (demo data through
  ``flask seed-demo``, then bench users, organisations, requests and engagements through the
  app's own services, in a child process: ``python bench/_server.py seed ...``);
- the production server started with ``make serve`` (ASSIST_ENV=production, gunicorn.conf.py,
  2 workers) on a free loopback port, and stopped again, with bounded waits everywhere;
- a small HTTP client (http.client, one keep-alive connection per simulated user, cookies,
  CSRF tokens, sign-in with the TOTP second factor for staff);
- a description of the machine for RESULTS.md.

Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PYTHON = str(BIN / "python")
HOST = "127.0.0.1"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_CLUSTER = ("15", "main")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
#: Every bench account's password (accounts exist only in the bench databases).
PASSWORD = "quartz lantern meadow 7391"  # noqa: S105 - bench databases only


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --- Machine -----------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    pg = "unknown"
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN, connect_timeout=5) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:
        pg = f"unknown ({exc.__class__.__name__})"
    gunicorn = subprocess.run(
        [str(BIN / "gunicorn"), "--version"], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg,
        "gunicorn": gunicorn,
    }


def print_machine(info: dict[str, str]) -> None:
    print(
        f"machine: {info['nproc']} cores, {info['cpu']}, {info['memory']} RAM; "
        f"Python {info['python']}, PostgreSQL {info['postgresql']}, {info['gunicorn']}; "
        f"{info['date']}"
    )


# --- Database ----------------------------------------------------------------------------------


def recreate_database(name: str) -> str:
    """Drop and create ``name`` (a bench database); returns the app's DATABASE_URL for it."""
    import psycopg

    if not re.fullmatch(r"assist_bench[a-z0-9_]*", name):
        raise SystemExit(f"refusing to recreate {name!r}: bench databases are named assist_bench*")
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def pg_dsn(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def app_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    """The production configuration, with a fresh secret and rate-limit prefix per run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSIST_", "FLASK_"))}
    env.update(
        ASSIST_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        RATELIMIT_KEY_PREFIX=f"assist-bench-{secrets.token_hex(4)}",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        GUNICORN_LOG_LEVEL="warning",
        PATH=f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    )
    env.update(extra)
    return env


def flask(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    out = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def prepare_database(env: dict[str, str], **seed_args: int) -> dict:
    """Migrations, demo data, then the bench data (a child process); returns its description."""
    t0 = time.perf_counter()
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    cmd = [PYTHON, str(Path(__file__).resolve()), "seed"]
    for k, v in seed_args.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise SystemExit(f"seeding failed:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    log(f"database ready in {time.perf_counter() - t0:.0f} s")
    return data


# --- Seeding (runs inside the app, in a child process) -----------------------------------------

WORDS = (
    "probation prison release exit mentoring family counselling restorative dialogue training "
    "risk assessment protocol municipality police youth justice employment housing mental health "
    "returnees women juveniles jihadist right-wing extremism case conference evaluation workshop"
).split()


def _seed(args: dict[str, int]) -> dict:
    import random
    from datetime import date, timedelta

    import pyotp
    import sqlalchemy as sa

    from assist import create_app
    from assist.api.tokens import create_token
    from assist.auth import second_factor as mfa
    from assist.auth import services as auth_services
    from assist.auth import sessions as user_sessions
    from assist.auth.models import User
    from assist.db import utcnow
    from assist.delivery import services as delivery
    from assist.directory import services as directory_services
    from assist.directory.models import ExpertOrganisation, LocalAuthority, TaxonomyTerm, TermKind
    from assist.engagements import services as engagements
    from assist.extensions import db
    from assist.requests import services as request_services
    from assist.roles import Role

    rng = random.Random(11)
    app = create_app()
    out: dict = {"officials": [], "staff": [], "experts": [], "tokens": []}
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.email == "admin@assist.example"))
        demo_staff = db.session.scalar(sa.select(User).where(User.email == "staff@assist.example"))

        def codes(kind: TermKind, n: int) -> list[str]:
            rows = db.session.scalars(
                sa.select(TaxonomyTerm.code).where(TaxonomyTerm.kind == kind)
            ).all()
            return sorted(rows)[:n]

        vocab = {
            "themes": codes(TermKind.THEME, 6),
            "formats": codes(TermKind.FORMAT, 3),
            "languages": ["en", "fr", "de", "nl", "es"],
        }
        out["vocab"] = vocab
        out["activity_format"] = codes(TermKind.FORMAT, 1)[0]

        # Expert organisations: the demo's five plus synthetic ones up to --organisations.
        existing = db.session.scalar(sa.select(sa.func.count(ExpertOrganisation.id)))
        bench_orgs: list[ExpertOrganisation] = []
        for i in range(max(0, args["organisations"] - existing)):
            bench_orgs.append(
                directory_services.save_organisation(
                    admin,
                    directory_services.OrganisationData(
                        name=f"Bench organisation {i:03d}",
                        country=rng.choice(["DE", "FR", "ES", "NL", "BE", "SE"]),
                        description=" ".join(rng.choices(WORDS, k=150)),
                        capacity=5 if i < args["experts"] else rng.randint(0, 4),
                        terms={"languages": ["en", *rng.sample(["fr", "es", "nl", "de"], 1)]},
                    ),
                )
            )
        db.session.commit()
        out["organisations"] = db.session.scalar(sa.select(sa.func.count(ExpertOrganisation.id)))

        authorities = list(
            db.session.scalars(sa.select(LocalAuthority).order_by(LocalAuthority.id))
        )

        def new_user(email: str, name: str, role: Role, **kw: int | None) -> User:
            return auth_services.create_user(
                None, auth_services.UserData(email=email, name=name, role=role, **kw), PASSWORD
            )

        # City officials, spread over the authorities.
        officials: list[User] = []
        for k in range(args["officials"]):
            auth = authorities[k % len(authorities)]
            officials.append(
                new_user(
                    f"bench.official{k}@assist.example",
                    f"Official {k}",
                    Role.CITY_OFFICIAL,
                    authority_id=auth.id,
                )
            )
        db.session.commit()

        def request_data(title: str) -> request_services.RequestData:
            return request_services.RequestData(
                title=title,
                context="The municipality coordinates release preparation with the probation "
                "service and wants a shared protocol. " + " ".join(rng.choices(WORDS, k=60)),
                needs="A training for the multi-agency team and a review of the protocol. "
                + " ".join(rng.choices(WORDS, k=30)),
                existing_activities="A monthly case conference chaired by the city.",
                expected_participants=rng.randint(5, 40),
                terms={
                    "themes": rng.sample(vocab["themes"], 2),
                    "formats": [rng.choice(vocab["formats"])],
                    "languages": ["en", rng.choice(vocab["languages"][1:])],
                },
            )

        # Requests to browse: --per-authority per authority, most submitted.
        by_authority: dict[int, list[int]] = {a.id: [] for a in authorities}
        authors = {o.authority_id: o for o in officials}
        for auth in authorities:
            author = authors.get(auth.id)
            if author is None:
                continue
            for j in range(args["per_authority"]):
                req = request_services.create_draft(
                    author, request_data(f"Bench request {auth.id}-{j}")
                )
                if j % 4:
                    request_services.submit_request(req, author)
                by_authority[auth.id].append(req.id)
        db.session.commit()

        # Requests in matching (the staff's ranking page).
        matching: list[int] = []
        for j in range(args["matching"] + args["proposed"]):
            author = officials[j % len(officials)]
            req = request_services.create_draft(author, request_data(f"Bench matching {j}"))
            request_services.submit_request(req, author)
            for action in ("start_review", "start_matching"):
                request_services.transition_request(req, demo_staff, action)
            by_authority[author.authority_id].append(req.id)
            matching.append(req.id)
        db.session.commit()
        out["matching"] = matching[: args["matching"]]

        # Engagements still "proposed" (fault 3 approves one of them).
        proposed = []
        for req_id in matching[args["matching"] :]:
            req = db.session.get(request_services.AssistanceRequest, req_id)
            top = engagements.rank_experts(req)[0]
            e = engagements.propose_match(
                req,
                demo_staff,
                engagements.Proposal(organisation_id=top.organisation_id, reason="Bench proposal"),
            )
            db.session.commit()
            proposed.append({"id": e.id, "version": e.version, "request_id": req_id})
        out["proposed"] = proposed

        # Experts: one per bench organisation, each with an engagement in "planned" and
        # --activities planned activities to record.
        for k in range(args["experts"]):
            org = bench_orgs[k]
            expert = new_user(
                f"bench.expert{k}@assist.example",
                f"Expert {k}",
                Role.EXPERT,
                organisation_id=org.id,
            )
            city = officials[k % len(officials)]
            req = request_services.create_draft(city, request_data(f"Bench engagement {k}"))
            request_services.submit_request(req, city)
            for action in ("start_review", "start_matching"):
                request_services.transition_request(req, demo_staff, action)
            e = engagements.propose_match(
                req,
                demo_staff,
                engagements.Proposal(
                    organisation_id=org.id, reason="Bench: chosen for the load test"
                ),
            )
            engagements.transition_engagement(e, demo_staff, "approve")
            engagements.transition_engagement(e, expert, "accept")
            activity_ids = []
            for a in range(args["activities"]):
                act = delivery.plan_activity(
                    e,
                    expert,
                    delivery.PlanData(
                        format=out["activity_format"],
                        topic=f"Workshop {a} on release preparation",
                        place="Town hall",
                        intended_audience="Probation officers and municipal staff",
                    ),
                )
                activity_ids.append(act.id)
            engagements.transition_engagement(e, city, "confirm_plan")
            db.session.commit()
            out["experts"].append(
                {"email": expert.email, "engagement": e.id, "activities": activity_ids}
            )

        # Staff with an enrolled TOTP factor, enrolled as the set-up page does.
        past = utcnow() - timedelta(seconds=95)  # leaves the current time step for sign-in
        for k in range(args["staff"]):
            user = new_user(f"bench.staff{k}@assist.example", f"Staff member {k}", Role.STAFF)
            row, _ = user_sessions.start_session(user, user_agent="bench", address="127.0.0.1")
            cred = mfa.begin_enrolment(user, row)
            totp = pyotp.TOTP(cred.secret)
            mfa.confirm_enrolment(user, row, totp.generate_otp(totp.timecode(past)), now=past)
            user_sessions.end_session(row, "sign_out")
            db.session.commit()
            out["staff"].append({"email": user.email, "secret": cred.secret})

        # Personal API tokens for staff (created as the account page does, after sign-in).
        for k in range(args["tokens"]):
            user = new_user(f"bench.apistaff{k}@assist.example", f"Api staff {k}", Role.STAFF)
            out["tokens"].append(create_token(user, "bench").secret)
        db.session.commit()

        out["officials"] = [
            {
                "email": o.email,
                "authority": o.authority_id,
                "requests": by_authority[o.authority_id],
            }
            for o in officials
        ]
        out["today"] = date.today().isoformat()
    return out


# --- Server ------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class Server:
    """``make serve`` with the given environment; ``stop()`` is bounded (TERM, then KILL)."""

    env: dict[str, str]
    port: int
    proc: subprocess.Popen | None = None
    log_path: Path = field(
        default_factory=lambda: Path(tempfile.gettempdir()) / f"assist-bench-{os.getpid()}.log"
    )

    def start(self, ready_timeout: float = 60) -> None:
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            ["make", "--no-print-directory", "serve"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"make serve exited:\n{self.log_path.read_text()[-3000:]}")
            if self.get_status("/healthz") == 200 and len(self.worker_pids()) >= 2:
                log(
                    f"server up on {HOST}:{self.port}, master {self.master_pid()}, "
                    f"workers {self.worker_pids()}"
                )
                return
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"the server did not answer within {ready_timeout} s; see {self.log_path}")

    def get_status(self, path: str) -> int:
        try:
            conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            return status
        except OSError:
            return 0

    def master_pid(self) -> int | None:
        """The gunicorn master: the first gunicorn process under make."""
        if self.proc is None:
            return None
        todo = [self.proc.pid]
        for _ in range(5):  # make -> (sh) -> gunicorn master -> workers
            nxt = []
            for pid in todo:
                if "gunicorn" in _cmdline(pid):
                    return pid
                nxt += _children(pid)
            todo = nxt
        return None

    def worker_pids(self) -> list[int]:
        master = self.master_pid()
        return _children(master) if master else []

    def stop(self, timeout: float = 40) -> None:
        if self.proc is None:
            return
        master = self.master_pid()
        if master:
            with contextlib.suppress(ProcessLookupError):
                os.kill(master, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session only
            self.proc.wait(timeout=10)
        self._log.close()
        log("server stopped")
        self.proc = None


# --- HTTP client -------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
VERSION_RE = re.compile(r'name="version"[^>]*value="(\d*)"|value="(\d*)"[^>]*name="version"')


def find(regex: re.Pattern[str], body: str) -> str | None:
    m = regex.search(body)
    return (m.group(1) or m.group(2)) if m else None


class HttpError(Exception):
    pass


class Client:
    """One browser: a keep-alive connection to the server and its cookies."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0
        self.headers: dict[str, str] = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) bench"}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(
        self,
        method: str,
        path: str,
        form: dict | list | None = None,
        json_body: object = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        # gunicorn closes idle keep-alive connections after 5 s: reconnect before that, so a
        # POST is never sent on a connection the server is closing.
        if self.conn is None or time.monotonic() - self.last_used > 4:
            self.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
        hdrs = dict(self.headers)
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_body is not None:
            body = json.dumps(json_body)
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            data = resp.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise HttpError(f"{exc.__class__.__name__}: {exc}") from exc
        self.last_used = time.monotonic()
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                k, _, rest = value.partition("=")
                v = rest.split(";", 1)[0]
                if "expires=thu, 01 jan 1970" in value.lower() or v == "":
                    self.cookies.pop(k, None)
                else:
                    self.cookies[k] = v
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data

    def csrf(self, path: str) -> tuple[str, str]:
        status, _, body = self.request("GET", path)
        token = find(CSRF_RE, body)
        if status != 200 or not token:
            raise HttpError(f"GET {path}: {status}, no csrf token")
        return token, body

    def login(self, email: str, totp_secret: str | None = None) -> None:
        token, _ = self.csrf("/login")
        status, hdrs, _ = self.request(
            "POST", "/login", form={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        if status != 302:
            raise HttpError(f"sign-in of {email}: {status}")
        if totp_secret:
            if "/login/code" not in hdrs.get("location", ""):
                raise HttpError(f"sign-in of {email}: no code step ({hdrs.get('location')})")
            import pyotp

            token, _ = self.csrf("/login/code")
            status, hdrs, _ = self.request(
                "POST",
                "/login/code",
                form={"code": pyotp.TOTP(totp_secret).now(), "csrf_token": token},
            )
            if status != 302:
                raise HttpError(f"second factor of {email}: {status}")
        status, _, _ = self.request("GET", "/requests/" if not totp_secret else "/requests/review")
        if status != 200 and "expert" not in email:
            raise HttpError(f"after sign-in of {email}: {status}")

    @property
    def session_cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def request_form(csrf: str, title: str, vocab: dict, rng) -> list[tuple[str, str]]:
    """What an official types into the request form, then "Save and submit to Efus"."""
    fields = [
        ("csrf_token", csrf),
        ("version", ""),
        ("title", title),
        (
            "context",
            "The city runs a release-preparation programme with the probation service "
            "and wants to add a family-involvement step to it.",
        ),
        ("needs", "A two-day training for the municipal team and a protocol review."),
        ("existing_activities", "A monthly multi-agency case conference."),
        ("expected_participants", str(rng.randint(5, 40))),
        ("save_and_submit", "Save and submit to Efus"),
    ]
    fields += [("themes", c) for c in rng.sample(vocab["themes"], 2)]
    fields += [("formats", rng.choice(vocab["formats"])), ("languages", "en")]
    return fields


# --- Entry point for the seeding child process -------------------------------------------------


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    seed = sub.add_parser("seed")
    for name, default in (
        ("organisations", 500),
        ("officials", 25),
        ("staff", 10),
        ("experts", 15),
        ("per-authority", 12),
        ("matching", 20),
        ("proposed", 0),
        ("activities", 60),
        ("tokens", 0),
    ):
        seed.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    print(json.dumps(_seed({k: v for k, v in vars(args).items() if k != "cmd"})))


if __name__ == "__main__":
    _main()
