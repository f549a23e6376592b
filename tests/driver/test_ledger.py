"""The energy ledger adds counts exactly, nets the total and restores the newest persisted total."""

from __future__ import annotations

import pytest

from custom_components.atm90e32.driver import EnergyCounts, EnergyLedger, Phase
from custom_components.atm90e32.driver.ledger import counts_to_kwh, kwh_to_counts


def test_counts_add_per_leg_and_total_nets() -> None:
    ledger = EnergyLedger()
    ledger.add({Phase.A: EnergyCounts(forward=100, reverse=0), Phase.C: EnergyCounts(forward=0, reverse=30)})
    ledger.add({Phase.A: EnergyCounts(forward=0, reverse=50), Phase.C: EnergyCounts(forward=0, reverse=70)})
    assert ledger.counts(("l1", "import")) == 100
    assert ledger.counts(("l1", "export")) == 50
    assert ledger.counts(("l2", "export")) == 100
    assert ledger.counts(("total", "import")) == 70
    assert ledger.counts(("total", "export")) == 120
    legs_net = sum(ledger.counts((leg, "import")) - ledger.counts((leg, "export")) for leg in ("l1", "l2"))
    assert ledger.counts(("total", "import")) - ledger.counts(("total", "export")) == legs_net


def test_scale_and_inversion() -> None:
    ledger = EnergyLedger()
    ledger.add({Phase.A: EnergyCounts(forward=10, reverse=1)}, scale=4, inverted=frozenset({Phase.A}))
    assert ledger.counts(("l1", "import")) == 4
    assert ledger.counts(("l1", "export")) == 40
    with pytest.raises(ValueError, match="scale"):
        ledger.add({}, scale=3)
    with pytest.raises(ValueError, match="negative"):
        ledger.add({Phase.A: EnergyCounts(forward=-1, reverse=0)})


def test_restore_keeps_the_newest_total_whenever_and_in_whatever_order_it_comes() -> None:
    ledger = EnergyLedger()
    ledger.add({Phase.A: EnergyCounts(forward=5, reverse=0)})
    ledger.restore(("l1", "import"), 1000)  # e.g. the ledger store
    ledger.restore(("l1", "import"), 400)  # e.g. a restore state dumped 15 minutes earlier
    assert ledger.counts(("l1", "import")) == 1005
    ledger.restore(("l1", "import"), 1200)  # a newer copy raises the base
    assert ledger.counts(("l1", "import")) == 1205
    with pytest.raises(ValueError, match="negative"):
        ledger.restore(("l2", "import"), -1)


def test_as_dict_round_trips_and_damaged_values_are_ignored() -> None:
    ledger = EnergyLedger()
    ledger.add({Phase.A: EnergyCounts(forward=7, reverse=2), Phase.C: EnergyCounts(forward=1, reverse=9)})
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
