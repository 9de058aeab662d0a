"""The client-facing TLS policy, probed with real ``openssl s_client`` and ``sslscan``.

Each test starts its own Postern (no backend is needed: the tests stop at the pre-login
dialogue) with listeners built for it. The probe matrix runs on an implicit-TLS listener and
on STARTTLS listeners: ``-starttls imap`` always, ``pop3`` and ``sieve`` when this build serves
those protocols (otherwise the test checks that Postern refuses such a listener, and stops).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from harness import procs
from harness.pki import SNI_NAME, issue_cert
from harness.ports import dead_port, free_port
from harness.postern import Postern, check_config
from harness.tlsprobe import OLD_PROTOCOL_CIPHERS, probe, sslscan, weak_ciphers
from harness.world import server_defaults

HOST = "127.0.0.1"

# (probe mode, listener protocol): implicit TLS, then STARTTLS for each protocol.
MODES = [("implicit", "imap"), ("imap", "imap"), ("pop3", "pop3"), ("sieve", "managesieve")]
MODE_IDS = ["implicit-imap", "starttls-imap", "starttls-pop3", "starttls-sieve"]


# ----- fixtures and helpers ----------------------------------------------------------------------
def listener(name: str, protocol: str, mode: str, **tls_settings) -> dict:
    d = {"name": name, "protocol": protocol, "listen": [f"{HOST}:{free_port()}"],
         "tls": "implicit" if mode == "implicit" else "starttls", "backend": {"port": 143, "tls": "none"}}
    if tls_settings:
        d["tls_settings"] = tls_settings
    return d


def port_of(p: Postern, name: str) -> int:
    for lst in p.config["listeners"]:
        if lst["name"] == name:
            return int(lst["listen"][0].rsplit(":", 1)[1])
    raise KeyError(name)


@pytest.fixture
def edge(tmp_path, pki, request):
    """``edge(listeners, tls=None, extra=None)`` -> a started Postern with those listeners."""
    started: list[Postern] = []

    def make(listeners: list[dict], tls: dict | None = None, extra: dict | None = None) -> Postern:
        d = tmp_path / f"postern-{len(started) + 1}"
        cfg = {
            "server": server_defaults(workers=2, admin_listen=f"{HOST}:{free_port()}", log_level="info"),
            "listeners": listeners,
            "tls": {"certificate": str(pki.proxy_cert), "key": str(pki.proxy_key), "dh_params": str(pki.dh)},
            "backend_tls": {"ca_file": str(pki.ca)},
            "map": {"default": f"{HOST}:{dead_port(HOST)}"},
        }
        cfg["tls"].update(tls or {})
        cfg.update(extra or {})
        p = Postern(d, cfg)
        started.append(p)
        p.start()
        return p

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for p in started:
        rc_running = p.running()
        p.stop()
        if failed:
            request.node.rep_call.sections.append((f"postern {p.state_dir.name} log", p.log_tail(80)))
        assert rc_running, f"postern in {p.state_dir} died during the test"


@pytest.fixture(scope="module")
def protocol_support(tmp_path_factory):
    """{protocol: (supported, check-config output)}: whether this build serves a listener protocol."""
    d = tmp_path_factory.mktemp("protocols")
    out = {}
    for proto in ("imap", "pop3", "managesieve"):
        path = d / f"{proto}.yaml"
        path.write_text(f"listeners:\n  - name: x\n    protocol: {proto}\n    listen: [\"{HOST}:{free_port()}\"]\n"
                        f"    backend: {{ port: 143 }}\nmap:\n  default: {HOST}\n")
        rc, text = check_config(path)
        out[proto] = (rc == 0, text)
    return out


def served(protocol_support, protocol: str) -> bool:
    """True when the build serves ``protocol``; otherwise checks that Postern says so, and returns False."""
    ok, out = protocol_support[protocol]
    if not ok:
        assert "is not supported by this build" in out, out
    return ok


# ----- protocol versions -------------------------------------------------------------------------
@pytest.mark.parametrize("mode,protocol", MODES, ids=MODE_IDS)
def test_versions_below_1_2_refused_1_2_and_1_3_accepted(edge, protocol_support, mode, protocol):
    if not served(protocol_support, protocol):
        return
    p = edge([listener("l", protocol, mode)])
    port = port_of(p, "l")
    for old in ("-tls1", "-tls1_1"):
        r = probe(port, mode, old, "-cipher", OLD_PROTOCOL_CIPHERS)
        assert r.rc != 0 and not r.ok, f"{old} accepted:\n{r}"
    for flag, version in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
        r = probe(port, mode, flag)
        assert r.ok and r.protocol == version, f"{flag}:\n{r}"


@pytest.mark.parametrize("mode,protocol", MODES, ids=MODE_IDS)
def test_min_version_1_3_on_one_listener_refuses_1_2(edge, protocol_support, mode, protocol):
    if not served(protocol_support, protocol):
        return
    p = edge([listener("only13", protocol, mode, min_version="1.3"), listener("both", protocol, mode)])
    r = probe(port_of(p, "only13"), mode, "-tls1_2")
    assert not r.ok, f"TLS 1.2 accepted with min_version 1.3:\n{r}"
    r = probe(port_of(p, "only13"), mode, "-tls1_3")
    assert r.ok and r.protocol == "TLSv1.3", str(r)
    r = probe(port_of(p, "both"), mode, "-tls1_2")
    assert r.ok and r.protocol == "TLSv1.2", f"the other listener keeps the global floor:\n{r}"


def test_max_version_1_2(edge):
    p = edge([listener("l", "imap", "implicit", max_version="1.2")])
    r = probe(port_of(p, "l"), "implicit")
    assert r.ok and r.protocol == "TLSv1.2", str(r)
    assert not probe(port_of(p, "l"), "implicit", "-tls1_3").ok


# ----- ciphers, DH, groups -----------------------------------------------------------------------
OFFERS = ("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
          "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256")


@pytest.mark.parametrize("mode,protocol", MODES, ids=MODE_IDS)
def test_server_cipher_order_wins(edge, protocol_support, mode, protocol):
    if not served(protocol_support, protocol):
        return
    p = edge([listener("srv", protocol, mode, ciphers="ECDHE+AES256:ECDHE+AES128"),
              listener("cli", protocol, mode, ciphers="ECDHE+AES256:ECDHE+AES128", prefer_server_ciphers=False)])
    got = [probe(port_of(p, "srv"), mode, "-tls1_2", "-cipher", o).cipher for o in OFFERS]
    assert got == ["ECDHE-RSA-AES256-GCM-SHA384"] * 2, got
    # The control: without server preference the client's first choice wins.
    got = [probe(port_of(p, "cli"), mode, "-tls1_2", "-cipher", o).cipher for o in OFFERS]
    assert got == ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"], got


@pytest.mark.parametrize("mode,protocol", MODES, ids=MODE_IDS)
def test_dhe_uses_a_2048_bit_group(edge, protocol_support, mode, protocol):
    if not served(protocol_support, protocol):
        return
    p = edge([listener("file", protocol, mode), listener("auto", protocol, mode, dh_params="auto")])
    for name in ("file", "auto"):
        r = probe(port_of(p, name), mode, "-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384")
        assert r.cipher == "DHE-RSA-AES256-GCM-SHA384", f"{name}:\n{r}"
        assert r.temp_key == "DH, 2048 bits", f"{name}:\n{r}"


@pytest.mark.parametrize("mode,protocol", MODES, ids=MODE_IDS)
def test_groups_setting_picks_the_key_exchange(edge, protocol_support, mode, protocol):
    if not served(protocol_support, protocol):
        return
    p = edge([listener("x25519", protocol, mode, groups="X25519"), listener("p256", protocol, mode, groups="P-256")])
    for flag in ("-tls1_3", "-tls1_2"):
        # The client would rather use P-256: the server's list decides.
        r = probe(port_of(p, "x25519"), mode, flag, "-groups", "P-256:X25519")
        assert r.temp_key == "X25519, 253 bits", f"{flag}:\n{r}"
        r = probe(port_of(p, "p256"), mode, flag, "-groups", "X25519:P-256")
        assert r.temp_key == "ECDH, prime256v1, 256 bits", f"{flag}:\n{r}"
    r = probe(port_of(p, "x25519"), mode, "-groups", "P-256")
    assert not r.ok, f"no common group must fail:\n{r}"


# ----- certificates: SNI, RSA and ECDSA ----------------------------------------------------------
@pytest.mark.parametrize("mode,protocol", MODES, ids=MODE_IDS)
def test_sni_picks_the_certificate(edge, pki, protocol_support, mode, protocol):
    if not served(protocol_support, protocol):
        return
    p = edge([listener("l", protocol, mode)], tls={"certificates": [
        {"certificate": str(pki.proxy_ecdsa_cert), "key": str(pki.proxy_ecdsa_key)},
        {"certificate": str(pki.sni_cert), "key": str(pki.sni_key), "server_names": [SNI_NAME, "*.wild.test"]},
    ]})
    port = port_of(p, "l")
    for name in (SNI_NAME, "imap.wild.test"):
        r = probe(port, mode, "-servername", name, "-CAfile", str(pki.ca), "-verify_hostname", name,
                  "-verify_return_error")
        assert r.ok and r.subject == f"O = Postern Tests, CN = {SNI_NAME}", f"{name}:\n{r}"
        assert "Verify return code: 0 (ok)" in r.out, str(r)
    for args in (["-servername", "unknown.test"], ["-noservername"]):
        r = probe(port, mode, *args, "-sigalgs", "RSA-PSS+SHA256:RSA+SHA256")
        assert r.ok and r.subject == "O = Postern Tests, CN = localhost", f"{args}:\n{r}"


@pytest.mark.parametrize("mode,protocol", MODES[:2], ids=MODE_IDS[:2])
def test_rsa_and_ecdsa_certificates_side_by_side(edge, pki, mode, protocol):
    p = edge([listener("l", protocol, mode)], tls={"certificates": [
        {"certificate": str(pki.proxy_ecdsa_cert), "key": str(pki.proxy_ecdsa_key)}]})
    port = port_of(p, "l")
    ecdsa = probe(port, mode, "-tls1_3", "-sigalgs", "ECDSA+SHA256")
    assert ecdsa.ok and ecdsa.subject == "O = Postern Tests ECDSA, CN = localhost", str(ecdsa)
    assert ecdsa.peer_signature_type == "ECDSA", str(ecdsa)
    rsa = probe(port, mode, "-tls1_3", "-sigalgs", "RSA-PSS+SHA256")
    assert rsa.ok and rsa.subject == "O = Postern Tests, CN = localhost", str(rsa)
    r = probe(port, mode, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384")
    assert r.cipher == "ECDHE-ECDSA-AES256-GCM-SHA384" and "ECDSA" in (r.subject or ""), str(r)


# ----- resumption and the session log line -------------------------------------------------------
def _resume(port: int, mode: str, version_flag: str, state: Path) -> tuple:
    sess = state / f"sess-{port}-{version_flag}.pem"
    first = probe(port, mode, version_flag, "-sess_out", str(sess))
    assert first.ok and not first.reused, str(first)
    assert sess.is_file() and sess.stat().st_size > 0, f"no session saved:\n{first}"
    second = probe(port, mode, version_flag, "-sess_in", str(sess))
    return first, second


@pytest.mark.parametrize("mode,protocol", MODES, ids=MODE_IDS)
def test_resumption_with_tickets_and_cache(edge, protocol_support, tmp_path, mode, protocol):
    if not served(protocol_support, protocol):
        return
    p = edge([listener("tickets", protocol, mode), listener("cache", protocol, mode, session_resumption="cache"),
              listener("off", protocol, mode, session_resumption="off")])
    for name in ("tickets", "cache"):
        for flag in ("-tls1_3", "-tls1_2"):
            first, second = _resume(port_of(p, name), mode, flag, tmp_path)
            assert second.ok and second.reused, f"{name} {flag} not resumed:\n{second}"
            assert second.protocol == first.protocol, str(second)
    for flag in ("-tls1_3", "-tls1_2"):
        sess = tmp_path / f"off{flag}.pem"
        first = probe(port_of(p, "off"), mode, flag, "-sess_out", str(sess))
        assert first.ok, str(first)
        if sess.exists() and sess.stat().st_size > 0:
            again = probe(port_of(p, "off"), mode, flag, "-sess_in", str(sess))
            assert again.ok and not again.reused, f"resumed with session_resumption: off:\n{again}"


def test_tickets_survive_a_reload(edge, tmp_path):
    p = edge([listener("l", "imap", "implicit")])
    sess = tmp_path / "sess.pem"
    first = probe(port_of(p, "l"), "implicit", "-sess_out", str(sess))
    assert first.ok and sess.stat().st_size > 0, str(first)
    p.reload()
    deadline = time.monotonic() + 10
    while "generation=2" not in p.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "generation=2" in p.log_text(), p.log_tail()
    again = probe(port_of(p, "l"), "implicit", "-sess_in", str(sess))
    assert again.ok and again.reused, f"the ticket key ring outlives the reload:\n{again}"


def _session_lines(p: Postern, listener_name: str, count: int, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        # Handshakes only: the harness's readiness check connects and closes without TLS.
        lines = [x for x in p.log_text().splitlines()
                 if " msg=session " in x and f"listener={listener_name} " in x and "client_tls=none" not in x]
        if len(lines) >= count:
            break
        time.sleep(0.2)
    return lines


def test_session_log_line_carries_protocol_cipher_and_resumed(edge, tmp_path, pki):
    p = edge([listener("l", "imap", "implicit", client_certificates="optional", client_ca_file=str(pki.ca))])
    port = port_of(p, "l")
    first, second = _resume(port, "implicit", "-tls1_3", tmp_path)
    assert second.reused, str(second)
    third = probe(port, "implicit", "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-servername", "imap.test",
                  "-cert", str(pki.client_cert), "-key", str(pki.client_key))
    assert third.ok, str(third)
    lines = _session_lines(p, "l", 3)
    assert len(lines) == 3, lines
    assert f"client_tls=TLSv1.3/{first.cipher} client_tls_resumed=false" in lines[0], lines[0]
    assert f"client_tls=TLSv1.3/{second.cipher} client_tls_resumed=true" in lines[1], lines[1]
    assert "client_tls=TLSv1.2/ECDHE-RSA-AES128-GCM-SHA256 client_tls_resumed=false" in lines[2], lines[2]
    assert "client_sni=imap.test" in lines[2] and 'client_cert="CN=client.test,O=Postern Tests"' in lines[2], lines[2]


# ----- client certificates -----------------------------------------------------------------------
@pytest.mark.parametrize("mode,protocol", MODES[:2], ids=MODE_IDS[:2])
def test_client_certificates(edge, pki, mode, protocol):
    p = edge([listener("req", protocol, mode, client_certificates="required", client_ca_file=str(pki.ca)),
              listener("opt", protocol, mode, client_certificates="optional", client_ca_file=str(pki.ca))])
    good = ["-cert", str(pki.client_cert), "-key", str(pki.client_key)]
    wrong = ["-cert", str(pki.wrong_client_cert), "-key", str(pki.wrong_client_key)]

    def answered(r) -> bool:  # Postern answered the LOGOUT sent after the handshake
        return "* BYE" in r.out

    for flag in ("-tls1_2", "-tls1_3"):
        r = probe(port_of(p, "req"), mode, flag, *good)
        assert r.ok and answered(r), f"{flag} with a certificate:\n{r}"
        # In TLS 1.3 the client finishes its side before the server checks: Postern must never answer.
        r = probe(port_of(p, "req"), mode, flag)
        assert not answered(r), f"{flag} without a certificate:\n{r}"
        if flag == "-tls1_3":
            assert "certificate required" in r.out, str(r)
        r = probe(port_of(p, "req"), mode, flag, *wrong)
        assert not answered(r), f"{flag} with a certificate from another CA:\n{r}"
        r = probe(port_of(p, "opt"), mode, flag)
        assert r.ok and answered(r), f"{flag} optional, without a certificate:\n{r}"
    outcomes = [x for x in p.log_text().splitlines() if " msg=session " in x and "listener=req " in x]
    ok = [x for x in outcomes if 'client_cert="CN=client.test,O=Postern Tests"' in x]
    assert len(ok) == 2, "\n".join(outcomes)


# ----- sslscan ------------------------------------------------------------------------------------
def test_sslscan_finds_only_modern_forward_secret_aead(edge, pki, tmp_path):
    # The control: the same scan of a permissive OpenSSL server sees the old protocols and weak
    # suites, so the assertions below can fail.
    control_port = free_port()
    srv = subprocess.Popen(["openssl", "s_server", "-accept", f"{HOST}:{control_port}", "-cert", str(pki.proxy_cert),
                            "-key", str(pki.proxy_key), "-cipher", "ALL:@SECLEVEL=0", "-min_protocol", "TLSv1",
                            "-quiet"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not probe(control_port, "implicit", logout=False, timeout=5).ok:
            time.sleep(0.2)
        control = sslscan(control_port)
    finally:
        procs.signal_pid(srv.pid, 15)
        srv.wait(10)
    assert control.protocols.get("TLSv1.0") is True, control.out[:3000]
    assert weak_ciphers(control), control.out[:3000]

    p = edge([listener("imaps", "imap", "implicit"), listener("imap", "imap", "imap")])
    for port, args in ((port_of(p, "imaps"), ()), (port_of(p, "imap"), ("--starttls-imap",))):
        scan = sslscan(port, HOST, *args)
        assert scan.protocols == {"SSLv2": False, "SSLv3": False, "TLSv1.0": False, "TLSv1.1": False,
                                  "TLSv1.2": True, "TLSv1.3": True}, scan.out
        assert scan.ciphers, scan.out
        assert weak_ciphers(scan) == [], scan.out
        for proto, cipher, kx in scan.ciphers:
            if proto == "TLSv1.2" and cipher.startswith("DHE-"):
                assert "DHE 2048 bits" in kx, (cipher, kx)
        assert not scan.renegotiation_supported, scan.out
        assert not scan.compression_enabled, scan.out


# ----- check-config report ------------------------------------------------------------------------
def test_check_config_reports_the_effective_policy(tmp_path, pki):
    soon_cert, soon_key = issue_cert(pki, tmp_path, "soon", cn="soon.test", san="DNS:soon.test", days=10)
    cfg = tmp_path / "postern.yaml"
    cfg.write_text(f"""
