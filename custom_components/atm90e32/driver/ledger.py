"""The energy ledger: lifetime imported and exported active energy, exact to the count.

The chip's energy registers count 0.003125 Wh steps and clear on read (DS p.12, p.59).
The ledger adds every count read to lifetime integer totals, so nothing is rounded,
lost or counted twice by arithmetic; Wh and kWh are derived only when displayed.

Keys are ``(leg, direction)`` with leg ``"l1"``, ``"l2"`` or ``"total"`` and direction
``"import"`` or ``"export"``.  The total nets the two legs the way a utility's split-phase
meter does: at each read, ``net = sum over legs of (import - export)``; a positive net
is imported energy, a negative net exported.  So total import - total export always
equals the sum over legs of (import - export), exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from .models import EnergyCounts
from .registers import CURRENT_LSB_A, ENERGY_LSB_WH, ENERGY_REGISTER_MAX, Phase

Leg = Literal["l1", "l2", "total"]
Direction = Literal["import", "export"]
LEGS: Final[dict[Leg, Phase]] = {"l1": Phase.A, "l2": Phase.C}
"""Split-phase legs and the chip phase that measures each: L1 = A (CT1), L2 = C (CT2)."""
FULL_SCALE_POWER_W: Final = 0xFFFF * CURRENT_LSB_A * 276.0
"""Most power one phase can meter: 65.535 A (Irms full scale, DS p.66) at 276 V (230 V + 20 %)."""
COUNTER_CAPACITY_WH: Final = ENERGY_REGISTER_MAX * ENERGY_LSB_WH
"""204.797 Wh: one 16-bit energy register full (DS p.59)."""
FULL_SCALE_FILL_S: Final = COUNTER_CAPACITY_WH / FULL_SCALE_POWER_W * 3600
"""About 40.8 s: the shortest time in which any energy register can fill."""
KEYS: Final[tuple[tuple[Leg, Direction], ...]] = tuple(
    (leg, direction) for leg in ("l1", "l2", "total") for direction in ("import", "export")
)


class EnergyLedger:
    """Lifetime counts per ``(leg, direction)``; each count is 0.003125 Wh (DS p.12).

    A lifetime value is ``restored base + counts added since start``.  The base comes
    from what an earlier run persisted (the integration's own store, written after every
    read, and Home Assistant's restored sensor state); it may arrive before or after the
    first reads of this run, and neither part is ever decreased.
    """

    def __init__(self) -> None:
        """Start every key at zero with no base restored."""
        self._added: dict[tuple[Leg, Direction], int] = dict.fromkeys(KEYS, 0)
        self._base: dict[tuple[Leg, Direction], int] = dict.fromkeys(KEYS, 0)

    def add(
        self,
        energy: Mapping[Phase, EnergyCounts],
        *,
        scale: int = 1,
        inverted: frozenset[Phase] = frozenset(),
    ) -> None:
        """Add one read of the energy registers.

        ``scale`` multiplies counts (current scaling 1x/2x/4x: Igain divided in the chip);
        a phase in ``inverted`` has a reversed CT, so its forward counts are exports.
        Raises ValueError for a scale other than 1, 2 or 4 or a negative count.
        """
        if scale not in (1, 2, 4):
            raise ValueError("scale must be 1, 2 or 4")
        net = 0
        for leg, phase in LEGS.items():
            counts = energy.get(phase)
            if counts is None:
                continue
            if counts.forward < 0 or counts.reverse < 0:
                raise ValueError("energy counts cannot be negative")
            imported, exported = counts.forward * scale, counts.reverse * scale
            if phase in inverted:
                imported, exported = exported, imported
            self._added[(leg, "import")] += imported
            self._added[(leg, "export")] += exported
            net += imported - exported
        if net > 0:
            self._added[("total", "import")] += net
        elif net < 0:
            self._added[("total", "export")] -= net

    def restore(self, key: tuple[Leg, Direction], counts: int) -> None:
        """Raise the lifetime base of ``key`` to ``counts``, a lifetime total an earlier run persisted.

        Every persisted value is the same ever-growing total taken at some moment before
        this run, so the largest one is the newest: the base becomes the largest value
        restored, from whichever source and in whatever order.  A stale copy (Home
        Assistant's restore state is written only every 15 minutes and at a clean stop)
        therefore never takes counts away, and no count is added twice.
        Raises ValueError for a negative count.
        """
        if counts < 0:
            raise ValueError("a lifetime energy total cannot be negative")
        self._base[key] = max(self._base[key], counts)

    def as_dict(self) -> dict[str, int]:
        """Return every lifetime count as ``{"l1_import": counts, ...}`` (for storage and diagnostics)."""
        return {f"{leg}_{direction}": self.counts((leg, direction)) for leg, direction in KEYS}

    def restore_dict(self, stored: Mapping[str, object]) -> None:
        """Restore from a mapping made by :meth:`as_dict`.

        Unknown keys, and values that are not non-negative integers (a damaged file), are
        ignored: the other source of restored totals still applies.  Raises nothing.
        """
        for leg, direction in KEYS:
            value = stored.get(f"{leg}_{direction}")
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                self.restore((leg, direction), value)

    def counts(self, key: tuple[Leg, Direction]) -> int:
        """Return the lifetime count of ``key``."""
        return self._base[key] + self._added[key]

    def kwh(self, key: tuple[Leg, Direction]) -> float:
        """Return the lifetime energy of ``key`` in kWh."""
        return counts_to_kwh(self.counts(key))


def counts_to_kwh(counts: int) -> float:
    """Convert energy counts to kWh (0.003125 Wh each, DS p.12)."""
    return counts * ENERGY_LSB_WH / 1000.0


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
