"""A sensor that writes its state when its description's publishing policy says so (publishing.py)."""

from __future__ import annotations

from typing import cast

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect, async_dispatcher_send
from homeassistant.helpers.entity import EntityDescription
from homeassistant.util import dt as dt_util

from .driver.ledger import LedgerKey
from .entity import Atm90e32Entity
from .publishing import IMMEDIATE, Publisher, mode_of, policy, quantity_of


def _write_held_signal(entry_id: str) -> str:
    return f"atm90e32_write_held_{entry_id}"


@callback
def async_write_held(hass: HomeAssistant, entry_id: str) -> None:
    """Make every sensor of entry ``entry_id`` write what it holds back now (before the entry unloads).

    An entity being removed can no longer write its state, so the unload asks first.
    """
    async_dispatcher_send(hass, _write_held_signal(entry_id))


class PublishedSensor[T](Atm90e32Entity):
    """A sensor entity whose state follows a :class:`~.publishing.Publisher`.

    Subclasses give :meth:`sample` (the value now, as stated) and, for an active power
    with energy counters behind it, ``energy_key``: the ledger name (a channel key or
    the service TOTAL) whose net counts make the mean power written.
    """

    publisher: Publisher | None = None
    """None: the policy is IMMEDIATE, every refresh writes."""
    energy_key: str | None = None
    precision: int | None = None
    """Decimals of a mean power written (the description's precision)."""

    def start_publishing(self, description: EntityDescription) -> None:
        """Give the entity the policy of ``description`` under the entry's "Database writes" option."""
        quantity = quantity_of(
            description.key,
            None if (device_class := getattr(description, "device_class", None)) is None else str(device_class),
            getattr(description, "native_unit_of_measurement", None),
            None if (state_class := getattr(description, "state_class", None)) is None else str(state_class),
        )
        chosen = policy(quantity, mode_of(self.coordinator.config_entry.options))
        self.publisher = None if chosen == IMMEDIATE else Publisher(chosen)
        self.precision = getattr(description, "precision", None)

    def sample(self) -> T:
        """The value of the last refresh, as stated (subclasses)."""
        raise NotImplementedError

    def published(self) -> T:
        """The value last written: the sample, or the mean power of the stretch it closed."""
        publisher = self.publisher
        if publisher is None or publisher.written is None:
            return self.sample()
        shown = publisher.shown
        if self.energy_key is not None and shown is not None and self.precision is not None:
            shown = round(shown, self.precision) + 0.0
        return cast(T, shown)  # a held number: the sample's type, or a power's mean (float)

    def _energy(self) -> tuple[int, float] | None:
        read = self.coordinator.last_energy_read
        if self.energy_key is None or read is None:
            return None
        ledger = self.coordinator.ledger
        imported: LedgerKey = (self.energy_key, "import")
        exported: LedgerKey = (self.energy_key, "export")
        return ledger.counts(imported) - ledger.counts(exported), read.at.timestamp()

    def should_write(self) -> bool:
        """Whether this refresh writes a state (always when the entity is or was unavailable)."""
        if self.publisher is None:
            return True
        if not self.available:
            self.publisher.forget()
            return True
        return self._offer(self.publisher, force=False)

    def _offer(self, publisher: Publisher, *, force: bool) -> bool:
        interval = self.coordinator.update_interval
        value = self.sample()
        return publisher.offer(
            value if isinstance(value, (int, float)) else None,
            dt_util.utcnow().timestamp(),
            0.0 if interval is None else interval.total_seconds(),
            energy=self._energy(),
            force=force,
        )

    async def async_added_to_hass(self) -> None:
        """Follow the coordinator; write what is held back when Home Assistant stops or the entry unloads."""
        await super().async_added_to_hass()
        self.async_on_remove(self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_write_at_stop))
        entry_id = self.coordinator.config_entry.entry_id
        self.async_on_remove(async_dispatcher_connect(self.hass, _write_held_signal(entry_id), self.write_held))

    @callback
    def _async_write_at_stop(self, _event: Event) -> None:
        self.write_held()

    @callback
    def write_held(self) -> None:
        """Write the value of the last refresh now, whatever the policy (the exact ledger value for energy)."""
        publisher = self.publisher
        if publisher is not None and self.available and self.hass is not None and self._offer(publisher, force=True):
            self.async_write_ha_state()
