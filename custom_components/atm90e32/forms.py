"""Form pieces shared by the config, options and calibration flows: selectors, the presets form, custom gains.

- The presets form (``gains`` in the config flow, ``settings`` in the options flow):
  voltage transformer and CT presets (or "custom"), PGA, CT direction, current scaling;
  :func:`resolve_presets` turns it into entry options.
- ``custom_gains`` (both flows): only the gains chosen as "custom" are asked for
  (:func:`custom_gain_fields`), each a whole number 1..65535 (16-bit gain registers).
- The selectors every wiring's form uses (CT and transformer presets, PGA, current
  scaling) are built here once; wiring_form.py uses them for the circuits and three-phase forms.
- :class:`NumberBox`: a number box whose bounds the frontend shows, and whose range the
  step judges with its own translated error (Home Assistant's number selector would
  refuse it first with the form library's English "Value -5.0 is too small").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import voluptuous as vol
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
)

from .const import (
    CONF_CURRENT_SCALE,
    CONF_PGA_GAIN,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_VT_PRESET,
    PRESET_CUSTOM,
    VT_DUAL,
    VT_SINGLE,
)
from .driver.calibration import CT_PRESETS, VT_PRESETS, CalibrationError, preset_current_gain
from .driver.channels import Channel, Wiring
from .settings import default_options


class NumberBox(NumberSelector):
    """A number box (NumberSelector, box mode) whose ``min``/``max`` guide the frontend only.

    Home Assistant's flow manager validates the form's schema before the step sees the
    input, and the number selector refuses a value outside min/max there with an
    untranslated message that the frontend shows beside the previous submit's errors (the
    frontend marks the field but sends the value).  This box only makes the value a
    float (the frontend's number field sends a number or nothing); the step that uses it
    checks the range and answers with its own translated error on the field.
    """

    def __init__(
        self, *, minimum: float | None = None, maximum: float | None = None, step: float | Literal["any"] = "any"
    ) -> None:
        """A box from ``minimum`` to ``maximum`` (either may be None: unbounded) in steps of ``step``."""
        self._unbounded = NumberSelector(NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=step))
        """Home Assistant's own selector without the bounds: its coercion to float, no range."""
        config = NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=step)
        if minimum is not None:
            config["min"] = minimum
        if maximum is not None:
            config["max"] = maximum
        super().__init__(config)

    def __call__(self, data: Any) -> float:
        """``data`` as a float, whatever its range (the step judges it); Invalid when it is not a number."""
        return self._unbounded(data)


def select(options: list[str], key: str) -> SelectSelector:
    """A drop-down of ``options`` whose labels are translated under ``selector.<key>``."""
    return SelectSelector(SelectSelectorConfig(options=options, translation_key=key))


def form_value(value: Any) -> Any:
    """A stored option as a select's default: whole numbers as strings (the select's values), the rest as they are."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


CT_PRESET = select([*CT_PRESETS, PRESET_CUSTOM], "ct_preset")
"""A channel's CT model (driver.calibration.CT_PRESETS) or "custom"."""
VT_PRESET = select([*VT_PRESETS, PRESET_CUSTOM], CONF_VT_PRESET)
"""The voltage transformer model (driver.calibration.VT_PRESETS) or "custom"."""
PGA_GAIN = select(["1", "2", "4"], CONF_PGA_GAIN)
"""The current channels' PGA gain (PGAgain, DS p.59)."""
CURRENT_SCALE = select(["1", "2", "4"], CONF_CURRENT_SCALE)
"""Current scaling: Igain divided in the chip, current, power and energy multiplied in software."""
GAIN = NumberBox(minimum=1, maximum=0xFFFF, step=1)
"""A typed 16-bit gain register value, 1..65535 (Ugain/Igain, DS p.60); :func:`resolve_custom_gains` judges it."""


def ct_fields(channels: Iterable[Channel], values: Mapping[str, Any]) -> dict[Any, Any]:
    """Each channel's CT preset, then each channel's direction, defaulting to ``values``."""
    channels = list(channels)
    fields: dict[Any, Any] = {}
    for channel in channels:
        fields[vol.Required(channel.ct_preset_option, default=values[channel.ct_preset_option])] = CT_PRESET
    for channel in channels:
        fields[vol.Required(channel.invert_option, default=bool(values[channel.invert_option]))] = BooleanSelector()
    return fields


def presets_fields(wiring: Wiring, values: Mapping[str, Any]) -> dict[Any, Any]:
    """Transformer preset, PGA, the CTs of ``wiring`` and current scaling, defaulting to ``values``."""
    return {
        vol.Required(CONF_VT_PRESET, default=values[CONF_VT_PRESET]): VT_PRESET,
        vol.Required(CONF_PGA_GAIN, default=form_value(values[CONF_PGA_GAIN])): PGA_GAIN,
        **ct_fields(wiring.channels, values),
        vol.Required(CONF_CURRENT_SCALE, default=form_value(values[CONF_CURRENT_SCALE])): CURRENT_SCALE,
    }


