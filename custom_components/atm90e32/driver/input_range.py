"""The analog input range of a current channel: burden resistors, clip current per PGA, the PGA that fits a CT.

The ADC's differential input takes 120 uVrms to 720 mVrms at PGA 1 (DS p.72, electrical
characteristics); a PGA of 2 or 4 amplifies the input before the ADC, so the largest input
is 720 mV / PGA.  A current-output CT drives its secondary current through the board's
burden resistor, so the input reaches full scale at

    clip current = 0.72 V / (PGA x burden ohms x secondary A per primary A).

Lowering Igain or using current scaling moves only the 65.535 A register limit (DS p.70),
never this analog one.

Burden resistors, read from CircuitSetup's own schematics (Eagle .sch files, the part
values and the nets they join):

- Split single-phase meter (CircuitSetup/Split-Single-Phase-Energy-Meter, Hardware/),
  v1.3 rev2 and v1.4 rev1: R2 (CT1, net IA+ to IA- through solder jumper JP1) and R5
  (CT2, IC+ through JP2), 12 ohm 0603 each.  The schematic's note: "sever JP1 and/or JP2
  to disable 12ohm burden resistor"; the vendor's firmware comment (EmonESP
  energy_meter.h) "0 for 1x (CTs up to 60mA/720mV)" is the same 720 mV over 12 ohm.
  No schematic of v1.4 rev3 (the board of Ugain 3920) is published; we assume 12 ohm.
- Expandable 6-channel meter and its add-on board (CircuitSetup/Expandable-6-Channel-
  ESP32-Energy-Meter, Hardware/, v1.4 rev1 Eagle files; PDFs of v1.3 rev1): R7, R8, R6
  (CT1-CT3 through JP1-JP3) and R18, R19, R17 (CT4-CT6 through JP4-JP6), 22 ohm each.
  Its README: "22 ohm burden resistors on each current channel", "secondary output
  does not exceed 720mV RMS or 33mA", and "200A/50mA SCT-024 ... about 132A"
  (0.72 / 22 / 0.00025 = 130.9 A at PGA 1).

A voltage-output CT (the Magnalab SCT-0750-100) has its own burden: the board's is cut
(JP1/JP2), and the CT gives 0.333 V at its rated 100 A (Magnelab's SCT-0750 output; the
vendor's gains agree: 46539 / 25498 = 1.825 = 0.6 V / 0.329 V at the same PGA).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .channels import SPLIT_PHASE, THREE_PHASE_DELTA

ADC_MAX_VRMS_PGA1: Final = 0.720
"""Largest differential input of a channel at PGA 1, Vrms (DS p.72, "Channel Differential Input")."""
PGA_GAINS: Final = (1, 2, 4)
"""The PGA gains MMode1 offers per current channel (DS p.57)."""

SPLIT_PHASE_BOARD: Final = "split_phase"
SIX_CHANNEL_BOARD: Final = "six_channel"
BURDEN_OHMS: Final[dict[str, float]] = {SPLIT_PHASE_BOARD: 12.0, SIX_CHANNEL_BOARD: 22.0}
"""Burden resistor of each CircuitSetup board (see the module docstring for the schematic parts)."""


@dataclass(frozen=True)
class CtOutput:
    """What a CT gives the board per primary ampere.

    Attributes:
        model: the maker's model name, as the person reads it on the CT.
        rated_current: the CT's rated primary current, A.
        secondary_per_primary: A of secondary current per primary A (a current-output CT),
            or None for a voltage-output CT.
        volts_at_rated: Vrms at the rated current of a voltage-output CT (its own burden), else None.
    """

    model: str
    rated_current: float
    secondary_per_primary: float | None = None
    volts_at_rated: float | None = None

    def input_volts_per_amp(self, burden_ohms: float) -> float:
        """Vrms at the chip's input per primary A on a board with ``burden_ohms`` (ignored for a voltage-output CT)."""
        if self.volts_at_rated is not None:
            return self.volts_at_rated / self.rated_current
        assert self.secondary_per_primary is not None
        return self.secondary_per_primary * burden_ohms


CT_OUTPUTS: Final[dict[str, CtOutput]] = {
    "sct_013_000": CtOutput("SCT-013-000", 100.0, secondary_per_primary=0.050 / 100),  # YHDC SCT-013-000 100A:50mA
    "sct_016": CtOutput("SCT-016", 120.0, secondary_per_primary=0.040 / 120),  # YHDC SCT-016 120A:40mA
    "sct_006": CtOutput("SCT-006", 20.0, secondary_per_primary=0.025 / 20),  # YHDC SCT-006 20A:25mA
    "sct_024": CtOutput("SCT-024", 200.0, secondary_per_primary=0.100 / 200),  # YHDC SCT-024 200A:100mA
    "magnalab_100a": CtOutput("Magnalab SCT-0750-100", 100.0, volts_at_rated=0.333),  # 333 mV output
}
"""Each CT preset (calibration.CT_PRESETS) by its model name's ratio."""


def clip_current(preset: str, board: str, pga: int) -> float:
    """Primary current, A rms, at which CT ``preset`` drives ``board``'s input to full scale at ``pga``.

    ``0.72 V / (pga x V per primary A)`` (DS p.72).  Raises KeyError for an unknown preset or
    board, ValueError for a PGA other than 1, 2, 4.
    """
    if pga not in PGA_GAINS:
        raise ValueError(f"PGA gain must be 1, 2 or 4, got {pga!r}")
    return ADC_MAX_VRMS_PGA1 / (pga * CT_OUTPUTS[preset].input_volts_per_amp(BURDEN_OHMS[board]))


def fitting_pga(preset: str, board: str) -> int | None:
    """The highest PGA (finest resolution) at which CT ``preset`` reaches its rated current unclipped, or None.

    None: no PGA fits (the CT's rated current clips even at PGA 1 on ``board``).
    """
    rated = CT_OUTPUTS[preset].rated_current
    fits = [pga for pga in PGA_GAINS if clip_current(preset, board, pga) >= rated]
    return max(fits) if fits else None


def board_of_wiring(wiring_key: str) -> str:
    """The CircuitSetup board of a wiring: split-phase and delta on the split board, the others on the 6-channel board.

    A delta service needs exactly the split board's inputs: CT1 on I1 and CT2 on I3, VA and
    VC (jumper JP3 cut, a second transformer on VC), phase B unused (AN p.10).
    """
    return SPLIT_PHASE_BOARD if wiring_key in (SPLIT_PHASE.key, THREE_PHASE_DELTA.key) else SIX_CHANNEL_BOARD


@dataclass(frozen=True)
class ClippedInput:
    """A channel whose CT reaches the ADC's full scale below its rated current: ``clip`` A < ``rated`` A.

    ``fits``: the PGA at which it would not clip, or None when none does on this board.
    """

    channel: str
    model: str
    pga: int
    clip: float
    rated: float
    fits: int | None


def clipped_inputs(wiring_key: str, presets: dict[str, str], pga: int) -> list[ClippedInput]:
    """The channels (``presets``: channel key -> CT preset) whose CT clips below its rating at ``pga``.

    A custom CT (a preset not in :data:`CT_OUTPUTS`) is not judged: its ratio is unknown.
    """
    board = board_of_wiring(wiring_key)
    result = []
    for channel, preset in presets.items():
        output = CT_OUTPUTS.get(preset)
        if output is None:
            continue
        clip = clip_current(preset, board, pga)
        if clip < output.rated_current:
            result.append(
                ClippedInput(channel, output.model, pga, clip, output.rated_current, fitting_pga(preset, board))
            )
    return result
