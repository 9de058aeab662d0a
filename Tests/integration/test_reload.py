"""Reload (SIGHUP, `postern reload`) of everything, atomically, under load: map, listeners added,
removed (their sessions drained with a farewell) and renamed (nothing dropped), a broken config and
a listener that cannot bind refused as a whole, log level and admin address, and a certificate-only
reload that keeps the LDAP map's cache warm."""

from __future__ import annotations

import re
import socket
import time

import pytest

from harness import world
from harness.lifecycle import (HOST, LoadLoop, imap_lands_on, imap_login, imap_session, reload_cli,
                               wait_log)
from harness.ports import free_port
from harness.postern import Postern
from harness.slapd import PEOPLE, Person, Slapd
from harness.world import listener

PID_FILE = "postern-server.pid"


def standard(postern_factory, backends, **options):
    """IMAP, POP3 and ManageSieve listeners, a pid file, a one-second drain."""
    server = {"pid_file": PID_FILE, **options.pop("server", {})}
    return postern_factory(imap_listeners=("imap", "pop3", "sieve"), server=server,
                           map_lines=backends.map_lines(explicit_port_users=()),
                           extra={"shutdown": {"drain_seconds": 1}, **options.pop("extra", {})},
                           **options)


def config_with(p: Postern, change) -> dict:
    """A deep copy of the running config dict with ``change`` applied to it."""
    import copy
    cfg = copy.deepcopy(p.config)
    change(cfg)
    return cfg


def reload_ok(p: Postern, cfg: dict | None = None) -> int:
    """Write ``cfg`` (if given), run `postern reload`, check it succeeded; returns the generation."""
    if cfg is not None:
        p.write_config(cfg)
    rc, out, err = reload_cli(p)
    assert rc == 0, f"reload failed ({rc}): {out}{err}\n{p.log_tail()}"
    m = re.search(r"generation (\d+)", out)
    assert m, out
    return int(m.group(1))


