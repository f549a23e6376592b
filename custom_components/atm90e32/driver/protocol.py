"""Pure SPI frame encoding and register value conversions (sans-I/O).

Nothing here performs I/O: functions take and return bytes and numbers, so tests feed
bytes rather than hardware.  Frame layout (DS pp.30-31, AN p.11): one transaction is
exactly 32 clocks with CS low, a 16-bit address word then 16 data bits, MSB first.
Address word: bit 15 = 1 for read / 0 for write, bits 14..10 don't care, bits 9..0 =
register address.
"""

from __future__ import annotations

import math
from typing import Final

from . import registers as reg

FRAME_LENGTH: Final = 4
"""Bytes in one 32-clock transaction (DS p.30)."""
READ_FLAG: Final = 0x8000
"""Address-word bit 15: 1 = read, 0 = write (DS p.30)."""
ADDRESS_MASK: Final = 0x03FF
"""Address-word bits 9..0 carry the register address (DS p.30)."""


def encode_read(address: int) -> bytes:
    r"""Return the 4-byte frame that reads register ``address``.

    Example: ``encode_read(0xD9) == b"\\x80\\xd9\\x00\\x00"`` (AN p.11).
    Raises ValueError if ``address`` is outside 0..0x3FF.
    """
    _check_address(address)
    return (READ_FLAG | address).to_bytes(2, "big") + b"\x00\x00"


def encode_write(address: int, value: int) -> bytes:
    r"""Return the 4-byte frame that writes the 16-bit ``value`` to register ``address``.

    Example: ``encode_write(0x7F, 0x55AA) == b"\\x00\\x7f\\x55\\xaa"`` (AN p.11).
    Raises ValueError if ``address`` is outside 0..0x3FF or ``value`` outside 0..0xFFFF.
    """
    _check_address(address)
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"register value {value!r} is not a 16-bit unsigned integer")
    return address.to_bytes(2, "big") + value.to_bytes(2, "big")


def decode_frame(frame: bytes) -> tuple[bool, int, int]:
    """Split a 4-byte frame into ``(is_read, address, data)``.

    Used by the emulator on the chip side.  Raises ValueError if ``frame`` is not 4 bytes.
    """
    if len(frame) != FRAME_LENGTH:
        raise ValueError(f"an SPI frame is {FRAME_LENGTH} bytes, got {len(frame)}")
    word = int.from_bytes(frame[:2], "big")
    return bool(word & READ_FLAG), word & ADDRESS_MASK, int.from_bytes(frame[2:], "big")


def response_data(response: bytes) -> int:
    """Return the 16 data bits the chip clocked out in the second half of a transaction.

    Raises ValueError if ``response`` is not 4 bytes.
    """
    if len(response) != FRAME_LENGTH:
        raise ValueError(f"an SPI response is {FRAME_LENGTH} bytes, got {len(response)}")
    return (response[2] << 8) | response[3]


def _check_address(address: int) -> None:
    if not 0 <= address <= ADDRESS_MASK:
        raise ValueError(f"register address {address!r} is outside 0..0x3FF")


# --- value conversions ---------------------------------------------------------------


def to_signed16(value: int) -> int:
    """Interpret a 16-bit register value as two's complement: 0..0xFFFF -> -32768..32767."""
    return value - 0x10000 if value & 0x8000 else value


def to_signed32(high: int, low: int) -> int:
    """Join two 16-bit words ``(high << 16) | low`` as a two's-complement 32-bit integer."""
    value = (high << 16) | low
    return value - 0x1_0000_0000 if value & 0x8000_0000 else value


def voltage(urms: int, urms_lsb: int = 0) -> float:
    """Voltage in V from Urms (0.01 V) and optional UrmsLSB (top 8 bits, 0.01/256 V) (DS p.70)."""
    return urms * reg.VOLTAGE_LSB_V + (urms_lsb >> 8) * reg.VOLTAGE_LSB_V / 256


def current(irms: int, irms_lsb: int = 0) -> float:
    """Current in A from Irms (0.001 A) and optional IrmsLSB (top 8 bits, 0.001/256 A) (DS p.70)."""
    return irms * reg.CURRENT_LSB_A + (irms_lsb >> 8) * reg.CURRENT_LSB_A / 256


def power(raw32: int) -> float:
    """Active / reactive / apparent power in W / var / VA from a signed 32-bit value (0.00032 per count, DS p.69)."""
    return raw32 * reg.POWER_LSB


def power_factor(raw: int) -> float:
    """Power factor (-1.000..1.000) from the signed 16-bit PFmean register (0.001 per count, DS p.69)."""
    return to_signed16(raw) * reg.POWER_FACTOR_LSB


def frequency(raw: int) -> float:
    """Line frequency in Hz from Freq (0.01 Hz per count, DS p.71)."""
    return raw * reg.FREQUENCY_LSB_HZ


PHASE_ANGLE_LIMIT: Final = 3600
"""Largest |PAngle| in counts, 360.0 degrees at 0.1 degree per count (DS p.71)."""


