"""A person's own power log (CSV) for the simulated meter to replay: parsing and checks.

Pure: text in, a :class:`ReplayTrace` or a :class:`ReplayError` out; no Home Assistant
and no emulator import (the emulator's ``ReplayLoad`` plays a trace).

The format:

- UTF-8 text (a byte-order mark is allowed), comma separated, at most
  :data:`MAX_FILE_BYTES` (20 MB) and :data:`MAX_ROWS` data rows; blank lines are skipped.
- A header row: the first column is the timestamp (any name), every further column is
  one channel's active power in watts, named by its header cell (names non-empty and
  distinct; at most :data:`MAX_CHANNELS`).
- Then one row per sample: a timestamp, then a watts value per channel.  Timestamps are
  either seconds (a number: Unix time or relative, decimals allowed) or ISO 8601 date
  and time, with or without a UTC offset (``2025-06-01T12:00:00+02:00``,
  ``2025-06-01 12:00:00.5``, ``...Z``; one without an offset is taken as UTC).  The
  first data row's timestamp decides which of the two the file uses.  Timestamps must
  strictly increase; intervals may be irregular.  Watts are decimal numbers (``1.5e3``
  too), negative for export; NaN and infinities are refused.

Replay semantics (step-hold): each row's watts hold from its timestamp until the next
row's; the last row holds for the interval before it, so a regular log plays every row
for one interval (1 Hz rows of N seconds play N seconds).  Step-hold is what a logger
means by a sample (Home Assistant's history: a state holds until the next one), it keeps
export and import apart (interpolation would invent a crossing ramp), and its energy is
an exact sum, ``sum(watts_i x (t_(i+1) - t_i))``, that the emulator integrates exactly
and a test can reproduce independently.  The trace loops after its duration.

Every malformed input raises :class:`ReplayError` with the 1-based line number (None
for a problem of the whole file) and a reason key from :data:`REASONS`, which the
integration translates.
"""

from __future__ import annotations

import csv
import io
import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from .exceptions import Atm90e32Error

MAX_FILE_BYTES: Final = 20 * 1024 * 1024
"""20 MB: a year of one-minute samples of three channels fits (about 40 bytes a row)."""
MAX_ROWS: Final = 1_000_000
"""Data rows at most: eleven and a half days at 1 Hz, two years at one a minute."""
MAX_CHANNELS: Final = 42
"""Watts columns at most: every CT channel of a 6-channel board with its add-on boards (14 chips)."""

REASONS: Final = (
    "not_text",
    "too_large",
    "empty",
    "no_channels",
    "bad_header",
    "too_many_channels",
    "wrong_column_count",
    "bad_timestamp",
    "bad_number",
    "not_increasing",
    "too_short",
)
"""Every :attr:`ReplayError.reason`:

- ``not_text``: not UTF-8 text (line None), or a line no CSV reader takes (a NUL byte,
  a cell of more than 131 072 characters);
- ``too_large``: above MAX_FILE_BYTES (line None) or MAX_ROWS (the first row too many);
- ``empty``: no header, or a header and no data row;
- ``no_channels``: the header names a timestamp column only;
- ``bad_header``: a channel column without a name, or two with the same name;
- ``too_many_channels``: more than MAX_CHANNELS watts columns;
- ``wrong_column_count``: a row with more or fewer cells than the header;
- ``bad_timestamp``: neither seconds nor ISO 8601, or the other kind than the first row;
- ``bad_number``: a watts cell that is not a finite decimal number;
- ``not_increasing``: a timestamp not after the previous row's;
- ``too_short``: a single data row (a replay needs an interval).
"""


class ReplayError(Atm90e32Error):
    """A replay file the simulated meter cannot play.

    Attributes:
        reason: one of :data:`REASONS`, a stable key for a translated message.
        line: the 1-based line of the file at fault, None when the whole file is.
    """

    def __init__(self, reason: str, line: int | None, detail: str = "") -> None:
        """Record ``reason`` (a key of REASONS) and ``line``; ``detail`` adds to the English message."""
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{reason}{': ' + detail if detail else ''}")
        self.reason = reason
        self.line = line


