"""Test data builders bound to the test session; passwords use a cheap hash to keep tests fast."""

from __future__ import annotations

import itertools
from typing import Any

from werkzeug.security import generate_password_hash

from assist.auth.models import User
from assist.directory.models import ExpertOrganisation, LocalAuthority
from assist.directory.queries import resolve_terms
from assist.extensions import db
from assist.requests.models import AssistanceRequest
from assist.requests.services import REQUEST_TERM_FIELDS
from assist.roles import Role
from assist.workflow import RequestStatus

PASSWORD = "correct horse battery staple"
_CHEAP_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_seq = itertools.count(1)


def make_authority(name: str | None = None, country: str = "ES", **kw: Any) -> LocalAuthority:
    authority = LocalAuthority(name=name or f"Authority {next(_seq)}", country=country, **kw)
    db.session.add(authority)
    db.session.flush()
    return authority


def make_organisation(name: str | None = None, **kw: Any) -> ExpertOrganisation:
    org = ExpertOrganisation(name=name or f"Organisation {next(_seq)}", country="DE", **kw)
    db.session.add(org)
    db.session.flush()
    return org


def tag(org: ExpertOrganisation, **codes: list[str]) -> ExpertOrganisation:
    """Give an organisation profile tags by field name: ``tag(org, themes=[...])``."""
    from assist.directory.services import PROFILE_TERM_FIELDS

    org.terms = [
        t
        for name, values in codes.items()
        for t in resolve_terms(PROFILE_TERM_FIELDS[name], values, name)
    ]
    db.session.flush()
    return org


def make_user(
    role: Role = Role.CITY_OFFICIAL,
    *,
    authority: LocalAuthority | None = None,
    organisation: ExpertOrganisation | None = None,
    email: str | None = None,
    **kw: Any,
) -> User:
    if role == Role.CITY_OFFICIAL and authority is None:
        authority = make_authority()
    if role == Role.EXPERT and organisation is None:
        organisation = make_organisation()
    user = User(
        email=email or f"user{next(_seq)}@assist.example",
        name=kw.pop("name", f"{role.label} {next(_seq)}"),
        role=role,
        authority=authority,
        organisation=organisation,
        password_hash=_CHEAP_HASH,
        **kw,
    )
    db.session.add(user)
    db.session.flush()
    return user


COMPLETE = {
    "context": "Our municipality coordinates prevention with probation and police, but releases "
    "are prepared late and partners do not share a common approach.",
    "needs": "A training for case managers and a protocol for release preparation.",
    "terms": {"themes": ["release_transition"], "formats": ["training"], "languages": ["en"]},
}


def make_request(
    authority: LocalAuthority | None = None,
    *,
    status: RequestStatus = RequestStatus.DRAFT,
    created_by: User | None = None,
    title: str | None = None,
    complete: bool = True,
    terms: dict[str, list[str]] | None = None,
    **kw: Any,
) -> AssistanceRequest:
    if created_by is None:
        created_by = make_user(Role.CITY_OFFICIAL, authority=authority)
    authority = authority or created_by.authority
    values = {**(COMPLETE if complete else {}), **kw}
    term_codes = terms if terms is not None else values.pop("terms", {})
    values.pop("terms", None)
    req = AssistanceRequest(
        authority=authority,
        created_by=created_by,
        title=title or f"Request {next(_seq)}",
        status=status,
        **values,
    )
    req.terms = [
        t
        for name, codes in term_codes.items()
        for t in resolve_terms(REQUEST_TERM_FIELDS[name], codes, name)
    ]
    db.session.add(req)
    db.session.flush()
    return req
