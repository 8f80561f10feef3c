"""Sign-in, sign-out and the admin's account pages."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from assist.auth import services
from assist.auth.decorators import current_actor, role_required
from assist.auth.forms import LoginForm, UserForm
from assist.auth.models import User
from assist.errors import ValidationFailed
from assist.extensions import db, limiter
from assist.forms import attach_errors
from assist.roles import Role
from assist.urls import safe_next_url

bp = Blueprint("auth", __name__)


def _account_key() -> str:
    return "login-account:" + services.normalise_email(request.form.get("email", ""))


def _failed(response: Response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            services.record_login(user)
            db.session.commit()
            login_user(user)
            return redirect(safe_next_url(request.args.get("next")) or url_for("main.home"))
        flash("E-mail address or password is not right, or the account is inactive.", "danger")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    services.logout(current_actor())
    db.session.commit()
    logout_user()
    flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.get("/admin/users")
@role_required(Role.ADMIN)
def users() -> str:
    rows = db.session.scalars(
        sa.select(User)
        .options(sa.orm.joinedload(User.authority), sa.orm.joinedload(User.organisation))
        .order_by(User.role, User.name)
    ).all()
    return render_template("auth/users.html", users=rows)


def _user_data(form: UserForm) -> services.UserData:
    return services.UserData(
        email=form.email.data or "",
        name=form.name.data or "",
        role=Role(form.role.data),
        authority_id=form.authority_id.data,
        organisation_id=form.organisation_id.data,
        is_active=bool(form.is_active.data),
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user() -> str | Response | tuple[str, int]:
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(current_actor(), _user_data(form), form.password.data or "")
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
            return render_template("auth/user_form.html", form=form, user=None), 422
        flash(f"Account created for {user.name}.", "success")
        return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None), 422 if form.errors else 200


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id: int) -> str | Response | tuple[str, int]:
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    if request.method == "GET":
        form.is_active.data = user.is_active_account
        form.role.data = user.role.value
    if form.validate_on_submit():
        try:
            services.update_user(current_actor(), user, _user_data(form), form.password.data or "")
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
            return render_template("auth/user_form.html", form=form, user=user), 422
        flash(f"Account of {user.name} saved.", "success")
        return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user), 422 if form.errors else 200
