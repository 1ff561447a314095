"""Rendering pages: the templates, the caller's language, security headers on every page."""

from collections.abc import Mapping
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from api.deps import Components
from api.kinds import KIND_LABELS, kind_label
from api.principal import Principal
from api.web.i18n import LANG_COOKIE, MESSAGES, Lang, translator

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"

# Pages load nothing from elsewhere: no CDN, no external fonts, no inline script.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=WEB_DIR / "templates")
    templates.env.globals["kind_label"] = kind_label
    return templates


def request_lang(request: Request) -> Lang:
    wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return Lang.EN if wanted == "en" else Lang.ZH


def render(
    request: Request,
    components: Components,
    template: str,
    context: Mapping[str, object],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    lang = request_lang(request)
    principal = context.get("principal")
    csrf = principal.csrf_token if isinstance(principal, Principal) else None
    labels = {kind.value: {"zh": zh, "en": en} for kind, (zh, en) in KIND_LABELS.items()}
    t = translator(lang)
    response = components.templates.TemplateResponse(
        request,
        template,
        {
            **context,
            "lang": lang.value,
            "t": t,
            "messages": {key: t(key) for key in MESSAGES},
            "csrf_token": csrf or "",
            "kind_labels": labels,
        },
        status_code=status_code,
        headers=PAGE_HEADERS,
    )
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang.value, max_age=365 * 86400, samesite="lax")
    return response
