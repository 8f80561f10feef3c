"""Activity attachments: type checked by content, size-capped, stored outside static/ under
random names, and written atomically; the file follows the database (commit keeps it,
rollback removes it)."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import struct
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound
from werkzeug.utils import secure_filename

from assist import audit
from assist.auth.models import User
from assist.delivery import policy
from assist.delivery.models import Activity, Attachment
from assist.engagements.policy import is_own_organisation
from assist.errors import Conflict, NotAllowed, ValidationFailed
from assist.extensions import db
from assist.i18n import format_decimal
from assist.requests import privacy
from assist.workflow import ActivityStatus, EngagementStatus

log = logging.getLogger("assist.delivery.attachments")

MAX_PER_ACTIVITY = 10
MAX_NAME_LENGTH = 200
CHUNK = 64 * 1024
#: Activities whose attachments are settled: nothing is added or removed any more.
CLOSED_ACTIVITY_STATES = frozenset({ActivityStatus.CANCELLED, ActivityStatus.CONFIRMED})
#: Engagements whose files may still change.
OPEN_ENGAGEMENT_STATES = frozenset(
    {
        EngagementStatus.ACCEPTED,
        EngagementStatus.PLANNED,
        EngagementStatus.DELIVERING,
        EngagementStatus.DELIVERED,
    }
)


@dataclass(frozen=True)
class FileType:
    extension: str
    content_type: str
    #: What the type is called, in the reader's language (a lazy string: ``str()`` it).
    label: Any


_TYPES = [
    FileType("pdf", "application/pdf", "PDF"),
    FileType(
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _l("Word document"),
    ),
    FileType(
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _l("Excel sheet"),
    ),
    FileType(
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _l("PowerPoint presentation"),
    ),
    FileType("odt", "application/vnd.oasis.opendocument.text", _l("OpenDocument text")),
    FileType("ods", "application/vnd.oasis.opendocument.spreadsheet", _l("OpenDocument sheet")),
    FileType(
        "odp", "application/vnd.oasis.opendocument.presentation", _l("OpenDocument presentation")
    ),
    FileType("doc", "application/msword", _l("Word 97-2003 document")),
    FileType("xls", "application/vnd.ms-excel", _l("Excel 97-2003 sheet")),
    FileType("ppt", "application/vnd.ms-powerpoint", _l("PowerPoint 97-2003 presentation")),
    FileType("txt", "text/plain", _l("plain text")),
    FileType("csv", "text/csv", _l("CSV table")),
]
TYPES: dict[str, FileType] = {t.extension: t for t in _TYPES}
#: For the form's help text and its ``accept`` attribute.
ALLOWED_EXTENSIONS = tuple(TYPES)

_OOXML_MAIN_PART = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}
#: Streams that identify each legacy Office format inside an OLE2 compound file.
_OLE_STREAMS = {
    "doc": {"worddocument"},
    "xls": {"workbook", "book"},
    "ppt": {"powerpoint document"},
}
_PDF = b"%PDF-"
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: What some refused contents look like, to say so in the message ("it looks like …").
_SIGNATURES = [
    (b"MZ", _l("a Windows program")),
    (b"\x7fELF", _l("a Linux program")),
    (b"\xcf\xfa\xed\xfe", _l("a macOS program")),
    (b"#!", _l("a script")),
    (b"\x89PNG", _l("a PNG image")),
    (b"\xff\xd8\xff", _l("a JPEG image")),
    (b"GIF8", _l("a GIF image")),
    (b"Rar!", _l("a RAR archive")),
    (b"7z\xbc\xaf", _l("a 7-Zip archive")),
    (b"\x1f\x8b", _l("a gzip archive")),
    (b"{\\rtf", _l("an RTF document")),
]
_MARKUP = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|\?xml|a\s|img\s)", re.I)
_HIDDEN_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def max_bytes() -> int:
    return int(current_app.config["MAX_ATTACHMENT_BYTES"])


def storage_dir() -> Path:
    return Path(current_app.config["ATTACHMENT_DIR"])


def size_label(n: int) -> str:
    """A file size for people, in the reader's number format ("10 MiB", "1.5 MiB", "4 KiB",
    "15 bytes")."""
    mib = 1024 * 1024
    if n < 1024:
        return ngettext("%(size)s byte", "%(size)s bytes", n, size=format_decimal(n))
    if n >= mib:
        # NOTE: MiB = mebibyte (1024 × 1024 bytes); some languages write "Mio".
        return _("%(size)s MiB", size=format_decimal(round(n / mib, 1), format="#,##0.#"))
    # NOTE: KiB = kibibyte (1024 bytes); some languages write "Kio".
    return _("%(size)s KiB", size=format_decimal(n // 1024, format="#,##0"))


def rules_text() -> str:
    """What the upload form accepts, in words (the help text and the refusals say the same)."""
    names = ", ".join(f".{ext}" for ext in ALLOWED_EXTENSIONS)
    return _(
        "PDF, Word, Excel, PowerPoint, OpenDocument, text or CSV (%(extensions)s), "
        "at most %(size)s.",
        extensions=names,
        size=size_label(max_bytes()),
    )


# --- Who may do what ----------------------------------------------------------------------


def can_upload(user: User, activity: Activity) -> bool:
    """The engaged expert organisation, while the activity and the engagement are open."""
    engagement = activity.engagement
    return (
        is_own_organisation(user, engagement)
        and activity.status not in CLOSED_ACTIVITY_STATES
        and engagement.status in OPEN_ENGAGEMENT_STATES
    )


def can_delete(user: User, attachment: Attachment) -> bool:
    """The uploader's organisation, until the city has confirmed the activity."""
    activity = attachment.activity
    engagement = activity.engagement
    if not is_own_organisation(user, engagement):
        return False
    uploader = db.session.get(User, attachment.uploaded_by_id)
    return (
        uploader is not None
        and uploader.organisation_id == user.organisation_id
        and activity.status != ActivityStatus.CONFIRMED
        and engagement.status in OPEN_ENGAGEMENT_STATES
    )


