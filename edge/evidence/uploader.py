"""EvidenceUploader: a background thread sending pending clips and snapshots to the API.

PUT /api/v1/edge/violations/{id}/{clip|snapshot} with the edge's bearer token and the body's
X-Content-SHA256. Answers:
- 200 / 201: acknowledged; the store may delete the file later when it needs room.
- 404: the violation has not reached the API yet (it travels by MQTT): retried with a growing,
  jittered delay until not_found_retry_s after the first 404, then parked.
- 409 / 413 / 415 / 422 and other 4xx: permanent; logged, parked (kept on disk), counted.
- no answer, 5xx, 408, 429, 401, 403: the API (or the token) is not usable now: the whole
  uploader pauses with exponential, jittered, capped backoff and tries the same item again.
"""

import hashlib
import logging
import random
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import httpx

from edge.evidence.config import UploadConfig
from edge.evidence.errors import StoreError
from edge.evidence.items import EvidenceItem
from edge.evidence.store import EvidenceStore

logger = logging.getLogger(__name__)

ACCEPTED = frozenset({200, 201})
_RETRY_LATER = frozenset({401, 403, 408, 425, 429})


class Outcome(StrEnum):
    ACKED = "acked"
    NOT_YET = "not_yet"  # 404 within not_found_retry_s
    PARKED = "parked"
    UNAVAILABLE = "unavailable"  # no usable answer: pause everything


@dataclass(frozen=True, slots=True)
class UploadCounters:
    uploaded: int = 0  # acknowledged items
    not_found: int = 0  # 404 answers
    parked: int = 0  # items given up on (kept on disk)
    unavailable: int = 0  # attempts without a usable answer


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_api_client(config: UploadConfig) -> httpx.Client:
    """An httpx client for the central API with the edge's bearer token (also for previews)."""
    verify: ssl.SSLContext | bool = True
    if config.ca_file is not None:
        verify = ssl.create_default_context(cafile=str(config.ca_file))
    return httpx.Client(
        base_url=config.base_url,
        headers={"Authorization": f"Bearer {config.token.get_secret_value()}"},
        timeout=config.timeout_s,
        verify=verify,
    )


def backoff_s(failures: int, *, initial_s: float, max_s: float, rng: random.Random) -> float:
    """Delay after `failures` consecutive failures: doubling from initial_s, capped at max_s,
    with "equal jitter" (between half and all of it) so edges do not retry in lockstep."""
    delay = min(max_s, initial_s * 2.0 ** max(0, failures - 1))
    return delay / 2.0 + rng.uniform(0.0, delay / 2.0)


