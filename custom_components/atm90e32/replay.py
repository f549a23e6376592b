"""Replay files of the simulated meter: only inside ``<config>/atm90e32_replay/``, checked before use.

A person puts a CSV of their own power (the grammar: ``driver.replay``) in the folder
REPLAY_FOLDER under Home Assistant's configuration directory and names it, relative to
that folder, in the config flow; naive times in it are Home Assistant's local time.  No
path may reach elsewhere on the host: ``..``, an absolute path outside the folder and a
symbolic link leading out of it are all refused, judged on the fully resolved path.  The
file is parsed once in the flow, so a malformed one is refused with the line that is
wrong; the same parser loads it when the simulated meter opens, and
:class:`ReplayPosition` (kept with the ledger) resumes it where it stopped.
"""

from __future__ import annotations

import errno
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from homeassistant.util import dt as dt_util

from .const import (
    CONF_BOARD_POSITION,
    CONF_CHANNELS,
    CONF_LINE_FREQUENCY,
    CONF_WIRING,
    REPLAY_FOLDER,
)
from .driver import Atm90e32Error
from .driver.channels import CIRCUITS_KEY, SPLIT_PHASE, Wiring, wiring_for
from .driver.replay import MAX_FILE_BYTES, ReplayError, ReplayTrace, load_replay_csv

OUTSIDE_FOLDER: Final = "replay_outside_folder"
"""The path resolves outside the replay folder (``..``, an absolute path, a symbolic link out)."""
NOT_FOUND: Final = "replay_not_found"
"""No regular file at the path."""
BAD_PATH: Final = "replay_bad_path"
"""A character no file name can hold (a NUL byte, a lone surrogate), or a path the system refuses as too long."""
PERMISSION: Final = "replay_permission"
"""Home Assistant's user may not read the file (or enter a folder on its way)."""
UNREADABLE: Final = "replay_unreadable"
"""Any other error reading the file (an I/O error of the disk, ...)."""
TOO_LARGE: Final = "replay_too_large"
"""Larger than the driver parser's MAX_FILE_BYTES (20 MiB)."""
TOO_FEW_COLUMNS: Final = "replay_too_few_columns"
"""Fewer watts columns than the chip has channels (counting from the board position for circuits)."""
NAME_MAX: Final = 255
"""Bytes in one file or folder name at most (Linux's NAME_MAX, every file system Home Assistant runs on)."""
PARSE_PREFIX: Final = "replay_"
"""The translation key of a parse problem is this and the driver parser's reason (``replay_bad_number``)."""


@dataclass(frozen=True)
class ReplayProblem:
    """Why a replay file is refused: ``reason`` is a translation key, ``line`` the 1-based line (None: the file)."""

    reason: str
    line: int | None = None


class ReplayPathError(Atm90e32Error):
    """A replay file refused before it is parsed, or without the columns the chip needs.

    ``reason`` is OUTSIDE_FOLDER, NOT_FOUND, BAD_PATH, PERMISSION, UNREADABLE, TOO_LARGE
    or TOO_FEW_COLUMNS (translation keys).  A driver error, so a file that went bad
    after setup fails the simulated chip's setup as a chip that cannot be opened does
    (errors.py gives each its repair issue).
    """

    def __init__(self, reason: str, message: str) -> None:
        """Record the ``reason`` key."""
        super().__init__(message)
        self.reason = reason


def replay_folder(config_dir: Path) -> Path:
    """``<config>/atm90e32_replay``, resolved (it need not exist)."""
    return (config_dir / REPLAY_FOLDER).resolve()


