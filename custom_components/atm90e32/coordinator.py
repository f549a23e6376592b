"""The DataUpdateCoordinator: Home Assistant's side of one Meter (schedule, executor, ledger, repairs)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

if TYPE_CHECKING:
    from .replay import ReplayPosition
from . import errors, issues
from .circuit_factor import with_factors
from .circuits import circuit_inputs
from .compensation import apply_to_config
from .const import (
    CHIP_NOT_ANSWERING_REPAIR_AFTER,
    CONF_BOARD_POSITION,
    CONF_CHANNELS,
    CONF_CURRENT_SCALE,
    CONF_CYCLE_START_DAY,
    CONF_DEMAND_INTERVAL,
    CONF_DEVICE,
    CONF_EXPORT_EXPECTED,
    CONF_FREQUENCY_PERCENT,
    CONF_LINE_FREQUENCY,
    CONF_NOMINAL_VOLTAGE,
    CONF_OVER_CURRENT,
    CONF_PGA_GAIN,
    CONF_PHASE_LOSS_PERCENT,
    CONF_REPLAY_FILE,
    CONF_SAG_PERCENT,
    CONF_SIMULATION_SPEED,
    CONF_SPI_SPEED,
    CONF_SWELL_PERCENT,
    CONF_UPDATE_INTERVAL,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_WIRING,
    CONFIG_CHECK_INTERVAL,
    DEFAULT_OVER_CURRENT,
    DEFAULT_UPDATE_INTERVAL,
    DEFAULT_VOLTAGE_SYSTEM,
    DOMAIN,
    LEDGER_SAVE_INTERVAL,
    POWER_QUALITY_DEFAULTS,
    UPDATE_INTERVALS,
    VOLTAGE_SYSTEMS,
    VT_DUAL,
    default_options,
    is_simulated,
    simulated_index,
)
from .driver import Atm90e32Error, ChipConfig, EnergyLedger, MeterSnapshot, Phase, SpidevTransport, Transport
from .driver import registers as reg
from .driver.channels import SPLIT_PHASE, THREE_PHASE_WYE, Wiring, wiring_for
from .driver.chip import Adoption
from .driver.demand import (
    CYCLE_START_DAYS,
    DEFAULT_CYCLE_START_DAY,
    DEFAULT_DEMAND_INTERVAL_MIN,
    DEMAND_INTERVALS_MIN,
    DemandMeter,
    max_split_for,
)
from .driver.ledger import TOTAL, LastRead, WrapRisk, check_gap, fill_power, max_read_interval_s
from .driver.meter import Meter, Outcome
from .driver.models import EnergyRead
from .driver.power_quality import ConditionKey, PowerQualitySettings, Transition
from .driver.transport import DEFAULT_SPEED_HZ, parse_spidev_path
from .quality import Finding, Report, SupplyWatch
from .simulated_chips import kept_transport
from .storage import LastEnergyRead, LedgerStore

_LOGGER = logging.getLogger(__name__)

FINDING_ISSUES: Final = tuple(finding.value for finding in Finding)
"""Repair issues of findings about a channel (cleared at setup, judged again under the settings in force)."""

type Atm90e32ConfigEntry = ConfigEntry[Atm90e32Coordinator]


@dataclass(frozen=True)
class MeterSettings:
    """What the entry says about the meter: the chip configuration and the software settings.

    current_scale: 1, 2 or 4 (current, power and energy multiplied; Igain divided in the chip).
    inverted: phases whose CT faces the wrong way.
    export_expected: the service has generation, so negative power is export.
    """

    chip: ChipConfig
    current_scale: int
    inverted: frozenset[Phase]
    export_expected: bool = False
    factors: Mapping[str, int] = field(default_factory=dict)
    """Channel key -> 2 for a circuit whose power and energy are doubled (a 240 V load on one CT, 120 V reference)."""
    voltage_per_channel: bool = False
    """Each channel's voltage input has its own transformer (three-phase: one per phase), so angles mean something."""

    @property
    def wiring(self) -> Wiring:
        """The entry's channel table."""
        return self.chip.wiring


