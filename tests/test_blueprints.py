"""The load-control and tariff blueprints of blueprints/automation/atm90e32/, in a real Home Assistant.

Each blueprint is copied where Home Assistant looks for blueprints
(``<config>/blueprints/automation/atm90e32/``) and used by an automation through
``use_blueprint``, as a person does after importing it. The sensors it watches are
states the test sets; the loads are ``input_boolean`` helpers (the blueprints turn them
off and on through ``homeassistant.turn_off``/``turn_on``, as they do switches). Time
moves only when the test moves Home Assistant's test clock (freezer +
``async_fire_time_changed``), so "for 10 seconds" and "for 5 minutes" are exact.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncGenerator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import voluptuous as vol
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.helpers import async_get_blueprints
from homeassistant.const import CONF_SELECTOR, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import CoreState, Event, EventStateChangedData, HomeAssistant, ServiceCall
from homeassistant.helpers import selector
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed, async_mock_service

REPO = Path(__file__).resolve().parent.parent
BLUEPRINTS = REPO / "blueprints" / "automation" / "atm90e32"

CURRENT = "sensor.l1_current"
POWER = "sensor.total_power"
PROJECTED = "sensor.projected_demand"
PEAK = "sensor.peak_demand"


@pytest.fixture
async def blueprint_home(hass: HomeAssistant, tmp_path: Path) -> AsyncGenerator[Path]:
    """Home Assistant's configuration in ``tmp_path``, holding our blueprints as an import puts them.

    At the end the automations are turned off, which detaches their triggers and stops
    a run still waiting (Home Assistant's test plugin fails a test that leaves timers).
    """
    hass.config.config_dir = str(tmp_path)
    target = Path(hass.config.path("blueprints/automation/atm90e32"))
    shutil.copytree(BLUEPRINTS, target)
    assert await async_setup_component(hass, "homeassistant", {})
    yield target
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call("automation", "turn_off", {"entity_id": "all"}, blocking=True)


async def use_blueprint(hass: HomeAssistant, blueprint: str, inputs: dict[str, Any]) -> str:
    """Set up one automation from ``blueprint`` with ``inputs``; returns its entity id."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "under_test",
                "alias": "under test",
                "use_blueprint": {"path": f"atm90e32/{blueprint}", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    return "automation.under_test"


async def loads(hass: HomeAssistant, on: dict[str, bool]) -> None:
    """``input_boolean`` loads, each on or off as given."""
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {name: {"initial": state} for name, state in on.items()}}
    )
    await hass.async_block_till_done()


def switched(hass: HomeAssistant) -> list[tuple[str, str]]:
    """Every on/off change of an input_boolean from now on, in order, as (entity id, new state)."""
    changes: list[tuple[str, str]] = []

    def record(event: Event[EventStateChangedData]) -> None:
        old, new = event.data["old_state"], event.data["new_state"]
        if new is not None and new.domain == "input_boolean" and old is not None and old.state != new.state:
            changes.append((new.entity_id, new.state))

    hass.bus.async_listen("state_changed", record)
    return changes


async def wait(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float, step: float = 1.0) -> None:
    """Let ``seconds`` pass on Home Assistant's clock, firing its timers every ``step`` seconds."""
    passed = 0.0
    while passed < seconds:
        tick = min(step, seconds - passed)
        freezer.tick(timedelta(seconds=tick))
        async_fire_time_changed(hass)
        await settle(hass)
        passed += tick