def voltage_angle(raw: int) -> float | None:
    """Voltage phase angle from phase A in degrees, 0 <= angle < 360, from UangleA-C (0.1 degree, DS p.71).

    Read as two's complement like PAngle; None when beyond -360..+360 degrees (the
    register holds no angle).
    """
    tenths = to_signed16(raw)
    if abs(tenths) > PHASE_ANGLE_LIMIT:
        return None
    return round((tenths % 3600) * reg.ANGLE_LSB_DEG, 1)


def phase_angle(raw: int) -> float | None:
    """Phase angle in degrees, wrapped to (-180, 180], from PAngle (0.1 degree, DS p.71).

    The datasheet calls PAngle unsigned 0..360 in one place and signed in another; both
    read right as two's complement.  Returns None when that is beyond -360..+360 degrees
    (the register holds no angle, e.g. 61830).
    """
    tenths = to_signed16(raw)
    if abs(tenths) > PHASE_ANGLE_LIMIT:
        return None
    tenths %= 3600
    if tenths > 1800:
        tenths -= 3600
    return round(tenths * reg.ANGLE_LSB_DEG, 1)


def temperature(raw: int) -> int:
    """Chip temperature in degrees C from the signed 16-bit Temp register (DS p.71)."""
    return to_signed16(raw)


def energy_wh(counts: int) -> float:
    """Energy in Wh from energy-register counts (0.003125 Wh per count, DS p.12)."""
    return counts * reg.ENERGY_LSB_WH


# --- configuration values -------------------------------------------------------------


PGA_CODES: Final = {1: 0b00, 2: 0b01, 4: 0b10}
"""MMode1 2-bit PGA codes per current channel: 00 = 1x, 01 = 2x, 10 = 4x (DS p.57)."""


def mmode1(pga_gain: int) -> int:
    """MMode1 with the same PGA gain (1, 2 or 4) on all three current channels (DS p.57).

    Returns 0x00, 0x15 or 0x2A.  Raises ValueError for any other gain.
    """
    try:
        code = PGA_CODES[pga_gain]
    except KeyError:
        raise ValueError(f"PGA gain must be 1, 2 or 4, got {pga_gain!r}") from None
    return code | (code << 2) | (code << 4)


def pga_of_channel(mmode1_value: int, phase: int) -> int:
    """Return the PGA gain (1, 2 or 4) that MMode1 sets on the current channel of ``phase`` (DS p.57).

    The reserved code 0b11 is read as 4x.
    """
    code = (mmode1_value >> (2 * phase)) & 0b11
    return {0b00: 1, 0b01: 2}.get(code, 4)


VOLTAGE_THRESHOLD_UNITS: Final = 100
"""Voltage thresholds count 0.01 V of the rms reading (AN: SagTh = Vth x 100 x sqrt(2) / (2 x Ugain / 32768))."""
CURRENT_THRESHOLD_UNITS: Final = 1000
"""Current thresholds (OIth) count 0.001 A, like Irms (DS p.46, p.70)."""


def threshold_register(value: float, gain: int, units: int) -> int:
    """Threshold register value for an rms reading ``value`` (V or A) at ``gain`` (Ugain or Igain).

    AN (sag threshold): Th = value x units x sqrt(2) / (2 x gain / 32768), with ``units``
    VOLTAGE_THRESHOLD_UNITS or CURRENT_THRESHOLD_UNITS; OVth, PhaseLossTh and OIth take
    the same form (DS pp.44-46).  Not clamped: a result above 0xFFFF cannot be
    represented at this gain (the caller decides).  Raises ValueError if ``gain`` < 1.
    """
    if gain < 1:
        raise ValueError("gain must be at least 1")
    return round(value * units * math.sqrt(2) / (2 * gain / 32768))


def threshold_value(register: int, gain: int, units: int) -> float:
    """The rms reading (V or A) that threshold ``register`` stands for at ``gain`` (threshold_register inverted)."""
    return register * (2 * gain / 32768) / (units * math.sqrt(2))


def peak_voltage(raw: int, ugain: int) -> float:
    """Peak voltage in V from UPeak: raw x Ugain / (100 x 2^13) (DS p.71)."""
    return raw * ugain / (100 * 2**13)


def peak_current(raw: int, igain: int) -> float:
    """Peak current in A from IPeak: raw x Igain / (1000 x 2^13) (DS p.71)."""
    return raw * igain / (1000 * 2**13)


def calibrated_gain(reference: float, measured: float, existing_gain: int) -> int:
    """New Ugain/Igain so a reading of ``measured`` becomes ``reference`` (AN p.21-24).

    new = reference / measured x existing gain, rounded.  The AN's worked example:
    reference 220.00 V, Ugain 0x8000, measured 123.4526 V -> 58395 (0xE41B).
    ``reference`` and ``measured`` are in the same unit (V, A or W).
    Raises ValueError if ``measured`` or ``reference`` is not positive or the result is
    outside 1..65535 (then change the PGA, use current scaling or check the CT).
    """
    if measured <= 0:
        raise ValueError("the meter measured nothing: check the CT or transformer is connected")
    if reference <= 0:
        raise ValueError("the reference value must be positive")
    gain = round(reference / measured * existing_gain)
    if not 1 <= gain <= 0xFFFF:
        raise ValueError(f"calibrated gain {gain} is outside 1..65535")
    return gain
