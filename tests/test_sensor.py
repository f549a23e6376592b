"""Sensors in a real Home Assistant, fed by the emulator replaying the household trace."""

from __future__ import annotations

import pytest
from homeassistant.components.sensor import ATTR_STATE_CLASS, SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.const import DOMAIN
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.channels import CIRCUITS, SPLIT_PHASE, THREE_PHASE_WYE, Wiring
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32
from custom_components.atm90e32.sensor import sensors_of
from custom_components.atm90e32.sensor_descriptions import ChannelSensorDescription

from .emulation import FaultyEmulator, ManualClock
from .helpers import every_refresh, replay, state


@pytest.fixture
def config_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """These tests read the state after each refresh (balanced and lean: tests/test_publishing.py)."""
    return every_refresh(config_entry)


async def test_sensors_show_the_replayed_household(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    config_entry = init_integration
    whole_home = 1154  # the trace's first second
    l1_watts, l2_watts = whole_home * 0.55, whole_home * 0.45
    assert float(state(hass, config_entry, "l1_power").state) == pytest.approx(l1_watts, abs=0.01)
    assert float(state(hass, config_entry, "l2_power").state) == pytest.approx(l2_watts, abs=0.01)
    assert float(state(hass, config_entry, "total_power").state) == pytest.approx(whole_home, abs=0.02)
    l1_volts = 121.5 - 0.6 * l1_watts / 1000
    assert float(state(hass, config_entry, "l1_voltage").state) == pytest.approx(l1_volts, abs=0.01)
    assert float(state(hass, config_entry, "l1_current").state) == pytest.approx(
        l1_watts / (l1_volts * 0.95), abs=0.002
    )
    assert float(state(hass, config_entry, "l1_power_factor").state) == pytest.approx(0.95)
    assert float(state(hass, config_entry, "total_power_factor").state) == pytest.approx(0.95, abs=1e-4)
    assert float(state(hass, config_entry, "frequency").state) == pytest.approx(60.0)


@pytest.mark.parametrize(
    ("key", "device_class", "unit", "state_class"),
    [
        ("l1_voltage", SensorDeviceClass.VOLTAGE, "V", SensorStateClass.MEASUREMENT),
        ("l2_current", SensorDeviceClass.CURRENT, "A", SensorStateClass.MEASUREMENT),
        ("l1_power", SensorDeviceClass.POWER, "W", SensorStateClass.MEASUREMENT),
        ("total_power", SensorDeviceClass.POWER, "W", SensorStateClass.MEASUREMENT),
        ("l2_power_factor", SensorDeviceClass.POWER_FACTOR, None, SensorStateClass.MEASUREMENT),
        ("frequency", SensorDeviceClass.FREQUENCY, "Hz", SensorStateClass.MEASUREMENT),
        ("l1_energy_import", SensorDeviceClass.ENERGY, "kWh", SensorStateClass.TOTAL_INCREASING),
        ("l2_energy_export", SensorDeviceClass.ENERGY, "kWh", SensorStateClass.TOTAL_INCREASING),
        ("total_energy_import", SensorDeviceClass.ENERGY, "kWh", SensorStateClass.TOTAL_INCREASING),
        ("total_energy_export", SensorDeviceClass.ENERGY, "kWh", SensorStateClass.TOTAL_INCREASING),
    ],
)
async def test_device_and_state_classes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    key: str,
    device_class: SensorDeviceClass,
    unit: str | None,
    state_class: SensorStateClass,
) -> None:
    attributes = state(hass, init_integration, key).attributes
    assert attributes[ATTR_DEVICE_CLASS] == device_class
    assert attributes.get(ATTR_UNIT_OF_MEASUREMENT) == unit
    assert attributes[ATTR_STATE_CLASS] == state_class