def connect_refused(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True


def test_ten_reloads_under_load_fail_no_session(postern_factory, backends, pki):
    old_port, extra_port = free_port(HOST), free_port(HOST)
    p = standard(postern_factory, backends,
                 listeners=[listener("old", "imap", old_port, "starttls", backends.imap_port)])
    map_path = p.plan.map_path
    good_map = map_path.read_text()
    assert imap_lands_on(p.port("imap"), "alice") == world.MARKER_A
    load = LoadLoop([("imap", p.port("imap")), ("pop3", p.port("pop3")),
                     ("managesieve", p.port("sieve"))]).start()
    generations = []
    try:
        # 1. Nothing changed.
        generations.append(reload_ok(p))
        # 2. The map sends alice to B: new logins land there.
        map_path.write_text(good_map.replace(f"alice {world.HOST_A}", f"alice {world.HOST_B}"))
        generations.append(reload_ok(p))
        assert imap_lands_on(p.port("imap"), "alice") == world.MARKER_B
        # 3. A listener is added and answers.
        generations.append(reload_ok(p, config_with(p, lambda c: c["listeners"].append(
            listener("extra", "imap", extra_port, "starttls", backends.imap_port)))))
        imap_session(extra_port, "bob")
        # 4. "old" is removed while a session is relayed on it: that session gets its farewell after
        # shutdown.drain_seconds, and the port closes at once.
        held = imap_login(old_port, "bob")
        _, tagged = held.cmd("s", "SELECT INBOX")
        assert tagged.startswith("s OK"), tagged
        generations.append(reload_ok(p, config_with(p, lambda c: c.__setitem__(
            "listeners", [x for x in c["listeners"] if x["name"] != "old"]))))
        assert connect_refused(old_port), "the removed listener still accepts"
        farewell = held.readline(timeout=10)
        assert farewell == b"* BYE This address no longer serves, reconnect.", farewell
        held.close()
        wait_log(p, r"listener=old .*outcome=listener-removed")
        # 5. A broken config is refused as a whole, with its error, and the old one keeps serving.
        good_text = p.config_path.read_text()
        p.config_path.write_text(good_text.replace("login_timeout:", "login_timout:"))
        rc, out, err = reload_cli(p)
        assert rc == 1, f"{rc}: {out}{err}"
        assert re.search(r"postern\.yaml:\d+:\d+: limits\.login_timout: unknown key", err), err
        imap_session(extra_port, "alice")
        # 6. The good one again.
        p.config_path.write_text(good_text)
        generations.append(reload_ok(p))
        # 7. "imap" is renamed: same socket, sessions go on, new ones carry the new name.
        generations.append(reload_ok(p, config_with(p, lambda c: [
            x.__setitem__("name", "imap-main") for x in c["listeners"] if x["name"] == "imap"])))
        before = len(p.log_text())
        wait_log(p, r"listener=imap-main .*outcome=backend-closed", after=before)
        # 8. A listener whose address is taken: refused as a whole (the map change with it is not applied).
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken = free_port(HOST)
        blocker.bind((HOST, taken))
        blocker.listen()
        try:
            map_path.write_text(good_map)
            p.write_config(config_with(p, lambda c: c["listeners"].append(
                listener("taken", "imap", taken, "starttls", backends.imap_port))))
            rc, out, err = reload_cli(p)
            assert rc == 1, f"{rc}: {out}{err}"
            assert f"listener taken: cannot listen on 127.0.0.1:{taken}" in err, err
            assert imap_lands_on(extra_port, "alice") == world.MARKER_B, "the refused map change was applied"
        finally:
            blocker.close()
        # 9. The map back to A, without the taken listener.
        generations.append(reload_ok(p, config_with(p, lambda c: c.__setitem__(
            "listeners", [x for x in c["listeners"] if x["name"] != "taken"]))))
        assert imap_lands_on(extra_port, "alice") == world.MARKER_A
        # 10. Log level debug.
        generations.append(reload_ok(p, config_with(p, lambda c: c["server"].__setitem__("log_level", "debug"))))
        before = len(p.log_text())
        imap_session(extra_port, "alice")
        wait_log(p, r"logged in", after=before)
    finally:
        load.stop()
    assert load.failures == [], "\n".join(load.failures[:20])
    assert all(n >= 5 for n in load.ok.values()), load.ok
    assert generations == list(range(2, 10)), generations
    metrics = p.metrics()
    assert metrics.get("postern_config_generation") == 9, metrics
    assert metrics.get('postern_reloads_total{result="ok"}') == 8, metrics
    assert metrics.get('postern_reloads_total{result="failed"}') == 2, metrics
    assert metrics.get("postern_config_last_reload_success_timestamp_seconds", 0) > time.time() - 600
    print(f"\nsessions during 10 reloads: {load.ok}, failed: {len(load.failures)}")


def test_reload_log_line_and_restart_only_keys(postern_factory, backends):
    p = standard(postern_factory, backends)
    generation = reload_ok(p, config_with(p, lambda c: c["server"].__setitem__("workers", 3)))
    assert generation == 2
    line = wait_log(p, r"reloaded configuration")
    for field in ("result=ok", "generation=2", "attempt=1", "map=kept", "breaker=kept"):
        assert field in line, line
    wait_log(p, r"server\.workers changed; it takes effect after a restart")


def test_an_event_loop_change_waits_for_a_restart(postern_factory, backends):
    p = standard(postern_factory, backends)
    running = p.config["server"].get("event_loop", "epoll-thread")
    other = "dispatch-epoll" if running == "dispatch-sources" else "dispatch-sources"
    assert reload_ok(p, config_with(p, lambda c: c["server"].__setitem__("event_loop", other))) == 2
    line = wait_log(p, r"server\.event_loop changed; it takes effect after a restart")
    assert f"running={running}" in line and f"configured={other}" in line, line
    imap_session(p.port("imap"), "alice")  # the running loop goes on serving


def test_admin_listen_moves_on_reload(postern_factory, backends):
    p = standard(postern_factory, backends)
    old = p.plan.admin_port
    new = free_port(HOST)
    reload_ok(p, config_with(p, lambda c: c["server"].__setitem__("admin_listen", f"{HOST}:{new}")))
    status, body = p.http_get("/health")
    assert status == 200, body
    assert connect_refused(old), "the old admin address still accepts"


def test_a_reload_without_a_server_says_so(tmp_path):
    cfg = tmp_path / "postern.yaml"
    cfg.write_text("server:\n  pid_file: nothing.pid\nlisteners: []\n")
    (tmp_path / "nothing.pid").write_text("999999\n")
    rc, out, err = reload_cli(type("P", (), {"config_path": cfg})())
    assert rc == 2, f"{rc}: {out}{err}"
    assert "process 999999 is not running" in err, err


# ----- a certificate-only reload keeps the LDAP map's cache ------------------------------------------
@pytest.fixture
def slapd_stats(tmp_path, pki):
    """A slapd that logs every operation (stats level): its log shows each search."""
    s = Slapd(tmp_path / "slapd", [Person("alice", world.HOST_A)], debug=256)
    s.start()
    yield s
    s.stop()


def searches_for(slapd: Slapd, user: str) -> int:
    text = slapd.log_path.read_text(errors="replace")
    return len(re.findall(rf"SRCH base=\"{re.escape(PEOPLE)}\".*filter=\"\(uid={user}\)\"", text))


def test_certificate_only_reload_keeps_the_cache_warm(postern_factory, backends, pki, slapd_stats, tmp_path):
    from harness.slapd import BIND_DN, BIND_PASSWORD
    secret = tmp_path / "bind.secret"
    secret.write_text(BIND_PASSWORD + "\n")
    ldap = {"uri": [slapd_stats.uri], "bind_dn": BIND_DN, "password_file": str(secret), "base": PEOPLE,
            "scope": "one", "filter": "(uid={user})", "host_attribute": "mailHost", "timeout": 2}
    p = standard(postern_factory, backends,
                 extra={"map": {"ldap": ldap, "cache": {"ttl": 600, "negative_ttl": 30, "stale_ttl": 600}}})
    imap_session(p.port("imap"), "alice")
    deadline = time.monotonic() + 10
    while searches_for(slapd_stats, "alice") == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    first = searches_for(slapd_stats, "alice")
    assert first >= 1, slapd_stats.log_tail()
    # Renew the certificate: same key, a copy of the certificate under a new name.
    renewed = tmp_path / "renewed.pem"
    renewed.write_bytes(pki.proxy_cert.read_bytes())
    reload_ok(p, config_with(p, lambda c: c["tls"].__setitem__("certificate", str(renewed))))
    imap_session(p.port("imap"), "alice")
    time.sleep(0.5)
    assert searches_for(slapd_stats, "alice") == first, "the certificate reload emptied the map cache"
    line = wait_log(p, r'msg="reloaded configuration" .*generation=2')
    assert "map=kept" in line, line
    # The control: a change to the map's own configuration builds a new map, which asks the directory.
    reload_ok(p, config_with(p, lambda c: c["map"]["cache"].__setitem__("ttl", 599)))
    imap_session(p.port("imap"), "alice")
    deadline = time.monotonic() + 10
    while searches_for(slapd_stats, "alice") == first and time.monotonic() < deadline:
        time.sleep(0.1)
    assert searches_for(slapd_stats, "alice") == first + 1, slapd_stats.log_tail()
