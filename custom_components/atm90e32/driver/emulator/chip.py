"""A register-level ATM90E32AS emulator that speaks the SPI protocol byte for byte.

:class:`EmulatedAtm90e32` implements :class:`~.transport.Transport`, so the driver's
framing, verification and decoding run exactly as against hardware.  It models:

- power-on defaults, the configuration lock (CfgRegAccEn) and soft reset (DS p.59, p.66);
- LastSPIData after every read and write (DS p.65);
- CRCErrStatus: locking latches the configuration registers 0x00-0x6F as golden; while
  locked, any later change of them sets CFG_CRC_ERR (DS p.66; the CRC-16 itself is not
  computed, only its verdict);
- gains and PGA: a reading scales with Ugain (voltage) and Igain x PGA (current), so a
  wrong gain gives a wrong reading exactly as on the chip (AN p.21);
- 16-bit read-to-clear forward / reverse active energy counters at 0.003125 Wh per
  count, netted at the count level, wrapping when not read in time (DS p.12, p.67), with
  the per-phase accumulation threshold PPhaseTh (DS p.55), for every phase the load gives;
- the all-phase APenergyT / ANenergyT (DS p.67): the arithmetic sum of the active power
  of the phases enabled by MMode0 EnPA/EnPB/EnPC (ABSEnP = 0, DS p.56), metered on its
  own, so opposite-signed phases net out inside the chip; a phase below PPhaseTh adds 0
  and the sum meters when its |P| exceeds PStartTh (DS Figure-6 p.14);
- MeterEn: any non-zero value meters (DS p.41);
- power quality (DS pp.60-63): EMMState0/1 over-voltage, over-current, sag, phase loss
  and FreqHi/FreqLo against OVth, OIth, SagTh, PhaseLossTh and FreqLoTh/FreqHiTh, and
  the latched EMMIntState0/1 (write 1 to clear) set at the instant a status bit changes,
  also between two transactions, for the bits enabled in EMMIntEn0/1 only (DS p.19,
  p.64-65); :class:`Disturbance` schedules the events;
- UPeak / IPeak (DS p.71) and the fundamental / harmonic active power PmeanF / PmeanH
  per phase (DS p.70), from each phase's ``harmonic_share``;
- three-phase: the voltage angles UangleA-C (DS p.71, from each phase's
  ``voltage_angle``), the neutral current IrmsN as the vector sum of the phase currents
  (DS p.70), and the sequence error bits URevWnST / IRevWnST of EMMState0 (and their
  latched copies): in 3P4W when the phases stand A -> C -> B, in 3P3W (MMode0 bit 8) when
  C's zero crossing is not more than 180 degrees after A's (DS p.20, p.56, p.60);
- the compensation registers: Uoffset/Ioffset and Poffset/Qoffset add to the rms and
  power values as the application note's offset procedure presumes (AN p.23), PhiA-C
  delays the current or the voltage by 2.048 MHz cycles (DS p.58);
- optionally (``errors``, :mod:`.front_end`) what a real front end adds: CT ratio error and
  phase displacement against current, ADC offsets and read noise.

Its clock is injectable (tests pass a manual clock; :func:`scaled_clock` accelerates a
replay) so tests replay hours in milliseconds.  Fault injection (bit flips, a dead bus,
brown-outs) is a test concern and lives in the tests, not here.
The physical world is a :class:`~.loads.LoadSource` giving each phase's true volts, watts and
power factor over time; :class:`Board` holds the gains at which this board reads true.
Several chips on one bus: :class:`~.bus.EmulatedBus`.

Modelling choices the datasheet leaves open: with MeterEn = 0 the power and energy
registers read 0 and nothing accumulates; rms values are still measured.  Reactive power
is signed (negative for a leading, capacitive load); reactive and apparent energy registers read 0.  The
current sequence bit IRevWnST is set only when all three currents stand A -> C -> B;
currents in no clear order (an exporting or reversed phase) set neither way.
"""

from __future__ import annotations

import math
import random
import threading
import time
from bisect import bisect_right, insort
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

from .. import protocol
from .. import registers as reg
from ..front_end import FrontEndErrors
from ..registers import Phase
from ..three_phase import PhaseSequence, neutral_current, phase_sequence
from .analog import clip_ratios
from .loads import LoadPoint, LoadSource, PhaseLoad

DisturbanceKind = Literal["sag", "swell", "phase_loss", "over_current", "frequency"]
"""What a :class:`Disturbance` changes: a phase's voltage (sag, swell, phase_loss), current, or the line frequency."""

_VOLTAGE_KINDS = frozenset({"sag", "swell", "phase_loss"})


@dataclass(frozen=True, slots=True)
class Disturbance:
    """A scheduled power-quality event during ``[start, end)`` seconds of the emulator's clock.

    "sag", "swell": the true voltage of ``phase`` is ``value`` V rms (before gain scaling);
    its current and power factor stay, so the active power follows the voltage.  A phase
    the load does not give gets ``value`` V without load.  "phase_loss": the voltage is
    ``value`` V (0 or a residual) and no current flows: the phase meters nothing.
    "over_current": the true current of ``phase`` is ``value`` A at the
    load's power factor, so the active power follows (a phase without voltage still
    measures nothing).  "frequency": the line frequency is ``value`` Hz; ``phase`` None.
    Overlapping disturbances on one phase and quantity: the one scheduled last wins.
    Raises ValueError for an unknown kind, ``end <= start``, a negative value (frequency:
    not positive), or a phase missing (given, for "frequency").
    """

    kind: DisturbanceKind
    start: float
    end: float
    value: float
    phase: Phase | None = None

    def __post_init__(self) -> None:
        """Check the kind, window, value and phase; normalise ``phase`` to :class:`Phase`."""
        if self.kind not in get_args(DisturbanceKind):
            raise ValueError(f"unknown disturbance kind {self.kind!r}")
        if not self.end > self.start:
            raise ValueError("a disturbance must end after it starts")
        if self.kind == "frequency":
            if self.phase is not None:
                raise ValueError("a frequency excursion concerns no single phase")
            if not self.value > 0:
                raise ValueError("the line frequency must be positive")
            return
        if self.phase is None:
            raise ValueError(f"a {self.kind} needs a phase")
        object.__setattr__(self, "phase", Phase(self.phase))
        if not self.value >= 0:
            raise ValueError(f"a {self.kind} needs a value of at least 0")


