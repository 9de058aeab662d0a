"""The status page (issue 13) in a real browser: Debian's headless Chromium through chromedriver
(Selenium), against the real binary and real Dovecot backends.

- The page loads with its CSP (its own inline script and style by hash), X-Frame-Options and
  Cache-Control headers, and the browser's console stays empty.
- A login through Postern shows up in the sessions table within the refresh interval.
- A backend stopped mid-test turns its row red after a login to it failed.
- The Kick button (after its confirmation) ends a real IMAP IDLE session: the client sees the BYE.
- A user named ``<img src=x onerror=alert(1)>`` is shown as text: no alert, no img element.
- With a token file the page asks for the token and then reads and acts with it.
- Under load (200 sessions, one backend down) it takes the screenshot in docs/status-page.png.

Every wait is bounded.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from harness import world
from harness.admin import base_url, request
from harness.browser import Browser
from harness.clients import RawIMAP, imap_quote
from harness.postern import split_hostport

HOST = "127.0.0.1"
U = world.USERS
REFRESH = 2.0
EVIL = "<img src=x onerror=alert(1)>"
TOKEN = "status-Token-9d2e71"
DOCS = Path(__file__).resolve().parents[2] / "docs"


def wait_for(what: str, condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def imap_login(p, pki, user: str) -> RawIMAP:
    c = RawIMAP(HOST, p.port("imap"), context=pki.client_context())
    c.starttls(pki.client_context())
    _, tagged = c.cmd("l", f"LOGIN {user} {imap_quote(U[user])}")
    assert tagged.startswith("l OK"), tagged
    return c


@pytest.fixture
def browser(tmp_path):
    b = Browser(tmp_path)
    yield b
    b.close()


def open_page(browser: Browser, p, path: str = "/") -> None:
    browser.driver.get(base_url(p) + path)
    wait_for("the page's first render", lambda: browser.driver.find_element(By.TAG_NAME, "body")
             .get_attribute("data-loaded"))


# The page replaces its rows at each refresh: every read and click below is one script run, so that no
# element reference goes stale between two WebDriver calls.
ROWS = """return [...document.querySelectorAll(arguments[0] + ' tbody tr')].map(tr => ({
  cls: tr.className, backend: tr.dataset.backend || null, cells: [...tr.cells].map(td => td.textContent)}));"""
CLICK = """const tr = [...document.querySelectorAll(arguments[0] + ' tbody tr')].find(tr => tr.cells[0].textContent === arguments[1]);
if (!tr) return false;
const button = tr.querySelector('button');
setTimeout(() => button.click(), 0);  // after this script returns: the click opens a confirm() dialog
return true;"""


def rows(browser: Browser, table: str) -> list[dict]:
    return browser.driver.execute_script(ROWS, table)


def session_rows(browser: Browser) -> list[list[str]]:
    return [r["cells"] for r in rows(browser, "#sessions")]


def backend_row(browser: Browser, backend: str) -> dict | None:
    return next((r for r in rows(browser, "#backends") if r["backend"] == backend), None)


def click_row_button(browser: Browser, table: str, first_cell: str) -> str:
    """Clicks the button of the row whose first cell is ``first_cell``; returns the confirmation's text."""
    assert browser.driver.execute_script(CLICK, table, first_cell), f"no row {first_cell!r} in {table}"
    return wait_for("the confirmation", browser.alert_text)


def problems(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e.get("level") in ("SEVERE", "WARNING")]


# ----- the page and its headers ------------------------------------------------------------------
def test_page_loads_with_its_headers_and_no_console_error(postern, browser):
    for path in ("/", "/status"):
        a = request(postern, "GET", path)
        assert a.status == 200 and a.headers["content-type"] == "text/html; charset=utf-8", (path, a.headers)
        assert a.headers["x-frame-options"] == "DENY" and a.headers["cache-control"] == "no-store", a.headers
        csp = a.headers["content-security-policy"]
        html = a.body.decode()
        # The hashes in the CSP are those of the page's one inline script and one inline style.
        [script] = re.findall(r"<script>(.*?)</script>", html, re.S)
        [style] = re.findall(r"<style>(.*?)</style>", html, re.S)
        for kind, text in (("script-src", script), ("style-src", style)):
            digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
            assert f"{kind} 'sha256-{digest}'" in csp, (kind, csp)
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp, csp
        assert "http" not in re.sub(r"http://www\.w3\.org/2000/svg", "", html), "the page fetches nothing"
    assert request(postern, "POST", "/").status == 405
    open_page(browser, postern)
    time.sleep(REFRESH * 1.5)  # at least one refresh after the first render
    assert problems(browser.console()) == []
    listeners = [r["cells"][0] for r in rows(browser, "#listeners")]
    assert listeners == ["imap", "imaps", "imap-req"], listeners
    tls = browser.driver.execute_script("return document.getElementById('tls').textContent")
    assert "TLSv1.3" in tls and "TLS_AES_256_GCM_SHA384" in tls and "days" in tls, tls
    process = browser.driver.execute_script(
        "return [...document.querySelectorAll('#process dt, #process dd')].map(e => e.textContent)")
    fields = dict(zip(process[::2], process[1::2]))
    assert fields["Config generation"] == "1" and fields["Draining"] == "no", fields


