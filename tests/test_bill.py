"""The README's "Check your bill" recipe in a real Home Assistant: cycle figures equal the ledger's, to the count.

The integration runs on the chip emulator replaying the household trace with solar on
L2 (so the service both imports and exports); Home Assistant's own ``utility_meter``
and ``template`` integrations run with the README's blocks.  The utility meters are set
up as the helper UI creates them (config entries, with the README block's settings), so
that a Home Assistant restart can be played as one: every config entry unloaded, the
restore state written and read back as at a start, the meter down 30 s while the chip
keeps counting, everything set up again.

Tolerance 0: our energy states are whole counts of 0.000003125 kWh written as exact
decimals, and ``utility_meter`` adds differences of ``Decimal(state)``, so a cycle's
figure must be exactly the counts booked in it times the count.  The net template
rounds import minus export to 9 decimals, which removes only the float subtraction's
noise (both are multiples of 0.000003125).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from awesomeversion import AwesomeVersion
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.utility_meter.config_flow import ConfigFlowHandler as UtilityMeterFlow
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import restore_state as rs
from homeassistant.helpers.template import Template
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_load_restore_state_from_storage,
)

from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32, TraceLoad

from .emulation import ManualClock
from .helpers import every_refresh, replay, setup_entry


@pytest.fixture
def config_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """These tests read the state after each refresh (balanced and lean: tests/test_publishing.py)."""
    return every_refresh(config_entry)


REPO = Path(__file__).resolve().parent.parent
COUNT_KWH = Decimal("0.000003125")
IMPORTED = "sensor.atm90e32as_simulated_imported_energy"
EXPORTED = "sensor.atm90e32as_simulated_exported_energy"
TARIFFS = ["peak", "off_peak", "super_off_peak"]
EXACT_RELEASE = AwesomeVersion(HA_VERSION) >= AwesomeVersion("2026.10.0")
"""Whether this Home Assistant's time-of-use split and net meter are exact too.

On 2025.8 (the oldest release supported) the meters without tariffs on our lifetime totals
are exact, but in this test a meter with tariffs gave the tariff in force after the restart
6,433 counts that were never booked, and the net meter (template + net_consumption) ended
114 counts (0.36 Wh) off the template's own difference although every adjustment it made
matched; the cause was not found. On 2026.10 all are exact, except that the meters with
tariffs drop the counts made while Home Assistant was down (the README says so)."""


def readme_yaml(top_key: str) -> dict[str, Any]:
    """The README's ```yaml block that starts with ``<top_key>:`` (dedented to its fence), parsed."""
    blocks: list[str] = []
    current: list[str] | None = None
    indent = 0
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        if current is None and line.strip() == "```yaml":
            current, indent = [], len(line) - len(line.lstrip())
        elif current is not None and line.strip() == "```":
            blocks.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line[indent:])
    found = [block for block in blocks if block.startswith(f"{top_key}:")]
    assert len(found) == 1, f"the README should have one yaml block starting with {top_key}:"
    parsed: dict[str, Any] = yaml.safe_load(found[0])
    return parsed


def counts(hass: HomeAssistant, entity_id: str) -> int:
    """The lifetime total shown by ``entity_id``, in counts; it must be a whole number of them."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    exact = Decimal(state.state) / COUNT_KWH
    assert exact == exact.to_integral_value(), state.state
    return int(exact)


def kwh(hass: HomeAssistant, entity_id: str, attribute: str | None = None) -> Decimal:
    """A utility meter's state (or ``attribute``), exactly as Home Assistant holds it."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return Decimal(str(state.attributes[attribute]) if attribute else state.state)


def meter_entries(hass: HomeAssistant) -> list[MockConfigEntry]:
    """The README's utility meters as the helper UI creates them (same settings, same entity ids)."""
    entries = []
    for name, conf in readme_yaml("utility_meter")["utility_meter"].items():
        entry = MockConfigEntry(
            domain="utility_meter",
            version=UtilityMeterFlow.VERSION,  # an older version would be migrated (periodically_resetting: true)
            minor_version=UtilityMeterFlow.MINOR_VERSION,
            title=name,
            options={
                "name": name,
                "source": conf["source"],
                "cycle": conf["cycle"],
                "offset": 0,
                "tariffs": conf.get("tariffs", []),
                "net_consumption": conf.get("net_consumption", False),
                "delta_values": False,
                "periodically_resetting": conf.get("periodically_resetting", True),
                "always_available": False,
            },
        )
        entry.add_to_hass(hass)
        entries.append(entry)
    return entries


