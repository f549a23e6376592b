"""The emulator behaves like the chip where the driver and the tests rely on it."""

from __future__ import annotations

import pytest

from custom_components.atm90e32.driver import Atm90e32, ChipConfig, Phase, protocol
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.emulator import (
    TRACE_PATH,
    Board,
    ConstantLoad,
    EmulatedAtm90e32,
    TraceLoad,
    scaled_clock,
)
from tests.emulation import FaultyEmulator, ManualClock

CONFIG = ChipConfig(voltage_gains=(3920, 3920, 3920), current_gains=(25498, 25498, 25498))


def configured(load: ConstantLoad | TraceLoad, clock: ManualClock, board: Board | None = None) -> EmulatedAtm90e32:
    emulator = EmulatedAtm90e32(load, clock=clock, board=board)
    Atm90e32(emulator, sleep=lambda _s: None).configure(CONFIG)
    return emulator


def read(emulator: EmulatedAtm90e32, address: int) -> int:
    return protocol.response_data(emulator.transfer(protocol.encode_read(address)))


def write(emulator: EmulatedAtm90e32, address: int, value: int) -> None:
    emulator.transfer(protocol.encode_write(address, value))


def test_power_on_defaults() -> None:
    emulator = EmulatedAtm90e32(ConstantLoad(), clock=ManualClock())
    assert read(emulator, reg.METER_EN) == 0
    assert read(emulator, reg.MMODE0) == reg.DEFAULT_MMODE0
    assert read(emulator, reg.UGAIN[Phase.A]) == reg.DEFAULT_GAIN
    assert read(emulator, reg.SOFT_RESET) == 0


def test_frames_that_are_not_four_bytes_are_ignored() -> None:
    emulator = EmulatedAtm90e32(ConstantLoad(), clock=ManualClock())
    write(emulator, reg.CFG_REG_ACC_EN, reg.CFG_UNLOCK_CODE)
    assert emulator.transfer(b"\x00\x61\x12") == bytes(3)
    assert emulator.transfer(b"\x00\x61\x12\x34\x56") == bytes(5)
    assert read(emulator, reg.UGAIN[Phase.A]) == reg.DEFAULT_GAIN


def test_configuration_lock() -> None:
    emulator = EmulatedAtm90e32(ConstantLoad(), clock=ManualClock())
    write(emulator, reg.UGAIN[Phase.A], 1234)
    assert read(emulator, reg.UGAIN[Phase.A]) == reg.DEFAULT_GAIN
    write(emulator, reg.CFG_REG_ACC_EN, reg.CFG_UNLOCK_CODE)
    write(emulator, reg.UGAIN[Phase.A], 1234)
    write(emulator, reg.CFG_REG_ACC_EN, 0)
    write(emulator, reg.UGAIN[Phase.C], 4321)
    assert read(emulator, reg.UGAIN[Phase.A]) == 1234
    assert read(emulator, reg.UGAIN[Phase.C]) == reg.DEFAULT_GAIN


def test_lastspidata_holds_the_previous_read_or_write() -> None:
    emulator = EmulatedAtm90e32(ConstantLoad(), clock=ManualClock())
    write(emulator, reg.CFG_REG_ACC_EN, 0x55AA)
    assert read(emulator, reg.LAST_SPI_DATA) == 0x55AA
    read(emulator, reg.MMODE0)
    assert read(emulator, reg.LAST_SPI_DATA) == reg.DEFAULT_MMODE0


def test_soft_reset_restores_defaults_and_clears_counters() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(3000.0, 0.0)), clock)
    clock.advance(30)
    assert emulator.pending_counts(Phase.A)[0] > 0
    write(emulator, reg.SOFT_RESET, 0x1234)  # a wrong code does nothing
    assert read(emulator, reg.METER_EN) == 1
    write(emulator, reg.SOFT_RESET, reg.SOFT_RESET_CODE)
    assert read(emulator, reg.METER_EN) == 0
    assert read(emulator, reg.UGAIN[Phase.A]) == reg.DEFAULT_GAIN
    assert emulator.pending_counts(Phase.A) == (0, 0)
    clock.advance(30)
    assert emulator.pending_counts(Phase.A) == (0, 0)  # MeterEn = 0: nothing accumulates


def test_gains_and_pga_scale_the_readings_as_on_the_chip() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(1200.0, 0.0), volts=120.0, power_factor=1.0), clock)
    chip = Atm90e32(emulator, sleep=lambda _s: None)
    assert chip.read_phase(Phase.A).voltage == pytest.approx(120.0, abs=0.01)
    assert chip.read_phase(Phase.A).current == pytest.approx(10.0, abs=0.001)
    chip.configure(ChipConfig(voltage_gains=(7840, 3920, 3920), current_gains=(25498, 25498, 25498), pga_gain=4))
    reading = chip.read_phase(Phase.A)
    assert reading.voltage == pytest.approx(240.0, abs=0.01)  # doubled Ugain doubles the voltage
    assert reading.current == pytest.approx(20.0, abs=0.001)  # doubled PGA doubles the current
    assert reading.active_power == pytest.approx(4800.0, abs=0.01)


