"""Three-phase and circuit wirings: pure arithmetic, the chip's extra reads, and the emulator's physics.

Expected values are computed by hand (or by an independent formula) in the tests, never by
the code under test.
"""

from __future__ import annotations

import cmath
import math

import pytest

from custom_components.atm90e32.driver import Atm90e32, ChipConfig, Phase, protocol
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.channels import SPLIT_PHASE, THREE_PHASE_WYE, Wiring, circuits_wiring
from custom_components.atm90e32.driver.emulator import (
    CircuitLoad,
    ConstantLoad,
    EmulatedBus,
    LoadSource,
    ThreePhaseLoad,
    TraceCircuitLoad,
    TraceThreePhaseLoad,
    read_trace,
    simulated_load,
)
from custom_components.atm90e32.driver.exceptions import DeviceNotFoundError
from custom_components.atm90e32.driver.power_quality import PowerQualitySettings
from custom_components.atm90e32.driver.three_phase import (
    PhaseSequence,
    neutral_current,
    phase_sequence,
    voltage_unbalance_percent,
)
from tests.emulation import FaultyEmulator, ManualClock

PQ_230 = PowerQualitySettings.from_percent(nominal_voltage=230.0, line_frequency=50, over_current=65.0)


def config_for(wiring: Wiring, frequency: int = 50) -> ChipConfig:
    quality = PQ_230 if frequency == 50 else PowerQualitySettings()
    return ChipConfig(
        wiring=wiring,
        line_frequency=frequency,
        power_quality=quality,
        voltage_gains=(3920, 3920, 3920),
        current_gains=(25498, 25498, 25498),
    )


def make_chip(load: LoadSource, config: ChipConfig) -> tuple[Atm90e32, FaultyEmulator, ManualClock]:
    clock = ManualClock()
    emulator = FaultyEmulator(load, clock=clock)
    chip = Atm90e32(emulator, sleep=lambda _s: None)
    chip.configure(config)
    clock.advance(1)
    return chip, emulator, clock


# --- pure arithmetic -------------------------------------------------------------------


def test_voltage_unbalance_is_negative_over_positive_sequence() -> None:
    """IEC 61000-4-30 u2 = |V2| / |V1|; expected values from the symmetrical components by hand."""
    A, B, C = Phase.A, Phase.B, Phase.C
    # one phase 30 V low: V1 = (200 + 230 + 230) / 3 = 220 V, V2 = (200 - 230) / 3 = -10 V
    assert voltage_unbalance_percent({A: 200.0, B: 230.0, C: 230.0}, {B: 120.0, C: 240.0}) == pytest.approx(
        100 * 10 / 220
    )
    # the same with the angles turning the other way: the DS does not say which way Uangle turns
    assert voltage_unbalance_percent({A: 200.0, B: 230.0, C: 230.0}, {B: 240.0, C: 120.0}) == pytest.approx(
        100 * 10 / 220
    )
    # equal magnitudes, B 10 degrees off: V2 = 230 x |1 + e^(j130) + e^(j240)| / 3, V1 likewise
    e = [cmath.rect(230.0, math.radians(d)) for d in (0.0, 130.0, 240.0)]
    a = cmath.rect(1.0, math.radians(120.0))
    one, two = abs(e[0] + a * e[1] + a * a * e[2]), abs(e[0] + a * a * e[1] + a * e[2])
    expected = 100 * min(one, two) / max(one, two)
    assert expected > 5.0
    assert voltage_unbalance_percent({A: 230.0, B: 230.0, C: 230.0}, {B: 130.0, C: 240.0}) == pytest.approx(expected)
    # NEMA's deviation from the mean would say 0 % here: magnitudes alone miss an angle fault
    assert voltage_unbalance_percent({A: 120.0, B: 120.0, C: 120.0}, {B: 120.0, C: 240.0}) == pytest.approx(0.0)
    assert voltage_unbalance_percent({A: 0.0, B: 0.0, C: 0.0}, {B: 120.0, C: 240.0}) == 0.0
    with pytest.raises(KeyError):
        voltage_unbalance_percent({A: 230.0, B: 230.0}, {B: 120.0})


