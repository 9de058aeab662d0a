"""Security properties (issue 12 item 5), each a test against the real binary.

- STARTTLS command injection (Poddebniak et al., USENIX Security 2021) on IMAP, POP3 and
  ManageSieve: towards the client, commands pipelined after STARTTLS in the same packet are
  discarded and never answered after the handshake; from the backend, bytes a (fake) backend sends
  after its STARTTLS OK are never interpreted (Postern asks for capabilities again inside TLS and
  takes the login answer from there).
- No credential in any log line at ``log_level: debug`` in each ``server.log_format`` (text,
  logfmt, json), on successful, failed and malformed logins on all three protocols, with
  LOGIN/USER-PASS and SASL PLAIN and LOGIN: every line is grepped for the secrets used, in plain
  and base64 forms.
- A private key file every user can read is warned about at start, naming the file.
- On a ``starttls-required`` listener a login before TLS is refused and the credentials go
  nowhere: the backend sees no connection.
- No pre-login state survives STARTTLS: an IMAP ``ID`` given before it is not passed on, a POP3
  ``USER`` given before it does not count.
"""

from __future__ import annotations

import base64
import shutil
import ssl
import time

import pytest

from harness import world
from harness.clients import RawIMAP, imap_quote, sasl_plain
from harness.fakebackend import FakeBackend, Peer, server_context
from harness.mailclients import RawPOP3, RawSieve, sieve_quote
from harness.ports import free_port
from harness.postern import Postern

HOST = "127.0.0.1"
U = world.USERS
LISTENERS = ("imap", "pop3", "sieve")


def b64(s: str | bytes) -> str:
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


# ----- STARTTLS injection towards the client -----------------------------------------------------
def test_imap_commands_pipelined_after_starttls_are_never_answered(postern_factory, pki):
    p = postern_factory(imap_listeners=LISTENERS)
    with RawIMAP(HOST, p.port("imap"), context=pki.client_context()) as c:
        c.send(f"a STARTTLS\r\nb CAPABILITY\r\nc LOGIN alice {imap_quote(U['alice'])}\r\nd NOOP\r\n")
        _, tagged = c.read_until_tagged("a")
        assert tagged.startswith("a OK"), tagged
        assert c.buf == b"", f"Postern answered after its STARTTLS OK in plaintext: {c.buf!r}"
        c._wrap()
        lines, tagged = c.cmd("e", "NOOP")
        assert tagged.startswith("e OK"), tagged
        data, how = c.read_until_any((b"\r\n",), timeout=1)
        seen = b"\r\n".join(lines) + data
        assert not any(seen.startswith(t) or b"\r\n" + t in seen for t in (b"b ", b"c ", b"d ")), seen
        assert b"CAPABILITY" not in seen, seen
    assert p.wait_sessions(0, timeout=10) == 0
    assert not any("user=alice" in x for x in p.lines("login succeeded")), "the injected LOGIN was carried out"


def test_pop3_commands_pipelined_after_stls_are_never_answered(postern_factory, pki):
    p = postern_factory(imap_listeners=LISTENERS)
    with RawPOP3(HOST, p.port("pop3"), context=pki.client_context()) as c:
        c.send(f"STLS\r\nUSER alice\r\nPASS {U['alice']}\r\nCAPA\r\n")
        status = c.readline().decode()
        assert status.startswith("+OK"), status
        assert c.buf == b"", f"Postern answered after its STLS +OK in plaintext: {c.buf!r}"
        c._wrap()
        c.send(b"QUIT\r\n")
        data, _ = c.read_all(timeout=5)
        # Only the answer to QUIT: no CAPA listing, no +OK for USER/PASS.
        assert data.count(b"\r\n") == 1 and data.startswith(b"+OK"), data
    assert not p.lines("login succeeded")


