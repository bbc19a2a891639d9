"""A module's changelist over the mirror, in Debian's Chromium, as a person uses it: columns
chosen and put in order, a header clicked to sort both ways, filters saved and opened again, a
date range (and one that ends before it starts), and the export of what the list shows, opened
as CSV and as XLSX."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.cards.selectors import module_listed
from apps.mirror.models import Card
from apps.mirror.services import card_fetch
from tests.browser.conftest import eventually
from tests.writes.conftest import QueueRig
from tests.xlsxread import xlsx_rows

pytestmark = pytest.mark.browser

EVENTS_MODULE = 24  # Rendezvények (demo seed): Jelentkezett, Visszaigazolva, Részt vett, Lemondta


@pytest.fixture
def events(console_rig: QueueRig) -> int:
    """The events module, once the worker's sync has listed all of its cards in the mirror."""
    eventually(lambda: module_listed(category_id=EVENTS_MODULE), timeout=120)
    return EVENTS_MODULE


def headers(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("#result_list thead th[id]").all_text_contents()]


def names(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("#result_list tbody th a").all_text_contents()]


def ids(page: Page) -> list[int]:
    """The cards listed, read at one moment (not box by box while HTMX swaps the list)."""
    values = page.eval_on_selector_all(
        "#result_list tbody input[name=selected]", "(boxes) => boxes.map((box) => box.value)"
    )
    return [int(value) for value in values]


def filter_by_status(page: Page, status: str) -> None:
    """Choose a status in the sidebar and wait for the list to show that status alone."""
    page.locator("#id_status").select_option(label=status)
    expect(page).to_have_url(re.compile(r"[?&]status=\d+"))
    expect(page.locator("#result_list tbody td.column-status").first).to_have_text(status)
    statuses = page.locator("#result_list tbody td.column-status").all_text_contents()
    assert {text.strip() for text in statuses} == {status}


def sqlite_lower(text: str) -> str:
    """Text as SQLite's lower() leaves it (ASCII letters only), the name column's order."""
    return "".join(ch.lower() if "A" <= ch <= "Z" else ch for ch in text)


def test_columns_are_chosen_put_in_order_and_a_header_sorts_both_ways(
    logged_in: Page, events: int
) -> None:
    page = logged_in
    page.goto(f"/modules/{events}/")
    assert headers(page) == ["Name", "Status", "Owner", "Company", "Updated"]

    chooser = page.locator("#column-chooser")
    chooser.locator("summary").click()
    chooser.locator("input[value=owner]").uncheck()
    chooser.locator("input[value=Letszam]").check()
    # Letszam up to the top of the list, by its arrow, one place at a time.
    entry = chooser.locator("li", has=page.locator("input[value=Letszam]"))
    up = entry.get_by_role("button", name="Move Letszam up")
    while chooser.locator("li").first.locator("input").get_attribute("value") != "Letszam":
        up.click()
    chooser.get_by_role("button", name="Show these columns").click()

    expect(page.locator(".messagelist")).to_contain_text("The columns were saved.")
    assert headers(page) == ["Name", "Letszam", "Status", "Company", "Updated"]
    page.reload()
    assert headers(page) == ["Name", "Letszam", "Status", "Company", "Updated"]

    # A header sorts by its column, ascending, then descending, in place.
    page.locator("#column-name a").click()
    expect(page.locator("#column-name")).to_have_attribute("aria-sort", "ascending")
    expect(page).to_have_url(re.compile(r"[?&]o=name\b"))
    ascending = names(page)
    assert len(ascending) > 10
    assert ascending == sorted(ascending, key=sqlite_lower)
    page.locator("#column-name a").click()
    expect(page.locator("#column-name")).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"[?&]o=-name\b"))
    descending = names(page)
    assert descending == sorted(descending, key=sqlite_lower, reverse=True)
    assert descending[0] != ascending[0]
    # The columns stay as chosen while sorting.
    assert headers(page) == ["Name", "Letszam", "Status", "Company", "Updated"]


