"""The three-phase three-wire (delta) service from the config flow to live entities.

The chip is the emulator measuring a delta load (driver.emulator.DeltaLoad / TraceDeltaLoad:
three loads line to line, the meter's inputs on L1-L2 / I1 and L3-L2 / I3).  Expected values
come from the loads given to the emulator and the textbook formulas written out here.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from custom_components.atm90e32.const import (
    CONF_LINE_FREQUENCY,
    CONF_NOMINAL_VOLTAGE,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_WIRING,
    DOMAIN,
    SIMULATED,
    VT_DUAL,
)
from custom_components.atm90e32.driver.channels import THREE_PHASE_DELTA
from custom_components.atm90e32.driver.emulator import Board, DeltaLoad, LoadSource, TraceDeltaLoad, TraceLoad
from custom_components.atm90e32.publishing import CONF_DATABASE_WRITES, Mode

from .emulation import ManualClock
from .helpers import replay, state
from .test_wirings import COUNT_KWH, Bus, bus, defaults, other_issues, start

__all__ = ["bus"]  # the fixture, used by name

SQRT3 = math.sqrt(3)


async def add_delta(hass: HomeAssistant, frequency: str = "50", **values: Any) -> ConfigFlowResult:
    result = await start(hass, THREE_PHASE_DELTA.key)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**defaults(result), CONF_LINE_FREQUENCY: frequency}
    )
    assert result["step_id"] == "delta", result.get("errors")
    return await hass.config_entries.flow.async_configure(result["flow_id"], {**defaults(result), **values})


async def delta_entry(
    hass: HomeAssistant, bus: Bus, clock: ManualClock, load: LoadSource, **values: Any
) -> ConfigEntry:
    bus.loads[SIMULATED] = load
    result = await add_delta(hass, **values)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    entry = result["result"]
    await hass.async_block_till_done()
    # these tests read the state after each refresh (balanced and lean: tests/test_publishing.py)
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_DATABASE_WRITES: Mode.EVERY_REFRESH})
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    clock.advance(5)
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    return entry


async def test_the_delta_form_asks_no_transformer_choice(hass: HomeAssistant, bus: Bus) -> None:
    bus.loads[SIMULATED] = DeltaLoad()
    result = await start(hass, THREE_PHASE_DELTA.key)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**defaults(result), CONF_LINE_FREQUENCY: "60"}
    )
    assert result["step_id"] == "delta"
    assert result["data_schema"] is not None
    fields = {str(key) for key in result["data_schema"].schema}
    assert CONF_VOLTAGE_TRANSFORMERS not in fields  # two transformers, always
    assert {"ct_preset_l1", "ct_preset_l3", "invert_l1", "invert_l3"} <= fields
    assert "ct_preset_l2" not in fields
    assert defaults(result)[CONF_VOLTAGE_SYSTEM] == "delta_240"  # 60 Hz: North American delta


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_balanced_delta_load_reads_its_three_phase_power(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    # 3 x 4000 W at PF 0.8 on 400 V: line current 12000 / (sqrt(3) x 400 x 0.8) = 21.65 A;
    # two-wattmeter readings V I cos(30 + phi) and V I cos(30 - phi), phi = 36.87 degrees
    entry = await delta_entry(hass, bus, clock, DeltaLoad(watts=(4000.0,) * 3, volts=400.0, power_factor=0.8))
    assert entry.data[CONF_WIRING] == THREE_PHASE_DELTA.key
    assert entry.data[CONF_VOLTAGE_SYSTEM] == "delta_400"
    assert entry.options[CONF_VOLTAGE_TRANSFORMERS] == VT_DUAL
    amps = 12000.0 / (SQRT3 * 400.0 * 0.8)
    phi = math.acos(0.8)
    for leg in ("l1", "l3"):
        assert float(state(hass, entry, f"{leg}_voltage").state) == pytest.approx(400.0, abs=0.05)
        assert float(state(hass, entry, f"{leg}_current").state) == pytest.approx(amps, rel=0.001)
    w1 = 400.0 * amps * math.cos(math.radians(30) + phi)
    w3 = 400.0 * amps * math.cos(math.radians(30) - phi)
    assert float(state(hass, entry, "l1_power").state) == pytest.approx(w1, abs=0.2)
    assert float(state(hass, entry, "l3_power").state) == pytest.approx(w3, abs=0.2)
    assert float(state(hass, entry, "total_power").state) == pytest.approx(12000.0, abs=0.2)
    assert float(state(hass, entry, "total_power_factor").state) == pytest.approx(0.8, abs=0.001)
    assert float(state(hass, entry, "voltage_unbalance").state) == pytest.approx(0.0, abs=0.02)
    assert float(state(hass, entry, "l3_voltage_angle").state) == pytest.approx(300.0, abs=0.2)
    registry = er.async_get(hass)
    for absent in ("neutral_current", "l2_voltage", "l2_voltage_angle"):
        assert registry.async_get_entity_id("sensor", DOMAIN, f"{entry.entry_id}_{absent}") is None
    assert not other_issues(hass)


async def test_an_hour_of_the_trace_on_a_delta_service_books_the_service_energy(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    """The household trace as three line-to-line loads: the service import is the loads' own energy."""
    load = TraceDeltaLoad(start=7200)
    entry = await delta_entry(hass, bus, clock, load)
    coordinator = entry.runtime_data
    before = float(state(hass, entry, "total_energy_import").state)
    start_s = int(clock.now)
    seconds, interval = 3600, 5
    await replay(coordinator, clock, seconds, interval)
    watts = [sum(load.load_watts(k, t) for k in range(3)) for t in range(start_s, start_s + seconds)]
    expected = sum(watts) / 3600 / 1000
    booked = float(state(hass, entry, "total_energy_import").state) - before
    assert expected > 0.1
    assert booked == pytest.approx(expected, abs=2 * COUNT_KWH)
    assert float(state(hass, entry, "total_energy_export").state) == 0.0


