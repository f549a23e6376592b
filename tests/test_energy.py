"""Lifetime energy: equal to the trace's integral, never decreasing, surviving restarts and crashes."""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import restore_state as rs
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_load_restore_state_from_storage,
    mock_restore_cache_with_extra_data,
)

from custom_components.atm90e32.driver import Phase
from custom_components.atm90e32.driver import registers as reg
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32, TraceLoad
from custom_components.atm90e32.driver.ledger import kwh_to_counts

from .emulation import ManualClock
from .helpers import every_refresh, journal_record, ledger_key, replay, setup_entry, state, unload_as_a_crash


@pytest.fixture
def config_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """These tests read the state after each refresh (balanced and lean: tests/test_publishing.py)."""
    return every_refresh(config_entry)


COUNT_KWH = reg.ENERGY_LSB_WH / 1000


def trace_kwh(load: TraceLoad, seconds: int) -> tuple[float, float]:
    """The trace's own integral of power over time per leg, in kWh (1 s piecewise-constant samples)."""
    l1 = sum(load.leg_watts(t)[0] for t in range(seconds)) / 3600 / 1000
    l2 = sum(load.leg_watts(t)[1] for t in range(seconds)) / 3600 / 1000
    return l1, l2


async def test_one_hour_of_the_trace_matches_its_integral(
    hass: HomeAssistant,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    init_integration: MockConfigEntry,
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    seconds, interval = 3600, 5
    reads = seconds // interval
    imported: list[float] = []
    for _ in range(reads):
        await replay(coordinator, clock, interval, interval)
        imported.append(float(state(hass, config_entry, "total_energy_import").state))
    assert imported == sorted(imported)  # never decreases

    load = mock_transport.load
    assert isinstance(load, TraceLoad)
    l1_truth, l2_truth = trace_kwh(load, seconds)
    l1 = float(state(hass, config_entry, "l1_energy_import").state)
    l2 = float(state(hass, config_entry, "l2_energy_import").state)
    total = float(state(hass, config_entry, "total_energy_import").state)
    # within one counter step per read (in fact the emulator carries the sub-count residual,
    # so the error is under one step in all)
    assert abs(l1 - l1_truth) <= COUNT_KWH * reads
    assert abs(l1 - l1_truth) <= COUNT_KWH
    assert abs(l2 - l2_truth) <= COUNT_KWH
    assert abs(total - (l1_truth + l2_truth)) <= 2 * COUNT_KWH
    assert l1_truth == pytest.approx(0.55 * (l1_truth + l2_truth))
    assert float(state(hass, config_entry, "l1_energy_export").state) == 0.0
    assert float(state(hass, config_entry, "total_energy_export").state) == 0.0
    # exactly every count the chip emitted, none twice
    assert round(l1 / COUNT_KWH) == mock_transport.energy[Phase.A].forward_counts
    assert round(l2 / COUNT_KWH) == mock_transport.energy[Phase.C].forward_counts
    print(  # the figures for the closing note (pytest -s)
        f"\n1 h, {reads} reads: L1 {l1:.6f} kWh vs trace {l1_truth:.6f} ({(l1 - l1_truth) * 1e6:+.2f} mWh); "
        f"L2 {l2:.6f} vs {l2_truth:.6f} ({(l2 - l2_truth) * 1e6:+.2f} mWh); "
        f"total {total:.6f} vs {l1_truth + l2_truth:.6f} ({(total - l1_truth - l2_truth) * 1e6:+.2f} mWh); "
        f"one count = {COUNT_KWH * 1e6:.3f} mWh"
    )


async def test_with_solar_on_one_leg_the_totals_net_continuously_like_the_utility_meter(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, clock: ManualClock
) -> None:
    """L2 carries 700 W of solar: it exports at times, and the service crosses between import and export."""
    load = TraceLoad(l2_generation_w=700.0)
    mock_transport.load = load
    coordinator = await setup_entry(hass, config_entry)
    seconds, interval = 3600, 5
    await replay(coordinator, clock, seconds, interval)

    legs = [load.leg_watts(t) for t in range(seconds)]
    kwh = 1 / 3600 / 1000
    l2_import_truth = sum(max(0.0, p2) for _, p2 in legs) * kwh
    l2_export_truth = sum(max(0.0, -p2) for _, p2 in legs) * kwh
    # The utility's meter nets the legs continuously (here each second).  The chip's all-phase sum leaves out
    # a leg whose |P| + |Q| is not above PPhaseTh and counts when the |P| of the sum exceeds PStartTh (DS
    # Figure-6 p.14): seconds within a few watts of zero count nothing, as on a utility meter's start.
    phase_th = mock_transport.registers[reg.P_PHASE_TH] * reg.POWER_LSB
    start_th = mock_transport.registers[reg.P_START_TH] * reg.POWER_LSB
    q_per_w = math.tan(math.acos(load.power_factor))

    def summed(p1: float, p2: float) -> float:
        return sum(p for p in (p1, p2) if abs(p) * (1 + q_per_w) > phase_th)

    def service(p1: float, p2: float) -> float:
        return summed(p1, p2) if abs(summed(p1, p2)) > start_th else 0.0

    # a sum of exactly PStartTh (388.3 W - 382.3 W = 6 W here) falls either side by float noise: 1 s of it each
    ties = sum(1 for p1, p2 in legs if math.isclose(abs(summed(p1, p2)), start_th)) * start_th * kwh

    import_truth = sum(max(0.0, service(p1, p2)) for p1, p2 in legs) * kwh
    export_truth = sum(max(0.0, -service(p1, p2)) for p1, p2 in legs) * kwh
    # Netting only at each read, as the ledger did before, books the net of each 5 s read.
    nets = [sum(p1 + p2 for p1, p2 in legs[i : i + interval]) * kwh for i in range(0, seconds, interval)]
    per_read_export = sum(-net for net in nets if net < 0)
    assert l2_export_truth > 0.01  # L2 exports a good part of the hour
    assert import_truth > 0.05  # and the service both imports
    assert export_truth > 0.01  # and exports

    def kwh_of(key: str) -> float:
        return float(state(hass, config_entry, key).state)

    def sign_changes(watts: list[float]) -> int:
        signs = [w > 0 for w in watts if w != 0]
        return sum(a != b for a, b in itertools.pairwise(signs))

    # The chip nets forward and reverse within one count (DS p.12): at each change of direction up to one
    # count of residual moves between import and export, while import minus export stays within one count.
    l2_import, l2_export = kwh_of("l2_energy_import"), kwh_of("l2_energy_export")
    assert abs((l2_import - l2_export) - (l2_import_truth - l2_export_truth)) <= COUNT_KWH
    l2_slack = (1 + sign_changes([p2 for _, p2 in legs])) * COUNT_KWH
    assert abs(l2_import - l2_import_truth) <= l2_slack
    assert abs(l2_export - l2_export_truth) <= l2_slack
    total_import, total_export = kwh_of("total_energy_import"), kwh_of("total_energy_export")
    assert abs((total_import - total_export) - (import_truth - export_truth)) <= COUNT_KWH + ties
    total_slack = (1 + sign_changes([p1 + p2 for p1, p2 in legs])) * COUNT_KWH + ties
    assert abs(total_import - import_truth) <= total_slack
    assert abs(total_export - export_truth) <= total_slack
    assert kwh_to_counts(total_export) == mock_transport.total_energy.reverse_counts  # every count, none twice
    drift = export_truth - per_read_export
    assert drift > total_slack + 10 * COUNT_KWH  # what per-read netting would have missed: the test tells them apart
    print(  # the figures for the closing note (pytest -s)
        f"\nsolar on L2, 1 h: total import {total_import:.6f} kWh vs continuous {import_truth:.6f}, "
        f"export {total_export:.6f} vs {export_truth:.6f}; netting per 5 s read would export "
        f"{per_read_export:.6f} kWh ({drift / export_truth:.2%} less); direction changes: "
        f"L2 {sign_changes([p2 for _, p2 in legs])}, service {sign_changes([p1 + p2 for p1, p2 in legs])}"
    )


async def test_totals_survive_a_restart(
    hass: HomeAssistant, config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32, clock: ManualClock
) -> None:
    stored = {"l1_energy_import": 1234.567890625, "total_energy_import": 2000.0, "l2_energy_export": 0.5}
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State(f"sensor.atm90e32as_simulated_{name}", str(value)),
                {"native_value": value, "native_unit_of_measurement": "kWh"},
            )
            for name, value in (
                ("l1_imported_energy", stored["l1_energy_import"]),
                ("imported_energy", stored["total_energy_import"]),
                ("l2_exported_energy", stored["l2_energy_export"]),
            )
        ],
    )
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, 60)
    emitted_kwh = mock_transport.energy[Phase.A].forward_counts * COUNT_KWH
    l1 = float(state(hass, config_entry, "l1_energy_import").state)
    assert l1 == pytest.approx(stored["l1_energy_import"] + emitted_kwh, abs=1e-12)
    assert float(state(hass, config_entry, "l2_energy_export").state) == stored["l2_energy_export"]
    assert float(state(hass, config_entry, "total_energy_import").state) > stored["total_energy_import"]


