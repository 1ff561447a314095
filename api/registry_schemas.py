"""Request and response models of the registry: regions, sites, cameras, zones, users, devices."""

from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from api.models import AreaType
from api.principal import Role
from contracts import IDENTIFIER_PATTERN

Code = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Point = Annotated[list[Annotated[float, Field(ge=0.0, le=1.0)]], Field(min_length=2, max_length=2)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class RegionIn(_In):
    code: Code
    name: Name


class RegionPublic(_Out):
    id: int
    code: str
    name: str


class SiteIn(_In):
    code: Code
    name: Name
    region_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class SitePublic(_Out):
    id: int
    code: str
    name: str
    region_id: int | None


class CameraIn(_In):
    code: Code
    name: Name
    area_type: AreaType
    public: bool = Field(default=False, description="shown on the parents' live view")


class CameraPatch(_In):
    name: Name | None = None
    area_type: AreaType | None = None
    public: bool | None = None


class CameraPublic(_Out):
    code: str
    name: str
    area_type: AreaType
    public: bool


class ZoneIn(_In):
    code: Code
    name: Name
    polygon: list[Point] = Field(min_length=3, max_length=64, description="[x, y] in 0..1")


class ZonesIn(_In):
    zones: list[ZoneIn] = Field(max_length=64)

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        codes = [zone.code for zone in self.zones]
        if len(codes) != len(set(codes)):
            raise ValueError("zones: codes must be unique per camera")
        return self


class ZonePublic(_Out):
    code: str
    name: str
    polygon: list[list[float]]


class UserIn(_In):
    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
    password: Annotated[str, Field(min_length=12, max_length=256)]
    role: Role
    display_name: Annotated[str, Field(max_length=200)] | None = None
    region_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    site: Code | None = None


class UserPatch(_In):
    disabled: bool


class UserPublic(_Out):
    id: int
    username: str
    display_name: str
    role: Role
    region_id: int | None
    site: str | None
    disabled: bool


class DeviceIn(_In):
    edge: Code


class DevicePublic(_Out):
    id: int
    site: str
    edge: str
    mqtt_username: str
    created_at: AwareDatetime
    disabled: bool


class IssuedDevicePublic(DevicePublic):
    """Shown once: only hashes are kept."""

    http_token: str
    mqtt_password: str


class ShareLinkIn(_In):
    label: Name
    valid_days: float = Field(default=30.0, gt=0, le=366)


class ShareLinkPublic(_Out):
    id: int
    site: str
    label: str
    created_at: AwareDatetime
    expires_at: AwareDatetime
    revoked: bool


class IssuedShareLinkPublic(ShareLinkPublic):
    """Shown once: the URL carries the token; only its hash is kept."""

    url: str
    qr_svg: str = Field(description="the URL as a QR code, an SVG document")