def state_of(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def set_value(hass: HomeAssistant, entity_id: str, value: float, device_class: str, unit: str) -> None:
    hass.states.async_set(entity_id, str(value), {"device_class": device_class, "unit_of_measurement": unit})
    await settle(hass)


async def settle(hass: HomeAssistant) -> None:
    """Let Home Assistant run what is ready (state listeners, the automation's next steps) and its executor jobs.

    Not ``hass.async_block_till_done()``: it waits for every running automation to end,
    and these automations wait, by design, for the clock that only the test moves.  A
    step that awaits an executor job (a file read, an import) resumes only once a thread
    has run it, however long a loaded machine takes: the clock must not move before.
    """
    for _ in range(1_000_000):
        for _ in range(500):
            await asyncio.sleep(0)
        if not executors_busy(hass):
            return
    raise AssertionError("Home Assistant's executor jobs did not finish")


def executors_busy(hass: HomeAssistant) -> bool:
    """Whether a job waits or runs in Home Assistant's executors (the loop's default one and the import one)."""
    executors = (getattr(hass.loop, "_default_executor", None), hass.import_executor)
    for executor in executors:
        if executor is None:
            continue
        # ThreadPoolExecutor: queued work, or fewer idle threads than threads (one is running a job)
        if not executor._work_queue.empty() or executor._idle_semaphore._value < len(executor._threads):
            return True
    return False


# --- load_limit.yaml -------------------------------------------------------------------


async def test_load_limit_sheds_in_priority_order_only_as_many_as_needed_and_restores_one_at_a_time(
    hass: HomeAssistant, blueprint_home: Path, freezer: FrozenDateTimeFactory
) -> None:
    """L1 at 40 A limit: the EV charger goes first, then the water heater; the dryer is never needed.

    The person had turned the pool pump off: it is neither turned off nor turned back on.
    """
    await loads(hass, {"ev_charger": True, "pool_pump": False, "water_heater": True, "dryer": True})
    await set_value(hass, CURRENT, 20.0, "current", "A")
    await use_blueprint(
        hass,
        "load_limit.yaml",
        {
            "monitored": CURRENT,
            "upper_limit": 40,
            "lower_limit": 30,
            "over_for": {"seconds": 10},
            "under_for": {"minutes": 5},
            "loads": [
                "input_boolean.ev_charger",
                "input_boolean.pool_pump",
                "input_boolean.water_heater",
                "input_boolean.dryer",
            ],
        },
    )
    changes = switched(hass)

    await set_value(hass, CURRENT, 45.0, "current", "A")
    await wait(hass, freezer, 9)
    assert changes == []  # not above for 10 s yet
    await wait(hass, freezer, 2)
    assert changes == [("input_boolean.ev_charger", STATE_OFF)]  # the first in priority order

    await set_value(hass, CURRENT, 42.0, "current", "A")  # still over without the charger
    await wait(hass, freezer, 8)
    assert len(changes) == 1  # not for another 10 s since the charger went off
    await wait(hass, freezer, 2)
    assert changes[1:] == [("input_boolean.water_heater", STATE_OFF)]  # the next one on (the pump was off)

    await set_value(hass, CURRENT, 34.0, "current", "A")  # under the upper limit: enough went off
    await wait(hass, freezer, 60)
    assert len(changes) == 2
    assert state_of(hass, "input_boolean.dryer") == STATE_ON

    await set_value(hass, CURRENT, 25.0, "current", "A")  # below the lower limit
    await wait(hass, freezer, 180, step=10)
    await set_value(hass, CURRENT, 31.0, "current", "A")  # above it again after 3 minutes: the wait starts over
    await wait(hass, freezer, 20, step=10)
    await set_value(hass, CURRENT, 26.0, "current", "A")
    await wait(hass, freezer, 290, step=10)
    assert len(changes) == 2  # 4 min 50 s below: nothing back yet
    await wait(hass, freezer, 20, step=10)
    assert changes[2:] == [("input_boolean.water_heater", STATE_ON)]  # the last one off comes back first

    await wait(hass, freezer, 280, step=10)
    assert len(changes) == 3  # the next after another 5 minutes below, not sooner
    await wait(hass, freezer, 30, step=10)
    assert changes[3:] == [("input_boolean.ev_charger", STATE_ON)]

    await wait(hass, freezer, 900, step=30)
    assert len(changes) == 4  # done: the pool pump, off before, stays off
    assert state_of(hass, "input_boolean.pool_pump") == STATE_OFF


async def test_load_limit_sheds_again_when_the_load_rises_while_restoring(
    hass: HomeAssistant, blueprint_home: Path, freezer: FrozenDateTimeFactory
) -> None:
    """On the service's power: one load back on brings it over the limit again, and it goes off again."""
    await loads(hass, {"ev_charger": True, "water_heater": True})
    await set_value(hass, POWER, 5000.0, "power", "W")
    await use_blueprint(
        hass,
        "load_limit.yaml",
        {
            "monitored": POWER,
            "upper_limit": 9600,
            "lower_limit": 8000,
            "over_for": {"seconds": 30},
            "under_for": {"minutes": 2},
            "loads": ["input_boolean.ev_charger", "input_boolean.water_heater"],
        },
    )
    changes = switched(hass)
    await set_value(hass, POWER, 11000.0, "power", "W")
    await wait(hass, freezer, 31)
    await set_value(hass, POWER, 10000.0, "power", "W")
    await wait(hass, freezer, 31)
    assert changes == [("input_boolean.ev_charger", STATE_OFF), ("input_boolean.water_heater", STATE_OFF)]
    await set_value(hass, POWER, 6000.0, "power", "W")
    await wait(hass, freezer, 125, step=5)
    assert changes[2:] == [("input_boolean.water_heater", STATE_ON)]
    await set_value(hass, POWER, 9900.0, "power", "W")  # the water heater alone is too much now
    await wait(hass, freezer, 25)
    assert len(changes) == 3  # over for less than 30 s
    await wait(hass, freezer, 10)
    assert changes[3:] == [("input_boolean.water_heater", STATE_OFF)]
    await set_value(hass, POWER, 6000.0, "power", "W")
    await wait(hass, freezer, 125, step=5)
    assert changes[4:] == [("input_boolean.water_heater", STATE_ON)]
    await wait(hass, freezer, 125, step=5)
    assert changes[5:] == [("input_boolean.ev_charger", STATE_ON)]


# --- solar_surplus.yaml ----------------------------------------------------------------

SOLAR_INPUTS: dict[str, Any] = {
    "service_power": POWER,
    "surplus": 1500,
    "import_limit": 100,
    "lasting": {"minutes": 5},
    "load": "input_boolean.water_heater",
}
"""The solar surplus blueprint's inputs: on above 1500 W of export, off above 100 W of import, each for 5 minutes."""


async def test_solar_surplus_turns_the_load_on_while_exporting_and_off_when_importing(
    hass: HomeAssistant, blueprint_home: Path, freezer: FrozenDateTimeFactory
) -> None:
    await loads(hass, {"water_heater": False})
    await set_value(hass, POWER, 800.0, "power", "W")  # importing
    await use_blueprint(hass, "solar_surplus.yaml", SOLAR_INPUTS)
    changes = switched(hass)

    await set_value(hass, POWER, -1200.0, "power", "W")  # exporting, but less than the surplus asked
    await wait(hass, freezer, 600, step=30)
    assert changes == []
    await set_value(hass, POWER, -2000.0, "power", "W")
    await wait(hass, freezer, 240, step=30)
    await set_value(hass, POWER, -1000.0, "power", "W")  # a cloud after 4 minutes: the 5 minutes start over
    await wait(hass, freezer, 30, step=30)
    await set_value(hass, POWER, -2100.0, "power", "W")
    await wait(hass, freezer, 270, step=30)
    assert changes == []
    await wait(hass, freezer, 60, step=30)
    assert changes == [("input_boolean.water_heater", STATE_ON)]

    await set_value(hass, POWER, 50.0, "power", "W")  # importing, but under the import limit
    await wait(hass, freezer, 600, step=30)
    assert len(changes) == 1
    await set_value(hass, POWER, 900.0, "power", "W")
    await wait(hass, freezer, 270, step=30)
    assert len(changes) == 1
    await wait(hass, freezer, 60, step=30)
    assert changes[1:] == [("input_boolean.water_heater", STATE_OFF)]


# --- demand_alert.yaml -----------------------------------------------------------------


async def test_demand_alert_notifies_only_when_the_projection_would_set_a_new_peak(
    hass: HomeAssistant, blueprint_home: Path, freezer: FrozenDateTimeFactory
) -> None:
    sent: list[ServiceCall] = async_mock_service(hass, "notify", "my_phone")
    await set_value(hass, PEAK, 5000.0, "power", "W")
    await set_value(hass, PROJECTED, 3000.0, "power", "W")
    await use_blueprint(
        hass,
        "demand_alert.yaml",
        {
            "projected_demand": PROJECTED,
            "peak_demand": PEAK,
            "how": "notify",
            "notify_action": "notify.my_phone",
            "quiet_for": {"minutes": 15},
        },
    )
    for projected in (4200.0, 4999.0, 5000.0):  # up to the peak, not above it
        await set_value(hass, PROJECTED, projected, "power", "W")
    assert sent == []
    await set_value(hass, PROJECTED, 5200.0, "power", "W")
    assert len(sent) == 1
    assert "5200 W" in sent[0].data["message"]
    assert "5000 W" in sent[0].data["message"]
    await set_value(hass, PROJECTED, 5400.0, "power", "W")  # the same crossing
    await set_value(hass, PROJECTED, 4800.0, "power", "W")
    await set_value(hass, PROJECTED, 5100.0, "power", "W")  # again within the quiet time
    assert len(sent) == 1

    await wait(hass, freezer, 15 * 60, step=60)
    await set_value(hass, PEAK, 5300.0, "power", "W")  # the interval closed at 5300 W: the new peak
    await set_value(hass, PROJECTED, 2000.0, "power", "W")  # the next interval starts lower
    await set_value(hass, PROJECTED, 5250.0, "power", "W")  # above the old peak, under the new one
    assert len(sent) == 1
    await set_value(hass, PEAK, STATE_UNAVAILABLE, "power", "W")  # type: ignore[arg-type]
    await set_value(hass, PROJECTED, 9000.0, "power", "W")
    assert len(sent) == 1  # no peak known: nothing to compare with
    await set_value(hass, PEAK, 5300.0, "power", "W")
    assert len(sent) == 2  # known again, and 9000 W is above it
    assert "9000 W" in sent[1].data["message"]


async def test_demand_alert_can_create_a_persistent_notification(hass: HomeAssistant, blueprint_home: Path) -> None:
    created: list[ServiceCall] = async_mock_service(hass, "persistent_notification", "create")
    await set_value(hass, PEAK, 4000.0, "power", "W")
    await set_value(hass, PROJECTED, 1000.0, "power", "W")
    await use_blueprint(hass, "demand_alert.yaml", {"projected_demand": PROJECTED, "peak_demand": PEAK})
    await set_value(hass, PROJECTED, 3900.0, "power", "W")
    assert created == []
    await set_value(hass, PROJECTED, 4100.0, "power", "W")
    assert [call.data["notification_id"] for call in created] == ["atm90e32_demand_alert"]


# --- tariff_schedule.yaml --------------------------------------------------------------

TARIFFS = ["peak", "off_peak", "super_off_peak"]


async def tariff_meters(hass: HomeAssistant) -> list[str]:
    """Two utility meters with the three tariffs, as the README's recipe configures them; their selects."""
    await set_value(hass, "sensor.imported", 10.0, "energy", "kWh")
    await set_value(hass, "sensor.exported", 1.0, "energy", "kWh")
    assert await async_setup_component(
        hass,
        "utility_meter",
        {
            "utility_meter": {
                "import_cycle": {"source": "sensor.imported", "cycle": "monthly", "tariffs": TARIFFS},
                "export_cycle": {"source": "sensor.exported", "cycle": "monthly", "tariffs": TARIFFS},
            }
        },
    )
    await hass.async_block_till_done()
    selects = ["select.import_cycle", "select.export_cycle"]
    for select in selects:
        assert state_of(hass, select) == "peak"  # utility_meter starts on the first tariff
    return selects


def local(text: str) -> datetime:
    """A time in Home Assistant's time zone."""
    moment = dt_util.parse_datetime(text)
    assert moment is not None
    return moment.replace(tzinfo=dt_util.get_default_time_zone())


async def go_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, text: str) -> None:
    moment = local(text)
    freezer.move_to(moment)
    async_fire_time_changed(hass, moment)
    await hass.async_block_till_done()


