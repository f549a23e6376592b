"""The IEC 62053-21/-22 accuracy test points, run on the emulated meter before and after each calibration step.

A :class:`Bench` is one emulated board (a :class:`~.front_end.FrontEndErrors` front end
on phase A of the split-phase wiring) driven through the real driver: every
calibration step uses the functions of :mod:`.calibration` against the chip's
registers, as the options flow does.  Energy errors are measured on the chip's own
read-to-clear energy registers over an hour of emulated time per point (at least
tens of thousands of counts, so the count quantisation stays below 0.01 %).

Test points and limits (IEC 62053-22:2003 Table 4 for class 0.5S, IEC 62053-21:2003
Table 6 for class 1, both for transformer-operated meters, percentages of In):
PF 1 at 1, 2, 5, 10, 20, 50, 100 % and Imax = 120 % (IEC 62053-22 takes Imax >= 1.2 In);
PF 0.5 inductive and 0.8 capacitive at 2, 10, 100 %.
- class 0.5S: PF 1 +-1.0 % from 1 % to 5 %, +-0.5 % from 5 % to Imax; PF 0.5 L / 0.8 C
  +-1.0 % from 2 % to 10 %, +-0.6 % from 10 % to Imax.
- class 1: PF 1 +-1.5 % from 2 % to 5 %, +-1.0 % from 5 % to Imax; PF 0.5 L / 0.8 C
  +-1.5 % from 5 % to 10 %, +-1.0 % from 10 % to Imax; no limit below.
Starting current: class 0.5S 0.1 % In, class 1 0.2 % In (both transformer-operated);
no-load creep: 115 % of the nominal voltage and no current must give no count (the
standards allow one pulse; this meter has to show none) over 24 h.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final

from . import registers as reg
from .calibration import (
    CT_PRESET_PGA,
    CT_PRESETS,
    OFFSET_SAMPLES,
    VT_PRESETS,
    References,
    new_gains,
    no_load_offsets,
    phase_error_from_reference,
    phase_register,
    phase_register_degrees,
    read_average,
    read_no_load,
    read_powers,
)
from .channels import SPLIT_PHASE
from .chip import Atm90e32
from .emulator import Board, EmulatedAtm90e32, LoadPoint, PhaseLoad
from .front_end import FrontEndErrors
from .models import ChipConfig
from .registers import Phase
from .start_threshold import start_threshold

PF1: Final = (1.0, False)
PF05L: Final = (0.5, False)
PF08C: Final = (0.8, True)


@dataclass(frozen=True)
class IecPoint:
    """One accuracy test point: ``percent`` of In at power factor ``pf`` (``capacitive``: leading)."""

    percent: float
    pf: float
    capacitive: bool = False

    @property
    def label(self) -> str:
        """E.g. ``"PF 0.5L 10 %"``."""
        kind = "" if self.pf == 1.0 else ("C" if self.capacitive else "L")
        return f"PF {self.pf:g}{kind} {self.percent:g} %"


IMAX_PERCENT: Final = 120.0
"""Imax as a percentage of In (IEC 62053-22: Imax >= 1.2 In for transformer-operated meters)."""
TEST_POINTS: Final = (
    *(IecPoint(p, *PF1) for p in (1, 2, 5, 10, 20, 50, 100, IMAX_PERCENT)),
    *(IecPoint(p, *PF05L) for p in (2, 10, 100)),
    *(IecPoint(p, *PF08C) for p in (2, 10, 100)),
)
"""The IEC 62053-21/-22 load points of the report."""


def class_limit(accuracy_class: str, point: IecPoint) -> float | None:
    """The +- percentage error limit of ``accuracy_class`` ("0.5S" or "1") at ``point``; None where it sets none."""
    p, unity = point.percent, point.pf == 1.0
    if accuracy_class == "0.5S":
        if unity:
            return 1.0 if p < 5 else 0.5
        return None if p < 2 else (1.0 if p < 10 else 0.6)
    if accuracy_class == "1":
        if unity:
            return None if p < 2 else (1.5 if p < 5 else 1.0)
        return None if p < 5 else (1.5 if p < 10 else 1.0)
    raise ValueError(f"unknown meter class {accuracy_class!r}")


STARTING_CURRENT_PERCENT: Final = {"0.5S": 0.1, "1": 0.2}
"""Starting current, % of In, transformer-operated meters (IEC 62053-22 / -21)."""
CREEP_VOLTAGE_FACTOR: Final = 1.15
"""The no-load test voltage: 115 % of nominal (IEC 62053-21/-22)."""


class _Clock:
    """The bench's emulated time, s."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class _PhaseALoad:
    """Phase A carries the test load; the other phases carry nothing."""

    phase: PhaseLoad
    frequency: float
    step: float | None = None

    def load_at(self, t: float) -> LoadPoint:
        return LoadPoint(phases={Phase.A: self.phase}, frequency=self.frequency)


