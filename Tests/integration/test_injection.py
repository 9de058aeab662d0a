"""Map values cannot be injected through a login name, against real Dovecot.

The regex map has the rule the docs used to give (``^([^@]*)@example\\.net$: $1@HOST:PORT``, which
pasted any name into the value) and the rule they give now (local-part characters only). Logins
carrying separators (``,``, space, ``@``, ``:``, ``[``, ``]``), CR/LF (a literal, SASL PLAIN authcid and
authzid) and NUL (SASL LOGIN, POP3 USER) must never make Postern connect anywhere the rules do not
name: trap listeners on 127.0.0.3 (port 25, and a high port written into the names) count every
connection, and must count none. ``map.allowed_backends`` refuses a route outside it.
"""

from __future__ import annotations

import base64
import socket
import time

import pytest

from harness import world
from harness.clients import RawIMAP, imap_quote, sasl_plain
from harness.mailclients import RawPOP3
from harness.ports import free_port
from harness.postern import log_field

U = world.USERS
HOST = "127.0.0.1"
TRAP_HOST = "127.0.0.3"


class Trap:
    """Listening sockets that count the connections they are offered (accepted and closed at once)."""

    def __init__(self, ports: list[int]):
        self.socks = []
        for port in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((TRAP_HOST, port))
            s.listen(64)
            s.setblocking(False)
            self.socks.append(s)
        self.connections = 0

    def count(self) -> int:
        for s in self.socks:
            for _ in range(1000):
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                self.connections += 1
        return self.connections

    def close(self) -> None:
        for s in self.socks:
            s.close()


@pytest.fixture
def trap():
    ports = [free_port(TRAP_HOST)]
    try:
        t = Trap([25] + ports)  # port 25 needs root (CI runs as root)
    except PermissionError:
        t = Trap(ports)
    t.port = ports[0]
    yield t
    t.close()


def regex_postern(postern_factory, backends, tmp_path, name: str = "postern-inj", **map_extra):
    port = backends.imap_port
    d = tmp_path / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "popmap.re").write_text(
        "# The rule the docs gave before (pastes any text of the name):\n"
        f"^([^@]*)@example\\.net$: $1@{world.HOST_A}:{port}\n"
        "# The rule they give now:\n"
        f"^([a-z0-9._+-]+)@example\\.org$: $1@{world.HOST_A}:{port}\n")
    map_config = {"file": "users.map", "regex": "popmap.re", **map_extra}
    # About routing, not throttling: dozens of refused names from one address must not be slowed down.
    return postern_factory(name, imap_listeners=("imap", "pop3"), extra={"map": map_config},
                           limits={"auth_failure_delay": {"initial": 0}})


def injected_names(trap_port: int) -> list[str]:
    out = []
    for port in (25, trap_port):
        out += [
            f"a,{TRAP_HOST}:{port},b@example.net",
            f"a {TRAP_HOST}:{port}@example.net",
            f"x@{TRAP_HOST}:{port}@example.net",
            f"{TRAP_HOST}:{port}@example.net",
            f"a,[{TRAP_HOST}]:{port},b@example.net",
            f"a,{TRAP_HOST}:{port},b@example.org",
        ]
    return out


def refused(tagged: str, tag: str) -> bool:
    return tagged.startswith(f"{tag} NO") or tagged.startswith(f"{tag} BAD")


def assert_only_known_backends(p, backends) -> None:
    allowed = {"-", f"{world.HOST_A}:{backends.imap_port}", f"{world.HOST_A}:{backends.a.pop3_port}"}
    deadline = time.monotonic() + 10
    lines = p.session_lines()
    while time.monotonic() < deadline and any(log_field(x, "outcome") is None for x in lines):
        time.sleep(0.1)
        lines = p.session_lines()
    for line in lines:
        assert log_field(line, "backend") in allowed, line
    assert TRAP_HOST not in "\n".join(x for x in p.log_text().splitlines() if "backend" in x and "session" not in x)


