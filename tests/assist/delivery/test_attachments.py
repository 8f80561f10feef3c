"""Activity attachments: who may add, see and remove them; content-based type checks; the size
cap; file names that try to be paths; and that nothing stray is left in the storage folder."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from assist.delivery import attachments, services
from assist.delivery.models import Attachment
from assist.engagements.models import Engagement
from assist.errors import Conflict, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.roles import Role
from assist.workflow import ActivityStatus, EngagementStatus, RequestStatus
from tests.factories import make_organisation, make_request, make_user

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


def ooxml(main: str = "word/document.xml", extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        zf.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        zf.writestr(main, '<?xml version="1.0"?><document/>')
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


def odf(mimetype: str = "application/vnd.oasis.opendocument.text") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/manifest.xml", "<manifest/>", compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "not an office document")
        zf.writestr("payload.exe", EXE)
    return buffer.getvalue()


def compound_file(stream: str) -> bytes:
    """A minimal OLE2 compound file (512-byte sectors): the root and one stream entry."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 44, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int) -> bytes:
        raw = (name + "\x00").encode("utf-16-le")
        e = bytearray(128)
        e[: len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), kind, 1)
        struct.pack_into("<III", e, 68, free, free, free)
        return bytes(e)

    directory = entry("Root Entry", 5) + entry(stream, 2) + bytes(256)
    return bytes(header) + fat + directory


@pytest.fixture
def storage(app, tmp_path):
    """Attachments go to a fresh folder per test; the settings come back afterwards."""
    saved = {k: app.config[k] for k in ("ATTACHMENT_DIR", "MAX_ATTACHMENT_BYTES")}
    saved["MAX_CONTENT_LENGTH"] = app.config["MAX_CONTENT_LENGTH"]
    folder = tmp_path / "files"
    app.config["ATTACHMENT_DIR"] = str(folder)
    yield folder
    app.config.update(saved)


@pytest.fixture
def world(app, storage):
    org = make_organisation("Delivering Org", description="Training on release.")
    req = make_request(status=RequestStatus.ENGAGED)
    staff = make_user(Role.STAFF)
    engagement = Engagement(
        request=req, organisation=org, proposed_by=staff, status=EngagementStatus.ACCEPTED
    )
    db.session.add(engagement)
    db.session.flush()
    expert = make_user(Role.EXPERT, organisation=org)
    activity = services.plan_activity(
        engagement,
        expert,
        services.PlanData(format="training", topic="Release preparation", place="Málaga"),
    )
    db.session.flush()
    return {
        "engagement": engagement,
        "activity": activity,
        "expert": expert,
        "city": req.created_by,
        "staff": staff,
        "other_city": make_user(Role.CITY_OFFICIAL),
        "other_expert": make_user(Role.EXPERT),
    }


