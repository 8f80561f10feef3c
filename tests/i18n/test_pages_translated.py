"""Every page a user can reach is entirely in the reader's language, as rendered at run time.

``test_marked_strings.py`` proves that template text is marked; this proves the rest: text that
Python code produces (flash messages, labels computed in views and services, enum labels, form
choices, validation messages, chart labels, report headings...) and that the static scan cannot
see. It builds a realistic dataset (the demo data moved through the services into the states
the demo leaves out), signs in as each kind of user (three city officials, two experts, staff,
an administrator, and a visitor), and opens every HTML page of the URL map they can reach, with
object ids from the dataset (one object per state), twice:

- in English, as the users chose;
- with a *marker catalogue*: every message that goes through gettext (Flask-Babel's domain, lazy
  strings included, and WTForms' own messages) comes back as ``⟦text⟧`` with its placeholders
  left outside the markers, so that the values put into a message are checked too (a code or
  an English label passed as a value shows up).

The two renderings must be the same page but for the markers. On the marked one, whatever is
left of the visible text, the read attributes and the charts' labels once the marked parts are
removed must be data: the dataset's own texts (titles, names, descriptions, e-mail addresses,
the reasons people typed...), dates and numbers (Babel's CLDR formats, not gettext), language
codes, paths, a few names that are the same in every language, or content in a declared
language (an element with a ``lang`` attribute: the language switcher's names, English stored
by the service). Anything else is text a reader of another language would see in English: the
test prints it, page by page. Then every form is sent (empty, and every workflow action each
role may take) and the page it answers with (errors, the flashed message) is checked the same
way.

Stored text is not translated at display time, by design: what people typed is shown as typed,
and notifications were written in the recipient's language when they were sent, like their
e-mail. What the service writes in the audit trail from codes (a follow-up's answers, a
proposal's rank) is put in the reader's language when shown (``AuditEntry.comment_text``);
English it stored as text (a decision's matching reasons, an organisation's profile changes,
the allocation's constraint messages) is shown inside ``lang="en"``, so that screen readers read
it as English and this test leaves it out.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from werkzeug.datastructures import FileStorage

from assist.directory.models import TaxonomyTerm, TermKind
from assist.extensions import db
from assist.i18n import TEXT_LANGUAGES
from assist.roles import Role
from tests.conftest import ROOT
from tests.i18n.test_marked_strings import BUTTON_TYPES, READ_ATTRIBUTES  # people read
from tests.stand_in_catalogue import use_stand_in

PENDING = "_2fa_pending"  # assist.auth.views.PENDING_KEY

OPEN, CLOSE = "⟦", "⟧"

# ---------------------------------------------------------------------------------------------
# The marker catalogue


#: A named placeholder of a message (``%(name)s``, ``%(num)d``, ``%(share).1f``).
PLACEHOLDER = re.compile(r"%\(([^)]+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
#: Placeholders whose values are words of the data, in its own languages, by construction:
#: they stay inside the markers. (A match's "top shared terms" are the request's own words.)
DATA_PLACEHOLDERS = {"terms"}


def mark(message: str) -> str:
    """The message with its text between markers and its placeholders outside them: the values
    put into a message are checked too (a code or an English label passed as a value shows)."""
    parts, last = [], 0
    for placeholder in PLACEHOLDER.finditer(message):
        if placeholder.group(1) in DATA_PLACEHOLDERS:
            continue
        parts += [message[last : placeholder.start()], placeholder.group()]
        last = placeholder.end()
    parts.append(message[last:])
    return "".join(
        part if i % 2 else f"{OPEN}{part}{CLOSE}" for i, part in enumerate(parts) if part
    )


@pytest.fixture
def marked(monkeypatch: pytest.MonkeyPatch):
    """A switch: inside ``with marked():`` every translated string is wrapped in markers."""

    @contextlib.contextmanager
    def _marked() -> Iterator[None]:
        with monkeypatch.context() as m:
            # Flask-Babel's gettext, ngettext, pgettext... and the Jinja callables all ask the
            # domain for its translations; WTForms' messages come from their own catalogue.
            use_stand_in(m, lambda _locale, message: mark(message), wtforms=True)
            yield

    return _marked


# ---------------------------------------------------------------------------------------------
# What a page shows


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
#: Names and abbreviations that read the same in every language.
NAMES = re.compile(r"PREPARE Assist|PREPARE|Efus|PDF|CSV|JSON|API|UTC|TOTP|QR")
WORD = re.compile(r"[^\W\d_]{2,}")
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
#: Paths and file extensions ("/api/v1", ".pdf"): the same in every language.
CODE = re.compile(r"(?<![\w/])(?:/[\w.-]+)+/?|(?<!\w)\.[a-z0-9]{2,4}\b")
#: Random things a page shows: a second factor's key, recovery codes.
SECRETS = re.compile(r"\b[A-Z2-7]{32}\b|\b[a-z2-9]{4}(?:-[a-z2-9]{4}){3}\b")
#: Babel's English dates, months and times (|date, |datetime, |month): CLDR, not gettext.
DATES = re.compile(rf"\b{_MONTH}\.?(?:\s\d{{1,2}},)?\s\d{{4}}\b|\b\d{{1,2}}:\d{{2}}(?:\s?[AP]M)?\b")


@dataclass
class Fragment:
    where: str  # "text", an attribute name, or "chart"
    raw: str  # as shown, markers included
    left: str = ""  # what is left outside the markers


class PageText(HTMLParser):
    """The visible text and the read attributes of a page, with the parts outside markers.

    A marked message may hold markup (a link inside a sentence), so the marker depth carries
    across text nodes. Content inside an element with a ``lang`` attribute (other than <html>)
    is in a declared language and is not collected.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fragments: list[Fragment] = []
        self.depth = 0  # markers open in the text flow
        self.problems: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, declares a language)
        self._raw = 0

    @property
    def _in_other_language(self) -> bool:
        return any(lang for _tag, lang in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style"):
            self._raw += 1
        if tag not in VOID:
            self._stack.append((tag, tag != "html" and "lang" in values))
        if self._in_other_language or ("lang" in values and tag != "html"):
            return
        for name, value in attrs:
            readable = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in BUTTON_TYPES
            )
            if readable and value:
                self.fragments.append(self._outside(name, value, attribute=True))
        if values.get("data-chart"):
            for text in _strings(json.loads(values["data-chart"] or "{}")):
                self.fragments.append(self._outside("chart", text, attribute=True))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._raw = max(0, self._raw - 1)
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if self._raw or not data.strip():
            return
        if self._in_other_language:
            # Markers may still open or close here (a sentence around a quoted stored text).
            self.depth += data.count(OPEN) - data.count(CLOSE)
            return
        self.fragments.append(self._outside("text", data, attribute=False))

    def _outside(self, where: str, text: str, *, attribute: bool) -> Fragment:
        depth = 0 if attribute else self.depth
        left = []
        for ch in text:
            if ch == OPEN:
                depth += 1
            elif ch == CLOSE:
                depth -= 1
                if depth < 0:
                    self.problems.append(f"a marker closes that was never opened: {text!r}")
                    depth = 0
            elif depth == 0:
                left.append(ch)
            else:
                continue
            if ch in (OPEN, CLOSE):
                left.append(" ")
        if attribute and depth:
            self.problems.append(f"a marker is not closed in {where}: {text!r}")
        elif not attribute:
            self.depth = depth
        return Fragment(where, " ".join(text.split()), "".join(left))


