"""Snapshots of what a person sees: every platform's entities (registry entry and state) and the devices of every
wiring, and the diagnostics download.

Each wiring of conftest.WIRING_CASES is set up at a fixed time on its steady load and read every 5 s for an
hour; a wiring added there is snapshotted here with nothing else to change.  A change to names, units, classes,
unique ids or values shows up as a diff in tests/snapshots-newest/test_snapshots.ambr (tests/snapshots-oldest/ on
the oldest supported Home Assistant); read it as the user will see it before updating
(``scripts/test tests/test_snapshots.py --snapshot-update``).
"""

from __future__ import annotations

from collections.abc import Generator

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.atm90e32 import PLATFORMS
from custom_components.atm90e32.diagnostics import async_get_config_entry_diagnostics
from custom_components.atm90e32.driver.channels import CIRCUITS_KEY, SPLIT_PHASE, THREE_PHASE_WYE

from .conftest import WIRING_CASES
from .emulation import FaultyEmulator, ManualClock
from .helpers import only_platforms, replay, setup_entry

FIRST_ENTRY_IDS = {
    SPLIT_PHASE.key: "01JATM90E32SNAPSHOTENTRY01",
    CIRCUITS_KEY: "01JATM90E32CIRCUITSENTRY01",
    THREE_PHASE_WYE.key: "01JATM90E32THREEPHASEENTRY",
}
"""The entry ids these wirings' snapshots were first taken with (unique ids and device identifiers derive from
them); a wiring not named here gets ``01JATM90E32<WIRING KEY>``."""


@pytest.fixture(params=list(WIRING_CASES))
def wiring(request: pytest.FixtureRequest) -> str:
    """Every wiring (overrides conftest's split-phase default)."""
    return str(request.param)


@pytest.fixture
def entry_id(wiring: str) -> str:
    """A fixed entry id per wiring."""
    return FIRST_ENTRY_IDS.get(wiring, f"01JATM90E32{wiring.upper()}")


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> Generator[Platform]:
    """One platform at a time, as snapshot_platform wants."""
    with only_platforms([request.param]):
        yield request.param


@pytest.fixture
async def an_hour_replayed(
    hass: HomeAssistant,
    wiring: str,
    config_entry: MockConfigEntry,
    mock_transport: FaultyEmulator,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
    patched_monotonic: None,
) -> MockConfigEntry:
    """The wiring's steady load; the entry set up at a fixed time, then an hour of refreshes at its update
    interval, Home Assistant's clock moving along."""
    mock_transport.load = WIRING_CASES[wiring].steady_load()
    freezer.move_to("2026-11-26T12:00:00+00:00")
    coordinator = await setup_entry(hass, config_entry)
    assert coordinator.update_interval is not None
    interval = int(coordinator.update_interval.total_seconds())  # 5 s; shorter where a register fills faster
    for _ in range(3600 // interval):
        freezer.tick(interval)
        await replay(coordinator, clock, interval, interval)
    return config_entry


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "platform")
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    an_hour_replayed: MockConfigEntry,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, an_hour_replayed.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_devices(
    device_registry: dr.DeviceRegistry, snapshot: SnapshotAssertion, an_hour_replayed: MockConfigEntry
) -> None:
    """The chip's device, and for circuits each circuit's own, linked to the chip's."""
    devices = sorted(
        (
            (device.name, device.model, sorted(device.identifiers), device.via_device_id is not None)
            for device in dr.async_entries_for_config_entry(device_registry, an_hour_replayed.entry_id)
        ),
        key=str,
    )
    assert devices == snapshot


@pytest.mark.parametrize("wiring", [SPLIT_PHASE.key])
async def test_diagnostics(hass: HomeAssistant, snapshot: SnapshotAssertion, an_hour_replayed: MockConfigEntry) -> None:
    assert await async_get_config_entry_diagnostics(hass, an_hour_replayed) == snapshot
