"""The power-quality event entity: each start and end of a sag, swell, phase loss, over-current or frequency.

Each start and end is also fired on the bus as :data:`EVENT_POWER_QUALITY`, which the
Logbook describes with the channel, the value and the limit (logbook.py).
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_BOARD_POSITION, DOMAIN
from .coordinator import Atm90e32ConfigEntry, Atm90e32Coordinator
from .driver.channels import CIRCUITS, Channel
from .driver.power_quality import VOLTAGE_CONDITIONS, Condition, Transition
from .entity import Atm90e32Entity
from .labels import default_circuit_name
from .precision import AMPERE, HERTZ, PEAK_AMPERE, PEAK_VOLT, VOLT, rounded
from .quality import condition_key

PARALLEL_UPDATES = 0  # coordinator-driven

EVENT_TYPES: tuple[str, ...] = (*(c.value for c in Condition), *(f"{c.value}_end" for c in Condition))
"""``sag``, ..., ``frequency_low`` when a condition starts; ``sag_end``, ... when it ends."""
EVENT_POWER_QUALITY: Final = f"{DOMAIN}_power_quality"
"""The bus event fired with each start and end: the event entity's ``entity_id``, ``event_type`` and attributes."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: Atm90e32ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the service's power-quality event entity."""
    async_add_entities([Atm90e32PowerQualityEvent(entry.runtime_data)])


def channel_label(coordinator: Atm90e32Coordinator, channel: Channel) -> str:
    """How a channel is named in an event: a leg's name ("L1"); a circuit's with its CT input ("Kitchen (CT3)").

    As the flows name an input (labels.input_names); a circuit that kept its input's name is
    that name alone ("CT3"); the board's second chip's inputs are CT4-CT6
    (labels.default_circuit_name).
    """
    if coordinator.wiring.has_service_total:
        return channel.name
    position = int(coordinator.config_entry.data.get(CONF_BOARD_POSITION, 1))
    ct = default_circuit_name(CIRCUITS.channel_by_key(channel.key), position)  # the input, not its renamed copy
    return ct if channel.name.casefold() == ct.casefold() else f"{channel.name} ({ct})"


def event_data(coordinator: Atm90e32Coordinator, transition: Transition) -> dict[str, Any]:
    """The attributes of one event: the channel, what the refresh that saw it read, and the limit crossed.

    Voltage conditions carry ``voltage`` and ``peak_voltage`` (V), over-current ``current``
    and ``peak_current`` (A), frequency conditions ``frequency`` (Hz), each to the
    precision of its sensor, and ``limit``: the condition's threshold in that unit (the
    options' percentages of nominal; over-current times current scaling).  ``channel``
    (:func:`channel_label`) is absent for the frequency and for a voltage every channel
    shares (a circuits chip's, the chip's own); a voltage is the one the chip compared:
    a 240 V circuit's (x2) is its leg's.
    """
    snapshot = coordinator.data
    limits = coordinator.settings.chip.power_quality
    condition = transition.condition
    if transition.phase is None:
        limit = limits.frequency_high if condition is Condition.FREQUENCY_HIGH else limits.frequency_low
        return {"frequency": rounded(snapshot.frequency, HERTZ), "limit": rounded(limit, HERTZ)}
    channel = coordinator.wiring.channel(transition.phase)
    data: dict[str, Any] = {}
    if condition_key(coordinator.wiring, condition, transition.phase) != condition.value:
        data["channel"] = channel_label(coordinator, channel)
    reading = snapshot.phases.get(transition.phase)
    if condition in VOLTAGE_CONDITIONS:
        volts = {
            Condition.SAG: limits.sag_voltage,
            Condition.SWELL: limits.swell_voltage,
            Condition.PHASE_LOSS: limits.phase_loss_voltage,
        }[condition]
        if reading is not None:
            factor = coordinator.settings.factors.get(channel.key, 1)
            data["voltage"] = rounded(reading.voltage / factor, VOLT)
            data["peak_voltage"] = rounded(reading.peak_voltage / factor, PEAK_VOLT)
        return data | {"limit": rounded(volts, VOLT)}
    if reading is not None:
        data["current"] = rounded(reading.current, AMPERE)
        data["peak_current"] = rounded(reading.peak_current, PEAK_AMPERE)
    return data | {"limit": rounded(limits.over_current * coordinator.settings.current_scale, AMPERE)}


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
            data = event_data(self.coordinator, transition)
            self._trigger_event(event_type, data)
            self._available = self.available
            self.async_write_ha_state()
            self.hass.bus.async_fire(
                EVENT_POWER_QUALITY, {ATTR_ENTITY_ID: self.entity_id, "event_type": event_type, **data}
            )
        if self._available != self.available:
            self._available = self.available
            self.async_write_ha_state()
