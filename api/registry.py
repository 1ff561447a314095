"""RegistryStore: regions, sites, cameras, zones, users, edge devices and parent share links."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from api.credentials import (
    EDGE_TOKEN_PREFIX,
    PasswordHashing,
    mosquitto_password_hash,
    new_token,
    token_hash,
)
from api.db import Database
from api.errors import InvalidRequestError, NotFoundError
from api.models import (
    AreaType,
    CameraRow,
    EdgeDeviceRow,
    PolygonJson,
    RegionRow,
    ShareLinkRow,
    SiteRow,
    UserRow,
    ZoneRow,
)
from api.principal import Role


@dataclass(frozen=True, slots=True)
class IssuedDevice:
    """A new edge device and its secrets, shown once: only their hashes are kept."""

    device: EdgeDeviceRow
    site: str
    http_token: str
    mqtt_username: str
    mqtt_password: str


@dataclass(frozen=True, slots=True)
class IssuedShareLink:
    link: ShareLinkRow
    site: str
    token: str


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    device_id: int
    site: str
    edge: str


@dataclass(frozen=True, slots=True)
class ShareLinkIdentity:
    link_id: int
    site: str
    label: str
    expires_at: datetime


def mqtt_username(site: str, edge: str) -> str:
    """The broker user of an edge; '.' never occurs in an identifier, so it cannot collide."""
    return f"{site}.{edge}"


class RegistryStore:
    """What the admins manage, and the look-ups the access layer makes on every request."""

    def __init__(self, database: Database, passwords: PasswordHashing) -> None:
        self._db = database
        self.passwords = passwords

    # --- regions and sites ---------------------------------------------------------------------

    def create_region(self, code: str, name: str) -> RegionRow:
        row = RegionRow(code=code, name=name)
        with self._db.session("create region") as session:
            session.add(row)
            session.commit()
        return row

    def regions(self) -> Sequence[RegionRow]:
        with self._db.session("list regions") as session:
            return tuple(session.scalars(select(RegionRow).order_by(RegionRow.code)))

    def region(self, region_id: int) -> RegionRow:
        with self._db.session("get region") as session:
            row = session.get(RegionRow, region_id)
        if row is None:
            raise NotFoundError(f"region {region_id} not found")
        return row

    def create_site(self, code: str, name: str, region_id: int | None) -> SiteRow:
        row = SiteRow(code=code, name=name, region_id=region_id)
        with self._db.session("create site") as session:
            if region_id is not None and session.get(RegionRow, region_id) is None:
                raise InvalidRequestError(f"region_id: no region {region_id}")
            session.add(row)
            session.commit()
        return row

    def sites(self, visible: frozenset[str] | None = None) -> Sequence[SiteRow]:
        query = select(SiteRow).order_by(SiteRow.code)
        if visible is not None:
            query = query.where(SiteRow.code.in_(visible))
        with self._db.session("list sites") as session:
            return tuple(session.scalars(query))

    def site(self, code: str) -> SiteRow:
        with self._db.session("get site") as session:
            row = session.scalar(select(SiteRow).where(SiteRow.code == code))
        if row is None:
            raise NotFoundError(f"site {code} not found")
        return row

    def site_codes_of_region(self, region_id: int) -> frozenset[str]:
        query = select(SiteRow.code).where(SiteRow.region_id == region_id)
        with self._db.session("sites of region") as session:
            return frozenset(session.scalars(query))

    # --- cameras and zones ----------------------------------------------------------------------

    def create_camera(
        self, site: str, code: str, name: str, area_type: AreaType, *, public: bool
    ) -> CameraRow:
        site_row = self.site(site)
        row = CameraRow(
            site_id=site_row.id, code=code, name=name, area_type=area_type.value, public=public
        )
        with self._db.session("create camera") as session:
            session.add(row)
            session.commit()
        return row

    def update_camera(
        self,
        site: str,
        code: str,
        *,
        name: str | None = None,
        area_type: AreaType | None = None,
        public: bool | None = None,
    ) -> CameraRow:
        row = self.camera(site, code)
        values: dict[str, object] = {}
        if name is not None:
            values["name"] = name
        if area_type is not None:
            values["area_type"] = area_type.value
        if public is not None:
            values["public"] = public
        if values:
            with self._db.session("update camera") as session:
                session.execute(update(CameraRow).where(CameraRow.id == row.id).values(values))
                session.commit()
        return self.camera(site, code)

    def cameras(self, site: str, *, public_only: bool = False) -> Sequence[CameraRow]:
        site_row = self.site(site)
        query = select(CameraRow).where(CameraRow.site_id == site_row.id).order_by(CameraRow.code)
        if public_only:
            query = query.where(CameraRow.public.is_(True))
        with self._db.session("list cameras") as session:
            return tuple(session.scalars(query))

    def camera(self, site: str, code: str) -> CameraRow:
        query = (
            select(CameraRow)
            .join(SiteRow, SiteRow.id == CameraRow.site_id)
            .where(SiteRow.code == site, CameraRow.code == code)
        )
        with self._db.session("get camera") as session:
            row = session.scalar(query)
        if row is None:
            raise NotFoundError(f"camera {code} not found at site {site}")
        return row

    def zones(self, site: str, camera: str) -> Sequence[ZoneRow]:
        camera_row = self.camera(site, camera)
        query = select(ZoneRow).where(ZoneRow.camera_id == camera_row.id).order_by(ZoneRow.code)
        with self._db.session("list zones") as session:
            return tuple(session.scalars(query))

    def replace_zones(
        self, site: str, camera: str, zones: Sequence[tuple[str, str, PolygonJson]]
    ) -> Sequence[ZoneRow]:
        """Make the camera's zones exactly `zones` ((code, name, polygon in 0..1) each)."""
        camera_row = self.camera(site, camera)
        with self._db.session("replace zones") as session:
            session.execute(delete(ZoneRow).where(ZoneRow.camera_id == camera_row.id))
            session.add_all(
                ZoneRow(camera_id=camera_row.id, code=code, name=name, polygon=polygon)
                for code, name, polygon in zones
            )
            session.commit()
        return self.zones(site, camera)

    # --- users ----------------------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        password: str,
        role: Role,
        *,
        now: datetime,
        display_name: str | None = None,
        region_id: int | None = None,
        site: str | None = None,
    ) -> UserRow:
        site_id = None
        if role is Role.SUPERVISOR:
            if region_id is None:
                raise InvalidRequestError("region_id: a supervisor needs a region")
            self.region(region_id)
        elif role is Role.STAFF:
            if site is None:
                raise InvalidRequestError("site: a staff member needs a site")
            site_id = self.site(site).id
        elif role is not Role.ADMIN:
            raise InvalidRequestError(f"role: {role} is not a user role")
        row = UserRow(
            username=username,
            display_name=display_name or username,
            password_hash=self.passwords.hash(password),
            role=role.value,
            region_id=region_id if role is Role.SUPERVISOR else None,
            site_id=site_id,
            created_at=now,
        )
        with self._db.session("create user") as session:
            session.add(row)
            session.commit()
        return row

    def users(self) -> Sequence[UserRow]:
        with self._db.session("list users") as session:
            return tuple(session.scalars(select(UserRow).order_by(UserRow.username)))

    def user(self, user_id: int) -> UserRow:
        with self._db.session("get user") as session:
            row = session.get(UserRow, user_id)
        if row is None:
            raise NotFoundError(f"user {user_id} not found")
        return row

    def user_by_name(self, username: str) -> UserRow | None:
        with self._db.session("find user") as session:
            return session.scalar(select(UserRow).where(UserRow.username == username))

    def set_user_disabled(self, user_id: int, *, disabled: bool) -> UserRow:
        self.user(user_id)
        with self._db.session("disable user") as session:
            session.execute(update(UserRow).where(UserRow.id == user_id).values(disabled=disabled))
            session.commit()
        return self.user(user_id)

    def site_code(self, site_id: int | None) -> str | None:
        if site_id is None:
            return None
        with self._db.session("site code") as session:
            return session.scalar(select(SiteRow.code).where(SiteRow.id == site_id))

    # --- edge devices ---------------------------------------------------------------------------

    def create_device(self, site: str, edge: str, *, now: datetime) -> IssuedDevice:
        site_row = self.site(site)
        http_token = new_token(EDGE_TOKEN_PREFIX)
        mqtt_password = new_token()
        row = EdgeDeviceRow(
            site_id=site_row.id,
            edge=edge,
            token_hash=token_hash(http_token),
            mqtt_password_hash=mosquitto_password_hash(mqtt_password),
            created_at=now,
        )
        with self._db.session("create edge device") as session:
            session.add(row)
            session.commit()
        return IssuedDevice(row, site, http_token, mqtt_username(site, edge), mqtt_password)

    def devices(self) -> Sequence[tuple[EdgeDeviceRow, str]]:
        """Every device with its site code, by site and edge."""
        query = (
            select(EdgeDeviceRow, SiteRow.code)
            .join(SiteRow, SiteRow.id == EdgeDeviceRow.site_id)
            .order_by(SiteRow.code, EdgeDeviceRow.edge)
        )
        with self._db.session("list edge devices") as session:
            return tuple((device, code) for device, code in session.execute(query))

    def delete_device(self, device_id: int) -> None:
        with self._db.session("delete edge device") as session:
            deleted = session.execute(
                delete(EdgeDeviceRow)
                .where(EdgeDeviceRow.id == device_id)
                .returning(EdgeDeviceRow.id)
            ).first()
            session.commit()
        if deleted is None:
            raise NotFoundError(f"edge device {device_id} not found")

    def device_by_token(self, token: str) -> DeviceIdentity | None:
        query = (
            select(EdgeDeviceRow.id, SiteRow.code, EdgeDeviceRow.edge)
            .join(SiteRow, SiteRow.id == EdgeDeviceRow.site_id)
            .where(EdgeDeviceRow.token_hash == token_hash(token), EdgeDeviceRow.disabled.is_(False))
        )
        with self._db.session("find edge device") as session:
            found = session.execute(query).first()
        return None if found is None else DeviceIdentity(found[0], found[1], found[2])

    # --- parent share links ---------------------------------------------------------------------

    def create_share_link(
        self, site: str, label: str, *, now: datetime, valid_for: timedelta
    ) -> IssuedShareLink:
        site_row = self.site(site)
        token = new_token()
        row = ShareLinkRow(
            site_id=site_row.id,
            token_hash=token_hash(token),
            label=label,
            created_at=now,
            expires_at=now + valid_for,
        )
        with self._db.session("create share link") as session:
            session.add(row)
            session.commit()
        return IssuedShareLink(row, site, token)

    def share_links(self) -> Sequence[tuple[ShareLinkRow, str]]:
        query = (
            select(ShareLinkRow, SiteRow.code)
            .join(SiteRow, SiteRow.id == ShareLinkRow.site_id)
            .order_by(SiteRow.code, ShareLinkRow.id)
        )
        with self._db.session("list share links") as session:
            return tuple((link, code) for link, code in session.execute(query))

    def revoke_share_link(self, link_id: int) -> None:
        with self._db.session("revoke share link") as session:
            changed = session.execute(
                update(ShareLinkRow)
                .where(ShareLinkRow.id == link_id)
                .values(revoked=True)
                .returning(ShareLinkRow.id)
            ).first()
            session.commit()
        if changed is None:
            raise NotFoundError(f"share link {link_id} not found")

    def share_link_by_token(self, token: str, *, now: datetime) -> ShareLinkIdentity | None:
        """The link if it exists, is not revoked and has not expired at `now`."""
        query = (
            select(ShareLinkRow, SiteRow.code)
            .join(SiteRow, SiteRow.id == ShareLinkRow.site_id)
            .where(ShareLinkRow.token_hash == token_hash(token), ShareLinkRow.revoked.is_(False))
        )
        with self._db.session("find share link") as session:
            found = session.execute(query).first()
        if found is None or found[0].expires_at <= now:
            return None
        link, site = found
        return ShareLinkIdentity(link.id, site, link.label, link.expires_at)
