"""The home page (each role lands where its work is) and the health probe."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from assist.observability import readiness
from assist.roles import Role

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

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
    """The process is up (for the load balancer's liveness check)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    """The database answers and is at the code's migration head (readiness check)."""
    ready, reason = readiness(MIGRATIONS)
    return {"status": "ready" if ready else "not ready", "reason": reason}, 200 if ready else 503
