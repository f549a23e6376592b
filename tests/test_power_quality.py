"""Power quality in a real Home Assistant: thresholds from the options, events no poll misses, repairs."""

from __future__ import annotations

import random
from typing import Any

import pytest
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.const import DOMAIN
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.channels import CIRCUITS_KEY
from custom_components.atm90e32.driver.emulator import ConstantLoad, Disturbance, DisturbanceKind, EmulatedAtm90e32

from .conftest import V14_OPTIONS
from .emulation import FaultyEmulator, ManualClock
from .helpers import replay, setup_entry, unload_as_a_crash

INTERVAL = 5
PQ_INPUT: dict[str, Any] = {
    "nominal_voltage": "120",
    "sag_percent": 80,
    "swell_percent": 110,
    "phase_loss_percent": 10,
    "frequency_percent": 1,
    "over_current": 65,
    "export_expected": False,
}


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, domain: str, key: str) -> str:
    found = er.async_get(hass).async_get_entity_id(domain, DOMAIN, f"{entry.entry_id}_{key}")
    assert found is not None, key
    return found


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    """The state of ``entity_id`` now (it must exist)."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


def record(hass: HomeAssistant, *entity_ids: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Every state written to ``entity_ids`` from now on: (entity id, state, attributes)."""
    seen: list[tuple[str, str, dict[str, Any]]] = []

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None:
            seen.append((new.entity_id, new.state, dict(new.attributes)))

    async_track_state_change_event(hass, list(entity_ids), changed)
    return seen


async def open_power_quality(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "power_quality"})
    assert result["step_id"] == "power_quality"
    return result


@pytest.mark.usefixtures("patched_monotonic")
@pytest.mark.parametrize("entry_options", [V14_OPTIONS])
async def test_a_200_ms_sag_between_two_refreshes_is_one_event_one_count_and_an_on_off(
    hass: HomeAssistant, v14_board: EmulatedAtm90e32, init_integration: MockConfigEntry, clock: ManualClock
) -> None:
    entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 30)
    sag = entity_id(hass, entry, "binary_sensor", "l1_sag")
    event = entity_id(hass, entry, "event", "power_quality")
    counter = entity_id(hass, entry, "sensor", "l1_sag_count")
    seen = record(hass, sag, event)
    now = clock()
    v14_board.schedule(Disturbance(kind="sag", phase=Phase.A, start=now + 2.0, end=now + 2.2, value=80.0))
    await replay(coordinator, clock, INTERVAL)
    assert [s for e, s, _ in seen if e == sag] == ["on", "off"]
    fired = [(a["event_type"], a.get("channel"), a.get("voltage")) for e, _, a in seen if e == event]
    assert [(t, c) for t, c, _ in fired] == [("sag", "L1"), ("sag_end", "L1")]
    assert state_of(hass, counter) == "1"
    assert v14_board.registers.get(reg.EMM_INT_STATE1, 0) == 0  # read, then cleared
    await replay(coordinator, clock, 60)
    assert len([s for e, s, _ in seen if e == sag]) == 2  # nothing more
    assert state_of(hass, sag) == "off"


