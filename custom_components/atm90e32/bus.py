"""The SPI bus: open a transport (spidev, the emulator, a replay file), list and probe chip selects, check voltages.

No Home Assistant import; everything here blocks (run it in the executor).  Callers look
the functions up on this module (``bus.open_transport``), so that tests can give the
emulator in one place.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .const import (
    CONF_BOARD_POSITION,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_REPLAY_FILE,
    CONF_SIMULATION_SPEED,
    CONF_SPI_SPEED,
    SIMULATED,
)
from .driver import Atm90e32, Phase, SpidevTransport, Transport
from .driver import registers as reg
from .driver.transport import DEFAULT_SPEED_HZ, parse_spidev_path
from .settings import entry_wiring, meter_settings

if TYPE_CHECKING:
    from .replay import ReplayPosition


def simulated_device(index: int) -> str:
    """The device value of simulated chip select ``index`` (0 is the historical ``simulated``)."""
    return SIMULATED if index == 0 else f"{SIMULATED}_{index}"


def is_simulated(device: str) -> bool:
    """Whether ``device`` is a chip select of the simulated bus."""
    return device == SIMULATED or device.startswith(f"{SIMULATED}_")


def simulated_index(device: str) -> int:
    """The chip select number of a simulated ``device`` (0 for ``simulated``)."""
    return 0 if device == SIMULATED else int(device.removeprefix(f"{SIMULATED}_"))


SIMULATED_CHIP_OFFSET_S: Final = 1800
"""Each further simulated chip select starts the household trace 30 min later (so the chips differ)."""


def open_transport(
    data: Mapping[str, Any], config_dir: Path | None = None, position: ReplayPosition | None = None
) -> Transport:
    """Open the bus named by a config entry's data: a spidev node at its SPI clock, or a simulated chip.

    A simulated chip (``simulated``, ``simulated_1`` ...) is the emulator in real time (or ``simulation_speed``
    times faster) measuring :func:`simulated_load`, imported only then, on the simulated board whose errors
    emulator.bench states (a replay file on an ideal board); the coordinator keeps it powered across
    reloads (simulated_chips).  ``config_dir`` is Home Assistant's configuration directory, where a replay file
    lives; ``position`` (a replay.ReplayPosition) resumes it and follows the emulator's clock.  Blocking.
    Raises DeviceNotFoundError, DevicePermissionError, TransportError, ValueError, ReplayPathError, ReplayError.
    """
    if is_simulated(device := data[CONF_DEVICE]):
        from .driver import emulator  # noqa: PLC0415  (a real meter never loads it)

        clock = emulator.scaled_clock(float(data.get(CONF_SIMULATION_SPEED, 1.0)))
        load = simulated_load(data, config_dir, position)
        if data.get(CONF_REPLAY_FILE):  # a replay plays on an ideal board: its energy is the file's
            return emulator.EmulatedAtm90e32(load, clock=clock if position is None else position.track(clock))
        return emulator.EmulatedAtm90e32(
            load, clock=clock, board=emulator.simulated_board(), errors=emulator.simulated_front_end()
        )
    bus, chip_select = parse_spidev_path(device)
    return SpidevTransport(bus, chip_select, int(data.get(CONF_SPI_SPEED, DEFAULT_SPEED_HZ)))


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
    from .driver import emulator  # noqa: PLC0415  (a real meter never loads it)

    if data.get(CONF_REPLAY_FILE) and config_dir is not None:
        from . import replay  # noqa: PLC0415  (imports Home Assistant's dt_util; only a replay needs it)

        return replay.load(config_dir, str(data[CONF_REPLAY_FILE]), data, position)
    wiring = entry_wiring(data)
    board = int(data.get(CONF_BOARD_POSITION, 1)) if wiring.shared_voltage else None
    return emulator.simulated_load(
        wiring,
        line_frequency=int(data.get(CONF_LINE_FREQUENCY, 60)),
        start=0 if board else simulated_index(str(data[CONF_DEVICE])) * SIMULATED_CHIP_OFFSET_S,
        board_position=board,
    )


def list_spi_devices() -> list[str]:
    """Return the /dev/spidevB.C nodes present, sorted (blocking: run in the executor)."""
    return sorted(glob.glob("/dev/spidev*"))


def probe(data: Mapping[str, Any]) -> None:
    """Open the bus and check an ATM90E32AS answers plausibly; always closes the bus.

    Nothing is written: a chip that is already metering keeps its counts.
    Raises the driver's errors (DeviceNotFoundError, DevicePermissionError, DeadBusError, ...).
    """
    transport = open_transport(data)
    try:
        Atm90e32(transport).check_alive()
    finally:
        transport.close()


@dataclass(frozen=True)
class VoltageCheck:
    """Phase voltages (V, as the chip reads them) and voltage angles B, C relative to A (degrees, DS p.71)."""

    voltages: Mapping[Phase, float]
    angles: Mapping[Phase, float]


def read_voltages(chip: Atm90e32) -> VoltageCheck:
    """Read UrmsA-C and UangleB/C from a configured chip (no energy register is touched).

    UrmsA-C 0xD9-0xDB in 0.01 V, UangleA-C 0xFD-0xFF in 0.1 degree (DS p.70, p.71).
    Blocking: run in the executor.  Raises the driver's errors.
    """
    voltages = {phase: chip.read_register(reg.URMS[phase]) / 100.0 for phase in Phase}
    angles = {phase: chip.read_register(reg.UANGLE[phase]) / 10.0 for phase in (Phase.B, Phase.C)}
    return VoltageCheck(voltages, angles)


def measure_voltages(data: Mapping[str, Any], options: Mapping[str, Any]) -> VoltageCheck:
    """Configure the chip for ``data``/``options`` (no reset of a metering chip) and read its voltages and angles.

    No energy register is read.  Blocking: run in the executor.  Raises the driver's errors.
    """
    settings = meter_settings(data, options)
    transport = open_transport(data)
    try:
        chip = Atm90e32(transport)
        chip.ensure_configured(settings.chip)
        return read_voltages(chip)
    finally:
        transport.close()
