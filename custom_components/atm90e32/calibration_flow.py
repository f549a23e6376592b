"""The options flow's calibration steps: gains, offsets and phase compensation, each tried in the chip first.

- calibrate: reference readings in, new gains computed with the application note's
  formula (AN p.21-24), written, read back, shown before and after.
- offset_calibration: no-load Ioffset, Poffset, Qoffset (AN p.23); phase_calibration:
  PhiA-C from reference power factors or the CT presets (compensation.py does their work).
- Each is stored only on confirm (``calibrate_result``, ``compensation_result``) and taken
  back out of the chip if the person walks away or after
  :data:`CALIBRATION_CONFIRM_TIMEOUT_S`; ``undo_compensation`` puts back the offsets and
  phase compensation from before the last offset or phase step.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

import voluptuous as vol
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_call_later

from . import compensation, labels
from .circuits import circuit_inputs
from .const import (
    CONF_LINE_FREQUENCY,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_VT_PRESET,
    DEFAULT_LINE_FREQUENCY,
    PRESET_CUSTOM,
    VT_DUAL,
)
from .coordinator import Atm90e32Coordinator
from .driver import Atm90e32Error, ChipConfig, MeterSnapshot, Phase
from .driver.calibration import REFERENCE_PF_MAX, CalibrationError, CalibrationSample, NoLoadReads, References
from .driver.channels import Wiring
from .driver.meter import Meter
from .errors import UNKNOWN, translation_key
from .forms import NumberBox
from .settings import apply_compensation, default_options, entry_wiring

_LOGGER = logging.getLogger(__name__)

COMPENSATION_STEPS = ["offset_calibration", "phase_calibration", "undo_compensation"]
"""The options flow's offset, phase and undo steps (compensation.py does their work)."""

CALIBRATION_CONFIRM_TIMEOUT_S = 600
"""A calibration written but neither kept nor dismissed is taken back out of the chip after 10 minutes
(the person closed the browser instead of the dialog)."""


type TrialJob = Callable[[Atm90e32Coordinator], Awaitable[tuple[ChipConfig, dict[str, Any], str]]]
"""A calibration tried in the chip: returns the configuration to go back to, the options to keep and the report."""


