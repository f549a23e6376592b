"""SupplyWatch: event counters and the findings behind repair issues, judged over time without Home Assistant."""

from __future__ import annotations

from custom_components.atm90e32.circuit_factor import with_factors
from custom_components.atm90e32.driver.channels import SPLIT_PHASE, circuits_wiring
from custom_components.atm90e32.driver.models import EnergyRead, MeterSnapshot, PhaseReading
from custom_components.atm90e32.driver.power_quality import Condition, Transition
from custom_components.atm90e32.driver.registers import Phase
from custom_components.atm90e32.quality import Finding, SupplyWatch


def snapshot(l1: tuple[float, float, float], l2: tuple[float, float, float] = (120.0, 5.0, 600.0)) -> MeterSnapshot:
    """Readings as shown, per leg (V, A, W)."""

    def reading(v: float, a: float, w: float) -> PhaseReading:
        return PhaseReading(
            voltage=v, current=a, active_power=w, reactive_power=0, apparent_power=abs(w), power_factor=1, phase_angle=0
        )

    return MeterSnapshot(
        phases={Phase.A: reading(*l1), Phase.C: reading(*l2)},
        energy=EnergyRead(phases={}),
        frequency=60.0,
        temperature=30,
    )


def watch(export_expected: bool = False, scale: int = 1) -> SupplyWatch:
    return SupplyWatch(SPLIT_PHASE, nominal_voltage=120.0, scale=scale, export_expected=export_expected)


def test_starts_of_sags_swells_and_phase_losses_are_counted_per_channel() -> None:
    w = watch()
    assert not w.count([Transition(Condition.SAG, Phase.A, False), Transition(Condition.OVER_CURRENT, Phase.A, True)])
    assert w.count(
        [
            Transition(Condition.SAG, Phase.A, True),
            Transition(Condition.SAG, Phase.A, False),
            Transition(Condition.PHASE_LOSS, Phase.C, True),
            Transition(Condition.FREQUENCY_LOW, None, True),
        ]
    )
    assert w.counters == {
        "l1_sag": 1,
        "l1_swell": 0,
        "l1_phase_loss": 0,
        "l2_sag": 0,
        "l2_swell": 0,
        "l2_phase_loss": 1,
    }
    w.restore({"l1_sag": 0, "l2_swell": 7, "l2_sag": -1, "l1_swell": True})
    assert (w.counters["l1_sag"], w.counters["l2_swell"], w.counters["l2_sag"], w.counters["l1_swell"]) == (1, 7, 0, 0)


def test_a_clipped_current_is_found_at_once_and_only_once() -> None:
    w = watch(scale=2)
    assert not w.check(snapshot((120.0, 65.535, 7000.0)), 0.0).raised  # 2x scaling: 131.07 A is the limit
    report = w.check(snapshot((120.0, 131.07, 14000.0)), 5.0)
    assert dict(report.raised) == {(Finding.CURRENT_CLIPPED, "l1"): 131.07}
    assert not w.check(snapshot((120.0, 131.07, 14000.0)), 10.0).raised


def test_negative_power_for_a_minute_without_generation_suggests_a_reversed_ct() -> None:
    w = watch()
    assert not w.check(snapshot((120.0, 5.0, -600.0)), 0.0).raised
    assert not w.check(snapshot((120.0, 5.0, -600.0)), 55.0).raised
    assert dict(w.check(snapshot((120.0, 5.0, -600.0)), 60.0).raised) == {(Finding.CT_REVERSED, "l1"): -600.0}
    assert w.check(snapshot((120.0, 5.0, 600.0)), 65.0).cleared == {(Finding.CT_REVERSED, "l1")}
    assert not watch(export_expected=True).check(snapshot((120.0, 5.0, -600.0)), 1e6).raised
    small = watch()
    small.check(snapshot((120.0, 0.05, -5.0)), 0.0)
    assert not small.check(snapshot((120.0, 0.05, -5.0)), 600.0).raised  # idle noise, not a reversed CT


def test_a_voltage_out_of_range_for_ten_minutes_is_found_and_clears() -> None:
    w = watch()
    w.check(snapshot((107.0, 5.0, 600.0)), 0.0)  # 10.8 % low
    assert not w.check(snapshot((107.0, 5.0, 600.0)), 599.0).raised
    assert dict(w.check(snapshot((107.0, 5.0, 600.0)), 600.0).raised) == {(Finding.VOLTAGE_OUT_OF_RANGE, "l1"): 107.0}
    assert w.check(snapshot((119.0, 5.0, 600.0)), 605.0).cleared == {(Finding.VOLTAGE_OUT_OF_RANGE, "l1")}
    w.check(snapshot((133.0, 5.0, 600.0)), 700.0)  # a brief swell restarts the clock
    w.check(snapshot((120.0, 5.0, 600.0)), 705.0)
    assert not w.check(snapshot((133.0, 5.0, 600.0)), 1300.0).raised


def test_a_240_v_circuit_is_judged_on_its_legs_voltage() -> None:
    # Issue 26 item 8: a x2 circuit shows twice the leg's voltage; the supply range stays the leg's.
    wiring = circuits_wiring(["ct1", "ct3"])
    w = SupplyWatch(wiring, nominal_voltage=120.0, scale=1, export_expected=False, factors={"ct3": 2})
    for now in (0.0, 600.0):
        shown = with_factors(snapshot((121.0, 5.0, 600.0), (121.0, 2.21, 241.0)), wiring, {"ct3": 2})
        assert shown.phases[Phase.C].voltage == 242.0
        assert not w.check(shown, now).raised
    low = with_factors(snapshot((107.0, 5.0, 600.0), (107.0, 2.21, 241.0)), wiring, {"ct3": 2})
    w.check(low, 700.0)
    assert dict(w.check(low, 1300.0).raised) == {
        (Finding.VOLTAGE_OUT_OF_RANGE, "ct1"): 107.0,
        (Finding.VOLTAGE_OUT_OF_RANGE, "ct3"): 107.0,
    }
