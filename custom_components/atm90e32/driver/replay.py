"""A person's own power log (CSV) for the simulated meter to replay: parsing and checks.

Pure: text in, a :class:`ReplayTrace` or a :class:`ReplayError` out; no Home Assistant
and no emulator import (the emulator's ``ReplayLoad`` plays a trace).

The grammar (strict: anything else is refused with the line and a reason of :data:`REASONS`):

- UTF-8 text (a byte-order mark is allowed), lines ending in LF, CRLF or CR, at most
  :data:`MAX_FILE_BYTES` (20 MB) and :data:`MAX_ROWS` data rows.  Empty lines are
  skipped; a first line ``sep=,`` (Excel's separator hint) is skipped too.
- Cells are separated by commas (RFC 4180 quoting allowed); spaces around a cell are
  ignored.  No cell holds a semicolon.  A semicolon separator, a decimal comma, a
  ``#`` comment line and a row of blank cells are recognised and refused with their
  own reason.
- A header row first: the timestamp column's name, then one name per channel (printable,
  non-empty, distinct, at most :data:`MAX_CHANNELS`).  A first row whose timestamp or
  any channel name is a number is data, not a header: refused (``no_header``).
- Then one row per sample: a timestamp, then a watts value per channel, nothing blank.
  Numbers are ASCII decimals: an optional sign, digits with an optional decimal point,
  an optional exponent (``-842.25``, ``1.5e3``); no ``_``, no thousands separator, no
  other script's digits, no NaN or infinity.
- Timestamps are either seconds (a number: Unix time or relative) or ISO 8601 date and
  time (``2025-06-01T12:00:00+02:00``, ``...Z``, ``2025-06-01 12:00:00.5``); the first
  data row decides which.  An ISO time without an offset is local time in the zone
  given (Home Assistant's): a time inside the spring-forward gap does not exist and is
  refused; in the repeated autumn hour a time is the first occurrence unless that would
  not be after the previous row, then the second.  Unix seconds at or above
  :data:`MILLISECONDS_FROM` are milliseconds (refused: divide by 1000).
- Timestamps strictly increase, at least :data:`MIN_INTERVAL_S` apart; intervals may be
  irregular.  Watts are negative for export.

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
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Final

from .exceptions import Atm90e32Error

MAX_FILE_BYTES: Final = 20 * 1024 * 1024
"""20 MB: a year of one-minute samples of three channels fits (about 40 bytes a row)."""
MAX_ROWS: Final = 1_000_000
"""Data rows at most: eleven and a half days at 1 Hz, two years at one a minute."""
MAX_CHANNELS: Final = 42
"""Watts columns at most: every CT channel of a 6-channel board with its add-on boards (14 chips)."""
MIN_INTERVAL_S: Final = 0.1
"""Rows at least this far apart (s).  The chip refreshes its readings about 3 times a second
(atm90e32as-facts) and the integration reads at most once a second, so a shorter row shows
nothing but its energy; and the emulator integrates each row as one segment, so this bound
caps its work at 10 segments per replayed second whatever the file (about 33 us each on a
2020s x86 core): a 1 us file would have cost 10 s of CPU per replayed second."""
MILLISECONDS_FROM: Final = 1e11
"""Second timestamps at or above this are Unix milliseconds: Unix seconds reach 1e11 only in
the year 5138, Unix milliseconds passed it in 1973."""

REASONS: Final = (
    "not_text",
    "too_large",
    "empty",
    "no_header",
    "no_channels",
    "bad_header",
    "too_many_channels",
    "semicolon",
    "comment",
    "blank_cells",
    "wrong_column_count",
    "bad_timestamp",
    "milliseconds",
    "nonexistent_time",
    "bad_number",
    "comma_decimal",
    "not_increasing",
    "too_fast",
    "too_short",
)
"""Every :attr:`ReplayError.reason`:

- ``not_text``: not UTF-8 text (line None), or a line no CSV reader takes (a cell of
  more than 131 072 characters, a NUL byte where the csv module refuses it);
- ``too_large``: above MAX_FILE_BYTES (line None) or MAX_ROWS (the first row too many);
- ``empty``: no header, or a header and no data row;
- ``no_header``: the first row is data (its timestamp or a channel name is a number);
- ``no_channels``: the header names a timestamp column only;
- ``bad_header``: a channel column without a name, two with the same name, or a name
  with a character that is not printable (a NUL, a control character);
