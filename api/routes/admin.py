"""The registry over HTTP: admins manage it; supervisors and staff read their own part."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from api.access import Admin, Reader, visible_site
from api.deps import Components, ComponentsDep
from api.models import EdgeDeviceRow, ShareLinkRow, UserRow
from api.principal import Role
from api.qr import qr_svg
from api.registry import mqtt_username
from api.registry_schemas import (
    CameraIn,
    CameraPatch,
    CameraPublic,
    DeviceIn,
    DevicePublic,
    IssuedDevicePublic,
    IssuedShareLinkPublic,
    RegionIn,
    RegionPublic,
    ShareLinkIn,
    ShareLinkPublic,
    SiteIn,
    SitePublic,
    UserIn,
    UserPatch,
    UserPublic,
    ZonePublic,
    ZonesIn,
)
from api.routes.openapi import CONFLICT, NOT_FOUND
from contracts import IDENTIFIER_PATTERN

router = APIRouter(prefix="/api/v1", tags=["registry"])
SiteCode = Annotated[str, Path(pattern=IDENTIFIER_PATTERN)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_404 = NOT_FOUND
_409 = CONFLICT


@router.get("/regions")
def list_regions(components: ComponentsDep, caller: Reader) -> list[RegionPublic]:
    regions = components.registry.regions()
    if caller.role is not Role.ADMIN:
        regions = tuple(r for r in regions if r.id == caller.region_id)
    return [RegionPublic.model_validate(r) for r in regions]


@router.post("/regions", status_code=201, responses=_409)
def create_region(components: ComponentsDep, _caller: Admin, body: RegionIn) -> RegionPublic:
    return RegionPublic.model_validate(components.registry.create_region(body.code, body.name))


@router.get("/sites")
def list_sites(components: ComponentsDep, caller: Reader) -> list[SitePublic]:
    return [SitePublic.model_validate(s) for s in components.registry.sites(caller.sites)]


@router.post("/sites", status_code=201, responses=_409)
def create_site(components: ComponentsDep, _caller: Admin, body: SiteIn) -> SitePublic:
    row = components.registry.create_site(body.code, body.name, body.region_id)
    return SitePublic.model_validate(row)


@router.get("/sites/{site}/cameras", responses=_404)
def list_cameras(components: ComponentsDep, caller: Reader, site: SiteCode) -> list[CameraPublic]:
    rows = components.registry.cameras(visible_site(caller, site))
    return [CameraPublic.model_validate(r) for r in rows]


@router.post("/sites/{site}/cameras", status_code=201, responses={**_404, **_409})
def create_camera(
    components: ComponentsDep, _caller: Admin, site: SiteCode, body: CameraIn
) -> CameraPublic:
    row = components.registry.create_camera(
        site, body.code, body.name, body.area_type, public=body.public
    )
    return CameraPublic.model_validate(row)


@router.patch("/sites/{site}/cameras/{camera}", responses=_404)
def update_camera(
    components: ComponentsDep, _caller: Admin, site: SiteCode, camera: SiteCode, body: CameraPatch
) -> CameraPublic:
    row = components.registry.update_camera(
        site, camera, name=body.name, area_type=body.area_type, public=body.public
    )
    return CameraPublic.model_validate(row)


@router.get("/sites/{site}/cameras/{camera}/zones", responses=_404)
def list_zones(
    components: ComponentsDep, caller: Reader, site: SiteCode, camera: SiteCode
) -> list[ZonePublic]:
    rows = components.registry.zones(visible_site(caller, site), camera)
    return [ZonePublic.model_validate(r) for r in rows]


@router.put("/sites/{site}/cameras/{camera}/zones", responses=_404)
def replace_zones(
    components: ComponentsDep, _caller: Admin, site: SiteCode, camera: SiteCode, body: ZonesIn
) -> list[ZonePublic]:
    """Make the camera's zones exactly these (the polygon editor saves them all at once)."""
    zones = [(z.code, z.name, [list(point) for point in z.polygon]) for z in body.zones]
    rows = components.registry.replace_zones(site, camera, zones)
    return [ZonePublic.model_validate(r) for r in rows]


