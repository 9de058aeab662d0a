"""A private OpenLDAP slapd 2.5 for tests: generated slapd.conf, data loaded with slapadd.

``Slapd(state_dir, entries)`` writes ``slapd.conf`` (core, cosine, inetorgperson, misc and a small
``postern.schema`` with ``mailPort`` and ``mailUser``), loads the suffix, a bind account and the
given user entries with ``slapadd``, and runs ``slapd -d 0 -h ldap://127.0.0.1:PORT/`` (plus an
``ldaps://`` URL when TLS material is given) in the foreground, in its own state directory.
It is stopped by its pid. ``stop()`` then ``start()`` brings the same directory back on the
same ports (the database persists in the state directory).

The directory answers anonymous searches and simple binds as ``BIND_DN`` / ``BIND_PASSWORD``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import procs
from .ports import free_port

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SUFFIX = "dc=postern,dc=test"
PEOPLE = f"ou=people,{SUFFIX}"
BIND_DN = f"cn=postern,{SUFFIX}"
BIND_PASSWORD = "bind-Secret-42"
ROOT_DN = f"cn=admin,{SUFFIX}"

SCHEMA = """\
# Postern's test attributes: the backend port and the backend login name of a mailbox.
attributetype ( 1.3.6.1.4.1.57264.1.1 NAME 'mailPort'
    DESC 'Port of the mailbox server'
    EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
attributetype ( 1.3.6.1.4.1.57264.1.2 NAME 'mailUser'
    DESC 'Login name on the mailbox server'
    EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.57264.2.1 NAME 'posternMailbox'
    DESC 'Where a mailbox lives' SUP top AUXILIARY
    MAY ( mailHost $ mailPort $ mailUser ) )
"""


@dataclass
class Person:
    """One user entry: ``uid`` under ou=people, with the mail routing attributes."""

    uid: str
    mail_host: str | None = None
    mail_port: int | None = None
    mail_user: str | None = None
    mail: str | None = None


def _ldif_value(key: str, value: str) -> str:
    safe = value and value[0] not in " :<" and value[-1] != " " and all(
        0x20 <= ord(c) < 0x7f for c in value)
    if safe:
        return f"{key}: {value}"
    import base64

    return f"{key}:: {base64.b64encode(value.encode()).decode()}"


def entries_ldif(people: list[Person]) -> str:
    blocks = [
        f"dn: {SUFFIX}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\n"
        "o: Postern Tests\ndc: postern\n",
        f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {BIND_DN}\nobjectClass: person\nobjectClass: simpleSecurityObject\ncn: postern\n"
        f"sn: postern\nuserPassword: {BIND_PASSWORD}\n",
    ]
    for p in people:
        lines = [f"dn: uid={p.uid},{PEOPLE}", "objectClass: inetOrgPerson",
                 "objectClass: posternMailbox", _ldif_value("uid", p.uid),
                 _ldif_value("cn", p.uid), _ldif_value("sn", p.uid)]
        if p.mail:
            lines.append(_ldif_value("mail", p.mail))
        if p.mail_host:
            lines.append(_ldif_value("mailHost", p.mail_host))
        if p.mail_port:
            lines.append(f"mailPort: {p.mail_port}")
        if p.mail_user:
            lines.append(_ldif_value("mailUser", p.mail_user))
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


class Slapd:
    def __init__(self, state_dir, people: list[Person], *, host: str = "127.0.0.1",
                 port: int | None = None, tls: tuple[Path, Path, Path] | None = None,
                 start_timeout: float = 20.0, debug: int = 0):
        """``tls`` = (CA file, certificate, key) enables StartTLS and an ldaps:// listener.
        ``debug`` is slapd's ``-d`` level (256, "stats", logs every operation to the log)."""
        self.debug = debug
        self.state_dir = Path(state_dir).resolve()
        self.people = list(people)
        self.host = host
        self.port = port or free_port(host)
        self.tls = tls
        self.tls_port = free_port(host) if tls else None
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self._log = None
        self._loaded = False

    # ----- paths and URLs ------------------------------------------------------------------
    @property
    def uri(self) -> str:
        return f"ldap://{self.host}:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        if not self.tls_port:
            raise ValueError("this slapd has no TLS")
        return f"ldaps://{self.host}:{self.tls_port}"

    @property
    def conf_path(self) -> Path:
        return self.state_dir / "slapd.conf"

    @property
    def log_path(self) -> Path:
        return self.state_dir / "slapd.log"

    def config_text(self) -> str:
        s = self.state_dir
        tls = ""
        if self.tls:
            ca, cert, key = self.tls
            tls = (f"TLSCACertificateFile {ca}\nTLSCertificateFile {cert}\n"
                   f"TLSCertificateKeyFile {key}\n")
        return f"""\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/misc.schema
include {s}/postern.schema
pidfile {s}/slapd.pid
argsfile {s}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
# Perdition 2.2's LDAP map (compared against in the tests) binds with LDAPv2.
allow bind_v2
{tls}
database mdb
maxsize 67108864
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw admin-Secret-7
directory {s}/db
index uid eq
access to attrs=userPassword by anonymous auth by * none
access to * by * read
"""

    def write_config(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "db").mkdir(exist_ok=True)
        (self.state_dir / "postern.schema").write_text(SCHEMA)
        self.conf_path.write_text(self.config_text())

    def load(self) -> None:
        """Write the config and load the entries with slapadd (once)."""
        if self._loaded:
            return
        self.write_config()
        ldif = self.state_dir / "data.ldif"
        ldif.write_text(entries_ldif(self.people))
        p = subprocess.run([SLAPADD, "-f", str(self.conf_path), "-l", str(ldif)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        if p.returncode != 0:
            raise procs.ProcessError(f"slapadd failed ({p.returncode}):\n{p.stdout.decode(errors='replace')}")
        self._loaded = True

    # ----- life cycle ----------------------------------------------------------------------
    def start(self) -> "Slapd":
        if self.running():
            return self
        if not os.access(SLAPD, os.X_OK):
            raise procs.ProcessError(f"{SLAPD} not found: run scripts/setup")
        self.load()
        urls = f"ldap://{self.host}:{self.port}/"
        if self.tls_port:
            urls += f" ldaps://{self.host}:{self.tls_port}/"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([SLAPD, "-d", str(self.debug), "-f", str(self.conf_path), "-h", urls],
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        procs.register(self)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise procs.ProcessError(f"slapd exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    pass
                if self.search(f"(uid={self.people[0].uid})" if self.people else "(cn=postern)",
                               timeout=5)[0] == 0:
                    return
            except OSError as e:
                last = str(e)
            time.sleep(0.1)
        raise procs.ProcessError(f"slapd not ready on {self.uri} ({last}):\n{self.log_tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            procs.signal_pid(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                procs.signal_pid(p.pid, signal.SIGKILL)
                p.wait(10)
        procs.unregister(self)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    # ----- inspection ----------------------------------------------------------------------
    def search(self, filt: str, *attrs: str, timeout: float = 10) -> tuple[int, str]:
        """``ldapsearch -x`` against this directory: (exit code, output)."""
        p = subprocess.run(["ldapsearch", "-x", "-LLL", "-o", f"nettimeout={int(timeout)}",
                            "-H", self.uri, "-b", PEOPLE, filt, *attrs],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout + 5)
        return p.returncode, p.stdout.decode(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def require_tools() -> list[str]:
    return [t for t in (SLAPD, SLAPADD) if not os.access(t, os.X_OK)] + \
        [t for t in ("ldapsearch",) if shutil.which(t) is None]