def _strings(value: object) -> Iterator[str]:
    """The strings of a chart's JSON that people read (not its id)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "id":
                yield from _strings(item)


def untranslated(
    html: str, data: list[str], codes: frozenset[str] = frozenset(TEXT_LANGUAGES)
) -> tuple[list[str], list[str]]:
    """(texts in English outside the markers, marker problems) of a page rendered marked.

    ``data`` are the dataset's own texts, longest first; ``codes`` the language codes, which
    a page may show as they are (a request's language badge, a reason's list of codes)."""
    parser = PageText()
    parser.feed(html)
    parser.close()
    problems = list(parser.problems)
    if parser.depth:
        problems.append("the page ends inside a marked message (a marker never closed)")
    found = []
    for fragment in parser.fragments:
        left = fragment.left
        if not WORD.search(left):
            continue
        for text in data:
            if text in left:
                left = left.replace(text, " ")
        left = NAMES.sub(" ", DATES.sub(" ", CODE.sub(" ", SECRETS.sub(" ", left))))
        if set(WORD.findall(left)) <= codes:  # language codes, as a badge or a list
            continue
        if WORD.search(left):
            shown = (
                fragment.raw if fragment.where == "text" else f"{fragment.where}={fragment.raw!r}"
            )
            found.append(f"{shown}    [left: {' '.join(left.split())}]")
    return found, problems


CSRF = re.compile(r'(name="csrf_token"[^>]*value=|value=)"[\w.-]{40,}"')


def _normal(html: str) -> str:
    """A page without what changes from one request to the next (CSRF tokens, secrets)."""
    return SECRETS.sub("*", CSRF.sub("", html))


def visible(html: str) -> list[str]:
    """The fragments of a page with any markers taken out (to compare both renderings)."""
    parser = PageText()
    parser.feed(html)
    shown = (" ".join(f.raw.replace(OPEN, "").replace(CLOSE, "").split()) for f in parser.fragments)
    return [SECRETS.sub("*", text) for text in shown if text]


# ---------------------------------------------------------------------------------------------
# The dataset

PASSWORD = "pages translated demo password"


@dataclass
class World:
    users: dict[str, object]  # who signs in, by a name for the report
    ids: dict[str, list[int]]  # route argument -> ids to try
    query: dict[str, str] = field(default_factory=dict)  # endpoint -> query string
    pending_2fa: dict | None = None  # session of a visitor between password and code
    then: Callable[[], None] = lambda: None  # a later step: pages that change are seen again


def _one(model, **where):
    return db.session.scalars(sa.select(model).filter_by(**where)).one()


def build_world(app: Flask, tmp_path, monkeypatch) -> World:
    """The demo data, then moved through the services into the states the demo leaves out."""
    from werkzeug import security

    import assist.auth.models
    import assist.auth.services
    from assist.api.tokens import create_token
    from assist.auth import services as auth_services
    from assist.auth.models import User
    from assist.auth.sessions import hash_token
    from assist.delivery import attachments
    from assist.delivery import services as delivery
    from assist.delivery.models import Activity, Attachment, FollowUp
    from assist.demo import seed
    from assist.directory.models import ExpertOrganisation, LocalAuthority
    from assist.engagements import services as engagements
    from assist.engagements.models import ConflictOfInterest, Engagement
    from assist.notifications.models import Notification
    from assist.requests import services as requests
    from assist.requests.models import AssistanceRequest
    from tests.assist.auth.conftest import enrolled

    def cheap(password: str, method: str = "", salt_length: int = 16) -> str:
        return security.generate_password_hash(password, "pbkdf2:sha256:1000")

    for module in (assist.auth.models, assist.auth.services):
        monkeypatch.setattr(module, "generate_password_hash", cheap)
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path / "files"))
    (tmp_path / "files").mkdir()

    seed(PASSWORD)
    user = {u.email: u for u in db.session.scalars(sa.select(User))}
    staff, admin = user["staff@assist.example"], user["admin@assist.example"]
    vpn_expert = user["expert@assist.example"]
    org = {o.name: o for o in db.session.scalars(sa.select(ExpertOrganisation))}
    authority = {a.name: a for a in db.session.scalars(sa.select(LocalAuthority))}

    def req(title: str) -> AssistanceRequest:
        return _one(AssistanceRequest, title=title)

    # Requests in the states the demo leaves out: needs information, declined.
    rennes = req("Prévenir la récidive : coordination entre la ville, le SPIP et la PJJ")
    requests.transition_request(rennes, staff, "start_review")
    requests.transition_request(
        rennes, staff, "ask_info", "Please say which services take part in the CLSPD group."
    )
    roundtable = req("Multi-agency roundtable to prepare releases")
    requests.transition_request(roundtable, staff, "start_review")
    requests.transition_request(
        roundtable, staff, "decline", "Outside this year's programme; please apply again in May."
    )
    # An engagement being delivered: one activity recorded (with a file), one planned.
    hague = req("Begeleiding bij terugkeer na detentie")
    hague_official = user["official.thehague@assist.example"]
    engagement = engagements.propose_match(
        hague,
        staff,
        engagements.Proposal(
            organisation_id=org["Violence Prevention Network"].id,
            comment="A first training, then advice on the protocol.",
        ),
    )
    engagements.transition_engagement(engagement, staff, "approve")
    engagements.transition_engagement(engagement, vpn_expert, "accept")
    plan = delivery.PlanData(
        format="training",
        topic="Restorative conversations with the network",
        planned_start=date.today() + timedelta(days=10),
        place="Den Haag",
        intended_audience="Case directors",
    )
    delivered = delivery.plan_activity(engagement, vpn_expert, plan)
    engagements.transition_engagement(engagement, hague_official, "confirm_plan")
    delivery.record_activity(
        delivered,
        vpn_expert,
        delivery.RecordData(
            delivered_on=date.today() - timedelta(days=3),
            duration_hours=6,
            participants={"municipal_staff": 8, "probation": 3},
            summary="A day on restorative conversations with the network of a returning person.",
            outcomes="Case directors practised three conversation formats.",
        ),
    )
    attachments.add_attachment(
        delivered,
        vpn_expert,
        FileStorage(io.BytesIO(b"%PDF-1.4 agenda"), "agenda.pdf", content_type="application/pdf"),
    )
    delivery.plan_activity(
        engagement,
        vpn_expert,
        delivery.PlanData(
            format="remote_advice", topic="Review of the draft protocol", is_remote=True
        ),
    )
    # A proposal waiting for approval, a conflict of interest, an API token, an invitation,
    # a password-reset link, a follow-up asked, staff and admin with a second factor.
    engagements.propose_match(
        req("Insertion professionnelle des jeunes sortant de détention"),
        staff,
        engagements.Proposal(organisation_id=org["Fondation Agir Contre l'Exclusion (FACE)"].id),
    )
    engagements.add_conflict(
        staff,
        org["Denkzeit-Gesellschaft"],
        authority["Málaga"],
        "Denkzeit trained Málaga's prison staff under a paid contract.",
    )
    create_token(user["official@assist.example"], "Monthly figures script")
    auth_services.invite(
        admin,
        auth_services.UserData(
            email="new.expert@assist.example",
            name="Ana Ruiz",
            role=Role.EXPERT,
            organisation_id=org["Fondation Agir Contre l'Exclusion (FACE)"].id,
        ),
        public_url="",
        valid_for=timedelta(days=7),
    )
    auth_services.request_password_reset(
        "official@assist.example", public_url="", valid_for=timedelta(hours=1)
    )
    delivery.ask_follow_ups(datetime.now(UTC) + timedelta(days=400))
    enrolled(staff)
    enrolled(admin)
    for person in user.values():
        person.language = "en"
    db.session.commit()

    from assist.notifications.models import OutboxEmail

    bodies = " ".join(db.session.scalars(sa.select(OutboxEmail.body)))
    reset = re.search(r"/reset-password\?token=([\w-]+)", bodies)
    invitation = re.search(r"/invitation\?token=([\w-]+)", bodies)
    assert reset and invitation

    def ids(model, by=None) -> list[int]:
        """One id per value of ``by`` (a status, a role), to see each variant once."""
        rows = db.session.scalars(sa.select(model).order_by(model.id)).all()
        if by is None:
            return [r.id for r in rows]
        seen: dict[object, int] = {}
        for r in rows:
            seen.setdefault(getattr(r, by), r.id)
        return list(seen.values())

    official_rotterdam = user["official.rotterdam@assist.example"]

    def answer_follow_up() -> None:
        follow_up = db.session.scalars(sa.select(FollowUp)).one()
        delivery.answer_follow_up(
            follow_up,
            official_rotterdam,
            ["protocol_applied", "partnership_continues"],
            "The family step is now part of our aftercare.",
        )
        db.session.commit()

    return World(
        users={
            "visitor (signed out)": None,
            "city official (Málaga)": user["official@assist.example"],
            "city official (Rotterdam)": official_rotterdam,
            "city official (The Hague)": hague_official,
            "expert (Violence Prevention Network)": vpn_expert,
            "expert (Fryshuset)": user["expert.fryshuset@assist.example"],
            "staff": staff,
            "admin": admin,
        },
        ids={
            "request_id": ids(AssistanceRequest, "status"),
            "engagement_id": ids(Engagement, "status"),
            "activity_id": ids(Activity, "status"),
            "org_id": ids(ExpertOrganisation),
            "authority_id": ids(LocalAuthority)[:2],
            "user_id": ids(User, "role"),
            "notification_id": ids(Notification)[:1],
            "conflict_id": ids(ConflictOfInterest),
            "attachment_id": ids(Attachment),
        },
        query={
            "auth.reset_password": f"token={reset.group(1)}",
            "auth.accept_invitation": f"token={invitation.group(1)}",
        },
        pending_2fa={
            "uid": staff.id,
            "tok": hash_token(staff.session_token),
            "exp": int(time.time()) + 300,
            "next": None,
        },
        then=answer_follow_up,
    )


# ---------------------------------------------------------------------------------------------
# The dataset's own texts: what a page may show untranslated because people wrote it

#: Where the dataset keeps text people typed, and names: shown as they are, in any language.
#: (table, columns, which rows)
DATA_COLUMNS = [
    ("expert_organisations", "name, description", ""),
    ("local_authorities", "name, description", ""),
    ("users", "name, email", ""),
    ("invitations", "name, email", ""),
    ("api_tokens", "name, prefix", ""),
    ("assistance_requests", "title, context, needs, existing_activities", ""),
    # The reasons people give for a step. Not what the service itself writes there, from codes
    # or in English (a follow-up's answers, a proposal's rank, an organisation's profile
    # changes): those are translated or shown with lang="en" (see AuditEntry.comment_text).
    (
        "audit_entries",
        "comment",
        "WHERE action NOT IN ('follow_up', 'propose_match', 'anonymise')"
        " AND object_type <> 'expert_organisations'",
    ),
    ("conflicts_of_interest", "reason", ""),
    # Written in the recipient's language when sent, like the e-mail (see notify()).
    ("notifications", "message", ""),
    ("user_sessions", "user_agent, ip_prefix", ""),
    ("engagements", "comment", ""),
    ("match_decisions", "reason", ""),
    ("activities", "topic, place, intended_audience, summary, outcomes, follow_up", ""),
    ("engagement_feedback", "comment", ""),
    ("follow_ups", "comment", ""),
    ("attachments", "filename", ""),
]


class Dataset:
    """The dataset's own texts (longest first) and language codes, read again when a page shows
    something that is not among them (a form may just have written it)."""

    def __init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        texts: set[str] = set()
        for table, columns, where in DATA_COLUMNS:
            for row in db.session.execute(sa.text(f"SELECT {columns} FROM {table} {where}")):  # noqa: S608
                for value in row:
                    if isinstance(value, str) and WORD.search(value):
                        texts.add(value.strip())
                        texts.update(line.strip() for line in value.splitlines() if line.strip())
        self.texts = sorted(texts, key=len, reverse=True)
        language = TaxonomyTerm.kind == TermKind.LANGUAGE
        codes = db.session.scalars(sa.select(TaxonomyTerm.code).where(language))
        self.codes = frozenset(codes) | frozenset(TEXT_LANGUAGES)

    def check(self, html: str) -> tuple[list[str], list[str]]:
        found, problems = untranslated(html, self.texts, self.codes)
        if found:
            self.refresh()
            found, problems = untranslated(html, self.texts, self.codes)
        return found, problems


# ---------------------------------------------------------------------------------------------
# The sweep

#: GET routes that are not HTML pages for people: files, downloads, probes, JSON.
NOT_PAGES = {
    "static",
    "main.healthz",
    "main.readyz",
    "auth.session_ping",  # JSON for session.js
    "auth.second_factor_qr",  # an SVG image
    "requests.export",  # JSON download
    "reports.export_csv",
    "reports.funder_pack",
    "attachments.download",
}
REFUSED = {401, 403, 404}
ALERT = re.compile(r'<div class="alert[^>]*>(.*?)</div>', re.S)
#: Pages that only ever redirect (the home page sends each role to its own start page).
REDIRECTS = {"main.home"}


def page_rules(app: Flask) -> list:
    """The page routes, an object's own page before the pages under it (its edit form...)."""
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint not in NOT_PAGES
        and not rule.rule.startswith("/api/")
    ]
    return sorted(rules, key=lambda r: (len(r.arguments), len(r.rule)))


