"""The LDAP map, failover and Perdition migration, against a real OpenLDAP slapd and real Dovecots.

The Perdition import tests also run real Perdition 2.2 (Debian's package, inetd mode) on the same
perdition.conf and check that every login lands on the same mailbox of the same backend.

Each test has its own slapd (harness/slapd.py: generated slapd.conf, slapadd data, own state
dir, stopped by pid), the two standard Dovecot backends (A on 127.0.0.1, B on 127.0.0.2) and
Postern in front. Directory entries (ou=people,dc=postern,dc=test):

    alice  mailHost 127.0.0.1                      -> backend A
    bob    mailHost 127.0.0.2                      -> backend B
    dave   mailHost 127.0.0.2, mailUser carol      -> logs in to B as carol

Every user's INBOX message 1 is "Welcome USER on BACKEND-X", which shows where (and as whom)
a login landed.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness import world
from harness.clients import RawIMAP
from harness.perdition import PerditionClient, map_library
from harness.ports import free_port
from harness.postern import Postern, postern_bin
from harness.slapd import BIND_DN, BIND_PASSWORD, PEOPLE, Person, Slapd

U = world.USERS
HOST = "127.0.0.1"

PEOPLE_ENTRIES = [
    Person("alice", world.HOST_A),
    Person("bob", world.HOST_B),
    Person("dave", world.HOST_B, mail_user="carol"),
]


# ----- fixtures and helpers --------------------------------------------------------------------
@pytest.fixture
def slapd(tmp_path, pki):
    s = Slapd(tmp_path / "slapd", PEOPLE_ENTRIES, tls=(pki.ca, pki.backend_cert, pki.backend_key))
    s.start()
    yield s
    s.stop()


@pytest.fixture
def make_postern(tmp_path, pki, backends, request):
    """``make_postern(map_config, name=..., map_lines=..., limits=...)`` -> a started Postern whose
    ``map:`` block is ``map_config`` (a ``file:`` entry is added when ``map_lines`` is given)."""
    started: list[Postern] = []

    def make(map_config: dict, *, name: str | None = None, map_lines: list[str] | None = None,
             limits: dict | None = None) -> Postern:
        d = tmp_path / (name or f"postern-{len(started) + 1}")
        plan = world.postern_config(d, backends, pki, imap_listeners=("imap",),
                                    map_lines=map_lines or [], limits=limits)
        cfg = dict(map_config)
        if map_lines:
            cfg = {"file": plan.map_path.name, **cfg}
        plan.config["map"] = cfg
        p = Postern(d, plan.config)
        p.plan = plan
        p.port = lambda listener, _plan=plan: _plan.ports[listener]
        started.append(p)
        p.start()
        return p

    yield make
    for p in started:
        p.stop()
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            rep.sections.append((f"postern {p.state_dir.name} log tail", p.log_tail(80)))


def ldap_map(slapd: Slapd, **overrides) -> dict:
    secret = slapd.state_dir / "bind.secret"
    secret.write_text(BIND_PASSWORD + "\n")
    ldap = {
        "uri": [slapd.uri],
        "bind_dn": BIND_DN,
        "password_file": str(secret),
        "base": PEOPLE,
        "scope": "one",
        "filter": "(uid={user})",
        "host_attribute": "mailHost",
        "port_attribute": "mailPort",
        "user_attribute": "mailUser",
        "timeout": 2,
    }
    ldap.update(overrides)
    return {"ldap": ldap}


def client(p: Postern) -> RawIMAP:
    return RawIMAP(HOST, p.port("imap"), timeout=20)


def login(c: RawIMAP, user: str, password: str, tag: str = "l", timeout: float = 20) -> str:
    """LOGIN with literals (any bytes allowed in the name); returns the tagged reply."""
    u, pw = user.encode(), password.encode()
    c.send(b"%s LOGIN {%d+}\r\n%s {%d+}\r\n%s\r\n" % (tag.encode(), len(u), u, len(pw), pw))
    _, tagged = c.read_until_tagged(tag, timeout)
    return tagged


def lands_on(c: RawIMAP, mailbox_user: str, marker: str) -> bool:
    _, tagged = c.cmd("sel", "SELECT INBOX")
    assert tagged.startswith("sel OK"), tagged
    lines, tagged = c.cmd("fet", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert tagged.startswith("fet OK"), tagged
    return world.welcome_subject(mailbox_user, marker).encode() in b"\n".join(lines)


def wait_log(p: Postern, text: str, timeout: float = 10) -> bool:
    """Poll (bounded) until ``text`` is in Postern's log: a session line is written when it ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in p.log_text():
            return True
        time.sleep(0.1)
    return text in p.log_text()


