"""The home page (each role lands where its work is) and the health probe."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from assist.roles import Role

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def home() -> Response:
    if current_user.role == Role.EXPERT:
        return redirect(url_for("engagements.index"))
    if current_user.role in (Role.STAFF, Role.ADMIN):
        return redirect(url_for("requests.review"))
    return redirect(url_for("requests.index"))


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
