"""Benchmark: what one refresh costs, against the bus limit and ESPHome's read plan.

Usage: scripts/benchmark [--refreshes N] [--json PATH] [--many-chips N] [--database-writes every_refresh|balanced|lean]

Measures with the chip emulator, in one run:
- SPI transactions and bytes per refresh of the default split-phase sensor set, and the
  bus time that implies at the configured clock (32 clocks per transaction);
- transactions per refresh of each wiring (split-phase, circuits with 3 CTs,
  three-phase wye) against that wiring's verified minimum;
- the same counts for ESPHome's atm90e32 read plan and for the fewest reads the
  datasheet allows with every read verified, for the same quantities;
- CPU time per refresh of the driver and decoding (responses replayed from a recording,
  so the emulator's own cost is not counted), and of the whole path through a real Home
  Assistant core (coordinator, executor hop, energy ledger and its files, entity state writes), with
  the emulator's cost measured separately and subtracted;
- scaling from 1 to 8 chips;
- event-loop health: the longest event-loop callback while refreshing (asyncio debug
  mode's slow-callback reports), and the number of SPI transactions made on the loop
  thread (must be 0).
Prints a table and writes JSON (default benchmark-results.json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from homeassistant import loader
from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.atm90e32.const import (
    CONF_BOARD,
    CONF_BOARD_POSITION,
    CONF_CHANNELS,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_UPDATE_INTERVAL,
    CONF_WIRING,
    DOMAIN,
)
from custom_components.atm90e32.driver import Atm90e32, ChipConfig
from custom_components.atm90e32.driver.channels import (
    CIRCUIT_KEYS,
    CIRCUITS_KEY,
    SPLIT_PHASE,
    THREE_PHASE_WYE,
    Wiring,
    circuits_wiring,
)
from custom_components.atm90e32.driver.emulator import EmulatedAtm90e32, TraceLoad, simulated_load
from custom_components.atm90e32.driver.power_quality import PowerQualitySettings
from custom_components.atm90e32.driver.transport import DEFAULT_SPEED_HZ
from custom_components.atm90e32.publishing import CONF_DATABASE_WRITES, Mode
from custom_components.atm90e32.settings import DEFAULT_OPTIONS, default_options
from tests.emulation import ManualClock

CIRCUITS_ALL = circuits_wiring(CIRCUIT_KEYS)
"""A circuits chip with its three CTs on, as the flow's defaults make it."""

CLOCKS_PER_TRANSACTION = 32
LEGS = len(SPLIT_PHASE.channels)
CONFIG = ChipConfig(voltage_gains=(3920, 3920, 3920), current_gains=(25498, 25498, 25498))

# Reads per quantity, for one leg: (16-bit registers, 32-bit values, read-to-clear registers):
# voltage, current, power factor, phase angle, peak voltage, peak current | active,
# reactive, apparent, fundamental and harmonic power | forward and reverse energy; plus, once
# per chip, frequency, temperature and the four power-quality status registers, and the
# all-phase forward and reverse energy the service totals come from.
PER_LEG_16, PER_LEG_32, PER_LEG_ENERGY, PER_CHIP_16, PER_CHIP_ENERGY = 6, 5, 2, 6, 2
# Three-phase only, once per chip: the neutral current IrmsN and the voltage angles UangleB/C
# (UangleA is 0 by definition, DS p.71; the sequence error bits come with EMMState0).
THREE_PHASE_16 = 3
WIRINGS: tuple[tuple[str, Wiring, int], ...] = (
    ("split-phase, 2 CTs", SPLIT_PHASE, 60),
    ("circuits, 3 CTs", circuits_wiring(CIRCUIT_KEYS), 60),
    ("three-phase wye", THREE_PHASE_WYE, 50),
)
"""Each wiring the benchmark counts, with the line frequency it is run at."""


def esphome_plan() -> int:
    """ESPHome's atm90e32 read plan per refresh (its atm90e32.cpp, 2025), for the quantities it reads.

    Voltage, current and power factor: one read plus a LastSPIData read each; active,
    reactive, apparent and harmonic power: two reads each (high, low), unchecked; phase
    angle and peak current one read each; forward and reverse energy one read each,
    unchecked; frequency and temperature one read each per chip.  It reads no fundamental
    power, peak voltage, latched status or all-phase energy.
    """
    per_leg = 3 * 2 + 4 * 2 + 1 + 1 + 2
    return LEGS * per_leg + 2


