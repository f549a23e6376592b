"""What the forms call things: one name per input, numbers in Home Assistant's language, translated pieces.

- :func:`input_names`: the name of each input wherever a form or a result names it
  (calibrate, phase, offset, undo, custom gains): a circuit's name with its CT label
  ("Heat pump (CT4)"), a mains leg or phase with its CT ("L1 (CT1)"; delta: "L3 (CT2)").
- :func:`voltage_names`: what each mains channel's voltage input measures: "L1-N" (split-phase,
  wye), "L1-L2" and "L3-L2" on a delta service, which has no neutral (DS p.56, 3P3W).
- :func:`number`: a number written with the decimal separator of Home Assistant's language
  (the frontend shows placeholders as given; Home Assistant does not ship Babel).
- :func:`async_pieces`: translated pieces Python puts into a form (a select's labels, a
  default name, a list inside an error), read in Home Assistant's language from the
  translations' ``selector`` category, as core's samsung_infrared builds an entry title.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from .const import CONF_BOARD_POSITION, DOMAIN
from .driver.channels import CIRCUIT_KEYS, CIRCUITS_KEY, Channel, Wiring

DECIMAL_COMMA: Final = frozenset({"de", "es", "fr"})
"""The languages translated here that write a decimal comma (CLDR); any other reads the English text, with a dot."""


def default_circuit_name(channel: Channel, position: int) -> str:
    """The name a circuit starts with: the board's CT label, CT1-CT3 on the first chip, CT4-CT6 on the second."""
    index = CIRCUIT_KEYS.index(channel.key) + 1  # by key: an entry's channel carries the circuit's name
    return f"CT{index + 3 * (position - 1)}"


def input_names(wiring: Wiring, data: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, str]:
    """Channel key -> the input's one name: ``"Heat pump (CT4)"``, ``"L1 (CT1)"``; ``"CT4"`` for a circuit named so.

    ``data``/``options`` as the settings read them (a circuits chip's with each circuit's
    ``name_<key>``, circuits.circuit_inputs); the CT label follows the board: CT1-CT3 on the
    first chip, CT4-CT6 on the second (``board_position``).  Mains CTs are numbered in
    channel order, as the board's inputs are wired (delta: CT1 on L1, CT2 on L3).
    """
    names: dict[str, str] = {}
    position = int(data.get(CONF_BOARD_POSITION, 1))
    for index, channel in enumerate(wiring.channels, start=1):
        if wiring.key != CIRCUITS_KEY:
            names[channel.key] = f"{channel.name} (CT{index})"
            continue
        label = default_circuit_name(channel, position)
        name = str(options.get(channel.name_option) or label).strip()
        names[channel.key] = label if name.casefold() == label.casefold() else f"{name} ({label})"
    return names


def voltage_names(wiring: Wiring) -> dict[str, str]:
    """``voltage_<key>`` -> what the channel's voltage input measures: ``"L1-N"``, or ``"L1-L2"`` on a delta service."""
    return {f"voltage_{c.key}": f"{c.name}-L2" if wiring.delta else f"{c.name}-N" for c in wiring.channels}


def number(language: str, value: float, spec: str) -> str:
    """``value`` formatted with ``spec`` (``".2f"``, ``"+.1f"``) and the decimal separator of ``language``."""
    text = format(value, spec)
    return text.replace(".", ",") if language.split("-", maxsplit=1)[0].lower() in DECIMAL_COMMA else text


async def async_pieces(hass: HomeAssistant, block: str) -> dict[str, str]:
    """The translated strings of ``selector.<block>.options`` in Home Assistant's language (English where missing)."""
    translations = await async_get_translations(hass, hass.config.language, "selector", {DOMAIN})
    prefix = f"component.{DOMAIN}.selector.{block}.options."
    return {key.removeprefix(prefix): text for key, text in translations.items() if key.startswith(prefix)}


def fill(text: str, **placeholders: str) -> str:
    """``text`` with each ``{name}`` of ``placeholders`` replaced (a translated piece, as the frontend fills it)."""
    for name, value in placeholders.items():
        text = text.replace(f"{{{name}}}", value)
    return text
