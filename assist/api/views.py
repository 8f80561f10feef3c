"""JSON API blueprint: /api/v1/…; authenticated by personal bearer tokens, not cookies."""

from __future__ import annotations

from flask import Blueprint

from assist.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1", cli_group=None)
# Bearer tokens are not sent by browsers on their own, so cross-site forgery does not apply.
csrf.exempt(bp)
