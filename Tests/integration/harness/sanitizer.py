"""Sanitizer reports of a sanitized Postern (``scripts/sanitize``), found and turned into failures.

Active only when ``POSTERN_SANITIZER_LOGS`` names a directory. ``scripts/sanitize`` sets it, and
sets ``TSAN_OPTIONS`` / ``ASAN_OPTIONS`` with ``log_path=$POSTERN_SANITIZER_LOGS/...``, so any
sanitized process the tests start (``postern check-config`` too) writes its report there as
``<log_path>.<pid>``. A :class:`~harness.postern.Postern` rewrites ``log_path`` to
``<its state dir>/sanitizer`` so its reports sit next to its log; when it is stopped, the reports
it wrote are recorded here. The ``sanitizer_reports`` fixture in ``conftest.py`` (autouse) fails the
test during which a report appeared, with the report's text.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

ENV = "POSTERN_SANITIZER_LOGS"
OPTION_VARS = ("TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS")

_lock = threading.Lock()
_found: list[tuple[Path, str]] = []  # (report, its text) not yet taken by a test
_seen: set[Path] = set()


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def kind() -> str | None:
    """``thread`` or ``address`` when the binary under test is sanitized (``POSTERN_SANITIZER``,
    set by ``scripts/sanitize``), else None."""
    k = os.environ.get("POSTERN_SANITIZER") or None
    return k if enabled() else None


def slowdown() -> float:
    """How much slower a sanitized Postern is, for a test's time and throughput budgets. Measured
    with test_bounds' NOOP flood on the shared 2-core machine: TSan passed with 10; under ASan, at a
    load of 14, 0.08 MiB of NOOPs were answered where an ordinary build answers over 1 MiB."""
    return {"thread": 10.0, "address": 15.0}.get(kind() or "", 1.0)


def rss_allowance_kib(kib: int) -> int:
    """An RSS growth budget for a sanitized Postern. TSan keeps shadow memory (about 4x the
    application's). ASan keeps a quarantine of freed blocks (``quarantine_size_mb``, 16 MiB as
    ``scripts/sanitize`` sets it), per-thread caches and redzones, and its allocator seldom gives
    memory back: test_bounds' pre-login floods (1.4 GiB written in 10 s) grew it by 41-68 MiB where
    an ordinary build stays under 4 MiB. So under ASan only gross growth is caught."""
    return {"thread": 4 * kib, "address": 4 * kib + 80 * 1024}.get(kind() or "", kib)


def global_dir() -> Path | None:
    d = os.environ.get(ENV)
    return Path(d) if d else None


def _with_log_path(options: str, path: Path) -> str:
    """``options`` (``a=1:b=2`` or blank-separated) with ``log_path`` set to ``path``."""
    parts = [p for p in options.replace(" ", ":").split(":") if p and not p.startswith("log_path=")]
    parts.append(f"log_path={path}")
    return ":".join(parts)


def child_env(env: dict[str, str], state_dir: Path) -> dict[str, str]:
    """``env`` with every sanitizer's ``log_path`` pointing into ``state_dir`` (if enabled)."""
    if not enabled():
        return env
    out = dict(env)
    for var in OPTION_VARS:
        if var in out:
            out[var] = _with_log_path(out[var], Path(state_dir) / "sanitizer")
    return out


def reports_in(directory: Path, prefix: str = "") -> list[Path]:
    """Non-empty report files in ``directory`` whose names start with ``prefix``."""
    try:
        entries = sorted(Path(directory).iterdir())
    except OSError:
        return []
    out = []
    for p in entries:
        if p.is_file() and p.name.startswith(prefix) and p.stat().st_size > 0:
            out.append(p)
    return out


def collect(state_dir: Path) -> list[Path]:
    """Record the reports written into ``state_dir`` that were not recorded before; return them."""
    if not enabled():
        return []
    new = []
    with _lock:
        for p in reports_in(state_dir, "sanitizer."):
            if p not in _seen:
                _seen.add(p)
                _found.append((p, _read(p)))  # read now: a test may remove its state dir
                new.append(p)
    return new


def _read(path: Path) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as e:
        return f"(unreadable: {e})"
    text = re.sub(r" \(BuildId: [0-9a-f]+\)", "", text)
    demangle = shutil.which("swift-demangle")
    if demangle:
        try:
            text = subprocess.run([demangle, "--simplified"], input=text, capture_output=True,
                                  text=True, timeout=30).stdout or text
        except (OSError, subprocess.SubprocessError):
            pass
    return text


def take(extra_dirs: list[Path] = ()) -> list[tuple[Path, str]]:
    """The reports (path, text) recorded since the last call, plus new ones in ``extra_dirs`` and
    the global directory."""
    if not enabled():
        return []
    dirs = list(extra_dirs)
    g = global_dir()
    if g is not None:
        dirs.append(g)
    with _lock:
        for d in dirs:
            for p in reports_in(d):
                if p not in _seen:
                    _seen.add(p)
                    _found.append((p, _read(p)))
        out = list(_found)
        _found.clear()
    return out


def describe(reports: list[tuple[Path, str]], lines: int = 60) -> str:
    """Every report's SUMMARY lines, then the head of each, for a test failure."""
    chunks = []
    for p, text in reports:
        summaries = [x for x in text.splitlines() if x.startswith("SUMMARY:")]
        chunks.append(f"{p}: " + ("; ".join(summaries) or "(no SUMMARY line)"))
    for p, text in reports:
        body = text.splitlines()
        more = f"\n... ({len(body) - lines} more lines)" if len(body) > lines else ""
        chunks.append(f"--- sanitizer report {p} ---\n" + "\n".join(body[:lines]) + more)
    return "\n".join(chunks)
