"""POP3 through Postern, against the two real Dovecot backends (see conftest.py and harness/).

Clients connect to Postern's POP3 listeners only: ``pop3`` (tls: starttls), ``pop3s`` (implicit)
and ``pop3-req`` (starttls-required), all relaying to the backends' plain POP3 port. The map
sends alice and big to backend A and bob, carol and bigb to backend B (here with the host alone,
so that the listener's backend port applies); message 1 of each mailbox names its backend.
"""

from __future__ import annotations

import hashlib
import poplib
import random
import time

import pytest

from harness import world
from harness.clients import curl, sasl_plain
from harness.mailclients import RawPOP3

U = world.USERS
HOST = "127.0.0.1"
LISTENERS = ("pop3", "pop3s", "pop3-req")


@pytest.fixture
def postern(postern_factory, backends):
    return postern_factory(imap_listeners=LISTENERS, map_lines=backends.map_lines(explicit_port_users=()))


def connect(postern, pki, mode: str, listener: str | None = None) -> RawPOP3:
    """mode: "plain" (no TLS on the pop3 listener), "stls" (STLS there) or "implicit" (pop3s)."""
    ctx = pki.client_context()
    if mode == "implicit":
        return RawPOP3(HOST, postern.port(listener or "pop3s"), tls="implicit", context=ctx)
    c = RawPOP3(HOST, postern.port(listener or "pop3"), context=ctx)
    if mode == "stls":
        c.stls(ctx)
    return c


def assert_ok(status: str) -> None:
    assert status.startswith("+OK"), status


def login(c: RawPOP3, user: str) -> str:
    assert_ok(c.cmd(f"USER {user}"))
    status = c.cmd(f"PASS {U[user]}")
    assert_ok(status)
    return status


def assert_lands_on(c: RawPOP3, user: str, marker: str) -> None:
    """TOP 1 0: the headers of message 1 name the backend."""
    assert_ok(c.cmd("TOP 1 0"))
    head = c.multiline()
    assert world.welcome_subject(user, marker).encode() in head, head[:400]


TLS_MODES = ["stls", "implicit"]


# ----- greeting and CAPA -----------------------------------------------------------------------
def test_greeting_and_capa(postern, pki):
    with connect(postern, pki, "plain") as c:
        assert c.greeting.startswith("+OK"), c.greeting
        assert "<" not in c.greeting, "no APOP timestamp"
        caps = c.capa()
        assert {"USER", "SASL PLAIN LOGIN", "STLS", "IMPLEMENTATION Postern"} <= set(caps), caps
        assert not any(x.startswith("APOP") for x in caps), caps
        assert c.cmd("APOP alice 0123456789abcdef0123456789abcdef").startswith("-ERR")
        assert_ok(c.cmd("QUIT"))
        rest, how = c.read_all(timeout=10)
        assert how == "eof", (rest, how)


def test_starttls_required_withholds_user_and_sasl(postern, pki):
    with connect(postern, pki, "plain", "pop3-req") as c:
        caps = c.capa()
        assert "STLS" in caps and "USER" not in caps, caps
        assert not any(x.startswith("SASL") for x in caps), caps
        assert c.cmd("USER alice").startswith("-ERR"), "USER refused before STLS"
        assert c.cmd(f"AUTH PLAIN {sasl_plain('alice', U['alice'])}").startswith("-ERR")
        c.stls(pki.client_context())
        caps = c.capa()
        assert "USER" in caps and "SASL PLAIN LOGIN" in caps and "STLS" not in caps, caps
        login(c, "alice")
        assert_lands_on(c, "alice", "BACKEND-A")


def test_implicit_listener_offers_no_stls(postern, pki):
    with connect(postern, pki, "implicit") as c:
        caps = c.capa()
        assert "STLS" not in caps and "USER" in caps, caps
        assert c.cmd("STLS").startswith("-ERR")


# ----- logins ----------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["alice", "bob", "carol"])
def test_routing_user_pass(postern, pki, backends, user):
    with connect(postern, pki, "stls") as c:
        status = login(c, user)
        assert status == "+OK Logged in.", status  # Dovecot's own line
        assert_lands_on(c, user, backends.marker_of(user))


@pytest.mark.parametrize("mode", TLS_MODES)
def test_password_with_spaces_is_the_rest_of_the_line(postern, pki, mode):
    pw = U["carol"]
    assert " " in pw and '"' in pw and "\\" in pw
    with connect(postern, pki, mode) as c:
        login(c, "carol")
        assert_lands_on(c, "carol", "BACKEND-B")


