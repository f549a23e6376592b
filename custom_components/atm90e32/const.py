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
CONF_VOLTAGE_GAIN_L2: Final = "voltage_gain_l2"
"""Ugain of phase C when a second voltage transformer feeds it (else CONF_VOLTAGE_GAIN serves both)."""
CONF_VOLTAGE_TRANSFORMERS: Final = "voltage_transformers"
CONF_VT_PRESET: Final = "vt_preset"
CONF_CT_PRESET_L1: Final = "ct_preset_l1"
CONF_CT_PRESET_L2: Final = "ct_preset_l2"
CONF_INVERT_L1: Final = "invert_l1"
CONF_INVERT_L2: Final = "invert_l2"
CONF_CURRENT_SCALE: Final = "current_scale"
"""1, 2 or 4: Igain is divided by it in the chip and current, power and energy multiplied."""
CONF_SPI_SPEED: Final = "spi_speed"
"""SPI clock in Hz (entry data); entries made before it existed use DEFAULT_SPEED_HZ."""
SPI_SPEEDS: Final = (1_000_000, 500_000, 200_000, 100_000)
"""SPI clocks offered, Hz: the datasheet allows 400 Hz .. 1.1 MHz (DS p.73); slower helps long or noisy wiring."""
CONF_SIMULATION_SPEED: Final = "simulation_speed"
"""Simulated meter only: how many trace seconds play per real second (not in the UI)."""

SIMULATED: Final = "simulated"
PRESET_CUSTOM: Final = "custom"
VT_SINGLE: Final = "single"
"""One voltage transformer feeds VA and, through jumper JP3, VC: CT2 faces the other way."""
VT_DUAL: Final = "dual"
"""A second voltage transformer feeds VC: both CTs face the same way."""
WIRING_SPLIT_PHASE_2CT: Final = "split_phase_2ct"
"""Split-phase two-CT board: L1 = chip phase A (CT1), L2 = phase C (CT2), B unused."""

DEFAULT_LINE_FREQUENCY: Final = 60
DEFAULT_PGA_GAIN: Final = 2
DEFAULT_VOLTAGE_GAIN: Final = 3920
"""CircuitSetup split-phase board >= v1.4 rev3 with a 9 V AC transformer (atm90e32as-facts)."""
DEFAULT_CURRENT_GAIN: Final = 25498
"""SCT-013-000 100A/50mA at PGA 2x on the split-phase board (CircuitSetup docs, atm90e32as-facts)."""
DEFAULT_OPTIONS: Final = {
    CONF_VOLTAGE_TRANSFORMERS: VT_SINGLE,
    CONF_VT_PRESET: "9v_v14_rev3",
    CONF_VOLTAGE_GAIN: DEFAULT_VOLTAGE_GAIN,
    CONF_VOLTAGE_GAIN_L2: DEFAULT_VOLTAGE_GAIN,
    CONF_PGA_GAIN: DEFAULT_PGA_GAIN,
    CONF_CT_PRESET_L1: "sct_013_000",
    CONF_CURRENT_GAIN_L1: DEFAULT_CURRENT_GAIN,
    CONF_CT_PRESET_L2: "sct_013_000",
    CONF_CURRENT_GAIN_L2: DEFAULT_CURRENT_GAIN,
    CONF_INVERT_L1: False,
    CONF_INVERT_L2: False,
    CONF_CURRENT_SCALE: 1,
}
"""The meter settings (config entry options) of a new entry before the person changes them."""

MAX_UPDATE_INTERVAL: Final = timedelta(seconds=FULL_SCALE_FILL_S / 2)
"""Half the time a register takes to fill at full scale (about 20 s): no counter can wrap."""
DEFAULT_UPDATE_INTERVAL: Final = timedelta(seconds=5)
"""Refresh every 5 s: live enough for the dashboard, a quarter of MAX_UPDATE_INTERVAL."""
CHIP_NOT_ANSWERING_REPAIR_AFTER: Final = timedelta(seconds=60)
"""A chip silent for this long gets a repair issue (a brief glitch only makes entities unavailable)."""
CONFIG_CHECK_EVERY: Final = 60
"""Every this many refreshes (5 min at 5 s) every configuration register is read back."""
