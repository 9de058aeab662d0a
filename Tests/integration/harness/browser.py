"""A headless Chromium driven by Selenium through Debian's chromedriver, for the status page's tests.

``Browser(tmp_dir)`` starts chromedriver on a port from ports.py (below 32768) and Chromium with its own
profile in ``tmp_dir`` and its DevTools port on 127.0.0.1 (also from ports.py). ``close()`` quits the
browser, then stops what is left of chromedriver and Chromium by pid (the Chromium processes are found by
their profile folder, which no other process uses). Nothing is downloaded: Selenium is given both paths.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from .ports import free_port

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")


class Browser:
    def __init__(self, tmp_dir: Path, *, width: int = 1400, height: int = 1600):
        self.profile = Path(tmp_dir) / "chromium-profile"
        self.profile.mkdir(parents=True, exist_ok=True)
        options = Options()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                    "--disable-background-networking", "--disable-component-update",
                    f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
                    "--remote-debugging-address=127.0.0.1", f"--remote-debugging-port={free_port()}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.service = Service(CHROMEDRIVER, port=free_port(),
                               log_output=str(Path(tmp_dir) / "chromedriver.log"))
        self.driver = webdriver.Chrome(service=self.service, options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)

    def console(self) -> list[dict]:
        """The browser's console entries since the last call."""
        return self.driver.get_log("browser")

    def alert_text(self) -> str | None:
        """The text of an open alert/confirm dialog, or None."""
        try:
            return self.driver.switch_to.alert.text
        except NoAlertPresentException:
            return None

    def close(self) -> None:
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - the pids below are stopped anyway
            pass
        pids = self._chromium_pids()
        proc = getattr(self.service, "process", None)
        if proc is not None and proc.poll() is None:
            pids.append(proc.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc is not None:
            try:
                proc.wait(timeout=10)
            except Exception:  # noqa: BLE001
                pass
        deadline = time.monotonic() + 10
        while self._chromium_pids() and time.monotonic() < deadline:
            time.sleep(0.1)

    def _chromium_pids(self) -> list[int]:
        """Processes whose command line names this browser's profile folder."""
        marker = f"--user-data-dir={self.profile}".encode()
        out = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if marker in f.read():
                        out.append(int(entry))
            except OSError:
                continue
        return out

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
