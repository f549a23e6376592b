"""Binary sensors: each power-quality condition, on while it lasts (also when it lasted less than a refresh)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from homeassistant.components.binary_sensor import BinarySensorEntity, BinarySensorEntityDescription

try:
    from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
except ImportError:  # Home Assistant 2025.8 keeps it in the package itself
    from homeassistant.components.binary_sensor import BinarySensorDeviceClass  # type: ignore[attr-defined]
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import Atm90e32ConfigEntry, Atm90e32Coordinator
from .driver import power_quality
from .driver.channels import Channel
from .driver.power_quality import Condition, ConditionKey
from .entity import Atm90e32Entity

PARALLEL_UPDATES = 0  # coordinator-driven


@dataclass(frozen=True, kw_only=True)
class ConditionDescription(BinarySensorEntityDescription):
    """A power-quality condition of one channel or of the service."""

    condition: Condition


def _describe(conditions: tuple[Condition, ...]) -> tuple[ConditionDescription, ...]:
    return tuple(
        ConditionDescription(
            key=condition.value,
            translation_key=condition.value,
            device_class=BinarySensorDeviceClass.PROBLEM,
            condition=condition,
        )
        for condition in conditions
    )


CHANNEL_DESCRIPTIONS = _describe(power_quality.CHANNEL_CONDITIONS)
SERVICE_DESCRIPTIONS = _describe(power_quality.SERVICE_CONDITIONS)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: Atm90e32ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a binary sensor per channel condition and per service condition."""
    coordinator = entry.runtime_data
    entities = [
        Atm90e32ConditionSensor(coordinator, description, channel)
        for channel in coordinator.wiring.channels
        for description in CHANNEL_DESCRIPTIONS
    ]
    entities += [Atm90e32ConditionSensor(coordinator, description, None) for description in SERVICE_DESCRIPTIONS]
    async_add_entities(entities)


class Atm90e32ConditionSensor(Atm90e32Entity, BinarySensorEntity):
    """On while a condition lasts; a condition that started and ended between two refreshes turns it on, then off."""

    entity_description: ConditionDescription

    def __init__(
        self, coordinator: Atm90e32Coordinator, description: ConditionDescription, channel: Channel | None
    ) -> None:
        """Bind ``description`` to ``channel`` (None: the service)."""
        if channel is not None:
            description = replace(
                description, key=f"{channel.key}_{description.key}", translation_placeholders={"leg": channel.name}
            )
        super().__init__(coordinator, description)
        self._condition: ConditionKey = (description.condition, None if channel is None else channel.phase)
        self._passing: bool | None = None
        """The state being written for one transition of the last refresh (None: follow ``active``)."""
        self._written: tuple[bool, bool] | None = None
        """(available, on) as last written: a refresh that changes neither writes nothing."""

    @property
    def is_on(self) -> bool:
        """Whether the condition holds (or held, for a transition being written)."""
        if self._passing is not None:
            return self._passing
        return self._condition in self.coordinator.active

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write each transition of the refresh in order, then the state now if it changed."""
        for transition in self.coordinator.transitions:
            if (transition.condition, transition.phase) == self._condition:
                self._passing = transition.started
                self._write()
        self._passing = None
        if self._written != (self.available, self.is_on):
            self._write()

    @callback
    def _write(self) -> None:
        self._written = (self.available, self.is_on)
        self.async_write_ha_state()
