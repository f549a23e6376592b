"""The channel model: one table per wiring says what each metered channel is.

A *wiring* is how a chip's inputs are connected to the service.  For each metered
*channel* it names the chip phase that measures it, its standard name (L1, L2 for a
split-phase leg), the options that hold its gains and inversion, and whether it nets
into the service totals.  Everything above the driver (sensors, ledger keys,
diagnostics, calibration, the chip configuration) derives from these tables, so a new
wiring is a new table.

The wirings (one chip each; a board with several chips is several config entries):

- :data:`SPLIT_PHASE` (``"split_phase_2ct"``): US 120/240 V mains, legs ``l1``/``l2`` on
  phases A/C, both netting into the service total, 3P3W.  Unchanged since the first
  release: existing entries, ledgers and unique ids depend on it.
- :data:`THREE_PHASE_WYE` (``"three_phase_wye"``): three-phase four-wire mains, ``l1``/
  ``l2``/``l3`` on phases A/B/C, all netting into the service total, 3P4W.
- :data:`THREE_PHASE_DELTA` (``"three_phase_delta"``): three-phase three-wire mains
  (delta, or a wye's three-wire feeder), ``l1``/``l3`` on phases A/C measuring L1-L2 and
  L3-L2 with the CTs on L1 and L3, both netting into the service total (the two-wattmeter
  sum), 3P3W.
- circuits (``"circuits"``): up to three CTs, ``ct1``/``ct2``/``ct3`` on phases A/B/C,
  on individual circuits measured against one shared voltage (the CircuitSetup
  6-channel board jumpers its voltage inputs together).  Circuits never net with each
  other: there is no service total.  Only the channels the person uses are in the
  table: build it with :func:`circuits_wiring` (``CIRCUITS`` holds all three).

Look a config entry's wiring up with :func:`wiring_for` (key plus, for circuits, the
enabled channel keys); :data:`WIRINGS` lists every wiring key with its full table.
"""

from __future__ import annotations

from collections.abc import Iterable
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
        """The option holding this channel's CT gain (Igain, DS p.59)."""
        return f"current_gain_{self.key}"

    @property
    def ct_preset_option(self) -> str:
        """The option holding this channel's CT model preset."""
        return f"ct_preset_{self.key}"

    @property
    def invert_option(self) -> str:
        """The option saying this channel's CT faces the wrong way."""
        return f"invert_{self.key}"

    @property
    def name_option(self) -> str:
        """The option holding the name the person gives this channel (circuits: "Heat pump")."""
        return f"name_{self.key}"

    @property
    def voltage_factor_option(self) -> str:
        """The option holding the multiplier (1 or 2) of this channel's power and energy.

        2 for a 240 V load (two legs, no neutral) measured with one CT against a 120 V
        reference, which otherwise reads half its power (CircuitSetup 6-channel issue #99,
        atm90e32as-facts); 1 otherwise.
        """
        return f"voltage_factor_{self.key}"


