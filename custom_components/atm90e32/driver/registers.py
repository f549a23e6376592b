"""ATM90E32AS register map, power-on defaults and scaling constants.

Every constant cites the Microchip/Atmel M90E32AS datasheet 46003B ("DS",
Atmel-46003B-SE-M90E32AS-Datasheet_02122015, page numbers as printed, which are the PDF's
page numbers; register list Table-5 on pp.32-38, descriptions pp.41-71) or application
note 46103A ("AN").  :data:`REGISTER_TABLE` holds each register's DS page and
:data:`DS_SECTIONS` the other pages cited; every "DS p.N" in this repository names a page
of one of them (tests/test_citations.py).
Phases are named as the chip names them: A, B, C; which channel each measures is the
wiring's business (channels.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final


class Phase(IntEnum):
    """A chip measurement phase; the value is the register offset from phase A (DS Table-5)."""

    A = 0
    B = 1
    C = 2


@dataclass(frozen=True)
class Register:
    """One row of the register table: the DS name, the address and the DS page describing it."""

    name: str
    address: int
    page: int


def _phases(names: str, first: int, page: int, step: int = 1) -> tuple[Register, ...]:
    return tuple(Register(name, first + i * step, page) for i, name in enumerate(names.split()))


REGISTER_TABLE: Final[tuple[Register, ...]] = (
    Register("MeterEn", 0x00, 41),
    Register("SagPeakDetCfg", 0x05, 44),
    Register("OVth", 0x06, 44),
    Register("ZXConfig", 0x07, 45),
    Register("SagTh", 0x08, 45),
    Register("PhaseLossTh", 0x09, 45),
    Register("InWarnTh", 0x0A, 46),
    Register("OIth", 0x0B, 46),
    Register("FreqLoTh", 0x0C, 46),
    Register("FreqHiTh", 0x0D, 46),
    Register("PLconstH", 0x31, 55),
    Register("PLconstL", 0x32, 56),
    Register("MMode0", 0x33, 56),
    Register("MMode1", 0x34, 57),
    *_phases("PStartTh QStartTh SStartTh PPhaseTh QPhaseTh SPhaseTh", 0x35, 55),  # Table-6
    Register("PoffsetA", 0x41, 57),
    Register("QoffsetA", 0x42, 58),
    *_phases("PoffsetB QoffsetB PoffsetC QoffsetC", 0x43, 57),  # Table-7
    Register("PQGainA", 0x47, 58),
    Register("PhiA", 0x48, 58),
    *_phases("PQGainB PhiB PQGainC PhiC", 0x49, 58),  # Table-8
    *_phases("UgainA IgainA UoffsetA IoffsetA UgainB IgainB UoffsetB IoffsetB", 0x61, 59),  # Table-9, Table-10
    *_phases("UgainC IgainC UoffsetC IoffsetC", 0x69, 59),
    Register("SoftReset", 0x70, 59),
    Register("EMMState0", 0x71, 60),
    Register("EMMState1", 0x72, 61),
    Register("EMMIntState0", 0x73, 62),
    Register("EMMIntState1", 0x74, 63),
    Register("EMMIntEn0", 0x75, 64),
    Register("EMMIntEn1", 0x76, 65),
    Register("LastSPIData", 0x78, 65),
    Register("CRCErrStatus", 0x79, 66),
    Register("CRCDigest", 0x7A, 66),
    Register("CfgRegAccEn", 0x7F, 66),
    *_phases("APenergyT APenergyA APenergyB APenergyC ANenergyT ANenergyA ANenergyB ANenergyC", 0x80, 67),  # Table-11
    *_phases("RPenergyT RPenergyA RPenergyB RPenergyC RNenergyT RNenergyA RNenergyB RNenergyC", 0x88, 67),
    *_phases("SAenergyT SenergyA SenergyB SenergyC", 0x90, 67),
    *_phases("APenergyTF APenergyAF APenergyBF APenergyCF ANenergyTF ANenergyAF ANenergyBF ANenergyCF", 0xA0, 68),
    *_phases("APenergyTH APenergyAH APenergyBH APenergyCH ANenergyTH ANenergyAH ANenergyBH ANenergyCH", 0xA8, 68),
    *_phases("PmeanT PmeanA PmeanB PmeanC QmeanT QmeanA QmeanB QmeanC", 0xB0, 69),  # Table-13
    *_phases("SmeanT SmeanA SmeanB SmeanC PFmeanT PFmeanA PFmeanB PFmeanC", 0xB8, 69),
    *_phases("PmeanTLSB PmeanALSB PmeanBLSB PmeanCLSB QmeanTLSB QmeanALSB QmeanBLSB QmeanCLSB", 0xC0, 69),
    *_phases("SmeanTLSB SmeanALSB SmeanBLSB SmeanCLSB", 0xC8, 69),
    *_phases("PmeanTF PmeanAF PmeanBF PmeanCF PmeanTH PmeanAH PmeanBH PmeanCH", 0xD0, 70),  # Table-14
    *_phases("UrmsA UrmsB UrmsC IrmsN IrmsA IrmsB IrmsC", 0xD9, 70),
    *_phases("PmeanTFLSB PmeanAFLSB PmeanBFLSB PmeanCFLSB PmeanTHLSB PmeanAHLSB PmeanBHLSB PmeanCHLSB", 0xE0, 70),
    *_phases("UrmsALSB UrmsBLSB UrmsCLSB", 0xE9, 70),
    *_phases("IrmsALSB IrmsBLSB IrmsCLSB", 0xED, 70),
    *_phases("UPeakA UPeakB UPeakC", 0xF1, 71),  # Table-15
    *_phases("IPeakA IPeakB IPeakC Freq PAngleA PAngleB PAngleC Temp UangleA UangleB UangleC", 0xF5, 71),
)
"""The registers this integration uses, with the DS page of each (Table-5 pp.32-38 gives the page of each group)."""
REGISTER_PAGES: Final[dict[int, int]] = {r.address: r.page for r in REGISTER_TABLE}
"""Register address -> DS page."""

DS_SECTIONS: Final[dict[int, str]] = {
    2: "Figure-1 block diagram",
    12: "3.5.1 theory of energy registers (0.01 CF per count, forward/reverse netting)",
    13: "3.5.2 energy registers: all-phase totals",
    14: "3.5.4 startup and no-load power, Figure-6",
    15: "Figure-6 continued: per-phase |P|+|Q| against PPhaseTh before the sum",
    16: "3.6.1-3.6.4 power, fundamental/harmonic power, power factor, rms",
    17: "3.6.5-3.6.8 phase angle, frequency, temperature, peak",
    19: "3.7.2 status and events (EMMIntEn gates EMMIntState)",
    20: "3.7.3-3.7.6 frequency, zero crossing, neutral, phase sequence (URevWnST)",
    28: "3.9.1 gain based compensation",
    29: "3.9.2 delay/phase based compensation",
    30: "4.2 SPI interface, 4.2.1 frame format",
    31: "4.2.2 reliability enhancement (LastSPIData)",
    72: "6.1 electrical specification: 720 mVrms channel input at PGA 1",
    73: "6.1 continued: SPI bit rate",
    74: "6.2 metering and measurement accuracy",
    77: "6.4 power-on reset timing",
}
"""DS pages cited for something other than one register, with what they hold."""
DS_PAGES: Final[frozenset[int]] = frozenset(REGISTER_PAGES.values()) | frozenset(DS_SECTIONS) | frozenset(range(32, 39))
"""Every DS page a citation may name: the register pages, the sections, and Table-5 itself (pp.32-38)."""


# --- Status and special registers (DS p.41, pp.44-46) -------------------------------------
METER_EN: Final = 0x00
"""MeterEn: any non-zero value enables metering (we write 0x0001); power-on default 0x0000 (DS p.41)."""
SAG_PEAK_DET_CFG: Final = 0x05
"""SagPeakDetCfg: sag and peak detector periods (DS p.44)."""
OV_TH: Final = 0x06
"""OVth: over-voltage threshold (DS p.44)."""
ZX_CONFIG: Final = 0x07
"""ZXConfig: zero-crossing configuration (DS p.45)."""
SAG_TH: Final = 0x08
"""SagTh: voltage sag threshold, see :func:`protocol.sag_threshold` (DS p.45, AN p.29)."""
PHASE_LOSS_TH: Final = 0x09
"""PhaseLossTh: phase-loss threshold (DS p.45)."""
OI_TH: Final = 0x0B
"""OIth: over-current threshold, from Igain as SagTh is from Ugain (DS p.46, AN p.29)."""
FREQ_LO_TH: Final = 0x0C
"""FreqLoTh: low line-frequency threshold, 0.01 Hz (DS p.46)."""
FREQ_HI_TH: Final = 0x0D
"""FreqHiTh: high line-frequency threshold, 0.01 Hz (DS p.46)."""

PL_CONST_H: Final = 0x31
"""PLconstH: high word of the PL constant (DS p.55)."""
PL_CONST_L: Final = 0x32
"""PLconstL: low word of the PL constant (DS p.56)."""
MMODE0: Final = 0x33
"""MMode0: metering mode (line frequency, 3P3W, which phases sum into T) (DS p.56)."""
MMODE1: Final = 0x34
"""MMode1: PGA gain per current channel, 2 bits each (DS p.57)."""
P_START_TH: Final = 0x35
"""PStartTh: all-phase active start threshold, unit 0.00032 W (DS p.55)."""
Q_START_TH: Final = 0x36
"""QStartTh: all-phase reactive start threshold, unit 0.00032 var (DS p.55)."""
S_START_TH: Final = 0x37
"""SStartTh: all-phase apparent start threshold, unit 0.00032 VA (DS p.55)."""
P_PHASE_TH: Final = 0x38
"""PPhaseTh: per-phase active accumulation threshold, unit 0.00032 W (DS p.55)."""
Q_PHASE_TH: Final = 0x39
"""QPhaseTh: per-phase reactive accumulation threshold, unit 0.00032 var (DS p.55)."""
S_PHASE_TH: Final = 0x3A
"""SPhaseTh: per-phase apparent accumulation threshold, unit 0.00032 VA (DS p.55)."""

# --- Calibration registers (DS pp.57-59), indexed by phase ------------------------------
POFFSET: Final = (0x41, 0x43, 0x45)
"""PoffsetA/B/C: active power offset, two's complement (DS p.57)."""
QOFFSET: Final = (0x42, 0x44, 0x46)
"""QoffsetA/B/C: reactive power offset, two's complement (DS p.58)."""
PHI: Final = (0x48, 0x4A, 0x4C)
"""PhiA/B/C: phase delay calibration (DS p.58)."""
UGAIN: Final = (0x61, 0x65, 0x69)
"""UgainA/B/C: voltage rms gain, default 0x8000 (DS p.59)."""
IGAIN: Final = (0x62, 0x66, 0x6A)
"""IgainA/B/C: current rms gain, default 0x8000 (DS p.59)."""
UOFFSET: Final = (0x63, 0x67, 0x6B)
"""UoffsetA/B/C: voltage offset, two's complement (DS p.59)."""
IOFFSET: Final = (0x64, 0x68, 0x6C)
"""IoffsetA/B/C: current offset, two's complement (DS p.59)."""

