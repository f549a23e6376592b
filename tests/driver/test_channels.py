"""The channel model: each wiring's table and the chip settings derived from it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from custom_components.atm90e32.driver.channels import (
    CIRCUITS,
    SPLIT_PHASE,
    THREE_PHASE_WYE,
    WIRINGS,
    Channel,
    Wiring,
    circuits_wiring,
    wiring_for,
)
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
    # AN p.20: 3P3W 50 Hz with phase B excluded is 0x0185; bit 12 adds 60 Hz (DS p.56).
    assert SPLIT_PHASE.mmode0(60) == 0x1185
    assert SPLIT_PHASE.mmode0(50) == 0x0185
    with pytest.raises(ValueError, match="line frequency"):
        SPLIT_PHASE.mmode0(55)


def test_totals_come_from_the_chip_unless_a_leg_is_inverted_in_software() -> None:
    assert SPLIT_PHASE.totals_from_chip(frozenset())
    assert not SPLIT_PHASE.totals_from_chip(frozenset({Phase.C}))


def test_three_phase_wye_is_l1_l2_l3_on_a_b_c_all_netting() -> None:
    assert [(c.key, c.name, c.phase) for c in THREE_PHASE_WYE.channels] == [
        ("l1", "L1", Phase.A),
        ("l2", "L2", Phase.B),
        ("l3", "L3", Phase.C),
    ]
    assert [c.voltage_gain_option for c in THREE_PHASE_WYE.channels] == [
        "voltage_gain",
        "voltage_gain_l2",
        "voltage_gain_l3",
    ]
    assert THREE_PHASE_WYE.three_phase
    assert not THREE_PHASE_WYE.shared_voltage
    assert THREE_PHASE_WYE.has_service_total
    assert THREE_PHASE_WYE.totals_from_chip(frozenset())
    assert not THREE_PHASE_WYE.totals_from_chip(frozenset({Phase.B}))
    assert wiring_for("three_phase_wye") is THREE_PHASE_WYE
    assert wiring_for("three_phase_wye", ["ct1"]) is THREE_PHASE_WYE  # the channel list is for circuits only


def test_mmode0_for_three_phase_wye_is_the_application_notes_3p4w_value() -> None:
    # AN p.20: 3P4W at 50 Hz is 0x0087 (also the power-on default, DS p.56); bit 12 adds 60 Hz.
    assert THREE_PHASE_WYE.mmode0(50) == 0x0087
    assert THREE_PHASE_WYE.mmode0(60) == 0x1087


def test_circuits_keep_only_the_enabled_channels_in_ct_order() -> None:
    wiring = circuits_wiring(["ct3", "ct1"])
    assert wiring.key == "circuits"
    assert [(c.key, c.name, c.phase) for c in wiring.channels] == [("ct1", "CT1", Phase.A), ("ct3", "CT3", Phase.C)]
    assert wiring.phases == (Phase.A, Phase.C)
    assert wiring.reference.key == "ct1"
    assert wiring.shared_voltage
    assert not wiring.three_phase
    assert not wiring.three_wire
    assert {c.voltage_gain_option for c in wiring.channels} == {"voltage_gain"}
    assert not any(c.nets_into_total for c in wiring.channels)
    assert not wiring.has_service_total
    assert not wiring.totals_from_chip(frozenset())
    assert wiring_for("circuits", ["ct2"]).phases == (Phase.B,)
    assert wiring_for("circuits") is CIRCUITS
    assert CIRCUITS.phases == (Phase.A, Phase.B, Phase.C)
    assert WIRINGS["circuits"] is CIRCUITS
    assert list(WIRINGS) == ["split_phase_2ct", "circuits", "three_phase_wye", "three_phase_delta"]


def test_circuits_sum_no_phase_into_the_all_phase_registers() -> None:
    # EnPA/EnPB/EnPC (bits 2/1/0) clear, 3P4W (bit 8 clear), bit 7 as at power-on (DS p.56).
    assert CIRCUITS.mmode0(50) == 0x0080
    assert CIRCUITS.mmode0(60) == 0x1080
    assert circuits_wiring(["ct2"]).mmode0(60) == 0x1080


def test_circuits_refuse_unknown_or_no_channels() -> None:
    with pytest.raises(ValueError, match="ct4"):
        circuits_wiring(["ct1", "ct4"])
    with pytest.raises(ValueError, match="at least one"):
        circuits_wiring([])
    with pytest.raises(KeyError):
        wiring_for("delta")


def test_a_wiring_cannot_measure_a_phase_twice() -> None:
    a = Channel(key="a", name="A", phase=Phase.A, voltage_gain_option="voltage_gain")
    with pytest.raises(ValueError, match="twice"):
        Wiring(key="bad", channels=(a, replace(a, key="b")), three_wire=False)
    with pytest.raises(ValueError, match="no channel"):
        Wiring(key="bad", channels=(), three_wire=False)


def test_circuit_option_names_derive_from_the_key() -> None:
    ct2 = CIRCUITS.channel_by_key("ct2")
    assert (ct2.name_option, ct2.voltage_factor_option, ct2.current_gain_option, ct2.invert_option) == (
        "name_ct2",
        "voltage_factor_ct2",
        "current_gain_ct2",
        "invert_ct2",
    )
    with pytest.raises(KeyError):
        CIRCUITS.channel_by_key("l1")
