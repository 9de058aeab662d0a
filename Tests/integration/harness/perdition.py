"""Real Perdition 2.2 (Debian's package) for comparison tests, run in inetd mode.

``PerditionInetd(conf)`` starts ``perdition -i -f CONF`` with one end of a socket pair as its
stdin and stdout: one process per client connection, as inetd would run it; the other end is
a :class:`RawIMAP`-like client. Each process is waited for (and killed by pid if it lingers)
when the client closes. No port is bound.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

from . import procs
from .clients import RawIMAP

PERDITION = "/usr/sbin/perdition"
LIBDIR = "/usr/lib/x86_64-linux-gnu"


def map_library(name: str) -> str:
    """Path of a Perdition map library (``posix_regex``, ``ldap``, ...) as Debian installs it."""
    for candidate in (f"{LIBDIR}/libperditiondb_{name}.so.0", f"/usr/lib/libperditiondb_{name}.so.0"):
        if os.path.exists(candidate):
            return candidate
    raise procs.ProcessError(f"Perdition's {name} map library is missing: run scripts/setup")


class PerditionClient(RawIMAP):
    """An IMAP client talking to one ``perdition -i`` process over a socket pair."""

    def __init__(self, conf: Path, timeout: float = 20.0):
        if not os.access(PERDITION, os.X_OK):
            raise procs.ProcessError(f"{PERDITION} not found: run scripts/setup")
        ours, theirs = socket.socketpair()
        # Relative paths in the conf (map_library_opt) are relative to its folder, as the importer reads them.
        self.proc = subprocess.Popen([PERDITION, "-i", "-f", str(conf)], stdin=theirs, stdout=theirs, cwd=Path(conf).parent,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        theirs.close()
        procs.register(self)
        self.host, self.port, self.timeout = "perdition", 0, timeout
        self.sock = ours
        self.sock.settimeout(timeout)
        self.buf = b""
        self.context = None
        self.server_hostname = "localhost"
        self.greeting = self.readline().decode("utf-8", "replace")

    def stop(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
        p = self.proc
        if p.poll() is None:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                procs.signal_pid(p.pid, signal.SIGKILL)
                p.wait(5)
        procs.unregister(self)

    def close(self) -> None:
        self.stop()