def _disturbed(point: LoadPoint, active: Sequence[Disturbance]) -> LoadPoint:
    """Return ``point`` as changed by the ``active`` disturbances (in schedule order)."""
    frequency = point.frequency
    volts: dict[Phase, float] = {}
    amps: dict[Phase, float] = {}
    for d in active:
        if d.phase is None:
            frequency = d.value
        elif d.kind in _VOLTAGE_KINDS:
            volts[d.phase] = d.value
            if d.kind == "phase_loss":
                amps[d.phase] = 0.0
        else:
            amps[d.phase] = d.value
    phases = dict(point.phases)
    for phase in volts.keys() | amps.keys():
        true = phases.get(phase) or PhaseLoad(0.0, 0.0)
        pf = _clamp_pf(true.power_factor)
        true_volts = max(0.0, true.volts)
        true_amps = abs(true.watts) / (true_volts * pf) if true_volts > 0 else 0.0
        v = volts.get(phase, true_volts)
        watts = v * amps.get(phase, true_amps) * pf
        phases[phase] = PhaseLoad(
            v,
            -watts if true.watts < 0 else watts,
            true.power_factor,
            true.harmonic_share,
            true.voltage_angle,
            true.input_angle,
            true.capacitive,
        )
    return LoadPoint(phases=phases, frequency=frequency)


def scaled_clock(speed: float = 1.0, clock: Callable[[], float] = time.monotonic) -> Callable[[], float]:
    """Return a clock starting at 0 that runs ``speed`` times faster than ``clock`` (accelerated replay)."""
    origin = clock()
    return lambda: (clock() - origin) * speed


@dataclass(frozen=True)
class Board:
    """The analog front end: the gains at which this board reads the truth.

    ``voltage_gains[phase]`` is the Ugain that makes Urms equal the true voltage;
    ``current_gains[phase]`` the Igain that makes Irms true at PGA ``current_gain_pga``.
    The defaults are CircuitSetup's published values for the split-phase board >= v1.4
    rev3 with a 9 V AC transformer (3920) and SCT-013-000 100A/50mA CTs at PGA 2x (25498)
    (see atm90e32as-facts: "The US split-phase two-CT board").  A calibration test sets
    them off on purpose.
    """

    voltage_gains: tuple[float, float, float] = (3920.0, 3920.0, 3920.0)
    current_gains: tuple[float, float, float] = (25498.0, 25498.0, 25498.0)
    current_gain_pga: int = 2
    input_volts_per_amp: tuple[float, float, float] | None = None
    """Vrms at each current input per primary A (CT ratio x burden, :mod:`..input_range`); None: no analog
    limit (only the 65.535 A register).  With it, an input past 720 mVrms / PGA clips (DS p.72, :mod:`.analog`)."""


@dataclass
class PhaseEnergy:
    """Ground truth of one pair of active energy registers, kept by the emulator for tests.

    One per phase (APenergyA-C / ANenergyA-C) and one for the all-phase total
    (APenergyT / ANenergyT), DS p.67.  ``residual`` is the fractional count not yet
    emitted (in counts, signed: forward and reverse net out within one count, DS p.12).
    ``forward_counts`` / ``reverse_counts`` are every count ever added to the registers;
    ``forward_lost`` / ``reverse_lost`` the part of them no read can ever return, because
    the register wrapped past 0xFFFF (``wrapped_counts`` of them) or a reset cleared it
    unread.  ``forward_wh`` / ``reverse_wh`` integrate the metered power exactly.
    """

    residual: float = 0.0
    forward_counts: int = 0
    reverse_counts: int = 0
    forward_wh: float = 0.0
    reverse_wh: float = 0.0
    forward_register: int = 0
    reverse_register: int = 0
    forward_lost: int = 0
    reverse_lost: int = 0
    wrapped_counts: int = 0

    @property
    def forward_readable(self) -> int:
        """Forward counts a perfect reader could have obtained: emitted minus lost."""
        return self.forward_counts - self.forward_lost

    @property
    def reverse_readable(self) -> int:
        """Reverse counts a perfect reader could have obtained: emitted minus lost."""
        return self.reverse_counts - self.reverse_lost


def power_on_defaults() -> dict[int, int]:
    """Register values after power-on or soft reset that the driver relies on (DS Table-5)."""
    values = {
        reg.METER_EN: 0x0000,
        reg.MMODE0: reg.DEFAULT_MMODE0,
        reg.MMODE1: 0x0000,
        reg.PL_CONST_H: reg.PL_CONSTANT >> 16,
        reg.PL_CONST_L: reg.PL_CONSTANT & 0xFFFF,
        reg.CFG_REG_ACC_EN: 0x0000,
    }
    for phase in Phase:
        values[reg.UGAIN[phase]] = reg.DEFAULT_GAIN
        values[reg.IGAIN[phase]] = reg.DEFAULT_GAIN
    return values


