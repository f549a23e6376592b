"""What the sensors write under "Database writes: balanced" (the default), in a real Home Assistant.

The policy itself is tested without Home Assistant in test_publishing_policy.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_UNAVAILABLE
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager

from custom_components.atm90e32.const import CONF_UPDATE_INTERVAL
from custom_components.atm90e32.coordinator import Atm90e32Coordinator
from custom_components.atm90e32.driver.emulator import ConstantLoad
from custom_components.atm90e32.driver.ledger import TOTAL, counts_to_kwh
from custom_components.atm90e32.publishing import CONF_DATABASE_WRITES, HEARTBEAT_S, JOULES_PER_COUNT, Mode

from .emulation import FaultyEmulator, ManualClock
from .helpers import replay, setup_entry, state

INTERVAL = 5


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: RecorderInstanceContextManager) -> None:
    """The recorder's database is prepared before Home Assistant starts (as Home Assistant core's recorder tests)."""


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id("sensor", "atm90e32", f"{entry.entry_id}_{key}")
    assert found is not None, key
    return found


def written(hass: HomeAssistant, entity: str) -> list[tuple[datetime, str]]:
    """Every state ``entity`` writes from now on: (time, state)."""
    states: list[tuple[datetime, str]] = []

    @callback
    def note(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if event.data["entity_id"] == entity and new is not None:
            states.append((new.last_updated, new.state))

    hass.bus.async_listen("state_changed", note)
    return states


async def run_until(
    coordinator: Atm90e32Coordinator, clock: ManualClock, freezer: FrozenDateTimeFactory, until: datetime
) -> None:
    """Refresh every INTERVAL seconds, Home Assistant's clock moving along, up to ``until``."""
    while dt_util.utcnow() + timedelta(seconds=INTERVAL) <= until:
        freezer.tick(INTERVAL)
        await replay(coordinator, clock, INTERVAL)


@pytest.mark.usefixtures("recorder_mock", "patched_monotonic")
async def test_an_hours_energy_statistics_equal_the_ledgers_counts(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The household trace for 70 minutes: the Energy dashboard's hour is the counts booked before its end."""
    freezer.move_to("2026-01-15T11:50:00.3+00:00")  # a coordinator runs at a fixed fraction of a second
    coordinator = await setup_entry(hass, config_entry)
    energy = entity_id(hass, config_entry, "total_energy_import")
    power = entity_id(hass, config_entry, "total_power")
    energy_states, power_states = written(hass, energy), written(hass, power)
    booked: list[tuple[datetime, int]] = []
    coordinator.async_add_listener(
        lambda: booked.append((dt_util.utcnow(), coordinator.ledger.counts((TOTAL, "import"))))
    )
    hour = datetime.fromisoformat("2026-01-15T12:00:00+00:00")
    await run_until(coordinator, clock, freezer, hour + timedelta(hours=1, seconds=5))
    await async_wait_recording_done(hass)
    period = hour - timedelta(minutes=10)
    while period < hour + timedelta(hours=1):
        do_adhoc_statistics(hass, start=period)
        period += timedelta(minutes=5)
    await async_wait_recording_done(hass)

    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        hour - timedelta(hours=1),
        hour + timedelta(hours=1),
        {energy},
        "hour",
        None,
        {"sum"},
    )
    sums: dict[datetime, float] = {}
    for row in stats[energy]:
        assert row["sum"] is not None
        sums[datetime.fromtimestamp(row["start"], dt_util.UTC)] = row["sum"]
    dashboard_kwh = sums[hour] - sums[hour - timedelta(hours=1)]

    def counts_before(moment: datetime) -> int:
        return max((at, counts) for at, counts in booked if at < moment)[1]

    counted = counts_before(hour + timedelta(hours=1)) - counts_before(hour)
    assert counted > 200_000  # about 0.7 kWh of the trace
    assert dashboard_kwh == pytest.approx(counts_to_kwh(counted), abs=1e-9)
    # ... from one energy state a minute (the last refresh before each minute), not 720
    in_hour = [at for at, _ in energy_states if hour <= at < hour + timedelta(hours=1)]
    assert len(in_hour) == 60
    assert all(at.second >= 60 - INTERVAL for at in in_hour)
    # the power, held within its deadband, writes far fewer than the 720 refreshes
    assert len([at for at, _ in power_states if hour <= at < hour + timedelta(hours=1)]) < 720 / 2