@pytest.mark.parametrize(
    ("angle_b", "angle_c", "expected"),
    [
        (120.0, 240.0, PhaseSequence.CORRECT),
        (118.3, 241.9, PhaseSequence.CORRECT),
        (240.0, 120.0, PhaseSequence.REVERSED),
        (-120.0, 120.0, PhaseSequence.REVERSED),  # -120 is 240
        (0.0, 180.0, PhaseSequence.NOT_THREE_PHASE),  # split-phase legs
        (0.0, 0.0, PhaseSequence.NOT_THREE_PHASE),  # one voltage on every input
        (120.0, 120.0, PhaseSequence.NOT_THREE_PHASE),
        (150.0, 240.0, PhaseSequence.NOT_THREE_PHASE),  # 30 degrees off: beyond the tolerance
    ],
)
def test_phase_sequence_from_the_voltage_angles(angle_b: float, angle_c: float, expected: PhaseSequence) -> None:
    assert phase_sequence(angle_b, angle_c) is expected


def test_neutral_current_is_the_vector_sum() -> None:
    balanced = neutral_current({Phase.A: 10.0, Phase.B: 10.0, Phase.C: 10.0}, {Phase.A: 0, Phase.B: 120, Phase.C: 240})
    assert balanced == pytest.approx(0.0, abs=1e-9)
    # Textbook: In = sqrt(Ia^2 + Ib^2 + Ic^2 - IaIb - IbIc - IcIa) for unity PF wye loads: sqrt(100 + 25 - 50)
    unbalanced = neutral_current({Phase.A: 10.0, Phase.B: 5.0, Phase.C: 0.0}, {Phase.A: 0, Phase.B: 120, Phase.C: 240})
    assert unbalanced == pytest.approx(math.sqrt(75))


def test_uangle_decodes_tenths_of_a_degree_from_phase_a() -> None:
    assert protocol.voltage_angle(1200) == 120.0
    assert protocol.voltage_angle(2399) == 239.9
    assert protocol.voltage_angle(0) == 0.0
    assert protocol.voltage_angle(0xFFFF) == 359.9  # -0.1 degree as two's complement
    assert protocol.voltage_angle(61830) is None


# --- the chip driver against the emulator ------------------------------------------------


def test_balanced_resistive_load_reads_pf_1_angles_0_120_240_and_no_neutral_current() -> None:
    load = ThreePhaseLoad(watts=(2300.0, 2300.0, 2300.0), power_factor=1.0)
    chip, _, _ = make_chip(load, config_for(THREE_PHASE_WYE))
    snapshot = chip.read_snapshot(config_for(THREE_PHASE_WYE))
    assert set(snapshot.phases) == {Phase.A, Phase.B, Phase.C}
    for reading in snapshot.phases.values():
        assert reading.voltage == pytest.approx(230.0, abs=0.01)
        assert reading.current == pytest.approx(10.0, abs=0.001)  # 2300 W / 230 V
        assert reading.power_factor == pytest.approx(1.0)
        assert reading.active_power == pytest.approx(2300.0, rel=1e-4)
    extra = snapshot.three_phase
    assert extra is not None
    assert extra.voltage_angles == {Phase.A: 0.0, Phase.B: 120.0, Phase.C: 240.0}
    assert extra.neutral_current == pytest.approx(0.0, abs=0.002)
    assert not extra.voltage_sequence_error
    assert not extra.current_sequence_error
    assert phase_sequence(extra.voltage_angles[Phase.B], extra.voltage_angles[Phase.C]) is PhaseSequence.CORRECT


def test_unbalanced_load_reads_the_vector_sum_as_neutral_current_within_one_percent() -> None:
    # 10 A, 5 A, 2 A at unity PF on 230 V: In = sqrt(100 + 25 + 4 - 50 - 10 - 20) = 7 A
    load = ThreePhaseLoad(watts=(2300.0, 1150.0, 460.0), power_factor=1.0)
    chip, _, _ = make_chip(load, config_for(THREE_PHASE_WYE))
    extra = chip.read_snapshot(config_for(THREE_PHASE_WYE)).three_phase
    assert extra is not None
    assert extra.neutral_current == pytest.approx(7.0, rel=0.01)


