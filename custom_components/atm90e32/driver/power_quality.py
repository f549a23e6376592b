"""Power quality: sag, swell, phase loss, over-current and frequency thresholds and events.

The chip compares every cycle against its thresholds and latches each change of a
condition in EMMIntState0/1 (DS pp.60-63), so a sag that starts and ends between two
refreshes is still seen.  A threshold the chip cannot hold at the configured gain (the
16-bit register would overflow) is written so that it never fires, and that condition
is judged from the readings at each refresh instead (a shorter event is then missed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from . import protocol
from . import registers as reg
from .registers import Phase


class Condition(StrEnum):
    """A power-quality condition; the value names events, entities and counters."""

    SAG = "sag"
    SWELL = "swell"
    PHASE_LOSS = "phase_loss"
    OVER_CURRENT = "over_current"
    FREQUENCY_HIGH = "frequency_high"
    FREQUENCY_LOW = "frequency_low"


CHANNEL_CONDITIONS: Final = (Condition.SAG, Condition.SWELL, Condition.PHASE_LOSS, Condition.OVER_CURRENT)
"""Conditions of one channel's voltage or current."""
SERVICE_CONDITIONS: Final = (Condition.FREQUENCY_HIGH, Condition.FREQUENCY_LOW)
"""Conditions of the whole service (the line frequency)."""
COUNTED: Final = (Condition.SAG, Condition.SWELL, Condition.PHASE_LOSS)
"""Conditions whose starts are counted per channel since installation."""

type ConditionKey = tuple[Condition, Phase | None]
"""A condition on a phase, or on the service (phase None)."""

SAG_DEFAULT_PERCENT: Final = 80.0
"""Sag below 80 % of nominal: deeper than IEC 61000-4-30's 90 % start, so that ordinary load steps on a
long 120 V branch do not count; a person can choose 90 % in the options."""
SWELL_DEFAULT_PERCENT: Final = 110.0
"""Swell above 110 % of nominal: IEC 61000-4-30's swell threshold."""
PHASE_LOSS_DEFAULT_PERCENT: Final = 10.0
"""Phase loss below 10 % of nominal: IEC 61000-4-30's interruption threshold."""
FREQUENCY_DEFAULT_PERCENT: Final = 1.0
"""Frequency more than 1 % off nominal (0.6 Hz at 60 Hz, 0.5 Hz at 50 Hz)."""


@dataclass(frozen=True, kw_only=True)
class PowerQualitySettings:
    """Thresholds as rms readings in the chip's scale: V, A (before current scaling) and Hz.

    Raises ValueError unless 0 < phase loss < sag < nominal < swell, 0 < over-current
    and 0 < frequency low < frequency high.
    """

    nominal_voltage: float = 120.0
    sag_voltage: float = 96.0
    swell_voltage: float = 132.0
    phase_loss_voltage: float = 12.0
    over_current: float = 65.0
    frequency_low: float = 59.4
    frequency_high: float = 60.6

    def __post_init__(self) -> None:
        """Validate the order of the thresholds."""
        if not 0 < self.phase_loss_voltage < self.sag_voltage < self.nominal_voltage < self.swell_voltage:
            raise ValueError("thresholds must satisfy 0 < phase loss < sag < nominal < swell")
        if self.over_current <= 0:
            raise ValueError("the over-current threshold must be positive")
        if not 0 < self.frequency_low < self.frequency_high:
            raise ValueError("the frequency limits must satisfy 0 < low < high")

    @classmethod
    def from_percent(
        cls,
        *,
        nominal_voltage: float,
        line_frequency: int,
        over_current: float,
        sag_percent: float = SAG_DEFAULT_PERCENT,
        swell_percent: float = SWELL_DEFAULT_PERCENT,
        phase_loss_percent: float = PHASE_LOSS_DEFAULT_PERCENT,
        frequency_percent: float = FREQUENCY_DEFAULT_PERCENT,
    ) -> PowerQualitySettings:
        """Thresholds from percentages of the nominal voltage and frequency.  Raises ValueError as the class."""
        return cls(
            nominal_voltage=nominal_voltage,
            sag_voltage=nominal_voltage * sag_percent / 100,
            swell_voltage=nominal_voltage * swell_percent / 100,
            phase_loss_voltage=nominal_voltage * phase_loss_percent / 100,
            over_current=over_current,
            frequency_low=line_frequency * (1 - frequency_percent / 100),
            frequency_high=line_frequency * (1 + frequency_percent / 100),
        )