# utility_meter's monthly reset stays scheduled: a YAML utility meter cannot be unloaded.
@pytest.mark.parametrize("expected_lingering_timers", [True])
async def test_tariff_schedule_switches_the_tariff_selects_on_weekdays_and_weekends(
    hass: HomeAssistant, blueprint_home: Path, freezer: FrozenDateTimeFactory
) -> None:
    await hass.config.async_set_time_zone("America/Los_Angeles")
    freezer.move_to(local("2026-06-01T05:00:00"))  # a Monday
    selects = await tariff_meters(hass)
    await use_blueprint(
        hass,
        "tariff_schedule.yaml",
        {
            "tariff_selects": selects,
            "weekday_peak_start": "16:00:00",
            "weekday_peak_end": "21:00:00",
            "weekday_super_off_peak_start": "22:00:00",  # over midnight
            "weekday_super_off_peak_end": "06:00:00",
            "weekend_peak_start": "00:00:00",
            "weekend_peak_end": "00:00:00",  # no peak at weekends
            "weekend_super_off_peak_start": "09:00:00",
            "weekend_super_off_peak_end": "14:00:00",
        },
    )

    def tariffs() -> set[str]:
        return {state_of(hass, select) for select in selects}

    assert tariffs() == {"peak"}  # nothing happens between the schedule's times
    expected = [
        ("2026-06-01T06:00:00", "off_peak"),  # Monday
        ("2026-06-01T16:00:00", "peak"),
        ("2026-06-01T21:00:00", "off_peak"),
        ("2026-06-01T22:00:00", "super_off_peak"),
        ("2026-06-02T06:00:00", "off_peak"),  # Tuesday morning: the night window ended
        ("2026-06-05T16:00:00", "peak"),  # Friday
        ("2026-06-05T21:00:00", "off_peak"),
        ("2026-06-05T22:00:00", "super_off_peak"),
        ("2026-06-06T06:00:00", "off_peak"),  # Saturday: the weekend schedule has no 22:00-06:00 window
        ("2026-06-06T09:00:00", "super_off_peak"),
        ("2026-06-06T14:00:00", "off_peak"),
        ("2026-06-06T16:00:00", "off_peak"),  # the weekday peak's start: not at weekends
        ("2026-06-07T22:00:00", "off_peak"),  # Sunday night
        ("2026-06-08T06:00:00", "off_peak"),  # Monday
        ("2026-06-08T16:00:00", "peak"),
    ]
    for when, tariff in expected:
        await go_to(hass, freezer, when)
        assert tariffs() == {tariff}, when


