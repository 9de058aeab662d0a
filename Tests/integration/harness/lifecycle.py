"""Helpers for the reload, drain and process tests: ``postern reload``, one short session per
protocol, a bounded load loop in threads, and waiting on the log."""

from __future__ import annotations

import re
import subprocess
import threading
import time

from . import world
from .clients import RawIMAP, imap_quote, sasl_plain
from .mailclients import RawPOP3, RawSieve
from .postern import Postern, postern_bin

HOST = "127.0.0.1"
U = world.USERS


def reload_cli(p: Postern, *args: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """``postern reload -c CONFIG`` -> (exit status, stdout, stderr)."""
    r = subprocess.run([postern_bin(), "reload", "-c", str(p.config_path), *args],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def wait_log(p: Postern, pattern: str, timeout: float = 15.0, after: int = 0) -> str:
    """Poll (bounded) until ``pattern`` (a regex) matches the log after offset ``after``; returns the
    matching line."""
    deadline = time.monotonic() + timeout
    while True:
        text = p.log_text()[after:]
        m = re.search(pattern, text)
        if m:
            start = text.rfind("\n", 0, m.start()) + 1
            end = text.find("\n", m.end())
            return text[start:end if end >= 0 else len(text)]
        if time.monotonic() >= deadline:
            raise AssertionError(f"no log line matching {pattern!r}:\n{p.log_tail()}")
        time.sleep(0.1)


# ----- one session per protocol ----------------------------------------------------------------
def imap_login(port: int, user: str, timeout: float = 20.0) -> RawIMAP:
    c = RawIMAP(HOST, port, timeout=timeout)
    _, tagged = c.cmd("l", f"LOGIN {user} {imap_quote(U[user])}")
    if not tagged.startswith("l OK"):
        c.close()
        raise AssertionError(f"IMAP login of {user} on {port}: {tagged}")
    return c


def imap_session(port: int, user: str) -> None:
    with imap_login(port, user) as c:
        _, tagged = c.cmd("s", "SELECT INBOX")
        assert tagged.startswith("s OK"), tagged
        c.send("o LOGOUT\r\n")
        _, tagged = c.read_until_tagged("o")
        assert tagged.startswith("o OK"), tagged


def imap_lands_on(port: int, user: str) -> str:
    """The backend marker in the subject of the user's message 1, as seen through ``port``."""
    with imap_login(port, user) as c:
        _, tagged = c.cmd("s", "SELECT INBOX")
        assert tagged.startswith("s OK"), tagged
        lines, tagged = c.cmd("f", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert tagged.startswith("f OK"), tagged
        text = b"\n".join(lines).decode(errors="replace")
        for marker in (world.MARKER_A, world.MARKER_B):
            if world.welcome_subject(user, marker) in text:
                return marker
        raise AssertionError(f"no backend marker in {text!r}")


def pop3_login(port: int, user: str, timeout: float = 20.0) -> RawPOP3:
    c = RawPOP3(HOST, port, timeout=timeout)
    status = c.cmd(f"USER {user}")
    assert status.startswith("+OK"), status
    status = c.cmd(f"PASS {U[user]}")
    if not status.startswith("+OK"):
        c.close()
        raise AssertionError(f"POP3 login of {user} on {port}: {status}")
    return c


def pop3_session(port: int, user: str) -> None:
    with pop3_login(port, user) as c:
        status = c.cmd("STAT")
        assert status.startswith("+OK"), status
        status = c.cmd("QUIT")
        assert status.startswith("+OK"), status


def sieve_login(port: int, user: str, timeout: float = 20.0) -> RawSieve:
    c = RawSieve(HOST, port, timeout=timeout)
    _, status = c.cmd(f'AUTHENTICATE "PLAIN" "{sasl_plain(user, U[user])}"')
    if not status.startswith("OK"):
        c.close()
        raise AssertionError(f"ManageSieve login of {user} on {port}: {status}")
    return c


def sieve_session(port: int, user: str) -> None:
    with sieve_login(port, user) as c:
        _, status = c.cmd("LISTSCRIPTS")
        assert status.startswith("OK"), status
        _, status = c.cmd("LOGOUT")
        assert status.startswith("OK"), status


SESSIONS = {"imap": imap_session, "pop3": pop3_session, "managesieve": sieve_session}


class LoadLoop:
    """Threads that each run short sessions (login, one command, logout) in a bounded loop until
    ``stop()``; every failure is kept with its exception."""

    def __init__(self, targets: list[tuple[str, int]], users: tuple[str, ...] = ("alice", "bob"),
                 max_sessions: int = 5000):
        self.targets = targets
        self.users = users
        self.max_sessions = max_sessions
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.ok: dict[str, int] = {proto: 0 for proto, _ in targets}
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(proto, port), daemon=True)
                        for proto, port in targets]

    def start(self) -> "LoadLoop":
        for t in self.threads:
            t.start()
        return self

    def _run(self, proto: str, port: int) -> None:
        session = SESSIONS[proto]
        for n in range(self.max_sessions):
            if self.done.is_set():
                return
            user = self.users[n % len(self.users)]
            try:
                session(port, user)
                with self.lock:
                    self.ok[proto] += 1
            except Exception as e:  # noqa: BLE001 - every failure counts
                with self.lock:
                    self.failures.append(f"{proto} {user} on {port}: {type(e).__name__}: {e}")

    def stop(self, timeout: float = 60.0) -> None:
        self.done.set()
        for t in self.threads:
            t.join(timeout)
        alive = [t for t in self.threads if t.is_alive()]
        assert not alive, f"{len(alive)} load threads did not stop"
