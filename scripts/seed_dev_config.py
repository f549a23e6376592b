"""Add simulated meters of every wiring to a development configuration that has none.

Usage: python scripts/seed_dev_config.py CONFIG_DIR [SIMULATION_SPEED] [--wirings KEY,...]

SIMULATION_SPEED (default 1) plays that many trace seconds per real second.  ``--wirings``
keeps only the chips of those wirings (``split_phase_2ct``, ``circuits``,
``three_phase_wye``, ``three_phase_delta``): the end-to-end tests and the bill screenshots
use the split-phase meter alone.

Five chips on the simulated bus, side by side (each replays the household trace by the
emulator's documented rule):

- ``simulated``: split-phase mains, two CTs (60 Hz, 120/240 V);
- ``simulated_1`` and ``simulated_2``: a 6-channel board as two circuits chips
  (CT1-CT3 and CT4-CT6, named as on the board; one shared 120 V transformer), metering
  parts of the mains' house at the same moment: together 95 % of it (emulator.BOARD_SHARES);
- ``simulated_3``: three-phase four-wire 230/400 V, 50 Hz, a transformer per phase;
- ``simulated_4``: three-phase three-wire (delta) 240 V, 60 Hz, transformers across L1-L2 and L3-L2.

Writes CONFIG_DIR/.storage/core.config_entries through Home Assistant's own ConfigEntry
class, so the format is the installed Home Assistant's, at the entry version the config flow
writes now (2.2: a circuits chip's circuits are subentries), so nothing migrates at start.
Leaves an existing file alone: whatever the developer changed in the UI is kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    SOURCE_USER,
    STORAGE_KEY,
    STORAGE_VERSION,
    STORAGE_VERSION_MINOR,
    ConfigEntry,
    ConfigSubentryData,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from custom_components.atm90e32.bus import simulated_device
from custom_components.atm90e32.circuits import CIRCUIT_OPTIONS, circuit_subentry
from custom_components.atm90e32.config_flow import Atm90e32ConfigFlow
from custom_components.atm90e32.const import (
    CONF_BOARD,
    CONF_BOARD_POSITION,
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_SIMULATION_SPEED,
    CONF_VOLTAGE_SYSTEM,
    CONF_VOLTAGE_TRANSFORMERS,
    CONF_WIRING,
    DEFAULT_LINE_FREQUENCY,
    DOMAIN,
    MODEL,
    SIMULATED,
    VT_DUAL,
)
from custom_components.atm90e32.driver.channels import (
    CIRCUIT_KEYS,
    CIRCUITS_KEY,
    SPLIT_PHASE,
    THREE_PHASE_DELTA,
    THREE_PHASE_WYE,
    WIRINGS,
    circuits_wiring,
)
from custom_components.atm90e32.publishing import CONF_DATABASE_WRITES, Mode
from custom_components.atm90e32.settings import DEFAULT_OPTIONS, default_options
from custom_components.atm90e32.wiring_form import default_circuit_name


def entries(simulation_speed: float) -> list[ConfigEntry]:
    """The five simulated chips, as the config flow would create them with its defaults."""
    six_channel = []
    for position, device in ((1, simulated_device(1)), (2, simulated_device(2))):
        wiring = circuits_wiring(CIRCUIT_KEYS)
        options = default_options(wiring)
        circuits = [circuit_subentry(c, default_circuit_name(c, position), options) for c in wiring.channels]
        six_channel.append(
            entry(
                {
                    CONF_DEVICE: device,
                    CONF_LINE_FREQUENCY: 60,
                    CONF_WIRING: CIRCUITS_KEY,
                    CONF_BOARD: "6-channel board",
                    CONF_BOARD_POSITION: position,
                },
                {key: value for key, value in options.items() if key not in CIRCUIT_OPTIONS},
                f"6-channel board CT{3 * position - 2}-CT{3 * position} ({device})",
                simulation_speed,
                circuits,
            )
        )
    three_phase = entry(
        {
            CONF_DEVICE: simulated_device(3),
            CONF_LINE_FREQUENCY: 50,
            CONF_WIRING: THREE_PHASE_WYE.key,
            CONF_BOARD: MODEL,
            CONF_VOLTAGE_SYSTEM: "230_400",
        },
        {**default_options(THREE_PHASE_WYE), CONF_VOLTAGE_TRANSFORMERS: VT_DUAL},
        f"{MODEL} ({simulated_device(3)})",
        simulation_speed,
    )
    delta = entry(
        {
            CONF_DEVICE: simulated_device(4),
            CONF_LINE_FREQUENCY: 60,
            CONF_WIRING: THREE_PHASE_DELTA.key,
            CONF_BOARD: MODEL,
            CONF_VOLTAGE_SYSTEM: "delta_240",
        },
        default_options(THREE_PHASE_DELTA),
        f"{MODEL} ({simulated_device(4)})",
        simulation_speed,
    )
    split_phase = entry(
        {CONF_DEVICE: SIMULATED, CONF_LINE_FREQUENCY: DEFAULT_LINE_FREQUENCY, CONF_WIRING: SPLIT_PHASE.key},
        dict(DEFAULT_OPTIONS),
        f"{MODEL} ({SIMULATED})",
        simulation_speed,
    )
    return [split_phase, *six_channel, three_phase, delta]


def entry(
    data: dict[str, Any],
    options: dict[str, Any],
    title: str,
    simulation_speed: float,
    subentries: list[ConfigSubentryData] | None = None,
) -> ConfigEntry:
    """One config entry of a simulated chip as the flow makes it now: its version, its chip select as unique id."""
    return ConfigEntry(
        data={**data, CONF_SIMULATION_SPEED: simulation_speed},
        discovery_keys=MappingProxyType({}),
        domain=DOMAIN,
        minor_version=Atm90e32ConfigFlow.MINOR_VERSION,
        options=options,
        source=SOURCE_USER,
        subentries_data=subentries,
        title=title,
        unique_id=data[CONF_DEVICE],
        version=Atm90e32ConfigFlow.VERSION,
    )


def replace_options(config_entry: ConfigEntry, options: dict[str, Any]) -> ConfigEntry:
    """``config_entry`` with ``options`` instead of its own (its subentries kept)."""
    data = {key: value for key, value in config_entry.data.items() if key != CONF_SIMULATION_SPEED}
    speed = float(config_entry.data[CONF_SIMULATION_SPEED])
    subentries = [
        ConfigSubentryData(data=sub.data, subentry_type=sub.subentry_type, title=sub.title, unique_id=sub.unique_id)
        for sub in config_entry.subentries.values()
    ]
    return entry(data, options, config_entry.title, speed, subentries)


INCLUDED_FILES: dict[str, str] = {"automations.yaml": "[]\n", "scripts.yaml": "", "scenes.yaml": "[]\n"}
"""What configuration.yaml's ``!include`` lines need, as Home Assistant writes them for a new configuration."""


