"""A real Home Assistant with its web frontend, never onboarded, and a real Chromium driving it.

Home Assistant is started as scripts/develop starts it: under scripts/_lib.sh's
``restarting``, which starts it again when it exits with code 100 ("Restart" in its UI), on
127.0.0.1, a free port, this integration linked into ``custom_components``, with the
frontend, the develop configuration's ``automation: !include automations.yaml``, the
repository's load limit blueprint and a toggle helper to shed, and no config entry: the
tests create the user and add the meters through the UI, as a person does.  One Home
Assistant serves the package's modules, in file order (test_frontend, then test_newcomer).
Chromium is Debian's (``scripts/setup`` installs it), driven by Playwright through
``executable_path``; it may reach nothing but that Home Assistant.  Each test saves a
screenshot to SCREENSHOTS.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
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


LOAD_LIMIT = "blueprints/automation/atm90e32/load_limit.yaml"
"""The blueprint the newcomer uses, where Home Assistant keeps an imported one (the same path in the repository)."""


@pytest.fixture(scope="package")
def frontend_hass(tmp_path_factory: pytest.TempPathFactory) -> Generator[FrontendHass]:
    """A real `hass -c <tmp>` under scripts/develop's restart loop, with the frontend, the Energy dashboard,
    automations, the load limit blueprint and this integration; not onboarded.

    The blueprint is copied as *Import blueprint* would save it: Home Assistant's import
    fetches the file from GitHub, which these tests may not reach.
    """
    pytest_socket.enable_socket()
    config_dir = tmp_path_factory.mktemp("hass-browser")
    port = free_port()
    (config_dir / "custom_components").mkdir()
    (config_dir / "custom_components" / "atm90e32").symlink_to(REPO / "custom_components" / "atm90e32")
    (config_dir / LOAD_LIMIT).parent.mkdir(parents=True)
    shutil.copyfile(REPO / LOAD_LIMIT, config_dir / LOAD_LIMIT)
    (config_dir / "automations.yaml").write_text("[]\n", encoding="utf-8")
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
automation: !include automations.yaml
input_boolean:
  ev_charger:
    name: EV charger
    initial: true
recorder:
  db_url: sqlite:///{config_dir}/home-assistant_v2.db
  commit_interval: 1
logger:
  default: warning
""",
        encoding="utf-8",
    )
    log = (config_dir / "hass.log").open("wb")
    # scripts/develop's loop (`restarting in_env hass -c config`), already inside the environment;
    # its own process group, so that stopping it stops the hass it runs too.
    process = subprocess.Popen(
        [
            "bash",
            "-c",
            'source "$0" && restarting "$@"',
            str(REPO / "scripts" / "_lib.sh"),
            *(sys.executable, "-m", "homeassistant", "-c", str(config_dir), "--skip-pip"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": ""},
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{url}/api/onboarding", timeout=2).status_code == 200, START_TIMEOUT_S, "hass")
        yield FrontendHass(url=url, config_dir=config_dir)
    finally:
        stop_develop(process)
        log.close()


def stop_develop(process: subprocess.Popen[bytes]) -> None:
    """Stop the loop's hass with SIGTERM (it exits 0, so the loop ends and bash with it), then bash.

    Whatever is left of the process group (a hass started in between) is killed last.
    """
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if process.poll() is None and children.exists():
        for child in children.read_text().split():
            os.kill(int(child), signal.SIGTERM)
    stop(process)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def chromium_path() -> str:
    """Debian's Chromium (Playwright's own browser download is not used)."""
    path = shutil.which("chromium")
    assert path, "chromium is missing: run scripts/setup"
    return path


@pytest.fixture(scope="package")
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
    at_failure.with_suffix(".txt").unlink(missing_ok=True)
    yield path
    if not path.exists():
        page.screenshot(path=str(at_failure))
        # and what a screen reader would read then: the names and roles the test's locators look for
        at_failure.with_suffix(".txt").write_text(page.locator("body").aria_snapshot(), encoding="utf-8")
