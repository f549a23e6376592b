"""Constants of the atm90e32 integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from .driver.ledger import FULL_SCALE_FILL_S

DOMAIN: Final = "atm90e32"
MANUFACTURER: Final = "Microchip Technology"
MODEL: Final = "ATM90E32AS"

CONF_DEVICE: Final = "device"
"""``/dev/spidevB.C`` of the chip, or SIMULATED."""
CONF_LINE_FREQUENCY: Final = "line_frequency"
CONF_WIRING: Final = "wiring"
CONF_VOLTAGE_GAIN: Final = "voltage_gain"
CONF_CURRENT_GAIN_L1: Final = "current_gain_l1"
CONF_CURRENT_GAIN_L2: Final = "current_gain_l2"
CONF_PGA_GAIN: Final = "pga_gain"
CONF_SIMULATION_SPEED: Final = "simulation_speed"
"""Simulated meter only: how many trace seconds play per real second (not in the UI)."""

SIMULATED: Final = "simulated"
WIRING_SPLIT_PHASE_2CT: Final = "split_phase_2ct"
"""Split-phase two-CT board: L1 = chip phase A (CT1), L2 = phase C (CT2), B unused."""

DEFAULT_LINE_FREQUENCY: Final = 60
DEFAULT_PGA_GAIN: Final = 2
DEFAULT_VOLTAGE_GAIN: Final = 3920
"""CircuitSetup split-phase board >= v1.4 rev3 with a 9 V AC transformer (atm90e32as-facts)."""
DEFAULT_CURRENT_GAIN: Final = 25498
"""SCT-013-000 100A/50mA at PGA 2x on the split-phase board (CircuitSetup docs, atm90e32as-facts)."""

MAX_UPDATE_INTERVAL: Final = timedelta(seconds=FULL_SCALE_FILL_S / 2)
"""Half the time a register takes to fill at full scale (about 20 s): no counter can wrap."""
DEFAULT_UPDATE_INTERVAL: Final = timedelta(seconds=5)
"""Refresh every 5 s: live enough for the dashboard, a quarter of MAX_UPDATE_INTERVAL."""
CHIP_NOT_ANSWERING_REPAIR_AFTER: Final = timedelta(seconds=60)
"""A chip silent for this long gets a repair issue (a brief glitch only makes entities unavailable)."""
CONFIG_CHECK_EVERY: Final = 60
"""Every this many refreshes (5 min at 5 s) every configuration register is read back."""