def upload(client, activity, data: bytes, name: str):
    return client.post(
        f"/activities/{activity.id}/attachments",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def flashes(client) -> str:
    with client.session_transaction() as session:
        return " ".join(message for _, message in session.pop("_flashes", []))


def stored(activity) -> list[Attachment]:
    return list(
        db.session.scalars(sa.select(Attachment).where(Attachment.activity_id == activity.id))
    )


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_expert_uploads_and_the_parties_download(app, client, login_as, world, storage) -> None:
    activity = world["activity"]
    login_as(world["expert"])
    response = upload(client, activity, PDF, "Agenda day 1.pdf")
    assert response.status_code == 302
    engagement_id = world["engagement"].id
    assert response.headers["Location"].endswith(
        f"/engagements/{engagement_id}#activity-{activity.id}"
    )
    assert "was added" in flashes(client)
    (attachment,) = stored(activity)
    assert attachment.filename == "Agenda_day_1.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF)
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert files_in(storage) == [attachment.storage_key]
    assert re.fullmatch(r"[0-9a-f]{32}", attachment.storage_key)

    for who in ("expert", "city", "staff"):
        response = login_as(world[who]).get(f"/attachments/{attachment.id}")
        assert response.status_code == 200, who
        assert response.data == PDF
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "Agenda_day_1.pdf" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "private, no-store"
        response.close()


@pytest.mark.parametrize("who", ["other_city", "other_expert"])
def test_another_tenant_gets_404_on_download_and_delete(app, client, login_as, world, who) -> None:
    attachment = attachments.add_attachment(
        world["activity"], world["expert"], FileStorage(io.BytesIO(PDF), "plan.pdf")
    )
    db.session.commit()
    login_as(world[who])
    assert client.get(f"/attachments/{attachment.id}").status_code == 404
    assert client.post(f"/attachments/{attachment.id}/delete").status_code == 404
    response = upload(client, world["activity"], PDF, "mine.pdf")
    assert response.status_code == 404
    assert client.get("/attachments/999999").status_code == 404
    assert len(stored(world["activity"])) == 1


def test_only_the_expert_organisation_uploads(app, client, login_as, world, storage) -> None:
    login_as(world["city"])
    response = upload(client, world["activity"], PDF, "city.pdf")
    assert response.status_code == 302
    assert "expert organisation" in flashes(client)
    assert stored(world["activity"]) == [] and files_in(storage) == []


def test_no_uploads_once_the_activity_is_cancelled(app, world) -> None:
    services.transition_activity(world["activity"], world["city"], "cancel", "Postponed.")
    assert world["activity"].status == ActivityStatus.CANCELLED
    with pytest.raises(NotAllowed, match="confirmed or cancelled"):
        attachments.add_attachment(
            world["activity"], world["expert"], FileStorage(io.BytesIO(PDF), "late.pdf")
        )


def test_an_oversized_file_is_refused_and_nothing_is_stored(
    app, client, login_as, world, storage
) -> None:
    app.config["MAX_ATTACHMENT_BYTES"] = 4096
    login_as(world["expert"])
    response = upload(client, world["activity"], PDF + b"0" * 5000, "big.pdf")
    assert response.status_code == 302
    message = flashes(client)
    assert "larger than 4 KiB" in message and "big.pdf" in message
    assert stored(world["activity"]) == []
    assert files_in(storage) == []  # not even a temporary file


def test_a_body_over_the_request_limit_is_refused_with_a_message(
    app, client, login_as, world, storage
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2048
    login_as(world["expert"])
    response = upload(client, world["activity"], PDF + b"0" * 4096, "huge.pdf")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#activity-{world['activity'].id}")
    assert "too large" in flashes(client)
    assert stored(world["activity"]) == [] and files_in(storage) == []


def test_the_request_limit_leaves_room_for_a_full_attachment(app) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] > app.config["MAX_ATTACHMENT_BYTES"]


@pytest.mark.parametrize(
    ("data", "name", "looks_like"),
    [
        (HTML, "agenda.pdf", "web page"),
        (PNG, "agenda.pdf", "PNG image"),
        (EXE, "agenda.pdf", "Windows program"),
        (SVG, "slides.pptx", "web page"),
        (plain_zip(), "report.docx", "ZIP archive"),
        (ooxml("xl/workbook.xml"), "report.docx", "ZIP archive"),
        (odf("application/vnd.oasis.opendocument.spreadsheet"), "notes.odt", "ZIP archive"),
        (compound_file("SummaryInformation"), "old.doc", "Microsoft compound file"),
        (PDF, "old.doc", "PDF"),
        (HTML, "notes.txt", "web page"),
        (b"a,b\n\x00\x01\x02", "table.csv", "something else"),
    ],
)
def test_content_that_does_not_match_its_extension_is_refused(
    app, client, login_as, world, storage, data, name, looks_like
) -> None:
    login_as(world["expert"])
    response = upload(client, world["activity"], data, name)
    assert response.status_code == 302
    message = flashes(client)
    assert "not accepted" in message or "its content is not" in message, message
    assert f"looks like {'an' if looks_like[0] in 'aeiou' else 'a'} {looks_like}" in message or (
        looks_like == "something else" and "something else" in message
    ), message
    assert stored(world["activity"]) == [] and files_in(storage) == []


@pytest.mark.parametrize(
    "name", ["setup.exe", "page.html", "drawing.svg", "archive.zip", "no_extension", "x.pdf.exe"]
)
def test_types_outside_the_list_are_refused_by_name(app, world, storage, name) -> None:
    with pytest.raises(ValidationFailed) as exc:
        attachments.add_attachment(
            world["activity"], world["expert"], FileStorage(io.BytesIO(PDF), name)
        )
    assert "not accepted. Allowed: PDF" in exc.value.errors["file"][0]
    assert files_in(storage) == []


def test_macros_are_refused(app, world, storage) -> None:
    data = ooxml(extra={"word/vbaProject.bin": b"\x00" * 32})
    with pytest.raises(ValidationFailed) as exc:
        attachments.add_attachment(
            world["activity"], world["expert"], FileStorage(io.BytesIO(data), "m.docx")
        )
    assert "contains macros" in exc.value.errors["file"][0]


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (ooxml(), "Programme.docx", "wordprocessingml.document"),
        (ooxml("xl/workbook.xml"), "Budget.xlsx", "spreadsheetml.sheet"),
        (ooxml("ppt/presentation.xml"), "Slides.PPTX", "presentationml.presentation"),
        (odf(), "Notes.odt", "opendocument.text"),
        (odf("application/vnd.oasis.opendocument.presentation"), "Deck.odp", "presentation"),
        (compound_file("WordDocument"), "Old.doc", "application/msword"),
        (compound_file("Workbook"), "Old.xls", "application/vnd.ms-excel"),
        (b"group;count\nprobation;8\n", "Figures.csv", "text/csv"),
    ],
)
def test_real_office_documents_are_accepted(app, world, storage, data, name, content_type) -> None:
    attachment = attachments.add_attachment(
        world["activity"], world["expert"], FileStorage(io.BytesIO(data), name)
    )
    assert content_type in attachment.content_type
    assert attachment.filename.lower() == name.lower()
    assert (storage / attachment.storage_key).read_bytes() == data


