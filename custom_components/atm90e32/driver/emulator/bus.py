"""Several emulated chips on one emulated SPI bus, each behind its own chip select."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from ..exceptions import DeviceNotFoundError
from .chip import Board, EmulatedAtm90e32
from .loads import LoadSource


class EmulatedBus:
    """Emulated chips by device path (``/dev/spidevB.C``), sharing one clock.

    Each chip has its own registers, energy counters, configuration and load, as each
    chip select of a 6-channel board (two chips) and its add-on boards (two more each) has.
    :meth:`open` is what the integration's transport opener calls for a path.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """An empty bus whose chips will run on ``clock`` (seconds)."""
        self.clock = clock
        self._chips: dict[str, EmulatedAtm90e32] = {}

    def add(
        self, device: str, load: LoadSource, *, board: Board | None = None, temperature: int = 38
    ) -> EmulatedAtm90e32:
        """Power a chip on at ``device`` measuring ``load``; return it.

        Raises ValueError when ``device`` already has a chip.
        """
        if device in self._chips:
            raise ValueError(f"{device} already has a chip")
        chip = EmulatedAtm90e32(load, clock=self.clock, board=board, temperature=temperature)
        self._chips[device] = chip
        return chip

    def open(self, device: str) -> EmulatedAtm90e32:
        """The chip at ``device`` as a Transport (marked open again if it was closed).

        Raises DeviceNotFoundError, as a missing /dev/spidevB.C node does, for a path
        without a chip.
        """
        chip = self[device]
        chip.closed = False
        return chip

    def __getitem__(self, device: str) -> EmulatedAtm90e32:
        """The chip at ``device``; DeviceNotFoundError if there is none."""
        try:
            return self._chips[device]
        except KeyError:
            raise DeviceNotFoundError(f"no emulated chip at {device}") from None

    def __contains__(self, device: object) -> bool:
        """Whether ``device`` has a chip."""
        return device in self._chips

    def __iter__(self) -> Iterator[str]:
        """The device paths with a chip, in the order they were added."""
        return iter(self._chips)

    def __len__(self) -> int:
        """How many chips the bus holds."""
        return len(self._chips)
