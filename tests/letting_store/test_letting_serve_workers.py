"""`boligmix serve --workers N`: each worker listens on a socket of its own (SO_REUSEPORT), so that
connections opened together spread over the workers instead of all landing on the worker that
woke first (boligmix.web.listen)."""

from __future__ import annotations

import os
import pickle
import socket
import time
from pathlib import Path

import httpx
import pytest

from boligmix.errors import ConfigurationError
from boligmix.web import listen

from letting_server import Server

pytestmark = pytest.mark.skipif(not listen.supported(), reason="SO_REUSEPORT is Linux/BSD only")


def _tcp_rows(port: int) -> list[tuple[str, int]]:
    """(state, socket inode) of the IPv4 TCP sockets whose local port is `port` (/proc/net/tcp)."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == port:
            rows.append((f[3], int(f[9])))
    return rows


def _socket_owners(pids: list[int]) -> dict[int, int]:
    """socket inode -> pid, over the open files of `pids`."""
    owners = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                owners[int(target[8:-1])] = pid
    return owners


def _children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                raw = (p / "stat").read_text()
            except OSError:
                continue
            if int(raw[raw.rindex(")") + 2:].split()[1]) == pid:
                out.append(int(p.name))
    return out


def test_worker_sockets_unpickle_as_a_socket_of_their_own_on_the_same_port():
    held = listen.WorkerSockets("127.0.0.1", 0)
    port = held[0].getsockname()[1]
    try:
        copy = pickle.loads(pickle.dumps(held))
        assert [s.getsockname()[1] for s in copy] == [port]
        assert copy[0].fileno() != held[0].fileno()
        copy[0].listen()
        # the parent's socket is bound but not listening: it takes no connections
        assert [state for state, _ in _tcp_rows(port)].count("0A") == 1
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            conn, _ = copy[0].accept()
            conn.close()
        copy[0].close()
    finally:
        held.close()


def test_a_port_taken_by_another_listener_is_a_configuration_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ConfigurationError, match="cannot listen"):
            listen.WorkerSockets("127.0.0.1", taken.getsockname()[1])


def test_a_port_where_another_reuse_port_server_listens_is_refused_not_shared():
    running = listen.reuse_port_socket("127.0.0.1", 0)  # as a worker of another `serve` has it
    running.listen()
    try:
        with pytest.raises(ConfigurationError, match="cannot listen"):
            listen.WorkerSockets("127.0.0.1", running.getsockname()[1])
    finally:
        running.close()


@pytest.mark.slow
def test_two_workers_each_listen_and_connections_opened_together_reach_both(tmp_path):
    server = Server(f"sqlite:///{tmp_path / 'letting.sqlite'}", log_path=tmp_path / "server.log")
    server.extra_args = ["--workers", "2"]
    server.start()
    clients: list[httpx.Client] = []
    try:
        workers = [p for p in _children(server.proc.pid)
                   if "multiprocessing.resource_tracker" not in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(workers) == 2, workers
        deadline = time.monotonic() + 60  # the server answers once one worker is up; wait for both
        while True:
            listening = [inode for state, inode in _tcp_rows(server.port) if state == "0A"]
            if len(listening) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        owners = _socket_owners(workers)
        assert sorted(owners[i] for i in listening) == sorted(workers)  # one listening socket per worker
        # 16 keep-alive connections opened together (as a client pool does), one request each
        for _ in range(16):
            clients.append(httpx.Client(base_url=server.base_url, timeout=30))
        for c in clients:
            assert c.get("/api/health").status_code == 200
        owners = _socket_owners(workers)
        per_worker = {w: 0 for w in workers}
        for state, inode in _tcp_rows(server.port):
            if state == "01" and inode in owners:  # established, server side
                per_worker[owners[inode]] += 1
        assert sum(per_worker.values()) == 16
        # by the kernel's hash of the addresses; all 16 on one worker has probability 2 / 2**16
        assert min(per_worker.values()) >= 1, per_worker
    finally:
        for c in clients:
            c.close()
        server.stop()
