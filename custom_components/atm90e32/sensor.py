"""Sensors: per channel (a leg L1, L2) and service-wide voltage, current, power, power factor and energy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
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
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import Atm90e32ConfigEntry, Atm90e32Coordinator
from .driver import MeterSnapshot, Phase, PhaseReading
from .driver.channels import Channel, Wiring
from .driver.demand import DemandMeter
from .driver.ledger import TOTAL, LedgerKey, kwh_to_counts
from .driver.power_quality import COUNTED
from .driver.three_phase import delta_voltage_unbalance_percent, three_wire_power_factor, voltage_unbalance_percent
from .entity import Atm90e32Entity
from .published import PublishedSensor
from .quality import counter_key

PARALLEL_UPDATES = 0  # coordinator-driven: entities never poll on their own


VOLT: Final = 2
"""Decimals of a voltage state: 0.01 V, UrmsA-C's step (DS p.70); the datasheet's +-0.5 % is 0.6 V at 120 V."""
AMPERE: Final = 3
"""Decimals of a current state: 0.001 A, IrmsA-C's step (DS p.70), times current scaling."""
WATT: Final = 1
"""Decimals of an active, reactive or apparent power state: 0.1 W (var, VA).

The registers step by 0.00032 W (DS p.69), but +-0.5 % is already 5 W at 1 kW: digits
below 0.1 W are noise that would write a new state row at every refresh.
"""
POWER_FACTOR: Final = 3
"""Decimals of a power factor state: 0.001, PFmeanA-C's step (DS p.69)."""
HERTZ: Final = 2
"""Decimals of the line frequency: 0.01 Hz, Freq's step and the datasheet's accuracy (DS p.71)."""
DEGREE_STEP: Final = 1
"""Decimals of the phase angle: 0.1 degree, PAngleA-C's step (DS p.71)."""
PEAK_VOLT: Final = 1
"""Decimals of a peak voltage: 0.1 V.  UPeak steps by Ugain / 819200 V (DS p.71), at most 0.08 V."""
PEAK_AMPERE: Final = 2
"""Decimals of a peak current: 0.01 A.  IPeak steps by Igain / 8192000 A (DS p.71), at most 0.008 A (x scaling)."""
PERCENT_STEP: Final = 1
UNBALANCE_STEP: Final = 2
"""Decimals of the voltage unbalance: 0.01 %, a ratio of 0.01 V steps (UrmsA-C, DS p.70) near 230 V."""
"""Decimals of the harmonic share: 0.1 %, a ratio of two powers shown to 0.1 W."""


def rounded(value: float | None, decimals: int | None) -> float | None:
    """``value`` rounded to ``decimals`` places (None leaves it as it is), never ``-0.0``."""
    if value is None or decimals is None:
        return value
    return round(value, decimals) + 0.0


@dataclass(frozen=True, kw_only=True)
class PhaseSensorDescription(SensorEntityDescription):
    """A per-channel measurement taken from that channel's PhaseReading, stated to ``precision`` decimals.

    ``precision`` is what the chip resolves and its accuracy supports: a reading that did
    not change by that much writes no new state (and so no new recorder row).
    """

    value_fn: Callable[[PhaseReading], float | None]
    precision: int | None = None


@dataclass(frozen=True, kw_only=True)
class ChipSensorDescription(SensorEntityDescription):
    """A measurement of the whole chip or of all its channels together, stated to ``precision`` decimals."""

    value_fn: Callable[[MeterSnapshot], float | None]
    precision: int | None = None


@dataclass(frozen=True, kw_only=True)
class EnergySensorDescription(SensorEntityDescription):
    """Lifetime imported or exported active energy from the ledger, under ``ledger_key``."""

    ledger_key: LedgerKey


@dataclass(frozen=True, kw_only=True)
class DemandSensorDescription(SensorEntityDescription):
    """The service's demand (driver/demand.py): ``value_fn`` takes the demand meter and the time now (Unix s)."""

    value_fn: Callable[[DemandMeter, float], float | datetime | None]


HARMONIC_SHARE_MIN_W = 1.0
"""Below 1 W of active power a share of it is noise (idle circuits read +-1 W, atm90e32as-facts)."""


def _harmonic_share(r: PhaseReading) -> float | None:
    """Harmonic active power as a percentage of the active power as shown (DS p.70); None near no load."""
    active = round(r.active_power, WATT)
    if abs(active) < HARMONIC_SHARE_MIN_W:
        return None
    return 100.0 * round(r.harmonic_power, WATT) / active


