"""IMAP through Postern, against two real Dovecot backends (see conftest.py and harness/).

Clients always connect to Postern's listeners, never to Dovecot directly. The standard
Postern (fixture ``postern``) has three IMAP listeners, all relaying to the backends'
plain IMAP port: ``imap`` (tls: starttls), ``imaps`` (tls: implicit) and ``imap-req``
(tls: starttls-required). The map sends alice, big and soak to backend A (127.0.0.1) and
bob, carol and bigb to backend B (127.0.0.2); ``down`` to a port where nothing listens.
Each user's INBOX message 1 is "Welcome USER on BACKEND-X", which proves where a login
landed.
"""

from __future__ import annotations

import hashlib
import imaplib
import random
import time

import pytest

from harness import world
from harness.clients import (RawIMAP, capabilities, curl, imap_quote, s_client, s_client_cipher,
                             sasl_plain)
from harness.dovecot import Dovecot, make_message
from harness.ports import free_port

U = world.USERS
HOST = "127.0.0.1"


# ----- helpers ---------------------------------------------------------------------------------
def connect(postern, pki, mode: str, listener: str | None = None) -> RawIMAP:
    """A client on Postern: mode "plain" (no TLS, on the starttls listener), "starttls"
    (STARTTLS on the starttls listener) or "implicit" (the imaps listener)."""
    ctx = pki.client_context()
    if mode == "implicit":
        return RawIMAP(HOST, postern.port(listener or "imaps"), tls="implicit", context=ctx)
    c = RawIMAP(HOST, postern.port(listener or "imap"), context=ctx)
    if mode == "starttls":
        c.starttls(ctx)
    return c


def assert_ok(tagged: str, tag: str) -> None:
    assert tagged.startswith(f"{tag} OK"), f"expected {tag} OK, got: {tagged}"


