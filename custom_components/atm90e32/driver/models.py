"""Plain data the driver returns and takes: chip configuration and meter snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from . import registers as reg
from .channels import SPLIT_PHASE, Wiring
from .power_quality import PowerQualitySettings, StatusWords, ThresholdPlan, threshold_plan
from .registers import Phase


@dataclass(frozen=True, kw_only=True)
class ChipConfig:
    """What :meth:`Atm90e32.configure` writes to the chip.

    Attributes:
        wiring: the channel table; gives MMode0 with the line frequency (DS p.56) and
            the phases read.
        line_frequency: 50 or 60 (Hz), MMode0 bit 12 (DS p.56).
        pga_gain: current-channel PGA, 1, 2 or 4 (MMode1, DS p.57).
        voltage_gains: Ugain for phases A, B, C, 1..65535 (DS p.59).
        current_gains: Igain for phases A, B, C, 1..65535 (DS p.59).
        power_quality: sag, swell, phase-loss, over-current and frequency thresholds as
            readings in the chip's scale (written through :func:`threshold_plan`).
        p_start_threshold, p_phase_threshold: PStartTh / PPhaseTh in 0.00032 W units;
            the defaults 0x1D4C (2.4 W) and 0x02EE (0.24 W) keep a no-load meter from
            creeping (DS p.55); the integration sets them from the CT's rated current
            (start_threshold.start_threshold).  Written to QStartTh/SStartTh and
            QPhaseTh/SPhaseTh too.
        voltage_offsets, current_offsets: Uoffset / Ioffset for phases A, B, C, raw 16-bit
            two's complement (DS p.59, AN p.23).
        power_offsets, reactive_offsets: Poffset / Qoffset, likewise (DS pp.57-58, AN p.23).
        phase_compensation: PhiA-C raw values, bit 15 DelayV, bits 7:0 cycles (DS p.58).
        Every one of these is written at each configuration, so a chip reset re-applies them.
    """

    wiring: Wiring = SPLIT_PHASE
    line_frequency: int = 60
    pga_gain: int = 2
    voltage_gains: tuple[int, int, int] = (reg.DEFAULT_GAIN, reg.DEFAULT_GAIN, reg.DEFAULT_GAIN)
    current_gains: tuple[int, int, int] = (reg.DEFAULT_GAIN, reg.DEFAULT_GAIN, reg.DEFAULT_GAIN)
    power_quality: PowerQualitySettings = field(default_factory=PowerQualitySettings)
    p_start_threshold: int = 0x1D4C
    p_phase_threshold: int = 0x02EE
    voltage_offsets: tuple[int, int, int] = (0, 0, 0)
    current_offsets: tuple[int, int, int] = (0, 0, 0)
    power_offsets: tuple[int, int, int] = (0, 0, 0)
    reactive_offsets: tuple[int, int, int] = (0, 0, 0)
    phase_compensation: tuple[int, int, int] = (0, 0, 0)

    def __post_init__(self) -> None:
        """Validate ranges; raises ValueError naming the bad field."""
        if self.line_frequency not in (50, 60):
            raise ValueError("line_frequency must be 50 or 60")
        if self.pga_gain not in (1, 2, 4):
            raise ValueError("pga_gain must be 1, 2 or 4")
        for name in ("voltage_gains", "current_gains"):
            gains = getattr(self, name)
            if len(gains) != 3 or not all(1 <= g <= 0xFFFF for g in gains):
                raise ValueError(f"{name} must be three integers in 1..65535")
        for name in ("p_start_threshold", "p_phase_threshold"):
            if not 0 <= getattr(self, name) <= 0xFFFF:
                raise ValueError(f"{name} must be in 0..65535")
        for name in ("voltage_offsets", "current_offsets", "power_offsets", "reactive_offsets", "phase_compensation"):
            values = getattr(self, name)
            if len(values) != 3 or not all(0 <= v <= 0xFFFF for v in values):
                raise ValueError(f"{name} must be three 16-bit register values")
        if any(v & ~(reg.PHI_DELAY_V | reg.PHI_CYCLES_MASK) for v in self.phase_compensation):
            raise ValueError("phase_compensation uses bit 15 and bits 7:0 only")

    def threshold_plan(self) -> ThresholdPlan:
        """The threshold registers for the gains of the wiring's measured phases (see :func:`threshold_plan`)."""
        phases = self.wiring.phases
        return threshold_plan(
            self.power_quality,
            {phase: self.voltage_gains[phase] for phase in phases},
            {phase: self.current_gains[phase] for phase in phases},
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class PhaseReading:
    """One phase's measurements at one refresh, in SI units as the chip scales them.

    voltage V, current A, active_power W (signed: negative is export or a reversed CT),
    reactive_power var, apparent_power VA, power_factor -1..1, phase_angle degrees -180..180
    (None when the register held no angle, see :func:`protocol.phase_angle`); peak_voltage
    V and peak_current A (UPeak, IPeak, DS p.71); fundamental_power and harmonic_power W,
    the active power at the line frequency and in its harmonics (DS p.70).
    """

    voltage: float
    current: float
    active_power: float
    reactive_power: float
    apparent_power: float
    power_factor: float
    phase_angle: float | None
    peak_voltage: float = 0.0
    peak_current: float = 0.0
    fundamental_power: float = 0.0
    harmonic_power: float = 0.0

    def scaled(self, scale: int, *, inverted: bool) -> PhaseReading:
        """Return the reading with current scaling and CT direction applied (see :meth:`MeterSnapshot.scaled`).

        The fields named in :data:`CURRENT_SCALED_FIELDS` are multiplied by ``scale``; when
        ``inverted``, those in :data:`DIRECTION_SIGNED_FIELDS` change sign and the phase angle
        turns by 180 degrees.  Every other field (voltages, and any field added later) is
        carried unchanged, as is the reading's type.
        """
        scaled: dict[str, float] = {name: getattr(self, name) * scale for name in CURRENT_SCALED_FIELDS}
        changes: dict[str, Any] = dict(scaled)
        if inverted:
            for name in DIRECTION_SIGNED_FIELDS:
                changes[name] = -scaled.get(name, getattr(self, name))
            if (angle := self.phase_angle) is not None:
                changes["phase_angle"] = angle - 180.0 if angle > 0 else angle + 180.0
        return replace(self, **changes)


CURRENT_SCALED_FIELDS = (
    "current",
    "active_power",
    "reactive_power",
    "apparent_power",
    "peak_current",
    "fundamental_power",
    "harmonic_power",
)
"""PhaseReading fields proportional to the current: the chip read them with Igain / scale."""

DIRECTION_SIGNED_FIELDS = ("active_power", "reactive_power", "power_factor", "fundamental_power", "harmonic_power")
"""PhaseReading fields whose sign a CT clipped on backwards reverses (apparent power and rms values do not)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class EnergyCounts:
    """Counts read from one phase's read-to-clear energy registers: 0.003125 Wh each (DS p.12).

    forward: APenergy (import); reverse: ANenergy (export).  Each is 0..65535.
    """

    forward: int
    reverse: int


@dataclass(frozen=True, kw_only=True)
class EnergyRead:
    """One read of the energy registers: what the chip counted since the previous read.

    phases: per measured phase, APenergyA-C / ANenergyA-C (DS p.67).
    total: the all-phase APenergyT / ANenergyT, the chip's continuous net of the phases
        MMode0 sums (DS p.12, p.67); None when a failed read did not reach them (the
        chip then still holds them for the next read).
    """

    phases: Mapping[Phase, EnergyCounts]
    total: EnergyCounts | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreePhaseReading:
    """What a three-phase wiring reads beyond the phases (only when ``Wiring.three_phase``).

    Attributes:
        neutral_current: IrmsN, the chip's calculated neutral current, A (0.001 A, DS
            p.70): the vector sum of the phase currents.  A CT inverted in software was
            summed backwards by the chip, so the value is then not the neutral's.  None
            for a three-wire (delta) service: no neutral, and IrmsN not read.
        voltage_angles: UangleA-C, each phase's voltage angle from phase A, degrees
            0..360 (0.1 degree, DS p.71); A is 0 by definition (not read); a phase whose
            register held no angle is missing.
        voltage_sequence_error: EMMState0 bit 9 URevWnST, the chip found the voltage zero
            crossings not in the order A -> B -> C (3P4W), or C's not more than 180 degrees
            after A's (3P3W: L3-L2 after L1-L2) (DS p.20, p.60).
        current_sequence_error: EMMState0 bit 8 IRevWnST, the same for the currents.
    """

    neutral_current: float | None
    voltage_angles: Mapping[Phase, float]
    voltage_sequence_error: bool
    current_sequence_error: bool


@dataclass(frozen=True, kw_only=True)
class MeterSnapshot:
    """Everything one refresh read from one chip.

    Attributes:
        phases: readings of the measured phases (the wiring's channels).
        energy: counts since the previous read.
        frequency: line frequency, Hz.
        temperature: chip temperature, degrees C.
        status: the power-quality status words read (EMMState0/1, EMMIntState0/1).
        meter_enabled: MeterEn read non-zero at the end of the refresh; False means the chip
            was reset (brown-out) and lost its configuration: measurements are not
            trustworthy, though the energy counts read are (a reset chip counts none).
        three_phase: neutral current, voltage angles and sequence bits when the wiring is
            three-phase (``Wiring.three_phase``), else None (not read).
    """

    phases: dict[Phase, PhaseReading]
    energy: EnergyRead
    frequency: float
    temperature: int
    status: StatusWords = field(default_factory=StatusWords)
    meter_enabled: bool = True
    three_phase: ThreePhaseReading | None = None
    transactions: int = field(default=0, compare=False)

    @property
    def largest_power(self) -> float:
        """The largest |active power| of any phase, W (0.0 with no phase)."""
        return max((abs(r.active_power) for r in self.phases.values()), default=0.0)

    def scaled(self, scale: int, inverted: frozenset[Phase]) -> MeterSnapshot:
        """Return the snapshot as the person sees it: current scaling and CT direction applied.

        ``scale`` (1, 2, 4) multiplies current and powers: the chip was given Igain / scale
        so that services above 65.535 A stay in range (DS; CircuitSetup docs).  A phase in
        ``inverted`` has a CT clipped on backwards: its active and reactive power and power
        factor change sign and its phase angle turns by 180 degrees.  The neutral current
        scales like the currents.  Energy counts are left as read: the ledger applies the
        same settings to them.
        """
        if scale == 1 and not inverted:
            return self
        phases = {phase: r.scaled(scale, inverted=phase in inverted) for phase, r in self.phases.items()}
        three_phase = self.three_phase
        if three_phase is not None and three_phase.neutral_current is not None and scale != 1:
            three_phase = replace(three_phase, neutral_current=three_phase.neutral_current * scale)
        return replace(self, phases=phases, three_phase=three_phase)
