"""Connection limits (issue 10, item 3) against the real binary and real Dovecot.

127.0.0.x addresses are distinct clients (the client socket binds one; Linux routes all of
127.0.0.0/8 over loopback without set-up):

- ``limits.max_connections_per_ip``: the excess connection gets the protocol's refusal (IMAP
  ``* BYE``, POP3 ``-ERR [SYS/TEMP]``, ManageSieve ``BYE (TRYLATER)``; implicit TLS: a close) and
  other addresses still connect; the process stays up; refusals are counted per reason.
- ``max_preauth_per_ip`` counts only connections that have not logged in.
- ``max_sessions_per_user``: the excess login gets ``NO [UNAVAILABLE]``.
- ``max_connections`` (global, the new name of ``max_sessions``).
- The limiter survives a reload: counts stay, the new limit applies.
- ``tls_handshake_timeout`` ends a client handshake (implicit TLS and after STARTTLS) with outcome
  ``tls-handshake-timeout``.

These tests are about limits, not throttling: ``auth_failure_delay.initial`` is 0 where logins fail.
"""

from __future__ import annotations

import socket
import ssl
import time

from harness import world
from harness.clients import RawIMAP
from harness.mailclients import RawPOP3, RawSieve
from harness.postern import Postern, log_field

U = world.USERS
HOST = "127.0.0.1"
IMAP_REFUSAL = "* BYE Too many connections, try again later."
POP3_REFUSAL = "-ERR [SYS/TEMP] Too many connections, try again later."
SIEVE_REFUSAL = 'BYE (TRYLATER) "Too many connections, try again later."'


def imap_from(postern, source: str, listener: str = "imap") -> RawIMAP:
    return RawIMAP(HOST, postern.port(listener), source=source, timeout=10)


def refused_text(client_class, postern, listener: str, source: str) -> str:
    """Connects from ``source``; returns the first line, after checking that the server then closes."""
    c = client_class(HOST, postern.port(listener), source=source, timeout=10)
    try:
        data, how = c.read_all(timeout=10)
        assert data == b"" and how in ("eof", "reset"), f"after the refusal: {how}, {data!r}"
        return c.greeting
    finally:
        c.close()


def login(c: RawIMAP, user: str, tag: str = "l") -> str:
    _, tagged = c.cmd(tag, f"LOGIN {user} {U[user]}")
    return tagged


def settled(postern) -> dict[str, float]:
    """Waits until the start-up probes' sessions ended (they connect from 127.0.0.1, one per
    listener, and may themselves hit a per-address limit); returns the refusal counts then."""
    postern.wait_sessions(0)
    return {reason: refused_count(postern, reason) for reason in
            ("max_connections", "max_connections_per_ip", "max_preauth_per_ip", "max_sessions_per_user")}


def wait_until(what: str, condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout * 20) + 1):
        if condition():
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def refused_count(postern, reason: str, listener: str | None = None) -> float:
    """``postern_connections_refused_total`` for ``reason`` (and ``listener``), summed."""
    total = 0.0
    for key, value in postern.metrics().items():
        if key.startswith("postern_connections_refused_total{") and f'reason="{reason}"' in key \
                and (listener is None or f'listener="{listener}"' in key):
            total += value
    return total


