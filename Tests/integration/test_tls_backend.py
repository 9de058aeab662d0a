"""TLS towards real Dovecot backends (verification, host names, SNI, pins, mutual TLS, the plaintext
fallback) and the reload of client-facing TLS material while sessions are open.

Backends A (127.0.0.1) and B (127.0.0.2) present ``backend.pem`` from the test CA (SAN localhost,
backend-a.test, backend-b.test, 127.0.0.1, 127.0.0.2). Clients reach Postern over STARTTLS.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time

from harness import world
from harness.clients import RawIMAP
from harness.dovecot import Dovecot
from harness.pki import PROXY_SAN, SNI_NAME, issue_cert
from harness.ports import free_port
from harness.tlsprobe import probe

U = world.USERS
HOST = "127.0.0.1"


def der_sha256(command: str) -> str:
    """SHA-256 (hex) of the DER that a shell pipeline of openssl commands prints."""
    der = subprocess.run(["sh", "-c", command], stdout=subprocess.PIPE, check=True, timeout=30).stdout
    assert len(der) > 100, der
    return hashlib.sha256(der).hexdigest()


def spki_pin(cert) -> str:
    """A usage 3 pin of a certificate's public key: ``3 1 1 <sha256(SPKI)>``."""
    return "3 1 1 " + der_sha256(f"openssl x509 -in '{cert}' -noout -pubkey | openssl pkey -pubin -outform DER")


def full_cert_pin(usage: int, cert) -> str:
    """``usage 0 0 <DER of the certificate>``: the certificate itself, matched exactly."""
    der = subprocess.run(["openssl", "x509", "-in", str(cert), "-outform", "DER"], stdout=subprocess.PIPE,
                         check=True, timeout=30).stdout
    return f"{usage} 0 0 {der.hex()}"


def to_backends(backends, **overrides):
    """Listeners whose clients use STARTTLS and whose backends are reached with STARTTLS or implicit TLS."""
    return [
        world.listener("to-starttls", "imap", free_port(), "starttls", backends.a.imap_port, "starttls"),
        world.listener("to-implicit", "imap", free_port(), "starttls", backends.a.imaps_port, "implicit"),
    ]


def client(p, pki, listener: str) -> RawIMAP:
    c = RawIMAP(HOST, p.port(listener), context=pki.client_context())
    c.starttls(pki.client_context())
    return c


def login(p, pki, listener: str, user: str = "alice") -> str:
    with client(p, pki, listener) as c:
        _, tagged = c.cmd("l", f"LOGIN {user} {U[user]}")
        return tagged


