"""The Postern demo: two private Dovecots and Postern, on fixed local ports.

Run through ``scripts/demo`` (which installs packages and builds first), or directly:

    PYTHONPATH=Tests/integration python3 -m harness.demo [--self-test]

State goes to ``.state/demo/`` in the repository (git-ignored): the demo PKI in
``.state/demo/pki/`` (``etc/demo/postern.yaml`` points there with relative paths), the
backends in ``backend-a/`` and ``backend-b/``, and Postern's log in ``postern/postern.log``.
Everything started here is stopped by pid on Ctrl-C, SIGTERM or any exit.
"""

from __future__ import annotations

import argparse
import base64
import imaplib
import poplib
import shutil
import signal
import socket
import sys
import time

from .dovecot import Dovecot, make_message
from .pki import ensure_pki
from .postern import REPO, Postern

USERS = {"alice": "demo", "bob": "demo"}
BACKEND_PORTS = dict(imap_port=24143, imaps_port=24993, pop3_port=24110, pop3s_port=24995,
                     sieve_port=24190)
CONFIG = REPO / "etc" / "demo" / "postern.yaml"
STATE = REPO / ".state" / "demo"

HOWTO = """
Postern demo is running (config: etc/demo/postern.yaml, logs: .state/demo/).

  backend DEMO-A  127.0.0.1: IMAP 24143, POP3 24110, ManageSieve 24190   (alice)
  backend DEMO-B  127.0.0.2: the same ports                              (bob)
  users alice and bob, password "demo"

Try IMAP (1143 STARTTLS, 1993 implicit TLS):
  curl -k 'imaps://127.0.0.1:1993/INBOX;UID=1' -u alice:demo
  curl -k 'imaps://127.0.0.1:1993/INBOX;UID=1' -u bob:demo
  curl --cacert .state/demo/pki/ca.pem 'imap://127.0.0.1:1143/INBOX;UID=1' --ssl-reqd -u bob:demo
  openssl s_client -starttls imap -connect 127.0.0.1:1143 -CAfile .state/demo/pki/ca.pem
  openssl s_client -connect 127.0.0.1:1993 -tls1_2 -cipher DHE-RSA-AES256-GCM-SHA384
POP3 (1110 STLS, 1995 implicit TLS):
  curl --cacert .state/demo/pki/ca.pem pop3s://127.0.0.1:1995/1 -u alice:demo
  curl --cacert .state/demo/pki/ca.pem pop3://127.0.0.1:1110/1 --ssl-reqd -u bob:demo
  openssl s_client -starttls pop3 -connect 127.0.0.1:1110 -CAfile .state/demo/pki/ca.pem
ManageSieve (14190, STARTTLS):
  sieve-connect -s 127.0.0.1 -p 14190 -u alice --tlscafile .state/demo/pki/ca.pem --list
  openssl s_client -starttls sieve -connect 127.0.0.1:14190 -CAfile .state/demo/pki/ca.pem
Metrics:
  curl -s http://127.0.0.1:9143/metrics

Ctrl-C stops everything. Postern's log follows:
"""


class _Stop(Exception):
    pass


def _on_signal(signum, frame):  # noqa: ARG001
    raise _Stop(signal.Signals(signum).name)


def start_backends(pki) -> list[Dovecot]:
    out = []
    for name, marker, host in (("backend-a", "DEMO-A", "127.0.0.1"), ("backend-b", "DEMO-B", "127.0.0.2")):
        d = STATE / name
        shutil.rmtree(d, ignore_errors=True)  # a fresh mailbox each run (our own directory only)
        dv = Dovecot(d, marker, dict(USERS), pki=pki, address=host, **BACKEND_PORTS)
        out.append(dv)
        dv.start()
        for user in USERS:
            dv.deliver(user, make_message(
                f"Welcome {user}, you are on {marker}",
                f"Hello {user}!\r\n\r\nThis mailbox lives on backend {marker} ({host}:24143),\r\n"
                f"and you reached it through Postern.",
                sender="postmaster@demo.test", to=f"{user}@demo.test"))
    return out


_log_pos = [0]


def follow_log(postern) -> None:
    """Print what Postern logged since the last call."""
    text = postern.log_text()
    if len(text) > _log_pos[0]:
        sys.stdout.write(text[_log_pos[0]:])
        sys.stdout.flush()
        _log_pos[0] = len(text)


