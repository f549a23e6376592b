"""Issue 26 items 13, 16 and 20: one name for each input, the meter named in its dialogs, every word translated.

The strings are read as a person sees them: the translation Home Assistant loads for its
language, filled with the step's placeholders the way the frontend fills them (every
placeholder of a label, a title or a description must be given, or the frontend shows none).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.bus import simulated_device
from custom_components.atm90e32.compensation import CONF_COMPENSATION_UNDO
from custom_components.atm90e32.const import CONF_BOARD, CONF_DEVICE, CONF_VOLTAGE_SYSTEM, DOMAIN, SIMULATED
from custom_components.atm90e32.driver.channels import CIRCUITS, CIRCUITS_KEY, THREE_PHASE_DELTA
from custom_components.atm90e32.driver.emulator import CircuitLoad, ConstantLoad, ThreePhaseLoad, TraceLoad
from custom_components.atm90e32.labels import input_names, number, voltage_names
from custom_components.atm90e32.settings import default_options

from .conftest import ENTRY_DATA
from .emulation import FaultyEmulator, ManualClock
from .helpers import setup_entry
from .test_compensation import VOLTS, real_board
from .test_flow_failures import NO_SPI_NODES, circuits_entry, device_step
from .test_options_wirings import open_settings, three_phase_entry
from .test_power_quality import PQ_INPUT, open_power_quality
from .test_wirings import Bus, add_three_phase, bus, defaults
from .test_wirings import three_phase_entry as wired_three_phase_entry

__all__ = ["bus", "real_board"]  # the fixtures, used by name

SECOND_CHIP_NAMES = {"name_ct1": "Oven", "name_ct2": "Fridge", "name_ct3": "Kettle"}


async def rendered(hass: HomeAssistant, category: str, path: str, placeholders: Any) -> str:
    """The string at ``component.atm90e32.<category>.<path>`` in Home Assistant's language, filled."""
    translations = await async_get_translations(hass, hass.config.language, category, {DOMAIN})
    text = translations[f"component.{DOMAIN}.{category}.{path}"]
    for name, value in (placeholders or {}).items():
        text = text.replace(f"{{{name}}}", str(value))
    assert "{" not in text, f"{path}: a placeholder left unfilled: {text}"
    return text