@pytest.mark.usefixtures("patched_monotonic")
@pytest.mark.parametrize("entry_options", [V14_OPTIONS])
async def test_a_day_with_100_random_events_books_each_exactly_once(
    hass: HomeAssistant, v14_board: EmulatedAtm90e32, init_integration: MockConfigEntry, clock: ManualClock
) -> None:
    entry, coordinator = init_integration, init_integration.runtime_data
    event = entity_id(hass, entry, "event", "power_quality")
    seen = record(hass, event)
    rng = random.Random(20261126)
    values: dict[DisturbanceKind, float] = {
        "sag": 80.0,
        "swell": 140.0,
        "phase_loss": 5.0,
        "over_current": 70.0,
        "frequency": 61.0,
    }
    scheduled: list[tuple[str, Phase | None]] = []
    for i in range(100):
        kind = rng.choice(list(values))
        phase = None if kind == "frequency" else rng.choice([Phase.A, Phase.C])
        start = 300 + i * 860 + rng.uniform(0, 400)
        length = rng.choice([0.1, 0.2, 0.5, 2.0, rng.uniform(5, 60)])
        v14_board.schedule(Disturbance(kind=kind, phase=phase, start=start, end=start + length, value=values[kind]))
        scheduled.append((kind, phase))
    await replay(coordinator, clock, 24 * 3600, INTERVAL)

    starts = [a["event_type"] for e, _, a in seen if e == event and not a["event_type"].endswith("_end")]
    ends = [a["event_type"] for e, _, a in seen if e == event and a["event_type"].endswith("_end")]
    kind_of = {"sag": "sag", "swell": "swell", "phase_loss": "phase_loss", "over_current": "over_current"}
    expected = [kind_of.get(kind, "frequency_high") for kind, _ in scheduled]
    # A phase loss (5 V) is also below the sag threshold: the chip latches both.
    expected_starts = sorted(expected + ["sag" for kind, _ in scheduled if kind == "phase_loss"])
    assert sorted(starts) == expected_starts
    assert sorted(end.removesuffix("_end") for end in ends) == expected_starts
    for leg, phase in (("l1", Phase.A), ("l2", Phase.C)):
        sags = sum(1 for kind, p in scheduled if p == phase and kind in ("sag", "phase_loss"))
        losses = sum(1 for kind, p in scheduled if p == phase and kind == "phase_loss")
        swells = sum(1 for kind, p in scheduled if p == phase and kind == "swell")
        assert coordinator.watch.counters[f"{leg}_sag"] == sags
        assert coordinator.watch.counters[f"{leg}_phase_loss"] == losses
        assert coordinator.watch.counters[f"{leg}_swell"] == swells
    print(
        f"\n24 h, 100 scheduled events: {len(starts)} starts and {len(ends)} ends booked; "
        f"counters {coordinator.watch.counters}"
    )


