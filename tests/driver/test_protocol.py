"""Frame encoding and register conversions, against the datasheet and application note."""

from __future__ import annotations

import pytest

from custom_components.atm90e32.driver import protocol
from custom_components.atm90e32.driver import registers as reg


def test_read_frame_matches_application_note() -> None:
    assert protocol.encode_read(0x0D9) == bytes([0x80, 0xD9, 0x00, 0x00])


def test_write_frame_matches_application_note() -> None:
    assert protocol.encode_write(0x7F, 0x55AA) == bytes([0x00, 0x7F, 0x55, 0xAA])


def test_high_addresses_use_both_address_bytes() -> None:
    assert protocol.encode_read(0x3FF) == bytes([0x83, 0xFF, 0, 0])
    assert protocol.decode_frame(protocol.encode_write(0x3FF, 0x1234)) == (False, 0x3FF, 0x1234)


def test_decode_ignores_dont_care_bits() -> None:
    # bits 14..10 of the address word are don't care (DS p.30)
    assert protocol.decode_frame(bytes([0xFC, 0xD9, 0x12, 0x34])) == (True, 0xD9, 0x1234)


@pytest.mark.parametrize(("address", "value"), [(-1, 0), (0x400, 0), (0x10, -1), (0x10, 0x10000)])
def test_out_of_range_frames_are_refused(address: int, value: int) -> None:
    with pytest.raises(ValueError, match=r"outside|16-bit"):
        protocol.encode_write(address, value)


@pytest.mark.parametrize("length", [0, 3, 5])
def test_frames_must_be_four_bytes(length: int) -> None:
    with pytest.raises(ValueError, match="4 bytes"):
        protocol.decode_frame(bytes(length))
    with pytest.raises(ValueError, match="4 bytes"):
        protocol.response_data(bytes(length))


def test_response_data_is_the_second_word() -> None:
    assert protocol.response_data(bytes([0xAB, 0xCD, 0x12, 0x34])) == 0x1234


@pytest.mark.parametrize(
    ("raw", "signed"), [(0x0000, 0), (0x7FFF, 32767), (0x8000, -32768), (0xFFFF, -1), (0xFFF6, -10)]
)
def test_signed16(raw: int, signed: int) -> None:
    assert protocol.to_signed16(raw) == signed


@pytest.mark.parametrize(
    ("high", "low", "signed"),
    [(0x0000, 0x0001, 1), (0x7FFF, 0xFFFF, 2**31 - 1), (0x8000, 0x0000, -(2**31)), (0xFFFF, 0xFFFF, -1)],
)
def test_signed32(high: int, low: int, signed: int) -> None:
    assert protocol.to_signed32(high, low) == signed


def test_voltage_with_lsb_matches_application_note() -> None:
    # AN p.23: UrmsA 0x3039 with LSB high byte 0x43 -> 123.4526 V
    assert protocol.voltage(0x3039, 0x4300) == pytest.approx(123.4526, abs=5e-5)
    assert protocol.voltage(12000) == pytest.approx(120.00)


def test_current_scaling() -> None:
    assert protocol.current(65535) == pytest.approx(65.535)
    assert protocol.current(1000, 0x8000) == pytest.approx(1.0 + 0.5 * 0.001)


def test_power_is_signed_and_scaled() -> None:
    assert protocol.power(3_125_000) == pytest.approx(1000.0)
    assert protocol.power(protocol.to_signed32(0xFFD0, 0x50F8)) == pytest.approx(-1000.0)


def test_power_factor_is_signed() -> None:
    assert protocol.power_factor(950) == pytest.approx(0.95)
    assert protocol.power_factor(0x10000 - 950) == pytest.approx(-0.95)


def test_frequency_and_temperature() -> None:
    assert protocol.frequency(5998) == pytest.approx(59.98)
    assert protocol.temperature(0xFFF6) == -10
    assert protocol.temperature(38) == 38


@pytest.mark.parametrize(
    ("raw", "degrees"),
    [
        (0, 0.0),
        (182, 18.2),
        (900, 90.0),
        (1800, 180.0),
        (1801, -179.9),
        (2700, -90.0),
        (3500, -10.0),
        (3599, -0.1),
        (3600, 0.0),  # +360.0 is still an angle
        (0xFFFF, -0.1),  # -1 signed
        (0xFC7C, -90.0),  # -900 signed
        (0xF8F8, 180.0),  # -1800 signed: -180 wraps to +180
        (0xF8F7, 179.9),  # -1801 signed
        (0xF1F0, 0.0),  # -3600 signed: -360.0 is still an angle
    ],
)
def test_phase_angle_reads_signed_or_unsigned_and_wraps_to_plus_minus_180(raw: int, degrees: float) -> None:
    assert protocol.phase_angle(raw) == pytest.approx(degrees)


