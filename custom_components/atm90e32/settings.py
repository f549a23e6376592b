"""A config entry's data and options as the meter's settings: chip configuration, interval, demand, compensation.

No Home Assistant import: the coordinator, the flows and the forms all read an entry
through these functions, so a gain, offset or threshold is derived in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta, tzinfo
from typing import Any, Final

from .circuit_factor import with_factors
from .compensation import PHASE_KIND, option_key
from .const import (
    CONF_CHANNELS,
    CONF_CURRENT_SCALE,
    CONF_CYCLE_START_DAY,
    CONF_DEMAND_INTERVAL,
    CONF_EXPORT_EXPECTED,
    CONF_FREQUENCY_PERCENT,
    CONF_LINE_FREQUENCY,
    CONF_NOMINAL_VOLTAGE,
    CONF_OVER_CURRENT,
    CONF_PGA_GAIN,
    CONF_PHASE_LOSS_PERCENT,
    CONF_SAG_PERCENT,
    CONF_START_THRESHOLD,
    CONF_SWELL_PERCENT,
    CONF_UPDATE_INTERVAL,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_VT_PRESET,
    CONF_WIRING,
    DEFAULT_CT_PRESET,
    DEFAULT_CURRENT_GAIN,
    DEFAULT_OVER_CURRENT,
    DEFAULT_PGA_GAIN,
    DEFAULT_UPDATE_INTERVAL,
    DEFAULT_VOLTAGE_GAIN,
    DEFAULT_VOLTAGE_SYSTEM,
    DEFAULT_VT_PRESET,
    DELTA_VOLTAGE_SYSTEMS,
    POWER_QUALITY_DEFAULTS,
    PRESET_CUSTOM,
    UPDATE_INTERVALS,
    VOLTAGE_SYSTEMS,
    VT_DUAL,
    VT_SINGLE,
)
from .driver import ChipConfig, MeterSnapshot, Phase
from .driver import registers as reg
from .driver.channels import SPLIT_PHASE, THREE_PHASE_DELTA, THREE_PHASE_WYE, Wiring, wiring_for
from .driver.demand import (
    CYCLE_START_DAYS,
    DEFAULT_CYCLE_START_DAY,
    DEFAULT_DEMAND_INTERVAL_MIN,
    DEMAND_INTERVALS_MIN,
    DemandMeter,
    max_split_for,
)
from .driver.front_end import CT_RATED_CURRENT_A
from .driver.ledger import max_read_interval_s
from .driver.power_quality import PowerQualitySettings
from .driver.start_threshold import START_THRESHOLD_IEC, chosen_start_threshold

_LOGGER = logging.getLogger(__name__)


def default_options(wiring: Wiring) -> dict[str, Any]:
    """The meter settings (config entry options) of a new entry of ``wiring`` before the person changes them."""
    options: dict[str, Any] = {
        CONF_VOLTAGE_TRANSFORMERS: VT_DUAL if wiring.delta else VT_SINGLE,  # delta: two line voltages
        CONF_VT_PRESET: DEFAULT_VT_PRESET,
        CONF_PGA_GAIN: DEFAULT_PGA_GAIN,
        CONF_CURRENT_SCALE: 1,
    }
    for channel in wiring.channels:
        options[channel.voltage_gain_option] = DEFAULT_VOLTAGE_GAIN
        options[channel.ct_preset_option] = DEFAULT_CT_PRESET
        options[channel.current_gain_option] = DEFAULT_CURRENT_GAIN
        options[channel.invert_option] = False
    return options


DEFAULT_OPTIONS: Final = default_options(SPLIT_PHASE)
"""The split-phase board's meter settings of a new entry."""


@dataclass(frozen=True)
class MeterSettings:
    """What the entry says about the meter: the chip configuration and the software settings.

    current_scale: 1, 2 or 4 (current, power and energy multiplied; Igain divided in the chip).
    inverted: phases whose CT faces the wrong way.
    export_expected: the service has generation, so negative power is export.
    """

    chip: ChipConfig
    current_scale: int
    inverted: frozenset[Phase]
    export_expected: bool = False
    factors: Mapping[str, int] = field(default_factory=dict)
    """Channel key -> 2 for a circuit whose power and energy are doubled (a 240 V load on one CT, 120 V reference)."""
    voltage_per_channel: bool = False
    """Each channel's voltage input has its own transformer (three-phase: one per phase), so angles mean something."""

    @property
    def wiring(self) -> Wiring:
        """The entry's channel table."""
        return self.chip.wiring

    @property
    def nominal_voltage(self) -> float:
        """Each channel's nominal voltage, V rms (the power-quality thresholds' reference)."""
        return self.chip.power_quality.nominal_voltage

    def shown(self, snapshot: MeterSnapshot) -> MeterSnapshot:
        """``snapshot`` (chip scale) as the entities show it: current scaling, CT direction, circuit factors."""
        return with_factors(snapshot.scaled(self.current_scale, self.inverted), self.wiring, self.factors)


