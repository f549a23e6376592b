"""Every wiring from the config flow to live entities: circuits, three-phase wye, many chips.

The chips are the emulator (the driver's load sources): circuits on one shared voltage,
three phases 120 degrees apart with a selectable sequence, the household trace divided
among circuits.  Expected values come from the loads given to the emulator, computed
here independently (phasors with cmath), never from the integration's own functions.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Generator
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult, ConfigSubentryData, SubentryFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.bus import simulated_load
from custom_components.atm90e32.const import (
    CONF_BOARD,
    CONF_BOARD_POSITION,
    CONF_CHANNELS,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_NOMINAL_VOLTAGE,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_WIRING,
    DOMAIN,
    SIMULATED,
    VOLTAGE_SYSTEMS,
    VT_DUAL,
    VT_SINGLE,
)
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.channels import CIRCUITS_KEY, SPLIT_PHASE, THREE_PHASE_DELTA, THREE_PHASE_WYE
from custom_components.atm90e32.driver.emulator import (
    Board,
    CircuitLoad,
    EmulatedAtm90e32,
    LoadSource,
    ThreePhaseLoad,
    TraceCircuitLoad,
    TraceLoad,
)
from custom_components.atm90e32.publishing import CONF_DATABASE_WRITES, Mode
from custom_components.atm90e32.settings import default_options

from .emulation import ManualClock
from .helpers import circuits_of, every_refresh, opening_the_bus, replay, seed_script, setup_entry, state


@pytest.fixture
def config_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """These tests read the state after each refresh (balanced and lean: tests/test_publishing.py)."""
    return every_refresh(config_entry)


COUNT_KWH = reg.ENERGY_LSB_WH / 1000


class Bus:
    """The tests' emulated bus: one emulator per simulated chip select, all on one manual clock."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.loads: dict[str, LoadSource] = {}
        self.chips: dict[str, EmulatedAtm90e32] = {}

    def open(self, data: Any, *_args: Any) -> EmulatedAtm90e32:
        device = str(data[CONF_DEVICE])
        chip = self.chips.get(device)
        if chip is None:
            chip = self.chips[device] = EmulatedAtm90e32(self.loads.get(device, CircuitLoad()), clock=self.clock)
        chip.closed = False
        return chip


@pytest.fixture
def bus(clock: ManualClock) -> Generator[Bus]:
    """Every simulated chip select opens its own emulator (its load set by the test)."""
    emulated = Bus(clock)
    with opening_the_bus(emulated.open):
        yield emulated


def other_issues(hass: HomeAssistant) -> set[str]:
    """The repair issues but the input range's: the default SCT-013-000 clips at 32.7 A on the 6-channel board."""
    return {issue_id for _, issue_id in ir.async_get(hass).issues if not issue_id.startswith("input_range")}


async def start(hass: HomeAssistant, wiring: str) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WIRING: wiring})
    assert result["step_id"] == "device"
    return result


def defaults(result: ConfigFlowResult | SubentryFlowResult) -> dict[str, Any]:
    """The form's default and suggested values, as the frontend would submit them untouched."""
    assert result["data_schema"] is not None
    values = {}
    for key in result["data_schema"].schema:
        default = key.default() if callable(key.default) else (key.description or {}).get("suggested_value")
        if default is not None:
            values[str(key)] = default
    return values


def device(hass: HomeAssistant, entry: ConfigEntry, identifier: str) -> dr.DeviceEntry | None:
    """The entry's device with identifier ``(atm90e32, identifier)`` (works on every supported release)."""
    for candidate in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id):
        if (DOMAIN, identifier) in candidate.identifiers:
            return candidate
    return None


def entity_id(hass: HomeAssistant, entry: ConfigEntry, key: str) -> str | None:
    return er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_{key}")


async def add_circuits(hass: HomeAssistant, circuits: dict[str, Any], **device: Any) -> ConfigFlowResult:
    """The circuits wiring through the flow, defaults but ``circuits`` and ``device``; returns the last result."""
    result = await start(hass, CIRCUITS_KEY)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**defaults(result), **device})
    assert result["step_id"] == "circuits", result.get("errors")
    return await hass.config_entries.flow.async_configure(result["flow_id"], {**defaults(result), **circuits})


