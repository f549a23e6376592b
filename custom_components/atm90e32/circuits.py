"""A circuits chip's circuits as config subentries: one subentry of type ``circuit`` per CT input used.

The entry keeps what is the chip's (SPI device, board, transformer, PGA, current scaling,
power quality, calibration offsets); each ``circuit`` subentry keeps what is the circuit's:
its CT input (``channel``, ``ct1``-``ct3``), its name (the subentry's title), CT preset and
gain, direction and 240 V factor.  :func:`circuit_inputs` turns an entry into the data and
options the settings code reads (``channels`` and the per-channel options it always read),
so adding, renaming or removing a circuit is a subentry action and the settings need not
know about subentries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from inspect import signature
from types import MappingProxyType
from typing import Any, Final

from homeassistant.config_entries import (
    SIGNAL_CONFIG_ENTRY_CHANGED,
    ConfigEntry,
    ConfigEntryChange,
    ConfigSubentry,
    ConfigSubentryData,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .const import CONF_CHANNELS, CONF_WIRING, DOMAIN
from .driver.channels import CIRCUIT_CHANNELS, CIRCUITS_KEY, Channel, wiring_for

MOVE_DEVICE: Final = "new_config_subentry_id" in signature(dr.DeviceRegistry.async_update_device).parameters
"""Home Assistant moves a device to a subentry with ``new_config_subentry_id`` (2026.x; 2025.8 adds and removes)."""
SUBENTRY_CIRCUIT: Final = "circuit"
"""The subentry type of one circuit (one CT input of a circuits chip)."""
CONF_CHANNEL: Final = "channel"
"""Subentry data: the CT input's channel key (``ct1``-``ct3``); also the subentry's unique id."""
CONF_CT_PRESET: Final = "ct_preset"
"""Subentry data: the CT model preset (driver.calibration.CT_PRESETS) or ``custom``."""
CONF_CURRENT_GAIN: Final = "current_gain"
"""Subentry data: the CT gain written to the channel's Igain register (DS p.59)."""
CONF_INVERT: Final = "invert"
"""Subentry data: the CT faces the wrong way (its power's sign is turned)."""
CONF_VOLTAGE_FACTOR: Final = "voltage_factor"
"""Subentry data: 1, or 2 for a 240 V load measured against a 120 V reference (circuit_factor.py)."""

_BY_KEY: Final = {channel.key: channel for channel in CIRCUIT_CHANNELS}


def _fields(channel: Channel) -> dict[str, str]:
    """Subentry data key -> the entry option the settings read for ``channel``."""
    return {
        CONF_CT_PRESET: channel.ct_preset_option,
        CONF_CURRENT_GAIN: channel.current_gain_option,
        CONF_INVERT: channel.invert_option,
        CONF_VOLTAGE_FACTOR: channel.voltage_factor_option,
    }


def is_circuits(entry: ConfigEntry) -> bool:
    """Whether ``entry`` is a circuits chip (its circuits are subentries)."""
    return entry.data.get(CONF_WIRING) == CIRCUITS_KEY


def circuit_subentries(entry: ConfigEntry) -> list[ConfigSubentry]:
    """The entry's circuit subentries in CT input order (CT1 first).

    Iterates ``entry.subentries`` (2025.8 has no ``get_subentries_of_type``).
    """
    found = [
        sub
        for sub in entry.subentries.values()
        if sub.subentry_type == SUBENTRY_CIRCUIT and sub.data.get(CONF_CHANNEL) in _BY_KEY
    ]
    return sorted(found, key=lambda sub: CIRCUIT_CHANNELS.index(_BY_KEY[sub.data[CONF_CHANNEL]]))


def subentry_ids(entry: ConfigEntry) -> dict[str, str]:
    """Channel key -> the id of the circuit subentry on that CT input."""
    return {str(sub.data[CONF_CHANNEL]): sub.subentry_id for sub in circuit_subentries(entry)}


def circuit_inputs(entry: ConfigEntry) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(data, options)`` the settings read (``meter_settings``, ``entry_wiring``) for ``entry``.

    A circuits entry's data gets ``channels`` (the CT inputs that have a subentry) and its
    options each circuit's ``name_<key>``, ``ct_preset_<key>``, ``current_gain_<key>``,
    ``invert_<key>`` and ``voltage_factor_<key>`` from its subentry.  An option the entry
    holds itself for a circuit (a calibration just saved, before :func:`async_adopt_options`
    moves it into the subentry at the next setup) wins.  Other wirings: data and options as they are.
    """
    if not is_circuits(entry):
        return dict(entry.data), dict(entry.options)
    circuits = circuit_subentries(entry)
    overlay: dict[str, Any] = {}
    for sub in circuits:
        channel = _BY_KEY[sub.data[CONF_CHANNEL]]
        overlay[channel.name_option] = sub.title
        overlay.update({option: sub.data[key] for key, option in _fields(channel).items() if key in sub.data})
    data = {**entry.data, CONF_CHANNELS: [str(sub.data[CONF_CHANNEL]) for sub in circuits]}
    return data, {**overlay, **entry.options}


def circuit_names(hass: HomeAssistant, *, exclude: str | None = None) -> list[str]:
    """The names of every circuit of the integration's entries but subentry ``exclude``: a new name must differ."""
    return [
        sub.title
        for entry in hass.config_entries.async_entries(DOMAIN)
        for sub in circuit_subentries(entry)
        if sub.subentry_id != exclude
    ]


