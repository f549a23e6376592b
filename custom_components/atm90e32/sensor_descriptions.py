"""The sensors as data: what each measures, its unit and precision, and which wirings have it (``exists_fn``).

Two kinds of description (the pattern of core's homewizard ``has_fn`` and enphase_envoy's
per-phase templates):

- chip sensors (:data:`CHIP_SENSORS`): one per chip, ``exists_fn(wiring)``;
- channel sensors (:data:`CHANNEL_SENSORS`): templates made once per channel of the wiring
  (sensor.for_channel: key ``<channel key>_<key>``, the channel's name as the ``leg``
  placeholder, or the ``circuit_`` translation key on a circuit's own device),
  ``exists_fn(wiring, channel)``.

sensor.sensors_of lists what a chip of a wiring gets; sensor.py makes the entities of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypedDict

from homeassistant.components.sensor import SensorDeviceClass, SensorEntityDescription, SensorStateClass
from homeassistant.const import (
    DEGREE,
    PERCENTAGE,
    EntityCategory,
    UnitOfApparentPower,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfReactivePower,
    UnitOfTemperature,
)

from . import service_values
from .driver import MeterSnapshot, Phase, PhaseReading
from .driver.channels import Channel, Wiring
from .driver.demand import DemandMeter
from .driver.ledger import DIRECTIONS, TOTAL, Direction, LedgerKey
from .precision import (
    AMPERE,
    DEGREE_STEP,
    HERTZ,
    PEAK_AMPERE,
    PEAK_VOLT,
    PERCENT_STEP,
    POWER_FACTOR,
    UNBALANCE_STEP,
    VOLT,
    WATT,
    rounded,
)


def _every_wiring(_wiring: Wiring) -> bool:
    return True


def _every_channel(_wiring: Wiring, _channel: Channel) -> bool:
    return True


def _service(wiring: Wiring) -> bool:
    """A service (split-phase, three-phase) adds its channels up; a set of circuits does not."""
    return wiring.has_service_total


def _wye(wiring: Wiring) -> bool:
    """Three-phase four-wire: a neutral, three phase voltages."""
    return wiring.three_phase and not wiring.delta


def _delta(wiring: Wiring) -> bool:
    """Three-phase three-wire (3P3W, DS p.56): two elements on the line voltages, no neutral."""
    return wiring.delta


def _adds_apparent_power(wiring: Wiring) -> bool:
    """A service whose channels' apparent powers add up to its own (not delta's two elements)."""
    return wiring.has_service_total and not wiring.delta


@dataclass(frozen=True, kw_only=True)
class ChipSensorDescription(SensorEntityDescription):
    """A measurement of the whole chip or of all its channels together, stated to ``precision`` decimals.

    ``precision`` is what the chip resolves and its accuracy supports: a reading that did
    not change by that much writes no new state (and so no new recorder row).
    ``exists_fn``: whether a chip of the wiring has it.
    """

    value_fn: Callable[[MeterSnapshot], float | None]
    precision: int | None = None
    exists_fn: Callable[[Wiring], bool] = _every_wiring
    state_class: SensorStateClass | None = SensorStateClass.MEASUREMENT


@dataclass(frozen=True, kw_only=True)
class EnergySensorDescription(SensorEntityDescription):
    """The service's lifetime imported or exported active energy from the ledger (``direction`` import/export)."""

    direction: Direction
    exists_fn: Callable[[Wiring], bool] = _every_wiring

    @property
    def ledger_key(self) -> LedgerKey:
        """The ledger's key of the service total: ``(TOTAL, direction)``."""
        return (TOTAL, self.direction)


@dataclass(frozen=True, kw_only=True)
class DemandSensorDescription(SensorEntityDescription):
    """The service's demand (driver/demand.py): ``value_fn`` takes the demand meter and the time now (Unix s)."""

    value_fn: Callable[[DemandMeter, float], float | datetime | None]
    exists_fn: Callable[[Wiring], bool] = _every_wiring


@dataclass(frozen=True, kw_only=True)
class ChannelSensorDescription(SensorEntityDescription):
    """A template made once per channel (sensor.for_channel).

    ``exists_fn(wiring, channel)``: whether that channel of the wiring has it.
    ``on_circuit_device``: on a circuits wiring, the sensor sits on the circuit's own device
    (which carries the circuit's name) with the ``circuit_<key>`` translation key; once made
    for a channel, whether it does.
    """

    exists_fn: Callable[[Wiring, Channel], bool] = _every_channel
    on_circuit_device: bool = True


@dataclass(frozen=True, kw_only=True)
class PhaseSensorDescription(ChannelSensorDescription):
    """A measurement of one channel: ``value_fn(snapshot, phase)``, stated to ``precision`` decimals."""

    value_fn: Callable[[MeterSnapshot, Phase], float | None]
    precision: int | None = None
    state_class: SensorStateClass | None = SensorStateClass.MEASUREMENT


@dataclass(frozen=True, kw_only=True)
class ChannelEnergySensorDescription(ChannelSensorDescription):
    """A channel's lifetime imported or exported active energy from the ledger (``direction`` import/export)."""

    direction: Direction


