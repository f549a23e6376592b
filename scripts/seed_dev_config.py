"""Add a simulated-meter config entry to a development configuration that has none.

Usage: python scripts/seed_dev_config.py CONFIG_DIR [SIMULATION_SPEED]

SIMULATION_SPEED (default 1) plays that many trace seconds per real second.

Writes CONFIG_DIR/.storage/core.config_entries through Home Assistant's own ConfigEntry
class, so the format is the installed Home Assistant's.  Leaves an existing file alone:
whatever the developer changed in the UI is kept.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import MappingProxyType

from homeassistant.config_entries import (
    SOURCE_USER,
    STORAGE_KEY,
    STORAGE_VERSION,
    STORAGE_VERSION_MINOR,
    ConfigEntry,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from custom_components.atm90e32.const import (
    CONF_DEVICE,
    CONF_LINE_FREQUENCY,
    CONF_SIMULATION_SPEED,
    CONF_WIRING,
    DEFAULT_LINE_FREQUENCY,
    DEFAULT_OPTIONS,
    DOMAIN,
    MODEL,
    SIMULATED,
)
from custom_components.atm90e32.driver.channels import SPLIT_PHASE


def main(config_dir: Path, simulation_speed: float = 1.0) -> None:
    path = config_dir / ".storage" / STORAGE_KEY
    if path.exists():
        return
    entry = ConfigEntry(
        data={
            CONF_DEVICE: SIMULATED,
            CONF_LINE_FREQUENCY: DEFAULT_LINE_FREQUENCY,
            CONF_WIRING: SPLIT_PHASE.key,
            CONF_SIMULATION_SPEED: simulation_speed,
        },
        discovery_keys=MappingProxyType({}),
        domain=DOMAIN,
        minor_version=1,
        options=dict(DEFAULT_OPTIONS),
        source=SOURCE_USER,
        subentries_data=None,
        title=f"{MODEL} ({SIMULATED})",
        unique_id=SIMULATED,
        version=2,
    )
    store = {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_VERSION_MINOR,
        "key": STORAGE_KEY,
        "data": {"entries": [entry.as_dict()]},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2), encoding="utf-8")
    print(f"develop: added the simulated meter to {config_dir}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 1.0)
