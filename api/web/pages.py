"""The role pages: parent (phone), staff console, supervisor queue and charts, administration."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.access import Allow
from api.deps import Components, ComponentsDep
from api.models import AreaType
from api.principal import Principal, Role
from api.routes.stats import parent_summary
from api.schemas import EdgeStatusPublic
from api.web.render import render
from contracts import CameraState, EdgeState

AREA_NAMES = {
    AreaType.ROUGH_PREP: ("粗加工", "Rough prep"),
    AreaType.COOKING: ("烹饪", "Cooking"),
    AreaType.SPECIAL_ROOM: ("专间", "Special room"),
    AreaType.WASHING: ("洗消", "Washing"),
    AreaType.STORAGE: ("库房", "Storage"),
    AreaType.SAMPLE_KEEPING: ("留样", "Sample keeping"),
    AreaType.ENTRANCE: ("出入口", "Entrance"),
}

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class CameraHealth:
    """One camera's line in the pages' camera-health table."""

    site: str
    edge: str
    camera: str
    state: CameraState
    since: datetime


def camera_health(components: Components, caller: Principal) -> list[CameraHealth]:
    """Each camera of the caller's sites as its edge last reported it; an offline edge's cameras
    are offline since the edge's last will arrived (their own reports are stale)."""
    lines = []
    for row in components.store.edge_statuses(caller.sites):
        status = EdgeStatusPublic.from_row(row)
        edge_offline = status.state is EdgeState.OFFLINE
        for camera, report in sorted(status.cameras.items()):
            lines.append(
                CameraHealth(
                    site=status.site,
                    edge=status.edge,
                    camera=camera,
                    state=CameraState.OFFLINE if edge_offline else report.state,
                    since=status.received_at if edge_offline else report.since,
                )
            )
    return lines


ParentPage = Annotated[Principal, Depends(Allow(Role.PARENT, pages=True))]
StaffPage = Annotated[Principal, Depends(Allow(Role.STAFF, Role.ADMIN, pages=True))]
SupervisorPage = Annotated[Principal, Depends(Allow(Role.SUPERVISOR, Role.ADMIN, pages=True))]
AdminPage = Annotated[Principal, Depends(Allow(Role.ADMIN, pages=True))]


@router.get("/parent")
async def parent_page(request: Request, components: ComponentsDep, caller: ParentPage) -> Response:
    summary = await run_in_threadpool(parent_summary, components, caller)
    return render(request, components, "parent.html", {"principal": caller, "summary": summary})


@router.get("/staff")
def staff_page(request: Request, components: ComponentsDep, caller: StaffPage) -> Response:
    health = camera_health(components, caller)
    return render(request, components, "staff.html", {"principal": caller, "health": health})


@router.get("/supervisor")
def supervisor_page(
    request: Request, components: ComponentsDep, caller: SupervisorPage
) -> Response:
    sites = components.registry.sites(caller.sites)
    health = camera_health(components, caller)
    return render(
        request,
        components,
        "supervisor.html",
        {"principal": caller, "sites": sites, "health": health},
    )


@router.get("/admin")
def admin_page(request: Request, components: ComponentsDep, caller: AdminPage) -> Response:
    area_types = [(area.value, zh, en) for area, (zh, en) in AREA_NAMES.items()]
    return render(
        request, components, "admin.html", {"principal": caller, "area_types": area_types}
    )
