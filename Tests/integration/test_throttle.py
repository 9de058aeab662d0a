"""Login throttling (issue 10, item 4) against the real binary and real Dovecot.

127.0.0.x addresses are distinct clients. The delays are scaled down so that the test stays short
(``auth_failure_delay: {initial: 0.6, max: 2.4}``): after each counted failure the next login from
that address waits 0.6, 1.2, 2.4, 2.4 ... seconds before it is even routed.

Dovecot 2.3 itself answers a wrong password on a 0.5 s timer of its auth process, even with
``auth_failure_delay = 0`` (measured here: a failure that arrives less than 0.5 s after the previous
answer is answered on that timer's next tick, a later one 0.5 s after it arrives). Delays of at
least 0.6 s therefore add up with the backend's time, which is measured as the first, undelayed
rejection of the same client; shorter ones would hide in Dovecot's tick.

- 10 wrong passwords from one address take the escalating delays; the name's failure budget from
  that address (10) is then spent, and alice still logs in at once from another address.
- Repeating the same wrong password does not escalate.
- A trusted address (``trusted_networks``) is never delayed.
- Unknown-user and wrong-password answers take about the same time.
- The process never exits.
"""

from __future__ import annotations

import statistics
import time

from harness import world
from harness.clients import RawIMAP

U = world.USERS
HOST = "127.0.0.1"
INITIAL, MAX = 0.6, 2.4
# Timers never fire early; how late an answer may be (a loaded 2-core machine, a debug build).
LATE = 0.35
# How much one backend rejection may be quicker than the first one measured.
EARLY = 0.06
FAILED = "NO [AUTHENTICATIONFAILED] Authentication failed."


def throttled(postern_factory, **limits):
    settings = {"auth_failure_delay": {"initial": INITIAL, "max": MAX}, "login_attempts": 50}
    settings.update(limits)
    return postern_factory(imap_listeners=("imap",), limits=settings)


def client(p, source: str) -> RawIMAP:
    return RawIMAP(HOST, p.port("imap"), source=source, timeout=15)


def timed_login(c: RawIMAP, tag: str, user: str, password: str) -> tuple[str, float]:
    t0 = time.monotonic()
    _, tagged = c.cmd(tag, f"LOGIN {user} {password}")
    return tagged, time.monotonic() - t0


def expected_delay(failures: int) -> float:
    return 0.0 if failures == 0 else min(INITIAL * 2 ** (failures - 1), MAX)


def test_wrong_passwords_escalate_and_alice_still_logs_in_from_elsewhere(postern_factory, backends):
    p = throttled(postern_factory)
    attacker = client(p, "127.0.0.60")
    times = []
    for n in range(10):
        tagged, seconds = timed_login(attacker, f"w{n}", "alice", f"guess-{n}")
        assert tagged == f"w{n} {FAILED}", tagged
        times.append(seconds)
    base = times[0]  # the backend's own time, without a delay
    for n, seconds in enumerate(times[1:], start=1):
        want = expected_delay(n)
        assert want - EARLY <= seconds - base <= want + LATE, \
            f"attempt {n + 1}: {seconds:.3f} s, want {base:.3f} + {want} s ({times})"
    # alice's budget from the attacker's address is spent: even her real password is refused there,
    # after the longest delay, without asking the backend.
    def backend_logins() -> int:
        return backends.a.log_text().count("user=<alice>")

    deadline = time.monotonic() + 10
    while backend_logins() < 10 and time.monotonic() < deadline:  # Dovecot logs at disconnect
        time.sleep(0.1)
    assert backend_logins() == 10, backends.a.log_text()[-2000:]
    tagged, seconds = timed_login(attacker, "r", "alice", U["alice"])
    assert tagged == f"r {FAILED}", tagged
    assert MAX - 0.01 <= seconds <= MAX + LATE, seconds
    time.sleep(1)
    assert backend_logins() == 10, "the backend was not asked"
    # The attacker is slowed for every name, not only alice.
    tagged, seconds = timed_login(attacker, "b", "bob", "guess")
    assert tagged == f"b {FAILED}" and seconds - base >= MAX - EARLY, (tagged, seconds)
    # alice at home is neither slowed nor locked out.
    home = client(p, "127.0.0.61")
    tagged, seconds = timed_login(home, "h", "alice", U["alice"])
    assert tagged.startswith("h OK"), tagged
    assert seconds < 0.4, f"alice waited {seconds:.3f} s"
    home.close()
    attacker.close()
    # Across connections too: the penalty belongs to the address, not to the connection.
    again = client(p, "127.0.0.60")
    tagged, seconds = timed_login(again, "x", "carol", "guess")
    assert tagged == f"x {FAILED}" and seconds - base >= MAX - EARLY, (tagged, seconds)
    again.close()
    assert p.running()
    assert p.metric("postern_logins_delayed_total") >= 11, "9 delayed guesses, bob and carol"
    assert p.metric("postern_logins_total") is not None


