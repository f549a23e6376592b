"""Load sources: the physical world an emulated chip measures.

A load source gives, at any time, each phase's true voltage (rms and angle), active power
and power factor, and the line frequency.  The shapes offered:

- :class:`ConstantLoad` and :class:`TraceLoad`: a split-phase service (L1 = phase A,
  L2 = phase C), constant or replaying the bundled household trace;
- :class:`ThreePhaseLoad`: a three-phase four-wire service, voltages 120 degrees apart,
  per-phase watts and power factor, optionally with B and C swapped (reversed sequence);
- :class:`CircuitLoad`: up to three circuits on one shared voltage (the 6-channel board's
  jumper gives every voltage input the same voltage), each with its own watts and power
  factor;
- :class:`DeltaLoad`: a three-phase three-wire (delta) service, three loads connected
  line to line, as a 3P3W meter's inputs see it (L1-L2 and I1 on A, L3-L2 and I3 on C);
- :class:`TraceThreePhaseLoad`, :class:`TraceDeltaLoad` and :class:`TraceCircuitLoad`: the
  household trace divided among phases, line-to-line loads or circuits by the fixed rule
  each documents;
- ``ReplayLoad`` (emulator/replay.py): a person's own CSV;
- :func:`simulated_load`: the trace shaped as a given wiring's service.
"""

from __future__ import annotations

import cmath
import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from ..channels import SPLIT_PHASE, Wiring
from ..registers import Phase

TRACE_PATH = Path(__file__).parent.parent / "traces" / "rae_house1_mains_6h_1hz.csv"
"""The bundled real household trace (RAE House 1, CC BY 4.0; see traces/SOURCE.md)."""


# --- the physical world ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhaseLoad:
    """True conditions on one phase: volts V rms, watts W (signed, negative = export), power factor 0..1.

    ``harmonic_share`` is the fraction (0..1, clamped) of the active power carried by
    harmonics: PmeanF reads ``watts x (1 - share)``, PmeanH ``watts x share``.
    ``voltage_angle`` is this phase's voltage angle from phase A's, degrees (0 when one
    voltage feeds every input, 120 / 240 for B / C of a three-phase service in sequence
    A -> B -> C); the current lags its voltage by acos(power factor) (inductive) and
    turns by 180 degrees when exporting.
    ``input_angle`` is the angle of the voltage the chip's voltage input of this phase
    sees, when that is not the phase's own (None: it is): with one voltage transformer on
    a three-phase service every input sees phase A's voltage (0) while each current keeps
    its phase's angle, so B and C read their power at an angle 120 degrees wrong, as the
    real chip would.
    ``capacitive``: the current leads the voltage (a leading power factor, negative
    reactive power); otherwise it lags (inductive).
    """

    volts: float
    watts: float
    power_factor: float = 0.95
    harmonic_share: float = 0.0
    voltage_angle: float = 0.0
    input_angle: float | None = None
    capacitive: bool = False


@dataclass(frozen=True, slots=True)
class LoadPoint:
    """True conditions on every phase at one moment, plus the line frequency in Hz."""

    phases: dict[Phase, PhaseLoad]
    frequency: float = 60.0


class LoadSource(Protocol):
    """The physical world the emulated chip measures.

    ``load_at(t)`` gives the conditions at ``t`` seconds.  Loads are piecewise constant:
    they may change only at multiples of ``step`` seconds (``None``: never), which lets
    the emulator integrate energy exactly.  A load whose steps are irregular also has a
    method ``next_change(t) -> float``, the first time after ``t`` it may change (see
    ``ReplayLoad``); the emulator then segments there too.
    """

    step: float | None

    def load_at(self, t: float) -> LoadPoint:
        """Return the true conditions at time ``t`` (s)."""
        ...


@dataclass
class ConstantLoad:
    """The same load forever: ``watts`` per leg (L1 = phase A, L2 = phase C), at ``volts`` and ``power_factor``.

    ``harmonic_share`` (0..1) of each leg's active power is harmonic (see :class:`PhaseLoad`);
    ValueError outside 0..1.
    """

    watts: tuple[float, float] = (1000.0, 500.0)
    volts: float = 120.0
    power_factor: float = 0.95
    frequency: float = 60.0
    step: float | None = None
    harmonic_share: float = 0.0

    def __post_init__(self) -> None:
        """Check the harmonic share."""
        if not 0.0 <= self.harmonic_share <= 1.0:
            raise ValueError("harmonic_share must be within 0..1")

    def load_at(self, t: float) -> LoadPoint:
        """Return the constant conditions (``t`` is ignored)."""
        return LoadPoint(
            phases={
                leg: PhaseLoad(self.volts, watts, self.power_factor, self.harmonic_share)
                for leg, watts in zip(SPLIT_PHASE.phases, self.watts, strict=True)
            },
            frequency=self.frequency,
        )