def test_a_wrong_board_gain_reads_wrong() -> None:
    clock = ManualClock()
    board = Board(voltage_gains=(3920 / 1.03,) * 3, current_gains=(25498 / 0.93,) * 3)
    emulator = configured(ConstantLoad(watts=(1200.0, 0.0), volts=120.0, power_factor=1.0), clock, board)
    reading = Atm90e32(emulator).read_phase(Phase.A)
    assert reading.voltage == pytest.approx(120.0 * 1.03, abs=0.01)
    assert reading.current == pytest.approx(10.0 * 0.93, abs=0.001)


def test_energy_counts_at_0_003125_wh_and_wraps_at_16_bits() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(7200.0, 0.0), power_factor=1.0), clock)  # 60 A at 120 V
    clock.advance(100)  # 200 Wh = 64000 counts: fits
    assert emulator.pending_counts(Phase.A)[0] == 64000
    clock.advance(20)  # 240 Wh = 76800 counts: the register wraps
    emulator.pending_counts(Phase.A)
    e = emulator.energy[Phase.A]
    assert e.forward_counts == 76800
    assert e.forward_register == e.forward_counts - 65536
    assert e.wrapped_counts == 65536
    assert read(emulator, reg.AP_ENERGY[Phase.A]) == e.forward_counts - 65536
    assert read(emulator, reg.AP_ENERGY[Phase.A]) == 0  # cleared by the read


def test_forward_and_reverse_net_within_one_count() -> None:
    class Alternating:
        step: float | None = 1.0

        def load_at(self, t: float) -> object:
            watts = 5.0 if int(t) % 2 == 0 else -5.0  # 0.44 counts a second, then back
            return ConstantLoad(watts=(watts, 0.0), power_factor=1.0).load_at(t)

    clock = ManualClock()
    emulator = configured(Alternating(), clock)  # type: ignore[arg-type]
    clock.advance(3600)
    # without netting each direction would count 200 times 0.44; netted, the residual never reaches a count
    assert emulator.pending_counts(Phase.A) == (0, 0)
    assert emulator.energy[Phase.A].forward_wh == pytest.approx(5 * 1800 / 3600)


def test_current_saturates_at_full_scale() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(12000.0, 0.0), volts=120.0, power_factor=1.0), clock)
    assert Atm90e32(emulator).read_phase(Phase.A).current == pytest.approx(65.535)


def test_phase_threshold_stops_creep() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(0.1, 0.0), power_factor=1.0), clock)  # below PPhaseTh 0.24 W
    clock.advance(3600)
    assert emulator.pending_counts(Phase.A) == (0, 0)


def test_dead_bus_reads_all_ones_or_zeros_and_the_chip_sees_nothing() -> None:
    emulator = FaultyEmulator(ConstantLoad(), clock=ManualClock())
    emulator.faults.dead_bus = 0xFF
    assert emulator.transfer(protocol.encode_read(reg.MMODE0)) == b"\xff" * 4
    write(emulator, reg.SOFT_RESET, reg.SOFT_RESET_CODE)
    assert emulator.resets == 0
    emulator.faults.dead_bus = 0x00
    assert emulator.transfer(protocol.encode_read(reg.MMODE0)) == b"\x00" * 4


def test_trace_load_splits_the_whole_home_watts() -> None:
    load = TraceLoad()
    assert len(load.watts) == 21600
    assert load.whole_home_watts(0) == 1154
    l1, l2 = load.leg_watts(0)
    assert l1 == pytest.approx(1154 * 0.55)
    assert l1 + l2 == pytest.approx(1154)
    assert load.whole_home_watts(21600) == 1154  # loops
    point = load.load_at(0)
    assert point.phases[Phase.A].volts == pytest.approx(121.5 - 0.6 * 1154 * 0.55 / 1000)
    with pytest.raises(ValueError, match="l1_share"):
        TraceLoad(l1_share=1.5)


def test_trace_file_is_the_cited_one() -> None:
    source = (TRACE_PATH.parent / "SOURCE.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in source
    assert "doi:10.7910/DVN/ZJW4LC" in source


def test_scaled_clock_runs_faster() -> None:
    base = ManualClock(100.0)
    fast = scaled_clock(60.0, base)
    assert fast() == 0.0
    base.advance(2.0)
    assert fast() == pytest.approx(120.0)
