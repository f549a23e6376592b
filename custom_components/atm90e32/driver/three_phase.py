"""Three-phase arithmetic on readings: voltage unbalance, phase sequence, neutral current.

Pure functions over numbers (no I/O), used by the driver, the emulator and the
integration.  Angles are degrees; a phase's voltage angle is measured from phase A as
the chip's UangleA-C registers give it (DS p.71): for the expected sequence A -> B -> C
(DS p.20) phase B reads about 120 degrees and phase C about 240.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Iterable, Mapping
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


def voltage_unbalance_percent(voltages: Iterable[float]) -> float:
    """Voltage unbalance in % by the NEMA definition (NEMA MG 1, "line voltage unbalance").

    100 x (largest deviation of a phase voltage from the mean of the phase voltages) / mean.
    ``voltages`` are the rms voltages of the phases (V, any count >= 2).  Returns 0.0 when
    the mean is 0 V (nothing to judge).  Raises ValueError for fewer than two voltages.
    Example: 230, 232, 225 V: mean 229 V, largest deviation 4 V, unbalance 1.747 %.
    """
    values = list(voltages)
    if len(values) < 2:
        raise ValueError("voltage unbalance needs at least two phase voltages")
    mean = sum(values) / len(values)
    if mean <= 0.0:
        return 0.0
    return 100.0 * max(abs(v - mean) for v in values) / mean


def _near(angle: float, target: float) -> bool:
    """Whether ``angle`` lies within SEQUENCE_TOLERANCE_DEG of ``target`` (degrees, modulo 360)."""
    difference = (angle - target + 180.0) % 360.0 - 180.0
    return abs(difference) <= SEQUENCE_TOLERANCE_DEG


def phase_sequence(angle_b: float, angle_c: float) -> PhaseSequence:
    """Judge the phase sequence from the voltage angles of B and C from A (degrees, as UangleB/C read).

    CORRECT when B is within SEQUENCE_TOLERANCE_DEG of 120 and C of 240; REVERSED when B
    is near 240 and C near 120; NOT_THREE_PHASE otherwise (e.g. 0/180 of a split-phase
    service, 0/0 of one voltage on every input).  The chip's own verdict is EMMState0
    URevWnST (DS p.20, p.55); this one also tells a service that is not three-phase.
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
    (DS p.66).
    """
    return abs(sum((phasor(amps, angles[phase]) for phase, amps in currents.items()), 0j))
