"""A person in the browser: onboarding, adding the meter, its errors, settings, calibration,
the device page and the Energy dashboard, in Home Assistant's real frontend (Chromium).

The tests run in order against one Home Assistant (see conftest.py): the user created
by the first is the one logged in for the rest, and the meter added by one is the one the
next ones configure.  Each saves a screenshot to tests/browser/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from .conftest import FrontendHass

NAME = "ATM90E32AS Energy Meter"
DEVICE = "ATM90E32AS (simulated)"


def flow_dialog(page: Page) -> Locator:
    """The open config or options flow dialog: its ha-dialog, which holds the slotted title, form and buttons."""
    return page.locator("dialog-data-entry-flow ha-dialog")


def submit(page: Page) -> None:
    flow_dialog(page).get_by_role("button", name="Submit").click()


def choose(page: Page, label: str, option: str) -> None:
    """Pick ``option`` in the drop-down selector labelled ``label``."""
    select = page.locator("ha-select").filter(has=page.locator(f'ha-picker-field[aria-label="{label}"]'))
    select.locator("ha-picker-field").click()
    select.get_by_role("menuitem", name=option).click()


def number(page: Page, label: str) -> Locator:
    """The number box of the form field labelled ``label``."""
    return flow_dialog(page).locator("ha-selector").filter(has_text=label).get_by_role("spinbutton")


def open_add_flow(page: Page, hass: FrontendHass) -> Locator:
    """Settings -> Add integration -> this integration; returns the flow dialog on its first step, the wiring."""
    page.goto(f"{hass.url}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    expect(page.get_by_text("Select brand")).to_be_visible()
    page.get_by_placeholder("Search for a brand name").fill("ATM90E32")
    page.get_by_role("button", name=NAME).click()
    dialog = flow_dialog(page)
    expect(dialog.get_by_text(NAME, exact=True)).to_be_visible()  # the integration's own name
    expect(dialog.get_by_text("How is this chip wired?")).to_be_visible()  # the wiring comes first
    return dialog


def start_adding_the_meter(page: Page, hass: FrontendHass) -> None:
    dialog = open_add_flow(page, hass)
    submit(page)  # split-phase mains, the default
    expect(dialog.get_by_text("Chip select and board", exact=True)).to_be_visible()
    expect(dialog.get_by_label("Chip select")).to_contain_text("Simulated meter (trace replay)")
    submit(page)


def test_01_onboarding_creates_the_user(page: Page, frontend_hass: FrontendHass, screenshot: Path) -> None:
    page.goto(f"{frontend_hass.url}/")
    page.get_by_role("button", name="Create my smart home").click()
    page.locator("input[name=name]").fill("Browser Test")
    page.locator("input[name=username]").fill("browser")
    page.locator("input[name=password]").fill("browser-password")
    page.locator("input[name=password_confirm]").fill("browser-password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Home location")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("the country your home is in")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="Help us help you")).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name="All set!")).to_be_visible()
    page.get_by_role("button", name="Finish").click()
    # Home Assistant moved the test configuration's http: YAML into its storage and asks to keep
    # it; unconfirmed, it would restart on its default port after 5 minutes.
    http_dialog = page.get_by_text("Confirm new HTTP server configuration")
    expect(http_dialog).to_be_visible()
    page.get_by_role("button", name="Confirm", exact=True).click()
    expect(http_dialog).to_have_count(0)
    expect(page.get_by_role("heading", name="Welcome Browser Test")).to_be_visible()  # logged in as the new user
    expect(page.get_by_text("Settings", exact=True)).to_be_visible()
    page.screenshot(path=str(screenshot))


def test_02_a_config_flow_error_is_shown_and_keeps_the_value(
    page: Page, frontend_hass: FrontendHass, screenshot: Path
) -> None:
    start_adding_the_meter(page, frontend_hass)
    dialog = flow_dialog(page)
    expect(dialog.get_by_text("Voltage transformer and CTs", exact=True)).to_be_visible()
    expect(dialog.get_by_role("spinbutton")).to_have_count(0)  # presets only: no gain to type here
    choose(page, "CT on L2 (CT2)", "Custom gain")
    submit(page)
    expect(dialog.get_by_text("Custom gains", exact=True)).to_be_visible()
    expect(dialog.get_by_role("spinbutton")).to_have_count(1)  # only the gain that is used
    gain = number(page, "CT gain, L2 (CT2) (Igain)")
    expect(gain).to_have_value("25498")
    gain.fill("0")
    submit(page)
    expect(dialog.get_by_text("A gain must be a whole number from 1 to 65535.")).to_be_visible()
    expect(gain).to_have_value("0")
    page.screenshot(path=str(screenshot))
    dialog.get_by_role("button", name="Close").first.click()
    expect(dialog).to_have_count(0)


def test_02_b_an_emptied_replay_file_means_no_file_not_the_refused_path(
    page: Page, frontend_hass: FrontendHass, screenshot: Path
) -> None:
    """After "No file at this path", clearing the field and submitting goes on (it repeated the error)."""
    dialog = open_add_flow(page, frontend_hass)
    submit(page)
    expect(dialog.get_by_text("Chip select and board", exact=True)).to_be_visible()
    replay = dialog.locator("ha-selector").filter(has_text="Replay file").get_by_role("textbox")
    replay.fill("nothing-here.csv")
    submit(page)
    expect(dialog.get_by_text("No file at this path", exact=False)).to_be_visible()
    expect(replay).to_have_value("nothing-here.csv")  # what was typed stays, to be corrected
    replay.fill("")
    expect(replay).to_have_value("")  # no old value greyed in behind it
    submit(page)
    expect(dialog.get_by_text("Voltage transformer and CTs", exact=True)).to_be_visible()
    page.screenshot(path=str(screenshot))
    dialog.get_by_role("button", name="Close").first.click()
    expect(dialog).to_have_count(0)


def test_03_adding_the_simulated_meter(page: Page, frontend_hass: FrontendHass, screenshot: Path) -> None:
    start_adding_the_meter(page, frontend_hass)
    dialog = flow_dialog(page)
    expect(dialog.get_by_text("Voltage transformer and CTs", exact=True)).to_be_visible()
    submit(page)  # the presets: no custom gains step
    expect(dialog.get_by_text("Name and assign", exact=True)).to_be_visible()
    expect(dialog.get_by_role("textbox")).to_have_value(DEVICE)  # the device name, from the entry's title
    expect(dialog).to_contain_text("Microchip Technology")
    page.screenshot(path=str(screenshot))
    dialog.get_by_role("button", name="Skip and finish").click()
    expect(page.get_by_role("heading", name="Device info")).to_be_visible()  # the new device's page opens


def test_04_the_same_chip_cannot_be_added_twice(page: Page, frontend_hass: FrontendHass, screenshot: Path) -> None:
    """The chip select set up already is no longer offered: the next one of the simulated bus is."""
    dialog = open_add_flow(page, frontend_hass)
    submit(page)
    expect(dialog.get_by_text("Already set up: Simulated meter (trace replay).", exact=False)).to_be_visible()
    expect(dialog.get_by_label("Chip select")).to_contain_text("Simulated meter, chip select 1")
    page.screenshot(path=str(screenshot))
    dialog.get_by_role("button", name="Close").first.click()


def open_options(page: Page, hass: FrontendHass, menu_item: str) -> Locator:
    """Open the meter's options (Configure) and pick ``menu_item``; returns the dialog."""
    page.goto(f"{hass.url}/config/integrations/integration/atm90e32")
    page.get_by_role("button", name="Configure").first.click()
    dialog = flow_dialog(page)
    expect(dialog.get_by_text("Meter options", exact=True)).to_be_visible()
    expect(dialog.get_by_text(f"Settings and calibration of {DEVICE}.")).to_be_visible()  # names the meter
    dialog.get_by_text(menu_item, exact=True).click()
    return dialog