PHASE_SENSORS: tuple[PhaseSensorDescription, ...] = (
    PhaseSensorDescription(
        key="voltage",
        translation_key="leg_voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        precision=VOLT,
        value_fn=lambda r: r.voltage,
    ),
    PhaseSensorDescription(
        key="current",
        translation_key="leg_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        precision=AMPERE,
        value_fn=lambda r: r.current,
    ),
    PhaseSensorDescription(
        key="power",
        translation_key="leg_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        precision=WATT,
        value_fn=lambda r: r.active_power,
    ),
    PhaseSensorDescription(
        key="reactive_power",
        translation_key="leg_reactive_power",
        device_class=SensorDeviceClass.REACTIVE_POWER,
        native_unit_of_measurement=UnitOfReactivePower.VOLT_AMPERE_REACTIVE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        precision=WATT,
        value_fn=lambda r: r.reactive_power,
    ),
    PhaseSensorDescription(
        key="apparent_power",
        translation_key="leg_apparent_power",
        device_class=SensorDeviceClass.APPARENT_POWER,
        native_unit_of_measurement=UnitOfApparentPower.VOLT_AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        precision=WATT,
        value_fn=lambda r: r.apparent_power,
    ),
    PhaseSensorDescription(
        key="power_factor",
        translation_key="leg_power_factor",
        device_class=SensorDeviceClass.POWER_FACTOR,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        precision=POWER_FACTOR,
        value_fn=lambda r: r.power_factor,
    ),
    PhaseSensorDescription(
        key="phase_angle",
        translation_key="leg_phase_angle",
        native_unit_of_measurement=DEGREE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        precision=DEGREE_STEP,
        value_fn=lambda r: r.phase_angle,
    ),
    PhaseSensorDescription(
        key="peak_voltage",
        translation_key="leg_peak_voltage",
        device_class=SensorDeviceClass.VOLTAGE,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        precision=PEAK_VOLT,
        value_fn=lambda r: r.peak_voltage,
    ),
    PhaseSensorDescription(
        key="peak_current",
        translation_key="leg_peak_current",
        device_class=SensorDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        precision=PEAK_AMPERE,
        value_fn=lambda r: r.peak_current,
    ),
    PhaseSensorDescription(
        key="fundamental_power",
        translation_key="leg_fundamental_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        precision=WATT,
        value_fn=lambda r: r.fundamental_power,
    ),
    PhaseSensorDescription(
        key="harmonic_power",
        translation_key="leg_harmonic_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_registry_enabled_default=False,
        precision=WATT,
        value_fn=lambda r: r.harmonic_power,
    ),
    PhaseSensorDescription(
        key="harmonic_share",
        translation_key="leg_harmonic_share",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_registry_enabled_default=False,
        precision=PERCENT_STEP,
        value_fn=_harmonic_share,
    ),
)


def _total_power(snapshot: MeterSnapshot) -> float:
    """The channels' active powers as shown (to 0.1 W), added: the total is exactly L1 + L2 as they read."""
    return sum(round(r.active_power, WATT) for r in snapshot.phases.values())


def _total_power_factor(snapshot: MeterSnapshot) -> float | None:
    """Total power over the channels' apparent powers as shown; None with no load."""
    apparent = sum(round(r.apparent_power, WATT) for r in snapshot.phases.values())
    return _total_power(snapshot) / apparent if apparent else None


CHIP_SENSORS: tuple[ChipSensorDescription, ...] = (
    ChipSensorDescription(
        key="total_power",
        translation_key="total_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        precision=WATT,
        value_fn=_total_power,
    ),
    ChipSensorDescription(
        key="total_power_factor",
        translation_key="total_power_factor",
        device_class=SensorDeviceClass.POWER_FACTOR,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        precision=POWER_FACTOR,
        value_fn=_total_power_factor,
    ),
    ChipSensorDescription(
        key="frequency",
        translation_key="frequency",
        device_class=SensorDeviceClass.FREQUENCY,
        native_unit_of_measurement=UnitOfFrequency.HERTZ,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        precision=HERTZ,
        value_fn=lambda s: s.frequency,
    ),
    ChipSensorDescription(
        key="chip_temperature",
        translation_key="chip_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda s: s.temperature,
    ),
)


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


