"""Config, gains, reconfigure and options flows: every path, each error and its recovery."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.const import (
    CONF_BOARD,
    CONF_CURRENT_SCALE,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_PGA_GAIN,
    CONF_SPI_SPEED,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_VT_PRESET,
    CONF_WIRING,
    DOMAIN,
    SIMULATED,
)
from custom_components.atm90e32.driver import DevicePermissionError
from custom_components.atm90e32.driver.channels import SPLIT_PHASE, THREE_PHASE_WYE
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32
from custom_components.atm90e32.settings import DEFAULT_OPTIONS

from .conftest import ENTRY_DATA, EmulatedSpiDev
from .emulation import FaultyEmulator, ManualClock

USER_INPUT: dict[str, Any] = {CONF_DEVICE: SIMULATED, CONF_LINE_FREQUENCY: "60"}
"""The device step's input (the wiring was chosen on the step before)."""
GAIN_OPTIONS = {option for c in SPLIT_PHASE.channels for option in (c.voltage_gain_option, c.current_gain_option)}
"""The typed gains: asked on the custom gains step only, never on the presets form."""
GAINS_INPUT: dict[str, Any] = {
    key: str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    for key, value in DEFAULT_OPTIONS.items()
    if key not in GAIN_OPTIONS
}


async def start(hass: HomeAssistant, wiring: str = SPLIT_PHASE.key) -> ConfigFlowResult:
    """Open the flow, choose ``wiring`` on its first step; returns the device step."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WIRING: wiring})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "device"
    return result


async def to_gains(hass: HomeAssistant, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], user_input or USER_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gains"
    return result


async def test_simulated_meter_creates_an_entry(hass: HomeAssistant, mock_transport: EmulatedAtm90e32) -> None:
    result = await to_gains(hass)
    assert mock_transport.closed  # the probe released the bus
    result = await hass.config_entries.flow.async_configure(result["flow_id"], GAINS_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ATM90E32AS (simulated)"
    assert result["data"] == {
        **ENTRY_DATA,
        CONF_LINE_FREQUENCY: 60,
        CONF_SPI_SPEED: 1_000_000,
        CONF_BOARD: "ATM90E32AS",
    }
    assert result["options"] == DEFAULT_OPTIONS
    assert result["result"].unique_id == SIMULATED


async def test_a_spi_device_at_a_slower_clock_end_to_end(
    hass: HomeAssistant, spidev_module: EmulatedAtm90e32, clock: ManualClock
) -> None:
    """Through the real SpidevTransport (over an emulator-backed SpiDev) from the flow to live sensors."""
    spidev_module.clock = clock
    with patch("custom_components.atm90e32.bus.list_spi_devices", return_value=["/dev/spidev0.0"]):
        result = await start(hass)
        assert result["data_schema"] is not None
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_DEVICE: "/dev/spidev0.0",
                CONF_LINE_FREQUENCY: "60",
                CONF_SPI_SPEED: "200000",
            },
        )
    assert result["step_id"] == "gains"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], GAINS_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.data[CONF_SPI_SPEED] == 200_000
    assert entry.unique_id == "spidev0.0"
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    spi = coordinator.meter._transport._spi
    assert isinstance(spi, EmulatedSpiDev)
    assert (spi.mode, spi.max_speed_hz) == (3, 200_000)
    clock.advance(5)
    await coordinator.async_refresh()
    power = hass.states.get("sensor.atm90e32as_spidev0_0_l1_power")
    assert power is not None
    assert float(power.state) == pytest.approx(1000.0, abs=0.01)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert spi.closed


async def test_the_real_simulated_meter_probes_without_patches(hass: HomeAssistant) -> None:
    """No patch: the flow opens the bundled trace replay exactly as a user's flow would."""
    result = await to_gains(hass, {**USER_INPUT, CONF_LINE_FREQUENCY: "50"})
    with patch("custom_components.atm90e32.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**GAINS_INPUT, CONF_PGA_GAIN: "4", "ct_preset_l2": "sct_006"}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_LINE_FREQUENCY] == 50
    assert result["options"][CONF_PGA_GAIN] == 4
    assert result["options"]["current_gain_l1"] == round(25498 * 2 / 4)  # preset converted to PGA 4x
    assert result["options"]["current_gain_l2"] == round(10170 * 2 / 4)


async def test_detected_spi_devices_are_offered(hass: HomeAssistant) -> None:
    with patch("custom_components.atm90e32.bus.list_spi_devices", return_value=["/dev/spidev0.0"]):
        result = await start(hass)
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    device_key = next(k for k in schema if k == CONF_DEVICE)
    options = [o["value"] for o in schema[device_key].config["options"]]
    assert options == ["/dev/spidev0.0", SIMULATED]
    assert device_key.default() == "/dev/spidev0.0"


def line_frequency_default(result: ConfigFlowResult) -> str:
    assert result["data_schema"] is not None
    return str(next(k for k in result["data_schema"].schema if k == CONF_LINE_FREQUENCY).default())


@pytest.mark.parametrize(("wiring", "expected"), [(SPLIT_PHASE.key, "60"), (THREE_PHASE_WYE.key, "50")])
async def test_line_frequency_default_comes_from_the_last_entry_of_the_same_wiring(
    hass: HomeAssistant, wiring: str, expected: str
) -> None:
    """A split-phase service added after a 50 Hz three-phase one is offered 60 Hz, a second three-phase one 50 Hz."""
    MockConfigEntry(
        domain=DOMAIN,
        unique_id="three-phase",
        data={CONF_DEVICE: "/dev/spidev9.9", CONF_WIRING: THREE_PHASE_WYE.key, CONF_LINE_FREQUENCY: 50},
    ).add_to_hass(hass)
    assert line_frequency_default(await start(hass, wiring)) == expected


async def test_missing_spi_device_then_recovery(hass: HomeAssistant) -> None:
    # /dev/spidev9.9 exists on no machine: the real SpidevTransport fails to open it.
    with patch("custom_components.atm90e32.bus.list_spi_devices", return_value=["/dev/spidev9.9"]):
        result = await start(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**USER_INPUT, CONF_DEVICE: "/dev/spidev9.9"}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_spi_device"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["step_id"] == "gains"


async def test_permission_denied_then_recovery(hass: HomeAssistant, mock_transport: EmulatedAtm90e32) -> None:
    result = await start(hass)
    with patch(
        "custom_components.atm90e32.bus.open_transport",
        side_effect=DevicePermissionError("permission denied opening /dev/spidev0.0"),
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["errors"] == {"base": "permission_denied"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["step_id"] == "gains"


@pytest.mark.parametrize("level", [0xFF, 0x00])
async def test_chip_not_answering_then_recovery(
    hass: HomeAssistant, mock_transport: FaultyEmulator, level: int
) -> None:
    result = await start(hass)
    mock_transport.faults.dead_bus = level
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["errors"] == {"base": "chip_not_answering"}
    mock_transport.faults.dead_bus = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["step_id"] == "gains"


def fields_of(result: ConfigFlowResult) -> list[str]:
    """The fields a form shows, in order."""
    assert result["data_schema"] is not None
    return [str(key) for key in result["data_schema"].schema]


async def test_the_presets_form_asks_for_no_gain(hass: HomeAssistant, mock_transport: EmulatedAtm90e32) -> None:
    result = await to_gains(hass)
    assert not GAIN_OPTIONS & set(fields_of(result))


@pytest.mark.parametrize(
    ("presets", "shown"),
    [
        ({CONF_VT_PRESET: "custom"}, ["voltage_gain"]),  # one transformer: one voltage gain
        ({CONF_VT_PRESET: "custom", CONF_VOLTAGE_TRANSFORMERS: "dual"}, ["voltage_gain", "voltage_gain_l2"]),
        ({"ct_preset_l2": "custom"}, ["current_gain_l2"]),
        (
            {CONF_VT_PRESET: "custom", "ct_preset_l1": "custom", "ct_preset_l2": "custom"},
            ["voltage_gain", "current_gain_l1", "current_gain_l2"],
        ),
    ],
)
async def test_custom_gains_are_asked_only_where_used(
    hass: HomeAssistant, mock_transport: EmulatedAtm90e32, presets: dict[str, Any], shown: list[str]
) -> None:
    result = await to_gains(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**GAINS_INPUT, **presets})
    assert result["step_id"] == "custom_gains"
    assert fields_of(result) == shown
    typed = {field: 4000 + index for index, field in enumerate(shown)}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    for field, gain in typed.items():
        assert result["options"][field] == gain
    for field in GAIN_OPTIONS - set(shown):  # the others come from their presets
        assert result["options"][field] == DEFAULT_OPTIONS[field]


@pytest.mark.parametrize(
    ("presets", "typed", "field"),
    [
        ({CONF_VT_PRESET: "custom"}, {"voltage_gain": 0}, "voltage_gain"),
        (
            {CONF_VT_PRESET: "custom", CONF_VOLTAGE_TRANSFORMERS: "dual"},
            {"voltage_gain": 3920, "voltage_gain_l2": 70000},
            "voltage_gain_l2",
        ),
        ({"ct_preset_l1": "custom"}, {"current_gain_l1": 65536}, "current_gain_l1"),
        ({"ct_preset_l2": "custom"}, {"current_gain_l2": 1.5}, "current_gain_l2"),
        ({"ct_preset_l2": "custom"}, {"current_gain_l2": -3}, "current_gain_l2"),
    ],
)
async def test_invalid_gain_then_recovery(
    hass: HomeAssistant,
    mock_transport: EmulatedAtm90e32,
    presets: dict[str, Any],
    typed: dict[str, Any],
    field: str,
) -> None:
    result = await to_gains(hass)
    transfers = mock_transport.transfers
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**GAINS_INPUT, **presets})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "custom_gains"
    assert result["errors"] == {field: "invalid_gain"}
    assert mock_transport.transfers == transfers  # nothing reached the chip
    assert result["data_schema"] is not None  # the form keeps what was typed
    suggested = {str(k): (k.description or {}).get("suggested_value") for k in result["data_schema"].schema}
    assert suggested == typed
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**typed, field: 4242})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"][field] == 4242


