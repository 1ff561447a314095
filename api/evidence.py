"""EvidenceStore: clips, snapshots and rectification photos, checked, stored once, listed.

An upload is refused unless its bytes are what they claim (magic bytes, not the header), its
SHA-256 matches the one the sender declared, and it fits the size limit of its kind. The same
bytes sent again are accepted without a second copy; different bytes for the same slot are a
conflict. Names on disk are built from ids only.
"""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db import Database
from api.errors import ConflictError, EvidenceError, NotFoundError
from api.models import EvidenceKind, EvidenceRow, ViolationRow
from api.principal import Principal
from api.storage import Storage

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
EXTENSIONS = {"video/mp4": "mp4", "image/jpeg": "jpg", "image/png": "png"}
ACCEPTED = {
    EvidenceKind.CLIP: frozenset({"video/mp4"}),
    EvidenceKind.SNAPSHOT: frozenset({"image/jpeg"}),
    EvidenceKind.PHOTO: frozenset({"image/jpeg", "image/png"}),
}


def sniff(data: bytes) -> str | None:
    """The content type the bytes themselves show, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "video/mp4"
    return None


@dataclass(frozen=True, slots=True)
class Upload:
    """Bytes a client sent, with what it declared about them."""

    data: bytes
    declared_type: str | None  # the Content-Type header (or the form part's)
    declared_sha256: str | None  # the X-Content-SHA256 header; required from edges


def check_upload(upload: Upload, kind: EvidenceKind, *, max_bytes: int) -> tuple[str, str]:
    """(content type, sha256 hex) of an acceptable upload; EvidenceError saying why not."""
    if len(upload.data) > max_bytes:
        raise EvidenceError(f"body: {len(upload.data)} bytes exceed {max_bytes}", status_code=413)
    if not upload.data:
        raise EvidenceError("body: empty", status_code=422)
    sniffed = sniff(upload.data)
    accepted = ACCEPTED[kind]
    if sniffed not in accepted:
        wanted = " or ".join(sorted(accepted))
        raise EvidenceError(f"body: a {kind} must be {wanted}", status_code=415)
    declared = (upload.declared_type or "").split(";")[0].strip().lower()
    if declared and declared != sniffed and declared != "application/octet-stream":
        raise EvidenceError(
            f"content-type: declared {declared} but the bytes are {sniffed}", status_code=415
        )
    digest = hashlib.sha256(upload.data).hexdigest()
    if upload.declared_sha256 is not None:
        declared_sha = upload.declared_sha256.strip().lower()
        if _SHA256_HEX.fullmatch(declared_sha) is None:
            raise EvidenceError("x-content-sha256: not 64 hex digits", status_code=422)
        if declared_sha != digest:
            raise EvidenceError(
                "x-content-sha256: does not match the body (damaged in transit?)",
                status_code=422,
            )
    return sniffed, digest


def storage_key(kind: EvidenceKind, site: str, violation_id: UUID, content_type: str) -> str:
    return f"{kind}/{site}/{violation_id}.{EXTENSIONS[content_type]}"


def photo_key(site: str, violation_id: UUID, sha256: str, content_type: str) -> str:
    return f"photo/{site}/{violation_id}-{sha256[:16]}.{EXTENSIONS[content_type]}"


class EvidenceStore:
    def __init__(self, database: Database, storage: Storage) -> None:
        self._db = database
        self.storage = storage

    def put_edge_file(
        self,
        violation_id: UUID,
        kind: EvidenceKind,
        upload: Upload,
        principal: Principal,
        *,
        max_bytes: int,
        now: datetime,
    ) -> tuple[EvidenceRow, bool]:
        """Store an edge's clip or snapshot; (row, True) when new, (row, False) for a repeat.

        NotFoundError when the violation is unknown or of another site than the edge's.
        """
        if upload.declared_sha256 is None:
            raise EvidenceError("x-content-sha256: required for uploads", status_code=422)
        content_type, digest = check_upload(upload, kind, max_bytes=max_bytes)
        with self._db.session(f"store {kind}") as session:
            violation = session.get(ViolationRow, violation_id)
            if violation is None or not principal.sees_site(violation.site):
                raise NotFoundError(f"violation {violation_id} not found")
            existing = session.scalar(
                select(EvidenceRow).where(
                    EvidenceRow.violation_id == violation_id, EvidenceRow.kind == kind.value
                )
            )
            if existing is not None:
                if existing.sha256 != digest:
                    raise ConflictError(f"{kind} of {violation_id}: stored already, other bytes")
                if not self.storage.exists(existing.storage_key):  # lost on disk: restore it
                    self.storage.put(existing.storage_key, upload.data)
                return existing, False
            key = storage_key(kind, violation.site, violation_id, content_type)
            self.storage.put(key, upload.data)
            row = EvidenceRow(
                violation_id=violation_id,
                kind=kind.value,
                storage_key=key,
                sha256=digest,
                size_bytes=len(upload.data),
                content_type=content_type,
                created_at=now,
                uploaded_by=principal.subject,
            )
            session.add(row)
            flag = "has_clip" if kind is EvidenceKind.CLIP else "has_snapshot"
            setattr(violation, flag, True)
            session.commit()
        return row, True

    def attach_photo(
        self,
        session: Session,
        violation: ViolationRow,
        upload: Upload,
        principal: Principal,
        *,
        max_bytes: int,
        now: datetime,
    ) -> EvidenceRow:
        """Store a rectification photo inside the caller's transaction (see CaseStore.act)."""
        content_type, digest = check_upload(upload, EvidenceKind.PHOTO, max_bytes=max_bytes)
        key = photo_key(violation.site, violation.violation_id, digest, content_type)
        existing = session.scalar(select(EvidenceRow).where(EvidenceRow.storage_key == key))
        if existing is not None:
            return existing
        self.storage.put(key, upload.data)
        row = EvidenceRow(
            violation_id=violation.violation_id,
            kind=EvidenceKind.PHOTO.value,
            storage_key=key,
            sha256=digest,
            size_bytes=len(upload.data),
            content_type=content_type,
            created_at=now,
            uploaded_by=principal.subject,
        )
        session.add(row)
        return row

    def of_violation(self, violation_id: UUID) -> Sequence[EvidenceRow]:
        query = (
            select(EvidenceRow)
            .where(EvidenceRow.violation_id == violation_id)
            .order_by(EvidenceRow.id)
        )
        with self._db.session("list evidence") as session:
            return tuple(session.scalars(query))

    def one(self, violation_id: UUID, evidence_id: int) -> EvidenceRow:
        with self._db.session("get evidence") as session:
            row = session.get(EvidenceRow, evidence_id)
        if row is None or row.violation_id != violation_id:
            raise NotFoundError(f"evidence {evidence_id} not found")
        return row

    def of_kind(self, violation_id: UUID, kind: EvidenceKind) -> EvidenceRow:
        query = select(EvidenceRow).where(
            EvidenceRow.violation_id == violation_id, EvidenceRow.kind == kind.value
        )
        with self._db.session("get evidence") as session:
            row = session.scalar(query.order_by(EvidenceRow.id.desc()).limit(1))
        if row is None:
            raise NotFoundError(f"no {kind} for violation {violation_id}")
        return row

    def usage_bytes(self) -> int:
        with self._db.session("evidence usage") as session:
            return int(session.scalar(select(func.sum(EvidenceRow.size_bytes))) or 0)
