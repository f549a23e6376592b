"""The config flow and reconfigure: the wiring, the device, the CTs, transformers and their presets.

- user: the wiring (split-phase mains, circuits, three-phase wye), each with where its
  CTs and transformers go; then ``device``.
- device: a chip select not configured yet (or the next simulated one, with an optional
  replay file), the board it sits on, line frequency and SPI clock; the chip is probed
  before anything is stored; then ``gains`` (split-phase), ``circuits`` or ``three_phase``.
- circuits: per CT input, on or off, the circuit's name, CT model, direction and 240 V
  factor; the shared transformer, PGA and current scaling (wiring_form.py).
- three_phase: nominal system, one transformer per phase or one shared, presets; the
  chip's voltages and angles are read and a split-phase service is refused.
- gains: voltage transformer and CT presets (or "custom"), PGA, CT direction, current
  scaling; then, only when a custom gain was chosen, ``custom_gains`` asks for exactly
  the gains that are used (forms.py, shared with the options flow).
- reconfigure: the SPI device, line frequency and SPI clock of an existing entry (the
  wiring stays: its entities and ledger are the entry's).

The options flow is options_flow.py, its calibration steps calibration_flow.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, ConfigSubentryFlow
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from . import bus, circuits, device_form, forms, labels, replay, wiring_form
from .bus import simulated_device
from .circuit_flow import CircuitSubentryFlow
from .circuits import SUBENTRY_CIRCUIT
from .const import (
    CONF_BOARD,
    CONF_BOARD_POSITION,
    CONF_CHANNELS,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_REPLAY_FILE,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_WIRING,
    DEFAULT_LINE_FREQUENCY,
    DOMAIN,
    MODEL,
    REPLAY_FOLDER,
    SIMULATED_CHIPS,
    VT_DUAL,
    VT_SINGLE,
)
from .coordinator import Atm90e32ConfigEntry
from .driver import Atm90e32Error, Phase
from .driver.channels import (
    CIRCUIT_CHANNELS,
    CIRCUIT_KEYS,
    CIRCUITS_KEY,
    SPLIT_PHASE,
    THREE_PHASE_DELTA,
    THREE_PHASE_WYE,
    WIRINGS,
    Wiring,
)
from .errors import UNKNOWN, translation_key
from .options_flow import Atm90e32OptionsFlow
from .settings import default_options, entry_wiring

_LOGGER = logging.getLogger(__name__)


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


class Atm90e32ConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one ATM90E32AS chip."""

    VERSION = 2
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with no device chosen."""
        self._data: dict[str, Any] = {}
        self._options: dict[str, Any] = {}

    @classmethod
    @callback
    def async_get_supported_subentry_types(cls, config_entry: ConfigEntry) -> dict[str, type[ConfigSubentryFlow]]:
        """A circuits chip's circuits are ``circuit`` subentries; the other wirings have none."""
        return {SUBENTRY_CIRCUIT: CircuitSubentryFlow} if circuits.is_circuits(config_entry) else {}

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

    def _board_defaults(self, names: Mapping[str, str]) -> dict[str, Any]:
        """Board name and position for the next chip: the second chip of the last board when it has one only.

        A new board's name is translated (``names["board"]``, "Board {number}"): a default
        the person sees and may change, in Home Assistant's language, then kept as typed.
        """
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
        while labels.fill(names["board"], number=str(number)) in boards:
            number += 1
        return {CONF_BOARD: labels.fill(names["board"], number=str(number)), CONF_BOARD_POSITION: 1}

    async def async_step_device(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The chip select (only those not configured yet), the board it sits on, line frequency and SPI clock."""
        errors: dict[str, str] = {}
        placeholders = {"line": ""}
        wiring = self._data[CONF_WIRING]
        devices = await self._async_free_devices()
        if not devices:
            return self.async_abort(reason="all_chip_selects_configured")
        if user_input is not None:
            data = {**self._data, **device_form.device_data(user_input)}
            board = str(user_input.get(CONF_BOARD) or "").strip()
            await self.async_set_unique_id(chip_unique_id(data[CONF_DEVICE]))
            self._abort_if_unique_id_configured()
            if not board:
                errors[CONF_BOARD] = "board_empty"
            else:
                data[CONF_BOARD] = board
                if wiring == CIRCUITS_KEY:
                    data[CONF_BOARD_POSITION] = int(user_input[CONF_BOARD_POSITION])
                errors, placeholders["line"] = await _async_check_replay(self.hass, data)
            if not errors:
                errors = await self._async_probe(data)
            if not errors:
                self._data = data
                if wiring == CIRCUITS_KEY:
                    return await self.async_step_circuits()
                if wiring == THREE_PHASE_WYE.key:
                    return await self.async_step_three_phase()
                if wiring == THREE_PHASE_DELTA.key:
                    return await self.async_step_delta()
                return await self.async_step_gains()
        names = await labels.async_pieces(self.hass, "default_names")
        placeholders["configured"] = device_form.configured(self._configured_devices(), names)
        placeholders["folder"] = REPLAY_FOLDER
        defaults = {
            **self._board_defaults(names),
            CONF_LINE_FREQUENCY: self._last_entry_value(CONF_LINE_FREQUENCY, DEFAULT_LINE_FREQUENCY, wiring),
            **(user_input or {}),
        }
        return self.async_show_form(
            step_id="device",
            data_schema=device_form.schema(devices, defaults, wiring=wiring, names=names),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_gains(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the voltage transformer and CTs (presets, or custom gains on the next step)."""
        errors: dict[str, str] = {}
        wiring = entry_wiring(self._data)
        if user_input is not None:
            self._options, errors = forms.resolve_presets(wiring, user_input, default_options(wiring))
            if not errors:
                return await self._async_gains_done()
        return self.async_show_form(
            step_id="gains",
            data_schema=forms.gains_schema(wiring, user_input or default_options(wiring)),
            errors=errors,
        )

    async def async_step_circuits(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Which CT inputs carry a CT, each circuit's name, CT, direction and 240 V factor; the shared transformer."""
        errors: dict[str, str] = {}
        placeholders = {"line": ""}
        position = int(self._data.get(CONF_BOARD_POSITION, 1))
        if user_input is not None:
            choice, errors = wiring_form.validate_circuits(user_input, circuits.circuit_names(self.hass))
            if choice is not None:
                self._options, errors = forms.resolve_presets(
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
        return await self._async_three_phase("three_phase", THREE_PHASE_WYE, user_input)

    async def async_step_delta(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Three-wire (delta): nominal line voltage, the transformers' preset, CTs on L1 and L3; voltages checked."""
        return await self._async_three_phase("delta", THREE_PHASE_DELTA, user_input)

    async def _async_three_phase(
        self, step_id: str, wiring: Wiring, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        placeholders = {"reason": "", "measured": "", "expected": ""}
        if user_input is not None:
            form = wiring_form.three_phase_input(wiring, user_input)
            self._options, errors = forms.resolve_presets(wiring, form, default_options(wiring))
            if not errors:
                data = {**self._data, CONF_VOLTAGE_SYSTEM: user_input[CONF_VOLTAGE_SYSTEM]}
                try:
                    check = await self.hass.async_add_executor_job(bus.measure_voltages, data, self._options)
                except Atm90e32Error as err:
                    errors["base"] = translation_key(err)
                else:
                    shared = self._options[CONF_VOLTAGE_TRANSFORMERS] == VT_SINGLE
                    if wiring.delta:
                        reason, error = wiring_form.delta_reason(check), "not_three_wire"
                    else:
                        reason, error = wiring_form.split_phase_reason(check, shared), "wired_as_split_phase"
                    if reason is not None:
                        errors["base"] = error
                        placeholders["reason"] = _voltage_report(check, wiring, self.hass.config.language)
                    elif refusal := wiring_form.system_refusal(
                        check.voltages.values(), data[CONF_VOLTAGE_SYSTEM], self.hass.config.language
                    ):
                        errors[CONF_VOLTAGE_SYSTEM] = wiring_form.system_error(data[CONF_VOLTAGE_SYSTEM])
                        placeholders.update(refusal)
                if not errors:
                    self._data = data
                    return await self._async_gains_done()
        values = {
            **default_options(wiring),
            CONF_VOLTAGE_SYSTEM: wiring_form.default_system(wiring, self._data.get(CONF_LINE_FREQUENCY)),
            CONF_VOLTAGE_TRANSFORMERS: VT_DUAL,
            **(user_input or {}),
        }
        return self.async_show_form(
            step_id=step_id,
            data_schema=wiring_form.three_phase_schema(wiring, values),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_gains_done(self) -> ConfigFlowResult:
        if forms.custom_gain_fields(entry_wiring(self._data), self._options):
            return await self.async_step_custom_gains()
        return self._async_create(self._options)

    async def async_step_custom_gains(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Type the gains chosen as "custom" on the previous step, and only those."""
        wiring = entry_wiring(self._data, self._options)
        names = labels.input_names(wiring, self._data, self._options)
        return forms.custom_gains_step(self, wiring, self._options, user_input, self._async_create, names=names)

    def _async_create(self, options: dict[str, Any]) -> ConfigFlowResult:
        """Make the chosen chip's entry with ``options``; a circuits chip gets a ``circuit`` subentry per input on."""
        self._options = options
        board = self._data.get(CONF_BOARD, MODEL)
        if self._data.get(CONF_WIRING) != CIRCUITS_KEY:
            return self.async_create_entry(title=f"{board} ({self.unique_id})", data=self._data, options=options)
        position = int(self._data.get(CONF_BOARD_POSITION, 1))
        wiring = entry_wiring(self._data, options)
        return self.async_create_entry(
            title=f"{board} CT{3 * position - 2}-CT{3 * position} ({self.unique_id})",
            data={key: value for key, value in self._data.items() if key != CONF_CHANNELS},
            options={key: value for key, value in options.items() if key not in circuits.CIRCUIT_OPTIONS},
            subentries=[circuits.circuit_subentry(c, c.name, options) for c in wiring.channels],
        )

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the SPI device, line frequency or SPI clock of an existing meter (the wiring stays)."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders = {"line": "", "folder": REPLAY_FOLDER, "meter": entry.title}
        if user_input is not None:
            data = {k: v for k, v in entry.data.items() if k != CONF_REPLAY_FILE}
            data.update(device_form.device_data(user_input))
            data.setdefault(CONF_WIRING, SPLIT_PHASE.key)
            unique_id = chip_unique_id(data[CONF_DEVICE])
            if unique_id != entry.unique_id:
                await self.async_set_unique_id(unique_id)
                self._abort_if_unique_id_configured()
            errors, placeholders["line"] = await _async_check_replay(self.hass, data)
            if not errors:
                errors = await self._async_probe(data)
            if not errors:
                return self.async_update_reload_and_abort(entry, unique_id=unique_id, data=data)
        taken = self._configured_devices() - {str(entry.data[CONF_DEVICE])}
        devices = [d for d in await self.hass.async_add_executor_job(bus.list_spi_devices) if d not in taken]
        devices += [d for d in map(simulated_device, range(SIMULATED_CHIPS)) if d not in taken][:1]
        if str(entry.data[CONF_DEVICE]) not in devices:
            devices.insert(0, str(entry.data[CONF_DEVICE]))
        names = await labels.async_pieces(self.hass, "default_names")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=device_form.schema(devices, user_input or entry.data, wiring=None, names=names),
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


def _taken_default_names(hass: HomeAssistant, values: Mapping[str, Any], board: str) -> dict[str, str]:
    """Default circuit names already used elsewhere get the board's name in front ("Board 2 CT1")."""
    taken = {name.casefold() for name in circuits.circuit_names(hass)}
    renamed = {}
    for channel in CIRCUIT_CHANNELS:
        name = str(values[channel.name_option])
        if name.casefold() in taken:
            renamed[channel.name_option] = f"{board} {name}".strip()
    return renamed


def _voltage_report(check: bus.VoltageCheck, wiring: Wiring, language: str) -> str:
    """The voltages and angles the chip read, named as the wiring's channels ("L1-N 229.7 V"; delta "L1-L2").

    A chip phase the wiring does not use (a delta service's B) keeps its letter; numbers in ``language``.
    """
    channels = {c.phase: c for c in wiring.channels}
    measured = labels.voltage_names(wiring)

    def n(value: float) -> str:
        return labels.number(language, value, ".1f")

    def between(phase: Phase) -> str:
        return measured[f"voltage_{channels[phase].key}"] if phase in channels else phase.name

    volts = ", ".join(f"{between(p)} {n(v)} V" for p, v in check.voltages.items())
    angles = ", ".join(f"{channels[p].name if p in channels else p.name} {n(v)}°" for p, v in check.angles.items())
    return f"{volts}; {angles}"
