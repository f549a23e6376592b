"""Shared fixtures: the chip emulator on a manual clock, and Home Assistant config entries.

``init_integration`` is the integration set up on the emulated chip: a test asks for it instead of
creating, adding and setting up an entry itself.  Its entry is ``config_entry``: split-phase with the
default options unless the test parametrizes ``wiring`` (a key of :data:`WIRING_CASES`) or
``entry_options`` (``@pytest.mark.parametrize("entry_options", [{...}])``).
"""

from __future__ import annotations

import errno
import sys
import types
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from unittest.mock import PropertyMock, patch

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
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
from custom_components.atm90e32.driver import emulator as emulator_package
from custom_components.atm90e32.driver.channels import (
    CIRCUITS_KEY,
    SPLIT_PHASE,
    THREE_PHASE_DELTA,
    THREE_PHASE_WYE,
    circuits_wiring,
    wiring_for,
)
from custom_components.atm90e32.driver.emulator import (
    Board,
    CircuitLoad,
    ConstantLoad,
    DeltaLoad,
    EmulatedAtm90e32,
    LoadSource,
    ThreePhaseLoad,
    simulated_load,
)
from custom_components.atm90e32.settings import DEFAULT_OPTIONS, default_options

from .emulation import FaultyEmulator, ManualClock
from .helpers import measuring_time_on, opening_the_bus, setup_entry
from .snapshot_extension import VersionedSnapshotExtension

ENTRY_DATA: dict[str, Any] = {
    CONF_DEVICE: SIMULATED,
    CONF_LINE_FREQUENCY: 60,
    CONF_WIRING: SPLIT_PHASE.key,
}
ENTRY_OPTIONS: dict[str, Any] = dict(DEFAULT_OPTIONS)
V14_OPTIONS: dict[str, Any] = {**ENTRY_OPTIONS, "vt_preset": "9v_v14", "voltage_gain": 37106, "voltage_gain_l2": 37106}
"""A v1.4 board with a 9 V transformer, the board of ``v14_board``: ``parametrize("entry_options", [V14_OPTIONS])``."""


@dataclass(frozen=True, kw_only=True)
class WiringCase:
    """One wiring's config entry as its flow creates it, and a steady load for its snapshots."""

    data: dict[str, Any]
    options: dict[str, Any]
    title: str
    steady_load: Callable[[], LoadSource]


WIRING_CASES: dict[str, WiringCase] = {
    # US 120/240 V: L1 imports 1000 W, L2 exports 300 W (solar), power factor 0.95, 60 Hz.
    SPLIT_PHASE.key: WiringCase(
        data=ENTRY_DATA,
        options=ENTRY_OPTIONS,
        title="ATM90E32AS (simulated)",
        steady_load=lambda: ConstantLoad(watts=(1000.0, -300.0), volts=120.0, power_factor=0.95),
    ),
    # A chip of a 6-channel board with CT1 and CT3 in use; CT3 a 240 V load (x2) on the 120 V reference.
    CIRCUITS_KEY: WiringCase(
        data={
            CONF_DEVICE: SIMULATED,
            CONF_LINE_FREQUENCY: 60,
            CONF_WIRING: CIRCUITS_KEY,
            CONF_BOARD: "Main board",
            CONF_BOARD_POSITION: 1,
            CONF_CHANNELS: ["ct1", "ct3"],
        },
        options={
            **default_options(circuits_wiring(["ct1", "ct3"])),
            "name_ct1": "Heat pump",
            "name_ct3": "Dryer",
            "voltage_factor_ct3": 2,
        },
        title="Main board CT1-CT3 (simulated)",
        steady_load=lambda: CircuitLoad(watts={Phase.A: 1800.0, Phase.B: 0.0, Phase.C: -450.0}, volts=120.0),
    ),
    # 230/400 V 50 Hz wye with voltage transformers on every phase; unequal loads and power factors.
    THREE_PHASE_WYE.key: WiringCase(
        data={
            CONF_DEVICE: SIMULATED,
            CONF_LINE_FREQUENCY: 50,
            CONF_WIRING: THREE_PHASE_WYE.key,
            CONF_BOARD: "ATM90E32AS",
            CONF_VOLTAGE_SYSTEM: "230_400",
        },
        options={**default_options(THREE_PHASE_WYE), CONF_VOLTAGE_TRANSFORMERS: VT_DUAL},
        title="ATM90E32AS (simulated)",
        steady_load=lambda: ThreePhaseLoad(watts=(2000.0, 1500.0, 1000.0), volts=230.0, power_factor=(1.0, 0.9, 0.8)),
    ),
    # A 480 V delta (three-wire) service at 60 Hz: CTs on L1 and L3, transformers across L1-L2 and L3-L2.
    THREE_PHASE_DELTA.key: WiringCase(
        data={
            CONF_DEVICE: SIMULATED,
            CONF_LINE_FREQUENCY: 60,
            CONF_WIRING: THREE_PHASE_DELTA.key,
            CONF_BOARD: "ATM90E32AS",
            CONF_VOLTAGE_SYSTEM: "delta_480",
        },
        options=default_options(THREE_PHASE_DELTA),
        title="ATM90E32AS (simulated)",
        steady_load=lambda: DeltaLoad(
            watts=(3000.0, 2500.0, 2000.0), volts=480.0, power_factor=(0.95, 0.9, 0.85), frequency=60.0
        ),
    ),
}
"""Every wiring a config entry can have, by its ``wiring`` key: adding a wiring here adds it to every test
parametrized over the wirings (the snapshots of every platform among them)."""


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
def wiring() -> str:
    """The wiring of ``config_entry`` (a key of :data:`WIRING_CASES`); parametrize it to test another."""
    return SPLIT_PHASE.key


