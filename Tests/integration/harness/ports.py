"""Free TCP ports for test listeners, in 20000-32000 (below the kernel's ephemeral range).

A port is handed out at most once per process (per test run), and only after a test
bind on every requested address succeeded.
"""

from __future__ import annotations

import random
import socket
import threading

LOW, HIGH = 20000, 32000
_given: set[int] = set()
_lock = threading.Lock()
_rng = random.Random()
_next = _rng.randrange(LOW, HIGH)


def _bindable(port: int, hosts: tuple[str, ...]) -> bool:
    socks = []
    try:
        for h in hosts:
            s = socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((h, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port(*hosts: str) -> int:
    """One port that is free on every host given (default 127.0.0.1)."""
    hosts = hosts or ("127.0.0.1",)
    global _next
    with _lock:
        for _ in range(HIGH - LOW):
            port = _next
            _next = LOW if _next + 1 >= HIGH else _next + 1
            if port in _given:
                continue
            if _bindable(port, hosts):
                _given.add(port)
                return port
    raise RuntimeError(f"no free TCP port in {LOW}-{HIGH} on {hosts}")


def free_ports(n: int, *hosts: str) -> list[int]:
    return [free_port(*hosts) for _ in range(n)]


def dead_port(host: str = "127.0.0.1") -> int:
    """A port where nothing listens (free now, and never handed to a listener in this run)."""
    return free_port(host)
