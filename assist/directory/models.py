"""Local authorities, expert organisations, and the controlled vocabulary (kept as rows)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.db import utcnow
from assist.extensions import db

if TYPE_CHECKING:
    from assist.auth.models import User


class TermKind(StrEnum):
    THEME = "theme"
    IDEOLOGY = "ideology"
    TARGET_GROUP = "target_group"
    SETTING = "setting"
    FORMAT = "format"
    AGENCY = "agency"
    LANGUAGE = "language"
    COUNTRY = "country"
    PARTICIPANT_GROUP = "participant_group"

    @property
    def label(self) -> str:
        """The vocabulary's name, in the reader's language (evaluated when read)."""
        return str(_KIND_LABELS[self])


_KIND_LABELS = {
    TermKind.THEME: _l("Themes"),
    TermKind.IDEOLOGY: _l("Ideologies"),
    TermKind.TARGET_GROUP: _l("Target groups"),
    # NOTE: settings here are places of intervention (prison, probation, community), not options.
    TermKind.SETTING: _l("Settings"),
    TermKind.FORMAT: _l("Formats"),
    TermKind.AGENCY: _l("Partner agencies"),
    TermKind.LANGUAGE: _l("Working languages"),
    TermKind.COUNTRY: _l("Countries"),
    TermKind.PARTICIPANT_GROUP: _l("Participants by professional group"),
}


def translate_term(text: str) -> str:
    """A taxonomy label, group or description in the reader's language.

    The vocabulary is data (taxonomy.json, synced into rows in English); its texts are
    extracted into the catalogue by ``assist.i18n:extract_taxonomy``, so the stored English
    text is the msgid. An empty text stays empty (gettext("") would return the catalogue header).
    """
    return gettext(text) if text else ""


class TaxonomyTerm(db.Model):
    __tablename__ = "taxonomy_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TermKind]
    code: Mapped[str] = mapped_column(sa.String(64))
    label: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.String(400), default="")
    #: A sub-heading within a kind (themes: approaches vs. reintegration domains).
    group: Mapped[str] = mapped_column(sa.String(64), default="")
    position: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (sa.UniqueConstraint("kind", "code", name="uq_taxonomy_terms_kind_code"),)

    @property
    def display_label(self) -> str:
        """The label shown to people (translated); ``label`` stays the stored English text."""
        return translate_term(self.label)

    @property
    def display_description(self) -> str:
        return translate_term(self.description)

    @property
    def display_group(self) -> str:
        return translate_term(self.group)

    def __repr__(self) -> str:
        return f"<Term {self.kind}:{self.code}>"


class GovernmentLevel(StrEnum):
    MUNICIPALITY = "municipality"
    REGION = "region"
    NATIONAL = "national"

    @property
    def label(self) -> str:
        return str(_LEVEL_LABELS[self.value])


_LEVEL_LABELS = {
    "municipality": _l("Municipality"),
    "region": _l("Region"),
    "national": _l("National"),
}


class LocalAuthority(db.Model):
    __tablename__ = "local_authorities"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    country: Mapped[str] = mapped_column(sa.String(2))
    level: Mapped[GovernmentLevel] = mapped_column(default=GovernmentLevel.MUNICIPALITY)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="authority")

    def __repr__(self) -> str:
        return f"<LocalAuthority {self.name}>"


expert_organisation_terms = sa.Table(
    "expert_organisation_terms",
    db.metadata,
    sa.Column(
        "organisation_id",
        sa.ForeignKey("expert_organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("term_id", sa.ForeignKey("taxonomy_terms.id"), primary_key=True),
)


class ExpertOrganisation(db.Model):
    __tablename__ = "expert_organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    country: Mapped[str] = mapped_column(sa.String(2))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: How many engagements the organisation can run at once.
    capacity: Mapped[int] = mapped_column(default=2)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    terms: Mapped[list[TaxonomyTerm]] = relationship(
        secondary=expert_organisation_terms, order_by=(TaxonomyTerm.kind, TaxonomyTerm.position)
    )
    users: Mapped[list[User]] = relationship(back_populates="organisation")

    __table_args__ = (sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),)

    def codes(self, kind: TermKind) -> list[str]:
        return [t.code for t in self.terms if t.kind == kind]

    def terms_of(self, kind: TermKind) -> list[TaxonomyTerm]:
        return [t for t in self.terms if t.kind == kind]

    def __repr__(self) -> str:
        return f"<ExpertOrganisation {self.name}>"
