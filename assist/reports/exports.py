"""CSV files a spreadsheet opens safely, and the funder pack (one ZIP built in a temporary file)."""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import textwrap
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import ngettext, pgettext
from werkzeug.utils import secure_filename

from assist.engagements.models import Engagement
from assist.i18n import format_decimal
from assist.reports import queries
from assist.reports.periods import Period

log = logging.getLogger("assist.reports")

#: A cell starting with one of these is read as a formula by spreadsheets (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
#: Attachments beyond this many bytes in total are left out of the pack (and listed).
DEFAULT_PACK_ATTACHMENT_LIMIT = 500 * 1024 * 1024


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_csv(out: IO[str], header: list[str], rows: list[list[Any]]) -> None:
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)


def csv_text(header: list[str], rows: list[list[Any]]) -> str:
    """The whole file: UTF-8 BOM (so Excel reads accents right), one header row, CRLF lines."""
    out = io.StringIO()
    out.write(BOM)
    write_csv(out, header, rows)
    return out.getvalue()


def export(kind: str, period: Period) -> tuple[list[str], list[list[Any]]]:
    if kind == "requests":
        return queries.REQUEST_COLUMNS, queries.request_rows(period)
    if kind == "engagements":
        return queries.ENGAGEMENT_COLUMNS, queries.engagement_rows(period)
    if kind == "activities":
        return queries.activity_rows(period)
    raise ValueError(f"unknown export {kind!r}")


EXPORTS = ("requests", "engagements", "activities")


def filename(kind: str, period: Period, ext: str = "csv") -> str:
    return f"prepare-assist-{kind}_{period.slug}.{ext}"


# The funder pack -------------------------------------------------------------------------------


@dataclass
class PackResult:
    file: IO[bytes]
    engagements: int
    attachments: int
    missing: list[str] = field(default_factory=list)


def _stored_path(base: Path, storage_key: str) -> Path | None:
    """The stored file, or None if the key is not a plain file name (never leave ``base``)."""
    if not storage_key or storage_key != Path(storage_key).name or storage_key in {".", ".."}:
        return None
    path = base / storage_key
    return path if path.is_file() else None


def build_funder_pack(
    period: Period,
    *,
    attachment_dir: Path,
    render_summary: Callable[[Engagement, dict[str, Any]], str],
    max_attachment_bytes: int = DEFAULT_PACK_ATTACHMENT_LIMIT,
) -> PackResult:
    """Write the pack into a temporary file (rewound, deleted when closed); memory stays small:
    files are copied into the ZIP in chunks, and only one summary is rendered at a time."""
    figures = queries.summary(period.start, period.end)
    exports = {kind: export(kind, period) for kind in EXPORTS}
    engagements = queries.load_engagements(queries.went_ahead_ids(period))
    context = queries.summary_context(engagements)
    tmp = tempfile.TemporaryFile(prefix="funder-pack-", suffix=".zip")  # noqa: SIM115 (returned)
    missing: list[str] = []
    added = 0
    budget = max_attachment_bytes
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for kind, (header, rows) in exports.items():
            zf.writestr(filename(kind, period), csv_text(header, rows).encode("utf-8"))
        for engagement in engagements:
            folder = f"engagements/engagement-{engagement.id}"
            zf.writestr(f"{folder}/summary.html", render_summary(engagement, context))
            for activity in engagement.activities:
                for att in activity.attachments:
                    where = {
                        "engagement": engagement.id,
                        "activity": activity.id,
                        "name": att.filename,
                        "attachment": att.id,
                    }
                    path = _stored_path(attachment_dir, att.storage_key)
                    if path is None:
                        missing.append(
                            _(
                                "engagement %(engagement)s, activity %(activity)s: %(name)s "
                                "(attachment %(attachment)s): the stored file is missing.",
                                **where,
                            )
                        )
                        continue
                    size = path.stat().st_size
                    if size > budget:
                        missing.append(
                            _(
                                "engagement %(engagement)s, activity %(activity)s: %(name)s "
                                "(attachment %(attachment)s): left out, the pack's size limit "
                                "was reached.",
                                **where,
                            )
                        )
                        continue
                    budget -= size
                    name = secure_filename(att.filename) or "file"
                    zf.write(path, f"{folder}/attachments/activity-{activity.id}-{att.id}-{name}")
                    added += 1
        zf.writestr("summary.css", _summary_css())
        zf.writestr("README.txt", readme(period, figures, exports, engagements, missing))
    tmp.seek(0)
    log.info(
        "funder pack period=%s engagements=%s attachments=%s missing=%s",
        period.slug,
        len(engagements),
        added,
        len(missing),
    )
    return PackResult(tmp, len(engagements), added, missing)


def _summary_css() -> str:
    from flask import current_app

    return (Path(current_app.static_folder or "static") / "css" / "print.css").read_text("utf-8")


def _figure_lines(rows: list[dict[str, Any]], *columns: str) -> list[str]:
    if not rows:
        return ["  " + _("(none in this period)")]
    names = {
        "implemented": pgettext("activities", "implemented"),
        "pending": pgettext("activities", "pending"),
        "cancelled": pgettext("activities", "cancelled"),
        # NOTE: how many (participants, requests) in the README's figure lines ("count: 12").
        "count": _("count"),
    }
    width = max(len(r["label"]) for r in rows)
    return [
        f"  {r['label']:<{width}}  "
        + "  ".join(f"{names.get(c, c)}: {format_decimal(r[c])}" for c in columns)
        for r in rows
    ]


def _paragraph(text: str) -> list[str]:
    """A paragraph of the README, indented and wrapped (translations differ in length)."""
    return textwrap.wrap(text, width=92, initial_indent="  ", subsequent_indent="  ")