def entry_wiring(data: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> Wiring:
    """The wiring a config entry's data names, with the channel names its ``options`` give.

    Entries made before the choice existed are split-phase.  A circuits entry has only
    the channels its data enables (``channels``); each channel takes the name the
    person gave it (its ``name_option``), so sensors, repair issues and the calibration
    form say "Heat pump" rather than "CT1".
    Raises KeyError for an unknown wiring, ValueError for a circuits entry with no channel.
    """
    channels = data.get(CONF_CHANNELS)
    wiring = wiring_for(str(data.get(CONF_WIRING, SPLIT_PHASE.key)), None if channels is None else list(channels))
    if not options:
        return wiring
    named = tuple(replace(c, name=str(options.get(c.name_option) or c.name)) for c in wiring.channels)
    return replace(wiring, channels=named)


def entry_voltage_system(data: Mapping[str, Any]) -> tuple[int, int]:
    """The nominal ``(line-to-neutral, line-to-line)`` volts of a three-phase entry (230/400 unless chosen)."""
    return VOLTAGE_SYSTEMS[str(data.get(CONF_VOLTAGE_SYSTEM, DEFAULT_VOLTAGE_SYSTEM))]


def meter_settings(data: Mapping[str, Any], options: Mapping[str, Any]) -> MeterSettings:
    """Combine a config entry's data (device, wiring) and options (gains, CTs) into settings.

    Each channel's phase gets its CT gain and, with a transformer per channel, its own
    voltage gain; with one transformer every phase takes the reference channel's.
    Phases no channel uses keep the default current gain.
    Raises ValueError for out-of-range values, KeyError for an unknown wiring.
    """
    wiring = entry_wiring(data, options)
    merged = {**default_options(wiring), **POWER_QUALITY_DEFAULTS, **data, **options}
    dual = merged[CONF_VOLTAGE_TRANSFORMERS] == VT_DUAL
    reference_gain = int(merged[wiring.reference.voltage_gain_option])
    voltage_gains = [reference_gain] * len(Phase)
    current_gains = [reg.DEFAULT_GAIN] * len(Phase)
    for channel in wiring.channels:
        if dual:
            voltage_gains[channel.phase] = int(merged[channel.voltage_gain_option])
        current_gains[channel.phase] = int(merged[channel.current_gain_option])
    frequency = int(merged[CONF_LINE_FREQUENCY])
    scale = int(merged[CONF_CURRENT_SCALE])
    if scale not in (1, 2, 4):
        raise ValueError("current scale must be 1, 2 or 4")
    nominal = float(merged.get(CONF_NOMINAL_VOLTAGE, default_nominal_voltage(frequency, data)))
    over_current = float(merged.get(CONF_OVER_CURRENT, DEFAULT_OVER_CURRENT * scale))
    power_quality = PowerQualitySettings.from_percent(
        nominal_voltage=nominal,
        line_frequency=frequency,
        over_current=over_current / scale,
        sag_percent=float(merged[CONF_SAG_PERCENT]),
        swell_percent=float(merged[CONF_SWELL_PERCENT]),
        phase_loss_percent=float(merged[CONF_PHASE_LOSS_PERCENT]),
        frequency_percent=float(merged[CONF_FREQUENCY_PERCENT]),
    )
    chip = ChipConfig(
        wiring=wiring,
        line_frequency=frequency,
        pga_gain=int(merged[CONF_PGA_GAIN]),
        voltage_gains=(voltage_gains[0], voltage_gains[1], voltage_gains[2]),
        current_gains=(current_gains[0], current_gains[1], current_gains[2]),
        power_quality=power_quality,
    )
    chip = apply_to_config(chip, merged, nominal)  # offsets, phase compensation, start thresholds
    inverted = frozenset(channel.phase for channel in wiring.channels if merged[channel.invert_option])
    factors = {c.key: int(merged.get(c.voltage_factor_option, 1)) for c in wiring.channels}
    if any(factor not in (1, 2) for factor in factors.values()):
        raise ValueError("a circuit's voltage factor must be 1 or 2")
    return MeterSettings(
        chip=chip,
        current_scale=scale,
        inverted=inverted,
        export_expected=bool(merged[CONF_EXPORT_EXPECTED]),
        factors={key: factor for key, factor in factors.items() if factor != 1},
        voltage_per_channel=dual and not wiring.shared_voltage,
    )


def update_interval(settings: MeterSettings, options: Mapping[str, Any]) -> timedelta:
    """The refresh interval the entry's options choose, within what keeps every energy count.

    An interval longer than :func:`max_read_interval_s` at the settings' nominal voltage
    (the options form refuses it; a nominal voltage changed since may make a stored one
    too long) is replaced by the longest offered interval within it, and logged.
    """
    default = int(DEFAULT_UPDATE_INTERVAL.total_seconds())
    chosen = int(options.get(CONF_UPDATE_INTERVAL, default))
    if chosen not in UPDATE_INTERVALS:
        _LOGGER.warning("An update interval of %d s is not one offered; reading every %d s", chosen, default)
        chosen = default
    nominal = settings.chip.power_quality.nominal_voltage
    longest = max_read_interval_s(nominal, len(settings.wiring.summed_phases))
    if chosen <= longest:
        return timedelta(seconds=chosen)
    safe = max(seconds for seconds in UPDATE_INTERVALS if seconds <= longest)
    _LOGGER.warning(
        "An update interval of %d s could let an energy register overflow at %.0f V; reading every %d s instead",
        chosen,
        nominal,
        safe,
    )
    return timedelta(seconds=safe)


def demand_meter(settings: MeterSettings, options: Mapping[str, Any], interval: timedelta) -> DemandMeter:
    """The service's demand meter under the entry's options (interval, cycle start day) and refresh ``interval``.

    A stored value not offered (the options form refuses them) falls back to the default, logged.
    Intervals are aligned to Home Assistant's time zone.
    """
    minutes = options.get(CONF_DEMAND_INTERVAL, DEFAULT_DEMAND_INTERVAL_MIN)
    if minutes not in DEMAND_INTERVALS_MIN:
        _LOGGER.warning(
            "A demand interval of %s min is not one offered; using %d min", minutes, DEFAULT_DEMAND_INTERVAL_MIN
        )
        minutes = DEFAULT_DEMAND_INTERVAL_MIN
    day = options.get(CONF_CYCLE_START_DAY, DEFAULT_CYCLE_START_DAY)
    if day not in CYCLE_START_DAYS:
        _LOGGER.warning(
            "A billing cycle starting on day %s is not possible; starting on day %d", day, DEFAULT_CYCLE_START_DAY
        )
        day = DEFAULT_CYCLE_START_DAY
    return DemandMeter(
        interval_min=int(minutes),
        cycle_start_day=int(day),
        tz=dt_util.get_default_time_zone(),
        max_split_s=max_split_for(interval.total_seconds()),
    )


def service_import_power(settings: MeterSettings, snapshot: MeterSnapshot) -> float:
    """The service's import power, W: the channels that net into its totals, as shown, added; 0 when exporting."""
    shown = snapshot.scaled(settings.current_scale, settings.inverted)
    netted = {channel.phase for channel in settings.wiring.channels if channel.nets_into_total}
    return max(0.0, sum(r.active_power for phase, r in shown.phases.items() if phase in netted))


def default_nominal_voltage(line_frequency: int, data: Mapping[str, Any] | None = None) -> float:
    """The nominal voltage of each channel, V rms.

    A three-phase entry's (``data``) line-to-neutral voltage; otherwise 120 V for a 60 Hz
    service (North America's legs), 230 V for 50 Hz (IEC 60038).
    """
    if data is not None and data.get(CONF_WIRING) == THREE_PHASE_WYE.key:
        return float(entry_voltage_system(data)[0])
    return 120.0 if line_frequency == 60 else 230.0


def open_transport(
    data: Mapping[str, Any], config_dir: Path | None = None, position: ReplayPosition | None = None
) -> Transport:
    """Open the bus named by a config entry's data: a spidev node at its SPI clock, or a simulated chip.

    A simulated chip (``simulated``, ``simulated_1`` ...) is the emulator in real time (or ``simulation_speed``
    times faster) measuring :func:`simulated_load`, imported only then; the coordinator keeps it powered across
    reloads (simulated_chips).  ``config_dir`` is Home Assistant's configuration directory, where a replay file
    lives; ``position`` (a replay.ReplayPosition) resumes it and follows the emulator's clock.  Blocking.
    Raises DeviceNotFoundError, DevicePermissionError, TransportError, ValueError, ReplayPathError, ReplayError.
    """
    if is_simulated(device := data[CONF_DEVICE]):
        from .driver.emulator import EmulatedAtm90e32, scaled_clock  # noqa: PLC0415

        clock = scaled_clock(float(data.get(CONF_SIMULATION_SPEED, 1.0)))
        load = simulated_load(data, config_dir, position)
        return EmulatedAtm90e32(load, clock=clock if position is None else position.track(clock))
    bus, chip_select = parse_spidev_path(device)
    return SpidevTransport(bus, chip_select, int(data.get(CONF_SPI_SPEED, DEFAULT_SPEED_HZ)))


SIMULATED_CHIP_OFFSET_S: Final = 1800  # each further simulated chip select starts the trace 30 min later


def simulated_load(
    data: Mapping[str, Any], config_dir: Path | None = None, position: ReplayPosition | None = None
) -> Any:
    """The load a simulated chip measures: the household trace shaped as the entry's wiring, or a replay file.

    ``emulator.simulated_load``'s rule per wiring, its voltage the simulated service's (by
    line frequency, never the entry's nominal system); each further chip select starts the trace
    SIMULATED_CHIP_OFFSET_S later, except a circuits chip, half of a 6-channel board under
    the simulated mains (its start, emulator.BOARD_SHARES).  A replay file (``replay_file``,
    in ``<config_dir>/atm90e32_replay``) replaces the trace.
    """
    from .driver import emulator  # noqa: PLC0415

    if data.get(CONF_REPLAY_FILE) and config_dir is not None:
        from . import replay  # noqa: PLC0415

        return replay.load(config_dir, str(data[CONF_REPLAY_FILE]), data, position)
    wiring = entry_wiring(data)
    board = int(data.get(CONF_BOARD_POSITION, 1)) if wiring.shared_voltage else None
    return emulator.simulated_load(
        wiring,
        line_frequency=int(data.get(CONF_LINE_FREQUENCY, 60)),
        start=0 if board else simulated_index(str(data[CONF_DEVICE])) * SIMULATED_CHIP_OFFSET_S,
        board_position=board,
    )


@dataclass
class HealthCounters:
    """What went wrong since setup, for diagnostics and the closing figures of a soak."""

    refreshes: int = 0
    failed_refreshes: int = 0
    chip_resets: int = 0
    configuration_repairs: int = 0
    possible_overflows: int = 0
    last_error: str | None = None


class Atm90e32Coordinator(DataUpdateCoordinator[MeterSnapshot]):
    """Refreshes one Meter in the executor and keeps its energy ledger on disk.

    ``ledger``, ``health`` and the read times are only touched on the event loop; every
    SPI access goes through ``meter`` in the executor.
    """

    config_entry: Atm90e32ConfigEntry

    def __init__(self, hass: HomeAssistant, entry: Atm90e32ConfigEntry) -> None:
        """Create the coordinator; the bus is opened in :meth:`_async_setup`."""
        data, options = circuit_inputs(entry)  # a circuits chip's circuits are its subentries
        settings = meter_settings(data, options)
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
        bus = partial(open_transport, data, Path(hass.config.config_dir), self.store.replay)
        self.meter = Meter(kept_transport(hass, entry, bus), self.settings.chip)  # a simulated chip stays on
        self.ledger = EnergyLedger(self.settings.wiring)
        self.demand = demand_meter(settings, entry.options, interval)
        """The service's demand intervals and billing-cycle peak, from the ledger's imported total."""
        self.watch = SupplyWatch(
            self.settings.wiring,
            nominal_voltage=self.settings.chip.power_quality.nominal_voltage,
            scale=self.settings.current_scale,
            export_expected=self.settings.export_expected,
            factors=self.settings.factors,
            conditions=self.meter.conditions,
        )
        self.transitions: tuple[Transition, ...] = ()
        """Power-quality conditions that started or ended in the last refresh, in order (for the entities)."""
        self.active: frozenset[ConditionKey] = frozenset()
        """Power-quality conditions true at the last refresh."""
        self.health = HealthCounters()
        self.last_energy_read: LastEnergyRead | None = None
        """When the energy registers were last read (UTC) and the largest |W| then; stored with the ledger."""
        self._previous_run: LastEnergyRead | None = None
        """The previous run's last energy read, from the ledger store."""
        self._adopted = False
        """The chip was found metering at setup: it kept counting while we were away."""
        self._last_read: LastRead | None = None
        """This run's last energy read on the monotonic clock."""
        self._failing_since: float | None = None
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

    async def _async_setup(self) -> None:
        """Load the lifetime totals, then open the bus and bring the chip to our configuration.

        The totals come first, so the counts of this run add to where the last run left
        off even after an unclean stop.  A chip still metering is not reset.  A failure
        raises UpdateFailed (Home Assistant retries the setup) and files the repair issue
        that tells the person what to fix.
        """
        self._previous_run = self.last_energy_read = await self.store.async_load(self.ledger, self.watch, self.demand)
        self.config_entry.async_on_unload(
            self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_save_at_stop)
        )
        for channel in self.settings.wiring.channels:  # judged again under the settings now in force
            issues.async_clear(self.hass, self.config_entry, *FINDING_ISSUES, channel=channel.key)
        try:
            adoption = await self.hass.async_add_executor_job(self.meter.open)
        except Atm90e32Error as err:
            await self._async_raise_repair(err)
            raise self._update_failed(err) from err
        _LOGGER.debug("ATM90E32AS on %s: %s", self.device, adoption)
        self._adopted = adoption is not Adoption.CONFIGURED
        issues.async_clear(self.hass, self.config_entry, *issues.CONNECTION_ISSUES)

    async def _async_save_at_stop(self, _event: Event) -> None:
        """Home Assistant stops: write the store (the chip keeps what it counts until the next start)."""
        await self.async_save_ledger()

    async def _async_update_data(self) -> MeterSnapshot:
        """Read one refresh in the executor, book its energy (journaled before it is shown), check the gap."""
        self.health.refreshes += 1
        self.transitions = ()
        check_config = self.health.refreshes % self.config_check_every == 0
        try:
            result = await self.hass.async_add_executor_job(partial(self.meter.refresh, check_config=check_config))
        except Atm90e32Error as err:
            # Counts read before the failure are real and already cleared in the chip.
            await self._async_book(err.energy_reads, None)
            self.health.failed_refreshes += 1
            await self._async_track_failure(err)
            raise self._update_failed(err) from err
        self.transitions, self.active = result.transitions, result.active
        self.watch.count(result.transitions, result.active)  # saved with the energy just below
        kept_counting = result.outcome is not Outcome.RESET_RECOVERED
        current = LastRead(result.read_at, fill_power(result.snapshot, self.settings.wiring))
        risks = [check_gap(self._last_read, current, kept_counting=kept_counting)]
        first_of_run = self._last_read is None and self._previous_run is not None
        if first_of_run:
            assert self._previous_run is not None
            # The gap across a restart runs from the previous run's last read, as its store recorded it.
            previous = LastRead(self._previous_run.at.timestamp(), self._previous_run.power_w)
            now = LastRead(dt_util.utcnow().timestamp(), current.power_w)
            risks.insert(0, check_gap(previous, now, kept_counting=kept_counting and self._adopted))
        # Counts of this read's span are missing after a reset, a fresh configuration or a possible wrap.
        lost = not kept_counting or (first_of_run and not self._adopted) or any(risks)
        await self._async_book(result.energy, result.snapshot, counts_lost=lost)
        self._failing_since = None
        issues.async_clear(self.hass, self.config_entry, *issues.CONNECTION_ISSUES)
        if result.outcome is Outcome.RESET_RECOVERED:
            self.health.chip_resets += 1
            _LOGGER.warning(
                "The ATM90E32AS on %s had been reset (brown-out?) and was configured again; "
                "the energy it had counted since the previous read was cleared with it",
                self.device,
            )
        elif result.outcome is Outcome.CONFIGURATION_REAPPLIED:
            self.health.configuration_repairs += 1
        for risk in risks:
            self._report(risk)
        self._last_read = current
        shown = with_factors(
            result.snapshot.scaled(self.settings.current_scale, self.settings.inverted),
            self.settings.wiring,
            self.settings.factors,
        )
        self._report_findings(self.watch.check(shown, monotonic()))
        self._judge_sequence(shown)
        return shown

    def _judge_sequence(self, snapshot: MeterSnapshot) -> None:
        """Raise the phase-sequence repair issue when L2 and L3 are swapped; clear it when the order is right.

        Judged from the chip's voltage sequence error URevWnST (EMMState0 bit 9, DS p.20)
        of a three-phase entry with a transformer per phase: with one shared transformer
        every input reads angle 0 and there is no sequence to judge.  UangleB/C only
        illustrate it: the DS gives them as 0-360 degrees without a direction (p.71).
        """
        if not (self.settings.voltage_per_channel and self.settings.wiring.three_phase):
            return
        three_phase = snapshot.three_phase
        if three_phase is None:
            return
        angle_l2, angle_l3 = (f"{three_phase.voltage_angles.get(p, math.nan):.1f}" for p in (Phase.B, Phase.C))
        if three_phase.voltage_sequence_error:
            if not self._sequence_reversed:
                _LOGGER.warning(
                    "ATM90E32AS on %s: the phase sequence is reversed (L2 at %s°, L3 at %s°)",
                    self.device,
                    angle_l2,
                    angle_l3,
                )
            self._sequence_reversed = True
            issues.async_raise(
                self.hass,
                self.config_entry,
                issues.PHASE_SEQUENCE_REVERSED,
                angle_l2=angle_l2,
                angle_l3=angle_l3,
            )
        else:
            self._sequence_reversed = False
            issues.async_clear(self.hass, self.config_entry, issues.PHASE_SEQUENCE_REVERSED)

    async def async_read_before_unload(self) -> None:
        """Read the energy registers one last time and book their counts at the current settings.

        Unloading usually means the settings are about to change (options saved,
        reconfigure): counts the chip made under the old settings are booked under them.
        A chip that does not answer keeps its counts for the next run (logged at debug
        level); this never raises.
        """
        try:
            reads = await self.hass.async_add_executor_job(self.meter.read_energy)
        except Atm90e32Error as err:
            _LOGGER.debug("last read before unloading %s failed: %s", self.device, err)
            reads = err.energy_reads
        if await self._async_book(reads, None):
            self.async_update_listeners()

    async def _async_book(
        self, reads: tuple[EnergyRead, ...], snapshot: MeterSnapshot | None, *, counts_lost: bool = False
    ) -> bool:
        """Add ``reads`` to the ledger under the current settings and put the totals on disk.

        The service's imported counts of ``reads`` go to the demand meter too, with the
        import power of ``snapshot``; ``counts_lost`` says some of the span's counts are
        missing (the demand intervals it touches are then incomplete).

        The chip cleared these counts when they were read, so they exist only here until
        written: the journal is written at once (before the sensors show them), the store
        when LEDGER_SAVE_INTERVAL has passed since it last was.  The largest power noted is
        ``snapshot``'s, or the last one known when no snapshot completed.  Returns whether
        anything was booked.
        """
        if not reads:
            return False
        has_total = self.settings.wiring.has_service_total
        imported = self.ledger.counts((TOTAL, "import")) if has_total else 0
        for read in reads:
            self.ledger.add(
                read,
                scale=self.settings.current_scale,
                inverted=self.settings.inverted,
                factors=self.settings.factors,
            )
        if has_total:  # circuits have no service, so no demand
            self.demand.book(
                dt_util.utcnow().timestamp(),
                self.ledger.counts((TOTAL, "import")) - imported,
                power_w=None if snapshot is None else service_import_power(self.settings, snapshot),
                counts_lost=counts_lost,
            )
        if snapshot is not None:
            power = fill_power(snapshot, self.settings.wiring)
        else:
            power = 0.0 if self.last_energy_read is None else self.last_energy_read.power_w
        self.last_energy_read = LastEnergyRead(dt_util.utcnow(), power)
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

    def _report_findings(self, report: Report) -> None:
        """Raise and clear the repair issues of what :class:`SupplyWatch` found."""
        wiring = self.settings.wiring
        nominal = self.settings.chip.power_quality.nominal_voltage
        for (finding, channel_key), value in report.raised.items():
            name = next(c.name for c in wiring.channels if c.key == channel_key)
            _LOGGER.warning("ATM90E32AS on %s, %s: %s (%.1f)", self.device, name, finding, value)
            issues.async_raise(
                self.hass,
                self.config_entry,
                finding.value,
                channel=channel_key,
                channel_name=name,
                value=f"{value:.1f}",
                nominal=f"{nominal:.0f}",
            )
        for finding, channel_key in report.cleared:
            issues.async_clear(self.hass, self.config_entry, finding.value, channel=channel_key)

    def _update_failed(self, err: Atm90e32Error) -> UpdateFailed:
        self.health.last_error = f"{type(err).__name__}: {err}"
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=errors.translation_key(err),
            translation_placeholders={"device": self.device, "error": str(err)},
        )

    async def _async_raise_repair(self, err: Atm90e32Error) -> None:
        key = await self.hass.async_add_executor_job(errors.repair_issue, err, self.device)
        if key is not None:
            issues.async_raise(self.hass, self.config_entry, key, error=str(err))

    async def _async_track_failure(self, err: Atm90e32Error) -> None:
        """Raise the repair issue once the chip has failed for CHIP_NOT_ANSWERING_REPAIR_AFTER."""
        now = monotonic()
        if self._failing_since is None:
            self._failing_since = now
        if now - self._failing_since >= CHIP_NOT_ANSWERING_REPAIR_AFTER.total_seconds():
            await self._async_raise_repair(err)

    def _report(self, risk: WrapRisk | None) -> None:
        """Log and raise the repair issue for a gap in which an energy register may have wrapped."""
        if risk is None:
            return
        self.health.possible_overflows += 1
        _LOGGER.warning(
            "The ATM90E32AS on %s was read %.0f s after the previous read at up to %.0f W: "
            "an energy register may have overflowed and energy may have been lost",
            self.device,
            risk.elapsed_s,
            risk.power_w,
        )
        issues.async_raise(
            self.hass,
            self.config_entry,
            issues.COUNTERS_OVERFLOWED,
            seconds=f"{risk.elapsed_s:.0f}",
            watts=f"{risk.power_w:.0f}",
        )