listeners:
  - name: imaps
    protocol: imap
    listen: ["{HOST}:{free_port()}"]
    tls: implicit
    backend: {{ port: 143 }}
  - name: strict
    protocol: imap
    listen: ["{HOST}:{free_port()}"]
    tls: starttls-required
    tls_settings:
      min_version: "1.3"
      groups: "X25519:P-256"
      ciphersuites: "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"
      client_certificates: required
      client_ca_file: {pki.ca}
    backend: {{ port: 143 }}
tls:
  certificate: {pki.proxy_cert}
  key: {pki.proxy_key}
  ciphers: "ECDHE+CHACHA20:ECDHE+AESGCM"
  certificates:
    - {{ certificate: {pki.proxy_ecdsa_cert}, key: {pki.proxy_ecdsa_key} }}
    - {{ certificate: {soon_cert}, key: {soon_key}, server_names: [soon.test] }}
backends:
  - host: 127.0.0.2
    server_name: backend-b.test
    pins: ["3 1 1 {'ab' * 32}"]
map:
  default: {HOST}
""")
    rc, out = check_config(cfg)
    assert rc == 0, out
    imaps = out.split("listener imaps TLS policy")[1].split("listener strict TLS policy")[0]
    strict = out.split("listener strict TLS policy")[1].split("\nbackend ")[0]
    assert "versions: TLSv1.2 TLSv1.3" in imaps, imaps
    m = re.search(r"TLS 1.2 ciphers \(server order\): (.*)", imaps)
    assert m, imaps
    assert m.group(1).split() == [
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"], m.group(1)
    assert "groups: X25519 P-256 X448 P-521 P-384 ffdhe2048 ffdhe3072 ffdhe4096" in imaps, imaps
    assert "session resumption: tickets" in imaps, imaps
    assert re.search(r"certificate default: CN=localhost,O=Postern Tests .*\(RSA 2048\), expires \d{4}-\d\d-\d\d "
                     r"\(8\d\d days\)", imaps), imaps
    assert "certificate default: CN=localhost,O=Postern Tests ECDSA" in imaps and "(ECDSA 256)" in imaps, imaps
    assert re.search(r"certificate for soon.test: CN=soon.test,O=Postern Tests .*\((9|10) days\)", imaps), imaps
    assert "versions: TLSv1.3\n" in strict and "TLS 1.2 ciphers" not in strict, strict
    assert "TLS 1.3 ciphersuites: TLS_CHACHA20_POLY1305_SHA256 TLS_AES_256_GCM_SHA384" in strict, strict
    assert "groups: X25519 P-256\n" in strict, strict
    assert f"client certificates: required (CA {pki.ca})" in strict, strict
    assert "backend (default): verify chain (system CA store) and host name" in out, out
    assert "backend 127.0.0.2: verify chain (system CA store) and host name, server name backend-b.test, " \
           "1 pin(s), usage [3]" in out, out
    warnings = [x for x in out.splitlines() if x.startswith("warning:")]
    # The soon-expiring certificate is loaded by both listeners' policies.
    assert len(warnings) == 2 and all(f"certificate {soon_cert} (CN=soon.test,O=Postern Tests) expires in" in w
                                      for w in warnings), warnings


def test_run_warns_about_certificates_near_expiry(edge, pki, tmp_path):
    soon_cert, soon_key = issue_cert(pki, tmp_path / "soon", "soon", days=5)
    p = edge([listener("l", "imap", "implicit")], tls={"certificate": str(soon_cert), "key": str(soon_key)})
    assert probe(port_of(p, "l"), "implicit").ok
    warning = [x for x in p.log_text().splitlines() if "warning" in x and "expires in" in x]
    assert len(warning) == 1 and "listener l: certificate" in warning[0], p.log_tail()
