"""ATM90E32AS driver: SPI protocol, chip access, emulator and energy ledger.

This package never imports Home Assistant; it is usable (and tested) on its own.
"""

from .chip import Atm90e32
from .exceptions import (
    Atm90e32Error,
    CommunicationError,
    ConfigurationError,
    DeadBusError,
    DeviceNotFoundError,
    DevicePermissionError,
    TransportError,
)
from .ledger import EnergyLedger
from .models import ChipConfig, EnergyCounts, MeterSnapshot, PhaseReading, ThreePhaseReading
from .registers import Phase
from .transport import SpidevTransport, Transport

__all__ = [
    "Atm90e32",
    "Atm90e32Error",
    "ChipConfig",
    "CommunicationError",
    "ConfigurationError",
    "DeadBusError",
    "DeviceNotFoundError",
    "DevicePermissionError",
    "EnergyCounts",
    "EnergyLedger",
    "MeterSnapshot",
    "Phase",
    "PhaseReading",
    "SpidevTransport",
    "ThreePhaseReading",
    "Transport",
    "TransportError",
]
