"""A simulated chip stays powered while its entry reloads, as a real ATM90E32AS does (issue 26 item 11).

The simulated chip is opened by the real ``bus.open_transport`` (only its clock is
the test's manual clock), so a reload that powered a new chip on would show here.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.const import CONF_LINE_FREQUENCY
from custom_components.atm90e32.coordinator import Atm90e32Coordinator
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32
from custom_components.atm90e32.simulated_chips import POWERED

from .emulation import ManualClock
from .helpers import setup_entry, state
from .test_demand import Replay, local


@pytest.fixture
def simulated_on_manual_clock(clock: ManualClock) -> Generator[None]:
    """The real simulated bus, its chips running on the test's manual clock instead of time.monotonic."""
    with (
        patch("custom_components.atm90e32.driver.emulator.scaled_clock", lambda _speed: clock),
        patch("custom_components.atm90e32.coordinator.monotonic", clock),
        patch("custom_components.atm90e32.driver.meter.monotonic", clock),
    ):
        yield


def chip_of(coordinator: Atm90e32Coordinator) -> EmulatedAtm90e32:
    transport = coordinator.meter._transport  # which chip the bus reaches is the point
    assert isinstance(transport, EmulatedAtm90e32)
    return transport


@pytest.mark.usefixtures("simulated_on_manual_clock")
async def test_demand_is_known_right_after_an_options_save_on_a_simulated_meter(
    hass: HomeAssistant, config_entry: MockConfigEntry, clock: ManualClock, freezer: FrozenDateTimeFactory
) -> None:
    """An options save at 14:05 reloads the entry; the 14:00-14:15 interval stays whole and Demand is known at 14:15."""
    tz = dt_util.get_time_zone(hass.config.time_zone)
    freezer.move_to(datetime(2026, 11, 2, 13, 52, 30, tzinfo=tz))
    coordinator = await setup_entry(hass, config_entry)
    chip = chip_of(coordinator)
    await Replay(coordinator, clock, freezer).run(12 * 60 + 30)  # to 14:05
    assert chip.resets == 1  # configured once, at the first setup

    assert await hass.config_entries.async_reload(config_entry.entry_id)  # what an options save does
    await hass.async_block_till_done()
    coordinator = config_entry.runtime_data
    replay = Replay(coordinator, clock, freezer)
    await replay.run(10 * 60 + 5)  # past 14:15
    interval = coordinator.demand.last
    assert interval is not None
    assert local(hass, interval.start) == "2026-11-02 14:00:00"
    assert interval.complete
    assert state(hass, config_entry, "demand").state == f"{interval.average_w:.1f}"
    assert chip_of(coordinator) is chip
    assert chip.resets == 1  # the chip was adopted, not reset


@pytest.mark.usefixtures("simulated_on_manual_clock")
async def test_a_changed_installation_powers_a_new_simulated_chip(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Entry data that changed (here the line frequency) is another simulated installation: a fresh chip."""
    chip = chip_of(await setup_entry(hass, config_entry))
    hass.config_entries.async_update_entry(config_entry, data={**config_entry.data, CONF_LINE_FREQUENCY: 50})
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert chip_of(config_entry.runtime_data) is not chip


@pytest.mark.usefixtures("simulated_on_manual_clock")
async def test_deleting_a_simulated_meter_powers_its_chip_off(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    assert config_entry.entry_id in hass.data[POWERED]
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    assert config_entry.entry_id not in hass.data[POWERED]