@pytest.mark.parametrize("raw", [3601, 6000, 32767, 0x8000, 0xF1EF, 61830])
def test_phase_angle_beyond_360_degrees_is_no_angle(raw: int) -> None:
    # 3601..32767 are +360.1..+3276.7 degrees; 0x8000..0xF1EF are -3276.8..-360.1; 61830 is -370.6
    assert protocol.phase_angle(raw) is None


def test_every_phase_angle_register_value_is_an_angle_in_range_or_none() -> None:
    for raw in range(0x10000):
        angle = protocol.phase_angle(raw)
        signed = raw - 0x10000 if raw >= 0x8000 else raw
        assert (angle is None) == (abs(signed) > 3600), raw
        assert angle is None or -180.0 < angle <= 180.0, raw


def test_energy_count_is_0_003125_wh() -> None:
    assert pytest.approx(0.003125) == reg.ENERGY_LSB_WH
    assert protocol.energy_wh(0xFFFF) == pytest.approx(204.796875)


def test_calibrated_gain_matches_application_note_example() -> None:
    measured = protocol.voltage(0x3039, 0x4300)
    assert protocol.calibrated_gain(220.00, measured, 0x8000) == 0xE41B


@pytest.mark.parametrize(
    ("reference", "measured", "gain"), [(220.0, 0.0, 0x8000), (-1.0, 100.0, 0x8000), (220.0, 50.0, 0x8000)]
)
def test_calibrated_gain_refuses_impossible_results(reference: float, measured: float, gain: int) -> None:
    with pytest.raises(ValueError, match=r"measured nothing|positive|outside 1\.\.65535"):
        protocol.calibrated_gain(reference, measured, gain)


def test_mmode1_pga_codes() -> None:
    assert [protocol.mmode1(g) for g in (1, 2, 4)] == [0x00, 0x15, 0x2A]
    assert [protocol.pga_of_channel(0x2A, p) for p in range(3)] == [4, 4, 4]
    assert protocol.pga_of_channel(0b010001, 2) == 2
    with pytest.raises(ValueError, match="PGA"):
        protocol.mmode1(3)


def test_thresholds_follow_the_application_note_formula() -> None:
    # AN: SagTh = Vth x 100 x sqrt(2) / (2 x Ugain / 32768); 96 V at Ugain 3920: 13576.45 / 0.239258 = 56744
    assert protocol.threshold_register(96.0, 3920, protocol.VOLTAGE_THRESHOLD_UNITS) == 56744
    # 132 V (110 % of 120 V) at 3920 needs 78023: more than 16 bits hold (ESPHome writes it overflowed)
    assert protocol.threshold_register(132.0, 3920, protocol.VOLTAGE_THRESHOLD_UNITS) == 78023
    assert protocol.threshold_value(0xFFFF, 3920, protocol.VOLTAGE_THRESHOLD_UNITS) == pytest.approx(110.87, abs=0.01)
    # OIth: 60 A at Igain 25498: 84852.8 / 1.556274 = 54523
    assert protocol.threshold_register(60.0, 25498, protocol.CURRENT_THRESHOLD_UNITS) == 54523
    assert protocol.threshold_value(54523, 25498, protocol.CURRENT_THRESHOLD_UNITS) == pytest.approx(60.0, abs=0.001)
    with pytest.raises(ValueError, match="gain"):
        protocol.threshold_register(96.0, 0, protocol.VOLTAGE_THRESHOLD_UNITS)


def test_peaks_follow_the_datasheet() -> None:
    # DS p.71: U = reg x Ugain / (100 x 2^13): 35466 x 3920 / 819200 = 169.71 V, the peak of 120 V rms
    assert protocol.peak_voltage(35466, 3920) == pytest.approx(120 * 2**0.5, abs=0.01)
    # I = reg x Igain / (1000 x 2^13): 3985 x 25498 / 8192000 = 12.404 A, the peak of 8.771 A rms
    assert protocol.peak_current(3985, 25498) == pytest.approx(8.771 * 2**0.5, abs=0.005)