def verified_minimum(wiring: Wiring = SPLIT_PHASE) -> int:
    """Fewest transactions with every read verified against LastSPIData (DS p.65, AN p.11), for ``wiring``.

    A 16-bit register: the read and a LastSPIData read (2).  A 32-bit value: both words,
    each verified (4).  A read-to-clear energy register: the read and LastSPIData (2).
    Per channel the quantities above (36); per chip the six 16-bit registers (12); the
    all-phase energy registers only where the wiring has a service total (not circuits,
    whose MMode0 sums no phase: 4); the three-phase registers only for three-phase (6).
    Split-phase 2 x 36 + 12 + 4 = 88; circuits with 3 CTs 3 x 36 + 12 = 120; three-phase
    3 x 36 + 12 + 4 + 6 = 130.
    """
    per_leg = PER_LEG_16 * 2 + PER_LEG_32 * 4 + PER_LEG_ENERGY * 2
    total = len(wiring.channels) * per_leg + PER_CHIP_16 * 2
    if wiring.has_service_total:
        total += PER_CHIP_ENERGY * 2
    if wiring.three_phase:
        total += THREE_PHASE_16 * 2
    return total


def wiring_transactions() -> dict[str, dict[str, int]]:
    """Transactions of one refresh of each wiring of WIRINGS, and its verified minimum.

    Each wiring's chip measures the household trace shaped as its service
    (``simulated_load``), with power-quality thresholds for its nominal voltage; the
    refresh counted is the second, after the first cleared what configuring latched.
    """
    figures = {}
    for name, wiring, frequency in WIRINGS:
        clock = ManualClock()
        nominal = 120.0 if frequency == 60 else 230.0
        config = ChipConfig(
            wiring=wiring,
            line_frequency=frequency,
            voltage_gains=(3920, 3920, 3920),
            current_gains=(25498, 25498, 25498),
            power_quality=PowerQualitySettings.from_percent(
                nominal_voltage=nominal, line_frequency=frequency, over_current=65.0
            ),
        )
        chip = Atm90e32(EmulatedAtm90e32(simulated_load(wiring, line_frequency=frequency), clock=clock))
        chip.configure(config)
        chip.read_snapshot(config)
        clock.advance(5)
        transactions = chip.read_snapshot(config).transactions
        figures[name] = {"ours": transactions, "verified_minimum": verified_minimum(wiring)}
    return figures


class Recording:
    """A transport that records the emulator's frames and responses, then replays the responses."""

    def __init__(self, emulator: EmulatedAtm90e32) -> None:
        self.emulator = emulator
        self.frames: list[bytes] = []
        self.responses: list[bytes] = []
        self.replaying: list[bytes] | None = None
        self.position = 0

    def transfer(self, frame: bytes) -> bytes:
        if self.replaying is not None:
            response = self.replaying[self.position]
            self.position += 1
            return response
        response = self.emulator.transfer(frame)
        self.frames.append(frame)
        self.responses.append(response)
        return response

    def close(self) -> None:
        """Nothing to release."""


def summary(samples: list[float]) -> dict[str, float]:
    """Median and spread (5th-95th percentile) in milliseconds."""
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "mean_ms": statistics.fmean(ordered) * 1000,
        "median_ms": statistics.median(ordered) * 1000,
        "p05_ms": pick(0.05) * 1000,
        "p95_ms": pick(0.95) * 1000,
    }


def bench_driver(refreshes: int) -> dict[str, Any]:
    """CPU time of one snapshot: driver framing, verification and decoding, no emulator."""
    clock = ManualClock()
    emulator = EmulatedAtm90e32(TraceLoad(), clock=clock)
    configured = Atm90e32(emulator, sleep=lambda _s: None)
    configured.configure(CONFIG)
    configured.clear_latched_status()  # as the Meter does: configuring is no power-quality event
    clock.advance(5)
    recording = Recording(emulator)
    chip = Atm90e32(recording)
    snapshot = chip.read_snapshot(CONFIG)
    recording.replaying = recording.responses
    samples = []
    for _ in range(refreshes):
        recording.position = 0
        start = time.process_time_ns()
        chip.read_snapshot(CONFIG)
        samples.append((time.process_time_ns() - start) / 1e9)
    emulator_samples = []
    for _ in range(refreshes):
        clock.advance(5)
        start = time.process_time_ns()
        for frame in recording.frames:  # the same frames a refresh sends, to the emulator alone
            emulator.transfer(frame)
        emulator_samples.append((time.process_time_ns() - start) / 1e9)
    return {
        "transactions": snapshot.transactions,
        "driver": summary(samples),
        "emulator_per_refresh": summary(emulator_samples),
    }


