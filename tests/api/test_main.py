"""`python -m api` as a process: start-up errors, serving, no token in logs, stop on signals."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from brightkitchen.services.ports import free_port, wait_for_port
from tests.fixtures.api import ACCESS_TOKEN, AUTH

pytestmark = pytest.mark.integration


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("API_")}
    environment.update(
        {
            "API_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'bk.db'}",
            "API_STORAGE_DIR": str(tmp_path / "var" / "evidence"),
            "API_INGEST_ENABLED": "false",
            **extra,
        }
    )
    return environment


def test_it_refuses_to_start_with_a_short_operator_token_naming_it(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api", "--port", str(free_port())],
        env=_environment(tmp_path, API_ACCESS_TOKEN="too-short"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "API_ACCESS_TOKEN: Value should have at least 16" in result.stderr
    assert "too-short" not in result.stderr


def test_it_exits_non_zero_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    unreachable = f"postgresql+psycopg://nobody:db-secret@127.0.0.1:{free_port()}/bk"
    result = subprocess.run(
        [sys.executable, "-m", "api", "--port", str(free_port())],
        env=_environment(tmp_path, API_ACCESS_TOKEN=ACCESS_TOKEN, API_DATABASE_URL=unreachable),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot open the database postgresql+psycopg://nobody:***@127.0.0.1" in result.stderr
    assert "db-secret" not in result.stderr


@pytest.fixture
def api_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)],
        env=_environment(tmp_path, API_ACCESS_TOKEN=ACCESS_TOKEN),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, timeout_s=60)
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_it_serves_and_stops_on_a_signal_with_a_stream_open(
    api_process: tuple[subprocess.Popen[str], int], tmp_path: Path, stop_signal: signal.Signals
) -> None:
    process, port = api_process
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
        assert http.get("/healthz").json()["status"] == "ok"
        login = http.get(f"/login?token={ACCESS_TOKEN}", follow_redirects=False)
        assert login.status_code == 303
        timeout = httpx.Timeout(10.0, read=60.0)
        with http.stream("GET", "/api/v1/live", headers=AUTH, timeout=timeout) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "retry: 3000"
            process.send_signal(stop_signal)
            assert list(lines) == [""]  # the server ended the stream
    assert process.wait(timeout=60) == 0
    assert process.stdout is not None
    output = process.stdout.read()
    assert "GET /login?token=<redacted> HTTP/1.1" in output  # the access log line, token blanked
    assert ACCESS_TOKEN not in output
    assert "timeout graceful shutdown exceeded" not in output
    assert (tmp_path / "var" / "bk.db").exists()  # the SQLite directory was created
