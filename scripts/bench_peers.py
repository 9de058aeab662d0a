"""`scripts/bench --peers`: Postern side by side with nginx's mail proxy and Perdition, and Dovecot direct.

One Dovecot backend (127.0.0.1), and in front of it Postern, nginx 1.22 (mail module, auth_http
answered by its own loopback server block) and Perdition 2.2 (daemon, forking), configured alike:
plaintext IMAP with STARTTLS, IMAPS and POP3S, one RSA 2048 certificate, TLS 1.3 from the client.
The same load (scripts/loadgen/loadgen.c: C, OpenSSL, epoll; every reply checked, failed sessions
counted, not timed) runs against each and against Dovecot directly, interleaved over rounds (the
order of the targets rotates each round), and one table of medians is printed.

Scenarios:
  imap, starttls, imaps, pop3s  sessions (connect, [TLS], LOGIN, SELECT, LOGOUT; POP3: USER, PASS,
                                STAT, QUIT), N at C at a time: sessions/s and proxy CPU per session
  handshake                     IMAPS connect, TLS handshake, greeting, LOGOUT (no backend)
  idle, idle-tls                K logged-in sessions in IDLE: PSS per session (fresh proxy process)
  bulk                          an 8 MiB FETCH over IMAPS on several connections: MiB/s, CPU per GiB
  noop, noop-tls                sequential NOOP round trips on one session: p50 and p99
Proxy CPU is utime+stime from /proc summed over the proxy's processes, reaped children included.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "integration"))
sys.path.insert(0, str(REPO / "scripts"))

from benchpeers import measure  # noqa: E402
from benchpeers.peers import BenchDovecot, Direct, NginxTarget, PerditionTarget, PosternTarget, Target  # noqa: E402
from benchpeers.table import Figure, render  # noqa: E402
from harness.dovecot import DOVECOT, make_message  # noqa: E402
from harness.pki import ensure_pki  # noqa: E402
from harness.world import big_message  # noqa: E402

SESSIONS = {  # scenario: (loadgen kind, port, label)
    "imap": ("imap", "imap", "plain IMAP session (LOGIN, SELECT, LOGOUT)"),
    "starttls": ("starttls", "imap", "IMAP STARTTLS session"),
    "imaps": ("imaps", "imaps", "IMAPS session"),
    "pop3s": ("pop3s", "pop3s", "POP3S session (USER, PASS, STAT, QUIT)"),
    "handshake": ("handshake", "imaps", "IMAPS handshake only (greeting, LOGOUT)"),
}
IDLE = {"idle": ("imap", "imap", "plain"), "idle-tls": ("imaps", "imaps", "TLS")}
NOOP = {"noop": ("imap", "imap", "plain"), "noop-tls": ("imaps", "imaps", "TLS")}
SCENARIOS = [*SESSIONS, *IDLE, "bulk", *NOOP]
TARGETS = ["direct", "postern", "nginx", "perdition"]
USERS = {f"bench{i}": f"bench-pw-{i}" for i in range(8)}
BIG_USER = ("bigbench", "bench-pw-big")


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="scripts/bench --peers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes and 2 rounds (a smoke run)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 3, quick 2)")
    ap.add_argument("--sessions", type=int, help="sessions per run (default 1500, quick 200)")
    ap.add_argument("--concurrency", type=int, help="sessions at a time (default 100, quick 50)")
    ap.add_argument("--idle", type=int, help="idle sessions held (default 1000, quick 200)")
    ap.add_argument("--bulk-connections", type=int, help="connections of the bulk run (default 4, quick 2)")
    ap.add_argument("--fetches", type=int, help="8 MiB fetches per bulk connection (default 10, quick 2)")
    ap.add_argument("--noops", type=int, help="NOOP round trips per run (default 3000, quick 300)")
    ap.add_argument("--only", default=",".join(TARGETS), help=f"targets, from {','.join(TARGETS)}")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"from {','.join(SCENARIOS)}")
    ap.add_argument("--strace", action="store_true",
                    help="also print each proxy's system calls per session (strace -c -f, a separate run)")
    ap.add_argument("--keep", action="store_true", help="keep the state folder (configs and logs)")
    ap.add_argument("--status-page", action="store_true",
                    help="issue 13: a second Postern column, postern+page, whose status page stays open in a "
                         "headless Chromium (refreshing every 2 s) through every run; both Postern columns "
                         "get an admin listener, so the open page is the only difference")
    ap.add_argument("--postern-variant", action="append", default=[], metavar="NAME:EVENT_LOOP[:BINARY]",
                    help="another Postern column: NAME with server.event_loop EVENT_LOOP, running BINARY "
                         "(default: POSTERN_BIN); repeatable, e.g. --postern-variant epoll:dispatch-epoll")
    a = ap.parse_args()
    q = a.quick
    for name, full, small in (("rounds", 3, 2), ("sessions", 1500, 200), ("concurrency", 100, 50), ("idle", 1000, 200),
                              ("bulk_connections", 4, 2), ("fetches", 10, 2), ("noops", 3000, 300)):
        if getattr(a, name) is None:
            setattr(a, name, small if q else full)
        if getattr(a, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    a.only = [t for t in a.only.split(",") if t]
    a.scenarios = [s for s in a.scenarios.split(",") if s]
    for t in a.only:
        if t not in TARGETS:
            ap.error(f"unknown target {t!r}")
    for s in a.scenarios:
        if s not in SCENARIOS:
            ap.error(f"unknown scenario {s!r}")
    return a


class Bench:
    def __init__(self, args, state: Path, loadgen: measure.Loadgen, big: Path, big_users: Path):
        self.a, self.state, self.lg, self.big, self.big_users = args, state, loadgen, big, big_users
        self.figures: dict[str, Figure] = {}
        self.failed: dict[tuple[str, str], int] = {}
        self.reasons: dict[tuple[str, str], set[str]] = {}
        self.loadgen_share = 0.0
        self.page_ages: list[float] = []

    def figure(self, key: str, label: str, lower: bool, vs_direct: bool, added: bool = False) -> Figure:
        if key not in self.figures:
            self.figures[key] = Figure(key, label, lower, vs_direct, added)
        return self.figures[key]

    def count(self, scenario: str, t: Target, res: measure.Result, extra_failed: int = 0) -> None:
        n = res.failed + extra_failed
        if n:
            self.failed[(scenario, t.name)] = self.failed.get((scenario, t.name), 0) + n
            self.reasons.setdefault((scenario, t.name), set()).update(res.reasons[:4])

    def settle(self, t: Target) -> None:
        if t.proxy:
            measure.settle(t.roots(), t.forks)

    # ----- scenarios ---------------------------------------------------------------------------
    def sessions(self, scenario: str, t: Target, rnd: int) -> None:
        kind, port, label = SESSIONS[scenario]
        a = self.a
        warm = self.lg.run("sessions", kind, t.ports[port], min(40, a.sessions), min(a.concurrency, 20))
        self.count(scenario, t, warm)
        self.settle(t)
        c0 = measure.cpu_seconds(t.roots()) if t.proxy else 0.0
        res = self.lg.run("sessions", kind, t.ports[port], a.sessions, a.concurrency)
        self.settle(t)
        self.count(scenario, t, res)
        elapsed = res.values.get("elapsed", 0)
        if elapsed > 0:
            self.loadgen_share = max(self.loadgen_share, res.cpu / elapsed)
        self.figure(f"{scenario}.rate", f"{label}: sessions/s", False, True).add(t.name, rnd, res.values.get("rate", 0))
        if t.proxy and res.ok:
            cpu = measure.cpu_seconds(t.roots()) - c0
            self.figure(f"{scenario}.cpu", f"{label}: proxy CPU ms/session", True, False).add(
                t.name, rnd, cpu / res.ok * 1000)

    def idle(self, scenario: str, t: Target, rnd: int) -> None:
        if not t.proxy:
            return
        kind, port, label = IDLE[scenario]
        k = self.a.idle
        t.restart()
        warm = self.lg.run("sessions", kind, t.ports[port], 20, 10)
        self.count(scenario, t, warm)
        self.settle(t)
        time.sleep(0.5)
        base = measure.pss_kib(t.roots())

        held_cpu: list[float] = []

        def held_pss() -> int:
            # While the K sessions are held: the proxy's CPU over 2 s of nothing but idle sessions (timers,
            # and the status page's refreshes when it is open), then its PSS.
            c0 = measure.cpu_seconds(t.roots())
            time.sleep(2.0)
            held_cpu.append((measure.cpu_seconds(t.roots()) - c0) / 2.0)
            return measure.pss_kib(t.roots())

        res, held, after = self.lg.idle(kind, t.ports[port], k, 50, held_pss, sources=min(250, 1 + k // 5000))
        self.count(scenario, t, res, extra_failed=0 if res.values else k - held)
        if held and after is not None:
            self.figure(f"{scenario}.pss", f"idle logged-in session in IDLE, {label}, K={k}: PSS KiB/session",
                        True, False).add(t.name, rnd, (after - base) / held)
        if held and held_cpu:
            self.figure(f"{scenario}.cpu", f"K={k} idle {label} sessions held: proxy CPU ms per second",
                        True, False).add(t.name, rnd, held_cpu[-1] * 1000)

    def bulk(self, t: Target, rnd: int) -> None:
        a = self.a
        self.settle(t)
        c0 = measure.cpu_seconds(t.roots()) if t.proxy else 0.0
        res = self.lg.run("bulk", "imaps", t.ports["imaps"], a.bulk_connections, a.bulk_connections, a.fetches,
                          users=self.big_users, M=self.big, F="FETCH 1 BODY.PEEK[]")
        self.settle(t)
        self.count("bulk", t, res)
        nbytes, secs = res.values.get("bytes", 0), res.values.get("xfer_s", 0)
        if nbytes and secs > 0:
            n = a.bulk_connections * a.fetches
            self.figure("bulk.rate", f"bulk: {n} × 8 MiB FETCH over IMAPS on {a.bulk_connections} connections: MiB/s",
                        False, True).add(t.name, rnd, nbytes / 2**20 / secs)
            if t.proxy:
                cpu = measure.cpu_seconds(t.roots()) - c0
                self.figure("bulk.cpu", "bulk: proxy CPU s/GiB", True, False).add(t.name, rnd, cpu / (nbytes / 2**30))

    def noop(self, scenario: str, t: Target, rnd: int) -> None:
        kind, port, label = NOOP[scenario]
        res = self.lg.run("noop", kind, t.ports[port], 1, 1, self.a.noops, w=100)
        self.count(scenario, t, res)
        if res.ok:
            for q in ("p50", "p99"):
                self.figure(f"{scenario}.{q}", f"NOOP round trip, {label}: {q} µs (proxies: added over direct)",
                            True, True, added=True).add(t.name, rnd, res.values[f"{q}_us"])

    def run(self, scenario: str, t: Target, rnd: int) -> None:
        if scenario in SESSIONS:
            self.sessions(scenario, t, rnd)
        elif scenario in IDLE:
            self.idle(scenario, t, rnd)
        elif scenario == "bulk":
            self.bulk(t, rnd)
        else:
            self.noop(scenario, t, rnd)
        age = t.page_age() if isinstance(t, PosternTarget) else None
        if age is not None:
            self.page_ages.append(age)

    def strace(self, targets: list[Target]) -> str:
        scenario = next((s for s in self.a.scenarios if s in SESSIONS), None)
        if scenario is None:
            return "--strace: no sessions scenario selected"
        kind, port, label = SESSIONS[scenario]
        n = min(self.a.sessions, 500)
        per: dict[str, dict[str, float]] = {}
        for t in targets:
            if not t.proxy:
                continue
            self.lg.run("sessions", kind, t.ports[port], 20, 10)
            self.settle(t)
            st = measure.Strace(t.roots(), self.state / f"strace-{t.name}.txt")
            res = self.lg.run("sessions", kind, t.ports[port], n, min(self.a.concurrency, 16))
            self.settle(t)
            calls = st.stop()
            per[t.name] = {k: v / res.ok for k, v in calls.items()} if res.ok else {}
        names = sorted({k for d in per.values() for k in d if k != "total"},
                       key=lambda k: -max(d.get(k, 0) for d in per.values()))[:20] + ["total"]
        rows = [f"system calls per {label}, {n} sessions under strace -c -f (a separate run, not timed)",
                "| syscall | " + " | ".join(per) + " |", "| --- |" + " ---: |" * len(per)]
        for k in names:
            rows.append(f"| {k} | " + " | ".join(f"{d.get(k, 0):.1f}" for d in per.values()) + " |")
        return "\n".join(rows)


def start_world(state: Path, pki, only: list[str], variants: list[str],
                status_page: bool = False) -> tuple[BenchDovecot, list[Target], Path, Path]:
    users = dict(USERS)
    users[BIG_USER[0]] = BIG_USER[1]
    dovecot = BenchDovecot(state / "dovecot", "BENCH", users, pki=pki)
    dovecot.start()
    for u in USERS:
        dovecot.deliver(u, make_message(f"Hello {u}", f"A small message for {u}."))
    big = state / "big.eml"
    big.write_bytes(big_message())
    dovecot.deliver(BIG_USER[0], from_file=big)
    makers = {
        "direct": lambda: Direct(dovecot),
        "postern": lambda: PosternTarget(state / "postern", dovecot, pki, users, os.environ["POSTERN_BIN"],
                                         admin=status_page),
        "nginx": lambda: NginxTarget(state / "nginx", dovecot, pki, users),
        "perdition": lambda: PerditionTarget(state / "perdition", dovecot, pki, users),
    }
    targets = [makers[name]() for name in TARGETS if name in only]
    for spec in variants:
        name, loop, *binary = spec.split(":", 2)
        targets.append(PosternTarget(state / f"postern-{name}", dovecot, pki, users,
                                     binary[0] if binary else os.environ["POSTERN_BIN"], name=name, event_loop=loop,
                                     admin=status_page))
    if status_page:
        targets.append(PosternTarget(state / "postern-page", dovecot, pki, users, os.environ["POSTERN_BIN"],
                                     name="postern+page", status_page=True))
    for t in targets:
        if t.proxy:
            t.start()
    (state / "users.txt").write_text("".join(f"{u} {p}\n" for u, p in USERS.items()))
    (state / "big-user.txt").write_text(f"{BIG_USER[0]} {BIG_USER[1]}\n")
    return dovecot, targets, big, state / "big-user.txt"


def main() -> int:
    a = parse_args()
    if not os.environ.get("POSTERN_BIN") and "postern" in a.only:
        print("POSTERN_BIN is not set: run this through scripts/bench --peers", file=sys.stderr)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(hard, 4 * a.idle + 1000)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    started = time.monotonic()
    load_before = measure.load_average()
    state = Path(tempfile.mkdtemp(prefix="postern-bench-peers-"))
    os.chmod(state, 0o755)
    dovecot, targets = None, []
    try:
        pki = ensure_pki(state / "pki")
        lg_bin = measure.build_loadgen(state / "loadgen")
        dovecot, targets, big, big_users = start_world(state, pki, a.only, a.postern_variant, a.status_page)
        lg = measure.Loadgen(lg_bin, pki.ca, state / "users.txt")
        bench = Bench(a, state, lg, big, big_users)
        lg.run("bulk", "imaps", dovecot.imaps_port, 1, 1, 1, users=big_users, M=big)  # page cache
        for rnd in range(a.rounds):
            for scenario in a.scenarios:
                order = targets[rnd % len(targets):] + targets[:rnd % len(targets)]
                for t in order:
                    bench.run(scenario, t, rnd)
            print(f"round {rnd + 1}/{a.rounds} done after {time.monotonic() - started:.0f} s", file=sys.stderr)
        profile = bench.strace(targets) if a.strace else ""
        proxies = [t.name for t in targets if t.proxy]
        figures = [f for s in a.scenarios for f in bench.figures.values() if f.key.split(".")[0] == s]
        print(f"scripts/bench --peers {' '.join(sys.argv[1:])}".rstrip())
        print(f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {os.cpu_count()} cores, load average "
              f"{load_before} before and {measure.load_average()} after, {time.monotonic() - started:.0f} s")
        for t in targets:
            if t.proxy:
                print(f"  {t.name}: {t.version()}")
        dv = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True).stdout.strip()
        ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
        print(f"  backend: Dovecot {dv}; {ossl}; RSA 2048 certificate, TLS 1.3, full handshakes")
        print(f"  medians of {a.rounds} rounds; {a.sessions} sessions per run, {a.concurrency} at a time; "
              f"idle K={a.idle}; NOOP {a.noops} round trips")
        if any(sc in IDLE for sc in a.scenarios) and 2 * a.idle + 200 > nofile:
            print(f"  note: the open-file limit is {nofile} (it could not be raised): a one-process proxy needs "
                  f"two descriptors per idle session, {2 * a.idle} for K={a.idle}")
        print()
        print(render(figures, proxies, "direct" in a.only, bench.failed))
        print()
        print("÷best: value over the best proxy's (1.00 is the best); ÷direct: over Dovecot direct "
              "(NOOP: the whole round trip). * = some sessions failed (below).")
        if bench.loadgen_share:
            print(f"load generator: at most {bench.loadgen_share * 100:.0f} % of one core during a sessions run")
        if bench.failed:
            for (scenario, name), n in sorted(bench.failed.items()):
                why = "; ".join(sorted(bench.reasons.get((scenario, name), set())))
                print(f"failed: {scenario} via {name}: {n} sessions ({why})")
        else:
            print("failed sessions: none")
        if bench.page_ages:
            print(f"status page (postern+page): after each of {len(bench.page_ages)} runs its last render was at most "
                  f"{max(bench.page_ages):.1f} s old (it refreshes every 2 s; idle runs restart Postern and reload it)")
        if profile:
            print()
            print(profile)
    finally:
        for t in targets:
            if t.proxy:
                try:
                    t.close() if isinstance(t, PosternTarget) else t.stop()
                except Exception as e:  # noqa: BLE001 - keep stopping the others
                    print(f"stopping {t.name}: {e}", file=sys.stderr)
        if dovecot is not None:
            dovecot.stop()
        if a.keep:
            print(f"state kept in {state}", file=sys.stderr)
        else:
            shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
