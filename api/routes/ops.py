"""Operations: health for load balancers, Prometheus metrics, and the edges' last statuses."""

import logging

from fastapi import APIRouter, Response, status
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from api.access import Admin, Anyone, Reader
from api.deps import ComponentsDep
from api.errors import StorageError
from api.metrics import CONTENT_TYPE, MetricsSnapshot, render_metrics
from api.schemas import EdgeStatusPublic, HealthPublic

logger = logging.getLogger(__name__)

router = APIRouter()


@router.get("/api/v1/edges", tags=["edges"])
def list_edges(components: ComponentsDep, caller: Reader) -> list[EdgeStatusPublic]:
    """The last status each edge of the caller's sites reported (online / offline, cameras)."""
    rows = components.store.edge_statuses(caller.sites)
    return [EdgeStatusPublic.from_row(row) for row in rows]


@router.get("/healthz", tags=["ops"], responses={503: {"model": HealthPublic}})
def healthz(components: ComponentsDep, _caller: Anyone, response: Response) -> HealthPublic:
    """200 when the database answers and the ingest is subscribed (or disabled), else 503."""
    try:
        components.store.ping()
        database = True
    except StorageError as err:
        logger.warning("health check: database unreachable error=%s", err)
        database = False
    ingest = components.ingest
    if ingest is None:
        ingest_state = "disabled"
    else:
        ingest_state = "connected" if ingest.connected else "disconnected"
    healthy = database and ingest_state != "disconnected"
    response.status_code = status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE
    return HealthPublic(
        status="ok" if healthy else "degraded", database=database, ingest=ingest_state
    )


@router.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
async def metrics(components: ComponentsDep, _caller: Admin) -> PlainTextResponse:
    """Prometheus text format."""
    ingest = components.ingest
    storage_bytes = await run_in_threadpool(components.evidence.usage_bytes)
    snapshot = MetricsSnapshot(
        counts=components.counters.snapshot(),
        ingest_connected=None if ingest is None else ingest.connected,
        storage_bytes=storage_bytes,
        live_subscribers=components.hub.subscriber_count,
        live_published=components.hub.published_total,
        live_dropped=components.hub.dropped_total,
        preview_viewers=components.previews.viewer_count,
        preview_frames=components.previews.frames_published,
        preview_skipped=components.previews.frames_skipped,
    )
    return PlainTextResponse(render_metrics(snapshot), media_type=CONTENT_TYPE)
