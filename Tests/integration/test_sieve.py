"""ManageSieve through Postern, against the two real Dovecot (Pigeonhole) backends.

Listeners: ``sieve`` (tls: starttls) and ``sieve-req`` (starttls-required), relaying to the
backends' plain ManageSieve port. A script stored through Postern lands in the user's home on the
backend the map chose (alice on A, bob and carol on B), which proves the routing.
"""

from __future__ import annotations

import os
import random
import subprocess
import time

import pytest

from harness import world
from harness.clients import sasl_plain
from harness.mailclients import RawSieve
from harness.ports import free_port

U = world.USERS
HOST = "127.0.0.1"
SCRIPT = (b'require ["fileinto", "vacation"];\r\n# Postern test script: \xc3\xa4\xc3\xb6\r\n'
          b'if header :contains "subject" "postern" {\r\n  fileinto "INBOX.postern";\r\n}\r\n')


@pytest.fixture
def postern(postern_factory, backends):
    return postern_factory(imap_listeners=("sieve", "sieve-req"),
                           map_lines=backends.map_lines(explicit_port_users=()))


def connect(postern, pki, tls: bool = True, listener: str = "sieve") -> RawSieve:
    ctx = pki.client_context()
    c = RawSieve(HOST, postern.port(listener), context=ctx)
    if tls:
        status = c.starttls(ctx)
        assert status.startswith("OK"), status
    return c


def authenticate(c: RawSieve, user: str, password: str | None = None) -> str:
    _, status = c.cmd(f'AUTHENTICATE "PLAIN" "{sasl_plain(user, password or U[user])}"')
    return status


def assert_ok(status: str) -> None:
    assert status.startswith("OK"), status


def script_on_backend(backends, where: str, user: str, name: str) -> bytes | None:
    path = backends.by_name(where).home(user) / "sieve" / f"{name}.sieve"
    return path.read_bytes() if path.exists() else None


# ----- capabilities and STARTTLS -----------------------------------------------------------------
def test_greeting_capabilities_and_starttls(postern, pki):
    c = connect(postern, pki, tls=False)
    with c:
        caps = c.capabilities()
        assert c.greeting.startswith("OK"), c.greeting
        assert caps["IMPLEMENTATION"] == "Postern"
        assert caps["SASL"] == "PLAIN LOGIN"
        assert caps["VERSION"] == "1.0"
        assert "STARTTLS" in caps
        assert "fileinto" in caps["SIEVE"].split() and "vacation" in caps["SIEVE"].split()
        lines, status = c.cmd("CAPABILITY")
        assert_ok(status)
        assert c.capabilities(lines) == caps
        assert_ok(c.cmd("NOOP")[1])
        status = c.starttls(pki.client_context())
        assert_ok(status)
        after = c.capabilities()  # re-sent after TLS, as RFC 5804 §2.2 requires
        assert "STARTTLS" not in after and after["SASL"] == "PLAIN LOGIN", after
        _, status = c.cmd("LOGOUT")
        assert_ok(status)


def test_starttls_required_offers_no_mechanism_before_tls(postern, pki):
    with connect(postern, pki, tls=False, listener="sieve-req") as c:
        assert c.capabilities()["SASL"] == ""
        status = authenticate(c, "alice")
        assert status.startswith("NO"), status
        c.starttls(pki.client_context())
        assert c.capabilities()["SASL"] == "PLAIN LOGIN"
        assert_ok(authenticate(c, "alice"))


def test_configured_sieve_capability(postern_factory, backends, pki):
    lst = world.listener("sieve-custom", "managesieve", free_port(), "starttls", backends.a.sieve_port)
    lst["managesieve"] = {"sieve": "fileinto vacation", "notify": ""}
    p = postern_factory(listeners=[lst], imap_listeners=())
    with RawSieve(HOST, p.port("sieve-custom"), context=pki.client_context()) as c:
        caps = c.capabilities()
        assert caps["SIEVE"] == "fileinto vacation" and "NOTIFY" not in caps, caps