async def test_totals_survive_a_reload(
    hass: HomeAssistant,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    init_integration: MockConfigEntry,
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 300)
    before = float(state(hass, config_entry, "l2_energy_import").state)
    assert before > 0
    resets = mock_transport.resets
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    # the chip kept metering across the reload and was adopted, not reset
    assert mock_transport.resets == resets
    coordinator = config_entry.runtime_data
    after = float(state(hass, config_entry, "l2_energy_import").state)
    assert after >= before
    await replay(coordinator, clock, 60)
    total_emitted = mock_transport.energy[Phase.C].forward_counts * COUNT_KWH
    assert float(state(hass, config_entry, "l2_energy_import").state) == pytest.approx(total_emitted, abs=1e-12)


async def test_an_unclean_stop_loses_no_count_that_was_read(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    init_integration: MockConfigEntry,
) -> None:
    """kill -9: only what was on disk survives.

    Home Assistant writes its restore state every 15 minutes and at a clean stop; the
    ledger store at most once a minute, its journal after every read.  The chip clears
    its registers on read, so the counts read since the last restore-state dump exist
    only in the ledger files.  (tests/test_ledger_crashes.py kills it at every step.)
    """
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 60)
    await rs.async_get(hass).async_dump_states()  # the periodic dump, 14 minutes before the crash
    stale_restore_state = copy.deepcopy(hass_storage[rs.STORAGE_KEY])
    await replay(coordinator, clock, 14 * 60)
    ledger_on_disk = copy.deepcopy(hass_storage[ledger_key(config_entry)])
    pending = mock_transport.pending_counts(Phase.A)[0]
    read_so_far = mock_transport.energy[Phase.A].forward_counts - pending
    journal = journal_record(hass, config_entry)
    assert journal is not None
    assert journal["counts"]["l1_import"] == read_so_far  # on disk before it was shown
    assert ledger_on_disk["data"]["counts"]["l1_import"] <= read_so_far  # the store: at most a minute older

    # The crash: the process is gone; the disk holds the stale restore state and the ledger.
    await unload_as_a_crash(hass, config_entry)
    hass_storage[rs.STORAGE_KEY] = stale_restore_state
    hass_storage[ledger_key(config_entry)] = ledger_on_disk
    await async_mock_load_restore_state_from_storage(hass)
    clock.advance(30)  # down for 30 s; the chip kept counting and is adopted, not reset
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, 60)

    for key, phase in (("l1_energy_import", Phase.A), ("l2_energy_import", Phase.C)):
        lifetime = kwh_to_counts(float(state(hass, config_entry, key).state))
        assert lifetime == mock_transport.energy[phase].forward_counts, key
    stale_l1 = next(
        s["extra_data"]["native_value"]
        for s in stale_restore_state["data"]
        if s["state"]["entity_id"] == "sensor.atm90e32as_simulated_l1_imported_energy"
    )
    assert kwh_to_counts(stale_l1) < read_so_far  # what a restore state alone would have resumed from


