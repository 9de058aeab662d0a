"""Process helpers: everything is addressed by pid, never by name."""

from __future__ import annotations

import atexit
import os
import signal
import time
import weakref


class ProcessError(RuntimeError):
    """A process we started did not come up (or did not go down) as expected."""


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc/PID/task/*/children, with a /proc scan as fallback)."""
    kids: list[int] = []
    task_dir = f"/proc/{pid}/task"
    try:
        for tid in os.listdir(task_dir):
            try:
                with open(f"{task_dir}/{tid}/children") as f:
                    kids.extend(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        return []
    if kids:
        return sorted(set(kids))
    # Fallback for kernels without the children file: scan /proc for PPid == pid.
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            kids.append(int(entry))
    return sorted(set(kids))


def descendants_of(pid: int) -> list[int]:
    """All descendants of ``pid``, parents before children (bounded walk)."""
    seen: list[int] = []
    todo = [pid]
    while todo and len(seen) < 100_000:
        p = todo.pop(0)
        for c in children_of(p):
            if c not in seen and c != pid:
                seen.append(c)
                todo.append(c)
    return seen


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def signal_pid(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def wait_gone(pids: list[int], timeout: float) -> bool:
    """Wait (bounded) until none of ``pids`` is alive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return not any(alive(p) for p in pids)


def kill_tree(pid: int) -> list[int]:
    """SIGKILL ``pid`` and all its descendants, by pid.

    The root is stopped first (SIGSTOP) so it cannot spawn replacements while its
    children are collected and killed. Returns the pids that were signalled.
    """
    signal_pid(pid, signal.SIGSTOP)
    victims = descendants_of(pid)
    for c in reversed(victims):
        signal_pid(c, signal.SIGKILL)
    signal_pid(pid, signal.SIGKILL)
    return [pid] + victims


# Every object with a .stop() that started a process registers here so that an
# interpreter exit (even after an unexpected error) still stops it, by pid.
_live: "weakref.WeakSet" = weakref.WeakSet()


def register(obj) -> None:
    _live.add(obj)


def unregister(obj) -> None:
    _live.discard(obj)


@atexit.register
def _stop_all() -> None:
    for obj in list(_live):
        try:
            obj.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