def entry_wiring(data: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> Wiring:
    """The wiring a config entry's data names, with the channel names its ``options`` give.

    Entries made before the choice existed are split-phase.  A circuits entry has only
    the channels its data enables (``channels``); each channel takes the name the
    person gave it (its ``name_option``), so sensors, repair issues and the calibration
    form say "Heat pump" rather than "CT1".
    Raises KeyError for an unknown wiring, ValueError for a circuits entry with no channel.
    """
    channels = data.get(CONF_CHANNELS)
    wiring = wiring_for(str(data.get(CONF_WIRING, SPLIT_PHASE.key)), None if channels is None else list(channels))
    if not options:
        return wiring
    named = tuple(replace(c, name=str(options.get(c.name_option) or c.name)) for c in wiring.channels)
    return replace(wiring, channels=named)


def entry_voltage_system(data: Mapping[str, Any]) -> tuple[int, int]:
    """The nominal ``(channel, line-to-line)`` volts of a three-phase entry (230/400 unless chosen).

    A channel measures line to neutral on a wye service, line to line on a delta one.
    """
    system = str(data.get(CONF_VOLTAGE_SYSTEM, DEFAULT_VOLTAGE_SYSTEM))
    return DELTA_VOLTAGE_SYSTEMS[system] if system in DELTA_VOLTAGE_SYSTEMS else VOLTAGE_SYSTEMS[system]


def default_nominal_voltage(line_frequency: int, data: Mapping[str, Any] | None = None) -> float:
    """The nominal voltage of each channel, V rms.

    A three-phase entry's (``data``) channel voltage (line to neutral, line to line for
    delta); otherwise 120 V for a 60 Hz service (North America's legs), 230 V for 50 Hz
    (IEC 60038).
    """
    if data is not None and data.get(CONF_WIRING) in (THREE_PHASE_WYE.key, THREE_PHASE_DELTA.key):
        return float(entry_voltage_system(data)[0])
    return 120.0 if line_frequency == 60 else 230.0


def meter_settings(data: Mapping[str, Any], options: Mapping[str, Any]) -> MeterSettings:
    """Combine a config entry's data (device, wiring) and options (gains, CTs) into settings.

    Each channel's phase gets its CT gain and, with a transformer per channel, its own
    voltage gain; with one transformer every phase takes the reference channel's.
    Phases no channel uses keep the default current gain (Igain 0x8000, DS p.59).
    Raises ValueError for out-of-range values, KeyError for an unknown wiring.
    """
    wiring = entry_wiring(data, options)
    merged = {**default_options(wiring), **POWER_QUALITY_DEFAULTS, **data, **options}
    dual = merged[CONF_VOLTAGE_TRANSFORMERS] == VT_DUAL
    reference_gain = int(merged[wiring.reference.voltage_gain_option])
    voltage_gains = [reference_gain] * len(Phase)
    current_gains = [reg.DEFAULT_GAIN] * len(Phase)
    for channel in wiring.channels:
        if dual:
            voltage_gains[channel.phase] = int(merged[channel.voltage_gain_option])
        current_gains[channel.phase] = int(merged[channel.current_gain_option])
    frequency = int(merged[CONF_LINE_FREQUENCY])
    scale = int(merged[CONF_CURRENT_SCALE])
    if scale not in (1, 2, 4):
        raise ValueError("current scale must be 1, 2 or 4")
    nominal = float(merged.get(CONF_NOMINAL_VOLTAGE, default_nominal_voltage(frequency, data)))
    over_current = float(merged.get(CONF_OVER_CURRENT, DEFAULT_OVER_CURRENT * scale))
    power_quality = PowerQualitySettings.from_percent(
        nominal_voltage=nominal,
        line_frequency=frequency,
        over_current=over_current / scale,
        sag_percent=float(merged[CONF_SAG_PERCENT]),
        swell_percent=float(merged[CONF_SWELL_PERCENT]),
        phase_loss_percent=float(merged[CONF_PHASE_LOSS_PERCENT]),
        frequency_percent=float(merged[CONF_FREQUENCY_PERCENT]),
    )
    chip = ChipConfig(
        wiring=wiring,
        line_frequency=frequency,
        pga_gain=int(merged[CONF_PGA_GAIN]),
        voltage_gains=(voltage_gains[0], voltage_gains[1], voltage_gains[2]),
        current_gains=(current_gains[0], current_gains[1], current_gains[2]),
        power_quality=power_quality,
    )
    chip = apply_compensation(chip, merged, nominal)  # offsets, phase compensation, start thresholds
    inverted = frozenset(channel.phase for channel in wiring.channels if merged[channel.invert_option])
    factors = {c.key: int(merged.get(c.voltage_factor_option, 1)) for c in wiring.channels}
    if any(factor not in (1, 2) for factor in factors.values()):
        raise ValueError("a circuit's voltage factor must be 1 or 2")
    return MeterSettings(
        chip=chip,
        current_scale=scale,
        inverted=inverted,
        export_expected=bool(merged[CONF_EXPORT_EXPECTED]),
        factors={key: factor for key, factor in factors.items() if factor != 1},
        voltage_per_channel=dual and not wiring.shared_voltage,
    )


def rated_current(wiring: Wiring, options: Mapping[str, Any]) -> float:
    """The smallest rated current of the channels' CTs, A (a custom CT: the chip's full scale x current scaling).

    PPhaseTh is one value for every phase here (DS p.55), so the smallest CT sets it.
    """
    scale = int(options.get(CONF_CURRENT_SCALE, 1))
    full_scale = 0xFFFF * reg.CURRENT_LSB_A * scale
    ratings = [
        CT_RATED_CURRENT_A.get(str(options.get(c.ct_preset_option, PRESET_CUSTOM)), full_scale) for c in wiring.channels
    ]
    return min(ratings)


def apply_compensation(config: ChipConfig, options: Mapping[str, Any], nominal_voltage: float) -> ChipConfig:
    """``config`` with the offsets, phase compensation and start thresholds of the entry ``options``.

    Offsets and phase compensation are raw register values per channel (compensation.py's
    option keys: Ioffset, Poffset, Qoffset, PhiA-C); the start thresholds follow
    ``start_threshold`` (driver.start_threshold.chosen_start_threshold).
    Raises ValueError for a stored value that is not a 16-bit register value.
    """

    def per_phase(kind: str) -> tuple[int, int, int]:
        values = [0, 0, 0]
        for channel in config.wiring.channels:
            values[channel.phase] = int(options.get(option_key(kind, channel), 0))
        return values[0], values[1], values[2]

    threshold = chosen_start_threshold(
        str(options.get(CONF_START_THRESHOLD, START_THRESHOLD_IEC)),
        rated_current(config.wiring, options),
        nominal_voltage,
        int(options.get(CONF_CURRENT_SCALE, 1)),
    )
    return replace(
        config,
        p_start_threshold=threshold,
        p_phase_threshold=threshold,
        current_offsets=per_phase("current_offset"),
        power_offsets=per_phase("power_offset"),
        reactive_offsets=per_phase("reactive_offset"),
        phase_compensation=per_phase(PHASE_KIND),
    )


def update_interval(settings: MeterSettings, options: Mapping[str, Any]) -> timedelta:
    """The refresh interval the entry's options choose, within what keeps every energy count.

    An interval longer than :func:`max_read_interval_s` at the settings' nominal voltage
    (the options form refuses it; a nominal voltage changed since may make a stored one
    too long) is replaced by the longest offered interval within it, and logged.
    """
    default = int(DEFAULT_UPDATE_INTERVAL.total_seconds())
    chosen = int(options.get(CONF_UPDATE_INTERVAL, default))
    if chosen not in UPDATE_INTERVALS:
        _LOGGER.warning("An update interval of %d s is not one offered; reading every %d s", chosen, default)
        chosen = default
    nominal = settings.nominal_voltage
    longest = max_read_interval_s(nominal, len(settings.wiring.summed_phases))
    if chosen <= longest:
        return timedelta(seconds=chosen)
    safe = longest_offered_interval(longest)
    _LOGGER.warning(
        "An update interval of %d s could let an energy register overflow at %.0f V; reading every %d s instead",
        chosen,
        nominal,
        safe,
    )
    return timedelta(seconds=safe)


def longest_offered_interval(longest_s: float) -> int:
    """The longest of UPDATE_INTERVALS within ``longest_s`` s (:func:`max_read_interval_s`): the one to choose.

    Never empty: the rule allows at least 4.9 s (480 V delta), and 1 s is offered.
    """
    return max(seconds for seconds in UPDATE_INTERVALS if seconds <= longest_s)


def demand_meter(options: Mapping[str, Any], interval: timedelta, tz: tzinfo) -> DemandMeter:
    """The service's demand meter under the entry's options (interval, cycle start day) and refresh ``interval``.

    A stored value not offered (the options form refuses them) falls back to the default, logged.
    Intervals and the billing cycle are aligned to the time zone ``tz`` (Home Assistant's).
    """
    minutes = options.get(CONF_DEMAND_INTERVAL, DEFAULT_DEMAND_INTERVAL_MIN)
    if minutes not in DEMAND_INTERVALS_MIN:
        _LOGGER.warning(
            "A demand interval of %s min is not one offered; using %d min", minutes, DEFAULT_DEMAND_INTERVAL_MIN
        )
        minutes = DEFAULT_DEMAND_INTERVAL_MIN
    day = options.get(CONF_CYCLE_START_DAY, DEFAULT_CYCLE_START_DAY)
    if day not in CYCLE_START_DAYS:
        _LOGGER.warning(
            "A billing cycle starting on day %s is not possible; starting on day %d", day, DEFAULT_CYCLE_START_DAY
        )
        day = DEFAULT_CYCLE_START_DAY
    return DemandMeter(
        interval_min=int(minutes),
        cycle_start_day=int(day),
        tz=tz,
        max_split_s=max_split_for(interval.total_seconds()),
    )
