"""The ATM90E32AS chip driver: verified register access, configuration and snapshots.

No Home Assistant imports.  All methods block on SPI I/O; call them from an executor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from enum import StrEnum

from . import protocol
from . import registers as reg
from .exceptions import Atm90e32Error, CommunicationError, ConfigurationError, DeadBusError
from .models import ChipConfig, EnergyCounts, EnergyRead, MeterSnapshot, PhaseReading, ThreePhaseReading
from .power_quality import StatusWords, interrupt_enables
from .registers import Phase
from .transport import Transport

_LOGGER = logging.getLogger(__name__)

DEFAULT_RETRIES = 3
"""Attempts for one verified read or write before CommunicationError."""


class Adoption(StrEnum):
    """What :meth:`Atm90e32.ensure_configured` found and did."""

    ADOPTED = "adopted"
    """Metering with exactly the configuration asked for, locked: left alone."""
    UPDATED = "updated"
    """Metering with another configuration, or unlocked: written again and locked without a reset, counts kept."""
    CONFIGURED = "configured"
    """Not metering (power-on or brown-out defaults, no counts): reset and configured."""


class Atm90e32:
    """One ATM90E32AS behind a :class:`Transport`.

    Every read is verified against LastSPIData (DS p.65, AN p.11); 32-bit values are
    guarded against tearing between their two words; read-to-clear energy registers
    are read the way AN p.11 prescribes (the register once, then LastSPIData until it
    is stable).  A bounded number of attempts is made, then CommunicationError.

    Args:
        transport: the bus (a SpidevTransport or the emulator).
        retries: attempts per verified access, at least 1.
        sleep: injectable ``time.sleep`` used after a soft reset.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        retries: int = DEFAULT_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Wrap ``transport``; nothing is sent until a method is called."""
        if retries < 1:
            raise ValueError("retries must be at least 1")
        self.transport = transport
        self.retries = retries
        self._sleep = sleep
        self.transactions = 0
        """SPI transactions performed so far (for benchmarks and diagnostics)."""
        self.verify_failures = 0
        """Reads whose first LastSPIData check failed (each then retried)."""

    # --- raw access ----------------------------------------------------------------

    def _read_raw(self, address: int) -> int:
        self.transactions += 1
        return protocol.response_data(self.transport.transfer(protocol.encode_read(address)))

    def _write_raw(self, address: int, value: int) -> None:
        self.transactions += 1
        self.transport.transfer(protocol.encode_write(address, value))

    # --- verified access -------------------------------------------------------------

    def read_register(self, address: int) -> int:
        """Read a 16-bit register and verify it against LastSPIData; returns 0..0xFFFF.

        Not for read-to-clear energy registers (use :meth:`read_energy`).
        Raises CommunicationError after ``retries`` mismatches; TransportError from the bus.
        """
        if address in reg.ENERGY_REGISTERS:
            raise ValueError(f"register 0x{address:02X} is read-to-clear: use read_energy")
        for _ in range(self.retries):
            value = self._read_raw(address)
            if self._read_raw(reg.LAST_SPI_DATA) == value:
                return value
            self.verify_failures += 1
        raise CommunicationError(f"register 0x{address:02X} did not verify against LastSPIData")

    def read_register32(self, high: int, low: int) -> int:
        """Read a signed 32-bit value split over registers ``high`` and ``low``.

        Sequence: high, low, LastSPIData (verifies low), high again.  The second high
        word must equal the first: that both catches a refresh between the two words
        (a torn value, measurements refresh about 3 times a second) and verifies the
        high word by two independent receptions.  Returns -2**31..2**31-1.
        Raises CommunicationError after ``retries`` attempts.
        """
        for _ in range(self.retries):
            first_high = self._read_raw(high)
            low_word = self._read_raw(low)
            if self._read_raw(reg.LAST_SPI_DATA) != low_word:
                self.verify_failures += 1
                continue
            if self._read_raw(high) != first_high:
                self.verify_failures += 1
                continue
            return protocol.to_signed32(first_high, low_word)
        raise CommunicationError(f"registers 0x{high:02X}/0x{low:02X} stayed torn or unverified")

    def read_energy(self, address: int) -> int:
        """Read a read-to-clear energy register (0x80-0xAF) once; returns counts 0..0xFFFF.

        AN p.11: the register clears on read, so it is never read twice; if the value
        differs from LastSPIData, LastSPIData is re-read until two reads agree, and that
        value is the register's.  Raises CommunicationError if LastSPIData never settles
        (the counts of that register are then lost: the chip already cleared them).
        """
        if address not in reg.ENERGY_REGISTERS:
            raise ValueError(f"register 0x{address:02X} is not an energy register")
        value = self._read_raw(address)
        last = self._read_raw(reg.LAST_SPI_DATA)
        if last == value:
            return value
        self.verify_failures += 1
        for _ in range(self.retries):
            again = self._read_raw(reg.LAST_SPI_DATA)
            if again == last:
                return again
            last = again
        raise CommunicationError(f"energy register 0x{address:02X} could not be verified; its counts are lost")

    def write_register(self, address: int, value: int) -> None:
        """Write a 16-bit register; LastSPIData must echo ``value`` or the write is repeated.

        Configuration registers 0x00-0x6F only take the write while unlocked.
        Raises CommunicationError after ``retries`` attempts; ValueError for bad arguments.
        """
        for _ in range(self.retries):
            self._write_raw(address, value)
            if self._read_raw(reg.LAST_SPI_DATA) == value:
                return
            self.verify_failures += 1
        raise CommunicationError(f"write of 0x{value:04X} to 0x{address:02X} was not echoed by LastSPIData")

    # --- chip-level operations ---------------------------------------------------------

    def soft_reset(self) -> None:
        """Reset the chip to power-on defaults (SoftReset = 0x789A) and wait 40 ms (DS p.59, p.77).

        The reset clears LastSPIData too, so the write is not verified.
        """
        self._write_raw(reg.SOFT_RESET, reg.SOFT_RESET_CODE)
        self._sleep(reg.RESET_DELAY_S)

    def check_alive(self) -> bool:
        """Return True if the chip is metering (MeterEn non-zero, DS p.41), False if it was reset.

        MeterEn 0 or 0xFFFF (what a dead bus reads) is checked against MMode0 (power-on
        0x0087, DS p.56): MMode0 0x0000 or 0xFFFF, which no live chip has, raises
        DeadBusError; otherwise MeterEn 0 is not metering and 0xFFFF is.  Any other
        MeterEn is metering.  MeterEn = 1 costs one verified read, 0 and 0xFFFF two.
        Raises CommunicationError / TransportError from the reads.
        """
        meter_en = self.read_register(reg.METER_EN)
        if meter_en not in (0x0000, 0xFFFF):
            return True
        mmode0 = self.read_register(reg.MMODE0)
        if mmode0 in (0x0000, 0xFFFF):  # no live chip has MMode0 all zeros or all ones
            level = "all ones" if meter_en == 0xFFFF else "nothing plausible"
            raise DeadBusError(f"the SPI bus reads {level}: no ATM90E32AS is answering")
        return meter_en != 0

    def config_registers(self, config: ChipConfig) -> dict[int, int]:
        """Return the ``{address: value}`` writes that put ``config`` into the chip (DS Table-5)."""
        plan = config.threshold_plan()
        values = {
            reg.METER_EN: reg.METER_ENABLE,
            reg.PL_CONST_H: reg.PL_CONSTANT >> 16,
            reg.PL_CONST_L: reg.PL_CONSTANT & 0xFFFF,
            reg.MMODE0: config.wiring.mmode0(config.line_frequency),
            reg.MMODE1: protocol.mmode1(config.pga_gain),
            reg.P_START_TH: config.p_start_threshold,
            reg.Q_START_TH: config.p_start_threshold,
            reg.S_START_TH: config.p_start_threshold,
            reg.P_PHASE_TH: config.p_phase_threshold,
            reg.Q_PHASE_TH: config.p_phase_threshold,
            reg.S_PHASE_TH: config.p_phase_threshold,
            **plan.registers,
        }
        enables = interrupt_enables(config.wiring.phases, config.wiring.voltage_phases)  # DS p.19
        values[reg.EMM_INT_EN0], values[reg.EMM_INT_EN1] = enables
        for phase in Phase:
            values[reg.UGAIN[phase]] = config.voltage_gains[phase]
            values[reg.IGAIN[phase]] = config.current_gains[phase]
            values[reg.UOFFSET[phase]] = config.voltage_offsets[phase]
            values[reg.IOFFSET[phase]] = config.current_offsets[phase]
            values[reg.POFFSET[phase]] = config.power_offsets[phase]
            values[reg.QOFFSET[phase]] = config.reactive_offsets[phase]
            values[reg.PHI[phase]] = config.phase_compensation[phase]
        return values

    def configure(self, config: ChipConfig, *, reset: bool = True) -> None:
        """Put ``config`` into the chip and start metering.

        Optional soft reset, unlock (CfgRegAccEn = 0x55AA), write every register of
        :meth:`config_registers` (each echo-verified), lock, then read every one back.
        Raises ConfigurationError if a read-back differs (the chip refused a write),
        DeadBusError / CommunicationError / TransportError from the bus.
        """
        if reset:
            self.soft_reset()
        self.check_alive()  # DeadBusError here rather than a puzzling write failure
        values = self.config_registers(config)
        self.write_register(reg.CFG_REG_ACC_EN, reg.CFG_UNLOCK_CODE)
        try:
            for address, value in values.items():
                self.write_register(address, value)
        finally:
            self.write_register(reg.CFG_REG_ACC_EN, reg.CFG_LOCK_CODE)
        self.verify_config(values.items())

    def verify_config(self, expected: Iterable[tuple[int, int]]) -> None:
        """Check the lock and CRCErrStatus, then read back ``(address, value)`` pairs.

        Raises ConfigurationError if CfgRegAccEn reads the unlock code 0x55AA (left
        unlocked, e.g. by a crash mid-configuration: the CRC guard is off until the next
        lock, DS p.66), if CFG_CRC_ERR is set (some register in 0x00-0x6F changed since
        the lock, DS p.66) or on the first read-back difference; DeadBusError when the
        status reads all ones because no chip answers.
        """
        if self.read_register(reg.CFG_REG_ACC_EN) == reg.CFG_UNLOCK_CODE:
            raise ConfigurationError("CfgRegAccEn reads 0x55AA: the configuration is unlocked, unguarded by the CRC")
        crc_status = self.read_register(reg.CRC_ERR_STATUS)
        if crc_status == 0xFFFF:
            self.check_alive()  # all ones: a dead bus raises DeadBusError rather than blame the configuration
        if crc_status & 0x0001:
            raise ConfigurationError("CRCErrStatus reports the configuration changed since it was locked")
        for address, value in expected:
            actual = self.read_register(address)
            if actual != value:
                if address == reg.METER_EN and actual in (0x0000, 0xFFFF):
                    self.check_alive()  # raises DeadBusError on a dead bus
                raise ConfigurationError(f"register 0x{address:02X} reads 0x{actual:04X} after writing 0x{value:04X}")

    def clear_latched_status(self) -> None:
        """Clear every latched power-quality change (EMMIntState0/1 = 0xFFFF, write 1 to clear, DS pp.62-63).

        Used after configuring: a threshold written anew may flip a status bit, which is
        not an event of the supply.  Raises CommunicationError / TransportError.
        """
        self.write_register(reg.EMM_INT_STATE0, 0xFFFF)
        self.write_register(reg.EMM_INT_STATE1, 0xFFFF)

    def read_phase(self, phase: Phase, config: ChipConfig | None = None) -> PhaseReading:
        """Read one phase's rms values, powers, power factor, angle and peaks (DS pp.69-71).

        ``config`` gives the gains the peak registers scale with (DS p.71); without it the
        power-on gains 0x8000.
        """
        config = config or ChipConfig()
        return PhaseReading(
            voltage=protocol.voltage(self.read_register(reg.URMS[phase])),
            current=protocol.current(self.read_register(reg.IRMS[phase])),
            active_power=protocol.power(self.read_register32(reg.PMEAN[phase], reg.PMEAN_LSB[phase])),
            reactive_power=protocol.power(self.read_register32(reg.QMEAN[phase], reg.QMEAN_LSB[phase])),
            apparent_power=protocol.power(self.read_register32(reg.SMEAN[phase], reg.SMEAN_LSB[phase])),
            power_factor=protocol.power_factor(self.read_register(reg.PFMEAN[phase])),
            phase_angle=protocol.phase_angle(self.read_register(reg.PANGLE[phase])),
            peak_voltage=protocol.peak_voltage(self.read_register(reg.UPEAK[phase]), config.voltage_gains[phase]),
            peak_current=protocol.peak_current(self.read_register(reg.IPEAK[phase]), config.current_gains[phase]),
            fundamental_power=protocol.power(self.read_register32(reg.PMEAN_F[phase], reg.PMEAN_F_LSB[phase])),
            harmonic_power=protocol.power(self.read_register32(reg.PMEAN_H[phase], reg.PMEAN_H_LSB[phase])),
        )

    def read_three_phase(self, state0: int, *, delta: bool = False) -> ThreePhaseReading:
        """Read the neutral current IrmsN and the voltage angles UangleB/C; decode ``state0``'s sequence bits.

        ``state0`` is EMMState0 as just read (URevWnST b9, IRevWnST b8, DS p.20, p.60).
        UangleA is 0 by definition and not read (DS p.71).  Three verified reads.
        ``delta`` (3P3W, "Ub is not used", DS p.56): phase B's inputs are grounded (AN
        p.10), so neither IrmsN nor UangleB is read; UangleC is Ucb's angle from Uab.
        One verified read.
        Raises CommunicationError / TransportError.
        """
        neutral = None if delta else protocol.current(self.read_register(reg.IRMS_N))
        angles = {Phase.A: 0.0}
        for phase in (Phase.C,) if delta else (Phase.B, Phase.C):
            angle = protocol.voltage_angle(self.read_register(reg.UANGLE[phase]))
            if angle is not None:
                angles[phase] = angle
        return ThreePhaseReading(
            neutral_current=neutral,
            voltage_angles=angles,
            voltage_sequence_error=bool(state0 & reg.U_REV_WN_BIT),
            current_sequence_error=bool(state0 & reg.I_REV_WN_BIT),
        )

    def read_snapshot(self, config: ChipConfig, *, clear_status: bool = True) -> MeterSnapshot:
        """Read everything one refresh needs from the phases of ``config``'s wiring.

        Measurements and the power-quality status first (EMMIntState0/1, the changes
        latched since the last clear, then EMMState0/1, DS pp.60-63; for a three-phase
        wiring then :meth:`read_three_phase`), then the read-to-clear
        energy counts (per phase, then the all-phase APenergyT/ANenergyT when the wiring has a
        service total), then MeterEn;
        last, exactly the latched bits read are cleared (write 1 to clear), so a change
        latched after they were read is kept for the next refresh, and a refresh that
        fails keeps them all (``clear_status`` False keeps them in any case).  All ones from a bus that died never
        become energy: an energy register that reads 0xFFFF (which a live chip only shows
        when the register is exactly full) is believed only if MeterEn still answers right
        after it, and MeterEn is read again at the end.  If anything fails once energy
        registers have been read, the counts already read travel with the exception as
        ``err.energy_reads``: the chip has cleared them.
        Raises DeadBusError, CommunicationError, TransportError.
        """
        start = self.transactions
        phases = config.wiring.phases
        readings = {phase: self.read_phase(phase, config) for phase in phases}
        frequency = protocol.frequency(self.read_register(reg.FREQ))
        temperature = protocol.temperature(self.read_register(reg.TEMP))
        latched0 = self.read_register(reg.EMM_INT_STATE0)
        latched1 = self.read_register(reg.EMM_INT_STATE1)
        status = StatusWords(
            state0=self.read_register(reg.EMM_STATE0),
            state1=self.read_register(reg.EMM_STATE1),
            latched0=latched0,
            latched1=latched1,
        )
        wiring = config.wiring
        three_phase = self.read_three_phase(status.state0, delta=wiring.delta) if wiring.three_phase else None
        counts: dict[Phase, EnergyCounts] = {}
        total: EnergyCounts | None = None
        try:
            for phase in phases:
                forward = self._read_energy_checked(reg.AP_ENERGY[phase])
                counts[phase] = EnergyCounts(forward=forward, reverse=0)
                counts[phase] = EnergyCounts(forward=forward, reverse=self._read_energy_checked(reg.AN_ENERGY[phase]))
            if config.wiring.has_service_total:  # circuits sum no phase (EnPx clear): T means nothing
                forward = self._read_energy_checked(reg.AP_ENERGY_T)
                total = EnergyCounts(forward=forward, reverse=0)
                total = EnergyCounts(forward=forward, reverse=self._read_energy_checked(reg.AN_ENERGY_T))
            enabled = self.check_alive()
            for address, latched in ((reg.EMM_INT_STATE0, latched0), (reg.EMM_INT_STATE1, latched1)):
                if latched and clear_status:
                    self.write_register(address, latched)
        except Atm90e32Error as err:
            if counts:
                err.energy_reads = (EnergyRead(phases=dict(counts), total=total),)
            raise
        return MeterSnapshot(
            phases=readings,
            energy=EnergyRead(phases=counts, total=total),
            frequency=frequency,
            temperature=temperature,
            status=status,
            meter_enabled=enabled,
            three_phase=three_phase,
            transactions=self.transactions - start,
        )

    def _read_energy_checked(self, address: int) -> int:
        """:meth:`read_energy`, with a full register (0xFFFF, also what a dead bus reads) confirmed by MeterEn.

        Raises DeadBusError when the all-ones were the bus, CommunicationError when the
        chip is not metering (a reset chip holds no counts, so 0xFFFF cannot be real).
        """
        value = self.read_energy(address)
        if value == reg.ENERGY_REGISTER_MAX and not self.check_alive():
            raise CommunicationError(f"energy register 0x{address:02X} read 0xFFFF from a chip that is not metering")
        return value

    def ensure_configured(self, config: ChipConfig) -> Adoption:
        """Bring the chip to ``config`` without clearing a count it still holds.

        A chip already metering with ``config`` and locked is adopted as it is.  A chip
        metering with another configuration (the settings changed), or with ``config`` but
        unlocked (CfgRegAccEn = 0x55AA, left so by a crash before the lock: its CRC guard
        is off, DS p.66), is configured again without a reset, which locks it, so its
        energy registers keep the counts not read yet.  A chip that is not metering
        (power-on or brown-out defaults, MeterEn = 0: it holds no counts) is reset first.
        Raises as :meth:`configure`.
        """
        if not self.check_alive():
            _LOGGER.debug("resetting and configuring ATM90E32AS")
            self.configure(config)
            return Adoption.CONFIGURED
        if all(self.read_register(a) == v for a, v in self.config_registers(config).items()):
            if self.read_register(reg.CFG_REG_ACC_EN) != reg.CFG_UNLOCK_CODE:
                return Adoption.ADOPTED
            _LOGGER.debug("the ATM90E32AS was left unlocked: configuring it again to lock it")
        else:
            _LOGGER.debug("configuring the running ATM90E32AS again")
        self.configure(config, reset=False)
        return Adoption.UPDATED