def test_05_options_ask_for_a_gain_only_where_it_is_used(
    page: Page, frontend_hass: FrontendHass, screenshot: Path
) -> None:
    dialog = open_options(page, frontend_hass, "Transformers, CTs and scaling")
    expect(dialog.get_by_text(f"{DEVICE}: Transformers, CTs and scaling", exact=True)).to_be_visible()
    expect(dialog.get_by_role("spinbutton")).to_have_count(0)  # presets chosen: no gain fields
    choose(page, "Voltage transformer", "Custom gain")
    submit(page)
    expect(dialog.get_by_text(f"{DEVICE}: Custom gains", exact=True)).to_be_visible()
    expect(dialog.get_by_role("spinbutton")).to_have_count(1)  # one transformer: one voltage gain, no CT gain
    gain = number(page, "Voltage gain (Ugain)")
    expect(gain).to_have_value("3920")
    gain.fill("3900")
    page.screenshot(path=str(screenshot))
    submit(page)
    expect(dialog.get_by_text("Options successfully saved.")).to_be_visible()
    dialog.get_by_role("button", name="Finish").click()


def test_06_calibration_errors_say_what_is_wrong_and_keep_the_values(
    page: Page, frontend_hass: FrontendHass, screenshot: Path
) -> None:
    dialog = open_options(page, frontend_hass, "Calibrate against a reference meter")
    expect(dialog.get_by_text(f"{DEVICE}: Calibrate against a reference meter", exact=True)).to_be_visible()
    expect(dialog).to_contain_text("The meter reads now: L1 ")
    submit(page)  # nothing entered
    expect(dialog.get_by_text("Enter at least one reference reading")).to_be_visible()
    current, power = (
        number(page, "Reference current, L1 (CT1)"),
        number(page, "Reference power, resistive load on L1 (CT1)"),
    )
    current.fill("5")
    power.fill("600")
    submit(page)
    expect(
        dialog.get_by_text("Give this leg either its current or the power of a resistive load, not both.")
    ).to_be_visible()
    expect(current).to_have_value("5")
    expect(power).to_have_value("600")
    page.screenshot(path=str(screenshot))
    current.fill("")
    power.fill("0")
    submit(page)
    expect(dialog.get_by_text("A reference must be more than 0.")).to_be_visible()
    expect(power).to_have_value("0")
    expect(dialog).not_to_contain_text("(None)")
    power.fill("")
    current.fill("-5")  # below the field's minimum: our message at the field, not the form library's
    submit(page)
    expect(dialog.get_by_text("A reference must be more than 0.")).to_be_visible()
    expect(current).to_have_value("-5")
    expect(dialog).not_to_contain_text("too small")  # voluptuous' "Value -5.0 is too small"
    expect(dialog).not_to_contain_text("Enter at least one reference reading")  # no stale error beside it
    dialog.get_by_role("button", name="Close").first.click()