def test_sieve_commands_pipelined_after_starttls_are_never_answered(postern_factory, pki):
    p = postern_factory(imap_listeners=LISTENERS)
    with RawSieve(HOST, p.port("sieve"), context=pki.client_context()) as c:
        auth = f'AUTHENTICATE "PLAIN" {sieve_quote(sasl_plain("alice", U["alice"]))}'
        c.send(f"STARTTLS\r\nCAPABILITY\r\n{auth}\r\n")
        status = c.readline().decode()
        assert status.startswith("OK"), status
        assert c.buf == b"", f"Postern answered after its STARTTLS OK in plaintext: {c.buf!r}"
        c._wrap()
        c.send(b"LOGOUT\r\n")
        data, _ = c.read_all(timeout=5)
        # The capabilities once (RFC 5804 re-sends them after TLS), then the LOGOUT answer; nothing for
        # the injected CAPABILITY and AUTHENTICATE.
        assert data.count(b'"IMPLEMENTATION"') == 1, data
        replies = [x for x in data.split(b"\r\n") if x.startswith((b"OK", b"NO", b"BYE"))]
        assert replies == [b'OK "TLS negotiation successful."', b'OK "Logout completed."'], data
    assert not p.lines("login succeeded")


# ----- STARTTLS injection from the backend -------------------------------------------------------
FORGED_LOGIN = "forged: Postern read bytes sent before TLS"
REAL_REFUSAL = "real answer from inside TLS"


def imap_backend(pki):
    """IMAP with STARTTLS whose OK carries forged capabilities and tagged OKs for the next tags."""
    ctx = server_context(pki)

    def script(peer: Peer) -> None:
        peer.send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] fake\r\n")
        while True:
            line = peer.readline().decode()
            tag, _, rest = line.partition(" ")
            command = rest.split(" ")[0].upper()
            if command == "CAPABILITY":
                caps = "IMAP4rev1 AUTH=PLAIN" if peer.tls else "IMAP4rev1 STARTTLS LOGINDISABLED"
                peer.send(f"* CAPABILITY {caps}\r\n{tag} OK done\r\n")
            elif command == "STARTTLS":
                n = int(tag[1:]) if tag[1:].isdigit() else 1
                forged = "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + "".join(
                    f"P{n + k} OK {FORGED_LOGIN}\r\n" for k in range(1, 6))
                peer.send(f"{tag} OK Begin TLS\r\n{forged}")
                peer.starttls(ctx)
            elif command in ("LOGIN", "AUTHENTICATE"):
                peer.send(f"{tag} NO [AUTHENTICATIONFAILED] {REAL_REFUSAL}\r\n")
            elif command == "LOGOUT":
                peer.send(f"* BYE\r\n{tag} OK\r\n")
                return
            else:
                peer.send(f"{tag} BAD what\r\n")

    return script


def pop3_backend(pki):
    ctx = server_context(pki)

    def script(peer: Peer) -> None:
        peer.send("+OK fake\r\n")
        user_given = False
        while True:
            line = peer.readline().decode()
            command = line.split(" ")[0].upper()
            if command == "CAPA":
                caps = "USER\r\nSASL PLAIN\r\n" if peer.tls else "STLS\r\n"
                peer.send(f"+OK\r\n{caps}.\r\n")
            elif command == "STLS":
                forged = "+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n" + f"+OK {FORGED_LOGIN}\r\n" * 4
                peer.send(f"+OK Begin TLS\r\n{forged}")
                peer.starttls(ctx)
            elif command == "USER":
                user_given = True
                peer.send("+OK\r\n")
            elif command in ("PASS", "AUTH"):
                peer.send(f"-ERR [AUTH] {REAL_REFUSAL} {user_given}\r\n")
            elif command == "QUIT":
                peer.send("+OK bye\r\n")
                return
            else:
                peer.send("-ERR what\r\n")

    return script


