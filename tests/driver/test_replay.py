"""A person's CSV replayed through the emulated chip: parsing, errors, and energy booked to the count."""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from custom_components.atm90e32.driver import Atm90e32, ChipConfig, Phase
from custom_components.atm90e32.driver import replay as replay_module
from custom_components.atm90e32.driver.channels import SPLIT_PHASE, THREE_PHASE_WYE, circuits_wiring
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32, ReplayLoad
from custom_components.atm90e32.driver.exceptions import Atm90e32Error
from custom_components.atm90e32.driver.registers import ENERGY_LSB_WH
from custom_components.atm90e32.driver.replay import REASONS, ReplayError, load_replay_csv, parse_replay_csv
from tests.emulation import ManualClock

# --- parsing --------------------------------------------------------------------------


def test_seconds_timestamps_irregular_intervals_and_float_watts() -> None:
    text = "\ufefftime,Heat pump,Solar\n1700000000,1200.5,-3.25e3\n\n1700000000.5,0,-10\n1700000003,7,8\n"
    trace = parse_replay_csv(text)
    assert trace.channels == ("Heat pump", "Solar")
    assert list(trace.times) == [0.0, 0.5, 3.0]
    assert [list(w) for w in trace.watts] == [[1200.5, 0.0, 7.0], [-3250.0, -10.0, 8.0]]
    assert trace.duration == 5.5  # the last row holds for the 2.5 s before it
    assert trace.watts_at(1, 0.49) == -3250.0
    assert trace.watts_at(1, 0.5) == -10.0
    assert trace.watts_at(0, 5.4) == 7.0
    assert trace.watts_at(0, 5.5) == 1200.5  # looped
    assert trace.next_change(0.0) == 0.5
    assert trace.next_change(4.0) == 5.5
    assert trace.next_change(5.5) == 6.0


def test_iso_timestamps_with_and_without_offset() -> None:
    trace = parse_replay_csv(
        "timestamp,l1\n2025-06-01T12:00:00+02:00,100\n2025-06-01T10:00:01Z,200\n2025-06-01 10:00:02.5,300\n"
    )
    # 12:00+02:00 is 10:00 UTC; a time without an offset is taken as UTC
    assert list(trace.times) == [0.0, 1.0, 2.5]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", None, "empty"),
        ("\n\n", None, "empty"),
        ("time,ct1\n\n", 1, "empty"),
        ("time\n0\n1\n", 1, "no_channels"),
        ("\ntime,a,a\n0,1,2\n1,1,2\n", 2, "bad_header"),
        ("time,a,\n0,1,2\n", 1, "bad_header"),
        ("t,a\n0,1\n1,2,3\n", 3, "wrong_column_count"),
        ("t,a,b\n0,1,2\n1,2\n", 3, "wrong_column_count"),
        ("t,a\n0,1\nnoon,2\n", 3, "bad_timestamp"),
        ("t,a\n0,1\ninf,2\n", 3, "bad_timestamp"),
        ("t,a\n2025-01-01T00:00:00,1\n5,2\n", 3, "bad_timestamp"),  # seconds after ISO
        ("t,a\n0,1\n1,abc\n", 3, "bad_number"),
        ("t,a\n0,1\n1,nan\n", 3, "bad_number"),
        ("t,a\n0,1\n1,\n", 3, "bad_number"),
        ("t,a\n0,1\n1,1,5\n", 3, "wrong_column_count"),
        ('t,a\n0,1\n1,"1,5"\n', 3, "comma_decimal"),  # a decimal comma, quoted
        ("t,a\n0,1\n1,1_000\n", 3, "bad_number"),  # Python's float() takes these; the grammar does not
        ("t,a\n0,1\n1,2_0.5\n", 3, "bad_number"),
        ("t,a\n0,1\n1,\u0661\u0660\u0660\n", 3, "bad_number"),  # Arabic-Indic digits
        ("t,a\n0,1\n1,\uff11\uff10\uff10\n", 3, "bad_number"),  # full-width digits
        ("t,a\n0,1\n1,1e999\n", 3, "bad_number"),  # overflows to infinity
        ("t,a\n0,1\n1, 0x10\n", 3, "bad_number"),
        ("t,a\n0,1\n\uff12,1\n", 3, "bad_timestamp"),
        ("t,a\n2025-01-01T00:00:00,1\n2025-01-01T00:00:0\u0661,1\n", 3, "bad_timestamp"),
        ("t,a\n0,1\n,\n", 3, "blank_cells"),  # a row of empty cells is not skipped
        ("t,a,b\n0,1,2\n , ,\n2,1,2\n", 3, "blank_cells"),
        ("100,200\n0,1\n1,2\n", 1, "no_header"),  # the first data row is not a header
        ("time,100,200\n0,1,2\n1,2,3\n", 1, "no_header"),
        ("t,a\x00b\n0,1\n1,2\n", 1, "bad_header"),  # a NUL inside a header name
        ("t,a\x07\n0,1\n1,2\n", 1, "bad_header"),
        ("time;l1;l2\n0;100;200\n1;100;200\n", 1, "semicolon"),
        ("time,l1\n0;100\n1;100\n", 2, "semicolon"),
        ("sep=;\ntime;l1\n0;1\n", 1, "semicolon"),
        ("# exported by my logger\ntime,l1\n0,1\n1,2\n", 1, "comment"),
        ("time,l1\n0,1\n# a note\n1,2\n", 3, "comment"),
        ("t,a\n1700000000000,1\n1700000001000,2\n", 2, "milliseconds"),
        ("t,a\n0,1\n0.000001,1\n0.000002,1\n", 3, "too_fast"),  # the 1 us file of issue 24
        ("t,a\n0,1\n0.05,1\n", 3, "too_fast"),
        ("t,a\n2025-01-01T00:00:00Z,1\n2025-01-01T00:00:00.01Z,1\n", 3, "too_fast"),
        ("t,a\n0,1\n\n5,1\n5,2\n", 5, "not_increasing"),
        ("t,a\n0,1\n5,1\n4,2\n", 4, "not_increasing"),
        ("t,a\n0,1\n", 2, "too_short"),
    ],
)
def test_malformed_files_name_the_line_and_the_reason(text: str, line: int | None, reason: str) -> None:
    with pytest.raises(ReplayError) as caught:
        parse_replay_csv(text)
    assert (caught.value.line, caught.value.reason) == (line, reason)
    assert caught.value.reason in REASONS
    assert isinstance(caught.value, Atm90e32Error)