# --- circuits ---------------------------------------------------------------------------


async def test_circuits_from_the_flow_to_their_own_devices(hass: HomeAssistant, bus: Bus, clock: ManualClock) -> None:
    """Two of three CTs used: named devices under the chip, power x2 where asked, no entity for the unused input."""
    bus.loads[SIMULATED] = CircuitLoad(watts={Phase.A: 1500.0, Phase.B: 400.0, Phase.C: 900.0}, volts=120.0)
    result = await add_circuits(
        hass,
        {"enabled_ct2": False, "name_ct1": "Heat pump", "name_ct3": "Dryer", "voltage_factor_ct3": "2"},
        board="Garage panel",
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.title == "Garage panel CT1-CT3 (simulated)"
    # Issue 23 item 3: each circuit is a subentry (its input, name, CT, factor); the chip's entry holds none of it
    circuits = circuits_of(entry)
    assert {key: name for key, (name, _) in circuits.items()} == {"ct1": "Heat pump", "ct3": "Dryer"}
    assert circuits["ct3"][1]["voltage_factor"] == 2
    assert CONF_CHANNELS not in entry.data
    assert not [key for key in entry.options if key.endswith(("_ct1", "_ct2", "_ct3"))]
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    clock.advance(5)
    await coordinator.async_refresh()
    await hass.async_block_till_done()

    assert float(state(hass, entry, "ct1_power").state) == pytest.approx(1500.0, rel=0.01)
    assert float(state(hass, entry, "ct3_power").state) == pytest.approx(2 * 900.0, rel=0.01)  # 240 V load x2
    assert float(state(hass, entry, "ct3_current").state) == pytest.approx(900.0 / 120.0 / 0.95, rel=0.01)
    # Issue 26 item 8: the 240 V load's voltage, so that power = voltage x current x power factor
    volts, amps, pf = (float(state(hass, entry, f"ct3_{key}").state) for key in ("voltage", "current", "power_factor"))
    assert volts == pytest.approx(240.0, rel=0.01)
    assert float(state(hass, entry, "ct3_power").state) == pytest.approx(volts * amps * pf, rel=0.01)
    assert float(state(hass, entry, "ct1_voltage").state) == pytest.approx(120.0, rel=0.01)
    assert entity_id(hass, entry, "ct2_power") is None  # unused input: no entities
    for key in ("total_power", "total_energy_import", "total_energy_export", "total_power_factor", "demand"):
        assert entity_id(hass, entry, key) is None  # circuits are never added up: no service, no demand

    chip = device(hass, entry, entry.entry_id)
    assert chip is not None
    heat_pump = device(hass, entry, f"{entry.entry_id}_ct1")
    assert heat_pump is not None
    assert heat_pump.name == "Heat pump"
    assert heat_pump.via_device_id == chip.id
    energy = er.async_get(hass).async_get(entity_id(hass, entry, "ct1_energy_import") or "")
    assert energy is not None
    assert energy.device_id == heat_pump.id  # the Energy dashboard's individual device
    energy_state = hass.states.get(energy.entity_id)
    assert energy_state is not None
    assert energy_state.name == "Heat pump Imported energy"
    # Issue 23 item 3: the circuit's entities and device belong to its subentry, its power quality too
    subentry = next(sub for sub in entry.subentries.values() if sub.data["channel"] == "ct1")
    assert energy.config_subentry_id == subentry.subentry_id
    registry = er.async_get(hass)
    over = registry.async_get(
        registry.async_get_entity_id("binary_sensor", DOMAIN, f"{entry.entry_id}_ct1_over_current") or ""
    )
    assert over is not None
    assert (over.device_id, over.config_subentry_id) == (heat_pump.id, subentry.subentry_id)
    over_state = hass.states.get(over.entity_id)
    assert over_state is not None
    assert over_state.name == "Heat pump Over-current"
    # Issue 26 item 14: the voltage every circuit shares has its sags once, on the chip's device
    sag = registry.async_get(registry.async_get_entity_id("binary_sensor", DOMAIN, f"{entry.entry_id}_sag") or "")
    sags = registry.async_get(registry.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_sag_count") or "")
    assert sag is not None
    assert sags is not None
    assert (sag.device_id, sags.device_id) == (chip.id, chip.id)
    assert (sag.config_subentry_id, sags.config_subentry_id) == (None, None)
    for key in ("ct1_sag", "ct3_sag", "ct1_swell", "ct1_phase_loss"):
        assert registry.async_get_entity_id("binary_sensor", DOMAIN, f"{entry.entry_id}_{key}") is None
        assert registry.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_{key}_count") is None
    sag_state = hass.states.get(sag.entity_id)
    assert sag_state is not None
    assert sag_state.name == "Garage panel CT1-CT3 (simulated) Voltage sag"
    frequency = registry.async_get(
        registry.async_get_entity_id("binary_sensor", DOMAIN, f"{entry.entry_id}_frequency_high") or ""
    )
    assert frequency is not None
    assert frequency.device_id == chip.id
    assert frequency.config_subentry_id is None


async def test_power_calibration_of_a_240_v_circuit_keeps_its_factor(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    """Issue 22 item 3: a 4800 W load at 240 V on one CT against 120 V reads 2400 W on the chip.

    The reference meter says 4800 W, the circuit shows power x 2: the gain must stay (the CT
    reads right), not double, which would show 40 A for 20 A and double the energy.
    """
    bus.loads[SIMULATED] = CircuitLoad(watts={Phase.A: 1200.0, Phase.B: 0.0, Phase.C: 2400.0}, volts=120.0)
    result = await add_circuits(hass, {"enabled_ct2": False, "voltage_factor_ct3": "2"})
    entry = result["result"]
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    coordinator.meter.sleep = lambda _s: None
    await replay(coordinator, clock, 5)
    amps = 2400.0 / 120.0 / 0.95  # CircuitLoad's default power factor
    assert float(state(hass, entry, "ct3_power").state) == pytest.approx(4800.0, rel=0.01)
    gain = circuits_of(entry)["ct3"][1]["current_gain"]

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "calibrate"})
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"reference_power_ct3": 4800.0})
    assert result["step_id"] == "calibrate_result", result.get("errors")
    assert result["description_placeholders"] is not None
    assert "W → 4800." in result["description_placeholders"]["report"]  # the shown power, x 2
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    # the calibrated gain is the circuit's: in its subentry, not left in the chip's options
    assert circuits_of(entry)["ct3"][1]["current_gain"] == pytest.approx(gain, rel=0.002)
    assert circuits_of(entry)["ct3"][1]["ct_preset"] == "custom"
    assert "current_gain_ct3" not in entry.options
    await replay(entry.runtime_data, clock, 5)
    assert float(state(hass, entry, "ct3_current").state) == pytest.approx(amps, rel=0.005)
    assert float(state(hass, entry, "ct3_power").state) == pytest.approx(4800.0, rel=0.005)


