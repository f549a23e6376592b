"""Issue 22 (part A) in a real Home Assistant: what a real chip does that the old emulator hid.

The emulator models each behaviour from the ATM90E32AS datasheet (DS, page cited beside
it); the expected values here are computed by hand from the loads given.
"""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir

from custom_components.atm90e32.const import CONF_VOLTAGE_SYSTEM, DOMAIN, SIMULATED
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver.emulator import ThreePhaseLoad

from .emulation import ManualClock
from .test_wirings import Bus, add_three_phase, bus, three_phase_entry

__all__ = ["bus"]  # the fixture, used by name


@pytest.mark.usefixtures("patched_monotonic")
async def test_three_phases_at_5_kw_over_a_55_s_gap_report_the_total_wrapping(
    hass: HomeAssistant, bus: Bus, clock: ManualClock
) -> None:
    """Issue 22 item 2, the hand example: 3 x 5 kW for 55 s put 229.2 Wh into APenergyT, which holds 204.797 Wh.

    No phase register wraps (76.4 Wh each); the all-phase total, the sum of the three
    (DS p.13, p.56), does, and the gap must be reported.
    """
    entry = await three_phase_entry(hass, bus, clock, ThreePhaseLoad(watts=(5000.0, 5000.0, 5000.0)))
    chip = bus.chips["simulated"]
    clock.advance(55)  # a stalled host: one read 55 s after the previous
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    assert chip.total_energy.wrapped_counts > 0
    assert all(e.wrapped_counts == 0 for e in chip.energy.values())
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"counters_overflowed_{entry.entry_id}") is not None
    assert entry.runtime_data.health.possible_overflows == 1


@pytest.mark.parametrize(("volts", "longest"), [(230.0, 5), (120.0, 10)])
async def test_the_update_interval_rule_uses_the_three_phase_total(
    hass: HomeAssistant, bus: Bus, clock: ManualClock, volts: float, longest: int
) -> None:
    """Three phases summed fill APenergyT in 13.6 s at 230 V, 26.0 s at 120 V: 10 s and 30 s are refused."""
    bus.loads[SIMULATED] = ThreePhaseLoad(volts=volts)
    result = await add_three_phase(hass, **{CONF_VOLTAGE_SYSTEM: {230.0: "230_400", 120.0: "120_208"}[volts]})
    assert result["type"] is FlowResultType.CREATE_ENTRY, result.get("errors")
    entry = result["result"]
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "update_interval"})
    fill = {230.0: "14", 120.0: "26"}[volts]
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["fill"] == fill
    refused = {5: "10", 10: "30"}[longest]
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"update_interval": refused})
    assert result["errors"] == {"update_interval": "interval_too_long"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"update_interval": str(longest)})
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("reversed_sequence", [False, True])
async def test_the_phase_sequence_repair_follows_urevwnst_not_the_angles_direction(
    hass: HomeAssistant, bus: Bus, clock: ManualClock, reversed_sequence: bool
) -> None:
    """Issue 22 item 7: a chip whose UangleB/C count the other way (DS p.71 gives no direction).

    In sequence A -> B -> C such a chip reads L2 at 240 and L3 at 120 degrees; only
    URevWnST (EMMState0 bit 9, DS p.20) says whether the sequence is wrong.
    """
    entry = await three_phase_entry(hass, bus, clock, ThreePhaseLoad())
    chip = bus.chips["simulated"]
    chip.uangle_leads = True
    load = chip.load
    assert isinstance(load, ThreePhaseLoad)
    load.reversed_sequence = reversed_sequence
    clock.advance(5)
    await entry.runtime_data.async_refresh()
    await hass.async_block_till_done()
    three_phase = entry.runtime_data.data.three_phase
    assert three_phase is not None
    assert three_phase.voltage_angles[Phase.B] == pytest.approx(120.0 if reversed_sequence else 240.0, abs=0.2)
    assert three_phase.voltage_sequence_error is reversed_sequence
    found = ir.async_get(hass).async_get_issue(DOMAIN, f"phase_sequence_reversed_{entry.entry_id}")
    assert (found is not None) is reversed_sequence
