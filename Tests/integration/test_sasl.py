"""SASL breadth on IMAP, POP3 and ManageSieve through Postern: LOGIN, and XOAUTH2 and
OAUTHBEARER passed through to real Dovecots that validate the bearer tokens themselves (their
oauth2 passdb checks HS256 JWTs locally, see harness/dovecot.py; harness/oauth.py mints them).

Each protocol has a listener with every mechanism enabled (``sasl: [plain, login, xoauth2,
oauthbearer]``); the standard listeners keep the default (plain, login), which shows that the
token mechanisms are off unless listed.
"""

from __future__ import annotations

import base64

import pytest

from harness import oauth, world
from harness.clients import RawIMAP, capabilities, sasl_plain
from harness.dovecot import Dovecot, make_message
from harness.mailclients import RawPOP3, RawSieve
from harness.ports import free_port

U = world.USERS
HOST = "127.0.0.1"
ALL = ["plain", "login", "xoauth2", "oauthbearer"]


def token(user: str, **kw) -> str:
    return oauth.jwt(user, world.OAUTH2_KEY, **kw)


def bad_token(user: str) -> str:
    return oauth.jwt(user, b"some-other-key")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def postern(postern_factory, backends):
    extra = [
        world.listener("imap-all", "imap", free_port(), "starttls", backends.imap_port, sasl=ALL),
        world.listener("pop3-all", "pop3", free_port(), "implicit", backends.a.pop3_port, sasl=ALL),
        world.listener("sieve-all", "managesieve", free_port(), "starttls", backends.a.sieve_port, sasl=ALL),
    ]
    # These tests are about mechanisms: refused tokens and passwords from 127.0.0.1 would otherwise
    # delay every later login of the test by the login throttle (test_throttle.py tests that).
    return postern_factory(listeners=extra, imap_listeners=("imap", "pop3", "sieve"),
                           map_lines=backends.map_lines(explicit_port_users=()),
                           limits={"auth_failure_delay": {"initial": 0}})


def imap(postern, pki, listener: str = "imap-all") -> RawIMAP:
    c = RawIMAP(HOST, postern.port(listener), context=pki.client_context())
    c.starttls(pki.client_context())
    return c


def pop3(postern, pki) -> RawPOP3:
    return RawPOP3(HOST, postern.port("pop3-all"), tls="implicit", context=pki.client_context())


def sieve(postern, pki, listener: str = "sieve-all") -> RawSieve:
    c = RawSieve(HOST, postern.port(listener), context=pki.client_context())
    assert c.starttls(pki.client_context()).startswith("OK")
    return c


