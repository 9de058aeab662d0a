"""The session engine's backend and socket bounds (issue 8), against the real binary and Dovecot.

- A backend that accepts and never greets fails over to the next candidate within the
  connect timeout and counts against its circuit breaker.
- TCP keepalive on the accepted client socket and on the backend socket (``ss`` timers).
- Running out of file descriptors (``EMFILE``) is a local failure: the client gets
  ``NO [UNAVAILABLE]`` (or is not served at all), and no healthy backend's breaker opens.
"""

from __future__ import annotations

import copy
import re
import subprocess
import time

from harness import world
from harness.clients import RawIMAP, imap_quote
from harness.lifecycle import wait_log
from harness.silent import SilentServer

HOST = "127.0.0.1"
U = world.USERS


def login(c: RawIMAP, user: str = "alice", tag: str = "l") -> str:
    _, tagged = c.cmd(tag, f"LOGIN {user} {imap_quote(U[user])}", timeout=30)
    return tagged


def lands_on(c: RawIMAP, marker: str) -> bool:
    """Message 1 of the INBOX names the backend the session reached."""
    c.cmd("s", "SELECT INBOX")
    lines, tagged = c.cmd("f", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    return tagged.startswith("f OK") and any(marker.encode() in x for x in lines)


def breaker_opened(p, label: str | None = None) -> float:
    """``postern_backend_breaker_opened_total`` for one backend (or all); 0 when absent."""
    m = p.metrics()
    if label is None:
        return sum(v for k, v in m.items() if k.startswith("postern_backend_breaker_opened_total"))
    return m.get(f'postern_backend_breaker_opened_total{{backend="{label}"}}', 0.0)


# ----- 3. a backend that accepts and never greets -------------------------------------------------
def test_a_backend_that_never_greets_fails_over_and_opens_its_breaker(postern_factory, backends):
    connect_timeout = 2
    silent = SilentServer("127.0.0.3")
    try:
        good = f"{world.HOST_A}:{backends.imap_port}"
        lines = [x for x in backends.map_lines() if not x.startswith("alice ")]
        lines.append(f"alice {silent.address},{good}")
        p = postern_factory(imap_listeners=("imap",), map_lines=lines,
                            limits={"connect_timeout": connect_timeout},
                            extra={"map": {"file": "users.map", "breaker": {"failures": 1, "backoff": 30}}})
        with RawIMAP(HOST, p.port("imap"), timeout=30) as c:
            t0 = time.monotonic()
            tagged = login(c)
            elapsed = time.monotonic() - t0
            assert silent.accepted >= 1, "Postern never connected to the silent backend"
            assert tagged.startswith("l OK"), (
                f"the login did not fail over from the silent backend {silent.address} to {good}: "
                f"{tagged} after {elapsed:.1f} s")
            assert lands_on(c, world.MARKER_A)
        assert elapsed <= connect_timeout + 1.5, (
            f"the failover took {elapsed:.1f} s; the silent backend's greeting deadline is the "
            f"connect_timeout ({connect_timeout} s)")
        opened = breaker_opened(p, silent.address)
        assert opened == 1, (
            f"postern_backend_breaker_opened_total{{backend=\"{silent.address}\"}} is {opened}, expected 1:\n"
            + "\n".join(x for x in p.metrics_text().splitlines() if "breaker" in x))
        circuit = [x for x in p.log_text().splitlines() if "backend circuit opened" in x]
        assert any(f"backend={silent.address} " in x for x in circuit), circuit or p.log_tail()
    finally:
        silent.close()


# ----- 7. TCP keepalive ---------------------------------------------------------------------------
def ss_established(filter_expr: str) -> list[str]:
    out = subprocess.run(["ss", "-tnopH", "state", "established", filter_expr], capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    return [x for x in out.stdout.splitlines() if x.strip()]


def keepalive(lines: list[str]) -> bool:
    """Exactly one socket, and ss shows its keepalive timer."""
    return len(lines) == 1 and re.search(r"timer:\(keepalive,", lines[0]) is not None


def test_client_and_backend_sockets_have_tcp_keepalive(postern_factory, backends):
    p = postern_factory(imap_listeners=("imap",))
    port = p.port("imap")
    with RawIMAP(HOST, port) as c:
        assert login(c).startswith("l OK")
        client_port = c.sock.getsockname()[1]
        mine = f"pid={p.pid},"
        client_filter = f"( sport = :{port} and dport = :{client_port} )"
        backend_filter = f"( dst {world.HOST_A} and dport = :{backends.imap_port} )"
        # ss shows one timer per socket: a retransmit timer ("on") hides the keepalive one while
        # data is unacknowledged, so poll (bounded) until each socket shows its keepalive timer.
        last: dict[str, list[str]] = {}
        deadline = time.monotonic() + 3
        for _ in range(100):
            for what, flt in (("client", client_filter), ("backend", backend_filter)):
                if what not in last or not keepalive(last[what]):
                    last[what] = [x for x in ss_established(flt) if mine in x]
            if all(keepalive(v) for v in last.values()) or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        assert len(last["client"]) == 1, f"Postern's accepted socket for client port {client_port}: {last['client']}"
        assert len(last["backend"]) == 1, f"Postern's backend socket: {last['backend']}"
        problems = [f"{what} socket has no keepalive timer: {lines[0]}" for what, lines in last.items()
                    if not keepalive(lines)]
        assert not problems, "; ".join(problems)


def client_keepalive_lines(p, port: int, c: RawIMAP, want: bool) -> list[str]:
    """ss's lines for Postern's accepted socket of ``c``. ss shows one timer per socket, and a
    retransmit timer ("on") hides the keepalive one while data is unacknowledged, so this polls
    (bounded, 3 s): until the keepalive timer shows (``want``), or for the whole 3 s (not ``want``:
    a timer that is there has had the time to show)."""
    flt = f"( sport = :{port} and dport = :{c.sock.getsockname()[1]} )"
    lines: list[str] = []
    deadline = time.monotonic() + 3
    for _ in range(100):
        lines = [x for x in ss_established(flt) if f"pid={p.pid}," in x]
        if (want and keepalive(lines)) or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    return lines


def test_a_reload_sets_the_keepalive_that_new_client_sockets_inherit(postern_factory, backends):
    """Accepted sockets inherit keepalive from the listening socket; a reload that turns it off (and on
    again) sets it there, so connections accepted after the reload have the new setting."""
    p = postern_factory(imap_listeners=("imap",))
    port = p.port("imap")
    for generation, on in ((2, False), (3, True)):
        cfg = copy.deepcopy(p.config)
        cfg.setdefault("limits", {})["tcp_keepalive"] = on
        p.reload(cfg)
        wait_log(p, rf"reloaded configuration.*generation={generation}")
        with RawIMAP(HOST, port) as c:
            assert login(c).startswith("l OK")
            lines = client_keepalive_lines(p, port, c, want=on)
            assert len(lines) == 1, f"Postern's accepted socket: {lines}"
            assert keepalive(lines) == on, f"tcp_keepalive {on} after the reload: {lines[0]}"


# ----- 8. EMFILE is a local failure ---------------------------------------------------------------
NOFILE = 64


def test_running_out_of_fds_opens_no_breaker(postern_factory, backends):
    p = postern_factory(imap_listeners=("imap",), nofile=NOFILE)
    port = p.port("imap")
    label = f"{world.HOST_A}:{backends.imap_port}"
    with RawIMAP(HOST, port) as c:  # warm-up: one complete login, so no first-use fd is still to come
        assert login(c).startswith("l OK")
    assert p.wait_sessions(0, timeout=10) == 0
    baseline = p.open_fds()
    idle: list[RawIMAP] = []
    try:
        # Idle pre-login clients until one descriptor is left: the next client takes it, and its
        # backend socket cannot be created.
        for _ in range(NOFILE):
            if p.open_fds() >= NOFILE - 1:
                break
            idle.append(RawIMAP(HOST, port, timeout=5))
        fds_full = p.open_fds()
        assert fds_full == NOFILE - 1, f"could not fill Postern's fds: {fds_full} open, {len(idle)} idle clients"
        outcome = ""
        t0 = time.monotonic()
        try:
            with RawIMAP(HOST, port, timeout=10) as c:
                outcome = login(c)
        except (OSError, TimeoutError) as e:  # not served at all is acceptable
            outcome = f"refused ({type(e).__name__}: {e})"
        elapsed = time.monotonic() - t0
    finally:
        for c in idle:
            c.close()
    print(f"\nEMFILE: {baseline} fds at rest, {len(idle)} idle clients filled {fds_full} of {NOFILE}; "
          f"the next login got {outcome!r} after {elapsed:.2f} s")
    assert outcome.startswith("l NO [UNAVAILABLE]") or outcome.startswith("refused"), (
        f"a login with no descriptor left got {outcome!r}")
    assert elapsed < 2, f"the client out of descriptors waited {elapsed:.1f} s for its answer"
    assert p.wait_sessions(0, timeout=10) == 0
    with RawIMAP(HOST, port) as c:
        t0 = time.monotonic()
        tagged = login(c)
        elapsed = time.monotonic() - t0
        assert tagged.startswith("l OK"), f"the login after the fds were freed failed: {tagged}"
        assert lands_on(c, world.MARKER_A)
    assert elapsed < 2, f"the login after the fds were freed took {elapsed:.1f} s"
    opened = breaker_opened(p, label)
    assert opened == 0, (
        f"running out of descriptors opened the breaker of the healthy backend {label} "
        f"(postern_backend_breaker_opened_total {opened})")
    assert "backend circuit opened" not in p.log_text()