DEMAND_SENSORS: tuple[DemandSensorDescription, ...] = (
    DemandSensorDescription(
        key="demand",
        translation_key="demand",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda demand, _now: rounded(demand.demand_w, WATT),
    ),
    DemandSensorDescription(
        key="projected_demand",
        translation_key="projected_demand",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda demand, now: rounded(demand.projected_w(now), WATT),
    ),
    DemandSensorDescription(
        key="peak_demand",
        translation_key="peak_demand",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda demand, _now: rounded(demand.peak_w, WATT),
    ),
    DemandSensorDescription(
        key="peak_demand_time",
        translation_key="peak_demand_time",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda demand, _now: _utc(demand.peak_at),
    ),
)
"""Demand of the service: the last interval's average, the running one's projection, the cycle's peak and its time.

The averages are stated to 0.1 W like the power sensors (WATT); they come from energy
counts, not sampled power.  The peak's time is the start of the peak interval.
"""


def _three_wire_power_factor(snapshot: MeterSnapshot) -> float | None:
    """A delta service's power factor from its two elements' P and Q sums (three_phase.three_wire_power_factor)."""
    phases = snapshot.phases.values()
    active = _total_power(snapshot)
    return three_wire_power_factor(active, sum(round(r.reactive_power, WATT) for r in phases))


SERVICE_SENSORS: Final = ("total_power", "total_power_factor")
"""Chip sensors that add the channels up: a service has them, a set of circuits does not."""


def _voltage_angle(phase: Phase) -> Callable[[MeterSnapshot], float | None]:
    def value(snapshot: MeterSnapshot) -> float | None:
        three_phase = snapshot.three_phase
        return None if three_phase is None else three_phase.voltage_angles.get(phase)

    return value


def _neutral_current(snapshot: MeterSnapshot) -> float | None:
    return None if snapshot.three_phase is None else snapshot.three_phase.neutral_current


def _voltage_unbalance(snapshot: MeterSnapshot) -> float | None:
    """IEC negative-sequence voltage unbalance, % (driver.three_phase.voltage_unbalance_percent).

    None without the three phase voltages and the angles of B and C.
    """
    three_phase = snapshot.three_phase
    voltages = {phase: r.voltage for phase, r in snapshot.phases.items()}
    if three_phase is None or len(voltages) < 3 or not {Phase.B, Phase.C} <= three_phase.voltage_angles.keys():
        return None
    return voltage_unbalance_percent(voltages, three_phase.voltage_angles)


def _delta_voltage_unbalance(snapshot: MeterSnapshot) -> float | None:
    """IEC voltage unbalance of a delta service, %, from Uab, Ucb and UangleC (driver.three_phase); else None."""
    three_phase, phases = snapshot.three_phase, snapshot.phases
    if three_phase is None or Phase.C not in three_phase.voltage_angles or not {Phase.A, Phase.C} <= phases.keys():
        return None
    return delta_voltage_unbalance_percent(
        phases[Phase.A].voltage, phases[Phase.C].voltage, three_phase.voltage_angles[Phase.C]
    )


def three_phase_descriptions(wiring: Wiring) -> tuple[ChipSensorDescription, ...]:
    """Neutral current (IrmsN, DS p.70), voltage unbalance (IEC negative sequence, %) and the voltage angles of L2, L3.

    The voltage angles are UangleB/C, measured from L1 (0.1 degree, DS p.71): 120 and 240
    for the expected sequence L1 -> L2 -> L3.  A delta service (3P3W) has no neutral, its
    unbalance comes from the line voltages and its one angle is L3-L2's from L1-L2 (60 or 300).
    """
    descriptions = [
        ChipSensorDescription(
            key="neutral_current",
            translation_key="neutral_current",
            device_class=SensorDeviceClass.CURRENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=2,
            precision=AMPERE,
            value_fn=_neutral_current,
        ),
        ChipSensorDescription(
            key="voltage_unbalance",
            translation_key="voltage_unbalance",
            native_unit_of_measurement=PERCENTAGE,
            state_class=SensorStateClass.MEASUREMENT,
            suggested_display_precision=1,
            precision=UNBALANCE_STEP,
            value_fn=_delta_voltage_unbalance if wiring.delta else _voltage_unbalance,
        ),
    ]
    if wiring.delta:
        descriptions.pop(0)  # no neutral
    for channel in wiring.channels:
        if channel == wiring.reference:
            continue  # the reference's angle is 0 by definition
        descriptions.append(
            ChipSensorDescription(
                key=f"{channel.key}_voltage_angle",
                translation_key="leg_voltage_angle",
                translation_placeholders={"leg": channel.name},
                native_unit_of_measurement=DEGREE,
                state_class=SensorStateClass.MEASUREMENT,
                suggested_display_precision=1,
                entity_category=EntityCategory.DIAGNOSTIC,
                precision=DEGREE_STEP,
                value_fn=_voltage_angle(channel.phase),
            )
        )
    return tuple(descriptions)


