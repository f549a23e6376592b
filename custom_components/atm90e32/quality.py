"""Watching the supply across refreshes: power-quality event counters and the findings a person should fix.

No Home Assistant import: the coordinator persists the counters and turns findings into
repair issues.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .driver.channels import Wiring
from .driver.models import MeterSnapshot
from .driver.power_quality import (
    COUNTED,
    VOLTAGE_CONDITIONS,
    Condition,
    ConditionKey,
    ConditionTracker,
    Transition,
    monitored,
)
from .driver.registers import CURRENT_LSB_A, Phase

FULL_SCALE_A: Final = 0xFFFF * CURRENT_LSB_A
"""Irms reads at most 65.535 A (DS p.70); a current there is clipped."""
REVERSED_POWER_W: Final = -10.0
"""Below -10 W is more than the +-1 W idle circuits read (atm90e32as-facts, real idle readings)."""
REVERSED_AFTER_S: Final = 60.0
"""Negative power this long, with no generation declared, suggests a CT facing the wrong way."""
VOLTAGE_RANGE_PERCENT: Final = 10.0
"""Voltage this far from nominal, either way, is out of range (IEC 60038 supplies: +-10 %)."""
VOLTAGE_RANGE_AFTER_S: Final = 600.0
"""Out of range this long (10 minutes, IEC 61000-4-30's aggregation interval) is worth a repair."""


class Finding(StrEnum):
    """Something wrong with the installation or the supply that a person can act on (a repair issue)."""

    CURRENT_CLIPPED = "current_clipped"
    CT_REVERSED = "ct_reversed"
    VOLTAGE_OUT_OF_RANGE = "voltage_out_of_range"


@dataclass(frozen=True, slots=True)
class Report:
    """What one refresh changed: findings to raise (with the value that shows it) and findings now gone."""

    raised: Mapping[tuple[Finding, str], float]
    cleared: frozenset[tuple[Finding, str]]


def counter_key(channel_key: str, condition: str) -> str:
    """Storage and entity key of a channel's event counter, e.g. ``l1_sag``."""
    return f"{channel_key}_{condition}"


def condition_key(wiring: Wiring, condition: Condition, phase: Phase | None) -> str:
    """The key of a condition on ``phase`` (None: the service's): its entity's, its counter's and its stored name.

    ``l1_sag`` for a channel's; the condition alone (``sag``, ``frequency_high``) for the
    service's and for a voltage condition of a chip whose channels share one voltage
    (circuits, :attr:`Wiring.voltage_phases`): one per chip, on the chip's device.
    """
    if phase is None or (wiring.shared_voltage and condition in VOLTAGE_CONDITIONS):
        return condition.value
    return counter_key(wiring.channel(phase).key, condition)


class SupplyWatch:
    """Event counters per channel and the timers behind the findings.

    Args:
        wiring: the channel table.
        nominal_voltage: V, for the voltage range.
        scale: current scaling (1, 2, 4): the readings it is given are as shown.
        export_expected: the service has generation, so negative power is export.
        factors: channel key -> 240 V factor (circuit_factor): a channel's shown voltage is
            divided by it before the range is judged, as the supply is the leg's.
        conditions: the meter's condition tracker, given the conditions true at the end of
            the previous run when they are restored (so one still true is not a new start).
    """

    def __init__(
        self,
        wiring: Wiring,
        *,
        nominal_voltage: float,
        scale: int,
        export_expected: bool,
        factors: Mapping[str, int] | None = None,
        conditions: ConditionTracker | None = None,
    ) -> None:
        """Start with every counter at zero and nothing found."""
        self.wiring = wiring
        self.conditions = conditions
        self.active: frozenset[ConditionKey] = frozenset()
        """The conditions true at the last refresh (stored with the counters)."""
        self.nominal_voltage = nominal_voltage
        self.scale = scale
        self.export_expected = export_expected
        self.factors = dict(factors or {})
        self.counters: dict[str, int] = {
            condition_key(wiring, condition, phase): 0 for phase in wiring.voltage_phases for condition in COUNTED
        }
        self._since: dict[tuple[Finding, str], float] = {}
        self._raised: set[tuple[Finding, str]] = set()

    def _active_names(self) -> dict[str, ConditionKey]:
        """Each watched condition by its stored name (:func:`condition_key`)."""
        wiring = self.wiring
        return {
            condition_key(wiring, condition, phase): (condition, phase)
            for condition, phase in monitored(wiring.phases, wiring.voltage_phases)
        }

    def _legacy(self) -> dict[str, str]:
        """Names stored before a shared voltage's conditions were the chip's: ``ct2_sag`` -> ``sag``."""
        if not self.wiring.shared_voltage:
            return {}
        return {
            counter_key(channel.key, condition): condition.value
            for channel in self.wiring.channels
            for condition in VOLTAGE_CONDITIONS
        }

    def as_dict(self) -> dict[str, object]:
        """The counters (``{"l1_sag": n, ...}``) and ``active``: the names of the conditions true now."""
        active = sorted(name for name, key in self._active_names().items() if key in self.active)
        return {**self.counters, "active": active}

    def restore(self, stored: Mapping[str, object]) -> None:
        """Raise each counter to its stored value (a damaged value is ignored; counters never decrease).

        A chip whose channels share one voltage counted its sags per circuit before (``ct1_sag``, ...,
        each the same voltage's): its one counter takes the largest of them.
        """
        names = {key: key for key in self.counters} | self._legacy()
        for name, key in names.items():
            value = stored.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                self.counters[key] = max(self.counters[key], value)

    def restore_active(self, stored: Mapping[str, object]) -> None:
        """The newest record's ``active`` list becomes the condition tracker's state before its first refresh.

        Unknown names are ignored; a record without the list (written before it was kept)
        leaves the tracker knowing nothing, so a condition true at the first refresh starts then.
        """
        active = stored.get("active")
        if isinstance(active, list):
            names = self._active_names()
            legacy = {old: names[new] for old, new in self._legacy().items()}
            known = names | legacy
            self.active = frozenset(known[name] for name in active if isinstance(name, str) and name in known)
            if self.conditions is not None:
                self.conditions.active = self.active

    def count(self, transitions: Iterable[Transition], active: frozenset[ConditionKey] = frozenset()) -> bool:
        """Count the starts of sags, swells and phase losses, keep ``active``; returns whether a counter moved."""
        self.active = active
        moved = False
        for transition in transitions:
            if transition.started and transition.condition in COUNTED and transition.phase is not None:
                self.counters[condition_key(self.wiring, transition.condition, transition.phase)] += 1
                moved = True
        return moved

    def check(self, snapshot: MeterSnapshot, now: float) -> Report:
        """Judge one refresh's readings (as shown: scaled, inversion applied) at ``now`` seconds (monotonic).

        A clipped current is raised at once and stays until the settings change; negative
        power and an out-of-range voltage must last REVERSED_AFTER_S / VOLTAGE_RANGE_AFTER_S
        and clear when they end.
        """
        raised: dict[tuple[Finding, str], float] = {}
        cleared: set[tuple[Finding, str]] = set()
        low = self.nominal_voltage * (1 - VOLTAGE_RANGE_PERCENT / 100)
        high = self.nominal_voltage * (1 + VOLTAGE_RANGE_PERCENT / 100)
        for channel in self.wiring.channels:
            reading = snapshot.phases.get(channel.phase)
            if reading is None:
                continue
            volts = reading.voltage / self.factors.get(channel.key, 1)  # the leg's, not the 240 V load's
            clipped = (Finding.CURRENT_CLIPPED, channel.key)
            if reading.current >= FULL_SCALE_A * self.scale - CURRENT_LSB_A / 2 and clipped not in self._raised:
                self._raised.add(clipped)
                raised[clipped] = reading.current
            for finding, wrong, after, value in (
                (
                    Finding.CT_REVERSED,
                    not self.export_expected and reading.active_power < REVERSED_POWER_W,
                    REVERSED_AFTER_S,
                    reading.active_power,
                ),
                (
                    Finding.VOLTAGE_OUT_OF_RANGE,
                    not low <= volts <= high,
                    VOLTAGE_RANGE_AFTER_S,
                    volts,
                ),
            ):
                key = (finding, channel.key)
                if not wrong:
                    self._since.pop(key, None)
                    if key in self._raised:
                        self._raised.discard(key)
                        cleared.add(key)
                    continue
                since = self._since.setdefault(key, now)
                if now - since >= after and key not in self._raised:
                    self._raised.add(key)
                    raised[key] = value
        return Report(raised=raised, cleared=frozenset(cleared))
