"""End to end: a real Home Assistant process writing our sensors to a real InfluxDB,
with the Energy dashboard configured and validated, and long-term statistics compiled.

Runs in the README's test command and in CI; nothing here is mocked.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from .conftest import REPO, HassProcess, InfluxServer, wait_for

PREFIX = "sensor.atm90e32as_simulated_"
ENERGY_SENSORS = [f"{PREFIX}{leg}{d}_energy" for leg in ("l1_", "l2_", "") for d in ("imported", "exported")]
"""Entity ids of a new installation (names "L1 imported energy" ... "Imported energy", "Exported energy")."""


async def ws_command(hass: HassProcess, command: Mapping[str, Any]) -> Any:
    """Send one WebSocket command as the onboarded user; returns its result or raises."""
    async with aiohttp.ClientSession() as session, session.ws_connect(hass.ws_url) as ws:
        assert (await ws.receive_json())["type"] == "auth_required"
        await ws.send_json({"type": "auth", "access_token": hass.token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, **command})
        reply = await ws.receive_json()
        assert reply["success"], reply
        return reply["result"]


def test_influxdb_integration_set_up_through_its_config_flow(hass_process: HassProcess, influxdb: InfluxServer) -> None:
    flow = hass_process.post("/api/config/config_entries/flow", {"handler": "influxdb"})
    if flow["type"] == "menu":
        flow = hass_process.post(f"/api/config/config_entries/flow/{flow['flow_id']}", {"next_step_id": "configure_v1"})
    assert flow["step_id"] == "configure_v1", flow
    result = hass_process.post(
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {"url": influxdb.url, "verify_ssl": False, "database": influxdb.database},
    )
    assert result["type"] == "create_entry", result


def test_points_arrive_in_home_assistant_layout(hass_process: HassProcess, influxdb: InfluxServer) -> None:
    def measurements() -> set[str]:
        return {row[0] for series in influxdb.query("SHOW MEASUREMENTS") for row in series["values"]}

    # One measurement per unit; a sensor without a unit is its own measurement.  Home
    # Assistant writes a point on each state change, in batches, so each unit's first
    # point comes with the first change after InfluxDB was connected (the constant
    # 60.00 Hz of the simulated line never gets one).
    expected = {"W", "V", "A", "kWh"}
    wait_for(lambda: expected <= measurements(), 60, f"points of each of {expected} in InfluxDB")
    # The simulated household's power factor is a steady 0.95, and its states are rounded
    # to 0.001, so the total power factor does not change either: it is written again
    # (and so gets its point) when the meter is reloaded, as when options are saved.
    (meter,) = [e for e in hass_process.get("/api/config/config_entries/entry") if e["domain"] == "atm90e32"]
    hass_process.post(f"/api/config/config_entries/entry/{meter['entry_id']}/reload", {})
    unitless = f"{PREFIX}total_power_factor"
    wait_for(lambda: unitless in measurements(), 60, f"points of {unitless} in InfluxDB")

    def energy_entity_ids() -> set[str]:
        tags = influxdb.query('SHOW TAG VALUES FROM "kWh" WITH KEY = "entity_id"')
        return {row[1] for row in tags[0]["values"]}

    # the export totals stay 0 for this household (no solar): no state change, no point
    imported = {name.removeprefix("sensor.") for name in ENERGY_SENSORS if "imported" in name}
    wait_for(lambda: imported <= energy_entity_ids(), 60, "points of every imported-energy sensor")
    domains = influxdb.query('SHOW TAG VALUES FROM "W" WITH KEY = "domain"')
    assert {row[1] for row in domains[0]["values"]} == {"sensor"}
    # only our sensors were written, and without the ignored attributes
    fields = {row[0] for row in influxdb.query('SHOW FIELD KEYS FROM "kWh"')[0]["values"]}
    assert "value" in fields
    assert not {"friendly_name_str", "device_class_str", "unit_of_measurement_str"} & fields


@pytest.mark.parametrize(
    ("entity", "measurement"),
    [("imported_energy", "kWh"), ("l1_power", "W"), ("l2_voltage", "V"), ("l1_current", "A")],
)
def test_points_match_the_states_home_assistant_shows(
    hass_process: HassProcess, influxdb: InfluxServer, entity: str, measurement: str
) -> None:
    """The newest point equals the state Home Assistant shows (sampled until both agree, 60 s at most)."""

    def agree() -> bool:
        series = influxdb.query(
            f'SELECT last("value") FROM "{measurement}" WHERE "entity_id" = \'atm90e32as_simulated_{entity}\''
        )
        state = float(hass_process.state(f"{PREFIX}{entity}")["state"])
        return bool(series) and abs(series[0]["values"][0][1] - state) <= 1e-9 * max(1.0, abs(state))

    wait_for(agree, 60, f"InfluxDB's newest {entity} point and Home Assistant's state to agree")


def test_grafana_dashboard_queries_return_data(influxdb: InfluxServer) -> None:
    dashboard = json.loads((REPO / "grafana" / "atm90e32-influxdb.json").read_text(encoding="utf-8"))
    queries = [target["query"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert len(queries) == 4
    zone = "America/Vancouver"
    for query in queries:
        q = query.replace("$timeFilter", "time > now() - 1h").replace("$__interval", "10s").replace("$tz", zone)
        series = influxdb.query(q)
        assert series, f"no data for {query}"
        assert all(series_["values"] for series_ in series)
        if "time(1d)" in query:  # the days begin at midnight where the person lives
            for series_ in series:
                for row in series_["values"]:
                    start = datetime.fromisoformat(row[0]).astimezone(ZoneInfo(zone))
                    assert (start.hour, start.minute) == (0, 0), row


def test_grafana_dashboard_matches_old_and_new_entity_ids() -> None:
    """Installations made before the energy sensors' names changed keep their entity ids: both must match."""
    import re

    dashboard = json.loads((REPO / "grafana" / "atm90e32-influxdb.json").read_text(encoding="utf-8"))
    queries = [target["query"] for panel in dashboard["panels"] for target in panel["targets"]]

    def selected(query: str, ids: list[str]) -> list[str]:
        wanted = re.findall(r'"entity_id" =~ /(.*?)/', query)
        unwanted = re.findall(r'"entity_id" !~ /(.*?)/', query)
        return [i for i in ids if all(re.search(w, i) for w in wanted) and not any(re.search(u, i) for u in unwanted)]

    old_ids = [
        f"atm90e32as_spidev0_0_{leg}_energy_{d}" for leg in ("l1", "l2", "total") for d in ("imported", "exported")
    ]
    new_ids = [f"atm90e32as_spidev0_0_{leg}{d}_energy" for leg in ("l1_", "l2_", "") for d in ("imported", "exported")]
    daily = next(q for q in queries if "time(1d)" in q)
    assert selected(daily, old_ids) == [i for i in old_ids if i.endswith("imported")]
    assert selected(daily, new_ids) == [i for i in new_ids if "imported" in i]
    hourly = next(q for q in queries if "time(1h)" in q)  # the service totals only
    assert selected(hourly, old_ids) == old_ids[4:]
    assert selected(hourly, new_ids) == new_ids[4:]


