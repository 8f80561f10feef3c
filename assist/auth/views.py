"""Sign-in (password, then the second factor), sign-out, the account-security pages, password
reset and invitations, and the admin's account pages.

Every session is a row in ``user_sessions``: the cookie carries Flask-Login's alternative id (the
user's ``session_token``) and a random per-browser token whose hash must match an open row that is
neither idle nor too old. ``_account_gate`` runs before every page and is the one place that keeps
a user who needs a second factor on the set-up page until they have one.
"""

from __future__ import annotations

import hmac
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SessionMixin
from flask_babel import format_timedelta, ngettext, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from limits import parse as parse_limit
from werkzeug.wrappers import Response

from assist.auth import second_factor as mfa
from assist.auth import services
from assist.auth import sessions as user_sessions
from assist.auth.decorators import current_actor, role_required
from assist.auth.forms import (
    AcceptInvitationForm,
    ActionForm,
    CodeForm,
    ConfirmCodeForm,
    EndSessionForm,
    EnrolForm,
    ForgotPasswordForm,
    InvitationForm,
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    ResetPasswordForm,
    RevokeInvitationForm,
    RolePolicyForm,
    UserForm,
)
from assist.auth.models import Invitation, TotpCredential, User, UserSession
from assist.db import utcnow
from assist.errors import DomainError, ValidationFailed
from assist.extensions import db, limiter
from assist.forms import attach_errors
from assist.i18n import LANGUAGES
from assist.i18n import SESSION_KEY as LANGUAGE_KEY
from assist.roles import Role
from assist.urls import safe_next_url

bp = Blueprint("auth", __name__)

#: Keys this module keeps in the signed session cookie.
SESSION_KEY = "_sid"  # the raw per-browser token (the database has its hash)
PENDING_KEY = "_2fa_pending"  # password checked, code not yet: {"uid", "tok", "exp", "next"}
PENDING_SECONDS = 5 * 60

#: Pages a signed-in user who still needs a second factor may open.
SET_UP_ENDPOINTS = frozenset(
    {
        "auth.second_factor_setup",
        "auth.second_factor_qr",
        "auth.second_factor_confirm",
        "auth.logout",
        "auth.session_ping",
        "main.healthz",
        "static",
    }
)


# --- Sessions: loading, the gate, starting and ending ---------------------------------------


def timeouts() -> user_sessions.Timeouts:
    return user_sessions.Timeouts(
        idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
        absolute=timedelta(hours=current_app.config["SESSION_MAX_HOURS"]),
    )


def current_session() -> UserSession | None:
    """The signed-in browser's session row (None when nobody is signed in)."""
    if not current_user.is_authenticated:
        return None
    return g.get("user_session")


def _forget(store: SessionMixin) -> None:
    for key in ("_user_id", "_fresh", "_id", SESSION_KEY):
        store.pop(key, None)


_END_MESSAGES = {
    "idle": lambda: ngettext(
        "You were signed out after %(num)d minute without activity. Sign in again.",
        "You were signed out after %(num)d minutes without activity. Sign in again.",
        current_app.config["SESSION_IDLE_MINUTES"],
    ),
    "expired": lambda: ngettext(
        "Your session reached its %(num)d-hour limit. Sign in again.",
        "Your session reached its %(num)d-hour limit. Sign in again.",
        current_app.config["SESSION_MAX_HOURS"],
    ),
}


@bp.before_app_request
def _account_gate() -> Response | None:
    if request.endpoint in (None, "static") or request.blueprint == "api":
        return None
    authenticated = current_user.is_authenticated  # runs the loader
    row: UserSession | None = g.get("user_session") if authenticated else None
    if row is not None and user_sessions.touch(row):
        g.user_session_dirty = True
    if g.pop("user_session_dirty", False):
        db.session.commit()
    if not authenticated:
        reason = g.get("session_end_reason", "")
        if reason in _END_MESSAGES:
            flash(_END_MESSAGES[reason](), "info")
        return None
    if row is None or row.second_factor_at is not None or request.endpoint in SET_UP_ENDPOINTS:
        return None
    user = current_actor()
    if not mfa.required_for(user):
        return None
    if mfa.is_enrolled(user):
        # Only a session from before the factor was required: sign in again, with the code.
        user_sessions.end_session(row, "second_factor_needed")
        db.session.commit()
        logout_user()
        session.pop(SESSION_KEY, None)
        flash(_("Sign in again with your password and your authenticator code."), "info")
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        flash(_("Set up two-step sign-in before you continue: it takes a minute."), "info")
    return redirect(url_for("auth.second_factor_setup"))


