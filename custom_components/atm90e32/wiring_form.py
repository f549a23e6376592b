"""The forms of the circuits and three-phase wirings: schema, validation, and the three-phase wiring check.

- circuits: for each of the chip's three CT inputs, whether a CT is clipped on, the
  circuit's name, CT model, direction and the 240 V factor; the shared transformer,
  PGA and current scaling once for the chip.  Names are the person's: empty or
  repeated names (within the chip or across the integration's chips) are refused.
- three-phase wye: the nominal system (230/400, 120/208, 277/480 V), one transformer
  per phase or one shared, presets, CT directions, current scaling.  Before the entry is
  made, the chip's voltages and voltage angles are read: an entry whose voltages say the
  service is split-phase (phase B absent, or a phase 180 degrees from A) is refused, and
  so is a nominal system whose line-to-neutral voltage is far from the one measured
  (:func:`system_refusal`; the options form checks a changed system the same way).
- three-phase delta (three-wire): the same form without the choice of transformers (two
  are needed: L1-L2 on VA, L3-L2 on VC) and with line voltages (208, 240, 400, 480 V);
  refused when UangleC does not stand near 60 degrees from VA (:func:`delta_reason`).
- a three-phase entry's power-quality nominal voltage other than its system's is refused
  naming the voltage to choose, or the measured voltage and the system to choose when the
  chip's voltage does not fit the system (:func:`nominal_refusal`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import median
from typing import Any, Final

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
)

from . import bus, forms
from .bus import VoltageCheck
from .const import (
    CONF_CHANNELS,
    CONF_CURRENT_SCALE,
    CONF_PGA_GAIN,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_VT_PRESET,
    DEFAULT_VOLTAGE_SYSTEM,
    DELTA_VOLTAGE_SYSTEMS,
    VOLTAGE_SYSTEMS,
    VT_DUAL,
    VT_SINGLE,
)
from .driver import Atm90e32Error
from .driver.channels import CIRCUIT_CHANNELS, CIRCUITS, Wiring, circuits_wiring
from .driver.registers import Phase
from .errors import translation_key
from .labels import default_circuit_name, number
from .settings import default_options, entry_voltage_system

VOLTAGE_FACTORS: Final = ("1", "2")
"""The circuit's power and energy multiplier: 2 for a 240 V load on one CT against a 120 V reference."""


def enabled_field(channel_key: str) -> str:
    """The circuits form's field saying whether channel ``channel_key`` has a CT."""
    return f"enabled_{channel_key}"


def circuit_values(options: Mapping[str, Any], channels: Iterable[str], position: int) -> dict[str, Any]:
    """The circuits form's values of an entry (or of a new chip at board ``position``): every field filled."""
    values = {**default_options(CIRCUITS), **options}
    enabled = set(channels)
    for channel in CIRCUIT_CHANNELS:
        values[enabled_field(channel.key)] = channel.key in enabled
        values.setdefault(channel.name_option, default_circuit_name(channel, position))
        values.setdefault(channel.voltage_factor_option, 1)
    return values


def shown_again(values: Mapping[str, Any], user_input: Mapping[str, Any] | None) -> dict[str, Any]:
    """The circuits form's values after ``user_input`` was refused: what the person sent, an emptied name empty.

    The frontend leaves an emptied optional field out of its input; without this the
    name would come back from ``values``.
    """
    if user_input is None:
        return dict(values)
    return {**values, **{channel.name_option: "" for channel in CIRCUIT_CHANNELS}, **user_input}


def circuits_schema(values: Mapping[str, Any]) -> vol.Schema:
    """The circuits form, defaulting to ``values`` (see :func:`circuit_values`); names are suggested values."""
    fields: dict[Any, Any] = {}
    for channel in CIRCUIT_CHANNELS:
        fields[vol.Required(enabled_field(channel.key), default=bool(values[enabled_field(channel.key)]))] = (
            BooleanSelector()
        )
        # A suggestion, not a default: a name the person empties stays empty (and is refused), never the old one.
        fields[vol.Optional(channel.name_option, description={"suggested_value": str(values[channel.name_option])})] = (
            TextSelector()
        )
        fields.update(forms.ct_fields([channel], values))
        fields[
            vol.Required(channel.voltage_factor_option, default=forms.form_value(values[channel.voltage_factor_option]))
        ] = forms.select(list(VOLTAGE_FACTORS), "voltage_factor")
    return vol.Schema(fields).extend(circuits_chip_schema(values).schema)


