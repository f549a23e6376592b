"""Base entity: one device per chip, identities from the config entry id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from homeassistant.const import Platform
from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .circuits import subentry_ids
from .const import DOMAIN, MANUFACTURER, MODEL
from .coordinator import Atm90e32Coordinator
from .driver.channels import Channel

VIA_DEVICE_ID: Final = "via_device_id" in DeviceInfo.__annotations__
"""Home Assistant links a child device by the parent's registry id (``via_device`` is deprecated there)."""
CIRCUIT_MODEL: Final = "CT channel"
"""The model shown for a circuit's own device (a CT input of the chip, not a product)."""


def circuit_device_id(entry_id: str, channel: Channel) -> str:
    """The device identifier of a circuit: ``<entry id>_<channel key>`` (stable, never the name)."""
    return f"{entry_id}_{channel.key}"


def async_add_by_circuit(
    coordinator: Atm90e32Coordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities: Iterable[Atm90e32Entity],
    domain: Platform | None = None,
) -> None:
    """Add ``entities``, each circuit's with its subentry's ``config_subentry_id``, the chip's with none.

    With the platform's ``domain``, the chip's registry entries of that domain that are not
    among ``entities`` are removed first: what a release no longer makes (a circuits chip's
    per-circuit voltage sensors, now one per chip) leaves no entity "unavailable" behind.
    Their recorded history stays.
    """
    by_circuit: dict[str | None, list[Atm90e32Entity]] = {}
    for entity in entities:
        by_circuit.setdefault(entity.circuit_key, []).append(entity)
    if domain is not None:
        registry = er.async_get(coordinator.hass)
        made = {entity.unique_id for group in by_circuit.values() for entity in group}
        for entry in er.async_entries_for_config_entry(registry, coordinator.config_entry.entry_id):
            if entry.domain == domain and entry.platform == DOMAIN and entry.unique_id not in made:
                registry.async_remove(entry.entity_id)
    ids = subentry_ids(coordinator.config_entry)
    for key, group in by_circuit.items():
        async_add_entities(group, config_subentry_id=None if key is None else ids[key])


class Atm90e32Entity(CoordinatorEntity[Atm90e32Coordinator]):
    """An entity of one ATM90E32AS chip; its unique id is ``<entry id>_<description key>``.

    The chip has no serial number and its SPI device may change (a reconfigure to
    another chip select), so the device and entities are identified by the config entry
    id, which never changes.
    """

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: Atm90e32Coordinator, description: EntityDescription, circuit: Channel | None = None
    ) -> None:
        """Attach ``description`` to the chip's device, or to ``circuit``'s own device.

        A circuit (a CT on one circuit, wiring "circuits") is a device of its own, named
        as the person named the circuit and linked to the chip's device (``via_device``),
        so the Energy dashboard lists each circuit as an individual device.  The person
        may rename either device or give it an area: Home Assistant keeps their choice
        (``name_by_user``, ``area_id``) over ours.
        """
        super().__init__(coordinator)
        self.entity_description = description
        self.circuit_key = None if circuit is None else circuit.key
        """The channel key of the circuit this entity belongs to (its subentry's), None for the chip's."""
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        if circuit is None:
            self._attr_device_info = DeviceInfo(
                identifiers={(DOMAIN, entry.entry_id)},
                manufacturer=MANUFACTURER,
                model=MODEL,
                name=entry.title,
            )
        else:
            info = DeviceInfo(
                identifiers={(DOMAIN, circuit_device_id(entry.entry_id, circuit))},
                model=CIRCUIT_MODEL,
                name=circuit.name,
            )
            if VIA_DEVICE_ID and coordinator.chip_device_id is not None:
                info["via_device_id"] = coordinator.chip_device_id  # type: ignore[typeddict-unknown-key,unused-ignore]
            else:  # Home Assistant before via_device_id (2025.8 ..): the parent by its identifier
                info["via_device"] = (DOMAIN, entry.entry_id)  # type: ignore[typeddict-unknown-key,unused-ignore]
            self._attr_device_info = info

    def should_write(self) -> bool:
        """Whether a refresh writes this entity's state: always, unless a publishing policy holds it (published.py)."""
        return True

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state after a refresh when :meth:`should_write` says so."""
        if self.should_write():
            super()._handle_coordinator_update()
