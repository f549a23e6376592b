"""The emulator behaves like the chip where the driver and the tests rely on it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from custom_components.atm90e32.driver import Atm90e32, ChipConfig, Phase, protocol
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.emulator import (
    TRACE_PATH,
    Board,
    ConstantLoad,
    Disturbance,
    EmulatedAtm90e32,
    LoadPoint,
    LoadSource,
    PhaseLoad,
    TraceLoad,
    scaled_clock,
)
from tests.emulation import FaultyEmulator, ManualClock

CONFIG = ChipConfig(voltage_gains=(3920, 3920, 3920), current_gains=(25498, 25498, 25498))


STUCK_OV = reg.OV_BITS[Phase.A] | reg.OV_BITS[Phase.C]
"""OVth 0xFFFF stands for 110.9 V at Ugain 3920, below 120 V: set on both legs, ignored by the driver."""
B_LOST = reg.SAG_BITS[Phase.B] | reg.PHASE_LOSS_BITS[Phase.B]
"""Phase B has no voltage on the split-phase board: sag and phase loss, ignored by the driver."""
NO_SEQUENCE = reg.U_REV_WN_BIT | reg.I_REV_WN_BIT
"""The split-phase legs on one voltage (A and C at 0 degrees) fail the 3P3W rule "C more than 180 degrees after A"
(DS p.20): sequence error bits set, ignored by the driver (not three-phase)."""


def configured(load: LoadSource, clock: ManualClock, board: Board | None = None) -> EmulatedAtm90e32:
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

        def load_at(self, t: float) -> LoadPoint:
            watts = 5.0 if int(t) % 2 == 0 else -5.0  # 0.44 counts a second, then back
            return ConstantLoad(watts=(watts, 0.0), power_factor=1.0).load_at(t)

    clock = ManualClock()
    emulator = configured(Alternating(), clock)
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


# --- all-phase energy registers APenergyT / ANenergyT (DS p.12, pp.55-56, p.67) ----------

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
    emulator = configured(ThreePhaseLoad(watts=(1000.0, 700.0, 500.0)), clock)
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
    # DS Figure-6 p.14: a leg whose |P| + |Q| (PF 0.95: |Q| = 0.329 |P|) is not above PPhaseTh (0.24 W) adds 0,
    # and the sum meters when its |P| exceeds PStartTh (2.4 W): about max(0, whole - 800) W forward and
    # max(0, 800 - whole) W reverse each second, 1770.79 Wh and 482.14 Wh over this trace
    q_per_w = math.tan(math.acos(0.95))

    def summed(t: int) -> float:
        legs = [watts for watts in load.leg_watts(t) if abs(watts) * (1 + q_per_w) > 750 * reg.POWER_LSB]
        return sum(legs) if abs(sum(legs)) > 7500 * reg.POWER_LSB else 0.0

    seconds = range(len(load.watts))
    assert total.forward_wh == pytest.approx(sum(max(0.0, summed(t)) for t in seconds) / 3600)
    assert total.reverse_wh == pytest.approx(sum(max(0.0, -summed(t)) for t in seconds) / 3600)
    assert total.forward_wh == pytest.approx(1770.79, abs=0.01)
    # netted inside the chip: less counted each way than the legs, the same net within a count per register
    assert total.forward_counts < a.forward_counts + c.forward_counts
    legs_net = a.forward_counts + c.forward_counts - c.reverse_counts
    assert abs((total.forward_counts - total.reverse_counts) - legs_net) <= 2


# --- power quality: status, latched status, scheduled disturbances (DS pp.60-63) -----------

A, B, C = Phase.A, Phase.B, Phase.C
SAG_A, SAG_B, SAG_C = reg.SAG_BITS
LOSS_A, LOSS_B, LOSS_C = reg.PHASE_LOSS_BITS


def true_reading_chip(load: LoadSource, clock: ManualClock, gain: int = 32768, **thresholds: int) -> EmulatedAtm90e32:
    """A metering chip whose Ugain = Igain = ``gain`` read the truth (board at the same gains, PGA 1x).

    ``thresholds`` maps register names of ``reg`` (OV_TH, SAG_TH, ...) to values.  Every
    status change may latch (EMMIntEn0/1 = 0xFFFF, DS p.64-65).  Every latched bit the
    setup caused (phase B has no voltage) is cleared before returning.
    """
    board = Board(voltage_gains=(gain,) * 3, current_gains=(gain,) * 3, current_gain_pga=1)
    emulator = EmulatedAtm90e32(load, clock=clock, board=board)
    write(emulator, reg.CFG_REG_ACC_EN, reg.CFG_UNLOCK_CODE)
    for phase in Phase:
        write(emulator, reg.UGAIN[phase], gain)
        write(emulator, reg.IGAIN[phase], gain)
    for name, value in thresholds.items():
        write(emulator, getattr(reg, name), value)
    write(emulator, reg.METER_EN, reg.METER_ENABLE)
    write(emulator, reg.CFG_REG_ACC_EN, reg.CFG_LOCK_CODE)
    write(emulator, reg.EMM_INT_EN0, 0xFFFF)
    write(emulator, reg.EMM_INT_EN1, 0xFFFF)
    clear_latches(emulator)
    return emulator


def status(emulator: EmulatedAtm90e32) -> tuple[int, int]:
    """Read EMMState0 and EMMState1."""
    return read(emulator, reg.EMM_STATE0), read(emulator, reg.EMM_STATE1)


def latched(emulator: EmulatedAtm90e32) -> tuple[int, int]:
    """Read EMMIntState0 and EMMIntState1 (reading does not clear them)."""
    return read(emulator, reg.EMM_INT_STATE0), read(emulator, reg.EMM_INT_STATE1)


def clear_latches(emulator: EmulatedAtm90e32) -> None:
    """Write back what EMMIntState0/1 hold: write 1 to clear."""
    for address in (reg.EMM_INT_STATE0, reg.EMM_INT_STATE1):
        write(emulator, address, read(emulator, address))


def test_power_quality_register_map() -> None:
    assert reg.OI_TH == 0x0B
    assert (reg.UPEAK, reg.IPEAK) == ((0xF1, 0xF2, 0xF3), (0xF5, 0xF6, 0xF7))
    assert (reg.PMEAN_F, reg.PMEAN_F_LSB) == ((0xD1, 0xD2, 0xD3), (0xE1, 0xE2, 0xE3))
    assert (reg.PMEAN_H, reg.PMEAN_H_LSB) == ((0xD5, 0xD6, 0xD7), (0xE5, 0xE6, 0xE7))
    assert (reg.OI_BITS, reg.OV_BITS) == ((0x8000, 0x4000, 0x2000), (0x1000, 0x0800, 0x0400))
    assert (reg.FREQ_HI_BIT, reg.SAG_BITS, reg.FREQ_LO_BIT) == (0x8000, (0x4000, 0x2000, 0x1000), 0x0800)
    assert reg.PHASE_LOSS_BITS == (0x0400, 0x0200, 0x0100)


@pytest.mark.parametrize(
    ("gain", "name", "threshold", "volts", "tripped"),
    [
        # V = Th x 2 x Ugain / 32768 / (100 x sqrt(2)):
        # SagTh 56744 at Ugain 3920 = 95.99997 V (80 % of 120 V, protocol.sag_threshold(96, 3920))
        (3920, "SAG_TH", 56744, 96.00, False),
        (3920, "SAG_TH", 56744, 95.99, True),
        # SagTh 8485 at Ugain 32768 = 119.99602 V
        (32768, "SAG_TH", 8485, 120.00, False),
        (32768, "SAG_TH", 8485, 119.99, True),
        # OVth 9334 at Ugain 32768 = 132.00269 V
        (32768, "OV_TH", 9334, 132.00, False),
        (32768, "OV_TH", 9334, 132.01, True),
        # OVth at its 16-bit limit 65535 at Ugain 3920 = 110.87265 V: no swell threshold above it is representable
        (3920, "OV_TH", 0xFFFF, 110.87, False),
        (3920, "OV_TH", 0xFFFF, 110.88, True),
        # PhaseLossTh 4243 at Ugain 32768 = 60.00508 V
        (32768, "PHASE_LOSS_TH", 4243, 60.01, False),
        (32768, "PHASE_LOSS_TH", 4243, 60.00, True),
    ],
)
def test_voltage_thresholds_map_to_volts(gain: int, name: str, threshold: int, volts: float, tripped: bool) -> None:
    bit = {"SAG_TH": (1, SAG_A), "OV_TH": (0, reg.OV_BITS[A]), "PHASE_LOSS_TH": (1, LOSS_A)}[name]
    emulator = true_reading_chip(ConstantLoad(volts=volts), ManualClock(), gain, **{name: threshold})
    assert Atm90e32(emulator).read_phase(A).voltage == pytest.approx(volts, abs=0.01)  # the reading is true
    assert bool(status(emulator)[bit[0]] & bit[1]) is tripped


@pytest.mark.parametrize(
    ("gain", "threshold", "amps", "tripped"),
    [
        # I = Th x 2 x Igain / 32768 / (1000 x sqrt(2)): OIth 14142 at Igain 32768 = 19.99981 A
        (32768, 14142, 19.999, False),
        (32768, 14142, 20.000, True),
        # OIth 18175 at Igain 25498 = 20.00072 A
        (25498, 18175, 20.000, False),
        (25498, 18175, 20.001, True),
    ],
)
def test_the_over_current_threshold_maps_to_amps(gain: int, threshold: int, amps: float, tripped: bool) -> None:
    load = ConstantLoad(watts=(amps * 120.0, 0.0), volts=120.0, power_factor=1.0)
    emulator = true_reading_chip(load, ManualClock(), gain, OI_TH=threshold)
    assert Atm90e32(emulator).read_phase(A).current == pytest.approx(amps, abs=0.001)
    assert bool(status(emulator)[0] & reg.OI_BITS[A]) is tripped


def test_an_unconfigured_chip_reports_nothing() -> None:
    clock = ManualClock()
    emulator = EmulatedAtm90e32(ConstantLoad(volts=300.0), clock=clock)  # every threshold at its power-on 0
    set_config(emulator, reg.METER_EN, reg.METER_ENABLE)
    clock.advance(1)
    assert status(emulator) == (0, 0)  # no over-voltage, and phase B's 0 V is no sag without SagTh
    assert latched(emulator) == (0, 0)
    emulator = EmulatedAtm90e32(ConstantLoad(volts=50.0), clock=clock)
    set_config(emulator, reg.SAG_TH, 56744)
    clock.advance(1)
    assert status(emulator) == (0, 0)  # MeterEn = 0: nothing is monitored


def test_a_sag_between_two_reads_is_latched() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(1000.0, 500.0), volts=120.0, power_factor=1.0), clock)
    # the driver's SagTh: 80 % of 120 V at Ugain 3920 = 56744 = 95.99997 V; phase B (no voltage) is in sag and
    # phase loss; OVth 0xFFFF (110.9 V, the most Ugain 3920 allows: a swell the chip cannot hold) fires at 120 V
    assert read(emulator, reg.SAG_TH) == 56744
    assert status(emulator) == (STUCK_OV | NO_SEQUENCE, B_LOST)
    clear_latches(emulator)
    emulator.schedule(Disturbance("sag", start=10.0, end=10.2, value=90.0, phase=A))
    clock.advance(8)
    assert status(emulator) == (STUCK_OV | NO_SEQUENCE, B_LOST)
    assert latched(emulator) == (0, 0)
    clock.advance(5)  # 13 s: the 200 ms sag began and ended between the reads 5 s apart
    assert status(emulator) == (STUCK_OV | NO_SEQUENCE, B_LOST)  # over
    # but latched (and the stuck over-voltage bit of A dropped during the sag and came back: latched too)
    assert latched(emulator) == (reg.OV_BITS[A], SAG_A)
    assert latched(emulator) == (reg.OV_BITS[A], SAG_A)  # reading does not clear it
    write(emulator, reg.EMM_INT_STATE1, 0)  # a 0 bit clears nothing
    assert read(emulator, reg.LAST_SPI_DATA) == 0  # the write is echoed as any write
    assert latched(emulator) == (reg.OV_BITS[A], SAG_A)
    write(emulator, reg.EMM_INT_STATE1, SAG_A)  # outside the configuration space: no unlock needed
    assert read(emulator, reg.LAST_SPI_DATA) == SAG_A
    assert latched(emulator) == (reg.OV_BITS[A], 0)
    assert read(emulator, reg.CRC_ERR_STATUS) == 0
    # the energy follows the sag, current unchanged: 1000 W for 12.8 s and 1000 x 90 / 120 = 750 W for 0.2 s
    assert emulator.energy[A].forward_wh == pytest.approx((1000 * 12.8 + 750 * 0.2) / 3600)


def test_a_swell_lasting_across_a_read_shows_in_status_and_latch() -> None:
    clock = ManualClock()
    # OVth 9334 at Ugain 32768 = 132.0027 V (110 % of 120 V)
    emulator = true_reading_chip(ConstantLoad(volts=120.0), clock, OV_TH=9334)
    ov_a = reg.OV_BITS[A]
    emulator.schedule(Disturbance("swell", start=10.0, end=20.0, value=135.0, phase=A))
    clock.advance(15)
    assert status(emulator)[0] == ov_a
    assert latched(emulator)[0] == ov_a
    assert Atm90e32(emulator).read_phase(A).voltage == pytest.approx(135.0)
    write(emulator, reg.EMM_INT_STATE0, ov_a)
    assert latched(emulator)[0] == 0  # cleared, while the condition still holds
    assert status(emulator)[0] == ov_a
    clock.advance(10)
    assert status(emulator)[0] == 0
    assert latched(emulator)[0] == ov_a  # the end is a change too
    assert Atm90e32(emulator).read_phase(A).voltage == pytest.approx(120.0)


def test_clearing_one_latched_bit_leaves_the_others() -> None:
    clock = ManualClock()
    emulator = true_reading_chip(ConstantLoad(volts=120.0), clock, SAG_TH=8485)  # 119.996 V
    emulator.schedule(Disturbance("sag", 1.0, 1.5, 100.0, A))
    emulator.schedule(Disturbance("sag", 1.2, 2.0, 100.0, C))  # overlapping, on another phase
    clock.advance(5)
    assert latched(emulator) == (0, SAG_A | SAG_C)
    write(emulator, reg.EMM_INT_STATE1, SAG_A)
    assert latched(emulator) == (0, SAG_C)
    write(emulator, reg.EMM_INT_STATE1, 0xFFFF)
    assert latched(emulator) == (0, 0)
    assert status(emulator) == (0, SAG_B)  # phase B has no voltage all along


def test_frequency_excursions_set_freqhi_and_freqlo() -> None:
    clock = ManualClock()
    # 60 Hz +- 1 %: FreqLoTh 5940, FreqHiTh 6060 (0.01 Hz)
    emulator = true_reading_chip(ConstantLoad(frequency=60.0), clock, FREQ_LO_TH=5940, FREQ_HI_TH=6060)
    emulator.schedule(Disturbance("frequency", 10.0, 12.0, 60.61))
    emulator.schedule(Disturbance("frequency", 20.0, 20.5, 59.39))
    emulator.schedule(Disturbance("frequency", 30.0, 31.0, 60.60))  # not above 60.60 Hz: nothing
    clock.advance(11)
    assert read(emulator, reg.FREQ) == 6061
    assert status(emulator) == (0, reg.FREQ_HI_BIT)
    clock.advance(4)
    assert status(emulator) == (0, 0)
    assert latched(emulator) == (0, reg.FREQ_HI_BIT)
    clear_latches(emulator)
    clock.advance(10)
    assert read(emulator, reg.FREQ) == 6000
    assert latched(emulator) == (0, reg.FREQ_LO_BIT)
    clear_latches(emulator)
    clock.advance(10)
    assert latched(emulator) == (0, 0)


def test_frequency_bits_need_both_thresholds() -> None:
    clock = ManualClock()
    emulator = true_reading_chip(ConstantLoad(frequency=60.0), clock, FREQ_HI_TH=6060)
    emulator.schedule(Disturbance("frequency", 1.0, 2.0, 61.0))
    clock.advance(1.5)
    assert status(emulator) == (0, 0)


def test_over_current_keeps_the_power_factor() -> None:
    clock = ManualClock()
    # 1200 W at 120 V and PF 0.8: 12.5 A.  OIth 14142 at Igain 32768 = 19.9998 A
    emulator = true_reading_chip(ConstantLoad(watts=(1200.0, 0.0), power_factor=0.8), clock, OI_TH=14142)
    oi_a = reg.OI_BITS[A]
    emulator.schedule(Disturbance("over_current", 10.0, 70.0, 25.0, A))
    clock.advance(5)
    assert status(emulator)[0] == 0
    clock.advance(10)
    reading = Atm90e32(emulator).read_phase(A)
    assert reading.current == pytest.approx(25.0)
    assert reading.active_power == pytest.approx(120 * 25 * 0.8)  # 2400 W
    assert reading.power_factor == pytest.approx(0.8)
    assert status(emulator)[0] == oi_a
    assert latched(emulator)[0] == oi_a
    clock.advance(85)  # 100 s
    assert status(emulator)[0] == 0
    # 1200 W for 40 s and 2400 W for 60 s = 13.333 + 40 = 53.333 Wh
    assert emulator.energy[A].forward_wh == pytest.approx((1200 * 40 + 2400 * 60) / 3600)


def test_a_phase_loss_meters_nothing_on_that_phase() -> None:
    clock = ManualClock()
    # 3600 W on A at PF 1; PhaseLossTh 4243 at Ugain 32768 = 60.005 V
    emulator = true_reading_chip(ConstantLoad(watts=(3600.0, 0.0), power_factor=1.0), clock, PHASE_LOSS_TH=4243)
    emulator.schedule(Disturbance("phase_loss", 10.0, 20.0, 0.0, A))
    clock.advance(15)
    assert status(emulator) == (0, LOSS_A | LOSS_B)
    reading = Atm90e32(emulator).read_phase(A)
    assert (reading.voltage, reading.current, reading.active_power) == (0.0, 0.0, 0.0)
    clock.advance(15)  # 30 s: 3600 W for 20 of them = 20 Wh = 6400 counts
    assert status(emulator) == (0, LOSS_B)
    assert latched(emulator) == (0, LOSS_A)
    assert emulator.pending_counts(A) == (6400, 0)
    assert emulator.energy[A].forward_wh == pytest.approx(20.0)


def test_disturbances_split_the_load_steps_exactly() -> None:
    clock = ManualClock()
    load = TraceLoad()
    emulator = configured(load, clock)
    # phase loss over [1.5, 2.25) s: second 1 meters 0.5 s, second 2 meters 0.75 s
    emulator.schedule(Disturbance("phase_loss", 1.5, 2.25, 0.0, A))
    clock.advance(3)
    emulator.pending_counts(A)
    l1 = [load.leg_watts(t)[0] for t in range(3)]
    assert emulator.energy[A].forward_wh == pytest.approx((l1[0] + 0.5 * l1[1] + 0.75 * l1[2]) / 3600, rel=1e-12)
    assert read(emulator, reg.EMM_INT_STATE1) & SAG_A  # the driver's SagTh saw it too


def test_peak_registers_invert_the_datasheet_formula() -> None:
    clock = ManualClock()
    emulator = configured(ConstantLoad(watts=(1200.0, 0.0), volts=120.0, power_factor=1.0), clock)  # 10 A
    # UPeak = round(sqrt(2) x 120.00 x 100 x 2^13 / 3920) = round(35465.01) = 35465: beyond the complement
    # range of the register (DS p.71), so it saturates at 32767 (the DS scale contradicts a 3920 board at 120 V)
    assert read(emulator, reg.UPEAK[A]) == 0x7FFF
    # IPeak = round(sqrt(2) x 10.000 x 1000 x 2^13 / 25498) = round(4543.59) = 4544
    assert read(emulator, reg.IPEAK[A]) == 4544
    assert read(emulator, reg.UPEAK[B]) == read(emulator, reg.IPEAK[B]) == 0
    clock.advance(0.02)  # the next 20 ms peak period (SagPeakDetCfg 0x143F, DS p.44): the negative crest
    assert read(emulator, reg.IPEAK[A]) == 0x10000 - 4544
    assert read(emulator, reg.UPEAK[A]) == 0x8000


def test_fundamental_and_harmonic_power() -> None:
    clock = ManualClock()
    load = ConstantLoad(watts=(1000.0, -500.0), power_factor=1.0, harmonic_share=0.1)
    emulator = configured(load, clock)

    def power(high: tuple[int, ...], low: tuple[int, ...], phase: Phase) -> float:
        return protocol.power(protocol.to_signed32(read(emulator, high[phase]), read(emulator, low[phase])))

    # 0.1 of 1000 W is harmonic: PmeanF 900 W (2 812 500 LSB of 0.00032 W), PmeanH 100 W
    assert power(reg.PMEAN_F, reg.PMEAN_F_LSB, A) == pytest.approx(900.0, abs=reg.POWER_LSB)
    assert power(reg.PMEAN_H, reg.PMEAN_H_LSB, A) == pytest.approx(100.0, abs=reg.POWER_LSB)
    assert power(reg.PMEAN, reg.PMEAN_LSB, A) == pytest.approx(1000.0, abs=reg.POWER_LSB)
    assert power(reg.PMEAN_F, reg.PMEAN_F_LSB, C) == pytest.approx(-450.0, abs=reg.POWER_LSB)  # signed as Pmean
    assert power(reg.PMEAN_H, reg.PMEAN_H_LSB, C) == pytest.approx(-50.0, abs=reg.POWER_LSB)
    with pytest.raises(ValueError, match="harmonic_share"):
        ConstantLoad(harmonic_share=1.5)


@pytest.mark.parametrize("how", ["brown_out", "soft_reset"])
def test_a_reset_clears_the_latches(how: str) -> None:
    clock = ManualClock()
    emulator = FaultyEmulator(ConstantLoad(volts=120.0), clock=clock)
    Atm90e32(emulator, sleep=lambda _s: None).configure(CONFIG)
    emulator.schedule(Disturbance("sag", 1.0, 2.0, 50.0, A))
    clock.advance(3)
    # the sag, and the stuck over-voltage bit of A it dropped; the changes while configuring were not latched:
    # EMMIntEn0/1 are written after the thresholds (DS p.19)
    assert latched(emulator) == (reg.OV_BITS[A], SAG_A)
    if how == "brown_out":
        emulator.brown_out()
    else:
        write(emulator, reg.SOFT_RESET, reg.SOFT_RESET_CODE)
    assert latched(emulator) == (0, 0)
    assert read(emulator, reg.EMM_INT_EN0) == read(emulator, reg.EMM_INT_EN1) == 0  # power-on default (DS p.64-65)
    assert status(emulator) == (0, 0)  # power-on defaults: MeterEn 0, no thresholds


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("surge", 0.0, 1.0, 1.0, A), "unknown"),
        (("sag", 1.0, 1.0, 90.0, A), "end after"),
        (("sag", 0.0, 1.0, -1.0, A), "at least 0"),
        (("sag", 0.0, 1.0, 90.0, None), "needs a phase"),
        (("frequency", 0.0, 1.0, 61.0, A), "no single phase"),
        (("frequency", 0.0, 1.0, 0.0, None), "positive"),
    ],
)
def test_disturbance_rejects_bad_input(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Disturbance(*args)  # type: ignore[arg-type]
