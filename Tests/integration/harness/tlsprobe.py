"""TLS probes with the real ``openssl s_client`` and ``sslscan`` tools, and what their output says.

``probe(port, mode, ...)`` connects with ``openssl s_client`` (implicit TLS, or ``-starttls imap``,
``pop3`` or ``sieve``), sends the protocol's logout once the handshake is done so that the server
ends the connection, and returns a :class:`Probe` with the negotiated protocol, cipher, temporary
key, peer certificate subject and whether the session was resumed. Every run has a timeout.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

# What each mode sends after the handshake to end the session politely.
LOGOUT = {"implicit": b"a LOGOUT\r\n", "imap": b"a LOGOUT\r\n", "pop3": b"QUIT\r\n", "sieve": b"LOGOUT\r\n"}

# A client cipher string that really offers TLS 1.0/1.1 suites: Debian's default security level
# would refuse them on the client side, and the refusal under test must be the server's.
OLD_PROTOCOL_CIPHERS = "DEFAULT:@SECLEVEL=0"


@dataclass
class Probe:
    rc: int
    out: str

    def _search(self, pattern: str) -> re.Match | None:
        return re.search(pattern, self.out, re.M)

    @property
    def session_line(self) -> re.Match | None:
        return self._search(r"^(New|Reused), (TLSv[\d.]+), Cipher is (\S+)")

    @property
    def ok(self) -> bool:
        """The handshake finished with a real cipher."""
        m = self.session_line
        return m is not None and m.group(3) not in ("(NONE)", "0000")

    @property
    def protocol(self) -> str | None:
        m = self.session_line
        return m.group(2) if m and self.ok else None

    @property
    def cipher(self) -> str | None:
        m = self.session_line
        return m.group(3) if m and self.ok else None

    @property
    def reused(self) -> bool:
        m = self.session_line
        return bool(m and m.group(1) == "Reused")

    @property
    def temp_key(self) -> str | None:
        m = self._search(r"^Server Temp Key: (.+)$")
        return m.group(1).strip() if m else None

    @property
    def subject(self) -> str | None:
        m = self._search(r"^subject=(.*)$")
        return m.group(1).strip() if m else None

    @property
    def peer_signature_type(self) -> str | None:
        m = self._search(r"^Peer signature type: (\S+)")
        return m.group(1) if m else None

    def __str__(self) -> str:  # for assertion messages
        return f"rc={self.rc}\n{self.out[-3000:]}"


def probe(port: int, mode: str = "implicit", *args: str, host: str = "127.0.0.1",
          timeout: float = 30.0, logout: bool = True) -> Probe:
    """``openssl s_client`` against ``host:port``; ``mode`` is ``implicit`` or a ``-starttls`` protocol."""
    cmd = ["openssl", "s_client", "-connect", f"{host}:{port}", "-ign_eof"]
    if mode != "implicit":
        cmd += ["-starttls", mode]
    cmd += list(args)
    stdin = LOGOUT[mode] if logout else b""
    try:
        p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return Probe(-1, (e.stdout or b"").decode("utf-8", "replace") + "\n[timed out]")
    return Probe(p.returncode, p.stdout.decode("utf-8", "replace"))


@dataclass
class Scan:
    """What ``sslscan`` found: protocols enabled, ciphers accepted, and its raw output."""

    protocols: dict[str, bool]
    ciphers: list[tuple[str, str, str]]  # (protocol, cipher, key exchange text)
    out: str

    @property
    def renegotiation_supported(self) -> bool:
        return bool(re.search(r"^\s*(Secure|Insecure) session renegotiation supported", self.out, re.M))

    @property
    def compression_enabled(self) -> bool:
        return bool(re.search(r"^Compression enabled", self.out, re.M))


def sslscan(port: int, host: str = "127.0.0.1", *args: str, timeout: float = 300.0) -> Scan:
    """``sslscan --no-colour`` against ``host:port`` (extra ``args`` e.g. ``--starttls-imap``)."""
    p = subprocess.run(["sslscan", "--no-colour", *args, f"{host}:{port}"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode("utf-8", "replace")
    protocols = {m.group(1): m.group(2) == "enabled"
                 for m in re.finditer(r"^(SSLv2|SSLv3|TLSv1\.[0-3])\s+(enabled|disabled)", out, re.M)}
    ciphers = [(m.group(2), m.group(3), m.group(4).strip())
               for m in re.finditer(r"^(Preferred|Accepted)\s+(\S+)\s+\d+ bits\s+(\S+)\s*(.*)$", out, re.M)]
    return Scan(protocols=protocols, ciphers=ciphers, out=out)


FORWARD_SECRET_TLS12 = re.compile(r"^(ECDHE|DHE)-")
AEAD = re.compile(r"(GCM|CHACHA20[-_]POLY1305)")
WEAK = re.compile(r"(NULL|EXP|RC4|DES|3DES|MD5|ADH|AECDH|anon|IDEA|SEED|CAMELLIA|ARIA|PSK|SRP)", re.I)


def weak_ciphers(scan: Scan) -> list[tuple[str, str, str]]:
    """Accepted ciphers that are not forward-secret AEAD suites (TLS 1.3 suites all are)."""
    bad = []
    for proto, cipher, kx in scan.ciphers:
        if proto == "TLSv1.3":
            if not AEAD.search(cipher) and "CCM" not in cipher:
                bad.append((proto, cipher, kx))
            continue
        if WEAK.search(cipher) or not FORWARD_SECRET_TLS12.match(cipher) or not AEAD.search(cipher):
            bad.append((proto, cipher, kx))
    return bad
