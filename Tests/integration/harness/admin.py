"""Requests to Postern's admin API with curl (the operator's tool), and the answers parsed.

``request(p, "GET", "/readyz")`` -> ``Answer(status, headers, body)``; ``token`` adds
``Authorization: Bearer TOKEN`` (passed to curl through a config file on stdin, not argv);
``data`` is a form body (``{"user": "alice"}``, sent as application/x-www-form-urlencoded).
"""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from dataclasses import dataclass

from .postern import split_hostport


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body.decode())


def base_url(p) -> str:
    host, port = split_hostport(p.admin)
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def request(p, method: str, path: str, *, token: str | None = None, data: dict | None = None,
            timeout: float = 15.0) -> Answer:
    conf = ""
    if token is not None:
        conf += f'header = "Authorization: Bearer {token}"\n'
    args = ["curl", "-sS", "-i", "--max-time", str(int(timeout)), "-K", "-"]
    if method == "HEAD":
        args.append("-I")
    else:
        args += ["-X", method]
    if data is not None:
        args += ["--data-binary", urllib.parse.urlencode(data),
                 "-H", "Content-Type: application/x-www-form-urlencoded"]
    args.append(base_url(p) + path)
    r = subprocess.run(args, input=conf.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout + 10)
    if r.returncode != 0:
        raise RuntimeError(f"curl {method} {path} failed ({r.returncode}): {r.stderr.decode()}")
    return parse(r.stdout)


def parse(raw: bytes) -> Answer:
    """An HTTP/1.1 response as curl -i prints it (a 100 Continue before it is skipped)."""
    while True:
        head, _, rest = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        if status != 100:
            break
        raw = rest
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(status, headers, rest)