# ----- per address -----------------------------------------------------------------------------
def test_connections_over_the_per_ip_limit_are_refused_while_other_addresses_connect(postern_factory, pki):
    p = postern_factory(imap_listeners=("imap", "imaps", "pop3", "sieve"),
                        limits={"max_connections_per_ip": 3})
    base = settled(p)
    held = [imap_from(p, "127.0.0.5") for _ in range(3)]
    try:
        for c in held:
            assert c.greeting.startswith("* OK"), c.greeting
        assert refused_text(RawIMAP, p, "imap", "127.0.0.5") == IMAP_REFUSAL
        # The limit is per address, across listeners and protocols, each with its own wording.
        assert refused_text(RawPOP3, p, "pop3", "127.0.0.5") == POP3_REFUSAL
        assert refused_text(RawSieve, p, "sieve", "127.0.0.5") == SIEVE_REFUSAL
        # Implicit TLS: closed without a word (no handshake is started).
        sock = socket.create_connection((HOST, p.port("imaps")), timeout=10, source_address=("127.0.0.5", 0))
        with pki.client_context().wrap_socket(sock, server_hostname=HOST, do_handshake_on_connect=False) as tls:
            try:
                tls.do_handshake()
                raise AssertionError("the handshake of a refused connection succeeded")
            except (ssl.SSLError, ConnectionError, OSError):
                pass
        # A flood from the same address changes nothing: all refused, the process stays up.
        for _ in range(50):
            assert refused_text(RawIMAP, p, "imap", "127.0.0.5") == IMAP_REFUSAL
        other = imap_from(p, "127.0.0.6")
        assert other.greeting.startswith("* OK"), other.greeting
        assert login(other, "alice").startswith("l OK"), "another address logs in"
        other.close()
        assert p.running()
        assert refused_count(p, "max_connections_per_ip") - base["max_connections_per_ip"] == 54
        assert refused_count(p, "max_connections_per_ip", "pop3") >= 1
        # The start-up probes (from 127.0.0.1, one per listener) may have hit the limit too:
        # look for this address's refusal.
        line = None
        for candidate in p.session_lines():
            if log_field(candidate, "outcome") == "too-many-connections" \
                    and (log_field(candidate, "client") or "").startswith("127.0.0.5:"):
                line = candidate
                break
        assert line is not None, p.log_tail()
        assert log_field(line, "detail") == "max_connections_per_ip (3) reached for 127.0.0.5", line
        # A closed connection gives its place back.
        held.pop().close()
        wait_until("the place to be given back",
                   lambda: imap_from(p, "127.0.0.5").greeting.startswith("* OK"))
    finally:
        for c in held:
            c.close()


def test_max_preauth_per_ip_counts_only_connections_that_have_not_logged_in(postern_factory):
    p = postern_factory(limits={"max_preauth_per_ip": 2})
    base = settled(p)
    a, b = imap_from(p, "127.0.0.7"), imap_from(p, "127.0.0.7")
    try:
        assert refused_text(RawIMAP, p, "imap", "127.0.0.7") == IMAP_REFUSAL
        assert imap_from(p, "127.0.0.8").greeting.startswith("* OK"), "other addresses are not counted"
        assert login(a, "alice").startswith("l OK")
        # alice is relayed now: her connection left the count of not-logged-in ones.
        c = imap_from(p, "127.0.0.7")
        assert c.greeting.startswith("* OK"), c.greeting
        assert refused_text(RawIMAP, p, "imap", "127.0.0.7") == IMAP_REFUSAL
        c.close()
        assert refused_count(p, "max_preauth_per_ip") - base["max_preauth_per_ip"] == 2
    finally:
        a.close()
        b.close()


def test_max_sessions_per_user_refuses_the_excess_login(postern_factory):
    p = postern_factory(limits={"max_sessions_per_user": 2})
    first, second = imap_from(p, "127.0.0.10"), imap_from(p, "127.0.0.11")
    third = imap_from(p, "127.0.0.12")
    try:
        assert login(first, "alice").startswith("l OK")
        assert login(second, "alice").startswith("l OK")
        tagged = login(third, "alice")
        assert tagged == "l NO [UNAVAILABLE] Too many sessions for this user, try again later.", tagged
        assert login(third, "bob", tag="b").startswith("b OK"), "another user still logs in"
        assert refused_count(p, "max_sessions_per_user") == 1
        # A session that ends gives its place back.
        first.cmd("o", "LOGOUT")
        first.close()
        fourth = imap_from(p, "127.0.0.13")
        try:
            deadline = time.monotonic() + 10
            tagged = login(fourth, "alice", tag="r0")
            for n in range(1, 50):
                if tagged.startswith(f"r{n - 1} OK") or time.monotonic() >= deadline:
                    break
                time.sleep(0.1)
                tagged = login(fourth, "alice", tag=f"r{n}")
            assert " OK" in tagged, tagged
        finally:
            fourth.close()
    finally:
        for c in (first, second, third):
            c.close()


