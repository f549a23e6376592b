"""Snapshots of the circuits and three-phase wirings' entities: registry entries, devices and states.

Split-phase entries keep their snapshots in test_snapshots.ambr, unchanged by the new
wirings.  Update with ``scripts/test tests/test_wiring_snapshots.py --snapshot-update``
on the newest and the oldest supported Home Assistant, and read the diff.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any
from unittest.mock import patch

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.atm90e32.const import (
    CONF_BOARD,
    CONF_BOARD_POSITION,
    CONF_CHANNELS,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_WIRING,
    DOMAIN,
    SIMULATED,
    VT_DUAL,
)
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver.channels import CIRCUITS_KEY, THREE_PHASE_DELTA, THREE_PHASE_WYE, circuits_wiring
from custom_components.atm90e32.driver.emulator import (
    CircuitLoad,
    DeltaLoad,
    EmulatedAtm90e32,
    LoadSource,
    ThreePhaseLoad,
)
from custom_components.atm90e32.settings import default_options

from .emulation import ManualClock
from .helpers import replay, setup_entry

CIRCUITS_ENTRY_ID = "01JATM90E32CIRCUITSENTRY01"
THREE_PHASE_ENTRY_ID = "01JATM90E32THREEPHASEENTRY"
DELTA_ENTRY_ID = "01JATM90E32DELTASERVICEENT"


def circuits_entry() -> MockConfigEntry:
    """A chip of a 6-channel board with CT1 and CT3 in use; CT3 a 240 V load on a 120 V reference."""
    wiring = circuits_wiring(["ct1", "ct3"])
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        entry_id=CIRCUITS_ENTRY_ID,
        data={
            CONF_DEVICE: SIMULATED,
            CONF_LINE_FREQUENCY: 60,
            CONF_WIRING: CIRCUITS_KEY,
            CONF_BOARD: "Main board",
            CONF_BOARD_POSITION: 1,
            CONF_CHANNELS: ["ct1", "ct3"],
        },
        options={**default_options(wiring), "name_ct1": "Heat pump", "name_ct3": "Dryer", "voltage_factor_ct3": 2},
        unique_id=SIMULATED,
        title="Main board CT1-CT3 (simulated)",
    )


def three_phase_entry() -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        entry_id=THREE_PHASE_ENTRY_ID,
        data={
            CONF_DEVICE: SIMULATED,
            CONF_LINE_FREQUENCY: 50,
            CONF_WIRING: THREE_PHASE_WYE.key,
            CONF_BOARD: "ATM90E32AS",
            CONF_VOLTAGE_SYSTEM: "230_400",
        },
        options={**default_options(THREE_PHASE_WYE), CONF_VOLTAGE_TRANSFORMERS: VT_DUAL},
        unique_id=SIMULATED,
        title="ATM90E32AS (simulated)",
    )


def delta_entry() -> MockConfigEntry:
    """A 480 V delta service at 60 Hz: CTs on L1 and L3, transformers across L1-L2 and L3-L2."""
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        entry_id=DELTA_ENTRY_ID,
        data={
            CONF_DEVICE: SIMULATED,
            CONF_LINE_FREQUENCY: 60,
            CONF_WIRING: THREE_PHASE_DELTA.key,
            CONF_BOARD: "ATM90E32AS",
            CONF_VOLTAGE_SYSTEM: "delta_480",
        },
        options=default_options(THREE_PHASE_DELTA),
        unique_id=SIMULATED,
        title="ATM90E32AS (simulated)",
    )


CASES: dict[str, tuple[Any, LoadSource]] = {
    "circuits": (
        circuits_entry,
        CircuitLoad(watts={Phase.A: 1800.0, Phase.B: 0.0, Phase.C: -450.0}, volts=120.0),
    ),
    "three_phase": (
        three_phase_entry,
        ThreePhaseLoad(watts=(2000.0, 1500.0, 1000.0), volts=230.0, power_factor=(1.0, 0.9, 0.8)),
    ),
    "delta": (
        delta_entry,
        DeltaLoad(watts=(3000.0, 2500.0, 2000.0), volts=480.0, power_factor=(0.95, 0.9, 0.85), frequency=60.0),
    ),
}


@pytest.fixture(params=list(CASES))
def wiring_case(request: pytest.FixtureRequest, clock: ManualClock) -> Generator[tuple[MockConfigEntry, str]]:
    """Each wiring's entry, its chip the emulator with a steady load."""
    make_entry, load = CASES[request.param]
    chip = EmulatedAtm90e32(load, clock=clock)
    with patch("custom_components.atm90e32.bus.open_transport", return_value=chip):
        yield make_entry(), request.param


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "patched_monotonic")
async def test_wiring_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    wiring_case: tuple[MockConfigEntry, str],
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
) -> None:
    entry, name = wiring_case
    freezer.move_to("2026-11-26T12:00:00+00:00")
    with patch("custom_components.atm90e32.PLATFORMS", [Platform.SENSOR]):
        coordinator = await setup_entry(hass, entry)
        for _ in range(600 // 5):  # Home Assistant's clock moves along: energy is written once a minute
            freezer.tick(5)
            await replay(coordinator, clock, 5)
        await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
    devices = sorted(
        (
            (device.name, device.model, sorted(device.identifiers), device.via_device_id is not None)
            for device in dr.async_entries_for_config_entry(device_registry, entry.entry_id)
        ),
        key=str,
    )
    assert devices == snapshot(name=f"{name}-devices")
