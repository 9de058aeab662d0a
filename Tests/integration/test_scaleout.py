"""Scale-out (issue 10, item 6): real HAProxy (Debian's package) in front of two Postern instances
that share one slapd, as docs/scale-out.md describes.

- HAProxy sends ``send-proxy-v2`` to each instance's IMAP listener (``proxy_protocol.accept_from``
  names HAProxy's address) and checks ``GET /readyz`` on each instance's admin port.
- 1,000 logins go through HAProxy from several 127.0.0.x client addresses; each one's first message
  shows it landed on the backend the directory names for its user.
- During the run one instance is drained with SIGTERM: zero logins fail, its ``/readyz`` turns 503
  while it drains (a session it relays keeps it draining), HAProxy marks it down on that 503 and
  sends it no new connection from then on, and the instance exits 0.

Needs, besides this branch: PROXY protocol in (issue 10 item 1: ``proxy_protocol.accept_from`` on
a listener), ``/readyz`` and the graceful drain with ``shutdown.drain_seconds`` (issue 9 items 3, 4).

A client whose connection is closed before it sent its LOGIN (e.g. the drained instance's farewell
to a connection that had only been greeted) reconnects, as a mail client does; that is counted, not
failed. Everything after the LOGIN command must succeed.
"""

from __future__ import annotations

import threading
import time

import pytest

from harness import world
from harness.clients import ClosedError, RawIMAP, imap_quote
from harness.haproxy import LoadBalancer, Server
from harness.ports import free_port
from harness.postern import Postern
from harness.slapd import BIND_DN, BIND_PASSWORD, PEOPLE, Person, Slapd

U = world.USERS
HOST = "127.0.0.1"
LOGINS = 1000
WORKERS = 8
DRAIN_AFTER = 300
DRAIN_SECONDS = 8
# user -> the backend the directory sends it to
ROUTES = {"alice": "A", "bob": "B", "carol": "B", "soak": "A"}


@pytest.fixture
def slapd(tmp_path):
    hosts = {"A": world.HOST_A, "B": world.HOST_B}
    s = Slapd(tmp_path / "slapd", [Person(user, hosts[where]) for user, where in ROUTES.items()])
    s.start()
    yield s
    s.stop()


def instance(tmp_path, name: str, backends, pki, slapd: Slapd) -> Postern:
    port = free_port(HOST)
    listener = world.listener("imap", "imap", port, "starttls", backends.imap_port)
    listener["proxy_protocol"] = {"accept_from": ["127.0.0.1/32"]}  # HAProxy's address
    plan = world.postern_config(tmp_path / name, backends, pki, listeners=[listener], imap_listeners=(),
                                map_lines=[], extra={"shutdown": {"drain_seconds": DRAIN_SECONDS}})
    secret = tmp_path / name / "bind.secret"
    secret.write_text(BIND_PASSWORD + "\n")
    plan.config["map"] = {"ldap": {
        "uri": [slapd.uri], "bind_dn": BIND_DN, "password_file": str(secret), "base": PEOPLE,
        "scope": "one", "filter": "(uid={user})", "host_attribute": "mailHost", "timeout": 2}}
    p = Postern(tmp_path / name, plan.config)
    p.plan = plan
    p.port = lambda listener_name, _plan=plan: _plan.ports[listener_name]
    return p