@dataclass(frozen=True, kw_only=True)
class Wiring:
    """How one chip is connected: its channels and the metering mode that goes with them.

    Attributes:
        key: the config entry's ``wiring`` value, e.g. ``"split_phase_2ct"``.
        channels: the metered channels, in display order; the first channel's voltage
            input is the reference when one transformer feeds every voltage input.
        three_wire: MMode0 bit 8, 3P3W (DS p.56, AN p.20): set for the split-phase board
            and the delta service (phase B unused); clear (3P4W) for three-phase wye and
            for circuits, whose phase B carries a CT of its own.
        three_phase: the voltage inputs carry a three-phase service, so the voltage
            angles (UangleA-C), phase-sequence bits (EMMState0 URevWnST/IRevWnST, DS
            p.20) and the voltage unbalance mean something; the driver reads them only
            then.  False where one voltage (or a leg and its opposite) feeds the inputs:
            those registers mean nothing there.  With ``three_wire`` too (delta, see
            :attr:`delta`) the inputs carry two line-to-line voltages, not three phases.
        shared_voltage: the board gives every voltage input the same voltage by
            construction (the 6-channel board's jumper), so there is one voltage gain
            (the reference channel's ``voltage_gain_option``, ``"voltage_gain"``) and no
            choice of one transformer per channel.
    """

    key: str
    channels: tuple[Channel, ...]
    three_wire: bool
    three_phase: bool = False
    shared_voltage: bool = False

    def __post_init__(self) -> None:
        """Validate the table; raises ValueError for no channel or two on one phase or key."""
        if not self.channels:
            raise ValueError(f"wiring {self.key!r} has no channel")
        if len({c.phase for c in self.channels}) != len(self.channels):
            raise ValueError(f"wiring {self.key!r} measures a phase twice")
        if len({c.key for c in self.channels}) != len(self.channels):
            raise ValueError(f"wiring {self.key!r} repeats a channel key")

    @property
    def delta(self) -> bool:
        """Whether this is a three-phase three-wire service: A measures L1-L2 and I1, C L3-L2 and I3 (DS p.56).

        Phase B's inputs are grounded (AN p.10), so the neutral current IrmsN and UangleB
        mean nothing; the service total is the two-wattmeter sum of A and C.
        """
        return self.three_phase and self.three_wire

    @property
    def phases(self) -> tuple[Phase, ...]:
        """The chip phases measured, in channel order: the only phases the driver reads."""
        return tuple(channel.phase for channel in self.channels)

    @property
    def reference(self) -> Channel:
        """The channel whose voltage input serves all of them when there is one transformer."""
        return self.channels[0]

    @property
    def voltage_phases(self) -> tuple[Phase, ...]:
        """The phases whose voltage conditions (sag, swell, phase loss) are watched: one per voltage measured.

        Each phase's sag, over-voltage and phase-loss bits compare that phase's own Urms
        with one threshold register for all phases (EMMState0/1, DS pp.60-61; OVth, SagTh,
        PhaseLossTh, DS pp.44-46).  Where the board gives every voltage input the same
        voltage (``shared_voltage``), every phase reports the same condition at once: it is
        watched on the reference channel's phase alone, so one sag is one event and one
        count.  Elsewhere each channel's voltage is its own: every measured phase.
        """
        return (self.reference.phase,) if self.shared_voltage else self.phases

    @property
    def has_service_total(self) -> bool:
        """Whether the wiring has a service total (ledger key ``"total"``): some channel nets into it.

        False for circuits: each circuit is its own import/export, never netted with
        another, and the chip's all-phase registers are neither read nor meaningful.
        """
        return any(channel.nets_into_total for channel in self.channels)

    @property
    def summed_phases(self) -> tuple[Phase, ...]:
        """The phases MMode0 sums into APenergyT/ANenergyT (EnPA-C, DS p.56): those of the channels in the total."""
        return tuple(channel.phase for channel in self.channels if channel.nets_into_total)

    def channel(self, phase: Phase) -> Channel:
        """Return the channel measured by ``phase``; KeyError if none is."""
        for channel in self.channels:
            if channel.phase == phase:
                return channel
        raise KeyError(phase)

    def channel_by_key(self, key: str) -> Channel:
        """Return the channel whose key is ``key``; KeyError if the wiring has none."""
        for channel in self.channels:
            if channel.key == key:
                return channel
        raise KeyError(key)

    def mmode0(self, line_frequency: int) -> int:
        """MMode0 for this wiring at ``line_frequency`` (50 or 60 Hz) (DS p.56, AN p.20).

        Bit 12 selects 60 Hz, bit 8 3P3W, bits 2/1/0 (EnPA/EnPB/EnPC) the phases summed
        into the all-phase registers: those of the channels that net into the total.
        Bit 7 (CF2varh: the CF2 pin pulses reactive energy) keeps its power-on 1 (default 0x0087).
        Split-phase and three-phase delta: 0x0185 / 0x1185 (the AN's 3P3W value);
        three-phase wye: 0x0087 / 0x1087 (the AN's 3P4W value); circuits: 0x0080 / 0x1080
        (no phase summed).
        Raises ValueError for another frequency.
        """
        if line_frequency not in (50, 60):
            raise ValueError(f"line frequency must be 50 or 60 Hz, got {line_frequency!r}")
        value = reg.MMODE0_CF2VARH
        if line_frequency == 60:
            value |= reg.MMODE0_60HZ
        if self.three_wire:
            value |= reg.MMODE0_3P3W
        for phase in self.summed_phases:
            value |= reg.MMODE0_ENP[phase]
        return value

    def totals_from_chip(self, inverted: frozenset[Phase]) -> bool:
        """Whether the chip's all-phase energy registers (APenergyT/ANenergyT) are the service totals.

        The chip nets the summed phases continuously, as a utility meter does (DS p.12);
        that sum is right only when every channel nets into the total and none is
        inverted in software (the chip would add a reversed CT with the wrong sign).
        Current scaling applies to every channel alike, so it does not matter here.
        Always False for circuits (no service total).
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

THREE_PHASE_WYE: Final = Wiring(
    key="three_phase_wye",
    channels=(
        Channel(key="l1", name="L1", phase=Phase.A, voltage_gain_option="voltage_gain"),
        Channel(key="l2", name="L2", phase=Phase.B, voltage_gain_option="voltage_gain_l2"),
        Channel(key="l3", name="L3", phase=Phase.C, voltage_gain_option="voltage_gain_l3"),
    ),
    three_wire=False,
    three_phase=True,
)
"""Three-phase four-wire (wye) mains: L1-L3 on phases A-C, each with its CT and voltage input.

