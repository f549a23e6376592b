"""Power quality without hardware: thresholds by the application note's formula, and status words to transitions."""

from __future__ import annotations

import math

import pytest

from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.calibration import VT_PRESETS
from custom_components.atm90e32.driver.channels import SPLIT_PHASE
from custom_components.atm90e32.driver.power_quality import (
    Condition,
    ConditionTracker,
    PowerQualitySettings,
    Reading,
    StatusWords,
    Transition,
    monitored,
    threshold_plan,
)
from custom_components.atm90e32.driver.registers import Phase

US = PowerQualitySettings.from_percent(nominal_voltage=120.0, line_frequency=60, over_current=60.0)
ALL_IN_CHIP = frozenset(Condition)
QUIET = Reading(voltage={Phase.A: 120.0, Phase.C: 120.0}, current={Phase.A: 5.0, Phase.C: 5.0}, frequency=60.0)


def test_defaults_from_percent() -> None:
    assert (US.sag_voltage, US.swell_voltage, US.phase_loss_voltage) == (96.0, 132.0, 12.0)
    assert (US.frequency_low, US.frequency_high) == pytest.approx((59.4, 60.6))
    with pytest.raises(ValueError, match="phase loss < sag < nominal < swell"):
        PowerQualitySettings.from_percent(nominal_voltage=120.0, line_frequency=60, over_current=60.0, sag_percent=100)
    with pytest.raises(ValueError, match="frequency"):
        PowerQualitySettings.from_percent(
            nominal_voltage=230.0, line_frequency=50, over_current=60.0, frequency_percent=-1
        )


@pytest.mark.parametrize(("preset", "ugain"), sorted(VT_PRESETS.items()))
def test_thresholds_for_every_preset_voltage_gain(preset: str, ugain: int) -> None:
    plan = threshold_plan(US, ugain, 25498)
    # By hand: Th = V x 100 x sqrt(2) / (2 x Ugain / 32768), the AN's SagTh formula.
    for condition, address, volts in (
        (Condition.SAG, reg.SAG_TH, 96.0),
        (Condition.SWELL, reg.OV_TH, 132.0),
        (Condition.PHASE_LOSS, reg.PHASE_LOSS_TH, 12.0),
    ):
        wanted = round(volts * 100 * math.sqrt(2) / (2 * ugain / 32768))
        if wanted <= 0xFFFF:
            assert plan.registers[address] == wanted, (preset, condition)
            assert condition in plan.in_chip
        else:  # cannot be held: never fires in the chip, judged from the readings
            assert condition not in plan.in_chip
            assert plan.registers[address] == (0xFFFF if condition is Condition.SWELL else 0)
    assert plan.registers[reg.OI_TH] == round(60.0 * 1000 * math.sqrt(2) / (2 * 25498 / 32768))
    assert (plan.registers[reg.FREQ_LO_TH], plan.registers[reg.FREQ_HI_TH]) == (5940, 6060)


def test_the_current_boards_gain_cannot_latch_a_swell() -> None:
    # Ugain 3920 (split-phase board >= v1.4 rev3, 9 V): 0xFFFF stands for 110.87 V, below 120 V itself.
    plan = threshold_plan(US, 3920, 25498)
    assert Condition.SWELL not in plan.in_chip
    assert plan.limits[Condition.SWELL] == pytest.approx(110.87, abs=0.01)
    assert {Condition.SAG, Condition.PHASE_LOSS, Condition.OVER_CURRENT} <= plan.in_chip
    assert plan.registers[reg.SAG_TH] == 56744
    # With Ugain 37106 (v1.4 board, 9 V) every threshold fits.
    assert threshold_plan(US, 37106, 25498).in_chip == ALL_IN_CHIP


def sag_a(state: bool, latched: bool) -> StatusWords:
    bit = reg.SAG_BITS[Phase.A]
    return StatusWords(state1=bit if state else 0, latched1=bit if latched else 0)