def urls(app: Flask, rule, world: World) -> list[tuple[str, dict]]:
    """(url, id values) of a rule: one per id of the dataset, with and without a link's token."""
    combos: list[dict] = [{}]
    for arg in rule.arguments:
        if arg not in world.ids:
            pytest.fail(f"route {rule.rule} takes {arg!r}: map it in World.ids")
        combos = [{**c, arg: value} for c in combos for value in world.ids[arg]]
    with app.test_request_context():
        found = [(url_for(rule.endpoint, **values), values) for values in combos]
    if rule.endpoint in world.query:
        found += [(f"{u}?{world.query[rule.endpoint]}", v) for u, v in found]
    return found


@dataclass
class Sweep:
    checked: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # who -> rules
    pages: int = 0
    posts: int = 0
    seen: set[tuple] = field(default_factory=set)  # refusals and redirects already checked
    #: (who, argument, id) of the objects a user may not open: the pages under them are not
    #: tried one by one (the tenant and role sweeps prove the refusals).
    hidden: set[tuple] = field(default_factory=set)
    findings: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def visible(self, who: str, values: dict) -> bool:
        return not any((who, arg, value) in self.hidden for arg, value in values.items())


def refused(response) -> bool:
    if 300 <= response.status_code < 400:
        return (response.location or "").split("?")[0].endswith("/login")
    return response.status_code in REFUSED


