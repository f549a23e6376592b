"""Recorder benchmark: what the meter costs Home Assistant's database, per chip and for 6 chips.

Usage: scripts/recorder_benchmark [--intervals 1 5 30] [--chips 1 6] [--json PATH]

For each refresh interval and chip count, one run: a real Home Assistant core with its
real recorder writing a SQLite file in a temporary directory, and the integration's
simulated meters (the chip emulator replaying the bundled household trace; chip n starts
n x 10 minutes into it).  Time is simulated: Home Assistant's clock (and so the
coordinator's schedule, the recorder's commits and its 5-minute statistics runs) moves
a quarter second at a time, from 11:58 to 13:00:30 UTC on a fixed day, so the hour 12:00-13:00
is recorded and its statistics compiled exactly as a running Home Assistant would.
The default sensor set of a new installation is enabled; nothing is excluded from the
recorder.

Reported for that hour, multiplied by 24 to a day:
- ``states`` rows written for the meter's entities;
- database growth in MB (SQLite's dbstat: every table and index, in allocated pages),
  and the part of it in ``states`` and its indexes;
- short-term (5-minute) and long-term (hourly) statistics rows;
- ledger writes: rewrites of ``.storage/atm90e32.ledger.<entry id>`` (atomic, fsync)
  and, where the code has one, writes of its journal (in place, no fsync);
- the hour's imported energy as the Energy dashboard shows it (long-term statistics,
  chip 0's total), and the last energy state recorded before 13:00, to compare runs.

Prints a table and writes JSON (default recorder-benchmark-results.json).  The same
script runs on older versions of the integration (an update interval the code cannot
configure is set on the coordinator directly).
"""

from __future__ import annotations

# Home Assistant's test harness makes dt_util.utcnow patchable by freezegun: import it first.
from pytest_homeassistant_custom_component import patch_time  # isort: skip

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import freezegun
import freezegun.api

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from homeassistant import loader
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import recorder as recorder_helper
from homeassistant.helpers import storage
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_test_home_assistant
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done

from custom_components.atm90e32 import const, settings
from custom_components.atm90e32 import storage as ledger_storage
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32, TraceLoad
from custom_components.atm90e32.driver.registers import ENERGY_LSB_WH

START = datetime(2026, 1, 15, 11, 58, 0, tzinfo=UTC)
HOUR_START = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
HOUR_END = HOUR_START + timedelta(hours=1)
STOP = HOUR_END + timedelta(seconds=30)
COUNT_KWH = ENERGY_LSB_WH / 1000
RECORDER = "recorder"
TICK_S = 0.25
"""Simulated time moves in quarter seconds: a coordinator due at a whole second plus 0.05-0.5 s
(Home Assistant's spread) runs then, and schedules its next refresh exactly one interval on."""


def prepare_freezegun() -> None:
    """Freezegun as Home Assistant's own test plugin configures it (its time-zone aware fake datetime)."""
    for name, value in {
        "FakeDate": patch_time.HAFakeDate,
        "datetime_to_fakedatetime": patch_time.ha_datetime_to_fakedatetime,
        "FakeDatetime": patch_time.HAFakeDatetime,
        "_get_module_attributes": patch_time.ha_get_module_attributes,
        "_get_module_attributes_hash": patch_time.ha_get_module_attributes_hash,
        "_should_use_real_time": patch_time.ha_should_use_real_time,
        "get_current_time": patch_time.ha_get_current_time,
    }.items():
        setattr(freezegun.api, name, value)
    sqlite3.register_adapter(patch_time.HAFakeDatetime, lambda value: value.isoformat(" "))


class LedgerWrites:
    """Counts the integration's writes to disk: ledger store rewrites and journal writes."""

    def __init__(self) -> None:
        self.store = 0
        self.journal = 0
        self.active = False

    @contextmanager
    def counting(self) -> Iterator[None]:
        original_write = storage.Store._write_prepared_data
        counter = self

        def write_data(store: storage.Store[Any], *args: Any, **kwargs: Any) -> None:
            if counter.active and store.key.startswith("atm90e32.ledger."):
                counter.store += 1
            original_write(store, *args, **kwargs)

        with patch.object(storage.Store, "_write_prepared_data", write_data):
            journal = getattr(ledger_storage, "LedgerJournal", None)
            if journal is None:
                yield
                return
            original_journal = journal.write

            def journal_write(self_: Any, *args: Any, **kwargs: Any) -> Any:
                if counter.active:
                    counter.journal += 1
                return original_journal(self_, *args, **kwargs)

            with patch.object(journal, "write", journal_write):
                yield


