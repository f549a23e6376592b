"""The three-phase three-wire (delta) service: the wiring table, the emulator's 3P3W physics, the driver's reads.

Expected values come from textbook formulas written out here (the two-wattmeter method,
the IEC line-voltage unbalance formula), never from the code under test.
"""

from __future__ import annotations

import math

import pytest

from custom_components.atm90e32.driver import Atm90e32, Phase
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.channels import (
    DELTA_NOMINAL_VOLTAGES,
    SPLIT_PHASE,
    THREE_PHASE_DELTA,
    THREE_PHASE_WYE,
    wiring_for,
)
from custom_components.atm90e32.driver.emulator import (
    DeltaLoad,
    EmulatedAtm90e32,
    ReplayLoad,
    TraceDeltaLoad,
    delta_point,
    read_trace,
    simulated_load,
    simulated_volts,
)
from custom_components.atm90e32.driver.replay import parse_replay_csv
from custom_components.atm90e32.driver.three_phase import (
    delta_line_voltages,
    delta_voltage_unbalance_percent,
    three_wire_power_factor,
)
from tests.emulation import ManualClock

from .test_three_phase import PER_CHIP, PER_PHASE, config_for, make_chip

SQRT3 = math.sqrt(3)


def iec_line_unbalance(u_ab: float, u_bc: float, u_ca: float) -> float:
    """IEC 61000-4-30 unbalance from the line-voltage magnitudes: sqrt((1 - sqrt(3 - 6b)) / (1 + sqrt(3 - 6b)))."""
    beta = (u_ab**4 + u_bc**4 + u_ca**4) / (u_ab**2 + u_bc**2 + u_ca**2) ** 2
    root = math.sqrt(3 - 6 * beta)
    return 100 * math.sqrt((1 - root) / (1 + root))


# --- the wiring table ---------------------------------------------------------------


def test_delta_is_l1_and_l3_on_a_and_c_in_3p3w() -> None:
    channels = [(c.key, c.name, c.phase) for c in THREE_PHASE_DELTA.channels]
    assert channels == [("l1", "L1", Phase.A), ("l3", "L3", Phase.C)]
    assert [c.voltage_gain_option for c in THREE_PHASE_DELTA.channels] == ["voltage_gain", "voltage_gain_l3"]
    assert THREE_PHASE_DELTA.three_wire
    assert THREE_PHASE_DELTA.three_phase
    assert THREE_PHASE_DELTA.delta
    assert not THREE_PHASE_WYE.delta
    assert not SPLIT_PHASE.delta
    assert THREE_PHASE_DELTA.has_service_total
    assert THREE_PHASE_DELTA.totals_from_chip(frozenset())
    assert not THREE_PHASE_DELTA.totals_from_chip(frozenset({Phase.C}))
    assert wiring_for("three_phase_delta") is THREE_PHASE_DELTA
    assert DELTA_NOMINAL_VOLTAGES == (208, 240, 400, 480)


def test_mmode0_for_delta_is_the_application_notes_3p3w_value() -> None:
    # AN p.20: "3P3W, grid frequency 50Hz, MMode0 = 0185H"; bit 12 for 60 Hz (DS p.56)
    assert THREE_PHASE_DELTA.mmode0(50) == 0x0185
    assert THREE_PHASE_DELTA.mmode0(60) == 0x1185
    _, emulator, _ = make_chip(DeltaLoad(), config_for(THREE_PHASE_DELTA))
    assert emulator.registers[reg.MMODE0] == 0x0185


# --- the emulator's load: what a 3P3W meter's inputs see ------------------------------


def test_a_balanced_resistive_delta_load_reads_cos30_on_each_element() -> None:
    # 3 x 4000 W at 400 V: line current 12000 / (sqrt(3) x 400) = 17.3205 A; each element V x I x cos(30) = 6000 W
    config = config_for(THREE_PHASE_DELTA)
    chip, _, _ = make_chip(DeltaLoad(watts=(4000.0,) * 3, volts=400.0, power_factor=1.0), config)
    snapshot = chip.read_snapshot(config)
    assert set(snapshot.phases) == {Phase.A, Phase.C}
    for phase in (Phase.A, Phase.C):
        reading = snapshot.phases[phase]
        assert reading.voltage == pytest.approx(400.0, abs=0.01)
        assert reading.current == pytest.approx(12000 / (SQRT3 * 400), abs=0.001)
        assert reading.active_power == pytest.approx(6000.0, rel=1e-4)
        assert reading.power_factor == pytest.approx(math.cos(math.radians(30)), abs=0.001)
    assert sum(r.active_power for r in snapshot.phases.values()) == pytest.approx(12000.0, rel=1e-4)


