"""The 240 V factor of a circuit: a load across two legs measured with one CT against one leg.

A 240 V load (two legs 180 degrees apart, no neutral) measured with one CT against a
120 V reference reads half its power (atm90e32as-facts, CircuitSetup 6-channel issue
#99).  With the factor 2 the circuit shows what the load sees: twice the leg's voltage
and twice its powers, its current as measured, so power = voltage x current x power
factor still holds.  That the other leg has the same voltage is assumed: only a second
voltage input (a real meter on the other leg) can tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .driver import MeterSnapshot
from .driver.channels import Wiring


def with_factors(snapshot: MeterSnapshot, wiring: Wiring, factors: Mapping[str, int]) -> MeterSnapshot:
    """``snapshot`` with each channel's voltages and powers multiplied by its factor (1 or 2); currents unchanged.

    ``factors``: channel key -> 1 or 2 (option ``voltage_factor_<key>``).  Voltage and peak
    voltage (V), active, reactive, apparent, fundamental and harmonic power (W, var, VA)
    are multiplied; current, power factor and angles are not (one CT sees the whole load).
    """
    doubled = {c.phase: factors[c.key] for c in wiring.channels if factors.get(c.key, 1) != 1}
    if not doubled:
        return snapshot
    phases = dict(snapshot.phases)
    for phase, factor in doubled.items():
        r = phases.get(phase)
        if r is None:
            continue
        phases[phase] = replace(
            r,
            voltage=r.voltage * factor,
            peak_voltage=r.peak_voltage * factor,
            active_power=r.active_power * factor,
            reactive_power=r.reactive_power * factor,
            apparent_power=r.apparent_power * factor,
            fundamental_power=r.fundamental_power * factor,
            harmonic_power=r.harmonic_power * factor,
        )
    return replace(snapshot, phases=phases)
