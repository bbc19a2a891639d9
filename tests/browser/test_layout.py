"""Layout as it is drawn, in Debian's Chromium, in Hungarian (the longer texts) on a wide and a
phone-sized screen: the header's search placeholder is shown whole, the company page's Persons
box holds long values without scrolling sideways, the order editor's VAT select shows its rate;
and the webhook handler form shows only the chosen action's fields.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

COMPANY = 10001  # the demo's Mátra Logisztika Zrt., with Papp Márta among its persons
LONG_EMAIL = "papp.marta.beszerzesi.osztalyvezeto.helyettes@matra-logisztika-zrt.example.hu"
LONG_PHONE = "+36 70 988 9855 / 1234 mellék, hétköznap 8 és 16 óra között"

# How much wider an input's placeholder is than the room the input gives its text (measured as
# its value: Chromium draws both in the same inner box, the search cancel button's room aside).
PLACEHOLDER_OVERFLOW = """(input) => {
  const before = input.value;
  input.value = input.placeholder;
  const overflow = input.scrollWidth - input.clientWidth;
  input.value = before;
  return overflow;
}"""
# How much narrower a select is than it would be at its natural width.
SELECT_SHORTFALL = """(select) => {
  const natural = select.cloneNode(true);
  natural.style.width = "auto";
  natural.style.minWidth = "0";
  natural.style.position = "absolute";
  document.body.appendChild(natural);
  const shortfall = natural.getBoundingClientRect().width - select.getBoundingClientRect().width;
  natural.remove();
  return shortfall;
}"""


def scrolls_sideways(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))


@pytest.fixture(params=[(1280, 900), (390, 844)], ids=["1280px", "390px"])
def hungarian_page(page: Page, request: pytest.FixtureRequest) -> Iterator[Page]:
    width, height = request.param
    page.set_viewport_size({"width": width, "height": height})
    log_in(page)
    base = page.evaluate("location.origin")
    page.context.add_cookies(
        [{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": "hu", "url": base}]
    )
    yield page


def test_header_search_placeholder_is_shown_whole(hungarian_page: Page) -> None:
    page = hungarian_page
    page.goto("/")
    search = page.locator("#global-search-q")
    expect(search).to_have_attribute("placeholder", "E-mail, telefon vagy kulcsszó")

    assert search.evaluate(PLACEHOLDER_OVERFLOW) <= 0
    assert not scrolls_sideways(page)


def test_company_persons_box_holds_long_emails_and_phones(hungarian_page: Page) -> None:
    page = hungarian_page
    page.goto(f"/contacts/{COMPANY}/")
    box = page.locator("#company-people")
    expect(box.locator("caption")).to_have_text("Személyek")
    # The longest values a person may have, put into the first person's row as drawn.
    box.locator("tbody tr td").nth(0).evaluate(f"(td) => td.textContent = {LONG_EMAIL!r}")
    box.locator("tbody tr td").nth(1).evaluate(f"(td) => td.textContent = {LONG_PHONE!r}")

    assert box.evaluate("(box) => box.scrollWidth - box.clientWidth") <= 0
    assert not scrolls_sideways(page)


def test_order_editor_vat_select_shows_its_rate(hungarian_page: Page) -> None:
    page = hungarian_page
    page.goto("/orders/add/")
    vat = page.locator(".items-editor select[name=item-VAT]").first
    expect(vat).to_have_value("27")

    assert vat.evaluate(SELECT_SHORTFALL) <= 1
    # On a phone the editor scrolls within its box; the page itself does not.
    assert not scrolls_sideways(page)


def test_the_handler_form_shows_only_the_chosen_action_s_fields(logged_in: Page) -> None:
    User.objects.filter(username="katalin").update(is_staff=True)  # handlers are for admins
    page = logged_in
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.goto("/webhooks/add/")
    row = {
        name: page.locator(f"#row-actions-0-{name}")
        for name in ("kind", "comment", "owner", "days", "values", "url", "path")
    }
    todo, others = ("comment", "owner", "days"), ("values", "url", "path")

    # No action chosen yet: only the choice.
    expect(row["kind"]).to_be_visible()
    for name in (*todo, *others):
        expect(row[name]).to_be_hidden()

    page.select_option("#id_actions-0-kind", "create_todo")
    for name in todo:
        expect(row[name]).to_be_visible()
    for name in others:
        expect(row[name]).to_be_hidden()

    page.select_option("#id_actions-0-kind", "forward")
    expect(row["url"]).to_be_visible()
    for name in (*todo, "values", "path"):
        expect(row[name]).to_be_hidden()
    # The second action is its own: still only its choice.
    expect(page.locator("#row-actions-1-url")).to_be_hidden()
    assert problems == []
