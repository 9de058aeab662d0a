"""A private HAProxy (Debian's package) in front of several Postern instances, as docs/scale-out.md sets it up.

``HAProxy(state_dir, front_port, servers)`` writes ``haproxy.cfg`` (TCP mode, ``send-proxy-v2`` to
every server, health checks ``GET /readyz`` against each server's admin port, ``option redispatch``)
and runs ``haproxy -db -f haproxy.cfg`` in the foreground, stopped by its pid. ``stat()`` reads the
runtime API's ``show stat`` over the admin socket in the state directory.
"""

from __future__ import annotations

import csv
import io
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import procs

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


@dataclass
class Server:
    """One Postern instance: its IMAP listener and its admin endpoint (for /readyz)."""

    name: str
    host: str
    port: int
    admin_port: int


def config_text(front: str, servers: list[Server], stats_socket: Path, *, inter_ms: int = 200) -> str:
    lines = [
        "global",
        "    maxconn 4096",
        f"    stats socket {stats_socket} mode 600 level admin",
        "",
        "defaults",
        "    mode tcp",
        "    option redispatch",
        "    retries 3",
        "    timeout connect 2s",
        "    timeout client 35m",
        "    timeout server 35m",
        "    timeout check 1s",
        "",
        "frontend imap",
        f"    bind {front}",
        "    default_backend postern_imap",
        "",
        "backend postern_imap",
        "    balance roundrobin",
        "    option httpchk GET /readyz",
        "    http-check expect status 200",
        f"    default-server inter {inter_ms}ms fall 1 rise 2",
    ]
    for s in servers:
        lines.append(f"    server {s.name} {s.host}:{s.port} send-proxy-v2 check port {s.admin_port}")
    return "\n".join(lines) + "\n"


class HAProxy:
    def __init__(self, state_dir, front_host: str, front_port: int, servers: list[Server],
                 start_timeout: float = 20.0):
        self.state_dir = Path(state_dir).resolve()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.front_host, self.front_port = front_host, front_port
        self.servers = servers
        self.socket_path = self.state_dir / "admin.sock"
        self.config_path = self.state_dir / "haproxy.cfg"
        self.log_path = self.state_dir / "haproxy.log"
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> "HAProxy":
        self.config_path.write_text(
            config_text(f"{self.front_host}:{self.front_port}", self.servers, self.socket_path))
        check = subprocess.run([HAPROXY, "-c", "-f", str(self.config_path)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        if check.returncode != 0:
            raise procs.ProcessError(f"haproxy -c refused the config:\n{check.stdout.decode(errors='replace')}")
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", str(self.config_path)], cwd=self.state_dir,
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        procs.register(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise procs.ProcessError(f"haproxy exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection((self.front_host, self.front_port), timeout=1):
                    pass
                if all(row["status"].startswith("UP") for row in self.servers_stat().values()):
                    return
                last = f"servers: {[(k, v['status']) for k, v in self.servers_stat().items()]}"
            except OSError as e:
                last = str(e)
            time.sleep(0.1)
        raise procs.ProcessError(f"haproxy not ready ({last}):\n{self.log_tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        p = self.proc
        if p is None:
            return None
        if p.poll() is None:
            procs.signal_pid(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                procs.kill_tree(p.pid)
                p.wait(10)
        procs.unregister(self)
        if self._log is not None:
            self._log.close()
            self._log = None
        return p.returncode

    # ----- runtime API -----------------------------------------------------------------------
    def command(self, text: str, timeout: float = 5.0) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.socket_path))
            s.sendall(text.encode() + b"\n")
            data = b""
            for _ in range(10_000):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data.decode(errors="replace")

    def servers_stat(self) -> dict[str, dict[str, str]]:
        """``show stat`` rows of the Postern backend's servers, by server name."""
        text = self.command("show stat")
        if text.startswith("# "):
            text = text[2:]
        rows = csv.DictReader(io.StringIO(text))
        return {r["svname"]: r for r in rows if r.get("pxname") == "postern_imap"
                and r.get("svname") not in ("BACKEND", "FRONTEND")}

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