def test_a_login_appears_in_the_sessions_table_within_the_refresh(postern, pki, browser):
    open_page(browser, postern)
    with imap_login(postern, pki, "alice") as c:
        logged_in = time.monotonic()
        rows = wait_for("alice's row", lambda: [r for r in session_rows(browser) if r and r[0] == "alice"],
                        timeout=REFRESH * 2 + 1)
        assert time.monotonic() - logged_in <= REFRESH * 2 + 1
        [row] = rows
        assert row[2] == "imap" and row[3].startswith(world.HOST_A) and row[4] == "relayed", row
        assert row[8].startswith("TLSv1."), row
        # The filter box hides rows that do not match and shows them again.
        box = browser.driver.find_element(By.ID, "filter")
        box.send_keys("nobody-matches-this")
        assert [r for r in session_rows(browser) if r and r[0] == "alice"] == []
        box.clear()
        box.send_keys("ALI")
        assert [r[0] for r in session_rows(browser)] == ["alice"]
        c.cmd("o", "LOGOUT")
    assert problems(browser.console()) == []


def test_a_stopped_backend_turns_its_row_red_after_a_failed_login(postern, pki, backends, browser):
    a = f"{world.HOST_A}:{backends.imap_port}"
    with imap_login(postern, pki, "alice") as c:
        c.cmd("o", "LOGOUT")
    open_page(browser, postern)
    row = wait_for("backend A's row", lambda: backend_row(browser, a))
    assert row["cls"] == "", "a healthy backend is not red"
    cells = row["cells"]
    assert cells[4].endswith(" ms") and cells[5].endswith(" ms"), cells  # connect p50 and p99
    backends.a.stop()
    c = RawIMAP(HOST, postern.port("imap"), context=pki.client_context())
    c.starttls(pki.client_context())
    _, tagged = c.cmd("l", f"LOGIN alice {imap_quote(U['alice'])}")
    assert tagged.startswith("l NO"), tagged
    row = wait_for("backend A's row to turn red", lambda: (r := backend_row(browser, a)) and r["cls"] == "bad" and r,
                   timeout=REFRESH * 2 + 1)
    cells = row["cells"]
    assert int(cells[6]) >= 1 and cells[7] != "–", cells  # recent failures, last error
    c.close()
    assert problems(browser.console()) == []


def test_the_kick_button_ends_an_idle_session(postern, pki, browser):
    open_page(browser, postern)
    c = imap_login(postern, pki, "bob")
    try:
        c.cmd("s", "SELECT INBOX")
        c.send("i IDLE\r\n")
        assert c.readline().startswith(b"+ "), "no IDLE continuation"
        wait_for("bob's row", lambda: [r for r in session_rows(browser) if r and r[0] == "bob" and r[4] == "relayed"],
                 timeout=REFRESH * 2 + 1)
        assert click_row_button(browser, "#sessions", "bob") == 'End every session of user "bob"?'
        browser.driver.switch_to.alert.accept()
        rest, _ = c.read_all(timeout=10)
        assert b"* BYE" in rest, rest
        wait_for("bob's row to go", lambda: not [r for r in session_rows(browser) if r and r[0] == "bob"],
                 timeout=REFRESH * 2 + 1)
    finally:
        c.close()
    assert problems(browser.console()) == []


def test_a_hostile_user_name_is_shown_as_text(postern, pki, browser):
    c = RawIMAP(HOST, postern.port("imap"), context=pki.client_context())
    try:
        c.starttls(pki.client_context())
        _, tagged = c.cmd("l", f"LOGIN {imap_quote(EVIL)} whatever-pw")
        assert tagged.startswith("l NO"), tagged
        # The session stays open in its login phase with that name as its user.
        open_page(browser, postern)
        wait_for("the hostile row", lambda: [r for r in session_rows(browser) if r and r[0] == EVIL],
                 timeout=REFRESH * 2 + 1)
        time.sleep(REFRESH)  # another refresh
        assert browser.alert_text() is None
        assert browser.driver.find_elements(By.TAG_NAME, "img") == []
        assert browser.driver.execute_script("return document.images.length") == 0
        html = browser.driver.execute_script("return document.querySelector('#sessions tbody td').innerHTML")
        assert html == "&lt;img src=x onerror=alert(1)&gt;", html
        # Its kick confirmation names it as text too; dismissing it kicks nothing.
        assert click_row_button(browser, "#sessions", EVIL) == f'End every session of user "{EVIL}"?'
        browser.driver.switch_to.alert.dismiss()
        assert browser.driver.find_elements(By.TAG_NAME, "img") == []
        _, tagged = c.cmd("n", "NOOP")
        assert tagged.startswith("n OK"), "a dismissed confirmation kicked the session"
    finally:
        c.close()
    assert problems(browser.console()) == []


