"""quality_scale.yaml says what is true: every rule listed, and the claims a test can check are checked.

hassfest validates this file for core integrations only (script/hassfest/quality_scale.py
returns early for a custom one), so these tests apply its schema and the part of its rule
checks (script/hassfest/quality_scale_validation/) that can be decided from this
repository, in our own code.  Coverage claims (config-flow-test-coverage, test-coverage)
are measured with pytest-cov; docs/store-readiness.md says how and with what result.
"""

from __future__ import annotations

import importlib
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32 import config_flow
from custom_components.atm90e32.const import DOMAIN

from .helpers import setup_entry
from .test_store_rules import INTEGRATION, MANIFEST, REPO

RULES: dict[str, tuple[str, ...]] = {
    # The rules of https://developers.home-assistant.io/docs/core/integration-quality-scale/rules
    # as hassfest lists them (script/hassfest/quality_scale.py, ALL_RULES), by tier.
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
FILE: dict[str, Any] = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))


def status(rule: str) -> str:
    value = FILE["rules"][rule]
    return str(value["status"] if isinstance(value, dict) else value)


def test_every_rule_is_listed_once_with_a_valid_status() -> None:
    listed = list(FILE["rules"])
    assert sorted(listed) == sorted(rule for rules in RULES.values() for rule in rules)
    for rule, value in FILE["rules"].items():
        if isinstance(value, dict):
            assert set(value) == {"status", "comment"}, rule
            assert value["status"] in {"done", "todo", "exempt"}, rule
            assert str(value["comment"]).strip(), rule
        else:  # hassfest: a bare status is done or todo; exempt needs its reason
            assert value == "done", f"{rule}: a todo says why not, here"


def test_strict_typing_is_done_only_with_mypy_strict_and_typed_requirements() -> None:
    """hassfest's strict_typing check: the integration is checked strictly, and each requirement ships
    PEP 561 types (a py.typed file, or a types-<name> stubs package installed beside it)."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    strict = any(
        override.get("strict") and "custom_components.atm90e32.*" in override["module"]
        for override in pyproject["tool"]["mypy"]["overrides"]
    )
    untyped = []
    for requirement in MANIFEST["requirements"]:
        name = requirement.split("==")[0].split("[")[0]
        files = metadata.distribution(name).files or []
        if not any(Path(str(file)).name == "py.typed" for file in files):
            try:
                metadata.distribution(f"types-{name}")
            except metadata.PackageNotFoundError:
                untyped.append(requirement)
    assert strict
    assert (status("strict-typing") == "done") == (strict and not untyped), untyped


def test_the_code_claims_hold() -> None:
    """config-entry-unloading, reconfiguration-flow, diagnostics, parallel-updates, and the exemptions for
    conditions, triggers, discovery and reauthentication: what each needs is there, or is absent."""
    package = importlib.import_module("custom_components.atm90e32")
    flow = config_flow.Atm90e32ConfigFlow
    assert (status("config-entry-unloading") == "done") == hasattr(package, "async_unload_entry")
    assert (status("reconfiguration-flow") == "done") == hasattr(flow, "async_step_reconfigure")
    assert (status("reauthentication-flow") == "done") == hasattr(flow, "async_step_reauth")
    diagnostics = importlib.import_module("custom_components.atm90e32.diagnostics")
    assert (status("diagnostics") == "done") == hasattr(diagnostics, "async_get_config_entry_diagnostics")
    platforms = [p.value for p in Platform if (INTEGRATION / f"{p.value}.py").exists()]
    assert platforms
    if status("parallel-updates") == "done":
        for platform in platforms:
            assert hasattr(importlib.import_module(f"custom_components.atm90e32.{platform}"), "PARALLEL_UPDATES")
    discovery = ("bluetooth", "dhcp", "homekit", "mqtt", "ssdp", "usb", "zeroconf")
    assert (status("discovery") == "done") == any(key in MANIFEST for key in discovery)
    for rule, files in {
        "docs-conditions": ("condition.py", "device_condition.py"),
        "docs-triggers": ("trigger.py", "device_trigger.py"),
    }.items():
        assert (status(rule) == "exempt") == (not any((INTEGRATION / file).exists() for file in files)), rule


@pytest.mark.usefixtures("mock_transport")
async def test_no_action_is_registered(hass: HomeAssistant, config_entry: MockConfigEntry) -> None:
    """action-setup, action-exceptions and docs-actions are exempt because a running meter registers no action."""
    await setup_entry(hass, config_entry)
    assert DOMAIN not in hass.services.async_services()
    assert {status(rule) for rule in ("action-setup", "action-exceptions", "docs-actions")} == {"exempt"}
