"""What routes depend on: the service's components, built once in the app's lifespan."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.templating import Jinja2Templates

from api.cases import CaseStore
from api.clock import Clock
from api.evidence import EvidenceStore
from api.ingest import IngestCounters, MqttIngest
from api.live import LiveHub
from api.previews import PreviewHub
from api.registry import RegistryStore
from api.sessions import LoginRateLimiter, SessionStore
from api.settings import ApiSettings
from api.store import ViolationStore


@dataclass(frozen=True, slots=True)
class Components:
    """Everything a request may use; one instance per app, on `app.state.components`."""

    settings: ApiSettings
    clock: Clock
    store: ViolationStore
    cases: CaseStore
    registry: RegistryStore
    sessions: SessionStore
    login_limiter: LoginRateLimiter
    evidence: EvidenceStore
    hub: LiveHub
    previews: PreviewHub
    counters: IngestCounters
    ingest: MqttIngest | None  # None when API_INGEST_ENABLED is false
    templates: Jinja2Templates


async def get_components(request: Request) -> Components:
    components = getattr(request.app.state, "components", None)
    if not isinstance(components, Components):
        raise RuntimeError("the app's lifespan has not run: use create_app() and run its lifespan")
    return components


ComponentsDep = Annotated[Components, Depends(get_components)]