# utility_meter's monthly reset stays scheduled: a YAML utility meter cannot be unloaded.
@pytest.mark.parametrize("expected_lingering_timers", [True])
@pytest.mark.parametrize("how", ["start", "reload"])
async def test_tariff_schedule_sets_the_tariff_when_home_assistant_starts_or_the_automation_is_saved(
    hass: HomeAssistant, blueprint_home: Path, freezer: FrozenDateTimeFactory, how: str
) -> None:
    """Home Assistant was down across 16:00 (the select restored "off_peak"), or the automation was just saved."""
    await hass.config.async_set_time_zone("America/Los_Angeles")
    freezer.move_to(local("2026-06-03T18:30:00"))  # a Wednesday, in the default evening peak
    selects = await tariff_meters(hass)
    for select in selects:
        await hass.services.async_call("select", "select_option", {"entity_id": select, "option": "off_peak"})
    await start_with(hass, how, "tariff_schedule.yaml", {"tariff_selects": selects})
    await hass.async_block_till_done()
    assert {state_of(hass, select) for select in selects} == {"peak"}


# --- wrong entities --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("blueprint", "inputs", "refused"),
    [
        (
            "load_limit.yaml",
            {"monitored": CURRENT, "upper_limit": 40, "lower_limit": 30, "loads": ["sensor.dryer_power"]},
            "Entity sensor.dryer_power belongs to domain sensor",
        ),
        (
            "load_limit.yaml",
            {"monitored": "binary_sensor.overload", "upper_limit": 40, "lower_limit": 30, "loads": ["switch.dryer"]},
            "Entity binary_sensor.overload belongs to domain binary_sensor",
        ),
        (
            "solar_surplus.yaml",
            {"service_power": POWER, "load": "light.kitchen"},
            "Entity light.kitchen belongs to domain light",
        ),
        (
            "demand_alert.yaml",
            {"projected_demand": "input_number.demand", "peak_demand": PEAK},
            "Entity input_number.demand belongs to domain input_number",
        ),
        (
            "tariff_schedule.yaml",
            {"tariff_selects": ["input_select.tariff"]},
            "Entity input_select.tariff belongs to domain input_select",
        ),
    ],
    ids=[
        "load_limit-loads",
        "load_limit-sensor",
        "solar_surplus-load",
        "demand_alert-sensor",
        "tariff_schedule-select",
    ],
)
async def test_a_blueprint_refuses_an_entity_of_the_wrong_domain(
    hass: HomeAssistant, blueprint_home: Path, blueprint: str, inputs: dict[str, Any], refused: str
) -> None:
    """The blueprint's own selectors, as Home Assistant reads them, refuse the entity with a clear message.

    The blueprint form offers only entities its selectors allow; these are the checks
    behind it.  (Home Assistant 2026.10 does not check an automation's blueprint inputs
    against the selectors when the automation is written in YAML: the README says so.)
    """
    loaded = await async_get_blueprints(hass).async_get_blueprint(f"atm90e32/{blueprint}")
    errors: list[str] = []
    for name, value in inputs.items():
        try:
            validate = cast(Callable[[Any], Any], selector.selector(loaded.inputs[name][CONF_SELECTOR]))
            validate(value)
        except vol.Invalid as err:
            errors.append(str(err))
    assert len(errors) == 1, errors  # the wrong entity, and only it
    assert errors[0].startswith(refused), errors


