"""The Meter facade: open without clearing counts, refresh outcomes, recovery, calibration sampling, close."""

from __future__ import annotations

from dataclasses import replace
from unittest.mock import patch

import pytest

from custom_components.atm90e32.driver import ChipConfig, CommunicationError, Phase, protocol
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.calibration import CalibrationError, References
from custom_components.atm90e32.driver.chip import Adoption
from custom_components.atm90e32.driver.emulator import ConstantLoad, EmulatedAtm90e32
from custom_components.atm90e32.driver.meter import Meter, Outcome
from custom_components.atm90e32.driver.models import EnergyRead

CONFIG = ChipConfig(voltage_gains=(3920, 3920, 3920), current_gains=(25498, 25498, 25498))


class Clock:
    """Seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_meter(watts: tuple[float, float] = (1000.0, 500.0)) -> tuple[Meter, EmulatedAtm90e32, Clock]:
    clock = Clock()
    emulator = EmulatedAtm90e32(ConstantLoad(watts=watts, volts=120.0, power_factor=1.0), clock=clock)
    meter = Meter(lambda: emulator, CONFIG, sleep=lambda _s: None)
    return meter, emulator, clock


def booked(reads: tuple[EnergyRead, ...], phase: Phase) -> int:
    return sum(r.phases[phase].forward for r in reads if phase in r.phases)


def test_a_fresh_chip_is_configured_and_a_metering_one_adopted_with_its_counts() -> None:
    meter, emulator, clock = make_meter()
    assert meter.open() is Adoption.CONFIGURED
    clock.now += 30
    pending = emulator.pending_counts(Phase.A)[0]
    assert pending > 0
    meter.close()
    again = Meter(lambda: emulator, CONFIG, sleep=lambda _s: None)
    assert again.open() is Adoption.ADOPTED  # no reset: the 30 s of counts are still there
    assert booked(again.refresh().energy, Phase.A) == pending


def test_a_refresh_reads_the_wiring_and_says_what_happened() -> None:
    meter, emulator, clock = make_meter()
    meter.open()
    clock.now += 5
    result = meter.refresh()
    assert result.outcome is Outcome.READ
    assert set(result.snapshot.phases) == {Phase.A, Phase.C}
    assert len(result.energy) == 1
    assert result.energy[0] is result.snapshot.energy
    assert result.snapshot.phases[Phase.A].active_power == pytest.approx(1000.0, abs=0.01)
    assert booked(result.energy, Phase.A) == emulator.energy[Phase.A].forward_counts


def test_a_reset_chip_is_configured_afresh_and_read_again() -> None:
    meter, emulator, clock = make_meter()
    meter.open()
    clock.now += 5
    meter.refresh()
    emulator.transfer(protocol.encode_write(reg.SOFT_RESET, reg.SOFT_RESET_CODE))  # what a brown-out leaves
    clock.now += 5
    result = meter.refresh()
    assert result.outcome is Outcome.RESET_RECOVERED
    assert len(result.energy) == 2
    assert result.snapshot.meter_enabled
    assert emulator.registers[reg.UGAIN[Phase.A]] == 3920


def test_a_configuration_repair_of_a_metering_chip_does_not_reset_it() -> None:
    meter, emulator, clock = make_meter()
    meter.open()
    resets = emulator.resets
    clock.now += 5
    meter.refresh()
    emulator.registers[reg.MMODE1] = 0x00  # a PGA register changed by itself: the CRC no longer matches
    clock.now += 5
    result = meter.refresh(check_config=True)
    assert result.outcome is Outcome.CONFIGURATION_REAPPLIED
    assert emulator.registers[reg.MMODE1] == protocol.mmode1(CONFIG.pga_gain)
    assert emulator.resets == resets  # a soft reset would have cleared counts not read yet
    clock.now += 5
    assert meter.refresh(check_config=True).outcome is Outcome.READ


def test_a_failure_carries_every_energy_read_of_the_refresh() -> None:
    meter, emulator, clock = make_meter()
    meter.open()
    clock.now += 5
    emulator.transfer(protocol.encode_write(reg.SOFT_RESET, reg.SOFT_RESET_CODE))
    clock.now += 5

    real_configure = meter._chip.configure  # type: ignore[union-attr]

    def configure_then_fail(config: ChipConfig, *, reset: bool = True) -> None:
        real_configure(config, reset=reset)
        raise CommunicationError("the bus failed after configuring")

    meter._chip.configure = configure_then_fail  # type: ignore[union-attr, method-assign]
    with pytest.raises(CommunicationError) as caught:
        meter.refresh()
    assert len(caught.value.energy_reads) == 1  # the read before the reconfiguration is not lost


def test_a_closed_meter_refuses_and_a_last_read_returns_nothing() -> None:
    meter, _, _ = make_meter()
    with pytest.raises(CommunicationError, match="closed"):
        meter.refresh()
    assert meter.read_energy() == ()
    assert meter.transactions is None
    meter.close()  # twice is fine


def test_sampling_averages_every_channel_and_apply_config_keeps_counts() -> None:
    meter, emulator, clock = make_meter()
    meter.open()
    samples = meter.sample()
    assert set(samples) == {Phase.A, Phase.C}
    assert samples[Phase.A].active_power == pytest.approx(1000.0, abs=0.05)
    clock.now += 10
    pending = emulator.pending_counts(Phase.A)[0]
    meter.apply_config(replace(CONFIG, voltage_gains=(3900, 3900, 3900)))
    assert meter.config.voltage_gains[0] == 3900
    assert booked(meter.read_energy(), Phase.A) == pending


def test_a_gain_trial_writes_the_computed_gains_and_reads_again() -> None:
    """Sample, compute (AN p.22), write, sample: the emulator reads Urms in proportion to Ugain (DS p.59)."""
    meter, emulator, _clock = make_meter()
    meter.open()
    references = References(voltage={Phase.A: 126.0}, current={}, power={})  # the meter reads 120 V: 5 % low
    trial = meter.calibrate_gains(references, shared_voltage=True)
    assert trial.previous == CONFIG
    assert trial.before[Phase.A].voltage == pytest.approx(120.0, rel=1e-3)
    assert trial.after[Phase.A].voltage == pytest.approx(126.0, rel=1e-3)
    new = round(3920 * 1.05)
    assert trial.config.voltage_gains == (new, new, new)  # one transformer: every phase takes L1's
    assert meter.config == trial.config
    assert [emulator.registers[reg.UGAIN[phase]] for phase in Phase] == [new, new, new]


def test_a_gain_trial_with_a_transformer_per_channel_keeps_the_others() -> None:
    """A transformer per channel: L2 (phase C) keeps its gain; B, which no channel uses, follows L1 as configured."""
    meter, _emulator, _clock = make_meter()
    meter.open()
    trial = meter.calibrate_gains(References(voltage={Phase.A: 126.0}, current={}, power={}))
    new = round(3920 * 1.05)
    assert trial.config.voltage_gains == (new, new, 3920)


def test_a_trial_that_fails_after_writing_puts_the_previous_configuration_back() -> None:
    meter, emulator, _clock = make_meter()
    meter.open()

    def refuse(_config: ChipConfig, _reads: object) -> ChipConfig:
        raise CalibrationError("offset", "too much current", reason="offset_too_large")

    with pytest.raises(CalibrationError):
        meter.trial(meter.read_no_load, refuse, prepare=lambda c: replace(c, current_offsets=(5, 5, 5)))
    assert meter.config == CONFIG
    assert emulator.registers[reg.IOFFSET[Phase.A]] == 0


def test_a_refused_gain_trial_writes_nothing() -> None:
    meter, emulator, _clock = make_meter()
    meter.open()
    with (
        patch.object(meter, "apply_config", side_effect=AssertionError("written")),
        pytest.raises(CalibrationError, match="positive"),
    ):
        meter.calibrate_gains(References(voltage={Phase.A: 0.0}, current={}, power={}))
    assert meter.config == CONFIG
    assert emulator.registers[reg.UGAIN[Phase.A]] == 3920


def test_the_register_dump_never_reads_an_energy_register() -> None:
    meter, emulator, clock = make_meter()
    meter.open()
    clock.now += 10
    pending = emulator.pending_counts(Phase.A)
    dump = meter.register_dump()
    assert not set(dump) & reg.ENERGY_REGISTERS
    assert dump[reg.MMODE0] == 0x1185
    assert emulator.pending_counts(Phase.A) == pending
