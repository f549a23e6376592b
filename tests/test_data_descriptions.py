"""Every field of every form step says, under it, what to enter: a ``data_description`` in each language.

Home Assistant shows a step's ``data_description`` under the field of the same key; without it
the person at the form has only the label.  Two checks:

- in en.json, fr.json, de.json and es.json, every step (config flow, options flow, and any
  other flow a translation file describes) has a non-empty ``data_description`` for every key
  of its ``data``;
- the forms the flows build (presets, custom gains, circuits, three-phase, calibration, for
  every wiring) show only fields that the matching step labels and describes, so a field
  added to a schema without its texts fails here too;
- every form a person can open, walked through Home Assistant's flow managers for every
  wiring (the config flow's user, device and wiring steps, reconfigure, every options menu
  step, a circuit's subentry), shows only fields labelled and described in every language.
  No field is exempt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
import voluptuous as vol
from homeassistant import config_entries
from homeassistant.config_entries import ConfigFlowResult, SubentryFlowContext
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32 import forms
from custom_components.atm90e32.calibration_flow import calibrate_schema
from custom_components.atm90e32.const import (
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_VT_PRESET,
    CONF_WIRING,
    DEFAULT_VOLTAGE_SYSTEM,
    DOMAIN,
    PRESET_CUSTOM,
    VT_DUAL,
)
from custom_components.atm90e32.driver.channels import (
    CIRCUIT_KEYS,
    CIRCUITS,
    SPLIT_PHASE,
    THREE_PHASE_DELTA,
    THREE_PHASE_WYE,
    Wiring,
)
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32
from custom_components.atm90e32.settings import default_options
from custom_components.atm90e32.wiring_form import (
    circuit_values,
    circuits_chip_schema,
    circuits_schema,
    three_phase_schema,
)

from .conftest import WIRING_CASES
from .helpers import setup_entry
from .test_flow_failures import NO_SPI_NODES
from .test_wirings import defaults

TRANSLATIONS = Path(__file__).resolve().parent.parent / "custom_components" / "atm90e32" / "translations"
LANGUAGES = ("en", "fr", "de", "es")
WIRINGS = (SPLIT_PHASE, CIRCUITS, THREE_PHASE_WYE, THREE_PHASE_DELTA)

Step = tuple[str, ...]


def load(language: str) -> Any:
    return json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))


def steps(tree: Any, path: Step = ()) -> dict[Step, dict[str, Any]]:
    """Every form step of a translation tree (a dict under a ``step`` key) by its key path."""
    found: dict[Step, dict[str, Any]] = {}
    if not isinstance(tree, dict):
        return found
    for key, value in tree.items():
        if isinstance(value, dict):
            if path and path[-1] == "step":
                found[(*path, key)] = value
            found.update(steps(value, (*path, key)))
    return found


def fields(schema: vol.Schema) -> set[str]:
    return {str(marker) for marker in schema.schema}


def all_custom(wiring: Wiring) -> list[str]:
    """Every gain field the custom gains step can show for ``wiring``: a transformer per channel, all custom."""
    options = {**default_options(wiring), CONF_VT_PRESET: PRESET_CUSTOM, CONF_VOLTAGE_TRANSFORMERS: VT_DUAL}
    options.update({channel.ct_preset_option: PRESET_CUSTOM for channel in wiring.channels})
    return forms.custom_gain_fields(wiring, options)


def form_fields() -> dict[str, set[str]]:
    """Step name -> the fields the flows' schema builders put on it, over every wiring."""
    gains = [forms.custom_gains_schema(all_custom(wiring), default_options(wiring)) for wiring in WIRINGS]
    three_phase = {**default_options(THREE_PHASE_WYE), CONF_VOLTAGE_SYSTEM: DEFAULT_VOLTAGE_SYSTEM}
    delta = {CONF_VOLTAGE_SYSTEM: "delta_400"}
    calibrate = [calibrate_schema(wiring, dual) for wiring in WIRINGS for dual in (False, True)]
    return {
        "gains": fields(forms.gains_schema(SPLIT_PHASE, {})),
        "settings": fields(forms.gains_schema(SPLIT_PHASE, {})),
        "custom_gains": set().union(*(fields(schema) for schema in gains)),
        "circuits": fields(circuits_schema(circuit_values({}, CIRCUIT_KEYS, 1))),
        "circuits_chip": fields(circuits_chip_schema(default_options(CIRCUITS))),
        "three_phase": fields(three_phase_schema(THREE_PHASE_WYE, three_phase)),
        "delta": fields(three_phase_schema(THREE_PHASE_DELTA, {**default_options(THREE_PHASE_DELTA), **delta})),
        "calibrate": set().union(*(fields(schema) for schema in calibrate)),
    }


