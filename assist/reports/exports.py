"""CSV files a spreadsheet opens safely, and the funder pack (one ZIP built in a temporary file)."""

from __future__ import annotations

import csv
import io
import logging
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from werkzeug.utils import secure_filename

from assist.engagements.models import Engagement
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
                    label = (
                        f"engagement {engagement.id}, activity {activity.id}: {att.filename} "
                        f"(attachment {att.id})"
                    )
                    path = _stored_path(attachment_dir, att.storage_key)
                    if path is None:
                        missing.append(f"{label}: the stored file is missing.")
                        continue
                    size = path.stat().st_size
                    if size > budget:
                        missing.append(f"{label}: left out, the pack's size limit was reached.")
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
        return ["  (none in this period)"]
    width = max(len(r["label"]) for r in rows)
    return [f"  {r['label']:<{width}}  " + "  ".join(f"{c}: {r[c]}" for c in columns) for r in rows]


def readme(
    period: Period,
    figures: dict[str, Any],
    exports: dict[str, tuple[list[str], list[list[Any]]]],
    engagements: list[Engagement],
    missing: list[str],
) -> str:
    """The pack's README, in the order EU grant reports ask: activities implemented against
    planned, participants by type of organisation, then results."""
    acts, people, timing = figures["activities"], figures["participants"], figures["timing"]
    req = figures["requests"]
    closed = [e for e in engagements if e.feedback is not None]
    ratings = [e.feedback.rating for e in closed if e.feedback]
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "PREPARE Assist: funder pack",
        "PREPARE (Preventing Radicalisation through Probation and Release), technical assistance",
        f"Period: {period.start.isoformat()} to {period.end.isoformat()} (both days included)",
        f"Generated: {generated}",
        "",
        "CONTENTS",
        f"  {filename('requests', period)}     requests submitted in the period "
        f"({len(exports['requests'][1])} rows)",
        f"  {filename('engagements', period)}  engagements of the period "
        f"({len(exports['engagements'][1])} rows)",
        f"  {filename('activities', period)}   activities of the period "
        f"({len(exports['activities'][1])} rows)",
        f"  engagements/engagement-<id>/summary.html   one summary per engagement that went "
        f"ahead ({len(engagements)}); open in a browser and print, styles in summary.css",
        "  engagements/engagement-<id>/attachments/   agendas and materials of its activities",
        "  The CSV files are UTF-8 (with BOM), comma-separated, one header row. Text cells that",
        "  a spreadsheet would read as a formula start with an apostrophe (').",
        "",
        "1. ACTIVITIES: IMPLEMENTED AGAINST PLANNED",
        f"  Activities in the period: {acts['total']} (implemented {acts['implemented']}, "
        f"still planned or disputed {acts['pending']}, cancelled {acts['cancelled']})",
        "  By format:",
        *_figure_lines(acts["by_format"], "implemented", "pending", "cancelled"),
        "",
        "2. PARTICIPANTS BY TYPE OF ORGANISATION (implemented activities; counts, never names)",
        f"  Total: {people['total']}",
        *_figure_lines(people["by_group"], "count"),
        "",
        "3. RESULTS",
        f"  Requests submitted: {req['total']}, from {len(req['by_authority'])} local "
        f"authorities in {len(req['by_country'])} countries",
        "  Requests by status now:",
        *_figure_lines(req["by_status"], "count"),
        f"  Engagements that went ahead: {len(engagements)}; rated by the city: {len(ratings)}"
        + (f", average rating {sum(ratings) / len(ratings):.1f} / 5" if ratings else ""),
        _timing_line("Submission to match (expert accepted)", timing["to_match"]),
        _timing_line("Submission to first delivered activity", timing["to_first_activity"]),
        "  Outcomes of each activity: the 'outcomes' column of the activities file and the",
        "  engagement summaries.",
        "",
        "DEFINITIONS",
        "  A request belongs to the period when it was (last) submitted in it. An activity by its",
        "  delivery date, or if not delivered by its planned start. An engagement when it was",
        "  proposed or closed in the period, or has an activity in it. 'Implemented' means",
        "  recorded as delivered by the expert organisation (confirmed by the city or awaiting",
        "  confirmation). 'Went ahead': accepted by the expert organisation and not cancelled.",
        "",
        "FILES NOT INCLUDED",
        *([f"  {m}" for m in missing] or ["  None: every attachment is included."]),
        "",
    ]
    return "\r\n".join(lines)


def _timing_line(title: str, stats: dict[str, Any]) -> str:
    if not stats["count"]:
        return f"  {title}: no request measured yet"
    return (
        f"  {title}: median {stats['median_days']} days, mean {stats['mean_days']} days "
        f"({stats['count']} requests)"
    )
