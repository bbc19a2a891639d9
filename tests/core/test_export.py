"""Lists as files (apps/core/export.py): what a spreadsheet program reads back."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from apps.core.export import export_name, export_response
from tests.xlsxread import xlsx_rows

HEADER = ["Id", "Név", "Összeg", "Határidő", "Címkék"]
ROWS = [
    [1, "Kovács Réka", 1890000, date(2026, 12, 24), ["VIP", "Hideg"]],
    [2, '=HYPERLINK("http://evil.example")', -5, None, []],
    [3, 'vessző, "idézőjel"\nsortörés', 2.5, datetime(2026, 12, 2, 9, 30, tzinfo=UTC), "x"],
]


def streamed(response: StreamingHttpResponse) -> str:
    return b"".join(response.streaming_content).decode("utf-8")  # type: ignore[arg-type]


def test_csv_reads_back_as_written_with_utf8_and_no_formulas(settings) -> None:
    settings.TIME_ZONE = "Europe/Budapest"
    response = export_response(file_format="csv", name="eladasok", header=HEADER, rows=ROWS)

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"] == 'attachment; filename="eladasok.csv"'
    text = streamed(response)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == HEADER
    assert rows[1] == ["1", "Kovács Réka", "1890000", "2026-12-24", "VIP, Hideg"]
    assert rows[2] == ["2", '\'=HYPERLINK("http://evil.example")', "-5", "", ""]
    assert rows[3] == ["3", 'vessző, "idézőjel"\nsortörés', "2.5", "2026-12-02 10:30:00", "x"]


def test_xlsx_reads_back_as_written(settings) -> None:
    settings.TIME_ZONE = "Europe/Budapest"
    response = export_response(file_format="xlsx", name="eladasok", header=HEADER, rows=ROWS)

    assert isinstance(response, FileResponse)
    assert 'filename="eladasok.xlsx"' in response["Content-Disposition"]
    rows = xlsx_rows(b"".join(response.streaming_content))  # type: ignore[arg-type]
    assert rows[0] == HEADER
    assert rows[1][:3] == ["1", "Kovács Réka", "1890000"]
    assert rows[1][4] == "VIP, Hideg"
    assert rows[2][1] == '=HYPERLINK("http://evil.example")'  # text, not a formula
    assert rows[3][2] == "2.5"
    assert float(rows[3][3]) > 46000  # a date serial, Excel's date cell


def test_a_file_is_named_after_its_view_and_the_day() -> None:
    today = timezone.localdate().isoformat()
    assert export_name("Értékesítés", "Ajánlat kiküldve") == f"ertekesites-ajanlat-kikuldve-{today}"
    assert export_name("", "!!!") == f"export-{today}"


def test_money_is_written_as_a_number() -> None:
    rows = [[Decimal("2500.00"), Decimal("-12.5")]]

    as_csv = export_response(file_format="csv", name="m", header=["Net", "Gross"], rows=rows)
    as_xlsx = export_response(file_format="xlsx", name="m", header=["Net", "Gross"], rows=rows)

    text = streamed(as_csv)
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))[1] == ["2500.00", "-12.5"]
    sheet = xlsx_rows(b"".join(as_xlsx.streaming_content))  # type: ignore[arg-type]
    assert [float(cell) for cell in sheet[1]] == [2500.0, -12.5]
