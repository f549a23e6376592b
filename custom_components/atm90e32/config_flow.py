"""Config, options and reconfigure flows: the device, the CTs and their calibration.

- user: the wiring (split-phase mains, circuits, three-phase wye), each with where its
  CTs and transformers go; then ``device``.
- device: a chip select not configured yet (or the next simulated one, with an optional
  replay file), the board it sits on, line frequency and SPI clock; the chip is probed
  before anything is stored; then ``gains`` (split-phase), ``circuits`` or ``three_phase``.
- circuits: per CT input, on or off, the circuit's name, CT model, direction and 240 V
  factor; the shared transformer, PGA and current scaling (wiring_form.py).
- three_phase: nominal system, one transformer per phase or one shared, presets; the
  chip's voltages and angles are read and a split-phase service is refused.
- gains (also the options flow's ``settings`` step): voltage transformer and CT presets
  (or "custom"), PGA, CT direction, current scaling; then, only when a custom gain was
  chosen, ``custom_gains`` asks for exactly the gains that are used.
- calibrate (options): reference readings in, new gains computed with the application
  note's formula, written, read back, shown before and after; stored only on confirm,
  reverted in the chip if the person walks away.
- power_quality (options): nominal voltage, thresholds, declared generation.
- update_interval (options): seconds between refreshes, refused where an energy
  register could fill between two reads.
- demand (options): the demand interval and the billing cycle's start day.
- reconfigure: the SPI device, line frequency and SPI clock of an existing entry (the
  wiring stays: its entities and ledger are the entry's).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from . import bus, compensation, demand_form, replay, start_threshold_form, wiring_form
from . import power_quality_form as pq_form
from .bus import is_simulated, simulated_device, simulated_index
from .const import (
    CONF_BOARD,
    CONF_BOARD_POSITION,
    CONF_CHANNELS,
    CONF_CURRENT_SCALE,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_NOMINAL_VOLTAGE,
    CONF_PGA_GAIN,
    CONF_REPLAY_FILE,
    CONF_SPI_SPEED,
    CONF_START_THRESHOLD,
    CONF_UPDATE_INTERVAL,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_VT_PRESET,
    CONF_WIRING,
    DEFAULT_LINE_FREQUENCY,
    DEFAULT_UPDATE_INTERVAL,
    DEFAULT_VOLTAGE_SYSTEM,
    DOMAIN,
    MODEL,
    PRESET_CUSTOM,
    REPLAY_FOLDER,
    SIMULATED_CHIPS,
    SPI_SPEEDS,
    UPDATE_INTERVALS,
    VT_DUAL,
    VT_SINGLE,
)
from .coordinator import Atm90e32ConfigEntry, Atm90e32Coordinator
from .driver import Atm90e32Error, ChipConfig, MeterSnapshot, Phase
from .driver.calibration import (
    CT_PRESETS,
    VT_PRESETS,
    CalibrationError,
    CalibrationSample,
    References,
    new_gains,
    preset_current_gain,
)
from .driver.channels import (
    CIRCUIT_CHANNELS,
    CIRCUIT_KEYS,
    CIRCUITS_KEY,
    SPLIT_PHASE,
    THREE_PHASE_WYE,
    WIRINGS,
    Wiring,
)
from .driver.ledger import max_read_interval_s, register_fill_s
from .driver.transport import DEFAULT_SPEED_HZ
from .errors import UNKNOWN, translation_key
from .publishing import CONF_DATABASE_WRITES, Mode, mode_of
from .settings import default_options, entry_wiring, meter_settings

COMPENSATION_STEPS = ["offset_calibration", "phase_calibration", "undo_compensation"]
"""The options flow's offset, phase and undo steps (compensation.py does their work)."""

_LOGGER = logging.getLogger(__name__)

CALIBRATION_CONFIRM_TIMEOUT_S = 600
"""A calibration written but neither kept nor dismissed is taken back out of the chip after 10 minutes
(the person closed the browser instead of the dialog)."""


def chip_unique_id(device: str) -> str:
    """Unique id of the chip behind ``device``: ``spidev0.0`` style, or ``simulated``.

    The ATM90E32AS has no serial number; on one host a chip is identified by its bus
    and chip select.
    """
    return device.rsplit("/", 1)[-1]


async def _async_errors(job: Callable[[], Awaitable[object]]) -> dict[str, str]:
    """Run ``job``; return the form errors for what it raised: a driver error's key, or ``unknown`` (logged)."""
    try:
        await job()
    except Atm90e32Error as err:
        return {"base": translation_key(err)}
    except Exception:
        _LOGGER.exception("Unexpected error talking to the ATM90E32AS")
        return {"base": UNKNOWN}
    return {}


def _device_schema(
    devices: list[str], defaults: Mapping[str, Any], *, wiring: str | None, simulated: bool = True
) -> vol.Schema:
    """The chip select, board and bus form; ``devices`` are the chip selects offered (free ones only).

    ``wiring`` None is the reconfigure form (no board fields).  With ``simulated`` the
    replay file field is offered (it applies to the simulated meter only).
    """
    device_options = [SelectOptionDict(value=d, label=_simulated_label(d) if is_simulated(d) else d) for d in devices]
    default_device = defaults.get(CONF_DEVICE, device_options[0]["value"])
    fields: dict[Any, Any] = {
        vol.Required(CONF_DEVICE, default=default_device): SelectSelector(
            SelectSelectorConfig(options=device_options, mode=SelectSelectorMode.DROPDOWN)
        ),
    }
    if wiring is not None:
        fields[vol.Required(CONF_BOARD, default=defaults.get(CONF_BOARD, MODEL))] = TextSelector()
        if wiring == CIRCUITS_KEY:
            fields[vol.Required(CONF_BOARD_POSITION, default=str(defaults.get(CONF_BOARD_POSITION, 1)))] = _select(
                ["1", "2"], CONF_BOARD_POSITION
            )
    fields[
        vol.Required(CONF_LINE_FREQUENCY, default=str(defaults.get(CONF_LINE_FREQUENCY, DEFAULT_LINE_FREQUENCY)))
    ] = SelectSelector(SelectSelectorConfig(options=["60", "50"], translation_key=CONF_LINE_FREQUENCY))
    fields[vol.Required(CONF_SPI_SPEED, default=str(defaults.get(CONF_SPI_SPEED, DEFAULT_SPEED_HZ)))] = SelectSelector(
        SelectSelectorConfig(options=[str(speed) for speed in SPI_SPEEDS], translation_key=CONF_SPI_SPEED)
    )
    if simulated:
        # A suggestion, not a default: an emptied field means no file, never the path refused before.
        suggested = {"suggested_value": defaults.get(CONF_REPLAY_FILE, "")}
        fields[vol.Optional(CONF_REPLAY_FILE, description=suggested)] = TextSelector()
    return vol.Schema(fields)