class LoopTimer:
    """Times every event-loop callback while ``active``: wall time and loop-thread CPU time.

    Wall time also counts waiting for the GIL while an executor thread runs the emulator
    (on hardware the SPI ioctl releases it), so the CPU time is what the integration's
    own loop work costs.
    """

    def __init__(self) -> None:
        self.active = False
        self.callbacks: list[tuple[float, float]] = []
        self.slowest: tuple[float, str] = (0.0, "")
        """The most loop-thread CPU one callback took, and what it ran."""
        self._original = asyncio.events.Handle._run
        timer = self

        def timed_run(handle: asyncio.events.Handle) -> None:
            if not timer.active:
                timer._original(handle)
                return
            wall, cpu = time.perf_counter(), time.thread_time()
            timer._original(handle)
            used = time.thread_time() - cpu
            timer.callbacks.append((time.perf_counter() - wall, used))
            if used > timer.slowest[0]:
                timer.slowest = (used, repr(handle)[:300])

        self.patch = patch.object(asyncio.events.Handle, "_run", timed_run)


async def start_home_assistant(
    stack: AsyncExitStack, timer: LoopTimer, new_transport: Callable[..., EmulatedAtm90e32]
) -> HomeAssistant:
    """A real Home Assistant core in a temporary configuration directory, its meters opened by ``new_transport``.

    A real directory, so the ledger journal is written after every read and the store
    once a minute, as on a Pi.  ``timer`` times the event loop's callbacks while active.
    Everything is undone when ``stack`` closes.
    """
    stack.enter_context(timer.patch)
    stack.enter_context(patch("custom_components.atm90e32.bus.open_transport", side_effect=new_transport))
    config_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="atm90e32-bench-"))
    hass: HomeAssistant = await stack.enter_async_context(async_test_home_assistant(config_dir=config_dir))
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
    return hass


async def bench_home_assistant(chips: int, refreshes: int) -> dict[str, Any]:
    """Whole path through a real Home Assistant core for ``chips`` meters."""
    clock = ManualClock()
    emulators: list[EmulatedAtm90e32] = []
    loop_thread = threading.get_ident()
    on_loop = [0]

    class Watched(EmulatedAtm90e32):
        """Counts transactions made on the event-loop thread."""

        def transfer(self, frame: bytes) -> bytes:
            if threading.get_ident() == loop_thread:
                on_loop[0] += 1
            return super().transfer(frame)

    def new_transport(_data: Any, _config_dir: Any = None, _position: Any = None) -> EmulatedAtm90e32:
        emulator = Watched(TraceLoad(start=len(emulators) * 600), clock=clock)
        emulators.append(emulator)
        return emulator

    timer = LoopTimer()
    samples = []
    async with AsyncExitStack() as stack:
        hass = await start_home_assistant(stack, timer, new_transport)
        entries = []
        for index in range(chips):
            entry = MockConfigEntry(
                domain=DOMAIN,
                version=2,
                data={"device": "simulated", "line_frequency": 60, "wiring": "split_phase_2ct"},
                options={**DEFAULT_OPTIONS, **EXTRA_OPTIONS},
                unique_id=f"bench-{index}",
                title=f"bench {index}",
            )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            entries.append(entry)
        await hass.async_block_till_done()
        coordinators = [entry.runtime_data for entry in entries]
        for coordinator in coordinators:
            coordinator.update_interval = None  # the benchmark drives the refreshes
        for step in range(5 + refreshes):  # 5 warm-up refreshes: first state writes, caches
            timer.active = step >= 5
            clock.advance(5)
            start = time.process_time_ns()
            for coordinator in coordinators:
                await coordinator.async_refresh()
            if timer.active:
                samples.append((time.process_time_ns() - start) / 1e9)
        timer.active = False
        for entry in entries:
            await hass.config_entries.async_unload(entry.entry_id)
    callbacks = timer.callbacks
    return {
        "chips": chips,
        "whole_path": summary(samples),
        "spi_transactions_on_event_loop": on_loop[0],
        "loop_callbacks": len(callbacks),
        "longest_loop_callback_cpu_ms": max((c for _, c in callbacks), default=0.0) * 1000,
        "longest_loop_callback_wall_ms": max((w for w, _ in callbacks), default=0.0) * 1000,
        "loop_callbacks_over_5ms_cpu": sum(1 for _, c in callbacks if c > 0.005),
        "loop_callbacks_over_5ms_wall": sum(1 for w, _ in callbacks if w > 0.005),
        "slowest_loop_callback": timer.slowest[1],
    }


