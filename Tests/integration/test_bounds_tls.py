"""The session engine and client TLS handshakes (issue 8), against the real binary.

- A login timeout while the client's TLS handshake is unfinished is logged as
  ``login-timeout``, and no protocol text goes into the unfinished TLS endpoint.
- A client whose handshake fails (garbage instead of a ClientHello, or TLS 1.0 against the
  1.2 floor) is logged as ``tls-handshake-failed``.
"""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from harness.clients import s_client
from harness.postern import log_field
from harness.tlsprobe import OLD_PROTOCOL_CIPHERS

HOST = "127.0.0.1"
LOGIN_TIMEOUT = 2


def client_hello(pki) -> bytes:
    """The bytes of a real TLS ClientHello for the proxy's name (from an in-memory handshake)."""
    ctx = pki.client_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=HOST)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    assert hello[:1] == b"\x16" and len(hello) > 100, hello[:20]
    return hello


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, str, float]:
    """Read (bounded) until the server closes: (bytes, "eof" | "reset" | "timeout", seconds)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    data = b""
    for _ in range(100_000):
        left = deadline - time.monotonic()
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


def not_protocol_text(data: bytes) -> bool:
    """True if ``data`` is nothing, or TLS records only (an alert), never IMAP text."""
    return data == b"" or (data[:1] in (b"\x15", b"\x16") and b"BYE" not in data and b"* " not in data)


# ----- 4. login timeout during the handshake ------------------------------------------------------
@pytest.mark.parametrize("sends", ["nothing", "half-a-client-hello"])
def test_login_timeout_during_the_tls_handshake(postern_factory, pki, sends):
    p = postern_factory(imap_listeners=("imaps",), limits={"login_timeout": LOGIN_TIMEOUT})
    with socket.create_connection((HOST, p.port("imaps")), timeout=10) as s:
        client_port = s.getsockname()[1]
        if sends != "nothing":
            hello = client_hello(pki)
            s.sendall(hello[: len(hello) // 2])
        data, how, elapsed = read_until_closed(s, timeout=LOGIN_TIMEOUT + 10)
    assert how in ("eof", "reset"), f"not closed {LOGIN_TIMEOUT + 10} s after connecting (got {data[:200]!r})"
    assert LOGIN_TIMEOUT - 0.5 <= elapsed <= LOGIN_TIMEOUT + 4, (
        f"closed after {elapsed:.1f} s, login_timeout is {LOGIN_TIMEOUT} s")
    assert not_protocol_text(data), (
        f"Postern wrote {data[:200]!r} into a TLS connection whose handshake had not finished")
    line = p.wait_session_line(f"{HOST}:{client_port}")
    assert line is not None, f"no session line for client port {client_port}:\n{p.log_tail()}"
    assert log_field(line, "outcome") == "login-timeout", (
        f"a login timeout during the handshake was logged as outcome={log_field(line, 'outcome')}: {line}")


# ----- 5. failed handshakes -----------------------------------------------------------------------
def test_garbage_instead_of_a_client_hello_is_a_failed_handshake(postern_factory):
    p = postern_factory(imap_listeners=("imaps",))
    with socket.create_connection((HOST, p.port("imaps")), timeout=10) as s:
        client_port = s.getsockname()[1]
        s.sendall(b"a LOGIN alice secret\r\n" * 8)
        data, how, _ = read_until_closed(s, timeout=10)
    assert how in ("eof", "reset"), f"Postern kept a connection that sent garbage instead of TLS ({data[:200]!r})"
    assert b"BYE" not in data and b"* " not in data, f"plain IMAP text on an implicit-TLS listener: {data[:200]!r}"
    line = p.wait_session_line(f"{HOST}:{client_port}")
    assert line is not None, f"no session line for client port {client_port}:\n{p.log_tail()}"
    assert log_field(line, "outcome") == "tls-handshake-failed", (
        f"a garbage handshake was logged as outcome={log_field(line, 'outcome')}: {line}")


def test_tls_1_0_against_the_1_2_floor_is_a_failed_handshake(postern_factory):
    p = postern_factory(imap_listeners=("imaps",), tls={"min_version": "1.2"})
    # The harness's readiness probe (one connection per listener) is a session too: wait for its
    # line, then take the one line that follows.
    deadline = time.monotonic() + 10
    for _ in range(200):
        if p.session_lines("imaps") or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    before = len(p.session_lines("imaps"))
    assert before == 1, f"expected the readiness probe's session line:\n{p.log_tail()}"
    rc, out = s_client(HOST, p.port("imaps"), "-tls1", "-cipher", OLD_PROTOCOL_CIPHERS, timeout=30)
    # The client really offered TLS 1.0 and the server refused it.
    assert rc != 0 and ("protocol version" in out or "unsupported protocol" in out), out[-2000:]
    deadline = time.monotonic() + 10
    for _ in range(200):
        if len(p.session_lines("imaps")) > before or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    lines = p.session_lines("imaps")[before:]
    assert len(lines) == 1, f"expected one session line for the s_client connection:\n{p.log_tail()}"
    assert log_field(lines[0], "outcome") == "tls-handshake-failed", (
        f"a refused TLS 1.0 handshake was logged as outcome={log_field(lines[0], 'outcome')}: {lines[0]}")
