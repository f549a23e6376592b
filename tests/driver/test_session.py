"""The meter session: booking reads into the ledger and demand meter, judging gaps, counting health.

Reads come from the emulator (a second reading of the DS: 16-bit read-to-clear energy
registers that wrap past 0xFFFF, DS p.67), so the gap judgement is checked against what
the emulated chip really lost.  ``read_at`` (the Meter's monotonic clock) is set by the
test: the session only compares it with the previous read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

import pytest

from custom_components.atm90e32.driver import ChipConfig, EnergyLedger, Phase, protocol
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.channels import SPLIT_PHASE
from custom_components.atm90e32.driver.demand import DemandMeter
from custom_components.atm90e32.driver.emulator import ConstantLoad, EmulatedAtm90e32
from custom_components.atm90e32.driver.ledger import TOTAL, LastRead
from custom_components.atm90e32.driver.meter import Meter, Outcome, RefreshResult
from custom_components.atm90e32.driver.session import MeterSession, service_import_power

CONFIG = ChipConfig(voltage_gains=(3920, 3920, 3920), current_gains=(25498, 25498, 25498))
T0 = 1_800_000_000.0
"""A Unix time at an interval boundary (demand intervals are aligned to it in UTC)."""


class Clock:
    """Seconds that move only when told (the emulator's clock)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Rig:
    """An emulated split-phase chip behind a Meter, and a session booking its reads."""

    def __init__(
        self,
        watts: tuple[float, float] = (1000.0, 500.0),
        *,
        previous_run: LastRead | None = None,
        adopted: bool = False,
        scale: int = 1,
        inverted: frozenset[Phase] = frozenset(),
    ) -> None:
        self.clock = Clock()
        self.chip = EmulatedAtm90e32(ConstantLoad(watts=watts, volts=120.0, power_factor=1.0), clock=self.clock)
        self.meter = Meter(lambda: self.chip, CONFIG, sleep=lambda _s: None)
        self.ledger = EnergyLedger(SPLIT_PHASE)
        self.demand = DemandMeter(interval_min=15, cycle_start_day=1, tz=UTC, max_split_s=30.0)
        self.session = MeterSession(
            self.ledger, self.demand, scale=scale, inverted=inverted, previous_run=previous_run, adopted=adopted
        )

    def refresh(self, seconds: float) -> RefreshResult:
        """Let ``seconds`` pass on the chip, then refresh; ``read_at`` is the chip's clock."""
        self.clock.now += seconds
        return replace(self.meter.refresh(), read_at=self.clock.now)


def test_a_refresh_books_every_count_the_chip_made_and_the_service_import_into_demand() -> None:
    rig = Rig()
    rig.meter.open()
    for step in range(1, 13):
        report = rig.session.refreshed(rig.refresh(5.0), T0 + 5.0 * step)
        assert report.risks == ()
        assert not report.counts_lost
        assert report.booking is not None
        assert report.booking.fill_power_w == pytest.approx(1500.0, abs=1.0)  # the total sums both legs
    truth = rig.chip.energy
    assert rig.ledger.counts(("l1", "import")) == truth[Phase.A].forward_counts
    assert rig.ledger.counts(("l2", "import")) == truth[Phase.C].forward_counts
    assert rig.ledger.counts((TOTAL, "import")) == rig.chip.total_energy.forward_counts
    assert rig.demand.running is not None
    assert rig.demand.running.counts == rig.ledger.counts((TOTAL, "import"))
    assert rig.demand.power_w == pytest.approx(1500.0, abs=1.0)
    assert rig.session.health.refreshes == 0  # counted by begin_refresh, not by booking
    assert rig.session.health.possible_overflows == 0


def test_a_gap_in_which_the_total_register_wrapped_is_found_and_its_span_marked_lost() -> None:
    rig = Rig(watts=(6000.0, 6000.0))  # APenergyT at 12 kW fills in 61 s
    rig.meter.open()
    rig.session.refreshed(rig.refresh(5.0), T0 + 5.0)
    report = rig.session.refreshed(rig.refresh(90.0), T0 + 95.0)
    assert rig.chip.total_energy.wrapped_counts > 0  # the emulated chip did lose counts
    assert len(report.risks) == 1
    assert report.risks[0].elapsed_s == pytest.approx(90.0)
    assert report.risks[0].power_w == pytest.approx(12000.0, rel=0.01)
    assert report.counts_lost
    assert rig.session.health.possible_overflows == 1
    legs = rig.ledger.counts(("l1", "import")) + rig.ledger.counts(("l2", "import"))
    assert legs - rig.ledger.counts((TOTAL, "import")) >= 0x10000 - 2  # one wrap of the total lost


def test_a_reset_chip_lost_its_counts_but_no_register_wrapped() -> None:
    rig = Rig(watts=(6000.0, 6000.0))
    rig.meter.open()
    rig.session.refreshed(rig.refresh(5.0), T0 + 5.0)
    rig.chip.transfer(protocol.encode_write(reg.SOFT_RESET, reg.SOFT_RESET_CODE))  # a brown-out
    result = rig.refresh(90.0)
    assert result.outcome is Outcome.RESET_RECOVERED
    report = rig.session.refreshed(result, T0 + 95.0)
    assert report.reset
    assert report.counts_lost
    assert report.risks == ()  # a cleared register cannot wrap
    assert rig.session.health.chip_resets == 1
    assert rig.session.health.possible_overflows == 0


@pytest.mark.parametrize(("adopted", "risks", "lost"), [(True, 1, True), (False, 0, True)])
def test_the_gap_across_a_restart_counts_only_for_a_chip_that_kept_counting(
    adopted: bool, risks: int, lost: bool
) -> None:
    rig = Rig(watts=(6000.0, 6000.0), previous_run=LastRead(T0 - 600.0, 12000.0), adopted=adopted)
    rig.meter.open()
    report = rig.session.refreshed(rig.refresh(5.0), T0)
    assert len(report.risks) == risks
    if risks:
        assert report.risks[0].elapsed_s == pytest.approx(600.0)  # on the Unix clock, from the store's read
    assert report.counts_lost is lost
    second = rig.session.refreshed(rig.refresh(5.0), T0 + 5.0)
    assert second.risks == ()
    assert not second.counts_lost  # only the first refresh of a run looks across the restart


def test_a_short_first_gap_after_a_restart_with_the_chip_adopted_loses_nothing() -> None:
    rig = Rig(previous_run=LastRead(T0 - 5.0, 1500.0), adopted=True)
    rig.meter.open()
    report = rig.session.refreshed(rig.refresh(5.0), T0)
    assert report.risks == ()
    assert not report.counts_lost


def test_a_failed_refresh_books_what_it_read_and_times_the_failure() -> None:
    rig = Rig(previous_run=LastRead(T0 - 5.0, 777.0))
    rig.meter.open()
    reads = rig.refresh(5.0).energy
    booking, failing = rig.session.failed(reads, T0, now=100.0)
    assert booking is not None
    assert booking.fill_power_w == 777.0  # no snapshot: the last power known (the previous run's)
    assert rig.ledger.counts(("l1", "import")) == rig.chip.energy[Phase.A].forward_counts
    assert failing == 0.0
    assert rig.session.failed((), T0 + 5.0, now=130.0) == (None, 30.0)  # nothing read: nothing booked
    assert rig.session.health.failed_refreshes == 2
    rig.session.refreshed(rig.refresh(5.0), T0 + 10.0)
    assert rig.session.failed((), T0 + 15.0, now=200.0) == (None, 0.0)  # the chip answered in between


def test_nothing_read_is_nothing_booked() -> None:
    rig = Rig()
    assert rig.session.book((), T0, None) is None
    assert rig.demand.running is None
    assert rig.ledger.counts((TOTAL, "import")) == 0


def test_every_nth_refresh_reads_the_configuration_back() -> None:
    session = Rig().session
    assert [session.begin_refresh(3) for _ in range(6)] == [False, False, True, False, False, True]
    assert session.health.refreshes == 6


def test_scaling_and_an_inverted_ct_reach_the_ledger_and_the_import_power() -> None:
    rig = Rig(scale=2, inverted=frozenset({Phase.C}))
    rig.meter.open()
    result = rig.refresh(5.0)
    rig.session.refreshed(result, T0)
    assert rig.ledger.counts(("l1", "import")) == 2 * rig.chip.energy[Phase.A].forward_counts
    assert rig.ledger.counts(("l2", "export")) == 2 * rig.chip.energy[Phase.C].forward_counts
    # L2's CT faces the wrong way: its 500 W are export, netted against L1's 1000 W, both doubled.
    assert service_import_power(result.snapshot, rig.ledger, 2, frozenset({Phase.C})) == pytest.approx(1000.0, abs=2.0)
    assert rig.demand.power_w == pytest.approx(1000.0, abs=2.0)
