"""Pre-login floods for the session-engine bounds tests (stdlib only).

``WriteOnlyFlood``: clients that write one command over and over, as fast as the server reads
it, and never read a byte. Each socket is non-blocking: it writes until ``EAGAIN``, then waits
(``select``, 50 ms at most) until it is writable again. A client the server closes is replaced
after a short pause (so a command budget that cuts clients off still faces ``n`` of them), up
to a bounded number of reconnects.

``python3 flood.py HOST PORT CLIENTS SECONDS MAX_BYTES``: the pipelining flood, run in its own
process so that its CPU time does not disturb the measuring test's threads. Each client reads
the greeting, then pipelines ``a NOOP`` lines and reads (and counts) the replies, until
``SECONDS`` pass or it has sent ``MAX_BYTES`` and read every reply. It prints ``ready`` once
every client has its greeting, and at the end one JSON line per client:
``{"sent": bytes, "received": bytes, "replies": lines, "error": null | text}``.
"""

from __future__ import annotations

import errno
import json
import select
import socket
import sys
import time

NOOP = b"a NOOP\r\n"


def _chunk(command: bytes, size: int = 64 * 1024) -> bytes:
    return command * max(1, size // len(command))


class WriteOnlyFlood:
    """``n`` clients of ``host:port`` that send ``command`` and never read (see the module doc)."""

    def __init__(self, host: str, port: int, command: bytes, n: int = 4,
                 max_reconnects: int = 2000, reconnect_pause: float = 0.05):
        self.host, self.port, self.command, self.n = host, port, command, n
        self.chunk = _chunk(command)
        self.max_reconnects = max_reconnects
        self.reconnect_pause = reconnect_pause
        self.socks: list[socket.socket | None] = [None] * n
        self.phase = [0] * n  # offset into `command` of the next byte to send, per client
        self.closed_at = [0.0] * n
        self.sent = 0
        self.connects = 0
        self.closed_by_server = 0

    def _connect(self, i: int) -> None:
        s = socket.create_connection((self.host, self.port), timeout=5)
        s.setblocking(False)
        self.socks[i] = s
        self.phase[i] = 0
        self.connects += 1

    def _drop(self, i: int) -> None:
        s = self.socks[i]
        self.socks[i] = None
        self.closed_at[i] = time.monotonic()
        self.closed_by_server += 1
        if s is not None:
            s.close()

    def _write(self, i: int) -> None:
        s = self.socks[i]
        for _ in range(1000):  # until EAGAIN (bounded)
            try:
                k = s.send(self.chunk[self.phase[i]:])
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                    self._drop(i)
                    return
                raise
            self.sent += k
            self.phase[i] = (self.phase[i] + k) % len(self.command)

    def run(self, seconds: float, on_tick=None, tick: float = 0.25) -> None:
        """Flood for ``seconds``; ``on_tick()`` is called about every ``tick`` seconds."""
        for i in range(self.n):
            self._connect(i)
        end = time.monotonic() + seconds
        next_tick = time.monotonic()
        for _ in range(10_000_000):
            now = time.monotonic()
            if now >= end:
                break
            if on_tick is not None and now >= next_tick:
                on_tick()
                next_tick = now + tick
            for i in range(self.n):
                if (self.socks[i] is None and now - self.closed_at[i] >= self.reconnect_pause
                        and self.connects < self.n + self.max_reconnects):
                    self._connect(i)
            live = [s for s in self.socks if s is not None]
            if not live:
                time.sleep(0.01)
                continue
            _, writable, _ = select.select([], live, [], min(0.05, max(0.0, end - now)))
            for s in writable:
                self._write(self.socks.index(s))

    def close(self) -> None:
        for i, s in enumerate(self.socks):
            if s is not None:
                s.close()
                self.socks[i] = None


def pipelining_flood(host: str, port: int, clients: int, seconds: float, max_bytes: int,
                     ready=None) -> list[dict]:
    """The pipelining flood (see the module doc); ``ready()`` is called after the greetings."""
    socks, stats = [], []
    for _ in range(clients):
        s = socket.create_connection((host, port), timeout=10)
        greeting = b""
        for _ in range(100):
            if b"\r\n" in greeting:
                break
            part = s.recv(4096)
            if not part:
                break
            greeting += part
        s.setblocking(False)
        socks.append(s)
        stats.append({"sent": 0, "received": 0, "replies": 0, "error": None})
    if ready is not None:
        ready()
    chunk = _chunk(NOOP)
    phase = [0] * clients
    live = set(range(clients))
    end = time.monotonic() + seconds
    for _ in range(10_000_000):
        now = time.monotonic()
        if now >= end or not live:
            break
        rl = [socks[i] for i in live]
        wl = [socks[i] for i in live if stats[i]["sent"] < max_bytes]
        readable, writable, _ = select.select(rl, wl, [], min(0.05, end - now))
        for s in readable:
            i = socks.index(s)
            try:
                data = s.recv(256 * 1024)
            except BlockingIOError:
                continue
            except OSError as e:
                stats[i]["error"] = f"recv: {e}"
                live.discard(i)
                continue
            if not data:
                stats[i]["error"] = "closed by the server"
                live.discard(i)
                continue
            stats[i]["received"] += len(data)
            stats[i]["replies"] += data.count(b"\r\n")
            if stats[i]["sent"] >= max_bytes and stats[i]["replies"] >= stats[i]["sent"] // len(NOOP):
                live.discard(i)  # everything sent was answered
        for s in writable:
            i = socks.index(s)
            if i not in live:
                continue
            try:
                k = s.send(chunk[phase[i]:][:max_bytes - stats[i]["sent"]])
            except BlockingIOError:
                continue
            except OSError as e:
                stats[i]["error"] = f"send: {e}"
                live.discard(i)
                continue
            stats[i]["sent"] += k
            phase[i] = (phase[i] + k) % len(NOOP)
    for s in socks:
        s.close()
    return stats


def main(argv: list[str]) -> int:
    host, port, clients, seconds, max_bytes = argv[1], int(argv[2]), int(argv[3]), float(argv[4]), int(argv[5])

    def ready() -> None:
        print("ready", flush=True)

    for st in pipelining_flood(host, port, clients, seconds, max_bytes, ready):
        print(json.dumps(st), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