async def test_a_preset_too_large_for_the_pga_is_refused(hass: HomeAssistant, mock_transport: EmulatedAtm90e32) -> None:
    result = await to_gains(hass)
    # SCT-016 is 39473 at PGA 2x: 78946 at 1x does not fit in 16 bits
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**GAINS_INPUT, CONF_PGA_GAIN: "1", "ct_preset_l1": "sct_016"}
    )
    assert result["errors"] == {"ct_preset_l1": "preset_out_of_range"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**GAINS_INPUT, CONF_PGA_GAIN: "4", "ct_preset_l1": "sct_016"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"]["current_gain_l1"] == round(39473 / 2)


async def test_the_same_chip_is_not_configured_twice(hass: HomeAssistant, mock_transport: EmulatedAtm90e32) -> None:
    """A configured chip select is not offered; one configured meanwhile (a second flow) aborts."""
    with patch("custom_components.atm90e32.bus.list_spi_devices", return_value=["/dev/spidev0.0"]):
        result = await start(hass)
        MockConfigEntry(domain=DOMAIN, data=dict(ENTRY_DATA), unique_id=SIMULATED).add_to_hass(hass)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "already_configured"
        result = await start(hass)
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    options = [o["value"] for o in schema[next(k for k in schema if k == CONF_DEVICE)].config["options"]]
    assert options == ["/dev/spidev0.0", f"{SIMULATED}_1"]  # the next chip select of the simulated bus
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["configured"] == "Simulated meter (trace replay)"  # as the chip select list names it


async def test_reconfigure_changes_device_and_frequency(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    config_entry.add_to_hass(hass)
    with patch("custom_components.atm90e32.bus.list_spi_devices", return_value=["/dev/spidev0.1"]):
        result = await config_entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**USER_INPUT, CONF_DEVICE: "/dev/spidev0.1"}
        )
        assert result["errors"] == {"base": "no_spi_device"}  # no such node here: the real driver says so
        with patch("custom_components.atm90e32.async_setup_entry", return_value=True):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {**USER_INPUT, CONF_LINE_FREQUENCY: "50"}
            )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert config_entry.data[CONF_LINE_FREQUENCY] == 50
    assert config_entry.options == DEFAULT_OPTIONS  # gains and calibration stay


