"""The channel model: the split-phase table and the chip settings derived from it."""

from __future__ import annotations

import pytest

from custom_components.atm90e32.driver.channels import SPLIT_PHASE, WIRINGS
from custom_components.atm90e32.driver.registers import Phase


def test_split_phase_legs_are_chip_phases_a_and_c() -> None:
    assert [(c.key, c.name, c.phase) for c in SPLIT_PHASE.channels] == [("l1", "L1", Phase.A), ("l2", "L2", Phase.C)]
    assert SPLIT_PHASE.phases == (Phase.A, Phase.C)
    assert SPLIT_PHASE.reference.key == "l1"
    assert SPLIT_PHASE.channel(Phase.C).key == "l2"
    with pytest.raises(KeyError):
        SPLIT_PHASE.channel(Phase.B)
    assert WIRINGS["split_phase_2ct"] is SPLIT_PHASE


def test_option_names_derive_from_the_channel_key() -> None:
    l1, l2 = SPLIT_PHASE.channels
    assert (l1.current_gain_option, l1.ct_preset_option, l1.invert_option) == (
        "current_gain_l1",
        "ct_preset_l1",
        "invert_l1",
    )
    assert (l1.voltage_gain_option, l2.voltage_gain_option) == ("voltage_gain", "voltage_gain_l2")


def test_mmode0_for_the_split_phase_board() -> None:
    # AN p.16: 3P3W 50 Hz with phase B excluded is 0x0185; bit 12 adds 60 Hz (DS p.47).
    assert SPLIT_PHASE.mmode0(60) == 0x1185
    assert SPLIT_PHASE.mmode0(50) == 0x0185
    with pytest.raises(ValueError, match="line frequency"):
        SPLIT_PHASE.mmode0(55)


def test_totals_come_from_the_chip_unless_a_leg_is_inverted_in_software() -> None:
    assert SPLIT_PHASE.totals_from_chip(frozenset())
    assert not SPLIT_PHASE.totals_from_chip(frozenset({Phase.C}))