def write_included_files(config_dir: Path) -> None:
    """Create the files configuration.yaml includes, empty, where missing (the UI saves automations there)."""
    for name, empty in INCLUDED_FILES.items():
        if not (config_dir / name).exists():
            (config_dir / name).write_text(empty, encoding="utf-8")


def main(
    config_dir: Path,
    simulation_speed: float = 1.0,
    wirings: frozenset[str] | None = None,
    database_writes: str | None = None,
) -> None:
    """Write the entries (of ``wirings`` only, when given) unless the configuration has entries already.

    ``database_writes`` (a publishing.Mode value) sets every entry's "Database writes" option.

    Also creates the files configuration.yaml includes, where missing.
    """
    write_included_files(config_dir)
    path = config_dir / ".storage" / STORAGE_KEY
    if path.exists():
        return
    chosen = [e for e in entries(simulation_speed) if wirings is None or e.data[CONF_WIRING] in wirings]
    if database_writes is not None:
        chosen = [replace_options(e, {**e.options, CONF_DATABASE_WRITES: database_writes}) for e in chosen]
    store = {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_VERSION_MINOR,
        "key": STORAGE_KEY,
        "data": {"entries": [e.as_dict() for e in chosen]},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2), encoding="utf-8")
    print(f"develop: added {len(chosen)} simulated meters ({', '.join(sorted(wirings or WIRINGS))}) to {config_dir}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config_dir", type=Path)
    parser.add_argument("simulation_speed", type=float, nargs="?", default=1.0)
    parser.add_argument("--wirings", type=lambda v: frozenset(v.split(",")), default=None)
    parser.add_argument("--database-writes", choices=[mode.value for mode in Mode], default=None)
    args = parser.parse_args()
    unknown = (args.wirings or frozenset()) - set(WIRINGS)
    if unknown:
        parser.error(f"unknown wirings: {', '.join(sorted(unknown))}; known: {', '.join(WIRINGS)}")
    main(args.config_dir, args.simulation_speed, args.wirings, args.database_writes)
