"""Test-only additions to the chip emulator: a manual clock and fault injection.

The shipped :class:`~custom_components.atm90e32.driver.emulator.EmulatedAtm90e32` does
what a real chip does; :class:`FaultyEmulator` adds what goes wrong around one (flipped
MISO bits, a dead bus, a brown-out) for the tests and the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from custom_components.atm90e32.driver import protocol
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32


class ManualClock:
    """A clock that only moves when told: ``clock()`` returns seconds, ``advance(s)`` moves it."""

    def __init__(self, start: float = 0.0) -> None:
        """Start at ``start`` seconds."""
        self.now = start

    def __call__(self) -> float:
        """Return the current time in seconds."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or, for clock-jump tests, backward) by ``seconds``."""
        self.now += seconds


@dataclass
class Faults:
    """Fault injection switches.

    ``flip_mask`` is XORed into the data bits of ``flip_count`` responses, after
    ``flip_skip`` clean ones (MISO errors: the chip's own state, LastSPIData included,
    is unaffected).
    ``dead_bus`` set to 0xFF or 0x00 makes MISO read all ones / all zeros and the chip
    see nothing (disconnected or unpowered).
    ``dies_after`` transactions from now (None: never), ``dead_bus`` takes the value of
    ``dies_as``: a bus that fails in the middle of a refresh.
    """

    flip_mask: int = 0x0001
    flip_count: int = 0
    flip_skip: int = 0
    dead_bus: int | None = None
    dies_after: int | None = None
    dies_as: int = 0xFF


class FaultyEmulator(EmulatedAtm90e32):
    """The emulated chip with fault injection: set ``faults``, or call :meth:`brown_out`.

    Constructed exactly as :class:`EmulatedAtm90e32`; with no fault set it behaves the same.
    """

    @cached_property
    def faults(self) -> Faults:
        """The fault switches, all off until a test sets them."""
        return Faults()

    def transfer(self, frame: bytes) -> bytes:
        """Handle one transaction as the chip does, through the faults set in ``faults``."""
        if len(frame) != protocol.FRAME_LENGTH:
            return super().transfer(frame)
        faults = self.faults
        if faults.dies_after is not None:
            if faults.dies_after <= 0:
                faults.dead_bus, faults.dies_after = faults.dies_as, None
            else:
                faults.dies_after -= 1
        if faults.dead_bus is not None:
            self.transfers += 1
            return bytes([faults.dead_bus]) * protocol.FRAME_LENGTH
        response = super().transfer(frame)
        if faults.flip_count > 0:
            if faults.flip_skip > 0:
                faults.flip_skip -= 1
            else:
                faults.flip_count -= 1
                data = int.from_bytes(response[2:], "big") ^ faults.flip_mask
                response = response[:2] + data.to_bytes(2, "big")
        return response

    def brown_out(self) -> None:
        """Power-cycle the chip: power-on defaults, counters and LastSPIData cleared (DS p.59)."""
        self._advance()
        self._reset()
