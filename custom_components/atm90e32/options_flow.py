"""The options flow: the menu, meter settings, power quality, refresh interval, demand, start threshold.

- settings: voltage transformer and CT presets (or "custom", then ``custom_gains``),
  PGA, CT direction, current scaling (forms.py, shared with the config flow); a circuits
  entry gets the ``circuits`` form, a three-phase one the ``three_phase`` form.
- power_quality: nominal voltage, thresholds, declared generation.
- update_interval: seconds between refreshes, refused where an energy register could
  fill between two reads (the refusal names the longest interval offered that fits).
- demand: the demand interval (a choice of four) and the billing cycle's start day.
- start_threshold: the start threshold per phase.
- calibrate, offset_calibration, phase_calibration, undo_compensation: calibration_flow.py.
"""

from __future__ import annotations

from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload

from . import demand_form, forms, labels, start_threshold_form, wiring_form
from . import power_quality_form as pq_form
from .calibration_flow import COMPENSATION_STEPS, CalibrationSteps
from .const import (
    CONF_NOMINAL_VOLTAGE,
    CONF_START_THRESHOLD,
    CONF_UPDATE_INTERVAL,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_WIRING,
    DEFAULT_UPDATE_INTERVAL,
    DEFAULT_VOLTAGE_SYSTEM,
    UPDATE_INTERVALS,
    VT_SINGLE,
)
from .driver.channels import CIRCUITS_KEY, THREE_PHASE_DELTA, THREE_PHASE_WYE
from .driver.ledger import max_read_interval_s, register_fill_s
from .publishing import CONF_DATABASE_WRITES, Mode, mode_of
from .settings import default_options, entry_wiring, longest_offered_interval, meter_settings


