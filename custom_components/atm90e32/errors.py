"""One table from driver errors to the messages people read and the repair issues they can act on."""

from __future__ import annotations

import glob
from typing import Final

from . import issues, replay
from .bus import is_simulated
from .driver import Atm90e32Error
from .driver import exceptions as driver_errors
from .driver.replay import ReplayError

UNKNOWN: Final = "unknown"
"""Translation key of an unexpected error (not a driver error; logged with its traceback)."""

REPLAY_UNUSABLE: Final = "replay_unusable"
"""Translation key of a simulated chip whose replay file went bad after setup (its repair issue says how)."""
REPLAY_ISSUES: Final = {
    replay.NOT_FOUND: issues.REPLAY_FILE_MISSING,
    replay.OUTSIDE_FOLDER: issues.REPLAY_FILE_MISSING,
    replay.BAD_PATH: issues.REPLAY_FILE_MISSING,
    replay.PERMISSION: issues.REPLAY_FILE_UNREADABLE,
    replay.UNREADABLE: issues.REPLAY_FILE_UNREADABLE,
}
"""The repair issue of a ReplayPathError's reason; any other reason (and a ReplayError) is REPLAY_FILE_INVALID."""

ERRORS: Final[tuple[tuple[type[Atm90e32Error], str, str | None], ...]] = (
    (ReplayError, REPLAY_UNUSABLE, issues.REPLAY_FILE_INVALID),
    (replay.ReplayPathError, REPLAY_UNUSABLE, issues.REPLAY_FILE_INVALID),
    (driver_errors.DeviceNotFoundError, "no_spi_device", issues.NO_SPI_DEVICE),
    (driver_errors.DevicePermissionError, "permission_denied", issues.PERMISSION_DENIED),
    (driver_errors.DeadBusError, "chip_not_answering", issues.CHIP_NOT_ANSWERING),
    (driver_errors.ConfigurationError, "configuration_rejected", None),
    (driver_errors.CommunicationError, "communication_error", None),
    (Atm90e32Error, "cannot_connect", None),
)
"""``(driver error, translation key, repair issue or None)``, most specific first.

The translation key names the message in translations/en.json under ``config.error``,
``options.error`` and ``exceptions``; the repair issue is raised when the error persists
(None: a transient error that only makes the entities unavailable).
"""


def _row(err: Atm90e32Error) -> tuple[type[Atm90e32Error], str, str | None]:
    return next(row for row in ERRORS if isinstance(err, row[0]))


def translation_key(err: Atm90e32Error) -> str:
    """The translation key of ``err``'s message (the config and options flows' error, UpdateFailed's)."""
    return _row(err)[1]


def repair_issue(err: Atm90e32Error, device: str) -> str | None:
    """The repair issue ``err`` calls for on ``device``, or None for a transient error.

    A missing SPI device on a host with no SPI device at all means SPI is not enabled.
    Blocking (looks at /dev): run in the executor.
    """
    issue = _row(err)[2]
    if isinstance(err, replay.ReplayPathError):
        return REPLAY_ISSUES.get(err.reason, issue)
    if issue == issues.NO_SPI_DEVICE and not is_simulated(device) and not glob.glob("/dev/spidev*"):
        return issues.SPI_NOT_ENABLED
    return issue