def _reading(value_fn: Callable[[PhaseReading], float | None]) -> Callable[[MeterSnapshot, Phase], float | None]:
    """``value_fn`` of the phase's reading in the snapshot (None when the phase was not read)."""

    def value(snapshot: MeterSnapshot, phase: Phase) -> float | None:
        reading = snapshot.phases.get(phase)
        return None if reading is None else value_fn(reading)

    return value


HARMONIC_SHARE_MIN_W = 1.0
"""Below 1 W of active power a share of it is noise (idle circuits read +-1 W, atm90e32as-facts)."""


def _harmonic_share(r: PhaseReading) -> float | None:
    """Harmonic active power as a percentage of the active power as shown (DS p.70); None near no load."""
    active = round(r.active_power, WATT)
    if abs(active) < HARMONIC_SHARE_MIN_W:
        return None
    return 100.0 * round(r.harmonic_power, WATT) / active


def _voltage_angle(snapshot: MeterSnapshot, phase: Phase) -> float | None:
    three_phase = snapshot.three_phase
    return None if three_phase is None else three_phase.voltage_angles.get(phase)


def _not_the_reference(wiring: Wiring, channel: Channel) -> bool:
    """A three-phase channel but the reference, whose voltage angle is 0 by definition (DS p.71)."""
    return wiring.three_phase and channel != wiring.reference


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


class _Shared(TypedDict, total=False):
    """Fields several descriptions share (unpacked into each)."""

    device_class: SensorDeviceClass
    native_unit_of_measurement: str
    state_class: SensorStateClass
    suggested_display_precision: int


ENERGY: Final[_Shared] = {
    "device_class": SensorDeviceClass.ENERGY,
    "native_unit_of_measurement": UnitOfEnergy.KILO_WATT_HOUR,
    "state_class": SensorStateClass.TOTAL_INCREASING,
    "suggested_display_precision": 3,
}
"""What every lifetime energy sensor shares.

State class TOTAL_INCREASING: the ledger never decreases (it only adds counts and restores
its last value at start), so the recorder's long-term sums see no resets, no spikes and no
negative steps; a lifetime meter reading is exactly what the Energy dashboard expects of a
grid meter.  Circuits (a wiring without a service total) get no total: circuits are never
netted with each other, and their sum is not what any meter of the service registers.
"""

DEMAND_POWER: Final[_Shared] = {
    "device_class": SensorDeviceClass.POWER,
    "native_unit_of_measurement": UnitOfPower.WATT,
    "state_class": SensorStateClass.MEASUREMENT,
    "suggested_display_precision": 0,
}
"""What the demand power sensors share: demand is the service's (circuits have no service total).

The averages are stated to 0.1 W like the power sensors (WATT); they come from energy
counts, not sampled power.  The peak's time is the start of the peak interval.
"""

CHIP_SENSORS: tuple[ChipSensorDescription | EnergySensorDescription | DemandSensorDescription, ...] = (
    ChipSensorDescription(
        key="total_power",
        translation_key="total_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        precision=WATT,
        value_fn=service_values.total_power,
        exists_fn=_service,
    ),
    ChipSensorDescription(
        key="total_power_factor",
        translation_key="total_power_factor",
        device_class=SensorDeviceClass.POWER_FACTOR,
        suggested_display_precision=2,
        precision=POWER_FACTOR,
        value_fn=service_values.total_power_factor,
        exists_fn=_adds_apparent_power,
    ),
    ChipSensorDescription(
        key="total_power_factor",
        translation_key="total_power_factor",
        device_class=SensorDeviceClass.POWER_FACTOR,
        suggested_display_precision=2,
        precision=POWER_FACTOR,
        value_fn=service_values.delta_power_factor,
        exists_fn=_delta,
    ),
    ChipSensorDescription(
        key="frequency",
        translation_key="frequency",
        device_class=SensorDeviceClass.FREQUENCY,
        native_unit_of_measurement=UnitOfFrequency.HERTZ,
        suggested_display_precision=2,
        precision=HERTZ,
        value_fn=lambda s: s.frequency,
    ),
    ChipSensorDescription(
        key="chip_temperature",
        translation_key="chip_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.temperature,
    ),
    # Neutral current (IrmsN, DS p.70) and voltage unbalance (IEC negative sequence, %) of a three-phase service.
    ChipSensorDescription(
        key="neutral_current",
        translation_key="neutral_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=2,
        precision=AMPERE,
        value_fn=service_values.neutral_current,
        exists_fn=_wye,
    ),
    ChipSensorDescription(
        key="voltage_unbalance",
        translation_key="voltage_unbalance",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        precision=UNBALANCE_STEP,
        value_fn=service_values.voltage_unbalance,
        exists_fn=_wye,
    ),
    ChipSensorDescription(
        key="voltage_unbalance",
        translation_key="voltage_unbalance",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        precision=UNBALANCE_STEP,
        value_fn=service_values.delta_voltage_unbalance,
        exists_fn=_delta,
    ),
    *(
        EnergySensorDescription(
            key=f"{TOTAL}_energy_{direction}",
            translation_key=f"total_energy_{direction}",
            direction=direction,
            exists_fn=_service,
            **ENERGY,
        )
        for direction in DIRECTIONS
    ),
    # Demand of the service: the last interval's average, the running one's projection, the cycle's peak and its time.
    DemandSensorDescription(
        key="demand",
        translation_key="demand",
        value_fn=lambda demand, _now: rounded(demand.demand_w, WATT),
        exists_fn=_service,
        **DEMAND_POWER,
    ),
    DemandSensorDescription(
        key="projected_demand",
        translation_key="projected_demand",
        value_fn=lambda demand, now: rounded(demand.projected_w(now), WATT),
        exists_fn=_service,
        **DEMAND_POWER,
    ),
    DemandSensorDescription(
        key="peak_demand",
        translation_key="peak_demand",
        value_fn=lambda demand, _now: rounded(demand.peak_w, WATT),
        exists_fn=_service,
        **DEMAND_POWER,
    ),
    DemandSensorDescription(
        key="peak_demand_time",
        translation_key="peak_demand_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda demand, _now: _utc(demand.peak_at),
        exists_fn=_service,
    ),
)
"""Every sensor of a chip as a whole, each with the wirings that have it."""

