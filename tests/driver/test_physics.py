"""Issue 22 (part A) at the driver: the datasheet's behaviour, modelled in the emulator, read by the driver.

Each test names the DS page the emulator follows; the expected values are computed here
by hand from the load given, never from the driver's own functions.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from custom_components.atm90e32.driver import Atm90e32, ChipConfig, Phase, protocol
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.calibration import rms_offset_register
from custom_components.atm90e32.driver.emulator import Board, ConstantLoad, Disturbance, LoadSource, ThreePhaseLoad
from custom_components.atm90e32.driver.front_end import FrontEndErrors
from custom_components.atm90e32.driver.meter import Meter
from custom_components.atm90e32.driver.power_quality import (
    Condition,
    PowerQualitySettings,
    Transition,
    threshold_plan,
)
from tests.emulation import FaultyEmulator, ManualClock

CONFIG = ChipConfig(voltage_gains=(3920, 3920, 3920), current_gains=(25498, 25498, 25498))


def make_chip(load: LoadSource) -> tuple[Atm90e32, FaultyEmulator, ManualClock]:
    clock = ManualClock()
    emulator = FaultyEmulator(load, clock=clock)
    chip = Atm90e32(emulator, sleep=lambda _s: None)
    chip.configure(CONFIG)
    return chip, emulator, clock


# --- item 4: UPeak / IPeak are complement values (DS p.71) -------------------------------


def test_a_negative_peak_register_decodes_to_its_magnitude() -> None:
    """The issue's example: raw 0xF000 (-4096) at Igain 25498 is 12.75 A, not 191 A."""
    assert protocol.peak_current(0xF000, 25498) == pytest.approx(4096 * 25498 / (1000 * 2**13))
    assert protocol.peak_current(0xF000, 25498) == pytest.approx(12.749, abs=0.001)
    assert protocol.peak_current(0x1000, 25498) == protocol.peak_current(0xF000, 25498)
    assert protocol.peak_voltage(0x8001, 3920) == pytest.approx(32767 * 3920 / (100 * 2**13))


def test_the_peak_current_is_the_same_whichever_crest_the_detector_kept() -> None:
    """10 A rms has a 14.14 A crest; the emulator keeps the negative crest in odd 20 ms periods (DS p.44, p.71)."""
    chip, _emulator, clock = make_chip(ConstantLoad(watts=(1200.0, 0.0), volts=120.0, power_factor=1.0))
    clock.advance(5.0)  # an even peak period: the positive crest
    positive = chip.read_register(reg.IPEAK[Phase.A])
    clock.advance(0.02)  # the next period: the negative crest
    negative = chip.read_register(reg.IPEAK[Phase.A])
    assert positive < 0x8000 <= negative  # the register really holds a negative value
    crest = 10.0 * math.sqrt(2)
    for raw in (positive, negative):
        assert protocol.peak_current(raw, 25498) == pytest.approx(crest, abs=0.01)
    reading = chip.read_phase(Phase.A, CONFIG)
    assert reading.peak_current == pytest.approx(crest, abs=0.01)


# --- item 5: EMMIntEn0/1 route a status change into EMMIntState0/1 (DS p.19, p.64-65) ------


def test_the_driver_enables_the_latches_so_a_sag_between_two_refreshes_is_seen() -> None:
    """A 0.5 s sag on L1 between two refreshes is latched only because configure set EMMIntEn1's sag bit."""
    chip, emulator, clock = make_chip(ConstantLoad(watts=(1200.0, 600.0), volts=120.0))
    chip.read_snapshot(CONFIG)
    assert emulator.registers.get(reg.EMM_INT_EN1, 0) & reg.SAG_BITS[Phase.A]
    assert emulator.registers.get(reg.EMM_INT_EN0, 0) & reg.OV_BITS[Phase.C]
    emulator.schedule(Disturbance("sag", clock() + 1.0, clock() + 1.5, 60.0, Phase.A))
    clock.advance(5.0)
    status = chip.read_snapshot(CONFIG).status
    assert status.latched1 & reg.SAG_BITS[Phase.A]  # started and ended while nobody read
    assert not status.state1 & reg.SAG_BITS[Phase.A]


def test_without_the_enables_the_emulated_chip_latches_nothing() -> None:
    """DS p.19: a change reaches EMMIntState0/1 only if its EMMIntEn0/1 bit is set; both are 0 after a reset."""
    chip, emulator, clock = make_chip(ConstantLoad(watts=(1200.0, 600.0), volts=120.0))
    chip.write_register(reg.EMM_INT_EN1, 0)
    emulator.schedule(Disturbance("sag", clock() + 1.0, clock() + 1.5, 60.0, Phase.A))
    clock.advance(5.0)
    assert chip.read_register(reg.EMM_INT_STATE1) == 0
    chip.soft_reset()
    assert chip.read_register(reg.EMM_INT_EN0) == chip.read_register(reg.EMM_INT_EN1) == 0


