"""Real servers for the end-to-end tests: an InfluxDB 1.x, a Home Assistant process and a Prometheus.

All listen on 127.0.0.1 only, on free ports, with temporary data directories, and are
stopped when the e2e package's tests end (one Home Assistant serves every e2e module).
scripts/setup installs influxd and prometheus; Home Assistant is the venv's own.  The
Prometheus parts of Home Assistant's configuration and of prometheus.yml are the
README's own blocks, so what the README tells people to write is what is tested.
"""

from __future__ import annotations

import asyncio
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

import aiohttp
import pytest
import pytest_socket
import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
SIMULATION_SPEED = 20.0
"""Trace seconds per real second: 100 s of household per 5 s refresh (a register fills no more than 40 %)."""
START_TIMEOUT_S = 180


def readme_blocks(language: str) -> list[str]:
    """The README's fenced code blocks in ``language`` (```yaml, ```promql), dedented, in order."""
    blocks: list[str] = []
    current: list[str] | None = None
    indent = 0
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if current is None and stripped == f"```{language}":
            current, indent = [], len(line) - len(line.lstrip())
        elif current is not None and stripped == "```":
            blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line[indent:])
    return blocks


def readme_yaml(top_key: str) -> str:
    """The README's ```yaml block whose first line is ``<top_key>:``."""
    found = [block for block in readme_blocks("yaml") if block.startswith(f"{top_key}:")]
    assert len(found) == 1, f"the README should have one yaml block starting with {top_key}:"
    return found[0]


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


@pytest.fixture(scope="package")
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

    def ws(self, command: dict[str, Any]) -> Any:
        """One WebSocket command as the onboarded user, from synchronous code; its result, or raises."""

        async def run() -> Any:
            async with aiohttp.ClientSession() as session, session.ws_connect(self.ws_url) as ws:
                assert (await ws.receive_json())["type"] == "auth_required"
                await ws.send_json({"type": "auth", "access_token": self.token})
                assert (await ws.receive_json())["type"] == "auth_ok"
                await ws.send_json({"id": 1, **command})
                reply = await ws.receive_json()
                assert reply["success"], reply
                return reply["result"]

        return asyncio.run(run())


@pytest.fixture(scope="package")
def hass_process(tmp_path_factory: pytest.TempPathFactory, influxdb: InfluxServer) -> Generator[HassProcess]:
    """A real `hass -c <tmp>` with this integration (accelerated trace replay), InfluxDB's YAML filters
    and the README's `prometheus:` configuration."""
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
{readme_yaml("prometheus")}logger:
  default: warning
""",
        encoding="utf-8",
    )
    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "seed_dev_config.py"),
            str(config_dir),
            str(SIMULATION_SPEED),
            "--wirings",
            "split_phase_2ct",  # these tests check one split-phase meter's data in each server
            # each refresh's state reaches the servers (balanced and lean are proven with the real
            # recorder in tests/test_publishing.py and scripts/recorder_benchmark)
            "--database-writes",
            "every_refresh",
        ],
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
        # Home Assistant 2026.10 moves the http: YAML above into its storage as a trial and, unless a
        # person confirms it, restarts on its default port after 5 minutes: confirm, as a person does.
        hass.ws({"type": "http/config/promote"})
        wait_for(
            lambda: hass.state("sensor.atm90e32as_simulated_total_power")["state"] not in ("unavailable", "unknown"),
            60,
            "the simulated meter's sensors",
        )
        yield hass
    finally:
        stop(process)
        log.close()


@dataclass
class PrometheusServer:
    url: str
    job: str
    token_file: Path

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant PromQL query (now, or at Unix time ``at``); its result vector of ``metric`` and ``value``."""
        params = {"query": promql} if at is None else {"query": promql, "time": f"{at:.3f}"}
        response = requests.get(f"{self.url}/api/v1/query", params=params, timeout=10)
        body = response.json()
        assert body["status"] == "success", (promql, body)
        assert body["data"]["resultType"] == "vector", body
        return list(body["data"]["result"])


@pytest.fixture(scope="package")
def prometheus(tmp_path_factory: pytest.TempPathFactory, hass_process: HassProcess) -> Generator[PrometheusServer]:
    """A real Prometheus scraping the Home Assistant process with the README's scrape_configs.

    Only what a person fills in differs: the target, the token file's path (the token is
    a long-lived access token made as the README says, through Home Assistant's own
    WebSocket command) and a 0.5 s scrape interval, so that the tests do not wait minutes.
    """
    pytest_socket.enable_socket()
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: run scripts/setup"
    data = tmp_path_factory.mktemp("prometheus")
    token = hass_process.ws({"type": "auth/long_lived_access_token", "client_name": "Prometheus", "lifespan": 365})
    token_file = data / "home-assistant.token"
    token_file.write_text(token, encoding="utf-8")
    config = yaml.safe_load(readme_yaml("scrape_configs"))
    (job,) = config["scrape_configs"]
    assert job["authorization"]["credentials_file"], job
    job["authorization"]["credentials_file"] = str(token_file)
    job["static_configs"] = [{"targets": [hass_process.url.removeprefix("http://")]}]
    job["scrape_interval"] = "500ms"
    (data / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = (data / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={data / 'prometheus.yml'}",
            f"--storage.tsdb.path={data / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=data,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{url}/-/ready", timeout=2).status_code == 200, 60, "prometheus")
        yield PrometheusServer(url=url, job=job["job_name"], token_file=token_file)
    finally:
        stop(process)
        log.close()
