"""Bearer tokens for the OAuth tests: HS256 JWTs that the test Dovecots validate locally
(``introspection_mode = local``, see harness/dovecot.py), and the SASL messages that carry
them (XOAUTH2, OAUTHBEARER RFC 7628). Standard library only: hmac, hashlib, base64, json.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(sub: str, key: bytes, *, lifetime: int = 3600, now: int | None = None) -> str:
    """A JWT for ``sub`` signed with ``key`` (HS256), valid from now for ``lifetime`` seconds
    (a negative lifetime gives an expired token)."""
    t = int(time.time()) if now is None else now
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"sub": sub, "iat": t - 10 if lifetime > 0 else t - 7200, "exp": t + lifetime}
    body = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = _b64url(hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest())
    return f"{header}.{body}.{signature}"


def xoauth2(user: str, token: str) -> bytes:
    """The XOAUTH2 client response (not base64)."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def oauthbearer(user: str, token: str, host: str = "127.0.0.1", port: int = 143) -> bytes:
    """The OAUTHBEARER client response (RFC 7628 §3.1; not base64), GS2 header with a=user."""
    escaped = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={escaped},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01".encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