async def test_one_transformer_gives_every_input_the_same_voltage(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    bus.loads[SIMULATED] = CircuitLoad(watts={Phase.A: 2000.0, Phase.B: 10.0, Phase.C: 700.0}, volts=118.7)
    result = await add_circuits(hass, {})
    entry = result["result"]
    await hass.async_block_till_done()
    clock.advance(5)
    await entry.runtime_data.async_refresh()
    volts = {float(state(hass, entry, f"{key}_voltage").state) for key in ("ct1", "ct2", "ct3")}
    assert len(volts) == 1
    assert volts.pop() == pytest.approx(118.7, abs=0.01)


@pytest.mark.parametrize(
    ("circuits", "errors"),
    [
        ({"enabled_ct1": False, "enabled_ct2": False, "enabled_ct3": False}, {"base": "no_circuit"}),
        ({"name_ct2": "  "}, {"name_ct2": "name_empty"}),
        ({"name_ct1": "Oven", "name_ct3": "oven "}, {"name_ct3": "name_duplicate"}),
    ],
)
async def test_bad_circuit_names_are_refused_and_nothing_is_saved(
    hass: HomeAssistant, bus: Bus, circuits: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await add_circuits(hass, circuits)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "circuits"
    assert result["errors"] == errors
    assert not hass.config_entries.async_entries(DOMAIN)
    names = {"name_ct1": "Oven", "name_ct2": "Fridge", "name_ct3": "Kettle"}
    on = {"enabled_ct1": True, "enabled_ct2": True, "enabled_ct3": True}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**defaults(result), **names, **on})
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_an_emptied_name_is_refused_not_replaced_by_its_default(hass: HomeAssistant, bus: Bus) -> None:
    """The frontend leaves an emptied optional field out of its input: the name must not come back (README)."""
    result = await start(hass, CIRCUITS_KEY)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], defaults(result))
    emptied = {key: value for key, value in defaults(result).items() if key != "name_ct2"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], emptied)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"name_ct2": "name_empty"}
    assert defaults(result)["name_ct2"] == ""  # shown empty as sent, not as CT2 again
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**emptied, "name_ct2": "Fridge"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert circuits_of(result["result"])["ct2"][0] == "Fridge"