class TraceLoad:
    """Replays a 1 Hz whole-home active-power trace over the two legs of a split-phase service.

    The trace (``t_s,whole_home_w`` CSV, integer watts) is the sum of both legs.  It is
    split by a fixed share: L1 (phase A) carries ``l1_share`` of each second's watts,
    L2 (phase C) the rest.  The default 0.55 models a home whose 120 V loads sit a little
    more on L1, with the 240 V loads shared evenly; the legs differ, so a swapped leg shows.
    ``l2_generation_w`` adds solar generation on L2: that many watts are subtracted from
    L2's share every second, so L2 exports (negative watts) whenever the generation
    exceeds its load while L1 keeps importing, and the service total (L1 + L2) crosses
    zero whenever the whole-home watts fall below the generation.  The default 0 replays
    the trace unchanged.
    Each leg's voltage sags with its own load through a source resistance:
    ``volts = nominal_volts - watts * volts_drop_per_kw / 1000`` (an exporting leg rises).
    The trace loops.

    Args:
        path: the CSV; default the bundled RAE House 1 trace.
        l2_generation_w: constant solar generation on L2, W, >= 0.
        start: trace second that ``t = 0`` maps to.
    """

    def __init__(
        self,
        path: Path = TRACE_PATH,
        *,
        l1_share: float = 0.55,
        l2_generation_w: float = 0.0,
        nominal_volts: float = 121.5,
        volts_drop_per_kw: float = 0.6,
        power_factor: float = 0.95,
        frequency: float = 60.0,
        start: int = 0,
    ) -> None:
        """Load the trace into memory.

        Raises OSError / ValueError for a missing or malformed file, ValueError for an
        ``l1_share`` outside 0..1 or a negative ``l2_generation_w``.
        """
        self.watts: list[int] = read_trace(path)
        if not 0.0 <= l1_share <= 1.0:
            raise ValueError("l1_share must be within 0..1")
        if not l2_generation_w >= 0.0:
            raise ValueError("l2_generation_w must be at least 0 W")
        self.l1_share = l1_share
        self.l2_generation_w = l2_generation_w
        self.nominal_volts = nominal_volts
        self.volts_drop_per_kw = volts_drop_per_kw
        self.power_factor = power_factor
        self.frequency = frequency
        self.start = start
        self.step: float | None = 1.0

    def whole_home_watts(self, t: float) -> int:
        """Return the trace's watts for the second containing ``t`` (looping)."""
        return self.watts[(self.start + math.floor(t)) % len(self.watts)]

    def leg_watts(self, t: float) -> tuple[float, float]:
        """Return ``(L1 W, L2 W)`` at ``t``: the whole-home watts split by ``l1_share``, L2 less its generation."""
        total = self.whole_home_watts(t)
        l1 = total * self.l1_share
        return l1, total - l1 - self.l2_generation_w

    def load_at(self, t: float) -> LoadPoint:
        """Return both legs' conditions at ``t`` (s)."""
        phases = {}
        for leg, watts in zip(SPLIT_PHASE.phases, self.leg_watts(t), strict=True):
            volts = self.nominal_volts - watts * self.volts_drop_per_kw / 1000
            phases[leg] = PhaseLoad(volts, watts, self.power_factor)
        return LoadPoint(phases=phases, frequency=self.frequency)


def _three(value: float | Sequence[float], name: str) -> tuple[float, float, float]:
    """``value`` for each of phases A, B, C: a number for all, or three numbers; ValueError otherwise."""
    if isinstance(value, int | float):
        return (float(value), float(value), float(value))
    values = tuple(float(v) for v in value)
    if len(values) != 3:
        raise ValueError(f"{name} needs one value or three (phases A, B, C)")
    return (values[0], values[1], values[2])


def _check_power_factors(power_factors: Sequence[float]) -> None:
    if not all(0.0 < pf <= 1.0 for pf in power_factors):
        raise ValueError("a power factor must be within 0 (excluded) .. 1")


