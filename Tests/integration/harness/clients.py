"""Small protocol clients for tests: a raw line-level IMAP client (plain, STARTTLS or
implicit TLS), and wrappers around the ``openssl s_client`` and ``curl`` command-line tools.

Every read has a timeout and every loop a bound. Passwords are never printed: curl gets
its credentials on stdin (``-K -``), not on its command line.
"""

from __future__ import annotations

import base64
import re
import socket
import ssl
import struct
import subprocess
import time

CRLF = b"\r\n"
_LITERAL_AT_END = re.compile(rb"\{(\d+)\+?\}\r\n$")


class ClosedError(ConnectionError):
    """The server closed the connection (EOF) while a reply was expected."""


class RawIMAP:
    """A byte-level IMAP client: you send exact bytes and read exact lines.

    ``tls="implicit"`` wraps the socket at once; ``starttls()`` upgrades later.
    Response lines ending in a literal ``{n}`` have the literal appended, as imaplib does.
    """

    def __init__(self, host: str, port: int, *, tls: str | None = None,
                 context: ssl.SSLContext | None = None, server_hostname: str | None = None,
                 timeout: float = 15.0, read_greeting: bool = True,
                 source: str | None = None, preamble: bytes | None = None):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        if preamble:  # e.g. a PROXY protocol header, before anything else (TLS included)
            self.sock.sendall(preamble)
        self.buf = b""
        self.context = context
        self.server_hostname = server_hostname or host
        if tls == "implicit":
            self._wrap()
        self.greeting = self.readline().decode("utf-8", "replace") if read_greeting else ""

    # ----- transport -------------------------------------------------------------------------
    def _wrap(self) -> None:
        if self.context is None:
            raise ValueError("TLS needs an SSLContext")
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.server_hostname)

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no reply in time; buffered: {self.buf[:300]!r}")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout as e:
            raise TimeoutError(f"no reply in time; buffered: {self.buf[:300]!r}") from e
        if not chunk:
            raise ClosedError(f"connection closed by server; buffered: {self.buf[:300]!r}")
        self.buf += chunk

    def readline(self, timeout: float | None = None, max_bytes: int = 64 * 1024 * 1024) -> bytes:
        """One CRLF-terminated line (without the CRLF)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n" not in self.buf:
            if len(self.buf) > max_bytes:
                raise ValueError("line too long")
            self._fill(deadline)
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def readexact(self, n: int, timeout: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response_line(self, timeout: float | None = None) -> bytes:
        """A logical response line: a line plus any literals it announces."""
        deadline = time.monotonic() + (timeout or self.timeout)
        out = b""
        for _ in range(100_000):
            line = self.readline(max(0.01, deadline - time.monotonic())) + CRLF
            out += line
            m = _LITERAL_AT_END.search(line)
            if not m:
                return out[:-2]
            out += self.readexact(int(m.group(1)), max(0.01, deadline - time.monotonic()))
        raise ValueError("too many literals in one response")

    def read_until_tagged(self, tag: str, timeout: float | None = None) -> tuple[list[bytes], str]:
        """Read responses until the tagged one for ``tag``: (untagged/continuation lines, tagged line)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        lines: list[bytes] = []
        t = tag.encode() + b" "
        for _ in range(1_000_000):
            line = self.read_response_line(max(0.01, deadline - time.monotonic()))
            if line.startswith(t):
                return lines, line.decode("utf-8", "replace")
            lines.append(line)
        raise ValueError("too many response lines")

    def cmd(self, tag: str, text: str, timeout: float | None = None) -> tuple[list[bytes], str]:
        self.send(f"{tag} {text}\r\n")
        return self.read_until_tagged(tag, timeout)

    def starttls(self, context: ssl.SSLContext | None = None, tag: str = "st") -> str:
        if context is not None:
            self.context = context
        self.send(f"{tag} STARTTLS\r\n")
        _, tagged = self.read_until_tagged(tag)
        if not tagged.startswith(f"{tag} OK"):
            raise AssertionError(f"STARTTLS refused: {tagged}")
        if self.buf:
            raise AssertionError(f"plaintext bytes after STARTTLS OK: {self.buf!r}")
        self._wrap()
        return tagged

    def read_all(self, timeout: float = 10.0, limit: int = 16 * 1024 * 1024) -> tuple[bytes, str]:
        """Read until EOF, reset or timeout: (bytes, how it ended: "eof" | "reset" | "timeout")."""
        deadline = time.monotonic() + timeout
        data, self.buf = self.buf, b""
        while len(data) < limit:
            left = deadline - time.monotonic()
            if left <= 0:
                return data, "timeout"
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return data, "timeout"
            except (ConnectionResetError, BrokenPipeError):
                return data, "reset"
            except ssl.SSLError:
                return data, "reset"
            if not chunk:
                return data, "eof"
            data += chunk
        return data, "limit"

    def read_until_any(self, markers: tuple[bytes, ...], timeout: float = 10.0) -> tuple[bytes, str]:
        """Read until one of ``markers`` shows up, or EOF/reset/timeout: (bytes, how)."""
        deadline = time.monotonic() + timeout
        data, self.buf = self.buf, b""
        for _ in range(1_000_000):
            if any(m in data for m in markers):
                return data, "found"
            left = deadline - time.monotonic()
            if left <= 0:
                return data, "timeout"
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return data, "timeout"
            except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
                return data, "reset"
            if not chunk:
                return data, "eof"
            data += chunk
        return data, "limit"

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self) -> None:
        """Close with SO_LINGER {1, 0}: the kernel sends a TCP RST."""
        abort_socket(self.sock)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def abort_socket(sock: socket.socket) -> None:
    try:
        # Works on an SSLSocket too; closing it this way sends no TLS close_notify.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def sasl_plain(user: str, password: str, authzid: str = "") -> str:
    return base64.b64encode(f"{authzid}\0{user}\0{password}".encode()).decode()


