"""Recorder benchmark: what the meter costs Home Assistant's database, per chip, wiring and "Database writes" option.

Usage: scripts/recorder_benchmark [--intervals 1 5 30] [--chips 1 6] [--wirings split_phase ...]
       [--modes every_refresh balanced lean] [--day-check] [--code PATH] [--json PATH]

For each refresh interval and chip count, one run: a real Home Assistant core with its
real recorder writing a SQLite file in a temporary directory, and the integration's
simulated meters (the chip emulator replaying the bundled household trace shaped as the
wiring's service, ``emulator.simulated_load``; chip n starts n x 10 minutes into it).
Each wiring is one line of WIRING_CASES; each option value (``--modes``) one run.
Time is simulated: Home Assistant's clock (and so the
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
  chip 0's first imported-energy sensor), the ledger's counts of the same hour (booked
  by the last refresh before 12:00 and before 13:00) and the last energy state recorded
  before 13:00, to compare runs;
- the integral of each recorded power sensor with energy counters behind it (a
  channel's or the service's active power), as InfluxDB's ``integral()`` integrates a
  series (trapezoids between the recorded points), against the ledger's net counts
  between its first and last point of the hour.

``--day-check`` adds, without Home Assistant, a day (the 6-hour trace four times) of the
same driver, ledger and publishing policy per wiring, interval and option: the power
series the policy writes, integrated as InfluxDB does, against the energy counted.
``--code PATH`` measures another checkout (``git worktree add --detach /tmp/before main``:
the code before a change); options it does not know are ignored there.

Prints a table and writes JSON (default recorder-benchmark-results.json).  The same
script runs on older versions of the integration (an update interval the code cannot
configure is set on the coordinator directly).
"""

from __future__ import annotations

# Home Assistant's test harness makes dt_util.utcnow patchable by freezegun: import it first.
from pytest_homeassistant_custom_component import patch_time  # isort: skip

import argparse
import asyncio
import importlib
import itertools
import json
import random
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import freezegun
import freezegun.api


def _code_root(argv: list[str]) -> Path:
    """The checkout whose custom_components is measured: ``--code PATH``, else this one."""
    if "--code" in argv and argv.index("--code") + 1 < len(argv):
        return Path(argv[argv.index("--code") + 1]).resolve()
    return Path(__file__).resolve().parent.parent


sys.path.insert(0, str(_code_root(sys.argv)))

from homeassistant import loader
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import recorder as recorder_helper
from homeassistant.helpers import storage
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_test_home_assistant
from pytest_homeassistant_custom_component.components.recorder.common import async_wait_recording_done

from custom_components.atm90e32 import const
from custom_components.atm90e32 import storage as ledger_storage
from custom_components.atm90e32.driver import ChipConfig, channels
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32, simulated_load
from custom_components.atm90e32.driver.ledger import TOTAL, EnergyLedger
from custom_components.atm90e32.driver.meter import Meter
from custom_components.atm90e32.driver.power_quality import PowerQualitySettings
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


JOULES_PER_COUNT = ENERGY_LSB_WH * 3600
DATABASE_WRITES = "database_writes"
"""The integration's option (publishing.CONF_DATABASE_WRITES); code without it ignores it."""


@dataclass(frozen=True)
class WiringCase:
    """One wiring measured: its config entry data (without the device) and, for circuits, the CTs in use."""

    data: dict[str, Any]
    circuits: tuple[str, ...] = ()
    extra_options: dict[str, Any] = field(default_factory=dict)

    def wiring(self) -> channels.Wiring:
        """The driver's channel table of this case."""
        if self.circuits:
            return channels.circuits_wiring(self.circuits)
        return channels.WIRINGS[self.data["wiring"]]

    @property
    def frequency(self) -> int:
        return int(self.data["line_frequency"])


WIRING_CASES: dict[str, WiringCase] = {
    "split_phase": WiringCase({"wiring": "split_phase_2ct", "line_frequency": 60}),
    "circuits": WiringCase(
        {
            "wiring": "circuits",
            "line_frequency": 60,
            "board": "Bench",
            "board_position": 1,
            "channels": ["ct1", "ct2", "ct3"],
        },
        circuits=("ct1", "ct2", "ct3"),
    ),
    "three_phase_wye": WiringCase(
        {"wiring": "three_phase_wye", "line_frequency": 60, "board": "Bench", "voltage_system": "120_208"},
        extra_options={"voltage_transformers": "dual"},
    ),
}
"""A wiring is one line here (the delta service: its entry data, like three_phase_wye's)."""


