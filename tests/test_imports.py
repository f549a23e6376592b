"""A real meter never loads the emulator, its trace or the test tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import sys
from custom_components.atm90e32 import bus, config_flow, coordinator, diagnostics, sensor  # what they load
{open_bus}
loaded = sorted(name for name in sys.modules if name.endswith(".emulator") or name.startswith("tests"))
print(",".join(loaded))
"""


def loaded_after(open_bus: str) -> str:
    """The emulator or test modules a fresh interpreter has loaded after importing the integration and ``open_bus``."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(open_bus=open_bus)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


def test_setting_up_the_integration_imports_no_emulator() -> None:
    assert loaded_after("") == ""


def test_the_simulated_meter_imports_it_when_chosen() -> None:
    assert loaded_after("bus.open_transport({'device': 'simulated'})") == ("custom_components.atm90e32.driver.emulator")
