"""Simulated chips that stay powered while their entry reloads, as a real ATM90E32AS does.

A real chip keeps its registers and the energy it has counted while Home Assistant
reloads the entry (an options save) or restarts: only a power cycle (or a soft reset,
DS p.59 SoftReset) clears them, and the driver then adopts a chip found metering
(driver.chip.Adoption).  A simulated chip opened afresh on every reload was a power
cycle each time: the first read after an options save booked no counts, so the demand
interval it fell in was incomplete and Demand read Unknown for up to one interval.
Here each simulated meter's chip (per config entry) is powered on once and kept in
``hass.data`` until the entry is deleted or the process ends; a reload opens the bus to it again.

Not kept: a chip whose entry data changed (another wiring, frequency or speed: another
simulated installation, so a fresh chip), and a chip playing a replay file (its place in
the file is kept by replay.ReplayPosition with the ledger instead).  A restart of Home
Assistant ends the process and with it the simulated chip: that is a power cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .bus import is_simulated
from .const import CONF_DEVICE, CONF_LINE_FREQUENCY, CONF_REPLAY_FILE, DEFAULT_LINE_FREQUENCY, DOMAIN
from .driver import Phase, Transport
from .settings import entry_wiring

if TYPE_CHECKING:
    from .driver.emulator import LoadSource

HOUSEHOLD: Final = "household"
"""The simulated service as installed: the household trace (bus.simulated_load)."""
NO_LOAD: Final = "no_load"
"""Every breaker off: the voltage on, no current anywhere (the offset step, AN p.23)."""
RESISTIVE_LOAD: Final = "resistive_load"
"""A resistive test load of known current on each channel, power factor 1 (the gain step, AN p.21-22)."""
MOTOR_LOAD: Final = "motor_load"
"""A motor of known power factor on each channel (the phase step, AN p.24 at PF 0.5 inductive)."""
LOAD_MODES: Final = (HOUSEHOLD, NO_LOAD, RESISTIVE_LOAD, MOTOR_LOAD)
"""What the simulated service can be made to draw, the first as installed."""
TEST_AMPS: Final = (10.0, 5.0, 3.0)
"""The test loads' true current on the wiring's first, second and third channel, A rms."""
MOTOR_POWER_FACTOR: Final = 0.5
"""The test motor's true power factor, inductive: the AN's phase calibration point (AN p.24)."""


@dataclass(slots=True)
class _Powered:
    """A simulated chip and the entry data it was powered on for."""

    data: dict[str, Any]
    chip: Transport
    mode: str = HOUSEHOLD
    installed: LoadSource | None = None
    """The load the chip was powered on with, while a test load replaces it."""


POWERED: HassKey[dict[str, _Powered]] = HassKey(f"{DOMAIN}_simulated_chips")
"""Per config entry id of a simulated meter: the chip powered on for it."""


def kept_transport(
    hass: HomeAssistant, entry: ConfigEntry, open_bus: Callable[[], Transport]
) -> Callable[[], Transport]:
    """Wrap ``open_bus`` (blocking) so the simulated chip of ``entry`` is powered on once, not at every reload.

    Returns a callable giving the transport: for a real device, or a simulated chip that
    plays a replay file, ``open_bus`` itself; otherwise the chip kept for the entry in
    ``hass.data`` if it was powered on for the same entry data, else a new one from
    ``open_bus``, kept from then on (until :func:`power_off`).  Closing the transport releases the bus only (the
    emulated chip keeps running, emulator.EmulatedAtm90e32.close).
    Raises what ``open_bus`` raises.
    """
    if not is_simulated(str(entry.data[CONF_DEVICE])) or entry.data.get(CONF_REPLAY_FILE):
        return open_bus
    key, wanted = entry.entry_id, dict(entry.data)

    def open_kept() -> Transport:
        powered = hass.data.setdefault(POWERED, {})
        kept = powered.get(key)
        if kept is None or kept.data != wanted:
            kept = powered[key] = _Powered(wanted, open_bus())
        return kept.chip

    return open_kept


def power_off(hass: HomeAssistant, entry_id: str) -> None:
    """Forget the simulated chip of deleted entry ``entry_id`` (none: nothing happens)."""
    hass.data.get(POWERED, {}).pop(entry_id, None)


def has_load_modes(entry: ConfigEntry) -> bool:
    """Whether ``entry``'s chip is a kept simulated chip, whose load a person may change (no replay, no real one)."""
    return is_simulated(str(entry.data[CONF_DEVICE])) and not entry.data.get(CONF_REPLAY_FILE)