_CONFIG_SPACE = range(0x00, 0x70)
_MEASURED_PHASE_REGS = {
    **{a: ("urms", p) for p, a in zip(Phase, reg.URMS, strict=True)},
    **{a: ("urms_lsb", p) for p, a in zip(Phase, reg.URMS_LSB, strict=True)},
    **{a: ("irms", p) for p, a in zip(Phase, reg.IRMS, strict=True)},
    **{a: ("irms_lsb", p) for p, a in zip(Phase, reg.IRMS_LSB, strict=True)},
    **{a: ("p_hi", p) for p, a in zip(Phase, reg.PMEAN, strict=True)},
    **{a: ("p_lo", p) for p, a in zip(Phase, reg.PMEAN_LSB, strict=True)},
    **{a: ("q_hi", p) for p, a in zip(Phase, reg.QMEAN, strict=True)},
    **{a: ("q_lo", p) for p, a in zip(Phase, reg.QMEAN_LSB, strict=True)},
    **{a: ("s_hi", p) for p, a in zip(Phase, reg.SMEAN, strict=True)},
    **{a: ("s_lo", p) for p, a in zip(Phase, reg.SMEAN_LSB, strict=True)},
    **{a: ("pf", p) for p, a in zip(Phase, reg.PFMEAN, strict=True)},
    **{a: ("pangle", p) for p, a in zip(Phase, reg.PANGLE, strict=True)},
    **{a: ("f_hi", p) for p, a in zip(Phase, reg.PMEAN_F, strict=True)},
    **{a: ("f_lo", p) for p, a in zip(Phase, reg.PMEAN_F_LSB, strict=True)},
    **{a: ("h_hi", p) for p, a in zip(Phase, reg.PMEAN_H, strict=True)},
    **{a: ("h_lo", p) for p, a in zip(Phase, reg.PMEAN_H_LSB, strict=True)},
    **{a: ("upeak", p) for p, a in zip(Phase, reg.UPEAK, strict=True)},
    **{a: ("ipeak", p) for p, a in zip(Phase, reg.IPEAK, strict=True)},
}
_STATUS_OF_PHASE = (reg.UGAIN, reg.IGAIN, reg.OV_BITS, reg.OI_BITS, reg.SAG_BITS, reg.PHASE_LOSS_BITS)
"""Per phase, in Phase order: its gain registers and its status bits."""
_UANGLE_PHASE = dict(zip(reg.UANGLE, Phase, strict=True))
_STATUS_REGISTERS = frozenset({reg.EMM_STATE0, reg.EMM_STATE1, reg.EMM_INT_STATE0, reg.EMM_INT_STATE1})
_LATCHED = {reg.EMM_INT_STATE0, reg.EMM_INT_STATE1}
_INTERRUPT_ENABLES = frozenset({reg.EMM_INT_EN0, reg.EMM_INT_EN1})


@dataclass(frozen=True, slots=True)
class _Measured:
    volts: float
    amps: float
    watts: float
    vars: float
    va: float
    power_factor: float
    harmonic_share: float = 0.0
    voltage_angle: float = 0.0
    """Degrees from phase A of the voltage the input sees (the load's ``input_angle`` or ``voltage_angle``)."""
    current_angle: float = 0.0
    """Degrees of lag behind A's voltage, as ``voltage_angle``: that plus acos(PF) (inductive), 180 more exporting."""


_OFFSET_REGISTERS = (reg.UOFFSET, reg.IOFFSET, reg.POFFSET, reg.QOFFSET)
"""The chip's offset registers per phase (AN p.23): any non-zero one takes :meth:`EmulatedAtm90e32._offset`."""

_POWER_OF: dict[str, Callable[[_Measured], float]] = {
    "p": lambda m: m.watts,
    "q": lambda m: m.vars,
    "s": lambda m: m.va,
    "f": lambda m: m.watts * (1.0 - max(0.0, min(1.0, m.harmonic_share))),
    "h": lambda m: m.watts * max(0.0, min(1.0, m.harmonic_share)),
}
"""The 32-bit power a Pmean / Qmean / Smean / PmeanF / PmeanH register reads, from the measurement."""