def assert_lands_on(c: RawIMAP, user: str, marker: str) -> None:
    """SELECT INBOX and FETCH message 1's Subject: it names the backend."""
    lines, tagged = c.cmd("sel", "SELECT INBOX")
    assert_ok(tagged, "sel")
    lines, tagged = c.cmd("fet", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert_ok(tagged, "fet")
    blob = b"\n".join(lines)
    want = world.welcome_subject(user, marker).encode()
    assert want in blob, f"{user} did not land on {marker}: {blob[:300]!r}"


def login(c: RawIMAP, user: str, tag: str = "l") -> str:
    _, tagged = c.cmd(tag, f"LOGIN {user} {imap_quote(U[user])}")
    assert_ok(tagged, tag)
    return tagged


# ----- greeting and capabilities -----------------------------------------------------------
def test_greeting_on_starttls_listener(postern, pki):
    with connect(postern, pki, "plain") as c:
        assert c.greeting.startswith("* OK [CAPABILITY "), c.greeting
        caps = capabilities(c.greeting)
        assert {"IMAP4REV1", "STARTTLS", "AUTH=PLAIN", "SASL-IR", "LITERAL+", "ID"} <= caps, caps
        assert "LOGINDISABLED" not in caps
        lines, tagged = c.cmd("c", "CAPABILITY")
        assert_ok(tagged, "c")
        caps2 = set().union(*(capabilities(x) for x in lines))
        assert {"IMAP4REV1", "STARTTLS", "AUTH=PLAIN"} <= caps2, lines
        _, tagged = c.cmd("n", "NOOP")
        assert_ok(tagged, "n")
        lines, tagged = c.cmd("o", "LOGOUT")
        assert any(x.startswith(b"* BYE") for x in lines), lines
        assert_ok(tagged, "o")


def test_starttls_required_listener_disables_login_before_tls(postern, pki):
    with connect(postern, pki, "plain", "imap-req") as c:
        caps = capabilities(c.greeting)
        assert c.greeting.startswith("* OK"), c.greeting
        assert "LOGINDISABLED" in caps and "STARTTLS" in caps, caps
        assert "AUTH=PLAIN" not in caps, caps
        _, tagged = c.cmd("l", "LOGIN alice not-the-password")
        assert tagged.startswith(("l NO", "l BAD")), tagged
    with connect(postern, pki, "starttls", "imap-req") as c:
        lines, tagged = c.cmd("c", "CAPABILITY")
        assert_ok(tagged, "c")
        caps = set().union(*(capabilities(x) for x in lines))
        assert "AUTH=PLAIN" in caps and "LOGINDISABLED" not in caps and "STARTTLS" not in caps, lines
        login(c, "alice")
        assert_lands_on(c, "alice", "BACKEND-A")


def test_implicit_listener_offers_no_starttls(postern, pki):
    with connect(postern, pki, "implicit") as c:
        assert c.greeting.startswith("* OK"), c.greeting
        assert "STARTTLS" not in capabilities(c.greeting)
        lines, tagged = c.cmd("c", "CAPABILITY")
        assert_ok(tagged, "c")
        caps = set().union(*(capabilities(x) for x in lines))
        assert "STARTTLS" not in caps and "AUTH=PLAIN" in caps, lines
        _, tagged = c.cmd("s", "STARTTLS")
        assert not tagged.startswith("s OK"), tagged


def test_id_before_login(postern, pki):
    with connect(postern, pki, "plain") as c:
        _, tagged = c.cmd("i", 'ID ("name" "pytest" "version" "1")')
        assert_ok(tagged, "i")


# ----- routing ---------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["alice", "bob", "carol"])
def test_routing_by_map(postern, pki, backends, user):
    with connect(postern, pki, "starttls") as c:
        tagged = login(c, user)
        # The tagged OK of a successful login is the backend's (Dovecot sends its capabilities).
        assert "[CAPABILITY " in tagged, tagged
        assert_lands_on(c, user, backends.marker_of(user))


# ----- login forms, over STARTTLS and implicit TLS --------------------------------------------
TLS_MODES = ["starttls", "implicit"]


@pytest.mark.parametrize("mode", TLS_MODES)
def test_login_atom(postern, pki, mode):
    with connect(postern, pki, mode) as c:
        _, tagged = c.cmd("a1", f"LOGIN alice {U['alice']}")  # an atom: no quoting needed
        assert_ok(tagged, "a1")
        assert_lands_on(c, "alice", "BACKEND-A")


@pytest.mark.parametrize("mode", TLS_MODES)
def test_login_quoted_string_with_escapes(postern, pki, mode):
    pw = U["carol"]
    assert '"' in pw and "\\" in pw and " " in pw
    with connect(postern, pki, mode) as c:
        _, tagged = c.cmd("q1", f'LOGIN "carol" {imap_quote(pw)}')
        assert_ok(tagged, "q1")
        assert_lands_on(c, "carol", "BACKEND-B")


@pytest.mark.parametrize("mode", TLS_MODES)
def test_login_synchronizing_literals(postern, pki, mode):
    pw = U["bob"]
    with connect(postern, pki, mode) as c:
        c.send("s1 LOGIN {3}\r\n")
        cont = c.readline()
        assert cont.startswith(b"+"), cont
        c.send(f"bob {{{len(pw)}}}\r\n")
        cont = c.readline()
        assert cont.startswith(b"+"), cont
        c.send(pw + "\r\n")
        _, tagged = c.read_until_tagged("s1")
        assert_ok(tagged, "s1")
        assert_lands_on(c, "bob", "BACKEND-B")


@pytest.mark.parametrize("mode", TLS_MODES)
def test_login_non_synchronizing_literals(postern, pki, mode):
    pw = U["carol"]
    with connect(postern, pki, mode) as c:
        data = f"s2 LOGIN {{5+}}\r\ncarol {{{len(pw.encode())}+}}\r\n".encode() + pw.encode() + b"\r\n"
        c.send(data)
        _, tagged = c.read_until_tagged("s2")
        assert_ok(tagged, "s2")
        assert_lands_on(c, "carol", "BACKEND-B")


@pytest.mark.parametrize("mode", TLS_MODES)
def test_authenticate_plain_initial_response(postern, pki, mode):
    with connect(postern, pki, mode) as c:
        _, tagged = c.cmd("p1", f"AUTHENTICATE PLAIN {sasl_plain('bob', U['bob'])}")
        assert_ok(tagged, "p1")
        assert_lands_on(c, "bob", "BACKEND-B")


@pytest.mark.parametrize("mode", TLS_MODES)
def test_authenticate_plain_continuation(postern, pki, mode):
    with connect(postern, pki, mode) as c:
        c.send("p2 AUTHENTICATE PLAIN\r\n")
        cont = c.readline()
        assert cont.startswith(b"+"), cont
        c.send(sasl_plain("alice", U["alice"]) + "\r\n")
        _, tagged = c.read_until_tagged("p2")
        assert_ok(tagged, "p2")
        assert_lands_on(c, "alice", "BACKEND-A")


@pytest.mark.parametrize("mode", TLS_MODES)
def test_wrong_password_then_retry_on_same_connection(postern, pki, mode):
    with connect(postern, pki, mode) as c:
        _, tagged = c.cmd("w1", "LOGIN alice wrong-password")
        assert tagged.startswith("w1 NO"), tagged
        assert "[AUTHENTICATIONFAILED]" in tagged, tagged
        _, tagged = c.cmd("w2", f"LOGIN alice {U['alice']}")
        assert_ok(tagged, "w2")
        assert_lands_on(c, "alice", "BACKEND-A")


def test_wrong_password_with_authenticate_then_retry(postern, pki):
    with connect(postern, pki, "starttls") as c:
        _, tagged = c.cmd("w1", f"AUTHENTICATE PLAIN {sasl_plain('bob', 'wrong-password')}")
        assert tagged.startswith("w1 NO"), tagged
        _, tagged = c.cmd("w2", f"AUTHENTICATE PLAIN {sasl_plain('bob', U['bob'])}")
        assert_ok(tagged, "w2")
        assert_lands_on(c, "bob", "BACKEND-B")


def test_unknown_user_is_refused(postern, pki):
    # The standard config has no map default: a user not in the map has nowhere to go.
    with connect(postern, pki, "starttls") as c:
        _, tagged = c.cmd("u1", "LOGIN nobody-here some-password")
        assert tagged.startswith("u1 NO"), tagged
        # The session survives a refused login.
        _, tagged = c.cmd("u2", "NOOP")
        assert_ok(tagged, "u2")


def test_map_default_routes_unknown_users(postern_factory, pki, backends):
    # "dave" is in no map line but exists on backend B; the default sends him there.
    backends.a.users["dave"] = backends.b.users["dave"] = "dave-Secret7"
    for d in (backends.a, backends.b):
        d.write_config()  # passwd-file is re-read by Dovecot on change
        d.deliver("dave", make_message(world.welcome_subject("dave", d.marker)))
    p = postern_factory(map_default=world.HOST_B)
    with connect(p, pki, "starttls") as c:
        _, tagged = c.cmd("d1", "LOGIN dave dave-Secret7")
        assert_ok(tagged, "d1")
        assert_lands_on(c, "dave", "BACKEND-B")


def test_backend_down_is_unavailable(postern, pki):
    with connect(postern, pki, "starttls") as c:
        t0 = time.monotonic()
        _, tagged = c.cmd("d1", "LOGIN down whatever-password")
        assert tagged.startswith("d1 NO"), tagged
        assert "[UNAVAILABLE]" in tagged, tagged
        assert time.monotonic() - t0 < 10


# ----- a session after login --------------------------------------------------------------------
def test_select_fetch_idle_logout(postern, pki, backends):
    with connect(postern, pki, "starttls") as c:
        login(c, "alice")
        lines, tagged = c.cmd("s", "SELECT INBOX")
        assert_ok(tagged, "s")
        assert b"* 1 EXISTS" in lines, lines
        lines, tagged = c.cmd("f", "FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert_ok(tagged, "f")
        assert b"Welcome alice on BACKEND-A" in b"".join(lines)
        c.send("i IDLE\r\n")
        cont = c.readline()
        assert cont.startswith(b"+"), cont  # Dovecot: "+ idling"
        backends.a.deliver("alice", make_message("Arrived while idling"))
        deadline = time.monotonic() + 15
        seen = b""
        while b"EXISTS" not in seen and time.monotonic() < deadline:
            seen = c.readline(timeout=max(0.1, deadline - time.monotonic()))
        assert seen == b"* 2 EXISTS", seen
        c.send("DONE\r\n")
        _, tagged = c.read_until_tagged("i")
        assert_ok(tagged, "i")
        lines, tagged = c.cmd("o", "LOGOUT")
        assert any(x.startswith(b"* BYE") for x in lines), lines
        assert_ok(tagged, "o")
        rest, how = c.read_all(timeout=10)
        assert how in ("eof", "reset"), (rest, how)


@pytest.mark.parametrize("mode", ["plain", "implicit"])
def test_pipelined_commands_after_login(postern, pki, mode):
    with connect(postern, pki, mode) as c:
        burst = f"p0 LOGIN alice {U['alice']}\r\n" + "".join(f"n{i} NOOP\r\n" for i in range(50))
        c.send(burst)  # one write
        _, tagged = c.read_until_tagged("p0")
        assert_ok(tagged, "p0")
        for i in range(50):
            _, tagged = c.read_until_tagged(f"n{i}")
            assert_ok(tagged, f"n{i}")


def test_big_message_is_byte_identical_implicit_tls(postern, pki, backends):
    m = imaplib.IMAP4_SSL(HOST, postern.port("imaps"), ssl_context=pki.client_context(), timeout=60)
    try:
        typ, _ = m.login("big", U["big"])
        assert typ == "OK"
        typ, _ = m.select("INBOX", readonly=True)
        assert typ == "OK"
        typ, data = m.fetch("2", "(BODY.PEEK[])")
        assert typ == "OK"
        body = data[0][1]
        assert len(body) == world.BIG_SIZE
        assert hashlib.sha256(body).hexdigest() == backends.big_sha256
    finally:
        m.logout()


def test_big_message_is_byte_identical_starttls(postern, pki, backends):
    m = imaplib.IMAP4(HOST, postern.port("imap"), timeout=60)
    try:
        m.starttls(ssl_context=pki.client_context())
        m.login("bigb", U["bigb"])  # on backend B
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("2", "(BODY.PEEK[])")
        assert typ == "OK"
        assert hashlib.sha256(data[0][1]).hexdigest() == backends.big_sha256
    finally:
        m.logout()


def test_curl_through_postern(postern, pki):
    rc, body, err = curl(f"imaps://127.0.0.1:{postern.port('imaps')}/INBOX;UID=1", "alice",
                         U["alice"], "--cacert", str(pki.ca))
    assert rc == 0, err
    assert b"Welcome alice on BACKEND-A" in body, body[:500]
    rc, body, err = curl(f"imap://127.0.0.1:{postern.port('imap')}/INBOX;UID=1", "bob", U["bob"],
                         "--ssl-reqd", "--cacert", str(pki.ca))
    assert rc == 0, err
    assert b"Welcome bob on BACKEND-B" in body, body[:500]


# ----- TLS --------------------------------------------------------------------------------------
def test_tls_1_1_is_refused_and_1_2_works(postern, pki):
    port = postern.port("imaps")
    # SECLEVEL=0 lets this client really offer TLS 1.1 (Debian's default config would not):
    # the refusal must come from Postern.
    rc, out = s_client(HOST, port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
    assert rc != 0 and s_client_cipher(out) is None, out
    rc, out = s_client(HOST, port, "-tls1_2", "-CAfile", str(pki.ca), "-verify_return_error")
    assert rc == 0 and "Verify return code: 0 (ok)" in out, out
    rc, out = s_client(HOST, postern.port("imap"), "-starttls", "imap", "-CAfile", str(pki.ca),
                       "-verify_return_error")
    assert rc == 0 and "Verify return code: 0 (ok)" in out, out


def test_dhe_uses_the_2048_bit_group(postern):
    rc, out = s_client(HOST, postern.port("imaps"), "-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384")
    assert "Server Temp Key: DH, 2048 bits" in out, out
    assert s_client_cipher(out) == "DHE-RSA-AES256-GCM-SHA384", out


OFFERS = ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
          "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256")


def test_server_cipher_preference(postern_factory):
    p = postern_factory(tls={"ciphers": "ECDHE+AES256:ECDHE+AES128", "prefer_server_ciphers": True})
    got = [s_client_cipher(s_client(HOST, p.port("imaps"), "-tls1_2", "-cipher", o)[1]) for o in OFFERS]
    assert got == ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"], got


def test_client_cipher_preference_when_server_preference_is_off(postern_factory):
    p = postern_factory(tls={"ciphers": "ECDHE+AES256:ECDHE+AES128", "prefer_server_ciphers": False})
    got = [s_client_cipher(s_client(HOST, p.port("imaps"), "-tls1_2", "-cipher", o)[1]) for o in OFFERS]
    assert got == ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"], got


# ----- bad input --------------------------------------------------------------------------------
def test_overlong_line_closes_only_that_session(postern, pki):
    with connect(postern, pki, "plain") as other:
        login(other, "bob", "o1")
        with connect(postern, pki, "plain") as c:
            payload = b"x1 LOGIN " + b"A" * (100 * 1024) + b" pw\r\n"
            sent_all = True
            try:
                for i in range(0, len(payload), 4096):
                    c.sock.sendall(payload[i:i + 4096])
            except OSError:
                sent_all = False  # Postern may close while we are still sending: fine
            data, how = c.read_all(timeout=15)
            assert b" BAD" in data or b"* BYE" in data, (data[:500], how, sent_all)
            assert how in ("eof", "reset"), f"connection not closed: {how}, {data[:300]!r}"
        _, tagged = other.cmd("o2", "NOOP")
        assert_ok(tagged, "o2")
        assert_lands_on(other, "bob", "BACKEND-B")


def test_binary_garbage_gets_bad_and_postern_survives(postern, pki):
    garbage = random.Random(1).randbytes(4096)
    with connect(postern, pki, "plain") as c:
        try:
            c.send(garbage + b"\r\n")
        except OSError:
            pass
        data, how = c.read_until_any((b" BAD", b"* BYE"), timeout=10)
        assert b" BAD" in data or b"* BYE" in data, (data[:500], how)
    assert postern.running()
    with connect(postern, pki, "starttls") as c:
        login(c, "alice")
        assert_lands_on(c, "alice", "BACKEND-A")


def test_disconnect_inside_literal_leaves_no_session(postern, pki):
    assert postern.wait_sessions(0, timeout=10) == 0
    c = connect(postern, pki, "plain")
    c.send("x LOGIN {1000}\r\n")
    cont = c.readline()
    assert cont.startswith(b"+"), cont
    c.send(b"a" * 500)
    time.sleep(0.2)
    c.close()
    assert postern.wait_sessions(0, timeout=15) == 0
    assert postern.running()


def test_reset_inside_literal_after_login_leaves_no_session(postern, pki):
    assert postern.wait_sessions(0, timeout=10) == 0
    c = connect(postern, pki, "starttls")
    login(c, "bob")
    c.send("a APPEND INBOX {100000}\r\n")
    cont = c.readline()
    assert cont.startswith(b"+"), cont
    c.send(b"b" * 5000)
    time.sleep(0.2)
    c.abort()
    assert postern.wait_sessions(0, timeout=15) == 0


def test_login_timeout_closes_idle_unauthenticated_client(postern_factory, pki):
    p = postern_factory(limits={"login_timeout": 2})
    with connect(p, pki, "plain") as c:
        t0 = time.monotonic()
        data, how = c.read_all(timeout=15)
        assert how in ("eof", "reset"), (data, how)
        assert 1.0 <= time.monotonic() - t0 <= 12, time.monotonic() - t0
    assert p.wait_sessions(0, timeout=10) == 0


# ----- backend TLS ------------------------------------------------------------------------------
def _backend_tls_listeners(backends):
    return [
        world.listener("to-starttls", "imap", free_port(), "starttls", backends.a.imap_port, "starttls"),
        world.listener("to-implicit", "imap", free_port(), "starttls", backends.a.imaps_port, "implicit"),
    ]


def test_backend_tls_starttls_and_implicit(postern_factory, pki, backends):
    p = postern_factory(listeners=_backend_tls_listeners(backends), imap_listeners=())
    for listener in ("to-starttls", "to-implicit"):
        for user in ("alice", "bob"):  # bob's backend is 127.0.0.2: the cert has that IP too
            with connect(p, pki, "starttls", listener) as c:
                login(c, user)
                assert_lands_on(c, user, backends.marker_of(user))
    for d, user in ((backends.a, "alice"), (backends.b, "bob")):
        logins = [x for x in d.log_text().splitlines() if f"Login: user=<{user}>" in x]
        assert len(logins) == 2 and all(", TLS," in x for x in logins), logins


def test_backend_certificate_from_wrong_ca_is_refused(postern_factory, pki, backends):
    p = postern_factory(listeners=_backend_tls_listeners(backends), imap_listeners=(),
                        backend_tls={"ca_file": str(pki.wrong_ca), "verify": True})
    for listener in ("to-starttls", "to-implicit"):
        with connect(p, pki, "starttls", listener) as c:
            _, tagged = c.cmd("l", f"LOGIN alice {U['alice']}")
            assert tagged.startswith("l NO"), tagged


def test_backend_without_starttls_is_refused(postern_factory, pki, backends, tmp_path):
    plain = Dovecot(tmp_path / "backend-plain", "BACKEND-PLAIN", dict(U), ssl=False, address="127.0.0.3")
    plain.start()
    try:
        lst = [world.listener("to-plain", "imap", free_port(), "starttls", plain.imap_port, "starttls")]
        p = postern_factory(listeners=lst, imap_listeners=(),
                            map_lines=[f"alice 127.0.0.3:{plain.imap_port}"])
        with connect(p, pki, "starttls", "to-plain") as c:
            _, tagged = c.cmd("l", f"LOGIN alice {U['alice']}")
            assert tagged.startswith("l NO"), tagged
        assert "Login: user=<alice>" not in plain.log_text()
    finally:
        plain.stop()


# ----- admin endpoint, reload, logs ------------------------------------------------------------
def test_health_and_sessions_gauge(postern, pki):
    status, body = postern.http_get("/health")
    assert status == 200 and body.strip() == "ok", (status, body)
    assert postern.wait_sessions(0, timeout=10) == 0
    with connect(postern, pki, "starttls") as c:
        login(c, "alice")
        assert postern.sessions_active() == 1
        with connect(postern, pki, "implicit") as c2:
            login(c2, "bob")
            assert postern.sessions_active() == 2
            c2.cmd("o", "LOGOUT")
    assert postern.wait_sessions(0, timeout=10) == 0


def test_map_change_applies_after_sighup(postern, pki, backends):
    text = postern.plan.map_path.read_text().replace("alice 127.0.0.1\n", "alice 127.0.0.2\n")
    assert "alice 127.0.0.2\n" in text
    postern.plan.map_path.write_text(text)
    postern.reload()
    deadline = time.monotonic() + 15
    landed = None
    while time.monotonic() < deadline:
        with connect(postern, pki, "starttls") as c:
            login(c, "alice")
            _, tagged = c.cmd("s", "SELECT INBOX")
            lines, _ = c.cmd("f", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            landed = b"".join(lines)
        if b"BACKEND-B" in landed:
            break
        time.sleep(0.5)
    assert b"Welcome alice on BACKEND-B" in landed, landed
    assert postern.running()


def test_credentials_never_logged(postern, pki):
    with connect(postern, pki, "starttls") as c:
        c.cmd("w", "LOGIN alice Wrong-Pass-4711")
        login(c, "alice")
    with connect(postern, pki, "implicit") as c:
        c.cmd("a", f"AUTHENTICATE PLAIN {sasl_plain('bob', U['bob'])}")
    with connect(postern, pki, "plain") as c:
        c.cmd("x", f"LOGIN carol {imap_quote(U['carol'])}")
    assert postern.wait_sessions(0, timeout=10) == 0
    log = postern.log_text()
    secrets = [U["alice"], U["bob"], U["carol"], "Wrong-Pass-4711", sasl_plain("bob", U["bob"])]
    leaked = sum(1 for s in secrets if s in log)
    assert leaked == 0, "credentials in Postern's log (not shown here)"