def test_a_filter_is_saved_by_name_and_opens_the_same_list_again(
    logged_in: Page, events: int
) -> None:
    page = logged_in
    page.goto(f"/modules/{events}/")
    filter_by_status(page, "Lemondta")
    count = page.locator(".paginator-count").inner_text()
    listed = ids(page)

    page.fill("#id_saved_name", "Lemondták")
    page.locator("#saved-filter-form").get_by_role("button", name="Save").click()
    expect(page.locator("#saved-filters")).to_contain_text("Lemondták")

    page.goto(f"/modules/{events}/")
    expect(page.locator(".paginator-count")).not_to_have_text(count)  # the whole module
    page.locator("#saved-filters").get_by_role("link", name="Lemondták").click()
    expect(page).to_have_url(re.compile(r"[?&]status=\d+"))
    expect(page.locator(".paginator-count")).to_have_text(count)
    assert ids(page) == listed


def test_a_date_range_keeps_the_cards_of_its_days_and_a_reversed_one_says_so(
    logged_in: Page, events: int
) -> None:
    # Custom fields are in a card's detail: these cards are read in full now (the worker's
    # backfill reads the others meanwhile, which the assertions allow for).
    fetched = [
        card_fetch(card_id=card_id)
        for card_id in Card.objects.filter(category_id=events, deleted=False)
        .order_by("id")
        .values_list("id", flat=True)[:12]
    ]
    dated = {
        card.id: date.fromisoformat(card.data["Datum"][:10])
        for card in fetched
        if card and card.data.get("Datum")
    }
    day = sorted(dated.values())[len(dated) // 2]
    inside = [card_id for card_id, when in dated.items() if when == day]
    outside = [card_id for card_id, when in dated.items() if when != day]
    assert inside and outside

    page = logged_in
    page.goto(f"/modules/{events}/")
    page.locator("#date-filters summary").click()
    page.fill("#id_f_Datum_from", day.isoformat())
    page.fill("#id_f_Datum_to", day.isoformat())
    expect(page).to_have_url(re.compile(rf"f_Datum_to={day.isoformat()}"))
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    shown = ids(page)
    assert set(inside) <= set(shown)
    assert not set(outside) & set(shown)
    assert all(dated.get(card_id, day) == day for card_id in shown)

    # An end before the start: said on the page at once, and the start alone still applies.
    page.fill("#id_f_Datum_to", (day - timedelta(days=1)).isoformat())
    expect(page.locator("#messages")).to_contain_text(
        "the end of a range cannot come before its start"
    )
    later = [card_id for card_id, when in dated.items() if when >= day]
    assert set(later) <= set(ids(page))


def test_the_export_holds_the_rows_the_filtered_sorted_list_shows(
    logged_in: Page, events: int, tmp_path: Path
) -> None:
    page = logged_in
    page.goto(f"/modules/{events}/?o=-name")
    filter_by_status(page, "Visszaigazolva")
    total = int(re.sub(r"\D", "", page.locator(".paginator-count").inner_text()))
    first_page = list(zip(ids(page), names(page), strict=True))

    with page.expect_download() as as_csv:
        page.locator("#export-csv").click()
    csv_path = tmp_path / as_csv.value.suggested_filename
    as_csv.value.save_as(csv_path)
    with page.expect_download() as as_xlsx:
        page.locator("#export-xlsx").click()
    xlsx_path = tmp_path / as_xlsx.value.suggested_filename
    as_xlsx.value.save_as(xlsx_path)

    assert csv_path.name.startswith("rendezvenyek-") and csv_path.suffix == ".csv"
    assert xlsx_path.suffix == ".xlsx"
    rows = list(csv.reader(io.StringIO(csv_path.read_text("utf-8-sig"))))
    sheet = xlsx_rows(xlsx_path.read_bytes())
    for table in (rows, sheet):
        assert table[0][:3] == ["Id", "Name", "Status"]
        body = table[1:]
        assert len(body) == total  # every page, not the first one only
        assert [(int(row[0]), row[1]) for row in body[: len(first_page)]] == first_page
        assert {row[2] for row in body} == {"Visszaigazolva"}
