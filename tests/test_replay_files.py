"""A person's own replay file for the simulated meter: only inside <config>/atm90e32_replay, checked in the flow."""

from __future__ import annotations

import errno
import glob
import logging
import math
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.atm90e32 import replay
from custom_components.atm90e32.const import (
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_REPLAY_FILE,
    CONF_WIRING,
    DOMAIN,
    REPLAY_FOLDER,
    SIMULATED,
)
from custom_components.atm90e32.driver.channels import CIRCUITS_KEY, SPLIT_PHASE
from custom_components.atm90e32.driver.emulator import scaled_clock
from custom_components.atm90e32.driver.registers import POWER_LSB

from .emulation import ManualClock
from .helpers import setup_entry, state, unload_as_a_crash


@pytest.fixture(autouse=True)
def own_config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """Each test's Home Assistant gets a configuration directory of its own (the default one is shared)."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    hass.config.config_dir = str(config_dir)
    return config_dir


def folder(hass: HomeAssistant) -> Path:
    path = Path(hass.config.path(REPLAY_FOLDER))
    path.mkdir(parents=True, exist_ok=True)
    return path


async def device_step(hass: HomeAssistant, wiring: str = SPLIT_PHASE.key) -> ConfigFlowResult:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": config_entries.SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_WIRING: wiring})
    assert result["step_id"] == "device"
    return result


async def submit(hass: HomeAssistant, result: ConfigFlowResult, replay_file: str) -> ConfigFlowResult:
    values: dict[str, Any] = {"device": SIMULATED, "line_frequency": "60", CONF_REPLAY_FILE: replay_file}
    return await hass.config_entries.flow.async_configure(result["flow_id"], values)


@pytest.fixture
def outside(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A valid replay file outside the replay folder (the kind a path must never reach)."""
    secret = tmp_path / "elsewhere.csv"
    secret.write_text("t,w\n0,1\n1,2\n", encoding="utf-8")
    return secret