class EvidenceUploader:
    def __init__(
        self,
        store: EvidenceStore,
        client: httpx.Client,
        *,
        retry_initial_s: float = 1.0,
        retry_max_s: float = 300.0,
        not_found_retry_s: float = 900.0,
        idle_poll_s: float = 30.0,
        batch_size: int = 16,
        clock: Callable[[], datetime] = _utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._not_found_retry = timedelta(seconds=not_found_retry_s)
        self._idle_poll_s = idle_poll_s
        self._batch_size = batch_size
        self._clock = clock
        self._rng = rng or random.Random()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._counters = UploadCounters()
        self._failures = 0  # consecutive attempts without a usable answer
        self._thread: threading.Thread | None = None
        store.add_listener(self.wake)

    @classmethod
    def from_config(
        cls, store: EvidenceStore, config: UploadConfig, client: httpx.Client | None = None
    ) -> "EvidenceUploader":
        return cls(
            store,
            client or build_api_client(config),
            retry_initial_s=config.retry_initial_s,
            retry_max_s=config.retry_max_s,
            not_found_retry_s=config.not_found_retry_s,
        )

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the uploader is already started")
        self._thread = threading.Thread(target=self._run, name="evidence-uploader", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the thread (an upload in flight finishes or times out first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            if self._thread.is_alive():
                logger.warning("evidence uploader did not stop timeout_s=%.1f", timeout_s)

    def wake(self) -> None:
        """Look for due items now (the store calls this after each put)."""
        self._wake.set()

    def depth(self) -> int:
        """Items waiting for upload (the upload queue depth metric)."""
        return self._store.pending_count()

    def counters(self) -> UploadCounters:
        with self._lock:
            return self._counters

    def _count(self, **increments: int) -> None:
        with self._lock:
            current = self._counters
            self._counters = replace(
                current,
                **{name: getattr(current, name) + value for name, value in increments.items()},
            )

    def run_once(self) -> float | None:
        """Try every due item once; return seconds to wait before the next try (None: idle)."""
        while not self._stop.is_set():
            items = self._store.due(self._batch_size)
            if not items:
                break
            for item in items:
                if self._stop.is_set():
                    return None
                if self.upload(item) is Outcome.UNAVAILABLE:
                    return backoff_s(
                        self._failures,
                        initial_s=self._retry_initial_s,
                        max_s=self._retry_max_s,
                        rng=self._rng,
                    )
        next_at = self._store.next_attempt_at()
        if next_at is None:
            return None
        return max(0.0, (next_at - self._clock()).total_seconds())

    def _run(self) -> None:
        logger.info("evidence uploader started pending=%d", self.depth())
        while not self._stop.is_set():
            self._wake.clear()
            try:
                wait_s = self.run_once()
            except StoreError:
                logger.exception("evidence uploader cannot use the store")
                wait_s = self._retry_max_s
            if wait_s is None or wait_s > self._idle_poll_s:
                wait_s = self._idle_poll_s
            if self._failures:
                self._stop.wait(wait_s)  # paused: only a stop ends the pause early
            else:
                self._wake.wait(wait_s)
        logger.info("evidence uploader stopped pending=%d", self.depth())

    def upload(self, item: EvidenceItem) -> Outcome:
        """One attempt for one item; its state in the store is updated to match the outcome."""
        try:
            data = self._store.read(item)
        except StoreError as err:
            return self._park(item, f"cannot read the file: {err}")
        if hashlib.sha256(data).hexdigest() != item.sha256:
            return self._park(item, "the file changed on disk since it was stored")
        url = f"/api/v1/edge/violations/{item.violation_id}/{item.kind.value}"
        headers = {"Content-Type": item.kind.content_type, "X-Content-SHA256": item.sha256}
        try:
            response = self._client.put(url, content=data, headers=headers)
        except httpx.HTTPError as err:
            return self._unavailable(item, f"{type(err).__name__}: {err}")
        status = response.status_code
        if status in ACCEPTED:
            self._store.mark_acked(item.seq)
            self._count(uploaded=1)
            self._reachable()
            logger.info(
                "evidence uploaded id=%s kind=%s status=%d size_bytes=%d",
                item.violation_id,
                item.kind.value,
                status,
                item.size_bytes,
            )
            return Outcome.ACKED
        if status == 404:
            self._reachable()
            return self._not_yet(item)
        if status >= 500 or status in _RETRY_LATER:
            return self._unavailable(item, f"HTTP {status}")
        self._reachable()
        return self._park(item, f"HTTP {status}: {response.text[:200]}")

    def _not_yet(self, item: EvidenceItem) -> Outcome:
        now = self._clock()
        since = item.not_found_since or now
        self._count(not_found=1)
        if now - since >= self._not_found_retry:
            return self._park(
                item,
                f"HTTP 404 for {self._not_found_retry.total_seconds():.0f}s: unknown violation",
            )
        delay_s = backoff_s(
            item.attempts + 1,
            initial_s=self._retry_initial_s,
            max_s=self._retry_max_s,
            rng=self._rng,
        )
        self._store.mark_retry(
            item.seq,
            next_attempt_at=now + timedelta(seconds=delay_s),
            error="HTTP 404: violation not known to the API yet",
            not_found_since=since,
        )
        logger.debug(
            "evidence not yet wanted id=%s kind=%s retry_in_s=%.1f",
            item.violation_id,
            item.kind.value,
            delay_s,
        )
        return Outcome.NOT_YET

    def _unavailable(self, item: EvidenceItem, reason: str) -> Outcome:
        self._failures += 1
        self._count(unavailable=1)
        # due again at once: the pause is the uploader's, so the API's return is found quickly
        self._store.mark_retry(
            item.seq,
            next_attempt_at=self._clock(),
            error=reason,
            not_found_since=item.not_found_since,
        )
        if self._failures == 1:
            logger.warning(
                "evidence upload failed, backing off id=%s kind=%s reason=%s",
                item.violation_id,
                item.kind.value,
                reason,
            )
        return Outcome.UNAVAILABLE

    def _reachable(self) -> None:
        if self._failures:
            logger.info("evidence uploads resumed after failures=%d", self._failures)
            self._failures = 0

    def _park(self, item: EvidenceItem, reason: str) -> Outcome:
        self._store.mark_parked(item.seq, reason)
        self._count(parked=1)
        logger.error(
            "evidence parked id=%s kind=%s reason=%s", item.violation_id, item.kind.value, reason
        )
        return Outcome.PARKED