@pytest.mark.parametrize("power_factor", [0.95, 0.8, 0.6])
def test_the_two_wattmeter_readings_of_a_balanced_load(power_factor: float) -> None:
    # textbook two-wattmeter method, sequence L1 -> L2 -> L3, reference L2:
    # W1 = V I cos(30 + phi), W3 = V I cos(30 - phi); W1 + W3 = sqrt(3) V I cos(phi); sqrt(3) (W3 - W1) = Q
    config = config_for(THREE_PHASE_DELTA)
    load = DeltaLoad(watts=(2000.0,) * 3, volts=400.0, power_factor=power_factor)
    chip, _, _ = make_chip(load, config)
    snapshot = chip.read_snapshot(config)
    phi = math.acos(power_factor)
    amps = 6000.0 / (SQRT3 * 400.0 * power_factor)
    w1 = 400.0 * amps * math.cos(math.radians(30) + phi)
    w3 = 400.0 * amps * math.cos(math.radians(30) - phi)
    a, c = snapshot.phases[Phase.A], snapshot.phases[Phase.C]
    assert a.current == pytest.approx(amps, abs=0.001)
    assert a.active_power == pytest.approx(w1, abs=0.05)
    assert c.active_power == pytest.approx(w3, abs=0.05)
    assert a.active_power + c.active_power == pytest.approx(6000.0, abs=0.1)
    assert SQRT3 * (c.active_power - a.active_power) == pytest.approx(6000.0 * math.tan(phi), abs=0.2)
    total_q = a.reactive_power + c.reactive_power
    assert three_wire_power_factor(a.active_power + c.active_power, total_q) == pytest.approx(power_factor, abs=1e-4)


def test_the_two_wattmeter_total_is_the_three_phase_power_of_an_unbalanced_load() -> None:
    # Blondel: two elements meter any three-wire load; the loads' own powers add to 3000 + 2500 + 2000 W
    config = config_for(THREE_PHASE_DELTA)
    load = DeltaLoad(watts=(3000.0, 2500.0, 2000.0), volts=(400.0, 395.0, 402.0), power_factor=(0.95, 0.9, 0.85))
    chip, _, _ = make_chip(load, config)
    snapshot = chip.read_snapshot(config)
    assert snapshot.phases[Phase.A].active_power != pytest.approx(snapshot.phases[Phase.C].active_power, rel=0.01)
    assert sum(r.active_power for r in snapshot.phases.values()) == pytest.approx(7500.0, abs=0.1)
    # the reactive powers add to the loads' own: P tan(acos PF) each
    q = sum(w * math.tan(math.acos(pf)) for w, pf in ((3000.0, 0.95), (2500.0, 0.9), (2000.0, 0.85)))
    assert sum(r.reactive_power for r in snapshot.phases.values()) == pytest.approx(q, abs=0.1)
    # the voltages the inputs see are Uab and Ucb; UangleC is not 300 on unbalanced voltages
    assert snapshot.phases[Phase.A].voltage == pytest.approx(400.0, abs=0.01)
    assert snapshot.phases[Phase.C].voltage == pytest.approx(395.0, abs=0.01)


def test_energy_of_the_two_elements_nets_in_the_chip_to_the_count() -> None:
    # 7500 W for 36 s = 75 Wh = 24000 counts of 0.003125 Wh in APenergyT (EnPA + EnPC, DS p.56)
    config = config_for(THREE_PHASE_DELTA)
    load = DeltaLoad(watts=(3000.0, 2500.0, 2000.0), power_factor=(0.95, 0.9, 0.85))
    chip, emulator, clock = make_chip(load, config)
    chip.read_snapshot(config)  # empties the registers
    clock.advance(36)
    energy = chip.read_snapshot(config).energy
    assert energy.total is not None
    assert energy.total.forward == 24000
    assert energy.total.reverse == 0
    a, c = energy.phases[Phase.A], energy.phases[Phase.C]
    assert a.forward - a.reverse + c.forward - c.reverse == pytest.approx(24000, abs=2)  # each element rounds alone
    assert Phase.B not in energy.phases
    assert emulator.pending_counts(Phase.B) == (0, 0)  # grounded inputs meter nothing


