"""Start `boligmix serve` as a real process on a free loopback port (for the HTTP tests).

The server runs in a session of its own so that `stop`/`kill` end it with its uvicorn workers
(`--workers N` spawns children that would otherwise outlive a killed parent); a server still running
when the test process exits is ended too.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

import boligmix

SRC = str(Path(boligmix.__file__).resolve().parents[1])


def run_at_once(n: int, client: Callable[[int], None], timeout: float = 120.0) -> None:
    """Run `client(0)` .. `client(n - 1)` on n threads released together by a barrier."""
    barrier = threading.Barrier(n)

    def start_together(i: int) -> None:
        barrier.wait()
        client(i)

    threads = [threading.Thread(target=start_together, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db_url: str, port: int | None = None, log_path: Path | None = None) -> None:
        self.db_url, self.port = db_url, port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.extra_args: list[str] = []

    def start(self, timeout: float = 180.0) -> "Server":
        env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "boligmix.cli.main", "serve", "--db", self.db_url, "--host", "127.0.0.1",
             "--port", str(self.port), "--quiet", *self.extra_args], env=env, stdout=log, stderr=log,
            start_new_session=True)
        atexit.register(self._end_group, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode} (log: {self.log_path})")
            try:
                if httpx.get(self.base_url + "/api/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the server did not answer within the timeout")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, open transactions are lost."""
        assert self.proc is not None
        self._end_group(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self._end_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._end_group(signal.SIGKILL)
                self.proc.wait(timeout=15)
        self._end_group(signal.SIGKILL)  # workers left behind by the parent

    def _end_group(self, sig: int) -> None:
        """Send `sig` to the server's whole process group (its session), if any of it is left."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
