"""Replay a person's own power log through the emulated chip (the file is parsed by ``driver.replay``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..channels import Wiring
from ..registers import Phase
from ..replay import ReplayTrace
from .loads import DELTA_ANGLES, SEQUENCE_ANGLES, LoadPoint, PhaseLoad


class ReplayLoad:
    """A :class:`~..replay.ReplayTrace` as the physical world: each column on one chip phase.

    Column ``i`` of the trace drives ``phases[i]``: its watts hold step-wise from each
    row's time to the next (see ``driver.replay``), negative watts are export, so the
    chip books them as reverse energy (ANenergy).  The load steps only where a row
    starts: :meth:`next_change` tells the emulator, which integrates every row exactly.
    Every phase in ``energized`` (default: the mapped phases) carries ``volts`` at its
    angle from ``voltage_angles`` (default 0 for all, one shared voltage) and the mapped
    ones their column's watts at ``power_factor``; the trace loops after its duration.
    ``start`` (s) is the trace's position at time 0: a replay resumed where it stopped.
    Raises ValueError when ``phases`` does not give one distinct phase per column, or
    for a power factor outside (0, 1].
    """

    step: float | None = None

    def __init__(
        self,
        trace: ReplayTrace,
        phases: Sequence[Phase],
        *,
        volts: float = 120.0,
        power_factor: float = 1.0,
        frequency: float = 60.0,
        voltage_angles: Mapping[Phase, float] | None = None,
        energized: Sequence[Phase] | None = None,
        start: float = 0.0,
    ) -> None:
        """Map the trace's columns onto ``phases``."""
        if len(phases) != len(trace.channels) or len(set(phases)) != len(phases):
            raise ValueError(f"{len(trace.channels)} columns need as many distinct phases, got {list(phases)}")
        if not 0.0 < power_factor <= 1.0:
            raise ValueError("a power factor must be within 0 (excluded) .. 1")
        self.trace = trace
        self.phases = tuple(Phase(p) for p in phases)
        self.volts = volts
        self.power_factor = power_factor
        self.frequency = frequency
        self.voltage_angles = dict(voltage_angles or {})
        self.energized = tuple(energized) if energized is not None else self.phases
        self.start = start

    @classmethod
    def for_wiring(
        cls,
        trace: ReplayTrace,
        wiring: Wiring,
        *,
        volts: float = 120.0,
        power_factor: float = 1.0,
        frequency: float = 60.0,
        start: float = 0.0,
    ) -> ReplayLoad:
        """Columns onto ``wiring``'s channels in order; the voltages as the wiring's service has them.

        Three-phase: every phase energized, 120 degrees apart; delta: A and C, Ucb 300
        degrees behind Uab (:data:`.loads.DELTA_ANGLES`), each column an element's watts.  Shared voltage (circuits):
        every voltage input energized with the one voltage, as the board's jumper gives.
        Otherwise the channels' phases only.  Raises ValueError when the trace's column
        count differs from the wiring's channel count.
        """
        if wiring.delta:  # Uab on A, Ucb on C (DS p.56); B grounded (AN p.10)
            angles, energized = dict(zip((Phase.A, Phase.C), DELTA_ANGLES, strict=True)), wiring.phases
        elif wiring.three_phase:
            angles, energized = dict(zip(Phase, SEQUENCE_ANGLES, strict=True)), tuple(Phase)
        elif wiring.shared_voltage:
            angles, energized = {}, tuple(Phase)
        else:
            angles, energized = {}, wiring.phases
        return cls(
            trace,
            wiring.phases,
            volts=volts,
            power_factor=power_factor,
            frequency=frequency,
            voltage_angles=angles,
            energized=energized,
            start=start,
        )

    def next_change(self, t: float) -> float:
        """The first time after ``t`` (s) at which a row starts: the next possible step of the load."""
        boundary = self.trace.next_change(t + self.start) - self.start
        return boundary if boundary > t else math.nextafter(t, math.inf)  # rounding of the shifted time

    def load_at(self, t: float) -> LoadPoint:
        """Every energized phase's conditions at ``t`` (s)."""
        row = self.trace.index_at(t + self.start)
        watts = {phase: self.trace.watts[i][row] for i, phase in enumerate(self.phases)}
        return LoadPoint(
            phases={
                phase: PhaseLoad(
                    self.volts,
                    watts.get(phase, 0.0),
                    self.power_factor,
                    voltage_angle=self.voltage_angles.get(phase, 0.0),
                )
                for phase in self.energized
            },
            frequency=self.frequency,
        )