async def test_reconfigure_offers_no_chip_set_up_elsewhere(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    config_entry.add_to_hass(hass)
    MockConfigEntry(
        domain=DOMAIN, data={**ENTRY_DATA, CONF_DEVICE: "/dev/spidev0.1"}, unique_id="spidev0.1"
    ).add_to_hass(hass)
    with patch("custom_components.atm90e32.bus.list_spi_devices", return_value=["/dev/spidev0.0", "/dev/spidev0.1"]):
        result = await config_entry.start_reconfigure_flow(hass)
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    options = [o["value"] for o in schema[next(k for k in schema if k == CONF_DEVICE)].config["options"]]
    assert options == ["/dev/spidev0.0", SIMULATED]  # the free ones and its own (simulated); not spidev0.1


async def test_options_settings_rescale_a_custom_gain_and_reload(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "ct_preset_l1": "custom", "current_gain_l1": 25000}
    )
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "settings"})
    assert result["step_id"] == "settings"
    assert not GAIN_OPTIONS & set(fields_of(result))
    presets = {**GAINS_INPUT, "ct_preset_l1": "custom", CONF_CURRENT_SCALE: "2"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], presets)
    assert result["step_id"] == "custom_gains"
    assert fields_of(result) == ["current_gain_l1"]
    assert result["data_schema"] is not None
    # the custom gain is offered halved, as the chip needs it for 2x scaling
    assert next(iter(result["data_schema"].schema)).default() == 12500
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"current_gain_l1": 0})
    assert result["errors"] == {"current_gain_l1": "invalid_gain"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"current_gain_l1": 12500})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.options["current_gain_l1"] == 12500
    assert config_entry.options["current_gain_l2"] == 12749  # preset divided by the scale
    assert config_entry.runtime_data.settings.current_scale == 2
    assert mock_transport.registers[0x62] == 12500  # reloaded and written to the chip


