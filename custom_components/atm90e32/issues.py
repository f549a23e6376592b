"""Repair issues for what a person can fix: SPI off, permissions, a silent chip, lost counts.

Each ``async_manage_*`` function raises or clears the issues of one concern from the
state it is given (as Home Assistant core's shelly does in its repairs module); the
coordinator calls them with what a refresh found.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .const import CONF_DEVICE, CONF_PGA_GAIN, DOMAIN
from .driver import MeterSnapshot, Phase
from .driver.channels import Wiring
from .driver.input_range import clipped_inputs
from .driver.ledger import WrapRisk
from .labels import number
from .quality import Finding, Report
from .settings import MeterSettings, default_options

_LOGGER = logging.getLogger(__name__)

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
REPLAY_FILE_MISSING: Final = "replay_file_missing"
"""A simulated chip's replay file is gone (deleted, renamed, or now outside the replay folder)."""
REPLAY_FILE_UNREADABLE: Final = "replay_file_unreadable"
"""A simulated chip's replay file cannot be read (no permission, an I/O error)."""
REPLAY_FILE_INVALID: Final = "replay_file_invalid"
"""A simulated chip's replay file no longer passes the checks (changed after setup)."""
CONNECTION_ISSUES: Final = (
    SPI_NOT_ENABLED,
    NO_SPI_DEVICE,
    PERMISSION_DENIED,
    CHIP_NOT_ANSWERING,
    REPLAY_FILE_MISSING,
    REPLAY_FILE_UNREADABLE,
    REPLAY_FILE_INVALID,
)
"""Issues that clear themselves once the chip answers again."""
FINDING_ISSUES: Final = tuple(finding.value for finding in Finding)
"""Repair issues of findings about a channel (cleared at setup, judged again under the settings in force)."""


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
            clip=number(hass.config.language, found.clip, ".1f"),
            rated=f"{found.rated:.0f}",
            fits=str(found.fits or ""),
        )


def async_manage_connection(hass: HomeAssistant, entry: ConfigEntry, issue: str | None, error: str = "") -> None:
    """The chip answers (``issue`` None): clear every CONNECTION_ISSUES; else raise ``issue`` with the ``error`` text.

    ``issue`` is errors.repair_issue's choice for the driver error (run in the executor: it looks at /dev).
    """
    if issue is None:
        async_clear(hass, entry, *CONNECTION_ISSUES)
    else:
        async_raise(hass, entry, issue, error=error)


def async_manage_findings(
    hass: HomeAssistant, entry: ConfigEntry, settings: MeterSettings, report: Report | None
) -> None:
    """Raise (and log) the findings ``report`` (quality.SupplyWatch.check) raised, clear those it cleared.

    ``report`` None: nothing judged yet under ``settings`` (setup): every finding of every channel is cleared.
    """
    wiring = settings.wiring
    if report is None:
        for channel in wiring.channels:
            async_clear(hass, entry, *FINDING_ISSUES, channel=channel.key)
        return
    for (finding, channel_key), value in report.raised.items():
        name = next(c.name for c in wiring.channels if c.key == channel_key)
        _LOGGER.warning("ATM90E32AS on %s, %s: %s (%.1f)", entry.data[CONF_DEVICE], name, finding, value)
        async_raise(
            hass,
            entry,
            finding.value,
            channel=channel_key,
            channel_name=name,
            value=number(hass.config.language, value, ".1f"),
            nominal=f"{settings.nominal_voltage:.0f}",
        )
    for finding, channel_key in report.cleared:
        async_clear(hass, entry, finding.value, channel=channel_key)


def async_manage_overflow(hass: HomeAssistant, entry: ConfigEntry, risks: Iterable[WrapRisk]) -> None:
    """Log and raise COUNTERS_OVERFLOWED for each gap in which a register may have wrapped (persistent)."""
    for risk in risks:
        _LOGGER.warning(
            "The ATM90E32AS on %s was read %.0f s after the previous read at up to %.0f W: "
            "an energy register may have overflowed and energy may have been lost",
            entry.data[CONF_DEVICE],
            risk.elapsed_s,
            risk.power_w,
        )
        async_raise(hass, entry, COUNTERS_OVERFLOWED, seconds=f"{risk.elapsed_s:.0f}", watts=f"{risk.power_w:.0f}")


def async_manage_phase_sequence(
    hass: HomeAssistant, entry: ConfigEntry, settings: MeterSettings, snapshot: MeterSnapshot, *, was_reversed: bool
) -> bool:
    """Raise PHASE_SEQUENCE_REVERSED when L2 and L3 are swapped, clear it when the order is right; returns reversed.

    Judged from the chip's voltage sequence error URevWnST (EMMState0 bit 9, DS p.20)
    of a three-phase wye entry with a transformer per phase: with one shared transformer
    every input reads angle 0 and there is no sequence to judge (``was_reversed`` is
    returned).  UangleB/C only illustrate it: the DS gives them as 0-360 degrees without
    a direction (p.71).  Logged once per reversal (``was_reversed``: the previous judgement).
    """
    three_phase, wiring = snapshot.three_phase, settings.wiring
    if not (settings.voltage_per_channel and wiring.three_phase) or wiring.delta or three_phase is None:
        return was_reversed  # delta: two elements meter right in either sequence (Blondel); its L2 has no angle
    if not three_phase.voltage_sequence_error:
        async_clear(hass, entry, PHASE_SEQUENCE_REVERSED)
        return False
    angle_l2, angle_l3 = (f"{three_phase.voltage_angles.get(p, math.nan):.1f}" for p in (Phase.B, Phase.C))
    if not was_reversed:
        _LOGGER.warning(
            "ATM90E32AS on %s: the phase sequence is reversed (L2 at %s°, L3 at %s°)",
            entry.data[CONF_DEVICE],
            angle_l2,
            angle_l3,
        )
    shown_l2, shown_l3 = (
        number(hass.config.language, three_phase.voltage_angles.get(p, math.nan), ".1f") for p in (Phase.B, Phase.C)
    )
    async_raise(hass, entry, PHASE_SEQUENCE_REVERSED, angle_l2=shown_l2, angle_l3=shown_l3)
    return True
