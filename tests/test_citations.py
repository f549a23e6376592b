"""Datasheet citations: every "DS p.N" in the repository names a page of the register table.

driver/registers.py keeps one table of the registers with the datasheet page of each
(REGISTER_TABLE, read from Table-5 of Atmel-46003B, whose printed page numbers are the
PDF's) and the other pages cited (DS_SECTIONS).  A citation of any other page is a typo
or another revision's numbering (issue 22 found p.47 for MMode0, which is p.56).
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

from custom_components.atm90e32.driver import registers as reg

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("custom_components", "tests", "docs", "scripts", "README.md", "CHANGELOG.md")
SUFFIXES = {".py", ".md", ".json", ".yaml", ".svg"}
_PAGES = r"pp?\.\s?\d+(?:\s?[-\u2013]\s?\d+)?"
CITATION = re.compile(rf"\b(?:DS|datasheet)\s+({_PAGES}(?:,\s?{_PAGES})*)")
PAGE = re.compile(r"(\d+)(?:\s?[-\u2013]\s?(\d+))?")


def cited_pages(text: str) -> list[tuple[str, list[int]]]:
    """Each citation in ``text`` and the pages it names (a range names every page in it)."""
    found = []
    for match in CITATION.finditer(text):
        pages: list[int] = []
        for first, last in PAGE.findall(match.group(1)):
            pages += range(int(first), int(last or first) + 1)
        found.append((match.group(0), pages))
    return found


def files() -> list[Path]:
    result = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            result.append(path)
        elif path.is_dir():
            result += [p for p in path.rglob("*") if p.suffix in SUFFIXES and "snapshots" not in p.parts]
    return sorted(result)


def test_the_pattern_reads_every_form() -> None:
    text = "DS p.56; DS pp.67-68; (DS p.20, p.60); datasheet p.72; DS p.12, p.67"
    assert [pages for _, pages in cited_pages(text)] == [[56], [67, 68], [20, 60], [72], [12, 67]]


def test_every_citation_names_a_page_of_the_table() -> None:
    wrong = []
    for path in files():
        text = path.read_text(encoding="utf-8")
        for number, citation, pages in citations_in(text):
            missing = [page for page in pages if page not in reg.DS_PAGES]
            if missing:
                wrong.append(f"{path.relative_to(ROOT)}:{number}: {citation} (no page {missing})")
    assert not wrong, "\n".join(wrong)


def citations_in(text: str) -> list[tuple[int, str, list[int]]]:
    """Each citation in ``text`` with its line number, also one wrapped onto the next line ("DS\\n  # p.58")."""
    # A line break and the next line's indent and comment marker read as spaces (same length, so
    # match positions still give the line).
    joined = re.sub(r"\n[ \t]*(?:#[ \t]*)?", lambda m: " " * len(m.group(0)), text)
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(0), pages)
        for match, (_, pages) in ((m, cited_pages(m.group(0))[0]) for m in CITATION.finditer(joined))
    ]


def test_a_citation_wrapped_onto_the_next_line_is_read() -> None:
    text = "the delay (PhiA-PhiC, DS\n  p.51): a cycle\n    # IrmsN, DS\n    # p.66\n"
    assert [(line, pages) for line, _, pages in citations_in(text)] == [(1, [51]), (3, [66])]


def test_each_register_constant_cites_its_page_in_the_table() -> None:
    """A constant whose docstring opens with a register's DS name cites that register's page."""
    pages = {r.name: r.page for r in reg.REGISTER_TABLE}
    tree = ast.parse(Path(reg.__file__).read_text(encoding="utf-8"))
    body = tree.body
    checked = 0
    for node, after in itertools.pairwise(body):
        if not isinstance(node, ast.AnnAssign) or not isinstance(after, ast.Expr):
            continue
        doc = after.value.value if isinstance(after.value, ast.Constant) else None
        if not isinstance(doc, str):
            continue
        first = re.split(r"[:/ ]", doc, maxsplit=1)[0]
        if first not in pages:
            continue
        cited = [p for _, found in cited_pages(doc) for p in found]
        assert pages[first] in cited, f"{first}: cites {cited}, the table says p.{pages[first]}"
        checked += 1
    assert checked >= 40


def test_the_table_agrees_with_the_constants() -> None:
    by_address = {r.address: r.name for r in reg.REGISTER_TABLE}
    assert by_address[reg.MMODE0] == "MMode0"
    assert by_address[reg.IRMS_N] == "IrmsN"
    assert [by_address[a] for a in reg.UGAIN] == ["UgainA", "UgainB", "UgainC"]
    assert [by_address[a] for a in reg.PHI] == ["PhiA", "PhiB", "PhiC"]
    assert [by_address[a] for a in reg.PMEAN_LSB] == ["PmeanALSB", "PmeanBLSB", "PmeanCLSB"]
    assert [by_address[a] for a in reg.UANGLE] == ["UangleA", "UangleB", "UangleC"]
    assert by_address[reg.TEMP] == "Temp"
    assert len(by_address) == len(reg.REGISTER_TABLE)  # one row per address
