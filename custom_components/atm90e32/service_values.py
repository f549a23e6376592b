"""The service's values computed from one snapshot: total power, power factor, neutral current, voltage unbalance.

A wye (3P4W) or split-phase service adds its channels up; a delta service (3P3W, DS p.56)
meters two elements on the line voltages, so its power factor and unbalance come from the
two-wattmeter sums and the line voltages (driver.three_phase).  Values are computed from
the readings as shown (to the sensors' precision, precision.py), so a total is exactly the
sum of what its parts show.
"""

from __future__ import annotations

from .driver import MeterSnapshot, Phase
from .driver.three_phase import delta_voltage_unbalance_percent, three_wire_power_factor, voltage_unbalance_percent
from .precision import WATT


def total_power(snapshot: MeterSnapshot) -> float:
    """The channels' active powers as shown (to 0.1 W), added, W: the total is exactly L1 + L2 as they read."""
    return sum(round(r.active_power, WATT) for r in snapshot.phases.values())


def total_power_factor(snapshot: MeterSnapshot) -> float | None:
    """Total power over the channels' apparent powers as shown; None with no load (split-phase, wye)."""
    apparent = sum(round(r.apparent_power, WATT) for r in snapshot.phases.values())
    return total_power(snapshot) / apparent if apparent else None


def delta_power_factor(snapshot: MeterSnapshot) -> float | None:
    """A delta service's power factor, P / sqrt(P^2 + Q^2) of its two elements' sums (three_wire_power_factor).

    The elements' apparent powers do not add up to the service's (each sees a line voltage
    30 degrees from its phase voltage), so their sum would understate it.
    """
    reactive = sum(round(r.reactive_power, WATT) for r in snapshot.phases.values())
    return three_wire_power_factor(total_power(snapshot), reactive)


def neutral_current(snapshot: MeterSnapshot) -> float | None:
    """IrmsN, the chip's calculated neutral current, A (DS p.70); None off three-phase or when not read."""
    return None if snapshot.three_phase is None else snapshot.three_phase.neutral_current


def voltage_unbalance(snapshot: MeterSnapshot) -> float | None:
    """IEC negative-sequence voltage unbalance of a wye service, % (voltage_unbalance_percent).

    None without the three phase voltages and the angles of B and C.
    """
    three_phase = snapshot.three_phase
    voltages = {phase: r.voltage for phase, r in snapshot.phases.items()}
    if three_phase is None or len(voltages) < 3 or not {Phase.B, Phase.C} <= three_phase.voltage_angles.keys():
        return None
    return voltage_unbalance_percent(voltages, three_phase.voltage_angles)


def delta_voltage_unbalance(snapshot: MeterSnapshot) -> float | None:
    """IEC voltage unbalance of a delta service, %, from Uab, Ucb and UangleC (delta_voltage_unbalance_percent).

    None without both line voltages and C's angle.
    """
    three_phase, phases = snapshot.three_phase, snapshot.phases
    if three_phase is None or Phase.C not in three_phase.voltage_angles or not {Phase.A, Phase.C} <= phases.keys():
        return None
    return delta_voltage_unbalance_percent(
        phases[Phase.A].voltage, phases[Phase.C].voltage, three_phase.voltage_angles[Phase.C]
    )
