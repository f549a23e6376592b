"""The ledger's files when something is wrong with them: no count is lost and nothing damaged is believed.

- the journal lives beside the ledger store in ``.storage`` (the tests elsewhere move it to
  their own directory: here the real location is checked);
- a journal that cannot be written (its folder is not a folder, a disk error) makes every
  save write the store instead, with one warning, until the journal can be written again;
- a record too large for the journal's page is refused before anything is written;
- a journal of zeros (created, never written before a power cut) or with a record whose CRC
  matches but is not JSON reads as no record.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant

from custom_components.atm90e32.driver import EnergyCounts, Phase
from custom_components.atm90e32.driver.ledger import EnergyLedger
from custom_components.atm90e32.driver.models import EnergyRead
from custom_components.atm90e32.quality import SupplyWatch
from custom_components.atm90e32.storage import JOURNAL_SIZE, LedgerJournal, LedgerStore, journal_path

WARNING = "writing the ledger store after every read instead"


def watch() -> SupplyWatch:
    return SupplyWatch(EnergyLedger().wiring, nominal_voltage=120.0, scale=1, export_expected=False)


def ledger_with(l1_import: int) -> EnergyLedger:
    ledger = EnergyLedger()
    ledger.add(EnergyRead(phases={Phase.A: EnergyCounts(forward=l1_import, reverse=0)}))
    return ledger


async def restored(hass: HomeAssistant, entry_id: str, journal: Path) -> int:
    """The L1 import count a restart restores from the entry's two files."""
    store = LedgerStore(hass, entry_id)
    store.journal = LedgerJournal(journal)
    ledger = EnergyLedger()
    await store.async_load(ledger, watch())
    return ledger.counts(("l1", "import"))


async def test_the_journal_lives_beside_the_ledger_store(hass: HomeAssistant) -> None:
    # journal_path as imported here is the integration's own (conftest moves it for the other tests).
    store = LedgerStore(hass, "entry")
    journal = journal_path(hass, "atm90e32.ledger.entry")
    assert journal.parent == Path(store._store.path).parent == Path(hass.config.config_dir) / ".storage"
    assert journal.name == Path(store._store.path).name + ".journal"


async def test_a_journal_that_cannot_be_written_makes_every_save_durable(
    hass: HomeAssistant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the journal's folder should be")
    store = LedgerStore(hass, "broken")
    store.journal = LedgerJournal(blocker / "atm90e32.ledger.broken.journal")
    assert await store.async_save(ledger_with(100), None, watch(), durable=False) is True
    assert await store.async_save(ledger_with(250), None, watch(), durable=False) is True
    assert caplog.text.count(WARNING) == 1  # said once, not at every read
    assert await restored(hass, "broken", tmp_path / "nowhere.journal") == 250  # the store has every read

    blocker.unlink()  # the journal can be written again: back to the store once a minute
    assert await store.async_save(ledger_with(300), None, watch(), durable=False) is False
    assert store.journal.read() is not None
    assert await restored(hass, "broken", store.journal.path) == 300
    await store.async_close()


def test_a_record_larger_than_the_journal_page_is_refused_and_the_old_one_kept(tmp_path: Path) -> None:
    journal = LedgerJournal(tmp_path / "ledger.journal")
    journal.write({"counts": {"l1_import": 1}})
    with pytest.raises(ValueError, match="does not fit"):
        journal.write({"counts": {f"circuit_{n}": n for n in range(JOURNAL_SIZE // 10)}})
    assert journal.read() == {"counts": {"l1_import": 1}}
    journal.close()


@pytest.mark.parametrize(
    "content",
    [
        bytes(JOURNAL_SIZE),  # the page was allocated, the record never reached it
        f"{zlib.crc32(b'{not json'):08x} {{not json\n".encode().ljust(JOURNAL_SIZE, b" "),
        b"not-hex " + json.dumps({"counts": {"l1_import": 5}}).encode() + b"\n",
    ],
    ids=["zeros", "crc of text that is not json", "no crc"],
)
def test_a_journal_without_an_intact_record_reads_as_none(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "ledger.journal"
    path.write_bytes(content)
    assert LedgerJournal(path).read() is None
