"""One meter's run: booking its energy reads, judging the gaps between them, counting what went wrong.

Pure: no I/O, no clock of its own and no Home Assistant.  The caller passes the times
(Unix seconds for the demand meter and a gap across a restart, ``time.monotonic()``
seconds for how long the chip has failed) and turns what a call returns into logs,
repair issues and saves.

The chip's energy registers clear when read (DS p.67), so every count a read returns
exists only in the ledger once booked: :meth:`MeterSession.book` books every read,
including those of a refresh that failed later on.  A register can wrap when two reads
are further apart than it takes to fill at the power seen (driver.ledger.check_gap); a
chip reset (SoftReset DS p.59, or a brown-out: MeterEn back to 0, DS p.41) clears the
registers, so nothing wraps across one but the counts since the previous read are lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .demand import DemandMeter
from .ledger import TOTAL, EnergyLedger, LastRead, WrapRisk, check_gap, fill_power
from .meter import Outcome, RefreshResult
from .models import EnergyRead, MeterSnapshot
from .registers import Phase


@dataclass
class HealthCounters:
    """What went wrong since setup, for diagnostics and the closing figures of a soak."""

    refreshes: int = 0
    failed_refreshes: int = 0
    chip_resets: int = 0
    configuration_repairs: int = 0
    possible_overflows: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class Booking:
    """Reads were booked: the largest |W| (chip scale, driver.ledger.fill_power) noted with them."""

    fill_power_w: float


@dataclass(frozen=True, slots=True)
class RefreshReport:
    """What booking one successful refresh found.

    booking: the reads booked (None when the refresh carried no energy read).
    risks: the gaps in which an energy register may have wrapped, oldest first (the
        restart's gap first); each is counted in ``health.possible_overflows``.
    reset: the chip had been reset and was configured again (its counts since the
        previous read were cleared with it).
    counts_lost: some counts of the span are missing (reset, fresh configuration at the
        start of a run, or a possible wrap); the demand intervals it touches are incomplete.
    """

    booking: Booking | None
    risks: tuple[WrapRisk, ...] = ()
    reset: bool = False
    counts_lost: bool = False


def service_import_power(
    snapshot: MeterSnapshot, ledger: EnergyLedger, scale: int, inverted: frozenset[Phase]
) -> float:
    """The service's import power, W: the channels that net into its totals, as shown, added; 0 when exporting."""
    shown = snapshot.scaled(scale, inverted)
    netted = {channel.phase for channel in ledger.wiring.channels if channel.nets_into_total}
    return max(0.0, sum(r.active_power for phase, r in shown.phases.items() if phase in netted))


@dataclass
class MeterSession:
    """Books one meter's reads into ``ledger`` and ``demand`` under the entry's scaling, and judges the gaps.

    scale: current scaling 1, 2 or 4; inverted: phases whose CT faces the wrong way;
    factors: channel key -> 2 for a doubled circuit (driver.ledger.EnergyLedger.add).
    previous_run: the previous run's last energy read on the Unix clock (from the store),
    set before the first refresh; adopted: the chip was found metering at setup (it
    kept counting while nobody read it).
    """

    ledger: EnergyLedger
    demand: DemandMeter
    scale: int = 1
    inverted: frozenset[Phase] = frozenset()
    factors: Mapping[str, int] = field(default_factory=dict)
    previous_run: LastRead | None = None
    adopted: bool = False
    health: HealthCounters = field(default_factory=HealthCounters)
    last_read: LastRead | None = None
    """This run's last energy read on the monotonic clock (driver.meter.RefreshResult.read_at)."""
    _fill_power_w: float | None = None
    _failing_since: float | None = None

    def begin_refresh(self, check_every: int) -> bool:
        """Count a refresh; returns whether this one reads back every configuration register (every ``check_every``)."""
        self.health.refreshes += 1
        return self.health.refreshes % check_every == 0

    def book(
        self, reads: tuple[EnergyRead, ...], at: float, snapshot: MeterSnapshot | None, *, counts_lost: bool = False
    ) -> Booking | None:
        """Add ``reads`` to the ledger; the service's imported counts to the demand meter at ``at`` (Unix s).

        The demand meter takes the import power of ``snapshot`` (None: a refresh that
        failed, the last power is kept); ``counts_lost`` marks its intervals incomplete.
        The largest power noted is ``snapshot``'s, else the last one known (the previous
        run's at first).  Returns None when there was nothing to book.
        Raises ValueError for a negative count (driver.ledger).
        """
        if not reads:
            return None
        has_total = self.ledger.wiring.has_service_total
        imported = self.ledger.counts((TOTAL, "import")) if has_total else 0
        for read in reads:
            self.ledger.add(read, scale=self.scale, inverted=self.inverted, factors=self.factors)
        if has_total:  # circuits have no service, so no demand
            power = None if snapshot is None else service_import_power(snapshot, self.ledger, self.scale, self.inverted)
            counts = self.ledger.counts((TOTAL, "import")) - imported
            self.demand.book(at, counts, power_w=power, counts_lost=counts_lost)
        if snapshot is not None:
            self._fill_power_w = fill_power(snapshot, self.ledger.wiring)
        elif self._fill_power_w is None:
            self._fill_power_w = 0.0 if self.previous_run is None else self.previous_run.power_w
        return Booking(self._fill_power_w)

    def refreshed(self, result: RefreshResult, at: float) -> RefreshReport:
        """Book a successful refresh read at ``at`` (Unix s) and judge its gaps; the chip answers again.

        The gap since this run's last read is judged on the monotonic clock; the first
        refresh of a run also judges the gap across the restart (from ``previous_run``,
        Unix clock), in which only a chip found metering (``adopted``) kept counting.
        """
        kept_counting = result.outcome is not Outcome.RESET_RECOVERED
        current = LastRead(result.read_at, fill_power(result.snapshot, self.ledger.wiring))
        gaps = [check_gap(self.last_read, current, kept_counting=kept_counting)]
        first_of_run = self.last_read is None and self.previous_run is not None
        if first_of_run:
            restart = LastRead(at, current.power_w)
            gaps.insert(0, check_gap(self.previous_run, restart, kept_counting=kept_counting and self.adopted))
        risks = tuple(risk for risk in gaps if risk is not None)
        # Counts of this read's span are missing after a reset, a fresh configuration or a possible wrap.
        lost = not kept_counting or (first_of_run and not self.adopted) or bool(risks)
        booking = self.book(result.energy, at, result.snapshot, counts_lost=lost)
        self._failing_since = None
        if result.outcome is Outcome.RESET_RECOVERED:
            self.health.chip_resets += 1
        elif result.outcome is Outcome.CONFIGURATION_REAPPLIED:
            self.health.configuration_repairs += 1
        self.health.possible_overflows += len(risks)
        self.last_read = current
        return RefreshReport(booking, risks, reset=not kept_counting, counts_lost=lost)

    def failed(self, reads: tuple[EnergyRead, ...], at: float, now: float) -> tuple[Booking | None, float]:
        """Book the ``reads`` a failed refresh made (real counts, cleared in the chip) at ``at``, Unix s.

        Returns the booking and how long, s, the chip has been failing at ``now`` (monotonic s;
        0 at the first failure after an answer).
        """
        booking = self.book(reads, at, None)
        self.health.failed_refreshes += 1
        if self._failing_since is None:
            self._failing_since = now
        return booking, now - self._failing_since
