"""Edge capacity: how many RTSP cameras one edge sustains at 5 detect fps with no skipped frame.

Quiet kitchens with a worker passing now and then (bench/kitchen_streams.py: 640x360 H.264 at
10 fps, as a camera's sub-stream) are served by the real RTSP server on this machine. For each
camera count N the real edge runtime runs in this process, pinned to the given cores:
RtspFrameSource per camera, the shared detector through the DetectionScheduler (--workers
instances of the model splitting --threads), motion gating and regions, the rules. After a
warm-up it is measured over a window. N is sustained when no camera skipped a due frame for lack
of CPU (reason "busy": lost at the source or replaced in the detector's slot), every camera kept
its stream's rate, and every camera was sampled at its 5 fps. The capacity is the largest N of
the series before the first N that is not sustained.

The baseline, run first in the same process, is the skeleton's behaviour on the first count of
cameras: every sampled frame detected on the whole frame (no motion gating); the CPU per camera
of both at that count is printed with their ratio. CPU per camera is the process's CPU time
over wall time over N (cores).

    python -m bench.edge_capacity [--counts 4,8,12,16,20,24,28,32] [--window-s 20]
                                  [--cores 2] [--threads 2] [--workers 2] [--model PATH]
                                  [--no-baseline]
"""

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported

import argparse
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.kitchen_streams import (
    KITCHEN_MODEL,
    NullPublisher,
    default_model,
    kitchen_videos,
    pin_to_cores,
    rss_mib,
)
from bench.results import RESULTS_PATH, record
from brightkitchen.services.rtsp import RtspServer
from contracts import ViolationKind
from detector.onnx import OnnxDetector
from edge.config import EdgeConfig
from edge.metrics import HistogramSnapshot
from edge.motion import MotionConfig
from edge.regions import RegionConfig
from edge.rules import LabelInZoneRule
from edge.scheduler import SchedulerConfig
from edge.worker import EdgeWorker
from streams.frame import FrameSource
from streams.rtsp import RtspFrameSource

DETECT_FPS = 5.0
STREAM_FPS = 10.0
_RATE_TOLERANCE = 0.9  # of the stream's and the sampling's nominal rates
_VIDEOS = 4


@dataclass(frozen=True, slots=True)
class Run:
    cameras: int
    gated: bool
    wall_s: float
    cpu_s: float
    skipped_busy: int
    slowest_read_fps: float
    slowest_sampled_fps: float
    detector_runs_per_s: float
    inferences_per_s: float
    mean_latency_ms: float
    mean_wait_ms: float
    long_waits: int  # frames that waited more than 250 ms for the detector
    rss_mib: float
    rss_before_mib: float

    @property
    def cpu_per_camera(self) -> float:
        """Cores used per camera."""
        return self.cpu_s / self.wall_s / self.cameras

    @property
    def sustained(self) -> bool:
        return (
            self.skipped_busy == 0
            and self.slowest_read_fps >= STREAM_FPS * _RATE_TOLERANCE
            and self.slowest_sampled_fps >= DETECT_FPS * _RATE_TOLERANCE
        )

    @property
    def rss_growth_per_camera_mib(self) -> float:
        """RSS growth in this run over its cameras (low: memory freed by earlier runs is reused)."""
        return (self.rss_mib - self.rss_before_mib) / self.cameras

    def line(self) -> str:
        verdict = "sustained" if self.sustained else "NOT sustained"
        return (
            f"{self.cameras:3d} cameras {'gated' if self.gated else 'every frame':11s} "
            f"cpu/camera {self.cpu_per_camera * 100:5.1f}% of a core  "
            f"skipped(busy) {self.skipped_busy:4d}  slowest read {self.slowest_read_fps:4.1f} fps  "
            f"slowest sampled {self.slowest_sampled_fps:3.1f} fps  "
            f"detector {self.detector_runs_per_s:5.1f} frames/s "
            f"({self.inferences_per_s:5.1f} runs/s, {self.mean_latency_ms:5.1f} ms, waited "
            f"{self.mean_wait_ms:5.1f} ms, {self.long_waits} over 250 ms)  "
            f"rss {self.rss_mib:6.1f} MiB  {verdict}"
        )


