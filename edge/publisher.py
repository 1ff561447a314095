"""Publishing to MQTT: violations through the on-disk outbox with QoS 1, retained status, last will.

MqttEventPublisher (paho-mqtt 2.x, MQTT 5, clean_start=False with a session expiry):
- publish_violation puts the event in the outbox first, so it survives a broker outage and an
  edge restart; only a PUBACK removes it (never dropped). A sender thread publishes the oldest
  `max_inflight` pending items in outbox order and tops the window up as PUBACKs arrive.
- On every (re)connect paho's own unacknowledged copies are dropped and the sender re-sends the
  outbox window in order, so nothing newer can overtake an older, unacknowledged violation.
  Duplicates are possible (a PUBACK lost with the connection) and fine: the API is idempotent on
  violation_id. A PUBACK with a failure reason (e.g. not authorised) leaves the item in the
  outbox, logged; it is retried after the next reconnect.
- Status is retained and newest-wins, so it does not go through the outbox. The broker publishes a
  retained offline status as the last will when the connection drops without a DISCONNECT.
Threads: paho's network thread runs the callbacks, which only record and signal; the sender thread
does every publish. `_link_lock` makes "still on the same connection?" and publish() one step,
and is held by on_connect while it drops paho's queue.
"""

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from contracts import (
    EdgeState,
    EdgeStatus,
    ViolationEnd,
    ViolationEvent,
    encode,
    status_topic,
    violation_end_topic,
    violation_topic,
)
from edge.config import MqttConfig
from edge.errors import PublisherError
from edge.outbox import Outbox

logger = logging.getLogger(__name__)


class EventPublisher(Protocol):
    def publish_violation(self, event: ViolationEvent) -> None:
        """Deliver at least once, in order; must not block on the network."""
        ...

    def publish_status(self, status: EdgeStatus) -> None:
        """Replace the edge's retained status; newest wins."""
        ...

    def publish_violation_end(self, end: ViolationEnd) -> None:
        """Deliver at least once, after the violation it ends (same outbox, same order)."""
        ...


class _Kind(Enum):
    KICK = "kick"
    CONNECTED = "connected"
    ACK = "ack"
    STATUS = "status"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class _Signal:
    kind: _Kind
    mid: int = 0
    reason: str = ""
    failed: bool = False


_BARE_ONLINE = object()  # stands for "online, no camera states yet" in _sent_status


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _release(client: mqtt.Client) -> None:
    """Close a stopped client's sockets now, including the wakeup pair loop_start() made.

    paho closes them only in __del__, which a garbage collection may run after the sockets' own
    finalizers (ResourceWarning); reinitialise() is its public way to close them.
    """
    client.reinitialise()