def test_line_endings_bom_spaces_and_excel_separator_hint_are_accepted() -> None:
    for text in (
        "time,a\r0,1\r0.1,2\r",  # CR only (classic Mac)
        "\ufefftime , a\r\n 0 , 1 \r\n\r\n0.1,+2\r\n",
        "sep=,\ntime,a\n0,1\n0.1,2.0e0\n",
        "time,a\n0,1\n   \n0.1,2\n",
    ):
        trace = parse_replay_csv(text)
        assert trace.channels == ("a",), text
        assert list(trace.times) == [0.0, 0.1], text
        assert [list(w) for w in trace.watts] == [[1.0, 2.0]], text


def test_the_shortest_interval_is_accepted() -> None:
    trace = parse_replay_csv("t,a\n1700000000.0,1\n1700000000.1,2\n1700000000.2,3\n")
    assert trace.times[1] == pytest.approx(0.1)
    assert replay_module.MIN_INTERVAL_S == 0.1


def test_naive_times_are_local_in_the_given_zone_across_both_daylight_saving_changes() -> None:
    zone = ZoneInfo("Europe/Berlin")
    # Spring forward, 2025-03-30: 02:00 local becomes 03:00; 01:59:55 + 5 s is 03:00:00.
    spring = parse_replay_csv("t,a\n2025-03-30 01:59:50,1\n2025-03-30 01:59:55,1\n2025-03-30 03:00:00,1\n", zone)
    assert list(spring.times) == [0.0, 5.0, 10.0]  # not a row held 3 605 s
    with pytest.raises(ReplayError) as caught:
        parse_replay_csv("t,a\n2025-03-30 01:59:55,1\n2025-03-30 02:30:00,1\n", zone)
    assert (caught.value.line, caught.value.reason) == (3, "nonexistent_time")  # inside the gap
    # Fall back, 2025-10-26: 03:00 CEST becomes 02:00 CET; the hour 02:00-03:00 comes twice.
    autumn = parse_replay_csv(
        "t,a\n2025-10-26 02:30:00,1\n2025-10-26 02:59:00,2\n2025-10-26 02:00:00,3\n"
        "2025-10-26 02:30:00,4\n2025-10-26 03:00:00,5\n",
        zone,
    )
    assert list(autumn.times) == [0.0, 1740.0, 1800.0, 3600.0, 5400.0]
    # The same naive rows in UTC (the default) are a day of ordinary hours.
    assert list(parse_replay_csv("t,a\n2025-03-30 01:59:55,1\n2025-03-30 02:30:00,1\n").times) == [0.0, 1805.0]
    # An offset in the cell wins over the zone.
    offset = parse_replay_csv("t,a\n2025-03-30T01:59:55+01:00,1\n2025-03-30T03:00:00+02:00,1\n", zone)
    assert list(offset.times) == [0.0, 5.0]


