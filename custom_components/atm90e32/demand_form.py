"""The options form for demand: the demand interval and the billing cycle's start day, and their validation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from .const import CONF_CYCLE_START_DAY, CONF_DEMAND_INTERVAL
from .driver.demand import CYCLE_START_DAYS, DEFAULT_CYCLE_START_DAY, DEFAULT_DEMAND_INTERVAL_MIN, DEMAND_INTERVALS_MIN
from .forms import NumberBox, select


def current_values(options: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values now: the entry's options, or the defaults (15 minutes, day 1)."""
    return {
        CONF_DEMAND_INTERVAL: options.get(CONF_DEMAND_INTERVAL, DEFAULT_DEMAND_INTERVAL_MIN),
        CONF_CYCLE_START_DAY: options.get(CONF_CYCLE_START_DAY, DEFAULT_CYCLE_START_DAY),
    }


def schema(values: Mapping[str, Any]) -> vol.Schema:
    """The form, defaulting to ``values``.

    The interval is a choice of DEMAND_INTERVALS_MIN only, each labelled with its unit
    (``selector.demand_interval`` in the translations; no custom value: the frontend
    would show a free box with the bare number).  The day box shows 1..28 but lets any
    number through (:class:`forms.NumberBox`): :func:`validate` refuses a wrong day with
    an error that says why, where the selector's own check would show an untranslated one.
    """
    return vol.Schema(
        {
            vol.Required(CONF_DEMAND_INTERVAL, default=str(values[CONF_DEMAND_INTERVAL])): select(
                [str(minutes) for minutes in DEMAND_INTERVALS_MIN], CONF_DEMAND_INTERVAL
            ),
            vol.Required(CONF_CYCLE_START_DAY, default=values[CONF_CYCLE_START_DAY]): NumberBox(
                minimum=CYCLE_START_DAYS[0], maximum=CYCLE_START_DAYS[-1], step=1
            ),
        }
    )


def validate(user_input: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the form into options; returns ``(options, errors)``, an error on the day when it is wrong, then no options.

    The interval is one of DEMAND_INTERVALS_MIN (the select offers no other), the day a
    whole number 1..28 (``cycle_start_day_out_of_range``).
    """
    day = _whole(user_input.get(CONF_CYCLE_START_DAY))
    if day not in CYCLE_START_DAYS:
        return {}, {CONF_CYCLE_START_DAY: "cycle_start_day_out_of_range"}
    return {CONF_DEMAND_INTERVAL: int(user_input[CONF_DEMAND_INTERVAL]), CONF_CYCLE_START_DAY: day}, {}


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
