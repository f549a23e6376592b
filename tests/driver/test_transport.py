"""SpidevTransport opens real device nodes and reports why it cannot."""

from __future__ import annotations

import errno
import re

import pytest

from custom_components.atm90e32.driver import (
    Atm90e32,
    ChipConfig,
    DeviceNotFoundError,
    DevicePermissionError,
    Phase,
    TransportError,
)
from custom_components.atm90e32.driver.emulator import ConstantLoad, EmulatedAtm90e32
from custom_components.atm90e32.driver.transport import (
    SpidevTransport,
    Transport,
    _open_error,
    parse_spidev_path,
    spidev_path,
)
from tests.conftest import EmulatedSpiDev
from tests.emulation import FaultyEmulator


def test_a_missing_device_is_reported_as_such() -> None:
    # No machine has SPI bus 99: the real spidev extension fails to open the node.
    with pytest.raises(DeviceNotFoundError, match=re.escape("/dev/spidev99.0")):
        SpidevTransport(99, 0)


def test_open_errors_are_told_apart() -> None:
    assert isinstance(_open_error("/dev/spidev0.0", OSError(errno.EACCES, "denied")), DevicePermissionError)
    assert isinstance(_open_error("/dev/spidev0.0", OSError(errno.ENOENT, "missing")), DeviceNotFoundError)
    other = _open_error("/dev/spidev0.0", OSError(errno.EIO, "io"))
    assert type(other) is TransportError


@pytest.mark.parametrize("speed", [0, 399, 1_100_001])
def test_clock_outside_the_datasheet_range_is_refused(speed: int) -> None:
    with pytest.raises(ValueError, match="SPI clock"):
        SpidevTransport(0, 0, speed_hz=speed)


def test_spidev_paths() -> None:
    assert spidev_path(0, 1) == "/dev/spidev0.1"
    assert parse_spidev_path("/dev/spidev10.2") == (10, 2)
    for bad in ("/dev/ttyAMA0", "/dev/spidev0", "/dev/spidevx.1"):
        with pytest.raises(ValueError, match="not a /dev/spidev"):
            parse_spidev_path(bad)


def test_the_emulator_is_a_transport() -> None:
    assert isinstance(EmulatedAtm90e32(ConstantLoad()), Transport)


def test_spidev_transport_configures_the_bus_and_carries_the_protocol(spidev_module: EmulatedAtm90e32) -> None:
    transport = SpidevTransport(0, 0, speed_hz=200_000)
    spi = transport._spi
    assert isinstance(spi, EmulatedSpiDev)
    assert (spi.mode, spi.bits_per_word, spi.lsbfirst, spi.max_speed_hz) == (3, 8, False, 200_000)
    chip = Atm90e32(transport, sleep=lambda _s: None)
    config = ChipConfig(voltage_gains=(3920,) * 3, current_gains=(25498,) * 3)
    chip.configure(config)
    assert chip.read_snapshot(config).phases[Phase.A].active_power == pytest.approx(1000.0, abs=0.001)
    transport.close()
    assert spi.closed
    transport.close()  # twice is fine
    with pytest.raises(TransportError, match="closed"):
        transport.transfer(b"\x80\xd9\x00\x00")


def test_spidev_transport_errors(spidev_module: FaultyEmulator) -> None:
    with pytest.raises(DeviceNotFoundError):
        SpidevTransport(0, 1)
    EmulatedSpiDev.open_error = PermissionError(errno.EACCES, "Permission denied")
    with pytest.raises(DevicePermissionError, match="spi"):
        SpidevTransport(0, 0)
    EmulatedSpiDev.open_error = None
    transport = SpidevTransport(0, 0)
    spidev_module.faults.dead_bus = 0xEE
    with pytest.raises(TransportError, match="Input/output"):
        transport.transfer(b"\x80\xd9\x00\x00")
    spidev_module.faults.dead_bus = None
    with pytest.raises(TransportError, match="returned 3 bytes"):
        transport.transfer(b"\x80\xd9\x00")
