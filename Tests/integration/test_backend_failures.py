"""Backends that fail in ways the map cannot know: silent, or gone; and the lookup CLI."""

from __future__ import annotations

import subprocess
import time

from harness import world
from harness.clients import RawIMAP, imap_quote
from harness.postern import postern_bin
from harness.silent import SilentServer

HOST = "127.0.0.1"
U = world.USERS


def test_backend_that_never_greets_gets_unavailable_within_the_timeout(postern_factory, pki, backends):
    silent = SilentServer()
    try:
        lines = backends.map_lines() + [f"hung {HOST}:{silent.port}"]
        p = postern_factory(map_lines=lines, limits={"connect_timeout": 2})
        with RawIMAP(HOST, p.port("imap"), context=pki.client_context()) as c:
            started = time.monotonic()
            _, tagged = c.cmd("a", "LOGIN hung whatever", timeout=15)
            elapsed = time.monotonic() - started
            assert tagged.startswith("a NO [UNAVAILABLE]"), tagged
            assert 1.5 <= elapsed <= 6, f"answered after {elapsed:.1f} s with connect_timeout 2"
            # The session is still usable: a real user logs in on the same connection.
            _, tagged = c.cmd("b", f"LOGIN alice {imap_quote(U['alice'])}")
            assert tagged.startswith("b OK"), tagged
        assert silent.accepted, "Postern never connected to the silent backend"
        assert "timed out" in p.log_text()
    finally:
        silent.close()


def test_lookup_prints_the_backend_and_why(postern_factory, backends):
    p = postern_factory()
    cfg = str(p.config_path)
    out = subprocess.run([postern_bin(), "lookup", "-c", cfg, "bob"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    map_path = p.plan.map_path
    line_no = next(i for i, line in enumerate(map_path.read_text().splitlines(), 1) if line.startswith("bob "))
    # The last line is the decision; the lines before it trace how it was reached.
    assert out.stdout.strip().splitlines()[-1] == f"bob: 127.0.0.2 as bob ({map_path}:{line_no} (exact))", out.stdout
    assert f"{map_path}: line {line_no} (exact) matches" in out.stdout
    unknown = subprocess.run([postern_bin(), "lookup", "-c", cfg, "nobody"], capture_output=True, text=True,
                             timeout=30)
    assert unknown.returncode == 2
    assert "no backend" in unknown.stdout
