"""The channel model: one table per wiring says what each metered channel is.

A *wiring* is how a chip's inputs are connected to the service.  For each metered
*channel* it names the chip phase that measures it, its standard name (L1, L2 for a
split-phase leg), the options that hold its gains and inversion, and whether it nets
into the service totals.  Everything above the driver (sensors, ledger keys,
diagnostics, calibration, the chip configuration) derives from these tables, so a new
wiring is a new table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from . import registers as reg
from .registers import Phase


@dataclass(frozen=True, kw_only=True)
class Channel:
    """One metered input pair of a chip: a voltage input and a CT on the same phase.

    Attributes:
        key: short stable id, e.g. ``"l1"``: ledger keys, entity unique ids and option
            names derive from it, so it never changes once released.
        name: the standard name shown to people, e.g. ``"L1"``.
        phase: the chip phase (A, B, C) whose voltage and current inputs measure it.
        voltage_gain_option: the option holding the Ugain of this channel's own voltage
            transformer (used when the service has one transformer per channel).
        nets_into_total: whether its energy nets into the service totals (a mains leg
            does; a circuit never nets with another circuit).
    """

    key: str
    name: str
    phase: Phase
    voltage_gain_option: str
    nets_into_total: bool = True

    @property
    def current_gain_option(self) -> str:
        """The option holding this channel's CT gain (Igain, DS p.52)."""
        return f"current_gain_{self.key}"

    @property
    def ct_preset_option(self) -> str:
        """The option holding this channel's CT model preset."""
        return f"ct_preset_{self.key}"

    @property
    def invert_option(self) -> str:
        """The option saying this channel's CT faces the wrong way."""
        return f"invert_{self.key}"


@dataclass(frozen=True, kw_only=True)
class Wiring:
    """How one chip is connected: its channels and the metering mode that goes with them.

    Attributes:
        key: the config entry's ``wiring`` value, e.g. ``"split_phase_2ct"``.
        channels: the metered channels, in display order; the first channel's voltage
            input is the reference when one transformer feeds every voltage input.
        three_wire: MMode0 bit 8, 3P3W (DS p.47, AN p.16): set for the split-phase board.
    """

    key: str
    channels: tuple[Channel, ...]
    three_wire: bool

    @property
    def phases(self) -> tuple[Phase, ...]:
        """The chip phases measured, in channel order."""
        return tuple(channel.phase for channel in self.channels)

    @property
    def reference(self) -> Channel:
        """The channel whose voltage input serves all of them when there is one transformer."""
        return self.channels[0]

    def channel(self, phase: Phase) -> Channel:
        """Return the channel measured by ``phase``; KeyError if none is."""
        for channel in self.channels:
            if channel.phase == phase:
                return channel
        raise KeyError(phase)

    def mmode0(self, line_frequency: int) -> int:
        """MMode0 for this wiring at ``line_frequency`` (50 or 60 Hz) (DS p.47, AN p.16).

        Bit 12 selects 60 Hz, bit 8 3P3W, bits 2/1/0 (EnPA/EnPB/EnPC) the phases summed
        into the all-phase registers: those of the channels that net into the total.
        Bit 7 keeps its power-on value (default 0x0087).  Split-phase: 0x0185 / 0x1185.
        Raises ValueError for another frequency.
        """
        if line_frequency not in (50, 60):
            raise ValueError(f"line frequency must be 50 or 60 Hz, got {line_frequency!r}")
        value = reg.MMODE0_RESERVED_DEFAULT
        if line_frequency == 60:
            value |= reg.MMODE0_60HZ
        if self.three_wire:
            value |= reg.MMODE0_3P3W
        for channel in self.channels:
            if channel.nets_into_total:
                value |= reg.MMODE0_ENP[channel.phase]
        return value

    def totals_from_chip(self, inverted: frozenset[Phase]) -> bool:
        """Whether the chip's all-phase energy registers (APenergyT/ANenergyT) are the service totals.

        The chip nets the summed phases continuously, as a utility meter does (DS p.12);
        that sum is right only when every channel nets into the total and none is
        inverted in software (the chip would add a reversed CT with the wrong sign).
        Current scaling applies to every channel alike, so it does not matter here.
        """
        return all(channel.nets_into_total for channel in self.channels) and not inverted


SPLIT_PHASE: Final = Wiring(
    key="split_phase_2ct",
    channels=(
        Channel(key="l1", name="L1", phase=Phase.A, voltage_gain_option="voltage_gain"),
        Channel(key="l2", name="L2", phase=Phase.C, voltage_gain_option="voltage_gain_l2"),
    ),
    three_wire=True,
)
"""US 120/240 V split-phase board with two CTs: CT1 on L1 = phase A, CT2 on L2 = phase C, B unused."""

WIRINGS: Final[dict[str, Wiring]] = {wiring.key: wiring for wiring in (SPLIT_PHASE,)}
"""Every wiring by its key (the config entry's ``wiring``)."""