async def test_names_device_and_disabled_diagnostics(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    config_entry = init_integration
    assert state(hass, config_entry, "l1_energy_import").name == "ATM90E32AS (simulated) L1 imported energy"
    assert state(hass, config_entry, "total_power").name == "ATM90E32AS (simulated) Total power"
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), config_entry.entry_id)
    assert [device.identifiers for device in devices] == [{(DOMAIN, config_entry.entry_id)}]
    device = devices[0]
    assert (device.manufacturer, device.model) == ("Microchip Technology", "ATM90E32AS")
    registry = er.async_get(hass)
    entities = er.async_entries_for_config_entry(registry, config_entry.entry_id)
    assert all(e.device_id == device.id for e in entities)
    disabled = {e.unique_id for e in entities if e.disabled_by is not None}
    assert disabled == {
        f"{config_entry.entry_id}_{leg}_{key}"
        for leg in ("l1", "l2")
        for key in (
            "reactive_power",
            "apparent_power",
            "phase_angle",
            "peak_voltage",
            "peak_current",
            "fundamental_power",
            "harmonic_power",
            "harmonic_share",
        )
    }


async def test_sensors_follow_the_trace(
    hass: HomeAssistant, mock_transport: EmulatedAtm90e32, init_integration: MockConfigEntry, clock: ManualClock
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 600)
    whole_home = mock_transport.load.whole_home_watts(600)  # type: ignore[attr-defined]
    assert float(state(hass, config_entry, "total_power").state) == pytest.approx(whole_home, abs=0.02)


async def test_unavailable_while_the_bus_is_dead_then_back(
    hass: HomeAssistant, mock_transport: FaultyEmulator, init_integration: MockConfigEntry, clock: ManualClock
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 60)
    before = float(state(hass, config_entry, "l1_energy_import").state)
    mock_transport.faults.dead_bus = 0xFF
    await replay(coordinator, clock, 30)
    assert state(hass, config_entry, "l1_power").state == STATE_UNAVAILABLE
    assert state(hass, config_entry, "l1_energy_import").state == STATE_UNAVAILABLE
    mock_transport.faults.dead_bus = None
    await replay(coordinator, clock, 5)
    after = float(state(hass, config_entry, "l1_energy_import").state)
    # while the bus was dead the chip kept counting: nothing of the 35 s is lost
    truth_wh = mock_transport.energy[Phase.A].forward_counts * reg.ENERGY_LSB_WH
    assert after * 1000 == pytest.approx(truth_wh, abs=1e-9)
    assert after > before


async def test_a_reset_chip_is_configured_again(
    hass: HomeAssistant, mock_transport: FaultyEmulator, init_integration: MockConfigEntry, clock: ManualClock
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 60)
    mock_transport.brown_out()
    await replay(coordinator, clock, 5)
    assert coordinator.health.chip_resets == 1
    assert mock_transport.registers[reg.UGAIN[Phase.A]] == 3920
    whole_home = mock_transport.load.whole_home_watts(65)  # type: ignore[attr-defined]
    assert float(state(hass, config_entry, "total_power").state) == pytest.approx(whole_home, abs=0.02)


async def test_setup_fails_cleanly_when_the_chip_does_not_answer(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: FaultyEmulator
) -> None:
    mock_transport.faults.dead_bus = 0x00
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert mock_transport.closed
    assert "not answering" in (config_entry.reason or "")


async def test_unload_releases_the_spi_device(
    hass: HomeAssistant, mock_transport: EmulatedAtm90e32, init_integration: MockConfigEntry
) -> None:
    assert not mock_transport.closed
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert mock_transport.closed


def test_no_offered_default_lets_a_counter_wrap() -> None:
    """A register holds 204.797 Wh; at full scale (65.535 A at 230 V + 20 %) it fills in about 40.8 s."""
    from custom_components.atm90e32.const import DEFAULT_UPDATE_INTERVAL
    from custom_components.atm90e32.driver.ledger import (
        COUNTER_CAPACITY_WH,
        FULL_SCALE_FILL_S,
        FULL_SCALE_POWER_W,
        max_read_interval_s,
        register_fill_s,
    )

    fill_seconds = COUNTER_CAPACITY_WH / FULL_SCALE_POWER_W * 3600
    assert fill_seconds == pytest.approx(40.8, abs=0.1)
    assert register_fill_s(230) == pytest.approx(FULL_SCALE_FILL_S)
    assert register_fill_s(120) == pytest.approx(78.1, abs=0.1)  # 65.535 A at 144 V
    assert max_read_interval_s(230) == pytest.approx(fill_seconds / 2)
    # the default interval is safe on every supply offered (up to 240 V)
    assert DEFAULT_UPDATE_INTERVAL.total_seconds() <= max_read_interval_s(240) / 3


