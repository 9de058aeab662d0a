"""A private Dovecot 2.3 instance, started from its own generated config file.

Each instance has its own state directory holding ``dovecot.conf``, ``passwd``, ``run/``
(base_dir), ``lib/`` (state_dir), ``dovecot.log`` and the users' homes with their
Maildirs. It listens on one address (127.0.0.1, 127.0.0.2, ...) on high ports, greets
with ``"<marker> ready."`` and is stopped by the pid of its master process. The
system's /etc/dovecot and its service are never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import procs
from .ports import free_port

def _mail_ids() -> tuple[int, int]:
    import pwd

    try:
        pw = pwd.getpwnam("mail")  # Debian's base-passwd system user (uid 8)
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return 8, 8


MAIL_UID, MAIL_GID = _mail_ids()

DOVECOT = os.environ.get("DOVECOT_BIN") or shutil.which("dovecot") or "/usr/sbin/dovecot"


def _require_dovecot() -> str:
    if not (os.path.isfile(DOVECOT) and os.access(DOVECOT, os.X_OK)):
        raise procs.ProcessError(
            f"dovecot not found ({DOVECOT}); run scripts/setup (apt: dovecot-imapd dovecot-pop3d "
            "dovecot-managesieved dovecot-sieve)")
    return DOVECOT


@dataclass
class DovecotPorts:
    imap: int
    imaps: int | None
    pop3: int
    pop3s: int | None
    sieve: int


@dataclass(eq=False)
class Dovecot:
    """One private Dovecot. ``users`` maps user name to clear-text password.

    ``ssl=False`` makes a backend without TLS (no STARTTLS, no imaps/pop3s) for negative
    tests. ``extra_config`` is appended verbatim to the generated dovecot.conf.
    ``oauth2_key`` (bytes) adds XOAUTH2 and OAUTHBEARER, validated locally by Dovecot's oauth2
    passdb: HS256 JWTs signed with that key, whose ``sub`` is the user (see harness/oauth.py).
    Ports left as ``None`` are allocated (free on ``address``).
    """

    state_dir: Path
    marker: str
    users: dict[str, str]
    pki: object | None = None  # harness.pki.PKI; required when ssl is True
    address: str = "127.0.0.1"
    ssl: bool = True
    imap_port: int | None = None
    imaps_port: int | None = None
    pop3_port: int | None = None
    pop3s_port: int | None = None
    sieve_port: int | None = None
    extra_config: str = ""
    oauth2_key: bytes | None = None
    start_timeout: float = 20.0
    proc: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _seq: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.state_dir = Path(self.state_dir).resolve()
        self._short_base: Path | None = None
        if self.ssl and self.pki is None:
            raise ValueError("a Dovecot with ssl needs the test PKI")
        a = self.address
        self.imap_port = self.imap_port or free_port(a)
        self.pop3_port = self.pop3_port or free_port(a)
        self.sieve_port = self.sieve_port or free_port(a)
        if self.ssl:
            self.imaps_port = self.imaps_port or free_port(a)
            self.pop3s_port = self.pop3s_port or free_port(a)
        else:
            self.imaps_port = self.pop3s_port = None

    # ----- paths -------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.state_dir / "dovecot.conf"

    @property
    def base_dir(self) -> Path:
        """Dovecot's base_dir (its UNIX sockets). Socket paths are limited to 107 bytes, so
        when ``state_dir/run`` is too long, a short directory under /tmp is used instead
        (linked from ``state_dir/run``, removed by stop())."""
        run = self.state_dir / "run"
        if len(str(run)) <= 60:
            return run
        if self._short_base is None:
            self._short_base = Path(tempfile.mkdtemp(prefix="postern-dv-", dir="/tmp"))
            os.chmod(self._short_base, 0o755)
        return self._short_base

    @property
    def log_path(self) -> Path:
        return self.state_dir / "dovecot.log"

    @property
    def ports(self) -> DovecotPorts:
        return DovecotPorts(self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port,
                            self.sieve_port)

    def home(self, user: str) -> Path:
        return self.state_dir / "home" / user

    def maildir(self, user: str) -> Path:
        return self.home(user) / "Maildir"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def greeting_marker(self) -> str:
        return f"{self.marker} ready."

    # ----- config ------------------------------------------------------------------------
    def _passwd_text(self) -> str:
        lines = []
        for user, password in self.users.items():
            if any(c in user for c in ":\n\r\t ") or any(c in password for c in ":\n\r"):
                raise ValueError(f"user {user!r}: ':' and line breaks cannot go in a passwd-file")
            # user:password:uid:gid:(gecos):home:(shell):extra
            # uid/gid left empty: mail_uid/mail_gid apply. "/./" makes the mail process
            # chroot to the homes directory (as root, before dropping to the mail user), so
            # the mail user need not traverse pytest's private (0700) temp directories.
            lines.append(f"{user}:{{PLAIN}}{password}::::{self.state_dir}/home/./{user}::")
        return "\n".join(lines) + "\n"

    def config_text(self) -> str:
        s = self.state_dir
        a = self.address
        ssl_block = (
            f"""ssl = yes
