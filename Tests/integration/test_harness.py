"""Tests of the harness itself, against real Dovecot instances (no Postern needed).

They check that the PKI, the two backends, their users and mail, and the raw client and
command-line probes used by test_imap.py behave as test_imap.py assumes, so that a failure
there points at Postern rather than at the harness.
"""

from __future__ import annotations

import hashlib
import imaplib
import re
import socket
import ssl
import subprocess
import sys
import textwrap
import time

import pytest

from harness import procs, sanitizer, world
from harness.clients import (RawIMAP, capabilities, curl, imap_quote, s_client, s_client_cipher,
                             sasl_plain)
from harness.dovecot import Dovecot, make_message
from harness.ports import free_port
from harness.postern import Postern, _addresses_from_text, check_config, log_field, parse_prometheus
from harness.yamlout import dump

U = world.USERS


def test_pki_files_verify(pki):
    for leaf in (pki.proxy_cert, pki.backend_cert):
        out = subprocess.run(["openssl", "verify", "-CAfile", str(pki.ca), str(leaf)],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
        wrong = subprocess.run(["openssl", "verify", "-CAfile", str(pki.wrong_ca), str(leaf)],
                               capture_output=True, text=True)
        assert wrong.returncode != 0
    text = subprocess.run(["openssl", "x509", "-in", str(pki.proxy_cert), "-noout", "-ext",
                           "subjectAltName"], capture_output=True, text=True).stdout
    assert "DNS:localhost" in text and "IP Address:127.0.0.1" in text and "IP Address:0:0:0:0:0:0:0:1" in text
    text = subprocess.run(["openssl", "x509", "-in", str(pki.backend_cert), "-noout", "-ext",
                           "subjectAltName"], capture_output=True, text=True).stdout
    assert "DNS:backend-a.test" in text and "IP Address:127.0.0.2" in text


def test_dh_params_are_ffdhe2048_pem(pki):
    pem = pki.dh.read_text()
    assert pem.startswith("-----BEGIN DH PARAMETERS-----")
    out = subprocess.run(["openssl", "pkeyparam", "-in", str(pki.dh), "-noout", "-text"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "2048 bit" in out.stdout, out.stdout + out.stderr
    # Python's ssl reads it with PEM_read_DHparams, the same PEM type OpenSSL's
    # PEM_read_bio_Parameters decodes.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_dh_params(str(pki.dh))


def test_pki_is_cached(pki):
    before = {f: (pki.dir / f).stat().st_mtime_ns for f in ("ca.pem", "proxy.pem", "dh2048.pem")}
    from harness.pki import ensure_pki

    ensure_pki(pki.dir)
    after = {f: (pki.dir / f).stat().st_mtime_ns for f in before}
    assert before == after


def test_backends_greet_with_their_markers(backends):
    for d, marker in ((backends.a, "BACKEND-A"), (backends.b, "BACKEND-B")):
        with RawIMAP(d.address, d.imap_port) as c:
            assert c.greeting.startswith("* OK ")
            assert f"{marker} ready." in c.greeting
            caps = capabilities(c.greeting)
            assert {"IMAP4REV1", "STARTTLS", "AUTH=PLAIN", "SASL-IR", "LITERAL+", "ID", "IDLE"} <= caps
    assert backends.a.address == "127.0.0.1" and backends.b.address == "127.0.0.2"
    assert backends.a.imap_port == backends.b.imap_port


@pytest.mark.parametrize("mode", ["plain", "starttls", "implicit"])
def test_imaplib_login_on_both_backends(backends, pki, mode):
    ctx = pki.client_context()
    for d in (backends.a, backends.b):
        for user in ("alice", "carol"):
            if mode == "implicit":
                m = imaplib.IMAP4_SSL(d.address, d.imaps_port, ssl_context=ctx, timeout=15)
            else:
                m = imaplib.IMAP4(d.address, d.imap_port, timeout=15)
                if mode == "starttls":
                    m.starttls(ssl_context=ctx)
            try:
                assert d.greeting_marker.encode() in m.welcome
                typ, _ = m.login(user, U[user])
                assert typ == "OK"
                typ, data = m.select("INBOX")
                assert typ == "OK"
                typ, data = m.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                assert typ == "OK"
                assert world.welcome_subject(user, d.marker).encode() in data[0][1]
            finally:
                m.logout()


def test_big_message_sha256(backends):
    assert len(backends.big_message) == world.BIG_SIZE
    for user in ("big", "bigb"):
        d = backends.of(user)
        m = imaplib.IMAP4(d.address, d.imap_port, timeout=60)
        try:
            m.login(user, U[user])
            m.select("INBOX", readonly=True)
            typ, data = m.fetch("2", "(BODY.PEEK[])")
            assert typ == "OK"
            body = data[0][1]
            assert len(body) == world.BIG_SIZE
            assert hashlib.sha256(body).hexdigest() == backends.big_sha256
        finally:
            m.logout()
    # The other backend has no big message for that user: routing mistakes would show.
    m = imaplib.IMAP4(backends.b.address, backends.b.imap_port, timeout=15)
    m.login("big", U["big"])
    typ, data = m.select("INBOX", readonly=True)
    assert data == [b"1"]
    m.logout()


def test_raw_client_forms_against_dovecot(backends, pki):
    """The raw forms test_imap.py sends through Postern, checked against Dovecot itself."""
    d = backends.a
    ctx = pki.client_context()
    pw = U["alice"]
    # Synchronizing literals: "+" continuations.
    with RawIMAP(d.address, d.imaps_port, tls="implicit", context=ctx) as c:
        c.send(f"l1 LOGIN {{{len('alice')}}}\r\n")
        assert c.readline().startswith(b"+")
        c.send(f"alice {{{len(pw)}}}\r\n")
        assert c.readline().startswith(b"+")
        c.send(pw + "\r\n")
        _, tagged = c.read_until_tagged("l1")
        assert tagged.startswith("l1 OK") and "[CAPABILITY" in tagged, tagged
    # Non-synchronizing literals in one write.
    with RawIMAP(d.address, d.imap_port) as c:
        c.starttls(ctx)
        c.send(f"l2 LOGIN {{5+}}\r\nalice {{{len(pw)}+}}\r\n{pw}\r\n")
        _, tagged = c.read_until_tagged("l2")
        assert tagged.startswith("l2 OK"), tagged
    # Quoted string with \" and \\.
    with RawIMAP(d.address, d.imap_port) as c:
        c.send(f"q1 LOGIN carol {imap_quote(U['carol'])}\r\n")
        _, tagged = c.read_until_tagged("q1")
        assert tagged.startswith("q1 OK"), tagged
    # AUTHENTICATE PLAIN with an initial response, and with a continuation.
    with RawIMAP(d.address, d.imap_port) as c:
        _, tagged = c.cmd("a1", f"AUTHENTICATE PLAIN {sasl_plain('alice', pw)}")
        assert tagged.startswith("a1 OK"), tagged
    with RawIMAP(d.address, d.imap_port) as c:
        c.send("a2 AUTHENTICATE PLAIN\r\n")
        assert c.readline().startswith(b"+")
        c.send(sasl_plain("alice", pw) + "\r\n")
        _, tagged = c.read_until_tagged("a2")
        assert tagged.startswith("a2 OK"), tagged
    # Wrong password, then a retry on the same connection.
    with RawIMAP(d.address, d.imap_port) as c:
        _, tagged = c.cmd("w1", "LOGIN alice wrong-password")
        assert tagged.startswith("w1 NO") and "[AUTHENTICATIONFAILED]" in tagged, tagged
        _, tagged = c.cmd("w2", f"LOGIN alice {pw}")
        assert tagged.startswith("w2 OK"), tagged
    # 50 commands pipelined behind LOGIN in one write.
    with RawIMAP(d.address, d.imap_port) as c:
        c.send(f"p0 LOGIN alice {pw}\r\n" + "".join(f"n{i} NOOP\r\n" for i in range(50)))
        _, tagged = c.read_until_tagged("p0")
        assert tagged.startswith("p0 OK")
        for i in range(50):
            _, tagged = c.read_until_tagged(f"n{i}")
            assert tagged.startswith(f"n{i} OK"), tagged


def test_idle_sees_new_mail(backends):
    d = backends.a
    with RawIMAP(d.address, d.imap_port) as c:
        c.cmd("l", f"LOGIN alice {U['alice']}")
        _, tagged = c.cmd("s", "SELECT INBOX")
        assert tagged.startswith("s OK")
        c.send("i IDLE\r\n")
        line = c.readline()
        assert line.startswith(b"+"), line
        d.deliver("alice", make_message("while idling"))
        got = c.readline(timeout=10)
        assert got.endswith(b"EXISTS"), got
        c.send("DONE\r\n")
        _, tagged = c.read_until_tagged("i")
        assert tagged.startswith("i OK"), tagged
        lines, tagged = c.cmd("o", "LOGOUT")
        assert any(x.startswith(b"* BYE") for x in lines) and tagged.startswith("o OK")


def test_openssl_probes_against_dovecot(tmp_path, pki):
    """The s_client probes of test_imap.py: TLS 1.1 refused (and a positive control showing
    that the client really offers TLS 1.1), DHE 2048, server cipher order."""
    ciphers = "ECDHE+AES256:ECDHE+AES128:DHE+AESGCM"
    d = Dovecot(tmp_path / "tlsa", "TLS-A", {"alice": "x"}, pki=pki,
                extra_config=f"ssl_cipher_list = {ciphers}\n")
    old = Dovecot(tmp_path / "tlsold", "TLS-OLD", {"alice": "x"}, pki=pki,
                  extra_config="ssl_min_protocol = TLSv1\nssl_cipher_list = DEFAULT:@SECLEVEL=0\n")
    try:
        d.start()
        old.start()
        rc, out = s_client("127.0.0.1", d.imaps_port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
        assert rc != 0 and s_client_cipher(out) is None, out
        rc, out = s_client("127.0.0.1", old.imaps_port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
        assert rc == 0 and "TLSv1.1" in out, out
        rc, out = s_client("127.0.0.1", d.imaps_port, "-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384")
        assert "Server Temp Key: DH, 2048 bits" in out, out
        got = []
        for offer in ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
                      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"):
            rc, out = s_client("127.0.0.1", d.imaps_port, "-tls1_2", "-cipher", offer)
            got.append(s_client_cipher(out))
        assert got == ["ECDHE-RSA-AES256-GCM-SHA384"] * 2, got
        rc, out = s_client("127.0.0.1", d.imap_port, "-starttls", "imap", "-CAfile", str(pki.ca),
                           "-verify_return_error")
        assert rc == 0 and "Verify return code: 0 (ok)" in out, out
    finally:
        d.stop()
        old.stop()


def test_curl_imaps_fetch(backends, pki):
    d = backends.a
    rc, body, err = curl(f"imaps://127.0.0.1:{d.imaps_port}/INBOX;UID=1", "alice", U["alice"],
                         "--cacert", str(pki.ca))
    assert rc == 0, err
    assert world.welcome_subject("alice", "BACKEND-A").encode() in body
    rc, body, err = curl(f"imaps://127.0.0.1:{d.imaps_port}/INBOX;UID=1", "alice", U["alice"],
                         "--cacert", str(pki.wrong_ca))
    assert rc != 0


def test_backend_without_tls(tmp_path, pki):
    d = Dovecot(tmp_path / "nossl", "NOSSL", {"alice": "pw"}, ssl=False)
    try:
        d.start()
        assert d.imaps_port is None
        with RawIMAP(d.address, d.imap_port) as c:
            assert "STARTTLS" not in capabilities(c.greeting)
            _, tagged = c.cmd("s", "STARTTLS")
            assert not tagged.startswith("s OK")
    finally:
        d.stop()


def test_stop_and_kill_leave_no_process(tmp_path, pki):
    d = Dovecot(tmp_path / "k", "KILLME", {"alice": "pw"}, pki=pki)
    d.start()
    with RawIMAP(d.address, d.imap_port) as c:
        c.cmd("l", "LOGIN alice pw")
        assert d.session_pids("imap"), "an imap process serves the session"
        tree = [d.pid] + d.child_pids()
        victims = d.kill()
    assert set(tree) <= set(victims)
    assert procs.wait_gone(victims, 5)
    d2 = Dovecot(tmp_path / "s", "STOPME", {"alice": "pw"}, pki=pki)
    d2.start()
    tree = [d2.pid] + d2.child_pids()
    d2.stop()
    assert procs.wait_gone(tree, 5)


def test_wrong_passwords_are_not_delayed(backends):
    """Anvil's auth penalty is off: repeated failures from 127.0.0.1 stay fast."""
    d = backends.a
    t0 = time.monotonic()
    for i in range(4):
        with RawIMAP(d.address, d.imap_port) as c:
            _, tagged = c.cmd("w", "LOGIN alice nope")
            assert tagged.startswith("w NO")
    with RawIMAP(d.address, d.imap_port) as c:
        _, tagged = c.cmd("ok", f"LOGIN alice {U['alice']}")
        assert tagged.startswith("ok OK")
    assert time.monotonic() - t0 < 4.5


def test_ports_are_unique_and_below_ephemeral():
    ps = [free_port() for _ in range(50)]
    assert len(set(ps)) == 50 and all(20000 <= p < 32000 for p in ps)


def test_yaml_and_prometheus_helpers():
    cfg = {"server": {"workers": 2, "admin_listen": "127.0.0.1:2001"},
           "listeners": [{"name": "imap", "listen": ["127.0.0.1:2002", "[::1]:2003"], "tls": "none"}],
           "tls": {"min_version": "1.2", "prefer_server_ciphers": True, "ciphers": "A:B"}}
    text = dump(cfg)
    assert 'min_version: "1.2"' in text and "prefer_server_ciphers: true" in text
    assert _addresses_from_text(text) == ["127.0.0.1:2001", "127.0.0.1:2002", "[::1]:2003"]
    flow = 'server: { admin_listen: "127.0.0.1:7" }\nlisteners:\n  - { name: a, listen: ["127.0.0.1:8"] }\n'
    assert _addresses_from_text(flow) == ["127.0.0.1:7", "127.0.0.1:8"]
    m = parse_prometheus(textwrap.dedent("""\
        # HELP postern_sessions_active Live sessions
        # TYPE postern_sessions_active gauge
        postern_sessions_active{listener="imap"} 3.0
        postern_sessions_active{listener="imaps"} 1
        postern_logins_total 7
        """))
    assert m['postern_sessions_active{listener="imap"}'] == 3.0
    from harness.postern import metric_sum

    assert metric_sum(m, "postern_sessions_active") == 4.0
    assert metric_sum(m, "postern_logins_total") == 7.0
    assert metric_sum(m, "nope") is None


STUB = r'''#!PYTHON
"""A stand-in for the postern binary, to test the harness's Postern class only."""
import http.server, re, socket, sys, threading, signal, os
cmd = sys.argv[1]
path = sys.argv[sys.argv.index("-c") + 1]
text = open(path).read()
if cmd == "check-config":
    if "bogus" in text:
        n = [i for i, l in enumerate(text.splitlines(), 1) if "bogus" in l][0]
        print(f"{path}:{n}: unknown key 'bogus'")
        sys.exit(1)
    sys.exit(0)
admin = re.search(r'admin_listen: "([\d.]+):(\d+)"', text)
ports = [int(p) for p in re.findall(r'- "127\.0\.0\.1:(\d+)"', text)]
socks = []
for p in ports:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", p)); s.listen(16); socks.append(s)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok" if self.path == "/health" else b"# TYPE postern_sessions_active gauge\npostern_sessions_active 0\n"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer((admin.group(1), int(admin.group(2))), H)
signal.signal(signal.SIGHUP, lambda *a: print("reloaded", flush=True))
# Under a sanitizer run the harness points log_path into the state dir: write a fake report there.
lp = re.search(r"log_path=([^:]+)", os.environ.get("TSAN_OPTIONS", ""))
if lp and "fake-race" in text:
    with open(f"{lp.group(1)}.{os.getpid()}", "w") as f:
        f.write("WARNING: ThreadSanitizer: data race\nSUMMARY: ThreadSanitizer: data race in fake\n")
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
print("stub postern running", flush=True)
srv.serve_forever()
'''


def test_postern_class_with_a_stub_binary(tmp_path):
    stub = tmp_path / "postern-stub"
    stub.write_text(STUB.replace("PYTHON", sys.executable))
    stub.chmod(0o755)
    admin, lp = free_port(), free_port()
    cfg = {"server": {"admin_listen": f"127.0.0.1:{admin}"},
           "listeners": [{"name": "imap", "listen": [f"127.0.0.1:{lp}"]}]}
    p = Postern(tmp_path / "p", cfg, binary=str(stub))
    p.start()
    try:
        assert p.http_get("/health") == (200, "ok")
        assert p.sessions_active() == 0
        assert p.open_fds() > 3
        p.reload()
        deadline = time.monotonic() + 5
        while "reloaded" not in p.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "reloaded" in p.log_text()
    finally:
        assert p.stop() == 0
    assert not p.running()
    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  bogus: 1\n")
    rc, out = check_config(bad, binary=str(stub))
    assert rc == 1 and f"{bad}:2:" in out and "bogus" in out
    # A binary that exits at once fails start() loudly, with its log.
    dead = tmp_path / "dead"
    dead.write_text("#!/bin/sh\necho cannot start >&2\nexit 3\n")
    dead.chmod(0o755)
    with pytest.raises(procs.ProcessError, match="cannot start"):
        Postern(tmp_path / "d", cfg, binary=str(dead)).start()


def test_postern_fd_limit_rss_and_log_fields(tmp_path):
    stub = tmp_path / "postern-stub"
    stub.write_text(STUB.replace("PYTHON", sys.executable))
    stub.chmod(0o755)
    admin, lp = free_port(), free_port()
    cfg = {"server": {"admin_listen": f"127.0.0.1:{admin}"},
           "listeners": [{"name": "imap", "listen": [f"127.0.0.1:{lp}"]}]}
    p = Postern(tmp_path / "p", cfg, binary=str(stub), nofile=64)
    p.start()
    try:
        limits = open(f"/proc/{p.pid}/limits").read()
        assert re.search(r"Max open files\s+64\s+64\s", limits), limits
        assert p.rss_kib() > 1000
    finally:
        p.stop()
    line = ('ts=2026-12-03T13:55:08.123Z level=info msg=session backend=- client=127.0.0.1:43814 detail="TLS '
            'handshake failed: error:0A00010B:SSL routines::wrong version number" duration_ms=2 listener=imaps '
            'outcome=client-error route="users.map:2 (exact)" user=-')
    assert log_field(line, "client") == "127.0.0.1:43814"
    assert log_field(line, "detail") == "TLS handshake failed: error:0A00010B:SSL routines::wrong version number"
    assert log_field(line, "outcome") == "client-error"
    assert log_field(line, "route") == "users.map:2 (exact)"
    assert log_field(line, "user") == "-"
    assert log_field(line, "session") is None


def test_pop3_and_managesieve_on_both_backends(backends, pki):
    """The POP3 and ManageSieve services are there too, with the same markers and users."""
    import poplib

    ctx = pki.client_context()
    for d in (backends.a, backends.b):
        p = poplib.POP3(d.address, d.pop3_port, timeout=15)
        try:
            assert d.greeting_marker.encode() in p.getwelcome()
            p.stls(context=ctx)
            p.user("alice")
            p.pass_(U["alice"])
            count, _ = p.stat()
            assert count == 1
            assert world.welcome_subject("alice", d.marker).encode() in b"\n".join(p.retr(1)[1])
        finally:
            p.quit()
        p = poplib.POP3_SSL(d.address, d.pop3s_port, context=ctx, timeout=15)
        p.user("bob")
        p.pass_(U["bob"])
        p.quit()
        s = socket.create_connection((d.address, d.sieve_port), timeout=15)
        try:
            f = s.makefile("rb")
            greeting = []
            for _ in range(50):
                line = f.readline()
                greeting.append(line)
                if line.startswith((b"OK", b"NO", b"BYE")):
                    break
            text = b"".join(greeting)
            assert b'"STARTTLS"' in text and b'"SASL" "PLAIN' in text, text
            assert d.greeting_marker.encode() in greeting[-1], greeting[-1]
            s.sendall(f'AUTHENTICATE "PLAIN" "{sasl_plain("carol", U["carol"])}"\r\n'.encode())
            reply = f.readline()
            assert reply.startswith(b"OK"), reply
            s.sendall(b"LISTSCRIPTS\r\n")
            assert f.readline().startswith(b"OK")
        finally:
            s.close()


def test_a_sanitizer_report_is_collected_when_postern_stops(tmp_path, monkeypatch):
    """Under scripts/sanitize, a report the process writes (to the log_path the harness gives it,
    inside its state dir) is recorded at stop and described with its SUMMARY line; without a
    report nothing is recorded."""
    monkeypatch.setenv(sanitizer.ENV, str(tmp_path / "global"))
    monkeypatch.setenv("TSAN_OPTIONS", f"halt_on_error=0:log_path={tmp_path}/global/tsan")
    stub = tmp_path / "postern-stub"
    stub.write_text(STUB.replace("PYTHON", sys.executable))
    stub.chmod(0o755)
    assert sanitizer.take() == []
    for marker, expect_report in (("clean", False), ("fake-race", True)):
        admin, lp = free_port(), free_port()
        cfg = {"server": {"admin_listen": f"127.0.0.1:{admin}"},
               "listeners": [{"name": marker, "listen": [f"127.0.0.1:{lp}"]}]}
        p = Postern(tmp_path / marker, cfg, binary=str(stub))
        p.start()
        p.stop()
        found = sanitizer.take()
        if not expect_report:
            assert found == []
            continue
        assert [path.name for path, _ in found] == [f"sanitizer.{p.proc.pid}"]
        assert found[0][0].parent == tmp_path / marker
        assert "SUMMARY: ThreadSanitizer: data race in fake" in sanitizer.describe(found)
    assert sanitizer.take() == []  # each report is taken once
