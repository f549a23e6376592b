"""Offsets and phase compensation: their entry options, and the options flow's calibration work.

Options (per channel key, raw 16-bit register values, written by the options flow's
offset and phase steps): ``current_offset_<key>`` (Ioffset), ``power_offset_<key>``
(Poffset), ``reactive_offset_<key>`` (Qoffset), ``phase_compensation_<key>`` (PhiA-C).
``compensation_undo`` holds the values those keys had before the last step, for "undo".
settings.apply_compensation puts these options (and the start thresholds) into the chip configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from .const import PRESET_CUSTOM
from .driver import ChipConfig, Phase
from .driver import registers as reg
from .driver.calibration import (
    NO_LOAD_CURRENT_LIMIT_A,
    NO_LOAD_POWER_LIMIT_W,
    CalibrationError,
    NoLoadReads,
    no_load_offsets,
    phase_error_from_reference,
    phase_register,
    phase_register_degrees,
)
from .driver.channels import Channel, Wiring
from .driver.front_end import CT_PRESET_PHASE_ERROR_DEG
from .labels import number

OFFSET_KINDS: Final = ("current_offset", "power_offset", "reactive_offset")
"""Option prefixes of the offset step: Ioffset, Poffset, Qoffset."""
PHASE_KIND: Final = "phase_compensation"
"""Option prefix of the phase step: PhiA-C."""
CONF_COMPENSATION_UNDO: Final = "compensation_undo"
"""The offsets and phase compensation before the last offset or phase step ({option: value})."""


def option_key(kind: str, channel: Channel) -> str:
    """The entry option holding ``kind`` (one of OFFSET_KINDS or PHASE_KIND) of ``channel``."""
    return f"{kind}_{channel.key}"


def compensation_options(wiring: Wiring, options: Mapping[str, Any], kinds: tuple[str, ...]) -> dict[str, int]:
    """The present values of ``kinds`` for every channel of ``wiring`` (0 where never calibrated)."""
    return {option_key(k, c): int(options.get(option_key(k, c), 0)) for k in kinds for c in wiring.channels}


def zeroed_offsets(config: ChipConfig) -> ChipConfig:
    """``config`` with Ioffset, Poffset and Qoffset at 0: the no-load reads are taken so (AN p.23)."""
    zero = (0, 0, 0)
    return replace(config, current_offsets=zero, power_offsets=zero, reactive_offsets=zero)


def offsets_from_reads(wiring: Wiring, reads: Mapping[Phase, NoLoadReads]) -> dict[str, int]:
    """The offset options of every channel from its no-load reads; raises CalibrationError (nothing is kept)."""
    result: dict[str, int] = {}
    for channel in wiring.channels:
        offsets = no_load_offsets(reads[channel.phase], channel.key)
        result[option_key("current_offset", channel)] = offsets.current
        result[option_key("power_offset", channel)] = offsets.active
        result[option_key("reactive_offset", channel)] = offsets.reactive
    return result


def phase_from_references(
    config: ChipConfig,
    options: Mapping[str, Any],
    powers: Mapping[Phase, tuple[float, float]],
    references: Mapping[str, float | None],
) -> dict[str, int]:
    """PhiA-C options from reference power factors (``references[channel key]``), or from the presets.

    A channel with a reference: the compensation in the chip plus the angle the meter is
    off by (:func:`phase_error_from_reference` on ``powers``, chip-scale W and var).
    With no reference at all, every channel takes its CT preset's published phase
    error (:data:`CT_PRESET_PHASE_ERROR_DEG`: 0 for each, none is published).
    Raises CalibrationError naming ``reference_pf_<key>``.
    """
    result: dict[str, int] = {}
    frequency = config.line_frequency
    use_presets = all(value is None for value in references.values())
    for channel in config.wiring.channels:
        field = f"reference_pf_{channel.key}"
        if use_presets:
            preset = str(options.get(channel.ct_preset_option, PRESET_CUSTOM))
            degrees = CT_PRESET_PHASE_ERROR_DEG.get(preset, 0.0)
        elif (reference := references.get(channel.key)) is not None:
            active, reactive = powers[channel.phase]
            present = phase_register_degrees(config.phase_compensation[channel.phase], frequency)
            degrees = present + phase_error_from_reference(active, reactive, float(reference), field)
        else:
            continue
        result[option_key(PHASE_KIND, channel)] = phase_register(degrees, frequency, field)
    return result


def error_placeholders(names: Mapping[str, str], language: str, err: CalibrationError | None = None) -> dict[str, str]:
    """Placeholders of the offset and phase forms' errors (every key always present).

    ``channel``: the input ``err`` names (its field ends in the channel key), by its name
    in ``names`` (labels.input_names); the numbers behind ``err`` (CalibrationError.values:
    ``current``, ``power``, ``offset``, ``degrees``, ``most``, ``measured_pf``,
    ``reference_pf``; empty when it has none) and the limits in ``language``'s decimal separator.
    """
    key = "" if err is None else err.field.rsplit("_", 1)[-1]
    values = {} if err is None else err.values
    shown = {n: number(language, values[n], spec) if n in values else "" for n, spec in ERROR_VALUES.items()}
    return {
        "channel": names.get(key, key.upper()),
        **shown,
        "current_limit": number(language, NO_LOAD_CURRENT_LIMIT_A, ".3f"),
        "power_limit": number(language, NO_LOAD_POWER_LIMIT_W, "g"),
    }


ERROR_VALUES: Final = {
    "current": ".3f",
    "power": "+.2f",
    "offset": "d",
    "degrees": "+.2f",
    "most": ".2f",
    "measured_pf": ".3f",
    "reference_pf": ".3f",
}
"""CalibrationError.values as the offset and phase errors show them: the format of each."""


def describe(
    wiring: Wiring, options: Mapping[str, Any], frequency: int, names: Mapping[str, str], language: str
) -> str:
    """One line per input (``names``, labels.input_names): the offsets and phase compensation ``options`` hold.

    In readable units, numbers in ``language``'s decimal separator.
    """
    lines = []
    for channel in wiring.channels:

        def value(kind: str, ch: Channel = channel) -> int:
            return int(options.get(option_key(kind, ch), 0))

        ioffset = value("current_offset") - (0x10000 if value("current_offset") & 0x8000 else 0)
        poffset = value("power_offset") - (0x10000 if value("power_offset") & 0x8000 else 0)
        qoffset = value("reactive_offset") - (0x10000 if value("reactive_offset") & 0x8000 else 0)
        phase = phase_register_degrees(value(PHASE_KIND), frequency)
        milliamps = number(language, ioffset * reg.IOFFSET_LSB_A * 1000, "+.1f")
        watts = number(language, poffset * reg.POWER_LSB, "+.2f")
        vars_ = number(language, qoffset * reg.POWER_LSB, "+.2f")
        lines.append(
            f"{names[channel.key]}: Ioffset {ioffset} ({milliamps} mA), Poffset {poffset} ({watts} W), "
            f"Qoffset {qoffset} ({vars_} var), Phi {value(PHASE_KIND)} ({number(language, phase, '+.3f')}°)"
        )
    return "\n".join(lines)