def test_neutral_current_with_lagging_phases_follows_the_phasors() -> None:
    # A: 10 A at PF 0.8 lagging (-36.87 deg); B, C: none.  The neutral carries A's 10 A whatever its angle.
    load = ThreePhaseLoad(watts=(1840.0, 0.0, 0.0), power_factor=0.8)  # 230 V x 10 A x 0.8
    chip, _, _ = make_chip(load, config_for(THREE_PHASE_WYE))
    extra = chip.read_snapshot(config_for(THREE_PHASE_WYE)).three_phase
    assert extra is not None
    assert extra.neutral_current == pytest.approx(10.0, rel=0.01)


def test_reversed_sequence_sets_the_chips_error_bit_and_the_angles_say_so() -> None:
    chip, emulator, _ = make_chip(ThreePhaseLoad(reversed_sequence=True), config_for(THREE_PHASE_WYE))
    snapshot = chip.read_snapshot(config_for(THREE_PHASE_WYE))
    extra = snapshot.three_phase
    assert extra is not None
    assert extra.voltage_angles == {Phase.A: 0.0, Phase.B: 240.0, Phase.C: 120.0}
    assert extra.voltage_sequence_error
    assert snapshot.status.state0 & reg.U_REV_WN_BIT
    assert phase_sequence(extra.voltage_angles[Phase.B], extra.voltage_angles[Phase.C]) is PhaseSequence.REVERSED
    # the same chip in sequence reads no error
    emulator.load = ThreePhaseLoad()
    in_sequence = chip.read_snapshot(config_for(THREE_PHASE_WYE)).three_phase
    assert in_sequence is not None
    assert in_sequence.voltage_sequence_error is False


def test_the_split_phase_board_reads_no_three_phase_registers() -> None:
    chip, _, _ = make_chip(ConstantLoad(), config_for(SPLIT_PHASE, 60))
    assert chip.read_snapshot(config_for(SPLIT_PHASE, 60)).three_phase is None


# transactions per verified 16-bit read (value + LastSPIData), guarded 32-bit read and energy register
PER_PHASE = 6 * 2 + 5 * 4 + 2 * 2
"""Per phase: U, I, PF, angle, UPeak, IPeak (2 each), P, Q, S, fundamental, harmonic P (4 each), AP/AN (2 each)."""
PER_CHIP = 7 * 2
"""Frequency, temperature, EMMIntState0/1, EMMState0/1, MeterEn: 2 each."""


@pytest.mark.parametrize(
    ("wiring", "load", "frequency", "expected"),
    [
        # the split-phase count of tests/driver/test_chip.py, unchanged: 2 legs and APenergyT / ANenergyT
        (SPLIT_PHASE, ConstantLoad(), 60, 2 * PER_PHASE + 2 * 2 + PER_CHIP),
        # three-phase: 3 phases, the all-phase registers, IrmsN and UangleB/C (2 each)
        (THREE_PHASE_WYE, ThreePhaseLoad(), 50, 3 * PER_PHASE + 2 * 2 + PER_CHIP + 3 * 2),
        # circuits: only the enabled CTs, no all-phase registers (EnPx clear: they mean nothing)
        (circuits_wiring(["ct1", "ct2", "ct3"]), CircuitLoad(), 60, 3 * PER_PHASE + PER_CHIP),
        (circuits_wiring(["ct2"]), CircuitLoad(), 60, 1 * PER_PHASE + PER_CHIP),
    ],
)
def test_snapshot_transactions_per_wiring(wiring: Wiring, load: LoadSource, frequency: int, expected: int) -> None:
    config = config_for(wiring, frequency)
    chip, _, _ = make_chip(load, config)
    chip.read_snapshot(config)  # clears what configuring latched
    snapshot = chip.read_snapshot(config)
    assert snapshot.transactions == expected
    assert set(snapshot.phases) == set(wiring.phases)
    assert (snapshot.energy.total is None) is (not wiring.has_service_total)


