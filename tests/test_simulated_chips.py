"""A simulated chip stays powered while its entry reloads, as a real ATM90E32AS does (issue 26 item 11),
and its service draws what the person chooses: the household, no load or a test load (item 12).

The simulated chip is opened by the real ``bus.open_transport`` (only its clock is
the test's manual clock), so a reload that powered a new chip on would show here.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.const import CONF_DEVICE, CONF_LINE_FREQUENCY, CONF_REPLAY_FILE, DOMAIN
from custom_components.atm90e32.coordinator import Atm90e32Coordinator
from custom_components.atm90e32.driver import Phase, protocol
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.channels import wiring_for
from custom_components.atm90e32.driver.emulator import Board, ConstantLoad, EmulatedAtm90e32, simulated_volts
from custom_components.atm90e32.simulated_chips import (
    HOUSEHOLD,
    MOTOR_LOAD,
    MOTOR_POWER_FACTOR,
    NO_LOAD,
    POWERED,
    RESISTIVE_LOAD,
    TEST_AMPS,
    bench_load,
    has_load_modes,
)

from .conftest import WIRING_CASES
from .emulation import FaultyEmulator, ManualClock
from .helpers import replay, setup_entry, state
from .test_demand import Replay, local


def chip_of(coordinator: Atm90e32Coordinator) -> EmulatedAtm90e32:
    transport = coordinator.meter._transport  # which chip the bus reaches is the point
    assert isinstance(transport, EmulatedAtm90e32)
    return transport


@pytest.mark.usefixtures("simulated_bus")
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


@pytest.mark.usefixtures("simulated_bus")
async def test_a_changed_installation_powers_a_new_simulated_chip(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Entry data that changed (here the line frequency) is another simulated installation: a fresh chip."""
    chip = chip_of(await setup_entry(hass, config_entry))
    hass.config_entries.async_update_entry(config_entry, data={**config_entry.data, CONF_LINE_FREQUENCY: 50})
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert chip_of(config_entry.runtime_data) is not chip


@pytest.mark.usefixtures("simulated_bus")
async def test_deleting_a_simulated_meter_powers_its_chip_off(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, config_entry)
    assert config_entry.entry_id in hass.data[POWERED]
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    assert config_entry.entry_id not in hass.data[POWERED]


def load_select(hass: HomeAssistant, entry: MockConfigEntry) -> str | None:
    """The entity id of ``entry``'s simulated-load select, None when it has none."""
    return er.async_get(hass).async_get_entity_id("select", DOMAIN, f"{entry.entry_id}_simulated_load")


async def choose_load(hass: HomeAssistant, entry: MockConfigEntry, option: str) -> None:
    """Choose ``option`` in the select, as a person does on the device page."""
    entity_id = load_select(hass, entry)
    assert entity_id is not None
    await hass.services.async_call("select", "select_option", {"entity_id": entity_id, "option": option}, blocking=True)


@pytest.mark.usefixtures("simulated_bus")
async def test_the_simulated_load_is_chosen_on_the_device_and_kept_across_a_reload(
    hass: HomeAssistant, config_entry: MockConfigEntry, clock: ManualClock
) -> None:
    """No load: the current sensors show the simulated board's idle offset; the choice stays through an options save."""
    coordinator = await setup_entry(hass, config_entry)
    entity_id = load_select(hass, config_entry)
    assert entity_id is not None
    select = hass.states.get(entity_id)
    assert select is not None
    assert select.state == HOUSEHOLD
    assert select.attributes["options"] == [HOUSEHOLD, NO_LOAD, RESISTIVE_LOAD, MOTOR_LOAD]
    await replay(coordinator, clock, 10)
    assert float(state(hass, config_entry, "l1_current").state) > 1.0  # the house draws amperes

    await choose_load(hass, config_entry, NO_LOAD)
    await replay(coordinator, clock, 10)
    # idle: 0.045 A read at the preset gain, which reads 3 % low (emulator.bench)
    assert float(state(hass, config_entry, "l1_current").state) == pytest.approx(0.045 * 0.97, abs=0.01)
    assert abs(float(state(hass, config_entry, "l1_power").state)) < 1.5

    assert await hass.config_entries.async_reload(config_entry.entry_id)  # what an options save does
    await hass.async_block_till_done()
    select = hass.states.get(entity_id)
    assert select is not None
    assert select.state == NO_LOAD
    await replay(config_entry.runtime_data, clock, 10)
    assert float(state(hass, config_entry, "l1_current").state) < 0.06

    await choose_load(hass, config_entry, HOUSEHOLD)
    await replay(config_entry.runtime_data, clock, 10)
    assert float(state(hass, config_entry, "l1_current").state) > 1.0