SEQUENCE_ANGLES: Final = (0.0, 120.0, 240.0)
"""Voltage angles of A, B, C from A in the sequence A -> B -> C the chip expects in 3P4W (DS p.20)."""
REVERSED_ANGLES: Final = (0.0, 240.0, 120.0)
"""The same with B and C swapped: the chip sets URevWnST (DS p.20, p.60)."""
DELTA_ANGLES: Final = (0.0, 300.0)
"""Voltage angles (lag from A's input) of a 3P3W meter's inputs A (Uab) and C (Ucb) in the sequence L1 -> L2 -> L3.

Ucb lags Uab by 300 degrees (it leads by 60): C's zero crossing comes more than 180 degrees
after A's, the 3P3W correct sequence (DS p.20); :func:`delta_point` derives it.
"""


@dataclass
class ThreePhaseLoad:
    """A three-phase four-wire (wye) service with a constant load on each phase.

    ``watts`` and ``power_factor`` are per phase A, B, C (L1-L3); ``volts`` line to
    neutral, one value for all phases or three.  The voltages stand 120 degrees apart
    (:data:`SEQUENCE_ANGLES`); ``reversed_sequence`` swaps B and C
    (:data:`REVERSED_ANGLES`), as two swapped phase conductors do, and the emulated chip
    then sets its voltage (and current) sequence error bits.  The neutral current the
    chip computes (IrmsN) is the vector sum of the phase currents.
    ``one_voltage_transformer``: a single transformer on L1 feeds every voltage input
    (the 6-channel board's jumper left in place): every input reads L1's voltage at
    angle 0 while the currents keep their phases' angles, so L2 and L3 read power
    ``V x I x cos(phi + 120)`` and ``cos(phi + 240)`` (a balanced resistive load reads
    -half its power on each), the error the flow has to state.
    Raises ValueError for a power factor outside (0, 1] or a wrong number of values.
    """

    watts: tuple[float, float, float] = (2000.0, 1500.0, 1000.0)
    volts: float | tuple[float, float, float] = 230.0
    power_factor: float | tuple[float, float, float] = 0.95
    frequency: float = 50.0
    reversed_sequence: bool = False
    one_voltage_transformer: bool = False
    step: float | None = None

    def __post_init__(self) -> None:
        """Check the values."""
        _three(self.watts, "watts")
        _three(self.volts, "volts")
        _check_power_factors(_three(self.power_factor, "power_factor"))

    def load_at(self, t: float) -> LoadPoint:
        """Return the constant conditions (``t`` is ignored)."""
        angles = REVERSED_ANGLES if self.reversed_sequence else SEQUENCE_ANGLES
        volts, pfs = _three(self.volts, "volts"), _three(self.power_factor, "power_factor")
        if self.one_voltage_transformer:  # every input sees L1's voltage
            volts = (volts[0], volts[0], volts[0])
        return LoadPoint(
            phases={
                phase: PhaseLoad(
                    volts[phase],
                    self.watts[phase],
                    pfs[phase],
                    voltage_angle=angles[phase],
                    input_angle=0.0 if self.one_voltage_transformer else None,
                )
                for phase in Phase
            },
            frequency=self.frequency,
        )


@dataclass
class CircuitLoad:
    """Up to three circuits on one chip, measured against one shared voltage.

    ``watts`` maps each circuit's chip phase (CT1 = A, CT2 = B, CT3 = C) to its constant
    watts (negative = export); ``power_factor`` maps a phase to its power factor (default
    ``default_power_factor``).  One voltage transformer: every voltage input, including
    those of phases without a circuit, gets the same ``volts`` at the same angle, as the
    board's jumper does.
    Raises ValueError for a power factor outside (0, 1].
    """

    watts: dict[Phase, float] = field(default_factory=lambda: {Phase.A: 1200.0, Phase.B: 300.0, Phase.C: 60.0})
    volts: float = 120.0
    power_factor: dict[Phase, float] = field(default_factory=dict)
    default_power_factor: float = 0.95
    frequency: float = 60.0
    step: float | None = None

    def __post_init__(self) -> None:
        """Check the power factors."""
        _check_power_factors([self.default_power_factor, *self.power_factor.values()])

    def load_at(self, t: float) -> LoadPoint:
        """Return the constant conditions (``t`` is ignored)."""
        return _shared_voltage_point(
            self.volts, self.watts, self.power_factor, self.default_power_factor, self.frequency
        )