async def test_a_name_another_chip_uses_is_refused(hass: HomeAssistant, bus: Bus) -> None:
    first = await add_circuits(hass, {"name_ct1": "EV charger"})
    assert first["type"] is FlowResultType.CREATE_ENTRY
    result = await add_circuits(hass, {"name_ct2": "ev charger"})
    assert result["errors"] == {"name_ct2": "name_duplicate"}
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_a_six_channel_board_and_two_add_ons_with_the_defaults(hass: HomeAssistant, bus: Bus) -> None:
    """6 chips, 18 circuits: three pages per chip (wiring, device, circuits), each submitted as offered."""
    pages = 0
    for _ in range(6):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
        while result["type"] is FlowResultType.FORM:
            values = defaults(result)
            if result["step_id"] == "user":
                values = {CONF_WIRING: CIRCUITS_KEY}  # the default after the first chip
            result = await hass.config_entries.flow.async_configure(result["flow_id"], values)
            pages += 1
        assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert pages == 18
    entries = hass.config_entries.async_entries(DOMAIN)
    assert [(e.data[CONF_BOARD], e.data[CONF_BOARD_POSITION]) for e in entries] == [
        ("Board 1", 1),
        ("Board 1", 2),
        ("Board 2", 1),
        ("Board 2", 2),
        ("Board 3", 1),
        ("Board 3", 2),
    ]
    assert [e.unique_id for e in entries] == [SIMULATED, *(f"{SIMULATED}_{i}" for i in range(1, 6))]
    circuits = [
        circuit.name
        for entry in entries
        for circuit in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if circuit.model == "CT channel"
    ]
    assert len(circuits) == 18
    assert len(set(circuits)) == 18
    assert circuits[:6] == ["CT1", "CT2", "CT3", "CT4", "CT5", "CT6"]
    assert "Board 2 CT1" in circuits


async def test_an_hour_with_solar_export_on_one_circuit_books_import_and_export(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    """The household trace shared among three circuits, 400 W of solar on CT3, one read every 5 s.

    Each direction is within one counter step per read of the trace's own integral of its
    positive and negative parts: the chip nets forward and reverse within 0.01 CF (DS
    p.12), so each time the power crosses zero up to a count's fraction moves between the
    two.  The net (import - export) is within one counter step in all.
    """
    load = TraceCircuitLoad(generation_w={Phase.C: 400.0}, start=10800)
    bus.loads[SIMULATED] = load
    result = await add_circuits(hass, {})
    entry = result["result"]
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    seconds, interval = 3600, 5
    await replay(coordinator, clock, seconds, interval)
    reads = seconds // interval
    watts = [load.circuit_watts(Phase.C, t) for t in range(seconds)]
    imported = sum(w for w in watts if w > 0) / 3600 / 1000
    exported = -sum(w for w in watts if w < 0) / 3600 / 1000
    assert imported > 0.01
    assert exported > 0.01  # the hour really imports and exports on CT3
    booked_import = coordinator.ledger.kwh(("ct3", "import"))  # the ledger: its states are written once a minute
    booked_export = coordinator.ledger.kwh(("ct3", "export"))
    assert booked_import == pytest.approx(imported, abs=COUNT_KWH * reads)
    assert booked_export == pytest.approx(exported, abs=COUNT_KWH * reads)
    assert booked_import - booked_export == pytest.approx(imported - exported, abs=COUNT_KWH)
    ct1 = sum(load.circuit_watts(Phase.A, t) for t in range(seconds)) / 3600 / 1000
    assert coordinator.ledger.kwh(("ct1", "import")) == pytest.approx(ct1, abs=COUNT_KWH)
    assert float(state(hass, entry, "ct1_energy_export").state) == 0.0


# --- three-phase --------------------------------------------------------------------------


async def add_three_phase(hass: HomeAssistant, **values: Any) -> ConfigFlowResult:
    result = await start(hass, THREE_PHASE_WYE.key)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**defaults(result), CONF_LINE_FREQUENCY: "50"}
    )
    assert result["step_id"] == "three_phase", result.get("errors")
    return await hass.config_entries.flow.async_configure(result["flow_id"], {**defaults(result), **values})