# ----- AUTHENTICATE "PLAIN" in its forms, then the session ----------------------------------------
def test_authenticate_quoted_initial_response_and_scripts(postern, pki, backends):
    with connect(postern, pki) as c:
        status = authenticate(c, "alice")
        assert status == 'OK "Logged in."', status  # Dovecot's own line
        lines, status = c.cmd("LISTSCRIPTS")
        assert_ok(status)
        assert lines == [], lines
        c.send(f'PUTSCRIPT "postern" {{{len(SCRIPT)}+}}\r\n'.encode() + SCRIPT + b"\r\n")
        assert_ok(c.response()[1])
        lines, status = c.cmd('GETSCRIPT "postern"')
        assert_ok(status)
        got = lines[0]
        header, _, data = got.partition(b"\r\n")
        assert header == f"{{{len(SCRIPT)}}}".encode(), header
        assert data == SCRIPT
        lines, status = c.cmd("LISTSCRIPTS")
        assert_ok(status)
        assert lines == [b'"postern"'], lines
        assert_ok(c.cmd("LOGOUT")[1])
        rest, how = c.read_all(timeout=10)
        assert how == "eof", (rest, how)
    assert script_on_backend(backends, "A", "alice", "postern") == SCRIPT
    assert script_on_backend(backends, "B", "alice", "postern") is None


def test_authenticate_literal_initial_response(postern, pki, backends):
    with connect(postern, pki) as c:
        b64 = sasl_plain("bob", U["bob"])
        c.send(f'AUTHENTICATE "PLAIN" {{{len(b64)}+}}\r\n{b64}\r\n')
        assert_ok(c.response()[1])
        c.send(f'PUTSCRIPT "routed" {{{len(SCRIPT)}+}}\r\n'.encode() + SCRIPT + b"\r\n")
        assert_ok(c.response()[1])
    assert script_on_backend(backends, "B", "bob", "routed") == SCRIPT
    assert script_on_backend(backends, "A", "bob", "routed") is None


def test_authenticate_continuation(postern, pki):
    with connect(postern, pki) as c:
        c.send('AUTHENTICATE "PLAIN"\r\n')
        challenge = c.readline()
        assert challenge == b'""', challenge
        c.send(f'"{sasl_plain("carol", U["carol"])}"\r\n')
        assert_ok(c.response()[1])
        assert_ok(c.cmd("LISTSCRIPTS")[1])


def test_wrong_password_then_retry(postern, pki):
    with connect(postern, pki) as c:
        status = authenticate(c, "bob", "wrong-password")
        assert status.startswith("NO"), status
        assert_ok(authenticate(c, "bob"))
        assert_ok(c.cmd("LISTSCRIPTS")[1])


def test_unknown_user(postern, pki):
    with connect(postern, pki) as c:
        status = authenticate(c, "nobody-here", "pw")
        assert status == 'NO "Authentication failed."', status
        assert_ok(c.cmd("NOOP")[1])


# ----- an external client: sieve-connect (Debian) ------------------------------------------------
def sieve_connect(postern, pki, user: str, *args: str) -> subprocess.CompletedProcess:
    r, w = os.pipe()
    os.write(w, (U[user] + "\n").encode())
    os.close(w)
    try:
        return subprocess.run(
            ["sieve-connect", "--server", HOST, "--port", str(postern.port("sieve")), "--user", user,
             "--passwordfd", str(r), "--tlscafile", str(pki.ca), "--authmech", "PLAIN", *args],
            pass_fds=(r,), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=60)
    finally:
        os.close(r)


def test_sieve_connect_upload_list_download(postern, pki, backends, tmp_path):
    local = tmp_path / "mine.sieve"
    local.write_bytes(SCRIPT)
    up = sieve_connect(postern, pki, "alice", "--localsieve", str(local), "--remotesieve", "viasc",
                       "--upload")
    assert up.returncode == 0, up.stdout.decode(errors="replace")
    ls = sieve_connect(postern, pki, "alice", "--list")
    assert ls.returncode == 0, ls.stdout.decode(errors="replace")
    assert b"viasc" in ls.stdout, ls.stdout
    out = tmp_path / "back.sieve"
    down = sieve_connect(postern, pki, "alice", "--localsieve", str(out), "--remotesieve", "viasc",
                         "--download")
    assert down.returncode == 0, down.stdout.decode(errors="replace")
    assert out.read_bytes() == SCRIPT
    assert script_on_backend(backends, "A", "alice", "viasc") == SCRIPT


