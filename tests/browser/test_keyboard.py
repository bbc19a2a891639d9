"""The console by keyboard, in Debian's Chromium: "/" to the header's search, j/k through a
changelist's rows, Enter to open one, "e" to edit, and an inline edit that takes the focus when
it opens and goes away on Esc without saving. Keys typed into a field stay in the field."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from apps.cards.selectors import module_listed
from apps.writes.models import Write
from tests.browser.conftest import eventually

pytestmark = pytest.mark.browser

EVENTS_MODULE = 24  # Rendezvények (demo seed), many cards
INLINE_CARD = 102032  # "Tanácsadás #2032" in Projektek, with the text field ProjektKod


def highlighted(page: Page) -> list[str]:
    """The ids of the cards whose changelist rows are highlighted (there should be one)."""
    return list(
        page.eval_on_selector_all(
            "#result_list tbody tr[aria-current=true].key-current",
            "(rows) => rows.map((row) => row.querySelector('input[name=selected]').value)",
        )
    )


def test_slash_focuses_the_search_box_where_j_is_typed_as_a_j(logged_in: Page) -> None:
    page = logged_in
    page.goto(f"/modules/{EVENTS_MODULE}/")
    search = page.locator("#global-search-q")
    expect(search).not_to_be_focused()

    page.keyboard.press("Control+/")  # a shortcut with Ctrl is not the console's
    expect(search).not_to_be_focused()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("")  # the "/" itself is not typed

    page.keyboard.type("jk/e")
    expect(search).to_have_value("jk/e")
    assert highlighted(page) == []
    expect(page).to_have_url(re.compile(rf"/modules/{EVENTS_MODULE}/$"))


def test_j_and_k_move_through_a_changelist_enter_opens_and_e_edits(logged_in: Page) -> None:
    page = logged_in
    page.goto(f"/modules/{EVENTS_MODULE}/")
    boxes = page.locator("#result_list input[name=selected]")
    expect(boxes.nth(2)).to_be_attached()
    ids = [boxes.nth(n).get_attribute("value") for n in range(3)]

    page.keyboard.press("j")
    assert highlighted(page) == [ids[0]]
    page.keyboard.press("j")
    assert highlighted(page) == [ids[1]]
    page.keyboard.press("k")
    assert highlighted(page) == [ids[0]]
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert highlighted(page) == [ids[2]]
    row = page.locator("#result_list tbody tr.key-current")
    expect(row).to_have_css("outline-style", "solid")  # seen, not only in the DOM
    name = row.locator("th a").inner_text()

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/cards/{ids[2]}/$"))
    expect(page.locator("h1")).to_contain_text(name)
    page.wait_for_load_state()  # its console.js too, as a person would see the page first

    # On a card page, "e" opens its change form.
    page.keyboard.press("e")
    expect(page).to_have_url(re.compile(rf"/cards/{ids[2]}/change/$"))

    # On a highlighted changelist row, "e" opens that card's change form.
    page.goto(f"/modules/{EVENTS_MODULE}/")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert highlighted(page) == [ids[1]]
    page.keyboard.press("e")
    expect(page).to_have_url(re.compile(rf"/cards/{ids[1]}/change/$"))


def test_an_inline_edit_takes_the_focus_and_esc_cancels_it_without_saving(
    logged_in: Page,
) -> None:
    page = logged_in
    page.goto(f"/cards/{INLINE_CARD}/")
    row = page.locator("#field-ProjektKod")
    expect(row).to_contain_text("Elégedett ügyfél.")
    row.get_by_role("link", name="edit").click()

    box = page.locator("#field-ProjektKod.editing input[type=text]")
    expect(box).to_be_focused()
    page.keyboard.type(" Nem mentjük")  # "j" and "e" among the letters: typed, not keys
    expect(box).to_have_value(re.compile(r"Nem mentjük$"))
    expect(page).to_have_url(re.compile(rf"/cards/{INLINE_CARD}/$"))

    page.keyboard.press("Escape")
    expect(page.locator("#field-ProjektKod.editing")).to_have_count(0)
    expect(page.locator("#field-ProjektKod")).to_contain_text("Elégedett ügyfél.")
    expect(page.locator("#field-ProjektKod")).not_to_contain_text("Nem mentjük")
    page.wait_for_timeout(500)
    assert not Write.objects.filter(target_id=INLINE_CARD).exists()


def test_the_keys_work_on_contact_results_and_board_tiles_too(logged_in: Page) -> None:
    page = logged_in
    page.goto("/contacts/?q=Papp")
    first = page.locator("#result_list tbody tr").first
    contact = first.locator("th a").get_attribute("href")
    page.locator("h1").click()  # out of the search box, which has the focus on this page
    page.keyboard.press("j")
    expect(first).to_have_attribute("aria-current", "true")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"{contact}$"))
    page.wait_for_load_state()
    page.keyboard.press("e")  # a contact page's "e" opens its change form
    expect(page).to_have_url(re.compile(rf"{contact}change/$"))

    # The board needs the module in the mirror (the worker's sync, started by beat).
    eventually(lambda: module_listed(category_id=EVENTS_MODULE), timeout=120)
    page.goto(f"/modules/{EVENTS_MODULE}/board/")
    tiles = page.locator("li.board-card")
    expect(tiles.nth(1)).to_be_attached()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(tiles.nth(1)).to_have_class(re.compile(r"\bkey-current\b"))
    card = tiles.nth(1).get_attribute("data-card")
    page.keyboard.press("e")
    expect(page).to_have_url(re.compile(rf"/cards/{card}/change/$"))
