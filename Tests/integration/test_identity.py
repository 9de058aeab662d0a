"""Client identity through Postern, against real Dovecot (``login_trusted_networks = 127.0.0.0/8``) and
real HAProxy: the backend learns the client's address from IMAP ``ID``, POP3 and ManageSieve ``XCLIENT``
and an outgoing PROXY v2 header; behind HAProxy (``send-proxy-v2``) Postern takes the address from the
PROXY header; a header from an unlisted network, a missing header and garbage are refused.

Clients bind distinct 127.0.0.x source addresses, so the address Dovecot logs (``rip=``) differs from
Postern's (127.0.0.1) and from HAProxy's.
"""

from __future__ import annotations

import re
import socket
import ssl
import struct
import time

import pytest

from harness import world
from harness.clients import RawIMAP, imap_quote, sasl_plain
from harness.haproxy import HAProxy
from harness.mailclients import RawPOP3, RawSieve, sieve_quote
from harness.ports import free_port
from harness.postern import log_field

U = world.USERS
HOST = "127.0.0.1"


@pytest.fixture
def backends(tmp_path, pki, mail_cache, request):
    """The standard backends, each with one more IMAP listener that requires a PROXY header."""
    port = free_port(world.HOST_A, world.HOST_B)
    extra = f"""haproxy_trusted_networks = 127.0.0.0/8
service imap-login {{
  inet_listener imap_haproxy {{
    port = {port}
    haproxy = yes
  }}
}}
"""
    be = world.start_backends(tmp_path / "backends", pki, cache_dir=mail_cache, extra_config=extra)
    be.haproxy_imap_port = port
    yield be
    be.stop()
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        for title, d in (("dovecot A", be.a), ("dovecot B", be.b)):
            rep.sections.append((f"{title} log tail", "\n".join(d.log_text().splitlines()[-60:])))


def listener(name: str, proto: str, backend_port: int, *, tls: str = "none", **extra) -> dict:
    out = world.listener(name, proto, free_port(HOST), tls, backend_port)
    backend = extra.pop("backend", {})
    out["backend"].update(backend)
    out.update(extra)
    return out


