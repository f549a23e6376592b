"""Demand from energy counts: clock-aligned intervals, the pro-rata split at a boundary, gaps, the cycle's peak.

Every expected figure is worked out here from the counts fed in (0.003125 Wh each,
DS p.12) and the interval's length, not taken from the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from custom_components.atm90e32.driver.demand import (
    DemandMeter,
    cycle_start,
    interval_end,
    interval_start,
    max_split_for,
)

WH_PER_COUNT = 0.003125
PACIFIC = ZoneInfo("America/Los_Angeles")
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # UTC+5:45
NEW_YORK = ZoneInfo("America/New_York")


def ts(tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    """Unix seconds of a local wall time in ``tz``."""
    return datetime(year, month, day, hour, minute, second, tzinfo=tz).timestamp()


def local(at: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(at, tz).strftime("%Y-%m-%d %H:%M:%S")


def meter(tz: ZoneInfo = PACIFIC, minutes: int = 15, day: int = 1, max_split_s: float = 30.0) -> DemandMeter:
    return DemandMeter(interval_min=minutes, cycle_start_day=day, tz=tz, max_split_s=max_split_s)


def feed(demand: DemandMeter, start: float, seconds: int, counts_per_read: int, every: int = 5) -> None:
    """Book ``counts_per_read`` every ``every`` s for ``seconds`` s after ``start`` (the first booking at ``start``)."""
    for step in range(seconds // every + 1):
        demand.book(start + step * every, 0 if step == 0 else counts_per_read)


@pytest.mark.parametrize(
    ("tz", "minutes", "at", "start", "end"),
    [
        (PACIFIC, 15, (2026, 11, 2, 14, 7, 31), "2026-11-02 14:00:00", "2026-11-02 14:15:00"),
        (PACIFIC, 5, (2026, 11, 2, 14, 59, 59), "2026-11-02 14:55:00", "2026-11-02 15:00:00"),
        (PACIFIC, 60, (2026, 11, 2, 0, 0, 0), "2026-11-02 00:00:00", "2026-11-02 01:00:00"),
        # a quarter-hour offset: 15-minute and hourly intervals start on the local clock, not on UTC's
        (KATHMANDU, 15, (2026, 11, 2, 14, 7, 0), "2026-11-02 14:00:00", "2026-11-02 14:15:00"),
        (KATHMANDU, 60, (2026, 11, 2, 14, 50, 0), "2026-11-02 14:00:00", "2026-11-02 15:00:00"),
        (KATHMANDU, 30, (2026, 11, 2, 14, 40, 0), "2026-11-02 14:30:00", "2026-11-02 15:00:00"),
    ],
)
def test_intervals_are_aligned_to_the_local_clock(
    tz: ZoneInfo, minutes: int, at: tuple[int, ...], start: str, end: str
) -> None:
    begin = interval_start(ts(tz, *at), minutes * 60, tz)
    assert local(begin, tz) == start
    assert local(interval_end(begin, minutes * 60, tz), tz) == end


def test_the_hour_repeated_when_daylight_saving_ends_has_intervals_of_full_length() -> None:
    """New York, 1 November 2026: 01:00-02:00 EDT, then 01:00-02:00 EST again."""
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC).timestamp()  # 01:30 EDT
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC).timestamp()  # 01:30 EST
    for at in (first, second):
        start = interval_start(at, 900, NEW_YORK)
        assert datetime.fromtimestamp(start, NEW_YORK).strftime("%H:%M") == "01:30"
        assert interval_end(start, 900, NEW_YORK) - start == 900
    assert interval_start(second, 900, NEW_YORK) - interval_start(first, 900, NEW_YORK) == 3600


def test_a_steady_load_gives_its_power() -> None:
    """320 counts every 5 s is 1 Wh per 5 s: 720 W."""
    demand = meter()
    start = ts(PACIFIC, 2026, 11, 2, 14, 0, 0)
    feed(demand, start - 5, 15 * 60 + 10, 320)
    assert demand.last is not None
    assert local(demand.last.start, PACIFIC) == "2026-11-02 14:00:00"
    assert demand.last.complete
    assert demand.demand_w == pytest.approx(180 * 1.0 / 0.25)  # 180 reads of 1 Wh in a quarter hour


def test_the_first_interval_counted_is_incomplete() -> None:
    """Counting starts at 14:07: the 14:00-14:15 interval misses seven minutes and has no average."""
    demand = meter()
    feed(demand, ts(PACIFIC, 2026, 11, 2, 14, 7, 0), 8 * 60 + 5, 320)
    assert demand.last is not None
    assert not demand.last.complete
    assert demand.demand_w is None
    assert demand.peak_w is None
    assert demand.projected_w(ts(PACIFIC, 2026, 11, 2, 14, 15, 10)) is not None  # the 14:15 one is whole


def test_a_read_straddling_a_boundary_is_split_by_time() -> None:
    """The read at 14:15:03 covers 14:14:58-14:15:03: 2 of its 5 s before 14:15, 3 after."""
    demand = meter()
    feed(demand, ts(PACIFIC, 2026, 11, 2, 13, 59, 58), 15 * 60, 320)  # last booking 14:14:58
    demand.book(ts(PACIFIC, 2026, 11, 2, 14, 15, 3), 500)
    assert demand.last is not None
    # 14:00:00-14:14:58: 180 reads of 320 counts, the first of which began 2 s before 14:00
    before = 180 * 320 - 320 * 2 / 5 + 500 * 2 / 5
    assert demand.last.counts == pytest.approx(before)
    assert demand.demand_w == pytest.approx(before * WH_PER_COUNT * 3600 / 900)
    assert demand.running is not None
    assert demand.running.counts == pytest.approx(500 * 3 / 5)


def test_the_split_error_is_within_the_straddling_reads() -> None:
    """Worst case: all of a straddling read's energy fell on one side; the docstring's bound holds."""
    demand = meter()
    start = ts(PACIFIC, 2026, 11, 2, 14, 0, 0)
    demand.book(start - 4, 0)
    demand.book(start + 1, 1000)  # in truth metered entirely after 14:00 (a load that started then)
    for step in range(1, 181):
        demand.book(start + 1 + step * 5, 0 if step < 180 else 1000)  # and this one entirely before 14:15
    truth = 2000  # counts really metered in 14:00-14:15: both straddling reads' (a load that stopped at 14:15)
    assert demand.last is not None
    assert demand.last.counts == pytest.approx(1000 * 1 / 5 + 1000 * 4 / 5)  # by time: 1 s of 5, 4 s of 5
    error = abs(demand.last.counts - truth)
    assert error <= 1000 + 1000  # within the two straddling reads' counts


def test_a_long_gap_inside_one_interval_loses_nothing() -> None:
    """Home Assistant away 10 minutes within 14:00-14:15: the chip kept counting, the read after carries it all."""
    demand = meter()
    start = ts(PACIFIC, 2026, 11, 2, 14, 0, 0)
    demand.book(start - 5, 0)
    demand.book(start + 20, 1000)  # straddles 14:00 within max_split_s (30 s): 5 s of 25 before
    demand.book(start + 660, 50_000)  # ten minutes and forty seconds later, same interval
    demand.book(start + 895, 2000)
    demand.book(start + 905, 100)  # half of it before 14:15
    assert demand.last is not None
    assert demand.last.complete
    expected = 1000 * 20 / 25 + 50_000 + 2000 + 100 / 2
    assert demand.last.counts == pytest.approx(expected)


def test_a_long_gap_across_a_boundary_marks_the_intervals_incomplete_not_low() -> None:
    demand = meter()
    start = ts(PACIFIC, 2026, 11, 2, 14, 0, 0)
    feed(demand, start - 5, 15 * 60 + 5, 640)  # 14:00-14:15 whole: 1440 W
    peak = demand.peak_w
    assert peak == pytest.approx(180 * 640 * WH_PER_COUNT * 4)
    feed(demand, start + 900, 600, 640)
    demand.book(start + 1800 + 120, 640 * 48)  # four minutes without a read across 14:30
    assert demand.last is not None
    assert local(demand.last.start, PACIFIC) == "2026-11-02 14:15:00"
    assert not demand.last.complete
    assert demand.demand_w is None
    assert demand.projected_w(start + 1800 + 125) is None  # 14:30-14:45 is incomplete too
    assert demand.peak_w == peak


def test_a_gap_over_several_intervals_reports_the_last_of_them_incomplete() -> None:
    demand = meter(minutes=5)
    start = ts(PACIFIC, 2026, 11, 2, 14, 0, 0)
    feed(demand, start - 5, 305, 100)
    demand.book(start + 3600 + 7, 100)  # Home Assistant down an hour
    assert demand.last is not None
    assert local(demand.last.start, PACIFIC) == "2026-11-02 14:55:00"
    assert not demand.last.complete
    assert demand.running is not None
    assert local(demand.running.start, PACIFIC) == "2026-11-02 15:00:00"


def test_lost_counts_make_the_interval_incomplete() -> None:
    demand = meter()
    start = ts(PACIFIC, 2026, 11, 2, 14, 0, 0)
    feed(demand, start - 5, 300, 320)
    demand.book(start + 305, 320, counts_lost=True)  # the chip was reset in between
    feed(demand, start + 305, 600, 320)
    assert demand.last is not None
    assert not demand.last.complete
    assert demand.peak_w is None


def test_the_projection_adds_the_present_power_for_the_time_left() -> None:
    """Five minutes at 1440 W booked, 2000 W now, ten minutes left: (120 Wh + 333.3 Wh) / 0.25 h."""
    demand = meter()
    start = ts(PACIFIC, 2026, 11, 2, 14, 0, 0)
    feed(demand, start - 5, 305, 640)  # the read at 14:00:00 closes 13:45-14:00
    demand.book(start + 300, 0, power_w=2000.0)
    booked_wh = 60 * 640 * WH_PER_COUNT
    assert booked_wh == pytest.approx(120.0)
    assert demand.projected_w(start + 300) == pytest.approx((120.0 + 2000.0 * 600 / 3600) / 0.25)
    assert demand.projected_w(start + 900 - 1e-6) == pytest.approx(120.0 / 0.25, rel=1e-6)
    demand.book(start + 305, 0, power_w=-500.0)  # exporting: nothing more is imported
    assert demand.projected_w(start + 305) == pytest.approx(120.0 / 0.25)


def test_the_peak_is_the_highest_complete_interval_of_the_cycle_and_resets_on_its_start_day() -> None:
    demand = meter(day=3)
    start = ts(PACIFIC, 2026, 11, 2, 23, 0, 0)
    feed(demand, start - 5, 900 + 5, 640)  # 23:00-23:15: 1440 W
    feed(demand, start + 900, 900, 960)  # 23:15-23:30: 2160 W
    feed(demand, start + 1800, 1800 - 5, 320)  # to 23:59:55 at 720 W
    assert demand.peak_w == pytest.approx(960 * 180 * WH_PER_COUNT * 4)
    assert local(demand.peak_at or 0, PACIFIC) == "2026-11-02 23:15:00"
    demand.book(ts(PACIFIC, 2026, 11, 3, 0, 0, 0), 320)  # midnight of the 3rd: a new cycle
    assert demand.peak_w is None
    assert demand.peak_at is None
    assert demand.demand_w == pytest.approx(720.0)  # 23:45-00:00 still closed in the old cycle
    feed(demand, ts(PACIFIC, 2026, 11, 3, 0, 0, 0), 900 + 5, 320)
    assert demand.peak_w == pytest.approx(720.0)
    assert local(demand.peak_at or 0, PACIFIC) == "2026-11-03 00:00:00"


@pytest.mark.parametrize(
    ("at", "day", "expected"),
    [
        ((2026, 11, 2, 23, 59, 59), 3, "2026-10-03 00:00:00"),
        ((2026, 11, 3, 0, 0, 0), 3, "2026-11-03 00:00:00"),
        ((2026, 1, 10, 12, 0, 0), 28, "2025-12-28 00:00:00"),
        ((2026, 3, 1, 0, 0, 0), 1, "2026-03-01 00:00:00"),
    ],
)
def test_the_cycle_begins_at_local_midnight_of_its_start_day(at: tuple[int, ...], day: int, expected: str) -> None:
    assert local(cycle_start(ts(PACIFIC, *at), day, PACIFIC), PACIFIC) == expected


def test_the_state_survives_a_restart_and_the_interval_goes_on() -> None:
    demand = meter()
    start = ts(PACIFIC, 2026, 11, 2, 14, 0, 0)
    feed(demand, start - 5, 900 + 5 + 300, 640)  # a peak at 14:00, then five minutes of 14:15
    stored = demand.as_dict()
    again = meter()
    again.restore_dict(stored)
    assert again.peak_w == demand.peak_w
    assert again.peak_at == demand.peak_at
    assert again.demand_w == demand.demand_w
    again.book(start + 1200 + 40, 640 * 8)  # back 40 s later: the chip kept the counts
    feed(again, start + 1240, 900 - 240 + 5, 640)
    assert again.last is not None
    assert again.last.complete
    assert again.demand_w == pytest.approx(1440.0)


def test_a_restored_state_under_another_interval_length_is_dropped_with_its_peak() -> None:
    demand = meter()
    feed(demand, ts(PACIFIC, 2026, 11, 2, 14, 0, 0) - 5, 900 + 10, 640)
    again = meter(minutes=30)
    again.restore_dict(demand.as_dict())
    assert again.peak_w is None
    assert again.last is None
    assert again.running is None


def test_a_new_cycle_start_day_keeps_the_peak_only_when_it_lies_in_the_cycle_it_gives() -> None:
    demand = meter(day=1)
    feed(demand, ts(PACIFIC, 2026, 11, 2, 14, 0, 0) - 5, 900 + 10, 640)  # peak on 2 November
    at = ts(PACIFIC, 2026, 11, 20, 9, 0, 0)
    kept = meter(day=2)  # cycle from 2 November: the peak is in it
    kept.restore_dict(demand.as_dict())
    kept.book(at, 0)
    assert kept.peak_w == demand.peak_w
    dropped = meter(day=10)  # cycle from 10 November: the peak is not
    dropped.restore_dict(demand.as_dict())
    dropped.book(at, 0)
    assert dropped.peak_w is None


@pytest.mark.parametrize(
    "damaged",
    [{}, {"interval_s": 900}, {"interval_s": 900, "booked_at": "x", "running": None}, {"interval_s": "900"}],
)
def test_a_damaged_state_is_ignored(damaged: dict[str, object]) -> None:
    demand = meter()
    demand.restore_dict(damaged)
    assert demand.as_dict() == meter().as_dict()


def test_a_clock_stepping_back_a_little_keeps_counting_and_a_lot_starts_afresh() -> None:
    demand = meter()
    start = ts(PACIFIC, 2026, 11, 2, 14, 0, 0)
    feed(demand, start - 5, 300, 320)
    demand.book(start + 290, 320)  # ten seconds back
    assert demand.running is not None
    assert demand.running.complete
    assert demand.running.counts == (59 + 1) * 320  # the read at 14:00:00 went to 13:45-14:00
    demand.book(start - 3600, 320)  # an hour back
    assert demand.running is not None
    assert not demand.running.complete
    assert local(demand.running.start, PACIFIC) == "2026-11-02 13:00:00"


def test_wrong_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="5, 15, 30, 60"):
        meter(minutes=10)
    with pytest.raises(ValueError, match="1 to 28"):
        meter(day=29)
    with pytest.raises(ValueError, match="negative"):
        meter().book(0.0, -1)
    assert max_split_for(5) == 30
    assert max_split_for(30) == 90


def test_a_restart_under_another_time_zone_still_raises_the_peak() -> None:
    """Issue 26 item 6: the stored cycle start, worked out in another zone, kept every later interval from the peak."""
    demand = meter(tz=PACIFIC)
    start = ts(PACIFIC, 2026, 11, 2, 14, 0, 0)
    feed(demand, start - 5, 900 + 10, 640)  # 14:00-14:15 Pacific at 1440 W: the peak
    again = meter(tz=NEW_YORK)  # Home Assistant's time zone changed since (the cycle now starts 3 h earlier)
    again.restore_dict(demand.as_dict())
    feed(again, start + 905, 900, 960)  # to 14:30:05 at 2160 W, in the same cycle in either zone
    # 14:15-14:30: the first run's last 5 s (640 counts), then 179 reads of 960
    assert again.demand_w == pytest.approx((640 + 179 * 960) * WH_PER_COUNT * 4)
    assert again.peak_w == again.demand_w
    assert local(again.peak_at or 0, PACIFIC) == "2026-11-02 14:15:00"


def test_a_clock_stepped_back_across_the_cycle_start_keeps_no_peak_or_demand_from_the_future() -> None:
    """A Pi without a clock battery boots a day ahead, then NTP sets it back across the cycle's start day."""
    demand = meter(day=3)
    feed(demand, ts(PACIFIC, 2026, 11, 3, 9, 0, 0) - 5, 900 + 10, 960)  # 3 November (a new cycle): 2160 W
    assert demand.peak_w == pytest.approx(2160.0)
    start = ts(PACIFIC, 2026, 11, 2, 20, 0, 0)  # the true time: 2 November, the cycle before
    feed(demand, start, 1800 + 5, 320)
    assert demand.demand_w == pytest.approx(720.0)
    assert demand.peak_w == pytest.approx(720.0)
    assert local(demand.peak_at or 0, PACIFIC) == "2026-11-02 20:15:00"
