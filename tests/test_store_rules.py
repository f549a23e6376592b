"""The rules hassfest and the HACS action apply to the files Home Assistant and HACS read.

The GitHub workflows (.github/workflows) run the real validators, which need GitHub and
cannot run here; these tests hold the repository to the same rules on every run of the
suite. docs/store-readiness.md lists each rule, where it is documented, and its status.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import voluptuous as vol
from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION, __version__
from homeassistant.helpers import config_validation as cv
from PIL import Image

from .snapshot_extension import oldest_supported

REPO = Path(__file__).resolve().parent.parent
INTEGRATION = REPO / "custom_components" / "atm90e32"
MANIFEST: dict[str, Any] = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
HACS: dict[str, Any] = json.loads((REPO / "hacs.json").read_text(encoding="utf-8"))
EN: dict[str, Any] = json.loads((INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8"))
ICONS: dict[str, Any] = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))

# hassfest (script/hassfest/translations.py): translation keys are [a-z0-9-_]+, neither
# starting nor ending with - or _, with no doubled separator.
TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")


def _strings(tree: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every leaf of a translation tree, with its dotted path."""
    if isinstance(tree, dict):
        return [leaf for key, value in tree.items() for leaf in _strings(value, f"{path}.{key}" if path else key)]
    return [(path, tree)]


def test_manifest_has_the_keys_hassfest_and_hacs_require_in_hassfests_order() -> None:
    keys = list(MANIFEST)
    # hassfest (manifest.py, sort_manifest): domain, name, then alphabetical order
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    # hassfest for a custom integration: domain, name, documentation, codeowners, version;
    # the HACS action (integration manifest check) also requires issue_tracker
    assert {"domain", "name", "documentation", "codeowners", "version", "issue_tracker"} <= set(keys)
    assert MANIFEST["domain"] == INTEGRATION.name
    assert MANIFEST["iot_class"] in {
        "assumed_state",
        "calculated",
        "cloud_polling",
        "cloud_push",
        "local_polling",
        "local_push",
    }
    assert MANIFEST["integration_type"] in {"device", "entity", "hardware", "helper", "hub", "service", "system"}
    assert MANIFEST["config_flow"] is True
    assert (INTEGRATION / "config_flow.py").is_file()
    assert MANIFEST["codeowners"]
    assert all(re.fullmatch(r"@[\w.-]+(/[\w.-]+)?", owner) for owner in MANIFEST["codeowners"])
    for key in ("documentation", "issue_tracker"):
        assert cv.url(MANIFEST[key]).startswith("https://")


def test_manifest_version_is_the_projects_and_has_a_changelog_entry() -> None:
    version = AwesomeVersion(
        MANIFEST["version"], ensure_strategy=[AwesomeVersionStrategy.SEMVER, AwesomeVersionStrategy.SIMPLEVER]
    )
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert str(version) == project["version"]
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{version}]" in changelog
    assert "## [Unreleased]" in changelog


