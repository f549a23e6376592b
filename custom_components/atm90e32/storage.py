"""The energy ledger on disk: a store written at most once a minute, and a journal that makes every read recoverable.

The chip clears its energy registers when they are read, so a count read exists only
in memory until it is on disk.  Two files hold it:

- the store ``.storage/atm90e32.ledger.<entry_id>`` (Home Assistant's Store: a new
  file, fsync, rename): written at most every LEDGER_SAVE_INTERVAL, when the entry
  unloads and when Home Assistant stops;
- the journal ``.storage/atm90e32.ledger.<entry_id>.journal``: the same totals,
  rewritten in place after every read, before the sensors show them.  One record with a
  CRC, at offset 0 of a file that never changes size: no new file, no rename, no fsync.
  A killed process (kill -9, a crash, an out-of-memory kill) leaves it in the kernel's
  page cache, which the kernel writes to the card within about 30 s.

Both hold lifetime totals, never deltas: at start each total resumes from the largest
value found (store, journal, Home Assistant's restore state), so no source can add a
count twice and a stale one takes nothing away.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import STORAGE_DIR, Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .driver.demand import DemandMeter
from .driver.ledger import EnergyLedger
from .quality import SupplyWatch
from .replay import ReplayPosition

_LOGGER = logging.getLogger(__name__)

LEDGER_STORAGE_VERSION = 1
JOURNAL_SIZE: Final = 4096
"""Bytes of the journal file: one page, a record (about 500 bytes) padded with spaces."""


@dataclass(frozen=True, slots=True)
class LastEnergyRead:
    """When the energy registers were last read (UTC) and the largest |W| (chip scale) that read saw."""

    at: datetime
    power_w: float


def journal_path(hass: HomeAssistant, key: str) -> Path:
    """Where the journal of store ``key`` lives: beside the store in ``.storage``."""
    return Path(hass.config.path(STORAGE_DIR, f"{key}.journal"))


class LedgerJournal:
    """The journal file: the newest ledger record, rewritten in place (blocking methods: run in the executor).

    The record is ``<crc32 as 8 hex digits> <json>`` and a newline, padded with spaces to JOURNAL_SIZE.
    A record whose CRC does not match (a write torn by a power cut) reads as none.
    """

    def __init__(self, path: Path) -> None:
        """Bind to ``path``; nothing is opened yet."""
        self.path = path
        self._fd: int | None = None

    def write(self, data: dict[str, Any]) -> None:
        """Overwrite the record with ``data`` (one pwrite of JOURNAL_SIZE bytes, no fsync).

        Raises OSError when the file cannot be written, ValueError for a record over JOURNAL_SIZE.
        """
        payload = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        record = f"{zlib.crc32(payload):08x} ".encode() + payload + b"\n"
        if len(record) > JOURNAL_SIZE:
            raise ValueError(f"a journal record of {len(record)} bytes does not fit in {JOURNAL_SIZE}")
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.pwrite(self._fd, record.ljust(JOURNAL_SIZE, b" "), 0)

    def read(self) -> dict[str, Any] | None:
        """Return the record, or None when there is no file or no intact record."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        line = raw.split(b"\n", 1)[0]
        crc, _, payload = line.partition(b" ")
        try:
            if int(crc, 16) != zlib.crc32(payload):
                return None
            data = json.loads(payload)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def close(self) -> None:
        """Close the file (it stays on disk)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def remove(self) -> None:
        """Close and delete the file."""
        self.close()
        self.path.unlink(missing_ok=True)


class LedgerStore:
    """The ledger's two files: ``{"counts", "read_at", "power_w", "events", "demand", "replay"}`` in each.

    ``counts`` holds the lifetime energy counts (``{"l1_import": counts, ...}``);
    ``read_at`` (ISO 8601 UTC) and ``power_w`` describe the last energy read, so the next
    run can judge how long the chip was left unread; ``events`` holds the power-quality
    counters and the conditions true (``{"l1_sag": n, ..., "active": ["l2_phase_loss"]}``,
    SupplyWatch.as_dict); ``demand`` the demand state (DemandMeter.as_dict); ``replay``
    a simulated chip's position in its replay file (:attr:`replay`).
    The store is written atomically with fsync: a power cut leaves the previous or the
    new file, never a torn one (a file damaged anyway is set aside by Home Assistant, and
    the totals fall back to the journal and the restored sensor states).
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Bind to the files of config entry ``entry_id``; nothing is read yet."""
        self._hass = hass
        key = f"{DOMAIN}.ledger.{entry_id}"
        self._store: Store[dict[str, Any]] = Store(hass, LEDGER_STORAGE_VERSION, key, atomic_writes=True)
        self.journal = LedgerJournal(journal_path(hass, key))
        self._journal_failed = False
        self.replay = ReplayPosition()
        """Where a simulated chip is in its replay file: saved with the totals it was booked with."""

    async def async_load(
        self, ledger: EnergyLedger, watch: SupplyWatch, demand: DemandMeter | None = None
    ) -> LastEnergyRead | None:
        """Restore ``ledger``, ``watch``'s event counters and ``demand`` from both files; return the newest last read.

        ``demand`` and the conditions true (``watch.restore_active``) take the state of
        the newest record (the one whose last read is latest): it was written with that
        record's totals, so they agree.
        Returns None when neither file says when energy was last read.
        """
        stored = await self._store.async_load()
        journaled = await self._hass.async_add_executor_job(self.journal.read)
        last: LastEnergyRead | None = None
        newest: dict[str, Any] | None = None
        for data in (stored, journaled):
            if not isinstance(data, dict):
                continue
            if isinstance(data.get("counts"), dict):
                ledger.restore_dict(data["counts"])
            if isinstance(data.get("events"), dict):
                watch.restore(data["events"])
            read = _last_read(data)
            if read is not None and (last is None or read.at > last.at):
                last, newest = read, data
        if demand is not None and newest is not None and isinstance(newest.get("demand"), dict):
            demand.restore_dict(newest["demand"])
        if newest is not None and isinstance(newest.get("events"), dict):
            watch.restore_active(newest["events"])
        if newest is not None:
            self.replay.restore(newest.get("replay"))
        return last

    async def async_save(
        self,
        ledger: EnergyLedger,
        last_read: LastEnergyRead | None,
        watch: SupplyWatch,
        *,
        durable: bool,
        demand: DemandMeter | None = None,
    ) -> bool:
        """Write the journal, and the store too when ``durable``; returns whether the store was written.

        ``demand``'s state goes into the same record as the totals it was booked from.

        Both writes run in the executor.  A journal that cannot be written (logged once)
        makes this write the store instead, so no read is ever left only in memory.  A
        failed store write is logged by Home Assistant's storage helper; the totals stay
        in memory and the next save writes them again.
        """
        data: dict[str, Any] = {"counts": ledger.as_dict(), "events": watch.as_dict()}
        if last_read is not None:
            data["read_at"] = last_read.at.isoformat()
            data["power_w"] = last_read.power_w
        if demand is not None:
            data["demand"] = demand.as_dict()
        if (position := self.replay.as_dict()) is not None:
            data["replay"] = position
        try:
            await self._hass.async_add_executor_job(self.journal.write, data)
        except (OSError, ValueError) as err:
            if not self._journal_failed:
                _LOGGER.warning(
                    "Cannot write %s (%s); writing the ledger store after every read instead", self.journal.path, err
                )
                self._journal_failed = True
            durable = True
        else:
            self._journal_failed = False
        if durable:
            await self._store.async_save(data)
        return durable

    async def async_close(self) -> None:
        """Close the journal file."""
        await self._hass.async_add_executor_job(self.journal.close)

    async def async_remove(self) -> None:
        """Delete both files (the meter was deleted)."""
        await self._store.async_remove()
        await self._hass.async_add_executor_job(self.journal.remove)


def _last_read(data: dict[str, Any]) -> LastEnergyRead | None:
    read_at = dt_util.parse_datetime(str(data.get("read_at", "")))
    power = data.get("power_w")
    if read_at is None or not isinstance(power, (int, float)):
        return None
    return LastEnergyRead(read_at, float(power))
