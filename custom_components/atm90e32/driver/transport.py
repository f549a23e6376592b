"""The SPI transport: one 32-clock transaction per call.

:class:`Transport` is what the chip driver needs; :class:`SpidevTransport` implements it
over Linux spidev, and :class:`~.emulator.EmulatedAtm90e32` implements it in software.
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .exceptions import DeviceNotFoundError, DevicePermissionError, TransportError
from .protocol import FRAME_LENGTH

if TYPE_CHECKING:
    import spidev

SPI_MODE: int = 3
"""CPOL = 1, CPHA = 1: the mode every working ATM90E32AS implementation uses (DS p.30)."""
MAX_SPEED_HZ: int = 1_100_000
"""Highest SPI clock the chip allows, 1.1 MHz (DS p.73)."""
DEFAULT_SPEED_HZ: int = 1_000_000
"""Default SPI clock, 1 MHz: inside the datasheet's limit, as ESPHome uses since 2024."""
MIN_SPEED_HZ: int = 400
"""Lowest SPI clock the chip allows, 400 bit/s (DS p.73)."""


@runtime_checkable
class Transport(Protocol):
    """One SPI transaction at a time: CS low for exactly 32 clocks (DS p.30).

    ``transfer`` takes the 4 bytes clocked out on MOSI and returns the 4 bytes clocked in
    on MISO.  Implementations raise :class:`TransportError` on an OS-level failure.
    """

    def transfer(self, frame: bytes) -> bytes:
        """Clock ``frame`` (4 bytes) out and return the 4 bytes received."""
        ...

    def close(self) -> None:
        """Release the bus; further transfers raise TransportError."""
        ...


def spidev_path(bus: int, chip_select: int) -> str:
    """Return the device node for SPI ``bus`` and ``chip_select``: ``/dev/spidevB.C``."""
    return f"/dev/spidev{bus}.{chip_select}"


def parse_spidev_path(path: str) -> tuple[int, int]:
    """Return ``(bus, chip_select)`` from ``/dev/spidevB.C``; ValueError if it is not such a path."""
    name = os.path.basename(path)
    if not name.startswith("spidev"):
        raise ValueError(f"{path!r} is not a /dev/spidevB.C device")
    bus, sep, chip_select = name.removeprefix("spidev").partition(".")
    if not sep or not bus.isdigit() or not chip_select.isdigit():
        raise ValueError(f"{path!r} is not a /dev/spidevB.C device")
    return int(bus), int(chip_select)


class SpidevTransport:
    """:class:`Transport` over Linux spidev: mode 3, 8-bit words, MSB first, ``xfer2``.

    Args:
        bus, chip_select: the device ``/dev/spidev{bus}.{chip_select}``.
        speed_hz: SPI clock, 400..1 100 000 Hz (DS p.73); default 1 MHz.

    Raises:
        ValueError: ``speed_hz`` outside the datasheet's range.
        DeviceNotFoundError: the device node does not exist (SPI not enabled in
            config.txt, or a wrong bus / chip select).
        DevicePermissionError: the node exists but may not be opened (add the user to
            the ``spi`` group, or give the container the device).
        TransportError: any other OS error while opening or transferring.
    """

    def __init__(self, bus: int, chip_select: int, speed_hz: int = DEFAULT_SPEED_HZ) -> None:
        """Open and configure the device; see the class docstring for errors."""
        if not MIN_SPEED_HZ <= speed_hz <= MAX_SPEED_HZ:
            raise ValueError(f"SPI clock {speed_hz} Hz is outside {MIN_SPEED_HZ}..{MAX_SPEED_HZ} Hz")
        import spidev  # noqa: PLC0415 - imported on use: only a real bus needs the C extension

        self.path = spidev_path(bus, chip_select)
        self._spi: spidev.SpiDev | None = spidev.SpiDev()
        try:
            self._spi.open(bus, chip_select)
        except OSError as err:
            self._spi = None
            raise _open_error(self.path, err) from err
        try:
            self._spi.mode = SPI_MODE
            self._spi.bits_per_word = 8
            self._spi.lsbfirst = False
            self._spi.max_speed_hz = speed_hz
        except OSError as err:
            self.close()
            raise TransportError(f"cannot configure {self.path}: {err}") from err

    def transfer(self, frame: bytes) -> bytes:
        """Clock out ``frame`` in one CS-low transaction and return what came back.

        Raises TransportError if the device is closed or the transfer fails.
        """
        if self._spi is None:
            raise TransportError(f"{self.path} is closed")
        try:
            received = self._spi.xfer2(list(frame))
        except OSError as err:
            raise TransportError(f"SPI transfer on {self.path} failed: {err}") from err
        if len(received) != FRAME_LENGTH:
            raise TransportError(f"{self.path} returned {len(received)} bytes, expected {FRAME_LENGTH}")
        return bytes(received)

    def close(self) -> None:
        """Close the device; safe to call twice."""
        if self._spi is not None:
            self._spi.close()
            self._spi = None


def _open_error(path: str, err: OSError) -> TransportError:
    if err.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return DeviceNotFoundError(f"{path} does not exist: enable SPI (dtparam=spi=on) and check the chip select")
    if err.errno in (errno.EACCES, errno.EPERM):
        return DevicePermissionError(f"permission denied opening {path}: add the user to the 'spi' group")
    return TransportError(f"cannot open {path}: {err}")
