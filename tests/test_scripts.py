"""The README's measuring scripts still run, on a small scale: a change to the integration cannot break them unseen.

They are run as a person runs them (a subprocess of this Python), and their JSON is
checked for what each measures; the figures themselves are the scripts' business, not
a test's (no timing is asserted).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(script: str, *args: str) -> None:
    """Run ``scripts/<script>`` with ``args``; fail with its output when it exits non-zero."""
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / script), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_benchmark_runs_and_reads_nothing_on_the_event_loop(tmp_path: Path) -> None:
    out = tmp_path / "benchmark.json"
    run("benchmark.py", "--refreshes", "3", "--many-chips", "2", "--many-seconds", "3", "--json", str(out))
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["transactions_per_refresh"]["ours"] == 90
    assert set(results["transactions_per_refresh_by_wiring"]) == {
        "split-phase, 2 CTs",
        "circuits, 3 CTs",
        "three-phase wye",
    }
    many = results["many_chips_real_time"]
    assert many["chips"] == 2
    assert many["channels"] == 6
    assert many["chip_refreshes"] >= 4  # two chips refreshed about every second for 3 s
    assert many["spi_transactions_on_event_loop"] == 0
    assert all(run["spi_transactions_on_event_loop"] == 0 for run in results["home_assistant"].values())


def test_recorder_benchmark_runs_and_counts_rows(tmp_path: Path) -> None:
    out = tmp_path / "recorder.json"
    run("recorder_benchmark.py", "--intervals", "30", "--chips", "1", "--wirings", "split_phase", "--json", str(out))
    (result,) = json.loads(out.read_text(encoding="utf-8"))["runs"]
    assert result["interval_s"] == 30
    assert result["mode"] == "balanced"
    assert result["states_rows_hour"] > 0
    assert result["hour_energy_counts"] > 0  # the Energy dashboard's hour, from the recorder's statistics
    assert result["hour_energy_counts"] == result["hour_ledger_counts"]  # ... equals the counts booked in it
    assert result["hour_power_integral"]["total"]["points"] > 1
    assert result["ledger_store_writes_per_day"] > 0


def test_develop_starts_home_assistant_again_when_it_asks_for_a_restart(tmp_path: Path) -> None:
    """ "Restart" in the UI makes hass exit with code 100: scripts/develop runs it again; any other code ends it."""
    runs = tmp_path / "runs"
    # A stand-in for hass: asks for a restart twice, then stops with code 7.
    fake_hass = f'echo run >> {runs}; [ "$(wc -l < {runs})" -ge 3 ] && exit 7; exit 100'
    done = subprocess.run(
        ["bash", "-c", 'source scripts/_lib.sh; restarting bash -c "$1"', "develop", fake_hass],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 7, done.stderr
    assert runs.read_text(encoding="utf-8").split() == ["run"] * 3
    assert done.stderr.count("asked for a restart") == 2
    # scripts/develop starts hass that way.
    develop = (REPO / "scripts" / "develop").read_text(encoding="utf-8")
    assert 'restarting in_env hass -c config "$@"' in develop.splitlines()
