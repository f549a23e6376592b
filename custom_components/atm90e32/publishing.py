"""When a sensor writes a new state: the publishing policy of each description (no Home Assistant import).

Home Assistant's recorder writes a ``states`` row (and InfluxDB a point) for every state
that changed.  A household's power changes every second, so a sensor that writes every
refresh costs about 17,000 rows a day at 5 s, most of them saying nothing new.  A
policy (the field's ``delta``, ``heartbeat`` and ``throttle_average`` filters, as
ESPHome users set them) decides at each refresh whether the entity writes:

- energy (lifetime kWh) writes at the last refresh before each ``every_s`` boundary
  of the wall clock (a minute, or 5 minutes under "lean") with the ledger's exact
  value.  Home Assistant compiles statistics every 5 minutes from the last state before
  the boundary, so the Energy dashboard's hours still equal the count; the entities also
  write at stop and unload;
- a measurement writes when it moved by more than ``deadband`` (in the state's unit,
  per quantity, below) from what was last written, or when ``heartbeat_s`` has passed;
- a power with energy counters behind it (a channel's or the service's active power)
  writes, instead of the last sample, the exact mean power of the stretch since its
  last write, from the ledger's counts (:func:`mean_power_w`), so the integral of the
  recorded power equals the energy however long a value was held;
- everything else (binary sensors, events, counters, the demand of a closed interval,
  the peak) writes at once, as does every sensor under "every refresh".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from .driver.registers import ENERGY_LSB_WH

CONF_DATABASE_WRITES: Final = "database_writes"
"""Entry option: one of :class:`Mode` (default balanced)."""


class Mode(StrEnum):
    """The "Database writes" option."""

    EVERY_REFRESH = "every_refresh"
    BALANCED = "balanced"
    LEAN = "lean"


DEFAULT_MODE: Final = Mode.BALANCED


def mode_of(options: Mapping[str, Any]) -> Mode:
    """The mode chosen in entry ``options``; an entry without it (or an unknown value) gets the default."""
    try:
        return Mode(options.get(CONF_DATABASE_WRITES, DEFAULT_MODE))
    except ValueError:
        return DEFAULT_MODE


class Quantity(StrEnum):
    """What a sensor states, as far as publishing goes."""

    ENERGY = "energy"
    POWER = "power"
    """Active, reactive, apparent, fundamental and harmonic power, total power (W, var, VA)."""
    CURRENT = "current"
    VOLTAGE = "voltage"
    POWER_FACTOR = "power_factor"
    FREQUENCY = "frequency"
    ANGLE = "angle"
    PERCENT = "percent"
    PROJECTION = "projection"
    """Projected demand: the running interval's average projected to its end, new at every refresh."""
    IMMEDIATE = "immediate"
    """Counters, chip temperature (1 degree C steps), closed-interval demand, peak demand and its time."""


@dataclass(frozen=True, kw_only=True)
class Policy:
    """When to write: at the last refresh before each ``every_s`` boundary, or on a change beyond ``deadband``.

    ``every_s``: seconds between wall-clock boundaries (UTC epoch multiples); the entity
    writes at the last refresh before each.  ``deadband``: a change of more than this
    (state units) writes at once; None with ``every_s`` None: any change writes.
    ``heartbeat_s``: seconds after which a held value is written again anyway.
    """

    every_s: float | None = None
    deadband: float | None = None
    heartbeat_s: float | None = None


IMMEDIATE: Final = Policy()
"""Any change writes at once (Home Assistant itself skips a state equal to the last one)."""

