"""A person's own replay file for the simulated meter: only inside <config>/atm90e32_replay, checked in the flow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.atm90e32.const import CONF_REPLAY_FILE, CONF_WIRING, DOMAIN, REPLAY_FOLDER, SIMULATED
from custom_components.atm90e32.driver.channels import CIRCUITS_KEY, SPLIT_PHASE

from .helpers import state


@pytest.fixture(autouse=True)
def own_config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Each test's Home Assistant gets a configuration directory of its own (the default one is shared)."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    hass.config.config_dir = str(config_dir)
    return config_dir


def folder(hass: HomeAssistant) -> Path:
    path = Path(hass.config.path(REPLAY_FOLDER))
    path.mkdir(parents=True, exist_ok=True)
    return path


async def device_step(hass: HomeAssistant, wiring: str = SPLIT_PHASE.key) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WIRING: wiring})
    assert result["step_id"] == "device"
    return result


async def submit(hass: HomeAssistant, result: ConfigFlowResult, replay_file: str) -> ConfigFlowResult:
    values: dict[str, Any] = {"device": SIMULATED, "line_frequency": "60", CONF_REPLAY_FILE: replay_file}
    return await hass.config_entries.flow.async_configure(result["flow_id"], values)


@pytest.fixture
def outside(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A valid replay file outside the replay folder (the kind a path must never reach)."""
    secret = tmp_path / "elsewhere.csv"
    secret.write_text("t,w\n0,1\n1,2\n", encoding="utf-8")
    return secret


async def test_paths_leading_out_of_the_folder_are_refused(hass: HomeAssistant, outside: Path) -> None:
    replays = folder(hass)
    (replays / "link.csv").symlink_to(outside)
    (replays / "sub").mkdir(exist_ok=True)
    result = await device_step(hass)
    for path in (
        f"../{outside.name}",
        "sub/../../configuration.yaml",
        str(outside),  # absolute, elsewhere
        "link.csv",  # a symbolic link out of the folder
        "/etc/passwd",
        ".",
    ):
        result = await submit(hass, result, path)
        assert result["type"] is FlowResultType.FORM, path
        assert result["errors"] == {CONF_REPLAY_FILE: "replay_outside_folder"}, path
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_a_missing_file_and_a_malformed_one_name_the_problem(hass: HomeAssistant) -> None:
    replays = folder(hass)
    result = await submit(hass, await device_step(hass), "nothing-here.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_not_found"}
    (replays / "bad.csv").write_text("time,l1,l2\n0,100,200\n1,100,2OO\n2,100,200\n", encoding="utf-8")
    result = await submit(hass, result, "bad.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_bad_number"}
    assert result["description_placeholders"]["line"] == "3"  # type: ignore[index]
    (replays / "short.csv").write_text("time,l1\n0,100\n1,100\n", encoding="utf-8")
    result = await submit(hass, result, "short.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_too_few_columns"}  # split-phase needs two columns
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_an_emptied_field_after_an_error_means_no_file(hass: HomeAssistant) -> None:
    """The frontend leaves an emptied optional field out of its input: the refused path must not come back."""
    result = await submit(hass, await device_step(hass), "nothing-here.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_not_found"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"device": SIMULATED, "line_frequency": "60"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gains", result.get("errors")


async def test_a_file_too_large_is_refused(hass: HomeAssistant) -> None:
    with (folder(hass) / "huge.csv").open("wb") as handle:
        handle.truncate(20 * 1024 * 1024 + 1)
    result = await submit(hass, await device_step(hass), "huge.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_too_large"}


async def test_the_chosen_file_drives_the_simulated_meter(hass: HomeAssistant) -> None:
    """No patch: circuits replaying a person's CSV (ISO timestamps, floats, export negative)."""
    (folder(hass) / "mine.csv").write_text(
        "when,heat pump,solar,fridge\n"
        "2025-06-01T12:00:00Z,1520.5,-842.25,95\n"
        "2025-06-01T12:00:07Z,1520.5,-842.25,95\n"
        "2025-06-01T12:01:00Z,1520.5,-842.25,95\n",
        encoding="utf-8",
    )
    result = await submit(hass, await device_step(hass, CIRCUITS_KEY), "mine.csv")
    assert result["step_id"] == "circuits", result.get("errors")
    values = {
        "name_ct1": "Heat pump",
        "name_ct2": "Solar",
        "name_ct3": "Fridge",
        "enabled_ct1": True,
        "enabled_ct2": True,
        "enabled_ct3": True,
        "ct_preset_ct1": "sct_013_000",
        "ct_preset_ct2": "sct_013_000",
        "ct_preset_ct3": "sct_013_000",
        "invert_ct1": False,
        "invert_ct2": False,
        "invert_ct3": False,
        "voltage_factor_ct1": "1",
        "voltage_factor_ct2": "1",
        "voltage_factor_ct3": "1",
        "vt_preset": "9v_v14_rev3",
        "pga_gain": "2",
        "current_scale": "1",
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], values)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.data[CONF_REPLAY_FILE] == "mine.csv"
    await hass.async_block_till_done()
    # The bundled presets are not this emulated board's gains: compare shapes, not absolute watts.
    heat = float(state(hass, entry, "ct1_power").state)
    solar = float(state(hass, entry, "ct2_power").state)
    fridge = float(state(hass, entry, "ct3_power").state)
    assert heat > 0
    assert solar < 0  # the file's negative watts are export
    assert solar / heat == pytest.approx(-842.25 / 1520.5, rel=0.01)
    assert fridge / heat == pytest.approx(95 / 1520.5, rel=0.01)
