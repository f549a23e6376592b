"""Config, options and reconfigure flows: the device, the CTs and their calibration.

- user: the SPI device (or the simulated meter), line frequency and wiring; the chip is
  probed before anything is stored; then the ``gains`` step.
- gains (also the options flow's ``settings`` step): voltage transformer and CT presets
  or custom gains, PGA, CT direction, current scaling.
- calibrate (options): reference readings in, new gains computed with the application
  note's formula, written, read back, shown before and after; stored only on confirm,
  reverted in the chip if the person walks away.
- reconfigure: the SPI device, line frequency and wiring of an existing entry.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import probatio
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .const import (
    CONF_CT_PRESET_L1,
    CONF_CT_PRESET_L2,
    CONF_CURRENT_GAIN_L1,
    CONF_CURRENT_GAIN_L2,
    CONF_CURRENT_SCALE,
    CONF_DEVICE,
    CONF_INVERT_L1,
    CONF_INVERT_L2,
    CONF_LINE_FREQUENCY,
    CONF_PGA_GAIN,
    CONF_SPI_SPEED,
    CONF_VOLTAGE_GAIN,
    CONF_VOLTAGE_GAIN_L2,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_VT_PRESET,
    CONF_WIRING,
    DEFAULT_LINE_FREQUENCY,
    DEFAULT_OPTIONS,
    DOMAIN,
    MODEL,
    PRESET_CUSTOM,
    SIMULATED,
    SPI_SPEEDS,
    VT_DUAL,
    VT_SINGLE,
    WIRING_SPLIT_PHASE_2CT,
)
from .coordinator import Atm90e32ConfigEntry, Atm90e32Coordinator, open_transport
from .driver import (
    Atm90e32,
    Atm90e32Error,
    ChipConfig,
    DeviceNotFoundError,
    DevicePermissionError,
    MeterSnapshot,
    Phase,
)
from .driver.calibration import (
    CT_PRESETS,
    VT_PRESETS,
    CalibrationError,
    CalibrationSample,
    References,
    new_gains,
    preset_current_gain,
)
from .driver.transport import DEFAULT_SPEED_HZ

LEG_FIELDS = {Phase.A: "l1", Phase.C: "l2"}
CALIBRATION_CONFIRM_TIMEOUT_S = 600
"""A calibration written but neither kept nor dismissed is taken back out of the chip after 10 minutes
(the person closed the browser instead of the dialog)."""


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


def _device_schema(devices: list[str], defaults: Mapping[str, Any]) -> probatio.Schema:
    device_options = [SelectOptionDict(value=d, label=d) for d in devices]
    device_options.append(SelectOptionDict(value=SIMULATED, label="Simulated meter (trace replay)"))
    default_device = defaults.get(CONF_DEVICE, device_options[0]["value"])
    return probatio.Schema(
        {
            probatio.Required(CONF_DEVICE, default=default_device): SelectSelector(
                SelectSelectorConfig(options=device_options, mode=SelectSelectorMode.DROPDOWN)
            ),
            probatio.Required(
                CONF_LINE_FREQUENCY, default=str(defaults.get(CONF_LINE_FREQUENCY, DEFAULT_LINE_FREQUENCY))
            ): SelectSelector(SelectSelectorConfig(options=["60", "50"], translation_key=CONF_LINE_FREQUENCY)),
            probatio.Required(CONF_WIRING, default=defaults.get(CONF_WIRING, WIRING_SPLIT_PHASE_2CT)): SelectSelector(
                SelectSelectorConfig(options=[WIRING_SPLIT_PHASE_2CT], translation_key=CONF_WIRING)
            ),
            probatio.Required(
                CONF_SPI_SPEED, default=str(defaults.get(CONF_SPI_SPEED, DEFAULT_SPEED_HZ))
            ): SelectSelector(
                SelectSelectorConfig(options=[str(speed) for speed in SPI_SPEEDS], translation_key=CONF_SPI_SPEED)
            ),
        }
    )


def _device_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    return {
        CONF_DEVICE: user_input[CONF_DEVICE],
        CONF_LINE_FREQUENCY: int(user_input[CONF_LINE_FREQUENCY]),
        CONF_WIRING: user_input[CONF_WIRING],
        CONF_SPI_SPEED: int(user_input[CONF_SPI_SPEED]),
    }


def _select(options: list[str], key: str) -> SelectSelector:
    return SelectSelector(SelectSelectorConfig(options=options, translation_key=key))


GAIN = NumberSelector(NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=1))


def _gains_schema(current: Mapping[str, Any]) -> probatio.Schema:
    """The gains form, defaulting to ``current`` settings (options of the entry)."""
    values = {**DEFAULT_OPTIONS, **current}
    ct_presets = _select([*CT_PRESETS, PRESET_CUSTOM], "ct_preset")
    selectors: dict[str, Any] = {
        CONF_VOLTAGE_TRANSFORMERS: _select([VT_SINGLE, VT_DUAL], CONF_VOLTAGE_TRANSFORMERS),
        CONF_VT_PRESET: _select([*VT_PRESETS, PRESET_CUSTOM], CONF_VT_PRESET),
        CONF_VOLTAGE_GAIN: GAIN,
        CONF_VOLTAGE_GAIN_L2: GAIN,
        CONF_PGA_GAIN: _select(["1", "2", "4"], CONF_PGA_GAIN),
        CONF_CT_PRESET_L1: ct_presets,
        CONF_CURRENT_GAIN_L1: GAIN,
        CONF_CT_PRESET_L2: ct_presets,
        CONF_CURRENT_GAIN_L2: GAIN,
        CONF_INVERT_L1: BooleanSelector(),
        CONF_INVERT_L2: BooleanSelector(),
        CONF_CURRENT_SCALE: _select(["1", "2", "4"], CONF_CURRENT_SCALE),
    }
    return probatio.Schema(
        {probatio.Required(key, default=_form_value(values[key])): selector for key, selector in selectors.items()}
    )


def _form_value(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _valid_gain(value: Any) -> int | None:
    if isinstance(value, (int, float)) and value == int(value) and 1 <= value <= 0xFFFF:
        return int(value)
    return None


def resolve_gains(user_input: Mapping[str, Any], previous: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the gains form into entry options; returns ``(options, errors)``.

    A preset gives the gain (a CT preset at the chosen PGA, divided by the current
    scale); "custom" takes the typed gain, which is what the chip is given.  When only
    the current scale changed, a custom current gain is rescaled so readings stay right.
    """
    errors: dict[str, str] = {}
    pga = int(user_input[CONF_PGA_GAIN])
    scale = int(user_input[CONF_CURRENT_SCALE])
    options: dict[str, Any] = {
        CONF_VOLTAGE_TRANSFORMERS: user_input[CONF_VOLTAGE_TRANSFORMERS],
        CONF_VT_PRESET: user_input[CONF_VT_PRESET],
        CONF_PGA_GAIN: pga,
        CONF_CT_PRESET_L1: user_input[CONF_CT_PRESET_L1],
        CONF_CT_PRESET_L2: user_input[CONF_CT_PRESET_L2],
        CONF_INVERT_L1: bool(user_input[CONF_INVERT_L1]),
        CONF_INVERT_L2: bool(user_input[CONF_INVERT_L2]),
        CONF_CURRENT_SCALE: scale,
    }
    vt_preset = user_input[CONF_VT_PRESET]
    for field in (CONF_VOLTAGE_GAIN, CONF_VOLTAGE_GAIN_L2):
        gain = VT_PRESETS[vt_preset] if vt_preset != PRESET_CUSTOM else _valid_gain(user_input[field])
        if gain is None:
            errors[field] = "invalid_gain"
        options[field] = gain
    previous_scale = int({**DEFAULT_OPTIONS, **previous}[CONF_CURRENT_SCALE])
    for preset_field, gain_field in (
        (CONF_CT_PRESET_L1, CONF_CURRENT_GAIN_L1),
        (CONF_CT_PRESET_L2, CONF_CURRENT_GAIN_L2),
    ):
        preset = user_input[preset_field]
        if preset != PRESET_CUSTOM:
            try:
                options[gain_field] = max(1, round(preset_current_gain(preset, pga) / scale))
            except CalibrationError:
                errors[preset_field] = "preset_out_of_range"
            continue
        gain = _valid_gain(user_input[gain_field])
        if gain is not None and scale != previous_scale and gain == previous.get(gain_field):
            gain = _valid_gain(round(gain * previous_scale / scale))
        if gain is None:
            errors[gain_field] = "invalid_gain"
        options[gain_field] = gain
    return options, errors