def gains_schema(wiring: Wiring, current: Mapping[str, Any]) -> vol.Schema:
    """The presets form of ``wiring``, defaulting to ``current`` settings (options of the entry).

    No gain is typed here: a "custom" choice leads to :func:`custom_gain_fields` on the next step.
    """
    values = {**default_options(wiring), **current}
    transformers = select([VT_SINGLE, VT_DUAL], CONF_VOLTAGE_TRANSFORMERS)
    return vol.Schema(
        {
            vol.Required(CONF_VOLTAGE_TRANSFORMERS, default=values[CONF_VOLTAGE_TRANSFORMERS]): transformers,
            **presets_fields(wiring, values),
        }
    )


def custom_gain_fields(wiring: Wiring, options: Mapping[str, Any]) -> list[str]:
    """The gain options of ``wiring`` that ``options`` leave to the person: those set to "custom".

    The voltage gain of the reference channel with a custom transformer (and of every
    other channel when each has its own transformer), and the CT gain of each channel
    whose CT is custom.  Empty when every gain comes from a preset.
    """
    fields: list[str] = []
    if options[CONF_VT_PRESET] == PRESET_CUSTOM:
        dual = options[CONF_VOLTAGE_TRANSFORMERS] == VT_DUAL
        fields += [c.voltage_gain_option for c in wiring.channels if dual or c == wiring.reference]
    fields += [c.current_gain_option for c in wiring.channels if options[c.ct_preset_option] == PRESET_CUSTOM]
    return fields


def resolve_presets(
    wiring: Wiring, user_input: Mapping[str, Any], previous: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the presets form of ``wiring`` into entry options; returns ``(options, errors)``.

    A preset gives the gain (a CT preset at the chosen PGA, divided by the current
    scale).  A "custom" gain keeps the ``previous`` one as the starting value of the
    custom gains step, a CT gain rescaled to a changed current scale so readings stay right.
    """
    errors: dict[str, str] = {}
    previous = {**default_options(wiring), **previous}
    pga = int(user_input[CONF_PGA_GAIN])
    scale = int(user_input[CONF_CURRENT_SCALE])
    options: dict[str, Any] = {
        CONF_VOLTAGE_TRANSFORMERS: user_input[CONF_VOLTAGE_TRANSFORMERS],
        CONF_VT_PRESET: user_input[CONF_VT_PRESET],
        CONF_PGA_GAIN: pga,
        CONF_CURRENT_SCALE: scale,
    }
    vt_preset = user_input[CONF_VT_PRESET]
    previous_scale = int(previous[CONF_CURRENT_SCALE])
    for channel in wiring.channels:
        field = channel.voltage_gain_option
        options[field] = VT_PRESETS[vt_preset] if vt_preset != PRESET_CUSTOM else previous[field]
        options[channel.invert_option] = bool(user_input[channel.invert_option])
        preset = options[channel.ct_preset_option] = user_input[channel.ct_preset_option]
        gain_field = channel.current_gain_option
        if preset == PRESET_CUSTOM:
            rescaled = round(int(previous[gain_field]) * previous_scale / scale)
            options[gain_field] = min(0xFFFF, max(1, rescaled))
            continue
        try:
            options[gain_field] = max(1, round(preset_current_gain(preset, pga) / scale))
        except CalibrationError:
            errors[channel.ct_preset_option] = "preset_out_of_range"
    return options, errors


def custom_gains_schema(fields: list[str], values: Mapping[str, Any]) -> vol.Schema:
    """The custom gains form: one box per gain of ``fields``, defaulting to ``values``."""
    return vol.Schema({vol.Required(field, default=values[field]): GAIN for field in fields})


def valid_gain(value: Any) -> int | None:
    """``value`` as a gain register value, a whole number 1..65535 (DS p.60); None when it is not one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == int(value) and 1 <= value <= 0xFFFF:
        return int(value)
    return None


def resolve_custom_gains(
    fields: list[str], user_input: Mapping[str, Any], options: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Take the typed gains of ``fields`` into ``options``; returns ``(options, errors)``.

    Each must be a whole number 1..65535 (the chip's 16-bit gain registers); a field
    that is not gets the ``invalid_gain`` error and nothing is taken.
    """
    errors: dict[str, str] = {}
    result = dict(options)
    for field in fields:
        gain = valid_gain(user_input.get(field))
        if gain is None:
            errors[field] = "invalid_gain"
        result[field] = gain
    return result, errors


def custom_gains_step(
    flow: ConfigFlow | OptionsFlow,
    wiring: Wiring,
    options: dict[str, Any],
    user_input: Mapping[str, Any] | None,
    done: Callable[[dict[str, Any]], ConfigFlowResult],
    *,
    names: Mapping[str, str],
) -> ConfigFlowResult:
    """The ``custom_gains`` step of either flow: type the gains of ``options`` chosen as "custom", and only those.

    Accepted gains go to ``done`` with the completed options; otherwise the form is shown (again, with errors).
    ``names``: each input's name (labels.input_names), the placeholders of the fields' labels.
    """
    errors: dict[str, str] = {}
    fields = custom_gain_fields(wiring, options)
    if user_input is not None:
        accepted, errors = resolve_custom_gains(fields, user_input, options)
        if not errors:
            return done(accepted)
    return flow.async_show_form(
        step_id="custom_gains",
        data_schema=flow.add_suggested_values_to_schema(custom_gains_schema(fields, options), user_input or {}),
        errors=errors,
        description_placeholders=dict(names),
    )