def wait_log(p, needle: str, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [x for x in p.log_text().splitlines() if needle in x]
        if lines:
            return lines
        time.sleep(0.1)
    raise AssertionError(f"no log line with {needle!r}:\n{p.log_tail()}")


def assert_unavailable(p, pki, listener: str, error: str, user: str = "alice") -> None:
    """The login ends with NO [UNAVAILABLE] and a warning names the error (``backend unavailable`` for
    connection and TLS failures, ``backend login failed`` for a backend that refuses what Postern needs)."""
    tagged = login(p, pki, listener, user)
    assert tagged.startswith("l NO [UNAVAILABLE]"), tagged
    lines = wait_log(p, ' level=warning msg="backend ')
    assert any(error in x.lower() for x in lines), (error, lines)


# ----- verification ------------------------------------------------------------------------------
def test_correct_ca_passes_and_wrong_ca_fails(postern_factory, pki, backends):
    good = postern_factory(listeners=to_backends(backends), imap_listeners=())
    for listener in ("to-starttls", "to-implicit"):
        for user in ("alice", "bob"):  # bob's backend is 127.0.0.2: an IP SAN
            assert login(good, pki, listener, user).startswith("l OK"), (listener, user)
    bad = postern_factory(listeners=to_backends(backends), imap_listeners=(),
                          backend_tls={"ca_file": str(pki.wrong_ca)})
    for listener in ("to-starttls", "to-implicit"):
        assert_unavailable(bad, pki, listener, "certificate verification failed: unable to get local issuer")


def test_wrong_host_name_fails_and_the_right_one_passes(postern_factory, pki, backends):
    # alice's backend is 127.0.0.1; the names Postern checks come from the backends entries.
    p = postern_factory(listeners=to_backends(backends), imap_listeners=(), extra={"backends": [
        {"host": HOST, "server_name": "wrong.test"},
        {"host": "127.0.0.2", "server_name": "backend-b.test"},
    ]})
    for listener in ("to-starttls", "to-implicit"):
        assert_unavailable(p, pki, listener, "certificate verification failed: hostname mismatch")
        assert login(p, pki, listener, "bob").startswith("l OK"), listener


def test_pins(postern_factory, pki, backends):
    good_pin = spki_pin(pki.backend_cert)
    bad_pin = good_pin[:-4] + ("0000" if not good_pin.endswith("0000") else "1111")
    # Verification against a CA is off and the CA file is the wrong one: only the pins authenticate.
    p = postern_factory(listeners=to_backends(backends), imap_listeners=(),
                        backend_tls={"ca_file": str(pki.wrong_ca), "verify": False}, extra={"backends": [
                            {"host": HOST, "pins": [good_pin]},
                            {"host": "127.0.0.2", "pins": [bad_pin]},
                        ]})
    for listener in ("to-starttls", "to-implicit"):
        assert login(p, pki, listener, "alice").startswith("l OK"), listener
        assert_unavailable(p, pki, listener, "certificate verification failed: no matching dane tlsa records",
                           user="bob")
    logins = [x for x in backends.a.log_text().splitlines() if "Login: user=<alice>" in x]
    assert len(logins) == 2 and all(", TLS" in x for x in logins), logins


def test_trust_anchor_pin_and_tls_mode_per_backend(postern_factory, pki, backends):
    # A usage 2 pin given as the CA certificate itself; the entry also switches this backend
    # to implicit TLS on its imaps port, while the listener says none.
    lst = [world.listener("l", "imap", free_port(), "starttls", backends.a.imap_port, "none")]
    p = postern_factory(listeners=lst, imap_listeners=(), backend_tls={"verify": False},
                        map_lines=[f"alice {HOST}:{backends.a.imaps_port}", f"bob 127.0.0.2:{backends.b.imaps_port}"],
                        extra={"backends": [
                            {"host": f"{HOST}:{backends.a.imaps_port}", "tls": "implicit",
                             "pins": [full_cert_pin(2, pki.ca)]},
                            {"host": f"127.0.0.2:{backends.b.imaps_port}", "tls": "implicit",
                             "pins": [full_cert_pin(2, pki.wrong_ca)]},
                        ]})
    assert login(p, pki, "l", "alice").startswith("l OK")
    assert_unavailable(p, pki, "l", "certificate verification failed", user="bob")
    assert any("Login: user=<alice>" in x and ", TLS" in x for x in backends.a.log_text().splitlines())


# ----- SNI and mutual TLS ------------------------------------------------------------------------
def test_sni_and_client_certificate_towards_backend(postern_factory, pki, backends, tmp_path):
    # A backend that picks its certificate by SNI and requires a client certificate from the test CA.
    extra = f"""
local_name {SNI_NAME} {{
  ssl_cert = <{pki.sni_cert}
  ssl_key = <{pki.sni_key}
}}
ssl_ca = <{pki.ca}
ssl_verify_client_cert = yes
ssl_require_crl = no
auth_ssl_require_client_cert = yes
auth_ssl_username_from_cert = no
"""
    mtls = Dovecot(tmp_path / "backend-mtls", "BACKEND-MTLS", dict(U), pki=pki, address="127.0.0.3",
                   extra_config=extra)
    mtls.start()
    try:
        lst = [world.listener("l", "imap", free_port(), "starttls", mtls.imap_port, "starttls")]
        entry = {"host": "127.0.0.3", "server_name": SNI_NAME, "certificate": str(pki.client_cert),
                 "key": str(pki.client_key)}
        p = postern_factory(listeners=lst, imap_listeners=(), map_lines=["alice 127.0.0.3"],
                            extra={"backends": [entry]})
        # Only with SNI does Dovecot present the certificate for mail.sni.test that Postern checks.
        assert login(p, pki, "l").startswith("l OK")
        assert any("Login: user=<alice>" in x for x in mtls.log_text().splitlines()), mtls.log_text()[-2000:]

        no_cert = dict(entry)
        del no_cert["certificate"], no_cert["key"]
        q = postern_factory(listeners=[dict(lst[0], listen=[f"{HOST}:{free_port()}"])], imap_listeners=(),
                            map_lines=["alice 127.0.0.3"], extra={"backends": [no_cert]})
        # The backend's own refusal reaches the client.
        tagged = login(q, pki, "l")
        assert tagged.startswith("l NO") and "Client didn't present valid SSL certificate" in tagged, tagged
    finally:
        mtls.stop()


# ----- STARTTLS that the backend does not offer --------------------------------------------------
def test_missing_starttls_fails_closed_unless_fallback_is_allowed(postern_factory, pki, backends, tmp_path):
    plain = Dovecot(tmp_path / "backend-plain", "BACKEND-PLAIN", dict(U), ssl=False, address="127.0.0.3")
    plain.start()
    try:
        lst = [world.listener("l", "imap", free_port(), "starttls", plain.imap_port, "starttls")]
        closed = postern_factory(listeners=lst, imap_listeners=(), map_lines=["alice 127.0.0.3"])
        assert_unavailable(closed, pki, "l", "backend does not offer starttls; refusing to log in without tls")
        assert "Login: user=<alice>" not in plain.log_text()

        lst2 = [dict(lst[0], listen=[f"{HOST}:{free_port()}"])]
        fallback = postern_factory(listeners=lst2, imap_listeners=(), map_lines=["alice 127.0.0.3"],
                                   extra={"backends": [{"host": "127.0.0.3", "allow_plaintext_fallback": True}]})
        for attempt in range(2):
            assert login(fallback, pki, "l").startswith("l OK"), attempt
        warnings = [x for x in fallback.log_text().splitlines()
                    if " level=warning " in x and "WITHOUT TLS" in x and "backend=127.0.0.3" in x]
        assert len(warnings) == 2, "warned every time:\n" + fallback.log_tail()
        assert any("allow_plaintext_fallback is on" in x for x in fallback.log_text().splitlines())
        logins = [x for x in plain.log_text().splitlines() if "Login: user=<alice>" in x]
        assert len(logins) == 2, logins
    finally:
        plain.stop()


# ----- reload ------------------------------------------------------------------------------------
def test_reload_replaces_the_certificate_and_keeps_it_when_the_new_key_is_broken(postern_factory, pki, backends,
                                                                                  tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    cert, key = certs / "proxy.pem", certs / "proxy.key"
    shutil.copy(pki.proxy_cert, cert)
    shutil.copy(pki.proxy_key, key)
    p = postern_factory(tls={"certificate": str(cert), "key": str(key)})
    port = p.port("imaps")
    assert probe(port).subject == "O = Postern Tests, CN = localhost"

    session = RawIMAP(HOST, port, tls="implicit", context=pki.client_context())
    try:
        _, tagged = session.cmd("l", f"LOGIN alice {U['alice']}")
        assert tagged.startswith("l OK"), tagged

        new_cert, new_key = issue_cert(pki, tmp_path / "new", "new", cn="reloaded.test", san=PROXY_SAN)
        shutil.copy(new_key, key)
        shutil.copy(new_cert, cert)
        p.reload()
        wait_log(p, "generation=2")
        r = probe(port, "implicit", "-CAfile", str(pki.ca), "-verify_return_error")
        assert r.ok and r.subject == "O = Postern Tests, CN = reloaded.test", str(r)
        lines, tagged = session.cmd("s", "SELECT INBOX")
        assert tagged.startswith("s OK"), tagged
        lines, tagged = session.cmd("f", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        assert tagged.startswith("f OK") and b"Welcome alice on BACKEND-A" in b"".join(lines), lines

        key.write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
        p.reload()
        refused = wait_log(p, "reload refused")
        assert any(str(key) in x for x in refused), refused
        r = probe(port, "implicit", "-CAfile", str(pki.ca), "-verify_return_error")
        assert r.ok and r.subject == "O = Postern Tests, CN = reloaded.test", str(r)
        _, tagged = session.cmd("n", "NOOP")
        assert tagged.startswith("n OK"), tagged
        assert login(p, pki, "imap", "bob").startswith("l OK"), "new sessions still log in"
        session.cmd("o", "LOGOUT")
    finally:
        session.close()
    assert p.running()
