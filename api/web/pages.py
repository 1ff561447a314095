"""The role pages: parent (phone), staff console, supervisor queue and charts, administration."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.access import Allow
from api.deps import ComponentsDep
from api.principal import Principal, Role
from api.web.render import render

router = APIRouter(include_in_schema=False)

ParentPage = Annotated[Principal, Depends(Allow(Role.PARENT, pages=True))]
StaffPage = Annotated[Principal, Depends(Allow(Role.STAFF, Role.ADMIN, pages=True))]
SupervisorPage = Annotated[Principal, Depends(Allow(Role.SUPERVISOR, Role.ADMIN, pages=True))]
AdminPage = Annotated[Principal, Depends(Allow(Role.ADMIN, pages=True))]


@router.get("/parent")
def parent_page(request: Request, components: ComponentsDep, caller: ParentPage) -> Response:
    return render(request, components, "parent.html", {"principal": caller})


@router.get("/staff")
def staff_page(request: Request, components: ComponentsDep, caller: StaffPage) -> Response:
    return render(request, components, "staff.html", {"principal": caller})


@router.get("/supervisor")
def supervisor_page(
    request: Request, components: ComponentsDep, caller: SupervisorPage
) -> Response:
    return render(request, components, "supervisor.html", {"principal": caller})


@router.get("/admin")
def admin_page(request: Request, components: ComponentsDep, caller: AdminPage) -> Response:
    return render(request, components, "admin.html", {"principal": caller})
