"""The simulated meter's board: a real board's errors, stated, so each calibration step has something true to correct.

A board as delivered reads a few percent off at the published gains, its idle inputs read
a little current and power, and its CTs turn the current's phase.  The simulated meter's
board (:func:`simulated_board`, :func:`simulated_front_end`) has each of these errors at
a stated size, chosen so that the README's calibration steps can each be rehearsed and
their result checked against the truth:

- gains: at the preset gains (Ugain 3920, Igain 25498 at PGA 2x, calibration.VT_PRESETS and
  CT_PRESETS) the voltage reads :data:`VOLTAGE_READS_HIGH` (2 %) high and every current
  :data:`CURRENT_READS_LOW` (3 %) low; the chip scales Urms with Ugain and Irms with
  Igain x PGA (AN p.21), so one gain calibration removes both;
- idle offsets (:data:`IDLE_CURRENT_A`, :data:`IDLE_POWER_W`, :data:`IDLE_REACTIVE_VAR`):
  within what real idle inputs read, 0.009-0.07 A and +-1 W (atm90e32as-facts "Real idle
  readings"), added to the measured current in quadrature and to the powers linearly,
  before the chip's own Ioffset/Poffset/Qoffset (DS p.59, AN p.23), which the offset step
  sets; every one within what those registers can cancel (0.064 A, 10.49 W);
- CT phase lead (:data:`CT_LEAD_DEG`): 1.50, 1.20 and 0.90 degrees on the CTs of phases
  A, B and C, the same at every current (a stated figure, not a class curve as
  front_end.CtModel gives), each within what PhiA-C can delay: 255 cycles of 2.048 MHz,
  2.69 degrees at 60 Hz and 2.24 at 50 Hz (DS p.58), so the phase step can cancel it to
  within half a cycle (0.0053 degree at 60 Hz, 0.0044 at 50 Hz);
- read noise: front_end.FrontEndErrors' defaults (3 mA, 0.2 W / var, 0.02 V).

A replay file plays on an ideal board instead (its energy must equal the file's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..calibration import CT_PRESET_PGA, CT_PRESETS, VT_PRESETS
from ..front_end import CtModel, FrontEndErrors
from ..registers import Phase
from .chip import Board

VOLTAGE_READS_HIGH: Final = 0.02
"""The simulated board's voltage reads 2 % high at the preset Ugain 3920 (120.00 V reads 122.40 V)."""
CURRENT_READS_LOW: Final = 0.03
"""Each simulated CT reads 3 % low at the preset Igain 25498 (10.000 A reads 9.700 A)."""
IDLE_CURRENT_A: Final = {Phase.A: 0.045, Phase.B: 0.038, Phase.C: 0.030}
"""What each simulated current input reads with no current, A (real idle inputs: 0.009-0.07 A)."""
IDLE_POWER_W: Final = {Phase.A: 0.8, Phase.B: 0.5, Phase.C: -0.6}
"""What each simulated input reads as active power with no current, W (real: +-1 W)."""
IDLE_REACTIVE_VAR: Final = {Phase.A: -0.5, Phase.B: 0.4, Phase.C: 0.7}
"""What each simulated input reads as reactive power with no current, var."""
CT_LEAD_DEG: Final = {Phase.A: 1.5, Phase.B: 1.2, Phase.C: 0.9}
"""How far each simulated CT's current leads the true current, degrees, at any load (PhiA-C: at most 2.24, DS p.58)."""


@dataclass(frozen=True)
class StatedCt(CtModel):
    """A CT with no ratio error and a constant phase lead of ``lead_deg`` degrees (positive: leads).

    Not a measured CT: a stated error, the same at every current, for the rehearsal of the
    phase calibration step (a CtModel follows IEC 61869-2 class limits instead).
    """

    lead_deg: float = 0.0

    def ratio_error(self, amps: float) -> float:
        """No ratio error: the simulated board's current error is in its gain (:data:`CURRENT_READS_LOW`)."""
        return 0.0

    def phase_displacement_deg(self, amps: float) -> float:
        """The stated lead, whatever the current (degrees)."""
        return self.lead_deg


def simulated_board() -> Board:
    """The gains at which the simulated board reads true: the presets' voltage 2 % high, currents 3 % low."""
    ugain = VT_PRESETS["9v_v14_rev3"] / (1 + VOLTAGE_READS_HIGH)
    igain = CT_PRESETS["sct_013_000"] / (1 - CURRENT_READS_LOW)
    return Board(voltage_gains=(ugain,) * 3, current_gains=(igain,) * 3, current_gain_pga=CT_PRESET_PGA)


def simulated_front_end() -> FrontEndErrors:
    """The simulated board's idle offsets, CT phase leads and read noise (the module docstring's figures)."""
    return FrontEndErrors(
        ct={phase: StatedCt(lead_deg=lead) for phase, lead in CT_LEAD_DEG.items()},
        current_offset=dict(IDLE_CURRENT_A),
        voltage_offset=dict.fromkeys(Phase, 0.05),
        power_offset=dict(IDLE_POWER_W),
        reactive_offset=dict(IDLE_REACTIVE_VAR),
    )
