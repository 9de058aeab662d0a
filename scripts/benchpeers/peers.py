"""The servers of `scripts/bench --peers`: one Dovecot backend, and Postern, nginx and Perdition in
front of it, configured alike on 127.0.0.1 (ports below 32768), each in its own state folder.

Every target serves three client ports: ``imap`` (plaintext with STARTTLS offered), ``imaps`` and
``pop3s`` (implicit TLS), all with the same RSA 2048 certificate, and logs in to the backend's
plaintext IMAP or POP3 port for the users of ``users`` only (each proxy routes by user name: a
map file for Postern, an nginx ``map`` behind its ``auth_http``, a ``popmap.re`` for Perdition).
Processes are started in their own session and stopped by pid.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import time
from pathlib import Path

from harness import procs
from harness.dovecot import Dovecot
from harness.perdition import PERDITION, map_library
from harness.ports import free_port
from harness.postern import Postern

HOST = "127.0.0.1"
NGINX = "/usr/sbin/nginx"
NGINX_MAIL_MODULE = "/usr/lib/nginx/modules/ngx_mail_module.so"
PORT_NAMES = ("imap", "imaps", "pop3s")


class BenchDovecot(Dovecot):
    """The harness's Dovecot, tuned for load: the auth cache on, and IMAP and POP3 processes
    that serve many connections each (so the backend forks no process per login)."""

    def config_text(self) -> str:
        text = super().config_text()
        for service in ("imap", "pop3"):
            old = f"service {service} {{\n  process_limit = 3000\n}}"
            if old not in text:
                raise RuntimeError(f"harness dovecot.conf changed: no '{old}' block to tune")
            text = text.replace(old, f"service {service} {{\n  process_limit = 3000\n  client_limit = 200\n"
                                     "  service_count = 0\n  process_min_avail = 2\n}")
        if "auth_cache_size = 0" not in text:
            raise RuntimeError("harness dovecot.conf changed: no auth_cache_size line to tune")
        return text.replace("auth_cache_size = 0", "auth_cache_size = 10M")


def package_version(name: str) -> str:
    """The installed Debian package's version (``dpkg-query``), or ``?``."""
    p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True, text=True, timeout=30)
    return p.stdout.strip() or "?"


def wait_listening(ports: list[int], alive, what: str, timeout: float = 20.0) -> None:
    """Bounded wait until every port accepts a connection (``alive()`` false: the process died)."""
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending and time.monotonic() < deadline:
        if not alive():
            raise procs.ProcessError(f"{what} exited during start-up")
        try:
            with socket.create_connection((HOST, pending[0]), timeout=2):
                pending.pop(0)
                continue
        except OSError:
            time.sleep(0.1)
    if pending:
        raise procs.ProcessError(f"{what} not listening on {pending} after {timeout} s")


class Target:
    """A server the load is run against: a name, its client ports and its processes."""

    name = ""
    proxy = True
    forks = False  # a process per connection, reaped by the root

    def __init__(self, state: Path):
        self.state = state
        self.ports: dict[str, int] = {}

    def roots(self) -> list[int]:
        """The pids whose process trees are this target's processes."""
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def restart(self) -> None:
        self.stop()
        self.start()

    def version(self) -> str:
        return ""


class Direct(Target):
    """Dovecot itself, without a proxy: the baseline."""

    name = "direct"
    proxy = False

    def __init__(self, dovecot: Dovecot):
        super().__init__(dovecot.state_dir)
        self.dovecot = dovecot
        self.ports = {"imap": dovecot.imap_port, "imaps": dovecot.imaps_port, "pop3s": dovecot.pop3s_port}

    def roots(self) -> list[int]:
        return [self.dovecot.pid]

    def start(self) -> None:
        self.dovecot.start()

    def stop(self) -> None:
        self.dovecot.stop()


