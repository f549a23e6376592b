"""The ATM90E32AS emulator: emulated chips, their buses, and the loads they measure.

- :mod:`.chip`: :class:`EmulatedAtm90e32`, a register-level chip that is a Transport;
- :mod:`.loads`: load sources (split-phase, three-phase wye and delta, circuits, the household trace);
- :mod:`.bus`: :class:`EmulatedBus`, several chips by chip select;
- :mod:`.bench`: the simulated meter's board, its errors stated (gains, idle offsets, CT phase leads);
- :mod:`.replay`: :class:`ReplayLoad`, a person's own CSV (parsed by ``driver.replay``).

Everything is re-exported here: ``from custom_components.atm90e32.driver.emulator import ...``.
"""

from .bench import StatedCt, simulated_board, simulated_front_end
from .bus import EmulatedBus
from .chip import Board, Disturbance, DisturbanceKind, EmulatedAtm90e32, PhaseEnergy, power_on_defaults, scaled_clock
from .loads import (
    BOARD_SHARES,
    CIRCUIT_SHARES,
    DELTA_ANGLES,
    REVERSED_ANGLES,
    SEQUENCE_ANGLES,
    TRACE_PATH,
    CircuitLoad,
    ConstantLoad,
    DeltaLoad,
    LoadPoint,
    LoadSource,
    PhaseLoad,
    ThreePhaseLoad,
    TraceCircuitLoad,
    TraceDeltaLoad,
    TraceLoad,
    TraceThreePhaseLoad,
    delta_point,
    read_trace,
    simulated_load,
    simulated_volts,
)
from .replay import ReplayLoad

__all__ = [
    "BOARD_SHARES",
    "CIRCUIT_SHARES",
    "DELTA_ANGLES",
    "REVERSED_ANGLES",
    "SEQUENCE_ANGLES",
    "TRACE_PATH",
    "Board",
    "CircuitLoad",
    "ConstantLoad",
    "DeltaLoad",
    "Disturbance",
    "DisturbanceKind",
    "EmulatedAtm90e32",
    "EmulatedBus",
    "LoadPoint",
    "LoadSource",
    "PhaseEnergy",
    "PhaseLoad",
    "ReplayLoad",
    "StatedCt",
    "ThreePhaseLoad",
    "TraceCircuitLoad",
    "TraceDeltaLoad",
    "TraceLoad",
    "TraceThreePhaseLoad",
    "delta_point",
    "power_on_defaults",
    "read_trace",
    "scaled_clock",
    "simulated_board",
    "simulated_front_end",
    "simulated_load",
    "simulated_volts",
]