def test_below_pf_half_one_element_reads_negative_and_the_chip_total_still_imports() -> None:
    # PF 0.4: phi = 66.4 degrees, cos(30 + phi) < 0: L1's element reverses while the service imports 6000 W
    config = config_for(THREE_PHASE_DELTA)
    chip, _, clock = make_chip(DeltaLoad(watts=(2000.0,) * 3, power_factor=0.4), config)
    chip.read_snapshot(config)
    clock.advance(36)  # 6000 W x 36 s = 60 Wh = 19200 counts
    snapshot = chip.read_snapshot(config)
    assert snapshot.phases[Phase.A].active_power < 0 < snapshot.phases[Phase.C].active_power
    assert snapshot.energy.phases[Phase.A].reverse > 0
    assert snapshot.energy.total is not None
    assert (snapshot.energy.total.forward, snapshot.energy.total.reverse) == (19200, 0)


def test_a_day_of_the_trace_as_a_delta_service_is_booked_to_the_count() -> None:
    # a read every 60 s for 6 h of the household trace: every count the chip emitted is read, none lost,
    # and they make the trace's own energy (the sum of the three loads, second by second)
    config = config_for(THREE_PHASE_DELTA)
    load = TraceDeltaLoad(start=3000)
    chip, emulator, clock = make_chip(load, config)
    chip.read_snapshot(config)
    start = clock.now
    truth = emulator.total_energy
    emptied = (truth.forward_counts, truth.reverse_counts)  # what the first read took
    forward = reverse = 0
    for _ in range(360):
        clock.advance(60)
        total = chip.read_snapshot(config).energy.total
        assert total is not None
        forward += total.forward
        reverse += total.reverse
    assert truth.forward_lost == truth.reverse_lost == 0
    assert (forward, reverse) == (truth.forward_counts - emptied[0], truth.reverse_counts - emptied[1])
    trace_wh = sum(sum(load.load_watts(k, t) for k in range(3)) for t in range(int(start), int(start) + 21600)) / 3600
    assert forward * reg.ENERGY_LSB_WH == pytest.approx(trace_wh, abs=reg.ENERGY_LSB_WH * 2)


# --- what the chip reads in 3P3W: angles, sequence, no neutral --------------------------


@pytest.mark.parametrize(("uangle_leads", "angle_c"), [(False, 300.0), (True, 60.0)])
def test_the_three_phase_reading_of_a_delta_service(uangle_leads: bool, angle_c: float) -> None:
    # Ucb stands 60 degrees ahead of Uab; the DS does not say which way Uangle counts (p.71)
    config = config_for(THREE_PHASE_DELTA)
    clock = ManualClock()
    emulator = EmulatedAtm90e32(DeltaLoad(), clock=clock, uangle_leads=uangle_leads)
    chip = Atm90e32(emulator, sleep=lambda _s: None)
    chip.configure(config)
    clock.advance(1)
    extra = chip.read_snapshot(config).three_phase
    assert extra is not None
    assert extra.voltage_angles == pytest.approx({Phase.A: 0.0, Phase.C: angle_c}, abs=0.1)
    assert extra.neutral_current is None  # no neutral; IrmsN not read
    assert not extra.voltage_sequence_error
    assert not extra.current_sequence_error


def test_a_reversed_delta_service_sets_the_3p3w_sequence_bits() -> None:
    # DS p.20, 3P3W: correct when C's zero crossing is more than 180 degrees after A's; swapped, Ucb lags Uab by 60
    config = config_for(THREE_PHASE_DELTA)
    chip, _, _ = make_chip(DeltaLoad(reversed_sequence=True), config)
    extra = chip.read_snapshot(config).three_phase
    assert extra is not None
    assert extra.voltage_angles[Phase.C] == pytest.approx(60.0, abs=0.1)
    assert extra.voltage_sequence_error
    assert extra.current_sequence_error


def test_delta_snapshot_reads_one_angle_and_no_neutral() -> None:
    # 2 elements, the all-phase registers and UangleC (a verified read: 2 transactions); no IrmsN, no UangleB
    config = config_for(THREE_PHASE_DELTA)
    chip, _, _ = make_chip(DeltaLoad(), config)
    chip.read_snapshot(config)
    assert chip.read_snapshot(config).transactions == 2 * PER_PHASE + 2 * 2 + PER_CHIP + 1 * 2


