"""Cross-protocol defences (ALPACA, USENIX Security 2021; issue 12 item 4), with real ``openssl s_client``.

- A client that offers ALPN must offer the listener's protocol (``imap``, ``pop3``, ``managesieve``):
  ``-alpn http/1.1`` fails with the ``no_application_protocol`` alert, ``-alpn <proto>`` works, no
  ALPN works. The agreed protocol is in the session line (``client_alpn``) and counted as a
  ``no_application_protocol`` handshake failure when refused.
- ``tls.strict_sni: true`` refuses an SNI name no certificate serves (alert ``unrecognized_name``),
  accepts the default certificate's names, an SNI certificate's names and a client without SNI;
  ``tls_settings`` turns it on for one listener only.
- Towards a TLS backend Postern offers the listener's protocol by ALPN (a fake TLS backend records
  what it was offered).
"""

from __future__ import annotations

import socket
import ssl
import threading

import pytest

from harness.pki import SNI_NAME
from harness.ports import dead_port, free_port
from harness.postern import Postern, log_field
from harness.tlsprobe import probe

HOST = "127.0.0.1"
MODES = [("implicit", "imap"), ("imap", "imap"), ("pop3", "pop3"), ("sieve", "managesieve")]
MODE_IDS = ["implicit-imap", "starttls-imap", "starttls-pop3", "starttls-sieve"]
ALERT_NO_ALPN = "no application protocol"
ALERT_UNRECOGNIZED = "unrecognized name"


def listener(name: str, protocol: str, mode: str, backend: dict | None = None, **tls_settings) -> dict:
    d = {"name": name, "protocol": protocol, "listen": [f"{HOST}:{free_port()}"],
         "tls": "implicit" if mode == "implicit" else "starttls",
         "backend": backend or {"port": 143, "tls": "none"}}
    if tls_settings:
        d["tls_settings"] = tls_settings
    return d


def port_of(p: Postern, name: str) -> int:
    for lst in p.config["listeners"]:
        if lst["name"] == name:
            return int(lst["listen"][0].rsplit(":", 1)[1])
    raise KeyError(name)


@pytest.fixture
def edge(tmp_path, pki):
    """``edge(listeners, tls=None, map_default=None)`` -> a started Postern (no real backend needed)."""
    started: list[Postern] = []

    def make(listeners: list[dict], tls: dict | None = None, map_default: str | None = None) -> Postern:
        cfg = {
            "server": {"workers": 2, "admin_listen": f"{HOST}:{free_port()}", "log_level": "info"},
            "listeners": listeners,
            "tls": {"certificate": str(pki.proxy_cert), "key": str(pki.proxy_key), "dh_params": str(pki.dh),
                    **(tls or {})},
            "backend_tls": {"ca_file": str(pki.ca), "verify": False},
            "map": {"default": map_default or f"{HOST}:{dead_port(HOST)}"},
        }
        p = Postern(tmp_path / f"postern-{len(started) + 1}", cfg)
        started.append(p)
        return p.start()

    yield make
    for p in started:
        alive = p.running()
        p.stop()
        assert alive, f"postern in {p.state_dir} died during the test"


def session_line_for_alpn(p: Postern, listener_name: str, count: int) -> list[str]:
    import time
    deadline = time.monotonic() + 10
    lines = p.session_lines(listener_name)
    while len(lines) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        lines = p.session_lines(listener_name)
    assert len(lines) >= count, p.log_tail()
    return lines


# ----- ALPN towards clients ----------------------------------------------------------------------
@pytest.mark.parametrize("mode,protocol", MODES, ids=MODE_IDS)
def test_alpn_must_name_the_listeners_protocol(edge, mode, protocol):
    p = edge([listener("l", protocol, mode)])
    port = port_of(p, "l")
    other = probe(port, mode, "-alpn", "http/1.1")
    assert not other.ok, f"a client offering only http/1.1 completed the handshake:\n{other}"
    assert ALERT_NO_ALPN in other.out, other
    mixed = probe(port, mode, "-alpn", f"http/1.1,{protocol}")
    assert mixed.ok, mixed
    assert f"ALPN protocol: {protocol}" in mixed.out, mixed
    right = probe(port, mode, "-alpn", protocol)
    assert right.ok and f"ALPN protocol: {protocol}" in right.out, right
    none = probe(port, mode)
    assert none.ok and "No ALPN negotiated" in none.out, none
    lines = session_line_for_alpn(p, "l", 3)
    alpns = sorted(log_field(x, "client_alpn") for x in lines)
    # The refused handshake may or may not write a session line; the three that worked do.
    assert alpns.count(protocol) == 2 and "-" in alpns, lines
    failures = p.metric('postern_tls_handshake_failures_total{listener="l",reason="no_application_protocol"}')
    assert failures == 1, p.metrics_text()