async def test_the_ledger_store_is_deleted_with_the_entry(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    init_integration: MockConfigEntry,
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 30)
    key = ledger_key(config_entry)
    assert key in hass_storage
    journal = journal_record(hass, config_entry)
    assert journal is not None
    assert journal["counts"]["l1_import"] > 0
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage
    assert journal_record(hass, config_entry) is None


async def test_a_damaged_ledger_store_falls_back_to_the_restore_state(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: MockConfigEntry, mock_transport: EmulatedAtm90e32
) -> None:
    hass_storage[ledger_key(config_entry)] = {
        "version": 1,
        "key": ledger_key(config_entry),
        "data": {"counts": {"l1_import": -3, "l2_import": "many", "total_import": 640}},
    }
    mock_restore_cache_with_extra_data(
        hass,
        [
            (
                State("sensor.atm90e32as_simulated_l1_imported_energy", "1.5"),
                {"native_value": 1.5, "native_unit_of_measurement": "kWh"},
            )
        ],
    )
    await setup_entry(hass, config_entry)
    emitted = mock_transport.energy[Phase.A].forward_counts
    assert kwh_to_counts(float(state(hass, config_entry, "l1_energy_import").state)) == kwh_to_counts(1.5) + emitted
    total = kwh_to_counts(float(state(hass, config_entry, "total_energy_import").state))
    assert total == 640 + emitted + mock_transport.energy[Phase.C].forward_counts


