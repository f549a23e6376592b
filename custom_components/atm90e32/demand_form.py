"""The options form for demand: the demand interval and the billing cycle's start day, and their validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
)

from .const import CONF_CYCLE_START_DAY, CONF_DEMAND_INTERVAL
from .driver.demand import CYCLE_START_DAYS, DEFAULT_CYCLE_START_DAY, DEFAULT_DEMAND_INTERVAL_MIN, DEMAND_INTERVALS_MIN


def current_values(options: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values now: the entry's options, or the defaults (15 minutes, day 1)."""
    return {
        CONF_DEMAND_INTERVAL: options.get(CONF_DEMAND_INTERVAL, DEFAULT_DEMAND_INTERVAL_MIN),
        CONF_CYCLE_START_DAY: options.get(CONF_CYCLE_START_DAY, DEFAULT_CYCLE_START_DAY),
    }


def schema(values: Mapping[str, Any]) -> vol.Schema:
    """The form, defaulting to ``values``.

    The selectors do not restrict the values themselves (the interval list takes a typed
    value, the day box has no bounds): :func:`validate` refuses what is wrong with an
    error that says why, where a selector's own check would show an untranslated one.
    """
    return vol.Schema(
        {
            vol.Required(CONF_DEMAND_INTERVAL, default=str(values[CONF_DEMAND_INTERVAL])): SelectSelector(
                SelectSelectorConfig(
                    options=[str(minutes) for minutes in DEMAND_INTERVALS_MIN],
                    translation_key=CONF_DEMAND_INTERVAL,
                    custom_value=True,
                )
            ),
            vol.Required(CONF_CYCLE_START_DAY, default=values[CONF_CYCLE_START_DAY]): NumberSelector(
                NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=1)
            ),
        }
    )


def validate(user_input: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the form into options; returns ``(options, errors)``, an error per wrong field and then no options.

    The interval must be one of DEMAND_INTERVALS_MIN minutes, the day a whole number 1..28.
    """
    errors: dict[str, str] = {}
    options: dict[str, Any] = {}
    interval = _whole(user_input.get(CONF_DEMAND_INTERVAL))
    if interval in DEMAND_INTERVALS_MIN:
        options[CONF_DEMAND_INTERVAL] = interval
    else:
        errors[CONF_DEMAND_INTERVAL] = "demand_interval_not_offered"
    day = _whole(user_input.get(CONF_CYCLE_START_DAY))
    if day in CYCLE_START_DAYS:
        options[CONF_CYCLE_START_DAY] = day
    else:
        errors[CONF_CYCLE_START_DAY] = "cycle_start_day_out_of_range"
    return ({} if errors else options), errors


def _whole(value: Any) -> int | None:
    """``value`` (a number, or a string from the select) as a whole number; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and value == int(value):
        return int(value)
    return None
