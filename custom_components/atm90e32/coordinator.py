"""The DataUpdateCoordinator: reads the chip in the executor and keeps the energy ledger."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from time import monotonic
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import issues
from .const import (
    CHIP_NOT_ANSWERING_REPAIR_AFTER,
    CONF_CURRENT_GAIN_L1,
    CONF_CURRENT_GAIN_L2,
    CONF_CURRENT_SCALE,
    CONF_DEVICE,
    CONF_INVERT_L1,
    CONF_INVERT_L2,
    CONF_LINE_FREQUENCY,
    CONF_PGA_GAIN,
    CONF_SIMULATION_SPEED,
    CONF_SPI_SPEED,
    CONF_VOLTAGE_GAIN,
    CONF_VOLTAGE_GAIN_L2,
    CONF_VOLTAGE_TRANSFORMERS,
    CONFIG_CHECK_EVERY,
    DEFAULT_OPTIONS,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
    SIMULATED,
    VT_DUAL,
)
from .driver import (
    Atm90e32,
    Atm90e32Error,
    ChipConfig,
    CommunicationError,
    ConfigurationError,
    DeadBusError,
    DeviceNotFoundError,
    DevicePermissionError,
    EnergyCounts,
    EnergyLedger,
    MeterSnapshot,
    Phase,
    SpidevTransport,
    Transport,
)
from .driver import registers as reg
from .driver.calibration import CalibrationSample, read_average
from .driver.chip import Adoption
from .driver.emulator import EmulatedAtm90e32, TraceLoad, scaled_clock
from .driver.ledger import may_have_wrapped
from .driver.channels import SPLIT_PHASE
from .driver.transport import DEFAULT_SPEED_HZ, parse_spidev_path

_LOGGER = logging.getLogger(__name__)

LEDGER_STORAGE_VERSION = 1


def ledger_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The entry's energy-ledger file, ``.storage/atm90e32.ledger.<entry_id>`` (layout: ``async_save_ledger``).

    Written atomically with fsync, so a power cut leaves the previous or the new file,
    never a torn one (a file damaged anyway is set aside by Home Assistant, and the totals
    fall back to the restored sensor states).
    """
    return Store(hass, LEDGER_STORAGE_VERSION, f"{DOMAIN}.ledger.{entry_id}", atomic_writes=True)


type Atm90e32ConfigEntry = ConfigEntry[Atm90e32Coordinator]


@dataclass(frozen=True)
class MeterSettings:
    """What the entry says about the meter: the chip configuration and the software settings.

    current_scale: 1, 2 or 4 (current, power and energy multiplied; Igain divided in the chip).
    inverted: phases whose CT faces the wrong way.
    """

    chip: ChipConfig
    current_scale: int
    inverted: frozenset[Phase]


def meter_settings(data: Mapping[str, Any], options: Mapping[str, Any]) -> MeterSettings:
    """Combine a config entry's data (device, wiring) and options (gains, CTs) into settings.

    On the split-phase board phase B is unused and keeps the default current gain; with
    one voltage transformer, phase C uses the same voltage gain as phase A.
    Raises ValueError for out-of-range values.
    """
    merged = {**DEFAULT_OPTIONS, **data, **options}
    voltage_gain = int(merged[CONF_VOLTAGE_GAIN])
    voltage_gain_c = int(merged[CONF_VOLTAGE_GAIN_L2]) if merged[CONF_VOLTAGE_TRANSFORMERS] == VT_DUAL else voltage_gain
    frequency = int(merged[CONF_LINE_FREQUENCY])
    chip = ChipConfig(
        line_frequency=frequency,
        pga_gain=int(merged[CONF_PGA_GAIN]),
        voltage_gains=(voltage_gain, voltage_gain, voltage_gain_c),
        current_gains=(int(merged[CONF_CURRENT_GAIN_L1]), reg.DEFAULT_GAIN, int(merged[CONF_CURRENT_GAIN_L2])),
        nominal_voltage=120.0 if frequency == 60 else 230.0,
    )
    inverted = frozenset(phase for phase, key in ((Phase.A, CONF_INVERT_L1), (Phase.C, CONF_INVERT_L2)) if merged[key])
    scale = int(merged[CONF_CURRENT_SCALE])
    if scale not in (1, 2, 4):
        raise ValueError("current scale must be 1, 2 or 4")
    return MeterSettings(chip=chip, current_scale=scale, inverted=inverted)


