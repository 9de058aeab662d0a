"""Fixtures for Postern's integration tests: a test PKI, two real Dovecot backends and Postern.

Each test gets its own state directory (pytest's ``tmp_path``); every process a fixture
starts is stopped by its pid in the fixture's teardown, also when the test fails.
Nothing is skipped: a missing Dovecot, openssl or Postern binary fails the test loudly.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import sanitizer, world  # noqa: E402
from harness.dovecot import DOVECOT  # noqa: E402
from harness.pki import ensure_pki  # noqa: E402
from harness.postern import Postern  # noqa: E402


def pytest_sessionstart(session):
    missing = [t for t in ("openssl", "curl", "sieve-connect") if shutil.which(t) is None]
    if not os.access(DOVECOT, os.X_OK):
        missing.append(f"dovecot ({DOVECOT})")
    if missing:
        raise pytest.UsageError(f"integration tests need {', '.join(missing)}: run scripts/setup")


@pytest.fixture(autouse=True)
def sanitizer_reports():
    """Under ``scripts/sanitize`` (``POSTERN_SANITIZER_LOGS`` set): fail the test during which a
    sanitized process wrote a report (collected when each Postern stops, and from the global log
    directory). Autouse, so it is torn down after the fixtures that stop the processes."""
    earlier = sanitizer.take()
    if earlier:  # e.g. from a process an earlier test left running: still a finding
        pytest.fail("sanitizer report(s) written before this test began:\n"
                    + sanitizer.describe(earlier), pytrace=False)
    yield
    found = sanitizer.take()
    if found:
        pytest.fail("sanitizer report(s) written during this test:\n" + sanitizer.describe(found),
                    pytrace=False)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    """The session's test PKI (CA, proxy and backend certificates, a wrong CA, DH params)."""
    return ensure_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def mail_cache(tmp_path_factory):
    """Big test messages, written once per session and hard-linked into each test's Maildirs."""
    return tmp_path_factory.mktemp("mail-cache")


@pytest.fixture
def backends(tmp_path, pki, mail_cache, request):
    """Backends A (127.0.0.1, "BACKEND-A") and B (127.0.0.2, "BACKEND-B") with the standard
    users and mail (see harness/world.py)."""
    be = world.start_backends(tmp_path / "backends", pki, cache_dir=mail_cache)
    yield be
    be.stop()
    _report_logs(request, {"dovecot A": be.a.log_path, "dovecot B": be.b.log_path})


@pytest.fixture
def postern_factory(tmp_path, pki, backends, request):
    """``postern_factory(**options)`` -> a started :class:`Postern` in front of ``backends``.

    Options are those of :func:`harness.world.postern_config` (listeners, map_lines,
    map_default, tls, backend_tls, limits, server, extra), and ``nofile`` (the process's
    open-file limit, see :class:`Postern`). The result has ``.plan`` (config and ports) and
    ``.port(name)``. Every instance is stopped at teardown.
    """
    started: list[Postern] = []

    def make(name: str | None = None, *, nofile: int | None = None, **options) -> Postern:
        d = tmp_path / (name or f"postern-{len(started) + 1}")
        plan = world.postern_config(d, backends, pki, **options)
        p = Postern(d, plan.config, nofile=nofile)
        p.plan = plan
        p.port = lambda listener, _plan=plan: _plan.ports[listener]
        started.append(p)
        p.start()
        return p

    yield make
    crashed = []
    for p in started:
        was_running = p.running()
        rc = p.stop()
        if not was_running and rc is not None:
            crashed.append(f"postern in {p.state_dir} had exited with {rc} before teardown")
        _report_logs(request, {f"postern {p.state_dir.name}": p.log_path})
    if crashed:
        # A proxy that died under a test is a failure even if the test's asserts passed.
        pytest.fail("; ".join(crashed), pytrace=False)


@pytest.fixture
def postern(postern_factory):
    """One Postern with the standard listeners (imap, imaps, imap-req) and map."""
    return postern_factory()


def _report_logs(request, logs: dict[str, Path]) -> None:
    """Attach log tails to a failed test's report."""
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed:
        return
    for title, path in logs.items():
        try:
            tail = "\n".join(Path(path).read_text(errors="replace").splitlines()[-80:])
        except OSError:
            continue
        rep.sections.append((f"{title} log tail", tail))


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
