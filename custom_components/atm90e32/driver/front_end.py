"""Error models of the analog front end, for the emulator: CT ratio and phase errors, ADC offsets, noise.

Calibration corrects what these models put in; the emulator (``EmulatedAtm90e32(errors=...)``)
applies them between the true load and the chip's registers.  Every figure has its source:

- CT ratio error and phase displacement against primary current follow the limits of
  IEC 61869-2 (instrument current transformers), Tables 202 (classes 0.1-1) and 203
  (classes 0.2S and 0.5S), at a stated fraction of the limit.  YHDC publishes no curve
  for its split-core CTs: the SCT-013 datasheet gives only "non-linearity +-3 %" over
  10-120 % of the rated input and no phase figure, so no model here claims to be a
  measured SCT curve.  A CT reads low (ratio error negative: magnetising current) and
  leads (phase displacement positive), as iron-core CTs do; the magnitudes grow as the
  current falls.  Below the lowest point of its class the curve is extrapolated on a log
  current scale with the slope of its first segment; above the highest it stays flat.
- ADC offsets: idle branch circuits read 0.009-0.07 A and +-1 W before offset
  calibration (CircuitSetup 6-channel issue reports, atm90e32as-facts "Real idle
  readings"); the defaults take 0.045 A / 0.030 A and +0.8 W / -0.6 W on phases A / C.
  The 0.2 A read with a CT unplugged is more than the chip's Ioffset can hold (+-64 mA
  at reading scale, see calibration.IOFFSET_LSB_A), so it is no default here.
- Noise on the register reads: 3 mA, 0.2 W / var and 0.02 V standard deviation, which
  keeps idle readings within the logged +-1 W band.  The energy accumulators integrate
  the mean (the chip sums thousands of samples per count), so noise does not reach them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Final

from .registers import Phase

# IEC 61869-2 limits: (percent of rated current, +- ratio error %, +- phase displacement minutes)
IEC_61869_2_LIMITS: Final[dict[str, tuple[tuple[float, float, float], ...]]] = {
    "0.2S": ((1, 0.75, 30), (5, 0.35, 15), (20, 0.2, 10), (100, 0.2, 10), (120, 0.2, 10)),
    "0.5S": ((1, 1.5, 90), (5, 0.75, 45), (20, 0.5, 30), (100, 0.5, 30), (120, 0.5, 30)),
    "0.5": ((5, 1.5, 90), (20, 0.75, 45), (100, 0.5, 30), (120, 0.5, 30)),
    "1": ((5, 3.0, 180), (20, 1.5, 90), (100, 1.0, 60), (120, 1.0, 60)),
}
"""Ratio error and phase displacement limits per accuracy class (IEC 61869-2 Tables 202 and 203)."""

CT_RATED_CURRENT_A: Final[dict[str, float]] = {
    "sct_013_000": 100.0,  # YHDC SCT-013-000 100A/50mA (datasheet: rated input 100 A)
    "sct_016": 120.0,  # YHDC SCT-016 120A/40mA
    "sct_006": 20.0,  # YHDC SCT-006 20A/25mA
    "sct_024": 200.0,  # YHDC SCT-024 200A/100mA
    "magnalab_100a": 100.0,  # Magnalab 100 A
}
"""Rated primary current of each CT preset (calibration.CT_PRESETS), A: the model name's figure."""

CT_PRESET_PHASE_ERROR_DEG: Final[dict[str, float]] = dict.fromkeys(CT_RATED_CURRENT_A, 0.0)
"""Published phase error of each CT preset, degrees: none of the makers publishes one, so 0 for each.

YHDC's SCT datasheets and Magnalab's give ratio and non-linearity only; the phase
calibration step measures the error against a reference instead.
"""

PRESET_CT_CLASS: Final = "0.5"
"""The class the emulator gives the CT presets: an assumption, not data (see the module docstring).

Split-core CTs such as the SCT-013 are sold without an IEC class; class 0.5 at its limits is
an optimistic reading of YHDC's +-3 % non-linearity and a pessimistic one of a good unit.
"""


@dataclass(frozen=True)
class CtModel:
    """A CT whose ratio error and phase displacement follow its class limits at ``fraction`` of them.

    Attributes:
        rated_current: In, A (the model's rated primary current).
        accuracy_class: a key of :data:`IEC_61869_2_LIMITS`.
        fraction: how much of the limit the CT uses, 0..1 (1: a CT at its limits).
    Raises ValueError for an unknown class, a fraction outside 0..1 or a rated current <= 0.
    """

    rated_current: float = 100.0
    accuracy_class: str = "0.5"
    fraction: float = 1.0

    def __post_init__(self) -> None:
        """Check the class, fraction and rated current."""
        if self.accuracy_class not in IEC_61869_2_LIMITS:
            raise ValueError(f"unknown CT accuracy class {self.accuracy_class!r}")
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError("fraction must be within 0..1")
        if not self.rated_current > 0:
            raise ValueError("rated_current must be positive")

    def _curve(self, amps: float, column: int) -> float:
        points = IEC_61869_2_LIMITS[self.accuracy_class]
        percent = max(abs(amps) / self.rated_current * 100.0, 1e-3)
        logs = [math.log10(p[0]) for p in points]
        x = math.log10(percent)
        if x >= logs[-1]:
            return points[-1][column] * self.fraction
        i = max(0, min(len(points) - 2, next((k for k in range(len(points) - 1) if x < logs[k + 1]), 0)))
        x0, x1 = logs[i], logs[i + 1]
        y0, y1 = points[i][column], points[i + 1][column]
        return (y0 + (y1 - y0) * (x - x0) / (x1 - x0)) * self.fraction

    def ratio_error(self, amps: float) -> float:
        """Ratio error at primary current ``amps`` (A), as a fraction (negative: the CT reads low)."""
        return -self._curve(amps, 1) / 100.0

    def phase_displacement_deg(self, amps: float) -> float:
        """Phase displacement at ``amps`` (A), degrees (positive: the secondary current leads)."""
        return self._curve(amps, 2) / 60.0


def _per_phase(a: float, c: float) -> dict[Phase, float]:
    return {Phase.A: a, Phase.B: 0.0, Phase.C: c}


@dataclass(frozen=True)
class FrontEndErrors:
    """What a real board adds between the wire and the chip's registers (see the module docstring).

    Attributes:
        ct: each phase's CT model (None: an ideal CT).
        current_offset: A rms the current input reads with no current, per phase, at
            reading scale for the board's true gains; uncorrelated with the load, it adds
            to the rms reading in quadrature (sqrt(I^2 + offset^2)).
        voltage_offset: V rms, likewise for the voltage input (in quadrature).
        power_offset, reactive_offset: W / var the power reads with no current.
        current_noise, voltage_noise, power_noise: standard deviations of one register read.
        seed: of the noise generator, so a run is repeatable.
    """

    ct: dict[Phase, CtModel | None] = field(
        default_factory=lambda: dict.fromkeys(Phase, CtModel(100.0, PRESET_CT_CLASS))
    )
    current_offset: dict[Phase, float] = field(default_factory=lambda: _per_phase(0.045, 0.030))
    voltage_offset: dict[Phase, float] = field(default_factory=lambda: _per_phase(0.05, 0.05))
    power_offset: dict[Phase, float] = field(default_factory=lambda: _per_phase(0.8, -0.6))
    reactive_offset: dict[Phase, float] = field(default_factory=lambda: _per_phase(-0.5, 0.7))
    current_noise: float = 0.003
    voltage_noise: float = 0.02
    power_noise: float = 0.2
    seed: int = 14