@pytest.mark.parametrize(
    ("blueprint", "inputs"),
    [
        ("load_limit.yaml", {"monitored": CURRENT, "upper_limit": 40, "lower_limit": 30, "loads": ["switch.dryer"]}),
        ("solar_surplus.yaml", {"service_power": POWER, "load": "water_heater.tank"}),
        ("demand_alert.yaml", {"projected_demand": PROJECTED, "peak_demand": PEAK}),
        ("tariff_schedule.yaml", {"tariff_selects": ["select.import_cycle"]}),
    ],
    ids=["load_limit", "solar_surplus", "demand_alert", "tariff_schedule"],
)
async def test_the_same_blueprint_takes_entities_of_the_right_domains(
    hass: HomeAssistant, blueprint_home: Path, blueprint: str, inputs: dict[str, Any]
) -> None:
    """The counterpart of the test above: only the wrong domain made the automation unavailable."""
    automation = await use_blueprint(hass, blueprint, inputs)
    state = hass.states.get(automation)
    assert state is not None
    assert state.state == STATE_ON


# --- the state an automation starts in ---------------------------------------------------


async def start_with(hass: HomeAssistant, how: str, blueprint: str, inputs: dict[str, Any]) -> None:
    """Set up an automation from ``blueprint`` as Home Assistant starts, or save (reload) it while it runs.

    No ``async_block_till_done``: the run started waits, by design, for the clock that only the test moves.
    """
    if how == "start":
        hass.set_state(CoreState.not_running)  # the automation is set up before Home Assistant runs
    config = {"automation": {"id": "under_test", "use_blueprint": {"path": f"atm90e32/{blueprint}", "input": inputs}}}
    assert await async_setup_component(hass, "automation", config)
    if how == "start":
        await hass.async_start()  # start event, startup jobs (the triggers armed), started event
    else:
        hass.bus.async_fire("automation_reloaded")  # what saving it in the UI fires once it is reloaded
    await settle(hass)


