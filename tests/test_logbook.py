"""The Logbook of a real Home Assistant (recorder included) lists power-quality events in order, each with its
channel, the value read and the limit crossed (issue 26 item 15), in Home Assistant's language."""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager, WebSocketGenerator

from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver.channels import CIRCUITS_KEY
from custom_components.atm90e32.driver.emulator import Disturbance, EmulatedAtm90e32

from .conftest import V14_OPTIONS, WIRING_CASES
from .emulation import ManualClock
from .helpers import replay, setup_entry
from .test_power_quality import INTERVAL, entity_id, record


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: RecorderInstanceContextManager) -> None:
    """The recorder's database is prepared before Home Assistant starts (as Home Assistant core's recorder tests)."""


async def start_logbook(hass: HomeAssistant) -> None:
    # The logbook depends on the frontend only to register its panel; the oldest release's test
    # environment has no frontend package, so the panel is left out on both.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})


async def logbook(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, start: str, entity_ids: list[str]
) -> list[dict[str, Any]]:
    """The Logbook's entries for ``entity_ids`` since ``start``, as the frontend asks for them."""
    await async_wait_recording_done(hass)
    client = await hass_ws_client()
    await client.send_json({"id": 1, "type": "logbook/get_events", "start_time": start, "entity_ids": entity_ids})
    response = await client.receive_json()
    assert response["success"], response
    entries: list[dict[str, Any]] = response["result"]
    return entries


@pytest.mark.usefixtures("recorder_mock", "patched_monotonic")
@pytest.mark.parametrize("entry_options", [V14_OPTIONS])
async def test_the_logbook_lists_the_events_in_order(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    config_entry: MockConfigEntry,
    v14_board: EmulatedAtm90e32,
    clock: ManualClock,
) -> None:
    await start_logbook(hass)
    entry = config_entry
    coordinator = await setup_entry(hass, entry)
    await replay(coordinator, clock, 10)
    start = dt_util.utcnow()
    sag = entity_id(hass, entry, "binary_sensor", "l1_sag")
    swell = entity_id(hass, entry, "binary_sensor", "l2_swell")
    event = entity_id(hass, entry, "event", "power_quality")
    fired = record(hass, event)
    now = clock()
    v14_board.schedule(Disturbance(kind="sag", phase=Phase.A, start=now + 2.0, end=now + 2.2, value=80.0))
    v14_board.schedule(Disturbance(kind="swell", phase=Phase.C, start=now + 7.0, end=now + 8.0, value=140.0))
    await replay(coordinator, clock, 3 * INTERVAL)

    result = await logbook(hass, hass_ws_client, start.isoformat(), [sag, swell, event])
    entries = [(e["entity_id"], e.get("state")) for e in result]
    binary = [(entity, state) for entity, state in entries if entity in (sag, swell)]
    assert binary == [(sag, "on"), (sag, "off"), (swell, "on"), (swell, "off")]
    # The event entity fired two starts and two ends, in order ...
    assert [a["event_type"] for _, _, a in fired] == ["sag", "sag_end", "swell", "swell_end"]
    # ... and the Logbook lists each change of its state, the event's time to the millisecond (a start and
    # an end fired in the same millisecond share one line there; automations see both) ...
    distinct = [state for i, (_, state, _) in enumerate(fired) if i == 0 or state != fired[i - 1][1]]
    assert [state for entity, state in entries if entity == event and state is not None] == distinct
    # ... and says, for each start and end, which leg, what it read and the limit crossed (issue 26 item 15).
    said = [e["message"] for e in result if e.get("message")]
    # Both began and ended between two refreshes: the chip latched them, the refresh read the voltage back.
    assert said == [
        "L1: voltage sag started (limit 96 V)",
        "L1: voltage sag ended at 120 V (limit 96 V)",
        "L2: voltage swell started (limit 132 V)",
        "L2: voltage swell ended at 120 V (limit 132 V)",
    ]
    assert {(e["entity_id"], e["name"], e["domain"]) for e in result if e.get("message")} == {
        (event, "ATM90E32AS (simulated) Power quality", "atm90e32")
    }
    times = [e["when"] for e in result]
    assert times == sorted(times)


@pytest.mark.usefixtures("recorder_mock", "patched_monotonic")
@pytest.mark.parametrize(
    ("wiring", "entry_options", "language", "expected"),
    [
        (
            CIRCUITS_KEY,
            {**WIRING_CASES[CIRCUITS_KEY].options, "over_current": 30.0},
            "en",
            [
                "Dryer (CT3): over-current started at 41.5 A (limit 30 A)",
                "Dryer (CT3): over-current ended at 3.947 A (limit 30 A)",  # 450 W / 120 V / PF 0.95
                "Voltage sag started at 80 V (limit 96 V)",
                "Voltage sag ended at 120 V (limit 96 V)",
            ],
        ),
        (
            CIRCUITS_KEY,
            {**WIRING_CASES[CIRCUITS_KEY].options, "over_current": 30.0},
            "fr",
            [
                "Dryer (CT3): début d\u2019une surintensité à 41,5 A (seuil 30 A)",
                "Dryer (CT3): fin de la surintensité à 3,947 A (seuil 30 A)",
                "Début d\u2019un creux de tension à 80 V (seuil 96 V)",
                "Fin du creux de tension à 120 V (seuil 96 V)",
            ],
        ),
    ],
)
async def test_a_circuit_s_over_current_names_the_circuit_and_its_ct_in_the_language_of_home_assistant(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    language: str,
    expected: list[str],
) -> None:
    """Over-current on the dryer's CT3, then a sag of the one voltage every circuit shares (the chip's)."""
    hass.config.language = language
    await start_logbook(hass)
    mock_transport.load = WIRING_CASES[CIRCUITS_KEY].steady_load()
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, 10)
    start = dt_util.utcnow()
    event = entity_id(hass, config_entry, "event", "power_quality")
    now = clock()
    mock_transport.schedule(Disturbance(kind="over_current", phase=Phase.C, start=now + 1, end=now + 8, value=41.5))
    for phase in Phase:  # one transformer feeds every voltage input (the board's jumper)
        mock_transport.schedule(Disturbance(kind="sag", phase=phase, start=now + 12, end=now + 17, value=80.0))
    await replay(coordinator, clock, 4 * INTERVAL)

    result = await logbook(hass, hass_ws_client, start.isoformat(), [event])
    assert [e["message"] for e in result if e.get("message")] == expected