async def test_changing_the_settings_loses_no_count(
    hass: HomeAssistant,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    init_integration: MockConfigEntry,
) -> None:
    """Saving options reloads the entry with new gains: the chip is neither reset nor left with unbooked counts."""
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 60)
    clock.advance(4)  # 4 s of counts waiting in the chip when the person saves
    assert mock_transport.pending_counts(Phase.A)[0] > 0
    resets = mock_transport.resets
    # what OptionsFlowWithReload does on save
    hass.config_entries.async_update_entry(
        config_entry, options={**config_entry.options, "ct_preset_l1": "custom", "current_gain_l1": 25000}
    )
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.runtime_data is not coordinator  # reloaded
    assert mock_transport.resets == resets
    assert mock_transport.registers[reg.IGAIN[Phase.A]] == 25000
    coordinator = config_entry.runtime_data
    await replay(coordinator, clock, 60)
    for key, phase in (("l1_energy_import", Phase.A), ("l2_energy_import", Phase.C)):
        assert mock_transport.energy[phase].forward_lost == 0
        lifetime = kwh_to_counts(float(state(hass, config_entry, key).state))
        assert lifetime == mock_transport.energy[phase].forward_counts - mock_transport.pending_counts(phase)[0]


async def test_counts_made_before_a_settings_change_are_booked_under_the_old_settings(
    hass: HomeAssistant,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    init_integration: MockConfigEntry,
) -> None:
    config_entry, coordinator = init_integration, init_integration.runtime_data
    await replay(coordinator, clock, 60)
    clock.advance(4)  # counts made while CT1 still counted as facing the right way
    assert mock_transport.pending_counts(Phase.A)[0] > 0  # (also brings the emulator up to now)
    made_before = mock_transport.energy[Phase.A].forward_counts
    hass.config_entries.async_update_entry(config_entry, options={**config_entry.options, "invert_l1": True})
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert kwh_to_counts(float(state(hass, config_entry, "l1_energy_import").state)) == made_before
    await replay(config_entry.runtime_data, clock, 60)
    assert kwh_to_counts(float(state(hass, config_entry, "l1_energy_import").state)) == made_before
    exported = kwh_to_counts(float(state(hass, config_entry, "l1_energy_export").state))
    assert exported == mock_transport.energy[Phase.A].forward_counts - made_before