def _shared_voltage_point(
    volts: float,
    watts: dict[Phase, float],
    power_factors: dict[Phase, float],
    default_power_factor: float,
    frequency: float,
) -> LoadPoint:
    """Every phase at ``volts`` and angle 0; a phase's watts from ``watts`` (0 if absent)."""
    return LoadPoint(
        phases={
            phase: PhaseLoad(volts, watts.get(phase, 0.0), power_factors.get(phase, default_power_factor))
            for phase in Phase
        },
        frequency=frequency,
    )


def read_trace(path: Path = TRACE_PATH) -> list[int]:
    """The watts column (``whole_home_w``) of a bundled-format trace, one integer per second.

    Raises OSError for an unreadable file, ValueError / KeyError for a malformed one or
    one without samples.
    """
    with path.open(newline="", encoding="utf-8") as handle:
        watts = [int(row["whole_home_w"]) for row in csv.DictReader(handle)]
    if not watts:
        raise ValueError(f"{path} holds no samples")
    return watts


class _SharedTrace:
    """The household trace divided by a fixed rule: ``shares[i]`` of the trace offset by ``offsets_s[i]``."""

    def __init__(self, watts: list[int], shares: Sequence[float], offsets_s: Sequence[int], start: int) -> None:
        if len(shares) != len(offsets_s) or not all(s >= 0.0 for s in shares) or sum(shares) > 1.0 + 1e-9:
            raise ValueError("shares must be non-negative, one per offset, and add up to at most 1")
        self.watts = watts
        self.shares = tuple(shares)
        self.offsets_s = tuple(offsets_s)
        self.start = start
        self.step: float | None = 1.0

    def part_watts(self, i: int, t: float) -> float:
        """Watts of part ``i`` at ``t`` (s): its share of the trace second ``start + t + offset``, looping."""
        second = (self.start + self.offsets_s[i] + math.floor(t)) % len(self.watts)
        return self.watts[second] * self.shares[i]


class TraceThreePhaseLoad:
    """The household trace divided among the three phases of a wye service by a fixed rule.

    Rule: phase k (A, B, C = 0, 1, 2) carries one third of the trace's watts taken
    ``k x 20`` minutes later (``k x phase_offset_s``), looping: each phase shows a real
    household's shape, and the phases differ, so a swapped phase or CT shows.  The trace
    is a single-phase home's mains; spread so, the service draws about what the home does.
    Each phase's voltage sags with its own load through a source resistance
    (``volts = nominal_volts - watts x volts_drop_per_kw / 1000``); the voltages stand
    120 degrees apart (B and C swapped with ``reversed_sequence``).

    Args:
        path: the trace CSV (bundled format); default the RAE House 1 trace.
        start: trace second that ``t = 0`` maps to (offset it per chip for different loads).
    Raises as :func:`read_trace`.
    """

    def __init__(
        self,
        path: Path = TRACE_PATH,
        *,
        nominal_volts: float = 230.0,
        volts_drop_per_kw: float = 1.0,
        power_factor: tuple[float, float, float] = (0.97, 0.92, 0.88),
        frequency: float = 50.0,
        reversed_sequence: bool = False,
        phase_offset_s: int = 1200,
        start: int = 0,
    ) -> None:
        """Load the trace into memory."""
        _check_power_factors(power_factor)
        offsets = [k * phase_offset_s for k in range(3)]
        self._trace = _SharedTrace(read_trace(path), (1 / 3, 1 / 3, 1 / 3), offsets, start)
        self.nominal_volts = nominal_volts
        self.volts_drop_per_kw = volts_drop_per_kw
        self.power_factor = power_factor
        self.frequency = frequency
        self.reversed_sequence = reversed_sequence
        self.step: float | None = 1.0

    def phase_watts(self, phase: Phase, t: float) -> float:
        """The watts of ``phase`` at ``t`` (s) by the rule above."""
        return self._trace.part_watts(phase, t)

    def load_at(self, t: float) -> LoadPoint:
        """Return every phase's conditions at ``t`` (s)."""
        angles = REVERSED_ANGLES if self.reversed_sequence else SEQUENCE_ANGLES
        phases = {}
        for phase in Phase:
            watts = self.phase_watts(phase, t)
            volts = self.nominal_volts - watts * self.volts_drop_per_kw / 1000
            phases[phase] = PhaseLoad(volts, watts, self.power_factor[phase], voltage_angle=angles[phase])
        return LoadPoint(phases=phases, frequency=self.frequency)