@pytest.mark.parametrize("mode", TLS_MODES)
def test_auth_plain_initial_response(postern, pki, mode):
    with connect(postern, pki, mode) as c:
        assert_ok(c.cmd(f"AUTH PLAIN {sasl_plain('bob', U['bob'])}"))
        assert_lands_on(c, "bob", "BACKEND-B")


@pytest.mark.parametrize("mode", TLS_MODES)
def test_auth_plain_continuation(postern, pki, mode):
    with connect(postern, pki, mode) as c:
        cont = c.cmd("AUTH PLAIN")
        assert cont.startswith("+ "), cont
        assert_ok(c.cmd(sasl_plain("alice", U["alice"])))
        assert_lands_on(c, "alice", "BACKEND-A")


def test_auth_plain_with_authorization_identity(postern, pki):
    # Dovecot accepts an authzid equal to the login name; the map is asked about the authzid.
    with connect(postern, pki, "stls") as c:
        assert_ok(c.cmd(f"AUTH PLAIN {sasl_plain('bob', U['bob'], authzid='bob')}"))
        assert_lands_on(c, "bob", "BACKEND-B")


@pytest.mark.parametrize("mode", TLS_MODES)
def test_wrong_password_then_retry(postern, pki, mode):
    with connect(postern, pki, mode) as c:
        assert_ok(c.cmd("USER alice"))
        status = c.cmd("PASS wrong-password")
        assert status.startswith("-ERR [AUTH]"), status  # the backend's own text and code
        status = c.cmd(f"AUTH PLAIN {sasl_plain('alice', 'still-wrong')}")
        assert status.startswith("-ERR [AUTH]"), status
        login(c, "alice")
        assert_lands_on(c, "alice", "BACKEND-A")


def test_too_many_failures_close_the_connection(postern, pki):
    with connect(postern, pki, "stls") as c:
        for _ in range(3):  # limits.login_attempts
            assert_ok(c.cmd("USER bob"))
            assert c.cmd("PASS nope").startswith("-ERR")
        rest, how = c.read_all(timeout=10)
        assert how in ("eof", "reset"), (rest, how)
    assert postern.wait_sessions(0, timeout=10) == 0


def test_unknown_user_and_unavailable_backend(postern, pki):
    with connect(postern, pki, "stls") as c:
        assert_ok(c.cmd("USER nobody-here"))
        status = c.cmd("PASS whatever")
        assert status == "-ERR [AUTH] Authentication failed.", status
        assert_ok(c.cmd("USER down"))
        t0 = time.monotonic()
        status = c.cmd("PASS whatever")
        assert status.startswith("-ERR [SYS/TEMP]"), status
        assert time.monotonic() - t0 < 10
        assert c.capa(), "the session goes on"


def test_pipelined_commands_after_pass(postern, pki):
    with connect(postern, pki, "implicit") as c:
        c.send(f"USER alice\r\nPASS {U['alice']}\r\nSTAT\r\nNOOP\r\nQUIT\r\n")
        lines = [c.readline().decode() for _ in range(5)]
        assert lines[0].startswith("+OK") and lines[1] == "+OK Logged in.", lines
        assert lines[2].startswith("+OK 1 "), lines  # STAT answered by the backend
        assert lines[3].startswith("+OK") and lines[4].startswith("+OK Logging out"), lines


# ----- the big message, STAT/LIST/RETR ---------------------------------------------------------
@pytest.mark.parametrize("mode,user", [("stls", "bigb"), ("implicit", "big")])
def test_stat_list_retr_big_message_byte_identical(postern, pki, backends, mode, user):
    with connect(postern, pki, mode) as c:
        login(c, user)
        stat = c.cmd("STAT")
        assert stat.startswith("+OK 2 "), stat
        assert_ok(c.cmd("LIST"))
        listing = c.multiline().decode().split()
        assert listing[2:4] == ["2", str(world.BIG_SIZE)], listing
        status = c.cmd("RETR 2")
        assert_ok(status)
        body = c.multiline(timeout=60)
        assert len(body) == world.BIG_SIZE
        assert hashlib.sha256(body).hexdigest() == backends.big_sha256
        assert_ok(c.cmd("QUIT"))


