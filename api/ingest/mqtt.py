"""MqttIngest: the paho client, its persistent session, and acknowledging only after storage."""

import logging
import queue
import threading
from dataclasses import dataclass

from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from api.ingest.handler import IngestHandler
from api.settings import MqttOptions
from contracts import STATUS_SUBSCRIPTION, VIOLATION_END_SUBSCRIPTION, VIOLATION_SUBSCRIPTION

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Received:
    generation: int
    mid: int
    qos: int
    topic: str
    payload: bytes


class MqttIngest:
    """Subscribes at QoS 1 on a persistent session and acknowledges each message once handled.

    The broker keeps the session (our subscriptions and every message not yet acknowledged) while
    the service is down or reconnecting, so nothing published meanwhile is lost; a message whose
    storage failed for a transient reason is left unacknowledged and we reconnect after a backoff
    to have it redelivered. Duplicates this may cause are absorbed by the idempotent store.

    paho's network thread only queues each message; a writer thread stores them in batches (one
    transaction, one disk sync per batch) and only then sends their PUBACKs, in order, so
    "acknowledged => stored" holds. Messages queued from a connection that has since dropped are
    neither stored nor acknowledged: the broker redelivers them on the next connection.

    With `shared_group` set, violations and their ends come through `$share/<group>/...`: the
    broker hands each one to a single member of the group, so N replicas split the ingest (an
    incident's start and end may go to different replicas; the store keeps an end that arrives
    first). Statuses are retained, which brokers do not deliver to shared subscriptions, so every
    replica reads them all.
    """

    def __init__(self, options: MqttOptions, handler: IngestHandler) -> None:
        self._options = options
        self._handler = handler
        self._client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=options.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        if options.username is not None:
            self._client.username_pw_set(options.username, options.password)
        if options.tls_ca_file is not None:
            self._client.tls_set(ca_certs=str(options.tls_ca_file))
        self._client.reconnect_delay_set(options.reconnect_min_s, options.reconnect_max_s)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None
        self._unreachable_logged = False
        self._redelivery_requested = False
        self._storage_failures = 0
        self._generation = 0  # one per connection: acks of an old connection are void
        self._received: queue.Queue[_Received | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._subscriptions = [
            (violation_subscription(options.shared_group), SubscribeOptions(qos=1)),
            (
                violation_subscription(options.shared_group, VIOLATION_END_SUBSCRIPTION),
                SubscribeOptions(qos=1),
            ),
            (STATUS_SUBSCRIPTION, SubscribeOptions(qos=1)),
        ]

    @property
    def connected(self) -> bool:
        """True once connected and subscribed, until the connection drops."""
        return self._subscribed.is_set()

    def wait_ready(self, timeout_s: float) -> bool:
        """Block until subscribed (or `timeout_s` passed); True when subscribed."""
        return self._subscribed.wait(timeout_s)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("MqttIngest already started")
        self._writer = threading.Thread(target=self._write, name="mqtt-ingest-writer", daemon=True)
        self._writer.start()
        self._thread = threading.Thread(target=self._run, name="mqtt-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Disconnect cleanly (the broker keeps our session) and wait for the thread to end."""
        with self._lock:
            self._stopping.set()
            self._client.disconnect()
        self._received.put(None)
        for thread in (self._thread, self._writer):
            if thread is not None:
                thread.join(timeout_s)
                if thread.is_alive():
                    logger.error("%s thread did not stop timeout_s=%.1f", thread.name, timeout_s)
        self._subscribed.clear()

    def _run(self) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = self._options.session_expiry_s
        # how many unacknowledged messages the broker may send: the writer's batch can be no larger
        properties.ReceiveMaximum = self._options.receive_maximum
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                self._redelivery_requested = False
                self._client.connect_async(
                    self._options.host,
                    self._options.port,
                    keepalive=self._options.keepalive_s,
                    clean_start=False,
                    properties=properties,
                )
            try:
                # paho reconnects with backoff by itself; it returns on disconnect() only
                self._client.loop_forever(retry_first_connection=True)
            except Exception:
                logger.exception("mqtt loop failed, restarting")
            self._subscribed.clear()
            if self._stopping.wait(self._restart_delay_s()):
                return

    def _restart_delay_s(self) -> float:
        failures = max(self._storage_failures, 1)
        delay_s = self._options.reconnect_min_s * 2 ** min(failures - 1, 16)
        return float(min(delay_s, self._options.reconnect_max_s))

    def _on_connect(
        self,
        client: Client,
        _userdata: object,
        flags: ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            logger.warning(
                "mqtt connection refused host=%s port=%d reason=%s",
                self._options.host,
                self._options.port,
                reason_code,
            )
            return
        self._unreachable_logged = False
        self._generation += 1
        logger.info(
            "mqtt connected host=%s port=%d session_present=%s",
            self._options.host,
            self._options.port,
            flags.session_present,
        )
        client.subscribe(self._subscriptions)

    def _on_connect_fail(self, _client: Client, _userdata: object) -> None:
        if not self._unreachable_logged:
            self._unreachable_logged = True
            logger.warning(
                "mqtt broker unreachable, retrying host=%s port=%d",
                self._options.host,
                self._options.port,
            )

    def _on_subscribe(
        self,
        _client: Client,
        _userdata: object,
        _mid: int,
        reason_codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        failed = [str(code) for code in reason_codes if code.is_failure]
        if failed:
            logger.error("mqtt subscription refused reasons=%s", ",".join(failed))
            return
        self._subscribed.set()
        logger.info(
            "mqtt subscribed topics=%s", ",".join(topic for topic, _ in self._subscriptions)
        )

    def _on_disconnect(
        self,
        _client: Client,
        _userdata: object,
        _flags: DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if self._subscribed.is_set():
            logger.warning("mqtt disconnected reason=%s", reason_code)
        self._subscribed.clear()

    def _on_message(self, _client: Client, _userdata: object, message: MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = repr(message._topic)  # not a valid topic: parse_topic rejects it
        self._received.put(
            _Received(self._generation, message.mid, message.qos, topic, bytes(message.payload))
        )

    def _next_batch(self) -> list[_Received] | None:
        """Block for one message, then take what else is queued, up to the batch size."""
        first = self._received.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < self._options.batch_max:
            try:
                item = self._received.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self._received.put(None)  # stop after this batch
                break
            batch.append(item)
        return batch

    def _write(self) -> None:
        while (batch := self._next_batch()) is not None:
            generation = self._generation
            current = [item for item in batch if item.generation == generation]
            if not current:
                continue
            results = self._handler.handle_batch([(item.topic, item.payload) for item in current])
            failed = False
            for item, result in zip(current, results, strict=True):
                if not result.ack:
                    failed = True
                    continue
                if item.qos > 0 and self._generation == generation:
                    # PUBACK only now, after storing: a crash before this point means redelivery
                    self._client.ack(item.mid, item.qos)
            if not failed:
                self._storage_failures = 0
                continue
            self._storage_failures += 1
            if not self._redelivery_requested:
                self._redelivery_requested = True
                logger.warning(
                    "storage failing, reconnecting for redelivery retry_in_s=%.1f",
                    self._restart_delay_s(),
                )
                self._client.disconnect()


def violation_subscription(
    shared_group: str | None, topic_filter: str = VIOLATION_SUBSCRIPTION
) -> str:
    """The violations' (or their ends') filter, shared by the group's members when given."""
    if shared_group is None:
        return topic_filter
    return f"$share/{shared_group}/{topic_filter}"
