"""``postern check-config``: broken configs exit 1 naming FILE:LINE: and the key; good ones exit 0.
Also checks that the shipped example and demo configs are valid (with their files supplied).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.ports import free_port
from harness.postern import REPO, check_config, postern_bin

GOOD = """\
# A small valid config; paths are relative to this file's folder.
server:
  workers: 2
  admin_listen: "127.0.0.1:{admin}"
  log_level: info
listeners:
  - name: imap
    protocol: imap
    listen: ["127.0.0.1:{imap}"]
    tls: starttls
    backend: {{ port: 143, tls: none }}
  - name: imaps
    protocol: imap
    listen: ["127.0.0.1:{imaps}"]
    tls: implicit
    backend: {{ port: 143, tls: none }}
tls:
  certificate: proxy.pem
  key: proxy.key
  min_version: "1.2"
  ciphers: "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20"
  prefer_server_ciphers: true
  dh_params: dh2048.pem
backend_tls:
  ca_file: ca.pem
  verify: true
map:
  file: users.map
  default: 127.0.0.1
limits:
  login_timeout: 60
  idle_timeout: 1800
  login_attempts: 3
  connect_timeout: 10
  max_line: 8192
  buffer_size: 65536
  max_sessions: 10000
"""

# (id, line in GOOD to replace, replacement, key the error must name; None: syntax error)
BROKEN = [
    ("unknown-key", "  log_level: info", "  log_levle: info", "log_levle"),
    ("bad-enum", "    tls: starttls", "    tls: starttlz", "tls"),
    ("bad-port", '    listen: ["127.0.0.1:{imap}"]', '    listen: ["127.0.0.1:99999"]', "listen"),
    ("missing-certificate", "  certificate: proxy.pem", "  certificate: missing-cert.pem", "certificate"),
    ("bad-type", "  workers: 2", "  workers: many", "workers"),
    ("bad-backend-port", "    backend: {{ port: 143, tls: none }}", "    backend: {{ port: 0, tls: none }}", "port"),
    ("bad-min-version", '  min_version: "1.2"', '  min_version: "1.0"', "min_version"),
    ("missing-map-file", "  file: users.map", "  file: no-such.map", "file"),
    ("bad-sasl-mechanism", "    tls: starttls", "    sasl: [plain, cram-md5]", "sasl[1]"),
    ("managesieve-block-on-imap", "    tls: starttls", '    managesieve: {{ sieve: "fileinto" }}', "managesieve"),
    ("yaml-syntax", '    listen: ["127.0.0.1:{imaps}"]', '    listen: ["127.0.0.1:{imaps}"', None),
]


@pytest.fixture
def confdir(tmp_path, pki):
    d = tmp_path / "conf"
    d.mkdir()
    for name in ("proxy.pem", "proxy.key", "ca.pem", "dh2048.pem"):
        shutil.copy(pki.path(name), d / name)
    (d / "users.map").write_text("# user host[:port]\nalice 127.0.0.1\nbob 127.0.0.2:143\n*@example.org 127.0.0.2\n")
    return d


def _ports():
    return {"admin": free_port(), "imap": free_port(), "imaps": free_port()}


def test_good_config_passes(confdir):
    path = confdir / "postern.yaml"
    path.write_text(GOOD.format(**_ports()))
    rc, out = check_config(path)
    assert rc == 0, out


@pytest.mark.parametrize("case", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_config_names_file_line_and_key(confdir, case):
    name, old, new, key = case
    ports = _ports()
    good = GOOD.format(**ports)
    old, new = old.format(**ports), new.format(**ports)
    lines = good.splitlines()
    assert lines.count(old) >= 1, old
    idx = lines.index(old)
    lines[idx] = new
    path = confdir / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    rc, out = check_config(path)
    assert rc == 1, f"exit {rc}, output:\n{out}"
    if key is None:
        # A YAML syntax error: the file and some line (the parser's position) are named.
        assert re.search(re.escape(str(path)) + r":\d+:", out) or re.search(
            re.escape(path.name) + r":\d+:", out), out
    else:
        line = idx + 1
        assert f"{path}:{line}:" in out or f"{path.name}:{line}:" in out, \
            f"expected {path.name}:{line}: in:\n{out}"
        assert key in out, out


def test_run_with_broken_config_exits_nonzero(confdir):
    path = confdir / "bad.yaml"
    path.write_text(GOOD.format(**_ports()).replace("  log_level: info", "  log_levle: info"))
    p = subprocess.run([postern_bin(), "run", "-c", str(path)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert p.returncode != 0
    assert b"log_levle" in p.stdout


def test_example_config_is_valid_as_shipped():
    """etc/postern.example.yaml validates as it is, with the example files in etc/example/."""
    rc, out = check_config(REPO / "etc" / "postern.example.yaml")
    assert rc == 0, out
    assert "listener imaps" in out


def test_demo_config_is_valid(tmp_path, pki):
    demo = REPO / "etc" / "demo"
    src = (demo / "postern.yaml").read_text()
    conf = tmp_path / "etc" / "demo"
    conf.mkdir(parents=True)
    shutil.copy(demo / "users.map", conf / "users.map")
    # The demo's PKI is generated into .state/demo/pki (see etc/demo/postern.yaml).
    pkid = tmp_path / ".state" / "demo" / "pki"
    pkid.mkdir(parents=True)
    for name in ("proxy.pem", "proxy.key", "ca.pem", "dh2048.pem"):
        shutil.copy(pki.path(name), pkid / name)
    (conf / "postern.yaml").write_text(src)
    rc, out = check_config(conf / "postern.yaml")
    assert rc == 0, out