def open_transport(data: Mapping[str, Any]) -> Transport:
    """Open the bus named by a config entry's data: a spidev node at its SPI clock, or the simulated meter.

    The simulated meter is the emulator replaying the bundled real household trace in
    real time (or ``simulation_speed`` times faster).  Blocking: run in the executor.
    Raises DeviceNotFoundError, DevicePermissionError, TransportError, ValueError.
    """
    device = data[CONF_DEVICE]
    if device == SIMULATED:
        speed = float(data.get(CONF_SIMULATION_SPEED, 1.0))
        return EmulatedAtm90e32(TraceLoad(), clock=scaled_clock(speed))
    bus, chip_select = parse_spidev_path(device)
    return SpidevTransport(bus, chip_select, int(data.get(CONF_SPI_SPEED, DEFAULT_SPEED_HZ)))


def translation_key_for(err: Atm90e32Error) -> str:
    """Map a driver error to the translation key of its message in translations/en.json."""
    if isinstance(err, DeviceNotFoundError):
        return "no_spi_device"
    if isinstance(err, DevicePermissionError):
        return "permission_denied"
    if isinstance(err, DeadBusError):
        return "chip_not_answering"
    if isinstance(err, CommunicationError):
        return "communication_error"
    return "cannot_connect"


def _largest_power(snapshot: MeterSnapshot) -> float:
    """The largest |active power| of any phase, W in the chip's own scale."""
    return max((abs(r.active_power) for r in snapshot.phases.values()), default=0.0)


@dataclass
class HealthCounters:
    """What went wrong since setup, for diagnostics and the closing figures of a soak."""

    refreshes: int = 0
    failed_refreshes: int = 0
    chip_resets: int = 0
    configuration_repairs: int = 0
    possible_overflows: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class _Read:
    """One executor job's result: the snapshot and when its energy was read (monotonic s)."""

    snapshot: MeterSnapshot
    read_at: float
    reconfigured: str | None = None
    """Why the chip was configured again in this job: "reset" or "configuration", else None."""


