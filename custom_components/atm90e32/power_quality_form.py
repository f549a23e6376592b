"""The options form for power-quality thresholds: schema, validation and what the chip can latch at these gains."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)

from .const import (
    CONF_CURRENT_SCALE,
    CONF_EXPORT_EXPECTED,
    CONF_FREQUENCY_PERCENT,
    CONF_LINE_FREQUENCY,
    CONF_NOMINAL_VOLTAGE,
    CONF_OVER_CURRENT,
    CONF_PHASE_LOSS_PERCENT,
    CONF_SAG_PERCENT,
    CONF_SWELL_PERCENT,
    CONF_WIRING,
    DEFAULT_OVER_CURRENT,
    NOMINAL_VOLTAGES,
    POWER_QUALITY_DEFAULTS,
)
from .driver.channels import THREE_PHASE_DELTA, THREE_PHASE_WYE
from .driver.power_quality import CHANNEL_CONDITIONS
from .forms import select
from .settings import default_nominal_voltage, entry_voltage_system, meter_settings

FREQUENCY_PERCENT_MAX = 10.0
"""A tolerance of 10 % or more would put the low limit below 54 Hz: no longer a frequency watch."""


def _percent(unit: str = "%") -> NumberSelector:
    return NumberSelector(NumberSelectorConfig(mode=NumberSelectorMode.BOX, step="any", unit_of_measurement=unit))


def current_values(data: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values now: the entry's options over the defaults (nominal voltage and over-current derived)."""
    merged = {**POWER_QUALITY_DEFAULTS, **options}
    scale = int(options.get(CONF_CURRENT_SCALE, 1))
    merged.setdefault(CONF_NOMINAL_VOLTAGE, default_nominal_voltage(int(data[CONF_LINE_FREQUENCY]), data))
    merged.setdefault(CONF_OVER_CURRENT, DEFAULT_OVER_CURRENT * scale)
    return merged


def schema(values: Mapping[str, Any]) -> vol.Schema:
    """The form, defaulting to ``values`` (see :func:`current_values`).

    The nominal voltages offered are NOMINAL_VOLTAGES and the present one (a delta service's line voltage).
    """
    nominal = int(float(values[CONF_NOMINAL_VOLTAGE]))
    voltages = [str(v) for v in sorted({*NOMINAL_VOLTAGES, nominal})]
    return vol.Schema(
        {
            vol.Required(CONF_NOMINAL_VOLTAGE, default=str(nominal)): select(voltages, CONF_NOMINAL_VOLTAGE),
            vol.Required(CONF_SAG_PERCENT, default=values[CONF_SAG_PERCENT]): _percent(),
            vol.Required(CONF_SWELL_PERCENT, default=values[CONF_SWELL_PERCENT]): _percent(),
            vol.Required(CONF_PHASE_LOSS_PERCENT, default=values[CONF_PHASE_LOSS_PERCENT]): _percent(),
            vol.Required(CONF_FREQUENCY_PERCENT, default=values[CONF_FREQUENCY_PERCENT]): _percent(),
            vol.Required(CONF_OVER_CURRENT, default=values[CONF_OVER_CURRENT]): _percent("A"),
            vol.Required(CONF_EXPORT_EXPECTED, default=values[CONF_EXPORT_EXPECTED]): BooleanSelector(),
        }
    )


def validate(
    user_input: Mapping[str, Any], data: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the form into options; returns ``(options, errors)`` with an error per field that is wrong.

    With the entry's ``data``, a three-phase entry's nominal voltage must be the
    line-to-neutral voltage of its system (230 on 230/400 V): another one does not match
    the wiring (``nominal_not_wiring``).
    """
    options = {
        CONF_NOMINAL_VOLTAGE: float(user_input[CONF_NOMINAL_VOLTAGE]),
        CONF_SAG_PERCENT: float(user_input[CONF_SAG_PERCENT]),
        CONF_SWELL_PERCENT: float(user_input[CONF_SWELL_PERCENT]),
        CONF_PHASE_LOSS_PERCENT: float(user_input[CONF_PHASE_LOSS_PERCENT]),
        CONF_FREQUENCY_PERCENT: float(user_input[CONF_FREQUENCY_PERCENT]),
        CONF_OVER_CURRENT: float(user_input[CONF_OVER_CURRENT]),
        CONF_EXPORT_EXPECTED: bool(user_input[CONF_EXPORT_EXPECTED]),
    }
    errors: dict[str, str] = {}
    three_phase = data is not None and data.get(CONF_WIRING) in (THREE_PHASE_WYE.key, THREE_PHASE_DELTA.key)
    if three_phase and options[CONF_NOMINAL_VOLTAGE] != entry_voltage_system(data or {})[0]:
        errors[CONF_NOMINAL_VOLTAGE] = "nominal_not_wiring"
    if not 0 < options[CONF_SAG_PERCENT] < 100:
        errors[CONF_SAG_PERCENT] = "sag_not_below_nominal"
    if not 100 < options[CONF_SWELL_PERCENT] <= 200:
        errors[CONF_SWELL_PERCENT] = "swell_not_above_nominal"
    if not 0 < options[CONF_PHASE_LOSS_PERCENT] < options[CONF_SAG_PERCENT]:
        errors[CONF_PHASE_LOSS_PERCENT] = "phase_loss_not_below_sag"
    if not 0 < options[CONF_FREQUENCY_PERCENT] < FREQUENCY_PERCENT_MAX:
        errors[CONF_FREQUENCY_PERCENT] = "frequency_out_of_range"
    if options[CONF_OVER_CURRENT] <= 0:
        errors[CONF_OVER_CURRENT] = "over_current_out_of_range"
    return options, errors


def polled(data: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, tuple[float, str]]:
    """Conditions the chip cannot latch at the entry's gains, with the largest threshold it could hold.

    Returns ``{condition: (110.9, "V")}``, amperes as shown (current scaling included); empty
    when the chip latches every one.  The options flow words it in the person's language.
    """
    settings = meter_settings(data, options)
    chip = settings.chip
    plan = chip.threshold_plan()
    result = {}
    for condition in CHANNEL_CONDITIONS:
        if condition not in plan.in_chip:
            limit = plan.limits[condition]
            result[condition.value] = (
                (limit * settings.current_scale, "A") if condition.value == "over_current" else (limit, "V")
            )
    return result