FORMER_PHASE_THRESHOLD: Final = 0x02EE
"""PPhaseTh before issue 14: 750 x 0.00032 W = 0.24 W, whatever the CT."""
FORMER_START_THRESHOLD: Final = 0x1D4C
"""PStartTh before issue 14: 7500 x 0.00032 W = 2.4 W."""

STAGES: Final = ("preset", "gain", "gain+offset", "gain+offset+phase")
"""The calibration steps the report runs, each on top of the previous one."""


@dataclass
class Bench:
    """One emulated meter on the bench: a CT of ``rated_current`` A on phase A, at ``nominal_voltage`` V.

    The chip is configured as the integration configures it: the split-phase board's
    preset gains (CT preset ``sct_013_000``, 9 V transformer), PGA 2x, current scaling
    ``current_scale`` (2 keeps 120 A within the chip's 65.535 A), start thresholds from
    :func:`.start_threshold.start_threshold`.  ``board`` is the gains at which this board
    reads true (off the presets, as real boards are).
    """

    errors: FrontEndErrors
    rated_current: float = 100.0
    nominal_voltage: float = 120.0
    frequency: int = 60
    current_scale: int = 2
    board: Board = field(
        default_factory=lambda: Board(voltage_gains=(3920 / 1.012,) * 3, current_gains=(25498 / 0.985,) * 3)
    )
    calibration_percent: float = 10.0
    """Gain and phase are calibrated at this % of In (a kettle on a 100 A CT at 120 V)."""
    seconds_per_point: float = 3600.0
    read_every: float = 20.0

    def __post_init__(self) -> None:
        """Power the emulated chip and configure it."""
        self.clock = _Clock()
        self.load = _PhaseALoad(PhaseLoad(self.nominal_voltage, 0.0, 1.0), float(self.frequency))
        self.emulator = EmulatedAtm90e32(self.load, clock=self.clock, board=self.board, errors=self.errors)
        self.chip = Atm90e32(self.emulator, sleep=self.clock.advance)
        gain = round(CT_PRESETS["sct_013_000"] * CT_PRESET_PGA / 2 / self.current_scale)
        threshold = start_threshold(self.rated_current, self.nominal_voltage, self.current_scale)
        self.config = ChipConfig(
            wiring=SPLIT_PHASE,
            line_frequency=self.frequency,
            pga_gain=2,
            voltage_gains=(VT_PRESETS["9v_v14_rev3"],) * 3,
            current_gains=(gain,) * 3,
            p_start_threshold=threshold,
            p_phase_threshold=threshold,
        )
        self.chip.configure(self.config)

    def apply(self, config: ChipConfig) -> None:
        """Write ``config`` into the running chip (as Meter.apply_config does)."""
        self.config = config
        self.chip.configure(config, reset=False)

    def set_load(self, percent: float, pf: float = 1.0, capacitive: bool = False, volts: float | None = None) -> None:
        """Put ``percent`` of In at ``pf`` on phase A (``volts`` default nominal)."""
        v = self.nominal_voltage if volts is None else volts
        amps = self.rated_current * percent / 100.0
        self.load.phase = PhaseLoad(v, v * amps * pf, pf, capacitive=capacitive)

    # --- calibration steps, through the driver as the options flow runs them ----------------

    def calibrate_gain(self) -> None:
        """Reference voltage and the power of a resistive load at ``calibration_percent`` of In (AN p.22)."""
        self.set_load(self.calibration_percent)
        true = self.load.phase
        measured = read_average(self.chip, (Phase.A,), sleep=self.clock.advance)
        volts, amps = new_gains(
            dict(zip(Phase, self.config.voltage_gains, strict=True)),
            dict(zip(Phase, self.config.current_gains, strict=True)),
            measured,
            References(voltage={Phase.A: true.volts}, current={}, power={Phase.A: true.watts}),
            wiring=SPLIT_PHASE,
            current_scale=self.current_scale,
            shared_voltage=True,
        )
        self.apply(
            replace(
                self.config,
                voltage_gains=(volts[Phase.A],) * 3,
                current_gains=(amps[Phase.A], self.config.current_gains[1], amps[Phase.A]),
            )
        )

    def calibrate_offsets(self) -> None:
        """The no-load step (AN p.23): offsets cleared, no current, five reads, Ioffset / Poffset / Qoffset written."""
        zero = (0, 0, 0)
        self.apply(replace(self.config, current_offsets=zero, power_offsets=zero, reactive_offsets=zero))
        self.set_load(0.0)
        reads = read_no_load(self.chip, (Phase.A,), samples=OFFSET_SAMPLES, sleep=self.clock.advance)
        offsets = no_load_offsets(reads[Phase.A], "l1")
        self.apply(
            replace(
                self.config,
                current_offsets=(offsets.current, 0, 0),
                power_offsets=(offsets.active, 0, 0),
                reactive_offsets=(offsets.reactive, 0, 0),
            )
        )

    def calibrate_phase(self) -> None:
        """A reactive load at ``calibration_percent`` of In, PF 0.5 inductive by the reference: PhiA from the angle."""
        self.set_load(self.calibration_percent, 0.5)
        active, reactive = read_powers(self.chip, (Phase.A,), sleep=self.clock.advance)[Phase.A]
        error = phase_error_from_reference(active, reactive, 0.5, "phase_l1")
        total = phase_register_degrees(self.config.phase_compensation[0], self.frequency) + error
        value = phase_register(total, self.frequency, "phase_l1")
        self.apply(replace(self.config, phase_compensation=(value, 0, 0)))

    # --- measurements ---------------------------------------------------------------------

    def _clear(self) -> None:
        for address in (reg.AP_ENERGY[Phase.A], reg.AN_ENERGY[Phase.A], reg.AP_ENERGY_T, reg.AN_ENERGY_T):
            self.chip.read_energy(address)

    def _counts(self, seconds: float) -> tuple[int, int]:
        """Run ``seconds`` reading the energy every ``read_every`` s; ``(net phase A counts, all counts moved)``."""
        self._clear()
        net = moved = 0
        elapsed = 0.0
        while elapsed < seconds:
            step = min(self.read_every, seconds - elapsed)
            self.clock.advance(step)
            elapsed += step
            forward = self.chip.read_energy(reg.AP_ENERGY[Phase.A])
            reverse = self.chip.read_energy(reg.AN_ENERGY[Phase.A])
            total = self.chip.read_energy(reg.AP_ENERGY_T) + self.chip.read_energy(reg.AN_ENERGY_T)
            net += forward - reverse
            moved += forward + reverse + total
        return net, moved

    def energy_error(self, point: IecPoint) -> float:
        """Percent error of the metered active energy at ``point`` over ``seconds_per_point``."""
        self.set_load(point.percent, point.pf, point.capacitive)
        true_wh = self.load.phase.watts * self.seconds_per_point / 3600.0
        net, _ = self._counts(self.seconds_per_point)
        metered_wh = net * reg.ENERGY_LSB_WH * self.current_scale
        return (metered_wh - true_wh) / true_wh * 100.0

    def starts(self, percent: float, seconds: float = 1800.0) -> tuple[bool, float]:
        """Whether a PF 1 load of ``percent`` of In registers within ``seconds``, and its percent error."""
        self.set_load(percent)
        true_wh = self.load.phase.watts * seconds / 3600.0
        net, _ = self._counts(seconds)
        metered_wh = net * reg.ENERGY_LSB_WH * self.current_scale
        return net > 0, (metered_wh - true_wh) / true_wh * 100.0

    def former_creep_counts(self, hours: float = 24.0) -> int:
        """:meth:`creep_counts` with the thresholds used before issue 14 (PPhaseTh 0.24 W, PStartTh 2.4 W)."""
        chosen = self.config
        self.apply(replace(chosen, p_phase_threshold=FORMER_PHASE_THRESHOLD, p_start_threshold=FORMER_START_THRESHOLD))
        try:
            return self.creep_counts(hours)
        finally:
            self.apply(chosen)

    def creep_counts(self, hours: float = 24.0, read_every: float = 600.0) -> int:
        """Counts booked in ``hours`` at 115 % of nominal voltage and no current (phase and all-phase registers)."""
        self.set_load(0.0, volts=self.nominal_voltage * CREEP_VOLTAGE_FACTOR)
        saved, self.read_every = self.read_every, read_every
        try:
            _, moved = self._counts(hours * 3600.0)
        finally:
            self.read_every = saved
        return moved


