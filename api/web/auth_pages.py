"""Signing in and out: password login (rate-limited), the operator's token link, share links."""

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.access import SESSION_COOKIE, SHARE_COOKIE, Anyone, Reader
from api.credentials import tokens_equal
from api.deps import Components, ComponentsDep
from api.principal import Role
from api.web.render import render

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
OPERATOR = "operator"


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(
    request: Request,
    components: Components,
    *,
    error: str | None,
    status_code: int,
    retry_after_s: float = 0.0,
) -> Response:
    response = render(
        request,
        components,
        "login.html",
        {"error": error, "principal": None},
        status_code=status_code,
    )
    if retry_after_s:
        response.headers["Retry-After"] = str(int(retry_after_s))
    return response


def _signed_in(request: Request, components: Components, user_id: int | None) -> Response:
    issued = components.sessions.create(user_id, now=components.clock())
    response = RedirectResponse("/", status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=int(components.sessions.max_age.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(SHARE_COOKIE, path="/")
    return response


def _too_many(request: Request, components: Components, retry_after_s: float) -> Response:
    return _login_page(
        request,
        components,
        error="尝试次数过多，请稍后再试 Too many attempts, try again later",
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        retry_after_s=retry_after_s,
    )


def _operator_login(request: Request, components: Components, token: str) -> Response:
    limiter, now, client = components.login_limiter, components.clock(), _client(request)
    wait_s = limiter.retry_after_s(OPERATOR, client, now=now)
    if wait_s:
        return _too_many(request, components, wait_s)
    expected = components.settings.access_token
    if expected is None or not tokens_equal(token, expected.get_secret_value()):
        limiter.record_failure(OPERATOR, client, now=now)
        return _login_page(request, components, error="令牌无效 Invalid token", status_code=401)
    limiter.record_success(OPERATOR, client)
    return _signed_in(request, components, None)


@router.get("/login")
def login_page(
    request: Request, components: ComponentsDep, _caller: Anyone, token: str | None = None
) -> Response:
    """The login form; `/login?token=...` (the demo's link) signs the operator in."""
    if token is not None:
        return _operator_login(request, components, token)
    return _login_page(request, components, error=None, status_code=200)


@router.post("/login")
def login(
    request: Request,
    components: ComponentsDep,
    _caller: Anyone,
    username: Annotated[str | None, Form(max_length=64)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    token: Annotated[str | None, Form(max_length=256)] = None,
) -> Response:
    if token:
        return _operator_login(request, components, token)
    if not username or not password:
        return _login_page(
            request,
            components,
            error="请输入用户名和密码 Enter a username and password",
            status_code=422,
        )
    limiter, now, client = components.login_limiter, components.clock(), _client(request)
    wait_s = limiter.retry_after_s(username, client, now=now)
    if wait_s:
        logger.warning("login throttled username=%s client=%s", username[:64], client)
        return _too_many(request, components, wait_s)
    user = components.registry.user_by_name(username)
    if user is None:
        components.registry.passwords.burn()
        valid = False
    else:
        valid = components.registry.passwords.verify(user.password_hash, password)
    if user is None or not valid or user.disabled:
        limiter.record_failure(username, client, now=now)
        return _login_page(
            request,
            components,
            error="用户名或密码错误 Wrong username or password",
            status_code=status.HTTP_401_UNAUTHORIZED,
        )
    limiter.record_success(username, client)
    logger.info("user signed in username=%s role=%s", user.username, user.role)
    return _signed_in(request, components, user.id)


@router.post("/logout")
def logout(request: Request, components: ComponentsDep, _caller: Reader) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        components.sessions.delete(token)
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/share/{token}")
async def open_share_link(
    request: Request, components: ComponentsDep, _caller: Anyone, token: str
) -> Response:
    """A parent's link or QR code: remembers the link in a cookie and shows the live view."""
    link = await run_in_threadpool(
        components.registry.share_link_by_token, token[:256], now=components.clock()
    )
    if link is None:
        return render(
            request, components, "share_expired.html", {"principal": None}, status_code=404
        )
    response = RedirectResponse("/parent", status_code=status.HTTP_303_SEE_OTHER)
    max_age = int((link.expires_at - components.clock()).total_seconds())
    response.set_cookie(
        SHARE_COOKIE,
        token,
        max_age=max(max_age, 1),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


LANDING = {
    Role.ADMIN: "/supervisor",  # the queue, with the administration one click away
    Role.SUPERVISOR: "/supervisor",
    Role.STAFF: "/staff",
    Role.PARENT: "/parent",
}


@router.get("/")
def index(_caller: Anyone) -> Response:
    """Each role's own page; the login page for strangers (and for edges, which have none)."""
    target = LANDING.get(_caller.role, "/login") if _caller is not None else "/login"
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
