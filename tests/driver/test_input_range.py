"""Issue 22 item 1: the analog input range of a current channel (DS p.72) and the PGA that fits each CT.

Expected figures are computed here by hand from the schematics' burden resistors (12 ohm
on the split-phase board, 22 ohm on the 6-channel board) and the CTs' ratios, not from
the module under test.
"""

from __future__ import annotations

import math

import pytest

from custom_components.atm90e32.driver import Atm90e32, ChipConfig, Phase
from custom_components.atm90e32.driver.channels import CIRCUITS, SPLIT_PHASE, THREE_PHASE_WYE
from custom_components.atm90e32.driver.emulator import Board, ConstantLoad, EmulatedAtm90e32
from custom_components.atm90e32.driver.emulator.analog import clip_ratios
from custom_components.atm90e32.driver.input_range import (
    SIX_CHANNEL_BOARD,
    SPLIT_PHASE_BOARD,
    board_of_wiring,
    clip_current,
    fitting_pga,
)
from tests.emulation import ManualClock

# (preset, board) -> clip current at PGA 1, A: 0.72 V / (burden ohm x secondary A per primary A)
CLIP_AT_PGA1 = {
    ("sct_013_000", SPLIT_PHASE_BOARD): 0.72 / (12 * 0.0005),  # 120 A
    ("sct_016", SPLIT_PHASE_BOARD): 0.72 / (12 * 0.04 / 120),  # 180 A
    ("sct_006", SPLIT_PHASE_BOARD): 0.72 / (12 * 0.025 / 20),  # 48 A
    ("sct_024", SPLIT_PHASE_BOARD): 0.72 / (12 * 0.1 / 200),  # 120 A
    ("magnalab_100a", SPLIT_PHASE_BOARD): 0.72 / (0.333 / 100),  # 216 A, its own burden
    ("sct_013_000", SIX_CHANNEL_BOARD): 0.72 / (22 * 0.0005),  # 65.5 A
    ("sct_016", SIX_CHANNEL_BOARD): 0.72 / (22 * 0.04 / 120),  # 98.2 A
    ("sct_006", SIX_CHANNEL_BOARD): 0.72 / (22 * 0.025 / 20),  # 26.2 A
    ("sct_024", SIX_CHANNEL_BOARD): 0.72 / (22 * 0.1 / 200),  # 65.5 A
    ("magnalab_100a", SIX_CHANNEL_BOARD): 0.72 / (0.333 / 100),
}


@pytest.mark.parametrize(("preset", "board"), CLIP_AT_PGA1)
@pytest.mark.parametrize("pga", [1, 2, 4])
def test_clip_current_per_pga(preset: str, board: str, pga: int) -> None:
    assert clip_current(preset, board, pga) == pytest.approx(CLIP_AT_PGA1[preset, board] / pga)


def test_the_issues_figures() -> None:
    """At the old default PGA 2x on the 12 ohm board: SCT-013-000 clips above 60 A, SCT-016 at 90 A."""
    assert clip_current("sct_013_000", SPLIT_PHASE_BOARD, 2) == pytest.approx(60.0)
    assert clip_current("sct_016", SPLIT_PHASE_BOARD, 2) == pytest.approx(90.0)
    with pytest.raises(ValueError, match="PGA"):
        clip_current("sct_016", SPLIT_PHASE_BOARD, 3)


@pytest.mark.parametrize(
    ("preset", "board", "pga"),
    [
        ("sct_013_000", SPLIT_PHASE_BOARD, 1),  # 120 A >= 100 A; 60 A at 2x does not reach it
        ("sct_016", SPLIT_PHASE_BOARD, 1),  # 180 A >= 120 A; 90 A at 2x
        ("sct_006", SPLIT_PHASE_BOARD, 2),  # 24 A >= 20 A; 12 A at 4x
        ("sct_024", SPLIT_PHASE_BOARD, None),  # 120 A < 200 A even at 1x
        ("magnalab_100a", SPLIT_PHASE_BOARD, 2),  # 108 A >= 100 A
        ("sct_013_000", SIX_CHANNEL_BOARD, None),  # 65.5 A < 100 A
        ("sct_016", SIX_CHANNEL_BOARD, None),  # 98.2 A < 120 A
        ("sct_006", SIX_CHANNEL_BOARD, 1),  # 26.2 A >= 20 A
        ("sct_024", SIX_CHANNEL_BOARD, None),
        ("magnalab_100a", SIX_CHANNEL_BOARD, 2),
    ],
)
def test_the_pga_that_fits_each_ct(preset: str, board: str, pga: int | None) -> None:
    assert fitting_pga(preset, board) == pga


def test_wirings_name_their_board() -> None:
    assert board_of_wiring(SPLIT_PHASE.key) == SPLIT_PHASE_BOARD
    assert board_of_wiring(CIRCUITS.key) == board_of_wiring(THREE_PHASE_WYE.key) == SIX_CHANNEL_BOARD


def test_clip_ratios_of_a_cut_sine() -> None:
    """Closed forms checked against a sampled sine cut at the same level."""
    assert clip_ratios(0.36, 2) == (1.0, 1.0)  # exactly full scale
    rms, fundamental = clip_ratios(0.72, 2)  # twice full scale: cut at half the amplitude
    n = 100_000
    samples = [math.sin(2 * math.pi * (k + 0.5) / n) for k in range(n)]
    cut = [max(-0.5, min(0.5, s)) for s in samples]
    assert rms == pytest.approx(math.sqrt(sum(c * c for c in cut) / n) / math.sqrt(0.5), rel=1e-6)
    assert fundamental == pytest.approx(2 * sum(c * s for c, s in zip(cut, samples, strict=True)) / n, rel=1e-6)


def test_the_emulator_clips_an_input_past_its_range() -> None:
    """80 A on an SCT-013-000 over 12 ohm (0.48 V): within range at PGA 1, clipped at PGA 2 (0.96 V > 0.72 V)."""
    board = Board(input_volts_per_amp=(12 * 0.0005,) * 3)
    load = ConstantLoad(watts=(80.0 * 120.0, 0.0), volts=120.0, power_factor=1.0)
    emulator = EmulatedAtm90e32(load, clock=ManualClock(), board=board)
    chip = Atm90e32(emulator, sleep=lambda _s: None)
    # current scaling 2: Igain halved so 80 A fits the 65.535 A register (read x 2)
    chip.configure(ChipConfig(voltage_gains=(3920,) * 3, current_gains=(50996 // 2,) * 3, pga_gain=1))
    assert chip.read_phase(Phase.A).current * 2 == pytest.approx(80.0, rel=1e-4)
    chip.configure(ChipConfig(voltage_gains=(3920,) * 3, current_gains=(25498 // 2,) * 3, pga_gain=2))
    reading = chip.read_phase(Phase.A)
    assert reading.current * 2 < 0.97 * 80.0  # a cut sine reads low
    assert reading.active_power * 2 < reading.current * 2 * 120.0  # and its power lower still
    unlimited = EmulatedAtm90e32(load, clock=ManualClock())
    Atm90e32(unlimited, sleep=lambda _s: None).configure(
        ChipConfig(voltage_gains=(3920,) * 3, current_gains=(25498 // 2,) * 3, pga_gain=2)
    )
    assert Atm90e32(unlimited).read_phase(Phase.A).current * 2 == pytest.approx(80.0, rel=1e-3)  # no analog limit