@dataclass
class StageResult:
    """What one calibration stage measured."""

    stage: str
    errors: dict[str, float]
    starting: dict[str, tuple[bool, float]]
    creep_counts: int
    former_creep_counts: int
    registers: dict[str, int]


def run_stages(
    bench_factory: Callable[[], Bench],
    points: tuple[IecPoint, ...] = TEST_POINTS,
    *,
    creep_hours: float = 24.0,
) -> list[StageResult]:
    """Run every test point, the starting currents and the creep test after each of :data:`STAGES`.

    One bench (``bench_factory()``) is calibrated step by step, each step on top of the last.
    """
    bench = bench_factory()
    steps: dict[str, Callable[[], None]] = {
        "preset": lambda: None,
        "gain": bench.calibrate_gain,
        "gain+offset": bench.calibrate_offsets,
        "gain+offset+phase": bench.calibrate_phase,
    }
    results = []
    for stage in STAGES:
        steps[stage]()
        errors = {p.label: bench.energy_error(p) for p in points}
        starting = {c: bench.starts(percent) for c, percent in STARTING_CURRENT_PERCENT.items()}
        creep = bench.creep_counts(creep_hours)
        former = bench.former_creep_counts(creep_hours)
        c = bench.config
        registers = {
            "Ugain": c.voltage_gains[0],
            "Igain": c.current_gains[0],
            "IoffsetA": c.current_offsets[0],
            "PoffsetA": c.power_offsets[0],
            "QoffsetA": c.reactive_offsets[0],
            "PhiA": c.phase_compensation[0],
            "PPhaseTh": c.p_phase_threshold,
        }
        results.append(StageResult(stage, errors, starting, creep, former, registers))
    return results


def worst_margin(result: StageResult, accuracy_class: str, points: tuple[IecPoint, ...] = TEST_POINTS) -> float:
    """The smallest ``limit - |error|`` over the points ``accuracy_class`` limits, percentage points (negative: out)."""
    margins = []
    for p in points:
        limit = class_limit(accuracy_class, p)
        if limit is not None:
            margins.append(limit - abs(result.errors[p.label]))
    return min(margins) if margins else math.inf
