"""Helpers for tests that run the integration inside Home Assistant."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32 import storage
from custom_components.atm90e32.coordinator import Atm90e32Coordinator
from custom_components.atm90e32.publishing import CONF_DATABASE_WRITES, Mode
from custom_components.atm90e32.storage import LedgerJournal

from .emulation import ManualClock

# Where the integration reaches the world the tests replace: its bus, its clock and its platforms.  Tests
# use the functions below (or the conftest fixtures built on them), never these paths: when a module
# moves, only this block changes.
_OPENS_THE_BUS = "custom_components.atm90e32.bus.open_transport"
_READS_THE_CLOCK = (
    "custom_components.atm90e32.coordinator.monotonic",
    "custom_components.atm90e32.driver.meter.monotonic",
)
_PLATFORMS = "custom_components.atm90e32.PLATFORMS"


@contextmanager
def opening_the_bus(open_bus: Callable[..., Any]) -> Iterator[None]:
    """The integration (coordinator and config flow alike) opens its bus with ``open_bus`` instead of
    ``bus.open_transport``: called as ``open_bus(entry_data, *more)``, it returns a Transport or raises as
    ``open_transport`` does."""
    with patch(_OPENS_THE_BUS, open_bus):
        yield


@contextmanager
def measuring_time_on(clock: Callable[[], float]) -> Iterator[None]:
    """The meter and coordinator measure the gaps between reads on ``clock`` (seconds) instead of time.monotonic."""
    with patch(_READS_THE_CLOCK[0], clock), patch(_READS_THE_CLOCK[1], clock):
        yield


@contextmanager
def only_platforms(platforms: Iterable[Platform]) -> Iterator[None]:
    """Set up only ``platforms`` of the integration (as Home Assistant core's tests patch PLATFORMS)."""
    with patch(_PLATFORMS, list(platforms)):
        yield


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> Atm90e32Coordinator:
    """Add ``entry`` (unless added already) and set it up; returns its coordinator."""
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator: Atm90e32Coordinator = entry.runtime_data
    return coordinator


def state(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> State:
    """The state of the sensor whose description key is ``key``."""
    entity_id = er.async_get(hass).async_get_entity_id("sensor", "atm90e32", f"{entry.entry_id}_{key}")
    assert entity_id is not None, key
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current


async def replay(coordinator: Atm90e32Coordinator, clock: ManualClock, seconds: int, interval: int = 5) -> None:
    """Advance the emulator's clock and refresh the coordinator every ``interval`` seconds."""
    for _ in range(seconds // interval):
        clock.advance(interval)
        await coordinator.async_refresh()
    await coordinator.hass.async_block_till_done()  # listeners of the states written (older releases defer them)


async def unload_as_a_crash(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Tear ``entry`` down the way a killed process ends it: no unload code touches the chip or the disk.

    The entry's objects must go so that it can be set up again in the same Home
    Assistant; the last read before unloading and the ledger store's write at unload,
    which a crash never makes, are left out: the ledger files stay as the last refresh
    left them.
    """

    async def nothing(_self: Atm90e32Coordinator) -> None:
        return None

    with (
        patch.object(Atm90e32Coordinator, "async_read_before_unload", nothing),
        patch.object(Atm90e32Coordinator, "async_save_ledger", nothing),
    ):
        assert await hass.config_entries.async_unload(entry.entry_id)


def journal_record(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any] | None:
    """The ledger journal's record of ``entry`` as on disk (None without an intact one)."""
    return LedgerJournal(storage.journal_path(hass, ledger_key(entry))).read()


def ledger_key(entry: MockConfigEntry) -> str:
    """The storage key of ``entry``'s ledger file, ``.storage/atm90e32.ledger.<entry_id>`` (as the README says)."""
    return f"atm90e32.ledger.{entry.entry_id}"


SEED_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "seed_dev_config.py"


def seed_script() -> ModuleType:
    """scripts/seed_dev_config.py as a module (it is a script, not a package member)."""
    spec = importlib.util.spec_from_file_location("seed_dev_config", SEED_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    seed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seed)
    return seed


def circuits_of(entry: ConfigEntry) -> dict[str, tuple[str, dict[str, Any]]]:
    """A circuits chip's circuits as ``{channel key: (name, subentry data)}`` (its ``circuit`` subentries)."""
    return {
        str(sub.data["channel"]): (sub.title, dict(sub.data))
        for sub in entry.subentries.values()
        if sub.subentry_type == "circuit"
    }


def every_refresh(entry: MockConfigEntry) -> MockConfigEntry:
    """``entry`` (not added yet) under "Database writes: every refresh", for a test reading each refresh's state."""
    return MockConfigEntry(
        domain=entry.domain,
        version=entry.version,
        minor_version=entry.minor_version,
        entry_id=entry.entry_id,
        data=dict(entry.data),
        options={**entry.options, CONF_DATABASE_WRITES: Mode.EVERY_REFRESH},
        unique_id=entry.unique_id,
        title=entry.title,
    )
