"""Offset and phase calibration and their undo, end to end through the options flow on the emulator.

The emulated board has the front end of driver/front_end.py: idle offsets (+0.045 A / +0.8 W
on L1, +0.030 A / -0.6 W on L2), CTs at the class 0.5 limits (reading low and leading) and
read noise.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.compensation import CONF_COMPENSATION_UNDO
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.emulator import ConstantLoad
from custom_components.atm90e32.driver.front_end import FrontEndErrors
from custom_components.atm90e32.driver.start_threshold import start_threshold

from .emulation import FaultyEmulator, ManualClock
from .helpers import every_refresh, replay, setup_entry, state


@pytest.fixture
def config_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """These tests read the state after each refresh (balanced and lean: tests/test_publishing.py)."""
    return every_refresh(config_entry)


VOLTS = 120.0


@pytest.fixture
def real_board(mock_transport: FaultyEmulator) -> FaultyEmulator:
    """The emulator with a real board's front end, and no load at all."""
    mock_transport.errors = FrontEndErrors()
    mock_transport.load = ConstantLoad(watts=(0.0, 0.0), volts=VOLTS, power_factor=1.0)
    return mock_transport


async def start(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> ConfigFlowResult:
    """Open the options flow's ``step``; the meter's sampling pauses move the emulator's clock (noise averages)."""
    emulator = entry.runtime_data.meter._open_transport()
    entry.runtime_data.meter.sleep = emulator.clock.advance
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": step})


def signed(value: int) -> int:
    return value - 0x10000 if value & 0x8000 else value


async def test_offset_step_measures_writes_and_keeps_the_offsets(
    hass: HomeAssistant, config_entry: MockConfigEntry, real_board: FaultyEmulator, clock: ManualClock
) -> None:
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, 5)
    assert float(state(hass, config_entry, "l1_current").state) > 0.03  # the idle offset shows
    result = await start(hass, config_entry, "offset_calibration")
    assert result["step_id"] == "offset_calibration"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "compensation_result"
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["report"].startswith("L1 (CT1): 0.04")
    # written and read back before the person confirms: about -0.045 A / -0.8 W at reading scale
    ioffset = signed(real_board.registers[reg.IOFFSET[Phase.A]]) * reg.IOFFSET_LSB_A
    poffset = signed(real_board.registers[reg.POFFSET[Phase.A]]) * reg.POWER_LSB
    assert ioffset == pytest.approx(-0.045, abs=0.003)
    assert poffset == pytest.approx(-0.8, abs=0.1)
    assert signed(real_board.registers[reg.POFFSET[Phase.C]]) * reg.POWER_LSB == pytest.approx(0.6, abs=0.1)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    options = config_entry.options
    assert options["current_offset_l1"] == real_board.registers[reg.IOFFSET[Phase.A]]
    assert options["power_offset_l2"] == real_board.registers[reg.POFFSET[Phase.C]]
    assert options[CONF_COMPENSATION_UNDO]["power_offset_l1"] == 0
    await replay(config_entry.runtime_data, clock, 5)
    assert float(state(hass, config_entry, "l1_current").state) < 0.012  # read noise is left
    assert abs(float(state(hass, config_entry, "l1_power").state)) < 1.0
    # re-applied after a reset of the chip
    real_board.brown_out()
    await replay(config_entry.runtime_data, clock, 5)
    assert real_board.registers[reg.IOFFSET[Phase.A]] == options["current_offset_l1"]
    assert real_board.registers[reg.QOFFSET[Phase.C]] == options["reactive_offset_l2"]


async def test_offset_step_refuses_a_running_load_and_writes_nothing(
    hass: HomeAssistant, config_entry: MockConfigEntry, real_board: FaultyEmulator
) -> None:
    real_board.load = ConstantLoad(watts=(0.0, 12.0), volts=VOLTS, power_factor=1.0)  # a 12 W lamp on L2
    await setup_entry(hass, config_entry)
    registers = dict(real_board.registers)
    result = await start(hass, config_entry, "offset_calibration")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "current_flowing"}
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["channel"] == "L2 (CT2)"
    assert real_board.registers == registers  # the cleared offsets were put back
    assert "current_offset_l1" not in config_entry.options


async def test_a_0_2_a_idle_current_is_refused(
    hass: HomeAssistant, config_entry: MockConfigEntry, real_board: FaultyEmulator
) -> None:
    # What a 6-channel board read with a CT unplugged: more than Ioffset can cancel (+-64 mA).
    real_board.errors = FrontEndErrors(current_offset={Phase.A: 0.2, Phase.B: 0.0, Phase.C: 0.03})
    await setup_entry(hass, config_entry)
    result = await start(hass, config_entry, "offset_calibration")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "current_flowing"}
    assert real_board.registers[reg.IOFFSET[Phase.A]] == 0


async def test_phase_step_from_a_reference_power_factor(
    hass: HomeAssistant, config_entry: MockConfigEntry, real_board: FaultyEmulator, clock: ManualClock
) -> None:
    # a 1200 W-equivalent motor at PF 0.5 on each leg (10 A at 120 V)
    real_board.load = ConstantLoad(watts=(600.0, 600.0), volts=VOLTS, power_factor=0.5)
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, 5)
    shown = float(state(hass, config_entry, "l1_power_factor").state)
    assert shown > 0.51  # the leading CT makes the lagging load look better
    result = await start(hass, config_entry, "phase_calibration")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"reference_pf_l1": 0.5, "reference_pf_l2": 0.5}
    )
    assert result["step_id"] == "compensation_result"
    # the CT model leads by 67.5 minutes at 10 % of its 100 A: 1.125 degrees = 107 cycles at 60 Hz;
    # the idle offsets, not calibrated here, shift the measured angle by about 0.05 degree (5 cycles)
    assert real_board.registers[reg.PHI[Phase.A]] == pytest.approx(1.125 / (360 * 60 / 2.048e6), abs=7)
    assert not real_board.registers[reg.PHI[Phase.A]] & 0x8000  # the current is delayed
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert config_entry.options["phase_compensation_l1"] == real_board.registers[reg.PHI[Phase.A]]
    await replay(config_entry.runtime_data, clock, 5)
    assert float(state(hass, config_entry, "l1_power_factor").state) == pytest.approx(0.5, abs=0.005)