def imap_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def capabilities(line: str | bytes) -> set[str]:
    """Capability names from a greeting/tagged ``[CAPABILITY ...]`` code or a ``* CAPABILITY`` line."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", "replace")
    m = re.search(r"\[CAPABILITY ([^\]]*)\]", line, re.I)
    if m:
        return set(m.group(1).upper().split())
    m = re.match(r"\* CAPABILITY (.*)$", line, re.I)
    if m:
        return set(m.group(1).upper().split())
    return set()


# ----- openssl s_client ------------------------------------------------------------------------
def s_client(host: str, port: int, *args: str, timeout: float = 30.0,
             stdin: bytes = b"") -> tuple[int, str]:
    """``openssl s_client -connect HOST:PORT ARGS`` with ``stdin`` as input; (rc, output)."""
    cmd = ["openssl", "s_client", "-connect", f"{host}:{port}", *args]
    p = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def s_client_cipher(output: str) -> str | None:
    """The negotiated cipher from s_client's output (``Cipher is X`` / ``Cipher    : X``)."""
    m = re.search(r"Cipher is (\S+)", output) or re.search(r"^\s*Cipher\s*:\s*(\S+)", output, re.M)
    if not m or m.group(1) in ("(NONE)", "0000"):
        return None
    return m.group(1)


# ----- curl ------------------------------------------------------------------------------------
def curl(url: str, user: str, password: str, *args: str, timeout: float = 60.0) -> tuple[int, bytes, str]:
    """curl with credentials passed on stdin as a config file; (rc, body, stderr)."""
    def q(s: str) -> str:
        return s.replace("\\", "\\\\").replace('"', '\\"')

    conf = f'user = "{q(user)}:{q(password)}"\n'.encode()
    p = subprocess.run(["curl", "-sS", "--max-time", str(int(timeout)), "-K", "-", *args, url],
                       input=conf, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 10)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")