def load_mode(hass: HomeAssistant, entry_id: str) -> str:
    """What the simulated service of ``entry_id`` draws now (:data:`LOAD_MODES`; HOUSEHOLD before its chip is on)."""
    kept = hass.data.get(POWERED, {}).get(entry_id)
    return HOUSEHOLD if kept is None else kept.mode


def set_load_mode(hass: HomeAssistant, entry_id: str, mode: str) -> None:
    """Make the simulated service of ``entry_id`` draw ``mode`` from now on (blocking: run it in the executor).

    The chip meters what flowed until now under the old load (emulator change_load).
    Raises KeyError for an entry without a kept simulated chip, ValueError for an unknown mode.
    """
    from .driver.emulator import EmulatedAtm90e32  # noqa: PLC0415  (a real meter never loads the emulator)

    if mode not in LOAD_MODES:
        raise ValueError(f"unknown load mode {mode!r}")
    kept = hass.data.get(POWERED, {})[entry_id]
    chip = kept.chip
    if not isinstance(chip, EmulatedAtm90e32):
        raise KeyError(entry_id)
    if kept.installed is None:
        kept.installed = chip.load
    chip.change_load(kept.installed if mode == HOUSEHOLD else bench_load(kept.data, mode))
    kept.mode = mode


def bench_load(data: Mapping[str, Any], mode: str) -> LoadSource:
    """The test load ``mode`` (not HOUSEHOLD) on the simulated service of entry ``data``.

    At the service's own voltage (emulator.simulated_volts: 120 V at 60 Hz, 230 V at 50 Hz;
    a delta service 240 / 400 V line to line), every phase present; the wiring's channels
    carry :data:`TEST_AMPS` in order (none for NO_LOAD), at power factor 1 (RESISTIVE_LOAD)
    or :data:`MOTOR_POWER_FACTOR` inductive (MOTOR_LOAD).  A delta service's loads sit
    between L1 and L2 and between L2 and L3, nothing between L3 and L1, so each of its two
    channels sees its own load alone, current and power factor as stated.
    """
    from .driver.emulator import (  # noqa: PLC0415  (a real meter never loads the emulator)
        CircuitLoad,
        ConstantLoad,
        DeltaLoad,
        ThreePhaseLoad,
        simulated_volts,
    )

    wiring = entry_wiring(data)
    frequency = int(data.get(CONF_LINE_FREQUENCY, DEFAULT_LINE_FREQUENCY))
    volts = simulated_volts(wiring, frequency)
    pf = MOTOR_POWER_FACTOR if mode == MOTOR_LOAD else 1.0
    amps = dict.fromkeys(Phase, 0.0)
    if mode != NO_LOAD:
        amps.update({channel.phase: a for channel, a in zip(wiring.channels, TEST_AMPS, strict=False)})
    watts = {phase: volts * a * pf for phase, a in amps.items()}
    if wiring.delta:
        return DeltaLoad(watts=(watts[Phase.A], watts[Phase.C], 0.0), volts=volts, power_factor=pf, frequency=frequency)
    if wiring.three_phase:
        a, b, c = (watts[phase] for phase in Phase)
        return ThreePhaseLoad(watts=(a, b, c), volts=volts, power_factor=pf, frequency=frequency)
    if wiring.shared_voltage:
        return CircuitLoad(watts=watts, volts=volts, default_power_factor=pf, frequency=frequency)
    return ConstantLoad(watts=(watts[Phase.A], watts[Phase.C]), volts=volts, power_factor=pf, frequency=frequency)
