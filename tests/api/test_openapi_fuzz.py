"""schemathesis against the OpenAPI document: no generated request makes the service fail (5xx).

Requests go to a real uvicorn as the operator (admin scope), or as an edge device for the edge
routes, so they get past authentication and exercise validation and the handlers themselves.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.main import create_app
from api.settings import ApiSettings
from tests.api.world import populate
from tests.fixtures.api import ACCESS_TOKEN, AUTH, ThreadedApi

pytestmark = pytest.mark.integration

_DOCUMENT_SETTINGS = ApiSettings(access_token=ACCESS_TOKEN, ingest_enabled=False)
schema = schemathesis.openapi.from_dict(create_app(_DOCUMENT_SETTINGS).openapi()).exclude(
    path_regex=r"(/live$|/live\.mjpeg$)"  # streams never end by themselves
)


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ThreadedApi, str]]:
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    api_settings = ApiSettings(
        access_token=ACCESS_TOKEN,
        ingest_enabled=False,
        database_url=f"sqlite:///{workdir / 'bk.db'}",
        storage_dir=workdir / "evidence",
        password_hash_memory_kib=8,
        password_hash_time_cost=1,
        clip_max_bytes=65_536,
    )
    with ThreadedApi(api_settings) as api:
        population = populate(api.components, api.components.clock())
        yield api, population.headers["edge"]["Authorization"]


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_service_fail(case: object, fuzz_api: tuple[ThreadedApi, str]) -> None:
    assert isinstance(case, schemathesis.Case)  # its type parameters are schemathesis' own
    api, edge_authorization = fuzz_api
    headers = dict(AUTH)
    if case.path.startswith("/api/v1/edge/"):
        headers["Authorization"] = edge_authorization
    response = case.call(base_url=api.base_url, headers=headers, timeout=30)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