def channel_descriptions(channel: Channel, *, circuit: bool = False) -> tuple[PhaseSensorDescription, ...]:
    """The measurements of one channel: keys ``<channel key>_<quantity>``, its name as the ``leg`` placeholder.

    A ``circuit``'s sensors sit on the circuit's own device, which carries its name:
    their translation keys are ``circuit_<quantity>`` ("Power", not "Heat pump power").
    """
    if circuit:
        return tuple(
            replace(description, key=f"{channel.key}_{description.key}", translation_key=f"circuit_{description.key}")
            for description in PHASE_SENSORS
        )
    return tuple(
        replace(description, key=f"{channel.key}_{description.key}", translation_placeholders={"leg": channel.name})
        for description in PHASE_SENSORS
    )


def energy_descriptions(wiring: Wiring) -> tuple[EnergySensorDescription, ...]:
    """Lifetime import and export energy for each channel of ``wiring`` and the service total.

    Circuits (a wiring without a service total) get no total: circuits are never netted
    with each other, and their sum is not what any meter of the service registers.

    State class TOTAL_INCREASING: the ledger never decreases (it only adds counts and
    restores its last value at start), so the recorder's long-term sums see no resets,
    no spikes and no negative steps; a lifetime meter reading is exactly what the Energy
    dashboard expects of a grid meter.
    """
    descriptions = []
    circuits = not wiring.has_service_total
    for channel in (*wiring.channels, *(() if circuits else (None,))):
        name = TOTAL if channel is None else channel.key
        for direction in ("import", "export"):
            if channel is None:
                translation_key, placeholders = f"total_energy_{direction}", None
            elif circuits:
                translation_key, placeholders = f"circuit_energy_{direction}", None
            else:
                translation_key, placeholders = f"leg_energy_{direction}", {"leg": channel.name}
            descriptions.append(
                EnergySensorDescription(
                    key=f"{name}_energy_{direction}",
                    translation_key=translation_key,
                    translation_placeholders=placeholders,
                    device_class=SensorDeviceClass.ENERGY,
                    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
                    state_class=SensorStateClass.TOTAL_INCREASING,
                    suggested_display_precision=3,
                    ledger_key=(name, direction),
                )
            )
    return tuple(descriptions)


