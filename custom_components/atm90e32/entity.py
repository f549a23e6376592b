"""Base entity: one device per chip."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, MANUFACTURER, MODEL
from .coordinator import Atm90e32Coordinator


class Atm90e32Entity(CoordinatorEntity[Atm90e32Coordinator]):
    """An entity of one ATM90E32AS chip; its unique id is ``<chip id>_<description key>``."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: Atm90e32Coordinator, description: EntityDescription) -> None:
        """Attach ``description`` to the chip's device."""
        super().__init__(coordinator)
        self.entity_description = description
        chip_id = coordinator.config_entry.unique_id
        assert chip_id is not None  # the config flow always sets it
        self._attr_unique_id = f"{chip_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, chip_id)},
            manufacturer=MANUFACTURER,
            model=MODEL,
            name=coordinator.config_entry.title,
        )