@dataclass(frozen=True)
class ThresholdPlan:
    """What is written to the threshold registers and which conditions the chip latches.

    registers: ``{address: value}`` for OVth, SagTh, PhaseLossTh, OIth, FreqLoTh, FreqHiTh.
    in_chip: conditions judged by the chip every cycle and latched (no poll misses them);
        the others are judged from the readings at each refresh.
    limits: per voltage or current condition, the largest reading its register can hold
        at this gain (V or A), to tell a person why a threshold is polled.
    """

    registers: Mapping[int, int]
    in_chip: frozenset[Condition]
    limits: Mapping[Condition, float]


def threshold_plan(settings: PowerQualitySettings, ugain: int, igain: int) -> ThresholdPlan:
    """Turn ``settings`` into register values at voltage gain ``ugain`` and current gain ``igain``.

    The voltage thresholds share one register each for all phases and use ``ugain``
    (the reference channel's); OIth uses ``igain`` (DS pp.44-46, AN formula, see
    :func:`protocol.threshold_register`).  A threshold above 0xFFFF cannot be held: an
    upper one (swell, over-current) is then written 0xFFFF and a lower one (sag, phase
    loss) 0, and the condition is judged from the readings.  Frequency limits are in
    0.01 Hz (DS p.46) and always fit.  Raises ValueError for a gain < 1.
    """
    volts, amps = protocol.VOLTAGE_THRESHOLD_UNITS, protocol.CURRENT_THRESHOLD_UNITS
    wanted = {
        Condition.SWELL: (reg.OV_TH, protocol.threshold_register(settings.swell_voltage, ugain, volts), 0xFFFF),
        Condition.SAG: (reg.SAG_TH, protocol.threshold_register(settings.sag_voltage, ugain, volts), 0),
        Condition.PHASE_LOSS: (
            reg.PHASE_LOSS_TH,
            protocol.threshold_register(settings.phase_loss_voltage, ugain, volts),
            0,
        ),
        Condition.OVER_CURRENT: (reg.OI_TH, protocol.threshold_register(settings.over_current, igain, amps), 0xFFFF),
    }
    registers: dict[int, int] = {}
    in_chip = {Condition.FREQUENCY_LOW, Condition.FREQUENCY_HIGH}
    for condition, (address, value, never) in wanted.items():
        if value <= 0xFFFF:
            registers[address] = value
            in_chip.add(condition)
        else:
            registers[address] = never
    registers[reg.FREQ_LO_TH] = round(settings.frequency_low / reg.FREQUENCY_LSB_HZ)
    registers[reg.FREQ_HI_TH] = round(settings.frequency_high / reg.FREQUENCY_LSB_HZ)
    limit_v = protocol.threshold_value(0xFFFF, ugain, volts)
    limits = {
        Condition.SWELL: limit_v,
        Condition.SAG: limit_v,
        Condition.PHASE_LOSS: limit_v,
        Condition.OVER_CURRENT: protocol.threshold_value(0xFFFF, igain, amps),
    }
    return ThresholdPlan(registers=registers, in_chip=frozenset(in_chip), limits=limits)


@dataclass(frozen=True, slots=True)
class StatusWords:
    """EMMState0/1 (conditions now) and EMMIntState0/1 (changes latched since the last clear) (DS pp.60-63)."""

    state0: int = 0
    state1: int = 0
    latched0: int = 0
    latched1: int = 0


_BITS: Final[dict[Condition, tuple[int, tuple[int, int, int] | int]]] = {
    Condition.SAG: (1, reg.SAG_BITS),
    Condition.SWELL: (0, reg.OV_BITS),
    Condition.PHASE_LOSS: (1, reg.PHASE_LOSS_BITS),
    Condition.OVER_CURRENT: (0, reg.OI_BITS),
    Condition.FREQUENCY_HIGH: (1, reg.FREQ_HI_BIT),
    Condition.FREQUENCY_LOW: (1, reg.FREQ_LO_BIT),
}
"""For each condition: which word (0: EMMState0, 1: EMMState1) and its bit (per phase, or one)."""


