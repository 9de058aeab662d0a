"""The soak: a bounded mixed load against a real Postern in front of two real Dovecots, printing the
Postern process's sessions, fds, RSS and CPU at the start, every minute and after the load stops.
It exits non-zero unless they come back to the start (the settled RSS within ``--rss-mib`` of it,
and RSS not rising by more than half of that over the second half of the load), or more than
``--max-failed-permille`` of the client sessions failed, or a reload did not take.

Run through ``scripts/soak [MINUTES]``, or directly:

    PYTHONPATH=Tests/integration python3 -m harness.soak --minutes 1

The load, all of it at once until the time is up: ``--workers`` threads each run one short session
after another, picked at random (IMAP with LOGIN or AUTHENTICATE over STARTTLS, implicit TLS or
plain; POP3 over STLS or implicit TLS; ManageSieve over STARTTLS; a bulk fetch of the 1 MiB or the
8 MiB message, checked by SHA-256; a client that asks for 20 fetches of 1 MiB and resets the
connection (SO_LINGER 0) with the answers unread; a wrong password on any protocol, from addresses
127.0.1.x so that the throttle it triggers delays no other client); ``--idlers`` IMAP sessions sit in
IDLE for 10-60 s each, then DONE and LOGOUT, again and again, across the reloads; and every minute the
config is rewritten (``limits.idle_timeout`` alternates between two values) and Postern gets SIGHUP
(30 s into the load, or half-way through a shorter one, then every 60 s),
which must raise ``postern_config_generation``. State goes to ``.state/soak/`` (git-ignored); every
process started is stopped by pid at the end, on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import procs, sanitizer, world
from .clients import RawIMAP, imap_quote, sasl_plain
from .mailclients import RawPOP3, RawSieve
from .pki import ensure_pki
from .postern import REPO, Postern

U = world.USERS
HOST = "127.0.0.1"
LISTENERS = ("imap", "imaps", "pop3", "pop3s", "sieve")
OP_TIMEOUT = 60.0  # every socket read of the load; throttled wrong passwords wait up to 15 s


@dataclass
class Sample:
    """One look at the Postern process."""

    at: float
    sessions: float
    fds: int
    rss_kib: int
    threads: int
    cpu_s: float  # user + system time so far

    def row(self, label: str, previous: "Sample | None") -> str:
        cpu = "-"
        if previous is not None and self.at > previous.at:
            cpu = f"{100 * (self.cpu_s - previous.cpu_s) / (self.at - previous.at):.0f}%"
        return (f"{label:>8} {self.sessions:>8.0f} {self.fds:>6} {self.rss_kib / 1024:>9.1f} "
                f"{self.threads:>7} {cpu:>6} {self.cpu_s:>8.1f}")


HEADER = f"{'':>8} {'sessions':>8} {'fds':>6} {'RSS MiB':>9} {'threads':>7} {'CPU':>6} {'CPU s':>8}"


def sample(p: Postern) -> Sample:
    """The process's figures, read before the admin request for the session count: that request's own
    connection would otherwise be counted as an fd while Postern has not yet seen it close."""
    with open(f"/proc/{p.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)
    at, fds, rss, threads = time.monotonic(), p.open_fds(), p.rss_kib(), p.threads()
    return Sample(at=at, sessions=p.sessions_active(), fds=fds, rss_kib=rss, threads=threads, cpu_s=cpu)


@dataclass
class Tally:
    """Per-scenario counts of the load, and the first few failures."""

    ok: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, name: str, error: BaseException | None = None) -> None:
        with self.lock:
            if error is None:
                self.ok[name] = self.ok.get(name, 0) + 1
                return
            self.failed[name] = self.failed.get(name, 0) + 1
            if len(self.examples) < 20:
                self.examples.append(f"{name}: {type(error).__name__}: {error}"[:300])

    def totals(self) -> tuple[int, int]:
        with self.lock:
            return sum(self.ok.values()), sum(self.failed.values())

    def summary(self) -> str:
        with self.lock:
            names = sorted(set(self.ok) | set(self.failed))
            return ", ".join(f"{n} {self.ok.get(n, 0)}/{self.failed.get(n, 0)}" for n in names)


class Load:
    """The clients: short sessions on worker threads, IDLE sessions, and the reloads."""

    def __init__(self, postern: Postern, ports: dict[str, int], pki, backends: world.Backends,
                 config: dict):
        self.p, self.ports, self.pki, self.backends = postern, ports, pki, backends
        self.config = config
        self.ctx = pki.client_context()
        self.stop = threading.Event()
        self.tally = Tally()
        self.reloads_ok = 0
        self.reloads_failed: list[str] = []
        self.scenarios = [
            ("imap", 4, self.imap_session), ("pop3", 3, self.pop3_session),
            ("sieve", 2, self.sieve_session), ("bulk", 2, self.bulk_fetch),
            ("reset", 2, self.reset_with_full_buffers), ("wrong-password", 1, self.wrong_password),
        ]

    # ----- the sessions ---------------------------------------------------------------------------
    def imap(self, mode: str, source: str | None = None) -> RawIMAP:
        if mode == "implicit":
            return RawIMAP(HOST, self.ports["imaps"], tls="implicit", context=self.ctx,
                           timeout=OP_TIMEOUT, source=source)
        c = RawIMAP(HOST, self.ports["imap"], context=self.ctx, timeout=OP_TIMEOUT, source=source)
        if mode == "starttls":
            c.starttls(self.ctx)
        return c

    @staticmethod
    def imap_login(c: RawIMAP, user: str, password: str, sasl: bool) -> str:
        if sasl:
            _, tagged = c.cmd("l", f"AUTHENTICATE PLAIN {sasl_plain(user, password)}")
        else:
            _, tagged = c.cmd("l", f"LOGIN {user} {imap_quote(password)}")
        return tagged

    @staticmethod
    def expect(condition: bool, what: str) -> None:
        if not condition:
            raise AssertionError(what)

    def imap_session(self, rng: random.Random) -> None:
        user = rng.choice(("alice", "bob", "carol"))
        with self.imap(rng.choice(("starttls", "implicit", "plain"))) as c:
            tagged = self.imap_login(c, user, U[user], sasl=rng.random() < 0.5)
            self.expect(tagged.startswith("l OK"), f"login: {tagged}")
            _, tagged = c.cmd("s", "SELECT INBOX")
            self.expect(tagged.startswith("s OK"), f"select: {tagged}")
            lines, tagged = c.cmd("f", "FETCH 1 (BODY.PEEK[])")
            marker = self.backends.marker_of(user).encode()
            self.expect(tagged.startswith("f OK") and any(marker in x for x in lines), f"fetch: {tagged}")
            c.cmd("o", "LOGOUT")

    def pop3_session(self, rng: random.Random) -> None:
        user = rng.choice(("alice", "bob", "carol"))
        if rng.random() < 0.5:
            c = RawPOP3(HOST, self.ports["pop3s"], tls="implicit", context=self.ctx, timeout=OP_TIMEOUT)
        else:
            c = RawPOP3(HOST, self.ports["pop3"], context=self.ctx, timeout=OP_TIMEOUT)
            c.stls(self.ctx)
        with c:
            if rng.random() < 0.5:
                self.expect(c.cmd(f"USER {user}").startswith("+OK"), "USER")
                status = c.cmd(f"PASS {U[user]}")
            else:
                status = c.cmd(f"AUTH PLAIN {sasl_plain(user, U[user])}")
            self.expect(status.startswith("+OK"), f"login: {status}")
            self.expect(c.cmd("STAT").startswith("+OK"), "STAT")
            self.expect(c.cmd("RETR 1").startswith("+OK"), "RETR")
            body = c.multiline()
            self.expect(self.backends.marker_of(user).encode() in body, "RETR 1 names the backend")
            self.expect(c.cmd("QUIT").startswith("+OK"), "QUIT")

    def sieve_session(self, rng: random.Random) -> None:
        user = rng.choice(("alice", "bob", "carol"))
        with RawSieve(HOST, self.ports["sieve"], context=self.ctx, timeout=OP_TIMEOUT) as c:
            status = c.starttls(self.ctx)
            self.expect(status.startswith("OK"), f"STARTTLS: {status}")
            _, status = c.cmd(f'AUTHENTICATE "PLAIN" "{sasl_plain(user, U[user])}"')
            self.expect(status.startswith("OK"), f"login: {status}")
            _, status = c.cmd("LISTSCRIPTS")
            self.expect(status.startswith("OK"), f"LISTSCRIPTS: {status}")
            c.cmd("LOGOUT")

    def bulk_fetch(self, rng: random.Random) -> None:
        user, digest = ("big", self.backends.big_sha256) if rng.random() < 0.2 else \
            ("soak", self.backends.soak_sha256)
        with self.imap(rng.choice(("starttls", "implicit"))) as c:
            tagged = self.imap_login(c, user, U[user], sasl=False)
            self.expect(tagged.startswith("l OK"), f"login: {tagged}")
            c.cmd("s", "SELECT INBOX")
            c.send("f FETCH 2 BODY.PEEK[]\r\n")
            head = c.readline()
            size = int(head.rsplit(b"{", 1)[1].rstrip(b"}"))
            body = c.readexact(size)
            self.expect(hashlib.sha256(body).hexdigest() == digest, f"{user}'s message differs")
            _, tagged = c.read_until_tagged("f")
            self.expect(tagged.startswith("f OK"), f"fetch: {tagged}")
            c.cmd("o", "LOGOUT")

    def reset_with_full_buffers(self, rng: random.Random) -> None:
        c = self.imap(rng.choice(("plain", "implicit")))
        try:
            tagged = self.imap_login(c, "soak", U["soak"], sasl=False)
            self.expect(tagged.startswith("l OK"), f"login: {tagged}")
            c.send("s SELECT INBOX\r\n" + "".join(f"f{i} FETCH 2 BODY.PEEK[]\r\n" for i in range(20)))
            time.sleep(rng.uniform(0.05, 0.3))
        finally:
            c.abort()

    def wrong_password(self, rng: random.Random) -> None:
        source = f"127.0.1.{rng.randint(1, 40)}"
        user = rng.choice(("alice", "bob"))
        bad = f"wrong-{rng.randint(0, 3)}"
        proto = rng.choice(("imap", "pop3", "sieve"))
        if proto == "imap":
            with self.imap("starttls", source=source) as c:
                tagged = self.imap_login(c, user, bad, sasl=rng.random() < 0.5)
                self.expect(tagged.startswith("l NO"), f"wrong password: {tagged}")
        elif proto == "pop3":
            with RawPOP3(HOST, self.ports["pop3s"], tls="implicit", context=self.ctx,
                         timeout=OP_TIMEOUT, source=source) as c:
                status = c.cmd(f"AUTH PLAIN {sasl_plain(user, bad)}")
                self.expect(status.startswith("-ERR"), f"wrong password: {status}")
        else:
            with RawSieve(HOST, self.ports["sieve"], context=self.ctx, timeout=OP_TIMEOUT,
                          source=source) as c:
                c.starttls(self.ctx)
                _, status = c.cmd(f'AUTHENTICATE "PLAIN" "{sasl_plain(user, bad)}"')
                self.expect(status.startswith("NO"), f"wrong password: {status}")

    # ----- the threads ------------------------------------------------------------------------------
    def worker(self, index: int) -> None:
        rng = random.Random(index)
        names = [s[0] for s in self.scenarios]
        weights = [s[1] for s in self.scenarios]
        funcs = {s[0]: s[2] for s in self.scenarios}
        while not self.stop.is_set():
            name = rng.choices(names, weights)[0]
            try:
                funcs[name](rng)
                self.tally.count(name)
            except Exception as e:  # noqa: BLE001 - counted and reported
                self.tally.count(name, e)

    def idler(self, index: int) -> None:
        rng = random.Random(1000 + index)
        while not self.stop.is_set():
            try:
                with self.imap(rng.choice(("starttls", "implicit"))) as c:
                    user = rng.choice(("alice", "bob"))
                    tagged = self.imap_login(c, user, U[user], sasl=False)
                    self.expect(tagged.startswith("l OK"), f"login: {tagged}")
                    c.cmd("s", "SELECT INBOX")
                    c.send("i IDLE\r\n")
                    line = c.readline()
                    self.expect(line.startswith(b"+"), f"IDLE: {line!r}")
                    hold = time.monotonic() + rng.uniform(10, 60)
                    while time.monotonic() < hold and not self.stop.is_set():
                        time.sleep(0.5)
                    c.send("DONE\r\n")
                    _, tagged = c.read_until_tagged("i")
                    self.expect(tagged.startswith("i OK"), f"IDLE ended: {tagged}")
                    c.cmd("o", "LOGOUT")
                self.tally.count("idle")
            except Exception as e:  # noqa: BLE001 - counted and reported
                self.tally.count("idle", e)

    def reload(self, step: int) -> None:
        """Rewrite the config (one value alternates) and SIGHUP; the generation must go up."""
        before = self.p.metric("postern_config_generation") or 0
        self.config["limits"]["idle_timeout"] = 1800 if step % 2 else 1799
        self.p.reload(self.config)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (self.p.metric("postern_config_generation") or 0) > before:
                self.reloads_ok += 1
                return
            time.sleep(0.2)
        self.reloads_failed.append(f"reload {step}: generation stayed {before}")

    def reloader(self, first: float) -> None:
        """A reload ``first`` seconds into the load and then every minute, until the load stops."""
        step = 1
        while not self.stop.wait(first if step == 1 else 60):
            try:
                self.reload(step)
            except Exception as e:  # noqa: BLE001 - a failed reload is a finding
                self.reloads_failed.append(f"reload {step}: {type(e).__name__}: {e}")
            step += 1

    def warm_up(self) -> None:
        """Each kind of session a few times, an IDLE and a reload, so that what is made once (TLS
        contexts, caches, thread pools, a second config generation) exists before the baseline."""
        rng = random.Random(42)
        for _ in range(2):
            for name, _, fn in self.scenarios:
                try:
                    fn(rng)
                except Exception as e:  # noqa: BLE001 - the warm-up must be clean
                    raise RuntimeError(f"warm-up {name} failed: {e}") from e
        self.reload(0)
        if self.reloads_failed:
            raise RuntimeError(self.reloads_failed[0])


def wait_quiet(p: Postern, fds: int | None, timeout: float = 60.0) -> None:
    """Until no session is left and (if given) the fd count is ``fds``, or the fd count has stayed
    the same for 2 s; bounded."""
    p.wait_sessions(0, timeout=timeout)
    if fds is not None:
        p.wait_fds(fds, timeout=timeout)
        return
    deadline = time.monotonic() + timeout
    last, since = p.open_fds(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < 2.0:
        time.sleep(0.1)
        n = p.open_fds()
        if n != last:
            last, since = n, time.monotonic()


def settled_rss(p: Postern, seconds: float) -> int:
    """RSS after ``seconds`` of no load (malloc hands back what it trims, idle dispatch threads exit)."""
    time.sleep(seconds)
    return p.rss_kib()


def run(args: argparse.Namespace) -> int:
    state = Path(args.state).resolve()
    shutil.rmtree(state / "postern", ignore_errors=True)
    shutil.rmtree(state / "backends", ignore_errors=True)
    pki = ensure_pki(Path(args.pki).resolve() if args.pki else state / "pki")
    backends = world.start_backends(state / "backends", pki, cache_dir=state / "mail-cache")
    postern = None
    try:
        plan = world.postern_config(state / "postern", backends, pki, imap_listeners=LISTENERS,
                                    map_lines=backends.map_lines(explicit_port_users=()))
        postern = Postern(state / "postern", plan.config).start()
        binary = os.environ.get("POSTERN_BIN") or "(default) .build/debug/postern"
        print(f"soak: {args.minutes:g} min, {args.workers} workers, {args.idlers} IDLE sessions, "
              f"a reload every minute; Postern pid {postern.pid} ({binary}); state in {state}",
              flush=True)
        load = Load(postern, plan.ports, pki, backends, plan.config)
        load.warm_up()
        wait_quiet(postern, None)
        start_rss = settled_rss(postern, args.settle)
        start = sample(postern)
        start.rss_kib = start_rss
        print(HEADER)
        print(start.row("start", None), flush=True)

        load.reloads_ok = 0  # count the reloads under load only
        threads = [threading.Thread(target=load.worker, args=(i,), daemon=True)
                   for i in range(args.workers)]
        first_reload = min(30.0, args.minutes * 30)  # 30 s in, or half-way through a shorter load
        threads.append(threading.Thread(target=load.reloader, args=(first_reload,), daemon=True))
        threads += [threading.Thread(target=load.idler, args=(i,), daemon=True)
                    for i in range(args.idlers)]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        end_at = t0 + args.minutes * 60
        previous, peak_rss, minute = start, start.rss_kib, 0
        during: list[Sample] = []
        while time.monotonic() < end_at:
            next_at = min(end_at, t0 + (minute + 1) * 60)
            while time.monotonic() < next_at:
                time.sleep(min(1.0, max(0.0, next_at - time.monotonic())))
                if not postern.running():
                    raise RuntimeError(f"postern exited with {postern.proc.returncode}")
            minute += 1
            now = sample(postern)
            peak_rss = max(peak_rss, now.rss_kib)
            during.append(now)
            ok, failed = load.tally.totals()
            elapsed = now.at - t0
            print(now.row(f"{int(elapsed // 60)}:{int(elapsed % 60):02d}", previous)
                  + f"   ops {ok} ok, {failed} failed", flush=True)
            previous = now

        load.stop.set()
        for t in threads:
            t.join(OP_TIMEOUT + 30)
        stuck = sum(1 for t in threads if t.is_alive())
        wait_quiet(postern, start.fds)
        end = sample(postern)
        end.rss_kib = settled_rss(postern, args.settle)
        print(end.row("end", previous))
        ok, failed = load.tally.totals()
        print(f"load: {ok} sessions ok, {failed} failed ({load.tally.summary()}: ok/failed); "
              f"reloads {load.reloads_ok} ok, {len(load.reloads_failed)} failed; peak RSS "
              f"{peak_rss / 1024:.1f} MiB")
        for e in load.tally.examples[:10]:
            print(f"  failure: {e}")
        # A leak keeps growing under a steady load; the allocator's high-water mark does not.
        trend = None
        if len(during) >= 4:
            half = during[len(during) // 2 - 1]
            trend = (during[-1].rss_kib - half.rss_kib) / 1024
            print(f"RSS under load: {half.rss_kib / 1024:.1f} MiB at minute {len(during) // 2}, "
                  f"{during[-1].rss_kib / 1024:.1f} MiB at minute {len(during)} ({trend:+.1f} MiB in "
                  "the second half)")

        problems = []
        if end.sessions != start.sessions:
            problems.append(f"sessions {end.sessions:.0f}, {start.sessions:.0f} at the start")
        if end.fds != start.fds:
            problems.append(f"fds {end.fds}, {start.fds} at the start")
        grown = (end.rss_kib - start.rss_kib) / 1024
        if grown > args.rss_mib:
            problems.append(f"RSS {end.rss_kib / 1024:.1f} MiB, {grown:+.1f} MiB over the start "
                            f"(tolerance {args.rss_mib:g} MiB)")
        if trend is not None and trend > args.rss_mib / 2:
            problems.append(f"RSS rose {trend:.1f} MiB in the second half of the load "
                            f"(tolerance {args.rss_mib / 2:g} MiB)")
        if failed > args.max_failed_permille * (ok + failed) / 1000:
            problems.append(f"{failed} of {ok + failed} client sessions failed "
                            f"(tolerance {args.max_failed_permille:g} per mille)")
        if load.reloads_failed:
            problems.append("; ".join(load.reloads_failed[:3]))
        if stuck:
            problems.append(f"{stuck} client threads still running")
        if not postern.running():
            problems.append("postern is not running")
        postern.stop()
        reports = sanitizer.take()
        if reports:
            problems.append("sanitizer reports:\n" + sanitizer.describe(reports))
        if problems:
            print("soak FAILED: " + "; ".join(problems), flush=True)
            return 1
        print(f"soak passed: sessions and fds back to the start, RSS {grown:+.1f} MiB "
              f"(tolerance {args.rss_mib:g} MiB)", flush=True)
        return 0
    finally:
        if postern is not None:
            postern.stop()
        backends.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/soak", description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="how long the load runs (default 30)")
    ap.add_argument("--workers", type=int, default=8, help="threads running short sessions (8)")
    ap.add_argument("--idlers", type=int, default=12, help="IMAP sessions in IDLE at once (12)")
    ap.add_argument("--settle", type=float, default=20.0,
                    help="seconds without load before RSS is read, at the start and the end (20)")
    ap.add_argument("--rss-mib", type=float, default=8.0,
                    help="how far the settled RSS may end above the start, in MiB (8); half of it is "
                         "how far RSS may rise in the second half of the load")
    ap.add_argument("--state", default=str(REPO / ".state" / "soak"),
                    help="directory for the PKI, the backends and Postern's log (.state/soak)")
    ap.add_argument("--pki", help="an existing test PKI directory to use (default: made in the state dir)")
    ap.add_argument("--max-failed-permille", type=float, default=1.0,
                    help="client sessions that may fail, per mille (1)")
    args = ap.parse_args(argv)

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        return run(args)
    except procs.ProcessError as e:
        print(f"soak: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