async def bench_many_chips(chips: int, seconds: float, interval_s: int) -> dict[str, Any]:
    """``chips`` circuits chips (3 CTs each) on their own schedule through a real Home Assistant, in real time.

    Each chip is one config entry of the circuits wiring with every CT on and the update
    interval option at ``interval_s``; Home Assistant's coordinators refresh them on their
    own timers for ``seconds`` of wall time after a warm-up.  Whole-path CPU is the
    process's CPU time (every thread: event loop, executor, ledger files) less the CPU the
    emulator spent answering transfers (timed in each transfer), per second of wall time
    and per chip refresh.  The event loop's callbacks are timed as in
    :func:`bench_home_assistant`.
    """
    emulator_cpu = [0.0]
    lock = threading.Lock()
    loop_thread = threading.get_ident()
    on_loop = [0]
    index = [0]

    class Timed(EmulatedAtm90e32):
        """Adds the thread CPU each transfer costs to ``emulator_cpu``; counts transfers on the loop thread."""

        def transfer(self, frame: bytes) -> bytes:
            if threading.get_ident() == loop_thread:
                on_loop[0] += 1
            start = time.thread_time()
            try:
                return super().transfer(frame)
            finally:
                used = time.thread_time() - start
                with lock:
                    emulator_cpu[0] += used

    def new_transport(_data: Any, _config_dir: Any = None, _position: Any = None) -> EmulatedAtm90e32:
        start = index[0] * 600
        index[0] += 1
        return Timed(simulated_load(CIRCUITS_ALL, line_frequency=60, start=start), clock=time.monotonic)

    refreshes = [0]
    timer = LoopTimer()
    async with AsyncExitStack() as stack:
        hass = await start_home_assistant(stack, timer, new_transport)
        entries = []
        for n in range(chips):
            position = 1 + n % 2
            names = {
                c.name_option: f"board {n // 2 + 1} CT{3 * (position - 1) + i + 1}"
                for i, c in enumerate(CIRCUITS_ALL.channels)
            }
            entry = MockConfigEntry(
                domain=DOMAIN,
                version=2,
                data={
                    CONF_DEVICE: f"/dev/spidev{n // 3}.{n % 3}",
                    CONF_LINE_FREQUENCY: 60,
                    CONF_WIRING: CIRCUITS_KEY,
                    CONF_BOARD: f"board {n // 2 + 1}",
                    CONF_BOARD_POSITION: position,
                    CONF_CHANNELS: list(CIRCUIT_KEYS),
                },
                options={**default_options(CIRCUITS_ALL), **names, CONF_UPDATE_INTERVAL: interval_s, **EXTRA_OPTIONS},
                unique_id=f"/dev/spidev{n // 3}.{n % 3}",
                title=f"chip {n}",
            )
            entry.add_to_hass(hass)
            assert await hass.config_entries.async_setup(entry.entry_id)
            entries.append(entry)
        await hass.async_block_till_done()
        for entry in entries:
            entry.runtime_data.async_add_listener(lambda: refreshes.__setitem__(0, refreshes[0] + 1))
        await asyncio.sleep(5 * interval_s)  # warm-up: first state writes, caches
        cpu0, wall0, emu0, count0 = time.process_time(), time.perf_counter(), emulator_cpu[0], refreshes[0]
        timer.active = True
        await asyncio.sleep(seconds)
        timer.active = False
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        emulator, count = emulator_cpu[0] - emu0, refreshes[0] - count0
        for entry in entries:
            await hass.config_entries.async_unload(entry.entry_id)
    whole = cpu - emulator
    callbacks = timer.callbacks
    return {
        "chips": chips,
        "channels": chips * len(CIRCUITS_ALL.channels),
        "interval_s": interval_s,
        "wall_s": wall,
        "chip_refreshes": count,
        "refreshes_expected": chips * wall / interval_s,
        "process_cpu_s": cpu,
        "emulator_cpu_s": emulator,
        "whole_path_cpu_percent_of_one_core": 100 * whole / wall,
        "whole_path_cpu_ms_per_second": 1000 * whole / wall,
        "whole_path_cpu_ms_per_chip_refresh": 1000 * whole / count if count else None,
        "spi_transactions_on_event_loop": on_loop[0],
        "loop_callbacks": len(callbacks),
        "longest_loop_callback_cpu_ms": max((c for _, c in callbacks), default=0.0) * 1000,
        "longest_loop_callback_wall_ms": max((w for w, _ in callbacks), default=0.0) * 1000,
        "loop_callbacks_over_5ms_cpu": sum(1 for _, c in callbacks if c > 0.005),
        "slowest_loop_callback": timer.slowest[1],
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "home_assistant": HA_VERSION,
        "platform": platform.platform(),
    }


