"""Real HAProxy (Debian's ``haproxy`` package) in TCP mode, from its own generated config, stopped by
its pid. The system's /etc/haproxy and its service are never touched. Two shapes:

- ``HAProxy(state_dir, frontends)``: each frontend is ``(bind "host:port", [server "host:port", ...],
  server options)``, e.g. ``("127.0.0.1:20001", ["127.0.0.1:20002"], "send-proxy-v2")``.
- ``LoadBalancer(state_dir, front_host, front_port, servers)``: several Postern instances as
  docs/scale-out.md sets them up (``send-proxy-v2`` to every server, health checks ``GET /readyz``
  against each server's admin port, ``option redispatch``); ``servers_stat()`` reads the runtime
  API's ``show stat`` over the admin socket in the state directory.

Both run ``haproxy -db -f haproxy.cfg`` (foreground, no daemon, no master) after ``haproxy -c``
accepted the file.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import procs
from .postern import split_hostport

HAPROXY = os.environ.get("HAPROXY_BIN") or shutil.which("haproxy") or "/usr/sbin/haproxy"


class _HAProxyProcess:
    """The process: config written, checked, started, waited for (``_ready``), stopped by pid."""

    def __init__(self, state_dir, start_timeout: float):
        self.state_dir = Path(state_dir).resolve()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.start_timeout = start_timeout
        self.config_path = self.state_dir / "haproxy.cfg"
        self.log_path = self.state_dir / "haproxy.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def config_text(self) -> str:
        raise NotImplementedError

    def _ready(self) -> str | None:
        """None once ready, else what is still missing."""
        raise NotImplementedError

    def start(self):
        if not (os.path.isfile(HAPROXY) and os.access(HAPROXY, os.X_OK)):
            raise procs.ProcessError(f"haproxy not found ({HAPROXY}); run scripts/setup (apt: haproxy)")
        self.config_path.write_text(self.config_text())
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
        missing = "not started"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise procs.ProcessError(f"haproxy exited with {self.proc.returncode}:\n{self.log_tail()}")
            missing = self._ready()
            if missing is None:
                return
            time.sleep(0.1)
        raise procs.ProcessError(f"haproxy not ready ({missing}):\n{self.log_tail()}")

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

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class HAProxy(_HAProxyProcess):
    """Plain TCP frontends, each to its list of servers with the given server options."""

    def __init__(self, state_dir, frontends: list[tuple[str, list[str], str]], start_timeout: float = 10.0):
        super().__init__(state_dir, start_timeout)
        self.frontends = frontends

    def config_text(self) -> str:
        out = [
            "# Generated by Tests/integration/harness/haproxy.py for a private test instance.",
            "global",
            "  maxconn 2000",
            "defaults",
            "  mode tcp",
            "  timeout connect 5s",
            "  timeout client 120s",
            "  timeout server 120s",
        ]
        for i, (bind, servers, options) in enumerate(self.frontends):
            out += [f"frontend f{i}", f"  bind {bind}", f"  default_backend b{i}", f"backend b{i}"]
            out += [f"  server s{i}_{j} {server} {options}".rstrip() for j, server in enumerate(servers)]
        return "\n".join(out) + "\n"

    def _ready(self) -> str | None:
        for bind, _, _ in self.frontends:
            if not _accepts(*split_hostport(bind)):
                return f"not listening on {bind}"
        return None


@dataclass
class Server:
    """One Postern instance behind a ``LoadBalancer``: its IMAP listener and its admin port (/readyz)."""

    name: str
    host: str
    port: int
    admin_port: int


class LoadBalancer(_HAProxyProcess):
    """docs/scale-out.md's set-up: round robin over Postern instances checked on ``/readyz``."""

    BACKEND = "postern_imap"

    def __init__(self, state_dir, front_host: str, front_port: int, servers: list[Server],
                 start_timeout: float = 20.0, inter_ms: int = 200):
        super().__init__(state_dir, start_timeout)
        self.front_host, self.front_port = front_host, front_port
        self.servers = servers
        self.inter_ms = inter_ms
        self.socket_path = self.state_dir / "admin.sock"

    def config_text(self) -> str:
        lines = [
            "global",
            "    maxconn 4096",
            f"    stats socket {self.socket_path} mode 600 level admin",
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
            f"    bind {self.front_host}:{self.front_port}",
            f"    default_backend {self.BACKEND}",
            "",
            f"backend {self.BACKEND}",
            "    balance roundrobin",
            "    option httpchk GET /readyz",
            "    http-check expect status 200",
            f"    default-server inter {self.inter_ms}ms fall 1 rise 2",
        ]
        for s in self.servers:
            lines.append(f"    server {s.name} {s.host}:{s.port} send-proxy-v2 check port {s.admin_port}")
        return "\n".join(lines) + "\n"

    def _ready(self) -> str | None:
        if not _accepts(self.front_host, self.front_port):
            return f"not listening on {self.front_host}:{self.front_port}"
        try:
            stat = self.servers_stat()
        except OSError as e:
            return str(e)
        if not all(row["status"].startswith("UP") for row in stat.values()):
            return f"servers: {[(k, v['status']) for k, v in stat.items()]}"
        return None

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
        return {r["svname"]: r for r in rows if r.get("pxname") == self.BACKEND
                and r.get("svname") not in ("BACKEND", "FRONTEND")}