def dovecot_login_line(d, user: str, timeout: float = 10.0) -> str:
    """The newest ``Login: user=<USER>`` line of a Dovecot log, polled (bounded)."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout * 20) + 2):
        lines = [x for x in d.log_text().splitlines() if f"Login: user=<{user}>" in x]
        if lines:
            return lines[-1]
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    raise AssertionError(f"no login of {user} in {d.marker}'s log:\n{d.log_text()[-3000:]}")


def rip(line: str) -> str:
    m = re.search(r"rip=([0-9a-fA-F:.]+)", line)
    assert m, line
    return m.group(1)


def imap_login(c: RawIMAP, user: str = "alice") -> str:
    _, tagged = c.cmd("l", f"LOGIN {user} {imap_quote(U[user])}")
    assert tagged.startswith("l OK"), tagged
    return tagged


def assert_closed_silently(sock: socket.socket, timeout: float) -> float:
    """Waits for the server to close without sending a byte; returns the seconds it took."""
    start = time.monotonic()
    sock.settimeout(timeout)
    data = b""
    try:
        data = sock.recv(4096)
    except ConnectionResetError:
        data = b""
    assert data == b"", f"the server sent {data!r}"
    return time.monotonic() - start


# ----- forwarding to the backend ------------------------------------------------------------
def test_imap_id_tells_dovecot_the_client_address(postern_factory, backends):
    plain = listener("imap-plain", "imap", backends.imap_port)
    fwd = listener("imap-fwd", "imap", backends.imap_port, backend={"forward_client": True})
    p = postern_factory(imap_listeners=(), listeners=[plain, fwd])
    with RawIMAP(HOST, p.port("imap-plain"), source="127.0.0.6") as c:
        imap_login(c)
    assert rip(dovecot_login_line(backends.a, "alice")) == "127.0.0.1", "without forward_client Dovecot sees Postern"
    with RawIMAP(HOST, p.port("imap-fwd"), source="127.0.0.5") as c:
        c.cmd("i", 'ID ("name" "identity-test")')
        imap_login(c)
        _, tagged = c.cmd("s", "SELECT INBOX")
        assert tagged.startswith("s OK"), tagged
    line = dovecot_login_line(backends.a, "alice")
    assert rip(line) == "127.0.0.5", line


def test_pop3_xclient_tells_dovecot_the_client_address(postern_factory, backends):
    fwd = listener("pop3-fwd", "pop3", backends.a.pop3_port, backend={"forward_client": True})
    p = postern_factory(imap_listeners=(), listeners=[fwd])
    with RawPOP3(HOST, p.port("pop3-fwd"), source="127.0.0.7") as c:
        assert c.cmd("USER bob").startswith("+OK")
        status = c.cmd(f"PASS {U['bob']}")
        assert status.startswith("+OK"), status
        assert c.cmd("STAT").startswith("+OK")
    assert rip(dovecot_login_line(backends.b, "bob")) == "127.0.0.7"


def test_managesieve_xclient_tells_dovecot_the_client_address(postern_factory, backends):
    fwd = listener("sieve-fwd", "managesieve", backends.a.sieve_port, backend={"forward_client": True})
    p = postern_factory(imap_listeners=(), listeners=[fwd])
    with RawSieve(HOST, p.port("sieve-fwd"), source="127.0.0.8") as c:
        _, status = c.cmd(f'AUTHENTICATE "PLAIN" {sieve_quote(sasl_plain("alice", U["alice"]))}')
        assert status.startswith("OK"), status
    assert rip(dovecot_login_line(backends.a, "alice")) == "127.0.0.8"


def test_proxy_v2_header_tells_dovecot_the_client_address(postern_factory, backends):
    out = listener("imap-pp", "imap", backends.haproxy_imap_port, backend={"send_proxy": "v2"})
    p = postern_factory(imap_listeners=(), listeners=[out])
    with RawIMAP(HOST, p.port("imap-pp"), source="127.0.0.9") as c:
        imap_login(c)
        _, tagged = c.cmd("s", "SELECT INBOX")
        assert tagged.startswith("s OK"), tagged
    assert rip(dovecot_login_line(backends.a, "alice")) == "127.0.0.9"


# ----- behind HAProxy ------------------------------------------------------------------------
def test_behind_haproxy_dovecot_sees_the_original_client(postern_factory, backends, tmp_path):
    inbound = listener("imap-lb", "imap", backends.imap_port, proxy_protocol={"accept_from": ["127.0.0.1/32"]},
                       backend={"forward_client": True})
    p = postern_factory(imap_listeners=(), listeners=[inbound])
    front = f"{HOST}:{free_port(HOST)}"
    lb = HAProxy(tmp_path / "haproxy", [(front, [f"{HOST}:{p.port('imap-lb')}"], "send-proxy-v2")]).start()
    try:
        with RawIMAP(HOST, int(front.rsplit(":", 1)[1]), source="127.0.0.10") as c:
            local_port = c.sock.getsockname()[1]
            assert c.greeting.startswith("* OK"), c.greeting
            imap_login(c)
        line = dovecot_login_line(backends.a, "alice")
        assert rip(line) == "127.0.0.10", f"Dovecot must see the client, not HAProxy or Postern: {line}"
        session = p.wait_session_line(f"127.0.0.10:{local_port}")
        assert session is not None, p.log_tail()
        assert log_field(session, "user") == "alice"
    finally:
        lb.stop()
    assert p.running()


def test_proxy_v1_header_in_then_id_out(postern_factory, backends):
    inbound = listener("imap-v1", "imap", backends.imap_port, proxy_protocol={"accept_from": ["127.0.0.0/8"]},
                       backend={"forward_client": True})
    p = postern_factory(imap_listeners=(), listeners=[inbound])
    header = f"PROXY TCP4 203.0.113.50 127.0.0.1 40123 {p.port('imap-v1')}\r\n".encode()
    with RawIMAP(HOST, p.port("imap-v1"), source="127.0.0.11", preamble=header) as c:
        assert c.greeting.startswith("* OK"), c.greeting
        imap_login(c)
    assert rip(dovecot_login_line(backends.a, "alice")) == "203.0.113.50"
    assert p.wait_session_line("203.0.113.50:40123") is not None, p.log_tail()


def test_implicit_tls_after_a_proxy_header_in_the_same_segment(postern_factory, backends, pki):
    inbound = listener("imaps-pp", "imap", backends.imap_port, tls="implicit",
                       proxy_protocol={"accept_from": ["127.0.0.1"]})
    p = postern_factory(imap_listeners=(), listeners=[inbound])
    ctx = pki.client_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    header = b"PROXY TCP4 203.0.113.51 127.0.0.1 40124 993\r\n"
    sock = socket.create_connection((HOST, p.port("imaps-pp")), timeout=10)
    sock.sendall(header + outgoing.read())  # one segment: the header and the ClientHello
    greeting = b""
    for _ in range(50):
        try:
            tls.do_handshake()
            chunk = tls.read(4096)
            greeting += chunk
            if b"\r\n" in greeting:
                break
        except ssl.SSLWantReadError:
            pass
        pending = outgoing.read()
        if pending:
            sock.sendall(pending)
        data = sock.recv(65536)
        assert data, "closed during the handshake"
        incoming.write(data)
    sock.close()
    assert greeting.startswith(b"* OK"), greeting


# ----- refusals -----------------------------------------------------------------------------
def test_a_proxy_header_from_an_unlisted_network_is_refused(postern_factory, backends):
    inbound = listener("imap-lb", "imap", backends.imap_port, proxy_protocol={"accept_from": ["127.0.0.200/32"]})
    p = postern_factory(imap_listeners=(), listeners=[inbound])
    sock = socket.create_connection((HOST, p.port("imap-lb")), timeout=10, source_address=("127.0.0.12", 0))
    local_port = sock.getsockname()[1]
    sock.sendall(b"PROXY TCP4 203.0.113.52 127.0.0.1 40125 143\r\n")
    assert assert_closed_silently(sock, 5) < 2
    sock.close()
    line = p.wait_session_line(f"127.0.0.12:{local_port}")
    assert line is not None, p.log_tail()
    assert log_field(line, "outcome") == "proxy-refused"
    assert "untrusted-source" in (log_field(line, "detail") or "")
    # Counted (the harness's start-up probe from 127.0.0.1 was refused and counted as well).
    assert p.metrics().get('postern_proxy_refused_total{listener="imap-lb",reason="untrusted-source"}', 0) >= 1


def test_a_listed_network_without_a_header_is_refused_after_the_deadline_or_at_once(postern_factory, backends):
    inbound = listener("imap-lb", "imap", backends.imap_port, proxy_protocol={"accept_from": ["127.0.0.0/8"]})
    p = postern_factory(imap_listeners=(), listeners=[inbound])
    silent = socket.create_connection((HOST, p.port("imap-lb")), timeout=10, source_address=("127.0.0.13", 0))
    took = assert_closed_silently(silent, 10)
    assert 2.5 <= took <= 6, f"closed after {took:.1f} s (deadline 3 s)"
    silent.close()
    garbage = socket.create_connection((HOST, p.port("imap-lb")), timeout=10, source_address=("127.0.0.14", 0))
    garbage.sendall(b"a LOGIN alice secret\r\n")
    assert assert_closed_silently(garbage, 5) < 1.5
    garbage.close()
    binary = socket.create_connection((HOST, p.port("imap-lb")), timeout=10, source_address=("127.0.0.15", 0))
    # A v2 signature announcing 60000 bytes: refused before they come.
    binary.sendall(b"\r\n\r\n\x00\r\nQUIT\n" + struct.pack("!BBH", 0x21, 0x11, 60000))
    assert assert_closed_silently(binary, 5) < 1.5
    binary.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (p.metric("postern_proxy_refused_total") or 0) < 3:
        time.sleep(0.1)
    metrics = p.metrics()
    assert metrics.get('postern_proxy_refused_total{listener="imap-lb",reason="header-timeout"}') == 1, metrics
    assert metrics.get('postern_proxy_refused_total{listener="imap-lb",reason="invalid-header"}') == 2, metrics
    assert p.running()