async def three_phase_entry(hass: HomeAssistant, bus: Bus, clock: ManualClock, load: ThreePhaseLoad) -> ConfigEntry:
    bus.loads[SIMULATED] = load
    result = await add_three_phase(hass)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    entry = result["result"]
    await hass.async_block_till_done()
    clock.advance(5)
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    return entry


@pytest.mark.parametrize(("frequency", "volts"), [(50, 230.0), (60, 121.5)])
def test_the_simulated_service_voltage_ignores_the_chosen_system(frequency: int, volts: float) -> None:
    # Issue 26 item 4: the simulator followed the answer, so a wrong system could not be refused.
    data = {CONF_DEVICE: SIMULATED, CONF_WIRING: THREE_PHASE_WYE.key, CONF_LINE_FREQUENCY: frequency}
    for system in VOLTAGE_SYSTEMS:
        point = simulated_load({**data, CONF_VOLTAGE_SYSTEM: system}).load_at(0.0)
        assert all(abs(p.volts - volts) < 0.02 * volts for p in point.phases.values()), system


async def test_three_phase_system_far_from_the_measured_voltage_is_refused(hass: HomeAssistant, bus: Bus) -> None:
    # Issue 26 item 4: 120/208 at 50 Hz on a 230 V service was accepted.
    bus.loads[SIMULATED] = ThreePhaseLoad(watts=(1000.0, 1000.0, 1000.0), volts=230.0)
    result = await add_three_phase(hass, **{CONF_VOLTAGE_SYSTEM: "120_208"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_VOLTAGE_SYSTEM: "system_not_measured"}
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["expected"] == "230/400 V"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**defaults(result), CONF_VOLTAGE_SYSTEM: "230_400"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_three_phase_balanced_resistive_load(hass: HomeAssistant, bus: Bus, clock: ManualClock) -> None:
    entry = await three_phase_entry(
        hass, bus, clock, ThreePhaseLoad(watts=(2300.0, 2300.0, 2300.0), volts=230.0, power_factor=1.0)
    )
    assert entry.data[CONF_VOLTAGE_SYSTEM] == "230_400"
    assert entry.options[CONF_VOLTAGE_TRANSFORMERS] == VT_DUAL
    for leg in ("l1", "l2", "l3"):
        assert float(state(hass, entry, f"{leg}_voltage").state) == pytest.approx(230.0, abs=0.05)
        assert float(state(hass, entry, f"{leg}_current").state) == pytest.approx(10.0, rel=0.005)
        assert float(state(hass, entry, f"{leg}_power").state) == pytest.approx(2300.0, rel=0.005)
        assert float(state(hass, entry, f"{leg}_power_factor").state) == pytest.approx(1.0, abs=0.002)
        assert float(state(hass, entry, f"{leg}_phase_angle").state) == pytest.approx(0.0, abs=0.2)
    assert float(state(hass, entry, "l2_voltage_angle").state) == pytest.approx(120.0, abs=0.2)
    assert float(state(hass, entry, "l3_voltage_angle").state) == pytest.approx(240.0, abs=0.2)
    assert float(state(hass, entry, "neutral_current").state) == pytest.approx(0.0, abs=0.05)
    assert float(state(hass, entry, "voltage_unbalance").state) == pytest.approx(0.0, abs=0.02)
    assert float(state(hass, entry, "total_power").state) == pytest.approx(6900.0, rel=0.005)
    assert not other_issues(hass)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_three_phase_unbalanced_neutral_is_the_vector_sum(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    load = ThreePhaseLoad(watts=(3000.0, 800.0, 1500.0), volts=(231.0, 228.0, 233.0), power_factor=(1.0, 0.8, 0.9))
    entry = await three_phase_entry(hass, bus, clock, load)
    # Expected neutral: the phasor sum of the currents the load draws; the voltages lag A's by 0, 120 and 240
    # degrees and each current lags its voltage by acos(pf) more (one convention: lag is clockwise).
    currents = []
    for watts, volts, pf, angle in zip(load.watts, (231.0, 228.0, 233.0), (1.0, 0.8, 0.9), (0, 120, 240), strict=True):
        currents.append(cmath.rect(watts / (volts * pf), -math.radians(angle + math.degrees(math.acos(pf)))))
    expected = abs(sum(currents))
    assert expected > 5.0
    assert float(state(hass, entry, "neutral_current").state) == pytest.approx(expected, rel=0.01)
    # IEC unbalance from the load's voltage phasors (0, 120, 240 degrees): negative over positive sequence
    ua, ub, uc = (cmath.rect(v, math.radians(d)) for v, d in zip((231.0, 228.0, 233.0), (0, 120, 240), strict=True))
    a = cmath.rect(1.0, math.radians(120.0))
    one, two = abs(ua + a * ub + a * a * uc), abs(ua + a * a * ub + a * uc)
    unbalance = 100 * min(one, two) / max(one, two)
    assert float(state(hass, entry, "voltage_unbalance").state) == pytest.approx(unbalance, abs=0.02)


async def test_a_reversed_phase_sequence_raises_a_repair_cleared_when_right(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    load = ThreePhaseLoad(reversed_sequence=True)
    entry = await three_phase_entry(hass, bus, clock, load)
    issues = ir.async_get(hass)
    issue = issues.async_get_issue(DOMAIN, f"phase_sequence_reversed_{entry.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert float(issue.translation_placeholders["angle_l2"]) == pytest.approx(240.0, abs=0.2)
    load.reversed_sequence = False  # an electrician swaps L2 and L3 back
    clock.advance(5)
    await entry.runtime_data.async_refresh()
    assert issues.async_get_issue(DOMAIN, f"phase_sequence_reversed_{entry.entry_id}") is None


async def test_a_split_phase_service_is_refused_as_three_phase(hass: HomeAssistant, bus: Bus) -> None:
    bus.loads[SIMULATED] = TraceLoad()  # legs on A and C, B unused: the US split-phase board
    result = await add_three_phase(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "wired_as_split_phase"}
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert "L2-N 0.0 V" in placeholders["reason"]
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_one_shared_transformer_is_accepted_and_reports_no_sequence(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    """One transformer on every input (all at angle 0): accepted as stated in the flow; no sequence judged."""
    bus.loads[SIMULATED] = CircuitLoad(volts=230.0, frequency=50.0)
    result = await add_three_phase(hass, voltage_transformers=VT_SINGLE)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    await hass.async_block_till_done()
    clock.advance(5)
    await entry.runtime_data.async_refresh()
    volts = {float(state(hass, entry, f"{leg}_voltage").state) for leg in ("l1", "l2", "l3")}
    assert len(volts) == 1
    assert not other_issues(hass)


async def test_a_nominal_voltage_not_of_the_system_is_refused(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    entry = await three_phase_entry(hass, bus, clock, ThreePhaseLoad())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "power_quality"})
    values = defaults(result)
    assert values[CONF_NOMINAL_VOLTAGE] == "230"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**values, CONF_NOMINAL_VOLTAGE: "120"}
    )
    assert result["errors"] == {CONF_NOMINAL_VOLTAGE: "nominal_not_wiring"}
    assert CONF_NOMINAL_VOLTAGE not in entry.options


async def test_three_phase_options_form_and_calibration_form_cover_every_input(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    entry = await three_phase_entry(hass, bus, clock, ThreePhaseLoad())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "calibrate"})
    fields = {str(key) for key in result["data_schema"].schema}  # type: ignore[union-attr]
    assert fields == {
        f"reference_{quantity}_{leg}" for quantity in ("voltage", "current", "power") for leg in ("l1", "l2", "l3")
    }


# --- split-phase entries made before the wirings --------------------------------------------


async def test_a_split_phase_entry_of_before_keeps_its_entities(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    """An entry without board or channels (made by an earlier release) sets up with the same unique ids."""
    assert CONF_BOARD not in config_entry.data
    await setup_entry(hass, config_entry)
    keys = {
        entity.unique_id.removeprefix(f"{config_entry.entry_id}_")
        for entity in er.async_entries_for_config_entry(er.async_get(hass), config_entry.entry_id)
        if entity.domain == "sensor"
    }
    assert {"l1_power", "l2_power", "total_power", "total_energy_import", "total_energy_export"} <= keys
    assert not any(key.startswith(("l3_", "ct")) or key in ("neutral_current", "voltage_unbalance") for key in keys)
    assert config_entry.data[CONF_WIRING] == SPLIT_PHASE.key
    assert {**default_options(SPLIT_PHASE), CONF_DATABASE_WRITES: Mode.EVERY_REFRESH} == config_entry.options


# --- scripts/develop: every wiring side by side --------------------------------------------


async def test_the_development_configuration_runs_every_wiring_side_by_side(hass: HomeAssistant) -> None:
    """scripts/seed_dev_config.py's five simulated chips set up together, no patch, each with its entities.

    They are written at the config flow's version (2.2, circuits as subentries): nothing migrates.
    """
    seeded = seed_script().entries(1.0)
    assert [e.data[CONF_WIRING] for e in seeded] == [
        SPLIT_PHASE.key,
        CIRCUITS_KEY,
        CIRCUITS_KEY,
        THREE_PHASE_WYE.key,
        THREE_PHASE_DELTA.key,
    ]
    for made in seeded:
        assert (made.version, made.minor_version) == (2, 2)
        entry = MockConfigEntry(
            domain=DOMAIN,
            version=made.version,
            minor_version=made.minor_version,
            data=dict(made.data),
            options=dict(made.options),
            subentries_data=[
                ConfigSubentryData(
                    data=sub.data, subentry_type=sub.subentry_type, title=sub.title, unique_id=sub.unique_id
                )
                for sub in made.subentries.values()
            ],
            unique_id=made.unique_id,
            title=made.title,
        )
        with patch("custom_components.atm90e32.circuits.async_migrate_to_subentries") as migrate:
            await setup_entry(hass, entry)
        migrate.assert_not_called()
    entries = hass.config_entries.async_entries(DOMAIN)
    assert len(entries) == 5
    split, first, second, three, delta = entries
    assert float(state(hass, delta, "l1_voltage").state) == pytest.approx(240.0 * 1.02, abs=5.0)  # L1-L2, 2 % high
    assert float(state(hass, split, "l1_power").state) > 0
    assert float(state(hass, split, "total_energy_import").state) >= 0
    assert [state(hass, first, f"{key}_power").name for key in ("ct1", "ct2", "ct3")] == [
        "CT1 Power",
        "CT2 Power",
        "CT3 Power",
    ]
    assert state(hass, second, "ct1_power").name == "CT4 Power"
    assert float(state(hass, three, "l3_voltage_angle").state) == pytest.approx(240.0, abs=1.0)
    assert float(state(hass, three, "l1_voltage").state) == pytest.approx(231.5, abs=5.0)


# --- calibration of every input of every wiring ---------------------------------------------


async def calibrate(hass: HomeAssistant, entry: ConfigEntry, references: dict[str, float]) -> ConfigFlowResult:
    entry.runtime_data.meter.sleep = lambda _s: None
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "calibrate"})
    assert result["step_id"] == "calibrate"
    return await hass.config_entries.options.async_configure(result["flow_id"], references)


