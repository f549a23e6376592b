"""The chip driver against the register-level emulator: configuration, verification, snapshots."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from custom_components.atm90e32.driver import (
    Atm90e32,
    ChipConfig,
    CommunicationError,
    ConfigurationError,
    DeadBusError,
    EnergyCounts,
    Phase,
    protocol,
)
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.chip import Adoption
from custom_components.atm90e32.driver.emulator import (
    ConstantLoad,
    Disturbance,
    EmulatedAtm90e32,
    LoadPoint,
    LoadSource,
    PhaseLoad,
)
from tests.emulation import FaultyEmulator, ManualClock

CONFIG = ChipConfig(voltage_gains=(3920, 3920, 3920), current_gains=(25498, 25498, 25498))


def make_chip(load: LoadSource, clock: ManualClock | None = None) -> tuple[Atm90e32, FaultyEmulator, ManualClock]:
    clock = clock or ManualClock()
    emulator = FaultyEmulator(load, clock=clock)
    chip = Atm90e32(emulator, sleep=lambda _s: None)
    chip.configure(CONFIG)
    return chip, emulator, clock


class CorruptResponses:
    """Flip bit 0 of the responses whose 1-based index satisfies ``which``."""

    def __init__(self, emulator: EmulatedAtm90e32, which: Callable[[int], bool]) -> None:
        self.emulator, self.which, self.n = emulator, which, 0

    def transfer(self, frame: bytes) -> bytes:
        response = self.emulator.transfer(frame)
        self.n += 1
        if self.which(self.n):
            return response[:3] + bytes([response[3] ^ 0x01])
        return response

    def close(self) -> None:
        self.emulator.close()


def test_configure_writes_and_reads_back_every_register() -> None:
    chip, emulator, _ = make_chip(ConstantLoad())
    assert emulator.registers[reg.METER_EN] == 1
    assert emulator.registers[reg.MMODE0] == 0x1185
    assert emulator.registers[reg.MMODE1] == 0x15
    assert (emulator.registers[reg.PL_CONST_H], emulator.registers[reg.PL_CONST_L]) == (0x0861, 0xC468)
    assert emulator.registers[reg.UGAIN[Phase.A]] == 3920
    assert emulator.registers[reg.IGAIN[Phase.C]] == 25498
    # locked again afterwards
    assert emulator.registers[reg.CFG_REG_ACC_EN] != reg.CFG_UNLOCK_CODE
    assert chip.ensure_configured(CONFIG) is Adoption.ADOPTED


def test_a_changed_register_we_never_write_is_caught_by_the_crc() -> None:
    chip, emulator, _ = make_chip(ConstantLoad())
    chip.verify_config([])
    emulator.registers[reg.UOFFSET[Phase.A]] = 0x0042  # a glitch in a register outside our set
    with pytest.raises(ConfigurationError, match="CRCErrStatus"):
        chip.verify_config([])
    chip.configure(CONFIG)
    chip.verify_config([])


def test_a_write_to_a_locked_chip_is_caught_by_the_read_back() -> None:
    chip, _, _ = make_chip(ConstantLoad())
    chip.write_register(reg.UGAIN[Phase.A], 1234)  # LastSPIData echoes it, but the lock ignored it
    with pytest.raises(ConfigurationError, match="0x61"):
        chip.verify_config([(reg.UGAIN[Phase.A], 1234)])


def test_snapshot_matches_the_load() -> None:
    chip, _, _ = make_chip(ConstantLoad(watts=(1000.0, 500.0), volts=120.0, power_factor=0.95))
    snapshot = chip.read_snapshot(CONFIG)
    a, c = snapshot.phases[Phase.A], snapshot.phases[Phase.C]
    assert a.voltage == pytest.approx(120.0, abs=0.01)
    assert a.current == pytest.approx(1000 / (120 * 0.95), abs=0.001)
    assert a.active_power == pytest.approx(1000.0, abs=0.001)
    assert c.active_power == pytest.approx(500.0, abs=0.001)
    assert a.apparent_power == pytest.approx(1000 / 0.95, abs=0.01)
    assert a.reactive_power == pytest.approx(1000 / 0.95 * math.sqrt(1 - 0.95**2), abs=0.01)
    assert a.power_factor == pytest.approx(0.95)
    assert a.phase_angle == pytest.approx(math.degrees(math.acos(0.95)), abs=0.1)
    assert snapshot.frequency == pytest.approx(60.0)
    assert snapshot.temperature == 38
    assert snapshot.meter_enabled
    assert Phase.B not in snapshot.phases


def test_export_gives_negative_power_and_reverse_energy() -> None:
    chip, emulator, clock = make_chip(ConstantLoad(watts=(-2000.0, 300.0)))
    clock.advance(60)
    snapshot = chip.read_snapshot(CONFIG)
    a = snapshot.phases[Phase.A]
    assert a.active_power == pytest.approx(-2000.0, abs=0.001)
    assert a.power_factor == pytest.approx(-0.95)
    assert a.phase_angle is not None
    assert abs(a.phase_angle) > 90
    expected = 2000 * 60 / 3600 / reg.ENERGY_LSB_WH
    assert snapshot.energy.phases[Phase.A].forward == 0
    assert abs(snapshot.energy.phases[Phase.A].reverse - expected) <= 1
    assert snapshot.energy.phases[Phase.C].reverse == 0
    assert snapshot.energy.phases[Phase.C].forward == emulator.energy[Phase.C].forward_counts


def test_negative_chip_temperature() -> None:
    chip, emulator, _ = make_chip(ConstantLoad())
    emulator.temperature = -12
    assert chip.read_snapshot(CONFIG).temperature == -12


def test_a_flipped_bit_is_caught_by_lastspidata_and_retried() -> None:
    chip, emulator, _ = make_chip(ConstantLoad(volts=120.0))
    emulator.faults.flip_mask, emulator.faults.flip_count = 0x0400, 1
    assert chip.read_register(reg.URMS[Phase.A]) == 12000
    assert chip.verify_failures == 1


def test_persistent_corruption_raises_communication_error() -> None:
    _, emulator, _ = make_chip(ConstantLoad())
    chip = Atm90e32(CorruptResponses(emulator, lambda n: n % 2 == 1))  # every register response
    with pytest.raises(CommunicationError):
        chip.read_register(reg.URMS[Phase.A])
    assert chip.verify_failures == chip.retries
    with pytest.raises(ValueError, match="read_energy"):
        chip.read_register(reg.AP_ENERGY[Phase.A])


def test_energy_register_is_read_once_and_verified_through_lastspidata() -> None:
    chip, emulator, clock = make_chip(ConstantLoad(watts=(3600.0, 0.0), power_factor=1.0))
    clock.advance(10)  # 10 Wh = 3200 counts
    emulator.faults.flip_mask, emulator.faults.flip_count = 0x0100, 1  # corrupt the register's own response
    before = emulator.transfers
    assert chip.read_energy(reg.AP_ENERGY[Phase.A]) == 3200
    # register once, LastSPIData (mismatch), LastSPIData again (agrees): never the register again
    assert emulator.transfers - before == 3
    assert emulator.energy[Phase.A].forward_register == 0


def test_corrupted_lastspidata_during_an_energy_read_settles() -> None:
    _, emulator, clock = make_chip(ConstantLoad(watts=(3600.0, 0.0), power_factor=1.0))
    clock.advance(10)

    assert Atm90e32(CorruptResponses(emulator, lambda n: n == 2)).read_energy(reg.AP_ENERGY[Phase.A]) == 3200


def test_energy_reads_refuse_other_registers() -> None:
    chip, _, _ = make_chip(ConstantLoad())
    with pytest.raises(ValueError, match="not an energy register"):
        chip.read_energy(reg.URMS[Phase.A])


@dataclass
class StepLoad:
    """1000 W on phase A before ``change_at`` seconds, 1500 W after: the high word changes."""

    change_at: float
    step: float | None = 0.5

    def load_at(self, t: float) -> LoadPoint:
        watts = 1000.0 if t < self.change_at else 1500.0
        return LoadPoint(phases={Phase.A: PhaseLoad(120.0, watts, 1.0), Phase.C: PhaseLoad(120.0, 0.0, 1.0)})


class TickingTransport:
    """Advances the clock by one second per transaction, so measurements refresh mid-read."""

    def __init__(self, emulator: EmulatedAtm90e32, clock: ManualClock) -> None:
        self.emulator, self.clock = emulator, clock

    def transfer(self, frame: bytes) -> bytes:
        response = self.emulator.transfer(frame)
        self.clock.advance(1.0)
        return response

    def close(self) -> None:
        self.emulator.close()


def test_a_torn_32_bit_read_is_detected_and_retried() -> None:
    clock = ManualClock()
    load = StepLoad(change_at=0.5)  # changes between the high (t=0) and the low (t=1) read
    emulator = EmulatedAtm90e32(load, clock=clock)
    Atm90e32(emulator, sleep=lambda _s: None).configure(CONFIG)
    clock.now = 0.0
    chip = Atm90e32(TickingTransport(emulator, clock))
    raw = chip.read_register32(reg.PMEAN[Phase.A], reg.PMEAN_LSB[Phase.A])
    old, new = round(1000 / reg.POWER_LSB), round(1500 / reg.POWER_LSB)
    torn = (old & 0xFFFF0000) | (new & 0xFFFF)
    assert old >> 16 != new >> 16  # the test really tears
    assert raw == new
    assert raw != torn
    assert chip.verify_failures == 1


def test_a_value_that_keeps_tearing_raises() -> None:
    class Alternating:
        step: float | None = 1.0

        def load_at(self, t: float) -> LoadPoint:
            watts = 1000.0 if int(t) % 2 == 0 else 1500.0
            return LoadPoint(phases={Phase.A: PhaseLoad(120.0, watts, 1.0)})

    clock = ManualClock()
    emulator = EmulatedAtm90e32(Alternating(), clock=clock)
    Atm90e32(emulator, sleep=lambda _s: None).configure(CONFIG)
    chip = Atm90e32(TickingTransport(emulator, clock))
    with pytest.raises(CommunicationError, match="torn"):
        chip.read_register32(reg.PMEAN[Phase.A], reg.PMEAN_LSB[Phase.A])


@pytest.mark.parametrize("level", [0xFF, 0x00])
def test_a_dead_bus_is_recognised(level: int) -> None:
    chip, emulator, _ = make_chip(ConstantLoad())
    emulator.faults.dead_bus = level
    with pytest.raises(DeadBusError):
        chip.check_alive()
    with pytest.raises(DeadBusError):
        chip.read_snapshot(CONFIG)
    with pytest.raises(DeadBusError):
        chip.configure(CONFIG)
    with pytest.raises(DeadBusError):  # the periodic check blames the bus, not the configuration
        chip.verify_config(chip.config_registers(CONFIG).items())


def test_a_reset_chip_is_reported_and_can_be_configured_again() -> None:
    chip, emulator, clock = make_chip(ConstantLoad())
    emulator.brown_out()
    assert emulator.registers[reg.UGAIN[Phase.A]] == reg.DEFAULT_GAIN
    clock.advance(30)
    snapshot = chip.read_snapshot(CONFIG)
    assert not snapshot.meter_enabled
    assert snapshot.energy.phases[Phase.A].forward == 0  # a reset chip does not meter
    assert chip.ensure_configured(CONFIG) is Adoption.CONFIGURED
    assert chip.ensure_configured(CONFIG) is Adoption.ADOPTED
    assert chip.read_snapshot(CONFIG).meter_enabled


def test_snapshot_transaction_count() -> None:
    chip, _, _ = make_chip(ConstantLoad())
    first = chip.read_snapshot(CONFIG)  # configuring latched nothing: EMMIntEn0/1 are written last (DS p.19)
    snapshot = chip.read_snapshot(CONFIG)
    assert first.transactions == snapshot.transactions
    # per leg: 6 verified 16-bit reads (2 each: U, I, PF, angle, UPeak, IPeak) + 5 guarded 32-bit reads
    # (4 each: P, Q, S, fundamental and harmonic P) + 2 energy (2 each); chip: all-phase APenergyT /
    # ANenergyT (2 each); frequency, temperature, EMMIntState0/1, EMMState0/1, MeterEn (2 each);
    # nothing latched, so nothing to clear
    assert snapshot.transactions == 2 * (6 * 2 + 5 * 4 + 2 * 2) + 2 * 2 + 7 * 2
    assert isinstance(snapshot.energy.total, EnergyCounts)  # a complete read reached the all-phase registers


def test_decoding_uses_the_protocol_functions() -> None:
    chip, _, _ = make_chip(ConstantLoad(volts=123.45))
    assert protocol.voltage(chip.read_register(reg.URMS[Phase.A])) == pytest.approx(123.45, abs=0.01)


def test_retries_must_be_positive() -> None:
    with pytest.raises(ValueError, match="retries"):
        Atm90e32(EmulatedAtm90e32(ConstantLoad()), retries=0)


ENERGY_AND_METER_EN = (2 * 2 + 2) * 2 + 2
"""Transactions at the end of a snapshot: four per-leg and two all-phase energy registers and MeterEn, 2 each."""


@pytest.mark.parametrize("level", [0xFF, 0x00])
@pytest.mark.parametrize("alive_energy_reads", [0, 1, 2, 3, 4, 5, 6])
def test_a_bus_dying_among_the_energy_reads_keeps_the_counts_already_read(level: int, alive_energy_reads: int) -> None:
    chip, emulator, clock = make_chip(ConstantLoad(watts=(1000.0, -500.0)))
    clock.advance(5)
    chip.read_snapshot(CONFIG)  # clears what configuring latched, so the next snapshot writes nothing
    measurements = chip.read_snapshot(CONFIG).transactions - ENERGY_AND_METER_EN
    clock.advance(60)  # about 16.7 / 8.3 Wh waiting in the registers: 5333 / 2666 counts
    pending = {phase: emulator.pending_counts(phase) for phase in (Phase.A, Phase.C)}
    emulator.faults.dies_after, emulator.faults.dies_as = measurements + 2 * alive_energy_reads, level
    with pytest.raises(DeadBusError) as caught:
        chip.read_snapshot(CONFIG)
    reads = caught.value.energy_reads
    assert len(reads) <= 1
    read = reads[0].phases if reads else {}
    if level == 0xFF:  # the all-phase registers come after the legs (a bus reading 0 gives plausible zeros)
        assert (reads[0].total is not None if reads else False) == (alive_energy_reads >= 5)
    totals = [reads[0].total] if reads and reads[0].total is not None else []
    order = [(Phase.A, "forward"), (Phase.A, "reverse"), (Phase.C, "forward"), (Phase.C, "reverse")]
    for index, (phase, direction) in enumerate(order):
        expected = pending[phase][0 if direction == "forward" else 1] if index < alive_energy_reads else 0
        got = getattr(read[phase], direction) if phase in read else 0
        assert got == expected, (phase, direction)
    # all ones are no counts
    assert all(c.forward != 0xFFFF and c.reverse != 0xFFFF for c in [*read.values(), *totals])
    # what was not read is still in the chip for the next refresh
    emulator.faults.dead_bus = None
    for index, (phase, direction) in enumerate(order):
        left = emulator.pending_counts(phase)[0 if direction == "forward" else 1]
        assert left == (0 if index < alive_energy_reads else pending[phase][0 if direction == "forward" else 1])


def test_a_register_that_is_really_full_is_believed() -> None:
    chip, emulator, _ = make_chip(ConstantLoad())
    emulator.energy[Phase.A].forward_register = 0xFFFF
    snapshot = chip.read_snapshot(CONFIG)
    assert snapshot.energy.phases[Phase.A].forward == 0xFFFF
    assert snapshot.meter_enabled


def test_a_failure_before_the_energy_reads_carries_no_counts() -> None:
    chip, emulator, _ = make_chip(ConstantLoad())
    emulator.faults.dead_bus = 0xFF
    with pytest.raises(DeadBusError) as caught:
        chip.read_snapshot(CONFIG)
    assert caught.value.energy_reads == ()


def test_a_running_chip_given_new_settings_keeps_its_unread_counts() -> None:
    chip, emulator, clock = make_chip(ConstantLoad(watts=(2000.0, 1000.0)))
    clock.advance(30)
    pending = emulator.pending_counts(Phase.A)[0]
    assert pending > 0
    resets = emulator.resets
    calibrated = ChipConfig(voltage_gains=(3900, 3900, 3900), current_gains=(25000, 25498, 26000))
    assert chip.ensure_configured(calibrated) is Adoption.UPDATED
    assert emulator.resets == resets  # no reset: nothing cleared
    assert emulator.registers[reg.IGAIN[Phase.A]] == 25000
    assert emulator.registers[reg.CFG_REG_ACC_EN] != reg.CFG_UNLOCK_CODE
    assert chip.read_snapshot(CONFIG).energy.phases[Phase.A].forward >= pending
    assert emulator.energy[Phase.A].forward_lost == 0
    assert chip.ensure_configured(calibrated) is Adoption.ADOPTED


def test_a_full_register_from_a_chip_that_is_not_metering_is_not_believed() -> None:
    chip, emulator, _ = make_chip(ConstantLoad())
    emulator.energy[Phase.A].forward_register = 0xFFFF
    emulator.registers[reg.METER_EN] = 0  # MeterEn reads 0: a reset chip, which counts nothing
    with pytest.raises(CommunicationError, match="not metering") as caught:
        chip.read_snapshot(CONFIG)
    assert not any(Phase.A in read.phases for read in caught.value.energy_reads)


def test_a_chip_left_unlocked_with_the_right_configuration_is_locked() -> None:
    chip, emulator, clock = make_chip(ConstantLoad(watts=(2000.0, 1000.0)))
    chip.write_register(reg.CFG_REG_ACC_EN, reg.CFG_UNLOCK_CODE)  # a crash between the writes and the lock
    clock.advance(30)
    pending = emulator.pending_counts(Phase.A)[0]
    resets = emulator.resets
    assert chip.ensure_configured(CONFIG) is Adoption.UPDATED
    assert emulator.registers[reg.CFG_REG_ACC_EN] != reg.CFG_UNLOCK_CODE
    assert emulator.resets == resets  # locked without a reset: the unread counts stay
    assert emulator.pending_counts(Phase.A)[0] >= pending
    # the CRC guard is on again: a register changed behind our back is caught
    emulator.registers[reg.UOFFSET[Phase.A]] = 0x0042
    with pytest.raises(ConfigurationError, match="CRCErrStatus"):
        chip.verify_config(chip.config_registers(CONFIG).items())


def test_the_periodic_check_catches_a_chip_left_unlocked() -> None:
    chip, _, _ = make_chip(ConstantLoad())
    expected = chip.config_registers(CONFIG).items()
    chip.verify_config(expected)
    chip.write_register(reg.CFG_REG_ACC_EN, reg.CFG_UNLOCK_CODE)
    with pytest.raises(ConfigurationError, match="unlocked"):
        chip.verify_config(expected)
    chip.configure(CONFIG)
    chip.verify_config(expected)


@pytest.mark.parametrize(("meter_en", "verified_reads"), [(0x0001, 1), (0x0003, 1), (0x8000, 1), (0xFFFF, 2)])
def test_any_meter_en_bit_means_metering(meter_en: int, verified_reads: int) -> None:
    chip, emulator, _ = make_chip(ConstantLoad())
    emulator.registers[reg.METER_EN] = meter_en  # MeterEn non-zero enables metering (DS p.41)
    before = chip.transactions
    assert chip.check_alive() is True
    # MeterEn alone (2 transactions); all ones also reads MMode0 to tell a live chip from a dead bus
    assert chip.transactions - before == 2 * verified_reads


def test_all_ones_from_a_dead_bus_cost_two_verified_reads() -> None:
    chip, emulator, _ = make_chip(ConstantLoad())
    emulator.faults.dead_bus = 0xFF
    before = chip.transactions
    with pytest.raises(DeadBusError, match="all ones"):
        chip.check_alive()
    assert chip.transactions - before == 2 * 2  # MeterEn, then MMode0 (0xFFFF: no live chip has it)


class OverrideRegister:
    """Answer reads of ``address`` (and the LastSPIData read that verifies them) with ``value``."""

    def __init__(self, emulator: EmulatedAtm90e32, address: int, value: int) -> None:
        self.emulator, self.address, self.value, self.pending = emulator, address, value, False

    def transfer(self, frame: bytes) -> bytes:
        response = self.emulator.transfer(frame)
        is_read, address, _ = protocol.decode_frame(frame)
        override = is_read and (address == self.address or (address == reg.LAST_SPI_DATA and self.pending))
        self.pending = is_read and address == self.address
        return response[:2] + self.value.to_bytes(2, "big") if override else response

    def close(self) -> None:
        self.emulator.close()


@pytest.mark.parametrize(("raw", "degrees"), [(0xFC7C, -90.0), (2700, -90.0), (61830, None), (6183, None)])
def test_read_phase_passes_the_phase_angle_guard_through(raw: int, degrees: float | None) -> None:
    _, emulator, _ = make_chip(ConstantLoad())
    chip = Atm90e32(OverrideRegister(emulator, reg.PANGLE[Phase.A], raw))
    reading = chip.read_phase(Phase.A)
    assert reading.phase_angle == (None if degrees is None else pytest.approx(degrees))
    assert reading.voltage == pytest.approx(120.0, abs=0.01)  # the other registers are read as they are
    assert chip.verify_failures == 0


def test_a_latched_change_is_cleared_only_by_the_refresh_that_read_it() -> None:
    chip, emulator, clock = make_chip(ConstantLoad(volts=120.0))
    chip.read_snapshot(CONFIG)  # clears what configuring latched
    sag_a = reg.SAG_BITS[Phase.A]
    emulator.schedule(Disturbance("sag", start=clock() + 1.0, end=clock() + 1.2, value=80.0, phase=Phase.A))
    clock.advance(5)
    # A refresh that fails after the status was read leaves the change latched for the next one.
    emulator.faults.dies_after = 80  # after the 76 transactions of measurements and status: among the energy reads
    with pytest.raises(DeadBusError):
        chip.read_snapshot(CONFIG)
    emulator.faults.dead_bus = None
    assert emulator.registers.get(reg.EMM_INT_STATE1, 0) & sag_a
    # The last read before closing reports nothing and clears nothing.
    assert chip.read_snapshot(CONFIG, clear_status=False).status.latched1 & sag_a
    assert emulator.registers.get(reg.EMM_INT_STATE1, 0) & sag_a
    snapshot = chip.read_snapshot(CONFIG)
    assert snapshot.status.latched1 & sag_a
    assert not snapshot.status.state1 & sag_a  # over by the time it was read
    assert not emulator.registers.get(reg.EMM_INT_STATE1, 0) & sag_a  # read, then cleared
    assert not chip.read_snapshot(CONFIG).status.latched1 & sag_a