def circuits_chip_schema(values: Mapping[str, Any]) -> vol.Schema:
    """A circuits chip's own fields (the shared transformer, PGA, current scaling), defaulting to ``values``."""
    return vol.Schema(
        {
            vol.Required(CONF_VT_PRESET, default=values[CONF_VT_PRESET]): forms.VT_PRESET,
            vol.Required(CONF_PGA_GAIN, default=forms.form_value(values[CONF_PGA_GAIN])): forms.PGA_GAIN,
            vol.Required(CONF_CURRENT_SCALE, default=forms.form_value(values[CONF_CURRENT_SCALE])): forms.CURRENT_SCALE,
        }
    )


@dataclass(frozen=True)
class CircuitChoice:
    """What the circuits form chose: the wiring of the enabled channels and the names and factors per channel."""

    wiring: Wiring
    names: dict[str, str]
    factors: dict[str, int]

    @property
    def data(self) -> dict[str, Any]:
        """The entry data part: the enabled channel keys."""
        return {CONF_CHANNELS: [channel.key for channel in self.wiring.channels]}

    @property
    def options(self) -> dict[str, Any]:
        """The options part: each enabled circuit's name and voltage factor."""
        options: dict[str, Any] = {}
        for channel in self.wiring.channels:
            options[channel.name_option] = self.names[channel.key]
            options[channel.voltage_factor_option] = self.factors[channel.key]
        return options


def validate_circuits(
    user_input: Mapping[str, Any], taken_names: Iterable[str]
) -> tuple[CircuitChoice | None, dict[str, str]]:
    """Check the circuits form; returns ``(choice, errors)`` (choice None when there are errors).

    Refused: no channel enabled (``no_circuit``), an enabled channel without a name
    (``name_empty``), a name given twice on this chip or already used by a circuit of
    another chip (``name_duplicate``, compared without case and surrounding spaces).
    ``taken_names`` are the circuit names of the integration's other entries.
    """
    errors: dict[str, str] = {}
    taken = {name.strip().casefold() for name in taken_names}
    enabled = [c for c in CIRCUIT_CHANNELS if user_input.get(enabled_field(c.key))]
    if not enabled:
        return None, {"base": "no_circuit"}
    names: dict[str, str] = {}
    for channel in enabled:
        name = str(user_input.get(channel.name_option) or "").strip()
        if error := name_error(name, taken):
            errors[channel.name_option] = error
        taken.add(name.casefold())
        names[channel.key] = name
    if errors:
        return None, errors
    factors = {c.key: int(user_input.get(c.voltage_factor_option, 1)) for c in enabled}
    return CircuitChoice(circuits_wiring(c.key for c in enabled), names, factors), {}


def name_error(name: str, taken: set[str]) -> str | None:
    """The error of circuit name ``name`` (stripped): ``name_empty``, or ``name_duplicate`` when in ``taken``.

    ``taken``: the other circuits' names, casefolded.  None when the name may be used.
    """
    if not name:
        return "name_empty"
    if name.casefold() in taken:
        return "name_duplicate"
    return None


