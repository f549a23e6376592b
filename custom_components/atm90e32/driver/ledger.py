"""The energy ledger: lifetime imported and exported active energy, exact to the count.

The chip's energy registers count 0.003125 Wh steps and clear on read (DS p.12, p.67).
The ledger adds every count read to lifetime integer totals, so nothing is rounded,
lost or counted twice by arithmetic; Wh and kWh are derived only when displayed.

Keys are ``(channel key, direction)`` for each channel of the wiring (``"l1"``, ``"l2"``
on the split-phase board) and, when the wiring has a service total (not circuits, see
``Wiring.has_service_total``), ``(TOTAL, direction)`` for the service, with direction
``"import"`` or ``"export"``.  The service totals are what a utility's meter registers:
where the chip's own sum is right for the settings (see ``Wiring.totals_from_chip``)
they are booked from its all-phase registers APenergyT/ANenergyT, which net the legs
continuously; otherwise the legs are netted at each read (a positive net of imports
minus exports is imported energy, a negative one exported).

Beside the ledger sit the checks that a read came late enough for a register to wrap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from .channels import SPLIT_PHASE, Wiring
from .models import EnergyCounts, EnergyRead
from .registers import CURRENT_LSB_A, ENERGY_LSB_WH, ENERGY_REGISTER_MAX, Phase

Direction = Literal["import", "export"]
DIRECTIONS: Final[tuple[Direction, ...]] = ("import", "export")
TOTAL: Final = "total"
"""The ledger key of the service totals (a channel key is never ``total``)."""
type LedgerKey = tuple[str, Direction]
FULL_SCALE_CURRENT_A: Final = 0xFFFF * CURRENT_LSB_A
"""65.535 A: Irms full scale (DS p.70), the most current the chip is meant to see.

