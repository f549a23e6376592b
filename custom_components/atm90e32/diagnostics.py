"""Diagnostics download: configuration, register dump, health counters, last snapshot, ledger, last energy read."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.core import HomeAssistant

from .coordinator import Atm90e32ConfigEntry
from .driver import Atm90e32Error


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> dict[str, Any]:
    """Return what helps debug a meter; nothing in it is secret (an SPI path and gains)."""
    coordinator = entry.runtime_data
    try:
        registers: dict[str, int] | str = await hass.async_add_executor_job(coordinator.register_dump)
    except Atm90e32Error as err:
        registers = f"unavailable: {err}"
    snapshot = coordinator.data
    chip = coordinator.chip
    return {
        "entry": {"title": entry.title, "data": dict(entry.data), "options": dict(entry.options)},
        "chip_config": asdict(coordinator.config),
        "registers": registers,
        "health": asdict(coordinator.health),
        "spi": {
            "transactions": chip.transactions if chip else None,
            "verify_failures": chip.verify_failures if chip else None,
        },
        "last_snapshot": None
        if snapshot is None
        else {
            "phases": {phase.name: asdict(reading) for phase, reading in snapshot.phases.items()},
            "energy_counts": {phase.name: asdict(counts) for phase, counts in snapshot.energy.items()},
            "frequency": snapshot.frequency,
            "temperature": snapshot.temperature,
            "meter_enabled": snapshot.meter_enabled,
        },
        "ledger_counts": coordinator.ledger.as_dict(),
        "last_energy_read": None
        if (last := coordinator.last_energy_read) is None
        else {"at": last[0].isoformat(), "largest_power_w": last[1]},
    }
