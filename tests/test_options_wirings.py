"""The options flow's settings of a three-phase and of a circuits entry, end to end on the emulator.

A three-phase entry's "settings" open the three-phase form: its CTs, directions and the
nominal system change there, a custom CT leads to the custom gains step, and a new
nominal system drops a nominal voltage that belonged to the old one.  A circuits entry
with a custom CT is asked its gain the same way.  What the chip receives is read back from
the emulator's registers, not from the integration's own options.
"""

from __future__ import annotations

from typing import Any

import pytest
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.const import (
    CONF_CHANNELS,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_NOMINAL_VOLTAGE,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_WIRING,
    DOMAIN,
    SIMULATED,
    VT_DUAL,
)
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.channels import CIRCUIT_KEYS, CIRCUITS, THREE_PHASE_WYE
from custom_components.atm90e32.driver.emulator import CircuitLoad, ThreePhaseLoad
from custom_components.atm90e32.settings import default_options

from .emulation import FaultyEmulator, ManualClock
from .helpers import replay, setup_entry, state
from .test_config_flow import fields_of
from .test_flow_failures import circuits_entry
from .test_wirings import defaults

CUSTOM_GAIN = 30000
"""A CT gain no preset gives (presets at PGA 1 are 25498 and below)."""


def three_phase_entry(**options: Any) -> MockConfigEntry:
    """A three-phase wye entry on the simulated chip: 230/400 V, a transformer per phase."""
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        data={
            CONF_DEVICE: SIMULATED,
            CONF_LINE_FREQUENCY: 50,
            CONF_WIRING: THREE_PHASE_WYE.key,
            CONF_VOLTAGE_SYSTEM: "230_400",
        },
        options={**default_options(THREE_PHASE_WYE), CONF_VOLTAGE_TRANSFORMERS: VT_DUAL, **options},
        unique_id=SIMULATED,
        title="Three-phase (simulated)",
    )


async def open_settings(hass: HomeAssistant, entry: MockConfigEntry) -> ConfigFlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "settings"})


async def save_with_a_custom_gain(
    hass: HomeAssistant, result: ConfigFlowResult, changes: dict[str, Any], field: str
) -> None:
    """Submit the settings form with ``changes`` (a custom CT among them): only ``field`` is asked next, then saved."""
    result = await hass.config_entries.options.async_configure(result["flow_id"], {**defaults(result), **changes})
    assert result["step_id"] == "custom_gains"
    assert fields_of(result) == [field]
    result = await hass.config_entries.options.async_configure(result["flow_id"], {field: CUSTOM_GAIN})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


@pytest.fixture
def three_phase_chip(mock_transport: FaultyEmulator) -> FaultyEmulator:
    """The emulated chip on a balanced 230 V three-phase service, 1 kW resistive per phase."""
    mock_transport.load = ThreePhaseLoad(watts=(1000.0, 1000.0, 1000.0), volts=230.0)
    return mock_transport


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_three_phase_settings_invert_a_ct_and_type_a_custom_gain(
    hass: HomeAssistant, three_phase_chip: FaultyEmulator, clock: ManualClock
) -> None:
    entry = three_phase_entry()
    coordinator = await setup_entry(hass, entry)
    await replay(coordinator, clock, 5)
    assert float(state(hass, entry, "l3_power").state) == pytest.approx(1000.0, rel=0.02)
    result = await open_settings(hass, entry)
    assert result["step_id"] == "three_phase"
    form = defaults(result)
    assert form[CONF_VOLTAGE_SYSTEM] == "230_400"  # the entry's system, from its data
    await save_with_a_custom_gain(hass, result, {"invert_l3": True, "ct_preset_l2": "custom"}, "current_gain_l2")
    assert three_phase_chip.registers[reg.IGAIN[Phase.B]] == CUSTOM_GAIN
    assert entry.data[CONF_VOLTAGE_SYSTEM] == "230_400"
    await replay(entry.runtime_data, clock, 5)
    assert float(state(hass, entry, "l3_power").state) == pytest.approx(-1000.0, rel=0.02)
    assert float(state(hass, entry, "l1_power").state) == pytest.approx(1000.0, rel=0.02)