@dataclass(frozen=True, eq=False)
class ReplayTrace:
    """A parsed replay file.

    Attributes:
        channels: the watts columns' names, in file order.
        times: each row's time in seconds from the first row (``times[0] == 0``), increasing.
        watts: per channel (same order as ``channels``), each row's watts.
        duration: seconds the trace plays before it loops: the last time plus the interval
            before it (step-hold, see the module docstring).
    """

    channels: tuple[str, ...]
    times: Sequence[float]
    watts: tuple[Sequence[float], ...]

    @property
    def duration(self) -> float:
        """Seconds one pass lasts: the last row holds for the interval before it."""
        return self.times[-1] + (self.times[-1] - self.times[-2])

    def index_at(self, t: float) -> int:
        """The row whose watts hold at ``t`` seconds (>= 0; the trace loops), 0-based."""
        offset = t % self.duration
        return max(0, bisect_right(self.times, offset) - 1)

    def watts_at(self, channel: int, t: float) -> float:
        """The watts of ``channel`` (index into ``channels``) at ``t`` seconds, step-hold, looping."""
        return self.watts[channel][self.index_at(t)]

    def next_change(self, t: float) -> float:
        """The first time after ``t`` (s) at which a new row starts (looping): where the power may step."""
        duration = self.duration
        loops = math.floor(t / duration)
        offset = t - loops * duration
        i = bisect_right(self.times, offset)
        boundary = loops * duration + (self.times[i] if i < len(self.times) else duration)
        return boundary if boundary > t else math.nextafter(t, math.inf)


def _parse_timestamp(cell: str) -> tuple[bool, float] | None:
    """``(is_iso, seconds)`` of a timestamp cell, None when it is neither kind."""
    try:
        seconds = float(cell)
    except ValueError:
        pass
    else:
        return (False, seconds) if math.isfinite(seconds) else None
    try:
        moment = datetime.fromisoformat(cell)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return True, moment.timestamp()


def _parse_watts(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _channel_names(cells: list[str], line: int) -> list[str]:
    """The watts columns' names from the header ``cells`` at ``line``; ReplayError if they do not do."""
    names = cells[1:]
    if not names:
        raise ReplayError("no_channels", line, "the header names no watts column")
    if len(names) > MAX_CHANNELS:
        raise ReplayError("too_many_channels", line, f"more than {MAX_CHANNELS} watts columns")
    if not all(names) or len(set(names)) != len(names):
        raise ReplayError("bad_header", line, "watts columns need distinct, non-empty names")
    return names


def _row_watts(cells: list[str], line: int) -> list[float]:
    """The watts cells of a data row; ReplayError ``bad_number`` at the first that is not a finite number."""
    values: list[float] = []
    for cell in cells:
        value = _parse_watts(cell)
        if value is None:
            raise ReplayError("bad_number", line, repr(cell))
        values.append(value)
    return values


def _row_time(cell: str, line: int, iso: bool | None) -> tuple[bool, float]:
    """``(is_iso, seconds)`` of a data row's timestamp at ``line``.

    Raises ReplayError ``bad_timestamp`` when it is neither kind, or not the kind ``iso``
    of the first row (None: this is the first row).
    """
    stamp = _parse_timestamp(cell)
    if stamp is None or (iso is not None and stamp[0] != iso):
        raise ReplayError("bad_timestamp", line, repr(cell))
    return stamp


def parse_replay_csv(text: str) -> ReplayTrace:
    """Parse a replay file's text (see the module docstring for the format).

    Raises ReplayError with the line and reason of the first problem found.
    """
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise ReplayError("too_large", None, f"larger than {MAX_FILE_BYTES} bytes")
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    names: list[str] | None = None
    times: list[float] = []
    columns: list[list[float]] = []
    iso: bool | None = None
    first = 0.0
    header_line = 0
    try:
        for row in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if names is None:
                names, header_line = _channel_names(cells, line), line
                columns = [[] for _ in names]
                continue
            if len(times) >= MAX_ROWS:
                raise ReplayError("too_large", line, f"more than {MAX_ROWS} rows")
            if len(cells) != len(names) + 1:
                raise ReplayError("wrong_column_count", line, f"{len(cells)} cells, the header has {len(names) + 1}")
            stamp = _row_time(cells[0], line, iso)
            if iso is None:
                iso, first = stamp
            t = stamp[1] - first
            if times and not t > times[-1]:
                raise ReplayError("not_increasing", line, f"{cells[0]!r} is not after the previous row")
            values = _row_watts(cells[1:], line)
            times.append(t)
            for column, value in zip(columns, values, strict=True):
                column.append(value)
    except csv.Error as err:  # a NUL byte or a cell beyond the csv module's field limit
        raise ReplayError("not_text", reader.line_num, str(err)) from None
    if names is None or not times:
        raise ReplayError("empty", header_line or None, "no rows" if names else "no header")
    if len(times) < 2:
        raise ReplayError("too_short", header_line + 1, "a replay needs at least two rows")
    return ReplayTrace(channels=tuple(names), times=times, watts=tuple(columns))


def load_replay_csv(path: Path) -> ReplayTrace:
    """Read and parse the replay file at ``path`` (blocking I/O: run it in an executor).

    Reads at most one byte more than MAX_FILE_BYTES.  Raises ReplayError (``too_large``,
    ``not_text`` and the parse reasons), OSError when the file cannot be read.  Where the
    file may come from is the caller's business (the integration confines it to one folder).
    """
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ReplayError("too_large", None, f"larger than {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ReplayError("not_text", None, str(err)) from None
    return parse_replay_csv(text)
