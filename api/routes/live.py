"""Live: violations and their ends as Server-Sent Events (scoped), camera previews as MJPEG."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.access import Allow, Reader
from api.deps import ComponentsDep
from api.errors import NotFoundError
from api.previews import MJPEG_BOUNDARY, MJPEG_START, mjpeg_part
from api.principal import Principal, Role
from contracts import IDENTIFIER_PATTERN

router = APIRouter(prefix="/api/v1", tags=["live"])
SSE_RETRY_MS = 3000
Viewer = Annotated[Principal, Depends(Allow(Role.ADMIN, Role.SUPERVISOR, Role.STAFF, Role.PARENT))]
Identifier = Annotated[str, Path(pattern=IDENTIFIER_PATTERN)]


@router.get(
    "/live",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def live(components: ComponentsDep, caller: Reader) -> StreamingResponse:
    """Each new violation of the caller's sites as `event: violation` (a ViolationPublic), the
    end of each incident as `event: violation_end` (a ViolationEndPublic: ended_at, duration_s,
    max_count), and each review action as `event: case`, as they happen.

    A comment line keeps idle connections open; the stream ends when the service shuts down.
    """
    hub = components.hub
    keepalive_s = components.settings.live_keepalive_s
    sites = caller.sites

    async def stream() -> AsyncIterator[str]:
        subscription = hub.subscribe(sites)
        try:
            yield f"retry: {SSE_RETRY_MS}\n\n"
            while True:
                try:
                    item = await subscription.get(timeout_s=keepalive_s)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item is None:
                    return
                yield item.encode()
        finally:
            hub.unsubscribe(subscription)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/sites/{site}/cameras/{camera}/live.mjpeg",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"multipart/x-mixed-replace": {}}, "description": "MJPEG"},
        404: {"description": "no such camera the caller may watch"},
    },
)
async def camera_preview(
    components: ComponentsDep, caller: Viewer, site: Identifier, camera: Identifier
) -> StreamingResponse:
    """The camera's preview as MJPEG; parents see only their site's public cameras."""
    if not caller.sees_site(site):
        raise NotFoundError(f"camera {camera} not found")
    row = await run_in_threadpool(components.registry.camera, site, camera)
    if caller.role is Role.PARENT and not row.public:
        raise NotFoundError(f"camera {camera} not found")
    previews = components.previews

    async def stream() -> AsyncIterator[bytes]:
        yield MJPEG_START
        async for frame in previews.frames(site, camera):
            yield mjpeg_part(frame)

    return StreamingResponse(
        stream(),
        media_type=f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}",
        headers={"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/sites/{site}/cameras/{camera}/preview.jpg",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "the newest preview frame"},
        404: {"description": "no such camera, or no frame yet"},
    },
)
async def camera_snapshot(
    components: ComponentsDep, caller: Reader, site: Identifier, camera: Identifier
) -> Response:
    """The camera's newest preview frame (the zone editor draws on it)."""
    if not caller.sees_site(site):
        raise NotFoundError(f"camera {camera} not found")
    await run_in_threadpool(components.registry.camera, site, camera)
    frame = components.previews.latest(site, camera)
    if frame is None:
        raise NotFoundError(f"no preview of camera {camera} yet")
    return Response(frame.jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