def lookup(config: Path, user: str) -> tuple[int, str]:
    p = subprocess.run([postern_bin(), "lookup", "-c", str(config), user], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace")


def lookup_target(config: Path, user: str) -> str:
    """The final line of ``postern lookup``: ``USER: servers as LOGIN (reason)``."""
    rc, out = lookup(config, user)
    assert rc == 0, out
    return out.strip().splitlines()[-1]


# ----- routing ---------------------------------------------------------------------------------
@pytest.mark.parametrize("user,marker", [("alice", world.MARKER_A), ("bob", world.MARKER_B)])
def test_ldap_routes_users_to_their_backends(make_postern, slapd, user, marker):
    p = make_postern(ldap_map(slapd))
    with client(p) as c:
        tagged = login(c, user, U[user])
        assert tagged.startswith("l OK"), tagged
        assert lands_on(c, user, marker)
    assert wait_log(p, f'route="ldap uid={user},{PEOPLE}'), p.log_tail()


def test_ldap_user_attribute_names_the_backend_login(make_postern, slapd):
    p = make_postern(ldap_map(slapd))
    with client(p) as c:
        # dave's entry says: mailbox on B, log in there as carol (with the password dave gave).
        tagged = login(c, "dave", U["carol"])
        assert tagged.startswith("l OK"), tagged
        assert lands_on(c, "carol", world.MARKER_B)
    with client(p) as c:
        tagged = login(c, "dave", "not-carols-password")
        assert tagged.startswith("l NO"), tagged


def test_ldap_uris_fail_over_in_order(make_postern, slapd):
    dead = f"ldap://{HOST}:{free_port(HOST)}"
    p = make_postern(ldap_map(slapd, uri=[dead, slapd.uri]))
    with client(p) as c:
        assert login(c, "bob", U["bob"]).startswith("l OK")
        assert lands_on(c, "bob", world.MARKER_B)
    rc, out = lookup(p.config_path, "alice")
    assert rc == 0, out
    assert f"{dead}: connect: Can't contact LDAP server; failed over to {slapd.uri}" in out, out
    assert f"alice: {world.HOST_A} as alice (ldap uid=alice,{PEOPLE})" in out, out


def test_ldap_filter_injection_matches_nothing(make_postern, slapd):
    # Unescaped, these would match entries: prove it on the directory itself first.
    rc, out = slapd.search("(uid=*)", "uid")
    assert rc == 0 and out.count("dn: ") >= 3, out
    p = make_postern(ldap_map(slapd))
    for name in ["*)(uid=*", "*", "\\2a", "ali*", "alice)(uid=*", "(uid=alice)", "a(b)c", "*)(|(uid=*"]:
        with client(p) as c:
            tagged = login(c, name, U["alice"])
            assert tagged.startswith("l NO"), f"{name!r}: {tagged}"
    # NUL is not allowed in an IMAP string at all: refused before the map is asked.
    with client(p) as c:
        tagged = login(c, "alice\0", U["alice"])
        assert tagged.startswith(("l NO", "l BAD")), tagged
    log = p.log_text()
    # No attempt got a route, so none reached a backend.
    assert "route=" not in log and "outcome=backend-closed" not in log, log[-3000:]
    # The filters that reached the directory were escaped (slapd logs nothing at -d 0; use lookup).
    rc, out = lookup(p.config_path, "*)(uid=*")
    assert rc == 2 and "filter (uid=\\2a\\29\\28uid=\\2a)" in out, out


# ----- the directory goes away, and comes back -------------------------------------------------
def test_directory_down_cached_users_still_log_in(make_postern, slapd):
    p = make_postern({**ldap_map(slapd, timeout=2),
                      "cache": {"ttl": 1, "negative_ttl": 1, "stale_ttl": 3600}})
    with client(p) as c:
        assert login(c, "alice", U["alice"]).startswith("l OK")
    slapd.stop()
    time.sleep(1.5)  # past the TTL: only the stale-on-error rule can serve alice now
    with client(p) as c:
        tagged = login(c, "alice", U["alice"])
        assert tagged.startswith("l OK"), tagged
        assert lands_on(c, "alice", world.MARKER_A)
    stale = p.metrics().get('postern_map_cache_total{result="stale"}', 0)
    assert stale >= 1, p.metrics_text()
    with client(p) as c:
        t0 = time.monotonic()
        tagged = login(c, "bob", U["bob"])
        elapsed = time.monotonic() - t0
        assert tagged.startswith("l NO [UNAVAILABLE]"), tagged
        assert elapsed < 2 + 1.5, elapsed
    print(f"\nuncached user with the directory down: NO [UNAVAILABLE] after {elapsed:.3f} s (timeout 2 s)")
    slapd.start()
    deadline = time.monotonic() + 20
    tagged = ""
    while time.monotonic() < deadline:
        with client(p) as c:
            tagged = login(c, "bob", U["bob"])
            if tagged.startswith("l OK"):
                assert lands_on(c, "bob", world.MARKER_B)
                break
        time.sleep(0.5)
    assert tagged.startswith("l OK"), f"lookups did not resume after slapd came back: {tagged}"


class SilentServer:
    """Accepts TCP connections and never says a word (a hung directory). Stopped at teardown."""

    def __init__(self):
        self.port = free_port(HOST)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, self.port))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.conns: list[socket.socket] = []
        self.accepted = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        deadline = time.monotonic() + 300
        while not self.stopping.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            self.accepted += 1

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