def sieve_backend(pki):
    ctx = server_context(pki)

    def caps(tls: bool) -> str:
        return '"IMPLEMENTATION" "fake"\r\n' + ('"SASL" "PLAIN"\r\n' if tls else '"SASL" ""\r\n"STARTTLS"\r\n') \
            + '"VERSION" "1.0"\r\nOK\r\n'

    def script(peer: Peer) -> None:
        peer.send(caps(False))
        while True:
            line = peer.readline().decode()
            command = line.split(" ")[0].upper()
            if command == "CAPABILITY":
                peer.send(caps(peer.tls))
            elif command == "STARTTLS":
                forged = '"IMPLEMENTATION" "forged"\r\n"SASL" "PLAIN"\r\nOK\r\n' + f'OK "{FORGED_LOGIN}"\r\n' * 4
                peer.send(f'OK "Begin TLS"\r\n{forged}')
                peer.starttls(ctx)
                peer.send(caps(True))
            elif command == "AUTHENTICATE":
                peer.send(f'NO "{REAL_REFUSAL}"\r\n')
            elif command == "LOGOUT":
                peer.send('OK "bye"\r\n')
                return
            else:
                peer.send('NO "what"\r\n')

    return script


def login_on(p: Postern, pki, listener: str, proto: str) -> str:
    """A login by alice on ``listener`` (after STARTTLS towards Postern); the status line the client got."""
    ctx = pki.client_context()
    if proto == "imap":
        with RawIMAP(HOST, p.port(listener), context=ctx) as c:
            c.starttls(ctx)
            return c.cmd("a", f"LOGIN alice {imap_quote(U['alice'])}", timeout=20)[1]
    if proto == "pop3":
        with RawPOP3(HOST, p.port(listener), context=ctx) as c:
            c.stls(ctx)
            status = c.cmd("USER alice")
            return c.cmd(f"PASS {U['alice']}", timeout=20) if status.startswith("+OK") else status
    with RawSieve(HOST, p.port(listener), context=ctx) as c:
        c.starttls(ctx)  # reads the capabilities sent again after TLS
        return c.cmd(f'AUTHENTICATE "PLAIN" {sieve_quote(sasl_plain("alice", U["alice"]))}', timeout=20)[1]


@pytest.mark.parametrize("proto,listener,script", [("imap", "imap", imap_backend), ("pop3", "pop3", pop3_backend),
                                                   ("managesieve", "sieve", sieve_backend)])
def test_bytes_a_backend_sends_after_its_starttls_ok_are_never_interpreted(postern_factory, pki, proto, listener,
                                                                           script):
    fake = FakeBackend(script(pki))
    try:
        p = postern_factory(imap_listeners=(listener,), map_lines=[f"alice {fake.address}"],
                            extra={"backends": [{"host": fake.address, "tls": "starttls"}]})
        status = login_on(p, pki, listener, proto)
        assert FORGED_LOGIN not in status, f"Postern took the login answer from the plaintext: {status}"
        assert REAL_REFUSAL in status, status
        assert fake.errors == [], fake.errors
        peer = fake.peers[0]
        assert peer.tls, "Postern never started TLS with the fake backend"
        if proto != "managesieve":  # IMAP and POP3 ask again inside TLS (ManageSieve's server re-sends)
            first = peer.after_tls.split(b"\r\n")[0].upper()
            assert b"CAPA" in first, f"the first command inside TLS was {first!r}, not a new capability request"
        assert not p.lines("login succeeded")
    finally:
        fake.close()


