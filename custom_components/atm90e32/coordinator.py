"""The DataUpdateCoordinator: Home Assistant's side of one Meter (schedule, executor hop, UpdateFailed, saving).

What the entry means is settings.py's, the bus bus.py's, booking and gap judgement
driver.session's, repair issues issues.py's; this module calls them in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from time import monotonic

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from . import bus, errors, issues
from .const import CHIP_NOT_ANSWERING_REPAIR_AFTER, CONF_DEVICE, CONFIG_CHECK_INTERVAL, DOMAIN, LEDGER_SAVE_INTERVAL
from .driver import Atm90e32Error, EnergyLedger, MeterSnapshot
from .driver.channels import Wiring
from .driver.chip import Adoption
from .driver.ledger import LastRead
from .driver.meter import Meter
from .driver.models import EnergyRead
from .driver.power_quality import ConditionKey, Transition
from .driver.session import Booking, HealthCounters, MeterSession
from .quality import SupplyWatch
from .settings import demand_meter, meter_settings, update_interval
from .simulated_chips import kept_transport
from .storage import LastEnergyRead, LedgerStore

_LOGGER = logging.getLogger(__name__)

type Atm90e32ConfigEntry = ConfigEntry[Atm90e32Coordinator]


class Atm90e32Coordinator(DataUpdateCoordinator[MeterSnapshot]):
    """Refreshes one Meter in the executor and keeps its energy ledger on disk.

    ``ledger``, ``session`` and the read times are only touched on the event loop; every
    SPI access goes through ``meter`` in the executor.
    """

    config_entry: Atm90e32ConfigEntry

    def __init__(self, hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> None:
        """Create the coordinator; the bus is opened in :meth:`_async_setup`."""
        settings = meter_settings(entry.data, entry.options)
        interval = update_interval(settings, entry.options)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.data[CONF_DEVICE]}",
            update_interval=interval,
        )
        self.settings = settings
        self.config_check_every = max(1, round(CONFIG_CHECK_INTERVAL / interval))
        """Every this many refreshes every configuration register is read back (about every 5 minutes)."""
        self.store = LedgerStore(hass, entry.entry_id)  # before the meter: it keeps a replay's position
        open_bus = partial(bus.open_transport, dict(entry.data), Path(hass.config.config_dir), self.store.replay)
        self.meter = Meter(kept_transport(hass, entry, open_bus), settings.chip)  # a simulated chip stays on
        self.ledger = EnergyLedger(settings.wiring)
        self.demand = demand_meter(entry.options, interval, dt_util.get_default_time_zone())
        """The service's demand intervals and billing-cycle peak, from the ledger's imported total."""
        self.session = MeterSession(
            self.ledger, self.demand, scale=settings.current_scale, inverted=settings.inverted, factors=settings.factors
        )
        """Books the reads, judges the gaps between them and counts what went wrong."""
        self.watch = SupplyWatch(
            settings.wiring,
            nominal_voltage=settings.nominal_voltage,
            scale=settings.current_scale,
            export_expected=settings.export_expected,
            factors=settings.factors,
            conditions=self.meter.conditions,
        )
        self.transitions: tuple[Transition, ...] = ()
        """Power-quality conditions that started or ended in the last refresh, in order (for the entities)."""
        self.active: frozenset[ConditionKey] = frozenset()
        """Power-quality conditions true at the last refresh."""
        self.last_energy_read: LastEnergyRead | None = None
        """When the energy registers were last read (UTC) and the largest |W| then; stored with the ledger."""
        self._saved_at: float | None = None
        """When the ledger store was last written (monotonic); the journal is written after every read."""
        self._sequence_reversed = False
        """The last three-phase judgement found L2 and L3 swapped (logged once per reversal)."""
        self.chip_device_id: str | None = None
        """The chip's device registry id, set at setup before the platforms (a circuit's device links to it)."""

    @property
    def device(self) -> str:
        """The entry's SPI device path, or ``simulated``."""
        return str(self.config_entry.data[CONF_DEVICE])

    async def async_meter_job[T](self, job: Callable[[Meter], T]) -> T:
        """Run ``job`` on the meter in the executor (SPI I/O: a calibration trial or its revert)."""
        return await self.hass.async_add_executor_job(job, self.meter)

    @property
    def wiring(self) -> Wiring:
        """The entry's channel table, with the channels' names."""
        return self.settings.wiring

    @property
    def health(self) -> HealthCounters:
        """What went wrong since setup (driver.session.HealthCounters)."""
        return self.session.health

    async def _async_setup(self) -> None:
        """Load the lifetime totals, then open the bus and bring the chip to our configuration.

        The totals come first, so the counts of this run add to where the last run left
        off even after an unclean stop.  A chip still metering is not reset.  A failure
        raises UpdateFailed (Home Assistant retries the setup) and files the repair issue
        that tells the person what to fix.
        """
        previous = self.last_energy_read = await self.store.async_load(self.ledger, self.watch, self.demand)
        if previous is not None:  # the gap across the restart runs from here, as the store recorded it
            self.session.previous_run = LastRead(previous.at.timestamp(), previous.power_w)
        self.config_entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_save_at_stop)
        )
        issues.async_manage_findings(self.hass, self.config_entry, self.settings, None)  # judged again from now
        try:
            adoption = await self.hass.async_add_executor_job(self.meter.open)
        except Atm90e32Error as err:
            await self._async_raise_repair(err)
            raise self._update_failed(err) from err
        _LOGGER.debug("ATM90E32AS on %s: %s", self.device, adoption)
        self.session.adopted = adoption is not Adoption.CONFIGURED
        issues.async_manage_connection(self.hass, self.config_entry, None)

    async def async_release_bus(self) -> None:
        """Close the bus (in the executor); the chip keeps metering and counting until the next open."""
        await self.hass.async_add_executor_job(self.meter.close)

    async def _async_save_at_stop(self, _event: Event) -> None:
        """Home Assistant stops: write the store (the chip keeps what it counts until the next start)."""
        await self.async_save_ledger()

    async def _async_update_data(self) -> MeterSnapshot:
        """Read one refresh in the executor, book its energy (journaled before it is shown), check the gap."""
        self.transitions = ()
        check_config = self.session.begin_refresh(self.config_check_every)
        try:
            result = await self.hass.async_add_executor_job(partial(self.meter.refresh, check_config=check_config))
        except Atm90e32Error as err:
            # Counts read before the failure are real and already cleared in the chip.
            now = dt_util.utcnow()
            booking, failing_s = self.session.failed(err.energy_reads, now.timestamp(), monotonic())
            await self._async_booked(booking, now)
            if failing_s >= CHIP_NOT_ANSWERING_REPAIR_AFTER.total_seconds():
                await self._async_raise_repair(err)
            raise self._update_failed(err) from err
        self.transitions, self.active = result.transitions, result.active
        self.watch.count(result.transitions, result.active)  # saved with the energy just below
        now = dt_util.utcnow()
        report = self.session.refreshed(result, now.timestamp())
        await self._async_booked(report.booking, now)
        issues.async_manage_connection(self.hass, self.config_entry, None)
        if report.reset:
            _LOGGER.warning(
                "The ATM90E32AS on %s had been reset (brown-out?) and was configured again; "
                "the energy it had counted since the previous read was cleared with it",
                self.device,
            )
        issues.async_manage_overflow(self.hass, self.config_entry, report.risks)
        shown = self.settings.shown(result.snapshot)
        issues.async_manage_findings(self.hass, self.config_entry, self.settings, self.watch.check(shown, monotonic()))
        self._sequence_reversed = issues.async_manage_phase_sequence(
            self.hass, self.config_entry, self.settings, shown, was_reversed=self._sequence_reversed
        )
        return shown

    async def async_read_before_unload(self) -> None:
        """Read the energy registers one last time and book their counts at the current settings.

        Unloading usually means the settings are about to change (options saved,
        reconfigure): counts the chip made under the old settings are booked under them.
        A chip that does not answer keeps its counts for the next run (logged at debug
        level); this never raises.
        """
        reads: tuple[EnergyRead, ...]
        try:
            reads = await self.hass.async_add_executor_job(self.meter.read_energy)
        except Atm90e32Error as err:
            _LOGGER.debug("last read before unloading %s failed: %s", self.device, err)
            reads = err.energy_reads
        now = dt_util.utcnow()
        if await self._async_booked(self.session.book(reads, now.timestamp(), None), now):
            self.async_update_listeners()

    async def _async_booked(self, booking: Booking | None, now: datetime) -> bool:
        """Note what was booked at ``now`` (UTC) and put the totals on disk; returns whether anything was booked.

        The chip cleared the booked counts when it was read, so they exist only here until
        written: the journal is written at once (before the sensors show them), the store
        when LEDGER_SAVE_INTERVAL has passed since it last was.
        """
        if booking is None:
            return False
        self.last_energy_read = LastEnergyRead(now, booking.fill_power_w)
        since = None if self._saved_at is None else monotonic() - self._saved_at
        due = since is None or not 0 <= since < LEDGER_SAVE_INTERVAL.total_seconds()
        await self._async_save(durable=due)
        return True

    async def async_save_ledger(self) -> None:
        """Write the lifetime totals, the last energy read and the event counters to both ledger files."""
        await self._async_save(durable=True)

    async def _async_save(self, *, durable: bool) -> None:
        if await self.store.async_save(
            self.ledger, self.last_energy_read, self.watch, durable=durable, demand=self.demand
        ):
            self._saved_at = monotonic()

    def _update_failed(self, err: Atm90e32Error) -> UpdateFailed:
        self.health.last_error = f"{type(err).__name__}: {err}"
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=errors.translation_key(err),
            translation_placeholders={"device": self.device, "error": str(err)},
        )

    async def _async_raise_repair(self, err: Atm90e32Error) -> None:
        """Raise the repair issue ``err`` calls for (errors.repair_issue looks at /dev: in the executor), if any."""
        key = await self.hass.async_add_executor_job(errors.repair_issue, err, self.device)
        if key is not None:
            issues.async_manage_connection(self.hass, self.config_entry, key, str(err))
