"""Writes to the directory: the taxonomy sync and the admin's authority/organisation edits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _

from assist import audit
from assist.auth.models import User
from assist.directory.models import (
    ExpertOrganisation,
    GovernmentLevel,
    LocalAuthority,
    TaxonomyTerm,
    TermKind,
)
from assist.directory.queries import resolve_terms
from assist.errors import NotAllowed, ValidationFailed
from assist.extensions import db
from assist.roles import Role

TAXONOMY_FILE = Path(__file__).with_name("taxonomy.json")

#: The vocabularies of an expert organisation's profile, by the field names that carry them.
PROFILE_TERM_FIELDS: dict[str, TermKind] = {
    "themes": TermKind.THEME,
    "ideologies": TermKind.IDEOLOGY,
    "target_groups": TermKind.TARGET_GROUP,
    "settings": TermKind.SETTING,
    "formats": TermKind.FORMAT,
    "languages": TermKind.LANGUAGE,
    "countries": TermKind.COUNTRY,
}


def sync_taxonomy(path: Path = TAXONOMY_FILE) -> dict[str, int]:
    """Upsert the vocabulary from its data file; codes no longer in it are retired, not deleted."""
    data = json.loads(path.read_text(encoding="utf-8"))
    existing = {(t.kind, t.code): t for t in db.session.scalars(sa.select(TaxonomyTerm))}
    seen: set[tuple[TermKind, str]] = set()
    counts = {"added": 0, "updated": 0, "retired": 0}
    for kind in TermKind:
        for position, item in enumerate(data.get(kind.value, [])):
            key = (kind, item["code"])
            seen.add(key)
            values = {
                "label": item["label"],
                "description": item.get("description", ""),
                "group": item.get("group", ""),
                "position": position,
                "is_active": True,
            }
            term = existing.get(key)
            if term is None:
                db.session.add(TaxonomyTerm(kind=kind, code=item["code"], **values))
                counts["added"] += 1
            elif any(getattr(term, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(term, k, v)
                counts["updated"] += 1
    for key, term in existing.items():
        if key not in seen and term.is_active:
            term.is_active = False
            counts["retired"] += 1
    db.session.flush()
    return counts


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise NotAllowed(_("Only an administrator can change the directory."))


def _unique_name(
    model: type[LocalAuthority] | type[ExpertOrganisation], name: str, own_id: int | None
) -> None:
    stmt = sa.select(model.id).where(sa.func.lower(model.name) == name.lower())
    other = db.session.scalar(stmt)
    if other is not None and other != own_id:
        raise ValidationFailed(
            {"name": [_("'%(name)s' already exists. Choose another name.", name=name)]}
        )


@dataclass
class AuthorityData:
    name: str
    country: str
    level: GovernmentLevel = GovernmentLevel.MUNICIPALITY
    description: str = ""
    is_active: bool = True


def save_authority(
    actor: User, data: AuthorityData, authority: LocalAuthority | None = None
) -> LocalAuthority:
    _require_admin(actor)
    _unique_name(LocalAuthority, data.name, authority.id if authority else None)
    resolve_terms(TermKind.COUNTRY, [data.country], "country")
    created = authority is None
    authority = authority or LocalAuthority()
    changed = [k for k, v in vars(data).items() if getattr(authority, k, None) != v]
    for k, v in vars(data).items():
        setattr(authority, k, v)
    db.session.add(authority)
    audit.record(actor, "create" if created else "update", authority, changes=changed)
    return authority


@dataclass
class OrganisationData:
    name: str
    country: str
    description: str = ""
    capacity: int = 2
    is_active: bool = True
    #: field name from PROFILE_TERM_FIELDS -> codes
    terms: dict[str, list[str]] = field(default_factory=dict)


def can_edit_profile(actor: User, org: ExpertOrganisation) -> bool:
    """Admins edit every organisation; experts keep their own organisation's profile."""
    return actor.role == Role.ADMIN or (
        actor.role == Role.EXPERT and actor.organisation_id == org.id
    )


def save_organisation(
    actor: User, data: OrganisationData, org: ExpertOrganisation | None = None
) -> ExpertOrganisation:
    if org is None or actor.role != Role.EXPERT:
        _require_admin(actor)
    elif not can_edit_profile(actor, org):
        raise NotAllowed(_("You can only edit your own organisation's profile."))
    else:
        # Experts keep the profile current; the name and whether it is active stay Efus's call.
        data.name, data.is_active = org.name, org.is_active
    if not data.name.strip():
        raise ValidationFailed({"name": [_("Enter the organisation's name.")]})
    _unique_name(ExpertOrganisation, data.name, org.id if org else None)
    resolve_terms(TermKind.COUNTRY, [data.country], "country")
    terms: list[TaxonomyTerm] = []
    for name, kind in PROFILE_TERM_FIELDS.items():
        terms += resolve_terms(kind, data.terms.get(name, []), name)
    created = org is None
    org = org or ExpertOrganisation()
    scalars = {k: v for k, v in vars(data).items() if k != "terms"}
    summary = [] if created else _profile_changes(org, scalars, terms)
    changed = [k for k, v in scalars.items() if getattr(org, k, None) != v]
    if created or {t.id for t in org.terms} != {t.id for t in terms}:
        changed.append("profile terms")
    for k, v in scalars.items():
        setattr(org, k, v)
    org.terms = terms
    db.session.add(org)
    audit.record(
        actor, "create" if created else "update", org, changes=changed, comment="; ".join(summary)
    )
    return org


def _profile_changes(
    org: ExpertOrganisation, scalars: dict[str, object], terms: list[TaxonomyTerm]
) -> list[str]:
    """What changed, in words staff can read ("capacity 2 → 3", "themes + Housing")."""
    lines = []
    for key in ("country", "capacity", "is_active"):
        if getattr(org, key) != scalars[key]:
            lines.append(f"{key.replace('_', ' ')} {getattr(org, key)} → {scalars[key]}")
    if org.description != scalars["description"]:
        lines.append("profile text edited")
    old = {t.id: t for t in org.terms}
    new = {t.id: t for t in terms}
    for name, kind in PROFILE_TERM_FIELDS.items():
        added = [t.label for i, t in new.items() if i not in old and t.kind == kind]
        removed = [t.label for i, t in old.items() if i not in new and t.kind == kind]
        if added or removed:
            parts = [
                f"+ {', '.join(added)}" if added else "",
                f"− {', '.join(removed)}" if removed else "",
            ]
            lines.append(f"{name.replace('_', ' ')} " + " ".join(p for p in parts if p))
    return lines
