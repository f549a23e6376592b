"""The device step's form: the chip select, the board, line frequency, SPI clock and replay file.

Shared by the config flow's ``device`` step and reconfigure (config_flow.py).  A simulated
chip select is named in Home Assistant's language (``selector.default_names``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import voluptuous as vol
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from . import forms, labels
from .bus import is_simulated, simulated_index
from .const import (
    CONF_BOARD,
    CONF_BOARD_POSITION,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_REPLAY_FILE,
    CONF_SPI_SPEED,
    DEFAULT_LINE_FREQUENCY,
    MODEL,
    SPI_SPEEDS,
)
from .driver.channels import CIRCUITS_KEY
from .driver.transport import DEFAULT_SPEED_HZ


def schema(
    devices: list[str],
    defaults: Mapping[str, Any],
    *,
    wiring: str | None,
    names: Mapping[str, str],
    simulated: bool = True,
) -> vol.Schema:
    """The chip select, board and bus form; ``devices`` are the chip selects offered (free ones only).

    ``wiring`` None is the reconfigure form (no board fields).  With ``simulated`` the
    replay file field is offered (it applies to the simulated meter only).  ``names``: the
    translated ``selector.default_names`` pieces (:func:`labels.async_pieces`) naming the simulated chip selects.
    """
    device_options = [
        SelectOptionDict(value=d, label=simulated_label(d, names) if is_simulated(d) else d) for d in devices
    ]
    default_device = defaults.get(CONF_DEVICE, device_options[0]["value"])
    fields: dict[Any, Any] = {
        vol.Required(CONF_DEVICE, default=default_device): SelectSelector(
            SelectSelectorConfig(options=device_options, mode=SelectSelectorMode.DROPDOWN)
        ),
    }
    if wiring is not None:
        fields[vol.Required(CONF_BOARD, default=defaults.get(CONF_BOARD, MODEL))] = TextSelector()
        if wiring == CIRCUITS_KEY:
            fields[vol.Required(CONF_BOARD_POSITION, default=str(defaults.get(CONF_BOARD_POSITION, 1)))] = forms.select(
                ["1", "2"], CONF_BOARD_POSITION
            )
    fields[
        vol.Required(CONF_LINE_FREQUENCY, default=str(defaults.get(CONF_LINE_FREQUENCY, DEFAULT_LINE_FREQUENCY)))
    ] = forms.select(["60", "50"], CONF_LINE_FREQUENCY)
    fields[vol.Required(CONF_SPI_SPEED, default=str(defaults.get(CONF_SPI_SPEED, DEFAULT_SPEED_HZ)))] = forms.select(
        [str(speed) for speed in SPI_SPEEDS], CONF_SPI_SPEED
    )
    if simulated:
        # A suggestion, not a default: an emptied field means no file, never the path refused before.
        suggested = {"suggested_value": defaults.get(CONF_REPLAY_FILE, "")}
        fields[vol.Optional(CONF_REPLAY_FILE, description=suggested)] = TextSelector()
    return vol.Schema(fields)


def simulated_label(device: str, names: Mapping[str, str]) -> str:
    """A simulated chip select's label in Home Assistant's language (``names``: translated pieces)."""
    index = simulated_index(device)
    if index == 0:
        return names["simulated_meter"]
    return labels.fill(names["simulated_chip_select"], number=str(index))


def device_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The bus part of the entry data from the device form (replay file only for the simulated meter)."""
    data = {
        CONF_DEVICE: user_input[CONF_DEVICE],
        CONF_LINE_FREQUENCY: int(user_input[CONF_LINE_FREQUENCY]),
        CONF_SPI_SPEED: int(user_input[CONF_SPI_SPEED]),
    }
    replay = str(user_input.get(CONF_REPLAY_FILE) or "").strip()
    if replay and is_simulated(data[CONF_DEVICE]):
        data[CONF_REPLAY_FILE] = replay
    return data


def configured(devices: Iterable[str], names: Mapping[str, str]) -> str:
    """The chip selects already set up, named as the chip select list names them; "-" for none.

    Separated by ``;``: a translated label may hold a comma ("Simulated meter, chip select 1").
    """
    shown = [simulated_label(d, names) if is_simulated(d) else d for d in sorted(devices)]
    return "; ".join(shown) if shown else "-"