DEADBANDS: Final[Mapping[Quantity, float]] = {
    Quantity.POWER: 20.0,
    Quantity.CURRENT: 0.2,
    Quantity.VOLTAGE: 0.5,
    Quantity.POWER_FACTOR: 0.02,
    Quantity.FREQUENCY: 0.05,
    Quantity.ANGLE: 2.0,
    Quantity.PERCENT: 0.5,
}
"""Balanced deadbands, in the state's unit; lean multiplies them by LEAN_FACTOR.

The datasheet states Vrms, Irms, P, Q, S, power factor and angle to +-0.5 % fiducial
(of full scale): Irms full scale is 65.535 A (DS p.70), so +-0.33 A; power at a 120 V
leg's full scale (7.9 kW) +-39 W.  A change within about half of that is not a new fact
about the load: power 20 W, current 0.2 A (20 W at 120 V, about 0.3 % of full scale).
Voltage 0.5 V: within the +-0.6 V the chip guarantees at 120 V (UrmsA-C step 0.01 V,
DS p.70).  Power factor 0.02 (PFmean steps by 0.001, DS p.69; +-0.5 % of its span of 2
is 0.01).  Frequency 0.05 Hz: five Freq steps (0.01 Hz, DS p.71); a grid holds 50/60 Hz
within about that in normal operation.  Angle 2 degrees (0.5 % of 360, PAngle and
Uangle step 0.1, DS p.71).  Percent (voltage unbalance, harmonic share) 0.5 points.
The energy counters are what stays exact: the power written is their mean (see the module).
"""
HEARTBEAT_S: Final = 300.0
"""Balanced: a held measurement is written again after 5 minutes (one statistics period)."""
LEAN_FACTOR: Final = 2.5
LEAN_HEARTBEAT_S: Final = 900.0
ENERGY_EVERY_S: Final[Mapping[Mode, float]] = {Mode.BALANCED: 60.0, Mode.LEAN: 300.0}
"""Energy: the last refresh before each minute (balanced) or each 5-minute statistics boundary (lean)."""
PROJECTION_EVERY_S: Final[Mapping[Mode, float]] = {Mode.BALANCED: 60.0, Mode.LEAN: 300.0}


def policy(quantity: Quantity, mode: Mode) -> Policy:
    """The policy of ``quantity`` under ``mode`` (every refresh: IMMEDIATE for all)."""
    if mode is Mode.EVERY_REFRESH or quantity is Quantity.IMMEDIATE:
        return IMMEDIATE
    if quantity is Quantity.ENERGY:
        return Policy(every_s=ENERGY_EVERY_S[mode])
    if quantity is Quantity.PROJECTION:
        return Policy(every_s=PROJECTION_EVERY_S[mode])
    lean = mode is Mode.LEAN
    return Policy(
        deadband=DEADBANDS[quantity] * (LEAN_FACTOR if lean else 1.0),
        heartbeat_s=LEAN_HEARTBEAT_S if lean else HEARTBEAT_S,
    )


_BY_DEVICE_CLASS: Final[Mapping[str, Quantity]] = {
    "energy": Quantity.ENERGY,
    "power": Quantity.POWER,
    "reactive_power": Quantity.POWER,
    "apparent_power": Quantity.POWER,
    "current": Quantity.CURRENT,
    "voltage": Quantity.VOLTAGE,
    "power_factor": Quantity.POWER_FACTOR,
    "frequency": Quantity.FREQUENCY,
}
_BY_UNIT: Final[Mapping[str, Quantity]] = {"W": Quantity.POWER, "°": Quantity.ANGLE, "%": Quantity.PERCENT}


def quantity_of(key: str, device_class: str | None, unit: str | None, state_class: str | None) -> Quantity:
    """The quantity of a sensor description from its key, device class, unit and state class (strings).

    Only measurements (state class ``measurement``) and energy are held back; the demand
    sensors (keys ``demand``, ``peak_demand``) change once an interval and write at once,
    the projected demand is a PROJECTION.
    """
    if key == "projected_demand":
        return Quantity.PROJECTION
    if device_class == "energy":
        return Quantity.ENERGY
    if state_class != "measurement" or key in ("demand", "peak_demand"):
        return Quantity.IMMEDIATE
    if device_class is not None and device_class in _BY_DEVICE_CLASS:
        return _BY_DEVICE_CLASS[device_class]
    if unit is not None and unit in _BY_UNIT:
        return _BY_UNIT[unit]
    return Quantity.IMMEDIATE