class MqttEventPublisher:
    def __init__(
        self,
        *,
        site: str,
        edge: str,
        mqtt_config: MqttConfig,
        outbox: Outbox,
        client_id: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        max_inflight: int = 20,
        session_expiry_s: int = 3600,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 30,
    ) -> None:
        self.site = site
        self.edge = edge
        self._config = mqtt_config
        self._outbox = outbox
        self._clock = clock
        self._max_inflight = max_inflight
        self._window = max_inflight  # lowered to the broker's Receive Maximum on connect
        self._session_expiry_s = session_expiry_s
        self._reconnect_min_s = reconnect_min_s
        self._reconnect_max_s = reconnect_max_s
        self._violation_topic = violation_topic(site, edge)
        self._violation_end_topic = violation_end_topic(site, edge)
        self._status_topic = status_topic(site, edge)
        self.client_id = client_id or f"bk-{site}-{edge}"

        self._signals: queue.SimpleQueue[_Signal] = queue.SimpleQueue()
        self._link_lock = threading.Lock()
        self._connected = False  # written by paho's thread; read by any
        self._generation = 0  # connections so far, under _link_lock
        self._progress = threading.Condition()  # notified when acks or connections move on
        # sender-thread state
        self._sent_generation = -1
        self._inflight: dict[int, str] = {}  # paho mid -> outbox message id
        self._inflight_ids: set[str] = set()
        self._refused: set[str] = set()  # refused on this connection: retried after a reconnect
        self._latest_status: EdgeStatus | None = None  # set by publish_status, any thread
        self._sent_status: object = None  # what the sender last sent on this connection
        self._sender: threading.Thread | None = None
        self._closed = False
        self._connect_failing = False  # logged once per outage, not every retry

        self._client = self._new_client()

    @property
    def connected(self) -> bool:
        return self._connected

    def start(self) -> None:
        """Connect in the background; returns at once and retries while the broker is down."""
        self._client.connect_async(
            self._config.host,
            self._config.port,
            keepalive=self._config.keepalive_s,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self._sender = threading.Thread(target=self._run, name="mqtt-sender", daemon=True)
        self._sender.start()
        self._client.loop_start()
        logger.info(
            "mqtt connecting host=%s port=%d client_id=%s tls=%s pending=%d",
            self._config.host,
            self._config.port,
            self.client_id,
            self._config.tls is not None,
            self._outbox.depth(),
        )

    def publish_violation(self, event: ViolationEvent) -> None:
        self._outbox.put(str(event.violation_id), self._violation_topic, encode(event))
        self._signals.put(_Signal(_Kind.KICK))

    def publish_violation_end(self, end: ViolationEnd) -> None:
        # its own message id: the outbox keeps one row per id, the event holds the plain one
        self._outbox.put(f"{end.violation_id}:end", self._violation_end_topic, encode(end))
        self._signals.put(_Signal(_Kind.KICK))

    def publish_status(self, status: EdgeStatus) -> None:
        self._latest_status = status
        self._signals.put(_Signal(_Kind.STATUS))

    def close(self, *, timeout_s: float = 10.0) -> None:
        """Deliver what is pending (up to timeout_s), publish the offline status, disconnect."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + timeout_s
        if self._sender is None:
            return
        if self._connected or (self._outbox.depth() > 0 and self._reconnect_now()):
            with self._progress:
                self._progress.wait_for(
                    # refused items stay in the outbox: no use waiting for them
                    lambda: self._outbox.depth() <= len(self._refused),
                    timeout=max(0.0, deadline - time.monotonic()),
                )
        self._signals.put(_Signal(_Kind.STOP))
        self._sender.join(timeout=max(0.1, deadline - time.monotonic()))
        left = self._outbox.depth()
        if self._connected:
            info = self._client.publish(
                self._status_topic, self._offline_payload(), qos=1, retain=True
            )
            try:
                info.wait_for_publish(timeout=max(0.1, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as err:
                logger.warning("offline status not delivered reason=%s", err)
        self._client.disconnect()
        self._client.loop_stop()
        _release(self._client)
        logger.info("mqtt closed pending=%d", left)

    def _reconnect_now(self) -> bool:
        """Try once right away (paho may be sleeping out a backoff of up to reconnect_max_s).

        A fresh client does it: restarting the old one's loop would leak its wakeup sockets.
        """
        self._client.loop_stop()
        fresh = self._new_client()
        with self._link_lock:
            stale, self._client = self._client, fresh
        _release(stale)
        try:
            fresh.connect(
                self._config.host,
                self._config.port,
                keepalive=self._config.keepalive_s,
                clean_start=False,
                properties=self._connect_properties(),
            )
        except OSError as err:
            logger.warning(
                "mqtt down at shutdown, violations stay in the outbox pending=%d reason=%s",
                self._outbox.depth(),
                str(err),  # not err: a log record would keep its traceback and socket alive
            )
            return False
        fresh.loop_start()
        return True

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]  # paho
        properties.SessionExpiryInterval = self._session_expiry_s
        return properties

    def _new_client(self) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        # our window bounds what is in flight; paho must not hold anything back on its own
        client.max_inflight_messages_set(0)
        client.reconnect_delay_set(min_delay=self._reconnect_min_s, max_delay=self._reconnect_max_s)
        if self._config.username is not None:
            password = self._config.password
            client.username_pw_set(
                self._config.username, None if password is None else password.get_secret_value()
            )
        if self._config.tls is not None:
            tls = self._config.tls
            try:
                client.tls_set(
                    ca_certs=None if tls.ca_file is None else str(tls.ca_file),
                    certfile=None if tls.cert_file is None else str(tls.cert_file),
                    keyfile=None if tls.key_file is None else str(tls.key_file),
                )
            except (OSError, ssl.SSLError, ValueError) as err:
                raise PublisherError(f"cannot set up MQTT TLS: {err}") from err
            client.tls_insecure_set(tls.insecure)
        client.will_set(self._status_topic, self._offline_payload(), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    def _offline_payload(self) -> bytes:
        return encode(
            EdgeStatus(
                site=self.site, edge=self.edge, state=EdgeState.OFFLINE, reported_at=self._clock()
            )
        )

    # paho callbacks: run on paho's network thread; they must not raise or block

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            logger.error("mqtt connection refused reason=%s", reason_code)
            return
        with self._link_lock:
            # drop paho's copies: the sender re-sends from the outbox, oldest first
            client.drop_out_messages()
            self._generation += 1
            self._connected = True
        self._connect_failing = False
        # the broker's Receive Maximum caps QoS 1 messages in flight; keep room for a status or two
        receive_maximum = getattr(properties, "ReceiveMaximum", 65535)
        self._window = max(1, min(self._max_inflight, int(receive_maximum) - 2))
        logger.info("mqtt connected session_present=%s", flags.session_present)
        self._signals.put(_Signal(_Kind.CONNECTED))

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        if not self._connect_failing and not self._closed:
            self._connect_failing = True
            logger.warning(
                "mqtt broker unreachable host=%s port=%d (retrying with backoff up to %d s)",
                self._config.host,
                self._config.port,
                self._reconnect_max_s,
            )

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        was_connected, self._connected = self._connected, False
        if was_connected and not self._closed:
            logger.warning("mqtt disconnected reason=%s", reason_code)

    def _on_publish(
        self,
        _client: mqtt.Client,
        _userdata: object,
        mid: int,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._signals.put(
            _Signal(_Kind.ACK, mid=mid, reason=str(reason_code), failed=reason_code.is_failure)
        )

    # the sender thread

    def _run(self) -> None:
        while True:
            signal = self._signals.get()
            if signal.kind is _Kind.STOP:
                return
            try:
                self._step(signal)
            except Exception:
                logger.exception("mqtt sender step failed kind=%s", signal.kind.value)
            with self._progress:
                self._progress.notify_all()

    def _step(self, signal: _Signal) -> None:
        if signal.kind is _Kind.CONNECTED:
            with self._link_lock:
                self._sent_generation = self._generation
            self._inflight.clear()
            self._inflight_ids.clear()
            self._refused.clear()
            self._sent_status = None
            logger.info("mqtt replaying outbox pending=%d", self._outbox.depth())
        elif signal.kind is _Kind.ACK:
            self._acknowledged(signal)
        self._send_status()
        self._drain()

    def _acknowledged(self, signal: _Signal) -> None:
        message_id = self._inflight.pop(signal.mid, None)
        if message_id is None:  # a status message, or a copy sent on an earlier connection
            if signal.failed:
                logger.warning("status refused by the broker reason=%s", signal.reason)
            return
        self._inflight_ids.discard(message_id)
        if signal.failed:
            self._refused.add(message_id)
            logger.error(
                "violation refused by the broker id=%s reason=%s (kept, retried after reconnect)",
                message_id,
                signal.reason,
            )
            return
        self._outbox.ack(message_id)

    def _send_status(self) -> None:
        """Send the newest status once per connection and change; a bare online one until any."""
        latest = self._latest_status
        key = _BARE_ONLINE if latest is None else latest
        if key is self._sent_status:
            return
        status = latest or EdgeStatus(
            site=self.site, edge=self.edge, state=EdgeState.ONLINE, reported_at=self._clock()
        )
        payload = encode(status.model_copy(update={"reported_at": self._clock()}))
        if self._send(self._status_topic, payload, retain=True) is not None:
            self._sent_status = key

    def _drain(self) -> None:
        window = self._window
        if len(self._inflight_ids) >= window:
            return
        for item in self._outbox.pending(window):
            if item.message_id in self._inflight_ids or item.message_id in self._refused:
                continue
            mid = self._send(item.topic, item.payload, retain=False)
            if mid is None:
                return
            self._inflight[mid] = item.message_id
            self._inflight_ids.add(item.message_id)

    def _send(self, topic: str, payload: bytes, *, retain: bool) -> int | None:
        """Publish on the connection the sender last replayed for; None when it is gone."""
        with self._link_lock:
            if not self._connected or self._generation != self._sent_generation:
                return None
            info = self._client.publish(topic, payload, qos=1, retain=retain)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return None  # the connection just dropped; the reconnect replays this item
        return info.mid