CHANNEL_SENSORS: tuple[ChannelSensorDescription, ...] = (
    PhaseSensorDescription(
        key="voltage",
        translation_key="leg_voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        suggested_display_precision=1,
        precision=VOLT,
        value_fn=_reading(lambda r: r.voltage),
    ),
    PhaseSensorDescription(
        key="current",
        translation_key="leg_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=2,
        precision=AMPERE,
        value_fn=_reading(lambda r: r.current),
    ),
    PhaseSensorDescription(
        key="power",
        translation_key="leg_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        precision=WATT,
        value_fn=_reading(lambda r: r.active_power),
    ),
    PhaseSensorDescription(
        key="reactive_power",
        translation_key="leg_reactive_power",
        device_class=SensorDeviceClass.REACTIVE_POWER,
        native_unit_of_measurement=UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        precision=WATT,
        value_fn=_reading(lambda r: r.reactive_power),
    ),
    PhaseSensorDescription(
        key="apparent_power",
        translation_key="leg_apparent_power",
        device_class=SensorDeviceClass.APPARENT_POWER,
        native_unit_of_measurement=UnitOfApparentPower.VOLT_AMPERE,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        precision=WATT,
        value_fn=_reading(lambda r: r.apparent_power),
    ),
    PhaseSensorDescription(
        key="power_factor",
        translation_key="leg_power_factor",
        device_class=SensorDeviceClass.POWER_FACTOR,
        suggested_display_precision=2,
        precision=POWER_FACTOR,
        value_fn=_reading(lambda r: r.power_factor),
    ),
    PhaseSensorDescription(
        key="phase_angle",
        translation_key="leg_phase_angle",
        native_unit_of_measurement=DEGREE,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        precision=DEGREE_STEP,
        value_fn=_reading(lambda r: r.phase_angle),
    ),
    PhaseSensorDescription(
        key="peak_voltage",
        translation_key="leg_peak_voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        precision=PEAK_VOLT,
        value_fn=_reading(lambda r: r.peak_voltage),
    ),
    PhaseSensorDescription(
        key="peak_current",
        translation_key="leg_peak_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        precision=PEAK_AMPERE,
        value_fn=_reading(lambda r: r.peak_current),
    ),
    PhaseSensorDescription(
        key="fundamental_power",
        translation_key="leg_fundamental_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        precision=WATT,
        value_fn=_reading(lambda r: r.fundamental_power),
    ),
    PhaseSensorDescription(
        key="harmonic_power",
        translation_key="leg_harmonic_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=1,
        entity_registry_enabled_default=False,
        precision=WATT,
        value_fn=_reading(lambda r: r.harmonic_power),
    ),
    PhaseSensorDescription(
        key="harmonic_share",
        translation_key="leg_harmonic_share",
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=1,
        entity_registry_enabled_default=False,
        precision=PERCENT_STEP,
        value_fn=_reading(_harmonic_share),
    ),
    # UangleB/C, measured from L1 (0.1 degree, DS p.71): 120 and 240 for the expected sequence L1 -> L2 -> L3.
    PhaseSensorDescription(
        key="voltage_angle",
        translation_key="leg_voltage_angle",
        native_unit_of_measurement=DEGREE,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        precision=DEGREE_STEP,
        value_fn=_voltage_angle,
        exists_fn=_not_the_reference,
    ),
    *(
        ChannelEnergySensorDescription(
            key=f"energy_{direction}", translation_key=f"leg_energy_{direction}", direction=direction, **ENERGY
        )
        for direction in DIRECTIONS
    ),
)
"""Every measurement of one channel, made for each channel of the wiring that has it (its power-quality
counters: quality_sensors.py)."""
