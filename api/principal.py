"""Principal: who calls (a user, the operator, a parent's link, an edge) and what it may see."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The roles of the issue's table; users are admin, supervisor or staff."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    STAFF = "staff"
    PARENT = "parent"
    EDGE = "edge"


USER_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.STAFF})


class Credential(StrEnum):
    """How the caller proved who it is; only cookies need a CSRF token on unsafe methods."""

    OPERATOR_TOKEN = "operator_token"  # API_ACCESS_TOKEN as a bearer token
    EDGE_TOKEN = "edge_token"  # an edge device's bearer token
    SESSION = "session"  # the bk_session cookie of a signed-in user (or operator)
    SHARE_LINK = "share_link"  # the bk_share cookie a parent's link sets


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller; `sites` None means every site (admins and the operator)."""

    role: Role
    subject: str  # recorded as the actor of review actions: "user:alice", "operator", ...
    display_name: str
    credential: Credential
    sites: frozenset[str] | None
    user_id: int | None = None
    region_id: int | None = None
    edge: str | None = None
    share_link_id: int | None = None
    csrf_token: str | None = None  # the session's, when the credential is a cookie session

    def sees_site(self, site: str) -> bool:
        return self.sites is None or site in self.sites

    @property
    def home_site(self) -> str | None:
        """The one site of a staff member, a parent's link or an edge."""
        if self.role in _ONE_SITE_ROLES and self.sites is not None and len(self.sites) == 1:
            return next(iter(self.sites))
        return None


_ONE_SITE_ROLES = frozenset({Role.STAFF, Role.PARENT, Role.EDGE})
