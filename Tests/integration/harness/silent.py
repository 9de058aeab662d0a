"""A TCP server that accepts connections and never says a word (a hung backend)."""

from __future__ import annotations

import socket
import threading
import time

from .ports import free_port


class SilentServer:
    """Listens on ``host`` (a free port), accepts every connection and holds it open, silent,
    until :meth:`close`. ``accepted`` counts the connections it took (bounded: 120 s)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, self.port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.conns: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def accepted(self) -> int:
        return len(self.conns)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _run(self) -> None:
        deadline = time.monotonic() + 120
        while not self.stopping.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
                self.conns.append(conn)
            except socket.timeout:
                continue

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()