EXTRA_OPTIONS: dict[str, Any] = {}
"""Options every entry of the Home Assistant runs gets (``--database-writes``)."""


def row(name: str, value: str, target: str = "", ok: bool | None = None) -> str:
    verdict = "" if ok is None else ("met" if ok else "MISSED")
    return f"{name:<52} {value:>22}  {target:<18} {verdict}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refreshes", type=int, default=300)
    parser.add_argument("--json", default="benchmark-results.json")
    parser.add_argument("--many-chips", type=int, default=14, help="chips of the real-time many-chip run (0: skip)")
    parser.add_argument("--many-seconds", type=float, default=60.0, help="measured wall seconds of that run")
    parser.add_argument(
        "--database-writes",
        choices=[m.value for m in Mode],
        help="the entries' Database writes option (default: its default)",
    )
    args = parser.parse_args(argv)
    if args.database_writes:
        EXTRA_OPTIONS[CONF_DATABASE_WRITES] = args.database_writes

    driver = bench_driver(args.refreshes)
    per_wiring = wiring_transactions()
    runs: dict[int, dict[str, Any]] = {}
    for chips in (1, 2, 4, 8):
        runs[chips] = asyncio.run(bench_home_assistant(chips, args.refreshes))
    many = asyncio.run(bench_many_chips(args.many_chips, args.many_seconds, 1)) if args.many_chips else None
    ours = driver["transactions"]
    minimum = verified_minimum()
    esphome = esphome_plan()

    def bus_us(transactions: int) -> float:
        return transactions * CLOCKS_PER_TRANSACTION / DEFAULT_SPEED_HZ * 1e6

    emulator_ms = driver["emulator_per_refresh"]["median_ms"]
    whole_ms = {n: r["whole_path"]["median_ms"] / n - emulator_ms for n, r in runs.items()}
    # Linear fit of the mean whole refresh (all chips, emulator included) against the chip count.
    xs = sorted(runs)
    ys = [runs[n]["whole_path"]["mean_ms"] for n in xs]
    slope, intercept = statistics.linear_regression(xs, ys)
    fitted = [intercept + slope * x for x in xs]
    mean_y = statistics.fmean(ys)
    r_squared = 1 - sum((y - f) ** 2 for y, f in zip(ys, fitted, strict=True)) / sum((y - mean_y) ** 2 for y in ys)
    longest = max(r["longest_loop_callback_cpu_ms"] for r in runs.values())
    longest_wall = max(r["longest_loop_callback_wall_ms"] for r in runs.values())
    on_loop = sum(r["spi_transactions_on_event_loop"] for r in runs.values())

    results: dict[str, Any] = {
        "machine": machine(),
        "spi_clock_hz": DEFAULT_SPEED_HZ,
        "transactions_per_refresh": {"ours": ours, "verified_minimum": minimum, "esphome": esphome},
        "transactions_per_refresh_by_wiring": per_wiring,
        "bytes_per_refresh": {"ours": ours * 4, "verified_minimum": minimum * 4, "esphome": esphome * 4},
        "bus_time_us_per_refresh": {
            "ours": bus_us(ours),
            "verified_minimum": bus_us(minimum),
            "esphome": bus_us(esphome),
        },
        "driver_cpu": driver["driver"],
        "emulator_cpu_per_refresh": driver["emulator_per_refresh"],
        "home_assistant": {str(n): r for n, r in runs.items()},
        "whole_path_ms_per_chip_without_emulator": {str(n): v for n, v in whole_ms.items()},
        "linear_fit_ms": {"per_chip": slope, "fixed": intercept, "r_squared": r_squared},
        "many_chips_real_time": many,
    }
    Path(args.json).write_text(json.dumps(results, indent=2), encoding="utf-8")

    m = results["machine"]
    print(f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, Home Assistant {m['home_assistant']}")
    print(f"SPI clock {DEFAULT_SPEED_HZ / 1e6:.1f} MHz, {CLOCKS_PER_TRANSACTION} clocks per transaction\n")
    print(row("", "value", "target"))
    print(
        row(
            "transactions per refresh (ours)",
            f"{ours} ({ours * 4} B)",
            f"<= {1.2 * minimum:.0f}",
            ours <= 1.2 * minimum,
        )
    )
    print(row("  verified minimum (DS)", f"{minimum} ({minimum * 4} B)"))
    print(row("  ESPHome read plan (mostly unverified)", f"{esphome} ({esphome * 4} B)"))
    for name, figures in per_wiring.items():
        wiring_ours, wiring_min = figures["ours"], figures["verified_minimum"]
        print(
            row(
                f"  {name}: ours / verified minimum",
                f"{wiring_ours} / {wiring_min}",
                f"<= {1.2 * wiring_min:.0f}",
                wiring_ours <= 1.2 * wiring_min,
            )
        )
    print(
        row(
            "bus time per refresh (ours / min / ESPHome)",
            f"{bus_us(ours):.0f}/{bus_us(minimum):.0f}/{bus_us(esphome):.0f} us",
        )
    )
    d = driver["driver"]
    print(
        row(
            "driver + decoding CPU per chip-refresh",
            f"{d['median_ms']:.3f} ms ({d['p05_ms']:.3f}-{d['p95_ms']:.3f})",
            "<= 2 ms median",
            d["median_ms"] <= 2.0,
        )
    )
    print(row("  emulator alone (not counted)", f"{emulator_ms:.3f} ms"))
    for n, r in runs.items():
        w = r["whole_path"]
        print(
            row(
                f"whole path, {n} chip(s), per chip, emulator subtracted",
                f"{whole_ms[n]:.3f} ms ({w['p05_ms'] / n - emulator_ms:.2f}-{w['p95_ms'] / n - emulator_ms:.2f})",
                "<= 5 ms",
                whole_ms[n] <= 5.0,
            )
        )
    print(
        row(
            "1..8 chips: ms per chip + fixed, R^2 of linear fit",
            f"{slope:.3f} + {intercept:.3f}, {r_squared:.3f}",
            "linear (R^2~1)",
            r_squared >= 0.98,
        )
    )
    count = sum(r["loop_callbacks"] for r in runs.values())
    over_cpu = sum(r["loop_callbacks_over_5ms_cpu"] for r in runs.values())
    over_wall = sum(r["loop_callbacks_over_5ms_wall"] for r in runs.values())
    print(row("longest event-loop callback, loop-thread CPU", f"{longest:.2f} ms", "<= 5 ms", longest <= 5.0))
    print(row("  same, wall clock (includes GIL waits)", f"{longest_wall:.2f} ms"))
    print(row("  callbacks timed / over 5 ms CPU / over 5 ms wall", f"{count} / {over_cpu} / {over_wall}"))
    print(row("SPI transactions on the event loop", f"{on_loop}", "0", on_loop == 0))
    if many is not None:
        n, ch = many["chips"], many["channels"]
        share = many["whole_path_cpu_percent_of_one_core"]
        print(
            f"\n{n} circuits chips ({ch} channels), {many['interval_s']} s interval, real time, {many['wall_s']:.0f} s:"
        )
        print(row("  chip refreshes done / due", f"{many['chip_refreshes']} / {many['refreshes_expected']:.0f}"))
        print(row("  whole path, emulator subtracted, % of one core", f"{share:.2f} %", "< 5 %", share < 5.0))
        print(
            row(
                "  same, CPU ms per second / per chip refresh",
                f"{many['whole_path_cpu_ms_per_second']:.1f} / {many['whole_path_cpu_ms_per_chip_refresh']:.2f} ms",
            )
        )
        print(row("  emulator CPU, not counted", f"{1000 * many['emulator_cpu_s'] / many['wall_s']:.1f} ms per second"))
        slow = many["longest_loop_callback_cpu_ms"]
        print(row("  longest event-loop callback, loop-thread CPU", f"{slow:.2f} ms", "<= 5 ms", slow <= 5.0))
        print(
            row(
                "  SPI transactions on the event loop",
                f"{many['spi_transactions_on_event_loop']}",
                "0",
                many["spi_transactions_on_event_loop"] == 0,
            )
        )
    print(f"\nJSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