def default_options(case: WiringCase) -> dict[str, Any]:
    """The options of a new entry of ``case``'s wiring (const.default_options, wherever the code keeps it)."""
    for module in ("custom_components.atm90e32.settings", "custom_components.atm90e32.const"):
        try:
            make = getattr(importlib.import_module(module), "default_options", None)
        except ImportError:
            continue
        if make is not None:
            return {**make(case.wiring()), **case.extra_options}
    raise RuntimeError("no default_options in settings.py or const.py")


def energy_keys(wiring: channels.Wiring) -> list[str]:
    """The ledger names with an active power sensor: each channel (``<key>_power``), the service (``total_power``)."""
    return [channel.key for channel in wiring.channels] + ([TOTAL] if wiring.has_service_total else [])


def power_key(name: str) -> str:
    return "total_power" if name == TOTAL else f"{name}_power"


def trapezoid(points: list[tuple[float, float]]) -> float:
    """The integral of ``(t, value)`` points as InfluxDB's integral() takes it: trapezoids between points."""
    return sum((v0 + v1) / 2 * (t1 - t0) for (t0, v0), (t1, v1) in itertools.pairwise(points))


def transport_patches(new_transport: Any) -> list[Any]:
    """Patch ``open_transport`` wherever the coordinator's code takes it from (coordinator.py, or bus.py)."""
    found = []
    for module in ("custom_components.atm90e32.coordinator", "custom_components.atm90e32.bus"):
        try:
            loaded = importlib.import_module(module)
        except ImportError:
            continue
        if hasattr(loaded, "open_transport"):
            found.append(patch(f"{module}.open_transport", side_effect=new_transport))
    return found