ELEMENT_ID = re.compile(r'<[^>]*\sid="([^"]*)"')


def duplicate_ids(html: str) -> list[str]:
    """Ids used twice on one page: a label or an ARIA reference then points to the first."""
    ids = ELEMENT_ID.findall(html)
    return [f"id used more than once: {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]


def check_page(client, url: str, who: str, rule, data: Dataset, marked, sweep: Sweep) -> bool:
    """Open ``url`` in English, then marked; False if the user may not open it.

    A redirect is followed in both renderings, so that the message it flashes is seen on the
    page it lands on; refusals (403, 404, a redirect to the sign-in page) and redirects to the
    same place are checked once per user."""
    first = client.get(url, buffered=True)
    follow = first.status_code != 200
    if follow:
        with client.session_transaction() as session:
            session.pop("_flashes", None)  # shown again below, in each rendering
        target = first.location or "" if 300 <= first.status_code < 400 else ""
        seen = (who, first.status_code, target.split("?")[0], "" if target else rule.endpoint)
        if seen in sweep.seen:
            return not refused(first)
        sweep.seen.add(seen)
        english = client.get(url, follow_redirects=True, buffered=True)
    else:
        english = first
    with marked():
        page = client.get(url, follow_redirects=follow, buffered=True)
    landed = page.request.full_path.rstrip("?")
    moved = page.request.path != url.split("?")[0]
    if page.mimetype != "text/html":
        if moved:
            return not refused(first)
        pytest.fail(f"{rule.rule} answers {page.mimetype}: list it in NOT_PAGES")
    key = f"{who}: GET {url}" + (f" -> {landed}" if moved else "") + f" [{page.status_code}]"
    assert page.status_code == english.status_code, key
    html = page.get_data(as_text=True)
    found, problems = data.check(html)
    plain = english.get_data(as_text=True)
    problems += duplicate_ids(plain)  # (every page of every role passes here: checked too)
    unmarked = re.sub(r"⟦|⟧|\\u27e[67]", "", html)
    if _normal(plain) != _normal(unmarked):
        a, b = visible(plain), visible(html)
        diff = [f"{x!r} / {y!r}" for x, y in zip(a, b, strict=False) if x != y][:2] or (a, b)
        problems.append(f"differs from the English page beyond the markers: {diff}")
    sweep.pages += 1
    if page.status_code == 200 and not moved:
        sweep.checked[who].add(rule.rule)
    if found or problems:
        sweep.findings[key] = problems + found
    return not refused(first)


def sweep_pages(app, client, who: str, rules, world: World, data, marked, sweep: Sweep) -> None:
    """Every page of ``rules`` for one user; the first page of an object decides whether the
    user may open it (a refusal hides the pages under it)."""
    decided: set[str] = set()
    for rule in rules:
        deciding = [a for a in rule.arguments if a not in decided]
        for url, values in urls(app, rule, world):
            if not sweep.visible(who, values):
                continue
            allowed = check_page(client, url, who, rule, data, marked, sweep)
            if not allowed and len(rule.arguments) == 1 and deciding:
                sweep.hidden.add((who, deciding[0], values[deciding[0]]))
        decided.update(rule.arguments)


#: POST routes left out of the second round: they sign out, end sessions or change the language.
POST_SKIP = {
    "auth.logout",
    "auth.end_session",
    "auth.end_other_sessions",
    "auth.set_language",
    "i18n.switch",
}
#: Transition routes: (machine, model) by endpoint; the actions come from the machine.
TRANSITIONS = {
    "requests.transition": ("REQUESTS", "assist.requests.models:AssistanceRequest"),
    "engagements.transition": ("ENGAGEMENTS", "assist.engagements.models:Engagement"),
    "delivery.transition": ("ACTIVITIES", "assist.delivery.models:Activity"),
}


def _import(path: str):
    import importlib

    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def posts(app: Flask, who: str, user, world: World, sweep: Sweep) -> Iterator[str]:
    """The URL of every form a user may send: each transition their role may take from each
    object's current state, and every other form once per object they may open (sent empty);
    a form about objects they may not open, once."""
    from assist import workflow

    for rule in app.url_map.iter_rules():
        if (
            "POST" not in rule.methods
            or rule.rule.startswith("/api/")
            or rule.endpoint in POST_SKIP
        ):
            continue
        if rule.endpoint in TRANSITIONS:
            if user is None:
                continue
            machine_name, model_path = TRANSITIONS[rule.endpoint]
            machine, model = getattr(workflow, machine_name), _import(model_path)
            (arg,) = [a for a in rule.arguments if a != "action"]
            for object_id in world.ids[arg]:
                if not sweep.visible(who, {arg: object_id}):
                    continue
                obj = db.session.get(model, object_id)
                db.session.refresh(obj)  # moved by the requests before
                for transition in machine.allowed(obj.status, user.role):
                    with app.test_request_context():
                        yield url_for(rule.endpoint, **{arg: object_id}, action=transition.action)
            continue
        found = urls(app, rule, world)
        open_ = [url for url, values in found if sweep.visible(who, values)]
        yield from open_ or [found[0][0]]


def check_post(client, url: str, who: str, data: Dataset, marked, sweep: Sweep) -> None:
    """Send a form (empty: its errors are the point) marked only: an action runs once, and
    what it answers (a form with its errors, or a page with a flashed message) is checked."""
    with marked():
        page = client.post(url, data={}, follow_redirects=True, buffered=True)
    landed = page.request.full_path.rstrip("?")
    key = f"{who}: POST {url} -> {landed} [{page.status_code}]"
    if page.status_code >= 500:
        sweep.findings[key] = ["server error"]
        return
    if page.mimetype != "text/html":
        return
    html = page.get_data(as_text=True)
    # The same answer for the same user (a refusal, the sign-in page and its message): once.
    seen = (who, page.status_code, page.request.path, tuple(ALERT.findall(html)))
    if seen in sweep.seen:
        return
    sweep.seen.add(seen)
    found, problems = data.check(html)
    sweep.posts += 1
    if found or problems:
        sweep.findings[key] = problems + found


def test_every_page_is_in_the_readers_language(
    app, client, login_as, marked, tmp_path, monkeypatch
):
    started = time.perf_counter()
    world = build_world(app, tmp_path, monkeypatch)
    data = Dataset()
    built = time.perf_counter()
    rules = page_rules(app)
    sweep = Sweep()

    def sign_in(user) -> object:
        if user is not None:
            return login_as(user)
        visitor = app.test_client()  # between the password and the code: /login/code
        with visitor.session_transaction() as session:
            session[PENDING] = world.pending_2fa
        return visitor

    for who, user in world.users.items():
        sweep_pages(app, sign_in(user), who, rules, world, data, marked, sweep)
    # Then the six-month follow-up answered: its page and the engagement's history change.
    world.then()
    engagement_rules = [r for r in rules if "engagement_id" in r.arguments]
    for who, user in world.users.items():
        if user is not None:
            sweep_pages(app, sign_in(user), who, engagement_rules, world, data, marked, sweep)
    # Then every form, sent as each user: validation errors, refusals and flashed messages.
    for who, user in world.users.items():
        client = sign_in(user)
        for url in posts(app, who, user, world, sweep):
            check_post(client, url, who, data, marked, sweep)
    took = time.perf_counter() - started
    print(
        f"\n{sweep.pages} pages and {sweep.posts} form answers checked in {took:.1f} s"
        f" (dataset {built - started:.1f} s)"
    )
    for who, checked in sweep.checked.items():
        print(f"  {who}: {len(checked)} routes")
    unreached = {r.rule for r in rules if r.endpoint not in REDIRECTS} - set().union(
        *sweep.checked.values()
    )
    for page, texts in sweep.findings.items():
        print(f"\n{page}:")
        for text in texts:
            print(f"    {text}")
    assert not unreached, f"no one reached these pages: map their arguments or data: {unreached}"
    assert not sweep.findings, (
        f"{len(sweep.findings)} pages show text that is not translated (printed above)"
    )


# ---------------------------------------------------------------------------------------------
# The checker itself, on known cases


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>⟦Save draft⟧</p>", []),
        ("<p>Save draft</p>", ["Save draft"]),
        ('<a title="Your account">⟦x⟧</a>', ["title='Your account'"]),
        ('<input type="submit" value="Send">', ["value='Send'"]),
        ('<input type="hidden" name="next" value="Send">', []),
        ("<p>⟦Status: ⟧draft</p>", ["⟦Status: ⟧draft"]),  # a code put into a message
        ("<p>⟦Read the ⟧<a>⟦guide⟧</a>⟦ first.⟧</p>", []),
        ("<p>⟦Read the <a>guide</a> first.⟧</p>", []),  # a marked message around markup
        ("<p>Lucía Martín · Nov 26, 2026 4:43 PM UTC · 3 · PREPARE Assist</p>", []),
        ('<p>⟦Written in ⟧<span lang="fr">Français</span></p>', []),
        ("<ul lang=en><li>works in English (+0.060)</li></ul><p>Shown</p>", ["Shown"]),
        ("<p>en, fr</p><p>/api/v1 .pdf</p>", []),
        ("<script>var x = 'Hello there';</script>", []),
        ('<canvas data-chart=\'{"id": "a-b", "labels": ["Draft"]}\'></canvas>', ["chart='Draft'"]),
    ],
)
def test_the_checker_finds_english_outside_the_markers(html: str, expected: list[str]) -> None:
    found, problems = untranslated(html, ["Lucía Martín"])
    assert [f.split("    [left")[0] for f in found] == expected
    assert problems == []