# --- Reset, access and status (DS pp.59-66) ------------------------------------------
SOFT_RESET: Final = 0x70
"""SoftReset: writing SOFT_RESET_CODE resets the chip; reads return 0 (DS p.59)."""
EMM_STATE0: Final = 0x71
"""EMMState0: over-current / over-voltage / energy direction status (DS p.60)."""
EMM_STATE1: Final = 0x72
"""EMMState1: FreqHi b15, sag b14-12, FreqLo b11, phase loss b10-8 (DS p.61)."""
EMM_INT_STATE0: Final = 0x73
"""EMMIntState0: latched status, write 1 to clear (DS p.62)."""
EMM_INT_STATE1: Final = 0x74
"""EMMIntState1: latched status, write 1 to clear (DS p.63)."""
OI_BITS: Final = (1 << 15, 1 << 14, 1 << 13)
"""EMMState0 / EMMIntState0 over-current bits OIPhaseA/B/CST, indexed by Phase (DS p.60)."""
OV_BITS: Final = (1 << 12, 1 << 11, 1 << 10)
"""EMMState0 / EMMIntState0 over-voltage bits OVPhaseA/B/CST, indexed by Phase (DS p.60)."""
U_REV_WN_BIT: Final = 1 << 9
"""EMMState0 bit 9 URevWnST: voltage phase-sequence error, zero crossings not A -> B -> C in 3P4W (DS p.20, p.60)."""
I_REV_WN_BIT: Final = 1 << 8
"""EMMState0 bit 8 IRevWnST: current phase-sequence error (DS p.20, p.60)."""
FREQ_HI_BIT: Final = 1 << 15
"""EMMState1 / EMMIntState1 bit 15: line frequency above FreqHiTh (DS p.61)."""
SAG_BITS: Final = (1 << 14, 1 << 13, 1 << 12)
"""EMMState1 / EMMIntState1 voltage sag bits SagPhaseA/B/CST, indexed by Phase (DS p.61)."""
FREQ_LO_BIT: Final = 1 << 11
"""EMMState1 / EMMIntState1 bit 11: line frequency below FreqLoTh (DS p.61)."""
PHASE_LOSS_BITS: Final = (1 << 10, 1 << 9, 1 << 8)
"""EMMState1 / EMMIntState1 phase-loss bits PhaseLossA/B/CST, indexed by Phase (DS p.61)."""
LAST_SPI_DATA: Final = 0x78
"""LastSPIData: the data of the previous SPI read or write (DS p.65, AN p.11)."""
CRC_ERR_STATUS: Final = 0x79
"""CRCErrStatus: bit0 CFG_CRC_ERR (DS p.66)."""
CRC_DIGEST: Final = 0x7A
"""CRCDigest: CRC-16 of registers 0x00-0x6F latched at lock (DS p.66)."""
CFG_REG_ACC_EN: Final = 0x7F
"""CfgRegAccEn: CFG_UNLOCK_CODE unlocks writes to 0x00-0x6F; any other value locks (DS p.66)."""