def _simulated_label(device: str) -> str:
    index = simulated_index(device)
    return "Simulated meter (trace replay)" if index == 0 else f"Simulated meter, chip select {index}"


def _device_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
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


def _select(options: list[str], key: str) -> SelectSelector:
    return SelectSelector(SelectSelectorConfig(options=options, translation_key=key))


GAIN = NumberSelector(NumberSelectorConfig(mode=NumberSelectorMode.BOX, step=1))


def _gains_schema(wiring: Wiring, current: Mapping[str, Any]) -> vol.Schema:
    """The presets form of ``wiring``, defaulting to ``current`` settings (options of the entry).

    No gain is typed here: a "custom" choice leads to :func:`custom_gain_fields` on the next step.
    """
    values = {**default_options(wiring), **current}
    ct_presets = _select([*CT_PRESETS, PRESET_CUSTOM], "ct_preset")
    selectors: dict[str, Any] = {
        CONF_VOLTAGE_TRANSFORMERS: _select([VT_SINGLE, VT_DUAL], CONF_VOLTAGE_TRANSFORMERS),
        CONF_VT_PRESET: _select([*VT_PRESETS, PRESET_CUSTOM], CONF_VT_PRESET),
        CONF_PGA_GAIN: _select(["1", "2", "4"], CONF_PGA_GAIN),
    }
    for channel in wiring.channels:
        selectors[channel.ct_preset_option] = ct_presets
    for channel in wiring.channels:
        selectors[channel.invert_option] = BooleanSelector()
    selectors[CONF_CURRENT_SCALE] = _select(["1", "2", "4"], CONF_CURRENT_SCALE)
    return vol.Schema(
        {vol.Required(key, default=_form_value(values[key])): selector for key, selector in selectors.items()}
    )


