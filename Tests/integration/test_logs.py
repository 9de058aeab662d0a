"""Structured logs (issue 9), against the real binary and real Dovecot.

- A login name with CR/LF (through an IMAP literal and through SASL PLAIN) and a crafted SNI name
  stay on one escaped line in each ``server.log_format`` (text, logfmt, json), and come back
  exactly when the line is parsed; every JSON line parses.
- ``login succeeded`` (info) and ``login failed`` (notice) lines, and the session line's new
  fields (protocol, mechanism, backend_user, login_ms).
- A reload switches the format.
- At ``log_level: debug`` no line holds a password, a SASL response or the admin token used.
"""

from __future__ import annotations

import base64
import json
import re
import time

import pytest

from harness import world
from harness.admin import request
from harness.clients import RawIMAP, imap_quote, s_client
from harness.postern import logfmt_fields

HOST = "127.0.0.1"
U = world.USERS
FORGED = 'eve\r\nts=2026-01-01T00:00:00.000Z level=info msg="login succeeded" user=alice'
SNI = 'sni.test" level=info msg="forged\r\n\x1b[2J'
TEXT_START = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z]+ ")


def records(p, fmt: str) -> list[dict]:
    """Every line of the log as a dict (``msg`` and the fields); each line must be one whole record."""
    out = []
    for line in p.log_text().splitlines():
        if fmt == "json":
            out.append(json.loads(line))
        elif fmt == "logfmt":
            assert line.startswith("ts="), line
            out.append(logfmt_fields(line))
        else:
            assert TEXT_START.match(line), line
            out.append({"line": line})
    return out


