"""The hobbyist documentation (docs/) says what the integration really does.

- docs/entities.md lists exactly the sensors the integration creates, with their
  names (from translations/en.json), units, default enabled state, category and
  display precision;
- every message docs/troubleshooting.md quotes (a ``>`` block) is one the integration
  really shows: a string of translations/en.json or a log message of its code, with
  only the placeholders filled in;
- every relative link in the README and docs/ leads to a file and heading that exist.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from homeassistant.const import EntityCategory

from custom_components.atm90e32.driver.channels import SPLIT_PHASE
from custom_components.atm90e32.sensor import sensors_of

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
INTEGRATION = REPO / "custom_components" / "atm90e32"
EN = json.loads((INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8"))


def created_sensors() -> dict[str, dict[str, object]]:
    """Every sensor of a split-phase entry, by its English name, as sensor.py describes it."""
    descriptions = [d for d, _channel in sensors_of(SPLIT_PHASE)]
    sensors: dict[str, dict[str, object]] = {}
    for d in descriptions:
        assert d.translation_key is not None
        name = EN["entity"]["sensor"][d.translation_key]["name"].format(**(d.translation_placeholders or {}))
        sensors[name] = {
            "unit": d.native_unit_of_measurement or "(none)",
            "enabled": d.entity_registry_enabled_default,
            "diagnostic": d.entity_category is EntityCategory.DIAGNOSTIC,
            "precision": d.suggested_display_precision,
        }
    return sensors


def documented_sensors() -> dict[str, dict[str, object]]:
    """The rows of the first table under "## Sensors" in docs/entities.md, one entry per name."""
    text = (DOCS / "entities.md").read_text(encoding="utf-8")
    table = text.split("## Sensors", 1)[1].split("\n\n", 2)[1]
    rows = [line for line in table.splitlines() if line.startswith("|")][2:]  # header and rule
    sensors: dict[str, dict[str, object]] = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        names, unit, enabled, *_, shown = cells
        decimals = re.search(r"(\d+) decimals?", shown)
        for name in names.split(", "):
            assert name not in sensors, f"{name} is documented twice"
            sensors[name] = {
                "unit": unit,
                "enabled": enabled.startswith("yes"),
                "diagnostic": "diagnostic" in enabled,
                "precision": int(decimals.group(1)) if decimals else None,
            }
    return sensors


def test_entities_page_lists_every_sensor_as_created() -> None:
    created, documented = created_sensors(), documented_sensors()
    assert set(documented) == set(created), (
        sorted(set(created) - set(documented)),
        sorted(set(documented) - set(created)),
    )
    for name, facts in created.items():
        assert documented[name] == facts, name


def message_templates() -> list[str]:
    """Every en.json string, and every log message format of the integration's code."""
    strings: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, str):
            strings.append(node)

    walk(EN)
    for source in INTEGRATION.rglob("*.py"):
        for call in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "_LOGGER"
                and call.args
                and isinstance(call.args[0], ast.Constant)
                and isinstance(call.args[0].value, str)
            ):
                strings.append(call.args[0].value)
    return strings


def template_regex(template: str) -> re.Pattern[str]:
    """``template`` with its {placeholders} and %-formats matching any text, the rest literally."""
    parts = re.split(r"\{\w+\}|%[-.\d]*[sdf]", template)
    return re.compile(".+".join(re.escape(part) for part in parts), re.DOTALL)


def quoted_messages() -> list[str]:
    """The ``>`` blocks of docs/troubleshooting.md, each joined into one line."""
    messages: list[str] = []
    current: list[str] = []
    for line in [*(DOCS / "troubleshooting.md").read_text(encoding="utf-8").splitlines(), ""]:
        if line.startswith("> "):
            current.append(line[2:].strip())
        elif current:
            messages.append(" ".join(current))
            current = []
    return messages


def test_troubleshooting_quotes_only_messages_the_integration_shows() -> None:
    templates = [template_regex(t) for t in message_templates()]
    messages = quoted_messages()
    assert len(messages) >= 10, messages
    for message in messages:
        assert any(t.fullmatch(message) for t in templates), f"not a message of the integration: {message!r}"


def markdown_files() -> list[Path]:
    return [REPO / "README.md", *sorted(DOCS.glob("*.md"))]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {github_anchor(match) for match in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


DOCS_URL = "https://github.com/atm90e32/atm90e32/blob/main/docs/"
"""Where the README links the docs: absolute, as HACS renders it inside Home Assistant (test_store_rules)."""


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: p.name)
def test_relative_links_lead_somewhere(path: Path) -> None:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    for found in links:
        link, base = found, path.parent
        if found.startswith(DOCS_URL):  # the README's absolute links to this repository's docs
            link, base = found.removeprefix(DOCS_URL), DOCS
        elif re.match(r"[a-z]+:", found):
            continue  # other http(s), mailto: not checked here
        target, _, anchor = link.partition("#")
        file = (base / target).resolve() if target else path
        assert file.exists(), f"{path.name}: {link} leads to no file"
        if anchor:
            assert anchor in anchors(file), f"{path.name}: {link} leads to no heading"


def test_readme_links_every_docs_page() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        assert f"]({DOCS_URL}{page.name}" in readme, f"README does not link docs/{page.name}"


RAW_URL = "https://raw.githubusercontent.com/atm90e32/atm90e32/main/"
"""Where the README shows pictures and points Home Assistant's blueprint import (raw files of main)."""


def test_raw_links_to_this_repository_lead_to_files() -> None:
    """Screenshots and blueprint import links (URL-encoded inside my.home-assistant.io links) name files that exist."""
    readme = unquote((REPO / "README.md").read_text(encoding="utf-8"))
    targets = re.findall(re.escape(RAW_URL) + r"([^)\s&]+)", readme)
    assert any(t.startswith("blueprints/") for t in targets), targets
    assert any(t.endswith(".png") for t in targets), targets
    for target in targets:
        assert (REPO / target).is_file(), f"README: {RAW_URL}{target} leads to no file"
    # a picture must be a raw file: github.com/.../blob/... is an HTML page, which no README shows as an image
    for picture in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", readme):
        assert picture.startswith(RAW_URL), f"README shows {picture}: not a raw file of this repository"
    for blueprint in (REPO / "blueprints" / "automation" / "atm90e32").glob("*.yaml"):
        import_link = "https://my.home-assistant.io/redirect/blueprint_import/?blueprint_url=" + quote(
            f"{RAW_URL}blueprints/automation/atm90e32/{blueprint.name}", safe=""
        )
        assert import_link in (REPO / "README.md").read_text(encoding="utf-8"), f"no import link for {blueprint.name}"