STARTS = pytest.mark.parametrize("how", ["start", "reload"])


@STARTS
async def test_load_limit_sheds_when_already_above_the_limit_as_it_starts(
    hass: HomeAssistant, blueprint_home: Path, freezer: FrozenDateTimeFactory, how: str
) -> None:
    """4.1-5.5 A over a 3 A limit from the start: the first load goes off once it has lasted the time set."""
    await loads(hass, {"ev_charger": True, "water_heater": True})
    await set_value(hass, CURRENT, 4.1, "current", "A")
    inputs = {
        "monitored": CURRENT,
        "upper_limit": 3,
        "lower_limit": 2,
        "over_for": {"seconds": 10},
        "loads": ["input_boolean.ev_charger", "input_boolean.water_heater"],
    }
    changes = switched(hass)
    await start_with(hass, how, "load_limit.yaml", inputs)
    await set_value(hass, CURRENT, 5.5, "current", "A")  # above still: no crossing for the trigger
    await wait(hass, freezer, 8)
    assert changes == []  # not for 10 s yet
    await wait(hass, freezer, 3)
    assert changes == [("input_boolean.ev_charger", STATE_OFF)]


@STARTS
async def test_load_limit_leaves_the_loads_when_under_the_limit_as_it_starts(
    hass: HomeAssistant, blueprint_home: Path, freezer: FrozenDateTimeFactory, how: str
) -> None:
    await loads(hass, {"ev_charger": True})
    await set_value(hass, CURRENT, 2.5, "current", "A")
    inputs = {"monitored": CURRENT, "upper_limit": 3, "lower_limit": 2, "loads": ["input_boolean.ev_charger"]}
    changes = switched(hass)
    await start_with(hass, how, "load_limit.yaml", inputs)
    await wait(hass, freezer, 60, step=10)
    assert changes == []