def test_the_checker_reports_unbalanced_markers() -> None:
    assert untranslated("<p>⟦Open</p>", [])[1]
    assert untranslated("<p>Closed⟧</p>", [])[1]


def test_the_marker_catalogue_leaves_values_outside_except_data_words() -> None:
    assert mark("Based in %(country)s, %(num)d") == "⟦Based in ⟧%(country)s⟦, ⟧%(num)d"
    assert mark("%(title)s: see below.") == "%(title)s⟦: see below.⟧"
    assert mark("terms: %(terms)s (+%(n)s)") == "⟦terms: %(terms)s (+⟧%(n)s⟦)⟧"


def test_every_concept_of_the_lexicon_has_a_translated_name() -> None:
    """A concept in a match's reasons is named by a taxonomy term or by reasons.CONCEPT_LABELS;
    a new concept in matching's lexicon needs one or the other (or it stays English)."""
    import json

    from assist.engagements.ranking import LABEL_KINDS
    from assist.engagements.reasons import CONCEPT_LABELS
    from matching.concepts import default_lexicon

    vocabulary = json.loads((ROOT / "assist/directory/taxonomy.json").read_text())
    named = {t["code"] for kind in LABEL_KINDS for t in vocabulary[kind.value]}
    labels = default_lexicon().labels
    missing = {label for code, label in labels.items() if code not in named} - set(CONCEPT_LABELS)
    assert not missing, f"add these to assist.engagements.reasons.CONCEPT_LABELS: {missing}"