def test_injected_login_names_never_reach_another_address(postern_factory, backends, tmp_path, trap):
    p = regex_postern(postern_factory, backends, tmp_path)
    # The rules work for honest names.
    for name in ("alice@example.net", "alice@example.org"):
        with RawIMAP(HOST, p.port("imap")) as c:
            _, tagged = c.cmd("l", f"LOGIN {imap_quote(name)} {imap_quote(U['alice'])}")
            assert tagged.startswith("l OK"), (name, tagged)
    names = injected_names(trap.port)
    for name in names:
        with RawIMAP(HOST, p.port("imap")) as c:
            _, tagged = c.cmd("l", f"LOGIN {imap_quote(name)} {imap_quote(U['alice'])}")
            assert refused(tagged, "l"), (name, tagged)
        with RawIMAP(HOST, p.port("imap")) as c:
            _, tagged = c.cmd("p", f"AUTHENTICATE PLAIN {sasl_plain(name, U['alice'])}")
            assert refused(tagged, "p"), (name, tagged)
        with RawIMAP(HOST, p.port("imap")) as c:
            _, tagged = c.cmd("z", f"AUTHENTICATE PLAIN {sasl_plain('alice', U['alice'], authzid=name)}")
            assert refused(tagged, "z"), (name, tagged)
        with RawPOP3(HOST, p.port("pop3")) as c:
            c.cmd(f"USER {name}")
            assert c.cmd(f"PASS {U['alice']}").startswith("-ERR"), name
    assert trap.count() == 0
    assert_only_known_backends(p, backends)
    assert p.running()


def test_control_characters_in_login_names_never_route(postern_factory, backends, tmp_path, trap):
    p = regex_postern(postern_factory, backends, tmp_path)
    target = f"{TRAP_HOST}:{trap.port}"
    crlf = f"a\r\n{target}@example.net".encode()
    with RawIMAP(HOST, p.port("imap")) as c:
        # A literal carries CR LF into the name.
        c.send(b"l LOGIN {%d+}\r\n" % len(crlf) + crlf + b" " + imap_quote(U["alice"]).encode() + b"\r\n")
        _, tagged = c.read_until_tagged("l")
        assert refused(tagged, "l"), tagged
    for authcid, authzid in ((f"a\n{target}@example.net", ""), ("alice", f"a\r\n{target}@example.net")):
        with RawIMAP(HOST, p.port("imap")) as c:
            _, tagged = c.cmd("p", f"AUTHENTICATE PLAIN {sasl_plain(authcid, U['alice'], authzid=authzid)}")
            assert refused(tagged, "p"), (authcid, authzid, tagged)
    with RawIMAP(HOST, p.port("imap")) as c:
        # SASL LOGIN: the user name is base64, so it may hold NUL.
        c.send(b"s AUTHENTICATE LOGIN\r\n")
        assert c.readline().startswith(b"+")
        c.send(base64.b64encode(f"a\0{target}@example.net".encode()) + b"\r\n")
        answer = c.readline().decode()
        if answer.startswith("+"):  # refused after the password, or already at the name
            c.send(base64.b64encode(U["alice"].encode()) + b"\r\n")
            _, answer = c.read_until_tagged("s")
        assert refused(answer, "s"), answer
    with RawPOP3(HOST, p.port("pop3")) as c:
        c.send(b"USER a\0" + target.encode() + b"@example.net\r\n")
        first = c.readline().decode()
        if first.startswith("+OK"):
            assert c.cmd(f"PASS {U['alice']}").startswith("-ERR")
        else:
            assert first.startswith("-ERR"), first
    assert trap.count() == 0
    assert_only_known_backends(p, backends)
    assert p.running()


def test_allowed_backends_refuses_a_route_outside_it(postern_factory, backends, tmp_path, trap):
    d = tmp_path / "postern-allow"
    d.mkdir(parents=True, exist_ok=True)
    lines = backends.map_lines() + [f"evil {TRAP_HOST}:{trap.port}", f"evil25 {TRAP_HOST}:25"]
    p = postern_factory("postern-allow", imap_listeners=("imap",), map_lines=lines,
                        extra={"map": {"file": "users.map", "allowed_backends": [world.HOST_A, "127.0.0.2/32"]}})
    for user in ("evil", "evil25"):
        with RawIMAP(HOST, p.port("imap")) as c:
            _, tagged = c.cmd("l", f"LOGIN {user} whatever")
            assert tagged.startswith("l NO [AUTHENTICATIONFAILED]"), tagged
    with RawIMAP(HOST, p.port("imap")) as c:
        _, tagged = c.cmd("l", f"LOGIN alice {imap_quote(U['alice'])}")
        assert tagged.startswith("l OK"), tagged
    with RawIMAP(HOST, p.port("imap")) as c:
        _, tagged = c.cmd("l", f"LOGIN bob {imap_quote(U['bob'])}")
        assert tagged.startswith("l OK"), tagged
    assert trap.count() == 0
    refusals = [x for x in p.log_text().splitlines() if "route refused" in x]
    assert len(refusals) == 2, p.log_tail()
    assert "is not in map.allowed_backends" in refusals[0], refusals[0]
