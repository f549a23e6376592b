"""What the config and options flows do when something is missing or fails: each case, its message, its recovery.

- the device step: no free chip select left, an empty board name, a new board's default name
  that never repeats an existing board's;
- reconfigure: the entry's own chip select stays offered when its /dev node is gone;
- the three-phase step: a chip that stops answering while its voltages are read;
- calibration, offset and phase steps: a meter that is not running, a chip that stops
  answering (before or after writing: the old values go back into the chip) and an
  unexpected error (reported as unknown and logged).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.bus import simulated_device
from custom_components.atm90e32.const import (
    CONF_BOARD,
    CONF_BOARD_POSITION,
    CONF_CHANNELS,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_NOMINAL_VOLTAGE,
    CONF_VOLTAGE_SYSTEM,
    CONF_WIRING,
    DOMAIN,
    SIMULATED,
    SIMULATED_CHIPS,
)
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.channels import CIRCUIT_KEYS, CIRCUITS_KEY, SPLIT_PHASE, THREE_PHASE_WYE
from custom_components.atm90e32.driver.emulator import ConstantLoad, ThreePhaseLoad

from .conftest import ENTRY_DATA
from .emulation import FaultyEmulator, ManualClock
from .helpers import setup_entry
from .test_wirings import Bus, bus, defaults, three_phase_entry

__all__ = ["bus"]  # the fixture, used by name

TRANSLATIONS = {
    language: json.loads(
        (Path(__file__).resolve().parent.parent / f"custom_components/atm90e32/translations/{language}.json").read_text(
            encoding="utf-8"
        )
    )
    for language in ("en", "fr", "de", "es")
}
NO_SPI_NODES = patch("custom_components.atm90e32.bus.list_spi_devices", return_value=[])


async def device_step(hass: HomeAssistant, wiring: str) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    return await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WIRING: wiring})


def circuits_entry(device: str, board: str, position: int, options: dict[str, Any] | None = None) -> MockConfigEntry:
    """A circuits entry with all three inputs on, chip ``position`` of ``board``."""
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        data={
            CONF_DEVICE: device,
            CONF_LINE_FREQUENCY: 60,
            CONF_WIRING: CIRCUITS_KEY,
            CONF_CHANNELS: list(CIRCUIT_KEYS),
            CONF_BOARD: board,
            CONF_BOARD_POSITION: position,
        },
        options=options or {},
        unique_id=device,
    )


# --- config flow ----------------------------------------------------------------------------


async def test_every_chip_select_taken_aborts_the_flow(hass: HomeAssistant) -> None:
    for index in range(SIMULATED_CHIPS):
        device = simulated_device(index)
        MockConfigEntry(domain=DOMAIN, data={**ENTRY_DATA, CONF_DEVICE: device}, unique_id=device).add_to_hass(hass)
    with NO_SPI_NODES:
        result = await device_step(hass, SPLIT_PHASE.key)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "all_chip_selects_configured"


async def test_an_empty_board_name_is_refused_then_accepted(
    hass: HomeAssistant, mock_transport: FaultyEmulator
) -> None:
    with NO_SPI_NODES:
        result = await device_step(hass, CIRCUITS_KEY)
        assert result["step_id"] == "device"
        form = defaults(result)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {**form, CONF_BOARD: "   "})
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_BOARD: "board_empty"}
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {**form, CONF_BOARD: "Garage"})
    assert result["step_id"] == "circuits"


async def test_a_new_board_is_not_named_as_an_existing_one(hass: HomeAssistant) -> None:
    """Two chips already fill "Board 2": the next board is "Board 3", not a second "Board 2"."""
    circuits_entry(simulated_device(1), "Board 2", 1).add_to_hass(hass)
    circuits_entry(simulated_device(2), "Board 2", 2).add_to_hass(hass)
    with NO_SPI_NODES:
        result = await device_step(hass, CIRCUITS_KEY)
    form = defaults(result)
    assert (form[CONF_BOARD], form[CONF_BOARD_POSITION]) == ("Board 3", "1")


async def test_reconfigure_keeps_offering_a_chip_select_whose_node_is_gone(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """The entry is on spidev0.0, which this host no longer lists: it stays the first choice (and the default)."""
    gone = "/dev/spidev0.0"
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, data={**config_entry.data, CONF_DEVICE: gone})
    with NO_SPI_NODES:
        result = await config_entry.start_reconfigure_flow(hass)
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    key = next(k for k in schema if k == CONF_DEVICE)
    assert [o["value"] for o in schema[key].config["options"]] == [gone, SIMULATED]
    assert defaults(result)[CONF_DEVICE] == gone


async def test_a_chip_that_stops_answering_while_its_voltages_are_read(
    hass: HomeAssistant, mock_transport: FaultyEmulator
) -> None:
    mock_transport.load = ThreePhaseLoad(watts=(500.0, 500.0, 500.0), volts=230.0)
    with NO_SPI_NODES:
        result = await device_step(hass, THREE_PHASE_WYE.key)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**defaults(result), CONF_LINE_FREQUENCY: "50"}
        )
    assert result["step_id"] == "three_phase"
    form = defaults(result)
    mock_transport.faults.dead_bus = 0xFF
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "chip_not_answering"}
    mock_transport.faults.dead_bus = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_WIRING] == THREE_PHASE_WYE.key


# --- options flow: calibration, offsets, phase --------------------------------------------------


@pytest.fixture
def motor(mock_transport: FaultyEmulator) -> FaultyEmulator:
    """The emulated chip with a steady 10 A load at power factor 0.5 on each leg (a phase reference can be read)."""
    mock_transport.load = ConstantLoad(watts=(600.0, 600.0), volts=120.0, power_factor=0.5)
    return mock_transport


async def open_step(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> ConfigFlowResult:
    entry.runtime_data.meter.sleep = lambda _s: None
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": step})
    assert result["step_id"] == step
    return result


PHASE_INPUT = {"reference_pf_l1": 0.5, "reference_pf_l2": 0.5}


@pytest.mark.parametrize("step", ["offset_calibration", "phase_calibration"])
async def test_offsets_and_phase_need_a_running_meter(
    hass: HomeAssistant, config_entry: MockConfigEntry, step: str
) -> None:
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": step})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"


@pytest.mark.parametrize(("step", "user_input"), [("offset_calibration", {}), ("phase_calibration", PHASE_INPUT)])
async def test_a_silent_chip_changes_no_offset_and_no_phase(
    hass: HomeAssistant, config_entry: MockConfigEntry, motor: FaultyEmulator, step: str, user_input: dict[str, Any]
) -> None:
    await setup_entry(hass, config_entry)
    result = await open_step(hass, config_entry, step)
    motor.faults.dead_bus = 0xFF
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "chip_not_answering"}
    motor.faults.dead_bus = None
    assert [motor.registers[reg.PHI[phase]] for phase in (Phase.A, Phase.C)] == [0, 0]
    assert [motor.registers[reg.IOFFSET[phase]] for phase in (Phase.A, Phase.C)] == [0, 0]


async def test_a_phase_write_that_fails_is_taken_back(
    hass: HomeAssistant, config_entry: MockConfigEntry, motor: FaultyEmulator
) -> None:
    """The bus dies between reading the powers and writing PhiA-C: the meter keeps its old configuration."""
    coordinator = await setup_entry(hass, config_entry)
    meter = coordinator.meter
    old = meter.config
    read = meter.read_powers

    def read_then_lose_the_bus() -> Any:
        powers = read()
        motor.faults.dead_bus = 0x00
        return powers

    result = await open_step(hass, config_entry, "phase_calibration")
    with patch.object(meter, "read_powers", side_effect=read_then_lose_the_bus):
        result = await hass.config_entries.options.async_configure(result["flow_id"], PHASE_INPUT)
    assert result["errors"] == {"base": "chip_not_answering"}
    assert meter.config == old  # the next refresh writes this one again, not the new angles
    motor.faults.dead_bus = None
    assert [motor.registers[reg.PHI[phase]] for phase in (Phase.A, Phase.C)] == [0, 0]
    assert "phase_compensation_l1" not in config_entry.options


@pytest.mark.parametrize(
    ("step", "user_input", "method"),
    [
        ("calibrate", {"reference_voltage_l1": 120.0}, "sample"),
        ("offset_calibration", {}, "read_no_load"),
        ("phase_calibration", PHASE_INPUT, "read_powers"),
    ],
)
async def test_an_unexpected_error_is_unknown_and_logged(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    motor: FaultyEmulator,
    caplog: pytest.LogCaptureFixture,
    step: str,
    user_input: dict[str, Any],
    method: str,
) -> None:
    coordinator = await setup_entry(hass, config_entry)
    result = await open_step(hass, config_entry, step)
    with patch.object(coordinator.meter, method, side_effect=RuntimeError("kaput")):
        result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert "kaput" in caplog.text
    assert [motor.registers[reg.PHI[phase]] for phase in (Phase.A, Phase.C)] == [0, 0]
    assert motor.registers[reg.UGAIN[Phase.A]] == config_entry.options["voltage_gain"]


# --- numbers out of range: our own translated error on the field, never the form library's ------


def translated(section: str, key: str) -> list[str]:
    """The error ``key`` of ``section`` (config, options) in each language; each must exist and say something."""
    texts = [translation[section]["error"][key] for translation in TRANSLATIONS.values()]
    assert all(text.strip() for text in texts)
    return texts


async def test_a_negative_reference_after_an_empty_submit_is_our_error_on_the_field(
    hass: HomeAssistant, config_entry: MockConfigEntry, motor: FaultyEmulator
) -> None:
    """The frontend sends -5 as typed, and the flow manager checks the schema before the step: not refused there."""
    await setup_entry(hass, config_entry)
    registers = dict(motor.registers)
    result = await open_step(hass, config_entry, "calibrate")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "no_reference"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"reference_current_l1": -5.0})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"reference_current_l1": "reference_not_positive"}  # the base error is gone
    translated("options", "reference_not_positive")
    assert motor.registers == registers


@pytest.mark.parametrize("pf", [-0.5, 0.0, 0.95, 1.5])
async def test_a_reference_power_factor_out_of_range_is_our_error_on_the_field(
    hass: HomeAssistant, config_entry: MockConfigEntry, motor: FaultyEmulator, pf: float
) -> None:
    await setup_entry(hass, config_entry)
    result = await open_step(hass, config_entry, "phase_calibration")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"reference_pf_l1": pf})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"reference_pf_l1": "reference_not_reactive"}
    translated("options", "reference_not_reactive")
    assert [motor.registers[reg.PHI[phase]] for phase in (Phase.A, Phase.C)] == [0, 0]


@pytest.mark.parametrize("gain", [0, -3, 70000, 1.5])
async def test_a_custom_gain_out_of_range_is_our_error_on_the_field(
    hass: HomeAssistant, mock_transport: FaultyEmulator, gain: float
) -> None:
    with NO_SPI_NODES:
        result = await device_step(hass, SPLIT_PHASE.key)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], defaults(result))
    assert result["step_id"] == "gains"
    form = {**defaults(result), "vt_preset": "custom"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["step_id"] == "custom_gains"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"voltage_gain": gain})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"voltage_gain": "invalid_gain"}
    translated("config", "invalid_gain")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"voltage_gain": 3920})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"]["voltage_gain"] == 3920


async def power_quality(hass: HomeAssistant, entry: ConfigEntry, nominal: str) -> ConfigFlowResult:
    """Open Configure → Power quality and submit the form as shown with nominal voltage ``nominal``."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "power_quality"})
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults(result), CONF_NOMINAL_VOLTAGE: nominal}
    )