def circuit_gains_input(choice: CircuitChoice, user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The circuits form as the presets form's input (:func:`forms.resolve_presets`): one shared transformer."""
    gains_input = {
        CONF_VOLTAGE_TRANSFORMERS: VT_SINGLE,
        CONF_VT_PRESET: user_input[CONF_VT_PRESET],
        CONF_PGA_GAIN: user_input[CONF_PGA_GAIN],
        CONF_CURRENT_SCALE: user_input[CONF_CURRENT_SCALE],
    }
    for channel in choice.wiring.channels:
        gains_input[channel.ct_preset_option] = user_input[channel.ct_preset_option]
        gains_input[channel.invert_option] = bool(user_input[channel.invert_option])
    return gains_input


def voltage_systems(wiring: Wiring) -> dict[str, tuple[int, int]]:
    """The nominal systems offered to a three-phase ``wiring``: line voltages for delta, wye's otherwise."""
    return DELTA_VOLTAGE_SYSTEMS if wiring.delta else VOLTAGE_SYSTEMS


def default_system(wiring: Wiring, line_frequency: object) -> str:
    """The nominal system first offered: 120/208 V (wye) or 240 V (delta) at 60 Hz, 230/400 V or 400 V at 50 Hz."""
    if wiring.delta:
        return "delta_240" if line_frequency == 60 else "delta_400"
    return "120_208" if line_frequency == 60 else DEFAULT_VOLTAGE_SYSTEM


def three_phase_input(wiring: Wiring, user_input: Mapping[str, Any]) -> dict[str, Any]:
    """The three-phase form's input, with the transformers a delta form does not ask: one per channel."""
    return {CONF_VOLTAGE_TRANSFORMERS: VT_DUAL, **user_input} if wiring.delta else dict(user_input)


def three_phase_schema(wiring: Wiring, values: Mapping[str, Any]) -> vol.Schema:
    """The three-phase form: nominal system, transformers (not for delta), presets, CT directions, current scaling."""
    fields: dict[Any, Any] = {
        vol.Required(CONF_VOLTAGE_SYSTEM, default=values[CONF_VOLTAGE_SYSTEM]): forms.select(
            list(voltage_systems(wiring)), CONF_VOLTAGE_SYSTEM
        ),
    }
    if not wiring.delta:
        fields[vol.Required(CONF_VOLTAGE_TRANSFORMERS, default=values[CONF_VOLTAGE_TRANSFORMERS])] = forms.select(
            [VT_DUAL, VT_SINGLE], "three_phase_transformers"
        )
    return vol.Schema({**fields, **forms.presets_fields(wiring, values)})


PHASE_PRESENT_RATIO: Final = 0.5
"""A phase reading under half of phase A's voltage is taken as absent (a sag is judged elsewhere)."""
OPPOSITE_TOLERANCE_DEG: Final = 30.0
"""A voltage angle within 30 degrees of 180 is a split-phase leg, not a three-phase phase (120 or 240)."""


SYSTEM_TOLERANCE_PERCENT: Final = 10.0
"""A measured line-to-neutral voltage within +-10 % of the system's fits it: the supply tolerance
of IEC 60038 (230/400 V +-10 %) and wider than ANSI C84.1 range B (120 V -8.3/+5.8 %), so a healthy
service is never refused; 120, 230 and 277 V lie over 10 % apart, so a wrong choice is refused
(only 249-253 V fits both 230/400 and 277/480)."""


def system_refusal(voltages: Iterable[float], system: str, language: str) -> dict[str, str] | None:
    """Placeholders ``{"measured", "expected"}`` when nominal ``system`` does not fit the measured voltages; else None.

    ``measured`` is written with ``language``'s decimal separator.
    ``voltages``: the channels' V rms as the chip reads them (UrmsA-C, DS p.70): line to
    neutral (wye) or line to line (delta, const.DELTA_VOLTAGE_SYSTEMS); their median is
    judged, so one lost phase does not decide.  ``expected`` is the system of the same kind
    whose channel voltage is nearest (``"230/400 V"``, ``"400 V"``).  The delta systems 208
    and 240 V overlap within the tolerance (216-229 V fits both): neither is refused there.
    """
    measured = median(voltages)
    systems = DELTA_VOLTAGE_SYSTEMS if system in DELTA_VOLTAGE_SYSTEMS else VOLTAGE_SYSTEMS
    nominal = systems[system][0]
    if abs(measured - nominal) <= nominal * SYSTEM_TOLERANCE_PERCENT / 100:
        return None
    nearest = min(systems.values(), key=lambda volts: abs(measured - volts[0]))
    return {"measured": number(language, measured, ".1f"), "expected": system_label(nearest)}


def system_label(volts: tuple[int, int]) -> str:
    """A nominal system's ``(channel, line-to-line)`` volts as a person reads them: ``"230/400 V"``, ``"400 V"``."""
    channel, line = volts
    return f"{line} V" if channel == line else f"{channel}/{line} V"


def measured_voltages(entry: ConfigEntry) -> list[float] | None:
    """The channels' voltages of a loaded ``entry``'s last reading (V rms, UrmsA-C DS p.70); None before any."""
    if entry.state is ConfigEntryState.LOADED and entry.runtime_data.data is not None:
        return [reading.voltage for reading in entry.runtime_data.data.phases.values()]
    return None


NOMINAL_PLACEHOLDERS: Final = ("system", "nominal", "measured", "expected")
"""The placeholders of the power-quality step's nominal-voltage refusals (empty when there is none)."""


def nominal_refusal(
    data: Mapping[str, Any], voltages: Iterable[float] | None, language: str
) -> tuple[str, dict[str, str]]:
    """The error and placeholders for a three-phase entry's nominal voltage that is not its system's.

    ``data``: the entry's data (its nominal system); ``voltages``: the chip's last channel
    voltages (:func:`measured_voltages`), None when the meter is not running.  When they do
    not fit the system (:func:`system_refusal`), the system is what is wrong:
    ``nominal_not_measured`` names the measured voltage and the system to choose instead.
    Otherwise ``nominal_not_wiring`` names the system and its channel voltage to choose.
    """
    system = str(data.get(CONF_VOLTAGE_SYSTEM, DEFAULT_VOLTAGE_SYSTEM))
    volts = entry_voltage_system(data)
    placeholders = {"system": system_label(volts), "nominal": str(volts[0]), "measured": "", "expected": ""}
    refusal = None if voltages is None else system_refusal(voltages, system, language)
    if refusal is None:
        return "nominal_not_wiring", placeholders
    return "nominal_not_measured", {**placeholders, **refusal}


def split_phase_reason(check: VoltageCheck, shared_transformer: bool) -> str | None:
    """Why ``check`` says the service is wired as split-phase, or None when it looks three-phase.

    Returns ``"phase_b_absent"`` when phase B reads under half of phase A (a split-phase
    board leaves B unused), ``"legs_opposite"`` when with a transformer per phase a
    voltage angle is within 30 degrees of 180 (the second leg of a split-phase service).
    With one shared transformer every input reads the same voltage at angle 0: only B's
    presence is judged.  Phase A itself absent is ``"phase_a_absent"``.
    """
    reference = check.voltages[Phase.A]
    if reference <= 0:
        return "phase_a_absent"
    if check.voltages[Phase.B] < PHASE_PRESENT_RATIO * reference:
        return "phase_b_absent"
    if shared_transformer:
        return None
    for angle in check.angles.values():
        if abs(angle - 180.0) <= OPPOSITE_TOLERANCE_DEG:
            return "legs_opposite"
    return None


DELTA_ANGLE_TOLERANCE_DEG: Final = 30.0
"""UangleC of a delta service stands 60 degrees from A (300 counted the other way); 30 degrees either side passes."""


def delta_reason(check: VoltageCheck) -> str | None:
    """Why ``check`` says the chip is not wired to a three-wire service in 3P3W, or None when it is.

    The inputs carry L1-L2 on A and L3-L2 on C (DS p.56), Ucb 60 degrees from Uab (either
    direction: the DS does not give Uangle's, p.71).  ``"phase_a_absent"`` / ``"phase_c_absent"``:
    an input under half the other's voltage; ``"not_sixty_degrees"``: UangleC outside
    DELTA_ANGLE_TOLERANCE_DEG of 60 or 300 (0: one transformer on both inputs, the
    split-phase board's jumper JP3; 180: a split-phase service).
    """
    volts_a, volts_c = check.voltages[Phase.A], check.voltages[Phase.C]
    if volts_a <= 0 or volts_a < PHASE_PRESENT_RATIO * volts_c:
        return "phase_a_absent"
    if volts_c < PHASE_PRESENT_RATIO * volts_a:
        return "phase_c_absent"
    angle = check.angles[Phase.C] % 360.0
    if min(abs(angle - 60.0), abs(angle - 300.0)) > DELTA_ANGLE_TOLERANCE_DEG:
        return "not_sixty_degrees"
    return None


async def check_new_system(
    hass: HomeAssistant,
    entry: ConfigEntry,
    data: Mapping[str, Any],
    options: Mapping[str, Any],
    placeholders: dict[str, str],
) -> dict[str, str]:
    """The options form's errors for the nominal system in ``data`` (the entry's new data); ``placeholders`` filled.

    A loaded entry is judged on its last readings (the coordinator owns the bus); otherwise
    the chip is configured and read (:func:`bus.measure_voltages`).  ``system_not_measured`` on
    the system field as :func:`system_refusal` says; a bus error on ``base``.
    """
    voltages = measured_voltages(entry)
    if voltages is None:
        try:
            check = await hass.async_add_executor_job(bus.measure_voltages, data, options)
        except Atm90e32Error as err:
            return {"base": translation_key(err)}
        voltages = list(check.voltages.values())
    refusal = system_refusal(voltages, str(data[CONF_VOLTAGE_SYSTEM]), hass.config.language)
    if refusal is None:
        return {}
    placeholders.update(refusal)
    return {CONF_VOLTAGE_SYSTEM: system_error(str(data[CONF_VOLTAGE_SYSTEM]))}


def system_error(system: str) -> str:
    """The error key of a refused nominal ``system``: its channels measure line to neutral, or line to line (delta)."""
    return "line_voltage_not_measured" if system in DELTA_VOLTAGE_SYSTEMS else "system_not_measured"
