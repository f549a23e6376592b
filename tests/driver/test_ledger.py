"""The energy ledger adds counts exactly, books the service totals and restores the newest persisted total."""

from __future__ import annotations

import pytest

from custom_components.atm90e32.driver import EnergyCounts, EnergyLedger, Phase
from custom_components.atm90e32.driver.channels import circuits_wiring
from custom_components.atm90e32.driver.ledger import (
    FULL_SCALE_FILL_S,
    SHORTEST_FILL_S,
    LastRead,
    WrapRisk,
    check_gap,
    counts_to_kwh,
    kwh_to_counts,
)
from custom_components.atm90e32.driver.models import EnergyRead


def read(
    a: tuple[int, int] | None = None, c: tuple[int, int] | None = None, total: tuple[int, int] | None = None
) -> EnergyRead:
    phases = {
        phase: EnergyCounts(forward=f, reverse=r)
        for phase, pair in ((Phase.A, a), (Phase.C, c))
        if pair
        for f, r in [pair]
    }
    return EnergyRead(phases=phases, total=None if total is None else EnergyCounts(forward=total[0], reverse=total[1]))


def test_legs_add_per_channel_and_the_totals_come_from_the_chips_all_phase_registers() -> None:
    ledger = EnergyLedger()
    # L1 imports 100 while L2 exports 30: the chip netted them continuously to 71 imported, 1 exported.
    ledger.add(read(a=(100, 0), c=(0, 30), total=(71, 1)))
    ledger.add(read(a=(0, 50), c=(0, 70), total=(0, 120)))
    assert ledger.counts(("l1", "import")) == 100
    assert ledger.counts(("l1", "export")) == 50
    assert ledger.counts(("l2", "export")) == 100
    assert ledger.counts(("total", "import")) == 71
    assert ledger.counts(("total", "export")) == 121


def test_a_read_that_stopped_before_the_all_phase_registers_adds_nothing_to_the_totals() -> None:
    # The chip still holds the all-phase counts; the next read brings them, so netting the legs here would count twice.
    ledger = EnergyLedger()
    ledger.add(read(a=(40, 0), c=(10, 0)))
    assert ledger.counts(("l1", "import")) == 40
    assert (ledger.counts(("total", "import")), ledger.counts(("total", "export"))) == (0, 0)


def test_with_a_leg_inverted_in_software_the_totals_net_the_legs_at_each_read() -> None:
    ledger = EnergyLedger()
    inverted = frozenset({Phase.C})
    # The chip saw L2's 30 import as export (CT backwards) and summed wrongly; the ledger nets the corrected legs.
    ledger.add(read(a=(100, 0), c=(0, 30), total=(70, 0)), inverted=inverted)
    ledger.add(read(a=(0, 50), c=(20, 0), total=(0, 70)), inverted=inverted)
    assert ledger.counts(("l2", "import")) == 30
    assert ledger.counts(("l2", "export")) == 20
    assert ledger.counts(("total", "import")) == 130
    assert ledger.counts(("total", "export")) == 70
    legs_net = sum(ledger.counts((leg, "import")) - ledger.counts((leg, "export")) for leg in ("l1", "l2"))
    assert ledger.counts(("total", "import")) - ledger.counts(("total", "export")) == legs_net


def test_scale_and_inversion() -> None:
    ledger = EnergyLedger()
    ledger.add(read(a=(10, 1), total=(9, 0)), scale=4, inverted=frozenset({Phase.A}))
    assert ledger.counts(("l1", "import")) == 4
    assert ledger.counts(("l1", "export")) == 40
    assert ledger.counts(("total", "export")) == 36  # netted in software: the chip summed L1 backwards
    ledger.add(read(total=(9, 2)), scale=2)
    assert ledger.counts(("total", "import")) == 18
    assert ledger.counts(("total", "export")) == 36 + 4
    with pytest.raises(ValueError, match="scale"):
        ledger.add(read(), scale=3)
    with pytest.raises(ValueError, match="negative"):
        ledger.add(read(a=(-1, 0)))


def test_circuits_have_no_service_total_and_book_each_channel_alone() -> None:
    ledger = EnergyLedger(circuits_wiring(["ct1", "ct3"]))
    assert ledger.keys == (("ct1", "import"), ("ct1", "export"), ("ct3", "import"), ("ct3", "export"))
    # A chip with EnPx clear still returns something from APenergyT: it must be ignored.
    ledger.add(read(a=(100, 0), c=(0, 30), total=(500, 500)))
    ledger.add(read(a=(0, 5), c=(7, 0)))
    assert ledger.as_dict() == {"ct1_import": 100, "ct1_export": 5, "ct3_import": 7, "ct3_export": 30}
    with pytest.raises(KeyError):
        ledger.counts(("total", "import"))