def _form_value(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _valid_gain(value: Any) -> int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == int(value) and 1 <= value <= 0xFFFF:
        return int(value)
    return None


def custom_gain_fields(wiring: Wiring, options: Mapping[str, Any]) -> list[str]:
    """The gain options of ``wiring`` that ``options`` leave to the person: those set to "custom".

    The voltage gain of the reference channel with a custom transformer (and of every
    other channel when each has its own transformer), and the CT gain of each channel
    whose CT is custom.  Empty when every gain comes from a preset.
    """
    fields: list[str] = []
    if options[CONF_VT_PRESET] == PRESET_CUSTOM:
        dual = options[CONF_VOLTAGE_TRANSFORMERS] == VT_DUAL
        fields += [c.voltage_gain_option for c in wiring.channels if dual or c == wiring.reference]
    fields += [c.current_gain_option for c in wiring.channels if options[c.ct_preset_option] == PRESET_CUSTOM]
    return fields


def resolve_presets(
    wiring: Wiring, user_input: Mapping[str, Any], previous: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the presets form of ``wiring`` into entry options; returns ``(options, errors)``.

    A preset gives the gain (a CT preset at the chosen PGA, divided by the current
    scale).  A "custom" gain keeps the ``previous`` one as the starting value of the
    custom gains step, a CT gain rescaled to a changed current scale so readings stay right.
    """
    errors: dict[str, str] = {}
    previous = {**default_options(wiring), **previous}
    pga = int(user_input[CONF_PGA_GAIN])
    scale = int(user_input[CONF_CURRENT_SCALE])
    options: dict[str, Any] = {
        CONF_VOLTAGE_TRANSFORMERS: user_input[CONF_VOLTAGE_TRANSFORMERS],
        CONF_VT_PRESET: user_input[CONF_VT_PRESET],
        CONF_PGA_GAIN: pga,
        CONF_CURRENT_SCALE: scale,
    }
    vt_preset = user_input[CONF_VT_PRESET]
    previous_scale = int(previous[CONF_CURRENT_SCALE])
    for channel in wiring.channels:
        field = channel.voltage_gain_option
        options[field] = VT_PRESETS[vt_preset] if vt_preset != PRESET_CUSTOM else previous[field]
        options[channel.invert_option] = bool(user_input[channel.invert_option])
        preset = options[channel.ct_preset_option] = user_input[channel.ct_preset_option]
        gain_field = channel.current_gain_option
        if preset == PRESET_CUSTOM:
            rescaled = round(int(previous[gain_field]) * previous_scale / scale)
            options[gain_field] = min(0xFFFF, max(1, rescaled))
            continue
        try:
            options[gain_field] = max(1, round(preset_current_gain(preset, pga) / scale))
        except CalibrationError:
            errors[channel.ct_preset_option] = "preset_out_of_range"
    return options, errors


def _custom_gains_schema(fields: list[str], values: Mapping[str, Any]) -> vol.Schema:
    return vol.Schema({vol.Required(field, default=values[field]): GAIN for field in fields})


def resolve_custom_gains(
    fields: list[str], user_input: Mapping[str, Any], options: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Take the typed gains of ``fields`` into ``options``; returns ``(options, errors)``.

    Each must be a whole number 1..65535 (the chip's 16-bit gain registers); a field
    that is not gets the ``invalid_gain`` error and nothing is taken.
    """
    errors: dict[str, str] = {}
    result = dict(options)
    for field in fields:
        gain = _valid_gain(user_input.get(field))
        if gain is None:
            errors[field] = "invalid_gain"
        result[field] = gain
    return result, errors


class Atm90e32ConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one ATM90E32AS chip."""

    VERSION = 2
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with no device chosen."""
        self._data: dict[str, Any] = {}
        self._options: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: Atm90e32ConfigEntry) -> Atm90e32OptionsFlow:
        """The options flow: meter settings and calibration."""
        return Atm90e32OptionsFlow()

    async def _async_probe(self, data: Mapping[str, Any]) -> dict[str, str]:
        return await _async_errors(lambda: self.hass.async_add_executor_job(bus.probe, data))

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """First choice: the wiring, each option saying where the CTs and transformers go."""
        if user_input is not None:
            self._data = {CONF_WIRING: user_input[CONF_WIRING]}
            return await self.async_step_device()
        default = self._last_entry_value(CONF_WIRING, SPLIT_PHASE.key)
        schema = vol.Schema(
            {
                vol.Required(CONF_WIRING, default=default): SelectSelector(
                    SelectSelectorConfig(
                        options=list(WIRINGS), translation_key=CONF_WIRING, mode=SelectSelectorMode.LIST
                    )
                )
            }
        )
        return self.async_show_form(step_id="user", data_schema=schema)

    def _last_entry_value(self, key: str, default: Any, wiring: str | None = None) -> Any:
        """``key`` of the most recently added entry (the next chip is usually set up like the last).

        With ``wiring``, of the last entry of that wiring only: a split-phase service does
        not take the line frequency of a three-phase one.
        """
        entries = [
            entry
            for entry in self._async_current_entries(include_ignore=False)
            if wiring is None or entry.data.get(CONF_WIRING, SPLIT_PHASE.key) == wiring
        ]
        return entries[-1].data.get(key, default) if entries else default

    def _configured_devices(self) -> set[str]:
        return {str(entry.data.get(CONF_DEVICE)) for entry in self._async_current_entries(include_ignore=False)}

    async def _async_free_devices(self) -> list[str]:
        """The chip selects not configured yet: the spidev nodes found, then the next free simulated one."""
        taken = self._configured_devices()
        found = await self.hass.async_add_executor_job(bus.list_spi_devices)
        free = [device for device in found if device not in taken]
        simulated = next(
            (d for d in map(simulated_device, range(SIMULATED_CHIPS)) if d not in taken),
            None,
        )
        return free if simulated is None else [*free, simulated]

    def _board_defaults(self) -> dict[str, Any]:
        """Board name and position for the next chip: the second chip of the last board when it has one only."""
        entries = [e for e in self._async_current_entries(include_ignore=False) if e.data.get(CONF_BOARD)]
        circuits = [e for e in entries if e.data.get(CONF_WIRING) == CIRCUITS_KEY]
        if self._data.get(CONF_WIRING) != CIRCUITS_KEY:
            return {CONF_BOARD: MODEL}
        if circuits:
            last = circuits[-1]
            board = str(last.data[CONF_BOARD])
            on_board = [e for e in circuits if e.data.get(CONF_BOARD) == board]
            if len(on_board) == 1 and int(last.data.get(CONF_BOARD_POSITION, 1)) == 1:
                return {CONF_BOARD: board, CONF_BOARD_POSITION: 2}
        boards = {str(e.data[CONF_BOARD]) for e in circuits}
        number = len(boards) + 1
        while f"Board {number}" in boards:
            number += 1
        return {CONF_BOARD: f"Board {number}", CONF_BOARD_POSITION: 1}

    async def async_step_device(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The chip select (only those not configured yet), the board it sits on, line frequency and SPI clock."""
        errors: dict[str, str] = {}
        placeholders = {"line": ""}
        wiring = self._data[CONF_WIRING]
        devices = await self._async_free_devices()
        if not devices:
            return self.async_abort(reason="all_chip_selects_configured")
        if user_input is not None:
            data = {**self._data, **_device_data(user_input)}
            board = str(user_input.get(CONF_BOARD) or "").strip()
            await self.async_set_unique_id(chip_unique_id(data[CONF_DEVICE]))
            self._abort_if_unique_id_configured()
            if not board:
                errors[CONF_BOARD] = "board_empty"
            else:
                data[CONF_BOARD] = board
                if wiring == CIRCUITS_KEY:
                    data[CONF_BOARD_POSITION] = int(user_input[CONF_BOARD_POSITION])
                errors, placeholders["line"] = await self._async_check_replay(data)
            if not errors:
                errors = await self._async_probe(data)
            if not errors:
                self._data = data
                if wiring == CIRCUITS_KEY:
                    return await self.async_step_circuits()
                if wiring == THREE_PHASE_WYE.key:
                    return await self.async_step_three_phase()
                return await self.async_step_gains()
        taken = sorted(self._configured_devices())
        placeholders["configured"] = ", ".join(taken) if taken else "-"
        placeholders["folder"] = REPLAY_FOLDER
        defaults = {
            **self._board_defaults(),
            CONF_LINE_FREQUENCY: self._last_entry_value(CONF_LINE_FREQUENCY, DEFAULT_LINE_FREQUENCY, wiring),
            **(user_input or {}),
        }
        return self.async_show_form(
            step_id="device",
            data_schema=_device_schema(devices, defaults, wiring=wiring),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_check_replay(self, data: Mapping[str, Any]) -> tuple[dict[str, str], str]:
        return await _async_check_replay(self.hass, data)

    async def async_step_gains(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the voltage transformer and CTs (presets, or custom gains on the next step)."""
        errors: dict[str, str] = {}
        wiring = entry_wiring(self._data)
        if user_input is not None:
            self._options, errors = resolve_presets(wiring, user_input, default_options(wiring))
            if not errors:
                return await self._async_gains_done()
        return self.async_show_form(
            step_id="gains", data_schema=_gains_schema(wiring, user_input or default_options(wiring)), errors=errors
        )

    async def async_step_circuits(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Which CT inputs carry a CT, each circuit's name, CT, direction and 240 V factor; the shared transformer."""
        errors: dict[str, str] = {}
        placeholders = {"line": ""}
        position = int(self._data.get(CONF_BOARD_POSITION, 1))
        if user_input is not None:
            choice, errors = wiring_form.validate_circuits(user_input, _circuit_names(self.hass))
            if choice is not None:
                self._options, errors = resolve_presets(
                    choice.wiring, wiring_form.circuit_gains_input(choice, user_input), default_options(choice.wiring)
                )
                if not errors:
                    data = {**self._data, **choice.data}
                    errors, placeholders["line"] = await _async_check_replay(self.hass, data, "base")
                if not errors:
                    self._data = data
                    self._options = {**self._options, **choice.options}
                    return await self._async_gains_done()
        values = wiring_form.circuit_values({}, CIRCUIT_KEYS, position)
        values = {**values, **_taken_default_names(self.hass, values, self._data.get(CONF_BOARD, ""))}
        values = wiring_form.shown_again(values, user_input)
        return self.async_show_form(
            step_id="circuits",
            data_schema=wiring_form.circuits_schema(values),
            errors=errors,
            description_placeholders=placeholders,  # a replay file's line at fault
        )

    async def async_step_three_phase(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Nominal system, transformers (per phase or one shared, its power error stated), CTs; voltages checked."""
        errors: dict[str, str] = {}
        placeholders = {"reason": "", "measured": "", "expected": ""}
        wiring = THREE_PHASE_WYE
        if user_input is not None:
            self._options, errors = resolve_presets(wiring, user_input, default_options(wiring))
            if not errors:
                data = {**self._data, CONF_VOLTAGE_SYSTEM: user_input[CONF_VOLTAGE_SYSTEM]}
                try:
                    check = await self.hass.async_add_executor_job(bus.measure_voltages, data, self._options)
                except Atm90e32Error as err:
                    errors["base"] = translation_key(err)
                else:
                    reason = wiring_form.split_phase_reason(
                        check, self._options[CONF_VOLTAGE_TRANSFORMERS] == VT_SINGLE
                    )
                    if reason is not None:
                        errors["base"] = "wired_as_split_phase"
                        placeholders["reason"] = _voltage_report(check)
                    elif refusal := wiring_form.system_refusal(check.voltages.values(), data[CONF_VOLTAGE_SYSTEM]):
                        errors[CONF_VOLTAGE_SYSTEM] = "system_not_measured"
                        placeholders.update(refusal)
                if not errors:
                    self._data = data
                    return await self._async_gains_done()
        values = {
            **default_options(wiring),
            CONF_VOLTAGE_SYSTEM: DEFAULT_VOLTAGE_SYSTEM if self._data.get(CONF_LINE_FREQUENCY) != 60 else "120_208",
            CONF_VOLTAGE_TRANSFORMERS: VT_DUAL,
            **(user_input or {}),
        }
        return self.async_show_form(
            step_id="three_phase",
            data_schema=wiring_form.three_phase_schema(wiring, values),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_gains_done(self) -> ConfigFlowResult:
        if custom_gain_fields(entry_wiring(self._data), self._options):
            return await self.async_step_custom_gains()
        return self._async_create()

    async def async_step_custom_gains(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Type the gains chosen as "custom" on the previous step, and only those."""
        errors: dict[str, str] = {}
        fields = custom_gain_fields(entry_wiring(self._data), self._options)
        if user_input is not None:
            options, errors = resolve_custom_gains(fields, user_input, self._options)
            if not errors:
                self._options = options
                return self._async_create()
        return self.async_show_form(
            step_id="custom_gains",
            data_schema=self.add_suggested_values_to_schema(
                _custom_gains_schema(fields, self._options), user_input or {}
            ),
            errors=errors,
        )

    def _async_create(self) -> ConfigFlowResult:
        board = self._data.get(CONF_BOARD, MODEL)
        if self._data.get(CONF_WIRING) == CIRCUITS_KEY:
            position = int(self._data.get(CONF_BOARD_POSITION, 1))
            board = f"{board} CT{3 * position - 2}-CT{3 * position}"
        return self.async_create_entry(title=f"{board} ({self.unique_id})", data=self._data, options=self._options)

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the SPI device, line frequency or SPI clock of an existing meter (the wiring stays)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders = {"line": "", "folder": REPLAY_FOLDER}
        if user_input is not None:
            data = {k: v for k, v in entry.data.items() if k != CONF_REPLAY_FILE}
            data.update(_device_data(user_input))
            data.setdefault(CONF_WIRING, SPLIT_PHASE.key)
            unique_id = chip_unique_id(data[CONF_DEVICE])
            if unique_id != entry.unique_id:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_configured()
            errors, placeholders["line"] = await self._async_check_replay(data)
            if not errors:
                errors = await self._async_probe(data)
            if not errors:
                return self.async_update_reload_and_abort(entry, unique_id=unique_id, data=data)
        taken = self._configured_devices() - {str(entry.data[CONF_DEVICE])}
        devices = [d for d in await self.hass.async_add_executor_job(bus.list_spi_devices) if d not in taken]
        devices += [d for d in map(simulated_device, range(SIMULATED_CHIPS)) if d not in taken][:1]
        if str(entry.data[CONF_DEVICE]) not in devices:
            devices.insert(0, str(entry.data[CONF_DEVICE]))
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_device_schema(devices, user_input or entry.data, wiring=None),
            errors=errors,
            description_placeholders=placeholders,
        )


async def _async_check_replay(
    hass: HomeAssistant, data: Mapping[str, Any], field: str = CONF_REPLAY_FILE
) -> tuple[dict[str, str], str]:
    """Check the replay file ``data`` names (none: nothing to check); returns ``(errors, line)``.

    A circuits entry's columns are checked once its channels are chosen (``channels`` in
    ``data``); the other wirings' at once.  The error goes on ``field``.
    """
    if not data.get(CONF_REPLAY_FILE):
        return {}, ""
    columns_known = data.get(CONF_WIRING) != CIRCUITS_KEY or CONF_CHANNELS in data
    problem = await hass.async_add_executor_job(
        replay.check, Path(hass.config.config_dir), str(data[CONF_REPLAY_FILE]), data if columns_known else None
    )
    if problem is None:
        return {}, ""
    return {field: problem.reason}, "" if problem.line is None else str(problem.line)


def _circuit_names(hass: HomeAssistant, exclude: str | None = None) -> list[str]:
    """The names of the circuits of every entry (but ``exclude``, an entry id): a new name must differ."""
    names = []
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.entry_id == exclude or entry.data.get(CONF_WIRING) != CIRCUITS_KEY:
            continue
        names += [channel.name for channel in entry_wiring(entry.data, entry.options).channels]
    return names


def _taken_default_names(hass: HomeAssistant, values: Mapping[str, Any], board: str) -> dict[str, str]:
    """Default circuit names already used elsewhere get the board's name in front ("Board 2 CT1")."""
    taken = {name.casefold() for name in _circuit_names(hass)}
    renamed = {}
    for channel in CIRCUIT_CHANNELS:
        name = str(values[channel.name_option])
        if name.casefold() in taken:
            renamed[channel.name_option] = f"{board} {name}".strip()
    return renamed


def _voltage_report(check: bus.VoltageCheck) -> str:
    volts = ", ".join(f"{phase.name} {value:.1f} V" for phase, value in check.voltages.items())
    angles = ", ".join(f"{phase.name} {value:.1f}°" for phase, value in check.angles.items())
    return f"{volts}; {angles}"


class Atm90e32OptionsFlow(OptionsFlowWithReload):
    """Meter settings and calibration against a reference meter; saving reloads the entry."""

    def __init__(self) -> None:
        """No calibration pending yet."""
        self._options: dict[str, Any] = {}
        self._pending: tuple[ChipConfig, dict[str, Any]] | None = None
        self._report = ""
        self._expire: CALLBACK_TYPE | None = None
        self._polled_accepted: dict[str, Any] | None = None
        """Power-quality options shown once with the conditions the chip cannot latch; the same again saves them."""
        self._data_changed = False
        """The nominal system (entry data) was changed: saving reloads even with the options unchanged."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Offer the settings or a calibration."""
        return self.async_show_menu(
            step_id="init",
            menu_options=[
                "settings",
                "calibrate",
                "power_quality",
                "update_interval",
                "demand",
                "start_threshold",
                # issue 14: offset and phase calibration, and their undo
                *COMPENSATION_STEPS,
            ],
        )

    async def async_step_settings(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Presets (or custom gains on the next step), PGA, CT direction, current scaling.

        A circuits entry gets the circuits form (channels on or off, names, 240 V factor),
        a three-phase entry the three-phase form; both keep the entry's other options.
        """
        data = self.config_entry.data
        if data.get(CONF_WIRING) == CIRCUITS_KEY:
            return await self.async_step_circuits()
        if data.get(CONF_WIRING) == THREE_PHASE_WYE.key:
            return await self.async_step_three_phase()
        errors: dict[str, str] = {}
        wiring = entry_wiring(data)
        if user_input is not None:
            gains, errors = resolve_presets(wiring, user_input, self.config_entry.options)
            # The other options (power quality, …) stay as they are: this step changes only its own.
            self._options = {**self.config_entry.options, **gains}
            if not errors:
                if custom_gain_fields(wiring, self._options):
                    return await self.async_step_custom_gains()
                return self.async_create_entry(data=self._options)
        return self.async_show_form(
            step_id="settings",
            data_schema=_gains_schema(wiring, user_input or self.config_entry.options),
            errors=errors,
        )

    async def async_step_circuits(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Circuits: channels on or off, names (refused when empty or taken), CTs, 240 V factor, transformer.

        Turning a channel on or off changes the entry's data (its wiring); the entry
        reloads with the options either way.  Nothing is saved while the form has errors.
        """
        entry = self.config_entry
        errors: dict[str, str] = {}
        if user_input is not None:
            choice, errors = wiring_form.validate_circuits(user_input, _circuit_names(self.hass, entry.entry_id))
            if choice is not None:
                gains, errors = resolve_presets(
                    choice.wiring, wiring_form.circuit_gains_input(choice, user_input), entry.options
                )
                if not errors:
                    self._options = {**entry.options, **gains, **choice.options}
                    if choice.data[CONF_CHANNELS] != list(entry.data.get(CONF_CHANNELS, CIRCUIT_KEYS)):
                        self.hass.config_entries.async_update_entry(entry, data={**entry.data, **choice.data})
                    if custom_gain_fields(choice.wiring, self._options):
                        return await self.async_step_custom_gains()
                    return self.async_create_entry(data=self._options)
        values = wiring_form.circuit_values(
            entry.options, entry.data.get(CONF_CHANNELS, CIRCUIT_KEYS), int(entry.data.get(CONF_BOARD_POSITION, 1))
        )
        return self.async_show_form(
            step_id="circuits",
            data_schema=wiring_form.circuits_schema(wiring_form.shown_again(values, user_input)),
            errors=errors,
        )

    async def async_step_three_phase(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Three-phase: transformers, presets, CT directions, current scaling (the nominal system stays)."""
        entry = self.config_entry
        wiring = entry_wiring(entry.data)
        errors: dict[str, str] = {}
        placeholders = {"measured": "", "expected": ""}
        if user_input is not None:
            gains, errors = resolve_presets(wiring, user_input, entry.options)
            self._options = {**entry.options, **gains}
            system = user_input[CONF_VOLTAGE_SYSTEM]
            if not errors and system != entry.data.get(CONF_VOLTAGE_SYSTEM, DEFAULT_VOLTAGE_SYSTEM):
                data = {**entry.data, CONF_VOLTAGE_SYSTEM: system}
                errors = await wiring_form.check_new_system(self.hass, entry, data, self._options, placeholders)
                if not errors:
                    self.hass.config_entries.async_update_entry(entry, data=data)
                    self._options.pop(CONF_NOMINAL_VOLTAGE, None)  # follows the new system
                    self._data_changed = True
            if not errors:
                if custom_gain_fields(wiring, self._options):
                    return await self.async_step_custom_gains()
                return self._async_save(self._options)
        values = {
            **default_options(wiring),
            **entry.options,
            CONF_VOLTAGE_SYSTEM: entry.data.get(CONF_VOLTAGE_SYSTEM, DEFAULT_VOLTAGE_SYSTEM),
            **(user_input or {}),
        }
        return self.async_show_form(
            step_id="three_phase",
            data_schema=wiring_form.three_phase_schema(wiring, values),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _async_save(self, options: dict[str, Any]) -> ConfigFlowResult:
        """Save ``options``; after a changed nominal system the entry reloads even when they are unchanged."""
        if self._data_changed and options == dict(self.config_entry.options):
            self.hass.config_entries.async_schedule_reload(self.config_entry.entry_id)
        return self.async_create_entry(data=options)

    async def async_step_power_quality(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Nominal voltage, sag/swell/phase-loss/frequency/over-current thresholds and declared generation.

        A threshold the chip cannot hold at the present gains is shown once as an error
        that says so (it would be judged at each refresh only); saving the same values
        again accepts that.  Nothing reaches the chip before the options are saved.
        """
        data, options = self.config_entry.data, self.config_entry.options
        errors: dict[str, str] = {}
        placeholders = {"polled": ""}
        if user_input is not None:
            new, errors = pq_form.validate(user_input, data)
            if not errors:
                merged = {**options, **new}
                polled = pq_form.polled(data, merged)
                if not polled or new == self._polled_accepted:
                    return self.async_create_entry(data=merged)
                self._polled_accepted = new
                errors["base"] = "thresholds_polled"
                placeholders["polled"] = ", ".join(
                    f"{condition} (at most {limit})" for condition, limit in polled.items()
                )
        values = {**pq_form.current_values(data, options), **(user_input or {})}
        return self.async_show_form(
            step_id="power_quality",
            data_schema=pq_form.schema(values),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_custom_gains(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Type the gains chosen as "custom" on the settings step, and only those."""
        errors: dict[str, str] = {}
        fields = custom_gain_fields(entry_wiring(self.config_entry.data), self._options)
        if user_input is not None:
            options, errors = resolve_custom_gains(fields, user_input, self._options)
            if not errors:
                return self._async_save(options)
        return self.async_show_form(
            step_id="custom_gains",
            data_schema=self.add_suggested_values_to_schema(
                _custom_gains_schema(fields, self._options), user_input or {}
            ),
            errors=errors,
        )

    async def async_step_update_interval(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """How often the meter is read, s; an interval in which an energy register could fill is refused.

        The rule (driver.ledger.max_read_interval_s): at most half the time the fastest
        register (the all-phase total where phases are summed) takes to fill at full scale
        at the nominal voltage + 20 %, whatever the current scaling (which keeps the chip
        within its full scale).  The form says the limit.
        """
        options = self.config_entry.options
        settings = meter_settings(self.config_entry.data, options)
        nominal = settings.chip.power_quality.nominal_voltage
        summed = len(settings.wiring.summed_phases)
        longest = max_read_interval_s(nominal, summed)
        placeholders = {
            "voltage": f"{nominal:.0f}",
            "fill": f"{register_fill_s(nominal, summed):.0f}",
            "longest": f"{longest:.0f}",
            "interval": "",
        }
        errors: dict[str, str] = {}
        if user_input is not None:
            interval = int(user_input[CONF_UPDATE_INTERVAL])
            if interval <= longest:
                writes = user_input.get(CONF_DATABASE_WRITES, mode_of(options))
                return self.async_create_entry(
                    data={**options, CONF_UPDATE_INTERVAL: interval, CONF_DATABASE_WRITES: writes}
                )
            errors[CONF_UPDATE_INTERVAL] = "interval_too_long"
            placeholders["interval"] = str(interval)
        current = (user_input or options).get(CONF_UPDATE_INTERVAL, int(DEFAULT_UPDATE_INTERVAL.total_seconds()))
        schema = vol.Schema(
            {
                vol.Required(CONF_UPDATE_INTERVAL, default=str(current)): _select(
                    [str(seconds) for seconds in UPDATE_INTERVALS], CONF_UPDATE_INTERVAL
                ),
                # what the sensors write to the database (publishing.py; README "What is written to the database")
                vol.Required(CONF_DATABASE_WRITES, default=mode_of(user_input or options).value): _select(
                    [mode.value for mode in Mode], CONF_DATABASE_WRITES
                ),
            }
        )
        return self.async_show_form(
            step_id="update_interval", data_schema=schema, errors=errors, description_placeholders=placeholders
        )

    async def async_step_start_threshold(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The start threshold per phase (start_threshold_form); README "Start threshold" has the trade-off."""
        options = self.config_entry.options
        if user_input is not None:
            return self.async_create_entry(data={**options, CONF_START_THRESHOLD: user_input[CONF_START_THRESHOLD]})
        settings = meter_settings(self.config_entry.data, options)
        merged = {**default_options(settings.wiring), **options}
        nominal = settings.chip.power_quality.nominal_voltage
        return self.async_show_form(
            step_id="start_threshold",
            data_schema=start_threshold_form.schema(merged),
            description_placeholders=start_threshold_form.placeholders(settings.wiring, merged, nominal),
        )

    async def async_step_demand(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The demand interval (5/15/30/60 min) and the billing cycle's start day (1-28); wrong input saves nothing."""
        options = self.config_entry.options
        errors: dict[str, str] = {}
        if user_input is not None:
            new, errors = demand_form.validate(user_input)
            if not errors:
                return self.async_create_entry(data={**options, **new})
        values = {**demand_form.current_values(options), **(user_input or {})}
        return self.async_show_form(step_id="demand", data_schema=demand_form.schema(values), errors=errors)

    async def async_step_calibrate(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Take reference readings, compute, write and read back new gains (AN p.21-24)."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        coordinator: Atm90e32Coordinator = self.config_entry.runtime_data
        wiring = coordinator.settings.wiring
        dual = self._voltage_transformers(wiring) == VT_DUAL
        form_errors: dict[str, str] = {}
        placeholders = {"gain": "", "readings": _readings(wiring, coordinator.data)}
        if user_input is not None and not any(value is not None for value in user_input.values()):
            form_errors["base"] = "no_reference"
        elif user_input is not None:
            try:
                report = await self._async_calibrate(coordinator, _references(wiring, user_input), dual)
            except CalibrationError as err:
                form_errors[err.field] = err.reason
                placeholders["gain"] = "" if err.gain is None else str(err.gain)
            except Atm90e32Error as err:
                form_errors["base"] = translation_key(err)
            except Exception:
                _LOGGER.exception("Unexpected error calibrating the ATM90E32AS")
                form_errors["base"] = UNKNOWN
            else:
                self._report = report
                self._expire = async_call_later(self.hass, CALIBRATION_CONFIRM_TIMEOUT_S, self._async_expire)
                return await self.async_step_calibrate_result()
        return self.async_show_form(
            step_id="calibrate",
            data_schema=self.add_suggested_values_to_schema(_calibrate_schema(wiring, dual), user_input or {}),
            errors=form_errors,
            description_placeholders=placeholders,
        )

    async def _async_calibrate(self, coordinator: Atm90e32Coordinator, references: References, dual: bool) -> str:
        """Sample, compute the gains, write them and sample again; returns the before/after report.

        The chip keeps the new gains while the person decides (``self._pending`` holds the
        configuration to go back to and the options to keep).  A failure after writing restores the old gains.
        Raises CalibrationError (nothing written) and the driver's errors.
        """
        settings = coordinator.settings
        wiring = settings.wiring
        meter = coordinator.meter
        old = meter.config
        before = await self.hass.async_add_executor_job(meter.sample)
        volts, amps = new_gains(
            dict(zip(Phase, old.voltage_gains, strict=True)),
            dict(zip(Phase, old.current_gains, strict=True)),
            before,
            references,
            wiring=wiring,
            current_scale=settings.current_scale,
            shared_voltage=not dual,
            factors=settings.factors,
        )
        options: dict[str, Any] = {**self.config_entry.options, CONF_VT_PRESET: PRESET_CUSTOM}
        for channel in wiring.channels:
            options[channel.voltage_gain_option] = volts[channel.phase]
            options[channel.ct_preset_option] = PRESET_CUSTOM
            options[channel.current_gain_option] = amps[channel.phase]
        new = meter_settings(self.config_entry.data, options).chip
        try:
            await self.hass.async_add_executor_job(meter.apply_config, new)
            after = await self.hass.async_add_executor_job(meter.sample)
        except Exception:
            await self._async_revert(coordinator, old)
            raise
        self._pending = (old, options)
        return _report(wiring, before, after, settings.current_scale, settings.factors)

    def _voltage_transformers(self, wiring: Wiring) -> str:
        return str({**default_options(wiring), **self.config_entry.options}[CONF_VOLTAGE_TRANSFORMERS])

    async def async_step_calibrate_result(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the readings before and after; store the new gains when confirmed."""
        assert self._pending is not None
        if user_input is None:
            return self.async_show_form(
                step_id="calibrate_result",
                description_placeholders={"report": self._report, "minutes": str(CALIBRATION_CONFIRM_TIMEOUT_S // 60)},
            )
        _, options = self._pending
        self._pending = None
        self._cancel_expiry()
        return self.async_create_entry(data=options)

    @callback
    def _async_expire(self, _now: Any) -> None:
        """Nobody kept or dismissed the calibration: end the flow, which takes it back (async_remove)."""
        self._expire = None
        self.hass.config_entries.options.async_abort(self.flow_id)

    def _cancel_expiry(self) -> None:
        if self._expire is not None:
            self._expire()
            self._expire = None

    async def _async_revert(self, coordinator: Atm90e32Coordinator, old: ChipConfig) -> None:
        try:
            await self.hass.async_add_executor_job(coordinator.meter.apply_config, old)
        except Atm90e32Error:
            coordinator.meter.config = old  # re-applied by the next refresh's reset check or reload

    @callback
    def async_remove(self) -> None:
        """A calibration the person did not confirm is taken back out of the chip."""
        self._cancel_expiry()
        if self._pending is not None and self.config_entry.state is ConfigEntryState.LOADED:
            old, _ = self._pending
            self._pending = None
            self.hass.async_create_task(self._async_revert(self.config_entry.runtime_data, old))

    # --- offsets and phase compensation (issue 14; the work is in compensation.py) ---------

    async def async_step_offset_calibration(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """No-load step (AN p.23): voltage on, no current; Ioffset, Poffset and Qoffset measured, written, read back.

        Refused (nothing written, the previous offsets back in the chip) when a channel
        reads more current or power than an offset can be.
        """
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        coordinator: Atm90e32Coordinator = self.config_entry.runtime_data
        errors: dict[str, str] = {}
        placeholders = compensation.error_placeholders()
        if user_input is not None:
            try:
                report = await self._async_offsets(coordinator)
            except CalibrationError as err:
                errors["base"] = err.reason
                placeholders = compensation.error_placeholders(err)
            except Atm90e32Error as err:
                errors["base"] = translation_key(err)
            except Exception:
                _LOGGER.exception("Unexpected error in the offset calibration of the ATM90E32AS")
                errors["base"] = UNKNOWN
            else:
                return await self._async_compensation_written(report)
        return self.async_show_form(
            step_id="offset_calibration",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_offsets(self, coordinator: Atm90e32Coordinator) -> str:
        """Clear the offsets, read with no load, compute, write, read back; returns the before/after report.

        Raises CalibrationError (the old configuration is back in the chip) and the driver's errors.
        """
        meter, wiring = coordinator.meter, coordinator.settings.wiring
        old = meter.config
        try:
            await self.hass.async_add_executor_job(meter.apply_config, compensation.zeroed_offsets(old))
            before = await self.hass.async_add_executor_job(meter.read_no_load)
            new_values = compensation.offsets_from_reads(wiring, before)
            options = self._compensation_options(compensation.OFFSET_KINDS, new_values)
            new = meter_settings(self.config_entry.data, options).chip
            await self.hass.async_add_executor_job(meter.apply_config, new)
            after = await self.hass.async_add_executor_job(meter.read_no_load)
        except Exception:
            await self._async_revert(coordinator, old)
            raise
        self._pending = (old, options)
        lines = [
            f"{c.name}: {before[c.phase].current:.3f} A → {after[c.phase].current:.3f} A, "
            f"{before[c.phase].active_power:+.2f} W → {after[c.phase].active_power:+.2f} W, "
            f"{before[c.phase].reactive_power:+.2f} var → {after[c.phase].reactive_power:+.2f} var"
            for c in wiring.channels
        ]
        return "\n".join(lines)

    async def async_step_phase_calibration(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """PhiA-C per channel: from a reference meter's power factor at a reactive load, or from the CT presets."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        coordinator: Atm90e32Coordinator = self.config_entry.runtime_data
        wiring = coordinator.settings.wiring
        errors: dict[str, str] = {}
        placeholders = compensation.error_placeholders()
        if user_input is not None:
            references = {c.key: user_input.get(f"reference_pf_{c.key}") for c in wiring.channels}
            try:
                report = await self._async_phase(coordinator, references)
            except CalibrationError as err:
                errors[err.field] = err.reason
                placeholders = compensation.error_placeholders(err)
            except Atm90e32Error as err:
                errors["base"] = translation_key(err)
            except Exception:
                _LOGGER.exception("Unexpected error in the phase calibration of the ATM90E32AS")
                errors["base"] = UNKNOWN
            else:
                return await self._async_compensation_written(report)
        schema = vol.Schema({vol.Optional(f"reference_pf_{c.key}"): REFERENCE_PF for c in wiring.channels})
        return self.async_show_form(
            step_id="phase_calibration",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_phase(self, coordinator: Atm90e32Coordinator, references: dict[str, float | None]) -> str:
        """Read P and Q, compute PhiA-C, write and read back; returns the before/after power factors.

        Raises CalibrationError (nothing written) and the driver's errors (the old configuration restored).
        """
        meter, wiring = coordinator.meter, coordinator.settings.wiring
        old = meter.config
        before = await self.hass.async_add_executor_job(meter.read_powers)
        new_values = compensation.phase_from_references(old, self.config_entry.options, before, references)
        options = self._compensation_options((compensation.PHASE_KIND,), new_values)
        new = meter_settings(self.config_entry.data, options).chip
        try:
            await self.hass.async_add_executor_job(meter.apply_config, new)
            after = await self.hass.async_add_executor_job(meter.read_powers)
        except Exception:
            await self._async_revert(coordinator, old)
            raise
        self._pending = (old, options)
        return (
            "\n".join(f"{c.name}: PF {_pf(*before[c.phase]):.3f} → {_pf(*after[c.phase]):.3f}" for c in wiring.channels)
            + "\n\n"
            + compensation.describe(wiring, options, old.line_frequency)
        )

    def _compensation_options(self, kinds: tuple[str, ...], new_values: Mapping[str, int]) -> dict[str, Any]:
        """The entry options with ``new_values``, the previous values of ``kinds`` kept for undo."""
        options = dict(self.config_entry.options)
        wiring = entry_wiring(self.config_entry.data)
        previous = compensation.compensation_options(
            wiring, options, (*compensation.OFFSET_KINDS, compensation.PHASE_KIND)
        )
        return {**options, **new_values, compensation.CONF_COMPENSATION_UNDO: previous}

    async def _async_compensation_written(self, report: str) -> ConfigFlowResult:
        self._report = report
        self._expire = async_call_later(self.hass, CALIBRATION_CONFIRM_TIMEOUT_S, self._async_expire)
        return await self.async_step_compensation_result()

    async def async_step_compensation_result(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the offset or phase step's readings before and after; store the values when confirmed."""
        assert self._pending is not None
        if user_input is None:
            return self.async_show_form(
                step_id="compensation_result",
                description_placeholders={"report": self._report, "minutes": str(CALIBRATION_CONFIRM_TIMEOUT_S // 60)},
            )
        _, options = self._pending
        self._pending = None
        self._cancel_expiry()
        return self.async_create_entry(data=options)

    async def async_step_undo_compensation(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Put back the offsets and phase compensation from before the last offset or phase step (saving reloads)."""
        options = self.config_entry.options
        undo = options.get(compensation.CONF_COMPENSATION_UNDO)
        if not undo:
            return self.async_abort(reason="nothing_to_undo")
        wiring = entry_wiring(self.config_entry.data)
        frequency = int(self.config_entry.data.get(CONF_LINE_FREQUENCY, DEFAULT_LINE_FREQUENCY))
        if user_input is None:
            return self.async_show_form(
                step_id="undo_compensation",
                description_placeholders={
                    "present": compensation.describe(wiring, options, frequency),
                    "previous": compensation.describe(wiring, undo, frequency),
                },
            )
        kinds = (*compensation.OFFSET_KINDS, compensation.PHASE_KIND)
        present = compensation.compensation_options(wiring, options, kinds)
        return self.async_create_entry(data={**options, **undo, compensation.CONF_COMPENSATION_UNDO: present})


def _pf(active: float, reactive: float) -> float:
    """The power factor of ``active`` W and ``reactive`` var (0 with neither)."""
    apparent = (active * active + reactive * reactive) ** 0.5
    return abs(active) / apparent if apparent else 0.0


REFERENCE_PF = NumberSelector(NumberSelectorConfig(mode=NumberSelectorMode.BOX, min=0.01, max=1, step=0.001))


REFERENCE = NumberSelector(NumberSelectorConfig(mode=NumberSelectorMode.BOX, step="any", min=0))


def _calibrate_schema(wiring: Wiring, dual: bool) -> vol.Schema:
    """Every reference of ``wiring`` is optional: an empty field keeps that gain.

    A voltage for the reference channel (for every channel with a transformer each),
    and per channel a current or the power of a resistive load.
    """
    fields: dict[Any, Any] = {}
    for channel in wiring.channels:
        if dual or channel == wiring.reference:
            fields[vol.Optional(f"reference_voltage_{channel.key}")] = REFERENCE
    for channel in wiring.channels:
        fields[vol.Optional(f"reference_current_{channel.key}")] = REFERENCE
        fields[vol.Optional(f"reference_power_{channel.key}")] = REFERENCE
    return vol.Schema(fields)


def _references(wiring: Wiring, user_input: Mapping[str, Any]) -> References:
    reference_voltage = user_input.get(f"reference_voltage_{wiring.reference.key}")
    return References(
        voltage={c.phase: user_input.get(f"reference_voltage_{c.key}", reference_voltage) for c in wiring.channels},
        current={c.phase: user_input.get(f"reference_current_{c.key}") for c in wiring.channels},
        power={c.phase: user_input.get(f"reference_power_{c.key}") for c in wiring.channels},
    )


def _readings(wiring: Wiring, snapshot: MeterSnapshot) -> str:
    """What the sensors show now, per channel, for the person to compare with the reference meter.

    ``snapshot`` is the coordinator's last (scaled) one: a loaded entry always has one.
    """
    parts = []
    for channel in wiring.channels:
        r = snapshot.phases.get(channel.phase)
        if r is not None:
            parts.append(f"{channel.name} {r.voltage:.2f} V, {r.current:.3f} A, {r.active_power:.1f} W")
    return "; ".join(parts)


def _report(
    wiring: Wiring,
    before: Mapping[Phase, CalibrationSample],
    after: Mapping[Phase, CalibrationSample],
    scale: int,
    factors: Mapping[str, int],
) -> str:
    """Before and after per channel, as the sensors show them: current x scale, voltage x factor, power x both."""
    lines = []
    for channel in wiring.channels:
        b, a = before[channel.phase], after[channel.phase]
        volts = factors.get(channel.key, 1)
        watts = scale * volts
        lines.append(
            f"{channel.name}: {b.voltage * volts:.2f} V → {a.voltage * volts:.2f} V, "
            f"{b.current * scale:.3f} A → {a.current * scale:.3f} A, "
            f"{abs(b.active_power) * watts:.1f} W → {abs(a.active_power) * watts:.1f} W"
        )
    return "\n".join(lines)