def test_voltage_unbalance_from_the_two_measured_line_voltages() -> None:
    # the emulated line voltages 380 / 400 / 390 V; the chip reads Uab, Ucb and UangleC; the third follows
    config = config_for(THREE_PHASE_DELTA)
    chip, _, _ = make_chip(DeltaLoad(volts=(380.0, 400.0, 390.0)), config)
    snapshot = chip.read_snapshot(config)
    extra = snapshot.three_phase
    assert extra is not None
    u_ab, u_cb = snapshot.phases[Phase.A].voltage, snapshot.phases[Phase.C].voltage
    _, _, ca = delta_line_voltages(u_ab, u_cb, extra.voltage_angles[Phase.C])
    assert abs(ca) == pytest.approx(390.0, abs=0.3)  # UangleC holds 0.1 degree (DS p.71): +-0.3 V on Uca
    unbalance = delta_voltage_unbalance_percent(u_ab, u_cb, extra.voltage_angles[Phase.C])
    assert unbalance == pytest.approx(iec_line_unbalance(380.0, 400.0, 390.0), abs=0.05)
    mirrored = delta_voltage_unbalance_percent(u_ab, u_cb, 360.0 - extra.voltage_angles[Phase.C])
    assert mirrored == pytest.approx(unbalance)  # either direction of UangleC
    assert delta_voltage_unbalance_percent(400.0, 400.0, 300.0) == pytest.approx(0.0, abs=1e-9)


def test_three_wire_power_factor_has_none_without_load() -> None:
    assert three_wire_power_factor(0.0, 0.0) is None
    assert three_wire_power_factor(-600.0, 800.0) == pytest.approx(-0.6)


def test_the_trace_delta_rule_one_third_each_twenty_minutes_apart() -> None:
    load = TraceDeltaLoad(start=100)
    trace = read_trace()
    for t in (0.0, 1234.5):
        for k in range(3):
            assert load.load_watts(k, t) == pytest.approx(trace[(100 + math.floor(t) + k * 1200) % len(trace)] / 3)
    point = load.load_at(1234.5)
    watts = sum(load.load_watts(k, 1234.5) for k in range(3))
    assert point.phases[Phase.A].watts + point.phases[Phase.C].watts == pytest.approx(watts)
    assert point.phases[Phase.B].volts == 0.0  # grounded (AN p.10)


@pytest.mark.parametrize(("frequency", "volts"), [(50, 400.0), (60, 240.0)])
def test_simulated_load_of_a_delta_service(frequency: int, volts: float) -> None:
    load = simulated_load(THREE_PHASE_DELTA, line_frequency=frequency)
    assert isinstance(load, TraceDeltaLoad)
    point = load.load_at(0.0)
    assert point.frequency == frequency
    assert point.phases[Phase.A].volts == pytest.approx(volts, rel=0.02)
    assert simulated_load(THREE_PHASE_DELTA, line_frequency=frequency, nominal_volts=480.0).load_at(0.0).phases[
        Phase.C
    ].volts == pytest.approx(480.0, rel=0.02)


def test_delta_point_refuses_voltages_that_close_no_triangle() -> None:
    with pytest.raises(ValueError, match="triangle"):
        delta_point((400.0, 100.0, 100.0), (1.0, 1.0, 1.0), (1.0, 1.0, 1.0), 50.0)
    with pytest.raises(ValueError, match="three"):
        delta_point((400.0, 400.0), (1.0, 1.0, 1.0), (1.0, 1.0, 1.0), 50.0)
    with pytest.raises(ValueError, match="power factor"):
        DeltaLoad(power_factor=0.0)


def test_a_replay_on_a_delta_service_feeds_a_and_c_sixty_degrees_apart() -> None:
    # the person's two columns are the channels' (elements') watts; the chip must see a delta service, not B
    trace = parse_replay_csv("t,l1,l3\n0,1500,2500\n60,1500,2500\n")
    volts = simulated_volts(THREE_PHASE_DELTA, 50)
    load = ReplayLoad.for_wiring(trace, THREE_PHASE_DELTA, volts=volts, frequency=50.0)
    point = load.load_at(0.0)
    assert set(point.phases) == {Phase.A, Phase.C}
    assert [point.phases[p].voltage_angle for p in (Phase.A, Phase.C)] == [0.0, 300.0]
    config = config_for(THREE_PHASE_DELTA)
    chip, _, _ = make_chip(load, config)
    snapshot = chip.read_snapshot(config)
    assert snapshot.phases[Phase.A].voltage == pytest.approx(400.0, abs=0.01)
    assert sum(r.active_power for r in snapshot.phases.values()) == pytest.approx(4000.0, abs=0.1)
    extra = snapshot.three_phase
    assert extra is not None
    assert extra.voltage_angles[Phase.C] == pytest.approx(300.0, abs=0.1)
    assert not extra.voltage_sequence_error


def test_the_simulated_service_voltage_per_wiring() -> None:
    assert [simulated_volts(THREE_PHASE_DELTA, f) for f in (50, 60)] == [400.0, 240.0]
    assert [simulated_volts(THREE_PHASE_WYE, f) for f in (50, 60)] == [230.0, 120.0]
    assert simulated_volts(SPLIT_PHASE, 60, household=True) == 121.5