def test_with_a_token_file_the_page_asks_for_the_token_once(postern_factory, pki, tmp_path, browser):
    token_file = tmp_path / "admin.token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    p = postern_factory(server={"admin_token_file": str(token_file)})
    assert request(p, "GET", "/").status == 200, "the page itself holds no data and needs no token"
    assert request(p, "GET", "/status.json").status == 401
    browser.driver.get(base_url(p) + "/")
    form = browser.driver.find_element(By.ID, "login")
    wait_for("the token form", form.is_displayed)
    field = browser.driver.find_element(By.ID, "token")
    field.send_keys(TOKEN)
    form.find_element(By.TAG_NAME, "button").click()
    wait_for("the first render", lambda: browser.driver.find_element(By.TAG_NAME, "body").get_attribute("data-loaded"))
    assert not form.is_displayed()
    assert browser.driver.execute_script("return sessionStorage.getItem('postern-admin-token')") == TOKEN
    assert browser.driver.execute_script("return localStorage.length") == 0
    # An action with the token: drain and undrain backend B from its row.
    with imap_login(p, pki, "bob") as c:
        c.cmd("o", "LOGOUT")
    b = f"{world.HOST_B}:{p.plan.config['listeners'][0]['backend']['port']}"
    wait_for("backend B's row", lambda: backend_row(browser, b), timeout=REFRESH * 2 + 1)
    assert click_row_button(browser, "#backends", b) == f"Drain {b}?"
    browser.driver.switch_to.alert.accept()
    wait_for("the drain", lambda: {x["backend"]: x for x in request(p, "GET", "/backends", token=TOKEN).json()}
             [b]["drained"])
    wait_for("the Undrain button", lambda: backend_row(browser, b)["cells"][-1] == "Undrain",
             timeout=REFRESH * 2 + 1)
    # A cross-site POST (a browser's Origin of another site) is refused even with the token.
    host, port = split_hostport(p.admin)
    body = f"backend={b}".encode()
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(f"POST /backends/undrain HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: http://evil.example\r\n"
                  f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        assert s.recv(100).startswith(b"HTTP/1.1 403 "), "a cross-site POST"
    assert {x["backend"]: x for x in request(p, "GET", "/backends", token=TOKEN).json()}[b]["drained"] is True
    # The one console line: the first status.json without a token, answered 401 (which made the page ask).
    [first] = problems(browser.console())
    assert "status.json" in first["message"] and "401" in first["message"], first


def test_screenshot_under_load_with_a_backend_down(postern, pki, backends, browser, tmp_path):
    """200 sessions open on backend A, backend B stopped and a login to it failed, a few refused passwords:
    the page shows them all, its console stays clean, and its screenshot is taken (into docs/status-page.png
    with POSTERN_UPDATE_SCREENSHOT=1, else into the test's folder)."""
    open_page(browser, postern)
    users_a = [u for u in ("alice", "big", "soak")]
    clients: list[RawIMAP] = []
    try:
        for i in range(200):
            user = users_a[i % len(users_a)]
            if i % 4 == 0:
                c = RawIMAP(HOST, postern.port("imaps"), tls="implicit", context=pki.client_context())
            else:
                c = RawIMAP(HOST, postern.port("imap"), context=pki.client_context())
                if i % 4 == 1:
                    c.starttls(pki.client_context())
            clients.append(c)
            _, tagged = c.cmd("l", f"LOGIN {user} {imap_quote(U[user])}")
            assert tagged.startswith("l OK"), (i, tagged)
            if i % 50 == 49:
                time.sleep(2)  # a ramp on the chart
        with RawIMAP(HOST, postern.port("imap"), context=pki.client_context()) as c:
            for n in range(3):
                _, tagged = c.cmd(f"r{n}", "LOGIN alice wrong-password")
                assert " NO" in tagged, tagged
        backends.b.stop()
        b = f"{world.HOST_B}:{backends.imap_port}"
        with RawIMAP(HOST, postern.port("imap"), context=pki.client_context()) as c:
            _, tagged = c.cmd("l", f"LOGIN bob {imap_quote(U['bob'])}")
            assert tagged.startswith("l NO"), tagged
        wait_for("200 relayed sessions and B red", lambda: len([r for r in session_rows(browser) if r[4] == "relayed"])
                 == 200 and (r := backend_row(browser, b)) and r["cls"] == "bad", timeout=REFRESH * 3 + 1)
        # Two more history samples so that both charts have lines.
        time.sleep(11)
        count = browser.driver.execute_script("return document.getElementById('session-count').textContent")
        assert "of 200" in count, count
        assert problems(browser.console()) == []
        target = DOCS / "status-page.png" if os.environ.get("POSTERN_UPDATE_SCREENSHOT") else tmp_path / "page.png"
        assert browser.driver.save_screenshot(str(target)), target
        assert target.stat().st_size > 10_000
    finally:
        for c in clients:
            c.close()
