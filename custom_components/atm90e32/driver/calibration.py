"""Calibration: published starting gains, averaged reference readings and new gains (AN p.21-24).

Gains scale readings linearly: Urms is proportional to Ugain, Irms to Igain x PGA, and
active power to both (AN p.21).  So a reading of ``measured`` against a reference
``reference`` is corrected by ``new = reference / measured x existing`` (AN p.22), and
a gain published for PGA 2x is ``gain x 2 / pga`` at another PGA.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from . import protocol
from . import registers as reg
from .channels import Wiring
from .chip import Atm90e32
from .registers import Phase

# Published gains of CircuitSetup's split-phase meter, from its EmonESP firmware
# (energy_meter.h, the "NEW" values, which it uses at PGA 2x).  Starting points only:
# the same CT appears with other gains in other vendor files; calibration decides.
CT_PRESETS: Final[dict[str, int]] = {
    "sct_013_000": 25498,  # YHDC SCT-013-000 100A/50mA
    "sct_016": 39473,  # YHDC SCT-016 120A/40mA
    "sct_006": 10170,  # YHDC SCT-006 20A/25mA
    "sct_024": 26315,  # YHDC SCT-024 200A/100mA
    "magnalab_100a": 46539,  # Magnalab 100A
}
"""Current gain of each CT at PGA 2x (CircuitSetup EmonESP energy_meter.h)."""
CT_PRESET_PGA: Final = 2
VT_PRESETS: Final[dict[str, int]] = {
    "9v_v14_rev3": 3920,  # board >= v1.4 rev3, 9 V AC transformer (Jameco 157041)
    "9v_v14": 37106,  # board v1.4, 9 V AC transformer (Jameco 157041)
    "12v_v14": 29462,  # board v1.4, 12 V AC transformer (Jameco 167151)
    "9v_v13": 42080,  # board <= v1.3, 9 V AC transformer (Jameco 112336)
    "12v_v13": 32428,  # board <= v1.3, 12 V AC transformer (Jameco 167151)
}
"""Voltage gain by board revision and transformer (CircuitSetup EmonESP energy_meter.h)."""

SAMPLES: Final = 5
"""Readings averaged per calibration (AN p.22 averages five)."""
SAMPLE_INTERVAL_S: Final = 0.35
"""Between samples: measurements refresh about 3 times a second (atm90e32as-facts)."""


REASON_GAIN_OUT_OF_RANGE: Final = "gain_out_of_range"
"""The reference gives a gain outside 1..65535."""
REASON_NOT_POSITIVE: Final = "reference_not_positive"
"""A reference of 0 (or less): nothing to scale to."""
REASON_NOTHING_MEASURED: Final = "nothing_measured"
"""The meter reads nothing on that input: a CT or transformer not connected, or no load."""
REASON_CURRENT_AND_POWER: Final = "current_and_power"
"""Both a reference current and a reference power for one channel."""


class CalibrationError(ValueError):
    """A calibration that cannot be applied.

    ``field`` names the input, ``reason`` what is wrong with it (one of the ``REASON_*``
    constants, also the flow's error key) and ``gain`` the unusable result, when one was computed.
    """

    def __init__(self, field: str, message: str, gain: int | None = None, *, reason: str = "") -> None:
        """Record which input (``field``) is unusable, why (``reason``) and the ``gain`` it gave."""
        super().__init__(message)
        self.field = field
        self.gain = gain
        self.reason = reason or REASON_GAIN_OUT_OF_RANGE


def preset_current_gain(preset: str, pga_gain: int) -> int:
    """Igain of CT ``preset`` at ``pga_gain`` (1, 2, 4): published gain x 2 / pga.

    Raises KeyError for an unknown preset, CalibrationError when the gain would exceed
    65535 (choose a higher PGA).
    """
    gain = round(CT_PRESETS[preset] * CT_PRESET_PGA / pga_gain)
    if not 1 <= gain <= 0xFFFF:
        raise CalibrationError("pga_gain", f"{preset} needs Igain {gain} at PGA {pga_gain}x: use a higher PGA", gain)
    return gain


@dataclass(frozen=True, slots=True)
class CalibrationSample:
    """Averaged chip readings of one phase, in the chip's scale: V, A, W (signed)."""

    voltage: float
    current: float
    active_power: float


def read_average(
    chip: Atm90e32,
    phases: Iterable[Phase],
    *,
    samples: int = SAMPLES,
    interval: float = SAMPLE_INTERVAL_S,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[Phase, CalibrationSample]:
    """Average ``samples`` fresh readings of each phase, at full resolution (LSB registers included).

    Blocking (SPI and ``sleep``).  Raises the driver's communication errors.
    """
    phases = tuple(phases)
    sums = {phase: [0.0, 0.0, 0.0] for phase in phases}
    for index in range(samples):
        if index:
            sleep(interval)
        for phase in phases:
            total = sums[phase]
            total[0] += protocol.voltage(chip.read_register(reg.URMS[phase]), chip.read_register(reg.URMS_LSB[phase]))
            total[1] += protocol.current(chip.read_register(reg.IRMS[phase]), chip.read_register(reg.IRMS_LSB[phase]))
            total[2] += protocol.power(chip.read_register32(reg.PMEAN[phase], reg.PMEAN_LSB[phase]))
    return {phase: CalibrationSample(*(value / samples for value in total)) for phase, total in sums.items()}


@dataclass(frozen=True, kw_only=True)
class References:
    """What the reference meter read, per phase (None: leave that gain alone).

    voltage: V rms; current: A rms; power: W of a known resistive load (power factor 1).
    For a phase, give current or power, not both.
    """

    voltage: Mapping[Phase, float | None]
    current: Mapping[Phase, float | None]
    power: Mapping[Phase, float | None]


def new_gains(
    voltage_gains: Mapping[Phase, int],
    current_gains: Mapping[Phase, int],
    measured: Mapping[Phase, CalibrationSample],
    references: References,
    *,
    wiring: Wiring,
    current_scale: int = 1,
    shared_voltage: bool = False,
) -> tuple[dict[Phase, int], dict[Phase, int]]:
    """Compute calibrated ``(voltage_gains, current_gains)`` for the measured phases (AN p.22).

    ``measured`` are chip-scale averages of ``wiring``'s channels; ``current_scale``
    (1, 2, 4) is the software multiplier of current scaling, so the displayed current is
    ``measured x scale``.  With ``shared_voltage`` (one transformer feeds every voltage
    input, as jumper JP3 does) every phase takes the reference channel's voltage gain,
    whatever the phase order.  From a reference power the current gain also
    accounts for the voltage gain changed in the same calibration.
    Field names in errors are ``reference_<quantity>_<channel key>``.
    Raises CalibrationError naming the input and the reason: a result outside 1..65535, a
    reference of 0, an input that measures nothing, or a current and a power for one
    channel; this function applies nothing.
    """
    volts = dict(voltage_gains)
    amps = dict(current_gains)
    reference = wiring.reference.phase
    for channel in sorted(wiring.channels, key=lambda c: c.phase != reference):
        phase, name = channel.phase, channel.key
        if phase not in measured:
            continue
        sample = measured[phase]
        ref_v = references.voltage.get(phase)
        if shared_voltage and phase != reference:
            volts[phase] = volts[reference]
        elif ref_v is not None:
            volts[phase] = _gain(f"reference_voltage_{name}", ref_v, sample.voltage, voltage_gains[phase])
        ratio = volts[phase] / voltage_gains[phase]
        ref_i, ref_p = references.current.get(phase), references.power.get(phase)
        if ref_i is not None and ref_p is not None:
            raise CalibrationError(
                f"reference_power_{name}",
                "give a reference current or a reference power, not both",
                reason=REASON_CURRENT_AND_POWER,
            )
        if ref_i is not None:
            shown = sample.current * current_scale
            amps[phase] = _gain(f"reference_current_{name}", ref_i, shown, current_gains[phase])
        elif ref_p is not None:
            shown = abs(sample.active_power) * current_scale * ratio
            amps[phase] = _gain(f"reference_power_{name}", ref_p, shown, current_gains[phase])
    return volts, amps


def _gain(field: str, reference: float, measured: float, existing: int) -> int:
    """The new gain for one input, or CalibrationError saying what is wrong with it."""
    if reference <= 0:
        raise CalibrationError(field, "the reference value must be positive", reason=REASON_NOT_POSITIVE)
    if measured <= 0:
        raise CalibrationError(field, "the meter measured nothing on this input", reason=REASON_NOTHING_MEASURED)
    try:
        return protocol.calibrated_gain(reference, measured, existing)
    except ValueError as err:
        raise CalibrationError(field, str(err), round(reference / measured * existing)) from err
