"""Read an XLSX file's first sheet back as rows of text, with nothing but the standard library
(the tests check what the console wrote; the console itself writes with XlsxWriter)."""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

NS = {"x": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
COLUMN = re.compile(r"[A-Z]+")


def _column_index(reference: str) -> int:
    letters = COLUMN.match(reference)
    assert letters, reference
    number = 0
    for letter in letters.group():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number - 1


def xlsx_rows(content: bytes) -> list[list[str]]:
    """Each row's cells as text (numbers as written, strings resolved), gaps as ""."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in book.namelist():
            # The console's own file, written by the test itself: trusted.
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))  # noqa: S314
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['x']}}}t")) for si in root]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))  # noqa: S314
    rows = []
    for row in sheet.iter(f"{{{NS['x']}}}row"):
        cells: list[str] = []
        for cell in row.findall("x:c", NS):
            index = _column_index(cell.attrib["r"])
            cells.extend([""] * (index - len(cells)))
            kind = cell.attrib.get("t")
            if kind == "s":
                value = shared[int(cell.findtext("x:v", "0", NS))]
            elif kind == "inlineStr":
                value = "".join(t.text or "" for t in cell.iter(f"{{{NS['x']}}}t"))
            else:
                value = cell.findtext("x:v", "", NS)
            cells.append(value)
        rows.append(cells)
    return rows
