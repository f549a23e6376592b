"""The user step: every path, each error and the recovery from it."""

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
    CONF_CURRENT_GAIN_L1,
    CONF_CURRENT_GAIN_L2,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_PGA_GAIN,
    CONF_VOLTAGE_GAIN,
    DOMAIN,
    SIMULATED,
)
from custom_components.atm90e32.driver import DevicePermissionError
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32

from .conftest import ENTRY_DATA

USER_INPUT: dict[str, Any] = {**ENTRY_DATA, CONF_LINE_FREQUENCY: "60", CONF_PGA_GAIN: "2"}


async def start(hass: HomeAssistant) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return result


async def test_simulated_meter_creates_an_entry(hass: HomeAssistant, mock_transport: EmulatedAtm90e32) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ATM90E32AS (simulated)"
    assert result["data"] == {**ENTRY_DATA, CONF_LINE_FREQUENCY: 60, CONF_PGA_GAIN: 2}
    assert result["result"].unique_id == SIMULATED
    assert mock_transport.closed  # the probe released the bus


async def test_the_real_simulated_meter_probes_without_patches(hass: HomeAssistant) -> None:
    """No patch: the flow opens the bundled trace replay exactly as a user's flow would."""
    result = await start(hass)
    with patch("custom_components.atm90e32.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**USER_INPUT, CONF_LINE_FREQUENCY: "50", CONF_PGA_GAIN: "4"}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_LINE_FREQUENCY] == 50
    assert result["data"][CONF_PGA_GAIN] == 4


async def test_detected_spi_devices_are_offered(hass: HomeAssistant) -> None:
    with patch("custom_components.atm90e32.config_flow.list_spi_devices", return_value=["/dev/spidev0.0"]):
        result = await start(hass)
    assert result["data_schema"] is not None
    schema = result["data_schema"].schema
    device_key = next(k for k in schema if k == CONF_DEVICE)
    options = [o["value"] for o in schema[device_key].config["options"]]
    assert options == ["/dev/spidev0.0", SIMULATED]
    assert device_key.default() == "/dev/spidev0.0"


async def test_missing_spi_device_then_recovery(hass: HomeAssistant) -> None:
    # /dev/spidev9.9 exists on no machine: the real SpidevTransport fails to open it.
    with patch("custom_components.atm90e32.config_flow.list_spi_devices", return_value=["/dev/spidev9.9"]):
        result = await start(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {**USER_INPUT, CONF_DEVICE: "/dev/spidev9.9"}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_spi_device"}
    with patch("custom_components.atm90e32.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_permission_denied_then_recovery(hass: HomeAssistant, mock_transport: EmulatedAtm90e32) -> None:
    result = await start(hass)
    with patch(
        "custom_components.atm90e32.config_flow.open_transport",
        side_effect=DevicePermissionError("permission denied opening /dev/spidev0.0"),
    ):
        result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["errors"] == {"base": "permission_denied"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("level", [0xFF, 0x00])
async def test_chip_not_answering_then_recovery(
    hass: HomeAssistant, mock_transport: EmulatedAtm90e32, level: int
) -> None:
    result = await start(hass)
    mock_transport.faults.dead_bus = level
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["errors"] == {"base": "cannot_connect"}
    mock_transport.faults.dead_bus = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("field", "value"),
    [(CONF_VOLTAGE_GAIN, 0), (CONF_CURRENT_GAIN_L1, 65536), (CONF_CURRENT_GAIN_L2, 1.5), (CONF_VOLTAGE_GAIN, -3)],
)
async def test_invalid_gain_then_recovery(
    hass: HomeAssistant, mock_transport: EmulatedAtm90e32, field: str, value: float
) -> None:
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**USER_INPUT, field: value})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: "invalid_gain"}
    assert mock_transport.transfers == 0  # nothing reached the chip
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_the_same_chip_is_not_configured_twice(hass: HomeAssistant, mock_transport: EmulatedAtm90e32) -> None:
    MockConfigEntry(domain=DOMAIN, data=dict(ENTRY_DATA), unique_id=SIMULATED).add_to_hass(hass)
    result = await start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], USER_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
