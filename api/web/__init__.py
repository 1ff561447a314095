"""Web pages: server-rendered Jinja2 templates with small vanilla scripts, in 中文 and English."""

from api.web import auth_pages, pages

PAGE_ROUTERS = (auth_pages.router, pages.router)

__all__ = ["PAGE_ROUTERS"]
