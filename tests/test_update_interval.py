"""The update interval option: 1-60 s, refused where an energy register could fill between two reads.

The rule (driver.ledger.max_read_interval_s): at most half the time the fastest 16-bit
energy register takes to fill at full scale, 65.535 A at the nominal voltage + 20 % on
every phase.  That register is the all-phase total where phases are summed (DS p.13,
p.56): two 120 V legs fill it in 39 s (19.5 s allowed), two 230 V phases in 20.4 s
(10.2 s).  Current scaling does not lengthen it: a 4x service may carry 262 A, which
the chip sees as 65.535 A.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.const import (
    CONF_CURRENT_SCALE,
    CONF_LINE_FREQUENCY,
    CONF_NOMINAL_VOLTAGE,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
    UPDATE_INTERVALS,
)
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32
from custom_components.atm90e32.driver.ledger import (
    COUNTER_CAPACITY_WH,
    FULL_SCALE_CURRENT_A,
    VOLTAGE_HEADROOM,
    kwh_to_counts,
    max_read_interval_s,
    may_have_wrapped,
    register_fill_s,
)

from .emulation import ManualClock
from .helpers import every_refresh, replay, setup_entry, state

EN = json.loads(
    (Path(__file__).resolve().parent.parent / "custom_components/atm90e32/translations/en.json").read_text("utf-8")
)


def entry_with(
    config_entry: MockConfigEntry, data: dict[str, Any] | None = None, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        data={**config_entry.data, **(data or {})},
        options={**config_entry.options, **(options or {})},
        unique_id=config_entry.unique_id,
        title=config_entry.title,
    )


async def choose(hass: HomeAssistant, entry: MockConfigEntry, seconds: int) -> Any:
    """Open Configure, pick "Update interval", submit ``seconds``; returns the result."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "update_interval" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "update_interval"})
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_UPDATE_INTERVAL: str(seconds)})
    await hass.async_block_till_done()
    return result


@pytest.mark.parametrize(
    ("nominal", "longest"),
    [(120, 39.06), (127, 36.91), (230, 20.38), (240, 19.53)],
)
def test_the_rule_is_half_the_fill_time_at_full_scale(nominal: float, longest: float) -> None:
    full_scale_w = FULL_SCALE_CURRENT_A * nominal * VOLTAGE_HEADROOM
    assert register_fill_s(nominal) == pytest.approx(COUNTER_CAPACITY_WH / full_scale_w * 3600)
    assert max_read_interval_s(nominal) == pytest.approx(longest, abs=0.005)
    for seconds in UPDATE_INTERVALS:
        if seconds <= max_read_interval_s(nominal):
            # a read on time at full scale holds at most half a register, and the gap check stays quiet
            assert full_scale_w * seconds / 3600 <= COUNTER_CAPACITY_WH / 2
            assert not may_have_wrapped(seconds, full_scale_w)
            # a read a whole interval late still cannot have lost a count
            assert full_scale_w * 2 * seconds / 3600 <= COUNTER_CAPACITY_WH


@pytest.mark.parametrize(
    ("nominal", "summed", "fill"),
    [(120, 2, 39.06), (120, 3, 26.04), (230, 3, 13.59), (230, 0, 40.76)],
)
def test_the_all_phase_total_fills_as_many_times_faster_as_phases_summed(
    nominal: float, summed: int, fill: float
) -> None:
    """APenergyT/ANenergyT sum the phases MMode0 enables (DS p.13, p.56): 0 summed (circuits) is one phase."""
    assert register_fill_s(nominal, summed) == pytest.approx(fill, abs=0.005)
    assert max_read_interval_s(nominal, summed) == pytest.approx(fill / 2, abs=0.005)
    with pytest.raises(ValueError, match="0 to 3 phases"):
        register_fill_s(nominal, 4)


@pytest.mark.usefixtures("patched_monotonic")
async def test_one_second_updates_every_second(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, clock: ManualClock
) -> None:
    config_entry = every_refresh(config_entry)  # its energy states follow each refresh
    coordinator = await setup_entry(hass, config_entry)
    assert coordinator.update_interval == timedelta(seconds=5)  # an entry without the option
    result = await choose(hass, config_entry, 1)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert config_entry.options[CONF_UPDATE_INTERVAL] == 1
    assert config_entry.options[CONF_CURRENT_SCALE] == 1  # the other options are kept
    coordinator = config_entry.runtime_data  # reloaded
    assert coordinator.update_interval == timedelta(seconds=1)
    assert coordinator.config_check_every == 300  # still about every 5 minutes
    await replay(coordinator, clock, 600, interval=1)
    for key, phase in (("l1_energy_import", Phase.A), ("l2_energy_import", Phase.C)):
        lifetime = kwh_to_counts(float(state(hass, config_entry, key).state))
        assert lifetime == mock_transport.energy[phase].forward_counts - mock_transport.pending_counts(phase)[0]


