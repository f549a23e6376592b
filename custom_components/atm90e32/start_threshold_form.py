"""The options form for the start threshold: IEC's from the CT's rating (default), or a fixed 2 W or 0.5 W per phase."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from .const import CONF_CURRENT_SCALE, CONF_START_THRESHOLD
from .driver import registers as reg
from .driver.channels import Wiring
from .driver.start_threshold import START_THRESHOLD_CHOICES, START_THRESHOLD_IEC, start_threshold
from .forms import select
from .labels import number
from .settings import rated_current


def schema(options: Mapping[str, Any]) -> vol.Schema:
    """The form, defaulting to the entry's choice (``iec`` when it has none)."""
    chosen = str(options.get(CONF_START_THRESHOLD, START_THRESHOLD_IEC))
    choices = select(list(START_THRESHOLD_CHOICES), CONF_START_THRESHOLD)
    return vol.Schema({vol.Required(CONF_START_THRESHOLD, default=chosen): choices})


def placeholders(wiring: Wiring, options: Mapping[str, Any], nominal_voltage: float, language: str) -> dict[str, str]:
    """``iec``: this meter's IEC threshold per phase in W (its smallest CT at ``nominal_voltage`` V); ``voltage``.

    ``options`` are the entry's options merged over the wiring's defaults; numbers in ``language``'s decimal separator.
    """
    scale = int(options.get(CONF_CURRENT_SCALE, 1))
    watts = start_threshold(rated_current(wiring, options), nominal_voltage, scale) * reg.POWER_LSB * scale
    return {"iec": number(language, watts, ".1f"), "voltage": f"{nominal_voltage:.0f}"}