- ``too_many_channels``: more than MAX_CHANNELS watts columns;
- ``semicolon``: a cell holds a semicolon (a file separated by semicolons, ``sep=;``);
- ``comment``: a line starting with ``#``;
- ``blank_cells``: a row whose cells are all blank (``,,``);
- ``wrong_column_count``: a row with more or fewer cells than the header;
- ``bad_timestamp``: neither seconds nor ISO 8601, or the other kind than the first row;
- ``milliseconds``: Unix time in milliseconds (at or above MILLISECONDS_FROM);
- ``nonexistent_time``: a local time inside a daylight-saving gap of the time zone;
- ``bad_number``: a watts cell that is not an ASCII decimal number, or not finite;
- ``comma_decimal``: a watts cell with a decimal comma (``"1,5"``);
- ``not_increasing``: a timestamp not after the previous row's;
- ``too_fast``: a timestamp less than MIN_INTERVAL_S after the previous row's;
- ``too_short``: a single data row (a replay needs an interval).
"""

_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""An ASCII decimal number (fullmatch): what the grammar calls a number."""
_COMMA_DECIMAL: Final = re.compile(r"[+-]?[0-9]+,[0-9]+")


class ReplayError(Atm90e32Error):
    """A replay file the simulated meter cannot play.

    Attributes:
        reason: one of :data:`REASONS`, a stable key for a translated message.
        line: the 1-based line of the file at fault, None when the whole file is.
    """

    def __init__(self, reason: str, line: int | None, detail: str) -> None:
        """Record ``reason`` (a key of REASONS) and ``line``; the English message is ``detail`` at the line."""
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{where}{detail}")
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


def _number(cell: str) -> float | None:
    """The value of an ASCII decimal number cell (see the grammar), None when it is not one or not finite."""
    if not _NUMBER.fullmatch(cell):
        return None
    value = float(cell)
    return value if math.isfinite(value) else None


class _Clock:
    """Turns timestamp cells into seconds, row by row, remembering the kind and the previous time."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.iso: bool | None = None
        self.previous: float | None = None

    def seconds(self, cell: str, line: int) -> float:
        """The absolute seconds of ``cell`` at ``line``; ReplayError for a bad or non-increasing stamp."""
        number = _number(cell)
        iso = number is None
        if self.iso is not None and iso != self.iso:
            raise ReplayError("bad_timestamp", line, f"{cell!r} is not the kind of timestamp the first row uses")
        if number is not None:
            if self.iso is None and abs(number) >= MILLISECONDS_FROM:
                raise ReplayError("milliseconds", line, f"{cell!r} is Unix time in milliseconds")
            value = number
        else:
            value = self._iso(cell, line)
        self.iso = iso
        if self.previous is not None:
            if not value > self.previous:
                raise ReplayError("not_increasing", line, f"{cell!r} is not after the previous row")
            if value - self.previous < MIN_INTERVAL_S - 1e-6:
                raise ReplayError("too_fast", line, f"{cell!r} is less than {MIN_INTERVAL_S} s after the previous row")
        self.previous = value
        return value

    def _iso(self, cell: str, line: int) -> float:
        """An ISO 8601 cell's Unix seconds; a naive one in ``zone`` (gap refused, repeated hour in order)."""
        try:
            if not cell.isascii():
                raise ValueError(cell)
            moment = datetime.fromisoformat(cell)
        except ValueError:
            raise ReplayError("bad_timestamp", line, f"{cell!r} is neither seconds nor ISO 8601") from None
        if moment.tzinfo is not None:
            return moment.timestamp()
        first = moment.replace(tzinfo=self.zone)
        if first.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) != moment:
            raise ReplayError("nonexistent_time", line, f"{cell!r} does not exist in {self.zone}")
        value = first.timestamp()
        if self.previous is not None and not value > self.previous:
            value = max(value, moment.replace(tzinfo=self.zone, fold=1).timestamp())  # the repeated hour
        return value


def _check_line(cells: list[str], line: int) -> None:
    """Refuse the lines the grammar names (comment, semicolons, all blank) before they are read as rows."""
    if cells[0].startswith("#"):
        raise ReplayError("comment", line, "a comment line")
    if any(";" in cell for cell in cells):
        raise ReplayError("semicolon", line, "cells separated by semicolons")
    if not any(cells):
        raise ReplayError("blank_cells", line, "a row of blank cells")