def test_too_many_channels() -> None:
    header = "t," + ",".join(f"c{i}" for i in range(43))
    with pytest.raises(ReplayError) as caught:
        parse_replay_csv(header + "\n")
    assert (caught.value.line, caught.value.reason) == (1, "too_many_channels")


def test_size_and_row_limits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(replay_module, "MAX_ROWS", 3)
    with pytest.raises(ReplayError) as caught:
        parse_replay_csv("t,a\n0,1\n1,1\n2,1\n3,1\n")
    assert (caught.value.line, caught.value.reason) == (5, "too_large")
    monkeypatch.setattr(replay_module, "MAX_FILE_BYTES", 15)
    path = tmp_path / "big.csv"
    path.write_text("t,a\n0,1\n1,1\n2,1\n")  # 16 bytes, 3 rows
    with pytest.raises(ReplayError) as caught:
        load_replay_csv(path)
    assert (caught.value.line, caught.value.reason) == (None, "too_large")


def test_a_file_that_is_not_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"t,a\n0,1\n1,\xff\xfe\n")
    with pytest.raises(ReplayError) as caught:
        load_replay_csv(path)
    assert (caught.value.line, caught.value.reason) == (None, "not_text")


# --- replay through the chip ------------------------------------------------------------

INTERVALS = (0.7, 1.3, 2.9, 5.0, 0.4, 3.7, 1.0)
"""Irregular sample intervals, s, repeated."""
START = datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))


def ct2_watts(t: float) -> float:
    """Circuit 2: a 400 W load, then solar exporting up to 1.9 kW from minute 20 to 50, then 250 W."""
    if t < 1200:
        return 400.0
    if t < 3000:
        return -1500.0 - 400.0 * math.sin(t / 300)
    return 250.0


def one_hour_csv() -> str:
    """Rows every INTERVALS seconds for a little over an hour, ISO 8601 with offset, two circuits."""
    lines = ["timestamp,ct1,ct2"]
    t, i = 0.0, 0
    while t <= 3700:
        ct1 = 800.0 + 600.0 * math.sin(i / 37)
        stamp = (START + timedelta(seconds=t)).isoformat()
        lines.append(f"{stamp},{ct1:.3f},{ct2_watts(t):.3f}")
        t += INTERVALS[i % len(INTERVALS)]
        i += 1
    return "\n".join(lines) + "\n"


def integrals_until(text: str, column: str, until: float) -> tuple[float, float, int]:
    """Import and export Wh of ``column`` over [0, until) by step-hold, and its sign changes, from the raw CSV.

    Independent of the parser: the csv module and datetime only.
    """
    rows = list(csv.DictReader(io.StringIO(text)))
    times = [(datetime.fromisoformat(r["timestamp"]) - START).total_seconds() for r in rows]
    watts = [float(r[column]) for r in rows]
    imported = exported = 0.0
    changes = 0
    for k in range(len(rows) - 1):
        if times[k] >= until:
            break
        seconds = min(times[k + 1], until) - times[k]
        wh = watts[k] * seconds / 3600
        if wh > 0:
            imported += wh
        else:
            exported -= wh
        if k and (watts[k] > 0) != (watts[k - 1] > 0):
            changes += 1
    return imported, exported, changes