class PosternTarget(Target):
    name = "postern"

    def __init__(self, state: Path, backend: Dovecot, pki, users: dict[str, str], binary: str,
                 name: str = "postern", event_loop: str | None = None, admin: bool = False,
                 status_page: bool = False):
        """``event_loop``: ``server.event_loop`` (else ``POSTERN_EVENT_LOOP`` from the environment, else the
        binary's default); ``name`` tells this Postern apart in the table (``--postern-variant``).
        ``admin``: an admin listener on 127.0.0.1; ``status_page``: also a headless Chromium that keeps the
        status page (``GET /``) open on it, refreshing itself, for as long as this Postern runs."""
        super().__init__(state)
        self.name = name
        self.binary = binary
        self.event_loop = event_loop or os.environ.get("POSTERN_EVENT_LOOP")
        self.ports = {n: free_port(HOST) for n in PORT_NAMES}
        self.status_page = status_page
        self.browser = None
        state.mkdir(parents=True, exist_ok=True)
        (state / "users.map").write_text("".join(f"{u} {HOST}\n" for u in users))
        server: dict = {"log_level": "info", **({"event_loop": self.event_loop} if self.event_loop else {})}
        if admin or status_page:
            server["admin_listen"] = f"{HOST}:{free_port(HOST)}"
        self.config = {
            "server": server,
            "listeners": [
                self._listener("imap", "imap", "starttls", backend.imap_port),
                self._listener("imaps", "imap", "implicit", backend.imap_port),
                self._listener("pop3s", "pop3", "implicit", backend.pop3_port),
            ],
            "tls": {"certificate": str(pki.proxy_cert), "key": str(pki.proxy_key)},
            "map": {"file": "users.map"},
            "limits": {"max_connections": 60000},
        }
        self.proc: Postern | None = None

    def _listener(self, name: str, protocol: str, tls: str, backend_port: int) -> dict:
        return {"name": name, "protocol": protocol, "listen": [f"{HOST}:{self.ports[name]}"], "tls": tls,
                "backend": {"port": backend_port, "tls": "none"}}

    def roots(self) -> list[int]:
        return [self.proc.pid]

    def start(self) -> None:
        self.proc = Postern(self.state, self.config, binary=self.binary).start()
        if self.status_page:
            self._open_page()

    def _open_page(self) -> None:
        """Load the status page in the browser (started once) and wait for its first render; the page then
        refreshes itself from the admin API every 2 s while the load runs."""
        from selenium.webdriver.common.by import By

        from harness.browser import Browser

        if self.browser is None:
            self.browser = Browser(self.state / "browser")
        self.browser.driver.get(f"http://{self.config['server']['admin_listen']}/")
        deadline = time.monotonic() + 30
        while not self.browser.driver.find_element(By.TAG_NAME, "body").get_attribute("data-loaded"):
            if time.monotonic() >= deadline:
                raise procs.ProcessError(f"{self.name}: the status page did not render within 30 s")
            time.sleep(0.1)

    def page_age(self) -> float | None:
        """Seconds since the open page last rendered fresh data from the admin API (it does every 2 s while
        it refreshes), or None without a page."""
        if self.browser is None:
            return None
        return self.browser.driver.execute_script(
            "return (Date.now() - Number(document.body.dataset.loaded || 0)) / 1000")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def close(self) -> None:
        """Stop Postern and the browser, if any."""
        self.stop()
        if self.browser is not None:
            self.browser.close()
            self.browser = None

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True, timeout=30)
        loop = f", event_loop {self.event_loop}" if self.event_loop else ""
        page = ", status page open in headless Chromium" if self.status_page else ""
        return f"Postern {out.stdout.strip()} ({self.binary}{loop}{page})"