def test_a_zip_bomb_is_not_unpacked(app, world, storage) -> None:
    # 200 MB of zeros compress to about 200 kB; only the central directory is read.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w") as member:
            for _ in range(200):
                member.write(bytes(1024 * 1024))
    attachment = attachments.add_attachment(
        world["activity"],
        world["expert"],
        FileStorage(io.BytesIO(buffer.getvalue()), "bomb.docx"),
    )
    assert attachment.size < 1024 * 1024


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("a\\b.pdf", "b.pdf"),
        ("C:\\Users\\me\\Desktop\\Agenda.pdf", "Agenda.pdf"),
        ("nul\x00byte.pdf", "nulbyte.pdf"),
        ("..pdf", "attachment.pdf"),
        ("/", None),
        ("Programa de Málaga.PDF", "Programa_de_Malaga.pdf"),
        ("Программа.pdf", "Программа.pdf"),
        ("right\u202etxt.pdf", "righttxt.pdf"),
        ("x" * 500 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_path_tricks_in_names_give_a_clean_name_inside_the_folder(
    app, world, storage, tmp_path, raw, clean
) -> None:
    if clean is None:
        with pytest.raises(ValidationFailed):
            attachments.add_attachment(
                world["activity"], world["expert"], FileStorage(io.BytesIO(PDF), raw)
            )
        return
    attachment = attachments.add_attachment(
        world["activity"], world["expert"], FileStorage(io.BytesIO(PDF), raw)
    )
    assert attachment.filename == clean
    assert len(attachment.filename) <= 200
    assert files_in(storage) == [attachment.storage_key]
    assert attachments.stored_path(attachment).parent == storage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files"]  # nothing beside it


def test_path_tricks_through_the_form(app, client, login_as, world, storage) -> None:
    login_as(world["expert"])
    for raw in ("../../etc/passwd.pdf", "..\\..\\boot.pdf", "x" * 300 + ".pdf"):
        assert upload(client, world["activity"], PDF, raw).status_code == 302
    names = [a.filename for a in stored(world["activity"])]
    assert names[:2] == ["passwd.pdf", "boot.pdf"]
    assert len(names[2]) == 200 and names[2].endswith(".pdf")
    assert sorted(files_in(storage)) == sorted(a.storage_key for a in stored(world["activity"]))
    assert not (storage.parent / "etc").exists()


def test_a_rollback_removes_the_stored_file(app, world, storage) -> None:
    attachments.add_attachment(
        world["activity"], world["expert"], FileStorage(io.BytesIO(PDF), "a.pdf")
    )
    assert len(files_in(storage)) == 1
    db.session.rollback()
    assert files_in(storage) == []


def test_at_most_ten_files_per_activity(app, world, storage) -> None:
    for n in range(attachments.MAX_PER_ACTIVITY):
        attachments.add_attachment(
            world["activity"], world["expert"], FileStorage(io.BytesIO(PDF), f"{n}.pdf")
        )
    with pytest.raises(Conflict, match="at most 10 files"):
        attachments.add_attachment(
            world["activity"], world["expert"], FileStorage(io.BytesIO(PDF), "eleven.pdf")
        )


def test_the_uploader_removes_until_the_city_confirms(
    app, client, login_as, world, storage
) -> None:
    activity = world["activity"]
    first, second = (
        attachments.add_attachment(activity, world["expert"], FileStorage(io.BytesIO(PDF), n))
        for n in ("first.pdf", "second.pdf")
    )
    db.session.commit()
    second_id, second_key = second.id, second.storage_key

    login_as(world["city"])
    assert client.post(f"/attachments/{first.id}/delete").status_code == 302
    assert "organisation that added them" in flashes(client)
    assert len(stored(activity)) == 2

    login_as(world["expert"])
    assert client.post(f"/attachments/{second_id}/delete").status_code == 302
    assert "was removed" in flashes(client)
    assert [a.filename for a in stored(activity)] == ["first.pdf"]
    assert second_key not in files_in(storage)
    assert login_as(world["city"]).get(f"/attachments/{second_id}").status_code == 404

    activity.status = ActivityStatus.CONFIRMED
    db.session.commit()
    login_as(world["expert"])
    assert client.post(f"/attachments/{first.id}/delete").status_code == 302
    assert "until the city confirms" in flashes(client)
    assert len(stored(activity)) == 1


def test_a_missing_stored_file_is_404_not_500(app, client, login_as, world, storage) -> None:
    attachment = attachments.add_attachment(
        world["activity"], world["expert"], FileStorage(io.BytesIO(PDF), "gone.pdf")
    )
    db.session.commit()
    (storage / attachment.storage_key).unlink()
    assert login_as(world["expert"]).get(f"/attachments/{attachment.id}").status_code == 404


def test_the_partial_lists_files_and_offers_an_accessible_form(app, world, storage) -> None:
    from flask import render_template

    activity = world["activity"]
    attachments.add_attachment(
        activity, world["expert"], FileStorage(io.BytesIO(PDF), "Agenda.pdf")
    )
    with app.test_request_context():
        html = render_template("delivery/_attachments.html", activity=activity, can_upload=True)
        readonly = render_template(
            "delivery/_attachments.html", activity=activity, can_upload=False
        )
    n = activity.id
    assert "Agenda.pdf" in html and f"/attachments/{activity.attachments[0].id}" in html
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html
    assert f'<label class="form-label small fw-semibold mb-0" for="attachment-file-{n}"' in html
    assert "at most 10 MiB" in html and ".docx" in html
    assert "<script" not in html and "style=" not in html
    assert "Agenda.pdf" in readonly and "<form" not in readonly