def wait_records(p, fmt: str, condition, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    got = records(p, fmt)
    while not condition(got) and time.monotonic() < deadline:
        time.sleep(0.1)
        got = records(p, fmt)
    assert condition(got), p.log_tail()
    return got


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


@pytest.mark.parametrize("fmt", ["text", "logfmt", "json"])
def test_crlf_login_names_and_a_crafted_sni_stay_on_one_escaped_line(postern_factory, pki, fmt):
    p = postern_factory(server={"log_format": fmt})
    with RawIMAP(HOST, p.port("imap"), context=pki.client_context()) as c:
        name = FORGED.encode()
        c.send(b"a LOGIN {%d+}\r\n" % len(name) + name + b" pw-literal-1\r\n")
        _, tagged = c.read_until_tagged("a")
        assert tagged.startswith("a NO"), tagged
        _, tagged = c.cmd("b", f"AUTHENTICATE PLAIN {plain(FORGED, 'pw-plain-2')}")
        assert tagged.startswith("b NO"), tagged
    rc, out = s_client(HOST, p.port("imaps"), "-ign_eof", "-servername", SNI, "-CAfile", str(pki.ca),
                       stdin=b"x LOGOUT\r\n")
    assert "* BYE" in out, out[-2000:]
    lines = p.log_text().splitlines()
    # No line starts with the forged record, and none has a raw control character.
    assert not any(x.startswith("ts=2026-01-01") for x in lines), lines
    assert not any(ch in x for x in lines for ch in "\r\x1b"), lines
    got = wait_records(p, fmt, lambda rs: sum(1 for r in rs if "login failed" in json.dumps(r)) >= 2
                       and any(SNI in json.dumps(r) or "sni.test" in json.dumps(r) for r in rs))
    if fmt == "text":
        failed = [r["line"] for r in got if " notice login failed " in r["line"]]
        assert len(failed) == 2, failed
        escaped = 'user="eve\\r\\nts=2026-01-01T00:00:00.000Z level=info msg=\\"login succeeded\\" user=alice"'
        assert all(escaped in x for x in failed), failed
        assert any('client_sni="sni.test\\" level=info msg=\\"forged\\r\\n\\u001b[2J"' in r["line"] for r in got), got
        return
    failed = [r for r in got if r.get("msg") == "login failed"]
    assert [r["user"] for r in failed] == [FORGED, FORGED], failed
    assert [r["mechanism"] for r in failed] == ["LOGIN", "PLAIN"], failed
    assert all(r["reason"] == "unknown-user" and r["level"] == "notice" for r in failed), failed
    sessions = [r for r in got if r.get("msg") == "session" and r.get("listener") == "imaps" and "client_sni" in r]
    assert [r["client_sni"] for r in sessions] == [SNI], sessions


def test_login_lines_and_the_session_lines_new_fields(postern, pki, backends):
    with RawIMAP(HOST, postern.port("imap"), context=pki.client_context()) as c:
        _, tagged = c.cmd("a", f"LOGIN alice {imap_quote('Wrong-Pass-31')}")
        assert tagged.startswith("a NO"), tagged
        _, tagged = c.cmd("b", f"AUTHENTICATE PLAIN {plain('alice', U['alice'])}")
        assert tagged.startswith("b OK"), tagged
        c.cmd("o", "LOGOUT")
    got = wait_records(postern, "logfmt", lambda rs: any(r.get("msg") == "session" and r.get("user") == "alice"
                                                           for r in rs))
    [failed] = [r for r in got if r.get("msg") == "login failed"]
    assert failed["level"] == "notice" and failed["reason"] == "rejected", failed
    assert failed["user"] == "alice" and failed["mechanism"] == "LOGIN" and failed["protocol"] == "imap", failed
    assert failed["backend"] == f"{world.HOST_A}:{backends.imap_port}" and failed["client"].startswith(HOST), failed
    [ok] = [r for r in got if r.get("msg") == "login succeeded"]
    assert ok["level"] == "info", ok
    assert {k: ok[k] for k in ("listener", "protocol", "user", "mechanism", "backend", "backend_user")} == {
        "listener": "imap", "protocol": "imap", "user": "alice", "mechanism": "PLAIN",
        "backend": f"{world.HOST_A}:{backends.imap_port}", "backend_user": "alice"}, ok
    assert int(ok["login_ms"]) >= 0 and ok["session"] and ok["client"] == failed["client"], ok
    [session] = [r for r in got if r.get("msg") == "session" and r.get("user") == "alice"]
    assert session["protocol"] == "imap" and session["mechanism"] == "PLAIN", session
    assert session["backend_user"] == "alice" and session["login_ms"] == ok["login_ms"], session
    assert session["session"] == ok["session"] and session["outcome"] == "backend-closed", session


def test_a_reload_switches_the_format(postern, pki):
    config = postern.config
    config["server"]["log_format"] = "json"
    postern.reload(config)
    deadline = time.monotonic() + 10
    while '"generation":"2"' not in postern.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = postern.log_text()
    assert '"msg":"reloaded configuration"' in text, postern.log_tail()
    with RawIMAP(HOST, postern.port("imap"), context=pki.client_context()) as c:
        c.cmd("o", "LOGOUT")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = postern.log_text().splitlines()
        index = next(i for i, x in enumerate(after) if "reloaded configuration" in x)
        later = after[index:]
        if any('"msg":"session"' in x for x in later):
            break
        time.sleep(0.1)
    assert all(json.loads(x) for x in later), later
    assert any(json.loads(x)["msg"] == "session" for x in later), later
    assert after[0].startswith("ts="), after[0]


def test_no_secret_in_any_line_at_debug(postern_factory, pki, tmp_path):
    token = "adm-Debug-Token-93b1"
    token_file = tmp_path / "admin.token"
    token_file.write_text(token + "\n")
    p = postern_factory(server={"log_level": "debug", "admin_token_file": str(token_file)})
    wrong = "Wrong-Debug-Pass-58"
    with RawIMAP(HOST, p.port("imap"), context=pki.client_context()) as c:
        c.starttls(pki.client_context())
        _, tagged = c.cmd("a", f"LOGIN alice {imap_quote(wrong)}")
        assert tagged.startswith("a NO"), tagged
        _, tagged = c.cmd("b", f"LOGIN bob {imap_quote(U['bob'])}")
        assert tagged.startswith("b OK"), tagged
        c.cmd("o", "LOGOUT")
    with RawIMAP(HOST, p.port("imap"), context=pki.client_context()) as c:
        _, tagged = c.cmd("p", f"AUTHENTICATE PLAIN {plain('carol', U['carol'])}")
        assert tagged.startswith("p OK"), tagged
        c.cmd("o", "LOGOUT")
    assert request(p, "GET", "/sessions", token=token).status == 200
    assert request(p, "GET", "/sessions", token="wrong-" + token).status == 401
    assert request(p, "POST", "/sessions/kick", data={"user": "nobody"}, token=token).status == 200
    assert p.wait_sessions(0, timeout=10) == 0
    lines = wait_records(p, "logfmt", lambda rs: sum(1 for r in rs if r.get("msg") == "admin request") >= 3)
    assert any(r["level"] == "debug" for r in lines), "nothing was logged at debug"
    secrets = [U["bob"], U["carol"], wrong, plain("carol", U["carol"]), token, "wrong-" + token,
               imap_quote(U["carol"]), base64.b64encode(U["carol"].encode()).decode()]
    text = p.log_text().splitlines()
    leaks = [(i, n) for i, line in enumerate(text) for n, s in enumerate(secrets) if s in line]
    assert leaks == [], f"secret number(s) {sorted({n for _, n in leaks})} appear in log lines (not shown)"
