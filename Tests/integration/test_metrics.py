"""Metrics SREs alert on (issue 9), against the real binary and real Dovecot.

- Every label value the configuration knows is exported at zero from the start.
- Three logins raise the login counter and the login histogram's count by three (and the backend
  connect and map lookup histograms).
- A failed TLS handshake raises the failure counter with its reason.
- The relayed-bytes counter moves during a session, before it ends.
- ``promtool check metrics`` (Debian's ``prometheus`` package) accepts ``/metrics``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import datetime, timezone

from harness import world
from harness.clients import RawIMAP, imap_quote, s_client
from harness.tlsprobe import OLD_PROTOCOL_CIPHERS

HOST = "127.0.0.1"
U = world.USERS


def login(p, pki, user: str) -> RawIMAP:
    c = RawIMAP(HOST, p.port("imap"), context=pki.client_context())
    c.starttls(pki.client_context())
    _, tagged = c.cmd("l", f"LOGIN {user} {imap_quote(U[user])}")
    assert tagged.startswith("l OK"), tagged
    return c


def wait_metric(p, key: str, value: float, timeout: float = 10.0) -> float:
    deadline = time.monotonic() + timeout
    got = p.metrics().get(key)
    while got != value and time.monotonic() < deadline:
        time.sleep(0.1)
        got = p.metrics().get(key)
    return got


def test_label_values_from_the_config_are_exported_at_zero(postern, backends, pki):
    m = postern.metrics()
    for listener in ("imap", "imaps", "imap-req"):
        assert f'postern_sessions_total{{listener="{listener}"}}' in m, listener
        for result in ("ok", "rejected", "unknown-user", "unavailable"):
            assert f'postern_login_duration_seconds_count{{listener="{listener}",result="{result}"}}' in m
        for reason in ("protocol_version", "no_shared_cipher", "unknown_ca", "bad_certificate", "not_tls", "other"):
            assert m[f'postern_tls_handshake_failures_total{{listener="{listener}",reason="{reason}"}}'] == 0
        for reason in ("max_connections", "draining"):
            assert m[f'postern_connections_refused_total{{listener="{listener}",reason="{reason}"}}'] == 0
    # The backends the map file names (A and B, each on the listeners' backend port, and the dead one),
    # and "other" for everything else.
    port = backends.imap_port
    for label in (f"{world.HOST_A}:{port}", f"{world.HOST_B}:{port}", f"{world.HOST_A}:{backends.dead_port}", "other"):
        assert m[f'postern_backend_connect_duration_seconds_count{{backend="{label}"}}'] == 0, label
        assert m[f'postern_backend_breaker_opened_total{{backend="{label}"}}'] == 0, label
    assert m['postern_relayed_bytes_total{direction="client_to_backend"}'] == 0
    assert m['postern_map_lookup_duration_seconds_count{source="file"}'] == 0
    assert [k for k in m if k.startswith("postern_build_info{")] and all(
        v == 1 for k, v in m.items() if k.startswith("postern_build_info{")), m
    assert m["postern_config_generation"] == 1
    loaded = m["postern_config_last_reload_success_timestamp_seconds"]
    assert abs(loaded - time.time()) < 300, loaded
    # The certificate's notAfter, as openssl reads it.
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(pki.proxy_cert)],
                         capture_output=True, text=True, check=True).stdout
    not_after = datetime.strptime(out.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc)
    expiry = [v for k, v in m.items() if k.startswith('postern_tls_certificate_expiry_timestamp_seconds{listener="imaps"')]
    assert expiry == [not_after.timestamp()], (expiry, not_after)


def test_three_logins_raise_the_counter_and_the_histograms_by_three(postern, pki, backends):
    key = 'postern_login_duration_seconds_count{listener="imap",result="ok"}'
    a = f'postern_backend_connect_duration_seconds_count{{backend="{world.HOST_A}:{backends.imap_port}"}}'
    before = postern.metrics()
    for _ in range(3):
        c = login(postern, pki, "alice")
        c.cmd("o", "LOGOUT")
        c.close()
    after = postern.metrics()
    assert after['postern_logins_total{result="ok"}'] - before['postern_logins_total{result="ok"}'] == 3
    assert after[key] - before[key] == 3
    assert after[a] - before[a] == 3
    lookups = 'postern_map_lookup_duration_seconds_count{source="file"}'
    assert after[lookups] - before[lookups] == 3
    # The histogram's buckets are cumulative and the +Inf bucket is the count.
    inf = 'postern_login_duration_seconds_bucket{listener="imap",result="ok",le="+Inf"}'
    assert after[inf] == after[key]
    assert 0 < after['postern_login_duration_seconds_sum{listener="imap",result="ok"}'] < 30


def test_a_failed_tls_handshake_counts_its_reason(postern):
    port = postern.port("imaps")
    version = 'postern_tls_handshake_failures_total{listener="imaps",reason="protocol_version"}'
    cipher = 'postern_tls_handshake_failures_total{listener="imaps",reason="no_shared_cipher"}'
    before = postern.metrics()
    rc, out = s_client(HOST, port, "-tls1", "-cipher", OLD_PROTOCOL_CIPHERS, timeout=30)
    assert rc != 0, out[-2000:]
    assert wait_metric(postern, version, before[version] + 1) == before[version] + 1, postern.metrics_text()
    # A TLS 1.2 client with only a cipher the listener does not take (it takes ECDHE/DHE AEAD only).
    rc, out = s_client(HOST, port, "-tls1_2", "-cipher", "AES128-SHA", timeout=30)
    assert rc != 0, out[-2000:]
    assert wait_metric(postern, cipher, before[cipher] + 1) == before[cipher] + 1, postern.metrics_text()
    assert postern.metrics()[version] == before[version] + 1


def test_relayed_bytes_move_while_the_session_runs(postern, pki):
    up = 'postern_relayed_bytes_total{direction="client_to_backend"}'
    down = 'postern_relayed_bytes_total{direction="backend_to_client"}'
    with login(postern, pki, "soak") as c:
        c.cmd("s", "SELECT INBOX")
        before = postern.metrics()
        command = "f FETCH 2 BODY.PEEK[]\r\n"
        c.send(command)
        lines, tagged = c.read_until_tagged("f", timeout=60)
        assert tagged.startswith("f OK"), tagged
        received = sum(len(x) for x in lines) + len(tagged)
        after = postern.metrics()  # the session is still open
        assert after[down] - before[down] >= received >= world.SOAK_SIZE, (after[down], before[down], received)
        assert after[up] - before[up] >= len(command)
        # Nothing of it was counted as ended-session bytes yet.
        assert after['postern_client_bytes_total{direction="out"}'] == before['postern_client_bytes_total{direction="out"}']


def test_promtool_accepts_the_metrics(postern, pki):
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: run scripts/setup (Debian package prometheus)"
    c = login(postern, pki, "alice")
    c.cmd("o", "LOGOUT")
    c.close()
    s_client(HOST, postern.port("imaps"), "-tls1_2", "-cipher", "AES128-SHA", timeout=30)
    text = postern.metrics_text()
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
