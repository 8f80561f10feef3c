"""Pages for planning, recording, confirming and rating activities, and the six-month follow-up."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("delivery", __name__)
