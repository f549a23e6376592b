"""Binary sensors: each power-quality condition, on while it lasts (also when it lasted less than a refresh)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.binary_sensor import BinarySensorEntity, BinarySensorEntityDescription

try:
    from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
except ImportError:  # Home Assistant 2025.8 keeps it in the package itself
    from homeassistant.components.binary_sensor import BinarySensorDeviceClass  # type: ignore[attr-defined]
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import Atm90e32ConfigEntry, Atm90e32Coordinator
from .driver.channels import Channel, Wiring
from .driver.power_quality import Condition, ConditionKey, monitored
from .driver.registers import Phase
from .entity import Atm90e32Entity, async_add_by_circuit
from .quality import condition_key

PARALLEL_UPDATES = 0  # coordinator-driven


@dataclass(frozen=True, kw_only=True)
class ConditionDescription(BinarySensorEntityDescription):
    """A power-quality condition of one channel or of the service."""

    condition: Condition


def describe(wiring: Wiring, condition: Condition, phase: Phase | None) -> tuple[ConditionDescription, Channel | None]:
    """The binary sensor of ``condition`` on ``phase`` (None: the service's) and the circuit whose device carries it.

    Keyed by :func:`quality.condition_key`.  A leg's is named after the leg ("L1 voltage
    sag"); a circuit's sits on the circuit's device, which carries the circuit's name
    ("Over-current"); the service's and a shared voltage's (a circuits chip: one voltage
    for every circuit, "Voltage sag") sit on the chip's device (circuit None).
    """
    key = condition_key(wiring, condition, phase)
    circuit: Channel | None = None
    placeholders: dict[str, str] | None = None
    if phase is None:
        translation_key = condition.value
    elif key == condition.value:
        translation_key = f"shared_{condition.value}"
    elif not wiring.has_service_total:
        circuit, translation_key = wiring.channel(phase), f"circuit_{condition.value}"
    else:
        translation_key, placeholders = condition.value, {"leg": wiring.channel(phase).name}
    description = ConditionDescription(
        key=key,
        translation_key=translation_key,
        translation_placeholders=placeholders,
        device_class=BinarySensorDeviceClass.PROBLEM,
        condition=condition,
    )
    return description, circuit


async def async_setup_entry(
    hass: HomeAssistant,
    entry: Atm90e32ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a binary sensor per condition watched: each channel's, each voltage's and the service's."""
    coordinator = entry.runtime_data
    wiring = coordinator.wiring
    entities = [
        Atm90e32ConditionSensor(coordinator, condition, phase)
        for condition, phase in monitored(wiring.phases, wiring.voltage_phases)
    ]
    async_add_by_circuit(coordinator, async_add_entities, entities, Platform.BINARY_SENSOR)


class Atm90e32ConditionSensor(Atm90e32Entity, BinarySensorEntity):
    """On while a condition lasts; a condition that started and ended between two refreshes turns it on, then off."""

    entity_description: ConditionDescription

    def __init__(self, coordinator: Atm90e32Coordinator, condition: Condition, phase: Phase | None) -> None:
        """Watch ``condition`` on ``phase`` (None: the service), on the device :func:`describe` says."""
        super().__init__(coordinator, *describe(coordinator.wiring, condition, phase))
        self._condition: ConditionKey = (condition, phase)
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
