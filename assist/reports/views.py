"""Report pages and downloads for Efus staff, and the printable engagement summary for the two
sides of an engagement. Thin: validate the period, call one query, render or send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, send_file, url_for
from flask_babel import get_locale, pgettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from assist.auth.decorators import role_required
from assist.engagements.models import Engagement
from assist.engagements.queries import get_engagement_or_404
from assist.i18n import format_decimal
from assist.reports import exports, queries
from assist.reports.forms import PeriodForm
from assist.reports.periods import Period, PeriodError, make_period
from assist.roles import Role

bp = Blueprint("reports", __name__, url_prefix="/reports")

staff_only = role_required(Role.STAFF, Role.ADMIN)
SUMMARY_TEMPLATE = "reports/engagement_summary.html"
# Figures in the reader's number format. A global, not a context processor: the funder pack
# renders the engagement summaries straight from the Jinja environment.
bp.add_app_template_global(format_decimal, "format_decimal")


def _period() -> tuple[PeriodForm, Period | None]:
    """The period asked for, or None with the form's errors saying what to fix."""
    form = PeriodForm(formdata=request.args)
    if not form.validate():
        return form, None
    try:
        period = make_period(form.start.data, form.end.data)
    except PeriodError as exc:
        form[exc.field].errors.append(exc.message)
        return form, None
    form.start.data, form.end.data = period.start, period.end  # show the defaults filled in
    return form, period


def _invalid(form: PeriodForm) -> tuple[str, int]:
    return render_template("reports/index.html", form=form, figures=None, charts=[]), 400


def _charts(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Each chart's figures, drawn by reports.js and repeated in a table under the canvas."""
    req, acts = figures["requests"], figures["activities"]

    def single(id_: str, title: str, first: str, rows: list[dict[str, Any]], key: str = "label"):
        return {
            "id": id_,
            "title": title,
            "first_header": first,
            "labels": [r[key] for r in rows],
            # NOTE: the column of figures in a chart's table (how many requests, participants…).
            "series": [{"label": _("Count"), "values": [r["count"] for r in rows]}],
        }

    # Titles and headers are plain str in the reader's language: the chart data goes to JSON.
    return [
        single(
            "requests-by-status", _("Requests by current status"), _("Status"), req["by_status"]
        ),
        single(
            "requests-by-authority",
            _("Requests by local authority"),
            _("Local authority"),
            req["by_authority"],
            key="name",
        ),
        single("requests-by-theme", _("Requests by theme"), _("Theme"), req["by_theme"]),
        single("requests-by-country", _("Requests by country"), _("Country"), req["by_country"]),
        {
            "id": "activities-by-format",
            "title": _("Activities by format"),
            "first_header": _("Format"),
            "labels": [r["label"] for r in acts["by_format"]],
            "stacked": True,
            "series": [
                {
                    "label": pgettext("activities", "Implemented"),
                    "values": [r["implemented"] for r in acts["by_format"]],
                },
                {
                    "label": pgettext("activities", "Planned or disputed"),
                    "values": [r["pending"] for r in acts["by_format"]],
                },
                {
                    "label": pgettext("activities", "Cancelled"),
                    "values": [r["cancelled"] for r in acts["by_format"]],
                },
            ],
        },
        single(
            "participants-by-group",
            _("Participants by professional group (implemented activities)"),
            _("Professional group"),
            figures["participants"]["by_group"],
        ),
    ]


@bp.get("/")
@staff_only
def index() -> str | tuple[str, int]:
    form, period = _period()
    if period is None:
        return _invalid(form)
    figures = queries.summary(period.start, period.end)
    return render_template(
        "reports/index.html",
        form=form,
        period=period,
        figures=figures,
        charts=_charts(figures),
        exports=exports.EXPORTS,
    )


@bp.get("/coverage")
@staff_only
def coverage() -> str:
    return render_template("reports/coverage.html", grid=queries.coverage())


@bp.get("/<any(requests, engagements, activities):kind>.csv")
@staff_only
def export_csv(kind: str) -> Response | tuple[str, int]:
    form, period = _period()
    if period is None:
        return _invalid(form)
    header, rows = exports.export(kind, period)
    return Response(
        exports.csv_text(header, rows).encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{exports.filename(kind, period)}"',
            "Cache-Control": "no-store",
        },
    )


def _attachment_dir() -> Path:
    configured = current_app.config.get("ATTACHMENT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "attachments"


def _language() -> str:
    """The page's language code (the summary's <html lang>): the reader's."""
    locale = get_locale()
    return locale.language if locale else "en"


def _render_summary_file(engagement: Engagement, context: dict[str, Any]) -> str:
    # Straight from the Jinja environment: the summary file needs no page context, and the
    # context processors (notification count) would cost one query per engagement.
    template = current_app.jinja_env.get_template(SUMMARY_TEMPLATE)
    return template.render(
        engagement=engagement,
        standalone=True,
        css_href="../../summary.css",
        lang=_language(),
        **context,
    )


@bp.get("/funder-pack.zip")
@staff_only
def funder_pack() -> Response | tuple[str, int]:
    form, period = _period()
    if period is None:
        return _invalid(form)
    limit = current_app.config.get("FUNDER_PACK_MAX_ATTACHMENT_BYTES")
    pack = exports.build_funder_pack(
        period,
        attachment_dir=_attachment_dir(),
        render_summary=_render_summary_file,
        max_attachment_bytes=int(limit or exports.DEFAULT_PACK_ATTACHMENT_LIMIT),
    )
    response = send_file(
        pack.file,
        mimetype="application/zip",
        as_attachment=True,
        download_name=exports.filename("funder-pack", period, "zip"),
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/engagements/<int:engagement_id>/summary")
@login_required
def engagement_summary(engagement_id: int) -> str:
    # Staff, the city of the engagement and its expert organisation; 404 for anyone else.
    engagement = get_engagement_or_404(current_user, engagement_id)
    (engagement,) = queries.load_engagements([engagement.id])
    return render_template(
        SUMMARY_TEMPLATE,
        engagement=engagement,
        standalone=False,
        css_href=url_for("static", filename="css/print.css"),
        lang=_language(),
        **queries.summary_context([engagement]),
    )
