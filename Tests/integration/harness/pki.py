"""A throw-away test PKI, generated with the ``openssl`` command-line tool.

Files made in the target directory (kept if already there):

- ``ca.pem`` / ``ca.key``           test CA
- ``proxy.pem`` / ``proxy.key``     Postern's certificate (SAN DNS:localhost, IP:127.0.0.1, IP:::1)
- ``backend.pem`` / ``backend.key`` Dovecot's certificate (SAN DNS:localhost, DNS:backend-a.test,
                                    DNS:backend-b.test, IP:127.0.0.1, IP:127.0.0.2)
- ``wrong-ca.pem`` / ``wrong-ca.key`` an unrelated CA, for negative tests
- ``dh2048.pem``                    the RFC 7919 ffdhe2048 group as PEM "DH PARAMETERS"
- ``proxy-ecdsa.pem`` / ``.key``    an ECDSA (P-256) certificate with the proxy's names, next to the RSA one
- ``sni.pem`` / ``sni.key``         RSA certificate for another SNI name (DNS:mail.sni.test, DNS:*.wild.test)
- ``client.pem`` / ``client.key``   a client certificate (clientAuth, CN=client.test) from the test CA
- ``client-wrong.pem`` / ``.key``   a client certificate from the unrelated CA

``issue_cert`` makes more leaves from the test CA (another lifetime, subject or key) for single tests.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FILES = (
    "ca.pem", "ca.key", "proxy.pem", "proxy.key", "backend.pem", "backend.key",
    "wrong-ca.pem", "wrong-ca.key", "dh2048.pem",
    "proxy-ecdsa.pem", "proxy-ecdsa.key", "sni.pem", "sni.key", "client.pem", "client.key",
    "client-wrong.pem", "client-wrong.key",
)

PROXY_SAN = "DNS:localhost,IP:127.0.0.1,IP:::1"
BACKEND_SAN = "DNS:localhost,DNS:backend-a.test,DNS:backend-b.test,IP:127.0.0.1,IP:127.0.0.2"
SNI_NAME = "mail.sni.test"
SNI_SAN = "DNS:mail.sni.test,DNS:*.wild.test"


@dataclass(frozen=True)
class PKI:
    dir: Path

    def path(self, name: str) -> Path:
        return self.dir / name

    @property
    def ca(self) -> Path:
        return self.dir / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"

    @property
    def proxy_cert(self) -> Path:
        return self.dir / "proxy.pem"

    @property
    def proxy_key(self) -> Path:
        return self.dir / "proxy.key"

    @property
    def backend_cert(self) -> Path:
        return self.dir / "backend.pem"

    @property
    def backend_key(self) -> Path:
        return self.dir / "backend.key"

    @property
    def wrong_ca(self) -> Path:
        return self.dir / "wrong-ca.pem"

    @property
    def dh(self) -> Path:
        return self.dir / "dh2048.pem"

    @property
    def proxy_ecdsa_cert(self) -> Path:
        return self.dir / "proxy-ecdsa.pem"

    @property
    def proxy_ecdsa_key(self) -> Path:
        return self.dir / "proxy-ecdsa.key"

    @property
    def sni_cert(self) -> Path:
        return self.dir / "sni.pem"

    @property
    def sni_key(self) -> Path:
        return self.dir / "sni.key"

    @property
    def client_cert(self) -> Path:
        return self.dir / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.dir / "client.key"

    @property
    def wrong_client_cert(self) -> Path:
        return self.dir / "client-wrong.pem"

    @property
    def wrong_client_key(self) -> Path:
        return self.dir / "client-wrong.key"

    def client_context(self, ca: Path | None = None):
        """An ``ssl.SSLContext`` for clients that trusts the test CA (or ``ca``)."""
        import ssl

        ctx = ssl.create_default_context(cafile=str(ca or self.ca))
        return ctx


def _run(args: list[str], cwd: Path) -> None:
    p = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout}")


def _make_ca(d: Path, stem: str, cn: str) -> None:
    _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650",
          "-keyout", f"{stem}.key", "-out", f"{stem}.pem", "-subj", f"/O=Postern Tests/CN={cn}",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign",
          "-addext", "subjectKeyIdentifier=hash"], d)


def _make_leaf(d: Path, stem: str, cn: str, san: str | None, *, ca: str = "ca", days: int = 825,
               key: str = "rsa", usage: str = "serverAuth", org: str = "Postern Tests") -> None:
    """A leaf ``stem.pem``/``stem.key`` in ``d`` signed by ``ca`` (``ca.pem``/``ca.key``, relative to ``d``
    or absolute). ``key``: ``rsa`` (2048) or ``ecdsa`` (P-256); ``usage``: serverAuth or clientAuth."""
    ext = d / f"{stem}.ext"
    key_usage = "digitalSignature,keyEncipherment" if key == "rsa" else "digitalSignature"
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        f"keyUsage=critical,{key_usage}\n"
        f"extendedKeyUsage={usage}\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
        + (f"subjectAltName={san}\n" if san else "")
    )
    newkey = ["-newkey", "rsa:2048"] if key == "rsa" else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    _run(["openssl", "req", "-new", *newkey, "-nodes", "-sha256",
          "-keyout", f"{stem}.key", "-out", f"{stem}.csr", "-subj", f"/O={org}/CN={cn}"], d)
    _run(["openssl", "x509", "-req", "-in", f"{stem}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
          "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", str(days), "-sha256",
          "-extfile", ext.name, "-out", f"{stem}.pem"], d)
    (d / f"{stem}.csr").unlink()
    ext.unlink()


def issue_cert(pki: "PKI", directory, stem: str, cn: str = "localhost", san: str | None = PROXY_SAN, *,
               days: int = 825, key: str = "rsa", usage: str = "serverAuth",
               org: str = "Postern Tests") -> tuple[Path, Path]:
    """Another leaf from the test CA, written to ``directory``: (certificate, key)."""
    d = Path(directory).resolve()
    d.mkdir(parents=True, exist_ok=True)
    _make_leaf(d, stem, cn, san, ca=str(pki.dir / "ca"), days=days, key=key, usage=usage, org=org)
    os.chmod(d / f"{stem}.key", 0o600)
    return d / f"{stem}.pem", d / f"{stem}.key"


def _make_dh(d: Path) -> None:
    # RFC 7919 ffdhe2048: a fixed, well-known group, so no slow `openssl dhparam 2048`.
    _run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048",
          "-out", "dh2048.pem"], d)
    text = (d / "dh2048.pem").read_text()
    if not text.startswith("-----BEGIN DH PARAMETERS-----"):
        raise RuntimeError(f"unexpected DH parameter PEM:\n{text[:200]}")
    p = subprocess.run(["openssl", "pkeyparam", "-in", "dh2048.pem", "-noout", "-text"], cwd=d,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    if p.returncode != 0 or "2048 bit" not in p.stdout:
        raise RuntimeError(f"openssl pkeyparam rejects dh2048.pem:\n{p.stdout}")


def ensure_pki(directory: str | os.PathLike) -> PKI:
    """Create the test PKI in ``directory`` unless every file is already there."""
    d = Path(directory).resolve()
    d.mkdir(parents=True, exist_ok=True)
    if all((d / f).is_file() and (d / f).stat().st_size > 0 for f in FILES):
        return PKI(d)
    # Build in a scratch directory next to the target, then move the files in, so an
    # interrupted run never leaves a half-made set that later looks complete.
    with tempfile.TemporaryDirectory(dir=d, prefix=".pki-") as tmp:
        t = Path(tmp)
        _make_ca(t, "ca", "Postern Test CA")
        _make_leaf(t, "proxy", "localhost", PROXY_SAN)
        _make_leaf(t, "backend", "localhost", BACKEND_SAN)
        _make_ca(t, "wrong-ca", "Unrelated Test CA")
        _make_leaf(t, "proxy-ecdsa", "localhost", PROXY_SAN, key="ecdsa", org="Postern Tests ECDSA")
        _make_leaf(t, "sni", SNI_NAME, SNI_SAN)
        _make_leaf(t, "client", "client.test", None, key="ecdsa", usage="clientAuth")
        _make_leaf(t, "client-wrong", "stranger.test", None, ca="wrong-ca", key="ecdsa", usage="clientAuth")
        _make_dh(t)
        for f in FILES:
            os.replace(t / f, d / f)
    for f in FILES:
        if f.endswith(".key"):
            os.chmod(d / f, 0o600)
    return PKI(d)


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    print(ensure_pki(sys.argv[1] if len(sys.argv) > 1 else ".").dir)
