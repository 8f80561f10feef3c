"""Staff's view of the expert organisations ranked for a request, with the reasons."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from assist.engagements import policy
from assist.engagements.ranking import rank_experts
from assist.requests.queries import get_request_or_404

bp = Blueprint("engagements", __name__)

FILTERS = {
    "common_language": ("Share a working language", lambda m: m.has_common_language is not False),
    "country": ("Have worked in the city's country", lambda m: m.signals.get("country", 0) >= 1),
    "available": ("Have capacity left", lambda m: not m.at_capacity),
}


@bp.get("/requests/<int:request_id>/experts")
@login_required
def ranking(request_id: int) -> str:
    req = get_request_or_404(current_user, request_id)
    if not policy.can_see_ranking(current_user, req):
        abort(403)
    active = [name for name in FILTERS if request.args.get(name)]
    ranked = [
        r
        for r in rank_experts(req)
        if r.match.excluded_reason or all(FILTERS[name][1](r.match) for name in active)
    ]
    return render_template(
        "engagements/ranking.html", req=req, ranked=ranked, filters=FILTERS, active=active
    )
