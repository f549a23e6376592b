"""Calibration: published starting gains, averaged reference readings and new gains (AN p.21-24).

Gains scale readings linearly: Urms is proportional to Ugain, Irms to Igain x PGA, and
active power to both (AN p.21).  So a reading of ``measured`` against a reference
``reference`` is corrected by ``new = reference / measured x existing`` (AN p.22), and
a gain published for PGA 2x is ``gain x 2 / pga`` at another PGA.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    ``values``: the numbers behind it, for a message in the person's language (the
    ``message`` is English, for logs): ``current`` (A) and ``power`` (W) read with no load,
    ``offset`` (register counts), ``degrees`` and ``most`` (a phase error and the largest
    the chip applies), ``measured_pf`` and ``reference_pf``.
    """

    def __init__(
        self,
        field: str,
        message: str,
        gain: int | None = None,
        *,
        reason: str = "",
        values: Mapping[str, float] | None = None,
    ) -> None:
        """Record which input (``field``) is unusable, why (``reason``), the ``gain`` it gave and its ``values``."""
        super().__init__(message)
        self.field = field
        self.gain = gain
        self.reason = reason or REASON_GAIN_OUT_OF_RANGE
        self.values: Mapping[str, float] = values or {}


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
    factors: Mapping[str, int] | None = None,
) -> tuple[dict[Phase, int], dict[Phase, int]]:
    """Compute calibrated ``(voltage_gains, current_gains)`` for the measured phases (AN p.22).

    ``measured`` are chip-scale averages of ``wiring``'s channels; ``current_scale``
    (1, 2, 4) is the software multiplier of current scaling, so the displayed current is
    ``measured x scale``.  With ``shared_voltage`` (one transformer feeds every voltage
    input, as jumper JP3 does) every phase takes the reference channel's voltage gain,
    whatever the phase order.  From a reference power the current gain also
    accounts for the voltage gain changed in the same calibration, and for the
    channel's voltage factor (``factors[channel key]``, 1 or 2: a 240 V load on one CT
    against a 120 V reference reads half its power on the chip, so the power shown is
    ``measured x scale x factor``; missing keys are 1).
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
            factor = (factors or {}).get(name, 1)
            shown = abs(sample.active_power) * current_scale * ratio * factor
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


# --- offsets (AN p.23) ------------------------------------------------------------------

REASON_CURRENT_FLOWING: Final = "current_flowing"
"""The no-load step measured current or power: a load is on, or the CT is on a live wire."""
REASON_OFFSET_OUT_OF_RANGE: Final = "offset_out_of_range"
"""An offset larger than its 16-bit signed register holds."""
REASON_PHASE_OUT_OF_RANGE: Final = "phase_out_of_range"
"""A phase error needing more delay than PhiA-C's 255 cycles hold."""
REASON_REFERENCE_FAR_OFF: Final = "reference_far_off"
"""A reference power factor more than 30 % from the meter's own reading."""
REASON_NOT_REACTIVE: Final = "reference_not_reactive"
"""A reference power factor above 0.9 (or not above 0): the angle cannot be read from it."""

NO_LOAD_CURRENT_LIMIT_A: Final = 0x7FFF * reg.IOFFSET_LSB_A
"""The most current the no-load step accepts, A at reading scale: what Ioffset can cancel, 0.064 A (AN p.23)."""
NO_LOAD_POWER_LIMIT_W: Final = 3.0
"""The most active or reactive power the no-load step accepts, W: three times the +-1 W idle readings logged
(atm90e32as-facts), well within Poffset's +-10.49 W (32767 x 0.00032 W, DS pp.57-58)."""
OFFSET_SAMPLES: Final = 30
"""Reads averaged by the no-load step: AN p.23 averages five; with the idle noise seen in real logs
(about 0.2 W per read) five leave about 0.09 W of offset error, thirty (10 s) about 0.04 W."""
REFERENCE_FAR_OFF: Final = 0.30
"""A reference power factor more than 30 % away from the meter's own reading is refused (issue 14)."""
REFERENCE_PF_MAX: Final = 0.9
"""Above this power factor the angle is too flat to read: at 0.99 one 0.001 step of PF is 0.4 degree."""