# --- Energy registers, 16-bit unsigned, cleared after read (DS pp.67-68) -----------------
AP_ENERGY_T: Final = 0x80
"""APenergyT: all-phase forward active energy (DS p.67)."""
AP_ENERGY: Final = (0x81, 0x82, 0x83)
"""APenergyA/B/C: forward (import) active energy, 0.01 CF per count, read-to-clear (DS p.67)."""
AN_ENERGY_T: Final = 0x84
"""ANenergyT: all-phase reverse active energy (DS p.67)."""
AN_ENERGY: Final = (0x85, 0x86, 0x87)
"""ANenergyA/B/C: reverse (export) active energy, 0.01 CF per count, read-to-clear (DS p.67)."""
ENERGY_REGISTERS: Final = frozenset(range(0x80, 0xB0))
"""All energy registers 0x80-0xAF are cleared after read (DS pp.67-68)."""

# --- Power and power factor, signed (DS p.69) -------------------------------------
PMEAN: Final = (0xB1, 0xB2, 0xB3)
"""PmeanA/B/C: active power high word; low word in PMEAN_LSB (DS p.69)."""
QMEAN: Final = (0xB5, 0xB6, 0xB7)
"""QmeanA/B/C: reactive power high word; low word in QMEAN_LSB (DS p.69)."""
SMEAN: Final = (0xB9, 0xBA, 0xBB)
"""SmeanA/B/C: apparent power high word; low word in SMEAN_LSB (DS p.69)."""
PFMEAN: Final = (0xBD, 0xBE, 0xBF)
"""PFmeanA/B/C: power factor, signed 16-bit x 0.001 (DS p.69)."""
PMEAN_LSB: Final = (0xC1, 0xC2, 0xC3)
"""PmeanALSB/BLSB/CLSB: active power low word (DS p.69)."""
QMEAN_LSB: Final = (0xC5, 0xC6, 0xC7)
"""QmeanALSB/BLSB/CLSB: reactive power low word (DS p.69)."""
SMEAN_LSB: Final = (0xC9, 0xCA, 0xCB)
"""SmeanALSB/BLSB/CLSB: apparent power low word (DS p.69)."""

