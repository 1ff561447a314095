"""An MqttEventPublisher alone in a process, for tests that kill it uncleanly (the last will).

Run: python -m tests.edge.publisher_process HOST PORT OUTBOX_PATH; the password comes from
BK_TEST_EDGE_PASSWORD. Prints "connected" once the broker accepted it, then waits to be killed.
"""

import os
import sys
import threading
import time
from pathlib import Path

from edge.config import MqttConfig
from edge.outbox import SqliteOutbox
from edge.publisher import MqttEventPublisher
from tests.conftest import EDGE, SITE


def main() -> int:
    host, port, outbox_path = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    publisher = MqttEventPublisher(
        site=SITE,
        edge=EDGE,
        mqtt_config=MqttConfig.model_validate(
            {
                "host": host,
                "port": port,
                "username": EDGE,
                "password": os.environ["BK_TEST_EDGE_PASSWORD"],
                "keepalive_s": 60,
            }
        ),
        outbox=SqliteOutbox(outbox_path),
        client_id="will-test-edge",
    )
    publisher.start()
    deadline = time.monotonic() + 30
    while not publisher.connected:
        if time.monotonic() > deadline:
            return 1
        time.sleep(0.02)
    sys.stdout.write("connected\n")
    sys.stdout.flush()
    threading.Event().wait()  # until killed
    return 0


if __name__ == "__main__":
    sys.exit(main())