async def options_step(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> ConfigFlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": step})


@pytest.mark.parametrize(
    ("language", "current_label", "comma"),
    [("en", "Reference current, Oven (CT4)", "."), ("fr", "Courant de référence, Oven (CT4)", ",")],
)
async def test_an_input_has_one_name_in_every_calibration_form(
    hass: HomeAssistant, mock_transport: FaultyEmulator, language: str, current_label: str, comma: str
) -> None:
    """Item 13: the second chip's first circuit is "Oven (CT4)" in calibrate, phase, undo and the readings."""
    hass.config.language = language
    mock_transport.load = CircuitLoad()
    undo = {"current_offset_ct1": 0, "power_offset_ct1": 0}
    options = {**default_options(CIRCUITS), **SECOND_CHIP_NAMES, CONF_COMPENSATION_UNDO: undo}
    entry = circuits_entry(SIMULATED, "Board 1", 2, options)
    await setup_entry(hass, entry)

    result = await options_step(hass, entry, "calibrate")
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert await rendered(hass, "options", "step.calibrate.data.reference_current_ct1", placeholders) == current_label
    power = await rendered(hass, "options", "step.calibrate.data.reference_power_ct3", placeholders)
    assert "Kettle (CT6)" in power
    assert re.search(rf"Oven \(CT4\) \d+\{comma}\d\d V, \d+\{comma}\d\d\d A", placeholders["readings"])
    assert entry.title in await rendered(hass, "options", "step.calibrate.title", placeholders)
    hass.config_entries.options.async_abort(result["flow_id"])

    result = await options_step(hass, entry, "phase_calibration")
    placeholders = result["description_placeholders"]
    label = await rendered(hass, "options", "step.phase_calibration.data.reference_pf_ct2", placeholders)
    assert label.endswith("Fridge (CT5)")
    hass.config_entries.options.async_abort(result["flow_id"])

    result = await options_step(hass, entry, "undo_compensation")
    assert result["description_placeholders"] is not None
    present = result["description_placeholders"]["present"]
    assert [line.split(":")[0] for line in present.splitlines()] == ["Oven (CT4)", "Fridge (CT5)", "Kettle (CT6)"]
    hass.config_entries.options.async_abort(result["flow_id"])


@pytest.mark.parametrize("language", ["en", "fr"])
async def test_a_delta_service_is_measured_line_to_line_and_its_l3_is_ct2(hass: HomeAssistant, language: str) -> None:
    """Item 13: no "to neutral" on a delta meter; L3's CT is the board's CT2."""
    hass.config.language = language
    placeholders = {**input_names(THREE_PHASE_DELTA, {}, {}), **voltage_names(THREE_PHASE_DELTA)}
    assert placeholders == {"l1": "L1 (CT1)", "l3": "L3 (CT2)", "voltage_l1": "L1-L2", "voltage_l3": "L3-L2"}
    voltage = await rendered(hass, "options", "step.calibrate.data.reference_voltage_l1", placeholders)
    assert voltage.endswith("L1-L2")
    assert "neutr" not in voltage.lower()
    current = await rendered(hass, "options", "step.calibrate.data.reference_current_l3", placeholders)
    assert current.endswith("L3 (CT2)")


async def test_each_options_dialog_names_its_meter(hass: HomeAssistant) -> None:
    """Item 16: two meters' options say which one is open: the menu's description, each form's title."""
    kitchen = MockConfigEntry(domain=DOMAIN, version=2, title="Kitchen", data=ENTRY_DATA, unique_id="a")
    garage_data = {**ENTRY_DATA, CONF_DEVICE: "b"}
    garage = MockConfigEntry(domain=DOMAIN, version=2, title="Garage", data=garage_data, unique_id="b")
    for entry in (kitchen, garage):
        entry.add_to_hass(hass)
        result = await hass.config_entries.options.async_init(entry.entry_id)
        description = await rendered(hass, "options", "step.init.description", result["description_placeholders"])
        assert entry.title in description
        for step in ("demand", "update_interval", "power_quality"):
            result = await hass.config_entries.options.async_init(entry.entry_id)
            result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": step})
            title = await rendered(hass, "options", f"step.{step}.title", result["description_placeholders"])
            assert title.startswith(f"{entry.title}:"), title
            hass.config_entries.options.async_abort(result["flow_id"])


@pytest.mark.parametrize(("language", "chip_select"), [("en", "Chip select"), ("fr", "Sélection de puce")])
async def test_reconfigure_says_chip_select_as_the_add_flow_does(
    hass: HomeAssistant, config_entry: MockConfigEntry, language: str, chip_select: str
) -> None:
    """Item 16: one term for the chip select; the reconfigure dialog names its meter."""
    hass.config.language = language
    config_entry.add_to_hass(hass)
    with NO_SPI_NODES:
        result = await config_entry.start_reconfigure_flow(hass)
        added = await device_step(hass, "split_phase_2ct")
    placeholders = result["description_placeholders"]
    assert await rendered(hass, "config", "step.reconfigure.data.device", placeholders) == chip_select
    assert await rendered(hass, "config", "step.device.data.device", added["description_placeholders"]) == chip_select
    assert config_entry.title in await rendered(hass, "config", "step.reconfigure.title", placeholders)


async def test_the_polled_thresholds_are_said_in_french(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Item 20: no raw key and no English in the French refusal; the limit has a decimal comma."""
    hass.config.language = "fr"
    result = await open_power_quality(hass, init_integration)
    result = await hass.config_entries.options.async_configure(result["flow_id"], PQ_INPUT)
    assert result["errors"] == {"base": "thresholds_polled"}
    text = await rendered(hass, "options", "error.thresholds_polled", result["description_placeholders"])
    assert "surtension temporaire au plus 110,9 V" in text
    assert not re.search(r"\b(swell|sag|over_current|phase_loss|at most)\b", text)


async def test_the_device_step_speaks_french(hass: HomeAssistant) -> None:
    """Item 20: the simulated chip selects and a new board's default name are in Home Assistant's language."""
    hass.config.language = "fr"
    circuits_entry(simulated_device(0), "Carte 1", 1).add_to_hass(hass)
    circuits_entry(simulated_device(1), "Carte 1", 2).add_to_hass(hass)
    with NO_SPI_NODES:
        result = await device_step(hass, CIRCUITS_KEY)
    schema = result["data_schema"]
    assert schema is not None
    device = next(key for key in schema.schema if str(key) == CONF_DEVICE)
    labels = [option["label"] for option in schema.schema[device].config["options"]]
    assert labels == ["Compteur simulé, sélection de puce 2"]
    assert defaults(result)[CONF_BOARD] == "Carte 2"


def test_numbers_take_the_languages_decimal_separator() -> None:
    """Item 20: a decimal comma in French, German and Spanish (also "fr-CA"), a dot in English and the rest."""
    assert [number(lang, 122.534, ".2f") for lang in ("en", "fr", "de", "es", "fr-CA", "it")] == [
        "122.53",
        "122,53",
        "122,53",
        "122,53",
        "122,53",
        "122.53",
    ]


async def test_a_split_phase_service_refused_as_three_phase_is_reported_in_french(
    hass: HomeAssistant, bus: Bus
) -> None:
    """Items 13, 20: the voltages the chip read are named as the phases ("L2-N", not chip phase "B"), with commas."""
    hass.config.language = "fr"
    bus.loads[SIMULATED] = TraceLoad()  # legs on A and C, B unused: the US split-phase board
    result = await add_three_phase(hass)
    assert result["errors"] == {"base": "wired_as_split_phase"}
    text = await rendered(hass, "config", "error.wired_as_split_phase", result["description_placeholders"])
    assert "L2-N 0,0 V" in text
    assert re.search(r"L1-N \d+,\d V", text)


async def test_a_refused_nominal_system_is_measured_in_french(
    hass: HomeAssistant, mock_transport: FaultyEmulator
) -> None:
    """Item 20: the measured voltage in the refusal has the language's decimal comma."""
    hass.config.language = "fr"
    mock_transport.load = ThreePhaseLoad(watts=(1000.0, 1000.0, 1000.0), volts=230.0)
    entry = three_phase_entry()
    await setup_entry(hass, entry)
    result = await open_settings(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults(result), CONF_VOLTAGE_SYSTEM: "120_208"}
    )
    assert result["errors"] == {CONF_VOLTAGE_SYSTEM: "system_not_measured"}
    text = await rendered(hass, "options", "error.system_not_measured", result["description_placeholders"])
    assert re.search(r"\b2[23]\d,\d V\b", text), text


async def test_a_repair_states_its_angles_with_the_languages_decimal_comma(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    """Item 20: a repair issue's numbers are written for Home Assistant's language (French: 240,0)."""
    hass.config.language = "fr"
    await wired_three_phase_entry(hass, bus, clock, ThreePhaseLoad(reversed_sequence=True))
    issue = next(i for i in ir.async_get(hass).issues.values() if i.translation_key == "phase_sequence_reversed")
    assert issue.translation_placeholders is not None
    angle = issue.translation_placeholders["angle_l2"]
    assert "," in angle
    assert float(angle.replace(",", ".")) == pytest.approx(240.0, abs=0.2)


async def test_the_offset_and_phase_refusals_are_worded_in_the_language(
    hass: HomeAssistant, config_entry: MockConfigEntry, real_board: FaultyEmulator
) -> None:
    """Items 13, 20: the refusal names the input ("L2 (CT2)") and its numbers, in French; no English from the driver."""
    hass.config.language = "fr"
    real_board.load = ConstantLoad(watts=(0.0, 12.0), volts=VOLTS, power_factor=1.0)  # a 12 W lamp on L2
    await setup_entry(hass, config_entry)
    result = await options_step(hass, config_entry, "offset_calibration")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "current_flowing"}
    text = await rendered(hass, "options", "error.current_flowing", result["description_placeholders"])
    assert text.startswith("L2 (CT2) ")
    assert re.search(r"\(0,\d{3} A, \+1\d,\d\d W ; au plus 0,\d{3} A", text), text
    assert "flow with no load" not in text
    hass.config_entries.options.async_abort(result["flow_id"])

    real_board.load = ConstantLoad(watts=(600.0, 600.0), volts=VOLTS, power_factor=0.5)
    result = await options_step(hass, config_entry, "phase_calibration")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"reference_pf_l1": 0.45})
    assert result["errors"] == {"reference_pf_l1": "phase_out_of_range"}
    text = await rendered(hass, "options", "error.phase_out_of_range", result["description_placeholders"])
    assert re.search(r"\(\+\d,\d\d°, au plus \d,\d\d°\)", text), text
    assert "degrees" not in text
    assert "cycles" not in text
