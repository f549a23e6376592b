"""The Logbook of a real Home Assistant (recorder included) lists power-quality events in order."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager, WebSocketGenerator

from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver.emulator import Disturbance, EmulatedAtm90e32

from .conftest import V14_OPTIONS
from .emulation import ManualClock
from .helpers import replay, setup_entry
from .test_power_quality import INTERVAL, entity_id, record


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: RecorderInstanceContextManager) -> None:
    """The recorder's database is prepared before Home Assistant starts (as Home Assistant core's recorder tests)."""


@pytest.mark.usefixtures("recorder_mock", "patched_monotonic")
@pytest.mark.parametrize("entry_options", [V14_OPTIONS])
async def test_the_logbook_lists_the_events_in_order(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    config_entry: MockConfigEntry,
    v14_board: EmulatedAtm90e32,
    clock: ManualClock,
) -> None:
    # The logbook depends on the frontend only to register its panel; the oldest release's test
    # environment has no frontend package, so the panel is left out on both.
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})
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
    await async_wait_recording_done(hass)

    client = await hass_ws_client()
    await client.send_json(
        {"id": 1, "type": "logbook/get_events", "start_time": start.isoformat(), "entity_ids": [sag, swell, event]}
    )
    response = await client.receive_json()
    assert response["success"], response
    entries = [(e["entity_id"], e.get("state")) for e in response["result"]]
    binary = [(entity, state) for entity, state in entries if entity in (sag, swell)]
    assert binary == [(sag, "on"), (sag, "off"), (swell, "on"), (swell, "off")]
    # The event entity fired two starts and two ends, in order ...
    assert [a["event_type"] for _, _, a in fired] == ["sag", "sag_end", "swell", "swell_end"]
    # ... and the Logbook lists each change of its state, the event's time to the millisecond (a start and
    # an end fired in the same millisecond share one line there; automations see both).
    distinct = [state for i, (_, state, _) in enumerate(fired) if i == 0 or state != fired[i - 1][1]]
    assert [state for entity, state in entries if entity == event] == distinct
    times = [e["when"] for e in response["result"]]
    assert times == sorted(times)