class Run:
    """The shared state of the login workers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.next = 0
        self.done = 0
        self.failures: list[str] = []
        self.reconnects = 0

    def take(self) -> int | None:
        with self.lock:
            if self.next >= LOGINS or len(self.failures) > 20:
                return None
            self.next += 1
            return self.next - 1


def one_login(port: int, source: str, user: str, backends) -> tuple[str, bool]:
    """One login through HAProxy: ("ok", _), or (what went wrong, whether the LOGIN had been sent)."""
    try:
        c = RawIMAP(HOST, port, source=source, timeout=20)
    except (OSError, ClosedError, TimeoutError) as e:
        return f"connect: {e}", False
    sent = False
    try:
        if not c.greeting.startswith("* OK"):
            return f"greeting {c.greeting!r}", False
        sent = True
        _, tagged = c.cmd("l", f"LOGIN {user} {imap_quote(U[user])}")
        if not tagged.startswith("l OK"):
            return f"LOGIN {user}: {tagged}", True
        _, tagged = c.cmd("s", "EXAMINE INBOX")
        if not tagged.startswith("s OK"):
            return f"EXAMINE {user}: {tagged}", True
        lines, tagged = c.cmd("f", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        want = world.welcome_subject(user, backends.by_name(ROUTES[user]).marker)
        if not tagged.startswith("f OK") or want.encode() not in b"".join(lines):
            return f"{user} landed elsewhere: {lines!r} {tagged}", True
        c.cmd("o", "LOGOUT")
        return "ok", True
    except (OSError, ClosedError, TimeoutError) as e:
        return f"{user}: {e}", sent
    finally:
        c.close()


def worker(run: Run, index: int, port: int, backends) -> None:
    users = list(ROUTES)
    source = f"127.0.0.{70 + index}"
    for _ in range(LOGINS):
        n = run.take()
        if n is None:
            return
        user = users[n % len(users)]
        for _attempt in range(5):
            result, sent = one_login(port, source, user, backends)
            if result == "ok" or sent:
                break
            with run.lock:
                run.reconnects += 1
            time.sleep(0.05)
        with run.lock:
            if result == "ok":
                run.done += 1
            else:
                run.failures.append(result)


def readyz(p: Postern) -> int | None:
    try:
        return p.http_get("/readyz", timeout=2)[0]
    except OSError:
        return None


def wait_for(what: str, condition, timeout: float) -> float:
    t0 = time.monotonic()
    for _ in range(int(timeout * 50) + 1):
        if condition():
            return time.monotonic()
        if time.monotonic() - t0 >= timeout:
            break
        time.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what}")


def test_haproxy_in_front_of_two_instances_and_a_drain_loses_no_login(tmp_path, pki, backends, slapd):
    p1 = instance(tmp_path, "postern-1", backends, pki, slapd)
    p2 = instance(tmp_path, "postern-2", backends, pki, slapd)
    front = free_port(HOST)
    haproxy = None
    held = None
    try:
        p1.start()
        p2.start()
        haproxy = LoadBalancer(tmp_path / "haproxy", HOST, front, [
            Server("p1", HOST, p1.port("imap"), p1.plan.admin_port),
            Server("p2", HOST, p2.port("imap"), p2.plan.admin_port)]).start()
        # A relayed session on p1 keeps it draining for a while: round robin puts one of two there.
        candidates = []
        for _ in range(4):
            c = RawIMAP(HOST, front, source="127.0.0.69", timeout=20)
            assert c.cmd("h", f"LOGIN alice {U['alice']}")[1].startswith("h OK")
            candidates.append(c)
            if p1.sessions_active() >= 1:
                break
        assert p1.sessions_active() >= 1, "no session reached p1"
        held = candidates.pop()
        for c in candidates:
            c.close()

        run = Run()
        threads = [threading.Thread(target=worker, args=(run, i, front, backends), daemon=True)
                   for i in range(WORKERS)]
        for t in threads:
            t.start()
        wait_for(f"{DRAIN_AFTER} logins", lambda: run.done >= DRAIN_AFTER, 120)
        before = haproxy.servers_stat()
        assert int(before["p1"]["stot"]) > 50 and int(before["p2"]["stot"]) > 50, \
            "both instances took logins before the drain"
        p1.proc.send_signal(15)  # SIGTERM: drain
        # /readyz turns 503 at once, and p1 stays up while it drains its relayed session.
        wait_for("p1's /readyz to answer 503", lambda: readyz(p1) == 503, 2)
        marked = wait_for("HAProxy to mark p1 down on the 503", lambda: (
            (row := haproxy.servers_stat()["p1"])["status"].startswith("DOWN")
            and row["check_code"] == "503"), 5)
        assert p1.running(), "p1 still drains when HAProxy marks it down"
        stot_at_mark = int(haproxy.servers_stat()["p1"]["stot"])
        for t in threads:
            t.join(180)
        assert not any(t.is_alive() for t in threads), "the login workers finished"
        after = haproxy.servers_stat()
        assert run.failures == [], f"{len(run.failures)} failed logins: {run.failures[:5]}"
        assert run.done == LOGINS
        assert int(after["p1"]["stot"]) == stot_at_mark, \
            f"HAProxy sent p1 new connections after marking it down at {marked:.1f}"
        assert int(after["p2"]["stot"]) > int(before["p2"]["stot"]), "p2 took the rest"
        # The held session gets its farewell by the drain deadline, and p1 exits 0.
        data, how = held.read_all(timeout=DRAIN_SECONDS + 10)
        assert b"* BYE" in data, (data, how)
        rc = p1.proc.wait(DRAIN_SECONDS + 15)
        assert rc == 0, p1.log_tail()
        assert p2.running()
    finally:
        if held is not None:
            held.close()
        if haproxy is not None:
            haproxy.stop()
        for p in (p1, p2):
            p.stop()
