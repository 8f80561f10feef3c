"""Reads of the directory: taxonomy choices, authorities and organisations."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import gettext as _
from wtforms import SelectChoice

from assist.directory.models import (
    ExpertOrganisation,
    LocalAuthority,
    TaxonomyTerm,
    TermKind,
    translate_term,
)
from assist.errors import ValidationFailed
from assist.extensions import db


def active_terms(kind: TermKind) -> list[TaxonomyTerm]:
    stmt = (
        sa.select(TaxonomyTerm)
        .where(TaxonomyTerm.kind == kind, TaxonomyTerm.is_active)
        .order_by(TaxonomyTerm.position)
    )
    return list(db.session.scalars(stmt))


def term_choices(kind: TermKind) -> list[SelectChoice]:
    """Form choices for a vocabulary, grouped under their sub-heading where they have one."""
    return [
        SelectChoice(t.code, t.display_label, optgroup=t.display_group or None)
        for t in active_terms(kind)
    ]


def term_labels(kinds: Iterable[TermKind]) -> dict[str, str]:
    """Code -> label for the given vocabularies (for texts that mention codes, like reasons)."""
    stmt = sa.select(TaxonomyTerm.code, TaxonomyTerm.label).where(
        TaxonomyTerm.kind.in_(list(kinds))
    )
    return {code: label for code, label in db.session.execute(stmt)}


def country_names() -> dict[str, str]:
    """Country code -> the country's name in the reader's language (the taxonomy's countries),
    for pages that show where authorities and organisations are: one query per page."""
    stmt = sa.select(TaxonomyTerm.code, TaxonomyTerm.label).where(
        TaxonomyTerm.kind == TermKind.COUNTRY
    )
    return {code: translate_term(label) for code, label in db.session.execute(stmt)}


def resolve_terms(kind: TermKind, codes: Iterable[str], field: str) -> list[TaxonomyTerm]:
    """The active terms for ``codes``; unknown or retired codes are refused by name."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return []
    stmt = sa.select(TaxonomyTerm).where(
        TaxonomyTerm.kind == kind, TaxonomyTerm.code.in_(wanted), TaxonomyTerm.is_active
    )
    found = {t.code: t for t in db.session.scalars(stmt)}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise ValidationFailed(
            {
                field: [
                    _(
                        "Unknown codes for %(kind)s: %(codes)s. Choose from the list offered.",
                        kind=kind.label,
                        codes=", ".join(unknown),
                    )
                ]
            }
        )
    return [found[c] for c in wanted]


def all_authorities(include_inactive: bool = True) -> list[LocalAuthority]:
    stmt = sa.select(LocalAuthority).order_by(LocalAuthority.name)
    if not include_inactive:
        stmt = stmt.where(LocalAuthority.is_active)
    return list(db.session.scalars(stmt))


def all_organisations(include_inactive: bool = True) -> list[ExpertOrganisation]:
    stmt = (
        sa.select(ExpertOrganisation)
        .options(sa.orm.selectinload(ExpertOrganisation.terms))
        .order_by(ExpertOrganisation.name)
    )
    if not include_inactive:
        stmt = stmt.where(ExpertOrganisation.is_active)
    return list(db.session.scalars(stmt))
