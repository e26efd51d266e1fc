"""A throwaway redis-server (no disk, no persistence) for the tests and ``make bench``.

It can be stopped and started again on the same port, as an outage and a
recovery look to the app.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass

import redis

from adminapp.testing import supervisor

START_TIMEOUT = 30


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or start again, on the same port) and wait until it answers."""
        self.process = supervisor.spawn(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT
        client = redis.Redis(port=self.port, socket_timeout=1)
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self.process is not None:
            # Its process group, SIGTERM then SIGKILL.
            supervisor.terminate(self.process)
            self.process = None
