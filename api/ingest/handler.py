"""IngestHandler: what one MQTT message means: validated, stored once, announced, or rejected.

Messages are dispatched by their topic's channel: violations are stored (and the ends kept for
them applied), violation ends applied to their violation, statuses kept per edge. A channel this
service does not handle is rejected as a bad topic.
"""

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from api.clock import utc_now
from api.errors import StorageError
from api.incidents import EndOutcome, EndResult
from api.schemas import ViolationEndPublic, ViolationPublic
from api.workflow import DeadlinePolicy
from contracts import (
    Channel,
    EdgeStatus,
    PayloadError,
    TopicAddress,
    TopicError,
    ViolationEnd,
    ViolationEvent,
    decode_status,
    decode_violation,
    decode_violation_end,
    parse_topic,
)

logger = logging.getLogger(__name__)

_LOG_FIRST_REJECTIONS = 10  # per reason; after that one line per _LOG_EVERY_REJECTIONS
_LOG_EVERY_REJECTIONS = 1000
_REPR_CHARS = 120


class RejectReason(StrEnum):
    TOPIC = "topic"
    MALFORMED_JSON = "malformed_json"
    SCHEMA = "schema"
    TOPIC_MISMATCH = "topic_mismatch"
    STORAGE = "storage"
    INTERNAL = "internal"


class Outcome(StrEnum):
    ACCEPTED = "accepted"  # a new violation, stored and announced
    DUPLICATE = "duplicate"  # a violation_id already stored (a redelivery)
    END_APPLIED = "end_applied"  # a violation's end, stored and announced
    END_DUPLICATE = "end_duplicate"  # the violation had its end already (a redelivery)
    END_PENDING = "end_pending"  # its violation is not stored yet: kept until it arrives
    STATUS_APPLIED = "status_applied"
    STATUS_STALE = "status_stale"  # older than the stored status of that edge
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class HandleResult:
    outcome: Outcome
    reason: RejectReason | None = None
    ack: bool = True  # False: keep it at the broker, it is redelivered after a reconnect


@dataclass(frozen=True, slots=True)
class IngestCounts:
    outcomes: dict[Outcome, int]
    rejected: dict[RejectReason, int]
    lag_sum_s: float = 0.0
    lag_count: int = 0
    lag_last_s: float = 0.0


class IngestCounters:
    """Totals since start, updated from the MQTT thread and read by /metrics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._outcomes = dict.fromkeys(Outcome, 0)
        self._rejected = dict.fromkeys(RejectReason, 0)
        self._lag_sum_s = 0.0
        self._lag_count = 0
        self._lag_last_s = 0.0

    def observe_lag(self, lag_s: float) -> None:
        """The time from a violation's occurrence on the edge to its storage here."""
        with self._lock:
            self._lag_sum_s += lag_s
            self._lag_count += 1
            self._lag_last_s = lag_s

    def add(self, outcome: Outcome, reason: RejectReason | None = None) -> int:
        """Count one message; return the new total of its reason (or outcome)."""
        with self._lock:
            self._outcomes[outcome] += 1
            if reason is None:
                return self._outcomes[outcome]
            self._rejected[reason] += 1
            return self._rejected[reason]

    def snapshot(self) -> IngestCounts:
        with self._lock:
            return IngestCounts(
                outcomes=dict(self._outcomes),
                rejected=dict(self._rejected),
                lag_sum_s=self._lag_sum_s,
                lag_count=self._lag_count,
                lag_last_s=self._lag_last_s,
            )


class IngestStore(Protocol):
    def insert_batch(self, events: Sequence[tuple[ViolationEvent, datetime]]) -> list[bool]:
        """Per (event, received_at), True when it was new; all in one transaction."""

    def apply_ends(self, ends: Sequence[tuple[ViolationEnd, datetime]]) -> list[EndResult]:
        """Per (end, received_at), whether it was applied, a duplicate, kept or refused."""

    def claim_pending_ends(self, violation_ids: Collection[UUID]) -> list[ViolationEnd]:
        """Apply the ends kept for these stored violations; the ends applied now."""

    def upsert_status(self, status: EdgeStatus, *, received_at: datetime) -> bool: ...


def _short(value: str | bytes) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_CHARS else text[:_REPR_CHARS] + "..."