async def test_long_term_statistics_compile_with_no_negative_sums(hass_process: HassProcess) -> None:
    """Waits for the recorder's next 5-minute statistics run (at most about 5 minutes)."""
    started = time.time()

    async def statistics() -> dict[str, list[dict[str, Any]]]:
        result: dict[str, list[dict[str, Any]]] = await ws_command(
            hass_process,
            {
                "type": "recorder/statistics_during_period",
                "start_time": "2000-01-01T00:00:00+00:00",
                "statistic_ids": ENERGY_SENSORS,
                "period": "5minute",
                "types": ["sum", "state"],
            },
        )
        return result

    stats: dict[str, list[dict[str, Any]]] = {}
    while time.time() - started < 330:
        stats = await statistics()
        if set(stats) >= {f"{PREFIX}imported_energy", f"{PREFIX}l1_imported_energy"}:
            break
        await asyncio.sleep(5)
    assert f"{PREFIX}imported_energy" in stats, f"no statistics compiled in 330 s: {list(stats)}"
    for statistic_id, rows in stats.items():
        sums = [row["sum"] for row in rows]
        assert all(value >= 0 for value in sums), (statistic_id, sums)
        assert sums == sorted(sums), (statistic_id, sums)
        states = [row["state"] for row in rows]
        assert all(value >= 0 for value in states), (statistic_id, states)


async def test_energy_dashboard_configuration_passes_validation(hass_process: HassProcess) -> None:
    """Runs after the statistics test: validation wants compiled statistics for each sensor."""
    prefs = {
        "energy_sources": [
            {
                "type": "grid",
                "stat_energy_from": f"{PREFIX}imported_energy",
                "stat_energy_to": f"{PREFIX}exported_energy",
                "stat_rate": f"{PREFIX}total_power",
                "cost_adjustment_day": 0,
            }
        ],
        "device_consumption": [
            {"stat_consumption": f"{PREFIX}l1_imported_energy", "name": "Leg L1"},
            {"stat_consumption": f"{PREFIX}l2_imported_energy", "name": "Leg L2"},
        ],
    }
    await ws_command(hass_process, {"type": "energy/save_prefs", **prefs})
    saved = await ws_command(hass_process, {"type": "energy/get_prefs"})
    assert saved["energy_sources"][0]["stat_energy_from"] == f"{PREFIX}imported_energy"
    validation = await ws_command(hass_process, {"type": "energy/validate"})
    assert validation["energy_sources"] == [[]], validation
    assert validation["device_consumption"] == [[], []], validation