def test_mmode0_reaches_the_chip_for_each_wiring() -> None:
    for wiring, frequency, expected in ((THREE_PHASE_WYE, 50, 0x0087), (circuits_wiring(["ct1"]), 60, 0x1080)):
        _, emulator, _ = make_chip(ConstantLoad(), config_for(wiring, frequency))
        assert emulator.registers[reg.MMODE0] == expected


# --- the emulator's physics ----------------------------------------------------------


def test_one_voltage_transformer_gives_every_input_the_same_voltage() -> None:
    config = config_for(circuits_wiring(["ct1", "ct2", "ct3"]), 60)
    load = CircuitLoad(watts={Phase.A: 1800.0, Phase.C: -600.0}, volts=121.0)
    chip, _, _ = make_chip(load, config)
    volts = {phase: protocol.voltage(chip.read_register(reg.URMS[phase])) for phase in Phase}
    assert volts[Phase.A] == pytest.approx(121.0, abs=0.01)
    assert volts[Phase.B] == volts[Phase.A]
    assert volts[Phase.C] == volts[Phase.A]
    angles = [chip.read_register(reg.UANGLE[phase]) for phase in Phase]
    assert angles == [0, 0, 0]
    snapshot = chip.read_snapshot(config)
    assert snapshot.phases[Phase.B].active_power == 0.0  # CT2 idle
    assert snapshot.phases[Phase.C].active_power == pytest.approx(-600.0, rel=1e-3)  # exporting circuit
    assert not snapshot.status.state0 & (reg.U_REV_WN_BIT | reg.I_REV_WN_BIT)  # one voltage: no sequence


def test_each_circuit_books_its_own_energy_and_the_all_phase_registers_nothing() -> None:
    config = config_for(circuits_wiring(["ct1", "ct3"]), 60)
    chip, emulator, clock = make_chip(CircuitLoad(watts={Phase.A: 1200.0, Phase.C: -360.0}), config)
    chip.read_snapshot(config)  # empties the registers
    clock.advance(30)
    energy = chip.read_snapshot(config).energy
    # 1200 W x 30 s = 10 Wh = 3200 counts; 360 W x 30 s = 3 Wh = 960 counts exported
    assert energy.phases[Phase.A].forward == pytest.approx(3200, abs=1)
    assert energy.phases[Phase.C].reverse == pytest.approx(960, abs=1)
    assert energy.phases[Phase.C].forward == 0
    assert emulator.pending_total_counts() == (0, 0)  # EnPx clear: nothing summed


def test_trace_three_phase_rule_one_third_each_twenty_minutes_apart() -> None:
    load = TraceThreePhaseLoad()
    trace = read_trace()
    for t in (0.0, 1234.5, 7000.0):
        second = math.floor(t)
        for k, phase in enumerate(Phase):
            expected = trace[(second + k * 1200) % len(trace)] / 3
            assert load.load_at(t).phases[phase].watts == pytest.approx(expected)
    point = load.load_at(0.0)
    assert [point.phases[p].voltage_angle for p in Phase] == [0.0, 120.0, 240.0]


def test_trace_circuits_rule_fixed_shares_ten_minutes_apart_with_generation() -> None:
    load = TraceCircuitLoad(generation_w={Phase.B: 5000.0}, start=100)
    trace = read_trace()
    point = load.load_at(42.0)
    assert point.phases[Phase.A].watts == pytest.approx(trace[142] * 0.5)
    assert point.phases[Phase.B].watts == pytest.approx(trace[742] * 0.3 - 5000.0)
    assert point.phases[Phase.C].watts == pytest.approx(trace[1342] * 0.2)
    assert len({point.phases[p].volts for p in Phase}) == 1  # one shared voltage


