"""Composition root of the central service: `create_app(settings)` and `run_api(host, port)`."""

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from api.cases import CaseStore
from api.clock import Clock, utc_now
from api.credentials import PasswordHashing, WeakPasswordError
from api.db import make_engine
from api.deps import Components
from api.errors import (
    ConflictError,
    EvidenceError,
    InvalidRequestError,
    NotFoundError,
    StorageError,
    TransitionError,
)
from api.evidence import EvidenceStore
from api.ingest import IngestCounters, IngestHandler, MqttIngest
from api.live import LiveHub, violation_end_event, violation_event
from api.migrate import migrate
from api.previews import PreviewHub
from api.principal import Role
from api.registry import RegistryStore
from api.retention import RetentionPolicy, apply_retention
from api.routes import ROUTERS
from api.schemas import ViolationEndPublic, ViolationPublic
from api.server import build_server
from api.sessions import LoginRateLimiter, SessionStore
from api.settings import ApiSettings, describe_settings_error
from api.storage import FilesystemStorage
from api.store import ViolationStore
from api.web import PAGE_ROUTERS
from api.web.render import STATIC_DIR, make_templates
from api.workflow import DeadlinePolicy

logger = logging.getLogger(__name__)

API_VERSION = "1"


def _safe_url(database_url: str) -> str:
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"


def open_database(database_url: str) -> Engine:
    """An engine on `database_url`, migrated to the newest schema; StorageError naming the URL."""
    try:
        engine = make_engine(database_url)
    except ArgumentError as err:
        raise StorageError(f"the database URL is not valid: {err}", transient=False) from err
    try:
        migrate(engine)
    except SQLAlchemyError as err:
        engine.dispose()
        raise StorageError(
            f"cannot open the database {_safe_url(database_url)}: {err}", transient=True
        ) from err
    return engine


def deadline_policy(settings: ApiSettings) -> DeadlinePolicy:
    return DeadlinePolicy(
        tier1=timedelta(hours=settings.deadline_tier1_h),
        tier2=timedelta(hours=settings.deadline_tier2_h),
        tier3=timedelta(hours=settings.deadline_tier3_h),
        yellow_after=timedelta(days=settings.escalation_yellow_after_days),
        red_after=timedelta(days=settings.escalation_red_after_days),
    )


def password_hashing(settings: ApiSettings) -> PasswordHashing:
    return PasswordHashing(
        memory_kib=settings.password_hash_memory_kib, time_cost=settings.password_hash_time_cost
    )


def _bootstrap_admin(settings: ApiSettings, registry: RegistryStore, clock: Clock) -> None:
    username, password = settings.bootstrap_admin_username, settings.bootstrap_admin_password
    if username is None or password is None or registry.user_by_name(username) is not None:
        return
    registry.create_user(username, password.get_secret_value(), Role.ADMIN, now=clock())
    logger.info("bootstrap admin created username=%s", username)


async def _retention_loop(components: Components) -> None:
    settings = components.settings
    policy = RetentionPolicy(
        max_age=timedelta(days=settings.retention_days), quota_bytes=settings.storage_quota_bytes
    )
    while True:
        await asyncio.sleep(settings.retention_interval_s)
        try:
            now = components.clock()
            await asyncio.to_thread(
                apply_retention,
                components.store.database,
                components.evidence.storage,
                policy,
                now=now,
            )
            await asyncio.to_thread(
                components.store.discard_kept_ends, received_before=now - policy.max_age
            )
        except StorageError as err:  # the loop boundary: try again next time
            logger.warning("retention run failed error=%s", err)


def _error_response(status_code: int, err: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(err)}, status_code=status_code)