async def test_energy_names_differ_early(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """The Energy dashboard's legend cuts a series' name to about 30 characters: ours must differ before that."""
    keys = [f"{name}_energy_{direction}" for name in ("l1", "l2", "total") for direction in ("import", "export")]
    names = [state(hass, init_integration, key).name for key in keys]
    assert names[4:] == ["ATM90E32AS (simulated) Imported energy", "ATM90E32AS (simulated) Exported energy"]
    legend = [name[:30] for name in names]
    assert len(set(legend)) == len(legend), legend


def test_voltage_and_frequency_have_their_own_icons() -> None:
    """icons.json, else the device class's icon from Home Assistant's sensor icons."""
    import json
    from pathlib import Path

    import homeassistant.components.sensor as sensor_component

    ours = json.loads(
        (Path(__file__).parents[1] / "custom_components/atm90e32/icons.json").read_text(encoding="utf-8")
    )["entity"]["sensor"]
    defaults = json.loads((Path(sensor_component.__file__).parent / "icons.json").read_text(encoding="utf-8"))[
        "entity_component"
    ]

    def icon(translation_key: str, device_class: str) -> str:
        return str(ours.get(translation_key, defaults[device_class])["default"])

    shown = {
        "voltage": icon("leg_voltage", "voltage"),
        "frequency": icon("frequency", "frequency"),
        "current": icon("leg_current", "current"),
        "power": icon("leg_power", "power"),
    }
    assert len(set(shown.values())) == len(shown), shown


@pytest.mark.parametrize(
    ("wiring", "present", "absent"),
    [
        (SPLIT_PHASE, {"l1_voltage", "total_power", "total_energy_import", "demand"}, {"neutral_current"}),
        (
            CIRCUITS,
            {"ct1_power", "ct3_energy_export", "sag_count", "frequency"},
            {"total_power", "total_power_factor", "total_energy_import", "demand", "peak_demand_time", "ct2_sag_count"},
        ),
        (
            THREE_PHASE_WYE,
            {"neutral_current", "voltage_unbalance", "l2_voltage_angle", "l3_voltage_angle", "total_power"},
            {"l1_voltage_angle"},  # the reference: 0 by definition
        ),
    ],
    ids=lambda value: value.key if isinstance(value, Wiring) else None,
)
def test_each_wiring_has_the_sensors_its_service_measures(wiring: Wiring, present: set[str], absent: set[str]) -> None:
    keys = {description.key for description, _channel in sensors_of(wiring)}
    assert present <= keys
    assert not absent & keys


def test_a_circuit_s_measurements_and_counters_sit_on_its_own_device() -> None:
    made = {description.key: (description, channel) for description, channel in sensors_of(CIRCUITS)}
    power, channel = made["ct1_power"]
    assert (power.translation_key, power.translation_placeholders, channel) == (
        "circuit_power",
        None,
        CIRCUITS.channels[0],
    )
    energy, _ = made["ct1_energy_import"]
    assert energy.translation_key == "circuit_energy_import"
    counter, on = made["sag_count"]
    assert (counter.translation_key, counter.translation_placeholders, on) == ("shared_sag_count", None, None)
    assert isinstance(power, ChannelSensorDescription)
    assert isinstance(counter, ChannelSensorDescription)
    assert power.on_circuit_device
    # Issue 26 item 14: the circuits share one voltage: its counters once, on the chip's device
    assert not counter.on_circuit_device
    assert not [key for key in made if key.startswith("ct") and key.endswith("_count")]
    leg_power, _ = {d.key: (d, c) for d, c in sensors_of(SPLIT_PHASE)}["l1_power"]
    assert (leg_power.translation_key, leg_power.translation_placeholders) == ("leg_power", {"leg": "L1"})