async def test_phase_step_without_references_uses_the_presets(
    hass: HomeAssistant, config_entry: MockConfigEntry, real_board: FaultyEmulator
) -> None:
    real_board.load = ConstantLoad(watts=(600.0, 600.0), volts=VOLTS, power_factor=0.5)
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, options={**config_entry.options, "phase_compensation_l1": 50})
    await setup_entry(hass, config_entry)
    assert real_board.registers[reg.PHI[Phase.A]] == 50
    result = await start(hass, config_entry, "phase_calibration")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["step_id"] == "compensation_result"
    assert real_board.registers[reg.PHI[Phase.A]] == 0  # no CT maker publishes a phase error
    hass.config_entries.options.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    assert real_board.registers[reg.PHI[Phase.A]] == 50  # walked away: taken back


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({"reference_pf_l1": 0.95}, {"reference_pf_l1": "reference_not_reactive"}),
        ({"reference_pf_l2": 0.25}, {"reference_pf_l2": "reference_far_off"}),
    ],
    ids=["resistive", "far_off"],
)
async def test_bad_phase_references_write_nothing(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    real_board: FaultyEmulator,
    user_input: dict[str, Any],
    errors: dict[str, str],
) -> None:
    real_board.load = ConstantLoad(watts=(600.0, 600.0), volts=VOLTS, power_factor=0.5)
    await setup_entry(hass, config_entry)
    registers = dict(real_board.registers)
    result = await start(hass, config_entry, "phase_calibration")
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["errors"] == errors
    assert real_board.registers == registers
    assert "phase_compensation_l1" not in config_entry.options


async def test_a_phase_error_beyond_phix_writes_nothing(
    hass: HomeAssistant, config_entry: MockConfigEntry, real_board: FaultyEmulator
) -> None:
    # the meter reads PF 0.5 (60 degrees); a reference of 0.45 is 63.3 degrees: 3.3 degrees, PhiA holds 2.69
    real_board.errors = FrontEndErrors(ct={Phase.A: None, Phase.B: None, Phase.C: None})
    real_board.load = ConstantLoad(watts=(600.0, 600.0), volts=VOLTS, power_factor=0.5)
    await setup_entry(hass, config_entry)
    registers = dict(real_board.registers)
    result = await start(hass, config_entry, "phase_calibration")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"reference_pf_l1": 0.45})
    assert result["errors"] == {"reference_pf_l1": "phase_out_of_range"}
    assert real_board.registers == registers


async def test_undo_restores_the_previous_values(
    hass: HomeAssistant, config_entry: MockConfigEntry, real_board: FaultyEmulator
) -> None:
    await setup_entry(hass, config_entry)
    result = await start(hass, config_entry, "undo_compensation")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "nothing_to_undo"
    result = await start(hass, config_entry, "offset_calibration")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    calibrated = config_entry.options["power_offset_l1"]
    assert real_board.registers[reg.POFFSET[Phase.A]] == calibrated != 0
    result = await start(hass, config_entry, "undo_compensation")
    assert result["step_id"] == "undo_compensation"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.options["power_offset_l1"] == 0
    assert real_board.registers[reg.POFFSET[Phase.A]] == 0  # the reload wrote it
    # undo again: the calibrated values come back
    result = await start(hass, config_entry, "undo_compensation")
    await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert real_board.registers[reg.POFFSET[Phase.A]] == calibrated


async def test_start_thresholds_follow_the_ct_and_the_voltage(
    hass: HomeAssistant, config_entry: MockConfigEntry, real_board: FaultyEmulator
) -> None:
    await setup_entry(hass, config_entry)
    # SCT-013-000 (100 A) at 120 V: 6 W
    assert real_board.registers[reg.P_PHASE_TH] == start_threshold(100.0, 120.0) == 18750
    assert real_board.registers[reg.P_START_TH] == 18750
    assert math.isclose(real_board.registers[reg.P_PHASE_TH] * reg.POWER_LSB, 6.0)


async def test_the_start_threshold_is_a_visible_choice(
    hass: HomeAssistant, config_entry: MockConfigEntry, real_board: FaultyEmulator, clock: ManualClock
) -> None:
    """Issue 22: the options flow offers IEC's threshold (default, 6.0 W here), 2 W or 0.5 W; the chip gets it."""
    await setup_entry(hass, config_entry)
    result = await start(hass, config_entry, "start_threshold")
    assert result["step_id"] == "start_threshold"
    assert result["description_placeholders"] == {"iec": "6.0", "voltage": "120", "meter": config_entry.title}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"start_threshold": "2_w"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.options["start_threshold"] == "2_w"
    assert real_board.registers[reg.P_PHASE_TH] == real_board.registers[reg.P_START_TH] == round(2.0 / 0.00032)
    # a 4 W standby load now counts (it did not under the IEC threshold of 6 W)
    real_board.load = ConstantLoad(watts=(4.0, 0.0), volts=VOLTS, power_factor=1.0)
    coordinator = config_entry.runtime_data
    before = float(state(hass, config_entry, "l1_energy_import").state)
    await replay(coordinator, clock, 3600)
    assert float(state(hass, config_entry, "l1_energy_import").state) - before == pytest.approx(0.004, abs=0.0015)