class Atm90e32OptionsFlow(CalibrationSteps, OptionsFlowWithReload):
    """Meter settings and calibration against a reference meter (calibration_flow.py); saving reloads the entry."""

    def __init__(self) -> None:
        """No calibration pending yet."""
        super().__init__()
        self._options: dict[str, Any] = {}
        self._polled_accepted: dict[str, Any] | None = None
        """Power-quality options shown once with the conditions the chip cannot latch; the same again saves them."""
        self._data_changed = False
        """The nominal system (entry data) was changed: saving reloads even with the options unchanged."""

    def async_show_form(self, **kwargs: Any) -> ConfigFlowResult:
        """Every options form names the meter it configures: placeholder ``meter``, the entry's title.

        Several meters have the same forms; the title (``{meter}: ...``) says which one is open.
        """
        kwargs["description_placeholders"] = {**(kwargs.get("description_placeholders") or {}), **self._meter()}
        return super().async_show_form(**kwargs)

    def async_show_menu(self, **kwargs: Any) -> ConfigFlowResult:
        """The menu names its meter too: in its description (the frontend fills no placeholder into a menu's title)."""
        kwargs["description_placeholders"] = {**(kwargs.get("description_placeholders") or {}), **self._meter()}
        return super().async_show_menu(**kwargs)

    def _meter(self) -> dict[str, str]:
        return {"meter": self.config_entry.title}

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer the settings or a calibration."""
        return self.async_show_menu(
            step_id="init",
            menu_options=[
                "settings",
                "calibrate",
                "power_quality",
                "update_interval",
                "demand",
                "start_threshold",
                # issue 14: offset and phase calibration, and their undo
                *COMPENSATION_STEPS,
            ],
        )

    async def async_step_settings(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Presets (or custom gains on the next step), PGA, CT direction, current scaling.

        A circuits entry gets its chip's form (its circuits are subentries), a three-phase
        entry the three-phase form; both keep the entry's other options.
        """
        data = self._entry_data
        if data.get(CONF_WIRING) == CIRCUITS_KEY:
            return await self.async_step_circuits_chip()
        if data.get(CONF_WIRING) == THREE_PHASE_WYE.key:
            return await self.async_step_three_phase()
        if data.get(CONF_WIRING) == THREE_PHASE_DELTA.key:
            return await self.async_step_delta()
        errors: dict[str, str] = {}
        wiring = entry_wiring(data)
        if user_input is not None:
            gains, errors = forms.resolve_presets(wiring, user_input, self._entry_options)
            # The other options (power quality, …) stay as they are: this step changes only its own.
            self._options = {**self._entry_options, **gains}
            if not errors:
                if forms.custom_gain_fields(wiring, self._options):
                    return await self.async_step_custom_gains()
                return self.async_create_entry(data=self._options)
        return self.async_show_form(
            step_id="settings",
            data_schema=forms.gains_schema(wiring, user_input or self._entry_options),
            errors=errors,
        )

    async def async_step_circuits_chip(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A circuits chip's transformer, PGA and current scaling; each circuit's CT gain follows its preset.

        The circuits' CTs and directions are their subentries' (kept as they are here).
        """
        wiring = entry_wiring(self._entry_data)
        options = {**default_options(wiring), **self._entry_options}
        errors: dict[str, str] = {}
        if user_input is not None:
            gains_input = {**options, **user_input, CONF_VOLTAGE_TRANSFORMERS: VT_SINGLE}
            gains, errors = forms.resolve_presets(wiring, gains_input, options)
            errors = {"base" if key not in user_input else key: error for key, error in errors.items()}
            self._options = {**options, **gains}
            if not errors:
                if forms.custom_gain_fields(wiring, self._options):
                    return await self.async_step_custom_gains()
                return self.async_create_entry(data=self._options)
        return self.async_show_form(
            step_id="circuits_chip",
            data_schema=wiring_form.circuits_chip_schema({**options, **(user_input or {})}),
            errors=errors,
        )

    async def async_step_three_phase(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Three-phase: nominal system (checked), transformers, presets, CT directions, current scaling."""
        return await self._async_three_phase("three_phase", user_input)

    async def async_step_delta(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Three-wire (delta): nominal line voltage (checked), presets, CT directions, current scaling."""
        return await self._async_three_phase("delta", user_input)

    async def _async_three_phase(self, step_id: str, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        entry = self.config_entry
        wiring = entry_wiring(entry.data)
        errors: dict[str, str] = {}
        placeholders = {"measured": "", "expected": ""}
        if user_input is not None:
            form = wiring_form.three_phase_input(wiring, user_input)
            gains, errors = forms.resolve_presets(wiring, form, entry.options)
            self._options = {**entry.options, **gains}
            system = user_input[CONF_VOLTAGE_SYSTEM]
            if not errors and system != entry.data.get(CONF_VOLTAGE_SYSTEM, DEFAULT_VOLTAGE_SYSTEM):
                data = {**entry.data, CONF_VOLTAGE_SYSTEM: system}
                errors = await wiring_form.check_new_system(self.hass, entry, data, self._options, placeholders)
                if not errors:
                    self.hass.config_entries.async_update_entry(entry, data=data)
                    self._options.pop(CONF_NOMINAL_VOLTAGE, None)  # follows the new system
                    self._data_changed = True
            if not errors:
                if forms.custom_gain_fields(wiring, self._options):
                    return await self.async_step_custom_gains()
                return self._async_save(self._options)
        values = {
            **default_options(wiring),
            **entry.options,
            CONF_VOLTAGE_SYSTEM: entry.data.get(CONF_VOLTAGE_SYSTEM, DEFAULT_VOLTAGE_SYSTEM),
            **(user_input or {}),
        }
        return self.async_show_form(
            step_id=step_id,
            data_schema=wiring_form.three_phase_schema(wiring, values),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _async_save(self, options: dict[str, Any]) -> ConfigFlowResult:
        """Save ``options``; after a changed nominal system the entry reloads even when they are unchanged."""
        if self._data_changed and options == dict(self._entry_options):
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
        return self.async_create_entry(data=options)

    async def async_step_power_quality(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Nominal voltage, sag/swell/phase-loss/frequency/over-current thresholds and declared generation.

        A threshold the chip cannot hold at the present gains is shown once as an error
        that says so (it would be judged at each refresh only); saving the same values
        again accepts that.  Nothing reaches the chip before the options are saved.
        """
        data, options = self._entry_data, self._entry_options
        errors: dict[str, str] = {}
        placeholders = {"polled": "", **dict.fromkeys(wiring_form.NOMINAL_PLACEHOLDERS, "")}
        if user_input is not None:
            new, errors = pq_form.validate(user_input, data)
            if errors.get(CONF_NOMINAL_VOLTAGE) == "nominal_not_wiring":  # name the voltage (or system) to choose
                voltages = wiring_form.measured_voltages(self.config_entry)
                errors[CONF_NOMINAL_VOLTAGE], named = wiring_form.nominal_refusal(
                    data, voltages, self.hass.config.language
                )
                placeholders.update(named)
            if not errors:
                merged = {**options, **new}
                polled = pq_form.polled(data, merged)
                if not polled or new == self._polled_accepted:
                    return self.async_create_entry(data=merged)
                self._polled_accepted = new
                errors["base"] = "thresholds_polled"
                placeholders["polled"] = await self._async_polled(polled)
        values = {**pq_form.current_values(data, options), **(user_input or {})}
        return self.async_show_form(
            step_id="power_quality",
            data_schema=pq_form.schema(values),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_polled(self, polled: dict[str, tuple[float, str]]) -> str:
        """The conditions the chip cannot latch, each with its limit, in Home Assistant's language.

        ``selector.power_quality_limit`` words each ("voltage swell at most {limit}"); the limit
        is written with the language's decimal separator.
        """
        pieces = await labels.async_pieces(self.hass, "power_quality_limit")
        language = self.hass.config.language
        return ", ".join(
            labels.fill(pieces[condition], limit=f"{labels.number(language, limit, '.1f')} {unit}")
            for condition, (limit, unit) in polled.items()
        )

    async def async_step_custom_gains(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Type the gains chosen as "custom" on the settings step, and only those."""
        wiring = entry_wiring(self._entry_data)
        return forms.custom_gains_step(
            self, wiring, self._options, user_input, self._async_save, names=self._names(wiring)
        )

    async def async_step_update_interval(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """How often the meter is read, s; an interval in which an energy register could fill is refused.

        The rule (driver.ledger.max_read_interval_s): at most half the time the fastest
        register (the all-phase total where phases are summed) takes to fill at full scale
        at the nominal voltage + 20 %, whatever the current scaling (which keeps the chip
        within its full scale).  The form says the limit.
        """
        options = self._entry_options
        settings = meter_settings(self._entry_data, options)
        nominal = settings.chip.power_quality.nominal_voltage
        summed = len(settings.wiring.summed_phases)
        longest = max_read_interval_s(nominal, summed)
        placeholders = {
            "voltage": f"{nominal:.0f}",
            "fill": f"{register_fill_s(nominal, summed):.0f}",
            "longest": str(longest_offered_interval(longest)),  # a choice the person can pick, not 19.5 s as "20"
            "interval": "",
        }
        errors: dict[str, str] = {}
        if user_input is not None:
            interval = int(user_input[CONF_UPDATE_INTERVAL])
            if interval <= longest:
                writes = user_input.get(CONF_DATABASE_WRITES, mode_of(options))
                return self.async_create_entry(
                    data={**options, CONF_UPDATE_INTERVAL: interval, CONF_DATABASE_WRITES: writes}
                )
            errors[CONF_UPDATE_INTERVAL] = "interval_too_long"
            placeholders["interval"] = str(interval)
        current = (user_input or options).get(CONF_UPDATE_INTERVAL, int(DEFAULT_UPDATE_INTERVAL.total_seconds()))
        schema = vol.Schema(
            {
                vol.Required(CONF_UPDATE_INTERVAL, default=str(current)): forms.select(
                    [str(seconds) for seconds in UPDATE_INTERVALS], CONF_UPDATE_INTERVAL
                ),
                # what the sensors write to the database (publishing.py; README "What is written to the database")
                vol.Required(CONF_DATABASE_WRITES, default=mode_of(user_input or options).value): forms.select(
                    [mode.value for mode in Mode], CONF_DATABASE_WRITES
                ),
            }
        )
        return self.async_show_form(
            step_id="update_interval", data_schema=schema, errors=errors, description_placeholders=placeholders
        )

    async def async_step_start_threshold(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The start threshold per phase (start_threshold_form); README "Start threshold" has the trade-off."""
        options = self._entry_options
        if user_input is not None:
            return self.async_create_entry(data={**options, CONF_START_THRESHOLD: user_input[CONF_START_THRESHOLD]})
        settings = meter_settings(self._entry_data, options)
        merged = {**default_options(settings.wiring), **options}
        nominal = settings.chip.power_quality.nominal_voltage
        return self.async_show_form(
            step_id="start_threshold",
            data_schema=start_threshold_form.schema(merged),
            description_placeholders=start_threshold_form.placeholders(
                settings.wiring, merged, nominal, self.hass.config.language
            ),
        )

    async def async_step_demand(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The demand interval (5/15/30/60 min) and the billing cycle's start day (1-28); wrong input saves nothing."""
        options = self._entry_options
        errors: dict[str, str] = {}
        if user_input is not None:
            new, errors = demand_form.validate(user_input)
            if not errors:
                return self.async_create_entry(data={**options, **new})
        values = {**demand_form.current_values(options), **(user_input or {})}
        return self.async_show_form(step_id="demand", data_schema=demand_form.schema(values), errors=errors)
