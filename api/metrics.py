"""Prometheus text exposition of the ingest, live stream, preview and storage figures."""

from dataclasses import dataclass

from api.ingest import IngestCounts, Outcome

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_PREFIX = "brightkitchen"


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    counts: IngestCounts
    ingest_connected: bool | None  # None when the ingest is disabled
    storage_bytes: int
    live_subscribers: int
    live_published: int
    live_dropped: int
    preview_viewers: int
    preview_frames: int
    preview_skipped: int


def render_metrics(snapshot: MetricsSnapshot) -> str:
    lines: list[str] = []
    counts = snapshot.counts

    def family(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {_PREFIX}_{name} {help_text}")
        lines.append(f"# TYPE {_PREFIX}_{name} {kind}")
        lines.extend(f"{_PREFIX}_{name}{labels} {value:g}" for labels, value in samples)

    violations = {Outcome.ACCEPTED: "accepted", Outcome.DUPLICATE: "duplicate"}
    family(
        "ingest_violations_total",
        "counter",
        "Violation messages stored (accepted) or already stored (duplicate); rate() is the "
        "ingest rate.",
        [(f'{{outcome="{label}"}}', counts.outcomes[o]) for o, label in violations.items()],
    )
    ends = {
        Outcome.END_APPLIED: "applied",
        Outcome.END_DUPLICATE: "duplicate",
        Outcome.END_PENDING: "pending",
    }
    family(
        "ingest_violation_ends_total",
        "counter",
        "Violation ends applied, already applied (duplicate), or kept until their violation "
        "arrives (pending).",
        [(f'{{outcome="{label}"}}', counts.outcomes[o]) for o, label in ends.items()],
    )
    statuses = {Outcome.STATUS_APPLIED: "applied", Outcome.STATUS_STALE: "stale"}
    family(
        "ingest_statuses_total",
        "counter",
        "Edge status messages applied, or ignored as older than the stored one (stale).",
        [(f'{{outcome="{label}"}}', counts.outcomes[o]) for o, label in statuses.items()],
    )
    family(
        "ingest_rejected_total",
        "counter",
        "MQTT messages rejected, by reason.",
        [(f'{{reason="{reason}"}}', total) for reason, total in sorted(counts.rejected.items())],
    )
    family(
        "ingest_lag_seconds",
        "summary",
        "From a violation's occurred_at on the edge to its storage here.",
        [("_sum", counts.lag_sum_s), ("_count", counts.lag_count)],
    )
    family(
        "ingest_lag_last_seconds",
        "gauge",
        "The lag of the most recently stored violation.",
        [("", counts.lag_last_s)],
    )
    if snapshot.ingest_connected is not None:
        family(
            "ingest_connected",
            "gauge",
            "1 while the ingest is connected and subscribed to the broker.",
            [("", 1.0 if snapshot.ingest_connected else 0.0)],
        )
    family("live_subscribers", "gauge", "Open live streams.", [("", snapshot.live_subscribers)])
    family(
        "live_events_total",
        "counter",
        "Events published to live streams.",
        [("", snapshot.live_published)],
    )
    family(
        "live_dropped_total",
        "counter",
        "Live events dropped for subscribers whose queue was full.",
        [("", snapshot.live_dropped)],
    )
    family(
        "live_viewers",
        "gauge",
        "Open MJPEG camera previews.",
        [("", snapshot.preview_viewers)],
    )
    family(
        "preview_frames_total",
        "counter",
        "Preview frames received from the edges.",
        [("", snapshot.preview_frames)],
    )
    family(
        "preview_frames_skipped_total",
        "counter",
        "Preview frames slow viewers skipped (a newer one replaced them).",
        [("", snapshot.preview_skipped)],
    )
    family(
        "storage_used_bytes",
        "gauge",
        "Bytes of evidence stored (clips, snapshots, photos).",
        [("", snapshot.storage_bytes)],
    )
    return "\n".join(lines) + "\n"