def test_the_steps_are_found() -> None:
    """The walk sees the flows' steps, the big forms among them."""
    found = {path[-1] for path in steps(load("en"))}
    expected = {"user", "device", "gains", "custom_gains", "circuits", "three_phase", "delta", "calibrate", "settings"}
    assert expected <= found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_field_of_every_step_is_described(language: str) -> None:
    missing: dict[str, list[str]] = {}
    for path, step in steps(load(language)).items():
        descriptions = step.get("data_description", {})
        absent = [key for key in step.get("data", {}) if not str(descriptions.get(key, "")).strip()]
        if absent:
            missing[".".join(path)] = absent
    assert not missing, f"{language}.json: fields without a data_description: {missing}"


@pytest.mark.parametrize("section", ["config", "options"])
def test_every_form_field_is_labelled_and_described(section: str) -> None:
    """The schemas the flows build show no field the English step lacks a label or description for."""
    english = load("en")[section]["step"]
    built = form_fields()
    checked = 0
    for name, keys in built.items():
        if name not in english:
            continue
        step = english[name]
        assert keys - set(step["data"]) == set(), f"{section}.step.{name}: fields without a label"
        assert keys - set(step.get("data_description", {})) == set(), f"{section}.step.{name}: undescribed fields"
        checked += 1
    assert checked >= 4, f"{section}: only {checked} steps matched the built forms"


# --- every form a person can open, through the flow managers --------------------------------------


def shown_fields(result: ConfigFlowResult | Any) -> set[str]:
    """The fields of a form result (none for a menu, an abort or a form without a schema)."""
    if result["type"] is not FlowResultType.FORM or result.get("data_schema") is None:
        return set()
    return fields(result["data_schema"])


def undescribed(path: Step, keys: set[str]) -> dict[str, list[str]]:
    """Per language, the ``keys`` the step at ``path`` has no label or no description for."""
    missing: dict[str, list[str]] = {}
    for language in LANGUAGES:
        step: Any = load(language)
        for part in path:
            step = step.get(part, {})
        absent = [
            key
            for key in sorted(keys)
            if not str(step.get("data", {}).get(key, "")).strip()
            or not str(step.get("data_description", {}).get(key, "")).strip()
        ]
        if absent:
            missing[language] = absent
    return missing


@pytest.mark.parametrize("wiring", list(WIRING_CASES))
async def test_every_form_a_person_opens_is_labelled_and_described(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, wiring: str
) -> None:
    shown: dict[Step, set[str]] = {}

    def seen(path: Step, result: Any) -> Any:
        shown.setdefault((*path, "step", result.get("step_id", "")), set()).update(shown_fields(result))
        return result

    flows = hass.config_entries.flow
    with NO_SPI_NODES:
        result = seen(("config",), await flows.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER}))
        result = seen(("config",), await flows.async_configure(result["flow_id"], {CONF_WIRING: wiring}))
        assert result["step_id"] == "device"
        result = seen(("config",), await flows.async_configure(result["flow_id"], defaults(result)))
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] != "device", result.get("errors")
        flows.async_abort(result["flow_id"])
        await setup_entry(hass, config_entry)
        seen(("config",), await config_entry.start_reconfigure_flow(hass))

    options = hass.config_entries.options
    menu = await options.async_init(config_entry.entry_id)
    for step in cast("list[str]", menu["menu_options"]):  # the menu's steps: a list (Container in the types)
        result = await options.async_init(config_entry.entry_id)
        result = seen(("options",), await options.async_configure(result["flow_id"], {"next_step_id": step}))
        if result["type"] is FlowResultType.FORM:
            options.async_abort(result["flow_id"])
    await hass.async_block_till_done()

    for sub in config_entry.subentries.values():
        context = SubentryFlowContext(source=config_entries.SOURCE_RECONFIGURE, subentry_id=sub.subentry_id)
        result = await hass.config_entries.subentries.async_init(
            (config_entry.entry_id, sub.subentry_type), context=context
        )
        seen(("config_subentries", sub.subentry_type), result)
        context = SubentryFlowContext(source=config_entries.SOURCE_USER)
        result = await hass.config_entries.subentries.async_init(
            (config_entry.entry_id, sub.subentry_type), context=context
        )
        seen(("config_subentries", sub.subentry_type), result)
        break

    forms_shown = {path: keys for path, keys in shown.items() if keys}
    assert len(forms_shown) >= 6, sorted(shown)  # the walk reached the forms
    missing = {".".join(path): absent for path, keys in forms_shown.items() if (absent := undescribed(path, keys))}
    assert not missing, f"fields shown without a label or a description: {missing}"