# --- Fundamental / harmonic active power, signed 32-bit like Pmean (DS p.70) ----------
PMEAN_F: Final = (0xD1, 0xD2, 0xD3)
"""PmeanAF/BF/CF: fundamental active power high word, 0.00032 W with the low word (DS p.70)."""
PMEAN_H: Final = (0xD5, 0xD6, 0xD7)
"""PmeanAH/BH/CH: harmonic active power high word, 0.00032 W with the low word (DS p.70)."""
PMEAN_F_LSB: Final = (0xE1, 0xE2, 0xE3)
"""PmeanAFLSB/BFLSB/CFLSB: fundamental active power low word (DS p.70)."""
PMEAN_H_LSB: Final = (0xE5, 0xE6, 0xE7)
"""PmeanAHLSB/BHLSB/CHLSB: harmonic active power low word (DS p.70)."""

# --- RMS, frequency, angles, temperature (DS pp.70-71) --------------------------------
URMS: Final = (0xD9, 0xDA, 0xDB)
"""UrmsA/B/C: voltage rms, unsigned x 0.01 V (DS p.70)."""
IRMS_N: Final = 0xDC
"""IrmsN: calculated neutral current, unsigned x 0.001 A (DS p.70; ESPHome's 0xD8 is wrong)."""
IRMS: Final = (0xDD, 0xDE, 0xDF)
"""IrmsA/B/C: current rms, unsigned x 0.001 A (DS p.70)."""
URMS_LSB: Final = (0xE9, 0xEA, 0xEB)
"""UrmsALSB..: top 8 bits add 0.01/256 V each (DS p.70)."""
IRMS_LSB: Final = (0xED, 0xEE, 0xEF)
"""IrmsALSB..: top 8 bits add 0.001/256 A each (DS p.70)."""
UPEAK: Final = (0xF1, 0xF2, 0xF3)
"""UPeakA/B/C: voltage peak; U = reg x Ugain / (100 x 2^13) V (DS p.71)."""
IPEAK: Final = (0xF5, 0xF6, 0xF7)
"""IPeakA/B/C: current peak; I = reg x Igain / (1000 x 2^13) A (DS p.71)."""
FREQ: Final = 0xF8
"""Freq: line frequency, unsigned x 0.01 Hz (DS p.71)."""
PANGLE: Final = (0xF9, 0xFA, 0xFB)
"""PAngleA/B/C: current-to-voltage phase angle, x 0.1 degree, 0..360 (DS p.71)."""
TEMP: Final = 0xFC
"""Temp: chip temperature, signed 16-bit, 1 degree C (DS p.71)."""
UANGLE: Final = (0xFD, 0xFE, 0xFF)
"""UangleA/B/C: voltage phase angle from phase A, x 0.1 degree, 0..360; A always reads 0 (DS p.71)."""

