"""The emulator behaves like the chip where the driver and the tests rely on it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from custom_components.atm90e32.driver import Atm90e32, ChipConfig, Phase, protocol
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.emulator import (
    TRACE_PATH,
    Board,
    ConstantLoad,
    EmulatedAtm90e32,
    LoadPoint,
    PhaseLoad,
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


# --- all-phase energy registers APenergyT / ANenergyT (DS p.12, p.47-48, p.59) ----------

PF1 = 1.0
"""Power factor 1: Q = 0, so |P| + |Q| = |P| against the thresholds."""


def set_config(emulator: EmulatedAtm90e32, address: int, value: int) -> None:
    """Write a configuration register as the driver does: unlock, write, lock."""
    write(emulator, reg.CFG_REG_ACC_EN, reg.CFG_UNLOCK_CODE)
    write(emulator, address, value)
    write(emulator, reg.CFG_REG_ACC_EN, reg.CFG_LOCK_CODE)


def read_totals(emulator: EmulatedAtm90e32) -> tuple[int, int]:
    """Read (and so clear) APenergyT and ANenergyT."""
    return read(emulator, reg.AP_ENERGY_T), read(emulator, reg.AN_ENERGY_T)


def meter_for(emulator: EmulatedAtm90e32, clock: ManualClock, seconds: int, every: int) -> dict[int, int]:
    """Advance ``seconds`` in steps of ``every``, reading every active energy register after each; returns the sums."""
    addresses = (reg.AP_ENERGY_T, reg.AN_ENERGY_T, *reg.AP_ENERGY, *reg.AN_ENERGY)
    sums = dict.fromkeys(addresses, 0)
    for _ in range(seconds // every):
        clock.advance(every)
        for address in addresses:
            sums[address] += read(emulator, address)
    return sums


@dataclass
class ThreePhaseLoad:
    """The same watts on phases A, B and C at 120 V and power factor 1."""

    watts: tuple[float, float, float]
    step: float | None = None

    def load_at(self, t: float) -> LoadPoint:
        return LoadPoint(phases={phase: PhaseLoad(120.0, w, PF1) for phase, w in zip(Phase, self.watts, strict=True)})


def test_total_forward_sums_both_legs() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(1000.0, 500.0), power_factor=PF1), clock)
    # 1500 W for 3600 s = 1500 Wh = 480000 counts; read every 100 s (13333 counts, the register holds 65535)
    sums = meter_for(emulator, clock, 3600, every=100)
    assert sums[reg.AP_ENERGY_T] == 480000
    assert sums[reg.AN_ENERGY_T] == 0
    assert sums[reg.AP_ENERGY[Phase.A]] == 320000  # 1000 Wh
    assert sums[reg.AP_ENERGY[Phase.C]] == 160000  # 500 Wh
    assert sums[reg.AP_ENERGY[Phase.B]] == 0  # the load gives no phase B: it measures zero
    total = emulator.total_energy
    assert (total.forward_counts, total.reverse_counts) == (480000, 0)
    assert total.forward_readable == 480000
    assert total.forward_wh == pytest.approx(1500.0)
    assert emulator.pending_total_counts() == (0, 0)


def test_total_nets_an_exporting_leg_inside_the_chip() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(1000.0, -400.0), power_factor=PF1), clock)
    sums = meter_for(emulator, clock, 3600, every=100)
    # the chip meters the sum, 600 W: 600 Wh = 192000 counts forward, none reverse
    assert sums[reg.AP_ENERGY_T] == 192000
    assert sums[reg.AN_ENERGY_T] == 0
    # while each leg counts on its own: L1 1000 Wh forward, L2 400 Wh = 128000 counts reverse
    assert sums[reg.AP_ENERGY[Phase.A]] == 320000
    assert sums[reg.AN_ENERGY[Phase.A]] == 0
    assert sums[reg.AP_ENERGY[Phase.C]] == 0
    assert sums[reg.AN_ENERGY[Phase.C]] == 128000
    assert emulator.total_energy.forward_wh == pytest.approx(600.0)
    assert emulator.total_energy.reverse_wh == 0.0


def test_total_sums_only_the_phases_mmode0_enables() -> None:
    clock = ManualClock()
    emulator = configured(ThreePhaseLoad(watts=(1000.0, 700.0, 500.0)), clock)  # type: ignore[arg-type]
    assert read(emulator, reg.MMODE0) == 0x1185  # split-phase: EnPA and EnPC set, EnPB clear
    clock.advance(180)
    # phase B meters into its own registers (700 W x 180 s = 35 Wh = 11200 counts) but not into the total:
    # (1000 + 500) W x 180 s = 75 Wh = 24000 counts
    assert emulator.pending_counts(Phase.B) == (11200, 0)
    assert read_totals(emulator) == (24000, 0)
    set_config(emulator, reg.MMODE0, 0x1187)  # EnPB set as well
    clock.advance(180)
    # (1000 + 700 + 500) W x 180 s = 110 Wh = 35200 counts
    assert read_totals(emulator) == (35200, 0)


def test_total_below_pstartth_does_not_move() -> None:
    clock = ManualClock()
    # 1 W: above PPhaseTh (0x02EE = 0.24 W), below PStartTh (0x1D4C = 2.4 W)
    emulator = configured(ConstantLoad(watts=(1.0, 0.0), power_factor=PF1), clock)
    clock.advance(3600)
    assert emulator.pending_counts(Phase.A) == (320, 0)  # 1 Wh
    assert emulator.pending_total_counts() == (0, 0)
    assert emulator.total_energy.forward_wh == 0.0


@pytest.mark.parametrize(
    ("l2_watts", "total_forward"),
    [(-999.0, 0), (-997.0, 960)],  # sum 1 W: below PStartTh; sum 3 W: 3 Wh = 960 counts
)
def test_total_threshold_applies_to_the_sum_not_the_legs(l2_watts: float, total_forward: int) -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(1000.0, l2_watts), power_factor=PF1), clock)
    sums = meter_for(emulator, clock, 3600, every=100)
    assert sums[reg.AP_ENERGY_T] == total_forward
    assert sums[reg.AN_ENERGY_T] == 0
    assert sums[reg.AP_ENERGY[Phase.A]] == 320000
    assert sums[reg.AN_ENERGY[Phase.C]] == round(-l2_watts / reg.ENERGY_LSB_WH)  # 319680 / 319040


def test_total_wraps_and_a_reset_loses_its_content() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(7200.0, 0.0), power_factor=PF1), clock)
    clock.advance(120)  # 240 Wh = 76800 counts: the 16-bit register wraps once
    total = emulator.total_energy
    assert emulator.pending_total_counts() == (76800 - 65536, 0)
    assert (total.forward_counts, total.wrapped_counts, total.forward_lost) == (76800, 65536, 65536)
    assert read_totals(emulator) == (11264, 0)
    assert read_totals(emulator) == (0, 0)  # cleared by the read
    clock.advance(30)  # 60 Wh = 19200 counts waiting
    assert emulator.pending_total_counts() == (19200, 0)
    write(emulator, reg.SOFT_RESET, reg.SOFT_RESET_CODE)
    assert emulator.pending_total_counts() == (0, 0)
    assert total.forward_counts == 76800 + 19200
    assert total.forward_lost == 65536 + 19200
    assert total.forward_readable == 11264  # exactly what was read
    assert read_totals(emulator) == (0, 0)


def test_a_brown_out_loses_the_total_too() -> None:
    clock = ManualClock()
    emulator = FaultyEmulator(ConstantLoad(watts=(3600.0, 0.0), power_factor=PF1), clock=clock)
    Atm90e32(emulator, sleep=lambda _s: None).configure(CONFIG)
    clock.advance(10)  # 10 Wh = 3200 counts
    resets = emulator.resets
    emulator.brown_out()
    assert emulator.resets == resets + 1
    assert read(emulator, reg.METER_EN) == 0  # power-on defaults
    assert emulator.total_energy.forward_lost == 3200
    assert emulator.energy[Phase.A].forward_lost == 3200
    assert emulator.pending_total_counts() == (0, 0)


def test_any_non_zero_meter_en_meters() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(3600.0, 0.0), power_factor=PF1), clock)
    set_config(emulator, reg.METER_EN, 0x0002)  # DS p.41: metering is on for any non-zero value
    clock.advance(10)
    assert emulator.pending_counts(Phase.A) == (3200, 0)
    assert emulator.pending_total_counts() == (3200, 0)
    assert Atm90e32(emulator).read_phase(Phase.A).active_power == pytest.approx(3600.0)
    set_config(emulator, reg.METER_EN, 0x0000)
    clock.advance(10)
    assert emulator.pending_counts(Phase.A) == (3200, 0)  # nothing added while off
    assert emulator.pending_total_counts() == (3200, 0)


def test_trace_with_l2_generation_exports_on_l2_and_the_total_crosses_zero() -> None:
    load = TraceLoad(l2_generation_w=800.0)
    # t = 0: 1154 W whole-home; L1 0.55 x 1154 = 634.7 W, L2 0.45 x 1154 - 800 = -280.7 W, total +354 W
    l1, l2 = load.leg_watts(0)
    assert l1 == pytest.approx(634.7)
    assert l2 == pytest.approx(-280.7)
    low = next(t for t, watts in enumerate(load.watts) if watts < 800)
    assert sum(load.leg_watts(low)) == pytest.approx(load.watts[low] - 800.0)  # the service exports
    assert load.leg_watts(low)[0] > 0  # while L1 still imports
    with pytest.raises(ValueError, match="l2_generation_w"):
        TraceLoad(l2_generation_w=-1.0)

    clock = ManualClock()
    emulator = configured(load, clock)
    sums = meter_for(emulator, clock, len(load.watts), every=60)  # the whole 6 h trace
    a, c, total = emulator.energy[Phase.A], emulator.energy[Phase.C], emulator.total_energy
    assert sums[reg.AN_ENERGY[Phase.A]] == a.reverse_counts == 0  # L1 never exports
    assert sums[reg.AN_ENERGY[Phase.C]] == c.reverse_counts > 0  # L2 exports
    assert sums[reg.AP_ENERGY_T] == total.forward_counts > 0
    assert sums[reg.AN_ENERGY_T] == total.reverse_counts > 0  # the total crossed zero
    # the total meters max(0, whole - 800) W forward and max(0, 800 - whole) W reverse each second:
    # 1770.83 Wh and 482.14 Wh over this trace (PF 0.95 keeps |P| + |Q| above PStartTh)
    assert total.forward_wh == pytest.approx(sum(max(0, w - 800) for w in load.watts) / 3600)
    assert total.reverse_wh == pytest.approx(sum(max(0, 800 - w) for w in load.watts) / 3600)
    # netted inside the chip: less counted each way than the legs, the same net within a count per register
    assert total.forward_counts < a.forward_counts + c.forward_counts
    legs_net = a.forward_counts + c.forward_counts - c.reverse_counts
    assert abs((total.forward_counts - total.reverse_counts) - legs_net) <= 2
