"""The one authorization layer: resolve the caller into a Principal, then `Allow` roles per route.

Every route declares exactly one `Allow` (or `Allow.public()`), which a test checks by walking
`app.routes`. Objects of a site the caller may not see answer 404, exactly like missing ones.
"""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, HTTPBearer

from api.credentials import EDGE_TOKEN_PREFIX, tokens_equal
from api.deps import Components, ComponentsDep
from api.errors import NotFoundError
from api.principal import Credential, Principal, Role

SESSION_COOKIE = "bk_session"
SHARE_COOKIE = "bk_share"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declared for the OpenAPI document; the checks themselves are in resolve_principal.
_bearer = HTTPBearer(
    auto_error=False, description="API_ACCESS_TOKEN (operator) or an edge device's token"
)
_session_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="set by /login")


def _operator(credential: Credential, csrf_token: str | None = None) -> Principal:
    return Principal(
        role=Role.ADMIN,
        subject="operator",
        display_name="operator",
        credential=credential,
        sites=None,
        csrf_token=csrf_token,
    )


def _user_principal(components: Components, user_id: int, csrf_token: str) -> Principal | None:
    try:
        user = components.registry.user(user_id)
    except NotFoundError:
        return None
    if user.disabled:
        return None
    role = Role(user.role)
    sites: frozenset[str] | None = None
    if role is Role.SUPERVISOR and user.region_id is not None:
        sites = components.registry.site_codes_of_region(user.region_id)
    elif role is Role.STAFF:
        code = components.registry.site_code(user.site_id)
        sites = frozenset() if code is None else frozenset({code})
    return Principal(
        role=role,
        subject=f"user:{user.username}",
        display_name=user.display_name,
        credential=Credential.SESSION,
        sites=sites,
        user_id=user.id,
        region_id=user.region_id,
        csrf_token=csrf_token,
    )


def resolve_principal(request: Request, components: Components) -> Principal | None:
    """Who the request comes from, or None; a bearer token wins over cookies."""
    now = components.clock()
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        token = credentials.strip()
        operator_token = components.settings.access_token
        if operator_token is not None and tokens_equal(token, operator_token.get_secret_value()):
            return _operator(Credential.OPERATOR_TOKEN)
        if token.startswith(EDGE_TOKEN_PREFIX):
            device = components.registry.device_by_token(token)
            if device is not None:
                return Principal(
                    role=Role.EDGE,
                    subject=f"edge:{device.site}/{device.edge}",
                    display_name=device.edge,
                    credential=Credential.EDGE_TOKEN,
                    sites=frozenset({device.site}),
                    edge=device.edge,
                )
        return None  # a wrong bearer token is not rescued by a cookie
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        active = components.sessions.resolve(session_token, now=now)
        if active is not None:
            if active.user_id is None:
                if components.settings.access_token is None:
                    return None  # the operator token was switched off since
                return _operator(Credential.SESSION, active.csrf_token)
            return _user_principal(components, active.user_id, active.csrf_token)
    share_token = request.cookies.get(SHARE_COOKIE)
    if share_token:
        link = components.registry.share_link_by_token(share_token, now=now)
        if link is not None:
            return Principal(
                role=Role.PARENT,
                subject=f"share:{link.link_id}",
                display_name=link.label,
                credential=Credential.SHARE_LINK,
                sites=frozenset({link.site}),
                share_link_id=link.link_id,
            )
    return None


def current_principal(
    request: Request,
    components: ComponentsDep,
    _bearer_credentials: Annotated[object, Depends(_bearer)],
    _session: Annotated[object, Depends(_session_cookie)],
) -> Principal | None:
    # a plain def: FastAPI runs it in its thread pool, so the look-ups never block the loop
    return resolve_principal(request, components)


PrincipalDep = Annotated[Principal | None, Depends(current_principal)]


async def _csrf_token_sent(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        field = (await request.form()).get(CSRF_FIELD)
        return field if isinstance(field, str) else None
    return None


class Allow:
    """Route guard: 401 without credentials, 403 for another role, CSRF for cookie sessions.

    `pages=True` sends an anonymous browser to the login page instead of a 401.
    """

    def __init__(self, *roles: Role, pages: bool = False) -> None:
        if not roles:
            raise ValueError("Allow needs at least one role (Public() for an open route)")
        self.roles = frozenset(roles)
        self.pages = pages

    def __repr__(self) -> str:
        return f"Allow({','.join(sorted(self.roles))})"

    async def __call__(self, request: Request, principal: PrincipalDep) -> Principal:
        if principal is None:
            if self.pages:
                raise HTTPException(
                    status.HTTP_303_SEE_OTHER, detail="log in", headers={"Location": "/login"}
                )
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="not signed in: log in, or send Authorization: Bearer <token>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if principal.role not in self.roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail=f"not allowed for the role {principal.role}"
            )
        if principal.credential is Credential.SESSION and request.method not in _SAFE_METHODS:
            sent = await _csrf_token_sent(request)
            expected = principal.csrf_token or ""
            if sent is None or not expected or not tokens_equal(sent, expected):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    detail=f"CSRF check failed: send the page's token as {CSRF_HEADER}",
                )
        return principal


class Public:
    """Marks a route open to anyone (health, login, share links); the caller may still be known."""

    def __repr__(self) -> str:
        return "Public()"

    async def __call__(self, principal: PrincipalDep) -> Principal | None:
        return principal


STAFF_AND_UP = (Role.ADMIN, Role.SUPERVISOR, Role.STAFF)
Reader = Annotated[Principal, Depends(Allow(*STAFF_AND_UP))]
Admin = Annotated[Principal, Depends(Allow(Role.ADMIN))]
Supervisor = Annotated[Principal, Depends(Allow(Role.SUPERVISOR))]
Staff = Annotated[Principal, Depends(Allow(Role.STAFF))]
Edge = Annotated[Principal, Depends(Allow(Role.EDGE))]
Anyone = Annotated[Principal | None, Depends(Public())]


def visible_site(principal: Principal, site: str) -> str:
    """`site` if the caller may see it; NotFoundError otherwise (never revealing it exists)."""
    if not principal.sees_site(site):
        raise NotFoundError(f"site {site} not found")
    return site