def delta_point(
    line_volts: Sequence[float],
    watts: Sequence[float],
    power_factors: Sequence[float],
    frequency: float,
    *,
    reversed_sequence: bool = False,
) -> LoadPoint:
    """What a 3P3W meter's inputs see on a three-wire service feeding three line-to-line loads.

    ``line_volts`` are the rms line voltages (Uab, Ubc, Uca), V; ``watts`` and
    ``power_factors`` those of the loads connected L1-L2, L2-L3, L3-L1 (W signed, PF
    inductive, 0 < PF <= 1).  The line voltages close a triangle (Kirchhoff: they add to
    zero): with Uab at angle 0, Ucb stands at +60 degrees for the sequence L1 -> L2 -> L3
    (-60 reversed), from the law of cosines.  Each load draws I = conj(S / U); the line
    currents are Ia = Iab - Ica and Ic = Ica - Ibc (the three add to zero: no neutral).
    The meter (AN p.10; DS p.56 "Ua is Uab, Uc is Ucb, Ub is not used"): phase A's voltage
    input carries Uab and its CT I1, phase C's input Ucb and I3, phase B's inputs are
    grounded (0 V, no current).  Each input pair is given as the :class:`PhaseLoad` of
    what it sees: ``volts`` |U|, ``watts`` Re(U x conj(I)), the power factor of that
    product, its voltage angle as a lag (C's: 300 degrees in sequence), so the chip's
    current angle is the line current's.  The chip multiplies what is on its pins (DS p.16):
    each element reads V x I x cos(30 +- phi) on a balanced load, and the two add to the
    three-phase power (Blondel).  An element reading negative power (a load below PF 0.5)
    is modelled as exporting: its active power and current angle are exact, its reactive
    power shows with the sign the emulator gives an exporting phase.
    Raises ValueError for voltages that close no triangle or a wrong number of values.
    """
    if len(line_volts) != 3 or len(watts) != 3 or len(power_factors) != 3:
        raise ValueError("a delta service needs three line voltages and three loads")
    _check_power_factors(power_factors)
    u_ab, u_bc, u_ca = (float(v) for v in line_volts)
    if min(u_ab, u_bc, u_ca) <= 0 or max(u_ab, u_bc, u_ca) * 2 >= u_ab + u_bc + u_ca:
        raise ValueError("the line voltages must close a triangle")
    gamma = math.acos((u_ab * u_ab + u_bc * u_bc - u_ca * u_ca) / (2 * u_ab * u_bc))
    ab = complex(u_ab, 0.0)
    cb = cmath.rect(u_bc, -gamma if reversed_sequence else gamma)  # Ucb = C - B
    ca = cb - ab  # Uca = C - A
    bc = -cb
    load_currents = [
        (complex(w, w * math.tan(math.acos(pf))) / u).conjugate()
        for u, w, pf in zip((ab, bc, ca), watts, power_factors, strict=True)
    ]
    i_ab, i_bc, i_ca = load_currents
    return LoadPoint(
        phases={
            Phase.A: _element(ab, i_ab - i_ca),
            Phase.B: PhaseLoad(0.0, 0.0),
            Phase.C: _element(cb, i_ca - i_bc),
        },
        frequency=frequency,
    )


def _element(voltage: complex, current: complex) -> PhaseLoad:
    """The :class:`PhaseLoad` of an input pair seeing ``voltage`` and ``current`` (phasors, V and A)."""
    power = voltage * current.conjugate()
    apparent = abs(power)
    exporting = power.real < 0
    return PhaseLoad(
        abs(voltage),
        power.real,
        abs(power.real) / apparent if apparent else 1.0,
        voltage_angle=-math.degrees(cmath.phase(voltage)) % 360.0,
        capacitive=power.imag > 0 if exporting else power.imag < 0,
    )