def _install_error_handlers(app: FastAPI) -> None:
    statuses: dict[type[Exception], int] = {
        NotFoundError: 404,
        ConflictError: 409,
        TransitionError: 409,
        InvalidRequestError: 422,
        WeakPasswordError: 422,
    }
    for error_type, status_code in statuses.items():

        async def handler(
            _request: Request, err: Exception, code: int = status_code
        ) -> JSONResponse:
            return _error_response(code, err)

        app.add_exception_handler(error_type, handler)

    async def evidence_error(_request: Request, err: Exception) -> JSONResponse:
        code = err.status_code if isinstance(err, EvidenceError) else 422
        return _error_response(code, err)

    async def storage_error(_request: Request, err: Exception) -> JSONResponse:
        logger.error("storage unavailable error=%s", err)
        return JSONResponse({"detail": "storage unavailable"}, status_code=503)

    app.add_exception_handler(EvidenceError, evidence_error)
    app.add_exception_handler(StorageError, storage_error)


def create_app(settings: ApiSettings, *, clock: Clock = utc_now) -> FastAPI:
    """The FastAPI app; its lifespan opens the database, starts the ingest and stops both.

    `clock` is the service's "now" (deadlines, escalation, expiry): tests inject their own.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = await asyncio.to_thread(open_database, settings.database_url)
        try:
            deadlines = deadline_policy(settings)
            store = ViolationStore(engine, deadlines=deadlines)
            database = store.database
            registry = RegistryStore(database, password_hashing(settings))
            await asyncio.to_thread(_bootstrap_admin, settings, registry, clock)
            hub = LiveHub(queue_size=settings.live_queue_size)
            hub.bind(asyncio.get_running_loop())
            counters = IngestCounters()

            def announce(violation: ViolationPublic) -> None:
                hub.publish_threadsafe(violation_event(violation))

            def announce_end(end: ViolationEndPublic) -> None:
                hub.publish_threadsafe(violation_end_event(end))

            ingest = None
            if settings.ingest_enabled:
                handler = IngestHandler(
                    store,
                    counters,
                    announce,
                    clock=clock,
                    deadlines=deadlines,
                    on_violation_end=announce_end,
                )
                ingest = MqttIngest(settings.mqtt_options(), handler)
                ingest.start()
            components = Components(
                settings=settings,
                clock=clock,
                store=store,
                cases=CaseStore(database),
                registry=registry,
                sessions=SessionStore(
                    database, max_age=timedelta(seconds=settings.session_max_age_s)
                ),
                login_limiter=LoginRateLimiter(
                    max_failures=settings.login_max_failures,
                    window=timedelta(seconds=settings.login_window_s),
                ),
                evidence=EvidenceStore(database, FilesystemStorage(settings.storage_dir)),
                hub=hub,
                previews=PreviewHub(),
                counters=counters,
                ingest=ingest,
                templates=make_templates(),
            )
            app.state.components = components
            retention = asyncio.create_task(_retention_loop(components), name="retention")
            logger.info(
                "api started database=%s ingest=%s shared_group=%s",
                _safe_url(settings.database_url),
                settings.ingest_enabled,
                settings.mqtt_shared_group,
            )
            try:
                yield
            finally:
                retention.cancel()
                with suppress(asyncio.CancelledError):
                    await retention
                hub.close()
                components.previews.close()
                if ingest is not None:
                    await asyncio.to_thread(ingest.stop)
                logger.info("api stopped")
        finally:
            engine.dispose()

    app = FastAPI(
        title="BrightKitchen central service",
        summary="明厨亮灶: violations from the kitchens' edge workers, reviewed and streamed live.",
        version=API_VERSION,
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN; /openapi.json stays
        redoc_url=None,
    )
    for router in (*ROUTERS, *PAGE_ROUTERS):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_error_handlers(app)
    return app


def run_api(host: str, port: int) -> int:
    """Serve the API with settings from `API_*` variables until SIGINT/SIGTERM; the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = ApiSettings()
    except ValidationError as err:
        for line in describe_settings_error(err):
            logger.error("invalid setting %s", line)
        return 2
    try:  # fail fast, in one line, before serving anything
        open_database(settings.database_url).dispose()
    except StorageError as err:
        logger.error("%s", err)
        return 1
    server = build_server(create_app(settings), host=host, port=port)
    # uvicorn handles SIGINT/SIGTERM, shuts down gracefully, then re-raises the signal to the
    # handler it found; ignoring it there lets a clean shutdown exit with 0 instead of dying of it
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in stop_signals}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 1