def test_the_same_wrong_password_does_not_escalate(postern_factory):
    p = throttled(postern_factory)
    c = client(p, "127.0.0.62")
    times = [timed_login(c, f"s{n}", "alice", "stale-password")[1] for n in range(5)]
    c.close()
    for seconds in times[1:]:
        assert INITIAL - EARLY <= seconds - times[0] <= INITIAL + LATE, f"{times}: the first step only"


def test_a_trusted_address_is_never_delayed(postern_factory):
    p = throttled(postern_factory, trusted_networks=["127.0.0.63/32"])
    c = client(p, "127.0.0.63")
    times = []
    for n in range(6):
        tagged, seconds = timed_login(c, f"t{n}", "alice", f"guess-{n}")
        assert tagged == f"t{n} {FAILED}", tagged
        times.append(seconds)
    tagged, seconds = timed_login(c, "ok", "alice", U["alice"])
    assert tagged.startswith("ok OK"), tagged
    c.close()
    # Six failures would have added 0.6 + 1.2 + 2.4 + 2.4 + 2.4 s: the times stay flat.
    assert max(times) - min(times) < INITIAL, f"a trusted address waited: {times}"
    assert seconds < min(times) + INITIAL, f"its successful login waited {seconds:.3f} s"
    # An untrusted neighbour is throttled as usual.
    n = client(p, "127.0.0.64")
    _, first = timed_login(n, "a", "alice", "guess")
    _, seconds = timed_login(n, "b", "alice", "guess-2")
    n.close()
    assert seconds - first >= INITIAL - EARLY, (first, seconds)


def test_unknown_user_and_wrong_password_take_about_the_same_time(postern_factory):
    # Throttling off, so that only the hold of answers given without a backend is measured. The logins
    # are 0.6 s apart so that each of Dovecot's rejections takes its full 0.5 s (see the top).
    p = throttled(postern_factory, auth_failure_delay={"initial": 0})
    c = client(p, "127.0.0.65")

    def spaced(tag: str, user: str, password: str) -> tuple[str, float]:
        time.sleep(0.6)
        return timed_login(c, tag, user, password)

    for n in range(3):  # the first rejections teach Postern how long the backend takes
        spaced(f"warm{n}", "alice", f"warm-{n}")
    wrong, unknown = [], []
    for n in range(8):
        tagged, seconds = spaced(f"w{n}", "alice", f"wrong-{n}")
        assert tagged == f"w{n} {FAILED}", tagged
        wrong.append(seconds)
        tagged, seconds = spaced(f"u{n}", f"nobody-{n}", "whatever")
        assert tagged == f"u{n} {FAILED}", "the same words as a wrong password"
        unknown.append(seconds)
    c.close()
    w, u = statistics.median(wrong), statistics.median(unknown)
    assert abs(u - w) <= 0.1, f"median wrong password {w:.3f} s, unknown user {u:.3f} s ({wrong}, {unknown})"
    assert min(unknown) >= 0.5 * w, f"no unknown user is answered at once: {unknown}"
    assert p.running()