@dataclass
class DeltaLoad:
    """A three-phase three-wire (delta) service with a constant load between each pair of lines.

    ``watts`` and ``power_factor`` are those of the loads L1-L2, L2-L3, L3-L1; ``volts``
    the line voltages Uab, Ubc, Uca (one value for all, or three).  What the meter's
    inputs see: :func:`delta_point`.  ``reversed_sequence``: L2 and L3 swapped.
    Raises ValueError for a power factor outside (0, 1], voltages that close no triangle
    or a wrong number of values.
    """

    watts: float | tuple[float, float, float] = (3000.0, 2500.0, 2000.0)
    volts: float | tuple[float, float, float] = 400.0
    power_factor: float | tuple[float, float, float] = 0.95
    frequency: float = 50.0
    reversed_sequence: bool = False
    step: float | None = None

    def __post_init__(self) -> None:
        """Check the values."""
        self.load_at(0.0)

    def load_at(self, t: float) -> LoadPoint:
        """Return the constant conditions (``t`` is ignored)."""
        return delta_point(
            _three(self.volts, "volts"),
            _three(self.watts, "watts"),
            _three(self.power_factor, "power_factor"),
            self.frequency,
            reversed_sequence=self.reversed_sequence,
        )


class TraceDeltaLoad(TraceThreePhaseLoad):
    """The household trace as a balanced-ish three-wire (delta) service: three line-to-line loads.

    The rule of :class:`TraceThreePhaseLoad`, its phases k = 0, 1, 2 becoming the loads
    L1-L2, L2-L3, L3-L1: one third of the trace each, taken ``k x 20`` minutes later,
    looping, at the power factors 0.97, 0.92, 0.88 (inductive), so the thirds differ and a
    swapped CT shows.  Each line voltage sags with its own load through a source
    resistance (``nominal_volts - watts x volts_drop_per_kw / 1000``; nominal 400 V line
    to line by default), so the service is a little unbalanced.  What the meter sees:
    :func:`delta_point`.  Raises as :class:`TraceThreePhaseLoad`.
    """

    def __init__(self, path: Path = TRACE_PATH, *, nominal_volts: float = 400.0, **rule: Any) -> None:
        """Load the trace into memory; ``rule`` takes :class:`TraceThreePhaseLoad`'s other keywords."""
        super().__init__(path, nominal_volts=nominal_volts, **rule)

    def load_watts(self, k: int, t: float) -> float:
        """The watts of line-to-line load ``k`` (0: L1-L2, 1: L2-L3, 2: L3-L1) at ``t`` (s) by the rule above."""
        return self._trace.part_watts(k, t)

    def load_at(self, t: float) -> LoadPoint:
        """Return what the meter's inputs see at ``t`` (s)."""
        watts = [self.load_watts(k, t) for k in range(3)]
        volts = [self.nominal_volts - w * self.volts_drop_per_kw / 1000 for w in watts]
        return delta_point(volts, watts, self.power_factor, self.frequency, reversed_sequence=self.reversed_sequence)


CIRCUIT_SHARES: Final = (0.5, 0.3, 0.2)
"""Shares of the trace the circuits CT1-CT3 (phases A-C) carry in :class:`TraceCircuitLoad`."""
BOARD_SHARES: Final[dict[int, tuple[float, float, float]]] = {1: (0.25, 0.15, 0.10), 2: (0.20, 0.15, 0.10)}
"""A 6-channel board's circuits under the simulated mains, by the chip's board position: CT1-CT3 carry 25, 15
and 10 % of the house, CT4-CT6 20, 15 and 10 %, at the same moment; 5 % is on circuits no CT meters, so the
circuits add up to 95 % of what the mains meter sees, never more (the Energy dashboard's individual devices)."""


