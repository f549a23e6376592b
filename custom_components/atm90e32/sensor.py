"""Sensors: per channel (a leg L1, L2, a circuit) and service-wide voltage, current, power, power factor and energy.

What each sensor is, and which wirings have it, is data in sensor_descriptions.py; here are
the entities that show it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from homeassistant.components.sensor import RestoreSensor, SensorEntity, SensorEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import Atm90e32ConfigEntry, Atm90e32Coordinator
from .driver.channels import Channel, Wiring
from .driver.ledger import TOTAL, kwh_to_counts
from .entity import Atm90e32Entity, async_add_by_circuit
from .precision import rounded
from .published import PublishedSensor
from .quality_sensors import CHANNEL_COUNTERS, SHARED_VOLTAGE_COUNTERS, Atm90e32CounterSensor, CounterSensorDescription
from .sensor_descriptions import (
    CHANNEL_SENSORS,
    CHIP_SENSORS,
    ChannelEnergySensorDescription,
    ChannelSensorDescription,
    ChipSensorDescription,
    DemandSensorDescription,
    EnergySensorDescription,
    PhaseSensorDescription,
)

PARALLEL_UPDATES = 0  # coordinator-driven: entities never poll on their own


def for_channel[D: ChannelSensorDescription](description: D, channel: Channel, wiring: Wiring) -> D:
    """``description`` made for ``channel`` of ``wiring``: key ``<channel key>_<key>``.

    On a circuit's own device (a circuits wiring, the template's ``on_circuit_device``) its
    translation key is ``circuit_<key>`` ("Power", the device carrying the circuit's name);
    otherwise the channel's name is the ``leg`` placeholder ("L1 power") and
    ``on_circuit_device`` is False.
    """
    key = f"{channel.key}_{description.key}"
    if description.on_circuit_device and not wiring.has_service_total:
        return replace(description, key=key, translation_key=f"circuit_{description.key}")
    return replace(description, key=key, translation_placeholders={"leg": channel.name}, on_circuit_device=False)


def sensors_of(wiring: Wiring) -> list[tuple[SensorEntityDescription, Channel | None]]:
    """Every sensor a chip of ``wiring`` has: (description made for its channel, the channel or None for the chip)."""
    found: list[tuple[SensorEntityDescription, Channel | None]] = [
        (description, None) for description in CHIP_SENSORS if description.exists_fn(wiring)
    ]
    found += [
        (for_channel(description, channel, wiring), channel)
        for channel in wiring.channels
        for description in (*CHANNEL_SENSORS, *CHANNEL_COUNTERS)
        if description.exists_fn(wiring, channel)
    ]
    if wiring.shared_voltage:
        found += [(description, None) for description in SHARED_VOLTAGE_COUNTERS]
    return found


async def async_setup_entry(
    hass: HomeAssistant,
    entry: Atm90e32ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors the chip's wiring has (sensor_descriptions.sensors_of), each for its channel or the chip."""
    entities = [_entity(entry.runtime_data, d, channel) for d, channel in sensors_of(entry.runtime_data.wiring)]
    async_add_by_circuit(entry.runtime_data, async_add_entities, entities, Platform.SENSOR)


def _entity(
    coordinator: Atm90e32Coordinator, description: SensorEntityDescription, channel: Channel | None
) -> Atm90e32Entity:
    """The entity showing ``description`` (of ``channel``, None: of the chip).  Raises TypeError for another kind."""
    match description:
        case ChipSensorDescription():
            return Atm90e32ChipSensor(coordinator, description)
        case EnergySensorDescription():
            return Atm90e32EnergySensor(coordinator, description)
        case DemandSensorDescription():
            return Atm90e32DemandSensor(coordinator, description)
        case PhaseSensorDescription() if channel is not None:
            return Atm90e32PhaseSensor(coordinator, description, channel)
        case ChannelEnergySensorDescription() if channel is not None:
            return Atm90e32EnergySensor(coordinator, description, channel)
        case CounterSensorDescription():
            return Atm90e32CounterSensor(coordinator, description, channel)
    raise TypeError(f"no sensor shows {description.key}")


def _device_channel(description: ChannelSensorDescription, channel: Channel) -> Channel | None:
    """The circuit whose own device carries the sensor (``description`` made by :func:`for_channel`), or None."""
    return channel if description.on_circuit_device else None


class Atm90e32PhaseSensor(PublishedSensor[float | None], SensorEntity):
    """A measurement of one channel (a leg, a phase or a circuit)."""

    entity_description: PhaseSensorDescription

    def __init__(self, coordinator: Atm90e32Coordinator, description: PhaseSensorDescription, channel: Channel) -> None:
        """Bind ``description`` (made for ``channel``) to the channel's chip phase."""
        super().__init__(coordinator, description, _device_channel(description, channel))
        self._phase = channel.phase
        self.start_publishing(description)
        if description.key == f"{channel.key}_power":  # its mean comes from the channel's energy counts
            self.energy_key = channel.key

    @property
    def native_value(self) -> float | None:
        """The value last written (publishing.py)."""
        return self.published()

    def sample(self) -> float | None:
        """The channel's value from the last snapshot, rounded to the description's precision."""
        value = self.entity_description.value_fn(self.coordinator.data, self._phase)
        return rounded(value, self.entity_description.precision)


class Atm90e32ChipSensor(PublishedSensor[float | None], SensorEntity):
    """A chip-wide measurement (frequency, temperature) or a total of the channels."""

    entity_description: ChipSensorDescription

    def __init__(self, coordinator: Atm90e32Coordinator, description: ChipSensorDescription) -> None:
        """Bind ``description`` to the chip's device; the total power's mean comes from the service's energy counts."""
        super().__init__(coordinator, description)
        self.start_publishing(description)
        if description.key == "total_power":
            self.energy_key = TOTAL

    @property
    def native_value(self) -> float | None:
        """The value last written (publishing.py)."""
        return self.published()

    def sample(self) -> float | None:
        """The value from the last snapshot, rounded to the description's precision."""
        return rounded(self.entity_description.value_fn(self.coordinator.data), self.entity_description.precision)


class Atm90e32EnergySensor(PublishedSensor[float], RestoreSensor):
    """Lifetime energy of the service or of a channel; restores its last value so totals survive restarts."""

    entity_description: EnergySensorDescription | ChannelEnergySensorDescription

    def __init__(
        self,
        coordinator: Atm90e32Coordinator,
        description: EnergySensorDescription | ChannelEnergySensorDescription,
        channel: Channel | None = None,
    ) -> None:
        """Bind ``description`` to the service total, or (made for ``channel``) to that channel's ledger."""
        if isinstance(description, ChannelEnergySensorDescription):
            assert channel is not None  # a channel description is always made for a channel
            super().__init__(coordinator, description, _device_channel(description, channel))
            self._ledger_key = (channel.key, description.direction)
        else:
            super().__init__(coordinator, description)
            self._ledger_key = description.ledger_key
        self.start_publishing(description)

    async def async_added_to_hass(self) -> None:
        """Seed the ledger with the last stored lifetime value, then follow the coordinator."""
        last = await self.async_get_last_sensor_data()
        value = None if last is None else last.native_value
        if isinstance(value, (int, float, Decimal)) and value >= 0:
            self.coordinator.ledger.restore(self._ledger_key, kwh_to_counts(float(value)))
        await super().async_added_to_hass()

    @property
    def native_value(self) -> float:
        """Lifetime energy in kWh, as last written (publishing.py)."""
        return self.published()

    def sample(self) -> float:
        """Lifetime energy in kWh, exact from the ledger."""
        return self.coordinator.ledger.kwh(self._ledger_key)


class Atm90e32DemandSensor(PublishedSensor[float | datetime | None], SensorEntity):
    """The service's demand: kept by the coordinator's demand meter and stored with the ledger."""

    entity_description: DemandSensorDescription

    def __init__(self, coordinator: Atm90e32Coordinator, description: DemandSensorDescription) -> None:
        """Bind ``description`` to the chip's device (the projected demand is written at most once a minute)."""
        super().__init__(coordinator, description)
        self.start_publishing(description)

    @property
    def native_value(self) -> float | datetime | None:
        """The value last written (publishing.py)."""
        return self.published()

    def sample(self) -> float | datetime | None:
        """The value now; None (unknown) for an interval that is incomplete or a cycle with no peak yet."""
        return self.entity_description.value_fn(self.coordinator.demand, dt_util.utcnow().timestamp())