ssl_cert = <{self.pki.backend_cert}
ssl_key = <{self.pki.backend_key}
ssl_dh = <{self.pki.dh}
ssl_min_protocol = TLSv1.2
ssl_prefer_server_ciphers = yes
"""
            if self.ssl
            else "ssl = no\n"
        )
        imaps = (f"  inet_listener imaps {{\n    address = {a}\n    port = {self.imaps_port}\n    ssl = yes\n  }}\n"
                 if self.ssl else "  inet_listener imaps {\n    port = 0\n  }\n")
        pop3s = (f"  inet_listener pop3s {{\n    address = {a}\n    port = {self.pop3s_port}\n    ssl = yes\n  }}\n"
                 if self.ssl else "  inet_listener pop3s {\n    port = 0\n  }\n")
        return f"""# Generated by Tests/integration/harness/dovecot.py for a private test instance.
# Not the system Dovecot: its own base_dir, state_dir and log, on {a} only.
instance_name = postern-test-{self.marker}
base_dir = {self.base_dir}
state_dir = {s}/lib
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}
log_timestamp = "%Y-%m-%d %H:%M:%S "

protocols = imap pop3 sieve
listen = {a}
login_greeting = {self.greeting_marker}
# Postern connects from 127.0.0.1 and may forward the client's address (ID / XCLIENT).
login_trusted_networks = 127.0.0.0/8
shutdown_clients = yes
verbose_proctitle = yes

# Started as root; helper users exist after install. Mail is never accessed as root
# (Dovecot refuses): the Debian system user "mail" owns the homes, chrooted to home/.
default_internal_user = dovecot
default_login_user = dovenull
mail_uid = {MAIL_UID}
mail_gid = {MAIL_GID}
first_valid_uid = {MAIL_UID}
first_valid_gid = {MAIL_GID}
valid_chroot_dirs = {s}/home

# Many connections from one IP (the proxy), quickly.
default_process_limit = 100
default_client_limit = 6000
default_vsz_limit = 1G
mail_max_userip_connections = 100000

# No delays for wrong passwords: every test client is the proxy at 127.0.0.1.
auth_failure_delay = 0
auth_cache_size = 0
auth_mechanisms = plain login{" xoauth2 oauthbearer" if self.oauth2_key else ""}
disable_plaintext_auth = no
auth_verbose = yes
auth_verbose_passwords = no
auth_debug_passwords = no

{ssl_block}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {s}/passwd
}}
{self._oauth2_passdb()}userdb {{
  driver = passwd-file
  args = username_format=%u {s}/passwd
}}
mail_location = maildir:~/Maildir
mail_fsync = never
maildir_very_dirty_syncs = no
pop3_uidl_format = %08Xu%08Xv