def self_test(pki) -> None:
    ctx = pki.client_context()
    # POP3 over implicit TLS (alice, DEMO-A) and STLS (bob, DEMO-B).
    for user, marker, how in (("alice", "DEMO-A", "pop3s"), ("bob", "DEMO-B", "stls")):
        if how == "pop3s":
            p = poplib.POP3_SSL("127.0.0.1", 1995, context=ctx, timeout=15)
        else:
            p = poplib.POP3("127.0.0.1", 1110, timeout=15)
            p.stls(context=ctx)
        try:
            p.user(user)
            p.pass_(USERS[user])
            _, lines, _ = p.top(1, 0)
            if not any(marker.encode() in line for line in lines):
                raise AssertionError(f"{user}: POP3 did not reach {marker}")
            print(f"self-test: {user} via {how}: POP3 on {marker}")
        finally:
            p.quit()
    # ManageSieve with STARTTLS: the capabilities, then AUTHENTICATE "PLAIN" and LISTSCRIPTS.
    with socket.create_connection(("127.0.0.1", 14190), timeout=15) as raw:
        f = raw.makefile("rb")
        _sieve_until_status(f)
        raw.sendall(b"STARTTLS\r\n")
        if not _sieve_until_status(f).startswith(b"OK"):
            raise AssertionError("ManageSieve STARTTLS refused")
        tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        f = tls.makefile("rb")
        _sieve_until_status(f)
        plain = base64.b64encode(b"\0alice\0" + USERS["alice"].encode()).decode()
        tls.sendall(f'AUTHENTICATE "PLAIN" "{plain}"\r\nLISTSCRIPTS\r\nLOGOUT\r\n'.encode())
        for what in ("AUTHENTICATE", "LISTSCRIPTS", "LOGOUT"):
            status = _sieve_until_status(f)
            if not status.startswith(b"OK"):
                raise AssertionError(f"ManageSieve {what}: {status!r}")
        print("self-test: alice via ManageSieve (STARTTLS): logged in, LISTSCRIPTS OK")
    for user, marker, how in (("alice", "DEMO-A", "imaps"), ("bob", "DEMO-B", "starttls")):
        if how == "imaps":
            m = imaplib.IMAP4_SSL("127.0.0.1", 1993, ssl_context=ctx, timeout=15)
        else:
            m = imaplib.IMAP4("127.0.0.1", 1143, timeout=15)
            m.starttls(ssl_context=ctx)
        try:
            m.login(user, USERS[user])
            m.select("INBOX", readonly=True)
            typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            subject = data[0][1].decode().strip()
            if marker not in subject:
                raise AssertionError(f"{user}: expected {marker}, got {subject!r}")
            print(f"self-test: {user} via {how}: {subject}")
        finally:
            m.logout()


def _sieve_until_status(f, limit: int = 100) -> bytes:
    """Read ManageSieve lines up to an OK/NO/BYE line; returns it."""
    for _ in range(limit):
        line = f.readline()
        if not line:
            raise AssertionError("ManageSieve connection closed")
        if line.split(b" ", 1)[0].rstrip(b"\r\n") in (b"OK", b"NO", b"BYE"):
            return line
    raise AssertionError("too many ManageSieve lines")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="harness.demo", description=__doc__.split("\n\n")[0])
    ap.add_argument("--self-test", action="store_true",
                    help="start everything, log in as alice and bob through Postern, stop, exit")
    args = ap.parse_args(argv)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    _log_pos[0] = 0
    started: list = []
    postern = None
    rc = 0
    try:
        pki = ensure_pki(STATE / "pki")
        started += start_backends(pki)
        (STATE / "postern" / "postern.log").unlink(missing_ok=True)  # a fresh log each run
        postern = Postern(STATE / "postern", config_file=CONFIG)
        started.append(postern)
        postern.start()
        if args.self_test:
            self_test(pki)
            return 0
        print(HOWTO, flush=True)
        while True:
            if not postern.running():
                print(f"postern exited with {postern.proc.returncode}", file=sys.stderr)
                rc = 1
                break
            for d in started[:2]:
                if not d.running():
                    print(f"dovecot {d.marker} exited:\n{d.diagnostics()}", file=sys.stderr)
                    rc = 1
            if rc:
                break
            follow_log(postern)
            time.sleep(0.5)
    except _Stop as e:
        print(f"\n{e}: stopping the demo", flush=True)
    except Exception as e:  # noqa: BLE001
        print(f"demo failed: {e}", file=sys.stderr)
        rc = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for p in reversed(started):
            try:
                p.stop()
            except Exception as e:  # noqa: BLE001
                print(f"while stopping: {e}", file=sys.stderr)
        if postern is not None and not args.self_test:
            follow_log(postern)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
    return rc


if __name__ == "__main__":
    sys.exit(main())