# --- Codes and defaults ---------------------------------------------------------------
SOFT_RESET_CODE: Final = 0x789A
"""Value written to SoftReset to reset the chip (DS p.59)."""
CFG_UNLOCK_CODE: Final = 0x55AA
"""Value written to CfgRegAccEn to unlock configuration writes (DS p.66)."""
CFG_LOCK_CODE: Final = 0x0000
"""Any value other than CFG_UNLOCK_CODE locks; we write 0x0000 (DS p.66)."""
METER_ENABLE: Final = 0x0001
"""MeterEn value that enables metering (DS p.41)."""
RESET_DELAY_S: Final = 0.040
"""Worst-case power-on / soft-reset delay, 5-40 ms (DS p.77)."""

DEFAULT_GAIN: Final = 0x8000
"""Power-on default of every Ugain/Igain register (DS p.59)."""
DEFAULT_MMODE0: Final = 0x0087
"""Power-on default of MMode0: 3P4W, 50 Hz, all phases summed (DS p.56, AN p.16)."""

PL_CONSTANT: Final = 0x0861C468
"""PL_constant = 450 000 000 000 / MC with MC = 3200 imp/kWh = 140 625 000 (DS p.55, AN p.19).

The AN prints the low word as 0x4C68 by mistake; 140 625 000 is 0x0861C468.
"""
METER_CONSTANT_IMP_PER_KWH: Final = 3200
"""MC, the meter constant the PL constant above encodes (DS p.55)."""