class TraceCircuitLoad:
    """The household trace divided among up to three circuits on one shared voltage by a fixed rule.

    Rule: circuit k (CT1-CT3 = phases A-C, k = 0, 1, 2) carries ``CIRCUIT_SHARES[k]``
    (50 %, 30 %, 20 %) of the trace's watts taken ``k x 10`` minutes later
    (``k x circuit_offset_s``), looping: three circuits of plausible, different sizes and
    timing.  ``generation_w`` maps a phase to constant solar generation subtracted from
    that circuit (it exports whenever the generation exceeds its share).  One voltage
    transformer: every voltage input gets the same voltage, sagging with the whole load
    (``nominal_volts - total watts x volts_drop_per_kw / 1000``), as the board's jumper
    gives.  ``start`` shifts the trace (use a different one per chip of a board).
    Raises as :func:`read_trace`; ValueError for a negative generation.
    """

    def __init__(
        self,
        path: Path = TRACE_PATH,
        *,
        nominal_volts: float = 121.5,
        volts_drop_per_kw: float = 0.6,
        power_factor: tuple[float, float, float] = (0.95, 0.9, 0.99),
        generation_w: dict[Phase, float] | None = None,
        frequency: float = 60.0,
        circuit_offset_s: int = 600,
        start: int = 0,
        shares: tuple[float, float, float] = CIRCUIT_SHARES,
    ) -> None:
        """Load the trace into memory; ``shares`` replaces the rule's 50/30/20 % (adding up to at most 1)."""
        _check_power_factors(power_factor)
        self.generation_w = dict(generation_w or {})
        if any(not g >= 0.0 for g in self.generation_w.values()):
            raise ValueError("generation must be at least 0 W")
        self._trace = _SharedTrace(read_trace(path), shares, [k * circuit_offset_s for k in range(3)], start)
        self.nominal_volts = nominal_volts
        self.volts_drop_per_kw = volts_drop_per_kw
        self.power_factor = power_factor
        self.frequency = frequency
        self.step: float | None = 1.0

    def circuit_watts(self, phase: Phase, t: float) -> float:
        """The watts of the circuit on ``phase`` at ``t`` (s) by the rule above, less its generation."""
        return self._trace.part_watts(phase, t) - self.generation_w.get(phase, 0.0)

    def load_at(self, t: float) -> LoadPoint:
        """Return every circuit's conditions at ``t`` (s), on the one shared voltage."""
        watts = {phase: self.circuit_watts(phase, t) for phase in Phase}
        volts = self.nominal_volts - sum(watts.values()) * self.volts_drop_per_kw / 1000
        power_factors = dict(zip(Phase, self.power_factor, strict=True))
        return _shared_voltage_point(volts, watts, power_factors, 1.0, self.frequency)


def simulated_volts(wiring: Wiring, line_frequency: float, *, household: bool = False) -> float:
    """The channel voltage of a simulated ``wiring`` service at ``line_frequency`` Hz, V rms.

    Line to neutral: 120 V at 60 Hz (``household``: 121.5 V, the trace's house), 230 V at
    50 Hz; a delta service's channels measure line to line: 240 V at 60 Hz, 400 V at 50 Hz.
    """
    if wiring.delta:
        return 240.0 if line_frequency == 60 else 400.0
    if line_frequency == 60:
        return 121.5 if household else 120.0
    return 230.0


def simulated_load(
    wiring: Wiring,
    *,
    line_frequency: int = 60,
    nominal_volts: float | None = None,
    start: int = 0,
    path: Path = TRACE_PATH,
    board_position: int | None = None,
) -> LoadSource:
    """The household trace as ``wiring``'s service: what a simulated meter of that wiring measures.

    Split-phase: :class:`TraceLoad`; circuits: :class:`TraceCircuitLoad` (the circuits
    not in the wiring still draw their share, unmetered, as unused CTs would not see);
    three-phase: :class:`TraceThreePhaseLoad`; three-phase delta: :class:`TraceDeltaLoad`.
    ``nominal_volts`` (line to neutral; line to line for delta) defaults to 121.5 V at
    60 Hz and 230 V at 50 Hz (delta: 240 V at 60 Hz, 400 V at 50 Hz).  ``start`` shifts the trace: give each chip of
    a many-chip bus its own (e.g. ``index x 1800`` s) so that their loads differ.
    ``board_position`` (1 or 2) makes a circuits chip one half of a 6-channel board under
    the mains replaying the same ``start``: :data:`BOARD_SHARES`, all at the same moment.
    Raises as :func:`read_trace`; ValueError for another frequency than 50 or 60 or
    another board position.
    """
    if line_frequency not in (50, 60):
        raise ValueError("line frequency must be 50 or 60 Hz")
    frequency = float(line_frequency)
    volts = nominal_volts if nominal_volts is not None else simulated_volts(wiring, line_frequency, household=True)
    if wiring.delta:
        return TraceDeltaLoad(path, nominal_volts=volts, frequency=frequency, start=start)
    if wiring.three_phase:
        return TraceThreePhaseLoad(path, nominal_volts=volts, frequency=frequency, start=start)
    if wiring.shared_voltage and board_position is not None:
        if board_position not in BOARD_SHARES:
            raise ValueError("a 6-channel board has chips at positions 1 and 2")
        shares = BOARD_SHARES[board_position]
        return TraceCircuitLoad(
            path, nominal_volts=volts, frequency=frequency, start=start, shares=shares, circuit_offset_s=0
        )
    if wiring.shared_voltage:
        return TraceCircuitLoad(path, nominal_volts=volts, frequency=frequency, start=start)
    return TraceLoad(path, nominal_volts=volts, frequency=frequency, start=start)
