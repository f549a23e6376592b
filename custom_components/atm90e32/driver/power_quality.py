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
VOLTAGE_CONDITIONS: Final = (Condition.SAG, Condition.SWELL, Condition.PHASE_LOSS)
"""Conditions of a voltage: watched once per voltage measured (:attr:`Wiring.voltage_phases`)."""
COUNTED: Final = VOLTAGE_CONDITIONS
"""Conditions whose starts are counted per voltage measured since installation."""

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
    polled: condition keys judged from the readings although their condition is in
        ``in_chip``: a channel whose gain differs from the one its register was computed
        for trips late, at another reading (one register serves every phase, DS p.44-46).
    """

    registers: Mapping[int, int]
    in_chip: frozenset[Condition]
    limits: Mapping[Condition, float]
    polled: frozenset[ConditionKey] = frozenset()


def threshold_plan(
    settings: PowerQualitySettings, ugain: int | Mapping[Phase, int], igain: int | Mapping[Phase, int]
) -> ThresholdPlan:
    """Turn ``settings`` into register values at voltage gains ``ugain`` and current gains ``igain``.

    Each gain is one value or one per measured phase.  OVth, SagTh, PhaseLossTh and OIth
    are one register each for all phases (DS p.44-46), compared with each phase's
    gain-scaled reading, so a phase trips at a reading in proportion to its gain (AN
    formula, see :func:`protocol.threshold_register`).  The register is computed for the
    most sensitive channel, the one that would trip first, so that no channel trips
    early: an upper threshold (swell, over-current) for the smallest gain, a lower one
    (sag, phase loss) for the largest.  A channel of another gain would trip late: it is
    judged from its readings (``polled``).  A value above 0xFFFF cannot be held: an upper
    threshold is then written 0xFFFF and a lower one 0, and the condition is judged from
    the readings on every channel.  Frequency limits are in 0.01 Hz (DS p.46) and always
    fit.  Raises ValueError for a gain < 1.
    """
    volts, amps = protocol.VOLTAGE_THRESHOLD_UNITS, protocol.CURRENT_THRESHOLD_UNITS
    ugains = ugain if isinstance(ugain, Mapping) else {Phase.A: ugain}
    igains = igain if isinstance(igain, Mapping) else {Phase.A: igain}
    wanted = {  # condition: register, threshold, gains, units, upper
        Condition.SWELL: (reg.OV_TH, settings.swell_voltage, ugains, volts, True),
        Condition.SAG: (reg.SAG_TH, settings.sag_voltage, ugains, volts, False),
        Condition.PHASE_LOSS: (reg.PHASE_LOSS_TH, settings.phase_loss_voltage, ugains, volts, False),
        Condition.OVER_CURRENT: (reg.OI_TH, settings.over_current, igains, amps, True),
    }
    registers: dict[int, int] = {}
    in_chip = {Condition.FREQUENCY_LOW, Condition.FREQUENCY_HIGH}
    polled: set[ConditionKey] = set()
    limits: dict[Condition, float] = {}
    for condition, (address, threshold, gains, units, upper) in wanted.items():
        values = {phase: protocol.threshold_register(threshold, gain, units) for phase, gain in gains.items()}
        value = max(values.values()) if upper else min(values.values())
        sensitive = min(gains.values()) if upper else max(gains.values())
        limits[condition] = protocol.threshold_value(0xFFFF, sensitive, units)
        if value <= 0xFFFF:
            registers[address] = value
            in_chip.add(condition)
            polled |= {(condition, phase) for phase, own in values.items() if own != value}
        else:
            registers[address] = 0xFFFF if upper else 0
    registers[reg.FREQ_LO_TH] = round(settings.frequency_low / reg.FREQUENCY_LSB_HZ)
    registers[reg.FREQ_HI_TH] = round(settings.frequency_high / reg.FREQUENCY_LSB_HZ)
    return ThresholdPlan(registers=registers, in_chip=frozenset(in_chip), limits=limits, polled=frozenset(polled))


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


def interrupt_enables(phases: Iterable[Phase], voltage_phases: Iterable[Phase] | None = None) -> tuple[int, int]:
    """EMMIntEn0 and EMMIntEn1 for the conditions :func:`monitored` watches on ``phases``.

    A change of a status bit reaches EMMIntState0/1 only when its enable bit is set (DS
    p.19; EMMIntEn0/1 p.64-65 share the bit layout of EMMState0/1); both are 0 after
    power-on and reset.  The voltage bits of a phase not in ``voltage_phases`` stay
    disabled (see :func:`monitored`).
    """
    words = [0, 0]
    for condition, phase in monitored(phases, voltage_phases):
        word, bit = _bit(condition, phase)
        words[word] |= bit
    return words[0], words[1]


def monitored(phases: Iterable[Phase], voltage_phases: Iterable[Phase] | None = None) -> tuple[ConditionKey, ...]:
    """Every condition key of a wiring whose channels are measured by ``phases``.

    Over-current on each of ``phases``; sag, swell and phase loss on each of
    ``voltage_phases`` (default: ``phases``), the phases whose voltage is measured on
    its own (:attr:`Wiring.voltage_phases`: one where every input shares one voltage).
    """
    phases = tuple(phases)
    voltages = phases if voltage_phases is None else tuple(voltage_phases)
    keys: list[ConditionKey] = [
        (c, phase) for phase in phases for c in CHANNEL_CONDITIONS if c not in VOLTAGE_CONDITIONS or phase in voltages
    ]
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
        """What was true at the last refresh (None before the first, unless a previous run's set was restored).

        With None, a condition true at the first refresh is a start (an event, a count);
        with the previous run's set restored, one that was already true then is not."""

    def update(
        self,
        status: StatusWords,
        reading: Reading,
        settings: PowerQualitySettings,
        in_chip: frozenset[Condition],
        polled: frozenset[ConditionKey] = frozenset(),
    ) -> list[Transition]:
        """Fold one refresh in; returns its transitions, starts before ends of the same condition in between.

        A key whose condition is in ``in_chip`` is judged from the status words, unless it
        is in ``polled`` (see :class:`ThresholdPlan`): then, as every other, from ``reading``.
        """
        now: set[ConditionKey] = set()
        changed: set[ConditionKey] = set()
        for condition, phase in self.keys:
            if condition in in_chip and (condition, phase) not in polled:
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
        if previous is None:  # first refresh, nothing known before: a condition true now starts now
            previous = frozenset(key for key in changed if key not in now)
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