def message(section: str, result: ConfigFlowResult, field: str) -> str:
    """The English text the frontend shows for ``field``'s error, placeholders filled in."""
    placeholders, errors = result["description_placeholders"] or {}, result["errors"] or {}
    return str(TRANSLATIONS["en"][section]["error"][errors[field]].format(**placeholders))


async def test_a_nominal_voltage_not_of_the_system_names_the_one_to_choose(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    entry = await three_phase_entry(hass, bus, clock, ThreePhaseLoad(volts=230.0))
    result = await power_quality(hass, entry, "120")
    assert result["errors"] == {CONF_NOMINAL_VOLTAGE: "nominal_not_wiring"}
    assert message("options", result, CONF_NOMINAL_VOLTAGE).startswith(
        "This meter is set up for 230/400 V: its nominal voltage is 230 V, each channel's"
    )
    assert "Choose 230 V" in message("options", result, CONF_NOMINAL_VOLTAGE)
    translated("options", "nominal_not_wiring")
    assert CONF_NOMINAL_VOLTAGE not in entry.options


async def test_a_nominal_voltage_refused_on_a_wrong_system_names_the_system_measured(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    """Issue 26 item 5's meter: set up as 120/208 V, reading 230 V; choosing 230 V names 230/400 V, with the voltage."""
    entry = await three_phase_entry(hass, bus, clock, ThreePhaseLoad(volts=230.0))
    hass.config_entries.async_update_entry(entry, data={**entry.data, CONF_VOLTAGE_SYSTEM: "120_208"})
    result = await power_quality(hass, entry, "230")
    assert result["errors"] == {CONF_NOMINAL_VOLTAGE: "nominal_not_measured"}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert abs(float(placeholders["measured"]) - 230.0) < 2.3
    assert (placeholders["system"], placeholders["expected"]) == ("120/208 V", "230/400 V")
    text = message("options", result, CONF_NOMINAL_VOLTAGE)
    assert text.startswith(f"The chip measures {placeholders['measured']} V, which does not fit this meter's 120/208 V")
    assert "choose 230/400 V under Transformers, CTs and scaling" in text
    translated("options", "nominal_not_measured")
    assert CONF_NOMINAL_VOLTAGE not in entry.options