async def set_tariff(hass: HomeAssistant, tariff: str) -> None:
    """What the tariff blueprint does: both tariff selects to ``tariff``."""
    for select in ("select.energy_import_tou", "select.energy_export_tou"):
        await hass.services.async_call(
            "select", "select_option", {"entity_id": select, "option": tariff}, blocking=True
        )
    await hass.async_block_till_done()


def sum_booked(booked: dict[tuple[str, str], int], direction: str) -> int:
    return sum(n for (d, _), n in booked.items() if d == direction)


def local(text: str) -> datetime:
    moment = dt_util.parse_datetime(text)
    assert moment is not None
    return moment.replace(tzinfo=dt_util.get_default_time_zone())


async def test_billing_cycle_totals_equal_the_ledger_across_a_restart_and_the_month_end(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    mock_transport: EmulatedAtm90e32,
    clock: ManualClock,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.config.async_set_time_zone("America/Los_Angeles")
    freezer.move_to(local("2026-06-30T20:00:00"))
    mock_transport.load = TraceLoad(l2_generation_w=700.0)  # solar on L2: the service imports and exports
    coordinator = await setup_entry(hass, config_entry)
    await replay(coordinator, clock, 60)
    assert await async_setup_component(hass, "template", readme_yaml("template"))
    assert await async_setup_component(hass, "input_number", readme_yaml("input_number"))
    await hass.async_block_till_done()
    meters = meter_entries(hass)
    # Set up as at a start of Home Assistant: the meters begin once every platform is up.  (Set up while it
    # runs, 2025.8's tariff meter tracks its source twice when its tariff select comes up in the same loop
    # pass, as it does once another integration has loaded the select component: a paused tariff keeps counting.)
    hass.set_state(CoreState.starting)
    assert await async_setup_component(hass, "utility_meter", {})  # sets up every utility_meter entry
    await hass.async_block_till_done()
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    # The helper UI puts the meters on the meter's device, whose name prefixes their ids; the
    # README's YAML meters (which the dashboard names) have none: give them those ids.
    registry = er.async_get(hass)
    for entity in list(registry.entities.values()):
        if entity.platform == "utility_meter" and entity.entity_id.startswith("sensor.atm90e32as_simulated_"):
            registry.async_update_entity(
                entity.entity_id, new_entity_id=entity.entity_id.replace("atm90e32as_simulated_", "", 1)
            )
    await hass.async_block_till_done()

    # The meters start from the totals they first see: the cycle's ledger figures are differences from here.
    start = {"import": counts(hass, IMPORTED), "export": counts(hass, EXPORTED)}
    booked: dict[tuple[str, str], int] = {}  # (import/export, tariff) -> counts booked under that tariff

    async def run(tariff: str, seconds: int) -> None:
        before = {"import": counts(hass, IMPORTED), "export": counts(hass, EXPORTED)}
        await set_tariff(hass, tariff)
        await replay(coordinator, clock, seconds)
        for direction, entity_id in (("import", IMPORTED), ("export", EXPORTED)):
            key = (direction, tariff)
            booked[key] = booked.get(key, 0) + counts(hass, entity_id) - before[direction]

    await run("peak", 1200)
    await run("off_peak", 1800)

    for direction in ("import", "export"):  # before any restart the time-of-use split is exact on every release
        for tariff in ("peak", "off_peak"):
            figure = kwh(hass, f"sensor.energy_{direction}_tou_{tariff}")
            assert figure == booked[direction, tariff] * COUNT_KWH, (direction, tariff)

    # Home Assistant restarts: everything unloaded, the restore state written and read back.
    before_restart = counts(hass, IMPORTED) + counts(hass, EXPORTED)
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    for entry in meters:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await rs.async_get(hass).async_dump_states()
    await async_mock_load_restore_state_from_storage(hass)
    clock.advance(30)  # down 30 s; the chip keeps counting and is adopted at the start
    for entry in meters:  # the meters come up first and wait for their sources
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    restored = hass.states.get("select.energy_import_tou")
    assert restored is not None
    assert restored.state == "off_peak"
    coordinator = await setup_entry(hass, config_entry)
    await hass.async_block_till_done()
    # The 30 s counted while down are booked at the start. The meters without tariffs count
    # them. A meter with tariffs picks up its tariff again at start and forgets its last
    # value then (Home Assistant 2026.10), so the tariff in force (off-peak) does not get them.
    downtime = {
        direction: counts(hass, entity_id) - (start[direction] + sum_booked(booked, direction))
        for direction, entity_id in (("import", IMPORTED), ("export", EXPORTED))
    }
    assert sum(downtime.values()) > 0
    assert counts(hass, IMPORTED) + counts(hass, EXPORTED) == before_restart + sum(downtime.values())

    await run("off_peak", 600)
    await run("super_off_peak", 1800)
    await run("peak", 600)

    end = {"import": counts(hass, IMPORTED), "export": counts(hass, EXPORTED)}
    for direction in ("import", "export"):  # the replay imported and exported under every tariff
        assert all(booked[direction, tariff] > 1_000 for tariff in TARIFFS), booked

    def check_cycle(attribute: str | None) -> None:
        """Each meter's figure (this cycle's state, or last_period) equals the ledger's, to the count."""
        for direction in ("import", "export"):
            total = kwh(hass, f"sensor.energy_{direction}_cycle", attribute)
            assert total == (end[direction] - start[direction]) * COUNT_KWH, direction
            assert end[direction] - start[direction] == sum_booked(booked, direction) + downtime[direction]
            if not EXACT_RELEASE:
                continue
            for tariff in TARIFFS:  # each exactly what was booked under it, the downtime's counts in none
                figure = kwh(hass, f"sensor.energy_{direction}_tou_{tariff}", attribute)
                assert figure == booked[direction, tariff] * COUNT_KWH, (direction, tariff)
        if not EXACT_RELEASE:
            return
        net = kwh(hass, "sensor.energy_net_cycle", attribute)
        assert net == ((end["import"] - start["import"]) - (end["export"] - start["export"])) * COUNT_KWH

    check_cycle(None)

    # Midnight, 1 July: a new cycle. last_period holds June's figures; July starts from 0.
    moment = local("2026-07-01T00:00:00")
    freezer.move_to(moment)
    async_fire_time_changed(hass, moment)
    await hass.async_block_till_done()
    check_cycle("last_period")
    for direction in ("import", "export"):
        assert kwh(hass, f"sensor.energy_{direction}_cycle") == 0
        for tariff in TARIFFS:
            assert kwh(hass, f"sensor.energy_{direction}_tou_{tariff}") == 0
    if EXACT_RELEASE:
        assert kwh(hass, "sensor.energy_net_cycle") == 0

    july_start = {"import": counts(hass, IMPORTED), "export": counts(hass, EXPORTED)}
    await replay(coordinator, clock, 600)
    july = {d: counts(hass, e) - july_start[d] for d, e in (("import", IMPORTED), ("export", EXPORTED))}
    assert kwh(hass, "sensor.energy_import_cycle") == july["import"] * COUNT_KWH
    assert kwh(hass, "sensor.energy_export_tou_peak") == july["export"] * COUNT_KWH
    if EXACT_RELEASE:
        assert kwh(hass, "sensor.energy_net_cycle") == (july["import"] - july["export"]) * COUNT_KWH

    # The shipped dashboard's table renders these same figures (three decimals), and the charge at the prices set.
    prices = {"peak": Decimal("0.45"), "off_peak": Decimal("0.25"), "super_off_peak": Decimal("0.12")}
    for tariff, price in prices.items():
        await hass.services.async_call(
            "input_number",
            "set_value",
            {"entity_id": f"input_number.price_{tariff}", "value": float(price)},
            blocking=True,
        )
    dashboard = yaml.safe_load((REPO / "dashboards" / "bill_check.yaml").read_text(encoding="utf-8"))
    table = next(card for card in dashboard["views"][0]["cards"] if card["type"] == "markdown")
    rendered = Template(table["content"], hass).async_render(parse_result=False)
    june_import = (end["import"] - start["import"]) * COUNT_KWH
    june_net = june_import - (end["export"] - start["export"]) * COUNT_KWH
    assert f"| **Imported** | **{july['import'] * COUNT_KWH:.3f}** | **{june_import:.3f}** |" in rendered
    assert "| Energy charge, net at today's prices (USD) | " in rendered
    if EXACT_RELEASE:
        july_net = (july["import"] - july["export"]) * COUNT_KWH
        assert f"| **Net** (imported \N{MINUS SIGN} exported) | **{july_net:.3f}** | **{june_net:.3f}** |" in rendered
        june_charge = sum(
            (booked["import", tariff] - booked["export", tariff]) * COUNT_KWH * price
            for tariff, price in prices.items()
        )
        assert rendered.rstrip().count(f" | {june_charge:.2f} |") == 1, (june_charge, rendered)
    print(f"\n{rendered}")  # the figures for the closing note (pytest -s)