def dbstat(path: Path) -> dict[str, int]:
    """Allocated bytes per table and index (SQLite's dbstat virtual table)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return dict(connection.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())


def query(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute(sql, args).fetchall()


def states_bytes(sizes: dict[str, int]) -> int:
    return sum(size for name, size in sizes.items() if name == "states" or name.startswith("ix_states_"))


async def run(interval: int, chips: int) -> dict[str, Any]:
    """One simulated hour at ``interval`` seconds with ``chips`` meters."""
    random.seed(1000 * interval + chips)  # Home Assistant spreads each coordinator's refreshes at random
    writes = LedgerWrites()
    emulators: list[EmulatedAtm90e32] = []

    def clock() -> float:
        return (dt_util.utcnow() - START).total_seconds()

    def new_transport(_data: Any, _config_dir: Any = None, _position: Any = None) -> EmulatedAtm90e32:
        emulator = EmulatedAtm90e32(TraceLoad(start=len(emulators) * 600), clock=clock)
        emulators.append(emulator)
        return emulator

    configurable = hasattr(const, "CONF_UPDATE_INTERVAL")
    async with AsyncExitStack() as stack:
        frozen = stack.enter_context(freezegun.freeze_time(START))
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="atm90e32-recorder-")))
        database = directory / "home-assistant_v2.db"
        stack.enter_context(writes.counting())
        stack.enter_context(patch("custom_components.atm90e32.bus.open_transport", side_effect=new_transport))
        hass = await stack.enter_async_context(async_test_home_assistant(config_dir=str(directory)))
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        recorder_helper.async_initialize_recorder(hass)
        assert await async_setup_component(hass, RECORDER, {RECORDER: {"db_url": f"sqlite:///{database}"}})
        await hass.async_block_till_done()
        await async_wait_recording_done(hass)

        entries = []
        for index in range(chips):
            options = dict(settings.DEFAULT_OPTIONS)
            if configurable:
                options[const.CONF_UPDATE_INTERVAL] = interval
            entry = MockConfigEntry(
                domain=const.DOMAIN,
                version=2,
                data={"device": "simulated", "line_frequency": 60, "wiring": "split_phase_2ct"},
                options=options,
                unique_id=f"bench-{index}",
                title=f"ATM90E32AS (chip {index})",
            )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            entries.append(entry)
        await hass.async_block_till_done()
        if not configurable:  # as if configured from the start: the next refresh one interval after the first
            for entry in entries:
                entry.runtime_data.update_interval = timedelta(seconds=interval)
                entry.runtime_data._schedule_refresh()
        effective = entries[0].runtime_data.update_interval.total_seconds()
        registry = er.async_get(hass)
        ours = {e.entity_id for entry in entries for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
        energy_entity = registry.async_get_entity_id(
            "sensor", const.DOMAIN, f"{entries[0].entry_id}_total_energy_import"
        )

        async def tick_until(until: datetime) -> None:
            while dt_util.utcnow() < until:
                frozen.tick(TICK_S)
                # every refresh (a background task) finishes within its second, as on a real machine
                await hass.async_block_till_done(wait_background_tasks=True)

        started = freezegun.api.real_perf_counter()
        await tick_until(HOUR_START)
        await async_wait_recording_done(hass)
        before = await hass.async_add_executor_job(dbstat, database)
        writes.active = True
        await tick_until(HOUR_END)
        writes.active = False
        await async_wait_recording_done(hass)
        after = await hass.async_add_executor_job(dbstat, database)
        await tick_until(STOP)  # the 5-minute statistics run at 13:00:10 compiles 12:55-13:00 and the hour
        await async_wait_recording_done(hass)
        elapsed = freezegun.api.real_perf_counter() - started

        start_ts, end_ts = HOUR_START.timestamp(), HOUR_END.timestamp()
        rows = query(
            database,
            "SELECT m.entity_id, COUNT(*) FROM states s JOIN states_meta m ON s.metadata_id = m.metadata_id "
            "WHERE s.last_updated_ts >= ? AND s.last_updated_ts < ? GROUP BY m.entity_id",
            start_ts,
            end_ts,
        )
        per_entity = Counter({entity: count for entity, count in rows if entity in ours})
        short_term = query(
            database,
            "SELECT COUNT(*) FROM statistics_short_term WHERE start_ts >= ? AND start_ts < ?",
            start_ts,
            end_ts,
        )[0][0]
        long_term = query(database, "SELECT COUNT(*) FROM statistics WHERE start_ts = ?", start_ts)[0][0]
        hourly = query(
            database,
            "SELECT s.start_ts, s.state, s.sum FROM statistics s JOIN statistics_meta m ON s.metadata_id = m.id "
            "WHERE m.statistic_id = ? AND s.start_ts IN (?, ?) ORDER BY s.start_ts",
            energy_entity,
            start_ts - 3600,
            start_ts,
        )
        last_state = query(
            database,
            "SELECT s.state, s.last_updated_ts FROM states s JOIN states_meta m ON s.metadata_id = m.metadata_id "
            "WHERE m.entity_id = ? AND s.last_updated_ts < ? ORDER BY s.last_updated_ts DESC LIMIT 1",
            energy_entity,
            end_ts,
        )
        for entry in entries:
            await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_stop(force=True)

    grown = sum(after.values()) - sum(before.values())
    states_grown = states_bytes(after) - states_bytes(before)
    hour_kwh = hourly[-1][2] - hourly[0][2] if len(hourly) == 2 else None
    return {
        "interval_s": interval,
        "chips": chips,
        "configured_through_options": configurable,
        "effective_interval_s": effective,
        "states_rows_hour": sum(per_entity.values()),
        "states_rows_per_day": 24 * sum(per_entity.values()),
        "states_rows_per_entity_hour": dict(per_entity.most_common()),
        "mb_per_day": 24 * grown / 1e6,
        "states_mb_per_day": 24 * states_grown / 1e6,
        "short_term_statistics_rows_per_day": 24 * short_term,
        "long_term_statistics_rows_per_day": 24 * long_term,
        "ledger_store_writes_per_day": 24 * writes.store,
        "ledger_journal_writes_per_day": 24 * writes.journal,
        "hour_energy_kwh": hour_kwh,
        "hour_energy_counts": None if hour_kwh is None else round(hour_kwh / COUNT_KWH),
        "last_energy_state_before_13h": last_state[0][0] if last_state else None,
        "last_energy_state_age_s": (end_ts - last_state[0][1]) if last_state else None,
        "wall_s": elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, nargs="+", default=[1, 5, 30])
    parser.add_argument("--chips", type=int, nargs="+", default=[1, 6])
    parser.add_argument("--json", default="recorder-benchmark-results.json")
    args = parser.parse_args(argv)
    prepare_freezegun()
    results = []
    for interval in args.intervals:
        for chips in args.chips:
            result = asyncio.run(run(interval, chips))
            results.append(result)
            print(f"  ran {interval} s x {chips} chip(s) in {result['wall_s']:.0f} s", file=sys.stderr)
    Path(args.json).write_text(json.dumps({"home_assistant": HA_VERSION, "runs": results}, indent=2), encoding="utf-8")
    print(f"Home Assistant {HA_VERSION}; one simulated hour per run, figures per day (x 24)\n")
    header = (
        f"{'interval':>8} {'chips':>5} {'states rows':>12} {'per chip':>9} {'MB':>7} {'per chip':>8} "
        f"{'states MB':>9} {'5-min stats':>11} {'hourly':>6} {'ledger store':>12} {'journal':>8} "
        f"{'hour kWh (chip 0)':>17}"
    )
    print(header)
    for r in results:
        n = r["chips"]
        if r["effective_interval_s"] != r["interval_s"]:
            print(
                f"  ({r['interval_s']} s refused by the integration: it read every {r['effective_interval_s']:.0f} s)"
            )
        kwh = "n/a" if r["hour_energy_kwh"] is None else f"{r['hour_energy_kwh']:.6f}"
        print(
            f"{r['interval_s']:>7}s {n:>5} {r['states_rows_per_day']:>12,} {r['states_rows_per_day'] // n:>9,} "
            f"{r['mb_per_day']:>7.2f} {r['mb_per_day'] / n:>8.2f} {r['states_mb_per_day']:>9.2f} "
            f"{r['short_term_statistics_rows_per_day']:>11,} {r['long_term_statistics_rows_per_day']:>6,} "
            f"{r['ledger_store_writes_per_day']:>12,} {r['ledger_journal_writes_per_day']:>8,} {kwh:>17}"
        )
    print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