async def run(interval: int, chips: int, wiring_name: str = "split_phase", mode: str = "balanced") -> dict[str, Any]:
    """One simulated hour at ``interval`` seconds with ``chips`` meters of ``wiring_name`` under option ``mode``."""
    case = WIRING_CASES[wiring_name]
    wiring = case.wiring()
    random.seed(1000 * interval + chips)  # Home Assistant spreads each coordinator's refreshes at random
    writes = LedgerWrites()
    emulators: list[EmulatedAtm90e32] = []

    def clock() -> float:
        return (dt_util.utcnow() - START).total_seconds()

    def new_transport(_data: Any, _config_dir: Any = None, _position: Any = None) -> EmulatedAtm90e32:
        load = simulated_load(wiring, line_frequency=case.frequency, start=len(emulators) * 600)
        emulator = EmulatedAtm90e32(load, clock=clock)
        emulators.append(emulator)
        return emulator

    configurable = hasattr(const, "CONF_UPDATE_INTERVAL")
    async with AsyncExitStack() as stack:
        frozen = stack.enter_context(freezegun.freeze_time(START))
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="atm90e32-recorder-")))
        database = directory / "home-assistant_v2.db"
        stack.enter_context(writes.counting())
        for patcher in transport_patches(new_transport):
            stack.enter_context(patcher)
        hass = await stack.enter_async_context(async_test_home_assistant(config_dir=str(directory)))
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        recorder_helper.async_initialize_recorder(hass)
        assert await async_setup_component(hass, RECORDER, {RECORDER: {"db_url": f"sqlite:///{database}"}})
        await hass.async_block_till_done()
        await async_wait_recording_done(hass)

        entries = []
        for index in range(chips):
            options = {**default_options(case), DATABASE_WRITES: mode}
            if configurable:
                options[const.CONF_UPDATE_INTERVAL] = interval
            entry = MockConfigEntry(
                domain=const.DOMAIN,
                version=2,
                data={"device": f"simulated_{index}" if index else "simulated", **case.data},
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
        coordinator = entries[0].runtime_data
        effective = coordinator.update_interval.total_seconds()
        registry = er.async_get(hass)
        ours = {e.entity_id for entry in entries for e in er.async_entries_for_config_entry(registry, entry.entry_id)}
        names = energy_keys(wiring)
        dashboard_name = TOTAL if wiring.has_service_total else wiring.channels[0].key
        energy_entity = registry.async_get_entity_id(
            "sensor", const.DOMAIN, f"{entries[0].entry_id}_{dashboard_name}_energy_import"
        )
        power_entities = {
            name: registry.async_get_entity_id("sensor", const.DOMAIN, f"{entries[0].entry_id}_{power_key(name)}")
            for name in names
        }
        booked: list[tuple[float, dict[str, int], int]] = []
        """Chip 0's ledger after each refresh: (time, net counts per ledger name, the dashboard's import counts)."""

        def note_booking() -> None:
            ledger = coordinator.ledger
            net = {name: ledger.counts((name, "import")) - ledger.counts((name, "export")) for name in names}
            booked.append((dt_util.utcnow().timestamp(), net, ledger.counts((dashboard_name, "import"))))

        stack.callback(coordinator.async_add_listener(note_booking))

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
        integrals = {}
        for name, entity_id in power_entities.items():
            recorded = query(
                database,
                "SELECT s.last_updated_ts, s.state FROM states s JOIN states_meta m ON s.metadata_id = m.metadata_id "
                "WHERE m.entity_id = ? AND s.last_updated_ts >= ? AND s.last_updated_ts < ? "
                "ORDER BY s.last_updated_ts",
                entity_id,
                start_ts,
                end_ts,
            )
            integrals[name] = power_integral(
                [(t, float(v)) for t, v in recorded if v not in ("unknown", "unavailable")], booked, name
            )
        for entry in entries:
            await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_stop(force=True)

    grown = sum(after.values()) - sum(before.values())
    states_grown = states_bytes(after) - states_bytes(before)
    hour_kwh = hourly[-1][2] - hourly[0][2] if len(hourly) == 2 else None
    ledger_hour = counts_before(booked, end_ts) - counts_before(booked, start_ts)
    return {
        "wiring": wiring_name,
        "mode": mode,
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
        "hour_ledger_counts": ledger_hour,
        "last_energy_state_before_13h": last_state[0][0] if last_state else None,
        "last_energy_state_age_s": (end_ts - last_state[0][1]) if last_state else None,
        "hour_power_integral": integrals,
        "wall_s": elapsed,
    }


def counts_before(booked: list[tuple[float, dict[str, int], int]], boundary: float) -> int:
    """The dashboard sensor's import counts booked by the last refresh before ``boundary`` (Unix s)."""
    return max((entry for entry in booked if entry[0] < boundary), key=lambda entry: entry[0])[2]


def power_integral(
    points: list[tuple[float, float]], booked: list[tuple[float, dict[str, int], int]], name: str
) -> dict[str, float | int | None]:
    """The recorded power ``points``' trapezoid integral against the ledger's net counts between the first and last."""
    if len(points) < 2:
        return {"points": len(points), "integral_j": None, "energy_j": None, "error_percent": None}

    def net_at(t: float) -> int:
        return min(booked, key=lambda entry: abs(entry[0] - t))[1][name]

    energy = (net_at(points[-1][0]) - net_at(points[0][0])) * JOULES_PER_COUNT
    integral = trapezoid(points)
    error = 100 * (integral - energy) / energy if energy else None
    return {"points": len(points), "integral_j": integral, "energy_j": energy, "error_percent": error}


def day_check(wiring_name: str, interval: int, mode: str, seconds: int = 86_400) -> dict[str, Any]:
    """A day of the trace through the driver, the ledger and the publishing policy, without Home Assistant.

    Per power sensor with energy counters: the points the policy writes (what the
    recorder and InfluxDB get), their trapezoid integral against the energy counted
    between the first and the last point, and how many points a day.
    """
    # Imported here: code measured with --code from before the policy has no publishing module.
    from custom_components.atm90e32.publishing import Mode, Publisher, Quantity, policy  # noqa: PLC0415  (a --code checkout from before issue 25 has no publishing.py)

    case = WIRING_CASES[wiring_name]
    wiring = case.wiring()
    nominal = 120.0 if case.frequency == 60 else 230.0
    config = ChipConfig(
        wiring=wiring,
        line_frequency=case.frequency,
        voltage_gains=(3920, 3920, 3920),
        current_gains=(25498, 25498, 25498),
        power_quality=PowerQualitySettings.from_percent(
            nominal_voltage=nominal, line_frequency=case.frequency, over_current=65.0
        ),
    )
    now = [0.0]
    emulator = EmulatedAtm90e32(simulated_load(wiring, line_frequency=case.frequency), clock=lambda: now[0])
    meter = Meter(lambda: emulator, config, sleep=lambda _s: None)
    meter.open()
    ledger = EnergyLedger(wiring)
    names = energy_keys(wiring)
    publishers = {name: Publisher(policy(Quantity.POWER, Mode(mode))) for name in names}
    points: dict[str, list[tuple[float, float, int]]] = {name: [] for name in names}
    base = HOUR_START.timestamp() + 0.3
    for n in range(1, seconds // interval + 1):
        now[0] = float(n * interval)
        result = meter.refresh()
        for read in result.energy:
            ledger.add(read)
        watts = {c.key: round(result.snapshot.phases[c.phase].active_power, 1) for c in wiring.channels}
        if wiring.has_service_total:
            watts[TOTAL] = round(sum(watts[c.key] for c in wiring.channels if c.nets_into_total), 1)
        at = base + now[0]
        for name in names:
            net = ledger.counts((name, "import")) - ledger.counts((name, "export"))
            publisher = publishers[name]
            if publisher.offer(watts[name], at, interval, energy=(net, at)) and publisher.shown is not None:
                points[name].append((at, publisher.shown, net))
    figures = {}
    for name, written in points.items():
        energy = (written[-1][2] - written[0][2]) * JOULES_PER_COUNT
        integral = trapezoid([(t, v) for t, v, _ in written])
        figures[power_key(name)] = {
            "points_per_day": round(len(written) * 86_400 / seconds),
            "integral_kwh": integral / 3.6e6,
            "energy_kwh": energy / 3.6e6,
            "error_percent": 100 * (integral - energy) / energy if energy else None,
        }
    return {"wiring": wiring_name, "interval_s": interval, "mode": mode, "sensors": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intervals", type=int, nargs="+", default=[1, 5, 30])
    parser.add_argument("--chips", type=int, nargs="+", default=[1])
    parser.add_argument("--wirings", nargs="+", default=list(WIRING_CASES), choices=list(WIRING_CASES))
    parser.add_argument("--modes", nargs="+", default=["balanced"], choices=["every_refresh", "balanced", "lean"])
    parser.add_argument("--day-check", action="store_true", help="a day of the trace per run, without Home Assistant")
    parser.add_argument("--no-hour", action="store_true", help="skip the Home Assistant hour (with --day-check)")
    parser.add_argument("--code", help="the checkout to measure (default: this one)")
    parser.add_argument("--json", default="recorder-benchmark-results.json")
    args = parser.parse_args(argv)
    prepare_freezegun()
    results, days = [], []
    for wiring_name in args.wirings:
        for mode in args.modes:
            for interval in args.intervals:
                if args.day_check:
                    days.append(day_check(wiring_name, interval, mode))
                if args.no_hour:
                    continue
                for chips in args.chips:
                    result = asyncio.run(run(interval, chips, wiring_name, mode))
                    results.append(result)
                    print(
                        f"  ran {wiring_name} {mode} {interval} s x {chips} chip(s) in {result['wall_s']:.0f} s",
                        file=sys.stderr,
                    )
    Path(args.json).write_text(
        json.dumps(
            {"home_assistant": HA_VERSION, "code": str(_code_root(sys.argv)), "runs": results, "days": days}, indent=2
        ),
        encoding="utf-8",
    )
    print(f"Home Assistant {HA_VERSION}; one simulated hour per run, figures per day (x 24)\n")
    header = (
        f"{'wiring':>15} {'option':>13} {'interval':>8} {'chips':>5} {'rows/day/chip':>13} {'MB/day/chip':>11} "
        f"{'5-min stats':>11} {'hourly':>6} {'ledger store':>12} {'hour counts: dashboard / ledger':>31} "
        f"{'power integral error, hour':>26}"
    )
    print(header)
    for r in results:
        n = r["chips"]
        if r["effective_interval_s"] != r["interval_s"]:
            print(
                f"  ({r['interval_s']} s refused by the integration: it read every {r['effective_interval_s']:.0f} s)"
            )
        errors = [i["error_percent"] for i in r["hour_power_integral"].values() if i["error_percent"] is not None]
        worst = f"{max(errors, key=abs):+.3f} %" if errors else "n/a"
        counts = f"{r['hour_energy_counts']} / {r['hour_ledger_counts']}"
        print(
            f"{r['wiring']:>15} {r['mode']:>13} {r['interval_s']:>7}s {n:>5} {r['states_rows_per_day'] // n:>13,} "
            f"{r['mb_per_day'] / n:>11.2f} {r['short_term_statistics_rows_per_day']:>11,} "
            f"{r['long_term_statistics_rows_per_day']:>6,} {r['ledger_store_writes_per_day']:>12,} "
            f"{counts:>31} {worst:>26}"
        )
    if days:
        print("\nA day of the trace without Home Assistant: the power series written, integrated as InfluxDB does\n")
        print(
            f"{'wiring':>15} {'option':>13} {'interval':>8} {'sensor':>14} {'points/day':>10} "
            f"{'kWh counted':>11} {'error':>9}"
        )
        for day in days:
            for sensor, figures in day["sensors"].items():
                error = "n/a" if figures["error_percent"] is None else f"{figures['error_percent']:+.4f} %"
                print(
                    f"{day['wiring']:>15} {day['mode']:>13} {day['interval_s']:>7}s {sensor:>14} "
                    f"{figures['points_per_day']:>10,} {figures['energy_kwh']:>11.3f} {error:>9}"
                )
    print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