@pytest.mark.parametrize(
    ("how", "power", "before", "after"), [("start", -2000.0, False, True), ("reload", 900.0, True, False)]
)
async def test_solar_surplus_acts_on_an_export_or_import_already_lasting_as_it_starts(
    hass: HomeAssistant,
    blueprint_home: Path,
    freezer: FrozenDateTimeFactory,
    how: str,
    power: float,
    before: bool,
    after: bool,
) -> None:
    await loads(hass, {"water_heater": before})
    await set_value(hass, POWER, power, "power", "W")
    changes = switched(hass)
    await start_with(hass, how, "solar_surplus.yaml", SOLAR_INPUTS)
    await wait(hass, freezer, 270, step=30)
    assert changes == []  # not for 5 minutes yet
    await wait(hass, freezer, 60, step=30)
    assert changes == [("input_boolean.water_heater", STATE_ON if after else STATE_OFF)]


@STARTS
async def test_demand_alert_notifies_a_projection_already_above_the_peak_as_it_starts(
    hass: HomeAssistant, blueprint_home: Path, freezer: FrozenDateTimeFactory, how: str
) -> None:
    created: list[ServiceCall] = async_mock_service(hass, "persistent_notification", "create")
    await set_value(hass, PEAK, 4000.0, "power", "W")
    await set_value(hass, PROJECTED, 4600.0, "power", "W")
    await start_with(hass, how, "demand_alert.yaml", {"projected_demand": PROJECTED, "peak_demand": PEAK})
    assert len(created) == 1
    assert "4600 W" in created[0].data["message"]
    await wait(hass, freezer, 15 * 60, step=60)  # the quiet time ends with the run