# ----- no credential in any log line -------------------------------------------------------------
def log_lines_secrets_run(p: Postern, pki) -> list[str]:
    """Logins on every protocol: successful, failed and malformed, LOGIN/USER-PASS, PLAIN and LOGIN.
    Returns the secrets used (every form a leak could take)."""
    ctx = pki.client_context()
    wrong = "Wrong-Pass-7f3e"
    malformed_pw = "Malformed-Pass-c41d"
    secrets = [U["alice"], U["bob"], wrong, malformed_pw]
    with RawIMAP(HOST, p.port("imap"), context=ctx) as c:
        c.starttls(ctx)
        assert c.cmd("a", f"LOGIN alice {imap_quote(wrong)}")[1].startswith("a NO")
        assert c.cmd("b", f"LOGIN alice {imap_quote(U['alice'])}")[1].startswith("b OK")
        c.cmd("z", "LOGOUT")
    with RawIMAP(HOST, p.port("imap"), context=ctx) as c:
        c.starttls(ctx)
        # Malformed: a LOGIN with three arguments, a PLAIN message without its NULs, bad base64.
        assert c.cmd("a", f"LOGIN alice {malformed_pw} extra")[1].startswith("a BAD")
        assert c.cmd("b", f"AUTHENTICATE PLAIN {b64('alice' + malformed_pw)}")[1].startswith("b ")
        assert c.cmd("c", f"AUTHENTICATE PLAIN {b64(sasl_plain('alice', malformed_pw))[:-3]}!!")[1].startswith("c ")
        c.send("d AUTHENTICATE LOGIN\r\n")
        c.readline()
        c.send(b64("bob") + "\r\n")
        c.readline()
        c.send(b64(U["bob"]) + "\r\n")
        assert c.read_until_tagged("d")[1].startswith("d OK")
    with RawPOP3(HOST, p.port("pop3"), context=ctx) as c:
        c.stls(ctx)
        c.cmd("USER bob")
        assert c.cmd(f"PASS {wrong}").startswith("-ERR")
        assert c.cmd(f"AUTH PLAIN {b64('garbage' + malformed_pw)}").startswith("-ERR")
        assert c.cmd(f"AUTH PLAIN {sasl_plain('bob', U['bob'])}").startswith("+OK")
        c.cmd("QUIT")
    with RawSieve(HOST, p.port("sieve"), context=ctx) as c:
        c.starttls(ctx)  # reads the capabilities sent again after TLS
        assert c.cmd(f'AUTHENTICATE "PLAIN" {sieve_quote(sasl_plain("alice", wrong))}')[1].startswith("NO")
        assert c.cmd(f'AUTHENTICATE "PLAIN" "{b64(malformed_pw)}"')[1].startswith("NO")
        c.send(b'AUTHENTICATE "LOGIN"\r\n')
        c.readline()
        c.send(sieve_quote(b64("alice")).encode() + b"\r\n")
        c.readline()
        c.send(sieve_quote(b64(U["alice"])).encode() + b"\r\n")
        assert c.response()[1].startswith("OK")
        c.send(b"LOGOUT\r\n")
    forms = []
    for s in secrets:
        forms += [s, b64(s), imap_quote(s)]
    for user in ("alice", "bob"):
        for pw in (U[user], wrong, malformed_pw):
            forms += [sasl_plain(user, pw), b64(sasl_plain(user, pw))]
    forms.append(b64("alice" + malformed_pw))
    return sorted(set(forms))


@pytest.mark.parametrize("fmt", ["text", "logfmt", "json"])
def test_no_credential_in_any_log_line_at_debug(postern_factory, pki, fmt):
    p = postern_factory(imap_listeners=LISTENERS, server={"log_level": "debug", "log_format": fmt})
    secrets = log_lines_secrets_run(p, pki)
    assert p.wait_sessions(0, timeout=10) == 0
    time.sleep(0.3)  # the last session lines
    text = p.log_text()
    assert "debug" in text, "nothing was logged at debug"
    lines = text.splitlines()
    assert len(lines) > 20, text
    leaks = sorted({n for line in lines for n, s in enumerate(secrets) if s in line})
    assert leaks == [], f"secret form(s) {leaks} of {len(secrets)} appear in log lines (not shown)"


# ----- a key every user can read ------------------------------------------------------------------
def test_a_private_key_every_user_can_read_is_warned_about_at_start(postern_factory, pki, tmp_path):
    key = tmp_path / "open.key"
    shutil.copy(pki.proxy_key, key)
    key.chmod(0o644)
    p = postern_factory(tls={"key": str(key)})
    warned = [x for x in p.log_text().splitlines() if "readable by every user" in x]
    assert len(warned) == 1 and str(key) in warned[0] and "mode=644" in warned[0], p.log_tail()
    key.chmod(0o600)
    p.stop()
    p.start()
    again = [x for x in p.log_text().splitlines() if "readable by every user" in x]
    assert again == warned, "a key only its owner can read was warned about"