MMODE0_60HZ: Final = 1 << 12
"""MMode0 bit 12: line frequency 60 Hz (DS p.56)."""
MMODE0_3P3W: Final = 1 << 8
"""MMode0 bit 8: 3-phase 3-wire mode (DS p.56)."""
MMODE0_ENPA: Final = 1 << 2
"""MMode0 bit 2: phase A included in the all-phase sums (DS p.56)."""
MMODE0_ENPB: Final = 1 << 1
"""MMode0 bit 1: phase B included in the all-phase sums (DS p.56)."""
MMODE0_ENPC: Final = 1 << 0
"""MMode0 bit 0: phase C included in the all-phase sums (DS p.56)."""
MMODE0_ENP: Final = (MMODE0_ENPA, MMODE0_ENPB, MMODE0_ENPC)
"""MMode0 EnPx bit of each phase, indexed by Phase (DS p.56)."""
MMODE0_CF2VARH: Final = 1 << 7
"""MMode0 bit 7 CF2varh: the CF2 pulse pin counts reactive (1, default) or apparent (0) energy (DS p.56); kept at 1."""

# --- Scaling (DS Table-5) ----------------------------------------------------------
VOLTAGE_LSB_V: Final = 0.01
"""Urms: 0.01 V per count (DS p.70)."""
CURRENT_LSB_A: Final = 0.001
"""Irms: 0.001 A per count; 65.535 A full scale (DS p.70)."""
POWER_LSB: Final = 0.00032
"""Pmean/Qmean/Smean 32-bit value: 0.00032 W / var / VA per count (DS p.69)."""
POWER_FACTOR_LSB: Final = 0.001
"""PFmean: 0.001 per count, signed (DS p.69)."""
FREQUENCY_LSB_HZ: Final = 0.01
"""Freq: 0.01 Hz per count (DS p.71)."""
ANGLE_LSB_DEG: Final = 0.1
"""PAngle / Uangle: 0.1 degree per count (DS p.71)."""
ENERGY_LSB_WH: Final = 1000.0 / METER_CONSTANT_IMP_PER_KWH / 100.0
"""One energy count = 0.01 CF = 1/3200 kWh / 100 = 0.003125 Wh (DS p.12, p.67)."""
ENERGY_REGISTER_MAX: Final = 0xFFFF
"""Energy registers are 16-bit: at most 65 535 counts = 204.797 Wh before wrapping (DS p.67)."""

# --- Offset and phase compensation scaling (DS pp.58-59, AN pp.21-24) ----------------
RMS32_SHIFT: Final = 7
"""Uoffset / Ioffset hold the 32-bit rms value (high word << 16 | low word) shifted right 7 bits (AN p.23)."""
IOFFSET_LSB_A: Final = CURRENT_LSB_A / 65536 * 2**RMS32_SHIFT
"""One Ioffset count at reading scale: 0.001 A / 65536 x 2^7 = 1.953 uA; 16-bit signed: +-64 mA (AN p.23)."""
UOFFSET_LSB_V: Final = VOLTAGE_LSB_V / 65536 * 2**RMS32_SHIFT
"""One Uoffset count at reading scale: 0.01 V / 65536 x 2^7 = 19.53 uV; 16-bit signed: +-0.64 V (AN p.23)."""
PHI_DELAY_V: Final = 1 << 15
"""PhiA-C bit 15 DelayV: 1 delays the voltage channel, 0 the current channel (DS p.58)."""
PHI_CYCLES_MASK: Final = 0x00FF
"""PhiA-C bits 7:0: the delay in cycles of the 2.048 MHz metering clock (DS p.58)."""
PHI_CLOCK_HZ: Final = 2_048_000
"""The clock PhiA-C counts: 2.048 MHz (DS p.58; AN p.24 Gphase = 2.048e6 / (360 f) x 180 / (pi sqrt 3))."""
