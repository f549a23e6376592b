"""Every sensor without a device class (whose icon Home Assistant cannot choose) has its own in icons.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from homeassistant.components.sensor import SensorEntityDescription

from custom_components.atm90e32 import sensor
from custom_components.atm90e32.driver.channels import WIRINGS, Wiring

ICONS = Path(__file__).resolve().parent.parent / "custom_components" / "atm90e32" / "icons.json"


def sensor_descriptions(wiring: Wiring) -> list[SensorEntityDescription]:
    """Every sensor description a chip of ``wiring`` adds (as sensor.async_setup_entry makes them)."""
    return [description for description, _channel in sensor.sensors_of(wiring)]


@pytest.mark.parametrize("wiring", list(WIRINGS))
def test_every_sensor_without_a_device_class_has_an_icon(wiring: str) -> None:
    icons = json.loads(ICONS.read_text(encoding="utf-8"))["entity"]["sensor"]
    missing = {
        description.translation_key
        for description in sensor_descriptions(WIRINGS[wiring])
        if description.device_class is None and description.icon is None
    } - set(icons)
    assert not missing, f"no icon in icons.json for {sorted(str(key) for key in missing)}"
