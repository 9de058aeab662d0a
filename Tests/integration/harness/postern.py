"""Run the Postern binary from a generated config, and talk to its admin endpoint.

``Postern(state_dir, config)`` writes ``postern.yaml`` into ``state_dir`` (from a dict, via a
small YAML emitter, or verbatim from text), runs ``postern run -c postern.yaml`` with stdout
and stderr going to ``postern.log`` in the same directory, and waits until every listen
address (and the admin address) accepts connections. It is stopped by its pid: SIGTERM,
then SIGKILL after 10 s.

The binary is ``$POSTERN_BIN``, or ``<repo>/.build/debug/postern``. ``nofile`` lowers the
process's open-file limit (soft and hard ``RLIMIT_NOFILE``) before it starts. Under
``scripts/sanitize`` a sanitizer report goes to ``sanitizer.PID`` in the state directory and fails
the test (see ``harness/sanitizer.py``).
"""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import procs, sanitizer
from .yamlout import dump

REPO = Path(__file__).resolve().parents[3]


def postern_bin() -> str:
    b = os.environ.get("POSTERN_BIN") or str(REPO / ".build" / "debug" / "postern")
    if not (os.path.isfile(b) and os.access(b, os.X_OK)):
        raise procs.ProcessError(
            f"Postern binary not found or not executable: {b} (build it with `swift build`, "
            "or set POSTERN_BIN)")
    return b


def split_hostport(s: str) -> tuple[str, int]:
    """``127.0.0.1:1143`` / ``[::1]:1143`` / ``localhost:1143`` -> (host, port)."""
    s = s.strip()
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        return host, int(rest.lstrip(":"))
    host, _, port = s.rpartition(":")
    return host, int(port)


def _addresses_from_text(text: str) -> list[str]:
    """Listen and admin addresses from YAML text (a crude scan, for text configs only)."""
    out: list[str] = []
    in_listen = False
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        line = re.sub(r"\s#.*$", "", line)  # trailing comment (no '#' in our address values)
        m = re.search(r"admin_listen\s*:\s*[\"']?([^\"'\s,}]+)", line)
        if m:
            out.append(m.group(1))
        if re.search(r"\blisten\s*:", line):
            in_listen = True
            out.extend(re.findall(r"[\"']?((?:\[[0-9a-fA-F:]+\]|[\w.-]+):\d+)[\"']?",
                                  line.split("listen", 1)[1]))
            continue
        if in_listen:
            m = re.match(r"\s*-\s*[\"']?((?:\[[0-9a-fA-F:]+\]|[\w.-]+):\d+)[\"']?\s*$", line)
            if m:
                out.append(m.group(1))
            else:
                in_listen = False
    return out


