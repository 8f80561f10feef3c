"""CSV exports as a spreadsheet reads them, formula-injection escaping, and the funder pack."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from assist.extensions import db
from assist.reports.exports import safe_cell
from tests.assist.reports.conftest import PERIOD, attach


def read_csv(response) -> list[dict[str, str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM"
    text = body[3:].decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    assert len(set(header)) == len(header)
    assert all(len(r) == len(header) for r in rows[1:])
    assert not any(r == header for r in rows[1:]), "one header row"
    return [dict(zip(header, r, strict=True)) for r in rows[1:]]


def get_csv(client, kind: str):
    response = client.get(f"/reports/{kind}.csv", query_string=PERIOD)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="prepare-assist-{kind}_2025-01-01_2025-12-31.csv"'
    )
    assert "@assist.example" not in response.get_data(as_text=True), "never user e-mails"
    return response


def test_requests_csv(programme, client, login_as) -> None:
    login_as(programme.staff)
    rows = read_csv(get_csv(client, "requests"))
    assert [int(r["request_id"]) for r in rows] == [
        programme.requests[k].id for k in ("r1", "r2", "r3", "r8", "r4", "r7")
    ]
    r1 = rows[0]
    assert r1["status"] == "engaged" and r1["status_label"] == "Expert engaged"
    assert (r1["authority"], r1["country"], r1["country_label"]) == (
        "Málaga (reports)",
        "ES",
        "Spain",
    )
    assert r1["themes"] == "risk_assessment; release_transition"
    assert r1["theme_labels"] == "Risk assessment; Release and transition"
    assert r1["submitted_at_utc"] == "2025-02-01 10:00:00"
    assert (r1["engagements"], r1["days_to_match"], r1["days_to_first_activity"]) == (
        "2",
        "10.5",
        "19",
    )
    assert r1["first_delivered_on"] == "2025-02-20"
    r4 = next(r for r in rows if r["request_id"] == str(programme.requests["r4"].id))
    assert (r4["engagements"], r4["days_to_match"], r4["first_accepted_at_utc"]) == ("0", "", "")


def test_engagements_csv(programme, client, login_as) -> None:
    login_as(programme.staff)
    rows = read_csv(get_csv(client, "engagements"))
    e = programme.engagements
    assert {int(r["engagement_id"]) for r in rows} == {
        e[k].id for k in ("e0", "e1", "e1b", "e2", "e3", "e4", "e5")
    }
    e2 = next(r for r in rows if r["engagement_id"] == str(e["e2"].id))
    assert e2["status"] == "closed" and e2["city_rating"] == "4"
    assert (e2["activities_implemented"], e2["activities_pending"]) == ("1", "1")
    assert (e2["activities_cancelled"], e2["participants_total"]) == ("1", "20")
    assert e2["accepted_at_utc"] == "2025-03-21 12:00:00"
    assert e2["closed_at_utc"] == "2025-09-01 00:00:00"
    e1 = next(r for r in rows if r["engagement_id"] == str(e["e1"].id))
    assert (e1["activities_implemented"], e1["participants_total"], e1["city_rating"]) == (
        "2",
        "25",
        "",
    )


def test_activities_csv_has_a_column_per_professional_group(programme, client, login_as) -> None:
    login_as(programme.staff)
    rows = read_csv(get_csv(client, "activities"))
    a = programme.activities
    assert {int(r["activity_id"]) for r in rows} == {
        a[k].id for k in ("a1", "a2", "a3", "a4", "a5", "a6", "a8")
    }
    a1 = next(r for r in rows if r["activity_id"] == str(a["a1"].id))
    assert (a1["format"], a1["format_label"], a1["implemented"]) == ("training", "Training", "yes")
    assert (a1["participants_probation"], a1["participants_police"]) == ("10", "5")
    assert (a1["participants_prison"], a1["participants_total"]) == ("0", "15")
    assert a1["delivered_on"] == "2025-02-20" and a1["outcomes"] == "A shared checklist."
    a3 = next(r for r in rows if r["activity_id"] == str(a["a3"].id))
    assert (a3["implemented"], a3["participants_probation"], a3["planned_start"]) == (
        "no",
        "",
        "2025-11-01",
    )
    assert sum(int(r["participants_prison"] or 0) for r in rows if r["implemented"] == "yes") == 20


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Plain text", "Plain text"),
        ("A = B", "A = B"),
        (-3, -3),
        (4.5, 4.5),
        ("", ""),
    ],
)
def test_formula_cells_are_escaped(value, expected) -> None:
    assert safe_cell(value) == expected


def test_formula_injection_is_escaped_in_the_files(programme, client, login_as) -> None:
    programme.requests["r1"].title = "=cmd|'/c calc'!A1"
    a1 = programme.activities["a1"]
    a1.topic, a1.summary, a1.outcomes = "+topic", "@summary", "-outcomes"
    db.session.flush()
    login_as(programme.staff)
    requests = read_csv(get_csv(client, "requests"))
    assert requests[0]["title"] == "'=cmd|'/c calc'!A1"
    activity = next(
        r for r in read_csv(get_csv(client, "activities")) if r["activity_id"] == str(a1.id)
    )
    assert (activity["topic"], activity["summary"], activity["outcomes"]) == (
        "'+topic",
        "'@summary",
        "'-outcomes",
    )
    engagements = read_csv(get_csv(client, "engagements"))
    assert any(r["request_title"] == "'=cmd|'/c calc'!A1" for r in engagements)


def test_the_funder_pack(programme, client, login_as, app, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    (tmp_path / "stored-agenda").write_bytes(b"%PDF-1.4 agenda")
    (tmp_path / "outside").write_bytes(b"not an attachment")
    a1, a4 = programme.activities["a1"], programme.activities["a4"]
    agenda = attach(a1, programme.expert_x, "stored-agenda", "Agenda day 1.pdf")
    attach(a1, programme.expert_x, "gone-missing", "Slides.pdf")
    attach(a4, programme.expert_y, "../outside", "Sneaky.pdf")
    login_as(programme.staff)
    # buffered: read and close the file as a WSGI server would (the pack is a temporary file)
    response = client.get("/reports/funder-pack.zip", query_string=PERIOD, buffered=True)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert (
        "prepare-assist-funder-pack_2025-01-01_2025-12-31.zip"
        in (response.headers["Content-Disposition"])
    )
    zf = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = set(zf.namelist())
    e = programme.engagements
    went_ahead = [e[k].id for k in ("e1", "e2", "e4", "e5")]
    assert names == {
        "README.txt",
        "summary.css",
        "prepare-assist-requests_2025-01-01_2025-12-31.csv",
        "prepare-assist-engagements_2025-01-01_2025-12-31.csv",
        "prepare-assist-activities_2025-01-01_2025-12-31.csv",
        *(f"engagements/engagement-{i}/summary.html" for i in went_ahead),
        f"engagements/engagement-{e['e1'].id}/attachments/"
        f"activity-{a1.id}-{agenda.id}-Agenda_day_1.pdf",
    }
    assert zf.read(next(n for n in names if "attachments/" in n)) == b"%PDF-1.4 agenda"
    requests_csv = zf.read("prepare-assist-requests_2025-01-01_2025-12-31.csv")
    assert requests_csv.startswith(b"\xef\xbb\xbf")

    summary = zf.read(f"engagements/engagement-{e['e2'].id}/summary.html").decode()
    assert 'href="../../summary.css"' in summary
    assert "<script" not in summary and "/static/" not in summary
    assert "4 out of 5" in summary

    readme = zf.read("README.txt").decode()
    assert "Period: 2025-01-01 to 2025-12-31" in readme
    assert "1. ACTIVITIES: IMPLEMENTED AGAINST PLANNED" in readme
    assert "Activities in the period: 7 (implemented 4, still planned or disputed 2, " in readme
    assert "2. PARTICIPANTS BY TYPE OF ORGANISATION" in readme
    assert "Total: 49" in readme
    assert "3. RESULTS" in readme
    assert "Engagements that went ahead: 4; rated by the city: 1, average rating 4.0 / 5" in readme
    assert "median 10.5 days, mean 11.3 days (3 requests)" in readme
    assert "Slides.pdf (attachment" in readme and "the stored file is missing" in readme
    assert "Sneaky.pdf" in readme  # a key that is not a plain file name is never followed
    assert not any("Sneaky" in n or "outside" in n for n in names)


def test_the_funder_pack_leaves_out_files_beyond_its_size_limit(
    programme, client, login_as, app, tmp_path, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "FUNDER_PACK_MAX_ATTACHMENT_BYTES", 10)
    (tmp_path / "big").write_bytes(b"x" * 11)
    attach(programme.activities["a1"], programme.expert_x, "big", "Big.pdf")
    login_as(programme.staff)
    zf = zipfile.ZipFile(
        io.BytesIO(client.get("/reports/funder-pack.zip", query_string=PERIOD, buffered=True).data)
    )
    assert not any("attachments/" in n for n in zf.namelist())
    assert "Big.pdf (attachment" in zf.read("README.txt").decode()
