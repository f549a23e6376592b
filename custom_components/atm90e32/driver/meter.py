"""The Meter: one chip behind its transport, kept configured, read one refresh at a time.

A synchronous facade for the integration (no Home Assistant import): it owns the
transport, the :class:`Atm90e32` driver and the lock that serialises access, brings the
chip to its configuration without clearing unread counts, and recovers from a reset or
a configuration that changed by itself.  Every method blocks on SPI I/O: call it from an
executor.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from time import monotonic

from . import registers as reg
from .calibration import (
    OFFSET_SAMPLES,
    CalibrationSample,
    NoLoadReads,
    References,
    new_gains,
    read_average,
    read_no_load,
    read_powers,
)
from .chip import Adoption, Atm90e32
from .exceptions import Atm90e32Error, CommunicationError, ConfigurationError
from .models import ChipConfig, EnergyRead, MeterSnapshot
from .power_quality import (
    ConditionKey,
    ConditionTracker,
    Reading,
    ThresholdPlan,
    Transition,
    monitored,
)
from .registers import Phase
from .transport import Transport

_LOGGER = logging.getLogger(__name__)


class Outcome(StrEnum):
    """What a refresh found and did, besides reading."""

    READ = "read"
    """The chip was metering with its configuration: read."""
    RESET_RECOVERED = "reset_recovered"
    """The chip had been reset (MeterEn 0, brown-out): configured afresh and read again."""
    CONFIGURATION_REAPPLIED = "configuration_reapplied"
    """A configuration register had changed by itself (CRC, read-back or unlocked): written again without a reset."""


@dataclass(frozen=True, slots=True)
class RefreshResult:
    """One refresh: the snapshot to show, every energy read made, what happened and when energy was last read.

    energy: each read of the energy registers in this refresh, oldest first (two when
        the chip was configured again and read once more); all must be booked.
    read_at: ``time.monotonic()`` seconds just after the last energy read.
    transitions: power-quality conditions that started or ended since the previous
        refresh, in order (see :class:`ConditionTracker`).
    active: the conditions true now.
    """

    snapshot: MeterSnapshot
    energy: tuple[EnergyRead, ...]
    outcome: Outcome
    read_at: float
    transitions: tuple[Transition, ...] = ()
    active: frozenset[ConditionKey] = frozenset()


@dataclass(frozen=True, slots=True)
class Trial[R]:
    """A configuration written on trial (:meth:`Meter.trial`): kept in the chip until confirmed or reverted.

    previous: the configuration to go back to (:meth:`Meter.revert`); config: the one written;
    before, after: the readings taken before and after writing it.
    """

    previous: ChipConfig
    config: ChipConfig
    before: R
    after: R


class Meter:
    """One ATM90E32AS: transport, driver and lock, kept at ``config``.

    Args:
        open_transport: opens the bus (blocking); called by :meth:`open`.
        config: the configuration the chip is kept at (re-applied after a reset).
        sleep: injectable ``time.sleep`` for the soft-reset delay and calibration sampling.
    """

    def __init__(
        self,
        open_transport: Callable[[], Transport],
        config: ChipConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Keep what is needed to open the bus; nothing is opened yet."""
        self._open_transport = open_transport
        self.config = config
        self.sleep = sleep
        self.conditions = ConditionTracker(monitored(config.wiring.phases, config.wiring.voltage_phases))
        """What each power-quality condition was at the last refresh."""
        self._lock = threading.Lock()
        self._transport: Transport | None = None
        self._chip: Atm90e32 | None = None

    @property
    def transactions(self) -> int | None:
        """SPI transactions since :meth:`open` (None while closed)."""
        return None if self._chip is None else self._chip.transactions

    @property
    def verify_failures(self) -> int | None:
        """Reads whose first LastSPIData check failed since :meth:`open` (None while closed)."""
        return None if self._chip is None else self._chip.verify_failures

    def open(self) -> Adoption:
        """Open the bus and bring the chip to the configuration without clearing a count it holds.

        Returns what was found (:class:`Adoption`): a chip still metering is adopted or
        given the configuration without a reset.  On failure the bus is closed again.
        Raises the driver's errors (DeviceNotFoundError, DevicePermissionError,
        DeadBusError, ConfigurationError, ...).
        """
        with self._lock:
            self._close_locked()
            try:
                self._transport = self._open_transport()
                self._chip = Atm90e32(self._transport, sleep=self.sleep)
                adoption = self._chip.ensure_configured(self.config)
                if adoption is not Adoption.ADOPTED:
                    self._chip.clear_latched_status()
                return adoption
            except Atm90e32Error:
                self._close_locked()
                raise

    def refresh(self, *, check_config: bool = False) -> RefreshResult:
        """Read one snapshot; recover a chip found reset, and with ``check_config`` repair a changed configuration.

        A reset chip (MeterEn 0) holds no counts: it is reset and configured, then read
        again.  A chip still metering whose configuration changed (CRCErrStatus, a
        read-back, or left unlocked) is configured again *without* a reset, so the
        counts it made since this read are kept, then read again.
        Raises the driver's errors; counts read before the failure travel with it as
        ``err.energy_reads`` (all of this refresh's, oldest first): book them.
        """
        reads: list[EnergyRead] = []
        transitions: list[Transition] = []
        with self._lock:
            chip = self._open_chip()
            try:
                snapshot = self._read(chip, reads, transitions)
                outcome = Outcome.READ
                if not snapshot.meter_enabled:
                    outcome = Outcome.RESET_RECOVERED
                    chip.configure(self.config)
                elif check_config:
                    try:
                        chip.verify_config(chip.config_registers(self.config).items())
                    except ConfigurationError as err:
                        _LOGGER.warning("ATM90E32AS configuration changed by itself (%s): writing it again", err)
                        outcome = Outcome.CONFIGURATION_REAPPLIED
                        chip.configure(self.config, reset=False)
                if outcome is not Outcome.READ:
                    chip.clear_latched_status()
                    snapshot = self._read(chip, reads, transitions)
            except Atm90e32Error as err:
                err.energy_reads = tuple(reads)
                raise
            active = self.conditions.active or frozenset()
        return RefreshResult(
            snapshot=snapshot,
            energy=tuple(reads),
            outcome=outcome,
            read_at=monotonic(),
            transitions=tuple(transitions),
            active=active,
        )

    def read_energy(self) -> tuple[EnergyRead, ...]:
        """Read the registers once more and return the energy reads (a last read before closing).

        Latched power-quality changes are left in the chip for the next run to report.
        Returns () while closed.  Raises the driver's errors, with ``err.energy_reads``.
        """
        with self._lock:
            if self._chip is None:
                return ()
            return (self._chip.read_snapshot(self.config, clear_status=False).energy,)

    def sample(self) -> dict[Phase, CalibrationSample]:
        """Average fresh readings of every channel's phase at full resolution, in the chip's scale (AN p.22).

        MeterEn is checked before and after: a dead bus would "verify" all ones as readings.
        Raises the driver's errors.
        """
        with self._lock:
            chip = self._open_chip()
            chip.check_alive()
            samples = read_average(chip, self.config.wiring.phases, sleep=self.sleep)
            chip.check_alive()
            return samples

    def read_no_load(self) -> dict[Phase, NoLoadReads]:
        """The offset step's raw reads of every channel's phase (AN p.23, :func:`.calibration.read_no_load`).

        MeterEn is checked before and after, as in :meth:`sample`.  Raises the driver's errors.
        """
        with self._lock:
            chip = self._open_chip()
            chip.check_alive()
            reads = read_no_load(chip, self.config.wiring.phases, samples=OFFSET_SAMPLES, sleep=self.sleep)
            chip.check_alive()
            return reads

    def read_powers(self) -> dict[Phase, tuple[float, float]]:
        """Averaged ``(W, var)`` of every channel's phase in the chip's scale, for the phase step.

        Raises the driver's errors.
        """
        with self._lock:
            chip = self._open_chip()
            chip.check_alive()
            powers = read_powers(chip, self.config.wiring.phases, sleep=self.sleep)
            chip.check_alive()
            return powers

    def apply_config(self, config: ChipConfig) -> None:
        """Write ``config`` into the running chip without a reset (counters keep their counts).

        From now on it is the configuration re-applied after a reset.  Raises the
        driver's errors (ConfigurationError on a refused write).
        """
        with self._lock:
            chip = self._open_chip()
            self.config = config
            chip.configure(config, reset=False)
            chip.clear_latched_status()

    def trial[R](
        self,
        read: Callable[[], R],
        compute: Callable[[ChipConfig, R], ChipConfig],
        *,
        prepare: Callable[[ChipConfig], ChipConfig] | None = None,
    ) -> Trial[R]:
        """Read, compute a configuration from the reading, write it and read again: one calibration on trial.

        ``read`` is this meter's :meth:`sample`, :meth:`read_no_load` or :meth:`read_powers`;
        ``compute`` gets the configuration in force and the reading.  ``prepare``, when
        given, is written before the first read (the offset step reads with the offsets
        at 0, AN p.23).  The written configuration stays in the chip (and is the one
        re-applied after a reset) until :meth:`revert` or a reload.
        Raises what ``compute`` raises (CalibrationError) and the driver's errors; once
        something was written, the previous configuration is put back first.
        """
        previous = self.config
        written = False
        try:
            if prepare is not None:
                written = True
                self.apply_config(prepare(previous))
            before = read()
            config = compute(previous, before)
            written = True
            self.apply_config(config)
            after = read()
        except Exception:
            if written:
                self.revert(previous)
            raise
        return Trial(previous, config, before, after)

    def calibrate_gains(
        self,
        references: References,
        *,
        current_scale: int = 1,
        shared_voltage: bool = False,
        factors: Mapping[str, int] | None = None,
    ) -> Trial[dict[Phase, CalibrationSample]]:
        """Sample, compute the gains (:func:`.calibration.new_gains`, AN p.22), write them and sample again.

        As the entry configures the chip, a phase without its own transformer (all with
        ``shared_voltage``, else those no channel uses) takes the reference channel's Ugain.  Raises CalibrationError
        (nothing written) and the driver's errors (the previous gains put back).
        """

        def compute(config: ChipConfig, samples: dict[Phase, CalibrationSample]) -> ChipConfig:
            volts, amps = new_gains(
                dict(zip(Phase, config.voltage_gains, strict=True)),
                dict(zip(Phase, config.current_gains, strict=True)),
                samples,
                references,
                wiring=config.wiring,
                current_scale=current_scale,
                shared_voltage=shared_voltage,
                factors=factors,
            )
            own = set() if shared_voltage else {channel.phase for channel in config.wiring.channels}
            volts = {phase: volts[phase if phase in own else config.wiring.reference.phase] for phase in Phase}
            return replace(
                config,
                voltage_gains=(volts[Phase.A], volts[Phase.B], volts[Phase.C]),
                current_gains=(amps[Phase.A], amps[Phase.B], amps[Phase.C]),
            )

        return self.trial(self.sample, compute)

    def revert(self, previous: ChipConfig) -> None:
        """Put ``previous`` back in the chip after a :meth:`trial`.

        On a bus failure it is still the configuration kept: the next refresh's reset
        check or a reload writes it.  Never raises the driver's errors.
        """
        try:
            self.apply_config(previous)
        except Atm90e32Error:
            self.config = previous

    def register_dump(self) -> dict[int, int]:
        """Read every configuration and status register (never the read-to-clear energy ones).

        Returns ``{address: value}``.  Raises the driver's errors.
        """
        with self._lock:
            chip = self._open_chip()
            chip.check_alive()  # a dead bus would "verify" all ones everywhere
            addresses = sorted(
                {
                    *chip.config_registers(self.config),
                    reg.EMM_STATE0,
                    reg.EMM_STATE1,
                    reg.EMM_INT_STATE0,  # read only: they clear when written
                    reg.EMM_INT_STATE1,
                    reg.CRC_ERR_STATUS,
                    reg.CFG_REG_ACC_EN,
                }
            )
            return {address: chip.read_register(address) for address in addresses}

    def close(self) -> None:
        """Release the bus; the chip keeps metering.  Safe to call twice."""
        with self._lock:
            self._close_locked()

    def _open_chip(self) -> Atm90e32:
        if self._chip is None:
            raise CommunicationError("the SPI device is closed")
        return self._chip

    def _read(self, chip: Atm90e32, reads: list[EnergyRead], transitions: list[Transition]) -> MeterSnapshot:
        """Read a snapshot, collect its energy (also a failed read's) and fold its status into the conditions."""
        try:
            snapshot = chip.read_snapshot(self.config)
        except Atm90e32Error as err:
            reads.extend(err.energy_reads)
            raise
        reads.append(snapshot.energy)
        if snapshot.meter_enabled:  # a reset chip's status means nothing
            reading = Reading(
                voltage={phase: r.voltage for phase, r in snapshot.phases.items()},
                current={phase: r.current for phase, r in snapshot.phases.items()},
                frequency=snapshot.frequency,
            )
            plan = self.plan
            settings = self.config.power_quality
            transitions += self.conditions.update(snapshot.status, reading, settings, plan.in_chip, plan.polled)
        return snapshot

    @property
    def plan(self) -> ThresholdPlan:
        """The threshold registers of the configuration and which conditions the chip latches."""
        return self.config.threshold_plan()

    def _close_locked(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._transport = None
        self._chip = None
