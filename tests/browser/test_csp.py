"""The page behaviours that used to be inline handlers work in Chromium under the console's
Content-Security-Policy, also in content HTMX swapped in, and the browser reports no violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

pytestmark = pytest.mark.browser

CUSTOMER = 10001  # a demo company


@pytest.fixture
def violations(logged_in: Page) -> list[str]:
    """What the browser says about the Content-Security-Policy while the test runs."""
    said: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            said.append(message.text)

    logged_in.on("console", listen)
    return said


def test_select_all_ticks_every_card_also_after_the_list_is_swapped(
    logged_in: Page, violations: list[str]
) -> None:
    page = logged_in
    answer = page.goto("/")
    assert answer is not None
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page.locator("#nav-modules").get_by_role("link", name="Rendezvények").click()
    boxes = page.locator("#result_list input[name=selected]")
    ticked = page.locator("#result_list input[name=selected]:checked")
    expect(boxes.first).to_be_visible()

    page.locator("#action-toggle").check()
    expect(ticked).to_have_count(boxes.count())
    page.locator("#action-toggle").uncheck()
    expect(ticked).to_have_count(0)

    # The filter swaps the list (and its select-all box) in place.
    page.locator("#changelist-filters #id_status").select_option(label="Jelentkezett")
    expect(page).to_have_url(re.compile(r"status=\d+"))
    expect(page.locator("#result_list tbody tr").first.locator("td").nth(1)).to_have_text(
        "Jelentkezett"
    )
    page.locator("#action-toggle").check()
    expect(ticked).to_have_count(boxes.count())
    assert boxes.count() > 0

    assert violations == []


def test_remove_takes_out_an_item_row_added_in_place(
    logged_in: Page, violations: list[str]
) -> None:
    page = logged_in
    page.goto(f"/orders/add/?customer={CUSTOMER}")
    rows = page.locator("#item-rows tr.item-row")
    expect(rows).to_have_count(1)
    for count in (2, 3):
        page.locator("#add-item").click()
        expect(rows).to_have_count(count)
    rows.nth(0).locator("[name=item-Name]").fill("first")
    rows.nth(1).locator("[name=item-Name]").fill("second")
    rows.nth(2).locator("[name=item-Name]").fill("third")

    rows.nth(1).get_by_role("button", name="remove").click()

    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("[name=item-Name]")).to_have_value("first")
    expect(rows.nth(1).locator("[name=item-Name]")).to_have_value("third")
    assert violations == []


def test_go_back_on_an_error_page_returns_to_the_page_before(
    logged_in: Page, violations: list[str]
) -> None:
    page = logged_in
    page.goto("/queue/")
    page.goto("/cards/999999/")
    expect(page.locator("h1")).to_have_text("Not found")

    page.get_by_role("button", name="Go back").click()

    expect(page).to_have_url(re.compile(r"/queue/$"))
    assert violations == []