def test_07_calibration_by_current_alone_shows_before_and_after(
    page: Page, frontend_hass: FrontendHass, screenshot: Path
) -> None:
    dialog = open_options(page, frontend_hass, "Calibrate against a reference meter")
    expect(dialog).to_contain_text("The meter reads now: L1 ")
    now = dialog.get_by_text(re.compile("The meter reads now: L1")).inner_text()
    readings = re.search(r"L1 \(CT1\) [0-9.]+ V, ([0-9.]+) A", now)  # the input's one name
    assert readings is not None
    shown = float(readings.group(1))
    number(page, "Reference current, L1 (CT1)").fill(f"{shown * 1.02:.3f}")  # the clamp meter reads 2 % more
    submit(page)
    expect(dialog.get_by_text(f"{DEVICE}: Calibration written", exact=True)).to_be_visible()
    report = re.compile(r"L1 \(CT1\): [0-9.]+ V → [0-9.]+ V, [0-9.]+ A → [0-9.]+ A, [0-9.]+ W → [0-9.]+ W")
    expect(dialog.get_by_text(report)).to_be_visible()
    expect(dialog).to_contain_text("L2 (CT2): ")
    page.screenshot(path=str(screenshot))
    submit(page)
    expect(dialog.get_by_text("Options successfully saved.")).to_be_visible()
    dialog.get_by_role("button", name="Finish").click()