def test_alpn_of_another_mail_protocol_is_refused_too(edge):
    p = edge([listener("imaps", "imap", "implicit"), listener("pop3", "pop3", "pop3")])
    assert ALERT_NO_ALPN in probe(port_of(p, "imaps"), "implicit", "-alpn", "pop3").out
    assert ALERT_NO_ALPN in probe(port_of(p, "pop3"), "pop3", "-alpn", "imap,managesieve").out
    assert probe(port_of(p, "pop3"), "pop3", "-alpn", "pop3").ok


# ----- strict SNI --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,protocol", [MODES[0], MODES[2]], ids=[MODE_IDS[0], MODE_IDS[2]])
def test_strict_sni_refuses_unknown_names(edge, pki, mode, protocol):
    tls = {"strict_sni": True,
           "certificates": [{"certificate": str(pki.sni_cert), "key": str(pki.sni_key), "server_names": [SNI_NAME]}]}
    p = edge([listener("l", protocol, mode)], tls=tls)
    port = port_of(p, "l")
    unknown = probe(port, mode, "-servername", "unknown.example")
    assert not unknown.ok, unknown
    assert ALERT_UNRECOGNIZED in unknown.out, unknown
    assert probe(port, mode, "-servername", "localhost").ok  # the default certificate's DNS name
    sni = probe(port, mode, "-servername", SNI_NAME)
    assert sni.ok and "mail.sni.test" in (sni.subject or "") + sni.out, sni
    assert probe(port, mode, "-noservername").ok  # no SNI at all: accepted
    failures = p.metric('postern_tls_handshake_failures_total{listener="l",reason="unrecognized_name"}')
    assert failures == 1, p.metrics_text()


def test_strict_sni_per_listener_and_off_by_default(edge):
    p = edge([listener("strict", "imap", "implicit", strict_sni=True), listener("lax", "imap", "implicit")])
    assert ALERT_UNRECOGNIZED in probe(port_of(p, "strict"), "implicit", "-servername", "unknown.example").out
    assert probe(port_of(p, "lax"), "implicit", "-servername", "unknown.example").ok


# ----- ALPN towards backends ---------------------------------------------------------------------
class FakeTLSBackend:
    """A TLS (implicit) backend on loopback that records the ALPN it was offered and then hangs up."""

    GREETING = {"imap": b"* OK fake\r\n", "pop3": b"+OK fake\r\n", "managesieve": b'"IMPLEMENTATION" "fake"\r\nOK\r\n'}

    def __init__(self, pki, protocol: str):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(pki.backend_cert), str(pki.backend_key))
        self.ctx.set_alpn_protocols(["imap", "pop3", "managesieve", "http/1.1"])
        self.protocol = protocol
        self.offered: list[str | None] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, free_port()))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            try:
                conn.settimeout(5)
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    self.offered.append(tls.selected_alpn_protocol())
                    tls.sendall(self.GREETING[self.protocol])
            except OSError:
                pass
            finally:
                conn.close()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.mark.parametrize("protocol,command", [("imap", b"a LOGIN alice secret\r\n"),
                                              ("pop3", b"USER alice\r\nPASS secret\r\n"),
                                              ("managesieve", b'AUTHENTICATE "PLAIN" "AGFsaWNlAHNlY3JldA=="\r\n')])
def test_postern_offers_the_listeners_protocol_to_tls_backends(edge, pki, protocol, command):
    backend = FakeTLSBackend(pki, protocol)
    try:
        lst = listener("l", protocol, "implicit", backend={"port": backend.port, "tls": "implicit"})
        if protocol == "pop3":
            lst["sasl"] = ["PLAIN"]
        p = edge([lst], map_default=f"{HOST}:{backend.port}")
        ctx = ssl.create_default_context(cafile=str(pki.ca))
        with socket.create_connection((HOST, port_of(p, "l")), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as c:
                c.recv(4096)  # greeting
                c.sendall(command)
                try:
                    while c.recv(4096):
                        if backend.offered:
                            break
                except OSError:
                    pass
        import time
        deadline = time.monotonic() + 10
        while not backend.offered and time.monotonic() < deadline:
            time.sleep(0.05)
        assert backend.offered and backend.offered[0] == protocol, (backend.offered, p.log_tail())
    finally:
        backend.stop()