class Atm90e32ConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one ATM90E32AS chip."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no device chosen."""
        self._data: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: Atm90e32ConfigEntry) -> Atm90e32OptionsFlow:
        """The options flow: meter settings and calibration."""
        return Atm90e32OptionsFlow()

    async def _async_probe(self, data: Mapping[str, Any]) -> dict[str, str]:
        try:
            await self.hass.async_add_executor_job(probe, data)
        except Atm90e32Error as err:
            return {"base": _probe_error(err)}
        return {}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the device and wiring; talk to the chip before going on."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _device_data(user_input)
            await self.async_set_unique_id(chip_unique_id(data[CONF_DEVICE]))
            self._abort_if_unique_id_configured()
            errors = await self._async_probe(data)
            if not errors:
                self._data = data
                return await self.async_step_gains()
        devices = await self.hass.async_add_executor_job(list_spi_devices)
        return self.async_show_form(
            step_id="user", data_schema=_device_schema(devices, user_input or {}), errors=errors
        )

    async def async_step_gains(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the voltage transformer and CTs (presets or custom gains)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options, errors = resolve_gains(user_input, DEFAULT_OPTIONS)
            if not errors:
                return self.async_create_entry(title=f"{MODEL} ({self.unique_id})", data=self._data, options=options)
        return self.async_show_form(
            step_id="gains", data_schema=_gains_schema(user_input or DEFAULT_OPTIONS), errors=errors
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the SPI device, line frequency or wiring of an existing meter."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _device_data(user_input)
            unique_id = chip_unique_id(data[CONF_DEVICE])
            if unique_id != entry.unique_id:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_configured()
            errors = await self._async_probe(data)
            if not errors:
                return self.async_update_reload_and_abort(entry, unique_id=unique_id, data=data)
        devices = await self.hass.async_add_executor_job(list_spi_devices)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_device_schema(devices, user_input or entry.data),
            errors=errors,
        )


class Atm90e32OptionsFlow(OptionsFlowWithReload):
    """Meter settings and calibration against a reference meter; saving reloads the entry."""

    def __init__(self) -> None:
        """No calibration pending yet."""
        self._pending: tuple[ChipConfig, dict[str, Any]] | None = None
        self._report = ""
        self._expire: CALLBACK_TYPE | None = None

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer the settings or a calibration."""
        return self.async_show_menu(step_id="init", menu_options=["settings", "calibrate"])

    async def async_step_settings(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Presets or custom gains, PGA, CT direction, current scaling."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options, errors = resolve_gains(user_input, self.config_entry.options)
            if not errors:
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="settings", data_schema=_gains_schema(user_input or self.config_entry.options), errors=errors
        )

    async def async_step_calibrate(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Take reference readings, compute, write and read back new gains (AN p.21-24)."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        coordinator: Atm90e32Coordinator = self.config_entry.runtime_data
        errors: dict[str, str] = {}
        placeholders = {"gain": "", "readings": _readings(coordinator.data)}
        if user_input is not None:
            settings = coordinator.settings
            references = _references(user_input)
            old = coordinator.config
            try:
                before = await self.hass.async_add_executor_job(coordinator.read_calibration)
                volts, amps = new_gains(
                    dict(zip(Phase, old.voltage_gains, strict=True)),
                    dict(zip(Phase, old.current_gains, strict=True)),
                    before,
                    references,
                    current_scale=settings.current_scale,
                    shared_voltage=self._voltage_transformers() != VT_DUAL,
                )
            except CalibrationError as err:
                errors[err.field] = "gain_out_of_range"
                placeholders["gain"] = str(err.gain)
            except Atm90e32Error:
                errors["base"] = "cannot_connect"
            else:
                new = replace(
                    old,
                    voltage_gains=(volts[Phase.A], volts[Phase.A], volts[Phase.C]),
                    current_gains=(amps[Phase.A], old.current_gains[Phase.B], amps[Phase.C]),
                )
                try:
                    await self.hass.async_add_executor_job(coordinator.apply_config, new)
                    after = await self.hass.async_add_executor_job(coordinator.read_calibration)
                except Atm90e32Error:
                    await self._async_revert(coordinator, old)
                    errors["base"] = "cannot_connect"
                else:
                    options = {
                        **self.config_entry.options,
                        CONF_VT_PRESET: PRESET_CUSTOM,
                        CONF_VOLTAGE_GAIN: volts[Phase.A],
                        CONF_VOLTAGE_GAIN_L2: volts[Phase.C],
                        CONF_CT_PRESET_L1: PRESET_CUSTOM,
                        CONF_CURRENT_GAIN_L1: amps[Phase.A],
                        CONF_CT_PRESET_L2: PRESET_CUSTOM,
                        CONF_CURRENT_GAIN_L2: amps[Phase.C],
                    }
                    self._pending = (old, options)
                    self._report = _report(before, after, settings.current_scale)
                    self._expire = async_call_later(self.hass, CALIBRATION_CONFIRM_TIMEOUT_S, self._async_expire)
                    return await self.async_step_calibrate_result()
        dual = self._voltage_transformers() == VT_DUAL
        return self.async_show_form(
            step_id="calibrate",
            data_schema=_calibrate_schema(user_input or {}, dual),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _voltage_transformers(self) -> str:
        return str({**DEFAULT_OPTIONS, **self.config_entry.options}[CONF_VOLTAGE_TRANSFORMERS])

    async def async_step_calibrate_result(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the readings before and after; store the new gains when confirmed."""
        assert self._pending is not None
        if user_input is None:
            return self.async_show_form(
                step_id="calibrate_result",
                description_placeholders={"report": self._report, "minutes": str(CALIBRATION_CONFIRM_TIMEOUT_S // 60)},
            )
        _, options = self._pending
        self._pending = None
        self._cancel_expiry()
        return self.async_create_entry(data=options)

    @callback
    def _async_expire(self, _now: Any) -> None:
        """Nobody kept or dismissed the calibration: end the flow, which takes it back (async_remove)."""
        self._expire = None
        self.hass.config_entries.options.async_abort(self.flow_id)

    def _cancel_expiry(self) -> None:
        if self._expire is not None:
            self._expire()
            self._expire = None

    async def _async_revert(self, coordinator: Atm90e32Coordinator, old: ChipConfig) -> None:
        try:
            await self.hass.async_add_executor_job(coordinator.apply_config, old)
        except Atm90e32Error:
            coordinator.config = old  # re-applied by the next refresh's reset check or reload

    @callback
    def async_remove(self) -> None:
        """A calibration the person did not confirm is taken back out of the chip."""
        self._cancel_expiry()
        if self._pending is not None and self.config_entry.state is ConfigEntryState.LOADED:
            old, _ = self._pending
            self._pending = None
            self.hass.async_create_task(self._async_revert(self.config_entry.runtime_data, old))


REFERENCE = NumberSelector(NumberSelectorConfig(mode=NumberSelectorMode.BOX, step="any", min=0))


def _calibrate_schema(defaults: Mapping[str, Any], dual: bool) -> probatio.Schema:
    fields: dict[Any, Any] = {
        probatio.Required("reference_voltage_l1", default=defaults.get("reference_voltage_l1")): REFERENCE
    }
    if dual:
        fields[probatio.Optional("reference_voltage_l2")] = REFERENCE
    for leg in ("l1", "l2"):
        fields[probatio.Optional(f"reference_current_{leg}")] = REFERENCE
        fields[probatio.Optional(f"reference_power_{leg}")] = REFERENCE
    return probatio.Schema(fields)


def _references(user_input: Mapping[str, Any]) -> References:
    voltage_l1 = user_input.get("reference_voltage_l1")
    return References(
        voltage={Phase.A: voltage_l1, Phase.C: user_input.get("reference_voltage_l2", voltage_l1)},
        current={phase: user_input.get(f"reference_current_{leg}") for phase, leg in LEG_FIELDS.items()},
        power={phase: user_input.get(f"reference_power_{leg}") for phase, leg in LEG_FIELDS.items()},
    )


def _readings(snapshot: MeterSnapshot) -> str:
    """What the sensors show now, per leg, for the person to compare with the reference meter.

    ``snapshot`` is the coordinator's last (scaled) one: a loaded entry always has one.
    """
    parts = []
    for phase, leg in LEG_FIELDS.items():
        r = snapshot.phases.get(phase)
        if r is not None:
            parts.append(f"{leg.upper()} {r.voltage:.2f} V, {r.current:.3f} A, {r.active_power:.1f} W")
    return "; ".join(parts)


def _report(before: Mapping[Phase, CalibrationSample], after: Mapping[Phase, CalibrationSample], scale: int) -> str:
    lines = []
    for phase, leg in LEG_FIELDS.items():
        b, a = before[phase], after[phase]
        lines.append(
            f"{leg.upper()}: {b.voltage:.2f} V → {a.voltage:.2f} V, "
            f"{b.current * scale:.3f} A → {a.current * scale:.3f} A, "
            f"{abs(b.active_power) * scale:.1f} W → {abs(a.active_power) * scale:.1f} W"
        )
    return "\n".join(lines)