@pytest.mark.parametrize("entry_options", [V14_OPTIONS])
async def test_options_validate_thresholds_and_write_them_on_save(
    hass: HomeAssistant, v14_board: EmulatedAtm90e32, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    written = dict(v14_board.registers)
    result = await open_power_quality(hass, entry)
    for change, field, error in (
        ({"sag_percent": 100}, "sag_percent", "sag_not_below_nominal"),
        ({"swell_percent": 95}, "swell_percent", "swell_not_above_nominal"),
        ({"phase_loss_percent": 85}, "phase_loss_percent", "phase_loss_not_below_sag"),
        ({"frequency_percent": 0}, "frequency_percent", "frequency_out_of_range"),
        ({"over_current": 0}, "over_current", "over_current_out_of_range"),
    ):
        result = await hass.config_entries.options.async_configure(result["flow_id"], {**PQ_INPUT, **change})
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {field: error}
        assert v14_board.registers == written  # nothing reaches the chip
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**PQ_INPUT, "sag_percent": 90, "nominal_voltage": "120"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options["sag_percent"] == 90
    # 108 V at Ugain 37106: 108 x 100 x sqrt(2) / (2 x 37106 / 32768) = 6744
    assert v14_board.registers[reg.SAG_TH] == 6744


async def test_a_threshold_the_chip_cannot_hold_is_said_once_then_accepted(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    result = await open_power_quality(hass, init_integration)  # Ugain 3920: at most 110.9 V fits
    result = await hass.config_entries.options.async_configure(result["flow_id"], PQ_INPUT)
    assert result["errors"] == {"base": "thresholds_polled"}
    assert result["description_placeholders"] is not None
    assert "voltage swell at most 110.9 V" in result["description_placeholders"]["polled"]
    result = await hass.config_entries.options.async_configure(result["flow_id"], PQ_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("patched_monotonic")
async def test_a_swell_the_chip_cannot_latch_is_seen_in_the_readings(
    hass: HomeAssistant, mock_transport: EmulatedAtm90e32, init_integration: MockConfigEntry, clock: ManualClock
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    swell = entity_id(hass, config_entry, "binary_sensor", "l2_swell")
    await replay(coordinator, clock, 10)
    now = clock()
    mock_transport.schedule(Disturbance(kind="swell", phase=Phase.C, start=now + 1, end=now + 31, value=140.0))
    await replay(coordinator, clock, 15)
    assert state_of(hass, swell) == "on"
    await replay(coordinator, clock, 30)
    assert state_of(hass, swell) == "off"
    assert coordinator.watch.counters["l2_swell"] == 1


@pytest.mark.usefixtures("patched_monotonic")
async def test_negative_power_without_generation_raises_the_reversed_ct_repair(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, clock: ManualClock
) -> None:
    mock_transport.load = ConstantLoad(watts=(1000.0, -600.0), volts=120.0)
    coordinator = await setup_entry(hass, config_entry)
    issue_id = f"ct_reversed_l2_{config_entry.entry_id}"
    await replay(coordinator, clock, 55)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await replay(coordinator, clock, 10)
    found = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert found is not None
    assert found.translation_placeholders is not None
    assert found.translation_placeholders["channel_name"] == "L2"
    result = await open_power_quality(hass, config_entry)
    # At Ugain 3920 the swell is said once to be judged at each refresh; the same again saves.
    await hass.config_entries.options.async_configure(result["flow_id"], {**PQ_INPUT, "export_expected": True})
    result = await hass.config_entries.options.async_configure(result["flow_id"], {**PQ_INPUT, "export_expected": True})
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None  # solar declared: export, not a reversed CT
    await replay(config_entry.runtime_data, clock, 120)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.usefixtures("patched_monotonic")
async def test_a_clipped_current_raises_the_current_scaling_repair(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, clock: ManualClock
) -> None:
    mock_transport.load = ConstantLoad(watts=(9000.0, 500.0), volts=120.0, power_factor=1.0)  # 75 A on L1
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, 5)
    found = ir.async_get(hass).async_get_issue(DOMAIN, f"current_clipped_l1_{config_entry.entry_id}")
    assert found is not None
    assert found.translation_placeholders is not None
    assert found.translation_placeholders["value"] == "65.5"


@pytest.mark.usefixtures("patched_monotonic")
async def test_a_voltage_out_of_range_for_ten_minutes_raises_a_repair_that_clears(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, clock: ManualClock
) -> None:
    mock_transport.load = ConstantLoad(watts=(1000.0, 500.0), volts=106.0)  # 11.7 % below 120 V, above the sag
    coordinator = await setup_entry(hass, config_entry)
    issue_id = f"voltage_out_of_range_l1_{config_entry.entry_id}"
    await replay(coordinator, clock, 595)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await replay(coordinator, clock, 10)
    found = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert found is not None
    assert found.translation_placeholders is not None
    assert (found.translation_placeholders["value"], found.translation_placeholders["nominal"]) == ("106.0", "120")
    mock_transport.load = ConstantLoad(watts=(1000.0, 500.0), volts=121.0)
    await replay(coordinator, clock, 5)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.usefixtures("patched_monotonic")
async def test_condition_sensors_go_unavailable_with_the_chip_and_come_back(
    hass: HomeAssistant, mock_transport: FaultyEmulator, init_integration: MockConfigEntry, clock: ManualClock
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    sag = entity_id(hass, config_entry, "binary_sensor", "l1_sag")
    event = entity_id(hass, config_entry, "event", "power_quality")
    seen = record(hass, sag, event)
    await replay(coordinator, clock, 15)
    assert seen == []  # nothing changed: nothing written
    mock_transport.faults.dead_bus = 0xFF
    await replay(coordinator, clock, 5)
    assert state_of(hass, sag) == state_of(hass, event) == "unavailable"
    mock_transport.faults.dead_bus = None
    await replay(coordinator, clock, 5)
    assert state_of(hass, sag) == "off"
    assert state_of(hass, event) == "unknown"


@pytest.mark.usefixtures("patched_monotonic")
@pytest.mark.parametrize("entry_options", [V14_OPTIONS])
async def test_the_event_counters_survive_a_reload_and_a_crash(
    hass: HomeAssistant, v14_board: EmulatedAtm90e32, init_integration: MockConfigEntry, clock: ManualClock
) -> None:
    entry, coordinator = init_integration, init_integration.runtime_data
    now = clock()
    v14_board.schedule(Disturbance(kind="sag", phase=Phase.C, start=now + 1.0, end=now + 1.3, value=70.0))
    await replay(coordinator, clock, INTERVAL)
    counter = entity_id(hass, entry, "sensor", "l2_sag_count")
    assert state_of(hass, counter) == "1"
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state_of(hass, counter) == "1"
    await unload_as_a_crash(hass, entry)  # only what is on disk survives
    coordinator = await setup_entry(hass, entry)
    assert state_of(hass, counter) == "1"
    now = clock()
    v14_board.schedule(Disturbance(kind="sag", phase=Phase.C, start=now + 1.0, end=now + 1.3, value=70.0))
    await replay(coordinator, clock, INTERVAL)
    assert state_of(hass, counter) == "2"


@pytest.mark.usefixtures("patched_monotonic")
@pytest.mark.parametrize("entry_options", [V14_OPTIONS])
async def test_a_condition_present_when_the_entry_loads_fires_and_counts_once(
    hass: HomeAssistant, config_entry: MockConfigEntry, v14_board: EmulatedAtm90e32, clock: ManualClock
) -> None:
    """A sag already there at the first refresh starts (an event, a count); still there after a reload, not again."""
    entry = config_entry
    now = clock()
    v14_board.schedule(Disturbance(kind="sag", phase=Phase.A, start=now - 1.0, end=now + 3600.0, value=80.0))
    written: dict[str, str] = {}  # an event's time (the event entity's state) -> its type

    @callback
    def event_written(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.domain == "event" and new.attributes.get("event_type"):
            written[new.state] = f"{new.attributes['event_type']} {new.attributes.get('channel')}"

    hass.bus.async_listen("state_changed", event_written)
    coordinator = await setup_entry(hass, entry)
    await hass.async_block_till_done()
    sag = entity_id(hass, entry, "binary_sensor", "l1_sag")
    counter = entity_id(hass, entry, "sensor", "l1_sag_count")
    assert state_of(hass, sag) == "on"
    assert list(written.values()) == ["sag L1"]
    assert state_of(hass, counter) == "1"
    await replay(coordinator, clock, 3 * INTERVAL)
    assert state_of(hass, counter) == "1"  # it goes on: not a new start

    assert await hass.config_entries.async_reload(entry.entry_id)  # an options save, say
    await hass.async_block_till_done()
    assert state_of(hass, sag) == "on"
    assert list(written.values()) == ["sag L1"]  # the same sag, known from the store: no second start
    assert state_of(hass, counter) == "1"


@pytest.mark.usefixtures("patched_monotonic")
@pytest.mark.parametrize("wiring", [CIRCUITS_KEY])
async def test_a_circuits_chip_watches_the_voltage_its_circuits_share_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_transport: EmulatedAtm90e32, clock: ManualClock
) -> None:
    """Issue 26 item 14: one transformer feeds every voltage input; its sags are the chip's, once, not per circuit.

    The chip compares each phase's own Urms with SagTh (EMMState1 SagWarnA-C, DS p.61), so with the
    board's jumper every phase flags the same sag: only the reference channel's (CT1, phase A) latch
    is enabled (EMMIntEn0/1, DS pp.64-65), and over-current stays each circuit's.
    """
    entry, coordinator = init_integration, init_integration.runtime_data
    registers = mock_transport.registers
    a = Phase.A
    assert (
        registers[reg.EMM_INT_EN1] & (reg.SAG_BITS[a] | reg.PHASE_LOSS_BITS[a])
        == reg.SAG_BITS[a] | (reg.PHASE_LOSS_BITS[a])
    )
    for phase in (Phase.B, Phase.C):
        assert registers[reg.EMM_INT_EN1] & (reg.SAG_BITS[phase] | reg.PHASE_LOSS_BITS[phase]) == 0
        assert registers[reg.EMM_INT_EN0] & reg.OV_BITS[phase] == 0
    assert registers[reg.EMM_INT_EN0] & reg.OI_BITS[Phase.C] == reg.OI_BITS[Phase.C]  # the dryer's CT3
    await replay(coordinator, clock, 10)
    sag = entity_id(hass, entry, "binary_sensor", "sag")
    event = entity_id(hass, entry, "event", "power_quality")
    counter = entity_id(hass, entry, "sensor", "sag_count")
    seen = record(hass, sag, event)
    now = clock()
    for phase in Phase:  # the one voltage drops on every input at once
        mock_transport.schedule(Disturbance(kind="sag", phase=phase, start=now + 2, end=now + 2.3, value=80.0))
    await replay(coordinator, clock, 2 * INTERVAL)
    assert [s for e, s, _ in seen if e == sag] == ["on", "off"]
    fired = [(a["event_type"], a.get("channel"), a["limit"]) for e, _, a in seen if e == event]
    assert fired == [("sag", None, 96.0), ("sag_end", None, 96.0)]  # the chip's voltage: no circuit named
    assert state_of(hass, counter) == "1"
    assert coordinator.watch.counters == {"sag": 1, "swell": 0, "phase_loss": 0}
    registry = er.async_get(hass)
    for key in ("ct1_sag", "ct3_swell", "ct1_phase_loss"):
        assert registry.async_get_entity_id("binary_sensor", DOMAIN, f"{entry.entry_id}_{key}") is None
    assert entity_id(hass, entry, "binary_sensor", "ct3_over_current")


@pytest.mark.usefixtures("patched_monotonic")
@pytest.mark.parametrize("wiring", [CIRCUITS_KEY])
async def test_a_circuits_chip_keeps_its_per_circuit_counts_and_state_as_the_chip_s(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
) -> None:
    """Before issue 26 item 14 each circuit counted the shared voltage's sags: the chip's counter takes the most,
    a sag still there (stored as CT1's) is not a new start, and the per-circuit entities leave the registry."""
    entry = config_entry
    entry.add_to_hass(hass)
    registry = er.async_get(hass)
    retired = [
        registry.async_get_or_create(platform, DOMAIN, f"{entry.entry_id}_{key}{suffix}", config_entry=entry).entity_id
        for key in ("ct1_sag", "ct3_sag", "ct1_phase_loss")
        for platform, suffix in (("binary_sensor", ""), ("sensor", "_count"))
    ]
    kept = registry.async_get_or_create(
        "binary_sensor", DOMAIN, f"{entry.entry_id}_ct3_over_current", config_entry=entry
    )
    events = {"ct1_sag": 4, "ct3_sag": 3, "ct1_swell": 1, "ct3_swell": 2, "active": ["ct1_sag"]}
    hass_storage[f"{DOMAIN}.ledger.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.ledger.{entry.entry_id}",
        "data": {"counts": {}, "events": events, "read_at": dt_util.utcnow().isoformat(), "power_w": 0.0},
    }
    now = clock()
    for phase in Phase:  # the sag stored as active goes on
        mock_transport.schedule(Disturbance(kind="sag", phase=phase, start=now - 1, end=now + 3600, value=80.0))
    coordinator = await setup_entry(hass, entry)
    await replay(coordinator, clock, 2 * INTERVAL)

    assert coordinator.watch.counters == {"sag": 4, "swell": 2, "phase_loss": 0}
    assert state_of(hass, entity_id(hass, entry, "binary_sensor", "sag")) == "on"
    assert state_of(hass, entity_id(hass, entry, "sensor", "sag_count")) == "4"  # not started again
    assert coordinator.watch.as_dict()["active"] == ["sag"]
    assert [registry.async_get(retired_id) for retired_id in retired] == [None] * len(retired)
    moved = registry.async_get(kept.entity_id)
    assert moved is not None
    assert moved.unique_id == f"{entry.entry_id}_ct3_over_current"