# ----- starttls-required: nothing goes out before TLS ---------------------------------------------
def test_a_login_before_tls_on_a_required_listener_goes_nowhere(postern_factory, pki):
    fake = FakeBackend(lambda peer: peer.send("* OK fake\r\n"))
    try:
        p = postern_factory(imap_listeners=("imap-req", "pop3-req", "sieve-req"),
                            map_lines=[f"alice {fake.address}"])
        pw = U["alice"]
        with RawIMAP(HOST, p.port("imap-req")) as c:
            assert c.cmd("a", f"LOGIN alice {imap_quote(pw)}")[1].startswith("a NO [PRIVACYREQUIRED]")
            assert c.cmd("b", f"AUTHENTICATE PLAIN {b64(sasl_plain('alice', pw))}")[1].startswith("b NO")
            c.send("c AUTHENTICATE LOGIN\r\n")
            assert c.read_until_tagged("c")[1].startswith("c NO")
        with RawPOP3(HOST, p.port("pop3-req")) as c:
            assert c.cmd("USER alice").startswith("-ERR")
            assert c.cmd(f"PASS {pw}").startswith("-ERR")
            assert c.cmd(f"AUTH PLAIN {sasl_plain('alice', pw)}").startswith("-ERR")
        with RawSieve(HOST, p.port("sieve-req")) as c:
            _, status = c.cmd(f'AUTHENTICATE "PLAIN" {sieve_quote(sasl_plain("alice", pw))}')
            assert status.startswith("NO"), status
        time.sleep(0.5)
        assert fake.peers == [], "a login refused before TLS still reached the backend"
        assert not p.lines("login succeeded")
        assert pw not in p.log_text()
    finally:
        fake.close()


# ----- no pre-login state survives STARTTLS -------------------------------------------------------
def test_an_imap_id_given_before_starttls_is_not_passed_on(postern_factory, pki):
    got: list[str] = []

    def script(peer: Peer) -> None:
        peer.send("* OK [CAPABILITY IMAP4rev1 ID AUTH=PLAIN] fake\r\n")
        while True:
            line = peer.readline().decode()
            got.append(line)
            tag, _, rest = line.partition(" ")
            command = rest.split(" ")[0].upper()
            if command == "ID":
                peer.send(f"* ID NIL\r\n{tag} OK\r\n")
            elif command in ("LOGIN", "AUTHENTICATE"):
                peer.send(f"{tag} NO [AUTHENTICATIONFAILED] no\r\n")
            else:
                peer.send(f"{tag} OK\r\n")

    fake = FakeBackend(script)
    try:
        lst = world.listener("fwd", "imap", free_port(), "starttls", fake.port)
        lst["backend"]["forward_client"] = True
        p = postern_factory(listeners=[lst], imap_listeners=(), map_lines=[f"alice {fake.address}"])
        ctx = pki.client_context()
        with RawIMAP(HOST, p.port("fwd"), context=ctx) as c:
            assert c.cmd("i", 'ID ("name" "plaintext-client" "version" "1")')[1].startswith("i OK")
            c.starttls(ctx)
            assert c.cmd("a", f"LOGIN alice {imap_quote(U['alice'])}")[1].startswith("a NO")
        with RawIMAP(HOST, p.port("fwd"), context=ctx) as c:  # the control: an ID inside TLS is passed on
            c.starttls(ctx)
            assert c.cmd("j", 'ID ("name" "tls-client")')[1].startswith("j OK")
            assert c.cmd("a", f"LOGIN alice {imap_quote(U['alice'])}")[1].startswith("a NO")
        ids = [x for x in got if " ID " in x]
        assert len(ids) == 2, got
        assert "plaintext-client" not in ids[0] and '"version"' not in ids[0], ids[0]
        assert "x-originating-ip" in ids[0], ids[0]
        assert '"tls-client"' in ids[1], ids[1]
    finally:
        fake.close()


def test_a_pop3_user_given_before_stls_does_not_count(postern_factory, pki):
    p = postern_factory(imap_listeners=("pop3",))
    ctx = pki.client_context()
    with RawPOP3(HOST, p.port("pop3"), context=ctx) as c:
        assert c.cmd("USER alice").startswith("+OK")
        c.stls(ctx)
        status = c.cmd(f"PASS {U['alice']}")
        assert status.startswith("-ERR") and "USER first" in status, status
    assert not p.lines("login succeeded")
