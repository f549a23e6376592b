"""Shared fixtures: the chip emulator on a manual clock, and Home Assistant config entries."""

from __future__ import annotations

import errno
import sys
import types
from collections.abc import Generator
from pathlib import Path
from typing import Any, ClassVar
from unittest.mock import PropertyMock, patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.atm90e32.const import CONF_DEVICE, CONF_LINE_FREQUENCY, CONF_WIRING, DOMAIN, SIMULATED
from custom_components.atm90e32.driver.channels import SPLIT_PHASE
from custom_components.atm90e32.driver.emulator import Board, ConstantLoad, EmulatedAtm90e32, TraceLoad
from custom_components.atm90e32.settings import DEFAULT_OPTIONS

from .emulation import FaultyEmulator, ManualClock
from .snapshot_extension import VersionedSnapshotExtension

ENTRY_DATA: dict[str, Any] = {
    CONF_DEVICE: SIMULATED,
    CONF_LINE_FREQUENCY: 60,
    CONF_WIRING: SPLIT_PHASE.key,
}
ENTRY_OPTIONS: dict[str, Any] = dict(DEFAULT_OPTIONS)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/atm90e32 in every test."""


@pytest.fixture(autouse=True)
def journal_in_tmp_path(tmp_path: Path) -> Generator[Path]:
    """Ledger journals go to the test's own directory (the test Home Assistant's config dir is shared)."""
    with patch(
        "custom_components.atm90e32.storage.journal_path", lambda _hass, key: tmp_path / ".storage" / f"{key}.journal"
    ):
        yield tmp_path / ".storage"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Syrupy with Home Assistant's serializer: registry ids and times that vary between runs are masked.

    The oldest supported Home Assistant release keeps its snapshots apart (tests/snapshot_extension.py).
    """
    return snapshot.use_extension(VersionedSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create every entity enabled, also those a new installation disables (as Home Assistant core's fixture)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
def clock() -> ManualClock:
    """A clock that only moves when a test advances it."""
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> FaultyEmulator:
    """An emulated chip replaying the bundled household trace from its first second."""
    return FaultyEmulator(TraceLoad(), clock=clock)


@pytest.fixture
def mock_transport(emulator: FaultyEmulator) -> Generator[FaultyEmulator]:
    """Make the integration's bus the test's emulator (both where it is opened and probed)."""
    with patch("custom_components.atm90e32.bus.open_transport", return_value=emulator):
        yield emulator


@pytest.fixture
def config_entry() -> MockConfigEntry:
    """A config entry for the simulated meter, as the config flow creates it."""
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        data=dict(ENTRY_DATA),
        options=dict(ENTRY_OPTIONS),
        unique_id=SIMULATED,
        title="ATM90E32AS (simulated)",
    )


@pytest.fixture
def patched_monotonic(clock: ManualClock) -> Generator[None]:
    """The meter and coordinator measure the gaps between reads on the manual clock that drives the chip."""
    with (
        patch("custom_components.atm90e32.coordinator.monotonic", clock),
        patch("custom_components.atm90e32.driver.meter.monotonic", clock),
    ):
        yield


class EmulatedSpiDev:
    """The spidev extension's SpiDev surface, wired to the chip emulator instead of a bus."""

    nodes: ClassVar[dict[tuple[int, int], FaultyEmulator]] = {}
    open_error: ClassVar[OSError | None] = None

    def __init__(self) -> None:
        self.mode = 0
        self.bits_per_word = 0
        self.lsbfirst = True
        self.max_speed_hz = 0
        self.chip: FaultyEmulator | None = None
        self.closed = False

    def open(self, bus: int, chip_select: int) -> None:
        if self.open_error is not None:
            raise self.open_error
        if (bus, chip_select) not in self.nodes:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")
        self.chip = self.nodes[(bus, chip_select)]

    def xfer2(self, data: list[int]) -> list[int]:
        assert self.chip is not None
        if self.chip.faults.dead_bus == 0xEE:  # the kernel refuses the transfer
            raise OSError(errno.EIO, "Input/output error")
        return list(self.chip.transfer(bytes(data)))

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def spidev_module(monkeypatch: pytest.MonkeyPatch) -> FaultyEmulator:
    emulator = FaultyEmulator(ConstantLoad(watts=(1000.0, 500.0), volts=120.0))
    EmulatedSpiDev.nodes = {(0, 0): emulator}
    EmulatedSpiDev.open_error = None
    module = types.ModuleType("spidev")
    module.__dict__["SpiDev"] = EmulatedSpiDev
    monkeypatch.setitem(sys.modules, "spidev", module)
    return emulator


@pytest.fixture
def v14_board(mock_transport: EmulatedAtm90e32) -> EmulatedAtm90e32:
    """A v1.4 board with a 9 V transformer (Ugain 37106): every threshold fits in the chip."""
    mock_transport.board = Board(voltage_gains=(37106.0,) * 3)
    mock_transport.load = ConstantLoad(watts=(1000.0, 500.0), volts=120.0, power_factor=0.95)
    return mock_transport


def v14_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        data=dict(config_entry.data),
        options={**config_entry.options, "vt_preset": "9v_v14", "voltage_gain": 37106, "voltage_gain_l2": 37106},
        unique_id=config_entry.unique_id,
        title=config_entry.title,
    )
