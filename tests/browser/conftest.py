"""A real Home Assistant with its web frontend, never onboarded, and a real Chromium driving it.

Home Assistant is started as the e2e suite starts it (``hass -c <tmp>`` on 127.0.0.1, a
free port, this integration linked into ``custom_components``), but with the frontend and
no config entry: the tests create the user and add the meter through the UI, as a person
does.  Chromium is Debian's (``scripts/setup`` installs it), driven by Playwright through
``executable_path``; it may reach nothing but that Home Assistant.  Each test saves a
screenshot to SCREENSHOTS.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_socket
import requests
from playwright.sync_api import Page, Route, expect, sync_playwright

from tests.e2e.conftest import REPO, START_TIMEOUT_S, free_port, stop, wait_for

SCREENSHOTS = REPO / "tests" / "browser" / "screenshots"
"""Where each test saves what the browser showed (gitignored)."""
TIMEOUT_MS = 30_000
"""The longest any one step may take (Playwright's expect and actions)."""


@pytest.fixture(autouse=True)
def real_sockets() -> None:
    """These tests talk to a real server on 127.0.0.1: undo the unit tests' socket guard."""
    pytest_socket.enable_socket()


@dataclass
class FrontendHass:
    url: str
    config_dir: Path


@pytest.fixture(scope="module")
def frontend_hass(tmp_path_factory: pytest.TempPathFactory) -> Generator[FrontendHass]:
    """A real `hass -c <tmp>` with the frontend, the Energy dashboard and this integration; not onboarded."""
    pytest_socket.enable_socket()
    config_dir = tmp_path_factory.mktemp("hass-browser")
    port = free_port()
    (config_dir / "custom_components").mkdir()
    (config_dir / "custom_components" / "atm90e32").symlink_to(REPO / "custom_components" / "atm90e32")
    (config_dir / "configuration.yaml").write_text(
        f"""homeassistant:
  name: Browser
  time_zone: UTC
  unit_system: metric
  currency: USD
  country: US
http:
  server_host: 127.0.0.1
  server_port: {port}
frontend:
config:
energy:
history:
logbook:
recorder:
  db_url: sqlite:///{config_dir}/home-assistant_v2.db
  commit_interval: 1
logger:
  default: warning
""",
        encoding="utf-8",
    )
    log = (config_dir / "hass.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "homeassistant", "-c", str(config_dir), "--skip-pip"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": ""},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{url}/api/onboarding", timeout=2).status_code == 200, START_TIMEOUT_S, "hass")
        yield FrontendHass(url=url, config_dir=config_dir)
    finally:
        stop(process)
        log.close()


def chromium_path() -> str:
    """Debian's Chromium (Playwright's own browser download is not used)."""
    path = shutil.which("chromium")
    assert path, "chromium is missing: run scripts/setup"
    return path


@pytest.fixture(scope="module")
def browser_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where one test leaves the browser's storage (the logged-in user's tokens) for the next."""
    return tmp_path_factory.mktemp("browser") / "storage-state.json"


@pytest.fixture
def page(frontend_hass: FrontendHass, browser_state: Path) -> Generator[Page]:
    """A Chromium tab, logged in as the user onboarding created (once test_01 has run).

    Playwright's synchronous driver holds its event loop while it is open, so it lives
    only as long as one test: Home Assistant's test plugin runs its own loop around each
    test.  The storage state carries the login from one test to the next, as a person's
    browser keeps it.
    """
    threads_before = set(threading.enumerate())
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium_path())
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            locale="en-US",
            timezone_id="UTC",
            storage_state=browser_state if browser_state.exists() else None,
        )
        context.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)

        def local_only(route: Route) -> None:
            """Only the Home Assistant under test: no map tiles, brand images or anything else from outside."""
            if route.request.url.startswith(frontend_hass.url):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", local_only)
        page = context.new_page()
        try:
            yield page
        finally:
            context.storage_state(path=browser_state)
            browser.close()
    # Playwright's driver leaves its executor threads ("asyncio_N") finishing as it closes: wait for
    # them, or Home Assistant's test plugin finds a thread left behind by the test.
    for thread in set(threading.enumerate()) - threads_before:
        if thread.name.startswith("asyncio_"):
            thread.join(timeout=30)


@pytest.fixture
def screenshot(page: Page, request: pytest.FixtureRequest) -> Generator[Path]:
    """The path of this test's screenshot; it is also saved when the test fails, with what the browser showed then."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', request.node.name)}.png"
    at_failure = path.with_name(path.stem + "-at-failure.png")
    path.unlink(missing_ok=True)
    at_failure.unlink(missing_ok=True)
    yield path
    if not path.exists():
        page.screenshot(path=str(at_failure))