def _sign_in(user: User, *, second_factor_passed: bool) -> UserSession:
    previous = current_session()
    if previous is not None:
        user_sessions.end_session(previous, "sign_out")
    row, token = user_sessions.start_session(
        user,
        user_agent=request.user_agent.string,
        address=request.remote_addr,
        second_factor=second_factor_passed,
    )
    services.record_login(user, second_factor=second_factor_passed)
    db.session.commit()
    session.pop(PENDING_KEY, None)
    login_user(user)
    session[SESSION_KEY] = token
    g.user_session = row
    return row


def _keep_signed_in(user: User) -> None:
    """After the user's token rotated (others signed out), keep this browser signed in."""
    login_user(user)


# --- Rate-limit keys ------------------------------------------------------------------------


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    return "login-account:" + services.normalise_email(request.form.get("email", ""))


def _pending_key() -> str:
    pending = session.get(PENDING_KEY) or {}
    uid = pending.get("uid") if isinstance(pending, dict) else None
    return f"second-factor:{uid}" if uid else "second-factor-address:" + (request.remote_addr or "")


def _reset_email_key() -> str:
    return "reset-email:" + services.normalise_email(request.form.get("email", ""))


def _actor_key() -> str:
    if current_user.is_authenticated:
        return f"account-user:{current_user.id}"
    return "account-address:" + (request.remote_addr or "")


def _action_limit() -> str:
    return str(current_app.config["ACCOUNT_ACTION_LIMIT"])


account_action_limit = limiter.limit(_action_limit, key_func=_actor_key, methods=["POST"])


def _account_paused_message() -> str:
    """The 429 text when an account's sign-ins are paused, with the limit in the reader's words."""
    limit = parse_limit(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])
    period = format_timedelta(
        timedelta(seconds=limit.get_expiry()),
        granularity=limit.GRANULARITY.name,
        threshold=float("inf"),  # "90 minutes" stays 90 minutes, as configured
    )
    # NOTE: %(num)d failed sign-ins are allowed per %(period)s, e.g. "15 minutes".
    return _(
        "Sign-in for this account is paused after too many failed attempts (at most %(num)d in "
        "%(period)s). Wait, then try again, or use “Forgot your password?”.",
        num=limit.amount,
        period=period,
    )


# --- Sign-in: password, then the code --------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    error_message=_account_paused_message,
)
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data or "", form.password.data or "")
        next_url = safe_next_url(request.args.get("next"))
        if user is not None and mfa.is_enrolled(user):
            session[PENDING_KEY] = {
                "uid": user.id,
                # A digest, not the token: the cookie is signed but readable.
                "tok": user_sessions.hash_token(user.session_token),
                "exp": int(time.time()) + PENDING_SECONDS,
                "next": next_url,
            }
            return redirect(url_for("auth.second_factor"))
        if user is not None:
            _sign_in(user, second_factor_passed=False)
            if mfa.required_for(user):
                return redirect(url_for("auth.second_factor_setup"))
            return redirect(next_url or url_for("main.home"))
        db.session.commit()  # the sign_in_failed audit entry
        flash(_("E-mail address or password is not right, or the account is inactive."), "danger")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


