"""The diagnostics download."""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.atm90e32.diagnostics import async_get_config_entry_diagnostics
from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32

from .emulation import FaultyEmulator, ManualClock
from .helpers import replay


async def test_diagnostics_hold_config_registers_health_and_ledger(
    hass: HomeAssistant,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    init_integration: MockConfigEntry,
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 60)
    clock.advance(3)
    pending = mock_transport.pending_counts(Phase.A)
    diagnostics = await async_get_config_entry_diagnostics(hass, config_entry)
    assert mock_transport.pending_counts(Phase.A) == pending  # no energy register was read (cleared)
    assert diagnostics["entry"]["data"]["device"] == "simulated"
    assert diagnostics["registers"]["0x33"] == 0x1185
    assert diagnostics["registers"]["0x61"] == 3920
    assert diagnostics["health"]["refreshes"] == coordinator.health.refreshes
    assert diagnostics["spi"]["transactions"] > 0
    assert diagnostics["last_snapshot"]["channels"]["l1"]["voltage"] > 100
    counts = mock_transport.energy[Phase.A].forward_counts - pending[0]
    assert diagnostics["ledger_counts"]["l1_import"] == counts
    assert diagnostics["last_energy_read"]["at"].endswith("+00:00")
    # the fastest register to fill is APenergyT, the sum of both legs (MMode0 0x1185 sums A and C, DS p.56)
    assert diagnostics["last_energy_read"]["fill_power_w"] == pytest.approx(
        sum(abs(r.active_power) for r in coordinator.data.phases.values())
    )


async def test_diagnostics_when_the_chip_is_silent(
    hass: HomeAssistant,
    mock_transport: FaultyEmulator,
    init_integration: MockConfigEntry,
) -> None:
    config_entry = init_integration
    mock_transport.faults.dead_bus = 0xFF
    diagnostics = await async_get_config_entry_diagnostics(hass, config_entry)
    assert diagnostics["registers"].startswith("unavailable")
