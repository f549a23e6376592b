"""Real servers for the end-to-end tests: an InfluxDB 1.x and a Home Assistant process.

Both listen on 127.0.0.1 only, on free ports, with temporary data directories, and are
stopped when the module's tests end.  scripts/setup installs influxd; Home Assistant is
the venv's own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_socket
import requests

REPO = Path(__file__).resolve().parents[2]
SIMULATION_SPEED = 20.0
"""Trace seconds per real second: 100 s of household per 5 s refresh (a register fills no more than 40 %)."""
START_TIMEOUT_S = 180


@pytest.fixture(autouse=True)
def real_sockets() -> None:
    """These tests talk to real servers on 127.0.0.1: undo the unit tests' socket guard."""
    pytest_socket.enable_socket()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException as err:
            last = err
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not come up in {timeout} s ({last})")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class InfluxServer:
    url: str
    database: str

    def query(self, q: str) -> list[dict[str, Any]]:
        response = requests.get(f"{self.url}/query", params={"db": self.database, "q": q}, timeout=10)
        response.raise_for_status()
        result = response.json()["results"][0]
        assert "error" not in result, result
        return list(result.get("series", []))


@pytest.fixture(scope="module")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Generator[InfluxServer]:
    """influxd on 127.0.0.1 with a temporary data directory and a fresh database."""
    pytest_socket.enable_socket()  # module fixtures are set up before the autouse one
    influxd = shutil.which("influxd")
    assert influxd, "influxd is missing: run scripts/setup"
    data = tmp_path_factory.mktemp("influxdb")
    http_port, rpc_port = free_port(), free_port()
    config = data / "influxdb.conf"
    config.write_text(
        f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{data}/meta"
[data]
  dir = "{data}/data"
  wal-dir = "{data}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[monitor]
  store-enabled = false
""",
        encoding="utf-8",
    )
    log = (data / "influxd.log").open("wb")
    process = subprocess.Popen([influxd, "run", "-config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    try:
        wait_for(lambda: requests.get(f"{url}/ping", timeout=2).status_code == 204, 60, "influxd")
        requests.post(f"{url}/query", params={"q": "CREATE DATABASE home_assistant"}, timeout=10).raise_for_status()
        yield InfluxServer(url=url, database="home_assistant")
    finally:
        stop(process)
        log.close()


@dataclass
class HassProcess:
    url: str
    token: str
    config_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/websocket"

    def get(self, path: str) -> Any:
        response = requests.get(f"{self.url}{path}", headers=self.headers, timeout=30)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, payload: dict[str, Any]) -> Any:
        response = requests.post(f"{self.url}{path}", headers=self.headers, json=payload, timeout=30)
        response.raise_for_status()
        return response.json()

    def state(self, entity_id: str) -> dict[str, Any]:
        result = self.get(f"/api/states/{entity_id}")
        assert isinstance(result, dict)
        return result


@pytest.fixture(scope="module")
def hass_process(tmp_path_factory: pytest.TempPathFactory, influxdb: InfluxServer) -> Generator[HassProcess]:
    """A real `hass -c <tmp>` with this integration (accelerated trace replay) and InfluxDB's YAML filters."""
    pytest_socket.enable_socket()
    config_dir = tmp_path_factory.mktemp("hass")
    port = free_port()
    (config_dir / "custom_components").mkdir()
    (config_dir / "custom_components" / "atm90e32").symlink_to(REPO / "custom_components" / "atm90e32")
    (config_dir / "configuration.yaml").write_text(
        f"""homeassistant:
  name: e2e
  time_zone: UTC
  unit_system: metric
  currency: USD
  country: US
http:
  server_host: 127.0.0.1
  server_port: {port}
api:
config:
energy:
recorder:
  db_url: sqlite:///{config_dir}/home-assistant_v2.db
  commit_interval: 1
influxdb:
  include:
    entity_globs:
      - sensor.atm90e32*
  ignore_attributes:
    - friendly_name
    - device_class
    - state_class
    - unit_of_measurement
    - icon
logger:
  default: warning
""",
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "seed_dev_config.py"), str(config_dir), str(SIMULATION_SPEED)],
        check=True,
    )
    log = (config_dir / "hass.log").open("wb")
    env = {**os.environ, "PYTHONPATH": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "homeassistant", "-c", str(config_dir), "--skip-pip"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{url}/api/onboarding", timeout=2).status_code == 200, START_TIMEOUT_S, "hass")
        created = requests.post(
            f"{url}/api/onboarding/users",
            json={
                "client_id": f"{url}/",
                "name": "e2e",
                "username": "e2e",
                "password": "e2e-password",
                "language": "en",
            },
            timeout=30,
        )
        created.raise_for_status()
        token = requests.post(
            f"{url}/auth/token",
            data={"grant_type": "authorization_code", "code": created.json()["auth_code"], "client_id": f"{url}/"},
            timeout=30,
        ).json()["access_token"]
        hass = HassProcess(url=url, token=token, config_dir=config_dir, process=process)
        wait_for(
            lambda: hass.state("sensor.atm90e32as_simulated_total_power")["state"] not in ("unavailable", "unknown"),
            60,
            "the simulated meter's sensors",
        )
        yield hass
    finally:
        stop(process)
        log.close()