async def test_options_presets_only_save_at_once(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "settings"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**GAINS_INPUT, CONF_VT_PRESET: "12v_v14", "invert_l2": True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.runtime_data.meter.config.voltage_gains == (29462, 29462, 29462)
    assert config_entry.options["invert_l2"] is True


async def test_options_dual_transformer_custom_gains(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "settings"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**GAINS_INPUT, CONF_VOLTAGE_TRANSFORMERS: "dual", CONF_VT_PRESET: "custom"}
    )
    assert fields_of(result) == ["voltage_gain", "voltage_gain_l2"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"voltage_gain": 3900, "voltage_gain_l2": 3950}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.runtime_data.meter.config.voltage_gains == (3900, 3900, 3950)


async def test_an_unexpected_error_is_unknown_and_logged(
    hass: HomeAssistant, mock_transport: EmulatedAtm90e32, caplog: pytest.LogCaptureFixture
) -> None:
    result = await start(hass)
    with patch("custom_components.atm90e32.bus.probe", side_effect=RuntimeError("kaput")):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert "kaput" in caplog.text
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["step_id"] == "gains"


@pytest.mark.parametrize("custom", [False, True], ids=["presets", "custom gains"])
async def test_saving_the_settings_keeps_the_other_options(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, custom: bool
) -> None:
    power_quality = {"sag_percent": 90.0, "nominal_voltage": 115.0, "export_expected": True}
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, options={**config_entry.options, **power_quality})
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "settings"})
    presets = {**GAINS_INPUT, "ct_preset_l2": "custom" if custom else "sct_006"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], presets)
    if custom:
        result = await hass.config_entries.options.async_configure(result["flow_id"], {"current_gain_l2": 20000})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert {key: config_entry.options[key] for key in power_quality} == power_quality
    assert config_entry.options["current_gain_l2"] == (20000 if custom else 10170)
