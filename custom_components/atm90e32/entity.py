"""Base entity: one device per chip, identities from the config entry id."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, MANUFACTURER, MODEL
from .coordinator import Atm90e32Coordinator


class Atm90e32Entity(CoordinatorEntity[Atm90e32Coordinator]):
    """An entity of one ATM90E32AS chip; its unique id is ``<entry id>_<description key>``.

    The chip has no serial number and its SPI device may change (a reconfigure to
    another chip select), so the device and entities are identified by the config entry
    id, which never changes.
    """

    _attr_has_entity_name = True

    def __init__(self, coordinator: Atm90e32Coordinator, description: EntityDescription) -> None:
        """Attach ``description`` to the chip's device."""
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            manufacturer=MANUFACTURER,
            model=MODEL,
            name=entry.title,
        )