async def test_an_interval_that_could_lose_counts_is_refused_with_the_reason(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    await setup_entry(hass, config_entry)
    result = await choose(hass, config_entry, 60)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_UPDATE_INTERVAL: "interval_too_long"}
    placeholders = result["description_placeholders"]
    # the two legs summed into APenergyT at 65.535 A and 144 V each: 204.797 Wh in 39.1 s
    # the rule allows 19.5 s; the choices jump from 10 to 30 s: the refusal names 10 s, one the person can pick
    expected = {"voltage": "120", "fill": "39", "longest": "10", "interval": "60"}
    assert placeholders == {**expected, "meter": config_entry.title}  # the title names the meter (issue 26 item 16)
    message = EN["options"]["error"]["interval_too_long"].format(**placeholders)
    assert message == (
        "An update every 60 s could lose energy: at full scale the chip's fastest energy register (the all-phase "
        "sum, when the service sums phases) fills in 39 s at 120 V, and a register that fills between two reads "
        "loses what it counted. Choose at most 10 s."
    )
    assert int(placeholders["longest"]) in UPDATE_INTERVALS
    description = EN["options"]["step"]["update_interval"]["description"].format(**placeholders)
    assert "10 s is the longest interval offered" in description
    assert CONF_UPDATE_INTERVAL not in config_entry.options
    result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_UPDATE_INTERVAL: "30"})
    assert result["errors"] == {CONF_UPDATE_INTERVAL: "interval_too_long"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_UPDATE_INTERVAL: "10"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert config_entry.options[CONF_UPDATE_INTERVAL] == 10
    await hass.async_block_till_done()
    assert config_entry.runtime_data.update_interval == timedelta(seconds=10)


@pytest.mark.parametrize("scale", [1, 4])
async def test_at_230_v_30_s_is_refused_whatever_the_current_scaling(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, scale: int
) -> None:
    entry = entry_with(config_entry, {CONF_LINE_FREQUENCY: 50}, {CONF_NOMINAL_VOLTAGE: 230, CONF_CURRENT_SCALE: scale})
    await setup_entry(hass, entry)
    result = await choose(hass, entry, 30)
    assert result["errors"] == {CONF_UPDATE_INTERVAL: "interval_too_long"}
    assert result["description_placeholders"]["longest"] == "10"  # two phases summed: 20.4 s to fill
    result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_UPDATE_INTERVAL: "10"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.runtime_data.update_interval == timedelta(seconds=10)


async def test_a_stored_interval_made_unsafe_later_is_shortened_and_logged(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """30 s chosen on a 120 V leg, then the nominal voltage set to 230 V in the power-quality step."""
    entry = entry_with(config_entry, options={CONF_UPDATE_INTERVAL: 30, CONF_NOMINAL_VOLTAGE: 230})
    with caplog.at_level(logging.WARNING):
        coordinator = await setup_entry(hass, entry)
    assert coordinator.update_interval == timedelta(seconds=10)
    assert (
        "An update interval of 30 s could let an energy register overflow at 230 V; reading every 10 s" in caplog.text
    )


@pytest.mark.usefixtures("patched_monotonic")
async def test_the_longest_interval_keeps_every_count_and_raises_no_overflow_issue(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, clock: ManualClock
) -> None:
    entry = every_refresh(entry_with(config_entry, options={CONF_UPDATE_INTERVAL: 10}))  # states follow each refresh
    coordinator = await setup_entry(hass, entry)
    assert coordinator.update_interval == timedelta(seconds=10)
    await replay(coordinator, clock, 3600, interval=10)
    assert mock_transport.total_energy.wrapped_counts == 0
    for key, phase in (("l1_energy_import", Phase.A), ("l2_energy_import", Phase.C)):
        assert mock_transport.energy[phase].wrapped_counts == 0
        lifetime = kwh_to_counts(float(state(hass, entry, key).state))
        assert lifetime == mock_transport.energy[phase].forward_counts - mock_transport.pending_counts(phase)[0]
    assert coordinator.health.possible_overflows == 0
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"counters_overflowed_{entry.entry_id}") is None


async def test_an_interval_not_offered_falls_back_to_the_default(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    entry = entry_with(config_entry, options={CONF_UPDATE_INTERVAL: 0})
    coordinator = await setup_entry(hass, entry)
    assert coordinator.update_interval == timedelta(seconds=5)
