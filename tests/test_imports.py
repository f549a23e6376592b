"""A real meter never loads the emulator, its trace or the test tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import sys
import custom_components.atm90e32 as integration
from custom_components.atm90e32 import config_flow, coordinator, diagnostics, sensor

transport = None if True else None
loaded = sorted(name for name in sys.modules if name.endswith(".emulator") or name.startswith("tests"))
print(",".join(loaded))
"""


def test_setting_up_the_integration_imports_no_emulator() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == ""


def test_the_simulated_meter_imports_it_when_chosen() -> None:
    probe = PROBE.replace("None if True else None", "coordinator.open_transport({'device': 'simulated'})")
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "custom_components.atm90e32.driver.emulator"
