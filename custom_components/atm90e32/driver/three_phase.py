"""Three-phase arithmetic on readings: voltage unbalance (IEC negative sequence), phase sequence, neutral current.

Pure functions over numbers (no I/O), used by the driver, the emulator and the
integration.  Angles are degrees; a phase's voltage angle is measured from phase A as
the chip's UangleA-C registers give it (DS p.71): for the expected sequence A -> B -> C
(DS p.20) phase B reads about 120 degrees and phase C about 240.

A three-wire (delta) service in 3P3W measures L1-L2 on A and L3-L2 on C (DS p.56): Ucb
stands 60 degrees from Uab (300 counted as a lag in the sequence L1 -> L2 -> L3), the
sequence is the chip's own A-to-C judgement (DS p.20), the unbalance comes from the line
voltages (:func:`delta_voltage_unbalance_percent`), and there is no neutral.  The totals
are the two-wattmeter sums (:func:`three_wire_power_factor`).
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from .registers import Phase

SEQUENCE_TOLERANCE_DEG: Final = 20.0
"""How far (degrees) a voltage angle may sit from 120 / 240 and still show a sequence.

Real services keep their phases within a few degrees of 120 apart; 20 degrees leaves room
for unbalanced loads on the source impedance, while a split-phase service (legs at 0 and
180 degrees) or one voltage on every input (all at 0) lies far outside it.
"""


class PhaseSequence(StrEnum):
    """What the voltage angles say about the order of the phases."""

    CORRECT = "correct"
    """A -> B -> C: B about 120 degrees, C about 240 degrees after A."""
    REVERSED = "reversed"
    """A -> C -> B: two phases swapped (B about 240, C about 120)."""
    NOT_THREE_PHASE = "not_three_phase"
    """Neither: the inputs carry no three phases 120 degrees apart (split-phase, one shared voltage, a lost phase)."""


def voltage_unbalance_percent(voltages: Mapping[Phase, float], angles: Mapping[Phase, float]) -> float:
    """Voltage unbalance in %, IEC 61000-4-30 / IEC 61000-2-12: negative- over positive-sequence voltage.

    u2 = 100 x |V2| / |V1| with V1 = (Va + a Vb + a^2 Vc) / 3, V2 = (Va + a^2 Vb + a Vc) / 3 and
    a = 1 at 120 degrees, from the phase voltages ``voltages`` (V rms) and their angles
    ``angles`` (degrees from phase A, as UangleA-C read, DS p.71).  The DS does not say which
    way Uangle turns, so the larger of |V1|, |V2| is taken as the positive sequence: the
    result does not depend on that direction (a reversed sequence has its own repair).
    Returns 0.0 when both are 0 V.  Raises KeyError when a phase of A, B, C is missing.
    Example: 200 V at 0, 230 V at 120, 230 V at 240 degrees: V1 = 220 V, V2 = 10 V, 4.545 %.
    (NEMA MG 1's "line voltage unbalance", the largest deviation from the mean, is defined
    on line-to-line voltages, which this chip does not measure in 3P4W.)
    """
    va, vb, vc = (phasor(voltages[p], angles[p] if p != Phase.A else 0.0) for p in (Phase.A, Phase.B, Phase.C))
    return _unbalance_percent(va, vb, vc)


def _unbalance_percent(va: complex, vb: complex, vc: complex) -> float:
    """100 x |V2| / |V1| of three phasors, the larger sequence taken as positive; 0.0 when both are 0."""
    a = phasor(1.0, 120.0)
    one = abs(va + a * vb + a * a * vc) / 3
    two = abs(va + a * a * vb + a * vc) / 3
    positive, negative = max(one, two), min(one, two)
    return 0.0 if positive == 0.0 else 100.0 * negative / positive


def delta_line_voltages(u_ab: float, u_cb: float, angle_c: float) -> tuple[complex, complex, complex]:
    """The three line-to-line voltage phasors (Uab, Ubc, Uca) of a three-wire service read in 3P3W.

    ``u_ab`` and ``u_cb`` are the rms voltages on A and C (V; "Ua is Uab, Uc is Ucb",
    DS p.56); ``angle_c`` is UangleC, Ucb's angle from Uab in degrees (DS p.71).  Uab lies
    at 0; Ubc = -Ucb; Uca = Ucb - Uab (the three add to zero, Kirchhoff).  The DS does not
    say which way Uangle turns: reading it the other way mirrors every phasor, which
    changes no magnitude.  Example: 400 V, 400 V at 300 degrees: |Uca| = 400 V.
    """
    ab = phasor(u_ab, 0.0)
    cb = phasor(u_cb, angle_c)
    return ab, -cb, cb - ab


def delta_voltage_unbalance_percent(u_ab: float, u_cb: float, angle_c: float) -> float:
    """Voltage unbalance in % of a three-wire service from its two measured line voltages and their angle.

    IEC 61000-4-30 negative- over positive-sequence, computed on the line-to-line
    phasors of :func:`delta_line_voltages` (line voltages hold no zero sequence, so the
    ratio is that of the phase voltages).  The larger sequence is taken as positive, so
    the direction of UangleC does not matter.  Example: 400 V and 400 V at 300 degrees:
    0 %; 380 V and 400 V at 300 degrees: |Uca| = 390.38 V, 2.96 %.
    """
    return _unbalance_percent(*delta_line_voltages(u_ab, u_cb, angle_c))


def three_wire_power_factor(active_power: float, reactive_power: float) -> float | None:
    """The power factor of a three-wire service from its two-wattmeter sums: P / sqrt(P^2 + Q^2).

    ``active_power`` (W) and ``reactive_power`` (var) are the sums of the two elements
    (A + C), which are the service's three-phase P and Q (Blondel); their apparent powers
    do not add up to the service's (a balanced resistive load reads 2 x V x I on the two
    elements for sqrt(3) x V x I).  Signed like the active power; None with no load.
    """
    apparent = math.hypot(active_power, reactive_power)
    return active_power / apparent if apparent else None


def _near(angle: float, target: float) -> bool:
    """Whether ``angle`` lies within SEQUENCE_TOLERANCE_DEG of ``target`` (degrees, modulo 360)."""
    difference = (angle - target + 180.0) % 360.0 - 180.0
    return abs(difference) <= SEQUENCE_TOLERANCE_DEG


def phase_sequence(angle_b: float, angle_c: float) -> PhaseSequence:
    """Judge the phase sequence from the voltage angles of B and C from A (degrees, as UangleB/C read).

    CORRECT when B is within SEQUENCE_TOLERANCE_DEG of 120 and C of 240; REVERSED when B
    is near 240 and C near 120; NOT_THREE_PHASE otherwise (e.g. 0/180 of a split-phase
    service, 0/0 of one voltage on every input).  The chip's own verdict is EMMState0
    URevWnST (DS p.20, p.60); this one also tells a service that is not three-phase.
    """
    if _near(angle_b, 120.0) and _near(angle_c, 240.0):
        return PhaseSequence.CORRECT
    if _near(angle_b, 240.0) and _near(angle_c, 120.0):
        return PhaseSequence.REVERSED
    return PhaseSequence.NOT_THREE_PHASE


def phasor(magnitude: float, angle_deg: float) -> complex:
    """The phasor of ``magnitude`` at ``angle_deg`` degrees."""
    return cmath.rect(magnitude, math.radians(angle_deg))


def neutral_current(currents: Mapping[Phase, float], angles: Mapping[Phase, float]) -> float:
    """The neutral current of a wye service, A: the magnitude of the vector sum of the phase currents.

    ``currents`` are rms amps per phase; ``angles`` each current's angle in degrees, all
    counted the same way (the emulator counts lag behind A's voltage: the voltage's lag
    plus the current's own; 10 A at PF 1 on A and 10 A at PF 0.5 on B, at 0 and 180
    degrees, sum to 0 A).  A phase missing from ``angles`` raises KeyError.
    Balanced phases 120 degrees apart sum to 0 A; what the chip computes into IrmsN
    (DS p.70).
    """
    return abs(sum((phasor(amps, angles[phase]) for phase, amps in currents.items()), 0j))
