"""The simulated meter's load: the household as installed, or a test load to rehearse each calibration step.

Exists only on a simulated meter whose chip the integration keeps (simulated_chips), never
on a real meter nor on a replay file's: there the wires decide the load.  Choosing an
option switches the simulated service at once, as a person flips breakers or plugs in a
test load, and the next refresh shows it.
"""

from __future__ import annotations

from functools import partial

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import simulated_chips
from .coordinator import Atm90e32ConfigEntry
from .entity import Atm90e32Entity

PARALLEL_UPDATES = 1  # one load change at a time

SIMULATED_LOAD = SelectEntityDescription(
    key="simulated_load",
    translation_key="simulated_load",
    entity_category=EntityCategory.CONFIG,
    options=list(simulated_chips.LOAD_MODES),
)
"""What the simulated service draws (simulated_chips.LOAD_MODES)."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: Atm90e32ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the load select to a simulated meter with a kept chip; nothing to any other meter."""
    if simulated_chips.has_load_modes(entry):
        async_add_entities([SimulatedLoadSelect(entry.runtime_data, SIMULATED_LOAD)])


class SimulatedLoadSelect(Atm90e32Entity, SelectEntity):
    """The simulated service's load; its state is the kept chip's (it survives reloads with the chip)."""

    @property
    def current_option(self) -> str:
        """The load the simulated service draws now."""
        return simulated_chips.load_mode(self.hass, self.coordinator.config_entry.entry_id)

    async def async_select_option(self, option: str) -> None:
        """Switch the simulated service to ``option`` (in the executor: it waits for a chip transaction), then read."""
        entry_id = self.coordinator.config_entry.entry_id
        await self.hass.async_add_executor_job(partial(simulated_chips.set_load_mode, self.hass, entry_id, option))
        self.async_write_ha_state()
        await self.coordinator.async_request_refresh()
