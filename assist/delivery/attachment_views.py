"""Upload and download of activity attachments, each checked against the engagement's policy."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attachments", __name__)