def test_a_sag_between_two_refreshes_is_one_start_and_one_end() -> None:
    tracker = ConditionTracker(monitored(SPLIT_PHASE.phases))
    assert tracker.update(StatusWords(), QUIET, US, ALL_IN_CHIP) == []
    transitions = tracker.update(sag_a(state=False, latched=True), QUIET, US, ALL_IN_CHIP)
    assert transitions == [Transition(Condition.SAG, Phase.A, True), Transition(Condition.SAG, Phase.A, False)]
    assert tracker.update(StatusWords(), QUIET, US, ALL_IN_CHIP) == []


def test_a_long_sag_starts_once_and_ends_once() -> None:
    tracker = ConditionTracker(monitored(SPLIT_PHASE.phases))
    tracker.update(StatusWords(), QUIET, US, ALL_IN_CHIP)
    assert tracker.update(sag_a(True, True), QUIET, US, ALL_IN_CHIP) == [Transition(Condition.SAG, Phase.A, True)]
    assert tracker.update(sag_a(True, False), QUIET, US, ALL_IN_CHIP) == []
    assert (Condition.SAG, Phase.A) in (tracker.active or ())
    # it ended and a new one began between two refreshes
    assert tracker.update(sag_a(True, True), QUIET, US, ALL_IN_CHIP) == [
        Transition(Condition.SAG, Phase.A, False),
        Transition(Condition.SAG, Phase.A, True),
    ]
    assert tracker.update(sag_a(False, True), QUIET, US, ALL_IN_CHIP) == [Transition(Condition.SAG, Phase.A, False)]


def test_the_first_refresh_starts_what_is_true_unless_the_previous_run_knew_it() -> None:
    """Nothing known before (a first start): a sag already there is a start. Known from the previous run: not again."""
    tracker = ConditionTracker(monitored(SPLIT_PHASE.phases))
    assert tracker.update(sag_a(True, False), QUIET, US, ALL_IN_CHIP) == [Transition(Condition.SAG, Phase.A, True)]
    assert (Condition.SAG, Phase.A) in (tracker.active or ())
    other = ConditionTracker(monitored(SPLIT_PHASE.phases))
    assert other.update(sag_a(True, True), QUIET, US, ALL_IN_CHIP) == [Transition(Condition.SAG, Phase.A, True)]
    restored = ConditionTracker(monitored(SPLIT_PHASE.phases))
    restored.active = frozenset({(Condition.SAG, Phase.A)})  # the previous run's last refresh, from the store
    assert restored.update(sag_a(True, False), QUIET, US, ALL_IN_CHIP) == []  # still sagging: no new start
    assert restored.update(sag_a(False, True), QUIET, US, ALL_IN_CHIP) == [Transition(Condition.SAG, Phase.A, False)]


def test_unused_phase_b_and_frequency_bits() -> None:
    tracker = ConditionTracker(monitored(SPLIT_PHASE.phases))
    b_sags = StatusWords(state1=reg.SAG_BITS[Phase.B] | reg.PHASE_LOSS_BITS[Phase.B], latched1=reg.SAG_BITS[Phase.B])
    assert tracker.update(b_sags, QUIET, US, ALL_IN_CHIP) == []  # phase B measures no channel
    high = StatusWords(state1=reg.FREQ_HI_BIT, latched1=reg.FREQ_HI_BIT)
    assert tracker.update(high, QUIET, US, ALL_IN_CHIP) == [Transition(Condition.FREQUENCY_HIGH, None, True)]


def test_a_condition_the_chip_cannot_hold_is_judged_from_the_readings() -> None:
    tracker = ConditionTracker(monitored(SPLIT_PHASE.phases))
    in_chip = ALL_IN_CHIP - {Condition.SWELL}
    swelling = Reading(voltage={Phase.A: 135.0, Phase.C: 120.0}, current=QUIET.current, frequency=60.0)
    ov_bit_stuck = StatusWords(state0=reg.OV_BITS[Phase.A] | reg.OV_BITS[Phase.C])  # OVth 0xFFFF fires at 110.9 V
    tracker.update(ov_bit_stuck, QUIET, US, in_chip)
    assert tracker.update(ov_bit_stuck, swelling, US, in_chip) == [Transition(Condition.SWELL, Phase.A, True)]
    assert tracker.update(ov_bit_stuck, QUIET, US, in_chip) == [Transition(Condition.SWELL, Phase.A, False)]
