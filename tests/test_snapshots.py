"""Snapshots of what a person sees: every entity's registry entry and state, and the diagnostics download.

A change to names, units, classes, unique ids or values shows up here as a diff in
tests/snapshots-newest/test_snapshots.ambr (tests/snapshots-oldest/ on the oldest supported
Home Assistant); read it as the user will see it before updating
(``scripts/test tests/test_snapshots.py --snapshot-update``).
"""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.atm90e32.const import DOMAIN, SIMULATED
from custom_components.atm90e32.diagnostics import async_get_config_entry_diagnostics
from custom_components.atm90e32.driver.emulator import ConstantLoad, EmulatedAtm90e32

from .conftest import ENTRY_DATA, ENTRY_OPTIONS
from .emulation import ManualClock
from .helpers import replay, setup_entry

ENTRY_ID = "01JATM90E32SNAPSHOTENTRY01"
"""A fixed entry id: unique ids and the device identifier derive from it."""


@pytest.fixture
def snapshot_entry() -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        entry_id=ENTRY_ID,
        data=dict(ENTRY_DATA),
        options=dict(ENTRY_OPTIONS),
        unique_id=SIMULATED,
        title="ATM90E32AS (simulated)",
    )


@pytest.fixture
def steady_load(mock_transport: EmulatedAtm90e32) -> EmulatedAtm90e32:
    """L1 imports 1000 W, L2 exports 300 W (solar), 120 V, power factor 0.95, 60 Hz."""
    mock_transport.load = ConstantLoad(watts=(1000.0, -300.0), volts=120.0, power_factor=0.95)
    return mock_transport


@pytest.fixture
async def an_hour_replayed(
    hass: HomeAssistant,
    snapshot_entry: MockConfigEntry,
    steady_load: EmulatedAtm90e32,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
    patched_monotonic: None,
) -> MockConfigEntry:
    """The entry set up at a fixed time, then an hour of refreshes every 5 s, Home Assistant's clock moving along."""
    freezer.move_to("2026-11-26T12:00:00+00:00")
    coordinator = await setup_entry(hass, snapshot_entry)
    for _ in range(3600 // 5):
        freezer.tick(5)
        await replay(coordinator, clock, 5)
    return snapshot_entry


@pytest.fixture(params=[Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR])
def platform(request: pytest.FixtureRequest) -> Generator[Platform]:
    """One platform at a time, as snapshot_platform wants."""
    with patch("custom_components.atm90e32.PLATFORMS", [request.param]):
        yield request.param


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "platform")
async def test_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    an_hour_replayed: MockConfigEntry,
) -> None:
    await snapshot_platform(hass, entity_registry, snapshot, an_hour_replayed.entry_id)


async def test_diagnostics(hass: HomeAssistant, snapshot: SnapshotAssertion, an_hour_replayed: MockConfigEntry) -> None:
    assert await async_get_config_entry_diagnostics(hass, an_hour_replayed) == snapshot