3P4W (MMode0 bit 8 clear) and every phase summed into the all-phase registers: MMode0
0x0087 at 50 Hz, the AN's 3P4W value (AN p.20), 0x1087 at 60 Hz (DS p.56).  Nominal
230/400, 120/208 or 277/480 V (:data:`THREE_PHASE_NOMINAL_VOLTAGES`, line to neutral).
"""

THREE_PHASE_DELTA: Final = Wiring(
    key="three_phase_delta",
    channels=(
        Channel(key="l1", name="L1", phase=Phase.A, voltage_gain_option="voltage_gain"),
        Channel(key="l3", name="L3", phase=Phase.C, voltage_gain_option="voltage_gain_l3"),
    ),
    three_wire=True,
    three_phase=True,
)
"""Three-phase three-wire (delta) mains: two CTs on L1 and L3, voltages L1-L2 and L3-L2 (DS p.56, AN p.10).

3P3W (MMode0 bit 8 set: "Ua is Uab, Uc is Ucb, Ub is not used", DS p.56), phases A and C
summed into the all-phase registers, B not: MMode0 0x0185 at 50 Hz, the AN's 3P3W value
(AN p.20), 0x1185 at 60 Hz.  L2 is the reference conductor: its current is not measured
and needs no CT, since the three line currents add to zero without a neutral.  Each
channel is one element of a two-wattmeter meter (Blondel): P_A = Uab x Ia, P_C = Ucb x Ic;
neither is a phase's power (a balanced load at PF cos(phi) reads V x I x cos(30 + phi) on
one and cos(30 - phi) on the other), their sum is the service's three-phase power, and
so is the chip's all-phase sum (DS p.16).  The channel voltages are line to line: 208,
240, 400 or 480 V (:data:`DELTA_NOMINAL_VOLTAGES`).
"""

CIRCUITS_KEY: Final = "circuits"
"""The config entry's ``wiring`` value of :func:`circuits_wiring`."""

