"""Reload, stop and IPv6: a bad config on SIGHUP keeps the running one; SIGTERM says goodbye;
a listener on [::1] works."""

from __future__ import annotations

import re
import signal
import socket
import time

from harness import world
from harness.clients import RawIMAP, imap_quote
from harness.ports import free_port
from harness.world import listener

HOST = "127.0.0.1"
U = world.USERS


def plain_client(postern, pki) -> RawIMAP:
    return RawIMAP(HOST, postern.port("imap"), context=pki.client_context())


def login_ok(postern, pki, user: str = "alice") -> None:
    with plain_client(postern, pki) as c:
        _, tagged = c.cmd("l", f"LOGIN {user} {imap_quote(U[user])}")
        assert tagged.startswith("l OK"), tagged


def wait_for_log(postern, pattern: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = postern.log_text()
        if re.search(pattern, log):
            return log
        time.sleep(0.2)
    raise AssertionError(f"no log line matching {pattern!r}:\n{postern.log_tail()}")


def test_reload_with_broken_config_keeps_the_running_one(postern, pki):
    good = postern.config_path.read_text()
    lines = good.splitlines()
    # Break it twice: an unknown key and a bad enum, at known lines.
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("login_timeout"))
    lines.insert(index + 1, lines[index].replace("login_timeout", "login_timout"))
    bad_line = index + 2
    postern.config_path.write_text("\n".join(lines) + "\n")
    try:
        postern.reload()
        log = wait_for_log(postern, r"reload refused")
        assert re.search(rf"{re.escape(str(postern.config_path))}:{bad_line}:\d+: limits\.login_timout: unknown key", log), \
            postern.log_tail()
        assert postern.running()
        login_ok(postern, pki)
        metrics = postern.metrics()
        assert metrics.get('postern_reloads_total{result="failed"}') == 1, metrics
    finally:
        postern.config_path.write_text(good)
    postern.reload()
    wait_for_log(postern, r"reloaded configuration")
    assert postern.metrics().get('postern_reloads_total{result="ok"}') == 1
    login_ok(postern, pki, "bob")


def test_sigterm_tells_waiting_clients_and_exits_cleanly(postern, pki):
    waiting = plain_client(postern, pki)
    try:
        status, body = postern.http_get("/health")
        assert status == 200 and body.strip() == "ok"
        postern.proc.send_signal(signal.SIGTERM)
        line = waiting.readline(timeout=10)
        assert line.rstrip(b"\r\n") == b"* BYE Server shutting down.", line
        assert postern.proc.wait(timeout=15) == 0, postern.log_tail()
        assert "stopped" in postern.log_text()
        # Stopped on purpose: collect it here so the fixture does not report a crash.
        assert postern.stop() == 0
        postern.proc = None
    finally:
        waiting.close()


def test_ipv6_listener(postern_factory, pki, backends):
    """A listener on [::1] serves IPv6 clients like any other (the backend is IPv4)."""
    port = free_port("::1")
    p = postern_factory(listeners=[listener("imap6", "imap", port, "starttls", backends.imap_port, host="[::1]")])
    sock = socket.create_connection(("::1", port), timeout=10)
    f = sock.makefile("rb")
    try:
        assert f.readline().startswith(b"* OK [CAPABILITY")
        sock.sendall(f"a LOGIN alice {imap_quote(U['alice'])}\r\nb LOGOUT\r\n".encode())
        assert f.readline().startswith(b"a OK [CAPABILITY"), p.log_tail()
    finally:
        f.close()
        sock.close()
    log = wait_for_log(p, r"msg=session .*client=\[::1\]:\d+ .*listener=imap6 .*outcome=backend-closed .*user=alice")
    assert "outcome=backend-closed" in log


def test_sighup_during_start_up_neither_kills_nor_is_lost(tmp_path, pki, backends):
    """SIGHUPs from the first log line on (the open-file warning, written before the server is built) until
    after the ports answer: the process survives each one, and those sent once it catches signals are
    handled (a reload line), not left to the default action that ends the process."""
    import threading

    from harness.postern import Postern

    plan = world.postern_config(tmp_path / "p", backends, pki, imap_listeners=("imap",))
    # Under 2 x max_sessions + 64 open files: the warning comes first, before the listeners are bound.
    p = Postern(tmp_path / "p", plan.config, nofile=512)
    ready = threading.Event()
    sent = {"early": 0, "late": 0}

    def hammer() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "open-file limit" not in p.log_text():
            time.sleep(0.002)
        for _ in range(3000):
            if p.proc is None or p.proc.poll() is not None or time.monotonic() > deadline:
                return
            p.proc.send_signal(signal.SIGHUP)
            if ready.is_set():
                sent["late"] += 1
                if sent["late"] >= 5:
                    return
            else:
                sent["early"] += 1
            time.sleep(0.01)

    t = threading.Thread(target=hammer, daemon=True)
    t.start()
    try:
        p.start()
        ready.set()
        t.join(30)
        assert sent["early"] >= 1, "no SIGHUP went out before the ports answered"
        assert p.running(), p.log_tail()
        wait_for_log(p, r"reloaded configuration")
        assert p.running()
        with RawIMAP(HOST, plan.ports["imap"], context=pki.client_context()) as c:
            _, tagged = c.cmd("l", f"LOGIN alice {imap_quote(U['alice'])}")
            assert tagged.startswith("l OK"), tagged
    finally:
        ready.set()
        p.stop()