def _user_public(components: Components, row: UserRow) -> UserPublic:
    return UserPublic(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        region_id=row.region_id,
        site=components.registry.site_code(row.site_id),
        disabled=row.disabled,
    )


@router.get("/users")
def list_users(components: ComponentsDep, _caller: Admin) -> list[UserPublic]:
    return [_user_public(components, row) for row in components.registry.users()]


@router.post("/users", status_code=201, responses={**_404, **_409})
def create_user(components: ComponentsDep, _caller: Admin, body: UserIn) -> UserPublic:
    row = components.registry.create_user(
        body.username,
        body.password,
        body.role,
        now=components.clock(),
        display_name=body.display_name,
        region_id=body.region_id,
        site=body.site,
    )
    return _user_public(components, row)


@router.patch("/users/{user_id}", responses=_404)
def update_user(
    components: ComponentsDep, _caller: Admin, user_id: RowId, body: UserPatch
) -> UserPublic:
    """Disable (or enable) a user; disabling ends the user's sessions."""
    row = components.registry.set_user_disabled(user_id, disabled=body.disabled)
    if body.disabled:
        components.sessions.delete_for_user(user_id)
    return _user_public(components, row)


def _device_public(row: EdgeDeviceRow, site: str) -> DevicePublic:
    return DevicePublic(
        id=row.id,
        site=site,
        edge=row.edge,
        mqtt_username=mqtt_username(site, row.edge),
        created_at=row.created_at,
        disabled=row.disabled,
    )


@router.get("/devices")
def list_devices(components: ComponentsDep, _caller: Admin) -> list[DevicePublic]:
    return [_device_public(row, site) for row, site in components.registry.devices()]


@router.post("/sites/{site}/devices", status_code=201, responses={**_404, **_409})
def create_device(
    components: ComponentsDep, _caller: Admin, site: SiteCode, body: DeviceIn
) -> IssuedDevicePublic:
    """A new edge device: its HTTP token and MQTT password are in this answer only."""
    issued = components.registry.create_device(site, body.edge, now=components.clock())
    public = _device_public(issued.device, site)
    return IssuedDevicePublic(
        **public.model_dump(), http_token=issued.http_token, mqtt_password=issued.mqtt_password
    )


@router.delete("/devices/{device_id}", status_code=204, responses=_404)
def delete_device(components: ComponentsDep, _caller: Admin, device_id: RowId) -> Response:
    components.registry.delete_device(device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _link_public(row: ShareLinkRow, site: str) -> ShareLinkPublic:
    return ShareLinkPublic(
        id=row.id,
        site=site,
        label=row.label,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked=row.revoked,
    )


@router.get("/share-links")
def list_share_links(components: ComponentsDep, _caller: Admin) -> list[ShareLinkPublic]:
    return [_link_public(row, site) for row, site in components.registry.share_links()]


@router.post("/sites/{site}/share-links", status_code=201, responses=_404)
def create_share_link(
    request: Request, components: ComponentsDep, _caller: Admin, site: SiteCode, body: ShareLinkIn
) -> IssuedShareLinkPublic:
    """A parent's link to the site's live view, with its QR code; shown once."""
    issued = components.registry.create_share_link(
        site, body.label, now=components.clock(), valid_for=timedelta(days=body.valid_days)
    )
    base = components.settings.public_base_url or str(request.base_url)
    url = f"{base.rstrip('/')}/share/{issued.token}"
    public = _link_public(issued.link, site)
    return IssuedShareLinkPublic(**public.model_dump(), url=url, qr_svg=qr_svg(url))


@router.delete("/share-links/{link_id}", status_code=204, responses=_404)
def revoke_share_link(components: ComponentsDep, _caller: Admin, link_id: RowId) -> Response:
    components.registry.revoke_share_link(link_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
