"""The French, German and Spanish translations say everything the English one says.

The English file (translations/en.json) is the source: every key path is read from it,
so a string added there without its translations fails here. For each language:

- the file is valid JSON whose values are all strings or objects;
- it has exactly the key paths of en.json, none missing and none extra;
- each string has exactly the ``{placeholders}`` of its English string, its inline code
  (```...```) verbatim, and as many paragraph breaks;
- each string passes the value rules hassfest applies to en.json and strings.json
  (script/hassfest/translations.py, translation_value_validator): not empty, no HTML, no
  leading or trailing whitespace, no placeholder in single quotes (``'{name}'``), no
  ``[%key:...%]`` reference combined with other text;
- no apostrophe stands right before a brace: the frontend formats strings as ICU
  messages, where ``'{`` starts quoted text and the placeholder would show unfilled
  (French elisions such as ``l'{x}`` are the risk).

And Home Assistant really uses them: with its language set to German, French or Spanish
the entities are named in it, and (Home Assistant's rule for languages in the Latin
alphabet, ``NATIVE_ENTITY_IDS``) new entity ids are made from those names too; the six
energy names differ within the Energy dashboard legend's 30 characters in each language.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.util import slugify
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32

from .helpers import setup_entry, state

TRANSLATIONS = Path(__file__).resolve().parent.parent / "custom_components" / "atm90e32" / "translations"
LANGUAGES = ("fr", "de", "es")

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
INLINE_CODE = re.compile(r"`[^`]*`")
# script/hassfest/translations.py (RE_PLACEHOLDER_IN_SINGLE_QUOTES, RE_COMBINED_REFERENCE) and
# homeassistant/helpers/config_validation.py (string_with_no_html)
HTML = re.compile(r"<[a-z].*?>", re.IGNORECASE)
SINGLE_QUOTED_PLACEHOLDER = re.compile(r"'{\w+}'")
COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
ICU_QUOTE = re.compile(r"'[{}]")

Path_ = tuple[str, ...]


def load(language: str) -> Any:
    return json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))


def leaves(tree: Any, path: Path_ = ()) -> dict[Path_, Any]:
    """Every non-object value of a translation tree by its key path."""
    if not isinstance(tree, dict):
        return {path: tree}
    found: dict[Path_, Any] = {}
    for key, value in tree.items():
        found.update(leaves(value, (*path, key)))
    return found


def dotted(paths: set[Path_]) -> list[str]:
    return sorted(".".join(p) for p in paths)


EN = leaves(load("en"))


def test_english_is_the_source() -> None:
    """The key list the other tests check against is read from en.json, and is not trivial."""
    assert len(EN) > 200
    assert all(isinstance(v, str) for v in EN.values())
    assert ("entity", "event", "power_quality", "state_attributes", "event_type", "state", "sag") in EN


@pytest.mark.parametrize("language", LANGUAGES)
def test_json_loads(language: str) -> None:
    tree = load(language)
    assert isinstance(tree, dict)
    not_strings = {p for p, v in leaves(tree).items() if not isinstance(v, str)}
    assert not not_strings, f"{language}.json: values that are not strings: {dotted(not_strings)}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_keys_as_english(language: str) -> None:
    paths = set(leaves(load(language)))
    missing = set(EN) - paths
    extra = paths - set(EN)
    assert {"missing": dotted(missing), "extra": dotted(extra)} == {"missing": [], "extra": []}, f"{language}.json"


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_placeholders_as_english(language: str) -> None:
    translated = leaves(load(language))
    wrong = {
        ".".join(path): (sorted(set(PLACEHOLDER.findall(text))), sorted(set(PLACEHOLDER.findall(translated[path]))))
        for path, text in EN.items()
        if path in translated and set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(translated[path]))
    }
    assert not wrong, f"{language}.json placeholders differ (English, {language}): {wrong}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_markdown_kept(language: str) -> None:
    translated = leaves(load(language))
    wrong = [
        ".".join(path)
        for path, text in EN.items()
        if path in translated
        and (
            sorted(INLINE_CODE.findall(text)) != sorted(INLINE_CODE.findall(translated[path]))
            or text.count("\n\n") != translated[path].count("\n\n")
        )
    ]
    assert not wrong, f"{language}.json changes inline code or paragraphs in: {wrong}"


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_hassfest_value_rules(language: str) -> None:
    problems: dict[str, str] = {}
    for path, text in leaves(load(language)).items():
        key = ".".join(path)
        if not text.strip():
            problems[key] = "empty"
            continue
        if HTML.search(text):
            problems[key] = "HTML"
        if text != text.strip():
            problems[key] = "leading or trailing whitespace"
        if SINGLE_QUOTED_PLACEHOLDER.search(text):
            problems[key] = "placeholder in single quotes"
        if COMBINED_REFERENCE.search(text):
            problems[key] = "combined [%key:...%] reference"
        if ICU_QUOTE.search(text):
            problems[key] = "apostrophe right before a brace (ICU quoting)"
    assert not problems, f"{language}.json: {problems}"


@pytest.mark.parametrize(
    ("language", "import_name", "voltage_name"),
    [
        ("de", "L1 Bezug", "Spannung L2"),
        ("fr", "L1 importation d'énergie", "Tension L2"),
        ("es", "L1 importación de energía", "Tensión L2"),
    ],
)
async def test_home_assistant_names_entities_in_its_language(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    language: str,
    import_name: str,
    voltage_name: str,
) -> None:
    hass.config.language = language
    await setup_entry(hass, config_entry)
    energy = state(hass, config_entry, "l1_energy_import")
    voltage = state(hass, config_entry, "l2_voltage")
    assert energy.name == f"ATM90E32AS (simulated) {import_name}"
    assert voltage.name == f"ATM90E32AS (simulated) {voltage_name}"
    assert energy.entity_id == f"sensor.{slugify(energy.name)}"
    assert voltage.entity_id == f"sensor.{slugify(voltage.name)}"


@pytest.mark.parametrize("language", LANGUAGES)
async def test_energy_names_differ_early_in_every_language(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, language: str
) -> None:
    """As test_sensor's English test: the Energy dashboard's legend cuts a name to about 30 characters."""
    hass.config.language = language
    await setup_entry(hass, config_entry)
    keys = [f"{name}_energy_{direction}" for name in ("l1", "l2", "total") for direction in ("import", "export")]
    legend = [state(hass, config_entry, key).name[:30] for key in keys]
    assert len(set(legend)) == len(legend), legend


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_a_circuit_names_its_energy_as_the_service_does(language: str) -> None:
    """Issue 26 item 21: one naming rule: a circuit's energy is named as the service's (or a leg's without the leg).

    German names the service's total for the grid (Netzbezug/Netzeinspeisung); a circuit's is the
    leg's word (Bezug/Einspeisung).
    """
    sensors = load(language)["entity"]["sensor"]
    for direction in ("import", "export"):
        circuit = sensors[f"circuit_energy_{direction}"]["name"]
        service = sensors[f"total_energy_{direction}"]["name"]
        leg = sensors[f"leg_energy_{direction}"]["name"].replace("{leg}", "").strip()
        assert circuit in (service, leg[:1].upper() + leg[1:]), (circuit, service, leg)
