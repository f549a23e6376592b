"""The publishing policy (publishing.py), without Home Assistant: when a sensor writes, and what."""

from __future__ import annotations

import itertools

import pytest

from custom_components.atm90e32.publishing import (
    DEADBANDS,
    HEARTBEAT_S,
    IMMEDIATE,
    JOULES_PER_COUNT,
    LEAN_FACTOR,
    Mode,
    Policy,
    Publisher,
    Quantity,
    last_before_boundary,
    mean_power_w,
    mode_of,
    policy,
    quantity_of,
)

T0 = 1_768_478_400.0  # 2026-01-15 12:00:00 UTC, a whole minute
PHASE = 0.3  # Home Assistant runs a coordinator at a fixed fraction of a second


def test_a_count_is_11_25_joules() -> None:
    assert pytest.approx(11.25) == JOULES_PER_COUNT
    assert mean_power_w(320, 3.6) == pytest.approx(1000.0)  # 320 counts = 1 Wh
    with pytest.raises(ValueError, match="stretch"):
        mean_power_w(1, 0.0)


def test_the_mode_defaults_to_balanced() -> None:
    assert mode_of({}) is Mode.BALANCED
    assert mode_of({"database_writes": "lean"}) is Mode.LEAN
    assert mode_of({"database_writes": "nonsense"}) is Mode.BALANCED


@pytest.mark.parametrize(
    ("key", "device_class", "unit", "state_class", "expected"),
    [
        ("l1_energy_import", "energy", "kWh", "total_increasing", Quantity.ENERGY),
        ("l1_power", "power", "W", "measurement", Quantity.POWER),
        ("l1_reactive_power", "reactive_power", "var", "measurement", Quantity.POWER),
        ("l1_fundamental_power", None, "W", "measurement", Quantity.POWER),
        ("l1_current", "current", "A", "measurement", Quantity.CURRENT),
        ("l1_voltage", "voltage", "V", "measurement", Quantity.VOLTAGE),
        ("total_power_factor", "power_factor", None, "measurement", Quantity.POWER_FACTOR),
        ("frequency", "frequency", "Hz", "measurement", Quantity.FREQUENCY),
        ("l1_phase_angle", None, "°", "measurement", Quantity.ANGLE),
        ("voltage_unbalance", None, "%", "measurement", Quantity.PERCENT),
        ("projected_demand", "power", "W", "measurement", Quantity.PROJECTION),
        ("demand", "power", "W", "measurement", Quantity.IMMEDIATE),
        ("peak_demand", "power", "W", "measurement", Quantity.IMMEDIATE),
        ("peak_demand_time", "timestamp", None, None, Quantity.IMMEDIATE),
        ("l1_sag_count", None, None, "total_increasing", Quantity.IMMEDIATE),
        ("chip_temperature", "temperature", "°C", "measurement", Quantity.IMMEDIATE),
    ],
)
def test_each_sensor_gets_its_quantity(
    key: str, device_class: str | None, unit: str | None, state_class: str | None, expected: Quantity
) -> None:
    assert quantity_of(key, device_class, unit, state_class) is expected


def test_every_refresh_writes_every_change_and_lean_holds_more_than_balanced() -> None:
    for quantity in Quantity:
        assert policy(quantity, Mode.EVERY_REFRESH) == IMMEDIATE
    assert policy(Quantity.ENERGY, Mode.BALANCED) == Policy(every_s=60.0)
    assert policy(Quantity.ENERGY, Mode.LEAN) == Policy(every_s=300.0)
    assert policy(Quantity.POWER, Mode.BALANCED) == Policy(deadband=DEADBANDS[Quantity.POWER], heartbeat_s=HEARTBEAT_S)
    lean = policy(Quantity.POWER, Mode.LEAN)
    assert lean.deadband == DEADBANDS[Quantity.POWER] * LEAN_FACTOR
    assert lean.heartbeat_s is not None
    assert lean.heartbeat_s > HEARTBEAT_S


@pytest.mark.parametrize(
    ("seconds", "interval", "last"),
    [(55.3, 5, True), (50.3, 5, False), (60.0, 5, False), (59.9, 1, True), (58.9, 1, False), (31.0, 30, True)],
)
def test_the_last_refresh_before_a_minute(seconds: float, interval: float, last: bool) -> None:
    assert last_before_boundary(T0 + seconds, interval, 60.0) is last