# --- item 10: the all-phase total after the per-phase no-load gate (DS Figure-6 p.14) ---------


def test_a_phase_below_pphaseth_adds_nothing_to_the_total() -> None:
    """L1 draws 0.2 W, below PPhaseTh (750 x 0.00032 W = 0.24 W): forced to 0 before the sum, so T = L2 exactly."""
    _chip, emulator, clock = make_chip(ConstantLoad(watts=(0.2, 1000.0), power_factor=1.0))
    clock.advance(3600)
    emulator.pending_total_counts()
    assert emulator.energy[Phase.A].forward_counts == 0
    assert emulator.energy[Phase.C].forward_counts == 320_000  # 1 kWh at 0.003125 Wh per count
    assert emulator.total_energy.forward_counts == emulator.energy[Phase.C].forward_counts


def test_the_total_is_gated_on_its_active_power_alone() -> None:
    """+500 W and -498.5 W at PF 0.5 sum to 1.5 W, under PStartTh (2.4 W): no count, however large the vars."""
    _chip, emulator, clock = make_chip(ConstantLoad(watts=(500.0, -498.5), power_factor=0.5))
    clock.advance(3600)
    emulator.pending_total_counts()
    assert emulator.energy[Phase.A].forward_counts == 160_000  # each phase is far above PPhaseTh
    assert emulator.energy[Phase.C].reverse_counts == 159_520
    assert emulator.total_energy.forward_counts == emulator.total_energy.reverse_counts == 0


# --- item 6: one threshold register for all phases (DS p.44-46) ------------------------------


def test_mixed_cts_do_not_flag_over_current_on_the_more_sensitive_channel() -> None:
    """The issue's example: CT1 an SCT-016 (Igain 39473), CT2 an SCT-006 (Igain 10170), over-current at 65 A.

    Computed from CT1's gain, OIth = 65 x 1000 x sqrt(2) / (2 x 39473 / 32768) = 38155, which CT2
    reaches at 38155 x 2 x 10170 / 32768 / (1000 x sqrt(2)) = 16.7 A.  CT2 needs 148 100, more
    than the register holds: no value serves both without CT2 tripping early, so over-current
    is judged from the readings on both, and 17 A on CT2 is no over-current.
    """
    gains = (39473, 25498, 10170)
    config = replace(CONFIG, current_gains=gains, power_quality=replace(CONFIG.power_quality, over_current=65.0))
    assert round(65 * 1000 * math.sqrt(2) / (2 * 39473 / 32768)) == 38155
    assert 38155 * 2 * 10170 / 32768 / (1000 * math.sqrt(2)) == pytest.approx(16.7, abs=0.05)
    clock = ManualClock()
    board = Board(voltage_gains=(3920.0, 3920.0, 3920.0), current_gains=(39473.0, 25498.0, 10170.0))
    emulator = FaultyEmulator(ConstantLoad(watts=(1200.0, 17.0 * 120.0), power_factor=1.0), clock=clock, board=board)
    meter = Meter(lambda: emulator, config, sleep=lambda _s: None)
    meter.open()
    for _ in range(3):
        clock.advance(5)
        meter.refresh()
        assert meter.conditions.active is not None
        assert (Condition.OVER_CURRENT, Phase.C) not in meter.conditions.active
    assert emulator.registers[reg.OI_TH] == 0xFFFF  # written so that it never fires on CT1
    emulator.load = ConstantLoad(watts=(1200.0, 66.0 * 120.0), power_factor=1.0)  # 66 A on CT2: over 65 A
    clock.advance(5)
    assert Transition(Condition.OVER_CURRENT, Phase.C, started=True) in meter.refresh().transitions


def test_a_register_that_fits_the_most_sensitive_channel_polls_the_others() -> None:
    """Ugain 3920 on L1, 7000 on L2: SagTh (96 V) is computed for 7000, the larger gain, and L1 is polled."""
    plan = threshold_plan(PowerQualitySettings(), {Phase.A: 3920, Phase.C: 7000}, {Phase.A: 25498, Phase.C: 25498})
    assert plan.registers[reg.SAG_TH] == round(96.0 * 100 * math.sqrt(2) / (2 * 7000 / 32768))
    assert Condition.SAG in plan.in_chip
    assert (Condition.SAG, Phase.A) in plan.polled
    assert (Condition.SAG, Phase.C) not in plan.polled


# --- item 9: one angle convention (lag behind A's voltage) for voltages and currents ---------


