"""Postern benchmark (run through scripts/bench): prints memory per session and throughput.

Memory is Postern's resident set size (VmRSS) with N sessions open minus the figure before
they were opened, divided by N, for three kinds of session:
  - idle pre-login plaintext connections (greeted, nothing sent);
  - idle pre-login implicit-TLS connections (handshake done, greeted);
  - logged-in relayed sessions (client and backend sockets, plaintext), idle.
Throughput is the 8 MiB message fetched through Postern (plaintext and TLS) and directly
from Dovecot, in MiB/s; login rate is sequential LOGIN+LOGOUT round trips per second.
Every loop is bounded; all processes are stopped by pid at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import socket
import ssl
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "integration"))

from harness import world  # noqa: E402
from harness.pki import ensure_pki  # noqa: E402
from harness.postern import Postern  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def settle(pid: int, seconds: float = 1.0) -> int:
    time.sleep(seconds)
    return rss_kib(pid)


def recv_line(sock) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def read_greeting(sock, sieve: bool) -> None:
    """One line for IMAP and POP3; ManageSieve's capability block ends with an OK line."""
    data = recv_line(sock)
    while sieve and not any(line.startswith(b"OK") for line in data.splitlines()):
        data += recv_line(sock)


def fetch_big(sock, user: str, password: str) -> tuple[float, str]:
    """Log in, fetch UID 2 (8 MiB) and return (seconds, sha256 of the literal)."""
    f = sock.makefile("rb")
    f.readline()
    sock.sendall(f"a LOGIN {user} {password}\r\n".encode())
    while not f.readline().startswith(b"a "):
        pass
    sock.sendall(b"b SELECT INBOX\r\n")
    while not f.readline().startswith(b"b "):
        pass
    start = time.monotonic()
    sock.sendall(b"c UID FETCH 2 BODY.PEEK[]\r\n")
    line = f.readline()
    size = int(line[line.rindex(b"{") + 1:line.rindex(b"}")])
    body = f.read(size)
    while not f.readline().startswith(b"c "):
        pass
    elapsed = time.monotonic() - start
    sock.sendall(b"d LOGOUT\r\n")
    return elapsed, hashlib.sha256(body).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--idle", type=int, default=2000, help="idle plaintext pre-login connections per protocol")
    ap.add_argument("--tls", type=int, default=1000, help="idle implicit-TLS pre-login connections")
    ap.add_argument("--relay", type=int, default=300, help="idle logged-in sessions")
    ap.add_argument("--fetches", type=int, default=5, help="8 MiB fetches per path")
    ap.add_argument("--logins", type=int, default=200, help="sequential logins for the login rate")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    need = max(args.idle, args.tls, args.relay) + 100
    if hard < need:
        print(f"the open-file limit ({hard}) is below {need}: lower the counts", file=sys.stderr)
        return 2

    state = Path(tempfile.mkdtemp(prefix="postern-bench-"))
    pki = ensure_pki(state / "pki")
    backends = world.start_backends(state / "backends", pki, deliver_big=True)
    proxy: Postern | None = None
    try:
        plan = world.postern_config(state / "postern", backends, pki,
                                    imap_listeners=("imap", "imaps", "pop3", "sieve"),
                                    limits={"max_sessions": 20000, "login_timeout": 600})
        host = "127.0.0.1"

        def fresh() -> tuple[Postern, int]:
            """A new Postern process, so one phase's freed memory does not hide the next one's."""
            nonlocal proxy
            if proxy is not None:
                proxy.stop()
            proxy = Postern(state / "postern", plan.config).start()
            return proxy, proxy.pid

        proxy, pid = fresh()
        ctx = ssl.create_default_context(cafile=str(pki.ca))
        print(f"postern {proxy.binary or ''} pid {pid}; backends: Dovecot on {backends.a.address} and {backends.b.address}")
        print(f"RSS at start: {rss_kib(pid)} KiB")

        # --- idle pre-login connections, per protocol, plaintext and TLS ---------------------
        # (label, listener, TLS?, count): each connection is greeted and then left idle.
        phases = [
            ("IMAP plaintext", "imap", False, args.idle),
            ("POP3 plaintext", "pop3", False, args.idle),
            ("ManageSieve plaintext", "sieve", False, args.idle),
            ("IMAP implicit TLS", "imaps", True, args.tls),
        ]
        socks = []
        for label, name, use_tls, count in phases:
            proxy, pid = fresh()
            base = settle(pid)
            t0 = time.monotonic()
            for _ in range(count):
                s = socket.create_connection((host, plan.ports[name]), timeout=10)
                if use_tls:
                    s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
                read_greeting(s, sieve=name == "sieve")
                socks.append(s)
            after = settle(pid)
            print(f"idle pre-login, {label}: {count} connections in {time.monotonic() - t0:.1f} s, "
                  f"RSS {base} -> {after} KiB = {(after - base) / count:.1f} KiB per session")
            for s in socks:
                s.close()
            socks.clear()
            proxy.wait_sessions(0, timeout=60)

        # --- idle logged-in relay sessions, plaintext and TLS on the client side -------------
        user, password = "alice", world.USERS["alice"]
        for kind in ("plaintext", "implicit TLS"):
            proxy, pid = fresh()
            base = settle(pid)
            t0 = time.monotonic()
            for _ in range(args.relay):
                s = socket.create_connection((host, plan.ports["imap" if kind == "plaintext" else "imaps"]), timeout=20)
                if kind != "plaintext":
                    s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
                f = s.makefile("rb")
                f.readline()
                s.sendall(f"a LOGIN {user} {password}\r\n".encode())
                line = f.readline()
                if not line.startswith(b"a OK"):
                    raise RuntimeError(f"login failed: {line!r}")
                socks.append((s, f))
            after = settle(pid, 2.0)
            print(f"idle logged-in sessions, {kind} client: {args.relay} in {time.monotonic() - t0:.1f} s, "
                  f"RSS {base} -> {after} KiB = {(after - base) / args.relay:.1f} KiB per session "
                  f"(client and backend sockets)")
            for s, f in socks:
                f.close()
                s.close()
            socks.clear()
            proxy.wait_sessions(0, timeout=60)

        # --- login rate -------------------------------------------------------------------
        t0 = time.monotonic()
        for _ in range(args.logins):
            s = socket.create_connection((host, plan.ports["imap"]), timeout=20)
            f = s.makefile("rb")
            f.readline()
            s.sendall(f"a LOGIN {user} {password}\r\nb LOGOUT\r\n".encode())
            while not f.readline().startswith(b"b "):
                pass
            f.close()
            s.close()
        elapsed = time.monotonic() - t0
        print(f"login rate: {args.logins} sequential LOGIN+LOGOUT through Postern in {elapsed:.1f} s "
              f"= {args.logins / elapsed:.0f} logins/s (one client; Dovecot's auth is most of it)")

        # --- throughput -------------------------------------------------------------------
        big_user, big_pw = "big", world.USERS["big"]
        want = backends.big_sha256
        size_mib = len(backends.big_message) / 2**20
        paths = {
            "direct to Dovecot": lambda: socket.create_connection((backends.a.address, backends.imap_port), timeout=60),
            "through Postern, plaintext": lambda: socket.create_connection((host, plan.ports["imap"]), timeout=60),
            "through Postern, implicit TLS": lambda: ctx.wrap_socket(
                socket.create_connection((host, plan.ports["imaps"]), timeout=60), server_hostname="127.0.0.1"),
        }
        for name, connect in paths.items():
            times = []
            for _ in range(args.fetches):
                s = connect()
                elapsed, digest = fetch_big(s, big_user, big_pw)
                s.close()
                if digest != want:
                    raise RuntimeError(f"{name}: sha256 mismatch")
                times.append(elapsed)
            best = min(times)
            print(f"8 MiB fetch {name}: best {size_mib / best:.0f} MiB/s, median "
                  f"{size_mib / sorted(times)[len(times) // 2]:.0f} MiB/s over {args.fetches} fetches (sha256 checked)")
        print(f"RSS at end: {rss_kib(pid)} KiB; open fds: {proxy.open_fds()}")
    finally:
        if proxy is not None:
            proxy.stop()
        backends.stop()
        shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