@pytest.mark.parametrize("interval", [1, 2, 5, 10, 30])
def test_energy_writes_once_a_minute_at_the_last_refresh_before_it(interval: int) -> None:
    publisher = Publisher(policy(Quantity.ENERGY, Mode.BALANCED))
    written = []
    for n in range(600 // interval):
        now = T0 + PHASE + n * interval
        value = n / 1000  # the lifetime kWh grows at every refresh
        if publisher.offer(value, now, interval):
            written.append((now, value))
            assert publisher.shown == value  # the exact value of that refresh
    assert written[0] == (T0 + PHASE, 0.0)  # the first refresh always writes
    later = written[1:]
    assert len(later) == 10  # one a minute
    for (now, _), minute in zip(later, range(1, 11), strict=True):
        assert T0 + 60 * minute - interval <= now < T0 + 60 * minute


def test_a_measurement_holds_within_its_deadband_and_beats_every_5_minutes() -> None:
    publisher = Publisher(policy(Quantity.VOLTAGE, Mode.BALANCED))
    assert publisher.offer(120.0, T0, 5)
    assert not publisher.offer(120.5, T0 + 5, 5)  # 0.5 V is within the band
    assert publisher.offer(120.51, T0 + 10, 5)
    assert publisher.shown == 120.51
    assert not publisher.offer(120.2, T0 + 15, 5)
    assert not publisher.offer(120.2, T0 + 10 + HEARTBEAT_S - 1, 5)
    assert publisher.offer(120.2, T0 + 10 + HEARTBEAT_S, 5)  # the heartbeat
    assert publisher.offer(None, T0 + 400, 5)  # unknown is news
    assert not publisher.offer(None, T0 + 405, 5)
    assert publisher.offer(120.0, T0 + 410, 5)


def test_forgetting_writes_the_next_refresh() -> None:
    publisher = Publisher(policy(Quantity.POWER, Mode.BALANCED))
    assert publisher.offer(100.0, T0, 5)
    assert not publisher.offer(101.0, T0 + 5, 5)
    publisher.forget()
    assert publisher.offer(101.0, T0 + 10, 5)
    assert not publisher.offer(101.0, T0 + 15, 5)
    assert publisher.offer(101.0, T0 + 20, 5, force=True)


def test_a_held_power_writes_the_mean_of_its_stretch_so_its_integral_is_the_energy() -> None:
    """A load steps 500 W -> 2000 W -> 480 W; counts at 11.25 J each, read every 5 s (remainders carried)."""
    publisher = Publisher(policy(Quantity.POWER, Mode.BALANCED))
    watts = [500.0] * 70 + [2000.0] * 50 + [480.0] * 400  # one value per second
    joules, counts, points = 0.0, 0, []
    for n in range(len(watts) // 5):
        now = T0 + 5 * (n + 1)
        joules += sum(watts[5 * n : 5 * n + 5])
        counts = int(joules // JOULES_PER_COUNT)  # the chip's lifetime counts, booked at this read
        if publisher.offer(watts[5 * n + 4], now, 5, energy=(counts, now)):
            assert publisher.shown is not None
            points.append((now, publisher.shown))
    # held: far fewer points than the 104 refreshes, but each step is written
    assert len(points) < 12
    # each point is the mean of the stretch it closes: their sum over the stretches is the counts exactly
    integral = sum(value * (now - before) for (before, _), (now, value) in itertools.pairwise(points))
    first_at, last_at = points[0][0], points[-1][0]
    counts_first = int(sum(watts[: int(first_at - T0)]) // JOULES_PER_COUNT)
    counts_last = int(sum(watts[: int(last_at - T0)]) // JOULES_PER_COUNT)
    assert integral == pytest.approx((counts_last - counts_first) * JOULES_PER_COUNT, rel=1e-12)
    # and not the samples: the stretch the 2000 W step closed is written as its mean, not 2000 W
    values = [value for _, value in points]
    assert 500.0 < values[1] < 2000.0
    assert any(abs(value - 2000.0) < 3 for value in values)


def test_a_projection_writes_once_a_minute() -> None:
    publisher = Publisher(policy(Quantity.PROJECTION, Mode.BALANCED))
    writes = sum(publisher.offer(float(n), T0 + PHASE + 5 * n, 5) for n in range(720))
    assert writes == 61  # the first refresh, then one a minute for an hour


def test_energy_missing_its_boundary_writes_once_every_s_has_passed() -> None:
    """Refreshes every 5 s though the interval said 2 s (late or out of step): still one write a minute."""
    publisher = Publisher(policy(Quantity.ENERGY, Mode.BALANCED))
    writes = [n for n in range(1, 121) if publisher.offer(n / 1000, T0 + 5 * n, 2)]
    assert writes[0] == 1
    assert all(b - a == 12 for a, b in itertools.pairwise(writes))  # every 60 s
