"""Analog clipping of a current input driven past the ADC's range (DS p.72), for the emulator.

The DS gives the channel's differential input range, 120 uVrms to 720 mVrms at PGA 1
(DS p.72), and says nothing of what the chip reads above it.  The model here is the
plainest one: the amplified sine is cut flat at the peak of a full-scale sine
(sqrt(2) x 0.72 V / PGA at the input).  A real chip may saturate softly, wrap or flag;
only a real chip driven past full scale can tell.

Of a sine of amplitude 1 cut at ``x`` (0 < x <= 1), with ``c = asin(x)``:

- rms ratio (what Irms reads against the uncut sine):
  ``sqrt(4/pi x (c/2 - sin(2c)/4 + (pi/2 - c) x^2))``
- fundamental ratio (what active and reactive power read, the voltage being a sine):
  ``4/pi x (c/2 - sin(2c)/4 + x cos c)``.
"""

from __future__ import annotations

import math

from ..input_range import ADC_MAX_VRMS_PGA1


def clip_ratios(input_vrms: float, pga: int) -> tuple[float, float]:
    """``(rms ratio, fundamental ratio)`` of a sine of ``input_vrms`` at the input, amplified by ``pga``.

    Both 1.0 while ``input_vrms x pga`` is within 0.72 Vrms (DS p.72); below 1 past it.
    """
    amplified = input_vrms * pga
    if amplified <= ADC_MAX_VRMS_PGA1:
        return 1.0, 1.0
    x = ADC_MAX_VRMS_PGA1 / amplified
    c = math.asin(x)
    core = c / 2 - math.sin(2 * c) / 4
    rms = math.sqrt(4 / math.pi * (core + (math.pi / 2 - c) * x * x))
    fundamental = 4 / math.pi * (core + x * math.cos(c))
    return rms, fundamental
