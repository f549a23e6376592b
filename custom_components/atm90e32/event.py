"""The power-quality event entity: each start and end of a sag, swell, phase loss, over-current or frequency."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import Atm90e32ConfigEntry, Atm90e32Coordinator
from .driver.power_quality import Condition, Transition
from .entity import Atm90e32Entity
from .sensor import AMPERE, HERTZ, PEAK_AMPERE, PEAK_VOLT, VOLT, rounded

PARALLEL_UPDATES = 0  # coordinator-driven

EVENT_TYPES: tuple[str, ...] = (*(c.value for c in Condition), *(f"{c.value}_end" for c in Condition))
"""``sag``, ..., ``frequency_low`` when a condition starts; ``sag_end``, ... when it ends."""
VOLTAGE_CONDITIONS = (Condition.SAG, Condition.SWELL, Condition.PHASE_LOSS)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: Atm90e32ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the service's power-quality event entity."""
    async_add_entities([Atm90e32PowerQualityEvent(entry.runtime_data)])


def event_data(coordinator: Atm90e32Coordinator, transition: Transition) -> dict[str, Any]:
    """The attributes of one event: the channel and what the refresh that saw it read.

    Voltage conditions carry ``voltage`` and ``peak_voltage`` (V), over-current ``current``
    and ``peak_current`` (A), frequency conditions ``frequency`` (Hz), each to the
    precision of its sensor.
    """
    snapshot = coordinator.data
    if transition.phase is None:
        return {"frequency": rounded(snapshot.frequency, HERTZ)}
    data: dict[str, Any] = {"channel": coordinator.wiring.channel(transition.phase).name}
    reading = snapshot.phases.get(transition.phase)
    if reading is None:
        return data
    if transition.condition in VOLTAGE_CONDITIONS:
        data |= {"voltage": rounded(reading.voltage, VOLT), "peak_voltage": rounded(reading.peak_voltage, PEAK_VOLT)}
    else:
        peak = rounded(reading.peak_current, PEAK_AMPERE)
        data |= {"current": rounded(reading.current, AMPERE), "peak_current": peak}
    return data


class Atm90e32PowerQualityEvent(Atm90e32Entity, EventEntity):
    """Fires for every start and end the chip latched or the readings showed, in order."""

    def __init__(self, coordinator: Atm90e32Coordinator) -> None:
        """One per service."""
        super().__init__(coordinator, EventEntityDescription(key="power_quality", translation_key="power_quality"))
        self._attr_event_types = list(EVENT_TYPES)
        self._available: bool | None = None
        """Availability as last written: a refresh with no event and no change of it writes nothing."""

    async def async_added_to_hass(self) -> None:
        """Follow the coordinator, and fire the refresh before this entity was added (a condition found at setup)."""
        await super().async_added_to_hass()
        self._fire()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Fire the refresh's transitions, each written on its own so the Logbook lists them all."""
        self._fire()

    @callback
    def _fire(self) -> None:
        for transition in self.coordinator.transitions:
            event_type = transition.condition.value if transition.started else f"{transition.condition.value}_end"
            self._trigger_event(event_type, event_data(self.coordinator, transition))
            self._available = self.available
            self.async_write_ha_state()
        if self._available != self.available:
            self._available = self.available
            self.async_write_ha_state()
