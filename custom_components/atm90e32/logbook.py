"""The Logbook's words for a power-quality event: which channel, what was read and the limit crossed.

Home Assistant's logbook platform: each :data:`event.EVENT_POWER_QUALITY` the event
entity fires becomes one line linked to that entity, e.g. "Kitchen (CT3): over-current
started at 73.412 A (limit 65 A)", in Home Assistant's language (translations ``common``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_ENTITY_ID, LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.translation import async_get_cached_translations

from .const import DOMAIN
from .event import EVENT_POWER_QUALITY
from .labels import number
from .precision import AMPERE, HERTZ, VOLT

READING: Final[dict[str, tuple[str, str, int]]] = {
    "sag": ("voltage", "V", VOLT),
    "swell": ("voltage", "V", VOLT),
    "phase_loss": ("voltage", "V", VOLT),
    "over_current": ("current", "A", AMPERE),
    "frequency_high": ("frequency", "Hz", HERTZ),
    "frequency_low": ("frequency", "Hz", HERTZ),
}
"""Per condition: the event attribute holding the value read, its unit and its decimals (precision.py)."""
BELOW: Final = frozenset({"sag", "phase_loss", "frequency_low"})
"""Conditions that hold below their limit (the others hold above it)."""


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Teach the Logbook to describe :data:`EVENT_POWER_QUALITY`."""

    @callback
    def describe(event: Event) -> dict[str, Any]:
        entity_id = event.data.get(ATTR_ENTITY_ID)
        state = hass.states.get(entity_id) if isinstance(entity_id, str) else None
        return {
            LOGBOOK_ENTRY_NAME: "ATM90E32AS" if state is None else state.name,
            LOGBOOK_ENTRY_MESSAGE: message(hass, event.data),
            LOGBOOK_ENTRY_ENTITY_ID: entity_id,
        }

    async_describe_event(DOMAIN, EVENT_POWER_QUALITY, describe)


def message(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    """The line for one event's ``data`` (event.event_data plus ``event_type``) in Home Assistant's language.

    "{channel}: {what} at {value} (limit {limit})", the channel left out where the event
    has none (the frequency, a voltage all circuits share).  The value is the one the
    refresh read; where it does not show what the line says (a sag shorter than a
    refresh: the chip latched it, the refresh read the voltage back to normal), the line
    leaves it out ("voltage sag started (limit 96 V)").  The integration's translations are
    loaded with its entities; without them the event type is shown.
    """
    event_type = str(data.get("event_type", ""))
    condition = event_type.removesuffix("_end")
    strings = async_get_cached_translations(hass, hass.config.language, "common", DOMAIN)
    prefix = f"component.{DOMAIN}.common."
    attribute, unit, decimals = READING.get(condition, ("", "", 0))
    value, limit = data.get(attribute), data.get("limit")
    shows = False
    if isinstance(value, (int, float)) and isinstance(limit, (int, float)):
        holds = value < limit if condition in BELOW else value > limit
        shows = holds != event_type.endswith("_end")
    template = strings.get(f"{prefix}logbook_{event_type}{'' if shows else '_unread'}")
    if template is None:
        return event_type
    language = hass.config.language
    text = template.format(
        value=_number(value, unit, decimals, language), limit=_number(limit, unit, decimals, language)
    )
    channel = data.get("channel")
    return f"{channel}: {text}" if channel else text[:1].upper() + text[1:]


def _number(value: Any, unit: str, decimals: int, language: str) -> str:
    """``73.4 A``: no trailing zeros, ``language``'s decimal separator (labels.number); ``?`` for a value not read."""
    if not isinstance(value, (int, float)):
        return "?"
    digits = number(language, value, f".{decimals}f")
    return f"{digits.rstrip('0').rstrip('.,') if decimals else digits} {unit}"