class CalibrationSteps(OptionsFlow):
    """The options flow's calibration steps: gains, offsets, phase compensation, their trial and undo."""

    def __init__(self) -> None:
        """No calibration pending yet."""
        self._pending: tuple[ChipConfig, dict[str, Any]] | None = None
        self._report = ""
        self._expire: CALLBACK_TYPE | None = None

    @property
    def _entry_data(self) -> Mapping[str, Any]:
        """The entry's data as the settings read it (a circuits chip's ``channels`` from its subentries)."""
        return circuit_inputs(self.config_entry)[0]

    @property
    def _entry_options(self) -> Mapping[str, Any]:
        """The entry's options as the settings read them (each circuit's from its subentry, moved back at setup)."""
        return circuit_inputs(self.config_entry)[1]

    def _names(self, wiring: Wiring) -> dict[str, str]:
        """Each input's one name in forms and results (labels.input_names): "Heat pump (CT4)", "L1 (CT1)"."""
        return labels.input_names(wiring, self._entry_data, self._entry_options)

    def _coordinator(self) -> Atm90e32Coordinator | None:
        """The entry's coordinator while it is loaded (a calibration needs the running chip)."""
        return self.config_entry.runtime_data if self.config_entry.state is ConfigEntryState.LOADED else None

    async def _async_try(
        self, what: str, coordinator: Atm90e32Coordinator, job: TrialJob
    ) -> tuple[dict[str, str], CalibrationError | None]:
        """Run ``job``; returns the form errors and the calibration error, if any (``what`` names it in the log).

        A trial that succeeded waits for confirmation, taken back after :data:`CALIBRATION_CONFIRM_TIMEOUT_S`.
        """
        try:
            previous, options, report = await job(coordinator)
        except CalibrationError as err:
            return {err.field: err.reason}, err
        except Atm90e32Error as err:
            return {"base": translation_key(err)}, None
        except Exception:
            _LOGGER.exception("Unexpected error in the %s of the ATM90E32AS", what)
            return {"base": UNKNOWN}, None
        self._pending = (previous, options)
        self._report = report
        self._expire = async_call_later(self.hass, CALIBRATION_CONFIRM_TIMEOUT_S, self._async_expire)
        return {}, None

    def _async_confirm(self, step_id: str, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        """Show the readings before and after the trial; store its options when confirmed."""
        assert self._pending is not None
        if user_input is None:
            return self.async_show_form(
                step_id=step_id,
                description_placeholders={"report": self._report, "minutes": str(CALIBRATION_CONFIRM_TIMEOUT_S // 60)},
            )
        _, options = self._pending
        self._pending = None
        self._cancel_expiry()
        return self.async_create_entry(data=options)

    async def async_step_calibrate(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Take reference readings, compute, write and read back new gains (AN p.21-24)."""
        if (coordinator := self._coordinator()) is None:
            return self.async_abort(reason="not_loaded")
        wiring = coordinator.settings.wiring
        dual = self._voltage_transformers(wiring) == VT_DUAL
        errors: dict[str, str] = {}
        names = self._names(wiring)
        placeholders = {
            "gain": "",
            "readings": _readings(wiring, coordinator.data, names, self.hass.config.language),
            **names,
            **labels.voltage_names(wiring),
        }
        if user_input is not None and not any(value is not None for value in user_input.values()):
            errors["base"] = "no_reference"
        elif user_input is not None:
            job = partial(self._async_gains, references=_references(wiring, user_input), dual=dual)
            errors, err = await self._async_try("gain calibration", coordinator, job)
            if not errors:
                return await self.async_step_calibrate_result()
            if err is not None and err.gain is not None:
                placeholders["gain"] = str(err.gain)
        return self.async_show_form(
            step_id="calibrate",
            data_schema=self.add_suggested_values_to_schema(calibrate_schema(wiring, dual), user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_gains(
        self, coordinator: Atm90e32Coordinator, *, references: References, dual: bool
    ) -> tuple[ChipConfig, dict[str, Any], str]:
        """Sample, compute the gains, write them and sample again (one driver call, :meth:`Meter.calibrate_gains`).

        The chip keeps the new gains while the person decides; the options to keep are
        the gains written, every one of them "custom".
        Raises CalibrationError (nothing written) and the driver's errors (the old gains restored).
        """
        settings = coordinator.settings
        trial = await coordinator.async_meter_job(
            partial(
                Meter.calibrate_gains,
                references=references,
                current_scale=settings.current_scale,
                shared_voltage=not dual,
                factors=settings.factors,
            )
        )
        options: dict[str, Any] = {**self._entry_options, CONF_VT_PRESET: PRESET_CUSTOM}
        for channel in settings.wiring.channels:
            options[channel.voltage_gain_option] = trial.config.voltage_gains[channel.phase]
            options[channel.ct_preset_option] = PRESET_CUSTOM
            options[channel.current_gain_option] = trial.config.current_gains[channel.phase]
        names, language = self._names(settings.wiring), self.hass.config.language
        scaling = (settings.current_scale, settings.factors)
        report = _report(settings.wiring, trial.before, trial.after, scaling=scaling, names=names, language=language)
        return trial.previous, options, report

    def _voltage_transformers(self, wiring: Wiring) -> str:
        return str({**default_options(wiring), **self._entry_options}[CONF_VOLTAGE_TRANSFORMERS])

    async def async_step_calibrate_result(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the readings before and after; store the new gains when confirmed."""
        return self._async_confirm("calibrate_result", user_input)

    @callback
    def _async_expire(self, _now: Any) -> None:
        """Nobody kept or dismissed the calibration: end the flow, which takes it back (async_remove)."""
        self._expire = None
        self.hass.config_entries.options.async_abort(self.flow_id)

    def _cancel_expiry(self) -> None:
        if self._expire is not None:
            self._expire()
            self._expire = None

    @callback
    def async_remove(self) -> None:
        """A calibration the person did not confirm is taken back out of the chip."""
        self._cancel_expiry()
        if self._pending is not None and (coordinator := self._coordinator()) is not None:
            previous, _ = self._pending
            self._pending = None
            self.hass.async_create_task(coordinator.async_meter_job(partial(Meter.revert, previous=previous)))

    # --- offsets and phase compensation (issue 14; the work is in compensation.py) ---------

    async def async_step_offset_calibration(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """No-load step (AN p.23): voltage on, no current; Ioffset, Poffset and Qoffset measured, written, read back.

        Refused (nothing written, the previous offsets back in the chip) when a channel
        reads more current or power than an offset can be.
        """
        if (coordinator := self._coordinator()) is None:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        names, language = self._names(coordinator.settings.wiring), self.hass.config.language
        placeholders = compensation.error_placeholders(names, language)
        if user_input is not None:
            errors, err = await self._async_try("offset calibration", coordinator, self._async_offsets)
            if not errors:
                return await self.async_step_compensation_result()
            if err is not None:
                errors = {"base": err.reason}  # the form has no field per channel: the placeholders name it
                placeholders = compensation.error_placeholders(names, language, err)
        return self.async_show_form(
            step_id="offset_calibration",
            data_schema=vol.Schema({}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_offsets(self, coordinator: Atm90e32Coordinator) -> tuple[ChipConfig, dict[str, Any], str]:
        """Clear the offsets, read with no load, compute, write, read back (one :meth:`Meter.trial`).

        Raises CalibrationError and the driver's errors (the old configuration back in the chip either way).
        """
        wiring = coordinator.settings.wiring
        values: dict[str, int] = {}
        compensated = self._compensator()

        def compute(config: ChipConfig, reads: dict[Phase, NoLoadReads]) -> ChipConfig:
            values.update(compensation.offsets_from_reads(wiring, reads))
            return compensated(config, values)

        names, language = self._names(wiring), self.hass.config.language
        trial = await coordinator.async_meter_job(
            lambda meter: meter.trial(meter.read_no_load, compute, prepare=compensation.zeroed_offsets)
        )
        before, after = trial.before, trial.after

        def n(value: float, spec: str) -> str:
            return labels.number(language, value, spec)

        lines = [
            f"{names[c.key]}: {n(before[c.phase].current, '.3f')} A → {n(after[c.phase].current, '.3f')} A, "
            f"{n(before[c.phase].active_power, '+.2f')} W → {n(after[c.phase].active_power, '+.2f')} W, "
            f"{n(before[c.phase].reactive_power, '+.2f')} var → {n(after[c.phase].reactive_power, '+.2f')} var"
            for c in wiring.channels
        ]
        return trial.previous, self._compensation_options(values), "\n".join(lines)

    async def async_step_phase_calibration(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """PhiA-C per channel: from a reference meter's power factor at a reactive load, or from the CT presets."""
        if (coordinator := self._coordinator()) is None:
            return self.async_abort(reason="not_loaded")
        wiring = coordinator.settings.wiring
        errors: dict[str, str] = {}
        names, language = self._names(wiring), self.hass.config.language
        placeholders = {**compensation.error_placeholders(names, language), **names}
        if user_input is not None:
            references = {c.key: user_input.get(f"reference_pf_{c.key}") for c in wiring.channels}
            job = partial(self._async_phase, references=references)
            errors, err = await self._async_try("phase calibration", coordinator, job)
            if not errors:
                return await self.async_step_compensation_result()
            if err is not None:
                placeholders = {**compensation.error_placeholders(names, language, err), **names}
        schema = vol.Schema({vol.Optional(f"reference_pf_{c.key}"): REFERENCE_PF for c in wiring.channels})
        return self.async_show_form(
            step_id="phase_calibration",
            data_schema=self.add_suggested_values_to_schema(schema, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_phase(
        self, coordinator: Atm90e32Coordinator, *, references: dict[str, float | None]
    ) -> tuple[ChipConfig, dict[str, Any], str]:
        """Read P and Q, compute PhiA-C, write and read back (one :meth:`Meter.trial`); the report: PF before/after.

        Raises CalibrationError (nothing written) and the driver's errors (the old configuration restored).
        """
        wiring = coordinator.settings.wiring
        options = dict(self._entry_options)
        values: dict[str, int] = {}
        compensated = self._compensator()

        def compute(config: ChipConfig, powers: dict[Phase, tuple[float, float]]) -> ChipConfig:
            values.update(compensation.phase_from_references(config, options, powers, references))
            return compensated(config, values)

        trial = await coordinator.async_meter_job(lambda meter: meter.trial(meter.read_powers, compute))
        before, after = trial.before, trial.after
        kept = self._compensation_options(values)
        names, language = self._names(wiring), self.hass.config.language
        pf_before = {c.key: labels.number(language, _pf(*before[c.phase]), ".3f") for c in wiring.channels}
        pf_after = {c.key: labels.number(language, _pf(*after[c.phase]), ".3f") for c in wiring.channels}
        report = (
            "\n".join(f"{names[c.key]}: PF {pf_before[c.key]} → {pf_after[c.key]}" for c in wiring.channels)
            + "\n\n"
            + compensation.describe(wiring, kept, trial.previous.line_frequency, names, language)
        )
        return trial.previous, kept, report

    def _compensator(self) -> Callable[[ChipConfig, Mapping[str, int]], ChipConfig]:
        """A configuration with offsets or phase compensation values (entry options) as the entry would give it.

        The entry's options are taken now, in the event loop: the function runs in the executor.
        """
        options = {**default_options(entry_wiring(self._entry_data)), **self._entry_options}

        def compensated(config: ChipConfig, values: Mapping[str, int]) -> ChipConfig:
            return apply_compensation(config, {**options, **values}, config.power_quality.nominal_voltage)

        return compensated

    def _compensation_options(self, new_values: Mapping[str, int]) -> dict[str, Any]:
        """The entry options with ``new_values``, the previous offsets and phase compensation kept for undo."""
        options = dict(self._entry_options)
        wiring = entry_wiring(self._entry_data)
        previous = compensation.compensation_options(
            wiring, options, (*compensation.OFFSET_KINDS, compensation.PHASE_KIND)
        )
        return {**options, **new_values, compensation.CONF_COMPENSATION_UNDO: previous}

    async def async_step_compensation_result(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the offset or phase step's readings before and after; store the values when confirmed."""
        return self._async_confirm("compensation_result", user_input)

    async def async_step_undo_compensation(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Put back the offsets and phase compensation from before the last offset or phase step (saving reloads)."""
        options = self._entry_options
        undo = options.get(compensation.CONF_COMPENSATION_UNDO)
        if not undo:
            return self.async_abort(reason="nothing_to_undo")
        wiring = entry_wiring(self._entry_data)
        frequency = int(self._entry_data.get(CONF_LINE_FREQUENCY, DEFAULT_LINE_FREQUENCY))
        if user_input is None:
            names, language = self._names(wiring), self.hass.config.language
            return self.async_show_form(
                step_id="undo_compensation",
                description_placeholders={
                    "present": compensation.describe(wiring, options, frequency, names, language),
                    "previous": compensation.describe(wiring, undo, frequency, names, language),
                },
            )
        kinds = (*compensation.OFFSET_KINDS, compensation.PHASE_KIND)
        present = compensation.compensation_options(wiring, options, kinds)
        return self.async_create_entry(data={**options, **undo, compensation.CONF_COMPENSATION_UNDO: present})


def _pf(active: float, reactive: float) -> float:
    """The power factor of ``active`` W and ``reactive`` var (0 with neither)."""
    apparent = (active * active + reactive * reactive) ** 0.5
    return abs(active) / apparent if apparent else 0.0


REFERENCE_PF = NumberBox(minimum=0.01, maximum=REFERENCE_PF_MAX, step=0.001)
"""A reference power factor, 0.01..0.9 (driver.calibration.reference_phase refuses the rest, on the field)."""


REFERENCE = NumberBox(minimum=0)
"""A reference reading, V, A or W; one not above 0 the driver refuses (``reference_not_positive``, on the field)."""


def calibrate_schema(wiring: Wiring, dual: bool) -> vol.Schema:
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


def _readings(wiring: Wiring, snapshot: MeterSnapshot, names: Mapping[str, str], language: str) -> str:
    """What the sensors show now, per input (``names``, labels.input_names), to compare with the reference meter.

    ``snapshot`` is the coordinator's last (scaled) one: a loaded entry always has one;
    numbers in ``language``'s decimal separator.
    """
    parts = []
    for channel in wiring.channels:
        r = snapshot.phases.get(channel.phase)
        if r is not None:
            volts, amps = labels.number(language, r.voltage, ".2f"), labels.number(language, r.current, ".3f")
            watts = labels.number(language, r.active_power, ".1f")
            parts.append(f"{names[channel.key]} {volts} V, {amps} A, {watts} W")
    return "; ".join(parts)


def _report(
    wiring: Wiring,
    before: Mapping[Phase, CalibrationSample],
    after: Mapping[Phase, CalibrationSample],
    *,
    scaling: tuple[int, Mapping[str, int]],
    names: Mapping[str, str],
    language: str,
) -> str:
    """Before and after per input (``names``), as the sensors show them, in ``language``'s decimal separator.

    ``scaling``: the current scale and the per-channel voltage factors: current x scale,
    voltage x factor, power x both.
    """
    scale, factors = scaling

    def n(value: float, spec: str) -> str:
        return labels.number(language, value, spec)

    lines = []
    for channel in wiring.channels:
        b, a = before[channel.phase], after[channel.phase]
        volts = factors.get(channel.key, 1)
        watts = scale * volts
        lines.append(
            f"{names[channel.key]}: {n(b.voltage * volts, '.2f')} V → {n(a.voltage * volts, '.2f')} V, "
            f"{n(b.current * scale, '.3f')} A → {n(a.current * scale, '.3f')} A, "
            f"{n(abs(b.active_power) * watts, '.1f')} W → {n(abs(a.active_power) * watts, '.1f')} W"
        )
    return "\n".join(lines)