def test_08_the_device_page_shows_the_sensors(page: Page, frontend_hass: FrontendHass, screenshot: Path) -> None:
    page.goto(f"{frontend_hass.url}/config/devices/dashboard")
    page.get_by_text(DEVICE, exact=True).click()
    expect(page.get_by_text("Microchip Technology").first).to_be_visible()
    for name in ("L1 voltage", "L2 power", "Line frequency", "Total power", "Imported energy", "Exported energy"):
        expect(page.get_by_text(name, exact=True).first).to_be_visible()
    shown = page.locator("body").aria_snapshot()  # what a screen reader reads: name and live value
    assert re.search(r"L1 voltage 1[12][0-9]\.[0-9] V", shown), shown  # from the simulated meter
    assert re.search(r"Line frequency 60\.00 Hz", shown), shown
    page.screenshot(path=str(screenshot), full_page=True)


def test_09_energy_dashboard_takes_our_energy_sensors(
    page: Page, frontend_hass: FrontendHass, screenshot: Path
) -> None:
    page.goto(f"{frontend_hass.url}/config/energy")
    page.get_by_role("button", name=re.compile("Add grid connection", re.IGNORECASE)).click()
    expect(page.get_by_text("Configure grid connection", exact=True)).to_be_visible()
    expect(page.get_by_text("Energy imported from grid", exact=True)).to_be_visible()
    expect(page.get_by_text("Energy exported to grid", exact=True)).to_be_visible()
    for name in ("Imported energy", "Exported energy"):
        page.get_by_text("Select a statistic").first.click()
        page.get_by_text(name, exact=True).last.click()  # the list shows our names, the device below
        # chosen: shown in its field (the closing list's copy may still be there, hidden)
        expect(page.get_by_text(name, exact=True).filter(visible=True).first).to_be_visible()
    page.screenshot(path=str(screenshot))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Configure grid connection", exact=True)).to_have_count(0)
    expect(page.get_by_text(re.compile("Imported energy")).first).to_be_visible()


def test_10_the_wiring_comes_first_and_each_circuit_is_a_device(
    page: Page, frontend_hass: FrontendHass, screenshot: Path
) -> None:
    """Circuits on the next simulated chip select, with the defaults: the chip and each circuit are devices."""
    dialog = open_add_flow(page, frontend_hass)
    dialog.get_by_role("radio", name=re.compile("^Circuits: up to three CTs")).check()
    submit(page)
    expect(dialog.get_by_text("Chip select and board", exact=True)).to_be_visible()
    expect(dialog.get_by_label("Chip select")).to_contain_text("Simulated meter, chip select 1")
    submit(page)
    expect(dialog.get_by_text("Circuits of this chip", exact=True)).to_be_visible()
    ct3 = dialog.locator("ha-selector").filter(has_text="CT input 3 has a CT").locator("ha-switch")
    ct3.click()  # no CT on input 3 yet: test_newcomer adds it as a circuit later
    page.screenshot(path=str(screenshot.with_name(screenshot.stem + "-circuits-form.png")), full_page=True)
    submit(page)
    expect(dialog.get_by_text("Name and assign", exact=True)).to_be_visible()
    expect(dialog.get_by_text("CT channel")).to_have_count(2)  # each circuit its own device, each with an area
    page.screenshot(path=str(screenshot))
    dialog.get_by_role("button", name="Skip and finish").click()
