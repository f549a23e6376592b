"""Start thresholds: the power below which the chip counts no energy (PStartTh/QStartTh/PPhaseTh, DS p.55).

The starting current of IEC 62053-22 turned into the chip's register, or a fixed power
per phase chosen in the options.
"""

from __future__ import annotations

from typing import Final

from . import registers as reg

STARTING_CURRENT_FRACTION: Final = 0.001
"""The starting current chosen: 0.1 % of In, IEC 62053-22 class 0.5S for transformer-operated meters.

Stricter than class 1 (IEC 62053-21: 0.2 % of In transformer-operated, 0.4 % of Ib direct),
so a class 1 starting load registers too.  A CT-clamped meter is transformer-operated: its In is the CT's rating."""
THRESHOLD_SHARE: Final = 0.5
"""The start threshold is half the power of the starting current at nominal voltage and PF 1:
the starting load still registers with the voltage sagged to half, and no idle reading (+-1 W logged
before offset calibration, a few mW after) comes near it."""


def start_threshold(rated_current: float, nominal_voltage: float, current_scale: int = 1) -> int:
    """PStartTh/QStartTh/PPhaseTh/QPhaseTh value (0.00032 W units, DS p.55) for a CT of ``rated_current`` A.

    ``THRESHOLD_SHARE x STARTING_CURRENT_FRACTION x rated_current x nominal_voltage``
    watts, divided by ``current_scale`` (the chip reads 1/scale of the power), clamped to
    16 bits (20.97 W).  Example: 100 A CT at 120 V -> 6 W -> 18750.
    Raises ValueError for a non-positive current or voltage.
    """
    if not rated_current > 0 or not nominal_voltage > 0:
        raise ValueError("rated current and nominal voltage must be positive")
    watts = THRESHOLD_SHARE * STARTING_CURRENT_FRACTION * rated_current * nominal_voltage / current_scale
    return min(0xFFFF, round(watts / reg.POWER_LSB))


START_THRESHOLD_IEC: Final = "iec"
"""The default choice: :func:`start_threshold`, from the CT's rated current (IEC 62053-22 starting current)."""
START_THRESHOLD_WATTS: Final[dict[str, float]] = {"2_w": 2.0, "0_5_w": 0.5}
"""The other choices, W per phase: 2 W sits above the +-1 W idle readings of an uncalibrated board (and
the |P| + |Q| it gates on, about 1.3 W with the emulator's default offsets); 0.5 W only after the offset
calibration (a few mW idle).  Measured trade-off: tests/driver/test_start_threshold.py, README."""
START_THRESHOLD_CHOICES: Final = (START_THRESHOLD_IEC, *START_THRESHOLD_WATTS)


def chosen_start_threshold(choice: str, rated_current: float, nominal_voltage: float, current_scale: int = 1) -> int:
    """PStartTh/PPhaseTh value (0.00032 W units, DS p.55) of start threshold ``choice`` (START_THRESHOLD_CHOICES).

    ``iec``: :func:`start_threshold`; a watts choice: that power divided by ``current_scale``
    (the chip reads 1/scale of the power).  Raises KeyError for an unknown choice, ValueError as
    :func:`start_threshold`.
    """
    if choice == START_THRESHOLD_IEC:
        return start_threshold(rated_current, nominal_voltage, current_scale)
    return min(0xFFFF, round(START_THRESHOLD_WATTS[choice] / current_scale / reg.POWER_LSB))
