"""Repair issues, reset recovery and configuration read-back, in a real Home Assistant."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers import restore_state as rs
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_load_restore_state_from_storage

from custom_components.atm90e32.const import CONF_DEVICE, DOMAIN
from custom_components.atm90e32.driver import DevicePermissionError, Phase
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.emulator import ConstantLoad, EmulatedAtm90e32
from custom_components.atm90e32.driver.ledger import may_have_wrapped

from .emulation import FaultyEmulator, ManualClock
from .helpers import ledger_key, replay, setup_entry, unload_as_a_crash


def issue(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{key}_{entry.entry_id}")


@pytest.mark.parametrize(("devices", "key"), [([], "spi_not_enabled"), (["/dev/spidev0.1"], "no_spi_device")])
async def test_missing_device_files_the_right_repair_issue(
    hass: HomeAssistant, config_entry: MockConfigEntry, devices: list[str], key: str
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN, data={**config_entry.data, CONF_DEVICE: "/dev/spidev9.9"}, unique_id="spidev9.9"
    )
    entry.add_to_hass(hass)
    with patch("custom_components.atm90e32.errors.glob.glob", return_value=devices):
        await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    found = issue(hass, entry, key)
    assert found is not None
    assert found.translation_placeholders is not None
    assert found.translation_placeholders["device"] == "/dev/spidev9.9"


async def test_permission_denied_files_a_repair_issue_that_clears(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    config_entry.add_to_hass(hass)
    with patch(
        "custom_components.atm90e32.bus.open_transport",
        side_effect=DevicePermissionError("permission denied opening /dev/spidev0.0"),
    ):
        await hass.config_entries.async_setup(config_entry.entry_id)
    assert issue(hass, config_entry, "permission_denied") is not None
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.LOADED
    assert issue(hass, config_entry, "permission_denied") is None


async def test_a_silent_chip_gets_a_repair_issue_after_a_minute(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    patched_monotonic: None,
) -> None:
    coordinator = await setup_entry(hass, config_entry)
    mock_transport.faults.dead_bus = 0x00
    await replay(coordinator, clock, 55)
    assert issue(hass, config_entry, "chip_not_answering") is None  # a glitch is not a repair
    await replay(coordinator, clock, 10)
    assert issue(hass, config_entry, "chip_not_answering") is not None
    mock_transport.faults.dead_bus = None
    await replay(coordinator, clock, 5)
    assert issue(hass, config_entry, "chip_not_answering") is None
    assert coordinator.health.failed_refreshes == 13


async def test_a_stall_that_wraps_a_counter_is_reported(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    patched_monotonic: None,
) -> None:
    mock_transport.load = ConstantLoad(watts=(7000.0, 1000.0))
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, 60)
    assert issue(hass, config_entry, "counters_overflowed") is None
    await replay(coordinator, clock, 120, interval=120)  # 233 Wh on L1: more than a register holds
    assert mock_transport.energy[Phase.A].wrapped_counts > 0
    found = issue(hass, config_entry, "counters_overflowed")
    assert found is not None
    assert found.is_persistent
    assert coordinator.health.possible_overflows == 1


@pytest.mark.parametrize("reset_meanwhile", [False, True], ids=["chip_kept_counting", "chip_reset_meanwhile"])
async def test_a_long_restart_gap_is_reported_unless_the_chip_was_reset(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
    reset_meanwhile: bool,
) -> None:
    """Ten minutes down at 7 kW may wrap a register, unless a power cut also reset the chip (nothing left to wrap)."""
    mock_transport.load = ConstantLoad(watts=(7000.0, 1000.0))
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, 30)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    freezer.tick(timedelta(seconds=600))
    clock.advance(600)
    if reset_meanwhile:
        mock_transport.brown_out()
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert (issue(hass, config_entry, "counters_overflowed") is not None) is not reset_meanwhile
    assert config_entry.runtime_data.health.possible_overflows == int(not reset_meanwhile)


async def test_a_short_restart_gap_is_not_reported(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
) -> None:
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, 30)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    freezer.tick(timedelta(seconds=30))
    clock.advance(30)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert issue(hass, config_entry, "counters_overflowed") is None


async def test_a_lost_configuration_register_is_restored(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, clock: ManualClock
) -> None:
    coordinator = await setup_entry(hass, config_entry)
    mock_transport.registers[reg.IGAIN[Phase.C]] = 0x1234  # a glitch changed one register
    await replay(coordinator, clock, 5 * 60)
    assert mock_transport.registers[reg.IGAIN[Phase.C]] == 25498
    assert coordinator.health.configuration_repairs == 1
    assert coordinator.health.chip_resets == 0


@pytest.mark.parametrize(
    ("elapsed", "watts", "expected"),
    [
        (13.0, 54000.0, False),
        (40.0, 20000.0, True),
        (60.0, 3000.0, False),
        (60.0, 6200.0, True),
        (600.0, 700.0, True),
        (-5.0, 9e9, False),
    ],
)
def test_may_have_wrapped(elapsed: float, watts: float, expected: bool) -> None:
    assert may_have_wrapped(elapsed, watts) is expected


@pytest.mark.parametrize(("down_s", "reported"), [(20, False), (120, True)])
async def test_the_gap_after_a_crash_runs_from_the_last_read_on_disk(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
    down_s: int,
    reported: bool,
) -> None:
    """Home Assistant's restore state is up to 15 minutes old after a crash; the ledger store is not.

    At 7 kW a register fills in about 105 s: 20 s down is safe, 120 s may have wrapped.
    """
    mock_transport.load = ConstantLoad(watts=(7000.0, 1000.0))
    coordinator = await setup_entry(hass, config_entry)
    await rs.async_get(hass).async_dump_states()
    stale_restore_state = copy.deepcopy(hass_storage[rs.STORAGE_KEY])
    for _ in range(14 * 12):  # 14 minutes of reads after the last restore-state dump
        freezer.tick(timedelta(seconds=5))
        await replay(coordinator, clock, 5)
    ledger = copy.deepcopy(hass_storage[ledger_key(config_entry)])
    await unload_as_a_crash(hass, config_entry)
    hass_storage[rs.STORAGE_KEY] = stale_restore_state  # the crash: only the files remain
    hass_storage[ledger_key(config_entry)] = ledger
    await async_mock_load_restore_state_from_storage(hass)
    freezer.tick(timedelta(seconds=down_s))
    clock.advance(down_s)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert (issue(hass, config_entry, "counters_overflowed") is not None) is reported
    assert config_entry.runtime_data.health.possible_overflows == int(reported)


def channel_issue(hass: HomeAssistant, entry: MockConfigEntry, key: str, channel: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{key}_{channel}_{entry.entry_id}")


async def test_a_ct_that_clips_below_its_rating_files_an_issue_until_the_pga_fits(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    """Issue 22 item 1: an SCT-013-000 over the split board's 12 ohm burden reaches 720 mV/2 at 60 A at PGA 2x.

    Its rating is 100 A; PGA 1x (720 mV at 120 A) fits it.  The repair says so, and goes with PGA 1x.
    """
    await setup_entry(hass, config_entry)
    for leg in ("l1", "l2"):
        found = channel_issue(hass, config_entry, "input_range", leg)
        assert found is not None
        assert found.translation_placeholders is not None
        placeholders = found.translation_placeholders
        assert (placeholders["ct"], placeholders["clip"], placeholders["rated"]) == ("SCT-013-000", "60.0", "100")
        assert (placeholders["pga"], placeholders["fits"]) == ("2", "1")
    options = {**config_entry.options, "pga_gain": 1, "current_gain_l1": 50996, "current_gain_l2": 50996}
    hass.config_entries.async_update_entry(config_entry, options=options)
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert channel_issue(hass, config_entry, "input_range", "l1") is None
    assert channel_issue(hass, config_entry, "input_range", "l2") is None
    # an SCT-024 (200 A) clips at 120 A even at 1x on this board: the other issue
    hass.config_entries.async_update_entry(config_entry, options={**options, "ct_preset_l2": "sct_024"})
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert channel_issue(hass, config_entry, "input_range", "l2") is None
    found = channel_issue(hass, config_entry, "input_range_no_pga", "l2")
    assert found is not None
    assert found.translation_placeholders is not None
    assert (found.translation_placeholders["clip"], found.translation_placeholders["rated"]) == ("120.0", "200")
