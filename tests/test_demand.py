"""Demand in Home Assistant: the real household trace replayed, checked against the trace itself.

Home Assistant's clock (freezer) moves with the emulated chip's clock, so the trace's
second ``t`` is the wall time ``T0 + t``.  The expected average of an interval is the
trace's own: the mean of its 1 Hz whole-home watts over the interval's seconds (the
emulator meters each second's watts for that second, and the service total is L1 + L2,
the whole home).  Nothing expected here comes from the code under test.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.atm90e32.const import CONF_CYCLE_START_DAY, CONF_DEMAND_INTERVAL, DOMAIN
from custom_components.atm90e32.coordinator import Atm90e32Coordinator
from custom_components.atm90e32.driver.demand import DemandInterval
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32, TraceLoad

from .emulation import FaultyEmulator, ManualClock
from .helpers import setup_entry, state, unload_as_a_crash
from .test_data_descriptions import load

WH_PER_COUNT = 0.003125  # DS p.12: PL_constant for 3200 imp/kWh
DEMAND_KEYS = ("demand", "projected_demand", "peak_demand", "peak_demand_time")


def entry_with(config_entry: MockConfigEntry, **options: Any) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        data=dict(config_entry.data),
        options={**config_entry.options, **options},
        unique_id=config_entry.unique_id,
        title=config_entry.title,
    )


def trace_average_w(load: TraceLoad, begin: int, end: int) -> float:
    """The trace's mean whole-home watts over its seconds ``begin`` .. ``end - 1``."""
    return sum(load.whole_home_watts(t) for t in range(begin, end)) / (end - begin)


def trace_counts(load: TraceLoad, begin: float, end: float) -> float:
    """The trace's energy between two instants, in counts (1 Hz samples, each held for its second)."""
    total = 0.0
    second = int(begin)
    while second < end:
        overlap = min(end, second + 1) - max(begin, second)
        total += load.whole_home_watts(second) * overlap
        second += 1
    return total / 3600 / WH_PER_COUNT


def step_w(interval: DemandInterval) -> float:
    """One counter step as an interval's average, W."""
    return WH_PER_COUNT * 3600 / (interval.end - interval.start)