def _bit(condition: Condition, phase: Phase | None) -> tuple[int, int]:
    word, bits = _BITS[condition]
    if isinstance(bits, int):
        return word, bits
    assert phase is not None
    return word, bits[phase]


def monitored(phases: Iterable[Phase]) -> tuple[ConditionKey, ...]:
    """Every condition key of a wiring whose channels are measured by ``phases``."""
    keys: list[ConditionKey] = [(c, phase) for phase in phases for c in CHANNEL_CONDITIONS]
    keys += [(c, None) for c in SERVICE_CONDITIONS]
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class Reading:
    """What a refresh read that polled conditions are judged by: per phase (V, A) and the frequency (Hz)."""

    voltage: Mapping[Phase, float]
    current: Mapping[Phase, float]
    frequency: float


def _polled(condition: Condition, phase: Phase | None, reading: Reading, settings: PowerQualitySettings) -> bool:
    if condition is Condition.FREQUENCY_HIGH:
        return reading.frequency > settings.frequency_high
    if condition is Condition.FREQUENCY_LOW:
        return reading.frequency < settings.frequency_low
    assert phase is not None
    volts, amps = reading.voltage.get(phase, 0.0), reading.current.get(phase, 0.0)
    return {
        Condition.SAG: volts < settings.sag_voltage,
        Condition.SWELL: volts > settings.swell_voltage,
        Condition.PHASE_LOSS: volts < settings.phase_loss_voltage,
        Condition.OVER_CURRENT: amps > settings.over_current,
    }[condition]


@dataclass(frozen=True, slots=True)
class Transition:
    """A condition started (``started``) or ended on ``phase`` (None: the service)."""

    condition: Condition
    phase: Phase | None
    started: bool


class ConditionTracker:
    """Turns each refresh's status words (and readings, for polled conditions) into transitions.

    For a latched condition the chip says what is true now and whether it changed since
    the last clear; with what was true at the previous refresh that gives:
    off -> on: started; on -> off: ended; off -> off with a change latched: started and
    ended in between (a short sag); on -> on with a change latched: ended and started
    again.  Several changes between two refreshes latch once, so they count as one.
    """

    def __init__(self, keys: Iterable[ConditionKey]) -> None:
        """Track ``keys`` (see :func:`monitored`); nothing is known active before the first refresh."""
        self.keys = tuple(keys)
        self.active: frozenset[ConditionKey] | None = None
        """What was true at the last refresh (None before the first)."""

    def update(
        self, status: StatusWords, reading: Reading, settings: PowerQualitySettings, in_chip: frozenset[Condition]
    ) -> list[Transition]:
        """Fold one refresh in; returns its transitions, starts before ends of the same condition in between."""
        now: set[ConditionKey] = set()
        changed: set[ConditionKey] = set()
        for condition, phase in self.keys:
            if condition in in_chip:
                word, bit = _bit(condition, phase)
                state = status.state0 if word == 0 else status.state1
                latched = status.latched0 if word == 0 else status.latched1
                if state & bit:
                    now.add((condition, phase))
                if latched & bit:
                    changed.add((condition, phase))
            elif _polled(condition, phase, reading, settings):
                now.add((condition, phase))
        previous = self.active
        if previous is None:  # first refresh: a latched change is one change from the opposite state
            previous = frozenset((now - changed) | {key for key in changed if key not in now})
        transitions: list[Transition] = []
        for key in self.keys:
            was, is_now = key in previous, key in now
            if was and not is_now:
                transitions.append(Transition(key[0], key[1], started=False))
            elif is_now and not was:
                transitions.append(Transition(key[0], key[1], started=True))
            elif key in changed and not was:
                transitions += [Transition(key[0], key[1], started=True), Transition(key[0], key[1], started=False)]
            elif key in changed:
                transitions += [Transition(key[0], key[1], started=False), Transition(key[0], key[1], started=True)]
        self.active = frozenset(now)
        return transitions
