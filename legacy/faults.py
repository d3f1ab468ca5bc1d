"""The stand-in's bad days: latency, busy pages, dropped connections, maintenance.

A dropped connection is a real one: the socket under the request is shut
down, so the browser gets no response at all (``net::ERR_EMPTY_RESPONSE``),
exactly what a robot sees when a load balancer or an application server
gives up.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from datetime import datetime
from typing import Any

from legacy.config import Faults, in_window


class FaultDice:
    """Thread-safe, optionally seeded decisions about which request goes wrong."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._lock = threading.Lock()

    def _roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def in_maintenance(self, now: datetime | None = None) -> bool:
        return in_window((now or datetime.now()).time(), self.faults.maintenance)

    def busy(self) -> bool:
        return self._roll(self.faults.busy_rate)

    def drop_before(self) -> bool:
        return self._roll(self.faults.drop_rate / 2)

    def drop_after(self) -> bool:
        return self._roll(self.faults.drop_rate / 2)

    def wait(self) -> None:
        if self.faults.latency > 0:
            time.sleep(self.faults.latency)


def drop_connection(environ: dict[str, Any]) -> None:
    """Shut the request's TCP connection down without an answer."""
    sock = environ.get("werkzeug.socket")
    if sock is None:  # not served by werkzeug (e.g. Flask's test client): nothing to drop
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