Current scaling (2x, 4x) divides the service's current so that it stays within this:
a 2x service may carry 131 A, of which the chip sees at most 65.535 A.  So at the top
of the range the configured scaling is chosen for, the chip sees the same full scale
and its registers fill just as fast.
"""
VOLTAGE_HEADROOM: Final = 1.2
"""Full-scale power allows the voltage 20 % above nominal."""
FULL_SCALE_POWER_W: Final = FULL_SCALE_CURRENT_A * 230.0 * VOLTAGE_HEADROOM
"""Most power one phase can meter: 65.535 A at 276 V (230 V + 20 %), the highest any supply reaches."""
COUNTER_CAPACITY_WH: Final = ENERGY_REGISTER_MAX * ENERGY_LSB_WH
"""204.797 Wh: one 16-bit energy register full (DS p.67)."""
FULL_SCALE_FILL_S: Final = COUNTER_CAPACITY_WH / FULL_SCALE_POWER_W * 3600
"""About 40.8 s: the shortest time in which any energy register can fill."""
READ_INTERVAL_MARGIN: Final = 2.0
"""Energy is read at least twice per register fill time, so a read that comes late still loses nothing."""


def register_fill_s(nominal_voltage: float) -> float:
    """Shortest time, s, in which one energy register fills on a channel of ``nominal_voltage`` V rms.

    At full scale: 65.535 A at the nominal voltage + 20 %.  230 V gives FULL_SCALE_FILL_S
    (40.8 s), a 120 V North American leg 78.1 s.  Current scaling does not change it
    (see FULL_SCALE_CURRENT_A).  Raises ValueError for a voltage that is not positive.
    """
    if not nominal_voltage > 0:
        raise ValueError("the nominal voltage must be above 0 V")
    return COUNTER_CAPACITY_WH / (FULL_SCALE_CURRENT_A * nominal_voltage * VOLTAGE_HEADROOM) * 3600


def max_read_interval_s(nominal_voltage: float) -> float:
    """Longest interval between energy reads, s, on a channel of ``nominal_voltage`` V: half the fill time.

    39.0 s at 120 V, 20.4 s at 230 V, 19.5 s at 240 V.
    """
    return register_fill_s(nominal_voltage) / READ_INTERVAL_MARGIN


class EnergyLedger:
    """Lifetime counts per :data:`LedgerKey` of one wiring; each count is 0.003125 Wh (DS p.12).

    A lifetime value is ``restored base + counts added since start``.  The base comes
    from what an earlier run persisted (the integration's own store, written after every
    read, and Home Assistant's restored sensor state); it may arrive before or after the
    first reads of this run, and neither part is ever decreased.
    """

    def __init__(self, wiring: Wiring = SPLIT_PHASE) -> None:
        """Start every key of ``wiring`` (its channels and any service total) at zero with no base restored."""
        self.wiring = wiring
        names = [c.key for c in wiring.channels]
        if wiring.has_service_total:
            names.append(TOTAL)
        self.keys: tuple[LedgerKey, ...] = tuple((name, direction) for name in names for direction in DIRECTIONS)
        self._added: dict[LedgerKey, int] = dict.fromkeys(self.keys, 0)
        self._base: dict[LedgerKey, int] = dict.fromkeys(self.keys, 0)

    def add(
        self,
        read: EnergyRead,
        *,
        scale: int = 1,
        inverted: frozenset[Phase] = frozenset(),
        factors: Mapping[str, int] | None = None,
    ) -> None:
        """Add one read of the energy registers.

        ``scale`` multiplies counts (current scaling 1x/2x/4x: Igain divided in the chip);
        a phase in ``inverted`` has a reversed CT, so its forward counts are exports.
        ``factors`` maps a channel key to a further multiplier, 1 or 2 (the channel's
        ``voltage_factor_option``: a 240 V load measured against a 120 V reference);
        channels not named keep 1.  The totals (wirings with a service total only) come
        from ``read.total`` when the chip's sum is right for these settings (no inverted
        channel, no factor other than 1; a read that failed before the all-phase
        registers adds nothing to them: the chip keeps those counts for the next read),
        else from this read's legs netted.
        Raises ValueError for a scale other than 1, 2 or 4, a factor other than 1 or 2, or
        a negative count.
        """
        if scale not in (1, 2, 4):
            raise ValueError("scale must be 1, 2 or 4")
        factors = factors or {}
        if any(factor not in (1, 2) for factor in factors.values()):
            raise ValueError("a channel factor must be 1 or 2")
        net = 0
        for channel in self.wiring.channels:
            counts = read.phases.get(channel.phase)
            if counts is None:
                continue
            imported, exported = _scaled(counts, scale * factors.get(channel.key, 1))
            if channel.phase in inverted:
                imported, exported = exported, imported
            self._added[(channel.key, "import")] += imported
            self._added[(channel.key, "export")] += exported
            if channel.nets_into_total:
                net += imported - exported
        if not self.wiring.has_service_total:
            return
        if self.wiring.totals_from_chip(inverted) and all(factors.get(c.key, 1) == 1 for c in self.wiring.channels):
            if read.total is not None:
                imported, exported = _scaled(read.total, scale)
                self._added[(TOTAL, "import")] += imported
                self._added[(TOTAL, "export")] += exported
        elif net > 0:
            self._added[(TOTAL, "import")] += net
        elif net < 0:
            self._added[(TOTAL, "export")] -= net

    def restore(self, key: LedgerKey, counts: int) -> None:
        """Raise the lifetime base of ``key`` to ``counts``, a lifetime total an earlier run persisted.

        Every persisted value is the same ever-growing total taken at some moment before
        this run, so the largest one is the newest: the base becomes the largest value
        restored, from whichever source and in whatever order.  A stale copy (Home
        Assistant's restore state is written only every 15 minutes and at a clean stop)
        therefore never takes counts away, and no count is added twice.
        Raises KeyError for a key the wiring does not have, ValueError for a negative count.
        """
        if counts < 0:
            raise ValueError("a lifetime energy total cannot be negative")
        self._base[key] = max(self._base[key], counts)

    def as_dict(self) -> dict[str, int]:
        """Return every lifetime count as ``{"l1_import": counts, ...}`` (for storage and diagnostics)."""
        return {f"{name}_{direction}": self.counts((name, direction)) for name, direction in self.keys}

    def restore_dict(self, stored: Mapping[str, object]) -> None:
        """Restore from a mapping made by :meth:`as_dict`.

        Unknown keys, and values that are not non-negative integers (a damaged file), are
        ignored: the other source of restored totals still applies.  Raises nothing.
        """
        for name, direction in self.keys:
            value = stored.get(f"{name}_{direction}")
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                self.restore((name, direction), value)

    def counts(self, key: LedgerKey) -> int:
        """Return the lifetime count of ``key``; KeyError for a key the wiring does not have."""
        return self._base[key] + self._added[key]

    def kwh(self, key: LedgerKey) -> float:
        """Return the lifetime energy of ``key`` in kWh."""
        return counts_to_kwh(self.counts(key))


def _scaled(counts: EnergyCounts, scale: int) -> tuple[int, int]:
    if counts.forward < 0 or counts.reverse < 0:
        raise ValueError("energy counts cannot be negative")
    return counts.forward * scale, counts.reverse * scale


KWH_DECIMALS: Final = 9
"""One count is 0.000003125 kWh: every lifetime total is an exact decimal with at most 9 places."""


def counts_to_kwh(counts: int) -> float:
    """Convert energy counts to kWh (0.003125 Wh each, DS p.12), exactly: no float noise in the last digits."""
    return round(counts * ENERGY_LSB_WH / 1000.0, KWH_DECIMALS)


def kwh_to_counts(kwh: float) -> int:
    """Convert kWh back to the nearest whole count; exact for values made by counts_to_kwh."""
    return round(kwh * 1000.0 / ENERGY_LSB_WH)


def may_have_wrapped(elapsed_s: float, power_w: float) -> bool:
    """Whether a 16-bit energy register may have wrapped in ``elapsed_s`` seconds between two reads.

    No register can fill in less than FULL_SCALE_FILL_S (about 40.8 s), so shorter gaps
    are always safe.  For longer gaps ``power_w`` is the largest |active power| (W, in the
    chip's own scale) seen at either end of the gap; as power may have peaked between
    the reads, the gap is suspect once ``2 x power_w x elapsed`` reaches one register's
    capacity (204.797 Wh): a margin of two over the energy the endpoints suggest.
    A negative ``elapsed_s`` (a clock that jumped back) is never suspect.
    """
    if elapsed_s < FULL_SCALE_FILL_S:
        return False
    return 2.0 * abs(power_w) * elapsed_s / 3600.0 >= COUNTER_CAPACITY_WH


@dataclass(frozen=True, slots=True)
class LastRead:
    """When the energy registers were read, in seconds on some clock, and the largest |W| seen then.

    ``power_w`` is the largest |active power| of any phase, in the chip's own scale.
    Both ends of a gap must use the same clock (monotonic within a run, Unix time across
    restarts).
    """

    at: float
    power_w: float


@dataclass(frozen=True, slots=True)
class WrapRisk:
    """A gap between two reads long enough for a register to have wrapped: seconds and the W used to judge it."""

    elapsed_s: float
    power_w: float


def check_gap(previous: LastRead | None, current: LastRead, *, kept_counting: bool = True) -> WrapRisk | None:
    """Judge the gap from ``previous`` to ``current`` with :func:`may_have_wrapped`; None when safe.

    The power judged is the larger of the two ends.  ``kept_counting`` is False when
    the chip was reset (or configured afresh) in between: its registers were cleared,
    so nothing could wrap.  No previous read is no gap.
    """
    if previous is None or not kept_counting:
        return None
    elapsed = current.at - previous.at
    power = max(previous.power_w, current.power_w)
    return WrapRisk(elapsed, power) if may_have_wrapped(elapsed, power) else None