# ----- bad input ---------------------------------------------------------------------------------
def test_overlong_line_closes_only_that_session(postern, pki):
    with connect(postern, pki) as other:
        assert_ok(authenticate(other, "bob"))
        with connect(postern, pki, tls=False) as c:
            try:
                c.sock.sendall(b"NOOP " + b"A" * (100 * 1024) + b"\r\n")
            except OSError:
                pass
            data, how = c.read_all(timeout=15)
            assert b"BYE" in data or b"NO" in data, data[:300]
            assert how in ("eof", "reset"), (data[:300], how)
        assert_ok(other.cmd("LISTSCRIPTS")[1])


def test_oversized_literal_and_garbage(postern, pki):
    with connect(postern, pki, tls=False) as c:
        lines, status = c.cmd(random.Random(5).randbytes(200).replace(b"\n", b"x").replace(b"\r", b"y")
                              .decode("latin-1"))
        assert status.startswith(("NO", "BYE")), status
    with connect(postern, pki, tls=False) as c:
        c.send('AUTHENTICATE "PLAIN" {999999+}\r\n')
        data, how = c.read_until_any((b"BYE",), timeout=10)
        assert b"BYE" in data, data
        rest, how = c.read_all(timeout=10)
        assert how in ("eof", "reset"), (rest, how)


def test_invalid_base64_cancel_and_recovery(postern, pki):
    with connect(postern, pki) as c:
        _, status = c.cmd('AUTHENTICATE "PLAIN" "not base64!"')
        assert status.startswith("NO"), status
        c.send('AUTHENTICATE "PLAIN"\r\n')
        assert c.readline() == b'""'
        _, status = c.cmd('"*"')
        assert status == 'NO "Authentication cancelled."', status
        c.send('AUTHENTICATE "LOGIN"\r\n')
        assert c.readline().startswith(b'"')
        c.send('"YWxpY2U="\r\n')  # the user name; cancel at the password
        assert c.readline().startswith(b'"')
        _, status = c.cmd('"*"')
        assert status.startswith("NO"), status
        assert_ok(authenticate(c, "alice"))


def test_disconnects_mid_exchange_leave_no_session(postern, pki):
    assert postern.wait_sessions(0, timeout=10) == 0
    c = connect(postern, pki)
    c.send('AUTHENTICATE "PLAIN"\r\n')
    assert c.readline() == b'""'
    c.close()
    c = connect(postern, pki, tls=False)
    c.send('AUTHENTICATE "PLAIN" {100+}\r\nAGFsaWNl')  # inside a literal
    time.sleep(0.2)
    c.abort()
    c = connect(postern, pki)
    assert_ok(authenticate(c, "bob"))
    c.send(f'PUTSCRIPT "x" {{100000+}}\r\n'.encode() + b"#" * 5000)
    time.sleep(0.2)
    c.abort()
    assert postern.wait_sessions(0, timeout=15) == 0
    assert postern.running()


def test_credentials_never_logged(postern, pki):
    with connect(postern, pki) as c:
        authenticate(c, "alice", "Wrong-Sieve-Pass-77")
        assert_ok(authenticate(c, "alice"))
    assert postern.wait_sessions(0, timeout=10) == 0
    log = postern.log_text()
    secrets = [U["alice"], "Wrong-Sieve-Pass-77", sasl_plain("alice", U["alice"])]
    assert sum(1 for s in secrets if s in log) == 0, "credentials in Postern's log (not shown here)"


def test_backend_starttls(postern_factory, pki, backends):
    lst = [world.listener("to-starttls", "managesieve", free_port(), "starttls", backends.a.sieve_port,
                          "starttls")]
    p = postern_factory(listeners=lst, imap_listeners=(), map_lines=backends.map_lines(explicit_port_users=()))
    for user in ("alice", "bob"):
        with connect(p, pki, listener="to-starttls") as c:
            assert_ok(authenticate(c, user))
            assert_ok(c.cmd("LISTSCRIPTS")[1])
    for d, user in ((backends.a, "alice"), (backends.b, "bob")):
        logins = [x for x in d.log_text().splitlines()
                  if "managesieve-login" in x and f"Login: user=<{user}>" in x]
        assert len(logins) == 1 and ", TLS" in logins[0], logins
