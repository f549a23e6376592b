"""The ATM90E32AS energy meter integration: split-phase household metering over SPI."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from .coordinator import Atm90e32ConfigEntry, Atm90e32Coordinator, ledger_store

PLATFORMS: list[Platform] = [Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> bool:
    """Open the chip, read it once, then set up the sensors."""
    coordinator = Atm90e32Coordinator(hass, entry)
    try:
        await coordinator.async_config_entry_first_refresh()
    except BaseException:
        await hass.async_add_executor_job(coordinator.close)
        raise
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> bool:
    """Book the counts not read yet, unload the sensors, write the lifetime totals, release the SPI device."""
    coordinator = entry.runtime_data
    await coordinator.async_read_before_unload()
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await coordinator.async_save_ledger()
        await hass.async_add_executor_job(coordinator.close)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> None:
    """Delete the entry's ledger store when the meter is deleted."""
    await ledger_store(hass, entry.entry_id).async_remove()