async def test_a_split_phase_service_is_refused_as_delta(hass: HomeAssistant, bus: Bus) -> None:
    bus.loads[SIMULATED] = TraceLoad(frequency=50.0, nominal_volts=230.0)  # both legs on one voltage: 0 degrees
    result = await add_delta(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "not_three_wire"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_a_delta_system_far_from_the_measured_line_voltage_is_refused(hass: HomeAssistant, bus: Bus) -> None:
    bus.loads[SIMULATED] = DeltaLoad(volts=400.0)
    result = await add_delta(hass, **{CONF_VOLTAGE_SYSTEM: "delta_240"})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_VOLTAGE_SYSTEM: "line_voltage_not_measured"}
    assert result["description_placeholders"] is not None
    assert result["description_placeholders"]["expected"] == "400 V"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**defaults(result), CONF_VOLTAGE_SYSTEM: "delta_400"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")


async def test_a_reversed_delta_service_raises_no_sequence_repair(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    # two elements meter a three-wire service right in either sequence (Blondel): nothing to repair
    entry = await delta_entry(hass, bus, clock, DeltaLoad(reversed_sequence=True))
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"phase_sequence_reversed_{entry.entry_id}") is None
    assert float(state(hass, entry, "total_power").state) == pytest.approx(7500.0, abs=0.2)


async def test_the_options_keep_the_delta_form_and_its_line_voltage(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    entry = await delta_entry(hass, bus, clock, DeltaLoad(volts=400.0))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "settings"})
    assert result["step_id"] == "delta"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**defaults(result), CONF_VOLTAGE_SYSTEM: "delta_480"}
    )
    assert result["errors"] == {CONF_VOLTAGE_SYSTEM: "line_voltage_not_measured"}
    assert entry.data[CONF_VOLTAGE_SYSTEM] == "delta_400"
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "power_quality"})
    values = defaults(result)
    assert values[CONF_NOMINAL_VOLTAGE] == "400"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**values, CONF_NOMINAL_VOLTAGE: "230"}
    )
    assert result["errors"] == {CONF_NOMINAL_VOLTAGE: "nominal_not_wiring"}


async def calibrate(hass: HomeAssistant, entry: ConfigEntry, references: dict[str, Any]) -> ConfigFlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "calibrate"})
    assert result["step_id"] == "calibrate"
    result = await hass.config_entries.options.async_configure(result["flow_id"], references)
    assert result["step_id"] == "calibrate_result", result.get("errors")
    return await hass.config_entries.options.async_configure(result["flow_id"], {})


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_each_line_voltage_and_ct_of_a_delta_meter_calibrates_on_its_own(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    # the board reads L1-L2 3 % high, L3-L2 2 % low, CT1 7 % low, CT2 5 % high; the references are the truth
    load = DeltaLoad(watts=(4000.0,) * 3, volts=400.0, power_factor=1.0)
    entry = await delta_entry(hass, bus, clock, load)
    bus.chips[SIMULATED].board = Board(
        voltage_gains=(3920 / 1.03, 3920.0, 3920 / 0.98), current_gains=(25498 / 0.93, 25498.0, 25498 / 1.05)
    )
    await replay(entry.runtime_data, clock, 5)
    assert float(state(hass, entry, "l1_voltage").state) == pytest.approx(412.0, abs=0.05)
    amps = 12000.0 / (SQRT3 * 400.0)
    references = {
        "reference_voltage_l1": 400.0,
        "reference_voltage_l3": 400.0,
        "reference_current_l1": round(amps, 3),
        "reference_current_l3": round(amps, 3),
    }
    result = await calibrate(hass, entry, references)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await replay(entry.runtime_data, clock, 5)
    for leg in ("l1", "l3"):
        assert float(state(hass, entry, f"{leg}_voltage").state) == pytest.approx(400.0, rel=0.001)
        assert float(state(hass, entry, f"{leg}_current").state) == pytest.approx(amps, rel=0.002)
    assert float(state(hass, entry, "total_power").state) == pytest.approx(12000.0, rel=0.003)
    assert entry.options["voltage_gain_l3"] == round(3920 / 0.98)


async def test_a_resistive_load_between_l1_and_l2_calibrates_ct1_by_its_power(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    # a single load across L1-L2 draws I1 = -I2 and nothing on L3: the L1 element reads its whole power, L3's none
    entry = await delta_entry(hass, bus, clock, DeltaLoad(watts=(2000.0, 0.0, 0.0), volts=400.0, power_factor=1.0))
    chip = bus.chips[SIMULATED]
    chip.board = Board(current_gains=(25498 / 0.93, 25498.0, 25498.0))
    await replay(entry.runtime_data, clock, 5)
    assert float(state(hass, entry, "l1_power").state) == pytest.approx(2000.0 * 0.93, rel=0.001)
    assert float(state(hass, entry, "l3_power").state) == pytest.approx(0.0, abs=0.1)
    result = await calibrate(hass, entry, {"reference_power_l1": 2000.0})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    await replay(entry.runtime_data, clock, 5)
    assert float(state(hass, entry, "l1_power").state) == pytest.approx(2000.0, rel=0.002)