async def test_a_real_meter_has_no_simulated_load(
    hass: HomeAssistant, config_entry: MockConfigEntry, spidev_module: FaultyEmulator, clock: ManualClock
) -> None:
    spidev_module.clock = clock
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=2,
        data={**config_entry.data, CONF_DEVICE: "/dev/spidev0.0"},
        options=dict(config_entry.options),
        unique_id="spidev0.0",
    )
    await setup_entry(hass, entry)
    assert float(state(hass, entry, "l1_current").state) > 1.0  # set up and reading
    assert load_select(hass, entry) is None


def test_only_a_kept_simulated_chip_offers_load_modes() -> None:
    """A real chip select and a replay file decide their load themselves."""
    data: dict[str, Any] = dict(WIRING_CASES["split_phase_2ct"].data)
    assert has_load_modes(MockConfigEntry(domain=DOMAIN, data=data))
    assert not has_load_modes(MockConfigEntry(domain=DOMAIN, data={**data, CONF_DEVICE: "/dev/spidev0.1"}))
    assert not has_load_modes(MockConfigEntry(domain=DOMAIN, data={**data, CONF_REPLAY_FILE: "house.csv"}))


@pytest.mark.parametrize("wiring", list(WIRING_CASES))
@pytest.mark.parametrize(("mode", "power_factor"), [(RESISTIVE_LOAD, 1.0), (MOTOR_LOAD, MOTOR_POWER_FACTOR)])
def test_each_channel_sees_its_stated_test_load(wiring: str, mode: str, power_factor: float) -> None:
    """Every wiring's channels carry 10 A, 5 A, 3 A at the stated power factor, at the service's voltage.

    A delta service included: with loads only L1-L2 and L2-L3, each of its two elements sees its own load.
    """
    data = WIRING_CASES[wiring].data
    volts = simulated_volts(wiring_for(wiring, None), int(data[CONF_LINE_FREQUENCY]))
    point = bench_load(data, mode).load_at(0.0)
    channels = wiring_for(wiring, data.get("channels")).channels
    for channel, amps in zip(channels, TEST_AMPS, strict=False):
        seen = point.phases[channel.phase]
        assert seen.volts == pytest.approx(volts)
        assert seen.watts == pytest.approx(volts * amps * power_factor)
        assert seen.power_factor == pytest.approx(power_factor)
        assert not seen.capacitive
    no_load = bench_load(data, NO_LOAD).load_at(0.0)
    assert all(p.watts == 0.0 for p in no_load.phases.values())
    assert all(no_load.phases[c.phase].volts == pytest.approx(volts) for c in channels)


def test_a_load_change_meters_what_flowed_before_it() -> None:
    """1200 W for 30 s, then no load for 30 s: 10 Wh forward, exactly (0.003125 Wh counts, DS p.12)."""
    clock = ManualClock()
    at_power_on_gains = Board(voltage_gains=(0x8000,) * 3, current_gains=(0x8000,) * 3, current_gain_pga=1)
    chip = EmulatedAtm90e32(ConstantLoad(watts=(1200.0, 0.0), power_factor=1.0), clock=clock, board=at_power_on_gains)
    chip.transfer(protocol.encode_write(reg.CFG_REG_ACC_EN, reg.CFG_UNLOCK_CODE))
    chip.transfer(protocol.encode_write(reg.METER_EN, reg.METER_ENABLE))  # metering on (DS p.41)
    clock.advance(30)
    chip.change_load(ConstantLoad(watts=(0.0, 0.0)))
    clock.advance(30)
    chip.pending_counts(Phase.A)
    assert chip.energy[Phase.A].forward_wh == pytest.approx(1200 * 30 / 3600)
    assert chip.energy[Phase.A].forward_counts == math.floor(1200 * 30 / 3600 / 0.003125)