JOULES_PER_COUNT: Final = ENERGY_LSB_WH * 3600.0
"""One energy count is 0.003125 Wh (DS p.12), 11.25 J."""


def mean_power_w(counts: int, seconds: float) -> float:
    """Mean power, W, of ``counts`` net energy counts (import minus export) booked over ``seconds``.

    Raises ValueError for ``seconds`` <= 0.
    """
    if seconds <= 0:
        raise ValueError("a mean needs a stretch of time")
    return counts * JOULES_PER_COUNT / seconds


def last_before_boundary(now: float, interval_s: float, every_s: float) -> bool:
    """Whether the refresh at ``now`` (Unix s) is the last before the next multiple of ``every_s``.

    The next refresh is due ``interval_s`` later (the coordinator schedules it one
    interval after this one, on the same fraction of a second); it falls on or after
    the boundary exactly when this is the last refresh before it.  An interval as long
    as ``every_s`` or longer makes every refresh the last.
    """
    return math.floor((now + interval_s) / every_s) > math.floor(now / every_s)


@dataclass(frozen=True)
class Written:
    """What an entity last wrote: the value, when (Unix s), and the net energy counts then (None without)."""

    value: float | None
    at: float
    counts: int | None = None
    counts_at: float | None = None


class Publisher:
    """One entity's publishing state under ``policy``: asks whether a refresh writes, and what value.

    Call :meth:`offer` at each refresh; when it returns True the entity writes
    :attr:`shown`.  :meth:`forget` (the entity went unavailable) makes the next offer
    write.  Not thread-safe: the event loop only.
    """

    def __init__(self, policy: Policy) -> None:
        """Start with nothing written."""
        self.policy = policy
        self.written: Written | None = None
        self.shown: float | None = None
        """The value to state: the last one written (the sample, or the stretch's mean power)."""

    def forget(self) -> None:
        """Nothing written counts any more (the entity was unavailable): the next offer writes."""
        self.written = None

    def offer(
        self,
        value: float | None,
        now: float,
        interval_s: float,
        *,
        energy: tuple[int, float] | None = None,
        force: bool = False,
    ) -> bool:
        """Whether the refresh at ``now`` (Unix s) writes ``value``; sets :attr:`shown` when it does.

        ``interval_s``: seconds to the next refresh.  ``energy``: the lifetime net counts
        behind a power sensor and when they were booked (Unix s); given, the value
        written is the mean power of the stretch since the last write (the sample when
        there is no earlier write or no time has passed).  ``force`` writes whatever the
        policy says (Home Assistant stops, the entity is removed).
        """
        if not force and not self._due(value, now, interval_s):
            return False
        shown = value
        last = self.written
        counts, counts_at = energy if energy is not None else (None, None)
        if (
            energy is not None
            and value is not None
            and last is not None
            and last.counts is not None
            and last.counts_at is not None
            and counts is not None
            and counts_at is not None
            and counts_at > last.counts_at
        ):
            shown = mean_power_w(counts - last.counts, counts_at - last.counts_at)
        self.written = Written(shown, now, counts, counts_at)
        self.shown = shown
        return True

    def _due(self, value: float | None, now: float, interval_s: float) -> bool:
        policy, last = self.policy, self.written
        if last is None or policy == IMMEDIATE:
            return True
        if value is None or last.value is None:
            return value is not last.value
        if policy.every_s is not None:  # or a boundary was missed (a refresh late or out of step)
            return last_before_boundary(now, interval_s, policy.every_s) or now - last.at >= policy.every_s
        if policy.deadband is not None and abs(value - last.value) > policy.deadband:
            return True
        return policy.heartbeat_s is not None and now - last.at >= policy.heartbeat_s
