"""Serve the letting API from several uvicorn workers, each with its own listening socket.

uvicorn's `--workers N` shares ONE listening socket between the workers; whichever worker wakes
first accepts every connection waiting in its queue. Keep-alive clients that connect together (a
load balancer's pool, the API benchmark's 16 clients) then often all land on one worker: one
Python process (one GIL, one core) serves the whole load while the other idles, and its handler
threads queue for its GIL (measured: 6.1 s against 0.8 s of the two workers' CPU in a 16-client
run; docs/letting.md, Session 8). Here each worker binds a socket of its own with `SO_REUSEPORT`,
so the kernel spreads new connections over the workers (by a hash of the connection's addresses).

The parent first checks that nothing listens on the port (a plain bind: another server, also
another SO_REUSEPORT server, makes it fail at once, in the parent, instead of silently sharing
its connections), then holds a socket bound to the address with `SO_REUSEPORT` but not listening:
it reserves the port and receives no connections (the kernel
only hands connections to listening sockets). Each worker, started by uvicorn's own supervisor
(health checks, restarts, signals unchanged), gets its socket when the list of sockets handed to it
is unpickled in the worker process: `WorkerSockets` pickles as its address, not as a socket.
"""

from __future__ import annotations

import socket
from typing import Any

from boligmix.errors import ConfigurationError


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with SO_REUSEPORT (not listening yet)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", field="--port") from exc
    return sock


def _free_port(host: str, port: int) -> int:
    """`port` (or, for 0, one the system chooses) after checking that nothing listens on it: a
    plain bind fails where any socket listens, also a SO_REUSEPORT group of another server, which
    the server's own SO_REUSEPORT sockets would otherwise join and share connections with."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                                     field="--port") from exc
        return probe.getsockname()[1]


def _worker_sockets(host: str, port: int) -> list[socket.socket]:
    return [reuse_port_socket(host, port)]


class WorkerSockets(list):  # type: ignore[type-arg]
    """The `sockets` uvicorn's supervisor hands to each worker: in the parent it holds the
    reserving socket; pickled (uvicorn starts workers by `spawn`) it travels as (host, port), and
    the worker's copy is a fresh SO_REUSEPORT socket of its own."""

    def __init__(self, host: str, port: int) -> None:
        port = _free_port(host, port)
        sock = reuse_port_socket(host, port)
        self.host, self.port = host, sock.getsockname()[1]  # port 0: the one the system chose
        super().__init__([sock])

    def __reduce__(self) -> tuple[Any, ...]:
        return (_worker_sockets, (self.host, self.port))

    def close(self) -> None:
        for sock in self:
            sock.close()


def supported() -> bool:
    """SO_REUSEPORT with load balancing over listening sockets (Linux >= 3.9; not Windows)."""
    return hasattr(socket, "SO_REUSEPORT") and socket.SO_REUSEPORT is not None


def run_workers(config: Any) -> None:
    """Run `config` (a uvicorn.Config with workers > 1 and an import-string app) under uvicorn's
    multiprocess supervisor, each worker on its own SO_REUSEPORT socket."""
    from uvicorn.supervisors import Multiprocess

    sockets = WorkerSockets(config.host, config.port)
    try:
        Multiprocess(config, sockets=sockets).run()
    except KeyboardInterrupt:
        pass
    finally:
        sockets.close()