CIRCUIT_CHANNELS: Final[tuple[Channel, ...]] = (
    Channel(key="ct1", name="CT1", phase=Phase.A, voltage_gain_option="voltage_gain", nets_into_total=False),
    Channel(key="ct2", name="CT2", phase=Phase.B, voltage_gain_option="voltage_gain", nets_into_total=False),
    Channel(key="ct3", name="CT3", phase=Phase.C, voltage_gain_option="voltage_gain", nets_into_total=False),
)
"""Every possible circuit channel of one chip: CT1-CT3 on phases A-C (I1-I3), one shared voltage option."""

CIRCUIT_KEYS: Final[tuple[str, ...]] = tuple(channel.key for channel in CIRCUIT_CHANNELS)
"""``("ct1", "ct2", "ct3")``."""


def circuits_wiring(enabled: Iterable[str]) -> Wiring:
    """The circuits wiring with only the channels whose keys are in ``enabled`` (any order).

    Up to three CTs on individual circuits of one chip, measured against one shared
    voltage (the 6-channel board jumpers its voltage inputs, so every voltage input
    reads the same voltage): ``ct1``/``ct2``/``ct3`` on phases A/B/C, kept in that order.
    No channel nets into a total (EnPA/B/C clear, so APenergyT/ANenergyT mean nothing and
    are not read; ``has_service_total`` and ``totals_from_chip`` are False); 3P4W so that
    phase B is metered.  Channels not enabled are neither read nor given entities.
    Raises ValueError for an unknown key or when nothing is enabled.
    """
    wanted = set(enabled)
    unknown = wanted.difference(CIRCUIT_KEYS)
    if unknown:
        raise ValueError(f"unknown circuit channel(s): {', '.join(sorted(unknown))}")
    if not wanted:
        raise ValueError("a circuits wiring needs at least one channel")
    return Wiring(
        key=CIRCUITS_KEY,
        channels=tuple(channel for channel in CIRCUIT_CHANNELS if channel.key in wanted),
        three_wire=False,
        shared_voltage=True,
    )


CIRCUITS: Final = circuits_wiring(CIRCUIT_KEYS)
"""The circuits wiring with all three channels (what :func:`wiring_for` gives without a channel list)."""

WIRINGS: Final[dict[str, Wiring]] = {
    wiring.key: wiring for wiring in (SPLIT_PHASE, CIRCUITS, THREE_PHASE_WYE, THREE_PHASE_DELTA)
}
"""Every wiring by its key (the config entry's ``wiring``), each with all its channels, in menu order."""

THREE_PHASE_NOMINAL_VOLTAGES: Final[tuple[int, ...]] = (120, 230, 277)
"""Line-to-neutral nominal voltages of the three-phase services offered: 120/208, 230/400, 277/480 V.

Line to line is sqrt(3) times line to neutral (IEC 60038, ANSI C84.1).
"""

DELTA_NOMINAL_VOLTAGES: Final[tuple[int, ...]] = (208, 240, 400, 480)
"""Line-to-line nominal voltages of the three-wire services offered (ANSI C84.1, IEC 60038).

240 and 480 V delta (North America), 400 V three-wire (IEC), and 208 V: a three-wire
feeder of a 120/208 V wye service run without its neutral (a rooftop unit, a motor
panel); two elements meter any three-wire circuit exactly (Blondel), whatever the
source's own connection.  A 120/208 V service *with* its neutral is a wye service.
"""


def wiring_for(key: str, enabled_channels: Iterable[str] | None = None) -> Wiring:
    """The wiring of a config entry: its ``wiring`` key and, for circuits, the enabled channel keys.

    ``enabled_channels`` is used only for ``"circuits"`` (None there means all three);
    the other wirings always have all their channels and ignore it.
    Raises KeyError for an unknown key, ValueError from :func:`circuits_wiring`.
    """
    if key == CIRCUITS_KEY:
        return CIRCUITS if enabled_channels is None else circuits_wiring(enabled_channels)
    return WIRINGS[key]