def test_one_hour_replay_books_every_channels_import_and_export_within_one_count_per_read(tmp_path: Path) -> None:
    text = one_hour_csv()
    path = tmp_path / "circuits.csv"
    path.write_text(text)
    trace = load_replay_csv(path)
    wiring = circuits_wiring(["ct1", "ct2"])
    clock = ManualClock()
    emulator = EmulatedAtm90e32(ReplayLoad.for_wiring(trace, wiring, volts=120.0), clock=clock)
    config = ChipConfig(
        wiring=wiring, line_frequency=60, voltage_gains=(3920, 3920, 3920), current_gains=(25498, 25498, 25498)
    )
    chip = Atm90e32(emulator, sleep=lambda _s: None)
    chip.configure(config)
    booked = {Phase.A: [0, 0], Phase.B: [0, 0]}
    for read in range(1, 721):  # every 5 s for an hour
        clock.advance(5)
        energy = chip.read_snapshot(config).energy
        for phase, counts in booked.items():
            counts[0] += energy.phases[phase].forward
            counts[1] += energy.phases[phase].reverse
        if read % 60 and read != 720:
            continue
        # each check: what the chip's registers gave so far against the CSV's own integral
        for phase, column in ((Phase.A, "ct1"), (Phase.B, "ct2")):
            imported, exported, changes = integrals_until(text, column, read * 5.0)
            # the chip nets forward and reverse through one residual of under a count (DS p.12):
            # each sign change may move under one count between import and export
            tolerance = 1 + changes
            assert abs(booked[phase][0] - imported / ENERGY_LSB_WH) < tolerance, (read, column, "import")
            assert abs(booked[phase][1] - exported / ENERGY_LSB_WH) < tolerance, (read, column, "export")
    imported, exported, _ = integrals_until(text, "ct2", 3600.0)
    assert exported > 500  # the solar circuit really exported (Wh), and ct1 never did
    assert booked[Phase.B][1] > 0
    assert booked[Phase.A][1] == 0


def test_replay_voltages_follow_the_wiring() -> None:
    trace = parse_replay_csv("t,l1,l2,l3\n0,100,200,-300\n1,1,2,3\n")
    point = ReplayLoad.for_wiring(trace, THREE_PHASE_WYE, volts=230.0, frequency=50.0).load_at(0.5)
    assert [point.phases[p].voltage_angle for p in Phase] == [0.0, 120.0, 240.0]
    assert [point.phases[p].watts for p in Phase] == [100.0, 200.0, -300.0]
    one = parse_replay_csv("t,ct2\n0,50\n1,60\n")
    point = ReplayLoad.for_wiring(one, circuits_wiring(["ct2"])).load_at(0.0)
    assert {p: (point.phases[p].volts, point.phases[p].watts) for p in Phase} == {
        Phase.A: (120.0, 0.0),
        Phase.B: (120.0, 50.0),
        Phase.C: (120.0, 0.0),
    }  # the jumper: every voltage input has the one voltage
    two = parse_replay_csv("t,l1,l2\n0,50,60\n1,60,70\n")
    assert set(ReplayLoad.for_wiring(two, SPLIT_PHASE).load_at(0.0).phases) == {Phase.A, Phase.C}
    with pytest.raises(ValueError, match="columns"):
        ReplayLoad.for_wiring(two, THREE_PHASE_WYE)


class CountingLoad(ReplayLoad):
    """A ReplayLoad that counts the emulator's segments (its calls of next_change); it plays as ReplayLoad does."""

    segments = 0

    def next_change(self, t: float) -> float:
        """ReplayLoad's next_change, counted."""
        self.segments += 1
        return super().next_change(t)


def test_the_emulators_work_per_refresh_is_bounded_by_the_shortest_interval() -> None:
    """The densest file the grammar takes (rows 0.1 s apart) costs at most 10 segments per replayed second."""
    rows = "\n".join(f"{i / 10:.1f},{100 + i % 7},{200 - i % 5}" for i in range(2000))
    load = CountingLoad.for_wiring(parse_replay_csv("t,l1,l2\n" + rows + "\n"), SPLIT_PHASE)
    assert isinstance(load, CountingLoad)
    clock = ManualClock()
    emulator = EmulatedAtm90e32(load, clock=clock)
    for _ in range(12):  # a minute of 5 s refreshes
        load.segments = 0
        clock.advance(5.0)
        emulator.pending_counts(Phase.A)
        assert load.segments <= 5.0 / replay_module.MIN_INTERVAL_S + 1
    assert load.segments >= 45  # and the emulator really stepped at every row
