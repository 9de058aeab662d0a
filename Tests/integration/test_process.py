"""The process around the server: systemd notify (READY, RELOADING with MONOTONIC_USEC, READY,
STOPPING, as a test playing the notify socket sees them), the shipped unit under
`systemd-analyze verify`, `server.user` (the uid after start, a reload as that user, the documented
group-readable key layout), the pid file, RLIMIT_NOFILE, `postern config dump` and check-config's
warnings about key files."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import world
from harness.lifecycle import imap_lands_on, imap_session, reload_cli, wait_log
from harness.postern import REPO, Postern, check_config, postern_bin
from harness.yamlout import dump

PID_FILE = "server.pid"


def plan(state_dir: Path, backends, pki, **server):
    p = world.postern_config(state_dir, backends, pki, imap_listeners=("imap",),
                             server={"pid_file": PID_FILE, **server},
                             map_lines=backends.map_lines(explicit_port_users=()),
                             extra={"shutdown": {"drain_seconds": 1}})
    return p


def started(state_dir: Path, config: dict, **kwargs) -> Postern:
    p = Postern(state_dir, config, **kwargs)
    p.start()
    return p


def stop_expecting_zero(p: Postern) -> None:
    p.proc.send_signal(signal.SIGTERM)
    assert p.proc.wait(timeout=15) == 0, p.log_tail()
    p.stop()
    p.proc = None


# ----- systemd -------------------------------------------------------------------------------------
def test_the_notify_socket_sees_ready_reloading_ready_stopping(tmp_path, backends, pki):
    folder = tempfile.mkdtemp(prefix="pn-", dir="/tmp")
    address = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(15)
    p = None
    try:
        cfg = plan(tmp_path / "p", backends, pki)
        p = started(tmp_path / "p", cfg.config, env={"NOTIFY_SOCKET": address})
        messages = [sock.recv(4096).decode()]
        assert "READY=1" in messages[0].split("\n"), messages
        rc, out, err = reload_cli(p)
        assert rc == 0, out + err
        before = time.monotonic()
        messages.append(sock.recv(4096).decode())
        messages.append(sock.recv(4096).decode())
        reloading = dict(x.split("=", 1) for x in messages[1].split("\n"))
        assert reloading.get("RELOADING") == "1", messages
        usec = int(reloading["MONOTONIC_USEC"])
        assert abs(usec / 1e6 - before) < 30, f"MONOTONIC_USEC {usec} is not CLOCK_MONOTONIC (now {before})"
        after = messages[2].split("\n")
        assert "READY=1" in after and any(x.startswith("STATUS=serving, configuration generation 2") for x in after), messages
        p.proc.send_signal(signal.SIGTERM)
        messages.append(sock.recv(4096).decode())
        assert "STOPPING=1" in messages[3].split("\n"), messages
        assert p.proc.wait(timeout=15) == 0
        p.stop()
        p.proc = None
        print("\nnotify messages:", [m.replace("\n", " | ") for m in messages])
    finally:
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)
        if p is not None:
            p.stop()


def test_a_refused_reload_still_says_ready_with_its_error(tmp_path, backends, pki):
    folder = tempfile.mkdtemp(prefix="pn-", dir="/tmp")
    address = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(15)
    try:
        cfg = plan(tmp_path / "p", backends, pki)
        p = started(tmp_path / "p", cfg.config, env={"NOTIFY_SOCKET": address})
        assert "READY=1" in sock.recv(4096).decode()
        p.config_path.write_text(p.config_path.read_text().replace("max_line:", "max_lines:"))
        rc, _, err = reload_cli(p)
        assert rc == 1 and "limits.max_lines: unknown key" in err, err
        assert sock.recv(4096).decode().startswith("RELOADING=1")
        ready = sock.recv(4096).decode().split("\n")
        assert "READY=1" in ready, ready
        assert any(x.startswith("STATUS=serving generation 1; reload refused:") for x in ready), ready
        stop_expecting_zero(p)
    finally:
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_systemd_analyze_accepts_the_unit(tmp_path):
    unit = (REPO / "etc" / "systemd" / "postern.service").read_text()
    assert re.search(r"^Type=notify$", unit, re.M), unit
    assert re.search(r"^ExecReload=/usr/local/bin/postern reload -c ", unit, re.M), unit
    # verify checks that the commands exist: point them at the binary under test.
    copy = tmp_path / "postern.service"
    copy.write_text(unit.replace("/usr/local/bin/postern", postern_bin()))
    r = subprocess.run(["systemd-analyze", "verify", str(copy)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0 and out.strip() == "", out
    # The check has teeth: a bad service type is reported.
    bad = tmp_path / "bad.service"
    bad.write_text(copy.read_text().replace("Type=notify", "Type=notifyy"))
    r = subprocess.run(["systemd-analyze", "verify", str(bad)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    assert "Failed to parse service type" in r.stdout.decode(errors="replace")


# ----- server.user ----------------------------------------------------------------------------------
def ids(pid: int) -> tuple[list[int], list[int]]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = [int(x) for x in value.split()] if key in ("Uid", "Gid") else value
    return fields["Uid"], fields["Gid"]


@pytest.fixture
def open_folder():
    """A folder every user can search (pytest's tmp_path is root-only), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="postern-user-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_server_user_nobody_and_a_reload_as_nobody(open_folder, backends, pki):
    if os.geteuid() != 0:
        pytest.skip("needs root to switch users")
    nobody = pwd.getpwnam("nobody")
    # The documented layout: certificates world-readable, the key root:GROUP 0640.
    for name in ("proxy.pem", "ca.pem", "dh2048.pem"):
        shutil.copy(pki.path(name), open_folder / name)
        (open_folder / name).chmod(0o644)
    key = open_folder / "proxy.key"
    shutil.copy(pki.proxy_key, key)
    os.chown(key, 0, nobody.pw_gid)
    key.chmod(0o640)
    cfg = plan(open_folder, backends, pki, user="nobody")
    cfg.config["tls"].update(certificate=str(open_folder / "proxy.pem"), key=str(key),
                             dh_params=str(open_folder / "dh2048.pem"))
    cfg.config["backend_tls"]["ca_file"] = str(open_folder / "ca.pem")
    cfg.map_path.chmod(0o644)
    p = started(open_folder, cfg.config)
    try:
        (open_folder / "postern.yaml").chmod(0o644)
        # The switch follows the binding of the listeners: wait for its log line.
        wait_log(p, rf'msg="running as" .*uid={nobody.pw_uid}')
        uids, gids = ids(p.pid)
        assert uids == [nobody.pw_uid] * 4, uids
        assert gids == [nobody.pw_gid] * 4, gids
        assert imap_lands_on(cfg.ports["imap"], "alice") == world.MARKER_A
        # A reload as nobody reads the config, the map and the key again.
        cfg.map_path.write_text(cfg.map_path.read_text().replace(f"alice {world.HOST_A}", f"alice {world.HOST_B}"))
        rc, out, err = reload_cli(p)
        assert rc == 0, out + err + p.log_tail()
        assert imap_lands_on(cfg.ports["imap"], "alice") == world.MARKER_B
        # A key only root can read is refused on reload, named in the error; the old one keeps serving.
        key.chmod(0o600)
        rc, out, err = reload_cli(p)
        assert rc == 1 and str(key) in err, out + err
        imap_session(cfg.ports["imap"], "bob")
        rc, out = check_config(p.config_path)
        assert rc == 0 and f"server.user nobody (uid {nobody.pw_uid}, gid {nobody.pw_gid}) cannot read {key}" in out, out
        key.chmod(0o640)
        rc, out, err = reload_cli(p)
        assert rc == 0, out + err
        stop_expecting_zero(p)
    finally:
        p.stop()


# ----- pid file, RLIMIT_NOFILE ------------------------------------------------------------------------
def test_the_pid_file_names_the_process_and_refuses_a_second_one(tmp_path, backends, pki):
    cfg = plan(tmp_path / "p", backends, pki)
    p = started(tmp_path / "p", cfg.config)
    pid_file = tmp_path / "p" / PID_FILE
    assert pid_file.read_text() == f"{p.pid}\n"
    second = subprocess.run([postern_bin(), "run", "-c", str(p.config_path)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert second.returncode == 1, second.stdout
    assert f"process {p.pid} is running" in second.stdout.decode(), second.stdout
    status = (tmp_path / "p" / (PID_FILE + ".status")).read_text()
    assert f'"pid":{p.pid}' in status and '"generation":1' in status, status
    stop_expecting_zero(p)
    assert not pid_file.exists(), "the pid file outlived the process"
    assert not (tmp_path / "p" / (PID_FILE + ".status")).exists()


def test_the_open_file_limit_is_raised_to_the_hard_limit_with_a_warning(tmp_path, backends, pki):
    state = tmp_path / "p"
    cfg = plan(state, backends, pki)
    (state / "postern.yaml").write_text(dump(cfg.config))
    log = open(state / "postern.log", "wb")
    import resource

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 4096))

    proc = subprocess.Popen([postern_bin(), "run", "-c", str(state / "postern.yaml")], cwd=state,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=limits)
    try:
        deadline = time.monotonic() + 20
        while "started" not in (state / "postern.log").read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, (state / "postern.log").read_text()
            time.sleep(0.1)
        text = Path(f"/proc/{proc.pid}/limits").read_text()
        line = next(x for x in text.splitlines() if x.startswith("Max open files"))
        assert line.split()[3:5] == ["4096", "4096"], line
        log_text = (state / "postern.log").read_text()
        assert "open-file limit below what limits.max_sessions needs" in log_text, log_text
        assert "needed=20064" in log_text and "soft=4096" in log_text, log_text
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        log.close()


# ----- config dump, check-config ------------------------------------------------------------------------
def test_config_dump_prints_every_key_and_no_secret(tmp_path, backends, pki):
    state = tmp_path / "p"
    cfg = plan(state, backends, pki)
    secret = state / "bind.secret"
    secret.write_text("s3cret-bind-pw\n")
    cfg.config["map"]["ldap"] = {"uri": "ldap://127.0.0.1:389", "bind_dn": "cn=proxy",
                                 "password_file": str(secret), "base": "dc=postern,dc=test"}
    path = state / "postern.yaml"
    path.write_text(dump(cfg.config))
    r = subprocess.run([postern_bin(), "config", "dump", "-c", str(path)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert r.returncode == 0, r.stderr
    text = r.stdout.decode()
    for line in ("  drain_seconds: 1", "  max_preauth_commands: 50", f'  pid_file: "{state / PID_FILE}"',
                 "  tcp_keepalive_idle: 120", "    pool_size: 4", f'    password_file: "{secret}"'):
        assert line in text, f"{line!r} missing:\n{text}"
    assert "s3cret-bind-pw" not in text
    again = state / "dumped.yaml"
    again.write_text(text)
    rc, out = check_config(again)
    assert rc == 0, out


def test_check_config_warns_about_a_key_others_can_read(tmp_path, pki, backends):
    state = tmp_path / "p"
    cfg = plan(state, backends, pki)
    key = state / "proxy.key"
    shutil.copy(pki.proxy_key, key)
    key.chmod(0o644)
    cfg.config["tls"]["key"] = str(key)
    path = state / "postern.yaml"
    path.write_text(dump(cfg.config))
    rc, out = check_config(path)
    assert rc == 0, out
    assert f"warning: {key} holds a secret and every user can read it (mode 644)" in out, out
    key.chmod(0o640)
    rc, out = check_config(path)
    assert rc == 0 and "every user can read" not in out, out
    assert stat.S_IMODE(key.stat().st_mode) == 0o640
