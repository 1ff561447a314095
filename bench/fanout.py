"""Live fan-out benchmark: one camera preview, uploaded by its edge, watched by N MJPEG viewers.

The API runs as its own process (`python -m api`), so its CPU time is its own; the viewers are
asyncio streams in this process. Per-frame latency is upload start -> the frame complete at a
viewer; a viewer that falls behind skips frames by design, so the delivered ratio is reported.

    python -m bench.fanout [--viewers 200] [--fps 10] [--seconds 10]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from api.previews import MJPEG_START, split_mjpeg
from bench.alerts import percentile
from bench.results import RESULTS_PATH, record
from brightkitchen.services.ports import free_port

TOKEN = "bench-operator-token-0123456789"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}
FRAME_BYTES = 20_000
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _frames(count: int) -> list[bytes]:
    """Distinct JPEG-looking frames (the API checks the magic bytes, not the picture)."""
    return [
        b"\xff\xd8\xff\xe0" + f"frame-{index:06d}".encode() + bytes(FRAME_BYTES)
        for index in range(count)
    ]


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime + stime


def _start_api(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("API_")}
    environment |= {
        "API_ACCESS_TOKEN": TOKEN,
        "API_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "API_STORAGE_DIR": str(workdir / "evidence"),
        "API_INGEST_ENABLED": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.1)


def _register_camera(base_url: str) -> str:
    """A site with one camera and its edge; the edge's token."""
    with httpx.Client(base_url=base_url, headers=OPERATOR) as http:
        http.post("/api/v1/sites", json={"code": "site-1", "name": "bench"}).raise_for_status()
        http.post(
            "/api/v1/sites/site-1/cameras",
            json={"code": "cam-1", "name": "bench", "area_type": "cooking", "public": True},
        ).raise_for_status()
        issued = http.post("/api/v1/sites/site-1/devices", json={"edge": "edge-1"})
        issued.raise_for_status()
        token: str = issued.json()["http_token"]
        return token


async def _viewer(
    client: httpx.AsyncClient, url: str, index_of: dict[bytes, int], seen: list[tuple[int, float]]
) -> None:
    async with client.stream("GET", url, headers=OPERATOR) as stream:
        buffer = b""
        async for chunk in stream.aiter_bytes():
            buffer += chunk
            if not buffer.startswith(MJPEG_START):
                continue
            frames, rest = split_mjpeg(buffer[len(MJPEG_START) :])
            buffer = MJPEG_START + rest
            now = time.perf_counter()
            seen.extend((index_of[frame], now) for frame in frames if frame in index_of)


async def _until_viewers(client: httpx.AsyncClient, viewers: int) -> None:
    """Wait until the API counts every viewer, so the first frame goes to all of them."""
    deadline = time.monotonic() + 60
    wanted = f"brightkitchen_live_viewers {viewers}"
    while wanted not in (await client.get("/metrics", headers=OPERATOR)).text.splitlines():
        if time.monotonic() > deadline:
            raise TimeoutError(f"fewer than {viewers} viewers connected")
        await asyncio.sleep(0.05)


async def _run(
    base_url: str, edge_token: str, viewers: int, fps: float, seconds: float
) -> tuple[list[float], int, int]:
    frames = _frames(int(fps * seconds))
    index_of = {frame: index for index, frame in enumerate(frames)}
    sent: dict[int, float] = {}
    seen: list[list[tuple[int, float]]] = [[] for _ in range(viewers)]
    limits = httpx.Limits(max_connections=viewers + 10, max_keepalive_connections=viewers + 10)
    timeout = httpx.Timeout(10.0, read=None)
    url = "/api/v1/sites/site-1/cameras/cam-1/live.mjpeg"
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        tasks = [
            asyncio.create_task(_viewer(client, url, index_of, seen[number]))
            for number in range(viewers)
        ]
        await _until_viewers(client, viewers)
        edge = {"Authorization": f"Bearer {edge_token}", "Content-Type": "image/jpeg"}
        start = time.perf_counter()
        for index, frame in enumerate(frames):
            due = start + index / fps
            await asyncio.sleep(max(due - time.perf_counter(), 0))
            sent[index] = time.perf_counter()
            response = await client.put(
                "/api/v1/edge/cameras/cam-1/preview", content=frame, headers=edge
            )
            response.raise_for_status()
        await asyncio.sleep(1.0)  # the last frame's way to every viewer
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [
        (at - sent[index]) * 1000 for viewer in seen for index, at in viewer if index in sent
    ]
    return latencies, sum(len(viewer) for viewer in seen), len(frames) * viewers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--results", type=Path, default=RESULTS_PATH)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bk-bench-fanout-") as workdir:
        process, base_url = _start_api(Path(workdir))
        try:
            edge_token = _register_camera(base_url)
            cpu_before, wall_before = _cpu_s(process.pid), time.perf_counter()
            latencies, delivered, possible = asyncio.run(
                _run(base_url, edge_token, args.viewers, args.fps, args.seconds)
            )
            cpu_percent = (
                100 * (_cpu_s(process.pid) - cpu_before) / (time.perf_counter() - wall_before)
            )
        finally:
            process.terminate()
            process.wait(timeout=30)
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(
        f"{args.viewers} viewers, {args.fps:g} fps of {FRAME_BYTES // 1000} kB frames: "
        f"latency p50 {p50:.1f} ms, p95 {p95:.1f} ms; delivered {delivered}/{possible} "
        f"frames; API process CPU {cpu_percent:.0f}% of one core"
    )
    record(
        {
            "fanout_viewers": args.viewers,
            "fanout_latency_p50_ms": p50,
            "fanout_latency_p95_ms": p95,
            "fanout_delivered_ratio": delivered / possible,
            "fanout_api_cpu_percent": cpu_percent,
        },
        args.results,
    )
    print(f"figures merged into {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
