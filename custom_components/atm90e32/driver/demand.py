"""Demand: the average power of clock-aligned demand intervals, and the billing cycle's peak, from energy counts.

A utility's demand is the average power of a fixed interval (5, 15, 30 or 60 minutes,
starting on the hour: 14:00, 14:15, ...), that is the energy metered in the interval
divided by its length; the bill charges the highest interval of the billing cycle.
This module computes exactly that from the energy ledger's counts (0.003125 Wh each,
DS p.12), never by averaging sampled power: a refresh that is missed, late or slow
changes nothing, because the counts it would have read are read by the next one.

What is known, and what is not:

- Counts are booked per read, and a read's counts were metered at some unknown moments
  between the previous read and this one (its *span*).  A span inside one interval
  belongs to it exactly.  A span that crosses a boundary is split **pro rata by time**:
  the share of its counts before the boundary is the share of its seconds before it.
  The split misplaces at most the counts of that one read, so an interval's energy is
  off by at most the counts of the read straddling its start plus those of the read
  straddling its end, each at most ``P_max x span`` (the span's highest power times
  its length): its average by at most ``2 x P_max x span / interval``.  At the default
  5 s refresh and a 15-minute interval that is 1.1 % of the highest power around the
  two boundaries, in the worst case (all of the read's energy on one side); a steady
  load is split exactly.  The chip's own count quantization adds less than one count.
- A span that crosses a boundary and is longer than ``max_split_s`` (Home Assistant was
  down, the chip did not answer) would be split with a bound too loose to bill on: every
  interval it touches is marked *incomplete* instead, and an incomplete interval has no
  average (``None``) and never sets the peak, rather than being reported low.
- Counts that were lost (the chip was reset, or a register may have wrapped) make every
  interval their span touches incomplete too; so does the interval in progress when
  counting first starts (its energy before the start is not known).

Time is Unix seconds (UTC).  Intervals are aligned to the local clock of ``tz`` (an
interval starts where the local time is a multiple of its length since midnight, so
15-minute intervals start at :00, :15, :30, :45 local even in a time zone offset by a
quarter hour), and the billing cycle begins at local midnight of its start day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Final

from .registers import ENERGY_LSB_WH

DEMAND_INTERVALS_MIN: Final = (5, 15, 30, 60)
"""Demand interval lengths offered, minutes: those utilities use (15 min most of all; 30 in the UK, 60 some tariffs)."""
DEFAULT_DEMAND_INTERVAL_MIN: Final = 15
"""The most common demand interval of North American and European demand tariffs."""
CYCLE_START_DAYS: Final = range(1, 29)
"""Billing-cycle start days offered: 1 to 28, the days every month has."""
DEFAULT_CYCLE_START_DAY: Final = 1
MIN_SPLIT_S: Final = 30.0
"""The shortest ``max_split_s`` :func:`max_split_for` gives: a few late refreshes never mark an interval incomplete."""
SPLIT_READS: Final = 3
"""A span of up to this many refresh intervals (two refreshes missed) is split pro rata across a boundary."""


def max_split_for(update_interval_s: float) -> float:
    """The longest span, s, split pro rata across a boundary at refreshes every ``update_interval_s`` s.

    ``SPLIT_READS`` refresh intervals, at least ``MIN_SPLIT_S``: 30 s at the default 5 s
    refresh, 90 s at 30 s.  Raises ValueError for an interval that is not positive.
    """
    if not update_interval_s > 0:
        raise ValueError("the update interval must be above 0 s")
    return max(MIN_SPLIT_S, SPLIT_READS * update_interval_s)


def _offset_s(at: float, tz: tzinfo) -> float:
    offset = datetime.fromtimestamp(at, tz).utcoffset()
    return 0.0 if offset is None else offset.total_seconds()


def interval_start(at: float, length_s: int, tz: tzinfo) -> float:
    """Start (Unix s) of the ``length_s``-second interval aligned to the local clock of ``tz`` that holds ``at``."""
    return at - (at + _offset_s(at, tz)) % length_s


def interval_end(start: float, length_s: int, tz: tzinfo) -> float:
    """End (Unix s) of the interval starting at ``start``: the next aligned start.

    ``start + length_s``, except where the UTC offset changes by less than the length
    inside it (Lord Howe Island's 30-minute daylight saving step): the interval then
    ends early, at the first start aligned to the new offset.
    """
    following = start + length_s
    aligned = interval_start(following, length_s, tz)
    return aligned if aligned > start else following


def cycle_start(at: float, day: int, tz: tzinfo) -> float:
    """Start (Unix s) of the billing cycle holding ``at``: local midnight of the last ``day`` of a month not after it.

    Raises ValueError for a ``day`` outside 1..28.
    """
    if day not in CYCLE_START_DAYS:
        raise ValueError("the billing-cycle start day must be 1 to 28")
    local = datetime.fromtimestamp(at, tz)
    year, month = local.year, local.month
    if local.day < day:
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return datetime(year, month, day, tzinfo=tz).timestamp()


def next_cycle_start(start: float, day: int, tz: tzinfo) -> float:
    """Start (Unix s) of the billing cycle after the one starting at ``start``."""
    local = datetime.fromtimestamp(start, tz)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, day, tzinfo=tz).timestamp()


@dataclass(frozen=True, slots=True)
class DemandInterval:
    """One demand interval: ``start`` and ``end`` (Unix s), the counts booked in it, whether they are all of them.

    ``counts`` may hold a fraction: a read straddling a boundary is split pro rata.
    """

    start: float
    end: float
    counts: float
    complete: bool

    @property
    def average_w(self) -> float | None:
        """Average power, W: counts x 0.003125 Wh (DS p.12) x 3600 / length in s; None when incomplete."""
        if not self.complete:
            return None
        return self.counts * ENERGY_LSB_WH * 3600.0 / (self.end - self.start)


class DemandMeter:
    """The demand of one service from its imported-energy counts, read after read (pure, no I/O).

    Feed it every read with :meth:`book`; it closes the intervals that ended, keeps the
    last one (:attr:`last`), the one in progress, and the billing cycle's peak
    (:attr:`peak_w` at :attr:`peak_at`, the start of the peak interval).  The peak
    resets when a new cycle begins: it then stays ``None`` until the cycle's first
    interval completes.  :meth:`as_dict` / :meth:`restore_dict` carry the state across
    restarts.
    """

    def __init__(self, *, interval_min: int, cycle_start_day: int, tz: tzinfo, max_split_s: float) -> None:
        """Start with nothing booked.

        Raises ValueError for an interval not in DEMAND_INTERVALS_MIN, a day outside
        1..28 or a ``max_split_s`` that is not positive.
        """
        if interval_min not in DEMAND_INTERVALS_MIN:
            raise ValueError(f"the demand interval must be one of {DEMAND_INTERVALS_MIN} minutes")
        if cycle_start_day not in CYCLE_START_DAYS:
            raise ValueError("the billing-cycle start day must be 1 to 28")
        if not max_split_s > 0:
            raise ValueError("max_split_s must be above 0 s")
        self.length_s = interval_min * 60
        self.cycle_start_day = cycle_start_day
        self.tz = tz
        self.max_split_s = max_split_s
        self.last: DemandInterval | None = None
        """The last interval that ended (complete or not)."""
        self.running: DemandInterval | None = None
        """The interval in progress, with the counts booked in it so far."""
        self.booked_at: float | None = None
        """When the last read was booked (Unix s): the start of the next read's span."""
        self.power_w: float | None = None
        """The service's import power at the last read, W, for the projection."""
        self.cycle: float | None = None
        """Start of the billing cycle the peak belongs to (Unix s)."""
        self.peak_w: float | None = None
        self.peak_at: float | None = None

    def book(self, at: float, counts: int, *, power_w: float | None = None, counts_lost: bool = False) -> None:
        """Book ``counts`` imported-energy counts read at ``at`` (Unix s), metered since the previous booking.

        ``power_w`` is the service's import power now (W, for :meth:`projected_w`; None
        keeps the last one); ``counts_lost`` says counts of this span were lost (chip
        reset, register possibly wrapped).  A clock that moved back by no more than
        ``max_split_s`` books into the interval in progress; by more, counting starts
        afresh at ``at`` (the last interval is forgotten and the cycle is the one holding
        ``at``: the peak stays only if it lies in it).  Raises ValueError for negative counts.
        """
        if counts < 0:
            raise ValueError("energy counts cannot be negative")
        if power_w is not None:
            self.power_w = max(0.0, power_w)
        previous = self.booked_at
        if previous is not None and previous - at > self.max_split_s:
            # The clock stepped back (a Pi without a clock battery, set by NTP late): what was
            # booked after ``at`` has not happened yet on this clock, and neither has its cycle.
            self.last, self.cycle, previous = None, None, None
        if self.running is None or previous is None:
            self._start_afresh(at, counts)
            self.booked_at = at
        elif at <= previous:  # the clock stepped back a little: time does not go back with it
            self._add(counts, complete=not counts_lost)
        else:
            self._book_span(previous, at, counts, counts_lost)
            self.booked_at = at
        self._roll_cycle(cycle_start(max(at, previous or at), self.cycle_start_day, self.tz))

    def _start_afresh(self, at: float, counts: int) -> None:
        """No earlier booking to measure the span from: the interval holding ``at`` is incomplete."""
        start = interval_start(at, self.length_s, self.tz)
        self.running = DemandInterval(start, interval_end(start, self.length_s, self.tz), counts, complete=False)

    def _add(self, counts: float, *, complete: bool) -> None:
        running = self.running
        assert running is not None
        self.running = DemandInterval(
            running.start, running.end, running.counts + counts, running.complete and complete
        )

    def _book_span(self, since: float, at: float, counts: int, counts_lost: bool) -> None:
        """Book ``counts`` metered during ``(since, at]`` into the intervals that span touches."""
        running = self.running
        assert running is not None
        if at < running.end:  # the whole span lies in the interval in progress
            self._add(counts, complete=not counts_lost)
            return
        span = at - since
        if counts_lost or span > self.max_split_s:
            # Where in the span the counts were metered is not known well enough (or some are
            # missing): every interval the span touches is incomplete.
            self._close(DemandInterval(running.start, running.end, running.counts, complete=False))
            start = interval_start(at, self.length_s, self.tz)
            if start > running.end:  # intervals passed entirely inside the span: the last of them
                before = interval_start(start - 1.0, self.length_s, self.tz)
                self._close(DemandInterval(before, start, math.nan, complete=False))
            end = interval_end(start, self.length_s, self.tz)
            self.running = DemandInterval(start, end, counts * (at - start) / span, complete=False)
            return
        t = since
        while at >= running.end:
            share = counts * (running.end - t) / span
            self._close(DemandInterval(running.start, running.end, running.counts + share, running.complete))
            t = running.end
            running = DemandInterval(running.end, interval_end(running.end, self.length_s, self.tz), 0.0, True)
        self.running = DemandInterval(running.start, running.end, counts * (at - t) / span, complete=True)

    def _close(self, interval: DemandInterval) -> None:
        """``interval`` ended: it becomes :attr:`last` and, if complete and the highest of its cycle, the peak."""
        self.last = interval
        self._roll_cycle(cycle_start(interval.start, self.cycle_start_day, self.tz))
        average = interval.average_w
        if (
            average is not None
            and self.cycle == cycle_start(interval.start, self.cycle_start_day, self.tz)
            and (self.peak_w is None or average > self.peak_w)
        ):
            self.peak_w, self.peak_at = average, interval.start

    def _roll_cycle(self, cycle: float) -> None:
        """Move to the cycle starting at ``cycle`` when it is newer; the peak goes unless it lies in that cycle."""
        if self.cycle is not None and cycle <= self.cycle:
            return
        self.cycle = cycle
        if self.peak_at is not None and not cycle <= self.peak_at < next_cycle_start(
            cycle, self.cycle_start_day, self.tz
        ):
            self.peak_w = self.peak_at = None

    @property
    def demand_w(self) -> float | None:
        """Average power of the last interval that ended, W; None when there is none or it is incomplete."""
        return None if self.last is None else self.last.average_w

    def projected_w(self, at: float) -> float | None:
        """The interval in progress's average if the present power holds to its end, W.

        ``(counts so far x 0.003125 Wh + power x remaining time) / interval length``.
        None when the interval is incomplete (its start was not counted) or nothing was booked.
        """
        running = self.running
        if running is None or not running.complete:
            return None
        remaining_s = min(max(running.end - at, 0.0), running.end - running.start)
        energy_wh = running.counts * ENERGY_LSB_WH + (self.power_w or 0.0) * remaining_s / 3600.0
        return energy_wh * 3600.0 / (running.end - running.start)

    def as_dict(self) -> dict[str, Any]:
        """The state to persist: JSON-compatible numbers, booleans and None."""
        return {
            "interval_s": self.length_s,
            "booked_at": self.booked_at,
            "running": _interval_dict(self.running),
            "last": _interval_dict(self.last),
            "cycle": self.cycle,
            "cycle_start_day": self.cycle_start_day,
            "peak_w": self.peak_w,
            "peak_at": self.peak_at,
        }

    def restore_dict(self, stored: Mapping[str, Any]) -> None:
        """Take back a state made by :meth:`as_dict` (by another run, maybe under other settings).

        Intervals of another length are dropped, and so is the peak measured over them (a
        5-minute peak is not a 15-minute one).  The cycle is worked out again from the peak's
        time under this meter's start day and time zone (never taken as stored); a peak
        stays if it lies in the cycle holding the next booking, which :meth:`book` judges.
        Values of the wrong type (a damaged file) are ignored.  Raises nothing.
        """
        booked_at = _number(stored.get("booked_at"))
        if stored.get("interval_s") != self.length_s or booked_at is None:
            return
        running = _interval(stored.get("running"))
        if running is None:
            return
        self.booked_at, self.running, self.last = booked_at, running, _interval(stored.get("last"))
        peak_w, peak_at = _number(stored.get("peak_w")), _number(stored.get("peak_at"))
        if peak_w is not None and peak_at is not None:
            self.peak_w, self.peak_at = peak_w, peak_at
            # The cycle is judged afresh, never taken as stored: a cycle start computed under
            # another start day or time zone would keep every later interval from the peak.
            self._roll_cycle(cycle_start(peak_at, self.cycle_start_day, self.tz))


def _interval_dict(interval: DemandInterval | None) -> dict[str, Any] | None:
    if interval is None:
        return None
    counts = None if math.isnan(interval.counts) else interval.counts
    return {"start": interval.start, "end": interval.end, "counts": counts, "complete": interval.complete}


def _number(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _interval(value: object) -> DemandInterval | None:
    if not isinstance(value, Mapping):
        return None
    start, end, counts = _number(value.get("start")), _number(value.get("end")), _number(value.get("counts"))
    complete = value.get("complete")
    if start is None or end is None or not end > start or not isinstance(complete, bool):
        return None
    if counts is None:
        return DemandInterval(start, end, math.nan, complete=False)
    return DemandInterval(start, end, counts, complete=complete)
