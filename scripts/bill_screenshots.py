"""Screenshots of the README's "Check your bill" recipe from a real Home Assistant.

Usage (in the development venv, with Debian's Chromium installed by scripts/setup):
    python scripts/bill_screenshots.py [MINUTES]

Starts ``hass`` on 127.0.0.1 in a temporary configuration with this integration's
simulated meter replaying the trace 20 times faster, the README's own ``template``,
``input_number``, ``utility_meter`` and ``lovelace`` blocks and the shipped
dashboards/bill_check.yaml; onboards it through Home Assistant's onboarding API; sets the
prices and the Energy dashboard's grid connection (imported, exported, the price entity
for both) through its WebSocket API.  It lets the meter run MINUTES real minutes (default
4, so 80 simulated minutes), with the tariff going from peak to off-peak halfway through
each half; ends a billing cycle halfway with ``utility_meter.reset`` (what the monthly
cycle does at midnight on the 1st), so that the dashboard has a last cycle; and saves
PNG screenshots with Playwright driving Debian's Chromium into docs/screenshots/.
The Energy dashboard itself is not photographed: it shows hourly statistics, which a
run of minutes does not have yet.
It also creates an automation from the load limit blueprint (on input booleans) and
photographs its form.  Nothing outside 127.0.0.1 is reached.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import requests
from playwright.sync_api import Route, sync_playwright

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
SPEED = 20.0
CLIENT_ID = "http://127.0.0.1/"
PRICES = {"peak": 0.45, "off_peak": 0.27, "super_off_peak": 0.11}
"""USD/kWh, of the kind a Californian time-of-use rate charges."""
METERS = (
    "select.energy_import_tou",
    "select.energy_export_tou",
    "sensor.energy_import_cycle",
    "sensor.energy_export_cycle",
    "sensor.energy_net_cycle",
)
"""The README's utility meters, each reset (by its tariff select where it has tariffs) to end a cycle."""
LOAD_LIMIT_AUTOMATION = """- id: load_limit_l1
  alias: L1 load limit
  use_blueprint:
    path: atm90e32/load_limit.yaml
    input:
      monitored: sensor.atm90e32as_simulated_l1_current
      upper_limit: 80
      over_for:
        seconds: 10
      lower_limit: 64
      under_for:
        minutes: 5
      loads:
        - input_boolean.ev_charger
        - input_boolean.water_heater
        - input_boolean.dryer
"""
"""An automation from the load limit blueprint, for its picture (loads are input booleans here)."""
IMPORTED = "sensor.atm90e32as_simulated_imported_energy"
EXPORTED = "sensor.atm90e32as_simulated_exported_energy"


def readme_block(top_key: str) -> str:
    """The README's ```yaml block that starts with ``<top_key>:``, dedented to its fence."""
    blocks: list[str] = []
    current: list[str] | None = None
    indent = 0
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        if current is None and line.strip() == "```yaml":
            current, indent = [], len(line) - len(line.lstrip())
        elif current is not None and line.strip() == "```":
            blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line[indent:])
    (found,) = [block for block in blocks if block.startswith(f"{top_key}:")]
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(config: Path, port: int) -> None:
    (config / "custom_components").mkdir(parents=True)
    (config / "custom_components" / "atm90e32").symlink_to(REPO / "custom_components" / "atm90e32")
    (config / "dashboards").mkdir()
    shutil.copy(REPO / "dashboards" / "bill_check.yaml", config / "dashboards" / "bill_check.yaml")
    shutil.copytree(REPO / "blueprints", config / "blueprints")  # as importing them puts them
    (config / "automations.yaml").write_text(LOAD_LIMIT_AUTOMATION, encoding="utf-8")
    recipe = "".join(readme_block(key) for key in ("template", "input_number", "utility_meter", "lovelace"))
    (config / "configuration.yaml").write_text(
        f"""homeassistant:
  name: Bill check
  time_zone: America/Los_Angeles
  unit_system: us_customary
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
  db_url: sqlite:///{config}/home-assistant_v2.db
  commit_interval: 1
logger:
  default: warning
automation: !include automations.yaml
input_boolean:
  ev_charger:
    name: EV charger
  water_heater:
    name: Water heater
  dryer:
    name: Dryer
{recipe}""",
        encoding="utf-8",
    )
    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "seed_dev_config.py"),
            str(config),
            str(SPEED),
            "--wirings",
            "split_phase_2ct",
        ],
        check=True,
    )


def onboard(url: str) -> dict[str, Any]:
    """Create the owner and finish onboarding through the API; returns the token response."""
    user = requests.post(
        f"{url}/api/onboarding/users",
        json={
            "client_id": CLIENT_ID,
            "name": "Bill",
            "username": "bill",
            "password": "bill-password",
            "language": "en",
        },
        timeout=30,
    )
    user.raise_for_status()
    tokens = requests.post(
        f"{url}/auth/token",
        data={"grant_type": "authorization_code", "code": user.json()["auth_code"], "client_id": CLIENT_ID},
        timeout=30,
    )
    tokens.raise_for_status()
    token: dict[str, Any] = tokens.json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    for step, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID}),
    ):
        requests.post(f"{url}/api/onboarding/{step}", json=body, headers=headers, timeout=30).raise_for_status()
    return token


