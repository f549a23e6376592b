"""End to end: Home Assistant's `prometheus` integration exporting our sensors, scraped by a real Prometheus.

The Home Assistant process is the e2e package's (tests/e2e/conftest.py), configured
with the README's `prometheus:` block; the Prometheus server uses the README's
scrape_configs and runs the README's PromQL queries, and starts first, so that it
gathers history while the other tests run.  States change at every refresh (5 s, that
is 100 s of the replayed trace), so a metric is compared with the state Home Assistant
showed only when that state did not change around the scrape: same ``last_updated``
before and after, and the same time in the metric
``homeassistant_last_updated_time_seconds``.  Then the values must be equal, not
merely close.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from .conftest import REPO, HassProcess, PrometheusServer, readme_blocks, wait_for

PREFIX = "sensor.atm90e32as_simulated_"
LAST_UPDATED = "homeassistant_last_updated_time_seconds"
AVAILABLE = "homeassistant_entity_available"
ENERGY = "homeassistant_sensor_energy_kwh"

METRICS = {
    "l1_voltage": "homeassistant_sensor_voltage_v",
    "l2_voltage": "homeassistant_sensor_voltage_v",
    "l1_current": "homeassistant_sensor_current_a",
    "l2_current": "homeassistant_sensor_current_a",
    "l1_power": "homeassistant_sensor_power_w",
    "l2_power": "homeassistant_sensor_power_w",
    "total_power": "homeassistant_sensor_power_w",
    "l1_power_factor": "homeassistant_sensor_power_factor_None",
    "l2_power_factor": "homeassistant_sensor_power_factor_None",
    "total_power_factor": "homeassistant_sensor_power_factor_None",
    "line_frequency": "homeassistant_sensor_frequency_hz",
    "chip_temperature": "homeassistant_sensor_temperature_celsius",
    **{demand: "homeassistant_sensor_power_w" for demand in ("demand", "projected_demand", "peak_demand")},
    "peak_demand_time": "homeassistant_sensor_timestamp_seconds",
    **{f"{leg}{d}_energy": ENERGY for leg in ("l1_", "l2_", "") for d in ("imported", "exported")},
    **{
        f"{leg}_{count}": "homeassistant_sensor_state"
        for leg in ("l1", "l2")
        for count in ("sags", "swells", "phase_losses")
    },
}
"""Every sensor a new installation enables, and the metric Home Assistant exports it as (the README's table)."""

IMPORTED = [f"{PREFIX}{leg}imported_energy" for leg in ("l1_", "l2_", "")]
EXPORTED = [f"{PREFIX}{leg}exported_energy" for leg in ("l1_", "l2_", "")]
TOTAL_IMPORTED = f"{PREFIX}imported_energy"
"""The service's imported energy (installations before 0.2: ``…_total_energy_imported``)."""

type Scrape = dict[tuple[str, str], float]
"""(metric name, entity id) -> value, of the samples that carry an ``entity`` label."""


def scrape(hass: HassProcess, headers: dict[str, str] | None = None) -> tuple[Scrape, dict[str, dict[str, str]]]:
    """GET /api/prometheus as Prometheus would; the samples by (metric, entity) and each entity's labels."""
    response = requests.get(
        f"{hass.url}/api/prometheus", headers=hass.headers if headers is None else headers, timeout=30
    )
    response.raise_for_status()
    values: Scrape = {}
    labels: dict[str, dict[str, str]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if entity := sample.labels.get("entity"):
                values[sample.name, entity] = sample.value
                labels.setdefault(entity, sample.labels)
    return values, labels


def our_states(hass: HassProcess) -> dict[str, dict[str, Any]]:
    states: list[dict[str, Any]] = hass.get("/api/states")
    return {state["entity_id"]: state for state in states if state["entity_id"].startswith(PREFIX)}


def timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def test_prometheus_scrapes_home_assistant_with_the_readme_configuration(prometheus: PrometheusServer) -> None:
    """The README's scrape_configs (bearer token from a file, /api/prometheus) scrapes successfully."""

    def up() -> bool:
        result = prometheus.query(f'up{{job="{prometheus.job}"}}')
        return bool(result) and result[0]["value"][1] == "1"

    wait_for(up, 30, "a successful scrape of Home Assistant")
    (samples,) = prometheus.query(f'scrape_samples_scraped{{job="{prometheus.job}"}}')
    assert float(samples["value"][1]) >= len(METRICS)


def test_readme_names_the_metrics_home_assistant_exports() -> None:
    """The README's metric table names exactly the metrics the scrape test finds for our sensors."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Prometheus and Grafana", 1)[1].split("\n## ", 1)[0]
    assert set(re.findall(r"`(homeassistant_sensor_\w+)`", section)) == set(METRICS.values())
    assert {AVAILABLE, LAST_UPDATED} <= set(re.findall(r"`(homeassistant_\w+)`", section))


def test_metrics_need_a_token(hass_process: HassProcess) -> None:
    response = requests.get(f"{hass_process.url}/api/prometheus", timeout=30)
    assert response.status_code == 401
    assert requests.get(f"{hass_process.url}/api/prometheus", headers=hass_process.headers, timeout=30).ok


def test_every_metric_equals_the_state_home_assistant_shows(hass_process: HassProcess) -> None:
    """Each enabled sensor, and only ours, under the README's metric name with exactly its state's value."""
    expected = {f"{PREFIX}{key}" for key in METRICS}
    compared: set[str] = set()
    for _ in range(10):
        before = our_states(hass_process)
        values, labels = scrape(hass_process)
        after = our_states(hass_process)
        assert set(before) >= expected, sorted(expected - set(before))
        # the README's filter: our sensors and nothing else; disabled sensors have no state
        assert {entity for _, entity in values} == expected, sorted({entity for _, entity in values} ^ expected)
        for entity_id in expected:
            state = before[entity_id]
            if after[entity_id]["last_updated"] != state["last_updated"]:
                continue  # a refresh landed during the scrape: compare this one next time
            metric = METRICS[entity_id.removeprefix(PREFIX)]
            sensor_metrics = {name for name, entity in values if entity == entity_id and "_sensor_" in name}
            assert values[LAST_UPDATED, entity_id] == pytest.approx(timestamp(state["last_updated"]), abs=1e-6)
            if state["state"] == "unknown":  # a demand before its first whole interval: no value is exported
                assert not sensor_metrics, (entity_id, sensor_metrics)
                compared.add(entity_id)
                continue
            assert sensor_metrics == {metric}, (entity_id, sensor_metrics)
            shown = timestamp(state["state"]) if metric.endswith("_timestamp_seconds") else float(state["state"])
            assert values[metric, entity_id] == shown, (entity_id, values[metric, entity_id], state)
            assert values[AVAILABLE, entity_id] == 1.0
            assert labels[entity_id]["friendly_name"] == state["attributes"]["friendly_name"]
            assert labels[entity_id]["domain"] == "sensor"
            compared.add(entity_id)
        if compared == expected:
            break
    assert compared == expected, sorted(expected - compared)


def test_energy_counters_count_up_between_refreshes(hass_process: HassProcess) -> None:
    """Across one refresh every energy metric is >= before; each leg and the total import more (no solar here)."""
    first, _ = scrape(hass_process)
    total = TOTAL_IMPORTED

    def refreshed() -> bool:
        return scrape(hass_process)[0][LAST_UPDATED, total] > first[LAST_UPDATED, total]

    wait_for(refreshed, 30, "a refresh of the energy sensors")
    second, _ = scrape(hass_process)
    for entity_id in IMPORTED:
        assert second[ENERGY, entity_id] > first[ENERGY, entity_id] >= 0, entity_id
    for entity_id in EXPORTED:
        assert second[ENERGY, entity_id] >= first[ENERGY, entity_id] >= 0, entity_id


def wait_for_history(prometheus: PrometheusServer) -> None:
    """Enough samples for increase(): ten scrapes (0.5 s apart), and a refresh in between."""
    selector = f'{ENERGY}{{entity="{TOTAL_IMPORTED}"}}'

    def enough() -> bool:
        changes = prometheus.query(f"changes({selector}[1h])")
        count = prometheus.query(f"count_over_time({selector}[1h])")
        return bool(changes and count) and float(changes[0]["value"][1]) >= 1 and float(count[0]["value"][1]) >= 10

    wait_for(enough, 60, "ten scrapes spanning a refresh")


def readme_queries() -> dict[str, str]:
    queries = [block.strip() for block in readme_blocks("promql")]
    assert len(queries) == 3, queries
    power, daily, today = queries
    return {"power": power, "daily": daily, "today": today}


def by_entity(result: list[dict[str, Any]]) -> dict[str, float]:
    return {series["metric"]["entity"]: float(series["value"][1]) for series in result}


def test_readme_power_query_gives_each_leg_as_home_assistant_shows_it(
    prometheus: PrometheusServer, hass_process: HassProcess
) -> None:
    query = readme_queries()["power"]
    legs = {f"{PREFIX}l1_power", f"{PREFIX}l2_power"}
    wait_for_history(prometheus)  # the queries look a second back: Prometheus must have scraped by then
    for _ in range(20):
        at = time.time() - 1  # both queries see the same scrape
        power = by_entity(prometheus.query(query, at))
        assert set(power) == legs, power
        scraped_at = by_entity(prometheus.query(f'{LAST_UPDATED}{{entity=~"{PREFIX}l[12]_power"}}', at))
        states = our_states(hass_process)
        same = [e for e in legs if timestamp(states[e]["last_updated"]) == pytest.approx(scraped_at[e], abs=1e-6)]
        for entity_id in same:
            assert power[entity_id] == float(states[entity_id]["state"]), entity_id
        if len(same) == len(legs):
            return
        time.sleep(0.5)  # Prometheus's last scrape was before Home Assistant's latest refresh
    pytest.fail("Prometheus's newest sample never matched Home Assistant's state in 20 tries")


def test_readme_energy_queries_agree_with_the_counters(prometheus: PrometheusServer) -> None:
    """increase() of the README's daily and today queries lies between the raw samples' rise and its extrapolation.

    With at least ten scrapes 0.5 s apart, Prometheus's extrapolation to the window's ends
    adds at most half an interval before the first sample and 1.1 intervals after the
    last: the result is at most (span + 0.8 s) / span times the rise, with span >= 4.5 s
    under 1.2 times.
    """
    wait_for_history(prometheus)
    queries = readme_queries()
    at = time.time() - 1  # every query over the same samples
    daily = by_entity(prometheus.query(queries["daily"], at))
    assert set(daily) == set(IMPORTED), daily
    today = by_entity(prometheus.query(queries["today"].replace("$__range", "1h"), at))
    assert set(today) == {TOTAL_IMPORTED}, today
    selector = f'{ENERGY}{{entity=~"{PREFIX}.*imported_energy"}}'
    low = by_entity(prometheus.query(f"min_over_time({selector}[1d])", at))
    rise = {
        entity: high - low[entity]
        for entity, high in by_entity(prometheus.query(f"max_over_time({selector}[1d])", at)).items()
    }
    for entity_id in IMPORTED:
        assert rise[entity_id] > 0, entity_id
        assert rise[entity_id] <= daily[entity_id] <= 1.5 * rise[entity_id], (entity_id, daily, rise)
    total = TOTAL_IMPORTED
    assert rise[total] <= today[total] <= 1.5 * rise[total]