def test_requirements_are_pinned_as_in_the_test_environment() -> None:
    tested = {
        line.split("==")[0].lower(): line.strip()
        for line in (REPO / "requirements_test.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    for requirement in MANIFEST["requirements"]:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][A-Za-z0-9.+-]*", requirement), requirement
        assert tested[requirement.split("==")[0].lower()] == requirement


def test_hacs_json_has_only_keys_hacs_knows() -> None:
    # the HACS action's hacs.json check: a closed schema, "name" required
    assert set(HACS) <= {
        "content_in_root",
        "country",
        "filename",
        "hacs",
        "hide_default_branch",
        "homeassistant",
        "persistent_directory",
        "render_readme",
        "zip_release",
        "name",
    }
    assert isinstance(HACS["name"], str)
    assert HACS["name"] == MANIFEST["name"]
    assert HACS["render_readme"] is True
    assert AwesomeVersion(HACS["homeassistant"]).valid


def test_this_home_assistant_is_supported_and_the_oldest_is_tested_exactly() -> None:
    """The minimum in hacs.json is what the oldest test run installs, no older and no newer."""
    minimum = AwesomeVersion(HACS["homeassistant"])
    assert AwesomeVersion(__version__) >= minimum
    if oldest_supported() == (MAJOR_VERSION, MINOR_VERSION):
        assert __version__ == HACS["homeassistant"]


@pytest.mark.parametrize(("name", "size"), [("icon.png", 256), ("icon@2x.png", 512)])
def test_brand_icons_are_square_trimmed_pngs_of_the_brands_sizes(name: str, size: int) -> None:
    # Home Assistant 2026.3+ serves custom_components/<domain>/brand/; the images follow the
    # brands repository's rules: PNG, 256x256 icon and 512x512 hDPI icon, trimmed.
    with Image.open(INTEGRATION / "brand" / name) as image:
        assert image.format == "PNG"
        assert image.size == (size, size)
        assert image.mode == "RGBA"  # transparency preferred
        assert image.getchannel("A").getbbox() == (0, 0, size, size)  # no empty border


def test_brand_folder_holds_only_names_home_assistant_serves() -> None:
    served = {f"{dark}{kind}{hdpi}.png" for dark in ("", "dark_") for kind in ("icon", "logo") for hdpi in ("", "@2x")}
    assert {path.name for path in (INTEGRATION / "brand").iterdir()} <= served
    assert (INTEGRATION / "brand" / "icon.png").is_file()  # the HACS action's brands check


def test_translation_strings_follow_hassfest() -> None:
    for path, value in _strings(EN):
        assert isinstance(value, str), path
        cv.string_with_no_html(value)  # raises on HTML
        assert value == value.strip(), f"{path}: leading or trailing spaces"
        assert not re.search(r"'{\w+}'", value), f"{path}: placeholder inside single quotes"
        assert not re.search(r"(.+\[%)|(%\].+)", value), f"{path}: combined translation reference"
        assert "[%key:" not in value, f"{path}: references are resolved only in core's strings.json"


STEP_KEYS = {"title", "description", "data", "data_description", "menu_options", "submit", "sections"}


def test_translation_structure_follows_hassfest() -> None:
    assert set(EN) <= {
        *("title", "config", "options", "config_subentries", "selector", "entity"),
        *("exceptions", "issues", "device", "services", "common"),
    }
    assert "title" not in EN["config"]  # moved to the root; the manifest's name is used
    # hassfest's subentry flows (gen_data_entry_schema, subentry_flow=True): an entry type and
    # the "user" flow's name are required, no flow title
    flows = {"config": EN["config"], "options": EN["options"]}
    for subentry_type, flow in EN.get("config_subentries", {}).items():
        assert cv.slug(subentry_type) == subentry_type
        assert {"entry_type", "initiate_flow"} <= set(flow), subentry_type
        assert "user" in flow["initiate_flow"], subentry_type
        flows[f"config_subentries.{subentry_type}"] = {
            k: v for k, v in flow.items() if k not in {"entry_type", "initiate_flow"}
        }
    for name, flow in flows.items():
        assert set(flow) <= {"flow_title", "step", "error", "abort", "progress", "create_entry"}, name
        for step_id, step in flow["step"].items():
            assert set(step) <= STEP_KEYS, f"{name}.{step_id}"
            assert set(step.get("data_description", {})) <= set(step.get("data", {})), f"{name}.{step_id}"
    for selector, content in EN["selector"].items():
        assert cv.slug(selector) == selector
        assert set(content) == {"options"}
        assert all(TRANSLATION_KEY.match(key) for key in content["options"]), selector
    for platform, entities in EN["entity"].items():
        assert cv.slug(platform) == platform
        for key, entity in entities.items():
            assert TRANSLATION_KEY.match(key), key
            assert set(entity) <= {"name", "state", "state_attributes"}
    for key, exception in EN["exceptions"].items():
        assert cv.slug(key) == key
        assert set(exception) <= {"message"}
    for key, issue in EN["issues"].items():
        assert "title" in issue, key
        assert ("description" in issue) != ("fix_flow" in issue), key
    # hassfest's "common": a flat map of slug -> string (the Logbook's lines, logbook.py)
    for key, text in EN.get("common", {}).items():
        assert cv.slug(key) == key
        assert isinstance(text, str), key


def test_icons_follow_hassfest() -> None:
    assert set(ICONS) <= {"config", "issues", "options", "services", "entity"}
    for platform, entities in ICONS["entity"].items():
        assert cv.slug(platform) == platform
        for key, icons in entities.items():
            assert TRANSLATION_KEY.match(key), key
            assert set(icons) <= {"default", "state", "state_attributes"}
            for icon in [icons.get("default"), *icons.get("state", {}).values()]:
                if icon is not None:
                    assert re.fullmatch(r"mdi:[a-z0-9-]+", icon), icon
            assert all(icon != icons.get("default") for icon in icons.get("state", {}).values())
            assert key in EN["entity"][platform], f"icon for an entity with no translation: {key}"


def test_readme_renders_in_hacs() -> None:
    """HACS renders README.md (render_readme) inside Home Assistant: links must be absolute."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)]+)\)", readme)
    assert all(link.startswith(("https://", "#")) for link in links), links
    assert "<img" not in readme
    with pytest.raises(vol.Invalid):  # the HTML check above is a real one
        cv.string_with_no_html("<b>bold</b>")