def error(hass: HomeAssistant, entry: ConfigEntry, key: str, truth: float) -> float:
    return abs(float(state(hass, entry, key).state) - truth) / truth


async def test_circuits_calibrate_the_board_voltage_and_each_circuit(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    """CT2 off: the form asks the one board voltage (at the first circuit used) and each used circuit."""
    volts, watts, pf = 120.0, {Phase.B: 1500.0, Phase.C: 600.0}, 0.95
    bus.loads[SIMULATED] = CircuitLoad(watts=watts, volts=volts, default_power_factor=pf)
    result = await add_circuits(hass, {"enabled_ct1": False, "name_ct2": "Oven", "name_ct3": "Fridge"})
    entry = result["result"]
    await hass.async_block_till_done()
    chip = bus.chips[SIMULATED]
    chip.board = Board(voltage_gains=(3920 / 1.04,) * 3, current_gains=(25498 / 0.95,) * 3)
    clock.advance(5)
    await entry.runtime_data.async_refresh()
    amps = {phase: w / (volts * pf) for phase, w in watts.items()}
    assert error(hass, entry, "ct2_voltage", volts) == pytest.approx(0.04, abs=0.001)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "calibrate"})
    fields = {str(key) for key in result["data_schema"].schema}  # type: ignore[union-attr]
    assert fields == {
        "reference_voltage_ct2",
        "reference_current_ct2",
        "reference_power_ct2",
        "reference_current_ct3",
        "reference_power_ct3",
    }
    assert "Oven" in result["description_placeholders"]["readings"]  # type: ignore[index]
    hass.config_entries.options.async_abort(result["flow_id"])
    result = await calibrate(
        hass,
        entry,
        {"reference_voltage_ct2": volts, "reference_current_ct2": amps[Phase.B], "reference_power_ct3": watts[Phase.C]},
    )
    assert result["step_id"] == "calibrate_result"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    clock.advance(5)
    await entry.runtime_data.async_refresh()
    for key in ("ct2", "ct3"):
        assert error(hass, entry, f"{key}_voltage", volts) < 0.002
    assert error(hass, entry, "ct2_current", amps[Phase.B]) < 0.005
    assert error(hass, entry, "ct3_power", watts[Phase.C]) < 0.005
    assert list(circuits_of(entry)) == ["ct2", "ct3"]
    assert circuits_of(entry)["ct3"][1]["ct_preset"] == "custom"  # the calibration is the circuit's


