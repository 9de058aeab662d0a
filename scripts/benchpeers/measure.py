"""What `scripts/bench --peers` reads from /proc, and how it runs the C load generator and strace.

CPU of a target is summed over its process trees: utime + stime + cutime + cstime of every live
process (zombies included), so a child that exited and was reaped (Perdition's per-connection
processes) still counts, in its parent's cutime/cstime. Memory is the sum of Pss over the same
processes (/proc/PID/smaps_rollup), so pages a forking server shares are counted once.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import procs

TICK = os.sysconf("SC_CLK_TCK")
REPO = Path(__file__).resolve().parents[2]
LOADGEN_DIR = REPO / "scripts" / "loadgen"


def tree(roots: list[int]) -> list[int]:
    out: list[int] = []
    for r in roots:
        out.append(r)
        out.extend(procs.descendants_of(r))
    return out


def cpu_seconds(roots: list[int]) -> float:
    total = 0
    for pid in tree(roots):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / TICK


def pss_kib(roots: list[int]) -> int:
    total = 0
    for pid in tree(roots):
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total


def settle(roots: list[int], forking: bool, timeout: float = 15.0) -> None:
    """Let the last sessions' work finish: a short pause, and for a forking server a bounded wait
    until the children of finished sessions have exited and been reaped (only the roots left)."""
    deadline = time.monotonic() + timeout
    while forking and len(tree(roots)) > len(roots) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def build_loadgen(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    binary = out_dir / "loadgen"
    sources = [str(LOADGEN_DIR / "loadgen.c"), str(LOADGEN_DIR / "script.c")]
    p = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", str(binary), *sources, "-lssl", "-lcrypto"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"building the load generator failed:\n{p.stdout}")
    return binary


@dataclass
class Result:
    """The load generator's last line (key=value pairs) and its failure reasons."""

    values: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    cpu: float = 0.0  # the load generator's own CPU seconds

    @property
    def ok(self) -> int:
        return int(self.values.get("ok", 0))

    @property
    def failed(self) -> int:
        return int(self.values.get("failed", 0))


def _parse(line: str) -> dict[str, float]:
    out = {}
    for item in line.split():
        k, _, v = item.partition("=")
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def _child_cpu() -> float:
    r = os.times()
    return r.children_user + r.children_system


class Loadgen:
    def __init__(self, binary: Path, ca: Path, users: Path):
        self.binary, self.ca, self.users = binary, ca, users

    def argv(self, mode: str, kind: str, port: int, n: int, c: int, loops: int = 1, **extra) -> list[str]:
        argv = [str(self.binary), "-m", mode, "-k", kind, "-p", str(port), "-n", str(n), "-c", str(c),
                "-l", str(loops), "-U", str(extra.pop("users", self.users)), "-A", str(self.ca),
                "-T", str(extra.pop("total_timeout", 900))]
        for flag, value in extra.items():
            argv += [f"-{flag}", str(value)]
        return argv

    def run(self, mode: str, kind: str, port: int, n: int, c: int, loops: int = 1, **extra) -> Result:
        timeout = float(extra.get("total_timeout", 900)) + 60
        before = _child_cpu()
        p = subprocess.run(self.argv(mode, kind, port, n, c, loops, **extra), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"loadgen failed ({p.returncode}): {p.stderr.strip()}")
        lines = p.stdout.strip().splitlines()
        return Result(_parse(lines[-1] if lines else ""), p.stderr.strip().splitlines(), _child_cpu() - before)

    def idle(self, kind: str, port: int, n: int, c: int, measure, *, ready_timeout: float = 600,
             sources: int = 1) -> tuple[Result, int, object]:
        """Open ``n`` sessions in IDLE, call ``measure()`` while they are held, then end them.
        Returns (final result, sessions held, what measure returned)."""
        argv = self.argv("idle", kind, port, n, c, S=sources, total_timeout=int(ready_timeout) + 120)
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
        held, measured = 0, None
        try:
            sel = selectors.DefaultSelector()
            sel.register(p.stdout, selectors.EVENT_READ)
            first = ""
            if sel.select(ready_timeout):
                first = p.stdout.readline()
            sel.close()
            if first.startswith("ready"):
                held = int(_parse(first).get("held", 0))
                measured = measure() if held else None
            p.stdin.close()
            out = p.stdout.read()  # bounded: the load generator's own time limit (-T)
            err = p.stderr.read()
            p.wait(60)
        except BaseException:
            procs.signal_pid(p.pid, signal.SIGKILL)
            p.wait(10)
            raise
        lines = (first + out).strip().splitlines()
        return Result(_parse(lines[-1] if lines else ""), err.strip().splitlines()), held, measured


class Strace:
    """``strace -c -f`` attached to every process of a target while a load runs."""

    def __init__(self, roots: list[int], out: Path):
        self.out = out
        argv = ["strace", "-c", "-f", "-o", str(out)]
        for pid in tree(roots):
            argv += ["-p", str(pid)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(1.5)  # attach to every thread

    def stop(self) -> dict[str, int]:
        procs.signal_pid(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            procs.signal_pid(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        return parse_strace(self.out.read_text() if self.out.exists() else "")


def parse_strace(text: str) -> dict[str, int]:
    """The calls column of ``strace -c`` by system call name (the ``total`` row included)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 4 or cols[0].startswith(("%", "-")):
            continue
        try:
            float(cols[0])
        except ValueError:
            continue
        # % time, seconds, usecs/call, calls, [errors], syscall
        out[cols[-1]] = int(cols[3])
    return out