def parse_prometheus(text: str) -> dict[str, float]:
    """Prometheus text format -> {"name" or "name{labels}": value}."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "}" in line:
            key, _, rest = line.rpartition("}")
            key += "}"
        else:
            key, _, rest = line.partition(" ")
        fields = rest.split()
        if not fields:
            continue
        try:
            out[key.strip()] = float(fields[0])
        except ValueError:
            continue
    return out


def metric_sum(metrics: dict[str, float], name: str) -> float | None:
    """Sum of every series named ``name`` (with any labels); None if there is none."""
    vals = [v for k, v in metrics.items() if k == name or k.startswith(name + "{")]
    return sum(vals) if vals else None


class Postern:
    def __init__(self, state_dir, config=None, *, config_file=None, binary: str | None = None,
                 wait_for: list[str] | None = None, start_timeout: float = 30.0,
                 env: dict[str, str] | None = None, config_name: str = "postern.yaml",
                 nofile: int | None = None):
        """``config`` (dict or YAML text) is written to ``state_dir/config_name``; or
        ``config_file`` names an existing file that is used as it is (not rewritten).
        ``nofile``: the open-file limit (soft = hard) the process runs with."""
        self.state_dir = Path(state_dir).resolve()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.binary = binary
        self.external_config = config_file is not None
        if config_file is not None:
            self.config_path = Path(config_file).resolve()
            config = self.config_path.read_text()
        else:
            if config is None:
                raise ValueError("give config or config_file")
            self.config_path = self.state_dir / config_name
        self.config = config
        self.log_path = self.state_dir / "postern.log"
        self.start_timeout = start_timeout
        self.env = env
        self.nofile = nofile
        self.proc: subprocess.Popen | None = None
        self._log = None
        if isinstance(config, dict):
            self.addresses = list(wait_for) if wait_for is not None else self._addresses(config)
        else:
            self.addresses = list(wait_for) if wait_for is not None else _addresses_from_text(config)

    # ----- config ------------------------------------------------------------------------
    @staticmethod
    def _addresses(config: dict) -> list[str]:
        out = []
        admin = (config.get("server") or {}).get("admin_listen")
        if admin:
            out.append(admin)
        for lst in config.get("listeners") or []:
            out.extend(lst.get("listen") or [])
        return out

    @property
    def admin(self) -> str | None:
        if isinstance(self.config, dict):
            return (self.config.get("server") or {}).get("admin_listen")
        m = re.search(r"admin_listen\s*:\s*[\"']?([^\"'\s,}]+)", self.config)
        return m.group(1) if m else None

    def write_config(self, config=None) -> Path:
        if config is not None:
            self.config = config
        elif self.external_config:
            return self.config_path
        text = dump(self.config) if isinstance(self.config, dict) else self.config
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.config_path)
        return self.config_path

    # ----- life cycle ----------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> "Postern":
        binary = self.binary or postern_bin()
        self.write_config()
        self._log = open(self.log_path, "ab")
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        env = sanitizer.child_env(env, self.state_dir)
        limit = None
        if self.nofile is not None:
            n = self.nofile

            def limit() -> None:  # runs in the child between fork and exec
                resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))

        self.proc = subprocess.Popen([binary, "run", "-c", str(self.config_path)],
                                     cwd=self.state_dir, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                     preexec_fn=limit)
        procs.register(self)
        (self.state_dir / "postern.pid").write_text(f"{self.proc.pid}\n")
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.start_timeout)
        pending = list(self.addresses)
        last = ""
        while pending and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise procs.ProcessError(
                    f"postern exited with {self.proc.returncode} during start-up:\n{self.log_tail()}")
            host, port = split_hostport(pending[0])
            try:
                with socket.create_connection((host, port), timeout=2):
                    pass
                pending.pop(0)
                continue
            except OSError as e:
                last = f"{pending[0]}: {e}"
            time.sleep(0.1)
        if pending:
            raise procs.ProcessError(
                f"postern not listening on {pending} after {timeout or self.start_timeout}s "
                f"({last}):\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds. Returns the exit status."""
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
        sanitizer.collect(self.state_dir)  # a sanitized build's reports fail the test (conftest)
        return p.returncode

    def kill(self) -> None:
        if self.running():
            procs.kill_tree(self.proc.pid)
            self.proc.wait(10)
        self.stop()

    def reload(self, config=None) -> None:
        """Optionally rewrite the config file, then send SIGHUP."""
        if config is not None:
            self.write_config(config)
        procs.signal_pid(self.proc.pid, signal.SIGHUP)

    # ----- inspection ----------------------------------------------------------------------
    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kib(self) -> int:
        """Resident set size (``VmRSS`` of ``/proc/PID/status``) in KiB."""
        return rss_kib(self.proc.pid)

    def session_lines(self, listener: str | None = None) -> list[str]:
        """The log's ``session`` lines (one per ended session, of ``listener`` if given), oldest first.
        The log is in the default format, logfmt."""
        return [x for x in self.log_text().splitlines() if " msg=session " in x
                and (listener is None or log_field(x, "listener") == listener)]

    def lines(self, message: str) -> list[str]:
        """The logfmt lines whose ``msg`` is ``message``, oldest first."""
        return [x for x in self.log_text().splitlines() if log_field(x, "msg") == message]

    def wait_session_line(self, client: str, timeout: float = 10.0) -> str | None:
        """The ``session`` line of the client at ``client`` (``host:port``), polled until it is
        written (bounded); None if it is not there in time."""
        needle = f" client={client} "
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout * 20) + 2):
            for line in self.session_lines():
                if needle in line:
                    return line
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        return None

    def threads(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return f"--- {self.log_path} (tail) ---\n" + "\n".join(self.log_text().splitlines()[-lines:])

    def http_get(self, path: str, timeout: float = 10.0) -> tuple[int, str]:
        admin = self.admin
        if not admin:
            raise RuntimeError("config has no server.admin_listen")
        host, port = split_hostport(admin)
        h = f"[{host}]" if ":" in host else host
        try:
            with urllib.request.urlopen(f"http://{h}:{port}{path}", timeout=timeout) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def metrics_text(self) -> str:
        status, body = self.http_get("/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}: {body[:500]}")
        return body

    def metrics(self) -> dict[str, float]:
        return parse_prometheus(self.metrics_text())

    def metric(self, name: str) -> float | None:
        return metric_sum(self.metrics(), name)

    def sessions_active(self) -> float:
        v = self.metric("postern_sessions_active")
        if v is None:
            raise AssertionError("postern_sessions_active missing from /metrics:\n"
                                 + self.metrics_text()[:2000])
        return v

    def wait_sessions(self, value: float = 0, timeout: float = 30.0) -> float:
        """Poll until postern_sessions_active == value (bounded); returns the last value."""
        deadline = time.monotonic() + timeout
        v = self.sessions_active()
        while v != value and time.monotonic() < deadline:
            time.sleep(0.2)
            v = self.sessions_active()
        return v

    def wait_fds(self, value: int, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        n = self.open_fds()
        while n != value and time.monotonic() < deadline:
            time.sleep(0.2)
            n = self.open_fds()
        return n


def rss_kib(pid: int) -> int:
    """``VmRSS`` of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def logfmt_fields(line: str) -> dict[str, str]:
    """A logfmt line (as Postern writes it) -> {key: value}, quoted values unescaped."""
    out: dict[str, str] = {}
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] == " ":
            i += 1
        j = line.find("=", i)
        if j < 0:
            break
        key = line[i:j]
        i = j + 1
        if i < n and line[i] == '"':
            i += 1
            value = []
            while i < n and line[i] != '"':
                if line[i] == "\\" and i + 1 < n:
                    c = line[i + 1]
                    if c == "u" and i + 5 < n:
                        value.append(chr(int(line[i + 2:i + 6], 16)))
                        i += 6
                        continue
                    value.append({"n": "\n", "r": "\r", "t": "\t"}.get(c, c))
                    i += 2
                    continue
                value.append(line[i])
                i += 1
            i += 1
            out[key] = "".join(value)
        else:
            j = line.find(" ", i)
            j = n if j < 0 else j
            out[key] = line[i:j]
            i = j
    return out


def log_field(line: str, name: str) -> str | None:
    """The value of ``name`` in a logfmt log line (unquoted and unescaped), or None."""
    return logfmt_fields(line).get(name)


def check_config(path, binary: str | None = None, timeout: float = 60.0) -> tuple[int, str]:
    """``postern check-config -c PATH`` -> (exit code, stdout+stderr)."""
    p = subprocess.run([binary or postern_bin(), "check-config", "-c", str(path)],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")