class Atm90e32Coordinator(DataUpdateCoordinator[MeterSnapshot]):
    """Refreshes one chip and owns its energy ledger.

    All SPI I/O runs in the executor, one job at a time (a lock guards the chip).
    ``ledger`` and ``health`` are only touched on the event loop.
    """

    config_entry: Atm90e32ConfigEntry

    def __init__(self, hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> None:
        """Create the coordinator; the bus is opened in :meth:`_async_setup`."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.data[CONF_DEVICE]}",
            update_interval=DEFAULT_UPDATE_INTERVAL,
        )
        self.settings = meter_settings(entry.data, entry.options)
        self.config = self.settings.chip
        """The configuration the chip is kept at (re-applied after a reset)."""
        self.ledger = EnergyLedger()
        self._store = ledger_store(hass, entry.entry_id)
        self.health = HealthCounters()
        self.transport: Transport | None = None
        self.chip: Atm90e32 | None = None
        self._lock = threading.Lock()
        self.calibration_sleep: Callable[[float], None] = time.sleep
        self._last_read: _Read | None = None
        self._failing_since: float | None = None
        self._adopted = False
        """The chip was found metering at setup (kept, or given our configuration without a reset): it kept
        counting while we were away."""
        self._previous_run: tuple[datetime, float] | None = None
        """When the previous run last read the energy registers (UTC) and the most |W| it saw then."""
        self._last_energy_read: tuple[datetime, float] | None = None
        """When the energy registers were last read (UTC) and the most |W| that read saw; stored with the ledger."""

    @property
    def last_energy_read(self) -> tuple[datetime, float] | None:
        """When the energy registers were last read (UTC) and the largest |W| (chip scale) then; None before any."""
        return self._last_energy_read

    @property
    def device(self) -> str:
        """The entry's SPI device path, or ``simulated``."""
        return str(self.config_entry.data[CONF_DEVICE])

    def _update_failed(self, err: Atm90e32Error) -> UpdateFailed:
        self.health.last_error = f"{type(err).__name__}: {err}"
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=translation_key_for(err),
            translation_placeholders={"device": self.device, "error": str(err)},
        )

    async def _async_setup(self) -> None:
        """Open the bus and bring the chip to our configuration; a chip still metering is not reset.

        First the lifetime totals are loaded from the ledger store, so the counts of this
        run are added to where the last run left off even if Home Assistant had stopped
        uncleanly.  A failure raises UpdateFailed (Home Assistant retries the setup) and
        files the repair issue that tells the person what to fix.
        """
        stored = await self._store.async_load()
        if isinstance(stored, dict):
            if isinstance(stored.get("counts"), dict):
                self.ledger.restore_dict(stored["counts"])
            read_at = dt_util.parse_datetime(str(stored.get("read_at", "")))
            power = stored.get("power_w")
            if read_at is not None and isinstance(power, (int, float)):
                self._previous_run = self._last_energy_read = (read_at, float(power))
        try:
            await self.hass.async_add_executor_job(self._open)
        except Atm90e32Error as err:
            key = await self.hass.async_add_executor_job(issues.issue_for, err, self.device)
            if key is not None:
                issues.async_raise(self.hass, self.config_entry, key, error=str(err))
            raise self._update_failed(err) from err
        issues.async_clear(self.hass, self.config_entry, *issues.CONNECTION_ISSUES)

    def _open(self) -> None:
        with self._lock:
            try:
                self.transport = open_transport(self.config_entry.data)
                self.chip = Atm90e32(self.transport)
                adoption = self.chip.ensure_configured(self.config)
                _LOGGER.debug("ATM90E32AS on %s: %s", self.device, adoption)
                self._adopted = adoption is not Adoption.CONFIGURED
            except Atm90e32Error:
                self._close_locked()
                raise

    async def _async_update_data(self) -> MeterSnapshot:
        """Read one snapshot in the executor and add its energy counts to the ledger."""
        self.health.refreshes += 1
        check_config = self.health.refreshes % CONFIG_CHECK_EVERY == 0
        read: list[Mapping[Phase, EnergyCounts]] = []
        result: _Read | None = None
        try:
            result = await self.hass.async_add_executor_job(self._refresh, read, check_config)
        except Atm90e32Error as err:
            self.health.failed_refreshes += 1
            await self._async_track_failure(err)
            raise self._update_failed(err) from err
        finally:
            # Counts read are real even when a later read failed: never drop them.  The
            # chip has cleared them, so they exist only here until written to disk: save
            # them before they are shown.
            if self._book(read, None if result is None else result.snapshot):
                await self.async_save_ledger()
        self._failing_since = None
        issues.async_clear(self.hass, self.config_entry, *issues.CONNECTION_ISSUES)
        if result.reconfigured == "reset":
            self.health.chip_resets += 1
            _LOGGER.warning(
                "The ATM90E32AS on %s had been reset (brown-out?) and was configured again; "
                "the energy it had counted since the previous read was cleared with it",
                self.device,
            )
        elif result.reconfigured == "configuration":
            self.health.configuration_repairs += 1
        if self._last_read is None:
            self._check_restart_gap(result)
        self._check_gap(result)
        self._last_read = result
        return result.snapshot.scaled(self.settings.current_scale, self.settings.inverted)

    async def async_read_before_unload(self) -> None:
        """Read the energy registers one last time and book their counts at the current settings.

        Unloading usually means the settings are about to change (options saved,
        reconfigure): counts the chip made under the old settings are booked under them
        rather than under the new ones.  A chip that does not answer keeps its counts for
        the next run (logged at debug level); this never raises.
        """
        read: list[Mapping[Phase, EnergyCounts]] = []
        try:
            await self.hass.async_add_executor_job(self._read_under_lock, read)
        except Atm90e32Error as err:
            _LOGGER.debug("last read before unloading %s failed: %s", self.device, err)
        finally:
            booked = self._book(read, None)
        if booked:
            self.async_update_listeners()

    def _book(self, read: list[Mapping[Phase, EnergyCounts]], snapshot: MeterSnapshot | None) -> bool:
        """Add the counts in ``read`` to the ledger under the current settings and note when they were read.

        The largest power noted is ``snapshot``'s, or the last one known when no snapshot
        completed.  Returns whether anything was read (so the ledger should be saved).
        """
        for energy in read:
            self.ledger.add(energy, scale=self.settings.current_scale, inverted=self.settings.inverted)
        if not read:
            return False
        if snapshot is not None:
            power = _largest_power(snapshot)
        else:
            power = 0.0 if self._last_energy_read is None else self._last_energy_read[1]
        self._last_energy_read = (dt_util.utcnow(), power)
        return True

    def _read_under_lock(self, read: list[Mapping[Phase, EnergyCounts]]) -> None:
        with self._lock:
            if self.chip is not None:
                self._read_snapshot(read)

    async def async_save_ledger(self) -> None:
        """Write the lifetime totals to the ledger store (the file write runs in the executor).

        The file, ``.storage/atm90e32.ledger.<entry_id>``, holds ``{"counts": {"l1_import":
        counts, ...}, "read_at": ISO 8601 UTC of the last energy read, "power_w": the largest
        |W| that read saw}``; the last two let the next run judge how long the chip was left
        unread.  Called after every read of the energy registers and at unload.  A failed write
        is logged by Home Assistant's storage helper; the totals stay in memory and the
        next read writes them again.
        """
        data: dict[str, Any] = {"counts": self.ledger.as_dict()}
        if self._last_energy_read is not None:
            data["read_at"] = self._last_energy_read[0].isoformat()
            data["power_w"] = self._last_energy_read[1]
        await self._store.async_save(data)

    def _check_restart_gap(self, first: _Read) -> None:
        """Warn (log and repair issue) when the last read before this run was so long ago that a register may wrap.

        Only for a chip that was adopted (it kept counting while Home Assistant was
        down); a chip configured afresh had been reset, which cleared its registers.  The
        gap runs from the previous run's last read, as its ledger store recorded it (also
        after a crash), to this run's first read.
        """
        if self._previous_run is None or not self._adopted or first.reconfigured is not None:
            return
        read_at, power = self._previous_run
        elapsed = (dt_util.utcnow() - read_at).total_seconds()
        self._report_gap(elapsed, max(power, _largest_power(first.snapshot)))

    async def _async_track_failure(self, err: Atm90e32Error) -> None:
        now = monotonic()
        if self._failing_since is None:
            self._failing_since = now
        if now - self._failing_since >= CHIP_NOT_ANSWERING_REPAIR_AFTER.total_seconds():
            key = await self.hass.async_add_executor_job(issues.issue_for, err, self.device)
            if key is not None:
                issues.async_raise(self.hass, self.config_entry, key, error=str(err))

    def _check_gap(self, result: _Read) -> None:
        """Warn (log and repair issue) when reads were so far apart that a counter may have wrapped."""
        previous = self._last_read
        if previous is None or result.reconfigured is not None:
            return
        elapsed = result.read_at - previous.read_at
        self._report_gap(elapsed, max(_largest_power(previous.snapshot), _largest_power(result.snapshot)))

    def _report_gap(self, elapsed: float, worst: float) -> None:
        if not may_have_wrapped(elapsed, worst):
            return
        self.health.possible_overflows += 1
        _LOGGER.warning(
            "The ATM90E32AS on %s was read %.0f s after the previous read at up to %.0f W: "
            "an energy register may have overflowed and energy may have been lost",
            self.device,
            elapsed,
            worst,
        )
        issues.async_raise(
            self.hass,
            self.config_entry,
            issues.COUNTERS_OVERFLOWED,
            seconds=f"{elapsed:.0f}",
            watts=f"{worst:.0f}",
        )

    def _refresh(self, read: list[Mapping[Phase, EnergyCounts]], check_config: bool) -> _Read:
        """Executor job: read a snapshot; reconfigure a chip found reset or misconfigured, then read again."""
        with self._lock:
            if self.chip is None:
                raise CommunicationError("the SPI device is closed")
            snapshot = self._read_snapshot(read)
            read_at = monotonic()
            reason = None if snapshot.meter_enabled else "reset"
            if reason is None and check_config:
                try:
                    self.chip.verify_config(self.chip.config_registers(self.config).items())
                except ConfigurationError as err:
                    _LOGGER.warning("The ATM90E32AS on %s lost part of its configuration (%s)", self.device, err)
                    reason = "configuration"
            if reason is None:
                return _Read(snapshot, read_at)
            self.chip.configure(self.config)
            snapshot = self._read_snapshot(read)
            return _Read(snapshot, monotonic(), reconfigured=reason)

    def _read_snapshot(self, read: list[Mapping[Phase, EnergyCounts]]) -> MeterSnapshot:
        """Read a snapshot and put its energy counts in ``read``, also those a failed read got."""
        assert self.chip is not None
        try:
            snapshot = self.chip.read_snapshot(SPLIT_PHASE.phases)
        except Atm90e32Error as err:
            read.extend(e.phases for e in err.energy_reads)
            raise
        read.append(snapshot.energy.phases)
        return snapshot

    def _close_locked(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.transport = None
        self.chip = None

    def close(self) -> None:
        """Release the SPI device (blocking; run in the executor)."""
        with self._lock:
            self._close_locked()

    def read_calibration(self) -> dict[Phase, CalibrationSample]:
        """Average fresh readings of both legs, in the chip's scale (blocking: run in the executor)."""
        with self._lock:
            if self.chip is None:
                raise CommunicationError("the SPI device is closed")
            self.chip.check_alive()  # a dead bus would "verify" all ones as readings
            samples = read_average(self.chip, SPLIT_PHASE.phases, sleep=self.calibration_sleep)
            self.chip.check_alive()
            return samples

    def apply_config(self, config: ChipConfig) -> None:
        """Write ``config`` into the running chip without a reset (counters keep their counts).

        Blocking: run in the executor.  From now on it is the configuration re-applied
        after a reset.  Raises the driver's errors (ConfigurationError on a refused write).
        """
        with self._lock:
            if self.chip is None:
                raise CommunicationError("the SPI device is closed")
            self.config = config
            self.chip.configure(config, reset=False)

    def register_dump(self) -> dict[str, int]:
        """Read every configuration and status register (never the read-to-clear energy ones).

        Blocking: run in the executor.  Returns ``{"0x33": value, ...}``; raises the
        driver's errors.
        """
        with self._lock:
            if self.chip is None:
                raise CommunicationError("the SPI device is closed")
            self.chip.check_alive()  # a dead bus would "verify" all ones everywhere
            addresses = sorted(
                {
                    *self.chip.config_registers(self.config),
                    reg.EMM_STATE0,
                    reg.EMM_STATE1,
                    reg.CRC_ERR_STATUS,
                    reg.CFG_REG_ACC_EN,
                }
            )
            return {f"0x{a:02X}": self.chip.read_register(a) for a in addresses}