async def test_three_phase_calibrates_each_phase_voltage_and_current(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    load = ThreePhaseLoad(watts=(2000.0, 1500.0, 1000.0), volts=(229.0, 231.0, 233.0), power_factor=1.0)
    entry = await three_phase_entry(hass, bus, clock, load)
    chip = bus.chips[SIMULATED]
    chip.board = Board(voltage_gains=(3920 / 1.02, 3920 / 0.97, 3920 / 1.05), current_gains=(25498 / 0.94,) * 3)
    clock.advance(5)
    await entry.runtime_data.async_refresh()
    volts = dict(zip(("l1", "l2", "l3"), (229.0, 231.0, 233.0), strict=True))
    references = {f"reference_voltage_{leg}": v for leg, v in volts.items()}
    references |= {f"reference_power_{leg}": w for leg, w in zip(volts, load.watts, strict=True)}
    result = await calibrate(hass, entry, references)
    assert result["step_id"] == "calibrate_result"
    await hass.config_entries.options.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    clock.advance(5)
    await entry.runtime_data.async_refresh()
    for (leg, v), w in zip(volts.items(), load.watts, strict=True):
        assert error(hass, entry, f"{leg}_voltage", v) < 0.002
        assert error(hass, entry, f"{leg}_power", w) < 0.005
    assert len({entry.options[f"voltage_gain{suffix}"] for suffix in ("", "_l2", "_l3")}) == 3


async def test_phase_calibration_asks_every_phase_and_every_circuit(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    """The phase-compensation form (offset and phase calibration) covers each wiring's channels."""
    entry = await three_phase_entry(hass, bus, clock, ThreePhaseLoad())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "phase_calibration"})
    assert result["step_id"] == "phase_calibration"
    fields = {str(key) for key in result["data_schema"].schema}  # type: ignore[union-attr]
    assert {"reference_pf_l1", "reference_pf_l2", "reference_pf_l3"} <= fields
