"""The energy-ledger store: the lifetime counts on disk after every read, so a crash loses none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .driver.ledger import EnergyLedger
from .quality import SupplyWatch

LEDGER_STORAGE_VERSION = 1


@dataclass(frozen=True, slots=True)
class LastEnergyRead:
    """When the energy registers were last read (UTC) and the largest |W| (chip scale) that read saw."""

    at: datetime
    power_w: float


class LedgerStore:
    """The file ``.storage/atm90e32.ledger.<entry_id>``: ``{"counts", "read_at", "power_w", "events"}``.

    ``counts`` holds the lifetime energy counts (``{"l1_import": counts, ...}``).

    ``read_at`` (ISO 8601 UTC) and ``power_w`` describe the last energy read, so the next
    run can judge how long the chip was left unread; ``events`` holds the power-quality
    counters (``{"l1_sag": n, ...}``).  Written atomically with fsync: a
    power cut leaves the previous or the new file, never a torn one (a file damaged anyway
    is set aside by Home Assistant, and the totals fall back to the restored sensor states).
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Bind to the store of config entry ``entry_id``; nothing is read yet."""
        self._store: Store[dict[str, Any]] = Store(
            hass, LEDGER_STORAGE_VERSION, f"{DOMAIN}.ledger.{entry_id}", atomic_writes=True
        )

    async def async_load(self, ledger: EnergyLedger, watch: SupplyWatch) -> LastEnergyRead | None:
        """Restore ``ledger`` and the event counters of ``watch``; return the last energy read (None if unknown)."""
        stored = await self._store.async_load()
        if not isinstance(stored, dict):
            return None
        if isinstance(stored.get("counts"), dict):
            ledger.restore_dict(stored["counts"])
        if isinstance(stored.get("events"), dict):
            watch.restore(stored["events"])
        read_at = dt_util.parse_datetime(str(stored.get("read_at", "")))
        power = stored.get("power_w")
        if read_at is None or not isinstance(power, (int, float)):
            return None
        return LastEnergyRead(read_at, float(power))

    async def async_save(self, ledger: EnergyLedger, last_read: LastEnergyRead | None, watch: SupplyWatch) -> None:
        """Write the lifetime counts, the last energy read and the event counters (the write runs in the executor).

        A failed write is logged by Home Assistant's storage helper; the totals stay in
        memory and the next read writes them again.
        """
        data: dict[str, Any] = {"counts": ledger.as_dict(), "events": dict(watch.counters)}
        if last_read is not None:
            data["read_at"] = last_read.at.isoformat()
            data["power_w"] = last_read.power_w
        await self._store.async_save(data)

    async def async_remove(self) -> None:
        """Delete the file (the meter was deleted)."""
        await self._store.async_remove()