def _rows(count: int) -> str:
    return ngettext("(%(num)d row)", "(%(num)d rows)", count)


def readme(
    period: Period,
    figures: dict[str, Any],
    exports: dict[str, tuple[list[str], list[list[Any]]]],
    engagements: list[Engagement],
    missing: list[str],
) -> str:
    """The pack's README, in the order EU grant reports ask: activities implemented against
    planned, participants by type of organisation, then results.

    In the language of the staff member who downloads it (the texts, the labels and the number
    format); dates stay ISO (YYYY-MM-DD), like the period in the file names, and the file
    names and CSV columns it describes are the same in every language.
    """
    acts, people, timing = figures["activities"], figures["participants"], figures["timing"]
    req = figures["requests"]
    closed = [e for e in engagements if e.feedback is not None]
    ratings = [e.feedback.rating for e in closed if e.feedback]
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    n = format_decimal
    if ratings:
        went_ahead = _(
            "Engagements that went ahead: %(engagements)s; rated by the city: %(rated)s, "
            "average rating %(rating)s / 5",
            engagements=n(len(engagements)),
            rated=n(len(ratings)),
            rating=format_decimal(sum(ratings) / len(ratings), format="#,##0.0"),
        )
    else:
        went_ahead = _(
            "Engagements that went ahead: %(engagements)s; rated by the city: %(rated)s",
            engagements=n(len(engagements)),
            rated=n(len(ratings)),
        )
    lines = [
        _("PREPARE Assist: funder pack"),
        _(
            "PREPARE (Preventing Radicalisation through Probation and Release), "
            "technical assistance"
        ),
        _(
            "Period: %(start)s to %(end)s (both days included)",
            start=period.start.isoformat(),
            end=period.end.isoformat(),
        ),
        _("Generated: %(when)s", when=generated),
        "",
        _("CONTENTS"),
        f"  {filename('requests', period)}     "
        + _("requests submitted in the period")
        + " "
        + _rows(len(exports["requests"][1])),
        f"  {filename('engagements', period)}  "
        + _("engagements of the period")
        + " "
        + _rows(len(exports["engagements"][1])),
        f"  {filename('activities', period)}   "
        + _("activities of the period")
        + " "
        + _rows(len(exports["activities"][1])),
        "  engagements/engagement-<id>/summary.html   "
        + _(
            "one summary per engagement that went ahead (%(count)s); open in a browser and "
            "print, styles in summary.css",
            count=n(len(engagements)),
        ),
        "  engagements/engagement-<id>/attachments/   "
        + _("agendas and materials of its activities"),
        *_paragraph(
            _(
                "The CSV files are UTF-8 (with BOM), comma-separated, one header row. Text "
                "cells that a spreadsheet would read as a formula start with an apostrophe (')."
            )
        ),
        "",
        _("1. ACTIVITIES: IMPLEMENTED AGAINST PLANNED"),
        "  "
        + _(
            "Activities in the period: %(total)s (implemented %(implemented)s, still planned "
            "or disputed %(pending)s, cancelled %(cancelled)s)",
            total=n(acts["total"]),
            implemented=n(acts["implemented"]),
            pending=n(acts["pending"]),
            cancelled=n(acts["cancelled"]),
        ),
        "  " + _("By format:"),
        *_figure_lines(acts["by_format"], "implemented", "pending", "cancelled"),
        "",
        _("2. PARTICIPANTS BY TYPE OF ORGANISATION (implemented activities; counts, never names)"),
        "  " + _("Total: %(total)s", total=n(people["total"])),
        *_figure_lines(people["by_group"], "count"),
        "",
        _("3. RESULTS"),
        "  "
        + _(
            "Requests submitted: %(requests)s, from %(authorities)s local authorities in "
            "%(countries)s countries",
            requests=n(req["total"]),
            authorities=n(len(req["by_authority"])),
            countries=n(len(req["by_country"])),
        ),
        "  " + _("Requests by status now:"),
        *_figure_lines(req["by_status"], "count"),
        "  " + went_ahead,
        _timing_line(_("Submission to match (expert accepted)"), timing["to_match"]),
        _timing_line(_("Submission to first delivered activity"), timing["to_first_activity"]),
        *_paragraph(
            _(
                "Outcomes of each activity: the 'outcomes' column of the activities file and "
                "the engagement summaries."
            )
        ),
        "",
        _("DEFINITIONS"),
        *_paragraph(
            _(
                "A request belongs to the period when it was (last) submitted in it. An "
                "activity by its delivery date, or if not delivered by its planned start. An "
                "engagement when it was proposed or closed in the period, or has an activity "
                "in it. 'Implemented' means recorded as delivered by the expert organisation "
                "(confirmed by the city or awaiting confirmation). 'Went ahead': accepted by "
                "the expert organisation and not cancelled."
            )
        ),
        "",
        _("FILES NOT INCLUDED"),
        *([f"  {m}" for m in missing] or ["  " + _("None: every attachment is included.")]),
        "",
    ]
    return "\r\n".join(lines)


def _timing_line(title: str, stats: dict[str, Any]) -> str:
    if not stats["count"]:
        return "  " + _("%(measure)s: no request measured yet", measure=title)
    return "  " + ngettext(
        "%(measure)s: median %(median)s days, mean %(mean)s days (%(num)d request)",
        "%(measure)s: median %(median)s days, mean %(mean)s days (%(num)d requests)",
        stats["count"],
        measure=title,
        median=format_decimal(stats["median_days"]),
        mean=format_decimal(stats["mean_days"]),
    )
