"""Diagnostics download: configuration, registers, health counters, last snapshot, ledger, last energy read, demand."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.core import HomeAssistant

from .coordinator import Atm90e32ConfigEntry
from .driver import Atm90e32Error


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> dict[str, Any]:
    """Return what helps debug a meter; nothing in it is secret (an SPI path and gains).

    Readings and energy counts are keyed by channel (``l1``, ``l2``) with its chip phase.
    """
    coordinator = entry.runtime_data
    meter = coordinator.meter
    wiring = coordinator.wiring
    try:
        dump = await hass.async_add_executor_job(meter.register_dump)
        registers: dict[str, int] | str = {f"0x{address:02X}": value for address, value in dump.items()}
    except Atm90e32Error as err:
        registers = f"unavailable: {err}"
    snapshot = coordinator.data
    config = asdict(coordinator.settings.chip)
    config["wiring"] = wiring.key
    last = coordinator.last_energy_read
    return {
        "entry": {"title": entry.title, "data": dict(entry.data), "options": dict(entry.options)},
        "channels": {channel.key: {"name": channel.name, "phase": channel.phase.name} for channel in wiring.channels},
        "chip_config": config,
        "registers": registers,
        "health": asdict(coordinator.health),
        "spi": {"transactions": meter.transactions, "verify_failures": meter.verify_failures},
        "last_snapshot": None
        if snapshot is None
        else {
            "channels": {
                channel.key: asdict(snapshot.phases[channel.phase])
                for channel in wiring.channels
                if channel.phase in snapshot.phases
            },
            "energy_counts": {
                **{
                    channel.key: asdict(snapshot.energy.phases[channel.phase])
                    for channel in wiring.channels
                    if channel.phase in snapshot.energy.phases
                },
                "all_phases": None if snapshot.energy.total is None else asdict(snapshot.energy.total),
            },
            "frequency": snapshot.frequency,
            "temperature": snapshot.temperature,
            "meter_enabled": snapshot.meter_enabled,
        },
        "ledger_counts": coordinator.ledger.as_dict(),
        "last_energy_read": None if last is None else {"at": last.at.isoformat(), "fill_power_w": last.power_w},
        "demand": coordinator.demand.as_dict(),
    }