def _channel_names(cells: list[str], line: int) -> list[str]:
    """The watts columns' names from the header ``cells`` at ``line``; ReplayError if they do not do."""
    names = cells[1:]
    if _number(cells[0]) is not None or any(_number(name) is not None for name in names):
        raise ReplayError("no_header", line, "the first row is data: a header row must name the columns")
    if not names:
        raise ReplayError("no_channels", line, "the header names no watts column")
    if len(names) > MAX_CHANNELS:
        raise ReplayError("too_many_channels", line, f"more than {MAX_CHANNELS} watts columns")
    if not all(name.isprintable() for name in cells) or not all(names) or len(set(names)) != len(names):
        raise ReplayError("bad_header", line, "watts columns need distinct, non-empty, printable names")
    return names


def _row_watts(cells: list[str], line: int) -> list[float]:
    """The watts cells of a data row; ReplayError at the first that is not a finite ASCII decimal number."""
    values: list[float] = []
    for cell in cells:
        value = _number(cell)
        if value is None:
            if _COMMA_DECIMAL.fullmatch(cell):
                raise ReplayError("comma_decimal", line, f"the watts value {cell!r} has a decimal comma")
            raise ReplayError("bad_number", line, f"the watts value {cell!r} is not an ASCII decimal number")
        values.append(value)
    return values


def parse_replay_csv(text: str, zone: tzinfo = UTC) -> ReplayTrace:
    """Parse a replay file's text (the grammar: the module docstring); naive ISO times are in ``zone``.

    Raises ReplayError with the line and reason of the first problem found.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise ReplayError("too_large", None, f"larger than {MAX_FILE_BYTES} bytes")
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=None))
    names: list[str] | None = None
    times: list[float] = []
    columns: list[list[float]] = []
    clock = _Clock(zone)
    first = 0.0
    header_line = 0
    try:
        for row in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in row]
            if cells in ([], [""]) or (names is None and line == 1 and [c.lower() for c in cells] == ["sep=", ""]):
                continue  # an empty line (or one of spaces); Excel's "sep=," hint
            _check_line(cells, line)
            if names is None:
                names, header_line = _channel_names(cells, line), line
                columns = [[] for _ in names]
                continue
            if len(times) >= MAX_ROWS:
                raise ReplayError("too_large", line, f"more than {MAX_ROWS} rows")
            if len(cells) != len(names) + 1:
                raise ReplayError("wrong_column_count", line, f"{len(cells)} cells, the header has {len(names) + 1}")
            stamp = clock.seconds(cells[0], line)
            if not times:
                first = stamp
            values = _row_watts(cells[1:], line)
            times.append(stamp - first)
            for column, value in zip(columns, values, strict=True):
                column.append(value)
    except csv.Error as err:  # a cell beyond the csv module's field limit
        raise ReplayError("not_text", reader.line_num, f"a line no CSV reader takes: {err}") from None
    if names is None or not times:
        raise ReplayError("empty", header_line or None, "no rows" if names else "no header")
    if len(times) < 2:
        raise ReplayError("too_short", header_line + 1, "a replay needs at least two rows")
    return ReplayTrace(channels=tuple(names), times=times, watts=tuple(columns))


def parse_replay_bytes(data: bytes, zone: tzinfo = UTC) -> ReplayTrace:
    """Parse a replay file's bytes: UTF-8 (see the grammar), naive ISO times in ``zone``.

    Raises ReplayError: ``too_large`` above MAX_FILE_BYTES, ``not_text`` for bytes that are
    not UTF-8, and the parse reasons of :func:`parse_replay_csv`.
    """
    if len(data) > MAX_FILE_BYTES:
        raise ReplayError("too_large", None, f"larger than {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ReplayError("not_text", None, f"not UTF-8 text: {err}") from None
    return parse_replay_csv(text, zone)


def load_replay_csv(path: Path, zone: tzinfo = UTC) -> ReplayTrace:
    """Read and parse the replay file at ``path``, naive times in ``zone`` (blocking I/O: run it in an executor).

    Reads at most one byte more than MAX_FILE_BYTES.  Raises ReplayError (``too_large``,
    ``not_text`` and the parse reasons), OSError when the file cannot be read.  Where the
    file may come from is the caller's business (the integration confines it to one folder).
    """
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    return parse_replay_bytes(data, zone)
