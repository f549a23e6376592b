"""The README's recipes work on the development configuration (config/configuration.yaml, scripts/develop).

The configuration is loaded as Home Assistant loads it (``!include`` and all) after
scripts/seed_dev_config.py prepared the folder, with what a person does by the README:
an automation made from a blueprint in the UI (saved into automations.yaml), the bill
check's utility_meter, template and input_number blocks added, the bill-check dashboard
copied beside it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from homeassistant import config as conf_util
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.atm90e32.bus import simulated_load
from custom_components.atm90e32.const import CONF_WIRING
from custom_components.atm90e32.driver.channels import CIRCUITS_KEY, SPLIT_PHASE
from tests.e2e.conftest import readme_yaml

from .helpers import seed_script

REPO = Path(__file__).resolve().parent.parent

AUTOMATION_FROM_THE_UI = {
    "id": "1733300000000",
    "alias": "Load limit",
    "description": "",
    "use_blueprint": {
        "path": "atm90e32/load_limit.yaml",
        "input": {
            "monitored": "sensor.atm90e32as_simulated_l1_current",
            "upper_limit": 3,
            "lower_limit": 2,
            "loads": ["input_boolean.water_heater"],
        },
    },
}
"""An automation as the UI saves it after *Create automation* from the imported load limit blueprint."""


def develop_folder(config_dir: Path) -> None:
    """config_dir as scripts/develop leaves it, then as the README's recipes change it."""
    seed = seed_script()
    shutil.copy(REPO / "config" / "configuration.yaml", config_dir / "configuration.yaml")
    seed.write_included_files(config_dir)
    # Import blueprint: Home Assistant puts it under blueprints/automation/<author>/.
    shutil.copytree(REPO / "blueprints", config_dir / "blueprints")
    (config_dir / "automations.yaml").write_text(yaml.safe_dump([AUTOMATION_FROM_THE_UI]), encoding="utf-8")
    # The bill check: its blocks added to configuration.yaml, its dashboard copied into the folder.
    recipes = [readme_yaml(key) for key in ("utility_meter", "template", "input_number", "lovelace")]
    with (config_dir / "configuration.yaml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + "\n".join(recipes))
    (config_dir / "dashboards").mkdir()
    shutil.copy(REPO / "dashboards" / "bill_check.yaml", config_dir / "dashboards" / "bill_check.yaml")


# The utility meters' cycle timers (the next month's start) outlive the test, as they would a day.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_the_readme_recipes_work_on_the_development_configuration(hass: HomeAssistant, tmp_path: Path) -> None:
    develop_folder(tmp_path)
    hass.config.config_dir = str(tmp_path)
    config = await conf_util.async_hass_config_yaml(hass)
    assert await async_setup_component(hass, "homeassistant", {})
    for domain in ("input_boolean", "input_number", "utility_meter", "automation"):
        assert await async_setup_component(hass, domain, config), domain
    await hass.async_block_till_done()
    # The automation saved by the UI is loaded (without automation: !include it was saved and never run).
    automation = hass.states.get("automation.load_limit")
    assert automation is not None
    assert automation.attributes["id"] == AUTOMATION_FROM_THE_UI["id"]
    # The bill check's helpers and the tariff selects it and the tariff blueprint use.
    for entity_id in ("input_number.price_peak", "select.energy_import_tou", "sensor.energy_import_cycle"):
        assert hass.states.get(entity_id) is not None, entity_id
    # The dashboard file the lovelace block names is where the README says to copy it.
    dashboard = config["lovelace"]["dashboards"]["bill-check"]
    assert (tmp_path / dashboard["filename"]).is_file()
    # Blueprint import links go through my.home-assistant.io, which needs the my integration.
    assert "my" in config


def test_the_development_house_circuits_add_up_to_no_more_than_its_mains() -> None:
    """CT1-CT6 of the develop board meter parts of the house the split-phase mains meters, at the same moment.

    Each second of the trace (every 97th, about 220 of its six hours): the six circuits'
    watts add up to 95 % of the mains' (5 % on circuits no CT meters), so the Energy
    dashboard's individual devices never exceed the grid.
    """
    seed = seed_script()
    entries = seed.entries(1.0)
    mains = [simulated_load(e.data) for e in entries if e.data[CONF_WIRING] == SPLIT_PHASE.key]
    boards = [simulated_load(e.data) for e in entries if e.data[CONF_WIRING] == CIRCUITS_KEY]
    assert len(mains) == 1
    assert len(boards) == 2
    for t in range(0, 6 * 3600, 97):
        house = sum(phase.watts for phase in mains[0].load_at(float(t)).phases.values())
        circuits = sum(phase.watts for board in boards for phase in board.load_at(float(t)).phases.values())
        assert circuits == pytest.approx(0.95 * house), t