def measure(
    *,
    urls: Sequence[str],
    model: Path,
    threads: int,
    workers: int,
    gated: bool,
    warmup_s: float,
    window_s: float,
) -> Run:
    config = EdgeConfig.model_validate(
        {
            "site": "bench",
            "edge": "bench",
            "cameras": [
                {"id": f"cam-{n:02d}", "url": url, "detect_fps": DETECT_FPS}
                for n, url in enumerate(urls, start=1)
            ],
            "model": {"path": str(model), "threads": threads},
            "mqtt": {"host": "127.0.0.1"},
            "outbox": {"path": "unused.sqlite"},
            "status_interval_s": 3600,
        }
    )
    per_worker = SchedulerConfig(workers=workers).threads_per_worker(threads)
    detector, *spares = [OnnxDetector(model, num_threads=per_worker) for _ in range(workers)]
    label = "head_bare" if "head_bare" in detector.class_names else detector.class_names[0]
    rule = LabelInZoneRule(
        rule_id="bench", kind=ViolationKind.NO_HAT, label=label, severity=3, min_duration_s=3.0
    )
    rss_before = rss_mib()
    sources: dict[str, FrameSource] = {
        camera.id: RtspFrameSource(camera.id, camera.url) for camera in config.cameras
    }
    worker = EdgeWorker(
        config,
        sources,
        detector,
        NullPublisher(),
        rules=(rule,),
        spare_detectors=spares,
        motion=MotionConfig() if gated else None,
        regions=RegionConfig(),
    )
    stop = threading.Event()
    runner = threading.Thread(target=worker.run_until, args=(stop,), daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while not all(worker.counters(camera_id).frames > 0 for camera_id in sources):
            if time.monotonic() > deadline:
                raise RuntimeError("not every camera delivered a frame within 60 s")
            time.sleep(0.2)
        time.sleep(warmup_s)
        before = {camera.camera_id: camera for camera in worker.camera_snapshots()}
        cpu_before, wall_before = _cpu_s(), time.monotonic()
        time.sleep(window_s)
        after = {camera.camera_id: camera for camera in worker.camera_snapshots()}
        cpu_s, wall_s = _cpu_s() - cpu_before, time.monotonic() - wall_before
        rss = rss_mib()
    finally:
        stop.set()
        runner.join(60)
    read = [(after[c].frames_read - before[c].frames_read) / wall_s for c in after]
    sampled = [(after[c].frames_processed - before[c].frames_processed) / wall_s for c in after]
    served = sum(after[c].detector_latency.count - before[c].detector_latency.count for c in after)
    latency_s = sum(
        after[c].detector_latency.sum_s - before[c].detector_latency.sum_s for c in after
    )
    wait_s = sum(after[c].detector_wait.sum_s - before[c].detector_wait.sum_s for c in after)
    long_waits = sum(
        _over(after[c].detector_wait, 0.25) - _over(before[c].detector_wait, 0.25) for c in after
    )
    return Run(
        cameras=len(urls),
        gated=gated,
        wall_s=wall_s,
        cpu_s=cpu_s,
        skipped_busy=sum(after[c].skipped_busy - before[c].skipped_busy for c in after),
        slowest_read_fps=min(read),
        slowest_sampled_fps=min(sampled),
        detector_runs_per_s=served / wall_s,
        inferences_per_s=sum(after[c].inferences - before[c].inferences for c in after) / wall_s,
        mean_latency_ms=latency_s / served * 1000 if served else 0.0,
        mean_wait_ms=wait_s / served * 1000 if served else 0.0,
        long_waits=long_waits,
        rss_mib=rss,
        rss_before_mib=rss_before,
    )


def rss_slope_mib(runs: Sequence[Run]) -> float:
    """RSS per added camera: the least-squares slope of RSS over the camera counts run."""
    if len(runs) < 2:
        return runs[0].rss_growth_per_camera_mib if runs else 0.0
    mean_n = sum(run.cameras for run in runs) / len(runs)
    mean_rss = sum(run.rss_mib for run in runs) / len(runs)
    covariance = sum((run.cameras - mean_n) * (run.rss_mib - mean_rss) for run in runs)
    variance = sum((run.cameras - mean_n) ** 2 for run in runs)
    return covariance / variance


def _over(histogram: HistogramSnapshot, bound_s: float) -> int:
    """Observations above bound_s (bound_s must be one of the histogram's bounds)."""
    position = histogram.upper_bounds_s.index(bound_s)
    return histogram.count - histogram.cumulative_counts[position]


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edge_capacity", description=__doc__)
    parser.add_argument("--counts", default="4,8,12,16,20,24,28,32", help="camera counts to try")
    parser.add_argument("--window-s", type=float, default=20.0, help="measurement window")
    parser.add_argument("--warmup-s", type=float, default=5.0, help="after every camera is up")
    parser.add_argument("--cores", type=int, default=2, help="CPUs the edge may use")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads in all")
    parser.add_argument(
        "--workers", type=int, default=SchedulerConfig().workers, help="model instances"
    )
    parser.add_argument("--model", type=Path, default=None, help="default: kitchen, else marker")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the every-frame baseline run"
    )
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="JSON to merge into")
    args = parser.parse_args(argv)
    counts = sorted({int(count) for count in args.counts.split(",") if count.strip()})
    if not counts or counts[0] < 1:
        parser.error("--counts must be positive camera counts, e.g. 4,8,16")
    model, which = (args.model, str(args.model)) if args.model else default_model()
    videos = kitchen_videos(_VIDEOS)
    mounts = {f"cam{n:02d}": videos[n % _VIDEOS] for n in range(counts[-1])}
    workdir = videos[0].parent / "rtsp"
    server = RtspServer(workdir, mounts)
    server.start(timeout_s=180)  # it reads every file into memory first
    try:
        # the RTSP server is the cameras, not the edge: only the edge is pinned
        cores = pin_to_cores(args.cores)
        urls = [server.url(mount) for mount in mounts]
        print(f"model: {which}")
        print(
            f"edge pinned to CPUs {cores}; {len(videos)} generated quiet-kitchen streams "
            f"({videos[0].parent}), 640x360 H.264 at {STREAM_FPS:g} fps over RTSP; "
            f"detect fps {DETECT_FPS:g}; {args.workers} detector instance(s) sharing "
            f"{args.threads} onnxruntime threads; window {args.window_s:g} s after "
            f"{args.warmup_s:g} s"
        )
        baseline: Run | None = None
        if not args.no_baseline:
            baseline = measure(
                urls=urls[: counts[0]],
                model=model,
                threads=args.threads,
                workers=args.workers,
                gated=False,
                warmup_s=args.warmup_s,
                window_s=args.window_s,
            )
            print("baseline " + baseline.line())
        runs: list[Run] = []
        for count in counts:
            run = measure(
                urls=urls[:count],
                model=model,
                threads=args.threads,
                workers=args.workers,
                gated=True,
                warmup_s=args.warmup_s,
                window_s=args.window_s,
            )
            print("         " + run.line(), flush=True)
            runs.append(run)
            if not run.sustained:
                break
    finally:
        server.stop()
    rss_per_camera = rss_slope_mib(runs)
    sustained = [run for run in runs if run.sustained]
    capacity = sustained[-1].cameras if sustained else 0
    best = sustained[-1] if sustained else runs[0]
    at_least = "at least " if runs[-1].sustained else ""  # every count tried was sustained
    print(
        f"capacity: {at_least}{capacity} cameras at {DETECT_FPS:g} detect fps with no skipped "
        f"frame on {args.cores} cores (target >= 16: {_verdict(capacity >= 16)}); CPU per camera "
        f"{best.cpu_per_camera * 100:.1f}% of a core; RSS per camera {rss_per_camera:.1f} MiB "
        "(slope of RSS over the runs)"
    )
    figures = {
        "edge_capacity_cameras": float(capacity),
        "edge_capacity_cpu_per_camera_cores": best.cpu_per_camera,
        "edge_capacity_rss_per_camera_mib": rss_per_camera,
        "edge_capacity_cores": float(args.cores),
        "edge_capacity_is_lower_bound": float(runs[-1].sustained),
        "edge_capacity_model_is_kitchen": float(model.resolve() == KITCHEN_MODEL.resolve()),
    }
    if baseline is not None:
        gated = runs[0]  # the same cameras
        ratio = gated.cpu_per_camera / baseline.cpu_per_camera
        print(
            f"CPU per camera at {gated.cameras} cameras, motion-gated / every sampled frame "
            f"detected: {gated.cpu_per_camera * 100:.1f}% / "
            f"{baseline.cpu_per_camera * 100:.1f}% of a core = ratio {ratio:.2f}"
        )
        figures["edge_capacity_baseline_cpu_per_camera_cores"] = baseline.cpu_per_camera
        figures["edge_capacity_gated_vs_every_frame_cpu_ratio"] = ratio
    record(figures, args.results)
    print(f"figures merged into {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
