"""Config flow: choose the SPI device (or the simulated meter), wiring and gains."""

from __future__ import annotations

import glob
from collections.abc import Mapping
from typing import Any

import probatio
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .const import (
    CONF_CURRENT_GAIN_L1,
    CONF_CURRENT_GAIN_L2,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_PGA_GAIN,
    CONF_VOLTAGE_GAIN,
    CONF_WIRING,
    DEFAULT_CURRENT_GAIN,
    DEFAULT_LINE_FREQUENCY,
    DEFAULT_PGA_GAIN,
    DEFAULT_VOLTAGE_GAIN,
    DOMAIN,
    MODEL,
    SIMULATED,
    WIRING_SPLIT_PHASE_2CT,
)
from .coordinator import open_transport
from .driver import Atm90e32, Atm90e32Error, DeviceNotFoundError, DevicePermissionError

GAIN_FIELDS = (CONF_VOLTAGE_GAIN, CONF_CURRENT_GAIN_L1, CONF_CURRENT_GAIN_L2)


def list_spi_devices() -> list[str]:
    """Return the /dev/spidevB.C nodes present, sorted (blocking: run in the executor)."""
    return sorted(glob.glob("/dev/spidev*"))


def probe(data: Mapping[str, Any]) -> None:
    """Open the bus and check an ATM90E32AS answers plausibly; always closes the bus.

    Nothing is written: a chip that is already metering keeps its counts.
    Raises the driver's errors (DeviceNotFoundError, DevicePermissionError, DeadBusError, ...).
    """
    transport = open_transport(data)
    try:
        Atm90e32(transport).check_alive()
    finally:
        transport.close()


def chip_unique_id(device: str) -> str:
    """Unique id of the chip behind ``device``: ``spidev0.0`` style, or ``simulated``.

    The ATM90E32AS has no serial number; on one host a chip is identified by its bus
    and chip select.
    """
    return device.rsplit("/", 1)[-1]


def _probe_error(err: Atm90e32Error) -> str:
    if isinstance(err, DeviceNotFoundError):
        return "no_spi_device"
    if isinstance(err, DevicePermissionError):
        return "permission_denied"
    return "cannot_connect"


def _gain_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    errors = {}
    for field in GAIN_FIELDS:
        value = user_input.get(field)
        if not isinstance(value, (int, float)) or value != int(value) or not 1 <= value <= 0xFFFF:
            errors[field] = "invalid_gain"
    return errors


def _user_schema(devices: list[str], defaults: Mapping[str, Any]) -> probatio.Schema:
    device_options = [SelectOptionDict(value=d, label=d) for d in devices]
    device_options.append(SelectOptionDict(value=SIMULATED, label="Simulated meter (trace replay)"))
    gain = NumberSelector(NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=1))
    return probatio.Schema(
        {
            probatio.Required(
                CONF_DEVICE, default=defaults.get(CONF_DEVICE, device_options[0]["value"])
            ): SelectSelector(SelectSelectorConfig(options=device_options, mode=SelectSelectorMode.DROPDOWN)),
            probatio.Required(
                CONF_LINE_FREQUENCY, default=str(defaults.get(CONF_LINE_FREQUENCY, DEFAULT_LINE_FREQUENCY))
            ): SelectSelector(SelectSelectorConfig(options=["60", "50"], translation_key=CONF_LINE_FREQUENCY)),
            probatio.Required(CONF_WIRING, default=defaults.get(CONF_WIRING, WIRING_SPLIT_PHASE_2CT)): SelectSelector(
                SelectSelectorConfig(options=[WIRING_SPLIT_PHASE_2CT], translation_key=CONF_WIRING)
            ),
            probatio.Required(CONF_VOLTAGE_GAIN, default=defaults.get(CONF_VOLTAGE_GAIN, DEFAULT_VOLTAGE_GAIN)): gain,
            probatio.Required(
                CONF_CURRENT_GAIN_L1, default=defaults.get(CONF_CURRENT_GAIN_L1, DEFAULT_CURRENT_GAIN)
            ): gain,
            probatio.Required(
                CONF_CURRENT_GAIN_L2, default=defaults.get(CONF_CURRENT_GAIN_L2, DEFAULT_CURRENT_GAIN)
            ): gain,
            probatio.Required(
                CONF_PGA_GAIN, default=str(defaults.get(CONF_PGA_GAIN, DEFAULT_PGA_GAIN))
            ): SelectSelector(SelectSelectorConfig(options=["1", "2", "4"], translation_key=CONF_PGA_GAIN)),
        }
    )


class Atm90e32ConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one ATM90E32AS chip."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the device, wiring and gains; talk to the chip before creating the entry."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _gain_errors(user_input)
            if not errors:
                data: dict[str, Any] = {
                    **user_input,
                    CONF_LINE_FREQUENCY: int(user_input[CONF_LINE_FREQUENCY]),
                    CONF_PGA_GAIN: int(user_input[CONF_PGA_GAIN]),
                    **{field: int(user_input[field]) for field in GAIN_FIELDS},
                }
                await self.async_set_unique_id(chip_unique_id(data[CONF_DEVICE]))
                self._abort_if_unique_id_configured()
                try:
                    await self.hass.async_add_executor_job(probe, data)
                except Atm90e32Error as err:
                    errors["base"] = _probe_error(err)
                else:
                    return self.async_create_entry(title=f"{MODEL} ({self.unique_id})", data=data)
        devices = await self.hass.async_add_executor_job(list_spi_devices)
        return self.async_show_form(
            step_id="user",
            data_schema=_user_schema(devices, user_input or {}),
            errors=errors,
        )