async def test_paths_leading_out_of_the_folder_are_refused(hass: HomeAssistant, outside: Path) -> None:
    replays = folder(hass)
    (replays / "link.csv").symlink_to(outside)
    (replays / "sub").mkdir(exist_ok=True)
    result = await device_step(hass)
    for path in (
        f"../{outside.name}",
        "sub/../../configuration.yaml",
        str(outside),  # absolute, elsewhere
        "link.csv",  # a symbolic link out of the folder
        "/etc/passwd",
        ".",
    ):
        result = await submit(hass, result, path)
        assert result["type"] is FlowResultType.FORM, path
        assert result["errors"] == {CONF_REPLAY_FILE: "replay_outside_folder"}, path
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_a_missing_file_and_a_malformed_one_name_the_problem(hass: HomeAssistant) -> None:
    replays = folder(hass)
    result = await submit(hass, await device_step(hass), "nothing-here.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_not_found"}
    (replays / "bad.csv").write_text("time,l1,l2\n0,100,200\n1,100,2OO\n2,100,200\n", encoding="utf-8")
    result = await submit(hass, result, "bad.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_bad_number"}
    assert (result.get("description_placeholders") or {}).get("line") == "3"
    (replays / "short.csv").write_text("time,l1\n0,100\n1,100\n", encoding="utf-8")
    result = await submit(hass, result, "short.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_too_few_columns"}  # split-phase needs two columns
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_an_emptied_field_after_an_error_means_no_file(hass: HomeAssistant) -> None:
    """The frontend leaves an emptied optional field out of its input: the refused path must not come back."""
    result = await submit(hass, await device_step(hass), "nothing-here.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_not_found"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"device": SIMULATED, "line_frequency": "60"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "gains", result.get("errors")


async def test_a_file_too_large_is_refused(hass: HomeAssistant) -> None:
    with (folder(hass) / "huge.csv").open("wb") as handle:
        handle.truncate(20 * 1024 * 1024 + 1)
    result = await submit(hass, await device_step(hass), "huge.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_too_large"}


async def test_the_chosen_file_drives_the_simulated_meter(hass: HomeAssistant) -> None:
    """No patch: circuits replaying a person's CSV (ISO timestamps, floats, export negative)."""
    (folder(hass) / "mine.csv").write_text(
        "when,heat pump,solar,fridge\n"
        "2025-06-01T12:00:00Z,1520.5,-842.25,95\n"
        "2025-06-01T12:00:07Z,1520.5,-842.25,95\n"
        "2025-06-01T12:01:00Z,1520.5,-842.25,95\n",
        encoding="utf-8",
    )
    result = await submit(hass, await device_step(hass, CIRCUITS_KEY), "mine.csv")
    assert result["step_id"] == "circuits", result.get("errors")
    values = {
        "name_ct1": "Heat pump",
        "name_ct2": "Solar",
        "name_ct3": "Fridge",
        "enabled_ct1": True,
        "enabled_ct2": True,
        "enabled_ct3": True,
        "ct_preset_ct1": "sct_013_000",
        "ct_preset_ct2": "sct_013_000",
        "ct_preset_ct3": "sct_013_000",
        "invert_ct1": False,
        "invert_ct2": False,
        "invert_ct3": False,
        "voltage_factor_ct1": "1",
        "voltage_factor_ct2": "1",
        "voltage_factor_ct3": "1",
        "vt_preset": "9v_v14_rev3",
        "pga_gain": "2",
        "current_scale": "1",
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], values)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.data[CONF_REPLAY_FILE] == "mine.csv"
    await hass.async_block_till_done()
    # The bundled presets are not this emulated board's gains: compare shapes, not absolute watts.
    heat = float(state(hass, entry, "ct1_power").state)
    solar = float(state(hass, entry, "ct2_power").state)
    fridge = float(state(hass, entry, "ct3_power").state)
    assert heat > 0
    assert solar < 0  # the file's negative watts are export
    assert solar / heat == pytest.approx(-842.25 / 1520.5, rel=0.01)
    assert fridge / heat == pytest.approx(95 / 1520.5, rel=0.01)