def test_directory_that_never_answers(make_postern, backends):
    silent = SilentServer()
    try:
        # alice is in the map file (asked first); everyone else goes to the silent "directory".
        p = make_postern({"ldap": {"uri": [f"ldap://{HOST}:{silent.port}"], "base": PEOPLE, "timeout": 2,
                                   "pool_size": 2}},
                         map_lines=[f"alice {world.HOST_A}"])
        established = client(p)
        assert login(established, "alice", U["alice"]).startswith("l OK")
        results: list[tuple[str, float]] = []

        def stalled_login(i: int):
            with client(p) as c:
                t0 = time.monotonic()
                tagged = login(c, "bob", U["bob"], tag="s")
                results.append((tagged, time.monotonic() - t0))

        threads = [threading.Thread(target=stalled_login, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        latencies = []
        t_end = time.monotonic() + 2.5
        n = 0
        while time.monotonic() < t_end and n < 200:
            t0 = time.monotonic()
            _, tagged = established.cmd(f"n{n}", "NOOP", timeout=5)
            latencies.append(time.monotonic() - t0)
            assert tagged.startswith(f"n{n} OK"), tagged
            n += 1
            time.sleep(0.05)
        for t in threads:
            t.join(15)
        established.close()
        assert silent.accepted >= 1, "the lookups never reached the silent directory"
        assert len(results) == 6
        for tagged, elapsed in results:
            assert tagged.startswith("s NO [UNAVAILABLE]"), tagged
            assert elapsed < 2 + 1.5, elapsed
        worst = max(latencies)
        med = statistics.median(latencies)
        print(f"\nstalled directory: 6 logins got NO [UNAVAILABLE] after "
              f"{min(e for _, e in results):.2f}-{max(e for _, e in results):.2f} s (timeout 2 s); "
              f"NOOP latency of an established session during the stall over {len(latencies)} "
              f"NOOPs: median {med * 1000:.1f} ms, max {worst * 1000:.1f} ms")
        assert worst < 0.5, latencies
    finally:
        silent.stop()


# ----- failover and the circuit breaker --------------------------------------------------------
def test_failover_skips_a_dead_backend_until_its_backoff_ends(make_postern, backends):
    port = backends.imap_port
    a_label = f"{world.HOST_A}:{port}"
    p = make_postern({"breaker": {"failures": 1, "backoff": 3}},
                     map_lines=[f"alice {world.HOST_A},{world.HOST_B}"])
    backends.a.stop()
    with client(p) as c:
        tagged = login(c, "alice", U["alice"])
        assert tagged.startswith("l OK"), tagged
        assert lands_on(c, "alice", world.MARKER_B)
    m = p.metrics()
    assert m.get(f'postern_backend_breaker_opened_total{{backend="{a_label}"}}') == 1, p.metrics_text()
    for i in range(3):
        with client(p) as c:
            assert login(c, "alice", U["alice"]).startswith("l OK")
            assert lands_on(c, "alice", world.MARKER_B)
    m = p.metrics()
    assert m.get(f'postern_backend_skipped_total{{backend="{a_label}"}}') == 3, p.metrics_text()
    assert m.get(f'postern_backend_breaker_opened_total{{backend="{a_label}"}}') == 1
    assert wait_log(p, "backend skipped (circuit open)")
    assert p.log_text().count("backend skipped (circuit open)") == 3
    time.sleep(3.3)  # the back-off ends: the next login tries A again (still down, so it re-opens)
    with client(p) as c:
        assert login(c, "alice", U["alice"]).startswith("l OK")
        assert lands_on(c, "alice", world.MARKER_B)
    m = p.metrics()
    assert m.get(f'postern_backend_breaker_opened_total{{backend="{a_label}"}}') == 2, p.metrics_text()
    assert m.get(f'postern_backend_skipped_total{{backend="{a_label}"}}') == 3


# ----- TLS to the directory --------------------------------------------------------------------
def test_ldaps_and_starttls_to_the_directory(tmp_path, slapd, pki):
    base = {"listeners": [{"name": "imap", "protocol": "imap", "listen": [f"{HOST}:{free_port(HOST)}"],
                           "backend": {"port": 143}}]}
    from harness.yamlout import dump

    cases = {
        "ldaps": (ldap_map(slapd, uri=[slapd.ldaps_uri], ca_file=str(pki.ca)), 0),
        "starttls": (ldap_map(slapd, starttls=True, ca_file=str(pki.ca)), 0),
        "wrong-ca": (ldap_map(slapd, uri=[slapd.ldaps_uri], ca_file=str(pki.wrong_ca)), 3),
    }
    for name, (mp, want) in cases.items():
        cfg = tmp_path / f"{name}.yaml"
        cfg.write_text(dump({**base, "map": mp}))
        rc, out = lookup(cfg, "dave")
        assert rc == want, f"{name}: {out}"
        if want == 0:
            assert f"dave: {world.HOST_B} as carol (ldap uid=dave,{PEOPLE})" in out, out


# ----- Perdition migration ---------------------------------------------------------------------
def write_perdition_conf(d: Path, backends, lines: list[str]) -> tuple[Path, int]:
    port = free_port(HOST)
    conf = d / "perdition.conf"
    conf.write_text("\n".join([
        "# A Perdition configuration, as an operator would have it",
        "protocol IMAP4",
        "bind_address 127.0.0.1",
        f"listen_port {port}",
        f"outgoing_port {backends.imap_port}",
        "timeout 600",
        "connection_limit 100",
        f"log_facility {d}/perdition.log",
        "server_ok_line",
        *lines,
    ]) + "\n")
    return conf, port


def import_perdition(conf: Path, out: Path) -> str:
    p = subprocess.run([postern_bin(), "import-perdition", str(conf), "-o", str(out)],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout.decode(errors="replace")
    return out.read_text()


def landing(c: RawIMAP, user: str, password: str) -> str:
    """Log in and say where the session landed: 'Welcome MAILBOX on BACKEND-X', or the failure."""
    tagged = login(c, user, password)
    if not tagged.startswith("l OK"):
        return "refused"
    lines, tagged = c.cmd("sel", "SELECT INBOX")
    assert tagged.startswith("sel OK"), tagged
    lines, tagged = c.cmd("fet", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert tagged.startswith("fet OK"), tagged
    for line in b"\n".join(lines).decode(errors="replace").splitlines():
        if line.startswith("Subject: "):
            return line[len("Subject: "):].strip()
    return "no subject"


def compare_with_perdition(conf: Path, postern_port: int, logins: dict[str, str]) -> dict[str, str]:
    """Each login through real Perdition (inetd mode, the same perdition.conf) and through Postern
    running the imported config: both must land on the same mailbox of the same backend."""
    seen: dict[str, str] = {}
    for user, password in logins.items():
        with PerditionClient(conf) as c:
            by_perdition = landing(c, user, password)
        with RawIMAP(HOST, postern_port, timeout=20) as c:
            by_postern = landing(c, user, password)
        assert by_postern == by_perdition, f"{user}: Perdition -> {by_perdition!r}, Postern -> {by_postern!r}"
        seen[user] = by_postern
    print("\nsame landing through Perdition 2.2 and Postern: "
          + "; ".join(f"{u} -> {w}" for u, w in seen.items()))
    return seen


def test_import_perdition_regex_popmap(tmp_path, backends):
    d = tmp_path / "perdition-re"
    d.mkdir()
    # alice matches lines 1 and 2 (Perdition 2.2 takes the first match); user-bob uses a
    # back-reference and a user name from the map (username_from_database).
    (d / "popmap.re").write_text(
        "# popmap.re\n"
        f"^[a-c]:\t{world.HOST_B}\n"
        f"^alice$: {world.HOST_A}\n"
        f"^user-(.*)$: $1@{world.HOST_B}\n"
    )
    conf, port = write_perdition_conf(d, backends, [
        f"map_library {map_library('posix_regex')}",
        "map_library_opt popmap.re",
        f"outgoing_server {world.HOST_A}",
        "username_from_database",
    ])
    yaml_text = import_perdition(conf, d / "postern.yaml")
    assert "regex: " in yaml_text and "NOT CARRIED OVER" in yaml_text, yaml_text
    assert "server_ok_line" in yaml_text and "log_facility" in yaml_text, yaml_text
    cfg = d / "postern.yaml"
    expected = {
        "alice": f"alice: {world.HOST_B} as alice (",
        "bob": f"bob: {world.HOST_B} as bob (",
        "user-bob": f"user-bob: {world.HOST_B} as bob (",
        "soak": f"soak: {world.HOST_A} as soak (default)",
    }
    for user, want in expected.items():
        assert lookup_target(cfg, user).startswith(want), (user, lookup_target(cfg, user))
    p = Postern(d / "run", config_file=cfg)
    p.start()
    try:
        seen = compare_with_perdition(conf, port, {
            "alice": U["alice"], "bob": U["bob"], "carol": U["carol"], "user-bob": U["bob"],
            "bigb": U["bigb"], "soak": U["soak"], "user-alice": "wrong-password"})
    finally:
        p.stop()
    assert seen["alice"] == f"Welcome alice on {world.MARKER_B}"
    assert seen["user-bob"] == f"Welcome bob on {world.MARKER_B}"
    assert seen["bigb"] == f"Welcome bigb on {world.MARKER_B}"
    assert seen["soak"] == f"Welcome soak on {world.MARKER_A}"
    assert seen["user-alice"] == "refused"


def test_import_perdition_ldap_url(tmp_path, backends, slapd):
    d = tmp_path / "perdition-ldap"
    d.mkdir()
    bind = BIND_DN.replace(",", "%2c")
    url = (f"ldap://{HOST}:{slapd.port}/{PEOPLE}?mailUser,mailHost,mailPort?one?(uid=%s)"
           f"?bindname={bind},x-bindpw={BIND_PASSWORD}")
    conf, port = write_perdition_conf(d, backends, [
        f"map_library {map_library('ldap')}",
        f"map_library_opt {url}",
        "username_from_database",
    ])
    yaml_text = import_perdition(conf, d / "postern.yaml")
    assert BIND_PASSWORD not in yaml_text, "the bind password leaked into the YAML"
    secret = d / "ldap.secret"
    assert secret.read_text().strip() == BIND_PASSWORD
    assert secret.stat().st_mode & 0o077 == 0
    cfg = d / "postern.yaml"
    expected = {
        "bob": f"bob: {world.HOST_B} as bob (ldap uid=bob,",
        "dave": f"dave: {world.HOST_B} as carol (ldap uid=dave,",
    }
    for user, want in expected.items():
        assert lookup_target(cfg, user).startswith(want), (user, lookup_target(cfg, user))
    rc, out = lookup(cfg, "nobody")
    assert rc == 2, out
    p = Postern(d / "run", config_file=cfg)
    p.start()
    try:
        seen = compare_with_perdition(conf, port, {
            "alice": U["alice"], "bob": U["bob"], "dave": U["carol"], "nobody": "x"})
    finally:
        p.stop()
    assert seen["alice"] == f"Welcome alice on {world.MARKER_A}"
    assert seen["dave"] == f"Welcome carol on {world.MARKER_B}"
    assert seen["nobody"] == "refused"
