"""Identities that never change: a reconfigure to another chip select and a version-1 migration keep everything."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_restore_cache_with_extra_data

from custom_components.atm90e32.const import CONF_DEVICE, CONF_SPI_SPEED, CONF_WIRING, DOMAIN, SIMULATED
from custom_components.atm90e32.driver.channels import SPLIT_PHASE
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32
from custom_components.atm90e32.driver.ledger import counts_to_kwh
from custom_components.atm90e32.sensor import CHIP_SENSORS, channel_descriptions, energy_descriptions

from .conftest import ENTRY_DATA, ENTRY_OPTIONS, EmulatedSpiDev
from .emulation import FaultyEmulator, ManualClock
from .helpers import replay, setup_entry

V1_KEYS = [
    *(d.key for channel in SPLIT_PHASE.channels for d in channel_descriptions(channel)[:7]),
    *(d.key for d in CHIP_SENSORS),
    *(d.key for d in energy_descriptions(SPLIT_PHASE)),
]
"""The description keys of the 26 sensors version 1 (0.1.0) created."""


def registry_view(hass: HomeAssistant, entry: MockConfigEntry, domain: str | None = None) -> dict[str, tuple[str, str]]:
    """``{entity_id: (unique_id, device_id)}`` of the entry's entities (of ``domain``)."""
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    return {e.entity_id: (e.unique_id, e.device_id or "") for e in entities if domain in (None, e.domain)}


def energy_states(hass: HomeAssistant, entity_ids: list[str]) -> dict[str, float]:
    values = {}
    for entity_id in entity_ids:
        state = hass.states.get(entity_id)
        assert isinstance(state, State), entity_id
        values[entity_id] = float(state.state)
    return values


@pytest.mark.usefixtures("patched_monotonic")
async def test_reconfigure_to_another_chip_select_keeps_entities_device_and_energy(
    hass: HomeAssistant, spidev_module: FaultyEmulator, clock: ManualClock
) -> None:
    """The board moved from CE0 to CE1: the same chip, now /dev/spidev0.1."""
    spidev_module.clock = clock
    EmulatedSpiDev.nodes[(0, 1)] = spidev_module
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=2,
        data={**ENTRY_DATA, CONF_DEVICE: "/dev/spidev0.0", CONF_SPI_SPEED: 1_000_000},
        options=dict(ENTRY_OPTIONS),
        unique_id="spidev0.0",
        title="ATM90E32AS (spidev0.0)",
    )
    coordinator = await setup_entry(hass, entry)
    await replay(coordinator, clock, 600)
    before = registry_view(hass, entry)
    assert len(before) > len(V1_KEYS)  # sensors, binary sensors, the event entity
    (device_id,) = {device for _, device in before.values()}
    energy_ids = [entity_id for entity_id, (unique_id, _) in before.items() if "_energy_" in unique_id]
    energy_before = energy_states(hass, energy_ids)
    assert energy_before["sensor.atm90e32as_spidev0_0_l1_imported_energy"] > 0

    devices = ["/dev/spidev0.0", "/dev/spidev0.1"]
    with patch("custom_components.atm90e32.bus.list_spi_devices", return_value=devices):
        result = await entry.start_reconfigure_flow(hass)
        user_input: dict[str, Any] = {
            **{key: str(value) for key, value in ENTRY_DATA.items() if key != CONF_WIRING},  # the wiring stays
            CONF_DEVICE: "/dev/spidev0.1",
            CONF_SPI_SPEED: "1000000",
        }
        result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.unique_id == "spidev0.1"  # still guards against configuring CE1 twice
    assert entry.runtime_data.device == "/dev/spidev0.1"

    assert registry_view(hass, entry) == before  # same entity ids, unique ids and device: nothing orphaned
    assert len(dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)) == 1
    energy_after = energy_states(hass, energy_ids)
    for entity_id, value in energy_before.items():
        assert energy_after[entity_id] >= value, entity_id  # the last read before unloading adds, never resets
    await replay(entry.runtime_data, clock, 60)
    assert (
        energy_states(hass, energy_ids)["sensor.atm90e32as_spidev0_0_l1_imported_energy"]
        > energy_after["sensor.atm90e32as_spidev0_0_l1_imported_energy"]
    )
    assert registry_view(hass, entry) == before
    assert device_id in {d.id for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)}


async def test_a_version_1_entry_is_migrated_keeping_entity_ids_history_and_energy(
    hass: HomeAssistant, mock_transport: EmulatedAtm90e32
) -> None:
    """Version 1 identified entities by the SPI device name; version 2 by the entry id, in place."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        data=dict(ENTRY_DATA),
        options=dict(ENTRY_OPTIONS),
        unique_id=SIMULATED,
        title="ATM90E32AS (simulated)",
    )
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, SIMULATED)}, name="ATM90E32AS (simulated)"
    )
    entities = er.async_get(hass)
    old = {
        key: entities.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{SIMULATED}_{key}",
            config_entry=entry,
            device_id=device.id,
            suggested_object_id=f"house_meter_{key}",
        ).entity_id
        for key in V1_KEYS
    }
    lifetime = 4_000_000  # counts, 12.5 kWh, as the version-1 energy sensors last showed
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(old[d.key], str(counts_to_kwh(lifetime))),
                {"native_value": counts_to_kwh(lifetime), "native_unit_of_measurement": "kWh"},
            )
            for d in energy_descriptions(SPLIT_PHASE)
        ],
    )

    await setup_entry(hass, entry)

    assert entry.version == 2
    migrated = registry_view(hass, entry, "sensor")
    # every entity id kept, no sensor doubled: history and statistics follow (later versions add new sensors)
    assert set(old.values()) <= set(migrated)
    assert not any(unique_id.startswith(f"{SIMULATED}_") for unique_id, _ in migrated.values())
    for key, entity_id in old.items():
        assert migrated[entity_id] == (f"{entry.entry_id}_{key}", device.id)
    migrated_device = dr.async_get(hass).async_get(device.id)
    assert migrated_device is not None
    assert migrated_device.identifiers == {(DOMAIN, entry.entry_id)}
    for d in energy_descriptions(SPLIT_PHASE):
        state = hass.states.get(old[d.key])
        assert state is not None
        assert float(state.state) >= counts_to_kwh(lifetime), d.key  # the total carries on from where it was


async def test_an_entry_from_a_future_version_is_not_set_up(
    hass: HomeAssistant, mock_transport: EmulatedAtm90e32
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, version=3, data=dict(ENTRY_DATA), options=dict(ENTRY_OPTIONS))
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR
