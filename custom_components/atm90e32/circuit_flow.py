"""The ``circuit`` subentry flow: add a circuit on a free CT input of a circuits chip, or change one.

- user: a free CT input (CT1-CT3 on the board's first chip, CT4-CT6 on its second), the
  circuit's name, CT model (or a custom gain), direction and 240 V factor.
- reconfigure: the same for an existing circuit but its CT input (a circuit's entities
  and energy belong to its input).
The CT gain follows the preset at the chip's PGA and current scaling (its entry's options),
as the chip's other forms compute it.  Names are refused when empty or already another
circuit's.  Saving reloads the chip (circuits.async_reload_on_circuit_change); removing a
circuit removes its device and entities (Home Assistant, for a subentry).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)

from . import forms
from .circuits import (
    CONF_CHANNEL,
    CONF_CT_PRESET,
    CONF_CURRENT_GAIN,
    CONF_INVERT,
    CONF_VOLTAGE_FACTOR,
    circuit_names,
    circuit_subentries,
)
from .const import (
    CONF_BOARD_POSITION,
    CONF_CURRENT_SCALE,
    CONF_PGA_GAIN,
    DEFAULT_CT_PRESET,
    DEFAULT_CURRENT_GAIN,
    PRESET_CUSTOM,
)
from .driver.calibration import CT_PRESETS, CalibrationError, preset_current_gain
from .driver.channels import CIRCUIT_CHANNELS, CIRCUITS
from .labels import default_circuit_name
from .settings import default_options
from .wiring_form import VOLTAGE_FACTORS, name_error

CONF_NAME = "name"


def circuit_gain(preset: str, typed: Any, pga: int, scale: int) -> tuple[int | None, str | None]:
    """The CT gain (Igain, DS p.59) of a circuit and the error of its form: ``(gain, error)``.

    A preset's published gain at the chip's ``pga`` divided by its current ``scale`` (as
    the chip's forms compute it); ``custom``: ``typed``, a whole number 1..65535 (the
    16-bit register) or ``invalid_gain``.  ``preset_out_of_range`` for a preset past 65535 at ``pga``.
    """
    if preset == PRESET_CUSTOM:
        gain = forms.valid_gain(typed)
        return (gain, None) if gain is not None else (None, "invalid_gain")
    try:
        return max(1, round(preset_current_gain(preset, pga) / scale)), None
    except CalibrationError:
        return None, "preset_out_of_range"


class CircuitSubentryFlow(ConfigSubentryFlow):
    """Add or change one circuit (a ``circuit`` subentry) of a circuits chip."""

    def _free_inputs(self) -> list[str]:
        used = {str(sub.data[CONF_CHANNEL]) for sub in circuit_subentries(self._get_entry())}
        return [channel.key for channel in CIRCUIT_CHANNELS if channel.key not in used]

    def _schema(self, values: Mapping[str, Any], inputs: list[str] | None) -> vol.Schema:
        """The circuit form defaulting to ``values``; ``inputs`` the free CT inputs offered (None: reconfigure)."""
        position = int(self._get_entry().data.get(CONF_BOARD_POSITION, 1))
        by_key = {channel.key: channel for channel in CIRCUIT_CHANNELS}
        fields: dict[Any, Any] = {}
        if inputs is not None:
            labels = [SelectOptionDict(value=k, label=default_circuit_name(by_key[k], position)) for k in inputs]
            fields[vol.Required(CONF_CHANNEL, default=values.get(CONF_CHANNEL, inputs[0]))] = SelectSelector(
                SelectSelectorConfig(options=labels)
            )
        fields[vol.Required(CONF_NAME, description={"suggested_value": values.get(CONF_NAME, "")})] = TextSelector()
        fields[vol.Required(CONF_CT_PRESET, default=values.get(CONF_CT_PRESET, DEFAULT_CT_PRESET))] = SelectSelector(
            SelectSelectorConfig(options=[*CT_PRESETS, PRESET_CUSTOM], translation_key="ct_preset")
        )
        # the gain's bounds shown, judged by circuit_gain with a translated error (forms.NumberBox)
        gain = vol.Optional(CONF_CURRENT_GAIN, default=values.get(CONF_CURRENT_GAIN, DEFAULT_CURRENT_GAIN))
        fields[gain] = forms.GAIN
        fields[vol.Required(CONF_INVERT, default=bool(values.get(CONF_INVERT, False)))] = BooleanSelector()
        fields[vol.Required(CONF_VOLTAGE_FACTOR, default=str(values.get(CONF_VOLTAGE_FACTOR, 1)))] = SelectSelector(
            SelectSelectorConfig(options=list(VOLTAGE_FACTORS), translation_key="voltage_factor")
        )
        return vol.Schema(fields)

    def _validate(
        self, user_input: Mapping[str, Any], exclude: str | None
    ) -> tuple[str, dict[str, Any], dict[str, str]]:
        """``(name, subentry data without the channel, errors)`` of the circuit form."""
        options = {**default_options(CIRCUITS), **self._get_entry().options}
        name = str(user_input.get(CONF_NAME) or "").strip()
        errors: dict[str, str] = {}
        taken = {taken.strip().casefold() for taken in circuit_names(self.hass, exclude=exclude)}
        if error := name_error(name, taken):
            errors[CONF_NAME] = error
        preset = str(user_input[CONF_CT_PRESET])
        gain, error = circuit_gain(
            preset, user_input.get(CONF_CURRENT_GAIN), int(options[CONF_PGA_GAIN]), int(options[CONF_CURRENT_SCALE])
        )
        if error:
            errors[CONF_CURRENT_GAIN if preset == PRESET_CUSTOM else CONF_CT_PRESET] = error
        data = {
            CONF_CT_PRESET: preset,
            CONF_CURRENT_GAIN: gain,
            CONF_INVERT: bool(user_input[CONF_INVERT]),
            CONF_VOLTAGE_FACTOR: int(user_input[CONF_VOLTAGE_FACTOR]),
        }
        return name, data, errors

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a circuit on a free CT input."""
        inputs = self._free_inputs()
        if not inputs:
            return self.async_abort(reason="no_free_input")
        errors: dict[str, str] = {}
        if user_input is not None:
            name, data, errors = self._validate(user_input, None)
            channel = str(user_input[CONF_CHANNEL])
            if channel not in inputs:
                errors[CONF_CHANNEL] = "input_taken"
            if not errors:
                return self.async_create_entry(title=name, data={CONF_CHANNEL: channel, **data}, unique_id=channel)
        return self.async_show_form(step_id="user", data_schema=self._schema(user_input or {}, inputs), errors=errors)

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Rename a circuit, change its CT, direction or 240 V factor (its CT input stays)."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            name, data, errors = self._validate(user_input, subentry.subentry_id)
            if not errors:
                return self.async_update_and_abort(
                    self._get_entry(), subentry, title=name, data={**subentry.data, **data}
                )
        values = user_input or {**subentry.data, CONF_NAME: subentry.title}
        return self.async_show_form(step_id="reconfigure", data_schema=self._schema(values, None), errors=errors)