class EmulatedAtm90e32:
    """An ATM90E32AS metering all three phases of its load source, as a :class:`~.transport.Transport`.

    Ground truth for tests: ``energy[phase]`` and ``total_energy`` (the all-phase
    APenergyT / ANenergyT) are :class:`PhaseEnergy` records; :meth:`pending_counts` and
    :meth:`pending_total_counts` give what the registers hold now; ``resets`` counts
    resets, ``transfers`` transactions.  :meth:`schedule` adds power-quality events.

    Args:
        load: the physical world (a :class:`TraceLoad`, :class:`ConstantLoad`, ...).
        clock: seconds, injectable; default ``time.monotonic``.
        board: the gains at which the board reads true.
        temperature: chip temperature in degrees C (signed).
        errors: the front end's CT errors, ADC offsets and noise (:mod:`.front_end`);
            None (the default) is an ideal board.  The chip's own compensation registers
            (Uoffset/Ioffset, Poffset/Qoffset, PhiA-C) act in either case.
        uangle_leads: UangleB/C count how far the phase *leads* A (B reads 240 in the
            sequence A -> B -> C) instead of how far it lags (120, the default).  The DS
            gives Uangle as 0-360 degrees without a direction (p.71): only a real chip
            can tell which; the sequence bit URevWnST (p.20) is the same either way.
    """

    def __init__(
        self,
        load: LoadSource,
        *,
        clock: Callable[[], float] = time.monotonic,
        board: Board | None = None,
        temperature: int = 38,
        errors: FrontEndErrors | None = None,
        uangle_leads: bool = False,
    ) -> None:
        """Power the emulated chip on at ``clock()``."""
        self.errors = errors
        self.uangle_leads = uangle_leads
        self._noise = random.Random(errors.seed if errors is not None else 0)
        self._noise_draws: dict[Phase, tuple[int, tuple[float, float, float, float]]] = {}
        """Per phase: the measurement refresh the noise was drawn for, and its (V, A, W, var) deviations."""
        self.load = load
        self._world = threading.Lock()
        """Held by a transaction and by :meth:`change_load`: the world changes between transactions only."""
        self.clock = clock
        self.board = board or Board()
        self.temperature = temperature
        self.registers = power_on_defaults()
        self._golden = self._config_space()
        self.last_spi_data = 0
        self.energy = {phase: PhaseEnergy() for phase in Phase}
        self.total_energy = PhaseEnergy()
        """Ground truth of the all-phase APenergyT / ANenergyT registers (DS p.67)."""
        self.resets = 0
        self.transfers = 0
        self.closed = False
        self._time = clock()
        self._disturbances: list[Disturbance] = []
        self._boundaries: list[float] = []
        """Every disturbance's start and end, sorted, once each."""
        self._active: tuple[float, float, tuple[Disturbance, ...]] = (math.inf, -math.inf, ())
        """Cache: the disturbances active throughout ``[lo, hi)``."""

    def schedule(self, disturbance: Disturbance) -> None:
        """Add ``disturbance`` to the physical world (any number; they may overlap).

        The world is a function of time: a window already partly past the emulator's last
        transaction applies from that transaction on; what was metered before stays.
        """
        self._disturbances.append(disturbance)
        for t in (disturbance.start, disturbance.end):
            i = bisect_right(self._boundaries, t)
            if not (i and self._boundaries[i - 1] == t):
                insort(self._boundaries, t)
        self._active = (math.inf, -math.inf, ())

    # --- Transport ------------------------------------------------------------------

    def transfer(self, frame: bytes) -> bytes:
        """Handle one 32-clock transaction; a frame that is not 4 bytes is ignored (DS p.30)."""
        self.transfers += 1
        if len(frame) != protocol.FRAME_LENGTH:
            return bytes(len(frame))
        with self._world:
            self._advance()
            is_read, address, data = protocol.decode_frame(frame)
            if is_read:
                data = self._read(address)
            else:
                self._write(address, data)
            self.last_spi_data = data
        return b"\x00\x00" + data.to_bytes(2, "big")

    def change_load(self, load: LoadSource) -> None:
        """The physical world becomes ``load`` now (a breaker switched, a test load plugged in).

        What flowed until now is metered under the old load first, so no energy is lost or
        invented; the status is judged at once under the new one.  Safe to call from
        another thread than the one reading the chip (it waits for a transaction in progress).
        """
        with self._world:
            self._advance()
            self.load = load
            self._refresh_status()

    def close(self) -> None:
        """Mark the bus released (the emulated chip keeps running)."""
        self.closed = True

    # --- chip behaviour ---------------------------------------------------------------

    def _config_space(self) -> dict[int, int]:
        return {a: v for a, v in self.registers.items() if a in _CONFIG_SPACE}

    def _reset(self) -> None:
        """Power-on defaults, LastSPIData 0; the energy registers' unread counts are lost (DS p.59)."""
        self.registers = power_on_defaults()
        self._golden = self._config_space()
        self.last_spi_data = 0
        for e in (*self.energy.values(), self.total_energy):
            e.residual = 0.0
            e.forward_lost += e.forward_register
            e.reverse_lost += e.reverse_register
            e.forward_register = 0
            e.reverse_register = 0
        self.resets += 1

    def _write(self, address: int, value: int) -> None:
        if address == reg.SOFT_RESET:
            if value == reg.SOFT_RESET_CODE:
                self._reset()
            return
        if address == reg.CFG_REG_ACC_EN:
            self.registers[address] = value
            if value != reg.CFG_UNLOCK_CODE:
                self._golden = self._config_space()  # locking latches the golden CRC (DS p.66)
            return
        if address in _LATCHED:  # write 1 to clear, at any time (DS pp.62-63)
            self._refresh_status()
            self.registers[address] = self.registers.get(address, 0) & ~value
            return
        if address in _INTERRUPT_ENABLES:  # read/write outside the configuration space (DS p.64-65)
            self._refresh_status()  # changes until now were judged under the old enables
            self.registers[address] = value
            return
        if address in _CONFIG_SPACE and self.registers.get(reg.CFG_REG_ACC_EN) == reg.CFG_UNLOCK_CODE:
            self.registers[address] = value
            self._refresh_status()  # a threshold, gain or MeterEn may change the status now
        # other registers are read-only; the write is ignored as on the chip

    def _read(self, address: int) -> int:
        if address == reg.LAST_SPI_DATA:
            return self.last_spi_data
        if address == reg.SOFT_RESET:
            return 0
        if address == reg.CRC_ERR_STATUS:
            locked = self.registers.get(reg.CFG_REG_ACC_EN) != reg.CFG_UNLOCK_CODE
            return int(locked and self._config_space() != self._golden)
        if address in reg.ENERGY_REGISTERS:
            return self._read_energy(address)
        if address == reg.FREQ:
            return _frequency_counts(self._point_at(self._time).frequency)
        if address == reg.TEMP:
            return self.temperature & 0xFFFF
        if address == reg.IRMS_N:
            return self._neutral_register()
        if address in _UANGLE_PHASE:
            return self._voltage_angle_register(_UANGLE_PHASE[address])
        kind = _MEASURED_PHASE_REGS.get(address)
        if kind is None:
            if address in _STATUS_REGISTERS:
                self._refresh_status()
            return self.registers.get(address, 0)
        name, phase = kind
        point = self._point_at(self._time) if self._disturbances else self.load.load_at(self._time)
        return self._measured_register(name, phase, self._noisy(phase, self._measure(phase, point)))

    def _measured_register(self, name: str, phase: Phase, m: _Measured) -> int:
        if name in ("urms", "urms_lsb"):
            counts = m.volts / reg.VOLTAGE_LSB_V
        elif name in ("irms", "irms_lsb"):
            counts = m.amps / reg.CURRENT_LSB_A
        elif name == "pf":
            return round(m.power_factor / reg.POWER_FACTOR_LSB) & 0xFFFF
        elif name == "pangle":
            angle = math.degrees(math.atan2(m.vars, m.watts)) % 360.0
            return round(angle / reg.ANGLE_LSB_DEG) % 3600
        elif name in ("upeak", "ipeak"):
            return self._peak_register(name, phase, m)
        else:
            value = _POWER_OF[name[0]](m)
            raw = max(-(2**31), min(2**31 - 1, round(value / reg.POWER_LSB))) & 0xFFFF_FFFF
            return raw >> 16 if name.endswith("hi") else raw & 0xFFFF
        if name.endswith("lsb"):
            if counts >= 0xFFFF:
                return 0
            return (math.floor((counts - math.floor(counts)) * 256) & 0xFF) << 8
        return _clamp16(math.floor(counts + 1e-6))  # 1e-6 count: absorb float noise such as 65.535 / 0.001

    def _neutral_register(self) -> int:
        """IrmsN: the magnitude of the vector sum of the measured phase currents, 0.001 A (DS p.70)."""
        measured = self._measure_all(self._point_at(self._time))
        neutral = neutral_current(
            {phase: m.amps for phase, m in zip(Phase, measured, strict=True)},
            {phase: m.current_angle for phase, m in zip(Phase, measured, strict=True)},
        )
        return _clamp16(round(neutral / reg.CURRENT_LSB_A))

    def _voltage_angle_register(self, phase: Phase) -> int:
        """UangleA-C: the phase's voltage angle from phase A, 0.1 degree, 0..3599; 0 without voltage (DS p.71)."""
        point = self._point_at(self._time)
        a, m = self._measure(Phase.A, point), self._measure(phase, point)
        if a.volts <= 0.0 or m.volts <= 0.0:
            return 0
        lag = m.voltage_angle - a.voltage_angle
        return round(((-lag if self.uangle_leads else lag) % 360.0) / reg.ANGLE_LSB_DEG) % 3600

    def _peak_register(self, name: str, phase: Phase, m: _Measured) -> int:
        """UPeak / IPeak: the crest of a sinusoid, sqrt(2) x the rms reading, as a complement value (DS p.71).

        The scale is the DS p.71 formula inverted (U = reg x Ugain / (100 x 2^13), I with
        1000).  The detector keeps the crest of each PeakDet_period (SagPeakDetCfg bits
        15:8, ms; default 0x143F: 20 ms, DS p.44; DS p.17): this model takes the positive
        crest in even periods and the negative one in odd periods, and saturates at the
        complement range -32768..32767.  Which crest a real chip keeps, and what it does
        beyond that range (120 V at Ugain 3920 needs 35464), only a real chip can tell.
        """
        if name == "upeak":
            gain, reading, scale = self.registers[reg.UGAIN[phase]], m.volts, 100
        else:
            gain, reading, scale = self.registers[reg.IGAIN[phase]], m.amps, 1000
        if gain == 0:
            return 0
        crest = round(math.sqrt(2) * reading * scale * 2**13 / gain)
        period_ms = max(1, self.registers.get(reg.SAG_PEAK_DET_CFG, _SAG_PEAK_DET_CFG_DEFAULT) >> 8)
        if math.floor(self._time * 1000.0 / period_ms) % 2:
            return max(-0x8000, -crest) & 0xFFFF
        return min(0x7FFF, crest)

    def _point_at(self, t: float) -> LoadPoint:
        """The true conditions at ``t``: the load, changed by the disturbances active then."""
        point = self.load.load_at(t)
        if not self._disturbances:
            return point
        lo, hi, active = self._active
        if not lo <= t < hi:
            i = bisect_right(self._boundaries, t)
            lo = self._boundaries[i - 1] if i else -math.inf
            hi = self._boundaries[i] if i < len(self._boundaries) else math.inf
            active = tuple(d for d in self._disturbances if d.start <= t < d.end)
            self._active = (lo, hi, active)
        return _disturbed(point, active) if active else point

    def _next_boundary(self, t: float) -> float:
        """The first time after ``t`` at which the load may step or a disturbance start or end (s)."""
        step = self.load.step
        boundary = math.inf if step is None else (math.floor(t / step) + 1) * step
        next_change = getattr(self.load, "next_change", None)  # irregular steps (ReplayLoad)
        if next_change is not None:
            boundary = min(boundary, next_change(t))
        i = bisect_right(self._boundaries, t)
        if i < len(self._boundaries):
            boundary = min(boundary, self._boundaries[i])
        return boundary

    def _status(self, measured: Sequence[_Measured], frequency: float) -> tuple[int, int]:
        """EMMState0 and EMMState1 for these readings (DS pp.60-61); 0 while MeterEn is 0.

        A threshold register at 0 never trips; the frequency bits need both FreqLoTh and
        FreqHiTh.  Voltage and current are compared as readings (gain-scaled).
        """
        r = self.registers
        if r.get(reg.METER_EN, 0) == 0:
            return 0, 0
        state0 = state1 = 0
        ov, oi, sag, loss = r.get(reg.OV_TH, 0), r.get(reg.OI_TH, 0), r.get(reg.SAG_TH, 0), r.get(reg.PHASE_LOSS_TH, 0)
        if ov or oi or sag or loss:
            for m, ugain, igain, ov_bit, oi_bit, sag_bit, loss_bit in zip(measured, *_STATUS_OF_PHASE, strict=True):
                volts_per_count = r[ugain] * _VOLTS_PER_COUNT_PER_UGAIN
                if ov and m.volts > ov * volts_per_count:
                    state0 |= ov_bit
                if oi and m.amps > oi * r[igain] * _AMPS_PER_COUNT_PER_IGAIN:
                    state0 |= oi_bit
                if sag and m.volts < sag * volts_per_count:
                    state1 |= sag_bit
                if loss and m.volts < loss * volts_per_count:
                    state1 |= loss_bit
        if r[reg.MMODE0] & reg.MMODE0_3P3W:  # 3P3W judges A against C (DS p.20, p.56)
            state0 |= _three_wire_sequence_bits(measured)
        else:  # 3P4W judges the sequence A -> B -> C (DS p.20)
            state0 |= _sequence_bits(measured)
        low, high = r.get(reg.FREQ_LO_TH, 0), r.get(reg.FREQ_HI_TH, 0)
        if low and high:
            counts = _frequency_counts(frequency)
            if counts > high:
                state1 |= reg.FREQ_HI_BIT
            if counts < low:
                state1 |= reg.FREQ_LO_BIT
        return state0, state1

    def _update_status(self, measured: Sequence[_Measured], frequency: float) -> None:
        """Set EMMState0/1 for these readings; latch each bit that changed into EMMIntState0/1 (DS p.62-63).

        Only a bit whose enable is set in EMMIntEn0/1 (power-on 0) is latched (DS p.19, p.64-65).
        """
        state0, state1 = self._status(measured, frequency)
        r = self.registers
        old0, old1 = r.get(reg.EMM_STATE0, 0), r.get(reg.EMM_STATE1, 0)
        if state0 != old0 or state1 != old1:
            r[reg.EMM_STATE0], r[reg.EMM_STATE1] = state0, state1
            r[reg.EMM_INT_STATE0] = r.get(reg.EMM_INT_STATE0, 0) | ((state0 ^ old0) & r.get(reg.EMM_INT_EN0, 0))
            r[reg.EMM_INT_STATE1] = r.get(reg.EMM_INT_STATE1, 0) | ((state1 ^ old1) & r.get(reg.EMM_INT_EN1, 0))

    def _refresh_status(self) -> None:
        """Re-evaluate the status at the present transaction (after a write, or for a status read)."""
        point = self._point_at(self._time)
        self._update_status(self._measure_all(point), point.frequency)

    def _measure_all(self, point: LoadPoint) -> tuple[_Measured, ...]:
        measure = self._measure
        return measure(Phase.A, point), measure(Phase.B, point), measure(Phase.C, point)

    def _measure(self, phase: Phase, point: LoadPoint) -> _Measured:
        """What the chip measures on ``phase`` under ``point``: the truth through the front end, scaled by the gains.

        Order of the signal path: the CT's ratio error and phase displacement (``errors``),
        the PhiA-C delay (DS p.58), the gains (AN p.21), then the ADC offsets (``errors``)
        and the chip's offset registers: Uoffset/Ioffset add ``value x 2^7`` to the 32-bit
        rms (AN p.23), Poffset/Qoffset add ``value`` to the 32-bit Pmean/Qmean (AN p.23).
        The rms readings do not go below 0.
        """
        true = point.phases.get(phase)
        if true is None or true.volts <= 0:
            return _NOTHING
        r = self.registers
        pf = max(1e-3, min(1.0, true.power_factor))
        true_amps = abs(true.watts) / (true.volts * pf)
        pga = protocol.pga_of_channel(r[reg.MMODE1], phase)
        i_gain = r[reg.IGAIN[phase]] * pga
        i_board = self.board.current_gains[phase] * self.board.current_gain_pga
        errors = self.errors
        ct = errors.ct.get(phase) if errors is not None else None
        ct_amps = true_amps
        shift = self._phase_compensation_deg(phase, point.frequency)  # a delayed current lags more
        if ct is not None:
            ct_amps *= 1.0 + ct.ratio_error(true_amps)
            shift -= ct.phase_displacement_deg(true_amps)  # a leading CT lags less
        if shift == 0.0:  # the exact values of an ideal path
            cos_lag, sin_lag = pf, math.sqrt(max(0.0, 1.0 - pf * pf))
            if true.capacitive:
                sin_lag = -sin_lag
        else:
            lag = math.degrees(math.acos(pf)) * (-1.0 if true.capacitive else 1.0) + shift
            cos_lag, sin_lag = math.cos(math.radians(lag)), math.sin(math.radians(lag))
        full_scale = 0xFFFF * reg.CURRENT_LSB_A
        volts = true.volts * r[reg.UGAIN[phase]] / self.board.voltage_gains[phase]
        clip_rms, clip_fundamental = 1.0, 1.0
        if self.board.input_volts_per_amp is not None:  # the ADC's analog range (DS p.72)
            clip_rms, clip_fundamental = clip_ratios(ct_amps * self.board.input_volts_per_amp[phase], pga)
        amps = min(ct_amps * clip_rms * i_gain / i_board, full_scale)
        line_va = volts * amps
        sign = -1.0 if true.watts < 0 else 1.0
        true_lag = math.degrees(math.acos(pf)) * (-1.0 if true.capacitive else 1.0)
        # one convention for every angle: degrees of lag behind A's voltage (B at 120 in sequence A -> B -> C);
        # a current lags its own voltage by acos(PF) more (less when capacitive), 180 more when exporting
        current_angle = (true.voltage_angle + true_lag + (180.0 if sign < 0 else 0.0)) % 360.0
        if true.input_angle is None:  # the voltage input sees the phase's own voltage
            input_angle = true.voltage_angle % 360.0
            watts, vars_ = sign * line_va * cos_lag, line_va * sin_lag
            pf = sign * pf
        else:  # another phase's voltage: the chip multiplies at the angle between them
            input_angle = true.input_angle % 360.0
            delta = math.radians(current_angle - input_angle + shift)  # the current's lag behind that voltage
            watts, vars_, pf = line_va * math.cos(delta), line_va * abs(math.sin(delta)), math.cos(delta)
        if clip_rms != 1.0:  # a cut sine: power follows its fundamental, the rms its whole
            watts, vars_ = watts * clip_fundamental / clip_rms, vars_ * clip_fundamental / clip_rms
            pf = watts / line_va if line_va > 0 else 0.0
        measured = _Measured(
            volts=volts,
            amps=amps,
            watts=watts,
            vars=vars_,
            va=line_va,
            power_factor=pf,
            harmonic_share=true.harmonic_share,
            voltage_angle=input_angle,
            current_angle=current_angle,
        )
        if errors is not None or shift != 0.0 or any(r.get(a[phase], 0) for a in _OFFSET_REGISTERS):
            measured = self._offset(phase, measured, i_gain / i_board)
        if r[reg.METER_EN] == 0:  # any non-zero value meters (DS p.41)
            return replace(measured, watts=0.0, vars=0.0, va=0.0, power_factor=0.0, harmonic_share=0.0)
        return measured

    def _offset(self, phase: Phase, m: _Measured, i_scale: float) -> _Measured:
        """``m`` with the front end's idle signal (``errors``) and the chip's offset registers (AN p.21).

        The idle signal (an unplugged CT's pickup, ADC noise) is uncorrelated with the
        load, so it adds to an rms reading in quadrature: sqrt(reading^2 + idle^2); to
        the powers it adds linearly (a mean of products).  Uoffset/Ioffset then add
        ``value x 2^7`` to the 32-bit rms, linearly (the AN p.21 procedure reads the idle
        rms and writes its negative), Poffset/Qoffset ``value`` to the 32-bit Pmean/Qmean;
        the rms readings do not go below 0 (nor the current above full scale).  So an
        Ioffset taken at idle cancels the idle reading exactly but takes nearly the whole
        idle value off a loaded reading, where the idle part had added almost nothing.
        """
        r = self.registers
        errors = self.errors
        volts, amps, watts, vars_ = m.volts, m.amps, m.watts, m.vars
        u_scale = r[reg.UGAIN[phase]] / self.board.voltage_gains[phase]
        if errors is not None:
            volts = math.hypot(volts, errors.voltage_offset.get(phase, 0.0) * u_scale)
            amps = math.hypot(amps, errors.current_offset.get(phase, 0.0) * i_scale)
            watts += errors.power_offset.get(phase, 0.0) * u_scale * i_scale
            vars_ += errors.reactive_offset.get(phase, 0.0) * u_scale * i_scale
        volts = max(0.0, volts + protocol.to_signed16(r.get(reg.UOFFSET[phase], 0)) * reg.UOFFSET_LSB_V)
        amps += protocol.to_signed16(r.get(reg.IOFFSET[phase], 0)) * reg.IOFFSET_LSB_A
        amps = min(max(0.0, amps), 0xFFFF * reg.CURRENT_LSB_A)
        watts += protocol.to_signed16(r.get(reg.POFFSET[phase], 0)) * reg.POWER_LSB
        vars_ += protocol.to_signed16(r.get(reg.QOFFSET[phase], 0)) * reg.POWER_LSB
        va = volts * amps
        pf = max(-1.0, min(1.0, watts / va)) if va > 0 else 0.0
        return replace(m, volts=volts, amps=amps, watts=watts, vars=vars_, va=va, power_factor=pf)

    def _phase_compensation_deg(self, phase: Phase, frequency: float) -> float:
        """The PhiA-C delay in degrees at ``frequency``: positive delays the current, negative the voltage (DS p.58)."""
        value = self.registers.get(reg.PHI[phase], 0)
        degrees = (value & reg.PHI_CYCLES_MASK) * 360.0 * frequency / reg.PHI_CLOCK_HZ
        return -degrees if value & reg.PHI_DELAY_V else degrees

    def _noisy(self, phase: Phase, m: _Measured) -> _Measured:
        """``m`` as the registers show it: with the front end's noise (none for an ideal board).

        The noise is drawn once per measurement refresh (:data:`MEASUREMENT_REFRESH_S`), as
        the chip's registers hold one value between refreshes: the two words of a 32-bit
        value and a re-read agree.
        """
        errors = self.errors
        if errors is None or m is _NOTHING:
            return m
        refresh = math.floor(self._time / MEASUREMENT_REFRESH_S)
        drawn = self._noise_draws.get(phase)
        if drawn is None or drawn[0] != refresh:
            gauss = self._noise.gauss
            deviations = (
                gauss(0.0, errors.voltage_noise),
                gauss(0.0, errors.current_noise),
                gauss(0.0, errors.power_noise),
                gauss(0.0, errors.power_noise),
            )
            drawn = self._noise_draws[phase] = (refresh, deviations)
        dv, da, dw, dq = drawn[1]
        volts = max(0.0, m.volts + dv)
        amps = max(0.0, m.amps + da)
        if m.va == 0.0 and m.watts == 0.0:
            return _Measured(volts, amps, 0.0, 0.0, 0.0, 0.0)
        watts = m.watts + dw
        vars_ = m.vars + dq
        va = volts * amps
        pf = max(-1.0, min(1.0, watts / va)) if va > 0 else 0.0
        return _Measured(volts, amps, watts, vars_, va, pf, m.harmonic_share)

    def _advance(self) -> None:
        """Accumulate energy from the last transaction's time to now, segment by segment.

        Segments end where the load may step and where a disturbance starts or ends; the
        status is evaluated (and its changes latched) at the start of each segment.
        """
        now = self.clock()
        t = self._time
        if now <= t:
            self._time = now  # a clock that jumps back accumulates nothing
            return
        while True:
            point = self._point_at(t)
            measured = self._measure_all(point)
            self._update_status(measured, point.frequency)
            boundary = self._next_boundary(t)
            if boundary >= now:
                self._accumulate(measured, now - t)
                break
            self._accumulate(measured, boundary - t)
            t = boundary
        self._time = now

    def _accumulate(self, measured: Sequence[_Measured], seconds: float) -> None:
        """Meter ``seconds`` of the ``measured`` phases into their registers and the all-phase total.

        DS Figure-6 (p.14): a phase's active power counts only when its |P| + |Q|
        exceeds PPhaseTh, else it is forced to 0 both for its own register and for the
        sum; the total is the arithmetic sum of those powers over the phases whose EnPx
        bit is set in MMode0 (ABSEnP = 0, DS p.56), metered when |sum| exceeds PStartTh
        (the reactive power plays no part there); it keeps its own residual.
        """
        phase_threshold = self.registers.get(reg.P_PHASE_TH, 0) * reg.POWER_LSB
        summed = self.registers[reg.MMODE0]
        total_watts = 0.0
        for phase, m in zip(Phase, measured, strict=True):
            if m.watts == 0.0 or abs(m.watts) + abs(m.vars) <= phase_threshold:
                continue  # no load on this phase: 0 for its register and for the sum
            _meter(self.energy[phase], m.watts, seconds)
            if summed & reg.MMODE0_ENP[phase]:
                total_watts += m.watts
        start_threshold = self.registers.get(reg.P_START_TH, 0) * reg.POWER_LSB
        if total_watts != 0.0 and abs(total_watts) > start_threshold:
            _meter(self.total_energy, total_watts, seconds)

    def _read_energy(self, address: int) -> int:
        if address == reg.AP_ENERGY_T:
            value, self.total_energy.forward_register = self.total_energy.forward_register, 0
            return value
        if address == reg.AN_ENERGY_T:
            value, self.total_energy.reverse_register = self.total_energy.reverse_register, 0
            return value
        for phase in Phase:
            e = self.energy[phase]
            if address == reg.AP_ENERGY[phase]:
                value, e.forward_register = e.forward_register, 0
                return value
            if address == reg.AN_ENERGY[phase]:
                value, e.reverse_register = e.reverse_register, 0
                return value
        return 0  # other energy registers (reactive, apparent, fundamental, harmonic) are not modelled

    # --- helpers for tests and the simulated meter --------------------------------------

    def pending_counts(self, phase: Phase) -> tuple[int, int]:
        """Return ``(forward, reverse)`` counts sitting in ``phase``'s registers, not yet read."""
        self._advance()
        e = self.energy[phase]
        return e.forward_register, e.reverse_register

    def pending_total_counts(self) -> tuple[int, int]:
        """Return ``(forward, reverse)`` counts sitting in APenergyT / ANenergyT, not yet read."""
        self._advance()
        return self.total_energy.forward_register, self.total_energy.reverse_register


