"""Property-based tests of a person's replay file: any bytes and any path give a known refusal or a valid trace."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.atm90e32 import replay
from custom_components.atm90e32.driver.replay import (
    MIN_INTERVAL_S,
    REASONS,
    ReplayError,
    ReplayTrace,
    parse_replay_bytes,
)
from tests.emulation import ManualClock

ZONES = (ZoneInfo("UTC"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe"))

CSV_ALPHABET = '0123456789,,,..--+eE;: T Z\n\n\r"#\x00sep=time1\u0660\uff11_'
"""Characters that make near-valid CSV: digits, separators, signs, ISO pieces, and the ones the grammar refuses."""

iso_rows = st.lists(
    st.tuples(
        st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31)),
        st.floats(allow_nan=True, allow_infinity=True, width=32),
    ),
    min_size=0,
    max_size=12,
)


def check_trace(trace: ReplayTrace) -> None:
    """What every accepted file gives: channels, increasing times from 0 at least MIN_INTERVAL_S apart, finite watts."""
    assert trace.channels
    assert len(trace.times) >= 2
    assert trace.times[0] == 0.0
    assert all(b - a >= MIN_INTERVAL_S - 1e-6 for a, b in zip(trace.times, trace.times[1:], strict=False))
    assert all(len(column) == len(trace.times) for column in trace.watts)
    assert all(math.isfinite(w) for column in trace.watts for w in column)
    assert len(trace.watts) == len(trace.channels)
    assert trace.duration > trace.times[-1]


def parse(data: bytes, zone: ZoneInfo) -> None:
    """Parse ``data``: a ReplayError with a known reason and a line (or None), else a valid trace; nothing else."""
    error: ReplayError | None = None
    try:
        trace = parse_replay_bytes(data, zone)
    except ReplayError as err:
        error = err
    else:
        check_trace(trace)
    if error is not None:
        assert error.reason in REASONS
        assert error.line is None or error.line >= 1


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=400), zone=st.sampled_from(ZONES))
def test_any_bytes_give_a_replay_error_or_a_valid_trace(data: bytes, zone: ZoneInfo) -> None:
    parse(data, zone)


@settings(max_examples=600, deadline=None)
@given(text=st.text(alphabet=CSV_ALPHABET, max_size=300), zone=st.sampled_from(ZONES))
def test_near_valid_csv_gives_a_replay_error_or_a_valid_trace(text: str, zone: ZoneInfo) -> None:
    parse(text.encode("utf-8"), zone)


@settings(max_examples=300, deadline=None)
@given(rows=iso_rows, zone=st.sampled_from(ZONES), sep=st.sampled_from(["T", " "]))
def test_naive_local_times_in_any_zone_give_a_replay_error_or_a_valid_trace(
    rows: list[tuple[datetime, float]], zone: ZoneInfo, sep: str
) -> None:
    """Naive times around every daylight-saving change of the zones: a gap, a repeated hour, or a valid trace."""
    lines = ["time,w"] + [f"{moment.isoformat(sep=sep)},{watts!r}" for moment, watts in rows]
    parse("\n".join(lines).encode(), zone)


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A configuration directory with a replay folder holding one good file, a folder, and a link out."""
    config = tmp_path_factory.mktemp("config")
    folder = config / "atm90e32_replay"
    (folder / "sub").mkdir(parents=True)
    (folder / "good.csv").write_text("time,l1,l2\n0,1,2\n1,1,2\n", encoding="utf-8")
    (config / "secret.csv").write_text("time,l1,l2\n0,1,2\n1,1,2\n", encoding="utf-8")
    (folder / "out.csv").symlink_to(config / "secret.csv")
    return config


PATH_REASONS = {
    replay.OUTSIDE_FOLDER,
    replay.NOT_FOUND,
    replay.BAD_PATH,
    replay.PERMISSION,
    replay.UNREADABLE,
    replay.TOO_LARGE,
    replay.TOO_FEW_COLUMNS,
} | {replay.PARSE_PREFIX + reason for reason in REASONS}

path_pieces = st.lists(
    st.sampled_from(["..", ".", "good.csv", "sub", "out.csv", "/", "//", "\x00", "\ud800", "secret.csv", "x" * 300])
    | st.text(max_size=20),
    max_size=6,
).map("/".join)


@settings(max_examples=500, deadline=None)
@given(relative=path_pieces | st.text(max_size=60))
def test_any_path_gives_a_known_refusal_or_a_file_inside_the_folder(config_dir: Path, relative: str) -> None:
    problem = replay.check(config_dir, relative)
    if problem is not None:
        assert problem.reason in PATH_REASONS
        return
    resolved = replay.resolve(config_dir, relative)
    assert resolved.is_relative_to((config_dir / "atm90e32_replay").resolve())
    assert resolved.name == "good.csv"  # the only file inside: the link out never passes


def test_a_position_resumes_the_same_file_only() -> None:
    position = replay.ReplayPosition()
    position.restore({"file": "a.csv", "duration": 100.0, "seconds": 250.0})
    assert position.resume("a.csv", 100.0) == 50.0  # a stored position past one pass wraps into it
    clock = ManualClock()
    tracked = position.track(clock)
    clock.advance(30)
    assert tracked() == 30
    assert position.as_dict() == {"file": "a.csv", "duration": 100.0, "seconds": 80.0}
    assert position.resume("a.csv", 100.0) == 80.0  # the bus opened again: on from where it is, not the stored 50
    for stored, file, duration in (
        ({"file": "a.csv", "duration": 100.0, "seconds": 50.0}, "b.csv", 100.0),  # another file
        ({"file": "a.csv", "duration": 100.0, "seconds": 50.0}, "a.csv", 90.0),  # the file changed length
        ({"file": "a.csv", "duration": 100.0, "seconds": math.nan}, "a.csv", 100.0),
        ({"file": "a.csv", "duration": 100.0, "seconds": "50"}, "a.csv", 100.0),
        (["a.csv", 100.0, 50.0], "a.csv", 100.0),
        (None, "a.csv", 100.0),
    ):
        fresh = replay.ReplayPosition()
        fresh.restore(stored)
        assert fresh.resume(file, duration) == 0.0, stored
    untouched = replay.ReplayPosition()
    untouched.restore({"file": "a.csv", "duration": 100.0, "seconds": 50.0})
    assert untouched.as_dict() == {"file": "a.csv", "duration": 100.0, "seconds": 50.0}  # the bundled trace keeps it