def test_poplib_implicit_and_stls(postern, pki, backends):
    ctx = pki.client_context()
    m = poplib.POP3_SSL(HOST, postern.port("pop3s"), context=ctx, timeout=60)
    try:
        m.user("big")
        m.pass_(U["big"])
        count, size = m.stat()
        assert count == 2 and size > world.BIG_SIZE
        resp, lines, octets = m.retr(2)
        assert resp.startswith(b"+OK")
        body = b"\r\n".join(lines) + b"\r\n"
        assert hashlib.sha256(body).hexdigest() == backends.big_sha256
    finally:
        m.quit()
    m = poplib.POP3(HOST, postern.port("pop3"), timeout=30)
    try:
        m.stls(context=ctx)
        m.user("bob")
        m.pass_(U["bob"])
        resp, lines, _ = m.top(1, 0)
        assert world.welcome_subject("bob", "BACKEND-B").encode() in b"\n".join(lines)
    finally:
        m.quit()


def test_curl_pop3s_and_pop3_with_stls(postern, pki):
    rc, body, err = curl(f"pop3s://127.0.0.1:{postern.port('pop3s')}/1", "alice", U["alice"],
                         "--cacert", str(pki.ca))
    assert rc == 0, err
    assert b"Welcome alice on BACKEND-A" in body, body[:500]
    rc, body, err = curl(f"pop3://127.0.0.1:{postern.port('pop3')}/1", "carol", U["carol"],
                         "--ssl-reqd", "--cacert", str(pki.ca))
    assert rc == 0, err
    assert b"Welcome carol on BACKEND-B" in body, body[:500]


# ----- bad input -------------------------------------------------------------------------------
def test_overlong_line_closes_only_that_session(postern, pki):
    with connect(postern, pki, "implicit") as other:
        login(other, "bob")
        with connect(postern, pki, "plain") as c:
            try:
                c.sock.sendall(b"USER " + b"A" * (100 * 1024) + b"\r\n")
            except OSError:
                pass
            data, how = c.read_all(timeout=15)
            assert b"-ERR" in data, data[:300]
            assert how in ("eof", "reset"), (data[:300], how)
        assert_lands_on(other, "bob", "BACKEND-B")


def test_long_line_gets_err_and_session_goes_on(postern, pki):
    with connect(postern, pki, "plain") as c:
        assert c.cmd(b"USER " + b"B" * 9000).startswith("-ERR")
        assert "USER" in c.capa()


def test_garbage_invalid_base64_and_cancel(postern, pki):
    with connect(postern, pki, "stls") as c:
        status = c.cmd(random.Random(3).randbytes(300).replace(b"\n", b"x").replace(b"\r", b"y"))
        assert status.startswith("-ERR"), status
        assert c.cmd("AUTH PLAIN not!base64").startswith("-ERR")
        assert c.cmd("AUTH PLAIN").startswith("+ ")
        assert c.cmd("%%%%").startswith("-ERR"), "invalid base64 in the continuation"
        assert c.cmd("AUTH LOGIN").startswith("+ ")
        assert c.cmd("YWxpY2U=").startswith("+ ")  # user name given, password asked
        assert c.cmd("*") == "-ERR Authentication cancelled."
        login(c, "alice")
        assert_lands_on(c, "alice", "BACKEND-A")


def test_disconnects_mid_exchange_leave_no_session(postern, pki):
    assert postern.wait_sessions(0, timeout=10) == 0
    c = connect(postern, pki, "plain")
    assert c.cmd("AUTH PLAIN").startswith("+ ")
    c.close()
    c = connect(postern, pki, "implicit")
    assert_ok(c.cmd("USER alice"))
    c.send(b"PASS half-a-pass")  # no line end
    c.abort()
    c = connect(postern, pki, "plain")
    c.send(b"USER " + b"x" * 20000)  # inside an overlong line
    c.abort()
    assert postern.wait_sessions(0, timeout=15) == 0
    assert postern.running()


# ----- TLS towards the backend -----------------------------------------------------------------
def test_backend_stls_and_implicit_tls(postern_factory, pki, backends):
    from harness.ports import free_port

    lst = [world.listener("to-stls", "pop3", free_port(), "implicit", backends.a.pop3_port, "starttls"),
           world.listener("to-pop3s", "pop3", free_port(), "implicit", backends.a.pop3s_port, "implicit")]
    p = postern_factory(listeners=lst, imap_listeners=(), map_lines=backends.map_lines(explicit_port_users=()))
    for listener in ("to-stls", "to-pop3s"):
        for user in ("alice", "bob"):
            with connect(p, pki, "implicit", listener) as c:
                assert_ok(c.cmd(f"AUTH PLAIN {sasl_plain(user, U[user])}"))
                assert_lands_on(c, user, backends.marker_of(user))
    for d, user in ((backends.a, "alice"), (backends.b, "bob")):
        logins = [x for x in d.log_text().splitlines() if "pop3-login" in x and f"Login: user=<{user}>" in x]
        assert len(logins) == 2 and all(", TLS" in x for x in logins), logins
