"""Constants of the atm90e32 integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from .driver.channels import DELTA_NOMINAL_VOLTAGES
from .driver.power_quality import (
    FREQUENCY_DEFAULT_PERCENT,
    PHASE_LOSS_DEFAULT_PERCENT,
    SAG_DEFAULT_PERCENT,
    SWELL_DEFAULT_PERCENT,
)

DOMAIN: Final = "atm90e32"
MANUFACTURER: Final = "Microchip Technology"
MODEL: Final = "ATM90E32AS"

CONF_DEVICE: Final = "device"
"""``/dev/spidevB.C`` of the chip, or SIMULATED."""
CONF_LINE_FREQUENCY: Final = "line_frequency"
CONF_WIRING: Final = "wiring"
"""The wiring's key (driver/channels.py WIRINGS); per-channel option names come from its channels."""
CONF_PGA_GAIN: Final = "pga_gain"
CONF_START_THRESHOLD: Final = "start_threshold"
"""Start threshold choice: driver.start_threshold.START_THRESHOLD_CHOICES (default ``iec``)."""
CONF_VOLTAGE_TRANSFORMERS: Final = "voltage_transformers"
CONF_VT_PRESET: Final = "vt_preset"
CONF_CURRENT_SCALE: Final = "current_scale"
"""1, 2 or 4: Igain is divided by it in the chip and current, power and energy multiplied."""
CONF_NOMINAL_VOLTAGE: Final = "nominal_voltage"
"""V rms of each channel's voltage (a leg: 120 V in North America); default by line frequency."""
NOMINAL_VOLTAGES: Final = (100, 110, 115, 120, 127, 220, 230, 240, 277)
"""Nominal voltages offered: the common low-voltage supplies (IEC 60038 and North American)."""
CONF_SAG_PERCENT: Final = "sag_percent"
CONF_SWELL_PERCENT: Final = "swell_percent"
CONF_PHASE_LOSS_PERCENT: Final = "phase_loss_percent"
CONF_FREQUENCY_PERCENT: Final = "frequency_percent"
CONF_OVER_CURRENT: Final = "over_current"
"""Over-current threshold per channel, A as shown (current scaling applied); default DEFAULT_OVER_CURRENT x scale."""
DEFAULT_OVER_CURRENT: Final = 65.0
"""A, just below Irms full scale 65.535 A (DS p.70): a current clipping at the register limit is over-current."""
CONF_EXPORT_EXPECTED: Final = "export_expected"
"""The service has generation (solar): negative power is export, not a CT the wrong way round."""
CONF_SPI_SPEED: Final = "spi_speed"
"""SPI clock in Hz (entry data); entries made before it existed use DEFAULT_SPEED_HZ."""
SPI_SPEEDS: Final = (1_000_000, 500_000, 200_000, 100_000)
"""SPI clocks offered, Hz: the datasheet allows 400 Hz .. 1.1 MHz (DS p.73); slower helps long or noisy wiring."""
CONF_SIMULATION_SPEED: Final = "simulation_speed"
"""Simulated meter only: how many trace seconds play per real second (not in the UI)."""
CONF_BOARD: Final = "board"
"""Entry data: the name the person gives the board the chip sits on (the chip device's name starts with it)."""
CONF_BOARD_POSITION: Final = "board_position"
"""Entry data: 1 or 2, the chip's place on a two-chip board (CT1-CT3 or CT4-CT6 on CircuitSetup's 6-channel board)."""
CONF_CHANNELS: Final = "channels"
"""Entry data of a circuits chip: the keys of the enabled channels (``["ct1", "ct3"]``); their names are options."""
CONF_VOLTAGE_SYSTEM: Final = "voltage_system"
"""Entry data of a three-phase chip: one of VOLTAGE_SYSTEMS."""
CONF_REPLAY_FILE: Final = "replay_file"
"""Entry data of a simulated chip: a CSV path relative to REPLAY_FOLDER (empty: the bundled trace)."""
REPLAY_FOLDER: Final = "atm90e32_replay"
"""The folder under Home Assistant's configuration directory that replay files must lie in."""

