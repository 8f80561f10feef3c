"""Directory pages: organisation profiles for those allowed, and the admin's edit pages."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from assist import audit
from assist.auth.decorators import current_actor, role_required
from assist.directory import services
from assist.directory.forms import AuthorityForm, OrganisationForm
from assist.directory.models import ExpertOrganisation, GovernmentLevel, LocalAuthority
from assist.directory.queries import all_authorities, all_organisations, country_names
from assist.errors import ValidationFailed
from assist.extensions import db
from assist.forms import attach_errors
from assist.roles import PROGRAMME_ROLES, Role

bp = Blueprint("directory", __name__)


def can_view_organisation(org: ExpertOrganisation) -> bool:
    return current_user.role in PROGRAMME_ROLES or (
        current_user.role == Role.EXPERT and current_user.organisation_id == org.id
    )


@bp.get("/organisations/<int:org_id>")
@login_required
def organisation(org_id: int) -> str:
    org = db.session.get(ExpertOrganisation, org_id)
    if org is None or not can_view_organisation(org):
        abort(404)
    changes = (
        [e for e in audit.history(org) if e.action in ("create", "update")]
        if current_user.role in PROGRAMME_ROLES or current_user.organisation_id == org.id
        else []
    )
    return render_template(
        "directory/organisation.html",
        org=org,
        fields=services.PROFILE_TERM_FIELDS,
        can_edit=services.can_edit_profile(current_user, org),
        changes=changes,
        countries=country_names(),
    )


@bp.get("/admin/authorities")
@role_required(Role.ADMIN, Role.STAFF)
def authorities() -> str:
    return render_template(
        "directory/authorities.html", authorities=all_authorities(), countries=country_names()
    )


@bp.route("/admin/authorities/new", methods=["GET", "POST"])
@bp.route("/admin/authorities/<int:authority_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_authority(authority_id: int | None = None) -> str | Response | tuple[str, int]:
    authority = db.get_or_404(LocalAuthority, authority_id) if authority_id else None
    form = AuthorityForm(obj=authority)
    if request.method == "GET" and authority:
        form.level.data = authority.level.value
    if form.validate_on_submit():
        data = services.AuthorityData(
            name=form.name.data or "",
            country=form.country.data or "",
            level=GovernmentLevel(form.level.data),
            description=form.description.data or "",
            is_active=bool(form.is_active.data),
        )
        try:
            saved = services.save_authority(current_actor(), data, authority)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
        else:
            flash(_("%(name)s saved.", name=saved.name), "success")
            return redirect(url_for("directory.authorities"))
    status = 422 if form.errors else 200
    return render_template("directory/authority_form.html", form=form, authority=authority), status


@bp.get("/admin/organisations")
@role_required(Role.ADMIN, Role.STAFF)
def organisations() -> str:
    return render_template(
        "directory/organisations.html", organisations=all_organisations(), countries=country_names()
    )


@bp.route("/admin/organisations/new", methods=["GET", "POST"])
@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
@login_required
def edit_organisation(org_id: int | None = None) -> str | Response | tuple[str, int]:
    org = db.get_or_404(ExpertOrganisation, org_id) if org_id else None
    if org is None and current_user.role != Role.ADMIN:
        abort(403)
    if org is not None and not services.can_edit_profile(current_user, org):
        abort(404 if current_user.role != Role.ADMIN and not can_view_organisation(org) else 403)
    form = OrganisationForm(obj=org)
    if request.method == "GET" and org:
        for name, kind in services.PROFILE_TERM_FIELDS.items():
            form[name].data = org.codes(kind)
    if form.validate_on_submit():
        data = services.OrganisationData(
            name=form.name.data or "",
            country=form.country.data or "",
            description=form.description.data or "",
            capacity=form.capacity.data if form.capacity.data is not None else 0,
            is_active=bool(form.is_active.data),
            terms={name: list(form[name].data or []) for name in services.PROFILE_TERM_FIELDS},
        )
        try:
            saved = services.save_organisation(current_actor(), data, org)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
        else:
            flash(_("%(name)s saved.", name=saved.name), "success")
            return redirect(url_for("directory.organisation", org_id=saved.id))
    status = 422 if form.errors else 200
    return render_template("directory/organisation_form.html", form=form, org=org), status
