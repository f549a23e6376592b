"""Where the snapshots of each tested Home Assistant release live.

Home Assistant's snapshot format changed after the oldest release this integration
supports (the "homeassistant" minimum in hacs.json): registry entries gained
``object_id_base``, ``aliases`` became a list, and state attribute keys became enums.
What the snapshots hold (names, units, classes, unique ids, states, diagnostics) is the
same on both. So the oldest release's snapshots are in tests/snapshots-oldest/ and every
newer release's in tests/snapshots-newest/; ``scripts/test --snapshot-update`` updates
both.

Neither folder is tests/snapshots/, where syrupy's and Home Assistant's own extensions
look (pytest-homeassistant-custom-component's ``snapshot`` fixture registers one there):
a run on one release must neither count the other release's snapshots as unused nor
delete them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.const import MAJOR_VERSION, MINOR_VERSION
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension

REPO = Path(__file__).resolve().parent.parent


def oldest_supported() -> tuple[int, int]:
    """The oldest Home Assistant release the integration supports (hacs.json), as (year, month)."""
    minimum = json.loads((REPO / "hacs.json").read_text(encoding="utf-8"))["homeassistant"]
    year, month = str(minimum).split(".")[:2]
    return int(year), int(month)


class VersionedSnapshotExtension(HomeAssistantSnapshotExtension):  # type: ignore[misc]  # phcc is untyped
    """Home Assistant's serializer, with the snapshots of the oldest supported release kept apart."""

    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        oldest = oldest_supported() == (MAJOR_VERSION, MINOR_VERSION)
        return str(Path(test_location.filepath).parent / ("snapshots-oldest" if oldest else "snapshots-newest"))
