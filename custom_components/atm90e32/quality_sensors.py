"""The power-quality counter sensors: how many sags, swells and phase losses a voltage has seen.

Diagnostic, never decreasing, kept in the ledger store (quality.py counts, the coordinator
persists).  A channel whose voltage is its own has one of each (:data:`CHANNEL_COUNTERS`,
made per channel like sensor_descriptions.CHANNEL_SENSORS); a chip whose channels share one
voltage (circuits) has one of each on the chip's device (:data:`SHARED_VOLTAGE_COUNTERS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from homeassistant.components.sensor import SensorEntity, SensorStateClass
from homeassistant.const import EntityCategory

from .coordinator import Atm90e32Coordinator
from .driver.channels import Channel, Wiring
from .driver.power_quality import COUNTED, Condition
from .entity import Atm90e32Entity
from .quality import condition_key
from .sensor_descriptions import ChannelSensorDescription


@dataclass(frozen=True, kw_only=True)
class CounterSensorDescription(ChannelSensorDescription):
    """How many times ``condition`` (sag, swell, phase loss) began on the channel since installation.

    Made for a channel whose voltage is its own; a chip whose channels share one voltage
    (circuits) has one of each, on the chip's device (:data:`SHARED_VOLTAGE_COUNTERS`).
    """

    condition: Condition


def own_voltage(wiring: Wiring, _channel: Channel) -> bool:
    """The channel's voltage conditions are its own (not one voltage shared by every channel, Wiring.voltage_phases)."""
    return not wiring.shared_voltage


def counters(prefix: str, **fields: Any) -> tuple[CounterSensorDescription, ...]:
    """A diagnostic, never decreasing counter per counted condition; translation key ``<prefix><condition>_count``."""
    return tuple(
        CounterSensorDescription(
            key=f"{condition}_count",
            translation_key=f"{prefix}{condition}_count",
            state_class=SensorStateClass.TOTAL_INCREASING,
            entity_category=EntityCategory.DIAGNOSTIC,
            condition=condition,
            **fields,
        )
        for condition in COUNTED
    )


CHANNEL_COUNTERS: Final = counters("", exists_fn=own_voltage)
"""Sags, swells and phase losses of a leg's own voltage since installation, made per channel."""
SHARED_VOLTAGE_COUNTERS: Final = counters("shared_", on_circuit_device=False)
"""The sags, swells and phase losses of the one voltage a chip's channels share (circuits), on the chip's device."""


class Atm90e32CounterSensor(Atm90e32Entity, SensorEntity):
    """How many sags, swells or phase losses a voltage has seen since installation (kept in the ledger store)."""

    def __init__(
        self, coordinator: Atm90e32Coordinator, description: CounterSensorDescription, channel: Channel | None
    ) -> None:
        """Count ``description.condition`` on ``channel``'s voltage, or (None) on the voltage its channels share."""
        circuit = channel if channel is not None and description.on_circuit_device else None
        super().__init__(coordinator, description, circuit)
        phase = coordinator.wiring.reference.phase if channel is None else channel.phase
        self._counter = condition_key(coordinator.wiring, description.condition, phase)

    @property
    def native_value(self) -> int:
        """The count."""
        return self.coordinator.watch.counters[self._counter]