MEASUREMENT_REFRESH_S = 1 / 3
"""The chip refreshes its measurement registers about 3 times a second (atm90e32as-facts)."""

_COUNT_NOISE = 1e-6
"""Float noise of a residual, in counts (3e-9 Wh): a residual this close to a whole count emits it."""

_NOTHING = _Measured(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
"""What a phase without voltage (or absent from the load) measures."""


def _meter(e: PhaseEnergy, watts: float, seconds: float) -> None:
    """Add ``watts`` for ``seconds`` to ``e``: whole counts into its registers, wrapping at 16 bits (DS p.67)."""
    wh = watts * seconds / 3600.0
    if wh > 0:
        e.forward_wh += wh
    else:
        e.reverse_wh -= wh
    e.residual += wh / reg.ENERGY_LSB_WH
    whole = round(e.residual)  # a residual within float noise of a whole count is that count
    if abs(e.residual - whole) > _COUNT_NOISE:
        whole = math.trunc(e.residual)
    if whole > 0:
        e.forward_counts += whole
        e.forward_register += whole
    elif whole < 0:
        e.reverse_counts -= whole
        e.reverse_register -= whole
    e.residual -= whole
    if e.forward_register > reg.ENERGY_REGISTER_MAX:
        lost = e.forward_register - (e.forward_register & 0xFFFF)
        e.wrapped_counts += lost
        e.forward_lost += lost
        e.forward_register &= 0xFFFF
    if e.reverse_register > reg.ENERGY_REGISTER_MAX:
        lost = e.reverse_register - (e.reverse_register & 0xFFFF)
        e.wrapped_counts += lost
        e.reverse_lost += lost
        e.reverse_register &= 0xFFFF


def _sequence_bits(measured: Sequence[_Measured]) -> int:
    """EMMState0 URevWnST / IRevWnST for the measured phases A, B, C (DS p.20, p.60).

    The voltage bit is set when all three voltages are present and stand in the order
    A -> C -> B (:func:`phase_sequence` REVERSED); the current bit likewise from the
    current angles when all three currents flow.  One voltage on every input (angles all
    0) is no sequence at all and sets neither (the real chip's bits mean nothing then).
    """
    a, b, c = measured
    bits = 0
    if a.volts > 0 and b.volts > 0 and c.volts > 0:
        sequence = phase_sequence(b.voltage_angle - a.voltage_angle, c.voltage_angle - a.voltage_angle)
        if sequence is PhaseSequence.REVERSED:
            bits |= reg.U_REV_WN_BIT
    if a.amps > 0 and b.amps > 0 and c.amps > 0:
        sequence = phase_sequence(b.current_angle - a.current_angle, c.current_angle - a.current_angle)
        if sequence is PhaseSequence.REVERSED:
            bits |= reg.I_REV_WN_BIT
    return bits


def _three_wire_sequence_bits(measured: Sequence[_Measured]) -> int:
    """EMMState0 URevWnST / IRevWnST in 3P3W, read from the DS alone (DS p.20, p.60).

    "Correct sequence: voltage/current zero-crossing between phase-A and phase-C is
    greater than 180 degree" (DS p.20): the voltage bit is set when A and C both carry a
    voltage and C's lags A's by 180 degrees or less; the current bit likewise for the
    currents.  On a delta service in sequence, Ucb lags Uab by 300 degrees and I3 lags I1
    by 240.  Phase B plays no part ("Ub is not used", DS p.56).  A split-phase board (C at
    0 or 180 degrees from A) sets them: the DS rule says so, the driver ignores them
    there, and only a real chip can tell what it shows at exactly 180 degrees.
    """
    a, _, c = measured
    bits = 0
    if a.volts > 0 and c.volts > 0 and (c.voltage_angle - a.voltage_angle) % 360.0 <= 180.0:
        bits |= reg.U_REV_WN_BIT
    if a.amps > 0 and c.amps > 0 and (c.current_angle - a.current_angle) % 360.0 <= 180.0:
        bits |= reg.I_REV_WN_BIT
    return bits


_SAG_PEAK_DET_CFG_DEFAULT = 0x143F
"""SagPeakDetCfg at power-on: peak period 20 ms (bits 15:8), sag period 63 ms (bits 7:0) (DS p.44)."""


def _clamp16(value: int) -> int:
    return max(0, min(0xFFFF, value))


def _clamp_pf(power_factor: float) -> float:
    """The power factor the emulator computes with: 0.001..1."""
    return max(1e-3, min(1.0, power_factor))


def _frequency_counts(hz: float) -> int:
    """The Freq register for ``hz``: 0.01 Hz per count (DS p.71)."""
    return _clamp16(round(hz / reg.FREQUENCY_LSB_HZ))


_VOLTS_PER_COUNT_PER_UGAIN = 2 / 32768 / (100 * math.sqrt(2))
"""SagTh / OVth / PhaseLossTh: V rms of reading per threshold count and unit of Ugain (AN p.29, inverted)."""
_AMPS_PER_COUNT_PER_IGAIN = 2 / 32768 / (1000 * math.sqrt(2))
"""OIth: A rms of reading per threshold count and unit of Igain (the AN p.29 formula with 1000)."""