def circuit_subentry(channel: Channel, name: str, options: Mapping[str, Any]) -> ConfigSubentryData:
    """The subentry of circuit ``channel`` named ``name`` from per-channel entry ``options``.

    ``options`` as the setup's circuits form or a 2.1 entry give them (``ct_preset_<key>``, ...).
    """
    data: dict[str, Any] = {CONF_CHANNEL: channel.key}
    data.update({key: options[option] for key, option in _fields(channel).items() if option in options})
    data[CONF_VOLTAGE_FACTOR] = int(data.get(CONF_VOLTAGE_FACTOR, 1))
    return ConfigSubentryData(data=data, subentry_type=SUBENTRY_CIRCUIT, title=name, unique_id=channel.key)


CIRCUIT_OPTIONS: Final = frozenset(
    key for channel in CIRCUIT_CHANNELS for key in (channel.name_option, *_fields(channel).values())
)
"""The entry options that belong to a circuit (its subentry holds them): ``name_ct1``, ``ct_preset_ct1``, ..."""


@callback
def async_adopt_options(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Move the options a circuits entry holds for its circuits into their subentries.

    The options flow (calibration, the chip's settings) writes a circuit's CT preset and
    gain into the entry's options, as for every wiring; at the next setup they go to the
    circuit's subentry, their one home.  Options of a CT input with no subentry are dropped.
    """
    if not is_circuits(entry):
        return
    if not CIRCUIT_OPTIONS & entry.options.keys():
        return
    for sub in circuit_subentries(entry):
        channel = _BY_KEY[sub.data[CONF_CHANNEL]]
        moved = {key: entry.options[option] for key, option in _fields(channel).items() if option in entry.options}
        title = str(entry.options.get(channel.name_option) or sub.title)
        hass.config_entries.async_update_subentry(entry, sub, data={**sub.data, **moved}, title=title)
    options = {key: value for key, value in entry.options.items() if key not in CIRCUIT_OPTIONS}
    hass.config_entries.async_update_entry(entry, options=options)


def _circuits_state(entry: ConfigEntry) -> tuple[tuple[str, str, tuple[tuple[str, Any], ...]], ...]:
    return tuple((sub.subentry_id, sub.title, tuple(sorted(sub.data.items()))) for sub in circuit_subentries(entry))


@callback
def async_reload_on_circuit_change(hass: HomeAssistant, entry: ConfigEntry) -> Callable[[], None]:
    """Reload ``entry`` when a circuit subentry is added, changed or removed; returns the unsubscribe.

    Home Assistant reloads nothing on a subentry change, and an update listener is not
    allowed beside the options flow's automatic reload; the entry's change signal is used.
    Removing a subentry removes its device and entities (Home Assistant); the reload takes
    its channel out of the chip's configuration.
    """
    seen = _circuits_state(entry)

    @callback
    def changed(change: ConfigEntryChange, changed_entry: ConfigEntry) -> None:
        if (
            change is ConfigEntryChange.UPDATED
            and changed_entry.entry_id == entry.entry_id
            and _circuits_state(changed_entry) != seen
        ):
            hass.config_entries.async_schedule_reload(entry.entry_id)

    return async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, changed)


@callback
def async_migrate_to_subentries(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Move a circuits entry's circuits (entry data ``channels``, per-channel options) into subentries.

    Entry version 2.1 to 2.2.  Each enabled channel becomes a ``circuit`` subentry titled
    with its name; its device and every entity whose unique id is ``<entry id>_<key>_...``
    are moved onto the subentry in the registries in place, so entity ids, unique ids,
    devices, history, statistics and the ledger (keyed by entry and channel) stay as they are.
    """
    if not is_circuits(entry):
        return
    enabled = entry.data.get(CONF_CHANNELS)
    wiring = wiring_for(CIRCUITS_KEY, None if enabled is None else list(enabled))
    for channel in wiring.channels:
        name = str(entry.options.get(channel.name_option) or channel.name)
        made = circuit_subentry(channel, name, entry.options)
        hass.config_entries.async_add_subentry(
            entry,
            ConfigSubentry(
                data=MappingProxyType(dict(made["data"])),
                subentry_type=made["subentry_type"],
                title=made["title"],
                unique_id=made["unique_id"],
            ),
        )
    hass.config_entries.async_update_entry(
        entry,
        data={key: value for key, value in entry.data.items() if key != CONF_CHANNELS},
        options={key: value for key, value in entry.options.items() if key not in CIRCUIT_OPTIONS},
    )
    _async_move_registry(hass, entry)


@callback
def _async_move_registry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Put each circuit's device and entities (``<entry id>_<key>_...``) on its subentry."""
    ids = subentry_ids(entry)
    entities = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(entities, entry.entry_id):
        key = entity.unique_id.removeprefix(f"{entry.entry_id}_").split("_", 1)[0]
        if key in ids and entity.unique_id.startswith(f"{entry.entry_id}_{key}_"):
            entities.async_update_entity(entity.entity_id, config_subentry_id=ids[key])
    devices = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(devices, entry.entry_id):
        for key, subentry_id in ids.items():
            if (DOMAIN, f"{entry.entry_id}_{key}") not in device.identifiers:
                continue
            if MOVE_DEVICE:  # 2026.x: a device belongs to one subentry, moved in one call
                devices.async_update_device(device.id, new_config_subentry_id=subentry_id)
            else:  # 2025.8: the subentry added to the entry's set, the entry's own (None) taken out
                devices.async_update_device(
                    device.id, add_config_entry_id=entry.entry_id, add_config_subentry_id=subentry_id
                )
                devices.async_update_device(
                    device.id, remove_config_entry_id=entry.entry_id, remove_config_subentry_id=None
                )