def counter_descriptions(channel: Channel) -> tuple[SensorEntityDescription, ...]:
    """Sags, swells and phase losses of ``channel`` since installation (diagnostic, never decreasing)."""
    return tuple(
        SensorEntityDescription(
            key=f"{counter_key(channel.key, condition)}_count",
            translation_key=f"{condition}_count",
            translation_placeholders={"leg": channel.name},
            state_class=SensorStateClass.TOTAL_INCREASING,
            entity_category=EntityCategory.DIAGNOSTIC,
        )
        for condition in COUNTED
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: Atm90e32ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of one chip, derived from its wiring's channels."""
    coordinator = entry.runtime_data
    wiring = coordinator.wiring
    circuits = not wiring.has_service_total
    entities: list[SensorEntity] = [
        Atm90e32PhaseSensor(coordinator, description, channel, circuit=circuits)
        for channel in wiring.channels
        for description in channel_descriptions(channel, circuit=circuits)
    ]
    chip_sensors = CHIP_SENSORS if not circuits else tuple(d for d in CHIP_SENSORS if d.key not in SERVICE_SENSORS)
    if wiring.delta:  # the elements' apparent powers do not add up to the service's
        chip_sensors = tuple(
            replace(d, value_fn=_three_wire_power_factor) if d.key == "total_power_factor" else d for d in chip_sensors
        )
    entities += [Atm90e32ChipSensor(coordinator, description) for description in chip_sensors]
    if wiring.three_phase:
        entities += [Atm90e32ChipSensor(coordinator, description) for description in three_phase_descriptions(wiring)]
    by_key = {channel.key: channel for channel in wiring.channels}
    entities += [
        Atm90e32EnergySensor(coordinator, description, by_key.get(description.ledger_key[0]) if circuits else None)
        for description in energy_descriptions(wiring)
    ]
    if not circuits:  # demand is the service's; circuits have no service total
        entities += [Atm90e32DemandSensor(coordinator, description) for description in DEMAND_SENSORS]
    entities += [
        Atm90e32CounterSensor(coordinator, description)
        for channel in wiring.channels
        for description in counter_descriptions(channel)
    ]
    async_add_entities(entities)


class Atm90e32PhaseSensor(PublishedSensor[float | None], SensorEntity):
    """A measurement of one channel (a split-phase leg)."""

    entity_description: PhaseSensorDescription

    def __init__(
        self,
        coordinator: Atm90e32Coordinator,
        description: PhaseSensorDescription,
        channel: Channel,
        *,
        circuit: bool = False,
    ) -> None:
        """Bind ``description`` to ``channel``'s chip phase (on the circuit's own device if ``circuit``)."""
        super().__init__(coordinator, description, channel if circuit else None)
        self._phase = channel.phase
        self.start_publishing(description)
        if description.key == f"{channel.key}_power":  # its mean comes from the channel's energy counts
            self.energy_key = channel.key

    @property
    def native_value(self) -> float | None:
        """The value last written (publishing.py)."""
        return self.published()

    def sample(self) -> float | None:
        """The channel's value from the last snapshot, rounded to the description's precision."""
        reading = self.coordinator.data.phases.get(self._phase)
        if reading is None:
            return None
        return rounded(self.entity_description.value_fn(reading), self.entity_description.precision)


class Atm90e32ChipSensor(PublishedSensor[float | None], SensorEntity):
    """A chip-wide measurement (frequency, temperature) or a both-legs total."""

    entity_description: ChipSensorDescription

    def __init__(self, coordinator: Atm90e32Coordinator, description: ChipSensorDescription) -> None:
        """Bind ``description`` to the chip's device; the total power's mean comes from the service's energy counts."""
        super().__init__(coordinator, description)
        self.start_publishing(description)
        if description.key == "total_power":
            self.energy_key = TOTAL

    @property
    def native_value(self) -> float | None:
        """The value last written (publishing.py)."""
        return self.published()

    def sample(self) -> float | None:
        """The value from the last snapshot, rounded to the description's precision."""
        return rounded(self.entity_description.value_fn(self.coordinator.data), self.entity_description.precision)


class Atm90e32EnergySensor(PublishedSensor[float], RestoreSensor):
    """Lifetime energy; restores its last value so totals survive restarts (a circuit's on the circuit's device)."""

    entity_description: EnergySensorDescription

    def __init__(
        self, coordinator: Atm90e32Coordinator, description: EnergySensorDescription, circuit: Channel | None = None
    ) -> None:
        """Bind ``description`` to the chip's device, or to ``circuit``'s own."""
        super().__init__(coordinator, description, circuit)
        self.start_publishing(description)

    async def async_added_to_hass(self) -> None:
        """Seed the ledger with the last stored lifetime value, then follow the coordinator."""
        last = await self.async_get_last_sensor_data()
        value = None if last is None else last.native_value
        if isinstance(value, (int, float, Decimal)) and value >= 0:
            self.coordinator.ledger.restore(self.entity_description.ledger_key, kwh_to_counts(float(value)))
        await super().async_added_to_hass()

    @property
    def native_value(self) -> float:
        """Lifetime energy in kWh, as last written (publishing.py)."""
        return self.published()

    def sample(self) -> float:
        """Lifetime energy in kWh, exact from the ledger."""
        return self.coordinator.ledger.kwh(self.entity_description.ledger_key)


class Atm90e32CounterSensor(Atm90e32Entity, SensorEntity):
    """How many sags, swells or phase losses a channel has seen since installation (kept in the ledger store)."""

    @property
    def native_value(self) -> int:
        """The count."""
        return self.coordinator.watch.counters[self.entity_description.key.removesuffix("_count")]


class Atm90e32DemandSensor(PublishedSensor[float | datetime | None], SensorEntity):
    """The service's demand: kept by the coordinator's demand meter and stored with the ledger."""

    entity_description: DemandSensorDescription

    def __init__(self, coordinator: Atm90e32Coordinator, description: DemandSensorDescription) -> None:
        """Bind ``description`` to the chip's device (the projected demand is written at most once a minute)."""
        super().__init__(coordinator, description)
        self.start_publishing(description)

    @property
    def native_value(self) -> float | datetime | None:
        """The value last written (publishing.py)."""
        return self.published()

    def sample(self) -> float | datetime | None:
        """The value now; None (unknown) for an interval that is incomplete or a cycle with no peak yet."""
        return self.entity_description.value_fn(self.coordinator.demand, dt_util.utcnow().timestamp())