def test_a_bus_holds_chips_with_their_own_registers_and_energy() -> None:
    clock = ManualClock()
    bus = EmulatedBus(clock=clock)
    first = bus.add("/dev/spidev0.0", CircuitLoad(watts={Phase.A: 1000.0}))
    second = bus.add("/dev/spidev0.1", CircuitLoad(watts={Phase.A: 250.0}))
    with pytest.raises(ValueError, match="already"):
        bus.add("/dev/spidev0.0", CircuitLoad())
    with pytest.raises(DeviceNotFoundError):
        bus.open("/dev/spidev1.0")
    assert list(bus) == ["/dev/spidev0.0", "/dev/spidev0.1"]
    assert len(bus) == 2
    config_a = config_for(circuits_wiring(["ct1"]), 60)
    config_b = ChipConfig(
        wiring=circuits_wiring(["ct1", "ct2"]),
        line_frequency=60,
        voltage_gains=(3920, 3920, 3920),
        current_gains=(20000, 20000, 20000),
    )
    chip_a = Atm90e32(bus.open("/dev/spidev0.0"), sleep=lambda _s: None)
    chip_b = Atm90e32(bus.open("/dev/spidev0.1"), sleep=lambda _s: None)
    chip_a.configure(config_a)
    chip_b.configure(config_b)
    assert first.registers[reg.IGAIN[Phase.A]] == 25498
    assert second.registers[reg.IGAIN[Phase.A]] == 20000
    clock.advance(36)  # 1000 W x 36 s = 10 Wh = 3200 counts; 250 W x 36 s = 2.5 Wh = 800 counts
    assert first.pending_counts(Phase.A)[0] == pytest.approx(3200, abs=1)
    assert second.pending_counts(Phase.A)[0] == pytest.approx(800 * 20000 / 25498, abs=1)  # Igain scales the energy


@pytest.mark.parametrize(
    ("wiring", "frequency", "kind", "volts"),
    [
        (SPLIT_PHASE, 60, "TraceLoad", 121.5),
        (circuits_wiring(["ct1"]), 60, "TraceCircuitLoad", 121.5),
        (THREE_PHASE_WYE, 50, "TraceThreePhaseLoad", 230.0),
    ],
)
def test_simulated_load_shapes_the_trace_as_the_wirings_service(
    wiring: Wiring, frequency: int, kind: str, volts: float
) -> None:
    load = simulated_load(wiring, line_frequency=frequency)
    assert type(load).__name__ == kind
    point = load.load_at(0.0)
    assert point.frequency == frequency
    assert set(wiring.phases) <= set(point.phases)
    # idle-ish first second of the trace: every voltage within 2 % of nominal
    assert all(abs(p.volts - volts) < 0.02 * volts for p in point.phases.values())
    later = simulated_load(wiring, line_frequency=frequency, start=1800).load_at(0.0)
    assert [later.phases[p].watts for p in wiring.phases] != [point.phases[p].watts for p in wiring.phases]


def test_one_voltage_transformer_on_three_phase_reads_l2_and_l3_at_the_wrong_angle() -> None:
    # Balanced resistive 10 A per phase at 230 V; every voltage input sees L1 (angle 0).
    # L2's current is at 120 degrees: the chip reads 230 x 10 x cos(120) = -1150 W; L3 cos(240) = -1150 W.
    load = ThreePhaseLoad(watts=(2300.0, 2300.0, 2300.0), power_factor=1.0, one_voltage_transformer=True)
    chip, _, _ = make_chip(load, config_for(THREE_PHASE_WYE))
    snapshot = chip.read_snapshot(config_for(THREE_PHASE_WYE))
    assert snapshot.phases[Phase.A].active_power == pytest.approx(2300.0, rel=1e-4)
    assert snapshot.phases[Phase.B].active_power == pytest.approx(-1150.0, rel=1e-4)
    assert snapshot.phases[Phase.C].active_power == pytest.approx(-1150.0, rel=1e-4)
    assert snapshot.phases[Phase.B].current == pytest.approx(10.0, abs=0.001)  # the current is right
    extra = snapshot.three_phase
    assert extra is not None
    assert extra.voltage_angles == {Phase.A: 0.0, Phase.B: 0.0, Phase.C: 0.0}  # one voltage: no sequence
    assert phase_sequence(extra.voltage_angles[Phase.B], extra.voltage_angles[Phase.C]) is PhaseSequence.NOT_THREE_PHASE
    assert extra.neutral_current == pytest.approx(0.0, abs=0.002)  # the currents still cancel in the neutral