async def test_a_new_nominal_system_drops_the_old_nominal_voltage(
    hass: HomeAssistant, three_phase_chip: FaultyEmulator
) -> None:
    three_phase_chip.load = ThreePhaseLoad(watts=(1000.0, 1000.0, 1000.0), volts=277.0)  # a 277/480 service
    entry = three_phase_entry(**{CONF_NOMINAL_VOLTAGE: 230.0})
    await setup_entry(hass, entry)
    result = await open_settings(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults(result), CONF_VOLTAGE_SYSTEM: "277_480"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY  # presets only: saved at once
    await hass.async_block_till_done()
    assert entry.data[CONF_VOLTAGE_SYSTEM] == "277_480"
    assert CONF_NOMINAL_VOLTAGE not in entry.options  # the power-quality nominal follows the new system


async def test_the_same_nominal_system_keeps_the_nominal_voltage(
    hass: HomeAssistant, three_phase_chip: FaultyEmulator
) -> None:
    entry = three_phase_entry(**{CONF_NOMINAL_VOLTAGE: 225.0})
    await setup_entry(hass, entry)
    result = await open_settings(hass, entry)
    result = await hass.config_entries.options.async_configure(result["flow_id"], defaults(result))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_NOMINAL_VOLTAGE] == 225.0


async def test_a_circuit_with_a_custom_ct_is_asked_its_gain(
    hass: HomeAssistant, mock_transport: FaultyEmulator
) -> None:
    mock_transport.load = CircuitLoad()
    entry = circuits_entry(SIMULATED, "Board 1", 1, default_options(CIRCUITS))
    await setup_entry(hass, entry)
    result = await open_settings(hass, entry)
    assert result["step_id"] == "circuits"
    await save_with_a_custom_gain(hass, result, {"ct_preset_ct3": "custom"}, "current_gain_ct3")
    assert mock_transport.registers[reg.IGAIN[Phase.C]] == CUSTOM_GAIN
    assert entry.data[CONF_CHANNELS] == list(CIRCUIT_KEYS)  # no input switched: the entry's data stays


async def test_a_nominal_system_the_chip_does_not_measure_is_refused(
    hass: HomeAssistant, three_phase_chip: FaultyEmulator
) -> None:
    # Issue 26 item 5: 120/208 was saved on a meter reading 230 V.
    entry = three_phase_entry()
    await setup_entry(hass, entry)
    result = await open_settings(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults(result), CONF_VOLTAGE_SYSTEM: "120_208"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_VOLTAGE_SYSTEM: "system_not_measured"}
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["expected"] == "230/400 V"
    assert float(result["description_placeholders"]["measured"]) == pytest.approx(230.0, abs=1.0)
    assert entry.data[CONF_VOLTAGE_SYSTEM] == "230_400"


async def test_a_new_nominal_system_reloads_the_entry(hass: HomeAssistant, three_phase_chip: FaultyEmulator) -> None:
    # Issue 26 item 5: options unchanged but the system (entry data) changed: saving reloads.
    three_phase_chip.load = ThreePhaseLoad(watts=(1000.0, 1000.0, 1000.0), volts=277.0)
    entry = three_phase_entry()
    before = await setup_entry(hass, entry)
    assert before.settings.chip.power_quality.nominal_voltage == 230.0
    result = await open_settings(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults(result), CONF_VOLTAGE_SYSTEM: "277_480"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.data[CONF_VOLTAGE_SYSTEM] == "277_480"
    assert entry.runtime_data is not before
    assert entry.runtime_data.settings.chip.power_quality.nominal_voltage == 277.0


async def test_a_new_nominal_system_of_a_stopped_meter_is_read_from_the_chip(
    hass: HomeAssistant, three_phase_chip: FaultyEmulator
) -> None:
    # Not loaded: no readings to judge on, so the chip is configured and read for the check.
    entry = three_phase_entry()
    entry.add_to_hass(hass)
    result = await open_settings(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults(result), CONF_VOLTAGE_SYSTEM: "277_480"}
    )
    assert result["errors"] == {CONF_VOLTAGE_SYSTEM: "system_not_measured"}
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["expected"] == "230/400 V"
    assert entry.data[CONF_VOLTAGE_SYSTEM] == "230_400"
