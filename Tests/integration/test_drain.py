"""Graceful drain on SIGTERM/SIGINT: draining at once (/health 503, listeners closed), the farewell at
once to an idle client before login, while a client greeted within shutdown.login_grace_seconds may
still log in (then drains as relayed) or gets its farewell when the grace is over; relayed IMAP (IDLE), POP3 and ManageSieve sessions go on for
shutdown.drain_seconds and then get their protocol's farewell, the process exits 0; a session inside
a literal at the deadline is closed without a farewell inside the literal; a second signal cuts the
drain short."""

from __future__ import annotations

import signal
import socket
import time

from harness import world
from harness.clients import RawIMAP
from harness.lifecycle import HOST, imap_login, pop3_login, sieve_login, wait_log
from harness.postern import log_field


GRACE = 1.0
BYE = b"* BYE Server shutting down."


def drained(postern_factory, backends, drain: float):
    return postern_factory(imap_listeners=("imap", "pop3", "sieve"),
                           map_lines=backends.map_lines(explicit_port_users=()),
                           extra={"shutdown": {"drain_seconds": drain, "login_grace_seconds": GRACE}})


def accepts(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


def exited(p, timeout: float) -> int:
    rc = p.proc.wait(timeout=timeout)
    # Stopped on purpose: collected here, so that the fixture does not report a crash.
    p.stop()
    p.proc = None
    return rc


def test_sigterm_drains_then_says_each_protocols_farewell(postern_factory, backends):
    p = drained(postern_factory, backends, drain=2)
    idle = imap_login(p.port("imap"), "alice")
    _, tagged = idle.cmd("s", "SELECT INBOX")
    assert tagged.startswith("s OK"), tagged
    idle.send("i IDLE\r\n")
    assert idle.readline().startswith(b"+ "), "IDLE not started"
    pop = pop3_login(p.port("pop3"), "bob")
    sieve = sieve_login(p.port("sieve"), "alice")
    waiting = RawIMAP(HOST, p.port("imap"))  # greeted, then quiet for longer than the login grace
    time.sleep(GRACE + 0.3)
    fresh = RawIMAP(HOST, p.port("imap"))  # greeted just before the stop: its LOGIN may be on the way
    slow = RawIMAP(HOST, p.port("imap"))  # greeted just before the stop, and never logs in
    t0 = time.monotonic()
    p.proc.send_signal(signal.SIGTERM)
    # At once: not ready, no new connections, the farewell to the idle client before login.
    assert waiting.readline(timeout=2) == BYE
    assert time.monotonic() - t0 < GRACE * 0.8, "the idle pre-login client got its farewell at once"
    # Within the grace a client greeted just before the stop still logs in; it is relayed from then on.
    _, tagged = fresh.cmd("l", f"LOGIN alice {world.USERS['alice']}")
    assert tagged.startswith("l OK"), tagged
    assert time.monotonic() - t0 < GRACE
    status, _ = p.http_get("/health")
    assert status == 503
    status, body = p.http_get("/readyz")
    assert status == 503 and "draining" in str(body), (status, body)
    deadline = time.monotonic() + 1
    while accepts(p.port("pop3")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not accepts(p.port("pop3")), "a listener still accepts during the drain"
    assert time.monotonic() - t0 < 1.5
    # The one that never logged in gets its farewell once the grace is over.
    assert slow.readline(timeout=GRACE + 2) == BYE
    assert GRACE - 0.1 <= time.monotonic() - t0 <= GRACE + 1.5
    # The relayed sessions still work during the drain.
    assert pop.cmd("NOOP").startswith("+OK")
    _, status = sieve.cmd("LISTSCRIPTS")
    assert status.startswith("OK"), status
    # Then each gets its farewell by the deadline (2 s, plus the timer's tick and the grace).
    assert idle.readline(timeout=6) == BYE
    assert fresh.readline(timeout=6) == BYE
    assert pop.readline(timeout=6) == b"-ERR Disconnected: server shutting down."
    assert sieve.readline(timeout=6) == b'BYE "Server shutting down."'
    elapsed = time.monotonic() - t0
    assert 1.8 <= elapsed <= 5.5, f"farewells {elapsed:.2f} s after SIGTERM (drain_seconds 2)"
    for c in (idle, pop, sieve, waiting, fresh, slow):
        data, how = c.read_all(timeout=5)
        assert data == b"" and how in ("eof", "reset"), (data[:200], how)
        c.close()
    assert exited(p, timeout=10) == 0, p.log_tail()
    log = p.log_text()
    sessions = p.session_lines()
    assert len([x for x in sessions if log_field(x, "outcome") == "shutdown"]) == 6, "\n".join(sessions)
    assert "stopped" in log
    print(f"\nfarewells {elapsed:.2f} s after SIGTERM with drain_seconds 2")


def test_a_session_inside_a_literal_is_closed_without_a_farewell(postern_factory, backends):
    p = drained(postern_factory, backends, drain=1)
    c = imap_login(p.port("imap"), "big")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    _, tagged = c.cmd("s", "SELECT INBOX")
    assert tagged.startswith("s OK"), tagged
    # Ask for the 8 MiB message and read nothing: Postern stops reading the backend mid-literal.
    c.send("f UID FETCH 2 BODY.PEEK[]\r\n")
    time.sleep(1)
    p.proc.send_signal(signal.SIGTERM)
    assert exited(p, timeout=15) == 0, p.log_tail()
    data, how = c.read_all(timeout=10, limit=32 * 1024 * 1024)
    c.close()
    header_end = data.index(b"}\r\n") + 3
    header = data[:header_end]
    assert header.startswith(b"* 2 FETCH (UID 2 BODY[] {"), header[:200]
    size = int(header[header.rindex(b"{") + 1:-3])
    body = data[header_end:]
    assert 0 < len(body) < size, f"{len(body)} of {size} literal bytes arrived: not closed inside the literal"
    assert body == backends.big_message[:len(body)], "something other than the message was written into the literal"
    line = wait_log(p, r"msg=session .*user=big")
    assert "outcome=shutdown" in line and "closed without a farewell" in line, line


def test_a_second_signal_cuts_the_drain_short(postern_factory, backends):
    p = drained(postern_factory, backends, drain=30)
    c = imap_login(p.port("imap"), "alice")
    p.proc.send_signal(signal.SIGINT)
    time.sleep(1)
    _, tagged = c.cmd("n", "NOOP")
    assert tagged.startswith("n OK"), "the session should go on during the drain"
    t0 = time.monotonic()
    p.proc.send_signal(signal.SIGTERM)
    assert c.readline(timeout=5) == b"* BYE Server shutting down."
    assert exited(p, timeout=10) == 0, p.log_tail()
    assert time.monotonic() - t0 < 5
    assert "drain cut short" in p.log_text()
