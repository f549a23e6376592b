"""Replay files of the simulated meter: only inside ``<config>/atm90e32_replay/``, checked before use.

A person puts a CSV of their own power (timestamps in seconds or ISO 8601, one column of
watts per channel, negative for export) in the folder REPLAY_FOLDER under Home
Assistant's configuration directory and names it, relative to that folder, in the
config flow.  No path may reach elsewhere on the host: ``..``, an absolute path outside
the folder and a symbolic link leading out of it are all refused, judged on the fully
resolved path.  The file is parsed once in the flow, so a malformed one is refused with
the line that is wrong; the same parser loads it when the simulated meter opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .const import REPLAY_FOLDER, REPLAY_MAX_BYTES

OUTSIDE_FOLDER: Final = "replay_outside_folder"
"""The path resolves outside the replay folder (``..``, an absolute path, a symbolic link out)."""
NOT_FOUND: Final = "replay_not_found"
"""No regular file at the path."""
TOO_LARGE: Final = "replay_too_large"
"""Larger than REPLAY_MAX_BYTES."""


@dataclass(frozen=True)
class ReplayProblem:
    """Why a replay file is refused: ``reason`` is a translation key, ``line`` the 1-based line (None: the file)."""

    reason: str
    line: int | None = None


class ReplayPathError(ValueError):
    """A replay path that is refused before the file is read; ``reason`` is OUTSIDE_FOLDER, NOT_FOUND or TOO_LARGE."""

    def __init__(self, reason: str, message: str) -> None:
        """Record the ``reason`` key."""
        super().__init__(message)
        self.reason = reason


def replay_folder(config_dir: Path) -> Path:
    """``<config>/atm90e32_replay``, resolved (it need not exist)."""
    return (config_dir / REPLAY_FOLDER).resolve()


def resolve(config_dir: Path, relative: str) -> Path:
    """The file ``relative`` names inside the replay folder, fully resolved (symbolic links followed).

    Blocking (touches the file system).  Raises ReplayPathError: OUTSIDE_FOLDER when the
    resolved path is not inside the folder (whatever ``..``, absolute parts or links led
    there), NOT_FOUND when it is not a regular file, TOO_LARGE above REPLAY_MAX_BYTES.
    """
    folder = replay_folder(config_dir)
    target = (folder / relative).resolve()
    if not target.is_relative_to(folder) or target == folder:
        raise ReplayPathError(OUTSIDE_FOLDER, f"{relative!r} is not inside {folder}")
    if not target.is_file():
        raise ReplayPathError(NOT_FOUND, f"no file {target}")
    if target.stat().st_size > REPLAY_MAX_BYTES:
        raise ReplayPathError(TOO_LARGE, f"{target} is larger than {REPLAY_MAX_BYTES} bytes")
    return target


def check(config_dir: Path, relative: str) -> ReplayProblem | None:
    """Why the replay file ``relative`` cannot be used, or None when it can (blocking: run in the executor).

    The path is checked first (:func:`resolve`), then the whole file is parsed as the
    simulated meter will parse it: a malformed line gives the parser's reason and its line.
    """
    try:
        path = resolve(config_dir, relative)
    except ReplayPathError as err:
        return ReplayProblem(err.reason)
    return _parse_problem(path)
