"""HTTP API routers; every route declares who may call it (see api.access)."""

from api.routes import admin, evidence, live, ops, stats, violations

ROUTERS = (
    violations.router,
    evidence.router,
    live.router,
    admin.router,
    stats.router,
    ops.router,
)

__all__ = ["ROUTERS"]