@pytest.fixture
def emulator(clock: ManualClock, wiring: str) -> FaultyEmulator:
    """An emulated chip replaying the bundled household trace from its first second, as ``wiring``'s service
    (split-phase: TraceLoad())."""
    data = WIRING_CASES[wiring].data
    load = simulated_load(wiring_for(wiring, data.get(CONF_CHANNELS)), line_frequency=int(data[CONF_LINE_FREQUENCY]))
    return FaultyEmulator(load, clock=clock)


@pytest.fixture
def mock_transport(emulator: FaultyEmulator) -> Generator[FaultyEmulator]:
    """Make the integration's bus the test's emulator (both where it is opened and probed)."""
    with opening_the_bus(lambda *_args: emulator):
        yield emulator


@pytest.fixture
def entry_options(wiring: str) -> dict[str, Any]:
    """The options of ``config_entry``: the wiring's as its flow creates them; parametrize it to test others."""
    return dict(WIRING_CASES[wiring].options)


@pytest.fixture
def entry_id() -> str | None:
    """The entry id of ``config_entry``: None gives a fresh one (the snapshot tests fix it)."""
    return None


@pytest.fixture
def config_entry(wiring: str, entry_options: dict[str, Any], entry_id: str | None) -> MockConfigEntry:
    """A config entry for the simulated meter of ``wiring``, as the config flow creates it."""
    case = WIRING_CASES[wiring]
    return MockConfigEntry(
        domain=DOMAIN,
        version=2,
        entry_id=entry_id,
        data=dict(case.data),
        options=entry_options,
        unique_id=SIMULATED,
        title=case.title,
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: FaultyEmulator
) -> MockConfigEntry:
    """``config_entry`` added and set up on the test's emulated chip (``mock_transport``); its coordinator
    is ``init_integration.runtime_data``.  Fixtures that shape the chip or the entry (a load, options)
    must come before it in the test's arguments or be among its dependencies."""
    await setup_entry(hass, config_entry)
    return config_entry


@pytest.fixture
def simulated_bus(clock: ManualClock) -> Generator[None]:
    """The real simulated bus (bus.open_transport, the simulated board), its chips on the test's manual clock."""
    with patch.object(emulator_package, "scaled_clock", lambda _speed: clock), measuring_time_on(clock):
        yield


@pytest.fixture
def patched_monotonic(clock: ManualClock) -> Generator[None]:
    """The meter and coordinator measure the gaps between reads on the manual clock that drives the chip."""
    with measuring_time_on(clock):
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
