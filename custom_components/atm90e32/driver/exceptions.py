"""Typed errors raised by the ATM90E32AS driver.

The integration maps each to a config-flow error, an ``UpdateFailed`` or a repair issue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import EnergyRead


class Atm90e32Error(Exception):
    """Base class of every error the driver raises.

    ``energy_reads`` holds the energy counts a failed read had already obtained, oldest
    first (empty otherwise).  The chip cleared those registers when they were read, so
    the caller must add them to its ledger or they are lost.
    """

    energy_reads: tuple[EnergyRead, ...] = ()


class TransportError(Atm90e32Error):
    """The SPI device could not be opened or a transfer failed at the OS level."""


class DeviceNotFoundError(TransportError):
    """The /dev/spidevB.C node does not exist (SPI not enabled, or wrong bus / chip select)."""


class DevicePermissionError(TransportError):
    """The /dev/spidevB.C node exists but this process may not open it."""


class CommunicationError(Atm90e32Error):
    """A read could not be verified against LastSPIData, or stayed torn, after the retries."""


class DeadBusError(CommunicationError):
    """Every response is all ones or all zeros: the chip does not drive MISO (DS p.30)."""


class ConfigurationError(Atm90e32Error):
    """A configuration write was not accepted: the read-back differs from what was written."""