class Daemon:
    """One foreground server process in its own session, output to a log file, stopped by pid."""

    def __init__(self, argv: list[str], log: Path, cwd: Path, nofile: int | None = None):
        """``nofile``: the soft open-file limit to run with (else the bench's own, raised one)."""
        self.argv, self.log_path, self.cwd, self.nofile = argv, log, cwd, nofile
        self.proc: subprocess.Popen | None = None

    def _limits(self) -> None:
        if self.nofile is not None:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(self.nofile, hard), hard))

    def start(self) -> None:
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=self._limits)
        procs.register(self)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        p = self.proc
        if p is None:
            return
        kids = procs.descendants_of(p.pid)
        if p.poll() is None:
            procs.signal_pid(p.pid, sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                procs.kill_tree(p.pid)
                p.wait(10)
        left = [k for k in kids if procs.alive(k)]
        for k in left:
            procs.signal_pid(k, signal.SIGKILL)
        procs.wait_gone(left, 5)
        procs.unregister(self)
        self._log.close()
        self.proc = None


class NginxTarget(Target):
    """nginx 1.22's mail proxy (Debian's libnginx-mod-mail). Its ``auth_http`` is answered by a
    second server block of the same nginx on loopback, which routes by ``Auth-User`` with a map."""

    name = "nginx"

    def __init__(self, state: Path, backend: Dovecot, pki, users: dict[str, str]):
        super().__init__(state)
        self.ports = {n: free_port(HOST) for n in PORT_NAMES}
        self.auth_port = free_port(HOST)
        state.mkdir(parents=True, exist_ok=True)
        (state / "tmp").mkdir(exist_ok=True)
        self.conf = state / "nginx.conf"
        self.conf.write_text(self.config_text(backend, pki, users))
        self.daemon = Daemon([NGINX, "-p", str(state), "-c", str(self.conf), "-e", str(state / "error.log")],
                             state / "nginx.out", state)

    def config_text(self, backend: Dovecot, pki, users: dict[str, str]) -> str:
        s, p = self.state, self.ports
        routes = "".join(f"        {u} {HOST};\n" for u in users)
        return f"""# Generated by scripts/benchpeers/peers.py: nginx's mail proxy in front of one Dovecot.
load_module {NGINX_MAIL_MODULE};
daemon off;
master_process on;
worker_processes auto;
worker_rlimit_nofile 200000;
pid {s}/nginx.pid;
error_log {s}/error.log error;

events {{
    worker_connections 60000;
}}

http {{
    access_log off;
    client_body_temp_path {s}/tmp/body;
    proxy_temp_path {s}/tmp/proxy;
    fastcgi_temp_path {s}/tmp/fastcgi;
    uwsgi_temp_path {s}/tmp/uwsgi;
    scgi_temp_path {s}/tmp/scgi;

    # The routing: user name -> backend address (nginx wants an IP address); unknown users
    # get an error status, which the mail proxy passes to the client as a failed login.
    map $http_auth_user $bench_server {{
        default "";
{routes}    }}
    map $http_auth_protocol $bench_port {{
        default {backend.imap_port};
        pop3 {backend.pop3_port};
    }}
    map $bench_server $bench_status {{
        "" "Invalid login or password";
        default OK;
    }}

    server {{
        listen {HOST}:{self.auth_port};
        location = /auth {{
            add_header Auth-Status $bench_status always;
            add_header Auth-Server $bench_server always;
            add_header Auth-Port $bench_port always;
            return 204;
        }}
    }}
}}

mail {{
    auth_http {HOST}:{self.auth_port}/auth;
    proxy_pass_error_message on;
    ssl_certificate {pki.proxy_cert};
    ssl_certificate_key {pki.proxy_key};
    ssl_protocols TLSv1.2 TLSv1.3;
    imap_capabilities IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE;

    server {{
        listen {HOST}:{p["imap"]};
        protocol imap;
        starttls on;
    }}
    server {{
        listen {HOST}:{p["imaps"]} ssl;
        protocol imap;
    }}
    server {{
        listen {HOST}:{p["pop3s"]} ssl;
        protocol pop3;
    }}
}}
"""

    def roots(self) -> list[int]:
        return [self.daemon.proc.pid]

    def start(self) -> None:
        self.daemon.start()
        wait_listening(list(self.ports.values()) + [self.auth_port], self.daemon.alive, "nginx")

    def stop(self) -> None:
        self.daemon.stop(signal.SIGTERM)

    def version(self) -> str:
        return f"nginx {package_version('nginx')}, libnginx-mod-mail {package_version('libnginx-mod-mail')}"


class PerditionTarget(Target):
    """Perdition 2.2 (Debian's package) as a daemon: one process per protocol and port (IMAP4 with
    STARTTLS, IMAP4S, POP3S), each forking a child per connection; routes with a popmap.re."""

    name = "perdition"
    forks = True

    def __init__(self, state: Path, backend: Dovecot, pki, users: dict[str, str]):
        super().__init__(state)
        if not os.access(PERDITION, os.X_OK):
            raise procs.ProcessError(f"{PERDITION} not found: run scripts/setup")
        self.ports = {n: free_port(HOST) for n in PORT_NAMES}
        state.mkdir(parents=True, exist_ok=True)
        popmap = state / "popmap.re"
        popmap.write_text("".join(f"^{u}$: {HOST}\n" for u in users))
        self.daemons: list[Daemon] = []
        plan = (("imap", "IMAP4", "tls_listen", backend.imap_port),
                ("imaps", "IMAP4S", "ssl_listen", backend.imap_port),
                ("pop3s", "POP3S", "ssl_listen", backend.pop3_port))
        for name, protocol, ssl_mode, out_port in plan:
            d = state / name
            d.mkdir(exist_ok=True)
            conf = d / "perdition.conf"
            conf.write_text("\n".join([
                "# Generated by scripts/benchpeers/peers.py",
                f"protocol {protocol}",
                f"bind_address {HOST}",
                f"listen_port {self.ports[name]}",
                f"outgoing_port {out_port}",
                f"map_library {map_library('posix_regex')}",
                f"map_library_opt {popmap}",
                "no_lookup",
                "server_resp_line",
                "timeout 1800",
                "connection_limit 0",
                f"ssl_mode {ssl_mode}",
                f"ssl_cert_file {pki.proxy_cert}",
                f"ssl_key_file {pki.proxy_key}",
                f"log_facility {d}/perdition.log",
                f"pid_file {d}/perdition.pid",
            ]) + "\n")
            # Each child closes every descriptor up to the soft limit after the fork: run with the
            # usual 1024 (a service's default), not the bench's raised limit.
            self.daemons.append(Daemon([PERDITION, "--no_daemon", "-f", str(conf)], d / "perdition.out", d,
                                       nofile=1024))

    def roots(self) -> list[int]:
        return [d.proc.pid for d in self.daemons]

    def start(self) -> None:
        for d in self.daemons:
            d.start()
        wait_listening(list(self.ports.values()), lambda: all(d.alive() for d in self.daemons), "perdition")

    def stop(self) -> None:
        for d in self.daemons:
            d.stop(signal.SIGTERM)

    def version(self) -> str:
        return f"Perdition {package_version('perdition')}"
