"""The driver's plain data: a chip configuration refuses what the chip's registers cannot hold, and a
three-phase snapshot under current scaling shows the neutral current of the service, not the chip's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import pytest

from custom_components.atm90e32.driver import ChipConfig, Phase
from custom_components.atm90e32.driver.channels import THREE_PHASE_WYE
from custom_components.atm90e32.driver.emulator import ThreePhaseLoad
from custom_components.atm90e32.driver.models import EnergyRead, MeterSnapshot, PhaseReading

from .test_three_phase import config_for, make_chip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("line_frequency", 55),  # MMode0 bit 12 selects 50 or 60 Hz only (DS p.56)
        ("pga_gain", 3),  # MMode1: 1x, 2x or 4x (DS p.57)
        ("voltage_gains", (3920, 0, 3920)),  # Ugain 0 would read no voltage; 16 bits (DS p.59)
        ("current_gains", (25498, 25498)),  # one per phase A, B, C
        ("p_start_threshold", 0x10000),  # PStartTh is 16 bits (DS p.55)
        ("p_phase_threshold", -1),
        ("current_offsets", (0, 0x10000, 0)),  # Ioffset is a 16-bit register (DS p.59)
        ("phase_compensation", (0x4000, 0, 0)),  # PhiA-C: bit 15 and bits 7:0 only (DS p.58)
    ],
)
def test_a_configuration_the_chip_cannot_hold_is_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=field):
        ChipConfig(**{field: value})


def test_the_edges_of_each_range_are_accepted() -> None:
    config = ChipConfig(
        line_frequency=50,
        pga_gain=4,
        voltage_gains=(1, 0xFFFF, 1),
        current_gains=(0xFFFF, 1, 0xFFFF),
        p_start_threshold=0xFFFF,
        p_phase_threshold=0,
        power_offsets=(0xFFFF, 0, 0),
        phase_compensation=(0x80FF, 0x00FF, 0x8000),
    )
    assert config.phase_compensation == (0x80FF, 0x00FF, 0x8000)


def test_current_scaling_scales_the_neutral_current_with_the_phase_currents() -> None:
    """10 A, 5 A, 2 A at unity PF on 230 V: the neutral carries 7 A.  At 2x scaling the chip gets half the
    CT gain, so it reads half of each current and of the neutral; the snapshot as shown is the service's."""
    load = ThreePhaseLoad(watts=(2300.0, 1150.0, 460.0), power_factor=1.0)
    config = replace(config_for(THREE_PHASE_WYE), current_gains=(25498 // 2,) * 3)
    chip, _, _ = make_chip(load, config)
    raw = chip.read_snapshot(config)
    assert raw.three_phase is not None
    assert raw.three_phase.neutral_current == pytest.approx(3.5, rel=0.01)
    shown = raw.scaled(2, frozenset())
    assert shown.three_phase is not None
    assert shown.three_phase.neutral_current == pytest.approx(7.0, rel=0.01)
    assert [shown.phases[p].current for p in Phase] == pytest.approx([10.0, 5.0, 2.0], rel=0.01)
    assert shown.three_phase.voltage_angles == raw.three_phase.voltage_angles


# What scaling and inversion do to each field, from the physics (not from the driver's lists): the chip read
# every current-proportional quantity with Igain / scale; a backwards CT reverses the sign of the signed powers
# and the power factor and turns the current's angle by 180 degrees; voltages are untouched.  A field this
# table does not name must come through unchanged.
_EXPECTED_AT_2X_INVERTED: dict[str, Any] = {
    "current": lambda v: v * 2,
    "active_power": lambda v: -v * 2,
    "reactive_power": lambda v: -v * 2,
    "apparent_power": lambda v: v * 2,
    "power_factor": lambda v: -v,
    "phase_angle": lambda v: v - 180.0,
    "peak_current": lambda v: v * 2,
    "fundamental_power": lambda v: -v * 2,
    "harmonic_power": lambda v: -v * 2,
}


def _distinct_reading[R: PhaseReading](cls: type[R]) -> R:
    """A reading whose every field holds its own value (1.5, 2.5, ...; the angle 30.5 degrees)."""
    values = {f.name: 1.5 + i for i, f in enumerate(fields(cls))}
    values["phase_angle"] = 30.5
    return cls(**values)


def test_every_field_of_a_phase_reading_is_scaled_or_carried_unchanged() -> None:
    reading = _distinct_reading(PhaseReading)
    shown = reading.scaled(2, inverted=True)
    for f in fields(PhaseReading):
        expected = _EXPECTED_AT_2X_INVERTED.get(f.name, lambda v: v)(getattr(reading, f.name))
        assert getattr(shown, f.name) == pytest.approx(expected), f.name
    assert reading.scaled(2, inverted=False).active_power == pytest.approx(reading.active_power * 2)
    assert reading.scaled(1, inverted=True).voltage == reading.voltage


def test_a_field_the_scaling_does_not_know_is_carried_not_zeroed() -> None:
    """A reading with a field added after the scaling was written (here in a subclass) keeps its value
    and its type through the snapshot's scaling and inversion."""

    @dataclass(frozen=True, kw_only=True, slots=True)
    class WithDistortion(PhaseReading):
        voltage_distortion: float = 0.0

    reading = _distinct_reading(WithDistortion)
    snapshot = MeterSnapshot(
        phases={Phase.A: reading},
        energy=EnergyRead(phases={}),
        frequency=60.0,
        temperature=25,
    )
    shown = snapshot.scaled(4, frozenset({Phase.A})).phases[Phase.A]
    assert isinstance(shown, WithDistortion)
    assert shown.voltage_distortion == reading.voltage_distortion
    assert shown.current == pytest.approx(reading.current * 4)
    assert shown.active_power == pytest.approx(-reading.active_power * 4)


def test_an_angleless_reading_stays_angleless_when_inverted() -> None:
    reading = replace(_distinct_reading(PhaseReading), phase_angle=None)
    assert reading.scaled(1, inverted=True).phase_angle is None