class IngestHandler:
    """Turn one (topic, payload) into a stored row; never raises, whatever arrives."""

    def __init__(
        self,
        store: IngestStore,
        counters: IngestCounters,
        on_new_violation: Callable[[ViolationPublic], None],
        *,
        clock: Callable[[], datetime] = utc_now,
        deadlines: DeadlinePolicy | None = None,
        on_violation_end: Callable[[ViolationEndPublic], None] | None = None,
    ) -> None:
        self._store = store
        self._counters = counters
        self._on_new_violation = on_new_violation
        self._on_violation_end = on_violation_end
        self._clock = clock
        self._deadlines = deadlines or DeadlinePolicy()

    def handle(self, topic: str, payload: bytes) -> HandleResult:
        return self.handle_batch([(topic, payload)])[0]

    def handle_batch(self, messages: Sequence[tuple[str, bytes]]) -> list[HandleResult]:
        """One result per (topic, payload), in order; the violations go in one transaction.

        A batch's violations are stored before its ends, so an end replayed right behind its
        start (after an outage) finds it.
        """
        results: list[HandleResult | None] = [None] * len(messages)
        violations: list[tuple[int, ViolationEvent]] = []
        ends: list[tuple[int, ViolationEnd]] = []
        for index, (topic, payload) in enumerate(messages):
            try:
                address = parse_topic(topic)
                if address.channel is Channel.VIOLATION:
                    event = decode_violation(payload)
                    if (event.site, event.edge) != (address.site, address.edge):
                        results[index] = self._mismatch(event.site, event.edge, topic, payload)
                    else:
                        violations.append((index, event))
                elif address.channel is Channel.VIOLATION_END:
                    end = decode_violation_end(payload)
                    if (end.site, end.edge) != (address.site, address.edge):
                        results[index] = self._mismatch(end.site, end.edge, topic, payload)
                    else:
                        ends.append((index, end))
                elif address.channel is Channel.STATUS:
                    results[index] = self._status(address, topic, payload)
                else:
                    raise TopicError(f"topic {topic!r}: channel {address.channel} is not ingested")
            except Exception as err:  # the message boundary: nothing stops the ingest
                results[index] = self._failed(topic, payload, err)
        if violations:
            self._store_violations(messages, violations, results)
        if ends:
            self._store_ends(messages, ends, results)
        return [
            result or HandleResult(Outcome.REJECTED, RejectReason.INTERNAL) for result in results
        ]

    def _failed(self, topic: str, payload: bytes, err: Exception) -> HandleResult:
        if isinstance(err, TopicError):
            return self._reject(RejectReason.TOPIC, topic, payload, err)
        if isinstance(err, PayloadError):
            reason = RejectReason.MALFORMED_JSON if err.reason == "malformed_json" else None
            return self._reject(reason or RejectReason.SCHEMA, topic, payload, err)
        if isinstance(err, StorageError):
            # transient: leave it unacknowledged so the broker redelivers it; else it never fits
            return self._reject(RejectReason.STORAGE, topic, payload, err, ack=not err.transient)
        logger.error("ingest failed on a message topic=%s", _short(topic), exc_info=err)
        return self._reject(RejectReason.INTERNAL, topic, payload, err)

    def _store_violations(
        self,
        messages: Sequence[tuple[str, bytes]],
        pending: list[tuple[int, ViolationEvent]],
        results: list[HandleResult | None],
    ) -> None:
        received_at = self._clock()
        try:
            added = self._store.insert_batch([(event, received_at) for _, event in pending])
        except Exception as err:
            transient = isinstance(err, StorageError) and err.transient
            if transient or len(pending) == 1:
                for index, _event in pending:
                    results[index] = self._failed(*messages[index], err)
                return
            for item in pending:  # find the one that never fits; store the others
                self._store_violations(messages, [item], results)
            return
        claimed: dict[UUID, ViolationEnd] = {}
        claim_error: Exception | None = None
        try:  # duplicates too: a redelivery retries a claim that failed
            ended = self._store.claim_pending_ends([event.violation_id for _, event in pending])
            claimed = {end.violation_id: end for end in ended}
        except Exception as err:
            claim_error = err  # stored; if transient, left unacknowledged and the redelivery claims
        for (index, event), new in zip(pending, added, strict=True):
            results[index] = self._stored(event, new, received_at, claimed.get(event.violation_id))
            if claim_error is not None:
                results[index] = self._failed(*messages[index], claim_error)
        for end in claimed.values():
            self._ended(end, EndResult(EndOutcome.APPLIED), "kept end applied")

    def _stored(
        self, event: ViolationEvent, new: bool, received_at: datetime, end: ViolationEnd | None
    ) -> HandleResult:
        if not new:
            self._counters.add(Outcome.DUPLICATE)
            logger.debug("duplicate violation ignored violation_id=%s", event.violation_id)
            return HandleResult(Outcome.DUPLICATE)
        self._counters.add(Outcome.ACCEPTED)
        self._counters.observe_lag(max((received_at - event.occurred_at).total_seconds(), 0.0))
        logger.info(
            "violation stored violation_id=%s site=%s camera=%s kind=%s",
            event.violation_id,
            event.site,
            event.camera,
            event.kind,
        )
        deadline_at = self._deadlines.deadline(event.severity, event.occurred_at)
        violation = ViolationPublic.from_event(
            event, received_at=received_at, deadline_at=deadline_at
        )
        try:
            self._on_new_violation(violation if end is None else violation.with_end(end))
        except Exception:  # stored is what counts; a live-view failure must not redeliver it
            logger.exception("announcing a violation failed violation_id=%s", event.violation_id)
        return HandleResult(Outcome.ACCEPTED)

    def _store_ends(
        self,
        messages: Sequence[tuple[str, bytes]],
        pending: list[tuple[int, ViolationEnd]],
        results: list[HandleResult | None],
    ) -> None:
        received_at = self._clock()
        try:
            applied = self._store.apply_ends([(end, received_at) for _, end in pending])
        except Exception as err:
            transient = isinstance(err, StorageError) and err.transient
            if transient or len(pending) == 1:
                for index, _end in pending:
                    results[index] = self._failed(*messages[index], err)
                return
            for item in pending:  # find the one that never fits; apply the others
                self._store_ends(messages, [item], results)
            return
        for (index, end), result in zip(pending, applied, strict=True):
            if result.outcome is EndOutcome.MISMATCH:
                error = ValueError(result.detail or "the violation is another edge's")
                results[index] = self._reject(RejectReason.TOPIC_MISMATCH, *messages[index], error)
            else:
                results[index] = self._ended(end, result, "violation ended")

    def _ended(self, end: ViolationEnd, result: EndResult, what: str) -> HandleResult:
        if result.outcome is EndOutcome.DUPLICATE:
            self._counters.add(Outcome.END_DUPLICATE)
            logger.debug("duplicate violation end ignored violation_id=%s", end.violation_id)
            return HandleResult(Outcome.END_DUPLICATE)
        if result.outcome is EndOutcome.PENDING:
            self._counters.add(Outcome.END_PENDING)
            logger.info("violation end kept for later violation_id=%s", end.violation_id)
            return HandleResult(Outcome.END_PENDING)
        self._counters.add(Outcome.END_APPLIED)
        logger.info(
            "%s violation_id=%s site=%s camera=%s duration_s=%.1f",
            what,
            end.violation_id,
            end.site,
            end.camera,
            end.duration_s,
        )
        if self._on_violation_end is not None:
            try:
                self._on_violation_end(ViolationEndPublic.from_end(end))
            except Exception:  # stored is what counts, as for a violation
                logger.exception("announcing an end failed violation_id=%s", end.violation_id)
        return HandleResult(Outcome.END_APPLIED)

    def _status(self, address: TopicAddress, topic: str, payload: bytes) -> HandleResult:
        status = decode_status(payload)
        if (status.site, status.edge) != (address.site, address.edge):
            return self._mismatch(status.site, status.edge, topic, payload)
        if self._store.upsert_status(status, received_at=self._clock()):
            self._counters.add(Outcome.STATUS_APPLIED)
            logger.info(
                "edge status site=%s edge=%s state=%s", status.site, status.edge, status.state
            )
            return HandleResult(Outcome.STATUS_APPLIED)
        self._counters.add(Outcome.STATUS_STALE)
        return HandleResult(Outcome.STATUS_STALE)

    def _mismatch(self, site: str, edge: str, topic: str, payload: bytes) -> HandleResult:
        error = ValueError(f"payload names site={site} edge={edge}, not the topic's")
        return self._reject(RejectReason.TOPIC_MISMATCH, topic, payload, error)

    def _reject(
        self,
        reason: RejectReason,
        topic: str,
        payload: bytes,
        error: Exception,
        *,
        ack: bool = True,
    ) -> HandleResult:
        total = self._counters.add(Outcome.REJECTED, reason)
        if total <= _LOG_FIRST_REJECTIONS or total % _LOG_EVERY_REJECTIONS == 0:
            logger.warning(
                "mqtt message rejected reason=%s total=%d topic=%s payload=%s error=%s",
                reason,
                total,
                _short(topic),
                _short(payload),
                _short(str(error)),
            )
        return HandleResult(Outcome.REJECTED, reason=reason, ack=ack)