def _os_error(err: OSError, path: object) -> ReplayPathError:
    """The ReplayPathError an OSError of ``path`` means: gone, no permission, a name too long, or unreadable."""
    if isinstance(err, (FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        return ReplayPathError(NOT_FOUND, f"no file {path}")
    if isinstance(err, PermissionError):
        return ReplayPathError(PERMISSION, f"no permission to read {path}: {err}")
    if err.errno == errno.ENAMETOOLONG:
        return ReplayPathError(BAD_PATH, f"the path is too long: {err}")
    return ReplayPathError(UNREADABLE, f"cannot read {path}: {err}")


def resolve(config_dir: Path, relative: str) -> Path:
    """The file ``relative`` names inside the replay folder, fully resolved (symbolic links followed).

    Blocking (touches the file system).  Raises ReplayPathError: BAD_PATH for a character
    no path can hold (NUL, a lone surrogate) or a name too long, OUTSIDE_FOLDER when the
    resolved path is not inside the folder (whatever ``..``, absolute parts or links led
    there), NOT_FOUND when it is not a regular file, PERMISSION when a folder on the way
    may not be entered, TOO_LARGE above the driver parser's MAX_FILE_BYTES (20 MiB).
    """
    folder = replay_folder(config_dir)
    try:
        if any(len(os.fsencode(part)) > NAME_MAX for part in Path(relative).parts):
            raise ReplayPathError(BAD_PATH, f"a name in {relative[:80]!r}... is longer than {NAME_MAX} bytes")
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder) or target == folder:
            raise ReplayPathError(OUTSIDE_FOLDER, f"{relative!r} is not inside {folder}")
        if not target.is_file():
            raise ReplayPathError(NOT_FOUND, f"no file {target}")
        size = target.stat().st_size
    except ValueError as err:  # os.fsencode / the system call: "embedded null byte", a surrogate
        raise ReplayPathError(BAD_PATH, f"{relative!r} holds a character no path can: {err}") from None
    except OSError as err:
        raise _os_error(err, relative) from None
    if size > MAX_FILE_BYTES:
        raise ReplayPathError(TOO_LARGE, f"{target} is larger than {MAX_FILE_BYTES} bytes")
    return target


def read(config_dir: Path, relative: str) -> ReplayTrace:
    """Resolve and parse replay file ``relative``, naive times in Home Assistant's time zone (blocking).

    Raises ReplayPathError (:func:`resolve`, and an OSError of reading as NOT_FOUND,
    PERMISSION, BAD_PATH or UNREADABLE) and ReplayError (the parser's reasons): only
    driver errors, so a file gone bad after setup fails the simulated chip's setup
    as a chip that cannot be opened does, with its own repair issue.
    """
    path = resolve(config_dir, relative)
    try:
        return load_replay_csv(path, dt_util.get_default_time_zone())
    except OSError as err:
        raise _os_error(err, relative) from None


def check(config_dir: Path, relative: str, data: Mapping[str, Any] | None = None) -> ReplayProblem | None:
    """Why the replay file ``relative`` cannot be used, or None when it can (blocking: run in the executor).

    The path is checked first (:func:`resolve`), then the whole file is parsed as the
    simulated meter will parse it: a malformed line gives the parser's reason (as
    ``replay_<reason>``) and its line.  With the entry ``data``, the file must have a
    column for each of the chip's channels (:func:`columns`).
    """
    try:
        trace = read(config_dir, relative)
    except ReplayPathError as err:
        return ReplayProblem(err.reason)
    except ReplayError as err:
        return ReplayProblem(PARSE_PREFIX + err.reason, err.line)
    if data is not None:
        try:
            columns(trace, data)
        except ReplayPathError as err:
            return ReplayProblem(err.reason)
    return None


def _wiring(data: Mapping[str, Any]) -> Wiring:
    channels = data.get(CONF_CHANNELS)
    return wiring_for(str(data.get(CONF_WIRING, SPLIT_PHASE.key)), None if channels is None else list(channels))


def columns(trace: ReplayTrace, data: Mapping[str, Any]) -> ReplayTrace:
    """The columns of ``trace`` the chip of entry ``data`` plays: one per channel, in channel order.

    The chip takes the first columns; a circuits chip second on its board (CT4-CT6) takes
    columns 4-6, so one file of a whole 6-channel board serves both chips.  A circuits
    chip with some inputs switched off still counts its columns by input (CT1 = its first).
    Raises ReplayPathError(TOO_FEW_COLUMNS) when the file has too few.
    """
    wiring = _wiring(data)
    first = 0
    if wiring.key == CIRCUITS_KEY:
        first = 3 * (int(data.get(CONF_BOARD_POSITION, 1)) - 1)
        indexes = [first + int(channel.key.removeprefix("ct")) - 1 for channel in wiring.channels]
    else:
        indexes = list(range(len(wiring.channels)))
    if max(indexes) >= len(trace.channels):
        raise ReplayPathError(
            TOO_FEW_COLUMNS, f"{len(trace.channels)} watts columns; this chip plays columns up to {max(indexes) + 1}"
        )
    return replace(
        trace,
        channels=tuple(trace.channels[i] for i in indexes),
        watts=tuple(trace.watts[i] for i in indexes),
    )


class ReplayPosition:
    """Where a simulated chip is in its replay file, kept with its energy ledger so a replay resumes where it stopped.

    The ledger store saves :meth:`as_dict` with every record (the journal after every
    read) and gives the newest back to :meth:`restore` at start; :func:`load` starts the
    trace there (:meth:`resume`) and the emulator's clock is read through :meth:`track`,
    so the position saved is the emulated time of the chip's last transaction (the last
    energy read of a refresh, or the read before unloading).  Each second of the file is
    then played, and its energy booked, once per pass across reloads and restarts; what
    the chip counted after the last read of a run that was killed is lost with that run,
    as it would be on a real meter whose counts were never read.  A different file, or
    the same name with another duration, starts at its first row.
    """

    def __init__(self) -> None:
        """Nothing played yet."""
        self.file: str | None = None
        self.duration = 0.0
        self.start = 0.0
        self._stored: dict[str, Any] | None = None
        self._clock: Callable[[], float] | None = None
        self._last = 0.0

    def restore(self, stored: object) -> None:
        """Take the position a ledger record holds (``{"file", "duration", "seconds"}``); anything else is ignored."""
        self._stored = stored if isinstance(stored, dict) else None

    def resume(self, relative: str, duration: float) -> float:
        """The seconds into file ``relative`` (one pass: ``duration`` s) to start at; 0 unless it is the stored file."""
        stored = (self.as_dict() if self.file is not None else self._stored) or {}  # reopened: where it is now
        seconds = stored.get("seconds")
        same = stored.get("file") == relative and stored.get("duration") == duration
        start = 0.0
        if same and isinstance(seconds, (int, float)) and math.isfinite(seconds):
            start = float(seconds) % duration
        self.file, self.duration, self.start, self._last = relative, duration, start, 0.0
        return start

    def track(self, clock: Callable[[], float]) -> Callable[[], float]:
        """``clock`` (the emulator's), remembering the last time it gave: the chip's last transaction."""

        def tracked() -> float:
            self._last = clock()
            return self._last

        self._clock = tracked
        return tracked

    def as_dict(self) -> dict[str, Any] | None:
        """``{"file", "duration", "seconds"}`` of the position now, None when no replay file plays."""
        if self.file is None or self._clock is None:
            return self._stored
        return {"file": self.file, "duration": self.duration, "seconds": (self.start + self._last) % self.duration}


def load(config_dir: Path, relative: str, data: Mapping[str, Any], position: ReplayPosition | None = None) -> Any:
    """The emulator load that plays replay file ``relative`` for the chip of entry ``data`` (blocking).

    Each column drives its channel's chip phase step-hold (driver.replay); the voltages
    are the simulated service's, set by its line frequency alone (120 V at 60 Hz, 230 V at
    50 Hz; three phases 120 degrees apart; delta 240 / 400 V line to line), not by the
    nominal system the entry names, so
    a wrong system can be refused as on a real service.
    With a ``position``, the replay resumes where it stopped (:class:`ReplayPosition`).
    Raises ReplayPathError, ReplayError.
    """
    from .driver.emulator import ReplayLoad, simulated_volts  # noqa: PLC0415  (a real meter never loads the emulator)

    trace = columns(read(config_dir, relative), data)
    start = 0.0 if position is None else position.resume(relative, trace.duration)
    wiring = _wiring(data)
    frequency = float(data.get(CONF_LINE_FREQUENCY, 60))
    volts = simulated_volts(wiring, frequency)  # the simulated service's, whatever system the entry names
    return ReplayLoad.for_wiring(trace, wiring, volts=volts, frequency=frequency, start=start)