def test_ten_amps_at_pf_1_on_a_and_at_pf_half_on_b_leave_no_neutral_current() -> None:
    """B's voltage lags A's by 120 degrees, its current by 60 more: 180 degrees, opposite A's current.

    Physics, not the driver: I_A = 10 A at 0, I_B = 10 A at -(120 + 60) = -180 degrees; their sum is 0 A.
    """
    load = ThreePhaseLoad(watts=(2300.0, 1150.0, 0.0), volts=230.0, power_factor=(1.0, 0.5, 1.0))
    chip, _emulator, clock = make_chip(load)  # the chip's IrmsN (DS p.70) does not depend on the wiring read
    clock.advance(5)
    assert chip.read_phase(Phase.A).current == pytest.approx(10.0, abs=0.002)
    assert chip.read_phase(Phase.B).current == pytest.approx(10.0, abs=0.002)
    assert protocol.current(chip.read_register(reg.IRMS_N)) == pytest.approx(0.0, abs=0.002)


def test_one_transformer_on_a_three_phase_service_reads_b_and_c_at_their_own_lag() -> None:
    """Every input sees L1's voltage; B's current lags it by 120 + acos(PF_B), C's by 240 + acos(PF_C).

    With unequal power factors (0.8 on B, 0.6 on C), B reads V I cos(156.87) and C V I cos(293.13).
    """
    watts = (1000.0, 1840.0, 1380.0)
    pfs = (1.0, 0.8, 0.6)
    load = ThreePhaseLoad(watts=watts, volts=230.0, power_factor=pfs, one_voltage_transformer=True)
    chip, _emulator, clock = make_chip(load)
    clock.advance(5)
    for phase, offset in ((Phase.B, 120.0), (Phase.C, 240.0)):
        amps = watts[phase] / (230.0 * pfs[phase])
        lag = offset + math.degrees(math.acos(pfs[phase]))
        expected = 230.0 * amps * math.cos(math.radians(lag))
        assert chip.read_phase(phase).active_power == pytest.approx(expected, abs=0.5), phase
    assert chip.read_phase(Phase.B).active_power == pytest.approx(-1840.0 / 0.8 * math.cos(math.radians(23.13)), 0.001)


# --- item 11: idle CT signal adds in quadrature; what the AN's offset step does to 1 A ---------


def _irms(chip: Atm90e32, phase: Phase) -> float:
    return protocol.current(chip.read_register(reg.IRMS[phase]))


def test_idle_signal_adds_in_quadrature_and_the_offset_step_takes_it_off_a_1_a_load_whole() -> None:
    """0.045 A idle on L1: a 1 A load reads sqrt(1 + 0.045^2) = 1.0010 A, not 1.045 A.

    The AN p.21 offset step (read the idle rms, write its negative to Ioffset) then zeroes
    the idle reading, and takes the whole 0.045 A off the loaded one: 1.0010 - 0.045 =
    0.956 A, 4.4 % low, where without it the reading was 0.1 % high.
    """
    errors = FrontEndErrors(
        ct=dict.fromkeys(Phase),
        current_offset={Phase.A: 0.045},
        voltage_offset={},
        power_offset={},
        reactive_offset={},
        current_noise=0.0,
        voltage_noise=0.0,
        power_noise=0.0,
    )
    load = ConstantLoad(watts=(120.0, 0.0), volts=120.0, power_factor=1.0)  # 1 A on L1
    clock = ManualClock()
    emulator = FaultyEmulator(load, clock=clock, errors=errors)
    chip = Atm90e32(emulator, sleep=lambda _s: None)
    chip.configure(CONFIG)
    assert _irms(chip, Phase.A) == pytest.approx(math.hypot(1.0, 0.045), abs=0.001)  # 1.001 A
    emulator.load = ConstantLoad(watts=(0.0, 0.0), volts=120.0)
    assert _irms(chip, Phase.A) == pytest.approx(0.045, abs=0.001)
    idle = [chip.read_register32(reg.IRMS[Phase.A], reg.IRMS_LSB[Phase.A]) for _ in range(5)]
    offset = rms_offset_register(idle)
    chip.write_register(reg.CFG_REG_ACC_EN, reg.CFG_UNLOCK_CODE)
    chip.write_register(reg.IOFFSET[Phase.A], offset)
    chip.write_register(reg.CFG_REG_ACC_EN, reg.CFG_LOCK_CODE)
    assert _irms(chip, Phase.A) == pytest.approx(0.0, abs=0.001)
    emulator.load = load
    assert _irms(chip, Phase.A) == pytest.approx(math.hypot(1.0, 0.045) - 0.045, abs=0.001)  # 0.956 A
