"""``kizuna serve --workers N``: N processes serving one node from one listening socket.

The parent binds the socket, brings the schema up to date once, and starts the workers; each
opens the node itself (its own connections and caches) and serves on the shared socket, the
kernel handing each new connection to one of them. What makes them one node lives in the
database: one writer at a time (storage.database), caches that follow the node's generation
counters (services.state), and background work under a lease (services.lease). A worker that
dies is started again; SIGTERM or Ctrl-C stops them all, each finishing its requests in flight.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

# A worker that dies within this many seconds of its start is not restarted at once.
_RESTART_PAUSE = 1.0


def bind(host: str, port: int) -> socket.socket:
    """The listening socket the workers share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def worker(
    home: str,
    database_url: str | None,
    sock: socket.socket,
    log_level: str,
    tls: tuple[Path, Path] | None = None,
) -> None:
    """One worker process: open the node and serve it on the shared socket until told to stop."""
    import uvicorn

    from kizuna import logs
    from kizuna.http import server
    from kizuna.http.app import create_app
    from kizuna.services.node import open_node

    logs.configure(log_level)
    node = open_node(Path(home), database_url=database_url, upgrade=False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers with SIGTERM
    try:
        tls_options = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])} if tls else {}
        config = server.config(
            create_app(node),
            node.settings(),
            log_level=log_level,
            timeout_graceful_shutdown=10,
            **tls_options,
        )
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        node.close()


def supervise(
    home: Path,
    database_url: str | None,
    sock: socket.socket,
    workers: int,
    log_level: str,
    tls: tuple[Path, Path] | None = None,
) -> int:
    """Run ``workers`` processes until SIGTERM/SIGINT, restarting any that dies; returns the
    exit status (0 after a requested stop)."""
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    running: list[tuple[BaseProcess, float]] = []

    def start() -> tuple[BaseProcess, float]:
        p = context.Process(
            target=worker,
            args=(str(home), database_url, sock, log_level, tls),
            name="kizuna-worker",
            daemon=False,
        )
        p.start()
        return p, time.monotonic()

    try:
        running = [start() for _ in range(workers)]
        while not stopping:
            time.sleep(0.2)
            for i, (p, started) in enumerate(running):
                if not p.is_alive() and not stopping:
                    if time.monotonic() - started < _RESTART_PAUSE:
                        time.sleep(_RESTART_PAUSE)
                    running[i] = start()
    finally:
        for p, _ in running:
            if p.is_alive():
                p.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for p, _ in running:
            p.join(15)
            if p.is_alive():
                p.kill()
                p.join()
        for s, handler in previous.items():
            signal.signal(s, handler)
        sock.close()
    return 0