@pytest.mark.usefixtures("patched_monotonic")
async def test_a_held_power_writes_the_mean_of_its_energy_counts(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """L1 alternates 1000 W and 1016 W every refresh: within the 20 W band, then the heartbeat writes the mean."""
    freezer.move_to("2026-01-15T12:00:00.3+00:00")
    loads = [ConstantLoad(watts=(watts, 500.0), volts=120.0, power_factor=1.0) for watts in (1000.0, 1016.0)]
    mock_transport.load = loads[0]
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, INTERVAL)
    first = state(hass, config_entry, "l1_power")
    marks = [(dt_util.utcnow(), coordinator.ledger.counts(("l1", "import")))]
    samples = []
    for n in range(int(HEARTBEAT_S // INTERVAL)):
        mock_transport.load = loads[(n + 1) % 2]
        freezer.tick(INTERVAL)
        await replay(coordinator, clock, INTERVAL)
        samples.append(coordinator.data.phases[next(iter(coordinator.data.phases))].active_power)
        if n < HEARTBEAT_S // INTERVAL - 1:  # held: the state does not move
            assert state(hass, config_entry, "l1_power").last_updated == first.last_updated
    marks.append((dt_util.utcnow(), coordinator.ledger.counts(("l1", "import"))))
    held = state(hass, config_entry, "l1_power")
    assert held.last_updated > first.last_updated  # the heartbeat
    (t0, c0), (t1, c1) = marks
    mean = (c1 - c0) * JOULES_PER_COUNT / (t1 - t0).total_seconds()
    assert float(held.state) == pytest.approx(round(mean, 1), abs=1e-9)
    assert 1003 < float(held.state) < 1013  # the mean of 1000 W and 1016 W ...
    assert abs(float(held.state) - round(samples[-1], 1)) > 3  # ... not the last sample


@pytest.mark.usefixtures("patched_monotonic")
async def test_held_energy_is_written_at_stop_and_unload(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to("2026-01-15T12:00:00.3+00:00")
    coordinator = await setup_entry(hass, config_entry)
    energy = entity_id(hass, config_entry, "total_energy_import")
    freezer.tick(INTERVAL)
    await replay(coordinator, clock, INTERVAL)  # the first refresh writes; the next ones of the minute hold
    states = written(hass, energy)
    await run_until(coordinator, clock, freezer, datetime.fromisoformat("2026-01-15T12:00:30+00:00"))
    assert states == []
    exact = str(coordinator.ledger.kwh((TOTAL, "import")))
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert [value for _, value in states] == [exact]
    freezer.tick(INTERVAL)
    await replay(coordinator, clock, INTERVAL)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    # the last refresh and the read before unloading are written, then the entity goes
    values = [value for _, value in states]
    assert values[-1] == STATE_UNAVAILABLE
    assert values[-2] == str(coordinator.ledger.kwh((TOTAL, "import")))
    assert float(values[-2]) > float(exact)


@pytest.mark.usefixtures("patched_monotonic")
async def test_every_refresh_is_chosen_with_the_update_interval(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: FaultyEmulator, clock: ManualClock
) -> None:
    """Configure → Update interval and database writes: "every refresh" makes the energy move at every refresh."""
    await setup_entry(hass, config_entry)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "update_interval"})
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"]
    assert schema is not None
    fields = {str(key): key for key in schema.schema}
    assert fields[CONF_DATABASE_WRITES].default() == Mode.BALANCED
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_UPDATE_INTERVAL: "5", CONF_DATABASE_WRITES: Mode.EVERY_REFRESH}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.options[CONF_DATABASE_WRITES] == Mode.EVERY_REFRESH
    coordinator: Atm90e32Coordinator = config_entry.runtime_data  # reloaded
    energy = entity_id(hass, config_entry, "total_energy_import")
    states = written(hass, energy)
    for _ in range(3):  # Home Assistant's clock stands still: no minute boundary, yet each refresh writes
        await replay(coordinator, clock, INTERVAL)
    assert len(states) == 3