def call(url: str, token: str, service: str, data: dict[str, Any]) -> None:
    domain, name = service.split(".")
    response = requests.post(
        f"{url}/api/services/{domain}/{name}", json=data, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    response.raise_for_status()


async def websocket(url: str, token: str, messages: list[dict[str, Any]]) -> None:
    """Send ``messages`` over Home Assistant's WebSocket API, each must succeed."""
    async with aiohttp.ClientSession() as session, session.ws_connect(f"{url}/api/websocket") as ws:
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        for number, message in enumerate(messages, 1):
            await ws.send_json({"id": number, **message})
            while True:
                answer = await ws.receive_json()
                if answer.get("id") == number and answer["type"] == "result":
                    assert answer["success"], answer
                    break


def set_tariff(url: str, token: str, tariff: str) -> None:
    for select in ("select.energy_import_tou", "select.energy_export_tou"):
        call(url, token, "select.select_option", {"entity_id": select, "option": tariff})


def screenshots(url: str, token: dict[str, Any]) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: run scripts/setup"
    OUT.mkdir(parents=True, exist_ok=True)
    stored = {
        "access_token": token["access_token"],
        "token_type": "Bearer",
        "expires_in": token["expires_in"],
        "refresh_token": token["refresh_token"],
        "hassUrl": url,
        "clientId": CLIENT_ID,
        "expires": int(time.time() * 1000) + token["expires_in"] * 1000,
    }
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium)
        context = browser.new_context(
            viewport={"width": 1280, "height": 860}, locale="en-US", timezone_id="America/Los_Angeles"
        )
        context.add_init_script(f"window.localStorage.setItem('hassTokens', {json.dumps(json.dumps(stored))});")

        def local_only(route: Route) -> None:
            if route.request.url.startswith(url):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", local_only)
        page = context.new_page()
        for path, name, wait_for in (
            ("/bill-check/bill-check", "bill-check-dashboard.png", "This billing cycle and the last"),
            ("/config/energy", "energy-grid-costs.png", "Electricity grid"),
            ("/config/automation/edit/load_limit_l1", "blueprint-load-limit.png", "Sensor to limit"),
        ):
            page.goto(f"{url}{path}")
            page.get_by_text(wait_for).first.wait_for(timeout=60_000)
            confirm = page.get_by_role("button", name="Confirm", exact=True)
            if confirm.count():  # Home Assistant asks to keep the http: settings it moved to its storage
                confirm.click()
            page.wait_for_timeout(4000)  # charts and cards settle
            if path == "/config/energy":  # the grid connection's prices: open its edit dialog
                edit = page.get_by_role("button", name="Edit").first
                if edit.count():
                    edit.click()
                    page.get_by_text("Use an entity with current price").first.wait_for(timeout=30_000)
                    page.wait_for_timeout(1500)
            page.screenshot(path=str(OUT / name))
            print(f"bill_screenshots: {OUT / name} ({(OUT / name).stat().st_size // 1024} KB)")
        browser.close()


def main(minutes: float) -> None:
    config = Path(tempfile.mkdtemp(prefix="hass-bill-"))
    port = free_port()
    write_config(config, port)
    url = f"http://127.0.0.1:{port}"
    log = (config / "hass.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "homeassistant", "-c", str(config), "--skip-pip"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": ""},
    )
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if requests.get(f"{url}/api/onboarding", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"hass did not start: see {config}/hass.log"
            time.sleep(1)
        token = onboard(url)
        access = token["access_token"]
        for tariff, price in PRICES.items():
            call(url, access, "input_number.set_value", {"entity_id": f"input_number.price_{tariff}", "value": price})
        grid = {
            "type": "grid",
            "stat_energy_from": IMPORTED,
            "stat_energy_to": EXPORTED,
            "entity_energy_price": "sensor.electricity_price",
            "entity_energy_price_export": "sensor.electricity_price",
            "stat_rate": "sensor.atm90e32as_simulated_total_power",
            "cost_adjustment_day": 0,
        }
        prefs = {"type": "energy/save_prefs", "energy_sources": [grid], "device_consumption": []}
        # Home Assistant moved the http: settings above into its storage and keeps them only once
        # confirmed (the frontend's "Confirm new HTTP server configuration"); unconfirmed, it
        # restarts on its default port after 5 minutes.
        asyncio.run(websocket(url, access, [{"type": "http/config/promote"}, prefs]))
        quarter = minutes * 60 / 4
        for step, tariff in enumerate(("peak", "off_peak", "peak", "off_peak")):
            set_tariff(url, access, tariff)
            time.sleep(quarter)
            if step == 1:  # the cycle ends: what the monthly cycle does at midnight on the 1st
                for meter in METERS:
                    call(url, access, "utility_meter.reset", {"entity_id": meter})
        screenshots(url, token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        print(f"bill_screenshots: Home Assistant's configuration and log are in {config}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 4.0)
