"""Lists as files: CSV streamed row by row, XLSX written by XlsxWriter in its constant-memory
mode to a temporary file and streamed from there, so an export of any size keeps the worker's
memory flat. The file is named after the view it exports."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_CHUNK = 1000  # records read (and their names looked up) at a time


@dataclass(frozen=True)
class Export:
    """A list as a file: what it is named after, its header, and its rows (read from the
    database a chunk at a time while the file is written)."""

    title: list[str]
    header: list[str]
    rows: Iterator[list[Any]]


def chunked_rows(
    records: QuerySet[Any], rows_of: Callable[[list[Any]], Iterable[list[Any]]]
) -> Iterator[list[Any]]:
    """The file's rows of `records`, EXPORT_CHUNK records at a time (`rows_of` turns a chunk
    into rows, looking up what the rows name once a chunk)."""
    chunk: list[Any] = []
    for record in records.iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(record)
        if len(chunk) == EXPORT_CHUNK:
            yield from rows_of(chunk)
            chunk = []
    yield from rows_of(chunk)


def export_download(
    request: HttpRequest, *, back: str, export: Callable[[], Export | None]
) -> HttpResponseBase:
    """A list view's export, in the `format` the query asks for: back to the list with a
    message for an unknown format, or while `export` has nothing to give (None: the mirror
    does not hold the list yet)."""
    file_format = request.GET.get("format", "csv")
    if file_format not in FORMATS:
        messages.error(request, _("Choose CSV or XLSX."))
        return redirect(back)
    made = export()
    if made is None:
        messages.warning(
            request,
            _(
                "This list can be exported once the mirror holds it (see the Sync page); "
                "until then MiniCRM would be asked for every page of it."
            ),
        )
        return redirect(back)
    return export_response(
        file_format=file_format, name=export_name(*made.title), header=made.header, rows=made.rows
    )


def export_name(*parts: str) -> str:
    """A file name (without its extension) from what the view shows ("Értékesítés", "Lead")
    and today's date: ertekesites-lead-2026-12-02."""
    words = "-".join(slug for part in parts if (slug := slugify(part)))
    return f"{words or 'export'}-{timezone.localdate().isoformat()}"


def _cell(value: Any) -> Any:
    """A value as a spreadsheet cell: text, a number (money as its Decimal), a date or time
    (local, naive), or empty; a list as its items joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, int | float | Decimal | date):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


class _Echo:
    """A file-like object that hands back what csv.writer writes."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a byte-order mark, so that spreadsheet programs read UTF-8
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([_text(_cell(value)) for value in row])


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    # A cell a spreadsheet would run as a formula is kept as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _xlsx_file(header: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str) -> Any:
    """The rows written to a temporary XLSX file (deleted when closed), rewound."""
    # Closed (and so deleted) by the FileResponse once it has been sent.
    handle = tempfile.TemporaryFile()  # noqa: SIM115
    book = xlsxwriter.Workbook(
        handle,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    worksheet = book.add_worksheet(sheet[:31] or "Export")
    bold = book.add_format({"bold": True})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    worksheet.write_row(0, 0, list(header), bold)
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            cell = _cell(value)
            if isinstance(cell, datetime):
                worksheet.write_datetime(number, column, cell, moment)
            elif isinstance(cell, date):
                worksheet.write_datetime(number, column, cell, day)
            else:
                worksheet.write(number, column, cell)
    book.close()
    handle.seek(0)
    return handle


def export_response(
    *,
    file_format: str,
    name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> StreamingHttpResponse | FileResponse:
    """The rows as a download in `file_format` ("csv" or "xlsx"), named `name` + extension."""
    if file_format == "xlsx":
        return FileResponse(
            _xlsx_file(header, rows, name),
            as_attachment=True,
            filename=f"{name}.xlsx",
            content_type=XLSX_TYPE,
        )
    response = StreamingHttpResponse(
        _csv_lines(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
