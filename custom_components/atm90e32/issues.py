"""Repair issues for what a person can fix: SPI off, permissions, a silent chip, lost counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import CONF_DEVICE, CONF_PGA_GAIN, DOMAIN, default_options
from .driver.channels import Wiring
from .driver.input_range import clipped_inputs

SPI_NOT_ENABLED: Final = "spi_not_enabled"
NO_SPI_DEVICE: Final = "no_spi_device"
PERMISSION_DENIED: Final = "permission_denied"
CHIP_NOT_ANSWERING: Final = "chip_not_answering"
COUNTERS_OVERFLOWED: Final = "counters_overflowed"
CURRENT_CLIPPED: Final = "current_clipped"
CT_REVERSED: Final = "ct_reversed"
VOLTAGE_OUT_OF_RANGE: Final = "voltage_out_of_range"
PHASE_SEQUENCE_REVERSED: Final = "phase_sequence_reversed"
"""Three-phase: L2 and L3 swapped (voltage angles 240/120 instead of 120/240); cleared when right again."""
INPUT_RANGE: Final = "input_range"
"""A CT drives its input past the ADC's range below its rated current, and a lower PGA fits it."""
INPUT_RANGE_NO_PGA: Final = "input_range_no_pga"
"""A CT drives its input past the ADC's range below its rated current at every PGA on this board."""
CONNECTION_ISSUES: Final = (SPI_NOT_ENABLED, NO_SPI_DEVICE, PERMISSION_DENIED, CHIP_NOT_ANSWERING)
"""Issues that clear themselves once the chip answers again."""


def _issue_id(entry: ConfigEntry, key: str, channel: str | None = None) -> str:
    return f"{key}_{entry.entry_id}" if channel is None else f"{key}_{channel}_{entry.entry_id}"


def async_raise(
    hass: HomeAssistant, entry: ConfigEntry, key: str, *, channel: str | None = None, **placeholders: str
) -> None:
    """Create (or refresh) repair issue ``key`` of ``entry`` (and ``channel``); its text: issues.<key> in en.json."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        _issue_id(entry, key, channel),
        is_fixable=False,
        is_persistent=key == COUNTERS_OVERFLOWED,
        severity=ir.IssueSeverity.WARNING if key == COUNTERS_OVERFLOWED else ir.IssueSeverity.ERROR,
        translation_key=key,
        translation_placeholders={"device": entry.data[CONF_DEVICE], "title": entry.title, **placeholders},
    )


def async_clear(hass: HomeAssistant, entry: ConfigEntry, *keys: str, channel: str | None = None) -> None:
    """Delete the repair issues ``keys`` of ``entry`` (of one ``channel``); no-op when absent."""
    for key in keys:
        ir.async_delete_issue(hass, DOMAIN, _issue_id(entry, key, channel))


def async_manage_input_range(
    hass: HomeAssistant, entry: ConfigEntry, wiring: Wiring, options: Mapping[str, Any]
) -> None:
    """Raise INPUT_RANGE (or INPUT_RANGE_NO_PGA) per channel whose CT clips below its rating at the PGA; clear the rest.

    ``options`` are the entry's (CT preset per channel, the PGA); see driver.input_range (DS p.72).
    """
    options = {**default_options(wiring), **options}
    presets = {c.key: str(options[c.ct_preset_option]) for c in wiring.channels}
    pga = int(options[CONF_PGA_GAIN])
    clipped = {c.channel: c for c in clipped_inputs(wiring.key, presets, pga)}
    for channel in wiring.channels:
        found = clipped.get(channel.key)
        if found is None:
            async_clear(hass, entry, INPUT_RANGE, INPUT_RANGE_NO_PGA, channel=channel.key)
            continue
        key, other = (INPUT_RANGE, INPUT_RANGE_NO_PGA) if found.fits else (INPUT_RANGE_NO_PGA, INPUT_RANGE)
        async_clear(hass, entry, other, channel=channel.key)
        async_raise(
            hass,
            entry,
            key,
            channel=channel.key,
            channel_name=str(options.get(channel.name_option) or channel.name),
            ct=found.model,
            pga=str(found.pga),
            clip=f"{found.clip:.1f}",
            rated=f"{found.rated:.0f}",
            fits=str(found.fits or ""),
        )
