"""The role pages: parent (phone), staff console, supervisor queue and charts, administration."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.access import Allow
from api.deps import ComponentsDep
from api.models import AreaType
from api.principal import Principal, Role
from api.routes.stats import parent_summary
from api.web.render import render

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
    return render(request, components, "staff.html", {"principal": caller})


@router.get("/supervisor")
def supervisor_page(
    request: Request, components: ComponentsDep, caller: SupervisorPage
) -> Response:
    sites = components.registry.sites(caller.sites)
    return render(request, components, "supervisor.html", {"principal": caller, "sites": sites})


@router.get("/admin")
def admin_page(request: Request, components: ComponentsDep, caller: AdminPage) -> Response:
    area_types = [(area.value, zh, en) for area, (zh, en) in AREA_NAMES.items()]
    return render(
        request, components, "admin.html", {"principal": caller, "area_types": area_types}
    )