def rms_offset_register(rms32: Sequence[int], field: str = "offset") -> int:
    """Uoffset / Ioffset from no-load 32-bit rms reads (AN p.23): average, >> 7, two's complement, low 16 bits.

    ``rms32`` are ``high << 16 | low`` values of Urms/UrmsLSB or Irms/IrmsLSB with every
    input at zero.  Raises CalibrationError (``offset_out_of_range``) when the shifted
    average needs more than 15 bits: the AN keeps the low 16 bits regardless, which would
    write a wrapped, wrong offset; ValueError for no reads.
    """
    if not rms32:
        raise ValueError("no rms reads")
    shifted = (sum(v & 0xFFFF_FFFF for v in rms32) // len(rms32)) >> reg.RMS32_SHIFT
    if shifted > 0x7FFF:
        raise CalibrationError(
            field,
            f"the offset {shifted} exceeds the register's 15 bits",
            reason=REASON_OFFSET_OUT_OF_RANGE,
            values={"offset": shifted},
        )
    return -shifted & 0xFFFF


def power_offset_register(power32: Sequence[int], field: str = "offset") -> int:
    """Poffset / Qoffset from no-load signed 32-bit Pmean / Qmean reads (AN p.23): the negated average, low 16 bits.

    Raises CalibrationError (``offset_out_of_range``) when the average is outside
    -32767..32768 counts (+-10.49 W), ValueError for no reads.
    """
    if not power32:
        raise ValueError("no power reads")
    negated = -round(sum(power32) / len(power32))
    if not -0x8000 <= negated <= 0x7FFF:
        raise CalibrationError(
            field,
            f"the power offset {-negated} exceeds 16 bits",
            reason=REASON_OFFSET_OUT_OF_RANGE,
            values={"offset": -negated},
        )
    return negated & 0xFFFF


@dataclass(frozen=True, slots=True)
class NoLoadReads:
    """Raw 32-bit reads of one phase with voltage present and no current (AN p.23), one per sample."""

    current_rms: tuple[int, ...]
    active: tuple[int, ...]
    reactive: tuple[int, ...]

    @property
    def current(self) -> float:
        """Mean current, A at reading scale."""
        return sum(v & 0xFFFF_FFFF for v in self.current_rms) / len(self.current_rms) * reg.CURRENT_LSB_A / 65536

    @property
    def active_power(self) -> float:
        """Mean active power, W at reading scale (signed)."""
        return sum(self.active) / len(self.active) * reg.POWER_LSB

    @property
    def reactive_power(self) -> float:
        """Mean reactive power, var at reading scale (signed)."""
        return sum(self.reactive) / len(self.reactive) * reg.POWER_LSB


def read_no_load(
    chip: Atm90e32,
    phases: Iterable[Phase],
    *,
    samples: int = SAMPLES,
    interval: float = SAMPLE_INTERVAL_S,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[Phase, NoLoadReads]:
    """Read ``samples`` sets of the 32-bit rms current and power values of each phase for the offset step (AN p.23).

    The voltage offset is not read: its procedure needs the voltage input at zero too,
    which the CircuitSetup boards, powered from their voltage transformer, never have.
    Blocking (SPI and ``sleep``); raises the driver's communication errors.
    """
    phases = tuple(phases)
    reads: dict[Phase, list[list[int]]] = {phase: [[], [], []] for phase in phases}
    for index in range(samples):
        if index:
            sleep(interval)
        for phase in phases:
            lists = reads[phase]
            lists[0].append(chip.read_register32(reg.IRMS[phase], reg.IRMS_LSB[phase]) & 0xFFFF_FFFF)
            lists[1].append(chip.read_register32(reg.PMEAN[phase], reg.PMEAN_LSB[phase]))
            lists[2].append(chip.read_register32(reg.QMEAN[phase], reg.QMEAN_LSB[phase]))
    return {phase: NoLoadReads(*(tuple(values) for values in lists)) for phase, lists in reads.items()}


@dataclass(frozen=True, slots=True)
class Offsets:
    """The offset registers of one phase, raw 16-bit two's complement values (DS pp.57-59)."""

    current: int
    active: int
    reactive: int


def no_load_offsets(reads: NoLoadReads, channel_key: str) -> Offsets:
    """Ioffset, Poffset and Qoffset of one channel from its no-load reads, taken with its offsets at 0 (AN p.23).

    The current must read at most :data:`NO_LOAD_CURRENT_LIMIT_A` and the powers at most
    :data:`NO_LOAD_POWER_LIMIT_W`: more is a load, not an offset.  Raises CalibrationError
    (field ``offset_<channel_key>``, reason ``current_flowing`` or ``offset_out_of_range``).
    """
    field = f"offset_{channel_key}"
    if (
        reads.current > NO_LOAD_CURRENT_LIMIT_A
        or abs(reads.active_power) > NO_LOAD_POWER_LIMIT_W
        or abs(reads.reactive_power) > NO_LOAD_POWER_LIMIT_W
    ):
        raise CalibrationError(
            field,
            f"{reads.current:.3f} A, {reads.active_power:.2f} W flow with no load",
            reason=REASON_CURRENT_FLOWING,
            values={"current": reads.current, "power": reads.active_power},
        )
    return Offsets(
        current=rms_offset_register(reads.current_rms, field),
        active=power_offset_register(reads.active, field),
        reactive=power_offset_register(reads.reactive, field),
    )


# --- phase compensation (DS p.58, AN p.24) -------------------------------------------------


def phase_degrees_per_cycle(line_frequency: float) -> float:
    """Degrees of the line cycle one PhiA-C count delays: 360 x f / 2.048 MHz (0.0105 at 60 Hz, DS p.58)."""
    return 360.0 * line_frequency / reg.PHI_CLOCK_HZ


def phase_register(error_deg: float, line_frequency: float, field: str = "phase") -> int:
    """The PhiA-C value that cancels a current leading the voltage by ``error_deg`` degrees (DS p.58).

    Positive (a CT that leads, as iron-core CTs do): the current channel is delayed
    (DelayV = 0); negative: the voltage channel (DelayV = 1).  The delay is rounded to
    whole 2.048 MHz cycles; AN p.24 gives the same number as ``e x Gphase`` for an energy
    error ``e`` at power factor 0.5 inductive.  Raises CalibrationError
    (``phase_out_of_range``) above 255 cycles: 2.69 degrees at 60 Hz, 2.24 at 50 Hz.
    """
    cycles = round(abs(error_deg) / phase_degrees_per_cycle(line_frequency))
    if cycles > reg.PHI_CYCLES_MASK:
        most = reg.PHI_CYCLES_MASK * phase_degrees_per_cycle(line_frequency)
        raise CalibrationError(
            field,
            f"{error_deg:.2f} degrees needs {cycles} cycles, more than {most:.2f} degrees",
            reason=REASON_PHASE_OUT_OF_RANGE,
            values={"degrees": error_deg, "most": most},
        )
    return cycles if error_deg >= 0 else reg.PHI_DELAY_V | cycles


def phase_register_degrees(value: int, line_frequency: float) -> float:
    """The compensation a PhiA-C ``value`` applies, degrees: positive delays the current (DS p.58)."""
    degrees = (value & reg.PHI_CYCLES_MASK) * phase_degrees_per_cycle(line_frequency)
    return -degrees if value & reg.PHI_DELAY_V else degrees


def phase_error_from_reference(
    active_power: float, reactive_power: float, reference_pf: float, field: str = "phase"
) -> float:
    """How many degrees the meter sees the current lead more than a reference meter does, at a reactive load.

    ``active_power`` / ``reactive_power`` are this meter's readings (W, var; negative
    active power is a CT facing the wrong way at a load, whose current is turned by 180
    degrees back before the angle is taken); ``reference_pf`` the reference meter's power factor for
    the same load, 0 < pf <= 0.9, inductive or capacitive as the meter sees it.  Add the
    result to the compensation already in PhiA-C to get the new one.
    Raises CalibrationError: ``reference_not_reactive`` for a PF outside (0, 0.9],
    ``reference_far_off`` when the meter's own PF is more than 30 % away from it.
    """
    if not 0.0 < reference_pf <= REFERENCE_PF_MAX:
        raise CalibrationError(
            field, "the reference power factor must be above 0 and at most 0.9", reason=REASON_NOT_REACTIVE
        )
    if active_power < 0:  # a reversed CT: the current is the other way round, the angle the same
        active_power, reactive_power = -active_power, -reactive_power
    measured_lag = math.degrees(math.atan2(reactive_power, active_power))
    measured_pf = math.cos(math.radians(measured_lag))
    if abs(measured_pf - reference_pf) > REFERENCE_FAR_OFF * reference_pf:
        raise CalibrationError(
            field,
            f"the meter reads PF {measured_pf:.3f}, the reference {reference_pf:.3f}",
            reason=REASON_REFERENCE_FAR_OFF,
            values={"measured_pf": measured_pf, "reference_pf": reference_pf},
        )
    true_lag = math.copysign(math.degrees(math.acos(reference_pf)), measured_lag)
    return true_lag - measured_lag


def read_powers(
    chip: Atm90e32,
    phases: Iterable[Phase],
    *,
    samples: int = SAMPLES,
    interval: float = SAMPLE_INTERVAL_S,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[Phase, tuple[float, float]]:
    """Average ``samples`` reads of each phase's ``(active W, reactive var)`` at full resolution (DS p.69).

    Blocking; raises the driver's communication errors.
    """
    phases = tuple(phases)
    sums = {phase: [0.0, 0.0] for phase in phases}
    for index in range(samples):
        if index:
            sleep(interval)
        for phase in phases:
            sums[phase][0] += protocol.power(chip.read_register32(reg.PMEAN[phase], reg.PMEAN_LSB[phase]))
            sums[phase][1] += protocol.power(chip.read_register32(reg.QMEAN[phase], reg.QMEAN_LSB[phase]))
    return {phase: (p / samples, q / samples) for phase, (p, q) in sums.items()}
