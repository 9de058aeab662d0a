"""A scripted fake backend: a loopback TCP server whose every connection runs a Python function.

``FakeBackend(script)`` listens on a free port of ``host``; each accepted connection runs
``script(peer)`` in its own daemon thread, where ``peer`` is a :class:`Peer` (line reads, sends,
``starttls``). Everything is bounded: connections time out after ``timeout`` seconds of silence,
the server stops accepting after ``lifetime`` seconds, and :meth:`close` (call it at teardown)
stops it and closes every connection. ``peers`` lists each connection's Peer (what it received,
whether TLS was started); ``errors`` collects the scripts' exceptions.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from typing import Callable

from .ports import free_port


class Peer:
    """One backend-side connection, as the script sees it."""

    def __init__(self, sock: socket.socket, timeout: float):
        self.sock: socket.socket = sock
        self.sock.settimeout(timeout)
        self.buf = b""
        self.received = b""  # every byte read (plaintext and, after starttls, decrypted)
        self.after_tls = b""  # the bytes read after the TLS handshake
        self.tls = False

    def send(self, data: bytes | str) -> None:
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def readline(self) -> bytes:
        """One line without its CRLF; raises ``ConnectionError`` on EOF."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("peer closed")
            self.received += chunk
            if self.tls:
                self.after_tls += chunk
            self.buf += chunk
            if len(self.buf) > 1 << 20:
                raise ConnectionError("line too long")
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r")

    def starttls(self, context: ssl.SSLContext) -> None:
        """TLS (server side) from here on; bytes already buffered in plaintext are dropped."""
        self.buf = b""
        self.sock = context.wrap_socket(self.sock, server_side=True)
        self.tls = True

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class FakeBackend:
    def __init__(self, script: Callable[[Peer], None], host: str = "127.0.0.1", *, timeout: float = 20.0,
                 lifetime: float = 120.0):
        self.script = script
        self.host = host
        self.port = free_port(host)
        self.timeout = timeout
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, self.port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.peers: list[Peer] = []
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()
        self.deadline = time.monotonic() + lifetime
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _accept(self) -> None:
        while not self.stopping.is_set() and time.monotonic() < self.deadline:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            peer = Peer(conn, self.timeout)
            self.peers.append(peer)
            threading.Thread(target=self._run, args=(peer,), daemon=True).start()

    def _run(self, peer: Peer) -> None:
        try:
            self.script(peer)
        except (OSError, ConnectionError, ssl.SSLError):
            pass  # the proxy hung up, or a timeout: the end of this connection
        except BaseException as e:  # a bug in the script: report it to the test
            self.errors.append(e)
        finally:
            if not self.stopping.is_set():
                time.sleep(0.05)
            peer.close()

    def wait_peers(self, count: int, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while len(self.peers) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.peers)

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        for peer in self.peers:
            peer.close()
        self.sock.close()


def server_context(pki) -> ssl.SSLContext:
    """A server-side TLS context with the test PKI's backend certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(pki.backend_cert), str(pki.backend_key))
    return ctx
