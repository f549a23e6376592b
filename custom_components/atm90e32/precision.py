"""The decimals each measurement is stated to: what the chip resolves and its accuracy supports.

A reading that did not change by that much writes no new state (and so no new recorder
row).  Sensors (sensor_descriptions.py) and the power-quality event's attributes (event.py)
share them.
"""

from __future__ import annotations

from typing import Final

VOLT: Final = 2
"""Decimals of a voltage state: 0.01 V, UrmsA-C's step (DS p.70); the datasheet's +-0.5 % is 0.6 V at 120 V."""
AMPERE: Final = 3
"""Decimals of a current state: 0.001 A, IrmsA-C's step (DS p.70), times current scaling."""
WATT: Final = 1
"""Decimals of an active, reactive or apparent power state: 0.1 W (var, VA).

The registers step by 0.00032 W (DS p.69), but +-0.5 % is already 5 W at 1 kW: digits
below 0.1 W are noise that would write a new state row at every refresh.
"""
POWER_FACTOR: Final = 3
"""Decimals of a power factor state: 0.001, PFmeanA-C's step (DS p.69)."""
HERTZ: Final = 2
"""Decimals of the line frequency: 0.01 Hz, Freq's step and the datasheet's accuracy (DS p.71)."""
DEGREE_STEP: Final = 1
"""Decimals of the phase angle: 0.1 degree, PAngleA-C's step (DS p.71)."""
PEAK_VOLT: Final = 1
"""Decimals of a peak voltage: 0.1 V.  UPeak steps by Ugain / 819200 V (DS p.71), at most 0.08 V."""
PEAK_AMPERE: Final = 2
"""Decimals of a peak current: 0.01 A.  IPeak steps by Igain / 8192000 A (DS p.71), at most 0.008 A (x scaling)."""
PERCENT_STEP: Final = 1
"""Decimals of the harmonic share: 0.1 %, a ratio of two powers shown to 0.1 W."""
UNBALANCE_STEP: Final = 2
"""Decimals of the voltage unbalance: 0.01 %, a ratio of 0.01 V steps (UrmsA-C, DS p.70) near 230 V."""


def rounded(value: float | None, decimals: int | None) -> float | None:
    """``value`` rounded to ``decimals`` places (None leaves it as it is), never ``-0.0``."""
    if value is None or decimals is None:
        return value
    return round(value, decimals) + 0.0