def test_a_channel_factor_of_two_doubles_its_counts_and_the_totals_net_the_legs() -> None:
    circuits = EnergyLedger(circuits_wiring(["ct1", "ct3"]))
    circuits.add(read(a=(10, 1), c=(3, 0)), scale=2, factors={"ct3": 2})
    assert circuits.as_dict() == {"ct1_import": 20, "ct1_export": 2, "ct3_import": 12, "ct3_export": 0}
    mains = EnergyLedger()
    # The chip's sum does not know L2's factor: the totals come from the legs (100 - 2 x 30 = 40 imported).
    mains.add(read(a=(100, 0), c=(0, 30), total=(71, 1)), factors={"l2": 2})
    assert (mains.counts(("total", "import")), mains.counts(("total", "export"))) == (40, 0)
    with pytest.raises(ValueError, match="factor"):
        mains.add(read(), factors={"l1": 3})


def test_restore_keeps_the_newest_total_whenever_and_in_whatever_order_it_comes() -> None:
    ledger = EnergyLedger()
    ledger.add(read(a=(5, 0)))
    ledger.restore(("l1", "import"), 1000)  # e.g. the ledger store
    ledger.restore(("l1", "import"), 400)  # e.g. a restore state dumped 15 minutes earlier
    assert ledger.counts(("l1", "import")) == 1005
    ledger.restore(("l1", "import"), 1200)  # a newer copy raises the base
    assert ledger.counts(("l1", "import")) == 1205
    with pytest.raises(ValueError, match="negative"):
        ledger.restore(("l2", "import"), -1)
    with pytest.raises(KeyError):
        ledger.restore(("l3", "import"), 1)


def test_as_dict_round_trips_and_damaged_values_are_ignored() -> None:
    ledger = EnergyLedger()
    ledger.add(read(a=(7, 2), c=(1, 9), total=(0, 3)))
    saved = ledger.as_dict()
    assert saved == {
        "l1_import": 7,
        "l1_export": 2,
        "l2_import": 1,
        "l2_export": 9,
        "total_import": 0,
        "total_export": 3,
    }
    restored = EnergyLedger()
    restored.restore_dict({**saved, "l2_export": -5, "total_export": "3", "l1_export": True, "unknown": 1})
    assert restored.as_dict() == {**saved, "l2_export": 0, "total_export": 0, "l1_export": 0}


@pytest.mark.parametrize("counts", [0, 1, 320, 123_456_789, 10**12])
def test_kwh_round_trip_is_exact(counts: int) -> None:
    assert kwh_to_counts(counts_to_kwh(counts)) == counts
    assert counts_to_kwh(320_000) == pytest.approx(1.0)


def test_gaps_shorter_than_a_register_can_fill_are_safe_whatever_the_power() -> None:
    # three phases at full scale (54.3 kW) fill the all-phase total in SHORTEST_FILL_S (13.6 s)
    assert check_gap(LastRead(0.0, 54_300.0), LastRead(SHORTEST_FILL_S - 0.1, 54_300.0)) is None
    assert check_gap(LastRead(0.0, 54_300.0), LastRead(SHORTEST_FILL_S + 0.1, 54_300.0)) is not None
    assert pytest.approx(FULL_SCALE_FILL_S / 3) == SHORTEST_FILL_S
    assert check_gap(None, LastRead(1e9, 18_000.0)) is None


def test_a_long_gap_is_judged_by_the_larger_power_of_its_ends() -> None:
    # 204.797 Wh fills in 2457.6 s at 300 W; with the margin of two, 1228.8 s at 300 W is suspect.
    assert check_gap(LastRead(0.0, 300.0), LastRead(1228.0, 10.0)) is None
    assert check_gap(LastRead(0.0, 10.0), LastRead(1229.0, 300.0)) == WrapRisk(1229.0, 300.0)
    assert check_gap(LastRead(100.0, 300.0), LastRead(1329.0, 10.0)) == WrapRisk(1229.0, 300.0)


def test_a_chip_that_was_reset_in_between_cannot_have_wrapped() -> None:
    assert check_gap(LastRead(0.0, 5000.0), LastRead(3600.0, 5000.0), kept_counting=False) is None
    assert check_gap(LastRead(0.0, 5000.0), LastRead(3600.0, 5000.0)) == WrapRisk(3600.0, 5000.0)


def test_a_clock_that_jumped_back_is_no_gap() -> None:
    assert check_gap(LastRead(5000.0, 5000.0), LastRead(10.0, 5000.0)) is None