VOLTAGE_SYSTEMS: Final[dict[str, tuple[int, int]]] = {
    "230_400": (230, 400),
    "120_208": (120, 208),
    "277_480": (277, 480),
}
"""Three-phase four-wire nominal systems, ``key: (line-to-neutral V, line-to-line V)`` (IEC 60038; ANSI C84.1)."""
DEFAULT_VOLTAGE_SYSTEM: Final = "230_400"
DELTA_VOLTAGE_SYSTEMS: Final[dict[str, tuple[int, int]]] = {
    f"delta_{volts}": (volts, volts) for volts in DELTA_NOMINAL_VOLTAGES
}
"""Three-phase three-wire nominal systems, ``key: (channel V, line-to-line V)``: each channel measures a line voltage.

The first value is a channel's nominal voltage in both tables (line to neutral for wye, line to line here).
"""


SIMULATED: Final = "simulated"
"""The first chip select of the simulated bus (entries made before many chips existed use it)."""
SIMULATED_CHIPS: Final = 14
"""Chip selects on the simulated bus: ``simulated``, ``simulated_1`` .. ``simulated_13`` (7 two-chip boards, 42 CTs)."""


PRESET_CUSTOM: Final = "custom"
VT_SINGLE: Final = "single"
"""One voltage transformer feeds every voltage input (jumper JP3 on the split-phase board)."""
VT_DUAL: Final = "dual"
"""Each channel's voltage input has its own transformer (its ``voltage_gain_option``)."""

DEFAULT_LINE_FREQUENCY: Final = 60
DEFAULT_PGA_GAIN: Final = 2
DEFAULT_VOLTAGE_GAIN: Final = 3920
"""CircuitSetup split-phase board >= v1.4 rev3 with a 9 V AC transformer (atm90e32as-facts)."""
DEFAULT_CURRENT_GAIN: Final = 25498
"""SCT-013-000 100A/50mA at PGA 2x on the split-phase board (CircuitSetup docs, atm90e32as-facts)."""
DEFAULT_VT_PRESET: Final = "9v_v14_rev3"
DEFAULT_CT_PRESET: Final = "sct_013_000"


POWER_QUALITY_DEFAULTS: Final[dict[str, Any]] = {
    CONF_SAG_PERCENT: SAG_DEFAULT_PERCENT,
    CONF_SWELL_PERCENT: SWELL_DEFAULT_PERCENT,
    CONF_PHASE_LOSS_PERCENT: PHASE_LOSS_DEFAULT_PERCENT,
    CONF_FREQUENCY_PERCENT: FREQUENCY_DEFAULT_PERCENT,
    CONF_EXPORT_EXPECTED: False,
}
"""Power-quality options until the person changes them (nominal voltage and over-current follow other settings)."""

CONF_UPDATE_INTERVAL: Final = "update_interval"
"""Seconds between refreshes (entry options), one of UPDATE_INTERVALS; entries without it use the default."""
UPDATE_INTERVALS: Final = (1, 2, 5, 10, 30, 60)
"""Refresh intervals offered, s; one longer than driver.ledger.max_read_interval_s is refused."""
DEFAULT_UPDATE_INTERVAL: Final = timedelta(seconds=5)
"""Refresh every 5 s: live enough for the dashboard, within the shortest safe interval (6.8 s: 3 phases, 230 V)."""
LEDGER_SAVE_INTERVAL: Final = timedelta(seconds=60)
"""The ledger store (atomic, fsync) is written at most this often; the journal after every read (storage.py)."""
CHIP_NOT_ANSWERING_REPAIR_AFTER: Final = timedelta(seconds=60)
"""A chip silent for this long gets a repair issue (a brief glitch only makes entities unavailable)."""
CONFIG_CHECK_INTERVAL: Final = timedelta(minutes=5)
"""About this often (every 60 refreshes at 5 s) every configuration register is read back."""

CONF_DEMAND_INTERVAL: Final = "demand_interval"
"""Minutes of a demand interval (entry options), one of driver.demand.DEMAND_INTERVALS_MIN; default 15."""
CONF_CYCLE_START_DAY: Final = "billing_cycle_start_day"
"""Day of the month (1-28) the billing cycle starts, at local midnight (entry options); default 1."""
