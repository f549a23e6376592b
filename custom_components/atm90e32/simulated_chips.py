"""Simulated chips that stay powered while their entry reloads, as a real ATM90E32AS does.

A real chip keeps its registers and the energy it has counted while Home Assistant
reloads the entry (an options save) or restarts: only a power cycle (or a soft reset,
DS p.59 SoftReset) clears them, and the driver then adopts a chip found metering
(driver.chip.Adoption).  A simulated chip opened afresh on every reload was a power
cycle each time: the first read after an options save booked no counts, so the demand
interval it fell in was incomplete and Demand read Unknown for up to one interval.
Here each simulated meter's chip (per config entry) is powered on once and kept in
``hass.data`` until the entry is deleted or the process ends; a reload opens the bus to it again.

Not kept: a chip whose entry data changed (another wiring, frequency or speed: another
simulated installation, so a fresh chip), and a chip playing a replay file (its place in
the file is kept by replay.ReplayPosition with the ledger instead).  A restart of Home
Assistant ends the process and with it the simulated chip: that is a power cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .bus import is_simulated
from .const import CONF_DEVICE, CONF_REPLAY_FILE, DOMAIN
from .driver import Transport


@dataclass(slots=True)
class _Powered:
    """A simulated chip and the entry data it was powered on for."""

    data: dict[str, Any]
    chip: Transport


POWERED: HassKey[dict[str, _Powered]] = HassKey(f"{DOMAIN}_simulated_chips")
"""Per config entry id of a simulated meter: the chip powered on for it."""


def kept_transport(
    hass: HomeAssistant, entry: ConfigEntry, open_bus: Callable[[], Transport]
) -> Callable[[], Transport]:
    """Wrap ``open_bus`` (blocking) so the simulated chip of ``entry`` is powered on once, not at every reload.

    Returns a callable giving the transport: for a real device, or a simulated chip that
    plays a replay file, ``open_bus`` itself; otherwise the chip kept for the entry in
    ``hass.data`` if it was powered on for the same entry data, else a new one from
    ``open_bus``, kept from then on (until :func:`power_off`).  Closing the transport releases the bus only (the
    emulated chip keeps running, emulator.EmulatedAtm90e32.close).
    Raises what ``open_bus`` raises.
    """
    if not is_simulated(str(entry.data[CONF_DEVICE])) or entry.data.get(CONF_REPLAY_FILE):
        return open_bus
    key, wanted = entry.entry_id, dict(entry.data)

    def open_kept() -> Transport:
        powered = hass.data.setdefault(POWERED, {})
        kept = powered.get(key)
        if kept is None or kept.data != wanted:
            kept = powered[key] = _Powered(wanted, open_bus())
        return kept.chip

    return open_kept


def power_off(hass: HomeAssistant, entry_id: str) -> None:
    """Forget the simulated chip of deleted entry ``entry_id`` (none: nothing happens)."""
    hass.data.get(POWERED, {}).pop(entry_id, None)