@contextmanager
def failing_open(name: str, error: OSError) -> Iterator[None]:
    """Opening the file called ``name`` raises ``error``, as the kernel would (every other file opens as usual)."""
    original = Path.open

    def open_(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path.name == name:
            raise error
        return original(path, *args, **kwargs)

    with patch.object(Path, "open", open_):
        yield


async def test_a_path_no_file_system_takes_is_a_form_error(hass: HomeAssistant) -> None:
    """A NUL byte, a lone surrogate (ValueError before), a name over 255 bytes: the field's error, never a 500."""
    folder(hass)
    result = await device_step(hass)
    for path in ("a\x00b.csv", "\x00", "\ud800.csv", "x" * 5000 + ".csv", "sub/" + "é" * 128):
        result = await submit(hass, result, path)
        assert result["type"] is FlowResultType.FORM, repr(path)
        assert result["errors"] == {CONF_REPLAY_FILE: "replay_bad_path"}, repr(path)
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_a_file_home_assistant_may_not_read_says_so(hass: HomeAssistant) -> None:
    """The suite runs as root, where mode 000 does not deny: the kernel's EACCES is injected at open."""
    (folder(hass) / "locked.csv").write_text("time,l1,l2\n0,1,2\n1,1,2\n", encoding="utf-8")
    with failing_open("locked.csv", PermissionError(errno.EACCES, "Permission denied")):
        result = await submit(hass, await device_step(hass), "locked.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_permission"}
    with failing_open("locked.csv", OSError(errno.EIO, "Input/output error")):
        result = await submit(hass, result, "locked.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_unreadable"}


async def test_naive_times_are_read_in_home_assistants_time_zone(hass: HomeAssistant) -> None:
    """Berlin's spring-forward night: rows 5 s apart across 02:00 play; a time inside the gap is refused."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    replays = folder(hass)
    (replays / "spring.csv").write_text(
        "time,l1,l2\n2025-03-30 01:59:50,100,100\n2025-03-30 01:59:55,100,100\n2025-03-30 03:00:00,100,100\n",
        encoding="utf-8",
    )
    (replays / "gap.csv").write_text(
        "time,l1,l2\n2025-03-30 01:59:55,100,100\n2025-03-30 02:00:00,100,100\n", encoding="utf-8"
    )
    result = await submit(hass, await device_step(hass), "gap.csv")
    assert result["errors"] == {CONF_REPLAY_FILE: "replay_nonexistent_time"}
    assert (result.get("description_placeholders") or {}).get("line") == "3"
    trace = await hass.async_add_executor_job(replay.read, Path(hass.config.config_dir), "spring.csv")
    assert list(trace.times) == [0.0, 5.0, 10.0]  # not a row held 3 605 s, as when naive times were UTC
    result = await submit(hass, result, "spring.csv")
    assert result["step_id"] == "gains"


async def test_the_circuits_step_names_the_line_at_fault(hass: HomeAssistant) -> None:
    """A circuits chip's columns are checked on the circuits step; its error shows the line too."""
    (folder(hass) / "mine.csv").write_text("time,a\n0,1\n1,2\n", encoding="utf-8")
    result = await submit(hass, await device_step(hass, CIRCUITS_KEY), "mine.csv")
    assert result["step_id"] == "circuits"
    assert result["description_placeholders"] == {"line": ""}


SPLIT_FILE = "time,l1,l2\n0,1200,300\n10,1200,300\n20,-800,300\n"


@pytest.fixture
def replay_entry(hass: HomeAssistant) -> MockConfigEntry:
    """A simulated split-phase meter replaying mine.csv (in place)."""
    (folder(hass) / "mine.csv").write_text(SPLIT_FILE, encoding="utf-8")
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_DEVICE: SIMULATED,
            CONF_WIRING: SPLIT_PHASE.key,
            CONF_LINE_FREQUENCY: 60,
            CONF_REPLAY_FILE: "mine.csv",
        },
        unique_id=SIMULATED,
        title="Replay",
    )
    entry.add_to_hass(hass)
    return entry


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records a person would see with a traceback (Home Assistant logs the retried setup's at debug only)."""
    return [r for r in caplog.records if r.levelno >= logging.INFO and (r.exc_info or "Unexpected" in r.message)]


def issue(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{key}_{entry.entry_id}")


@pytest.mark.parametrize(
    ("spoil", "key"),
    [
        (lambda path: path.unlink(), "replay_file_missing"),
        (lambda path: path.write_text("time,l1,l2\n0,1,2\n1,1,2O\n", encoding="utf-8"), "replay_file_invalid"),
        (lambda path: path.write_bytes(b"time,l1,l2\n0,1,2\n1,1,\xff\n"), "replay_file_invalid"),
        (lambda path: path.write_text("time,l1\n0,1\n1,1\n", encoding="utf-8"), "replay_file_invalid"),
    ],
)
async def test_a_file_gone_bad_after_setup_raises_its_repair_and_the_entities_go_unavailable(
    hass: HomeAssistant,
    replay_entry: MockConfigEntry,
    spoil: Callable[[Path], object],
    key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert await hass.config_entries.async_setup(replay_entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, replay_entry, "l1_power").state != STATE_UNAVAILABLE
    path = folder(hass) / "mine.csv"
    spoil(path)
    assert not await hass.config_entries.async_reload(replay_entry.entry_id)
    await hass.async_block_till_done()
    assert replay_entry.state in {ConfigEntryState.SETUP_RETRY}  # tried again in the background
    found = issue(hass, replay_entry, key)
    assert found is not None
    assert found.translation_key == key
    assert found.translation_placeholders is not None
    assert "bad_number" not in found.translation_placeholders["error"]  # words, not the parser's key
    assert state(hass, replay_entry, "l1_power").state == STATE_UNAVAILABLE
    assert not tracebacks(caplog)
    # The file put back: the next try sets the meter up and clears the issue.
    path.write_text(SPLIT_FILE, encoding="utf-8")
    assert await hass.config_entries.async_reload(replay_entry.entry_id)
    assert replay_entry.state is ConfigEntryState.LOADED
    assert issue(hass, replay_entry, key) is None


async def test_an_unreadable_file_after_setup_raises_its_repair_not_a_traceback(
    hass: HomeAssistant, replay_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """Opening the transport wraps the OSError (EACCES injected: the suite runs as root)."""
    with failing_open("mine.csv", PermissionError(errno.EACCES, "Permission denied")):
        assert not await hass.config_entries.async_setup(replay_entry.entry_id)
        await hass.async_block_till_done()
    assert replay_entry.state is ConfigEntryState.SETUP_RETRY
    assert issue(hass, replay_entry, "replay_file_unreadable") is not None
    assert not tracebacks(caplog)


BAD_FILES: dict[str, bytes] = {
    "us.csv": b"time,l1,l2\n0,1,2\n0.000001,1,2\n0.000002,1,2\n",  # the 1 us rows of issue 24
    "ms.csv": b"time,l1,l2\n1700000000000,1,2\n1700000001000,1,2\n",
    "noheader.csv": b"0,100,200\n1,100,200\n2,100,200\n",
    "blank.csv": b"time,l1,l2\n0,1,2\n,,\n5,1,2\n",
    "underscore.csv": b"time,l1,l2\n0,1_000,2\n1,1,2\n",
    "arabic.csv": "time,l1,l2\n0,\u0661,2\n1,1,2\n".encode(),
    "nul.csv": b"time,l\x001,l2\n0,1,2\n1,1,2\n",
    "cr.csv": b"time,l1,l2\r0,1,2\r1,1,2O\r",
    "semicolon.csv": b"time;l1;l2\n0;1,5;2\n1;1;2\n",
    "comment.csv": b"# my logger\ntime,l1,l2\n0,1,2\n1,1,2\n",
    "latin1.csv": b"time,l\xe9,l2\n0,1,2\n1,1,2\n",
}


async def start_flow(client: TestClient[Request, Application]) -> dict[str, Any]:
    """A new flow over the HTTP API, on its device step (split-phase)."""
    response = await client.post("/api/config/config_entries/flow", json={"handler": DOMAIN})
    assert response.status == HTTPStatus.OK
    flow: dict[str, Any] = await response.json()
    response = await client.post(
        f"/api/config/config_entries/flow/{flow['flow_id']}", json={CONF_WIRING: SPLIT_PHASE.key}
    )
    flow = await response.json()
    assert flow.get("step_id") == "device", flow
    return flow


async def test_a_fuzz_of_the_flow_over_the_api_refuses_with_a_form_and_leaves_nothing_behind(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, hass_storage: dict[str, Any]
) -> None:
    """Every bad file and path of issue 24, and seeded random ones, through the HTTP API a browser uses."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_client()
    replays = folder(hass)
    rng = random.Random(24)
    files = dict(BAD_FILES)
    for n in range(40):  # random damage to a good file: bytes replaced, inserted, lines shuffled
        good = bytearray(b"time,l1,l2\n0,100,200\n1.5,-50,20.25\n3,7,8\n")
        for _ in range(rng.randint(1, 4)):
            good[rng.randrange(len(good))] = rng.choice(b'\x00;,.-_eE \r\n"#9\xff\xc3')
        files[f"random{n}.csv"] = bytes(good)
    for name, data in files.items():
        (replays / name).write_bytes(data)
    paths = [*files, "a\x00b.csv", "\x00", "../secret.csv", "/etc/passwd", "nothing.csv", "x" * 4000]
    flow = await start_flow(client)
    accepted = []
    for path in paths:
        body = {"device": SIMULATED, "line_frequency": "60", CONF_REPLAY_FILE: path}
        response = await client.post(f"/api/config/config_entries/flow/{flow['flow_id']}", json=body)
        assert response.status == HTTPStatus.OK, (path, await response.text())
        result = await response.json()
        if result["type"] == "form" and result["step_id"] == "device":
            assert set(result["errors"]) == {CONF_REPLAY_FILE}, path
            continue
        # a random file that is still valid goes on to the next step: leave that flow, start a new one
        assert result.get("step_id") == "gains", (path, result)
        accepted.append(path)
        assert (await client.delete(f"/api/config/config_entries/flow/{flow['flow_id']}")).status == HTTPStatus.OK
        flow = await start_flow(client)
    assert all(path.startswith("random") for path in accepted), accepted  # every named bad file and path refused
    assert len(accepted) < 20  # most random damage is refused too
    await hass.async_block_till_done()
    assert not hass.config_entries.async_entries(DOMAIN)
    assert not [key for key in hass_storage if key.startswith(DOMAIN)]  # no ledger store
    journals = await hass.async_add_executor_job(glob.glob, hass.config.path(".storage", f"{DOMAIN}.*"))
    assert not journals


def day_csv() -> tuple[str, list[float], list[tuple[float, float]]]:
    """About 24 h of a household at irregular 3-10 s intervals (seeded): L1 a load, L2 a load and midday solar export.

    Returns the file's text, its row times (s) and each row's (L1, L2) watts, as written.
    Local ISO times (no offset) on a day without a daylight-saving change.
    """
    rng = random.Random(2024)
    lines, times, watts = ["time,l1,l2"], [], []
    t = 0.0
    while t < 86400 - 10:
        hour = t / 3600
        l1 = round(300 + 900 * rng.random() + (1500 if 17 <= hour < 20 else 0), 1)
        solar = 2500 * max(0.0, math.sin(math.pi * (hour - 7) / 12))
        l2 = round(250 + 400 * rng.random() - solar, 2)
        lines.append(f"{(datetime(2025, 6, 1) + timedelta(seconds=t)).isoformat()},{l1},{l2}")
        times.append(t)
        watts.append((l1, l2))
        t += rng.randint(3, 10)
    return "\n".join(lines) + "\n", times, watts


def step_hold_counts(
    times: list[float], watts: list[float], until: float, threshold: float = 0.0
) -> tuple[float, float, int]:
    """Import and export counts (0.003125 Wh) of one column over [0, until), step-hold and looping; its sign changes.

    Independent of the parser and the emulator: the rows as written.  Rows of ``threshold``
    watts or less are not counted (the chip's PPhaseTh, DS p.55).
    """
    duration = 2 * times[-1] - times[-2]
    ends = [*times[1:], duration]
    imported = exported = 0.0
    changes, start, previous = 0, 0.0, None
    while start < until:
        for t, end, w in zip(times, ends, watts, strict=True):
            seconds = min(start + end, until) - (start + t)
            if seconds <= 0:
                break
            counts = w * seconds / 3600 / 0.003125 if abs(w) > threshold else 0.0
            imported += max(counts, 0.0)
            exported += max(-counts, 0.0)
            changes += previous is not None and (w > 0) != (previous > 0)
            previous = w
        start += duration
    return imported, exported, changes


@pytest.mark.parametrize("restarts", [(), ("reload", "crash")], ids=["one run", "reload at 7 h, killed at 15 h"])
async def test_a_day_replays_across_reloads_and_restarts_counting_the_file_once(
    hass: HomeAssistant, replay_entry: MockConfigEntry, restarts: tuple[str, ...]
) -> None:
    """24 h at 60 s refreshes: the lifetime totals are the file's integral, within one count per run and channel.

    The replay resumes where it stopped (its position is kept with the ledger): restarting
    at row 1 would count the first hours twice and the last ones never.  Each start of the
    emulated chip begins with an empty residual, as a power-cycled chip does, so each run
    may leave under one count (0.003125 Wh) per channel unbooked; a kill loses only what
    the chip had not been read for (nothing here: its clock stands still between reads).
    """
    text, times, rows = day_csv()
    (folder(hass) / "mine.csv").write_text(text, encoding="utf-8")
    clock = ManualClock()
    duration = 2 * times[-1] - times[-2]
    stops = {7 * 3600.0: "reload", 15 * 3600.0: "crash"} if restarts else {}
    played = 0.0
    with patch("custom_components.atm90e32.driver.emulator.scaled_clock", lambda speed: scaled_clock(speed, clock)):
        coordinator = await setup_entry(hass, replay_entry)
        for stop in (*stops, duration):
            while played < stop:
                step = min(60.0, stop - played)
                clock.advance(step)
                played += step
                await coordinator.async_refresh()
            if stops.get(stop) == "reload":
                assert await hass.config_entries.async_reload(replay_entry.entry_id)
            elif stops.get(stop) == "crash":
                await unload_as_a_crash(hass, replay_entry)
                assert await hass.config_entries.async_setup(replay_entry.entry_id)
            await hass.async_block_till_done()
            coordinator = replay_entry.runtime_data
    runs = 1 + len(restarts)
    ledger = coordinator.ledger
    threshold = coordinator.settings.chip.p_phase_threshold * POWER_LSB
    assert 5 < threshold < 7  # 6 W: the 100 A CT's start threshold at 120 V (start_threshold.start_threshold)
    assert sum(abs(row[1]) <= threshold for row in rows) > 10  # rows L2 does not count
    for index, channel in enumerate(("l1", "l2")):
        column = [row[index] for row in rows]
        imported, exported, changes = step_hold_counts(times, column, duration, threshold)
        booked_import, booked_export = ledger.counts((channel, "import")), ledger.counts((channel, "export"))
        # net within one count per run; import and export apart within one more per sign change (one residual, DS p.12)
        assert abs((booked_import - booked_export) - (imported - exported)) < runs, channel
        assert abs(booked_import - imported) < runs + changes, channel
        assert abs(booked_export - exported) < runs + changes, channel
    assert ledger.counts(("l2", "export")) > 1000  # the solar really exported
    assert step_hold_counts(times, [row[0] for row in rows], duration)[2] == 0  # L1 only imported


REPO = Path(__file__).resolve().parent.parent


def run_readme_example(replays: Path) -> tuple[str, str]:
    """Run the README's conversion in ``replays`` on a copy of the bundled trace: (the file made, the lines shown)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**Example, from a public dataset.**") :]
    fences = section.split("```")
    script, shown = fences[1].removeprefix("python\n"), fences[3].strip("\n")
    trace = REPO / "custom_components/atm90e32/driver/traces/rae_house1_mains_6h_1hz.csv"
    (replays / trace.name).write_bytes(trace.read_bytes())
    subprocess.run([sys.executable, "-c", script], cwd=replays, check=True, timeout=60)
    return (replays / "rae_split.csv").read_text(encoding="utf-8"), shown


async def test_the_readme_example_converts_the_bundled_trace_into_a_file_the_flow_accepts(hass: HomeAssistant) -> None:
    """The README's conversion, run as written on the bundled RAE trace; its result opens a split-phase meter."""
    converted, shown = run_readme_example(folder(hass))
    assert converted.replace("\r\n", "\n").startswith(shown + "\n")
    assert converted.count("\n") == 21601  # the header and six hours of 1 Hz rows
    result = await submit(hass, await device_step(hass), "rae_split.csv")
    assert result["step_id"] == "gains", result.get("errors")