service anvil {{
  client_limit = 20000
  # Without this socket the auth process disables its per-IP failure penalty.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  user = root
  client_limit = 10000
}}
service imap-login {{
  inet_listener imap {{
    address = {a}
    port = {self.imap_port}
  }}
{imaps}  service_count = 0
  process_min_avail = 2
  process_limit = 64
  client_limit = 3000
}}
service pop3-login {{
  inet_listener pop3 {{
    address = {a}
    port = {self.pop3_port}
  }}
{pop3s}  service_count = 0
  process_min_avail = 1
  client_limit = 3000
}}
service managesieve-login {{
  inet_listener sieve {{
    address = {a}
    port = {self.sieve_port}
  }}
  service_count = 0
  process_min_avail = 1
  client_limit = 3000
}}
service imap {{
  process_limit = 3000
}}
service pop3 {{
  process_limit = 3000
}}
service managesieve {{
  process_limit = 3000
}}
protocol sieve {{
  managesieve_logout_format = bytes=%i/%o
}}
plugin {{
  sieve = file:~/sieve;active=~/.dovecot.sieve
}}
{self.extra_config}
"""

    @property
    def oauth2_dir(self) -> Path:
        return self.state_dir / "oauth2"

    def _oauth2_passdb(self) -> str:
        """The oauth2 passdb (Dovecot 2.3.11+ local JWT validation), after passwd-file."""
        if not self.oauth2_key:
            return ""
        return f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {self.oauth2_dir}/dovecot-oauth2.conf.ext
}}
"""

    def _write_oauth2(self) -> None:
        """The validation key (base64, looked up as /shared/<azp>/<alg>/<kid>) and the passdb settings."""
        import base64

        if not self.oauth2_key:
            return
        keys = self.oauth2_dir / "keys"
        (keys / "default" / "HS256").mkdir(parents=True, exist_ok=True)
        (keys / "default" / "HS256" / "default").write_text(base64.b64encode(self.oauth2_key).decode())
        (self.oauth2_dir / "dovecot-oauth2.conf.ext").write_text(
            "introspection_mode = local\n"
            f"local_validation_key_dict = fs:posix:prefix={keys}/\n"
            "username_attribute = sub\n")

    def _mkdir_mail(self, path: Path) -> None:
        """Create ``path`` (under home/) and its missing parents owned by the mail user."""
        home_root = self.state_dir / "home"
        todo = []
        p = path
        while p != home_root and not p.exists():
            todo.append(p)
            p = p.parent
        for d in reversed(todo):
            d.mkdir(mode=0o700, exist_ok=True)
            os.chown(d, MAIL_UID, MAIL_GID)

    def write_config(self) -> None:
        s = self.state_dir
        for d in (s, self.base_dir, s / "lib", s / "home"):
            d.mkdir(parents=True, exist_ok=True)
        run = s / "run"
        if self.base_dir != run:
            if run.is_symlink():
                run.unlink()
            run.symlink_to(self.base_dir)
        self._write_oauth2()
        (s / "passwd").write_text(self._passwd_text())
        os.chmod(s / "passwd", 0o600)
        for user in self.users:
            for sub in ("cur", "new", "tmp"):
                self._mkdir_mail(self.maildir(user) / sub)
        self.config_path.write_text(self.config_text())

    # ----- life cycle ----------------------------------------------------------------------
    def start(self) -> "Dovecot":
        if self.proc is not None and self.proc.poll() is None:
            return self
        binary = _require_dovecot()
        self.write_config()
        self._stderr = open(self.state_dir / "dovecot.stderr", "ab")
        self.proc = subprocess.Popen([binary, "-F", "-c", str(self.config_path)],
                                     stdin=subprocess.DEVNULL, stdout=self._stderr,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        procs.register(self)
        (self.state_dir / "dovecot.pid").write_text(f"{self.proc.pid}\n")
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
                raise procs.ProcessError(
                    f"dovecot {self.marker} exited with {self.proc.returncode}:\n{self.diagnostics()}")
            try:
                with socket.create_connection((self.address, self.imap_port), timeout=2) as s:
                    s.settimeout(5)
                    line = s.recv(4096).decode("utf-8", "replace")
                    if self.greeting_marker in line:
                        try:
                            s.sendall(b"z LOGOUT\r\n")
                        except OSError:
                            pass
                        # The other login services start together with imap-login; check them too.
                        for port in (self.pop3_port, self.sieve_port):
                            with socket.create_connection((self.address, port), timeout=2):
                                pass
                        return
                    last = line
            except OSError as e:
                last = str(e)
            time.sleep(0.1)
        raise procs.ProcessError(
            f"dovecot {self.marker} not ready on {self.address}:{self.imap_port} in "
            f"{self.start_timeout}s (last: {last!r}):\n{self.diagnostics()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def begin_stop(self) -> None:
        """Send SIGTERM to the master without waiting (stop() then waits): lets several
        instances shut down in parallel (a Dovecot master takes about a second)."""
        p = self.proc
        if p is not None and p.poll() is None and getattr(self, "_stop_kids", None) is None:
            self._stop_kids = procs.descendants_of(p.pid)
            procs.signal_pid(p.pid, signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the master (it stops its children), then SIGKILL of the tree if needed."""
        p = self.proc
        if p is None:
            return
        self.begin_stop()
        kids = getattr(self, "_stop_kids", None) or []
        if p.poll() is None:
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                procs.kill_tree(p.pid)
                p.wait(10)
        # The master normally takes its children with it; make sure, by pid.
        if kids and not procs.wait_gone(kids, 5):
            left = [k for k in kids if procs.alive(k)]
            for k in left:
                procs.signal_pid(k, signal.SIGKILL)
            procs.wait_gone(left, 5)
        self._close()

    def kill(self) -> list[int]:
        """SIGKILL the master and every process under it (a crashed backend host)."""
        p = self.proc
        if p is None or p.poll() is not None:
            return []
        victims = procs.kill_tree(p.pid)
        p.wait(10)
        procs.wait_gone(victims, 10)
        self._close()
        return victims

    def _close(self) -> None:
        self._stop_kids = None
        procs.unregister(self)
        if self._short_base is not None:
            shutil.rmtree(self._short_base, ignore_errors=True)
            self._short_base = None
        f = getattr(self, "_stderr", None)
        if f is not None:
            f.close()
            self._stderr = None

    def child_pids(self) -> list[int]:
        return procs.descendants_of(self.proc.pid) if self.running() else []

    def session_pids(self, kind: str = "imap") -> list[int]:
        """Pids of the post-login processes (``imap``, ``pop3``, ``managesieve``)."""
        out = []
        for pid in self.child_pids():
            try:
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm == kind:
                out.append(pid)
        return out

    # ----- mail ----------------------------------------------------------------------------
    def deliver(self, user: str, message: bytes | None = None, *, from_file: Path | None = None) -> Path:
        """Put a message into ``user``'s INBOX as a new Maildir file; UIDs follow delivery order.

        ``from_file`` (a message file with CRLF line ends) is hard-linked when it is on the
        same file system (Dovecot never rewrites message files), else copied: big test
        messages then cost no disk space per test.
        """
        if user not in self.users:
            raise KeyError(user)
        if (message is None) == (from_file is None):
            raise ValueError("give message or from_file")
        md = self.maildir(user)
        for sub in ("cur", "new", "tmp"):
            self._mkdir_mail(md / sub)
        if message is not None and b"\r\n" not in message:
            message = message.replace(b"\n", b"\r\n")
        size = len(message) if message is not None else Path(from_file).stat().st_size
        self._seq += 1
        # Dovecot orders new files by the time in their names: make it strictly increasing.
        secs, usecs = int(time.time()), self._seq
        name = f"{secs}.M{usecs:06d}P{os.getpid()}Q{self._seq}.postern-test,S={size}"
        tmp = md / "tmp" / name
        if message is not None:
            with open(tmp, "wb") as f:
                f.write(message)
        else:
            try:
                os.link(from_file, tmp)
            except OSError:
                shutil.copyfile(from_file, tmp)
        os.chown(tmp, MAIL_UID, MAIL_GID)
        dest = md / "new" / name
        os.rename(tmp, dest)
        return dest

    # ----- diagnostics ---------------------------------------------------------------------
    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def diagnostics(self, lines: int = 40) -> str:
        out = []
        for f in (self.state_dir / "dovecot.stderr", self.log_path):
            try:
                tail = f.read_text(errors="replace").splitlines()[-lines:]
            except FileNotFoundError:
                continue
            out.append(f"--- {f} (tail) ---\n" + "\n".join(tail))
        return "\n".join(out)


def make_message(subject: str, body: str = "", *, sender: str = "test@postern.test",
                 to: str = "user@postern.test", size: int | None = None, seed: int = 0) -> bytes:
    """An RFC 5322 message with CRLF line ends; ``size`` pads the body to exactly that many bytes
    with base64 lines of seeded random data."""
    import base64
    import hashlib
    import random

    mid = hashlib.sha256(f"{subject}/{seed}".encode()).hexdigest()[:24]
    head = (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <{mid}@postern.test>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n").encode()
    text = (body or subject).encode() + b"\r\n"
    msg = head + text
    if size is not None and size > len(msg):
        need = size - len(msg)
        raw = random.Random(seed).randbytes(need * 3 // 4 + 3)
        pad = base64.encodebytes(raw).replace(b"\n", b"\r\n")[:need]
        if len(pad) >= 2:
            pad = pad[:-2] + b"\r\n"
        msg += pad
    return msg
