"""Issue 23 item 3: a circuits chip's circuits are config subentries.

Adding, renaming, re-CT-ing and removing a circuit are subentry actions (the ``circuit``
subentry flow, Home Assistant's removal of a subentry); each reloads the chip, whose
registers are read back from the emulator.  An entry as version 2.1 made it (channels in
its data, each circuit's name, CT and factor in its options, devices and entities in the
registries, a ledger on disk) migrates to 2.2 with nothing lost.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
    SubentryFlowContext,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_restore_cache_with_extra_data

from custom_components.atm90e32.const import (
    CONF_BOARD,
    CONF_BOARD_POSITION,
    CONF_CHANNELS,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_WIRING,
    DOMAIN,
    SIMULATED,
)
from custom_components.atm90e32.diagnostics import async_get_config_entry_diagnostics
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.channels import CIRCUITS, CIRCUITS_KEY
from custom_components.atm90e32.driver.emulator import CircuitLoad
from custom_components.atm90e32.driver.ledger import counts_to_kwh
from custom_components.atm90e32.entity import VIA_DEVICE_ID
from custom_components.atm90e32.settings import default_options

from .emulation import ManualClock
from .helpers import circuits_of, replay, setup_entry, state
from .test_wirings import Bus, add_circuits, bus, defaults, device

__all__ = ["bus"]  # the fixture, used by name

TRANSLATIONS = Path(__file__).resolve().parent.parent / "custom_components" / "atm90e32" / "translations"


def device_subentry(device: dr.DeviceEntry, entry: ConfigEntry) -> str | None:
    """The subentry ``device`` belongs to on every supported release (2026.x: one; 2025.8: a set per entry)."""
    if hasattr(device, "config_subentry_id"):
        return device.config_subentry_id
    (subentry,) = device.config_entries_subentries[entry.entry_id]
    return subentry


async def circuit_flow(hass: HomeAssistant, entry: ConfigEntry, subentry_id: str | None = None) -> Any:
    """Open the ``circuit`` subentry flow of ``entry``: adding one, or changing ``subentry_id``."""
    context = SubentryFlowContext(source=SOURCE_USER)
    if subentry_id is not None:
        context = SubentryFlowContext(source=SOURCE_RECONFIGURE, subentry_id=subentry_id)
    return await hass.config_entries.subentries.async_init((entry.entry_id, "circuit"), context=context)


def subentry_id(entry: ConfigEntry, channel: str) -> str:
    return next(sub.subentry_id for sub in entry.subentries.values() if sub.data["channel"] == channel)


def unique_ids(hass: HomeAssistant, entry: ConfigEntry, prefix: str) -> list[er.RegistryEntry]:
    return [
        e
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.unique_id.startswith(f"{entry.entry_id}_{prefix}")
    ]


async def test_a_circuit_added_on_a_free_input_meters_on_its_own_device(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    bus.loads[SIMULATED] = CircuitLoad(watts={Phase.A: 1500.0, Phase.B: 400.0, Phase.C: 900.0}, volts=120.0)
    entry = (await add_circuits(hass, {"enabled_ct2": False, "name_ct1": "Heat pump"}))["result"]
    await hass.async_block_till_done()
    assert not unique_ids(hass, entry, "ct2_")
    result = await circuit_flow(hass, entry)
    assert result["step_id"] == "user"
    offered = next(k for k in result["data_schema"].schema if str(k) == "channel")
    assert [o["value"] for o in result["data_schema"].schema[offered].config["options"]] == ["ct2"]  # the free one
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**defaults(result), "name": " heat PUMP "}
    )
    assert result["errors"] == {"name": "name_duplicate"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**defaults(result), "name": "Fridge", "channel": "ct2"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()  # the chip reloads with its new circuit
    assert circuits_of(entry)["ct2"][0] == "Fridge"
    assert [c.key for c in entry.runtime_data.settings.wiring.channels] == ["ct1", "ct2", "ct3"]
    await replay(entry.runtime_data, clock, 5)
    assert float(state(hass, entry, "ct2_power").state) == pytest.approx(400.0, rel=0.01)
    fridge = device(hass, entry, f"{entry.entry_id}_ct2")
    assert fridge is not None
    assert fridge.name == "Fridge"
    assert device_subentry(fridge, entry) == subentry_id(entry, "ct2")
    ct2 = unique_ids(hass, entry, "ct2_")
    assert len(ct2) >= 15  # measurements, energy, power quality and its counters
    assert {(e.device_id, e.config_subentry_id) for e in ct2} == {(fridge.id, subentry_id(entry, "ct2"))}
    result = await circuit_flow(hass, entry)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_free_input"


async def test_the_circuit_forms_are_labelled_and_described_in_every_language(hass: HomeAssistant, bus: Bus) -> None:
    bus.loads[SIMULATED] = CircuitLoad(volts=120.0)
    entry = (await add_circuits(hass, {"enabled_ct2": False}))["result"]
    await hass.async_block_till_done()
    forms = {
        "user": await circuit_flow(hass, entry),
        "reconfigure": await circuit_flow(hass, entry, subentry_id(entry, "ct1")),
    }
    for language in ("en", "fr", "de", "es"):
        steps = json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))["config_subentries"][
            "circuit"
        ]["step"]
        for step, result in forms.items():
            shown = {str(key) for key in result["data_schema"].schema}
            assert shown == set(steps[step]["data"]) == set(steps[step]["data_description"]), (language, step)


async def test_reconfigure_renames_a_circuit_and_gives_it_a_custom_ct(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    bus.loads[SIMULATED] = CircuitLoad(watts={Phase.A: 1000.0, Phase.B: 0.0, Phase.C: 0.0}, volts=120.0)
    entry = (await add_circuits(hass, {"name_ct1": "Heater"}))["result"]
    await hass.async_block_till_done()
    power_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_ct1_power")
    sub = subentry_id(entry, "ct1")
    result = await circuit_flow(hass, entry, sub)
    assert result["step_id"] == "reconfigure"
    assert "channel" not in {str(k) for k in result["data_schema"].schema}  # a circuit keeps its input
    assert defaults(result)["name"] == "Heater"
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {**defaults(result), "ct_preset": "custom", "current_gain": 0}
    )
    assert result["errors"] == {"current_gain": "invalid_gain"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {**defaults(result), "name": "Water heater", "ct_preset": "custom", "current_gain": 30000, "invert": True},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert bus.chips[SIMULATED].registers[reg.IGAIN[Phase.A]] == 30000  # the chip got the circuit's gain
    assert entry.runtime_data.settings.inverted == frozenset({Phase.A})
    heater = device(hass, entry, f"{entry.entry_id}_ct1")
    assert heater is not None
    assert heater.name == "Water heater"
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_ct1_power") == power_id
    assert subentry_id(entry, "ct1") == sub


async def test_removing_a_circuit_removes_its_device_and_every_entity(hass: HomeAssistant, bus: Bus) -> None:
    bus.loads[SIMULATED] = CircuitLoad(volts=120.0)
    entry = (await add_circuits(hass, {}))["result"]
    await hass.async_block_till_done()
    kept = len(unique_ids(hass, entry, "ct2_"))
    assert len(unique_ids(hass, entry, "ct3_")) == kept
    assert hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "ct3"))
    await hass.async_block_till_done()
    assert device(hass, entry, f"{entry.entry_id}_ct3") is None
    assert unique_ids(hass, entry, "ct3_") == []  # its power quality and counters too
    assert len(unique_ids(hass, entry, "ct2_")) == kept
    assert [c.key for c in entry.runtime_data.settings.wiring.channels] == ["ct1", "ct2"]  # reloaded


async def test_a_chip_with_no_circuit_left_says_so(hass: HomeAssistant, bus: Bus) -> None:
    bus.loads[SIMULATED] = CircuitLoad(volts=120.0)
    entry = (await add_circuits(hass, {"enabled_ct2": False, "enabled_ct3": False}))["result"]
    await hass.async_block_till_done()
    hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "ct1"))
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert (entry.reason or "").startswith("This chip has no circuit left: add one (Add circuit")


async def test_a_2_1_circuits_entry_migrates_keeping_entities_devices_and_energy(
    hass: HomeAssistant, bus: Bus, clock: ManualClock, hass_storage: dict[str, Any]
) -> None:
    """A circuits chip as version 2.1 stored it: CT2 off, a calibrated CT3 on a 240 V load."""
    bus.loads[SIMULATED] = CircuitLoad(watts={Phase.A: 1200.0, Phase.B: 0.0, Phase.C: 600.0}, volts=120.0)
    options = {
        **default_options(CIRCUITS),
        "name_ct1": "Heat pump",
        "voltage_factor_ct1": 1,
        "name_ct3": "Dryer",
        "voltage_factor_ct3": 2,
        "ct_preset_ct3": "custom",
        "current_gain_ct3": 31000,
        "sag_percent": 85.0,
    }
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=2,
        minor_version=1,
        data={
            CONF_DEVICE: SIMULATED,
            CONF_LINE_FREQUENCY: 60,
            CONF_WIRING: CIRCUITS_KEY,
            CONF_CHANNELS: ["ct1", "ct3"],
            CONF_BOARD: "Garage",
            CONF_BOARD_POSITION: 1,
        },
        options=options,
        unique_id=SIMULATED,
        title="Garage CT1-CT3 (simulated)",
    )
    entry.add_to_hass(hass)
    devices, entities = dr.async_get(hass), er.async_get(hass)
    chip = devices.async_get_or_create(config_entry_id=entry.entry_id, identifiers={(DOMAIN, entry.entry_id)})
    old: dict[str, tuple[str, str]] = {}  # unique id -> (entity id, device id) as 2.1 registered them
    for key, name in (("ct1", "heat_pump"), ("ct3", "dryer")):
        circuit = devices.async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={(DOMAIN, f"{entry.entry_id}_{key}")},
            name=name,
            **({"via_device_id": chip.id} if VIA_DEVICE_ID else {"via_device": (DOMAIN, entry.entry_id)}),
        )
        for platform, suffix, on in (
            ("sensor", "power", circuit),
            ("sensor", "energy_import", circuit),
            ("binary_sensor", "over_current", chip),  # 2.1 put a circuit's power quality on the chip's device
        ):
            unique_id = f"{entry.entry_id}_{key}_{suffix}"
            made = entities.async_get_or_create(
                platform, DOMAIN, unique_id, config_entry=entry, device_id=on.id, suggested_object_id=f"{name}_{suffix}"
            )
            old[unique_id] = (made.entity_id, circuit.id)
        for platform, suffix in (("binary_sensor", "sag"), ("sensor", "sag_count")):  # now the chip's, once
            entities.async_get_or_create(platform, DOMAIN, f"{entry.entry_id}_{key}_{suffix}", config_entry=entry)
    frequency = entities.async_get_or_create(
        "sensor", DOMAIN, f"{entry.entry_id}_frequency", config_entry=entry, device_id=chip.id
    )
    lifetime = {"ct1_import": 3_000_000, "ct1_export": 0, "ct3_import": 1_000_000, "ct3_export": 5}
    hass_storage[f"{DOMAIN}.ledger.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.ledger.{entry.entry_id}",
        "data": {"counts": lifetime, "events": {}},
    }
    mock_restore_cache_with_extra_data(hass, [])

    await setup_entry(hass, entry)
    await replay(entry.runtime_data, clock, 5)

    assert (entry.version, entry.minor_version) == (2, 2)
    assert CONF_CHANNELS not in entry.data
    assert entry.options["sag_percent"] == 85.0  # the chip's own options stay
    assert not [key for key in entry.options if key.endswith(("_ct1", "_ct2", "_ct3"))]
    circuits = circuits_of(entry)
    assert {key: name for key, (name, _) in circuits.items()} == {"ct1": "Heat pump", "ct3": "Dryer"}
    assert circuits["ct3"][1] == {
        "channel": "ct3",
        "ct_preset": "custom",
        "current_gain": 31000,
        "invert": False,
        "voltage_factor": 2,
    }
    assert bus.chips[SIMULATED].registers[reg.IGAIN[Phase.C]] == 31000  # the calibration is kept
    for unique_id, (entity_id, circuit_id) in old.items():
        key = unique_id.removeprefix(f"{entry.entry_id}_")[:3]
        moved = entities.async_get(entity_id)
        assert moved is not None, entity_id  # the same entity id: history and statistics follow
        assert moved.unique_id == unique_id
        assert moved.device_id == circuit_id  # the circuit's device, kept (its power quality now on it)
        assert moved.config_subentry_id == subentry_id(entry, key)
        kept_device = devices.async_get(circuit_id)
        assert isinstance(kept_device, dr.DeviceEntry)
        assert device_subentry(kept_device, entry) == subentry_id(entry, key)
    for key in ("ct1", "ct3"):  # issue 26 item 14: no per-circuit voltage entity left behind, unavailable
        assert entities.async_get_entity_id("binary_sensor", DOMAIN, f"{entry.entry_id}_{key}_sag") is None
        assert entities.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_{key}_sag_count") is None
    chip_frequency = entities.async_get(frequency.entity_id)
    assert chip_frequency is not None
    assert chip_frequency.config_subentry_id is None
    chip_device = devices.async_get(chip.id)
    assert isinstance(chip_device, dr.DeviceEntry)
    assert device_subentry(chip_device, entry) is None
    energy = hass.states.get(old[f"{entry.entry_id}_ct3_energy_import"][0])
    assert energy is not None
    assert float(energy.state) >= counts_to_kwh(1_000_000)
    assert entry.runtime_data.ledger.as_dict()["ct1_import"] >= 3_000_000
    assert entry.runtime_data.ledger.as_dict()["ct3_export"] >= 5
    assert entry.runtime_data.settings.factors == {"ct3": 2}


async def test_diagnostics_show_each_circuits_settings(hass: HomeAssistant, bus: Bus) -> None:
    bus.loads[SIMULATED] = CircuitLoad(volts=120.0)
    entry = (await add_circuits(hass, {"enabled_ct2": False, "name_ct3": "Dryer", "voltage_factor_ct3": "2"}))["result"]
    await hass.async_block_till_done()
    shown = (await async_get_config_entry_diagnostics(hass, entry))["entry"]
    assert [circuit["title"] for circuit in shown["circuits"]] == ["CT1", "Dryer"]
    assert shown["circuits"][1]["data"]["voltage_factor"] == 2