def _pending_user() -> tuple[User | None, str | None]:
    """The user between the password and the code step: at most 5 minutes, same password."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("exp", 0) < time.time():
        return None, None
    uid = pending.get("uid")
    user = db.session.get(User, uid) if isinstance(uid, int) else None
    if user is None or not user.is_active:
        return None, None
    # The user's token rotates on a password change or reset: an older pending step is void.
    if not hmac.compare_digest(
        user_sessions.hash_token(user.session_token), str(pending.get("tok", ""))
    ):
        return None, None
    return user, pending.get("next")


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["SECOND_FACTOR_LIMIT_PER_ACCOUNT"],
    key_func=_pending_key,
    methods=["POST"],
    deduct_when=_failed,
)
def second_factor() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    user, next_url = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(
            ngettext(
                "Sign-in takes at most %(num)d minute between password and code: start again.",
                "Sign-in takes at most %(num)d minutes between password and code: start again.",
                PENDING_SECONDS // 60,
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        check = mfa.verify(user, form.code.data or "")
        if check.ok:
            _sign_in(user, second_factor_passed=True)
            if check.recovery_code_used:
                flash(
                    ngettext(
                        "You used a recovery code; %(num)d left. If your device is lost, make new "
                        "codes or ask an administrator to reset your second factor.",
                        "You used a recovery code; %(num)d left. If your device is lost, make new "
                        "codes or ask an administrator to reset your second factor.",
                        check.recovery_codes_left,
                    ),
                    "warning",
                )
            return redirect(next_url or url_for("main.home"))
        services.record_failed_sign_in(user, "second_factor")
        db.session.commit()
        form.code.errors = [
            _("That code is not right, or was already used. Wait for the next code in your app.")
        ]
        return render_template("auth/second_factor.html", form=form), 401
    return render_template("auth/second_factor.html", form=form), 422 if form.errors else 200


@bp.post("/logout")
@login_required
@account_action_limit
def logout() -> Response:
    services.logout(current_actor(), current_session())
    db.session.commit()
    logout_user()
    session.pop(SESSION_KEY, None)
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.get("/account/session/ping")
@login_required
def session_ping() -> Response:
    """Called by static/js/session.js when the user chooses to stay signed in."""
    return jsonify(idle_seconds=current_app.config["SESSION_IDLE_MINUTES"] * 60)


# --- The account-security page ---------------------------------------------------------------


@bp.get("/account/security")
@login_required
def security() -> str:
    user = current_actor()
    return render_template(
        "auth/security.html",
        sessions=user_sessions.active_sessions(user, timeouts()),
        current=current_session(),
        enrolled=mfa.is_enrolled(user),
        required=mfa.required_for(user),
        codes_left=mfa.codes_left(user),
        end_form=EndSessionForm(),
        action_form=ActionForm(),
        code_form=ConfirmCodeForm(),
    )


@bp.post("/account/sessions/end")
@login_required
@account_action_limit
def end_session() -> Response:
    form = EndSessionForm()
    if not form.validate_on_submit():
        flash(_("Choose a session to end, from this page."), "danger")
        return redirect(url_for("auth.security"))
    user = current_actor()
    row = user_sessions.get_own_session_or_404(user, form.session_id.data or 0)
    current = current_session()
    services.end_own_session(user, row, current=current)
    db.session.commit()
    if current is not None and row.id == current.id:
        logout_user()
        session.pop(SESSION_KEY, None)
        flash(_("You are signed out."), "success")
        return redirect(url_for("auth.login"))
    # NOTE: %(device)s is a browser and system, e.g. "Firefox on Windows".
    flash(_("The session on %(device)s is ended.", device=row.device), "success")
    return redirect(url_for("auth.security"))


@bp.post("/account/sessions/end-others")
@login_required
@account_action_limit
def end_other_sessions() -> Response:
    if not ActionForm().validate_on_submit():
        return redirect(url_for("auth.security"))
    user = current_actor()
    current = current_session()
    if current is None:
        abort(403)
    count = services.end_other_sessions(user, current)
    db.session.commit()
    _keep_signed_in(user)
    flash(
        ngettext(
            "Signed out everywhere else (%(num)d other session).",
            "Signed out everywhere else (%(num)d other sessions).",
            count,
        ),
        "success",
    )
    return redirect(url_for("auth.security"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@account_action_limit
def change_password() -> str | Response | tuple[str, int]:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_actor()
        try:
            services.change_password(
                user,
                form.current_password.data or "",
                form.new_password.data or "",
                keep=current_session(),
            )
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
            return render_template("auth/password.html", form=form), 422
        _keep_signed_in(user)
        flash(_("Password changed. Your other sessions are signed out."), "success")
        return redirect(url_for("auth.security"))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200


@bp.post("/account/language")
@login_required
@account_action_limit
def set_language() -> Response:
    """The language preference on the account page; the empty choice follows the browser."""
    form = LanguageForm()
    if not form.validate_on_submit():
        flash(_("Choose a language from the list."), "danger")
        return redirect(url_for("account.index"))
    language = form.language.data or None
    services.set_language(current_actor(), language)
    db.session.commit()
    # This browser's switcher choice follows, so that "Follow my browser" really does.
    if language is None:
        session.pop(LANGUAGE_KEY, None)
    else:
        session[LANGUAGE_KEY] = language
    refresh()  # the confirmation is already in the new language
    flash(_("Saved."), "success")
    return redirect(url_for("account.index") + "#language-preference")


# --- Second factor: enrolment, QR code, recovery codes ---------------------------------------


@bp.get("/account/2fa")
@login_required
def second_factor_setup() -> str | Response:
    user = current_actor()
    row = current_session()
    if row is None:
        abort(403)
    if mfa.is_enrolled(user):
        return redirect(url_for("auth.security"))
    cred = mfa.begin_enrolment(user, row)
    db.session.commit()
    return render_template(
        "auth/enrol.html",
        form=EnrolForm(formdata=None),
        secret=cred.secret,
        required=mfa.required_for(user),
    )


@bp.get("/account/2fa/qr.svg")
@login_required
def second_factor_qr() -> Response:
    user = current_actor()
    row = current_session()
    cred = mfa.pending_enrolment(user, row) if row is not None else None
    if cred is None:
        return Response(_("No set-up in progress."), status=404, mimetype="text/plain")
    uri = mfa.provisioning_uri(cred, user, current_app.config["TOTP_ISSUER"])
    response = Response(mfa.qr_svg(uri), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/2fa/confirm")
@login_required
@account_action_limit
def second_factor_confirm() -> str | Response | tuple[str, int]:
    user = current_actor()
    row = current_session()
    if row is None:
        abort(403)
    form = EnrolForm()
    cred = mfa.pending_enrolment(user, row)
    if cred is None:
        flash(_("Start the set-up again from this page."), "info")
        return redirect(url_for("auth.second_factor_setup"))
    if form.validate_on_submit():
        try:
            enrolled = mfa.confirm_enrolment(user, row, form.code.data or "")
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
        else:
            _keep_signed_in(user)
            # Rendered, not redirected: the codes must not travel through the session cookie.
            return render_template("auth/recovery_codes.html", codes=enrolled.recovery_codes)
    return render_template(
        "auth/enrol.html",
        form=form,
        secret=cred.secret,
        required=mfa.required_for(user),
    ), 422


@bp.post("/account/2fa/recovery-codes")
@login_required
@account_action_limit
def regenerate_recovery_codes() -> str | Response:
    form = ConfirmCodeForm()
    user = current_actor()
    if form.validate_on_submit():
        try:
            codes = mfa.regenerate_recovery_codes(user, form.code.data or "")
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            flash(" ".join(exc.errors.get("code", [exc.message])), "danger")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            return render_template("auth/recovery_codes.html", codes=codes, regenerated=True)
    else:
        flash(_("Enter the 6 digits your app shows now."), "danger")
    return redirect(url_for("auth.security"))


# --- Forgotten password ----------------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["PASSWORD_RESET_LIMIT_PER_EMAIL"],
    key_func=_reset_email_key,
    methods=["POST"],
)
def forgot_password() -> str | tuple[str, int]:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        started = time.monotonic()
        services.request_password_reset(
            form.email.data or "",
            public_url=current_app.config["PUBLIC_URL"],
            valid_for=timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"]),
        )
        db.session.commit()
        # Found or not, the answer is the same sentence after the same time.
        remaining = current_app.config["FORGOT_PASSWORD_MIN_SECONDS"] - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
        return render_template(
            "auth/forgot_password.html", form=ForgotPasswordForm(formdata=None), sent=True
        )
    status = 422 if form.errors else 200
    return render_template("auth/forgot_password.html", form=form, sent=False), status


def _link_problem(exc: services.TokenProblem, *, invitation: bool = False) -> tuple[str, int]:
    return render_template(
        "auth/link_problem.html", message=exc.message, invitation=invitation
    ), exc.status_code


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit(_action_limit, methods=["POST"])
def reset_password() -> str | Response | tuple[str, int]:
    form = ResetPasswordForm()
    if request.method == "GET":
        form.token.data = request.args.get("token", "")
    token = form.token.data or ""
    try:
        services.check_reset_token(token)
    except services.TokenProblem as exc:
        return _link_problem(exc)
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data or "")
            db.session.commit()
        except services.TokenProblem as exc:
            db.session.rollback()
            return _link_problem(exc)
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
            return render_template("auth/reset_password.html", form=form), 422
        if current_user.is_authenticated:
            logout_user()
            session.pop(SESSION_KEY, None)
        flash(
            _("Your password is changed and every session signed out. Sign in with it."), "success"
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), 422 if form.errors else 200


# --- Invitations -----------------------------------------------------------------------------


def _invitations_page(form: InvitationForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "auth/invitations.html",
        form=form,
        invitations=services.pending_invitations(),
        revoke_form=RevokeInvitationForm(),
        now=utcnow(),
    ), status


@bp.get("/invitations")
@role_required(Role.STAFF, Role.ADMIN)
def invitations() -> tuple[str, int]:
    return _invitations_page(InvitationForm(formdata=None))


@bp.post("/invitations")
@role_required(Role.STAFF, Role.ADMIN)
@account_action_limit
def create_invitation() -> Response | tuple[str, int]:
    form = InvitationForm()
    if not form.validate_on_submit():
        return _invitations_page(form, 422)
    data = services.UserData(
        email=form.email.data or "",
        name=form.name.data or "",
        role=Role(form.role.data),
        authority_id=form.authority_id.data,
        organisation_id=form.organisation_id.data,
        language=form.language.data or None,
    )
    try:
        invitation = services.invite(
            current_actor(),
            data,
            public_url=current_app.config["PUBLIC_URL"],
            valid_for=timedelta(days=current_app.config["INVITATION_DAYS"]),
        )
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _invitations_page(form, 422)
    flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
    return redirect(url_for("auth.invitations"))


@bp.post("/invitations/revoke")
@role_required(Role.STAFF, Role.ADMIN)
@account_action_limit
def revoke_invitation() -> Response:
    form = RevokeInvitationForm()
    invitation = (
        db.session.get(Invitation, form.invitation_id.data or 0)
        if form.validate_on_submit()
        else None
    )
    if invitation is None:
        flash(_("Choose an invitation to withdraw, from this page."), "danger")
        return redirect(url_for("auth.invitations"))
    try:
        services.revoke_invitation(current_actor(), invitation)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        flash(
            _(
                "Invitation to %(email)s withdrawn: its link no longer works.",
                email=invitation.email,
            ),
            "success",
        )
    return redirect(url_for("auth.invitations"))


@bp.route("/invitation", methods=["GET", "POST"])
@limiter.limit(_action_limit, methods=["POST"])
def accept_invitation() -> str | Response | tuple[str, int]:
    form = AcceptInvitationForm()
    if request.method == "GET":
        form.token.data = request.args.get("token", "")
        # The language the invitation was written in: this page, and the account, use it (the
        # switcher can change it before the account exists).
        if request.args.get("lang") in LANGUAGES:
            session[LANGUAGE_KEY] = request.args["lang"]
            refresh()
    token = form.token.data or ""
    try:
        invitation = services.check_invitation(token)
    except services.TokenProblem as exc:
        return _link_problem(exc, invitation=True)
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(
                token, form.password.data or "", language=session.get(LANGUAGE_KEY)
            )
            db.session.flush()
        except services.TokenProblem as exc:
            db.session.rollback()
            return _link_problem(exc, invitation=True)
        except ValidationFailed as exc:
            db.session.rollback()
            attach_errors(form, exc)
            return render_template(
                "auth/accept_invitation.html", form=form, invitation=invitation
            ), 422
        _sign_in(user, second_factor_passed=False)  # commits
        flash(_("Welcome, %(name)s: your account is ready.", name=user.name), "success")
        if mfa.required_for(user):
            return redirect(url_for("auth.second_factor_setup"))
        return redirect(url_for("main.home"))
    status = 422 if form.errors else 200
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation), status


# --- Administrators: accounts, second-factor policy and resets -------------------------------


@bp.get("/admin/users")
@role_required(Role.ADMIN)
def users() -> str:
    rows = db.session.scalars(
        sa.select(User)
        .options(sa.orm.joinedload(User.authority), sa.orm.joinedload(User.organisation))
        .order_by(User.role, User.name)
    ).all()
    enrolled = set(
        db.session.scalars(
            sa.select(TotpCredential.user_id).where(TotpCredential.confirmed_at.is_not(None))
        )
    )
    return render_template("auth/users.html", users=rows, enrolled=enrolled)


def _user_data(form: UserForm) -> services.UserData:
    return services.UserData(
        email=form.email.data or "",
        name=form.name.data or "",
        role=Role(form.role.data),
        authority_id=form.authority_id.data,
        organisation_id=form.organisation_id.data,
        is_active=bool(form.is_active.data),
        language=form.language.data or None,
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@account_action_limit
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
        flash(_("Account created for %(name)s.", name=user.name), "success")
        return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None), 422 if form.errors else 200


def _user_form_page(form: UserForm, user: User, status: int = 200) -> tuple[str, int]:
    return render_template(
        "auth/user_form.html",
        form=form,
        user=user,
        enrolled=mfa.is_enrolled(user),
        reset_form=ActionForm(),
    ), status


@bp.route("/admin/users/<int:user_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@account_action_limit
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
            return _user_form_page(form, user, 422)
        flash(_("Account of %(name)s saved.", name=user.name), "success")
        return redirect(url_for("auth.users"))
    return _user_form_page(form, user, 422 if form.errors else 200)


@bp.post("/admin/users/<int:user_id>/reset-second-factor")
@role_required(Role.ADMIN)
@account_action_limit
def reset_second_factor(user_id: int) -> Response:
    user = db.get_or_404(User, user_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("auth.edit_user", user_id=user.id))
    try:
        mfa.reset_second_factor(current_actor(), user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        flash(
            _(
                "Second factor of %(name)s removed and their sessions ended. They set up a new "
                "one at their next sign-in (if their role needs one).",
                name=user.name,
            ),
            "success",
        )
    return redirect(url_for("auth.edit_user", user_id=user.id))


@bp.route("/admin/security", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@account_action_limit
def admin_security() -> str | Response | tuple[str, int]:
    requirements = mfa.role_requirements()
    form = RolePolicyForm(
        data={
            "city_official": requirements[Role.CITY_OFFICIAL],
            "expert": requirements[Role.EXPERT],
        }
    )
    if form.validate_on_submit():
        actor = current_actor()
        changed = mfa.set_role_requirement(actor, Role.CITY_OFFICIAL, bool(form.city_official.data))
        changed |= mfa.set_role_requirement(actor, Role.EXPERT, bool(form.expert.data))
        db.session.commit()
        flash(_("Saved.") if changed else _("Nothing changed."), "success")
        return redirect(url_for("auth.admin_security"))
    return render_template("auth/admin_security.html", form=form), 422 if form.errors else 200