class Replay:
    """Refreshes every ``every`` s with Home Assistant's clock and the chip's clock in step; collects the intervals."""

    def __init__(self, coordinator: Atm90e32Coordinator, clock: ManualClock, freezer: FrozenDateTimeFactory) -> None:
        self.coordinator, self.clock, self.freezer = coordinator, clock, freezer
        self.t0 = dt_util.utcnow().timestamp() - clock()
        """Wall time (Unix s) of the trace's second 0."""
        self.intervals: list[DemandInterval] = []
        self.reads: list[float] = [dt_util.utcnow().timestamp()]

    async def run(self, seconds: int, every: int = 5) -> None:
        for _ in range(seconds // every):
            self.clock.advance(every)
            self.freezer.tick(every)
            await self.coordinator.async_refresh()
            self.reads.append(dt_util.utcnow().timestamp())
            last = self.coordinator.demand.last
            if last is not None and (not self.intervals or self.intervals[-1] != last):
                self.intervals.append(last)
        await self.coordinator.hass.async_block_till_done()


def local(hass: HomeAssistant, at: float) -> str:
    return datetime.fromtimestamp(at, dt_util.get_time_zone(hass.config.time_zone)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize(
    ("time_zone", "minutes", "hours"),
    [("America/Los_Angeles", 15, 3), ("Asia/Kathmandu", 60, 4), ("Europe/London", 5, 1)],
)
async def test_demand_from_the_trace_equals_the_trace_within_one_counter_step(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
    time_zone: str,
    minutes: int,
    hours: int,
) -> None:
    """Refreshes every 5 s from 13:52:30 local: no read straddles a boundary, so only the chip's counting differs."""
    await hass.config.async_set_time_zone(time_zone)
    tz = dt_util.get_time_zone(time_zone)
    freezer.move_to(datetime(2026, 11, 2, 13, 52, 30, tzinfo=tz))
    entry = entry_with(config_entry, **{CONF_DEMAND_INTERVAL: minutes})
    coordinator = await setup_entry(hass, entry)
    replay = Replay(coordinator, clock, freezer)
    await replay.run(hours * 3600)

    load = mock_transport.load
    assert isinstance(load, TraceLoad)
    first, *complete = replay.intervals
    assert not first.complete  # counting began at 13:52:30, inside it
    assert len(complete) == hours * 60 // minutes - 1
    worst_w = worst_steps = 0.0
    for interval in complete:
        assert interval.complete
        begin = datetime.fromtimestamp(interval.start, tz)
        assert begin.minute % minutes == 0
        assert begin.second == 0  # on the local clock (Kathmandu is UTC+5:45)
        assert interval.end - interval.start == minutes * 60
        expected = trace_average_w(load, round(interval.start - replay.t0), round(interval.end - replay.t0))
        ours = interval.average_w
        assert ours is not None
        assert abs(ours - expected) <= step_w(interval)
        worst_w = max(worst_w, abs(ours - expected))
        worst_steps = max(worst_steps, abs(ours - expected) / step_w(interval))
    last = complete[-1]
    shown = float(state(hass, entry, "demand").state)
    assert shown == pytest.approx(round(last.average_w or 0, 1))
    peak = max(complete, key=lambda i: i.average_w or 0)
    assert float(state(hass, entry, "peak_demand").state) == pytest.approx(round(peak.average_w or 0, 1))
    assert dt_util.parse_datetime(state(hass, entry, "peak_demand_time").state) == datetime.fromtimestamp(
        peak.start, dt_util.UTC
    )
    print(  # the figures for the closing note (pytest -s)
        f"\n{time_zone}, {minutes} min, {len(complete)} intervals from the trace: largest difference "
        f"{worst_w:.4f} W = {worst_steps:.2f} counter steps (one step = {step_w(last):.4f} W); "
        f"peak {peak.average_w:.1f} W at {local(hass, peak.start)}"
    )


async def test_reads_straddling_the_boundaries_are_split_within_the_stated_bound(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Refreshes every 7 s: most boundaries fall inside a read, whose counts are split by time."""
    tz = dt_util.get_time_zone(hass.config.time_zone)
    freezer.move_to(datetime(2026, 11, 2, 13, 52, 30, tzinfo=tz))
    coordinator = await setup_entry(hass, config_entry)
    replay = Replay(coordinator, clock, freezer)
    await replay.run(3 * 3600, every=7)
    load = mock_transport.load
    assert isinstance(load, TraceLoad)

    def straddling_counts(boundary: float) -> float:
        """The trace's counts in the read whose span holds ``boundary`` (0 when a read falls on it)."""
        for before, after in zip(replay.reads, replay.reads[1:], strict=False):
            if before < boundary < after:
                return trace_counts(load, before - replay.t0, after - replay.t0)
        return 0.0

    complete = [i for i in replay.intervals if i.complete]
    assert len(complete) == 11
    straddled = worst_w = 0.0
    bounds: list[float] = []
    for interval in complete:
        edges = straddling_counts(interval.start) + straddling_counts(interval.end)
        straddled += edges > 0
        truth = trace_counts(load, interval.start - replay.t0, interval.end - replay.t0)
        bound = (edges + 1) * WH_PER_COUNT * 3600 / (interval.end - interval.start)
        ours = interval.average_w
        assert ours is not None
        error = abs(ours - truth * WH_PER_COUNT * 3600 / (interval.end - interval.start))
        assert error <= bound
        worst_w = max(worst_w, error)
        bounds.append(bound)
    assert straddled >= 10  # 900 s is not a multiple of 7 s
    print(
        f"\n7 s refreshes, {len(complete)} intervals, {straddled:.0f} with straddling reads: largest difference "
        f"{worst_w:.3f} W; the stated bound {min(bounds):.1f} to {max(bounds):.1f} W"
    )


async def test_refreshes_that_fail_inside_an_interval_change_nothing(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The bus is dead for 30 s in the middle of 14:00-14:15: six refreshes fail, the chip keeps counting."""
    tz = dt_util.get_time_zone(hass.config.time_zone)
    freezer.move_to(datetime(2026, 11, 2, 13, 52, 30, tzinfo=tz))
    coordinator = await setup_entry(hass, config_entry)
    replay = Replay(coordinator, clock, freezer)
    await replay.run(7 * 60 + 30 + 7 * 60)  # to 14:07:00
    failed = coordinator.health.failed_refreshes
    mock_transport.faults.dead_bus = 0xFF
    await replay.run(30)
    mock_transport.faults.dead_bus = None
    assert coordinator.health.failed_refreshes == failed + 6
    await replay.run(8 * 60 + 5)  # past 14:15
    interval = coordinator.demand.last
    assert interval is not None
    assert local(hass, interval.start) == "2026-11-02 14:00:00"
    assert interval.complete
    load = mock_transport.load
    assert isinstance(load, TraceLoad)
    expected = trace_average_w(load, round(interval.start - replay.t0), round(interval.end - replay.t0))
    assert abs((interval.average_w or 0) - expected) <= step_w(interval)


async def test_the_new_sensors_have_the_names_the_blueprints_use(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    await setup_entry(hass, config_entry)
    registry = er.async_get(hass)
    for key in DEMAND_KEYS:
        entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{config_entry.entry_id}_{key}")
        assert entity_id == f"sensor.atm90e32as_simulated_{key}"
    assert state(hass, config_entry, "peak_demand_time").attributes["device_class"] == "timestamp"
    assert state(hass, config_entry, "demand").attributes["unit_of_measurement"] == "W"


async def test_the_peak_survives_a_crash_and_resets_on_the_cycle_start_day(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Cycle from the 3rd: a peak on 2 November 23:xx, a crash and restart, then midnight of the 3rd."""
    tz = dt_util.get_time_zone(hass.config.time_zone)
    freezer.move_to(datetime(2026, 11, 2, 23, 10, 0, tzinfo=tz))
    entry = entry_with(config_entry, **{CONF_CYCLE_START_DAY: 3})
    coordinator = await setup_entry(hass, entry)
    replay = Replay(coordinator, clock, freezer)
    await replay.run(40 * 60)  # to 23:50
    peak_w, peak_time = state(hass, entry, "peak_demand").state, state(hass, entry, "peak_demand_time").state
    assert local(hass, dt_util.parse_datetime(peak_time).timestamp()) in (  # type: ignore[union-attr]
        "2026-11-02 23:15:00",
        "2026-11-02 23:30:00",
    )
    load = mock_transport.load
    assert isinstance(load, TraceLoad)

    # Home Assistant is killed at 23:50:00 and back 40 s later; the chip kept counting.
    await unload_as_a_crash(hass, entry)
    clock.advance(40)
    freezer.tick(40)
    coordinator = await setup_entry(hass, entry)
    assert state(hass, entry, "peak_demand").state == peak_w
    assert state(hass, entry, "peak_demand_time").state == peak_time
    replay = Replay(coordinator, clock, freezer)
    t0 = replay.t0
    await replay.run(9 * 60 + 20)  # to 00:00:00 of the 3rd: 23:45-00:00 is closed, across the restart
    across = coordinator.demand.last
    assert across is not None
    assert local(hass, across.start) == "2026-11-02 23:45:00"
    assert across.complete  # the counts of the 40 s away were in the chip, read after the restart
    expected = trace_average_w(load, round(across.start - t0), round(across.end - t0))
    assert abs((across.average_w or 0) - expected) <= step_w(across)
    # Midnight of the 3rd: a new cycle, no interval of it complete yet.
    assert state(hass, entry, "peak_demand").state == "unknown"
    assert state(hass, entry, "peak_demand_time").state == "unknown"
    assert float(state(hass, entry, "demand").state) == pytest.approx(round(expected, 1), abs=0.06)

    # Home Assistant's own schedule refreshes from here (test clock: freezer + async_fire_time_changed).
    refreshes = coordinator.health.refreshes
    ticks = 15 * 60 // 5 + 2
    for _ in range(ticks):
        clock.advance(5)
        freezer.tick(timedelta(seconds=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)  # the refresh runs as a background task
    assert coordinator.health.refreshes == refreshes + ticks  # every 5 s, by the coordinator's own timer
    first = coordinator.demand.last
    assert first is not None
    assert local(hass, first.start) == "2026-11-03 00:00:00"
    expected = trace_average_w(load, round(first.start - t0), round(first.end - t0))
    assert abs((first.average_w or 0) - expected) <= step_w(first)
    assert state(hass, entry, "peak_demand").state == state(hass, entry, "demand").state != "unknown"
    assert local(hass, dt_util.parse_datetime(state(hass, entry, "peak_demand_time").state).timestamp()) == (  # type: ignore[union-attr]
        "2026-11-03 00:00:00"
    )


async def test_a_restart_that_reset_the_chip_marks_the_interval_incomplete(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: Any,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A power cut took the chip's counts with it: the interval is unknown, not low, and sets no peak."""
    tz = dt_util.get_time_zone(hass.config.time_zone)
    freezer.move_to(datetime(2026, 11, 2, 13, 40, 0, tzinfo=tz))
    coordinator = await setup_entry(hass, config_entry)
    replay = Replay(coordinator, clock, freezer)
    await replay.run(25 * 60)  # 14:05; 13:45-14:00 complete
    peak = state(hass, config_entry, "peak_demand").state
    assert peak != "unknown"
    await unload_as_a_crash(hass, config_entry)
    clock.advance(20)
    freezer.tick(20)
    mock_transport.brown_out()
    coordinator = await setup_entry(hass, config_entry)
    assert state(hass, config_entry, "projected_demand").state == "unknown"
    replay = Replay(coordinator, clock, freezer)
    await replay.run(10 * 60)
    assert coordinator.demand.last is not None
    assert local(hass, coordinator.demand.last.start) == "2026-11-02 14:00:00"
    assert not coordinator.demand.last.complete
    assert state(hass, config_entry, "demand").state == "unknown"
    assert state(hass, config_entry, "peak_demand").state == peak
    assert state(hass, config_entry, "projected_demand").state != "unknown"  # 14:15-14:30 is whole


async def open_demand(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    """Open Configure, pick "Demand and billing cycle"; returns its form."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "demand" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "demand"})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "demand"
    return result


async def choose(hass: HomeAssistant, entry: MockConfigEntry, values: dict[str, Any]) -> Any:
    """Open Configure, pick "Demand and billing cycle", submit ``values``."""
    result = await open_demand(hass, entry)
    result = await hass.config_entries.options.async_configure(result["flow_id"], values)
    await hass.async_block_till_done()
    return result


OUT_OF_RANGE = {CONF_CYCLE_START_DAY: "cycle_start_day_out_of_range"}


async def test_the_demand_interval_is_a_choice_of_four_lengths_in_minutes(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    """Labelled with their unit in every language, no custom value: a person can only pick what is accepted."""
    await setup_entry(hass, config_entry)
    result = await open_demand(hass, config_entry)
    fields = {str(key): value for key, value in result["data_schema"].schema.items()}
    interval = fields[CONF_DEMAND_INTERVAL].config
    assert interval["options"] == ["5", "15", "30", "60"]
    assert not interval.get("custom_value")
    assert interval["translation_key"] == CONF_DEMAND_INTERVAL
    units = {"en": "minutes", "fr": "minutes", "de": "Minuten", "es": "minutos"}
    for language, unit in units.items():
        labels = load(language)["selector"][CONF_DEMAND_INTERVAL]["options"]
        assert set(labels) == set(interval["options"])
        assert all(label.startswith(f"{minutes} {unit}") for minutes, label in labels.items()), labels
    day = fields[CONF_CYCLE_START_DAY].config
    assert (day["min"], day["max"]) == (1, 28)  # shown by the frontend; the step says what is wrong (below)
    with pytest.raises(InvalidData):  # a value the frontend cannot send is the form library's to refuse
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_DEMAND_INTERVAL: "10", CONF_CYCLE_START_DAY: 1}
        )


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({CONF_DEMAND_INTERVAL: "15", CONF_CYCLE_START_DAY: 29}, OUT_OF_RANGE),
        ({CONF_DEMAND_INTERVAL: "15", CONF_CYCLE_START_DAY: 0}, OUT_OF_RANGE),
        ({CONF_DEMAND_INTERVAL: "15", CONF_CYCLE_START_DAY: -3}, OUT_OF_RANGE),
        ({CONF_DEMAND_INTERVAL: "15", CONF_CYCLE_START_DAY: 2.5}, OUT_OF_RANGE),
        ({CONF_DEMAND_INTERVAL: "60", CONF_CYCLE_START_DAY: 31}, OUT_OF_RANGE),
    ],
)
async def test_wrong_demand_options_are_refused_with_the_reason_and_nothing_saved(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    values: dict[str, Any],
    errors: dict[str, str],
) -> None:
    await setup_entry(hass, config_entry)
    before = dict(config_entry.options)
    result = await choose(hass, config_entry, values)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert dict(config_entry.options) == before
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_DEMAND_INTERVAL: "30", CONF_CYCLE_START_DAY: 12}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert config_entry.options == {**before, CONF_DEMAND_INTERVAL: 30, CONF_CYCLE_START_DAY: 12}
    demand = config_entry.runtime_data.demand  # reloaded under the new options
    assert demand.length_s == 1800
    assert demand.cycle_start_day == 12


async def test_a_stored_value_not_offered_falls_back_to_the_default(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = entry_with(config_entry, **{CONF_DEMAND_INTERVAL: 7, CONF_CYCLE_START_DAY: 30})
    coordinator = await setup_entry(hass, entry)
    assert coordinator.demand.length_s == 900
    assert coordinator.demand.cycle_start_day == 1
    assert "A demand interval of 7 min is not one offered; using 15 min" in caplog.text
    assert "A billing cycle starting on day 30 is not possible; starting on day 1" in caplog.text
