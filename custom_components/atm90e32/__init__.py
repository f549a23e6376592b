"""The ATM90E32AS energy meter integration: household metering over SPI."""

from __future__ import annotations

import logging

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from . import circuits, issues
from .circuits import circuit_inputs
from .const import DOMAIN, MANUFACTURER, MODEL
from .coordinator import Atm90e32ConfigEntry, Atm90e32Coordinator
from .published import async_write_held
from .simulated_chips import power_off
from .storage import LedgerStore

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SELECT, Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> bool:
    """Open the chip, read it once, then set up the sensors.

    A circuits chip first takes its circuits' options into their subentries
    (:func:`circuits.async_adopt_options`); with no circuit left it is not set up
    (ConfigEntryError ``no_circuit``: add a circuit or delete the chip).
    """
    circuits.async_adopt_options(hass, entry)
    if circuits.is_circuits(entry) and not circuits.circuit_subentries(entry):
        raise ConfigEntryError(translation_domain=DOMAIN, translation_key="no_circuit")
    coordinator = Atm90e32Coordinator(hass, entry)
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await coordinator.async_release_bus()
        raise
    entry.runtime_data = coordinator
    # The chip's device first: a circuit's device names it as its via_device.
    coordinator.chip_device_id = (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={(DOMAIN, entry.entry_id)},
            manufacturer=MANUFACTURER,
            model=MODEL,
            name=entry.title,
        )
        .id
    )
    issues.async_manage_input_range(hass, entry, coordinator.wiring, circuit_inputs(entry)[1])
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(circuits.async_reload_on_circuit_change(hass, entry))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> bool:
    """Book the counts not read yet, unload the sensors, write the ledger store, release the SPI device."""
    coordinator = entry.runtime_data
    await coordinator.async_read_before_unload()
    async_write_held(hass, entry.entry_id)  # the sensors' last values, exact, before they go
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await coordinator.async_save_ledger()
        await coordinator.store.async_close()
        await coordinator.async_release_bus()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> None:
    """Delete the entry's ledger store and journal when the meter is deleted; a simulated chip goes with it."""
    await LedgerStore(hass, entry.entry_id).async_remove()
    power_off(hass, entry.entry_id)


async def async_migrate_entry(hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> bool:
    """Move a version-1 entry's device and entities to identities that never change, then 2.1 circuits to subentries.

    Version 1 derived entity unique ids (``<chip>_<key>``) and the device identifier from
    the entry's unique id, the SPI device name, which a reconfigure may change.  Version 2
    derives them from the entry id.  Registry entries are updated in place, so entity
    ids, history, long-term statistics and the energy totals stay as they are.
    Returns False (Home Assistant then refuses to set up the entry) for a version from
    the future.
    """
    if entry.version > 2:
        return False
    if entry.version == 1:
        old_id = entry.unique_id or ""
        await _async_migrate_identities(hass, entry, old_id)
        hass.config_entries.async_update_entry(entry, version=2, minor_version=1)
        _LOGGER.debug("migrated %s from version 1: identities follow entry %s", old_id, entry.entry_id)
    if entry.minor_version < 2:
        circuits.async_migrate_to_subentries(hass, entry)
        hass.config_entries.async_update_entry(entry, minor_version=2)
        _LOGGER.debug("migrated %s to 2.2: circuits are subentries", entry.entry_id)
    return True


async def _async_migrate_identities(hass: HomeAssistant, entry: Atm90e32ConfigEntry, old_id: str) -> None:
    old_prefix = f"{old_id}_"

    @callback
    def new_unique_id(entity: er.RegistryEntry) -> dict[str, str] | None:
        if not entity.unique_id.startswith(old_prefix):
            return None
        return {"new_unique_id": f"{entry.entry_id}_{entity.unique_id.removeprefix(old_prefix)}"}

    await er.async_migrate_entries(hass, entry.entry_id, new_unique_id)
    # The entry's own devices: async_get_device(identifiers=...) is deprecated from Home
    # Assistant 2026.x (identifiers are no longer unique across entries) and its
    # replacements do not exist in 2025.8; this works on both.
    devices = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        if (DOMAIN, old_id) in device.identifiers:
            devices.async_update_device(device.id, new_identifiers={(DOMAIN, entry.entry_id)})