def get_attachment_or_404(user: User, attachment_id: int) -> Attachment:
    """The attachment, or 404 when it does not exist or its engagement is not the user's."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not policy.can_view(user, attachment.activity):
        raise NotFound()
    return attachment


def get_activity_or_404(user: User, activity_id: int) -> Activity:
    activity = db.session.get(Activity, activity_id)
    if activity is None or not policy.can_view(user, activity):
        raise NotFound()
    return activity


# --- File names ---------------------------------------------------------------------------


def split_extension(raw: str) -> tuple[str, str]:
    """(stem, lower-case extension) of the last path component of an uploaded name."""
    name = _last_component(raw)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return name, ""
    return stem, ext.strip().lower()


def _last_component(raw: str) -> str:
    # Browsers send a bare name; old ones (and scripts) send a full Windows or POSIX path.
    name = _HIDDEN_CHARS.sub("", unicodedata.normalize("NFC", raw or ""))
    return re.split(r"[\\/]", name)[-1].strip()


def clean_filename(raw: str, extension: str) -> str:
    """The name shown and offered on download; never used as a path.

    ``secure_filename`` keeps ASCII letters, digits, ``._-``; when it leaves nothing readable
    (a name in Cyrillic or Greek, say), the Unicode letters and digits are kept instead.
    """
    stem, _ext = split_extension(raw)
    safe_stem = secure_filename(stem).strip("._")
    if not re.search(r"[A-Za-z0-9]", safe_stem):
        words = re.findall(r"\w+", stem)
        safe_stem = "_".join(words).strip("._") or "attachment"
    safe_stem = safe_stem[: MAX_NAME_LENGTH - len(extension) - 1]
    return f"{safe_stem}.{extension}"


# --- Content checks -----------------------------------------------------------------------


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed({"file": [message]}, _("The file was not accepted."))


def _looks_like(head: bytes) -> str:
    """What the content seems to be, in words ("a PNG image"), for the refusal message."""
    known = [
        (_PDF, _l("a PDF")),
        (_ZIP, _l("a ZIP archive")),
        (_OLE, _l("a Microsoft compound file")),
    ]
    for magic, what in [*known, *_SIGNATURES]:
        if head.startswith(magic):
            return str(what)
    if _MARKUP.search(head[:2048]):
        return _("a web page or SVG image (HTML/XML)")
    return _("something else")


def _zip_problem(fh: BinaryIO, ext: str) -> str | None:
    """None for a valid ``ext`` document, else "macro" or "wrong". Reads only the central directory
    and, for OpenDocument, the tiny ``mimetype`` member (never the content: no zip bombs)."""
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            if len(infos) > 10000:
                return "wrong"
            names = {i.filename for i in infos}
            if ext in _OOXML_MAIN_PART:
                if "[Content_Types].xml" not in names or _OOXML_MAIN_PART[ext] not in names:
                    return "wrong"
                if any(n.lower().endswith("vbaproject.bin") for n in names):
                    return "macro"
                return None
            # OpenDocument: the first member is an uncompressed "mimetype" naming the type.
            first = infos[0] if infos else None
            if (
                first is None
                or first.filename != "mimetype"
                or first.compress_type != zipfile.ZIP_STORED
                or first.file_size > 100
            ):
                return "wrong"
            with zf.open(first) as member:
                mimetype = member.read(101).decode("ascii", "replace").strip()
            if mimetype != TYPES[ext].content_type:
                return "wrong"
            if any(n.lower().startswith("basic/") for n in names):
                return "macro"
            return None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError):
        return "wrong"
    except NotImplementedError:  # an unsupported compression of the mimetype member
        return "wrong"


def _ole_streams(fh: BinaryIO, size: int) -> set[str]:
    """Names (lower case) in the directory of an OLE2 compound file; empty if malformed.

    Follows the FAT chains with every step bounded by the file's sector count, so a crafted
    file cannot make it loop or read beyond the file.
    """
    fh.seek(0)
    header = fh.read(512)
    if len(header) < 512 or not header.startswith(_OLE):
        return set()
    shift = struct.unpack_from("<H", header, 30)[0]
    if shift not in (9, 12):
        return set()
    sector = 1 << shift
    n_sectors = max(0, size // sector - 1)
    end = 0xFFFFFFFA  # values from here on are markers (end of chain, free, FAT, DIFAT)

    def read(index: int) -> bytes | None:
        if index >= n_sectors:
            return None
        fh.seek((index + 1) * sector)
        data = fh.read(sector)
        return data if len(data) == sector else None

    fat_sectors = [s for s in struct.unpack_from("<109I", header, 76) if s < end]
    difat, seen = struct.unpack_from("<I", header, 68)[0], set()
    while difat < end and difat not in seen and len(seen) <= n_sectors:
        seen.add(difat)
        data = read(difat)
        if data is None:
            return set()
        entries = struct.unpack(f"<{sector // 4}I", data)
        fat_sectors.extend(s for s in entries[:-1] if s < end)
        difat = entries[-1]
    fat: list[int] = []
    for s in fat_sectors[: n_sectors + 1]:
        data = read(s)
        if data is None:
            return set()
        fat.extend(struct.unpack(f"<{sector // 4}I", data))
    names: set[str] = set()
    current, steps = struct.unpack_from("<I", header, 48)[0], 0
    while current < end and current < len(fat) and steps <= n_sectors:
        data = read(current)
        if data is None:
            return set()
        for offset in range(0, sector, 128):
            entry = data[offset : offset + 128]
            length = struct.unpack_from("<H", entry, 64)[0]
            if entry[66] in (1, 2) and 2 <= length <= 64 and length % 2 == 0:
                names.add(entry[: length - 2].decode("utf-16-le", "replace").lower())
        current, steps = fat[current], steps + 1
    return names


def _check_content(fh: BinaryIO, size: int, ext: str, shown: str) -> None:
    """Refuse unless the content really is what the extension says."""
    fh.seek(0)
    head = fh.read(4096)
    kind = TYPES[ext]
    wrong = _refuse(
        _(
            "“%(name)s” is named .%(ext)s but its content is not a %(type)s: it looks like "
            "%(found)s. Upload the original %(type)s; renamed files are refused.",
            name=shown,
            ext=ext,
            type=kind.label,
            found=_looks_like(head),
        )
    )
    if size == 0:
        raise _refuse(_("“%(name)s” is empty. Choose the file again.", name=shown))
    if ext == "pdf":
        if not head.startswith(_PDF):
            raise wrong
    elif ext in _OOXML_MAIN_PART or ext in {"odt", "ods", "odp"}:
        if not head.startswith(_ZIP):
            raise wrong
        problem = _zip_problem(fh, ext)
        if problem == "macro":
            raise _refuse(
                _(
                    "“%(name)s” contains macros. Save it as a document without macros and "
                    "upload that.",
                    name=shown,
                )
            )
        if problem:
            raise wrong
    elif ext in _OLE_STREAMS:
        if not head.startswith(_OLE) or not _OLE_STREAMS[ext] & _ole_streams(fh, size):
            raise wrong
    else:  # txt, csv: readable UTF-8 text, and no markup a browser might render
        fh.seek(0)
        data = fh.read()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _refuse(
                _(
                    "“%(name)s” is not UTF-8 text. Save it as UTF-8 (or as PDF) and try again.",
                    name=shown,
                )
            ) from None
        if "\x00" in text or _MARKUP.search(data[:4096]) or text.lstrip().startswith("<"):
            raise wrong


# --- Storage ------------------------------------------------------------------------------

_NEW_FILES = "assist.attachments.new"
_DOOMED_FILES = "assist.attachments.doomed"


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)
    for path in session.info.pop(_DOOMED_FILES, []):
        _unlink(path)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    # Reached without a commit (rollback, or a session closed mid-way): the rows the new files
    # belong to are gone, and the files to delete are still referenced.
    if transaction.parent is not None:
        return
    session.info.pop(_DOOMED_FILES, None)
    for path in session.info.pop(_NEW_FILES, []):
        _unlink(path)


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.warning("could not remove attachment file %s", path.name)


def stored_path(attachment: Attachment) -> Path:
    """Where the file lies; the key is ours (hex), never the uploader's name."""
    if not re.fullmatch(r"[0-9a-f]{32,64}", attachment.storage_key):
        raise NotFound()
    return storage_dir() / attachment.storage_key


def _receive(stream: IO[bytes], folder: Path, limit: int, shown: str) -> tuple[Path, int, str]:
    """Copy the upload into a temporary file in ``folder``: (path, size, sha256)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    tmp = Path(tmp_name)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(min(CHUNK, limit + 1 - size)):
                size += len(chunk)
                if size > limit:
                    raise _refuse(
                        _(
                            "“%(name)s” is larger than %(size)s. Make it smaller (for example "
                            "export it as PDF, or split it), then upload it again.",
                            name=shown,
                            size=size_label(limit),
                        )
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        _unlink(tmp)
        raise
    return tmp, size, digest.hexdigest()


def add_attachment(activity: Activity, actor: User, file: FileStorage) -> Attachment:
    """Check and store an uploaded file for the activity; the caller commits (a rollback
    removes the stored file again)."""
    if not policy.can_view(actor, activity):
        raise NotAllowed(_("You cannot act on this activity."))
    if not can_upload(actor, activity):
        raise NotAllowed(
            _(
                "Files are added by the engaged expert organisation, until the activity is "
                "confirmed or cancelled (it is '%(status)s').",
                status=activity.status.label,
            )
        )
    raw_name = file.filename or ""
    if not raw_name.strip():
        raise _refuse(_("Choose a file to upload."))
    count = db.session.scalar(
        sa.select(sa.func.count(Attachment.id)).where(Attachment.activity_id == activity.id)
    )
    if (count or 0) >= MAX_PER_ACTIVITY:
        raise Conflict(
            ngettext(
                "An activity holds at most %(num)d file. Remove it if you no longer need it, "
                "then add this one.",
                "An activity holds at most %(num)d files. Remove one you no longer need, "
                "then add this one.",
                MAX_PER_ACTIVITY,
            )
        )
    _stem, ext = split_extension(raw_name)
    if ext not in TYPES:
        if ext:
            refusal = _(
                "Files with .%(ext)s are not accepted. Allowed: %(rules)s",
                ext=ext[:10],
                rules=rules_text(),
            )
        else:
            refusal = _(
                "Files with no extension are not accepted. Allowed: %(rules)s", rules=rules_text()
            )
        raise _refuse(refusal)
    filename = clean_filename(raw_name, ext)
    findings = privacy.screen(filename)
    if findings:
        raise _refuse(_("Rename the file: %(reason)s", reason=findings[0].message()))
    folder = storage_dir()
    tmp, size, sha256 = _receive(file.stream, folder, max_bytes(), filename)
    try:
        with tmp.open("rb") as fh:
            _check_content(fh, size, ext, filename)
        key = secrets.token_hex(16)
        final = folder / key
        os.replace(tmp, final)
    except BaseException:
        _unlink(tmp)
        raise
    db.session.info.setdefault(_NEW_FILES, []).append(final)
    attachment = Attachment(
        activity=activity,
        filename=filename,
        content_type=TYPES[ext].content_type,
        size=size,
        sha256=sha256,
        storage_key=key,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    db.session.flush()
    audit.record(actor, "attach", activity, comment=filename)
    log.info("attachment %s stored for activity %s (%d bytes)", attachment.id, activity.id, size)
    return attachment


def delete_attachment(attachment: Attachment, actor: User) -> None:
    """Remove the attachment; its file goes once the caller commits."""
    if not policy.can_view(actor, attachment.activity):
        raise NotAllowed(_("You cannot act on this activity."))
    if not can_delete(actor, attachment):
        raise NotAllowed(
            _(
                "Files are removed by the organisation that added them, until the city confirms "
                "the activity."
            )
        )
    activity = attachment.activity
    db.session.info.setdefault(_DOOMED_FILES, []).append(stored_path(attachment))
    db.session.delete(attachment)
    db.session.flush()
    db.session.expire(activity, ["attachments"])
    audit.record(actor, "remove_attachment", activity, comment=attachment.filename)
