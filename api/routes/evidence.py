"""Evidence over HTTP: edges upload clips, snapshots and previews; readers play them with Range."""

import re
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, HTTPException, Path, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.access import Edge, Reader
from api.deps import Components, ComponentsDep
from api.errors import EvidenceError, NotFoundError
from api.evidence import Upload, check_upload
from api.models import EvidenceKind, EvidenceRow
from api.principal import Principal
from api.routes.openapi import NOT_FOUND, Responses
from api.schemas import EvidencePublic
from contracts import IDENTIFIER_PATTERN

router = APIRouter(prefix="/api/v1", tags=["evidence"])

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_UPLOAD_ERRORS: Responses = {
    404: {"description": "no such violation of the edge's own site"},
    409: {"description": "a different file was uploaded for this slot already"},
    413: {"description": "over the size limit"},
    415: {"description": "not the right type of file (judged by its bytes)"},
    422: {"description": "missing or wrong X-Content-SHA256"},
}
Sha256Header = Annotated[
    str | None, Header(alias="X-Content-SHA256", description="hex SHA-256 of the body")
]


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The body, refusing with 413 as soon as it passes `max_bytes` (never buffering more)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise EvidenceError(f"body: {declared} bytes exceed {max_bytes}", status_code=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise EvidenceError(f"body: more than {max_bytes} bytes", status_code=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _public(row: EvidenceRow) -> EvidencePublic:
    return EvidencePublic(
        id=row.id,
        kind=row.kind,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        created_at=row.created_at,
        url=f"/api/v1/violations/{row.violation_id}/{row.kind}",
    )


async def _edge_upload(
    request: Request,
    response: Response,
    components: Components,
    caller: Principal,
    violation_id: UUID,
    kind: EvidenceKind,
    sha256: str | None,
) -> EvidencePublic:
    settings = components.settings
    max_bytes = (
        settings.clip_max_bytes if kind is EvidenceKind.CLIP else settings.snapshot_max_bytes
    )
    data = await read_limited(request, max_bytes)
    upload = Upload(data, request.headers.get("content-type"), sha256)
    row, created = await run_in_threadpool(
        components.evidence.put_edge_file,
        violation_id,
        kind,
        upload,
        caller,
        max_bytes=max_bytes,
        now=components.clock(),
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return _public(row)


@router.put("/edge/violations/{violation_id}/clip", responses=_UPLOAD_ERRORS, status_code=201)
async def upload_clip(
    request: Request,
    response: Response,
    components: ComponentsDep,
    caller: Edge,
    violation_id: UUID,
    sha256: Sha256Header = None,
) -> EvidencePublic:
    """An edge's MP4 of one of its violations; 201 when stored, 200 when it was already."""
    return await _edge_upload(
        request, response, components, caller, violation_id, EvidenceKind.CLIP, sha256
    )


@router.put("/edge/violations/{violation_id}/snapshot", responses=_UPLOAD_ERRORS, status_code=201)
async def upload_snapshot(
    request: Request,
    response: Response,
    components: ComponentsDep,
    caller: Edge,
    violation_id: UUID,
    sha256: Sha256Header = None,
) -> EvidencePublic:
    """An edge's JPEG of one of its violations; 201 when stored, 200 when it was already."""
    return await _edge_upload(
        request, response, components, caller, violation_id, EvidenceKind.SNAPSHOT, sha256
    )


@router.put(
    "/edge/cameras/{camera}/preview",
    status_code=204,
    responses={404: {"description": "no such camera at the edge's site"}, 413: {}, 415: {}},
)
async def upload_preview(
    request: Request,
    components: ComponentsDep,
    caller: Edge,
    camera: Annotated[str, Path(pattern=IDENTIFIER_PATTERN)],
) -> Response:
    """The newest preview frame (JPEG, faces already blurred by the edge) of one camera."""
    site = caller.home_site
    if site is None:
        raise NotFoundError(f"camera {camera} not found")
    await run_in_threadpool(components.registry.camera, site, camera)
    data = await read_limited(request, components.settings.preview_max_bytes)
    check_upload(
        Upload(data, request.headers.get("content-type"), request.headers.get("x-content-sha256")),
        EvidenceKind.SNAPSHOT,
        max_bytes=components.settings.preview_max_bytes,
    )
    components.previews.publish(site, camera, data, now=components.clock())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _ranged(components: Components, row: EvidenceRow, range_header: str | None) -> Response:
    storage = components.evidence.storage
    if not storage.exists(row.storage_key):
        raise NotFoundError(f"{row.kind} of {row.violation_id} is no longer stored")
    size = storage.size_bytes(row.storage_key)
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, max-age=3600",
        "ETag": f'"{row.sha256}"',
        "X-Content-Type-Options": "nosniff",
    }
    start, end = 0, size - 1
    partial = False
    if range_header:
        match = _RANGE.fullmatch(range_header.strip())
        if match is None or (not match.group(1) and not match.group(2)):
            if "," not in range_header:  # several ranges: serve the whole file instead
                raise HTTPException(
                    status.HTTP_416_RANGE_NOT_SATISFIABLE,
                    detail="range: only bytes=START-END, START- or -SUFFIX",
                    headers={"Content-Range": f"bytes */{size}"},
                )
        else:
            first, last = match.group(1), match.group(2)
            if first:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
            else:
                start = max(size - int(last), 0)
            if start >= size or start > end:
                raise HTTPException(
                    status.HTTP_416_RANGE_NOT_SATISFIABLE,
                    detail=f"range: outside the {size} bytes",
                    headers={"Content-Range": f"bytes */{size}"},
                )
            partial = True
    headers["Content-Length"] = str(end - start + 1)
    if partial:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return StreamingResponse(
        storage.iter_range(row.storage_key, start, end),
        status_code=status.HTTP_206_PARTIAL_CONTENT if partial else status.HTTP_200_OK,
        media_type=row.content_type,
        headers=headers,
    )


def _evidence_of_kind(
    components: Components,
    caller: Principal,
    violation_id: UUID,
    kind: EvidenceKind,
    range_header: str | None,
) -> Response:
    components.cases.visible(violation_id, caller)  # 404 for a case the caller may not see
    return _ranged(components, components.evidence.of_kind(violation_id, kind), range_header)


RangeHeader = Annotated[str | None, Header(alias="Range")]
_FILE_RESPONSES: Responses = {
    **NOT_FOUND,
    206: {"description": "the requested byte range"},
    416: {},
}


@router.get("/violations/{violation_id}/clip", responses=_FILE_RESPONSES)
def get_clip(
    components: ComponentsDep, caller: Reader, violation_id: UUID, range_header: RangeHeader = None
) -> Response:
    """The MP4 clip; HTTP range requests let the browser's player seek."""
    return _evidence_of_kind(components, caller, violation_id, EvidenceKind.CLIP, range_header)


@router.get("/violations/{violation_id}/snapshot", responses=_FILE_RESPONSES)
def get_snapshot(
    components: ComponentsDep, caller: Reader, violation_id: UUID, range_header: RangeHeader = None
) -> Response:
    """The JPEG snapshot with the boxes drawn."""
    return _evidence_of_kind(components, caller, violation_id, EvidenceKind.SNAPSHOT, range_header)


@router.get("/violations/{violation_id}/photos/{evidence_id}", responses=_FILE_RESPONSES)
def get_photo(
    components: ComponentsDep,
    caller: Reader,
    violation_id: UUID,
    evidence_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    range_header: RangeHeader = None,
) -> Response:
    components.cases.visible(violation_id, caller)
    row = components.evidence.one(violation_id, evidence_id)
    if row.kind != EvidenceKind.PHOTO:
        raise NotFoundError(f"photo {evidence_id} not found")
    return _ranged(components, row, range_header)