def imap_lands_on(c: RawIMAP, user: str, marker: str) -> None:
    _, tagged = c.cmd("s", "SELECT INBOX")
    assert tagged.startswith("s OK"), tagged
    lines, tagged = c.cmd("f", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert world.welcome_subject(user, marker).encode() in b"".join(lines), lines


def pop3_lands_on(c: RawPOP3, user: str, marker: str) -> None:
    assert c.cmd("TOP 1 0").startswith("+OK")
    assert world.welcome_subject(user, marker).encode() in c.multiline()


# ----- advertising ------------------------------------------------------------------------------
def test_mechanisms_are_advertised_per_listener(postern, pki):
    with imap(postern, pki) as c:
        lines, _ = c.cmd("c", "CAPABILITY")
        caps = set().union(*(capabilities(x) for x in lines))
        assert {"AUTH=PLAIN", "AUTH=LOGIN", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER"} <= caps, caps
    with imap(postern, pki, "imap") as c:
        lines, _ = c.cmd("c", "CAPABILITY")
        caps = set().union(*(capabilities(x) for x in lines))
        assert {"AUTH=PLAIN", "AUTH=LOGIN"} <= caps and "AUTH=XOAUTH2" not in caps, caps
        _, tagged = c.cmd("x", f"AUTHENTICATE XOAUTH2 {oauth.b64(oauth.xoauth2('alice', token('alice')))}")
        assert tagged.startswith("x NO"), tagged
    with pop3(postern, pki) as c:
        assert "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER" in c.capa()
    with RawPOP3(HOST, postern.port("pop3"), context=pki.client_context()) as c:
        assert "SASL PLAIN LOGIN" in c.capa()
        assert c.cmd("AUTH OAUTHBEARER =").startswith("-ERR")
    with sieve(postern, pki) as c:
        assert c.capabilities()["SASL"] == "PLAIN LOGIN XOAUTH2 OAUTHBEARER"
    with sieve(postern, pki, "sieve") as c:
        assert c.capabilities()["SASL"] == "PLAIN LOGIN"


# ----- LOGIN ------------------------------------------------------------------------------------
def test_imap_authenticate_login(postern, pki):
    with imap(postern, pki, "imap") as c:
        c.send("l1 AUTHENTICATE LOGIN\r\n")
        assert c.readline() == b"+ VXNlcm5hbWU6"  # "Username:"
        c.send(b64("bob") + "\r\n")
        assert c.readline() == b"+ UGFzc3dvcmQ6"  # "Password:"
        c.send(b64(U["bob"]) + "\r\n")
        _, tagged = c.read_until_tagged("l1")
        assert tagged.startswith("l1 OK"), tagged
        imap_lands_on(c, "bob", "BACKEND-B")
    with imap(postern, pki, "imap") as c:  # SASL-IR: the user name with the command
        c.send(f"l2 AUTHENTICATE LOGIN {b64('carol')}\r\n")
        assert c.readline().startswith(b"+ ")
        c.send(b64(U["carol"]) + "\r\n")
        _, tagged = c.read_until_tagged("l2")
        assert tagged.startswith("l2 OK"), tagged
        imap_lands_on(c, "carol", "BACKEND-B")


def test_pop3_and_sieve_authenticate_login(postern, pki):
    with pop3(postern, pki) as c:
        assert c.cmd("AUTH LOGIN").startswith("+ ")
        assert c.cmd(b64("alice")).startswith("+ ")
        assert c.cmd(b64(U["alice"])).startswith("+OK")
        pop3_lands_on(c, "alice", "BACKEND-A")
    with sieve(postern, pki) as c:
        c.send('AUTHENTICATE "LOGIN"\r\n')
        assert c.readline() == b'"VXNlcm5hbWU6"'
        c.send(f'"{b64("bob")}"\r\n')
        assert c.readline() == b'"UGFzc3dvcmQ6"'
        _, status = c.cmd(f'"{b64(U["bob"])}"')
        assert status.startswith("OK"), status


# ----- bearer tokens ----------------------------------------------------------------------------
@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER"])
def test_imap_bearer_tokens(postern, pki, backends, mech):
    def response(user, tok):
        return oauth.b64(oauth.xoauth2(user, tok) if mech == "XOAUTH2" else oauth.oauthbearer(user, tok))

    for user in ("alice", "bob"):  # routed by the user named in the response
        with imap(postern, pki) as c:
            _, tagged = c.cmd("t", f"AUTHENTICATE {mech} {response(user, token(user))}")
            assert tagged.startswith("t OK"), tagged
            imap_lands_on(c, user, backends.marker_of(user))
    with imap(postern, pki) as c:  # without SASL-IR: the continuation
        c.send(f"t AUTHENTICATE {mech}\r\n")
        assert c.readline() == b"+ "
        c.send(response("carol", token("carol")) + "\r\n")
        _, tagged = c.read_until_tagged("t")
        assert tagged.startswith("t OK"), tagged
    with imap(postern, pki) as c:  # a token signed with another key, then an expired one, then a good one
        _, tagged = c.cmd("b1", f"AUTHENTICATE {mech} {response('alice', bad_token('alice'))}")
        assert tagged.startswith("b1 NO [AUTHENTICATIONFAILED]"), tagged
        _, tagged = c.cmd("b2", f"AUTHENTICATE {mech} {response('alice', token('alice', lifetime=-60))}")
        assert tagged.startswith("b2 NO"), tagged
        _, tagged = c.cmd("b3", f"AUTHENTICATE {mech} {response('alice', token('alice'))}")
        assert tagged.startswith("b3 OK"), tagged
    with imap(postern, pki) as c:
        # Routing reads the user from the response, but the backend checks it against the token.
        _, tagged = c.cmd("m1", f"AUTHENTICATE {mech} {response('alice', token('bob'))}")
        assert tagged.startswith("m1 NO"), tagged
        _, tagged = c.cmd("m2", f"AUTHENTICATE {mech} {response('bob', token('bob'))}")
        assert tagged.startswith("m2 OK"), tagged
    for d, user in ((backends.a, "alice"), (backends.b, "bob")):
        assert f"Login: user=<{user}>, method={mech}" in d.log_text()


@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER"])
def test_pop3_bearer_tokens(postern, pki, mech):
    def response(user, tok):
        return oauth.b64(oauth.xoauth2(user, tok) if mech == "XOAUTH2" else oauth.oauthbearer(user, tok))

    with pop3(postern, pki) as c:
        status = c.cmd(f"AUTH {mech} {response('bob', bad_token('bob'))}")
        assert status.startswith("-ERR [AUTH]"), status
        # The token is longer than POP3's 255-octet AUTH line allows with an initial response:
        # the continuation form, as a careful client sends it.
        assert c.cmd(f"AUTH {mech}").startswith("+ ")
        assert c.cmd(response("bob", token("bob"))).startswith("+OK")
        pop3_lands_on(c, "bob", "BACKEND-B")
    with pop3(postern, pki) as c:
        assert c.cmd(f"AUTH {mech} {response('alice', token('alice'))}").startswith("+OK")
        pop3_lands_on(c, "alice", "BACKEND-A")


@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER"])
def test_sieve_bearer_tokens(postern, pki, backends, mech):
    def response(user, tok):
        return oauth.b64(oauth.xoauth2(user, tok) if mech == "XOAUTH2" else oauth.oauthbearer(user, tok))

    with sieve(postern, pki) as c:
        _, status = c.cmd(f'AUTHENTICATE "{mech}" "{response("alice", bad_token("alice"))}"')
        assert status.startswith("NO"), status
        _, status = c.cmd(f'AUTHENTICATE "{mech}" "{response("alice", token("alice"))}"')
        assert status.startswith("OK"), status
        c.send(b'PUTSCRIPT "tok" {10+}\r\nkeep;\r\n   \r\n')
        assert c.response()[1].startswith("OK")
    assert (backends.a.home("alice") / "sieve" / "tok.sieve").exists()


def test_backend_without_the_mechanism_gives_a_clear_no(postern_factory, pki, backends, tmp_path):
    plain = Dovecot(tmp_path / "backend-nooauth", "BACKEND-NOOAUTH", dict(U), pki=pki, address="127.0.0.3")
    plain.start()
    try:
        lst = [world.listener("imap-x", "imap", free_port(), "starttls", plain.imap_port, sasl=ALL),
               world.listener("pop3-x", "pop3", free_port(), "starttls", plain.pop3_port, sasl=ALL),
               world.listener("sieve-x", "managesieve", free_port(), "starttls", plain.sieve_port, sasl=ALL)]
        p = postern_factory(listeners=lst, imap_listeners=(), map_lines=["alice 127.0.0.3"])
        tok = token("alice")
        with imap(p, pki, "imap-x") as c:
            _, tagged = c.cmd("t", f"AUTHENTICATE XOAUTH2 {oauth.b64(oauth.xoauth2('alice', tok))}")
            assert tagged.startswith("t NO") and "does not offer XOAUTH2" in tagged, tagged
            _, tagged = c.cmd("l", f"LOGIN alice {U['alice']}")  # passwords still work there
            assert tagged.startswith("l OK"), tagged
        with RawPOP3(HOST, p.port("pop3-x"), context=pki.client_context()) as c:
            c.stls(pki.client_context())
            status = c.cmd(f"AUTH OAUTHBEARER {oauth.b64(oauth.oauthbearer('alice', tok))}")
            assert status.startswith("-ERR") and "does not offer OAUTHBEARER" in status, status
        with sieve(p, pki, "sieve-x") as c:
            _, status = c.cmd(f'AUTHENTICATE "XOAUTH2" "{oauth.b64(oauth.xoauth2("alice", tok))}"')
            assert status.startswith("NO") and "does not offer XOAUTH2" in status, status
        assert "method=XOAUTH2" not in plain.log_text()
    finally:
        plain.stop()


# ----- bad input in SASL exchanges ---------------------------------------------------------------
def test_imap_sasl_bad_input(postern, pki):
    with imap(postern, pki) as c:
        _, tagged = c.cmd("a", "AUTHENTICATE XOAUTH2 ***")
        assert tagged.startswith("a BAD"), tagged
        _, tagged = c.cmd("b", f"AUTHENTICATE XOAUTH2 {b64('auth=Bearer x')}")
        assert tagged.startswith("b NO"), tagged  # no user= to route by
        _, tagged = c.cmd("c", f"AUTHENTICATE OAUTHBEARER {b64('n,,' + chr(1) + 'auth=Bearer x' + chr(1) * 2)}")
        assert tagged.startswith("c NO") and "a=" in tagged, tagged
        c.send("d AUTHENTICATE LOGIN\r\n")
        assert c.readline().startswith(b"+ ")
        c.send(b64("alice") + "\r\n")
        assert c.readline().startswith(b"+ ")
        c.send("*\r\n")  # cancelled halfway
        _, tagged = c.read_until_tagged("d")
        assert tagged.startswith("d BAD"), tagged
        c.send("e AUTHENTICATE PLAIN\r\n")
        assert c.readline().startswith(b"+")
        c.send("!!not-base64!!\r\n")
        _, tagged = c.read_until_tagged("e")
        assert tagged.startswith("e BAD"), tagged
        _, tagged = c.cmd("f", f"AUTHENTICATE PLAIN {sasl_plain('alice', U['alice'])}")
        assert tagged.startswith("f OK"), tagged


def test_disconnect_in_the_middle_of_a_token_exchange(postern, pki):
    assert postern.wait_sessions(0, timeout=10) == 0
    c = imap(postern, pki)
    c.send("t AUTHENTICATE OAUTHBEARER\r\n")
    assert c.readline() == b"+ "
    c.send(oauth.b64(oauth.oauthbearer("alice", token("alice")))[:40])
    c.abort()
    c = pop3(postern, pki)
    assert c.cmd("AUTH XOAUTH2").startswith("+ ")
    c.close()
    assert postern.wait_sessions(0, timeout=15) == 0


def test_tokens_and_passwords_never_logged(postern, pki):
    good, bad = token("alice"), bad_token("bob")
    with imap(postern, pki) as c:
        c.cmd("a", f"AUTHENTICATE XOAUTH2 {oauth.b64(oauth.xoauth2('alice', good))}")
    with imap(postern, pki) as c:
        c.cmd("b", f"AUTHENTICATE OAUTHBEARER {oauth.b64(oauth.oauthbearer('bob', bad))}")
        c.send("c AUTHENTICATE LOGIN\r\n")
        c.readline()
        c.send(b64("carol") + "\r\n")
        c.readline()
        c.send(b64(U["carol"]) + "\r\n")
        c.read_until_tagged("c")
    with pop3(postern, pki) as c:
        c.cmd(f"AUTH XOAUTH2 {oauth.b64(oauth.xoauth2('bob', bad))}")
    with sieve(postern, pki) as c:
        c.cmd(f'AUTHENTICATE "OAUTHBEARER" "{oauth.b64(oauth.oauthbearer("alice", good))}"')
    assert postern.wait_sessions(0, timeout=10) == 0
    log = postern.log_text()
    secrets = [good, bad, good.split(".")[2], bad.split(".")[2], U["carol"], b64(U["carol"]),
               oauth.b64(oauth.xoauth2("alice", good))]
    assert sum(1 for s in secrets if s in log) == 0, "a token or password in Postern's log (not shown)"
    assert "user=alice" in log and "user=bob" in log  # the routing names are logged, as before


def test_plain_authorization_identity_routes_and_reaches_the_backend(postern_factory, pki, tmp_path):
    """PLAIN with authzid bob and authcid admin (a Dovecot master user): the map is asked about
    bob (admin is not in it), and the same three values reach the backend, which logs admin in
    as bob."""
    masters = tmp_path / "master-users"
    masters.write_text("admin:{PLAIN}admin-Secret9\n")
    extra = f"passdb {{\n  driver = passwd-file\n  master = yes\n  args = scheme=PLAIN {masters}\n}}\n"
    d = Dovecot(tmp_path / "backend-master", "BACKEND-M", dict(U), pki=pki, address="127.0.0.3",
                extra_config=extra)
    d.start()
    try:
        d.deliver("bob", make_message(world.welcome_subject("bob", "BACKEND-M")))
        lst = [world.listener("imap-m", "imap", free_port(), "starttls", d.imap_port),
               world.listener("pop3-m", "pop3", free_port(), "implicit", d.pop3_port),
               world.listener("sieve-m", "managesieve", free_port(), "starttls", d.sieve_port)]
        p = postern_factory(listeners=lst, imap_listeners=(), map_lines=["bob 127.0.0.3"])
        triple = sasl_plain("admin", "admin-Secret9", authzid="bob")
        with imap(p, pki, "imap-m") as c:
            _, tagged = c.cmd("a", f"AUTHENTICATE PLAIN {triple}")
            assert tagged.startswith("a OK"), tagged
            imap_lands_on(c, "bob", "BACKEND-M")
        with RawPOP3(HOST, p.port("pop3-m"), tls="implicit", context=pki.client_context()) as c:
            assert c.cmd(f"AUTH PLAIN {triple}").startswith("+OK")
            pop3_lands_on(c, "bob", "BACKEND-M")
        with sieve(p, pki, "sieve-m") as c:
            _, status = c.cmd(f'AUTHENTICATE "PLAIN" "{triple}"')
            assert status.startswith("OK"), status
        with imap(p, pki, "imap-m") as c:  # without an authzid, admin is not in the map
            _, tagged = c.cmd("b", f"AUTHENTICATE PLAIN {sasl_plain('admin', 'admin-Secret9')}")
            assert tagged.startswith("b NO [AUTHENTICATIONFAILED]"), tagged
        assert d.log_text().count("Master user logging in as bob") == 3
        sessions = [x for x in p.log_text().splitlines() if " msg=session " in x]
        assert sum("user=bob" in x for x in sessions) == 3, sessions
    finally:
        d.stop()
