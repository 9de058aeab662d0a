"""Raw line-level POP3 and ManageSieve clients for tests (plain, STLS/STARTTLS, implicit TLS),
built on the byte-level transport of :class:`harness.clients.RawIMAP`. Every read has a timeout.
"""

from __future__ import annotations

import ssl

from .clients import CRLF, RawIMAP


class RawPOP3(RawIMAP):
    """POP3: ``greeting`` is the server's first line; ``cmd`` sends a line and returns the status
    line; ``multiline`` reads a dot-terminated body (dot-unstuffed, CRLF kept)."""

    def cmd(self, text: str | bytes, timeout: float | None = None) -> str:  # type: ignore[override]
        self.send((text.encode() if isinstance(text, str) else text) + CRLF)
        return self.readline(timeout).decode("utf-8", "replace")

    def multiline(self, timeout: float | None = None, max_lines: int = 10_000_000) -> bytes:
        out = bytearray()
        for _ in range(max_lines):
            line = self.readline(timeout)
            if line == b".":
                return bytes(out)
            if line.startswith(b"."):
                line = line[1:]
            out += line + CRLF
        raise ValueError("multi-line response too long")

    def capa(self) -> list[str]:
        status = self.cmd("CAPA")
        assert status.startswith("+OK"), status
        return self.multiline().decode().split("\r\n")[:-1]

    def stls(self, context: ssl.SSLContext | None = None) -> str:
        if context is not None:
            self.context = context
        status = self.cmd("STLS")
        if not status.startswith("+OK"):
            raise AssertionError(f"STLS refused: {status}")
        if self.buf:
            raise AssertionError(f"plaintext bytes after STLS +OK: {self.buf!r}")
        self._wrap()
        return status


def sieve_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RawSieve(RawIMAP):
    """ManageSieve: ``greeting_lines`` is the capability block up to and including its OK line;
    ``response()`` reads lines (with literals) up to the next OK/NO/BYE line."""

    def __init__(self, *args, **kwargs):
        kwargs["read_greeting"] = False
        super().__init__(*args, **kwargs)
        self.greeting_lines, self.greeting = self.response()

    def response(self, timeout: float | None = None) -> tuple[list[bytes], str]:
        lines: list[bytes] = []
        for _ in range(100_000):
            line = self.read_response_line(timeout)
            word = line.split(b" ", 1)[0].split(b"(", 1)[0].upper()
            if word in (b"OK", b"NO", b"BYE"):
                return lines, line.decode("utf-8", "replace")
            lines.append(line)
        raise ValueError("too many response lines")

    def cmd(self, text: str, timeout: float | None = None) -> tuple[list[bytes], str]:  # type: ignore[override]
        self.send(text.encode() + CRLF)
        return self.response(timeout)

    def capabilities(self, lines: list[bytes] | None = None) -> dict[str, str]:
        out = {}
        for line in self.greeting_lines if lines is None else lines:
            parts = line.decode().split('"')
            if len(parts) >= 2:
                out[parts[1].upper()] = parts[3] if len(parts) >= 4 else ""
        return out

    def starttls(self, context: ssl.SSLContext | None = None, tag: str = "") -> str:  # noqa: ARG002
        if context is not None:
            self.context = context
        self.send(b"STARTTLS\r\n")
        _, status = self.response()
        if not status.startswith("OK"):
            raise AssertionError(f"STARTTLS refused: {status}")
        if self.buf:
            raise AssertionError(f"plaintext bytes after STARTTLS OK: {self.buf!r}")
        self._wrap()
        # RFC 5804 §2.2: the server sends its capabilities again.
        self.greeting_lines, status = self.response()
        return status
