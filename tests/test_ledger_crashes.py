"""A crash (kill -9) between any two steps of a refresh: the Energy dashboard never sees a decrease or a double count.

A refresh reads the chip (which clears its energy registers), books the counts in the
ledger, writes the journal, writes the store when a minute has passed since it last
was, and then writes the sensors' states.  Each test below kills Home Assistant at one
of those points: only what is on disk survives (the ledger store as last written, the
journal, Home Assistant's restore state as of its last 15-minute dump).  Home Assistant
then starts again, adopts the chip (which kept counting) and refreshes for a minute.

Checked every time: every energy state Home Assistant ever showed, before and after the
crash, never decreases; and the lifetime totals equal, to the count, what the chip
metered less exactly the counts that existed only in memory when the process died (those
of the interrupted read, never shown).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, EVENT_STATE_CHANGED, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import restore_state as rs
from homeassistant.helpers.storage import Store
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_load_restore_state_from_storage

from custom_components.atm90e32.coordinator import Atm90e32Coordinator
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver.ledger import kwh_to_counts
from custom_components.atm90e32.driver.meter import Meter
from custom_components.atm90e32.storage import LedgerJournal

from .emulation import FaultyEmulator, ManualClock
from .helpers import every_refresh, journal_record, ledger_key, replay, setup_entry, state, unload_as_a_crash


@pytest.fixture
def config_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """These tests read the state after each refresh (balanced and lean: tests/test_publishing.py)."""
    return every_refresh(config_entry)


ENERGY = {"l1_energy_import": "l1", "l2_energy_import": "l2", "total_energy_import": "total"}


class Killed(BaseException):
    """The process dies here: nothing after this point runs (not an Exception, so nothing catches it)."""


def read_so_far(chip: FaultyEmulator) -> dict[str, int]:
    """Counts the integration has read from the chip so far: metered minus what still sits in the registers."""
    l1, l2, total = chip.pending_counts(Phase.A)[0], chip.pending_counts(Phase.C)[0], chip.pending_total_counts()[0]
    return {  # the pending reads bring the chip up to now first
        "l1": chip.energy[Phase.A].forward_counts - l1,
        "l2": chip.energy[Phase.C].forward_counts - l2,
        "total": chip.total_energy.forward_counts - total,
    }


@contextmanager
def around(target: Any, name: str, *, before: bool) -> Generator[None]:
    """Kill the process just before (``before``) or just after ``target.name`` runs."""
    original = getattr(target, name)
    if inspect.iscoroutinefunction(original):

        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            if before:
                raise Killed
            await original(*args, **kwargs)
            raise Killed

        with patch.object(target, name, async_wrapper):
            yield
        return

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before:
            raise Killed
        original(*args, **kwargs)
        raise Killed

    with patch.object(target, name, wrapper):
        yield


@dataclass(frozen=True)
class CrashPoint:
    """Where the process dies: how to kill it there, whether the ledger store is due at that refresh,
    whether the refresh read the chip, and whether what it read is lost (only in memory then)."""

    kill: Callable[[], AbstractContextManager[None]]
    store_due: bool
    reads: bool = True
    loses_the_read: bool = False
    store_written: bool = False


CRASH_POINTS: dict[str, CrashPoint] = {
    "before the read": CrashPoint(lambda: around(Meter, "refresh", before=True), store_due=True, reads=False),
    "after the read, before booking": CrashPoint(
        lambda: around(Meter, "refresh", before=False), store_due=True, loses_the_read=True
    ),
    "after booking, before the journal write": CrashPoint(
        lambda: around(LedgerJournal, "write", before=True), store_due=True, loses_the_read=True
    ),
    "after the journal write, before the state write (store not due)": CrashPoint(
        lambda: around(LedgerJournal, "write", before=False), store_due=False
    ),
    "after the journal write, before the store write": CrashPoint(
        lambda: around(Store, "async_save", before=True), store_due=True
    ),
    "after the store write, before the state write": CrashPoint(
        lambda: around(Store, "async_save", before=False), store_due=True, store_written=True
    ),
    "after the state write": CrashPoint(
        lambda: around(Atm90e32Coordinator, "async_update_listeners", before=False),
        store_due=True,
        store_written=True,
    ),
}


@pytest.fixture
def shown(hass: HomeAssistant, config_entry: MockConfigEntry) -> dict[str, list[float]]:
    """Every energy state Home Assistant shows, in order, as the recorder and InfluxDB receive them.

    Entities are matched by unique id (looked up when each state is written), so the
    check follows whatever entity ids the language and the entity names give them.
    """
    values: dict[str, list[float]] = {name: [] for name in ENERGY.values()}
    unique_ids = {f"{config_entry.entry_id}_{key}": leg for key, leg in ENERGY.items()}
    registry = er.async_get(hass)

    @callback
    def record(event: Event[EventStateChangedData]) -> None:
        entry = registry.async_get(event.data["entity_id"])
        new = event.data["new_state"]
        if entry is None or entry.unique_id not in unique_ids or new is None:
            return
        if new.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            values[unique_ids[entry.unique_id]].append(float(new.state))

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    return values


async def crash_and_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    entry: MockConfigEntry,
    dumped: dict[str, Any],
    clock: ManualClock,
    down_s: float,
) -> None:
    """The process is gone: the disk keeps the ledger files and the restore state of the last dump; start again."""
    await unload_as_a_crash(hass, entry)
    hass_storage[rs.STORAGE_KEY] = dumped
    await async_mock_load_restore_state_from_storage(hass)
    clock.advance(down_s)  # the chip keeps counting and is adopted, not reset
    await setup_entry(hass, entry)


@pytest.mark.usefixtures("patched_monotonic")
@pytest.mark.parametrize("point", list(CRASH_POINTS))
async def test_a_crash_at_any_step_of_a_refresh(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    shown: dict[str, list[float]],
    point: str,
) -> None:
    crash = CRASH_POINTS[point]
    coordinator = await setup_entry(hass, config_entry)  # the store is written at the first read, then each minute
    await replay(coordinator, clock, 60)
    await rs.async_get(hass).async_dump_states()  # Home Assistant's periodic dump, minutes before the crash
    dumped = copy.deepcopy(hass_storage[rs.STORAGE_KEY])
    await replay(coordinator, clock, 5 * 60 + 55 if crash.store_due else 5 * 60)
    store_before = copy.deepcopy(hass_storage[ledger_key(config_entry)])

    before = read_so_far(mock_transport)
    clock.advance(5)
    with crash.kill(), pytest.raises(Killed):
        await coordinator.async_refresh()
    in_memory_only = {leg: counts - before[leg] for leg, counts in read_so_far(mock_transport).items()}
    assert all((counts > 0) == crash.reads for counts in in_memory_only.values())
    assert (hass_storage[ledger_key(config_entry)] != store_before) == crash.store_written

    await crash_and_restart(hass, hass_storage, config_entry, dumped, clock, down_s=20)
    await replay(config_entry.runtime_data, clock, 60)

    expected = read_so_far(mock_transport)
    for key, leg in ENERGY.items():
        lifetime = kwh_to_counts(float(state(hass, config_entry, key).state))
        lost = in_memory_only[leg] if crash.loses_the_read else 0
        assert lifetime == expected[leg] - lost, key  # nothing counted twice, nothing else lost
        assert len(shown[leg]) > 12, key  # states before and after the crash were seen
        assert shown[leg] == sorted(shown[leg]), f"{key} decreased"  # nothing taken back
    assert mock_transport.energy[Phase.A].forward_lost == 0  # the chip itself lost nothing


@pytest.mark.usefixtures("patched_monotonic")
async def test_the_store_is_written_once_a_minute_and_the_journal_after_every_read(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    mock_transport: FaultyEmulator,
    clock: ManualClock,
) -> None:
    writes = {"store": 0, "journal": 0}
    original_save, original_write = Store.async_save, LedgerJournal.write

    async def count_save(store: Store[Any], data: Any) -> None:
        if store.key == ledger_key(config_entry):
            writes["store"] += 1
        await original_save(store, data)

    def count_write(journal: LedgerJournal, data: dict[str, Any]) -> None:
        writes["journal"] += 1
        original_write(journal, data)

    with patch.object(Store, "async_save", count_save), patch.object(LedgerJournal, "write", count_write):
        coordinator = await setup_entry(hass, config_entry)
        await replay(coordinator, clock, 3600)
        journal = journal_record(hass, config_entry)
        assert journal is not None
        assert journal["counts"]["l1_import"] == read_so_far(mock_transport)["l1"]  # every read, at once
        stored = hass_storage[ledger_key(config_entry)]["data"]["counts"]["l1_import"]
        assert stored <= journal["counts"]["l1_import"]
        assert writes == {"store": 61, "journal": 721}  # the first read, then every 60 s; every 5 s
        assert await hass.config_entries.async_unload(config_entry.entry_id)
    assert writes["store"] == 62  # and at unload, after the last read
    assert hass_storage[ledger_key(config_entry)]["data"]["counts"]["l1_import"] == read_so_far(mock_transport)["l1"]


@pytest.mark.usefixtures("patched_monotonic")
async def test_a_crash_in_the_last_read_before_unloading_loses_only_that_read(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    shown: dict[str, list[float]],
    init_integration: MockConfigEntry,
) -> None:
    """Options saved: the entry reads the chip one last time before it unloads; the process dies right after."""
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 120)
    await rs.async_get(hass).async_dump_states()
    dumped = copy.deepcopy(hass_storage[rs.STORAGE_KEY])
    clock.advance(3)
    before = read_so_far(mock_transport)
    with around(Meter, "read_energy", before=False), pytest.raises(Killed):
        await coordinator.async_read_before_unload()
    lost = {leg: counts - before[leg] for leg, counts in read_so_far(mock_transport).items()}
    await crash_and_restart(hass, hass_storage, config_entry, dumped, clock, down_s=10)

    await replay(config_entry.runtime_data, clock, 60)
    expected = read_so_far(mock_transport)
    for key, leg in ENERGY.items():
        assert kwh_to_counts(float(state(hass, config_entry, key).state)) == expected[leg] - lost[leg], key
        assert len(shown[leg]) > 12, key
        assert shown[leg] == sorted(shown[leg]), f"{key} decreased"


@pytest.mark.usefixtures("patched_monotonic")
async def test_a_power_cut_loses_at_most_the_minute_since_the_store_was_written(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    journal_in_tmp_path: Any,
    init_integration: MockConfigEntry,
) -> None:
    """The journal is not fsynced: a power cut (not a crash) may leave it unwritten, or torn.

    The totals then resume from the store, written at most 60 s before: what was read
    since is lost, and nothing is counted twice.  (A torn record fails its CRC.)
    """
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 330)  # the store was last written at 300 s
    stored = dict(hass_storage[ledger_key(config_entry)]["data"]["counts"])
    read = read_so_far(mock_transport)
    lost = read["l1"] - stored["l1_import"]
    assert lost > 0
    await unload_as_a_crash(hass, config_entry)
    for path in journal_in_tmp_path.iterdir():  # the page cache never reached the card: a torn record
        raw = bytearray(path.read_bytes())
        raw[20] ^= 0xFF
        path.write_bytes(bytes(raw))
    assert journal_record(hass, config_entry) is None
    hass_storage.pop(rs.STORAGE_KEY, None)
    await async_mock_load_restore_state_from_storage(hass)
    await setup_entry(hass, config_entry)
    l1 = kwh_to_counts(float(state(hass, config_entry, "l1_energy_import").state))
    assert l1 == read_so_far(mock_transport)["l1"] - lost
    # at most a minute of the trace's power (under 4 kW) was read since the store was written
    assert lost * 0.003125 <= 4000 * 60 / 3600


@pytest.mark.usefixtures("patched_monotonic")
async def test_home_assistant_stopping_writes_the_store(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    init_integration: MockConfigEntry,
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 40)  # the store was written at the first read only
    read = read_so_far(mock_transport)["l1"]
    assert hass_storage[ledger_key(config_entry)]["data"]["counts"]["l1_import"] < read
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert hass_storage[ledger_key(config_entry)]["data"]["counts"]["l1_import"] == read