# ----- global -------------------------------------------------------------------------------
def test_max_connections_refuses_every_address(tmp_path, backends, pki):
    plan = world.postern_config(tmp_path / "postern", backends, pki, imap_listeners=("imap",))
    del plan.config["limits"]["max_sessions"]
    plan.config["limits"]["max_connections"] = 2
    p = Postern(tmp_path / "postern", plan.config)
    p.start()
    p.port = lambda name: plan.ports[name]
    base = settled(p)
    try:
        a, b = imap_from(p, "127.0.0.20"), imap_from(p, "127.0.0.21")
        assert refused_text(RawIMAP, p, "imap", "127.0.0.22") == IMAP_REFUSAL
        assert refused_count(p, "max_connections") - base["max_connections"] == 1
        a.close()
        wait_until("a free place", lambda: imap_from(p, "127.0.0.22").greeting.startswith("* OK"))
        b.close()
        assert p.running()
    finally:
        rc = p.stop()
        assert rc == 0, p.log_tail()


def test_the_limiter_survives_a_reload(postern_factory):
    p = postern_factory(limits={"max_connections_per_ip": 2})
    held = [imap_from(p, "127.0.0.30") for _ in range(2)]
    try:
        assert refused_text(RawIMAP, p, "imap", "127.0.0.30") == IMAP_REFUSAL
        config = p.config
        config["limits"]["max_connections_per_ip"] = 3
        before = p.log_text().count("reloaded configuration")
        p.reload(config)
        wait_until("the reload", lambda: p.log_text().count("reloaded configuration") > before)
        # The two held connections are still counted: one more is allowed, not three.
        held.append(imap_from(p, "127.0.0.30"))
        assert held[-1].greeting.startswith("* OK"), held[-1].greeting
        assert refused_text(RawIMAP, p, "imap", "127.0.0.30") == IMAP_REFUSAL
        for c in held:
            assert c.cmd("n", "NOOP")[1].startswith("n OK"), "held connections are not closed by the reload"
    finally:
        for c in held:
            c.close()


# ----- TLS handshake deadline -----------------------------------------------------------------
def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, str, float]:
    t0 = time.monotonic()
    data = b""
    for _ in range(100_000):
        left = t0 + timeout - time.monotonic()
        if left <= 0:
            return data, "timeout", time.monotonic() - t0
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, "timeout", time.monotonic() - t0
        except ConnectionResetError:
            return data, "reset", time.monotonic() - t0
        if not chunk:
            return data, "eof", time.monotonic() - t0
        data += chunk
    return data, "limit", time.monotonic() - t0


def test_a_client_tls_handshake_over_tls_handshake_timeout_ends_the_session(postern_factory):
    p = postern_factory(limits={"tls_handshake_timeout": 2, "login_timeout": 60})
    # Implicit TLS: the client connects and never sends its ClientHello.
    sock = socket.create_connection((HOST, p.port("imaps")), timeout=10, source_address=("127.0.0.40", 0))
    client = "127.0.0.40:%d" % sock.getsockname()[1]
    data, how, seconds = read_until_closed(sock, 15)
    sock.close()
    assert data == b"" and how in ("eof", "reset"), (data, how)
    assert 1.5 <= seconds <= 5, f"closed after {seconds:.1f} s"
    line = p.wait_session_line(client)
    assert line is not None and log_field(line, "outcome") == "tls-handshake-timeout", line
    # STARTTLS: the deadline counts from the STARTTLS, not from the connect.
    c = imap_from(p, "127.0.0.41")
    client = "127.0.0.41:%d" % c.sock.getsockname()[1]
    time.sleep(2.5)
    c.send("s STARTTLS\r\n")
    _, tagged = c.read_until_tagged("s")
    assert tagged.startswith("s OK"), tagged
    data, how, seconds = read_until_closed(c.sock, 15)
    c.close()
    assert data == b"" and how in ("eof", "reset"), (data, how)
    assert 1.5 <= seconds <= 5, f"closed after {seconds:.1f} s"
    line = p.wait_session_line(client)
    assert line is not None and log_field(line, "outcome") == "tls-handshake-timeout", line
    assert p.running()
