"""The DataUpdateCoordinator: reads the chip in the executor and keeps the energy ledger."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import (
    CONF_CURRENT_GAIN_L1,
    CONF_CURRENT_GAIN_L2,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_PGA_GAIN,
    CONF_SIMULATION_SPEED,
    CONF_VOLTAGE_GAIN,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
    SIMULATED,
)
from .driver import (
    Atm90e32,
    Atm90e32Error,
    ChipConfig,
    CommunicationError,
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
from .driver.emulator import EmulatedAtm90e32, TraceLoad, scaled_clock
from .driver.transport import parse_spidev_path

_LOGGER = logging.getLogger(__name__)

type Atm90e32ConfigEntry = ConfigEntry[Atm90e32Coordinator]


def chip_config(data: Mapping[str, Any]) -> ChipConfig:
    """Build the chip configuration from a config entry's data (split-phase two-CT board).

    Phase B is unused on this board and keeps the default gain.
    Raises ValueError for out-of-range values.
    """
    voltage_gain = int(data[CONF_VOLTAGE_GAIN])
    return ChipConfig(
        line_frequency=int(data[CONF_LINE_FREQUENCY]),
        pga_gain=int(data[CONF_PGA_GAIN]),
        voltage_gains=(voltage_gain, voltage_gain, voltage_gain),
        current_gains=(int(data[CONF_CURRENT_GAIN_L1]), reg.DEFAULT_GAIN, int(data[CONF_CURRENT_GAIN_L2])),
        nominal_voltage=120.0 if int(data[CONF_LINE_FREQUENCY]) == 60 else 230.0,
    )


def open_transport(data: Mapping[str, Any]) -> Transport:
    """Open the bus named by a config entry's data: a spidev node, or the simulated meter.

    The simulated meter is the emulator replaying the bundled real household trace in
    real time (or ``simulation_speed`` times faster).  Blocking: run in the executor.
    Raises DeviceNotFoundError, DevicePermissionError, TransportError, ValueError.
    """
    device = data[CONF_DEVICE]
    if device == SIMULATED:
        speed = float(data.get(CONF_SIMULATION_SPEED, 1.0))
        return EmulatedAtm90e32(TraceLoad(), clock=scaled_clock(speed))
    bus, chip_select = parse_spidev_path(device)
    return SpidevTransport(bus, chip_select)


def translation_key_for(err: Atm90e32Error) -> str:
    """Map a driver error to the translation key of its message in strings/en.json."""
    if isinstance(err, DeviceNotFoundError):
        return "no_spi_device"
    if isinstance(err, DevicePermissionError):
        return "permission_denied"
    if isinstance(err, DeadBusError):
        return "chip_not_answering"
    if isinstance(err, CommunicationError):
        return "communication_error"
    return "cannot_connect"


class Atm90e32Coordinator(DataUpdateCoordinator[MeterSnapshot]):
    """Refreshes one chip and owns its energy ledger.

    All SPI I/O runs in the executor, one job at a time (a lock guards the chip).
    ``ledger`` is only touched on the event loop.
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
        self.config = chip_config(entry.data)
        self.ledger = EnergyLedger()
        self.transport: Transport | None = None
        self.chip: Atm90e32 | None = None
        self.chip_resets = 0
        self._lock = threading.Lock()

    async def _async_setup(self) -> None:
        """Open the bus and configure the chip (or adopt it if it already meters our configuration)."""
        try:
            await self.hass.async_add_executor_job(self._open)
        except Atm90e32Error as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=translation_key_for(err),
                translation_placeholders={"device": self.config_entry.data[CONF_DEVICE], "error": str(err)},
            ) from err

    def _open(self) -> None:
        with self._lock:
            try:
                self.transport = open_transport(self.config_entry.data)
                self.chip = Atm90e32(self.transport)
                if self.chip.ensure_configured(self.config):
                    _LOGGER.debug("configured the ATM90E32AS on %s", self.config_entry.data[CONF_DEVICE])
            except Atm90e32Error:
                self._close_locked()
                raise

    async def _async_update_data(self) -> MeterSnapshot:
        """Read one snapshot in the executor and add its energy counts to the ledger."""
        read: list[Mapping[Phase, EnergyCounts]] = []
        try:
            return await self.hass.async_add_executor_job(self._refresh, read)
        except Atm90e32Error as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key=translation_key_for(err),
                translation_placeholders={"device": self.config_entry.data[CONF_DEVICE], "error": str(err)},
            ) from err
        finally:
            # Counts read are real even when a later read failed: never drop them.
            for energy in read:
                self.ledger.add(energy)

    def _refresh(self, read: list[Mapping[Phase, EnergyCounts]]) -> MeterSnapshot:
        """Executor job: read a snapshot; reconfigure a chip found reset, then read again."""
        with self._lock:
            if self.chip is None:
                raise CommunicationError("the SPI device is closed")
            snapshot = self.chip.read_snapshot()
            read.append(snapshot.energy)
            if snapshot.meter_enabled:
                return snapshot
            self.chip_resets += 1
            _LOGGER.warning(
                "The ATM90E32AS on %s was reset (brown-out?); configuring it again",
                self.config_entry.data[CONF_DEVICE],
            )
            self.chip.configure(self.config)
            snapshot = self.chip.read_snapshot()
            read.append(snapshot.energy)
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
