"""The console as a person uses it, in Debian's Chromium: every change made through the pages
is sent by a real Celery worker and read back from the demo sandbox over HTTP.

Each test changes its own demo cards, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from apps.writes.models import Write
from tests.browser.conftest import eventually, log_in

pytestmark = pytest.mark.browser

# The demo seed: Papp Márta (+36 70 988 9855) works at Mátra Logisztika Zrt. (10001), whose
# cards include "Tanácsadás #1210" (101210) and "Oktatás #1476" (101476) in Ügyfélszolgálat
# (21) and "Tanácsadás #2032" (102032) in Projektek (22).
PERSON, PHONE_SUFFIX, COMPANY = "Papp Márta", "988 9855", "Mátra Logisztika Zrt."
STATUS_CARD, FORM_CARD, INLINE_CARD = 101210, 101476, 102032
EVENTS_MODULE = 24  # Rendezvények: Jelentkezett, Visszaigazolva, Részt vett, Lemondta

SandboxCard = Callable[[int], dict[str, Any]]


def shot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_log_in_find_a_person_by_phone_open_company_and_card_change_status(
    page: Page, sandbox_card: SandboxCard, tmp_path: Path
) -> None:
    page.goto("/contacts/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/contacts/"))
    log_in(page, go=False)
    expect(page).to_have_url(re.compile(r"/contacts/$"))

    # As you type: the results replace the list in place, and the address follows.
    page.evaluate("window.notReloaded = true")
    page.locator("#id_q").press_sequentially(PHONE_SUFFIX, delay=30)
    results = page.locator("#contact-results #result_list")
    expect(results).to_contain_text(PERSON)
    expect(results).to_contain_text("+36 70 988 9855")
    expect(page).to_have_url(re.compile(r"/contacts/\?q=988(\+|%20)9855$"))
    assert page.evaluate("window.notReloaded") is True
    shot(page, tmp_path, "search")

    results.get_by_role("link", name=PERSON).click()
    expect(page.locator("h1")).to_contain_text(PERSON)
    page.locator("#company-link").click()
    expect(page.locator("h1")).to_contain_text(COMPANY)
    expect(page.locator("#company-people")).to_contain_text(PERSON)
    cards = page.locator("#contact-cards")
    expect(cards).to_contain_text("Ügyfélszolgálat")
    cards.get_by_role("link", name="Tanácsadás #1210").click()

    expect(page).to_have_url(re.compile(rf"/cards/{STATUS_CARD}/$"))
    expect(page.locator("h1")).to_contain_text("Tanácsadás #1210")
    expect(page.locator("#card-status")).to_have_text("Új bejelentés")
    expect(page.locator("#card-company")).to_have_text(COMPANY)
    expect(page.locator("#field-Prioritas")).to_contain_text("Alacsony")  # a dropdown's label
    shot(page, tmp_path, "card")

    # One click changes the status; the page says so and MiniCRM has it.
    page.locator(".status-buttons").get_by_role("button", name="Folyamatban").click()
    # "Status changed to …" when the worker was quick, "queued: expected in N s" otherwise.
    expect(page.locator(".messagelist")).to_contain_text(re.compile("Folyamatban|queued"))
    expect(page.locator("#card-status")).to_have_text("Folyamatban")
    eventually(lambda: sandbox_card(STATUS_CARD)["StatusId"] == "Folyamatban")
    # The current pill (marked "függőben" while the change is still on its way).
    expect(page.locator(".status-buttons button.current")).to_contain_text("Folyamatban")


def test_change_form_saves_a_dropdown_and_a_date(
    logged_in: Page, sandbox_card: SandboxCard, tmp_path: Path
) -> None:
    page = logged_in
    before = sandbox_card(FORM_CARD)
    assert (before["Prioritas"], before["Hatarido"]) == ("Kritikus", "")

    page.goto(f"/cards/{FORM_CARD}/")
    page.locator(".object-tools").get_by_role("link", name="Edit").click()
    expect(page).to_have_url(re.compile(rf"/cards/{FORM_CARD}/change/$"))
    priority = page.locator("#id_Prioritas")
    expect(priority.locator("option:checked")).to_have_text("Kritikus")
    priority.select_option(label="Magas")
    page.locator("#id_Hatarido").fill("2026-03-15")
    shot(page, tmp_path, "change-form")
    page.locator(".submit-row").get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(rf"/cards/{FORM_CARD}/$"))
    expect(page.locator(".messagelist")).to_contain_text(re.compile("saved|queued"))
    eventually(
        lambda: (
            (card := sandbox_card(FORM_CARD))["Prioritas"] == "Magas"
            and card["Hatarido"] == "2026-03-15"
        )
    )
    page.reload()
    expect(page.locator("#field-Prioritas")).to_contain_text("Magas")
    expect(page.locator("#field-Hatarido")).to_contain_text(re.compile(r"2026"))
    # Only the changed fields were sent.
    assert [w.payload for w in Write.objects.filter(target_id=FORM_CARD)] == [
        {"Prioritas": 4008, "Hatarido": "2026-03-15"}
    ]


def test_inline_edit_of_one_field(
    logged_in: Page, sandbox_card: SandboxCard, tmp_path: Path
) -> None:
    page = logged_in
    page.goto(f"/cards/{INLINE_CARD}/")
    page.evaluate("window.notReloaded = true")
    row = page.locator("#field-ProjektKod")
    expect(row).to_contain_text("Elégedett ügyfél.")
    row.get_by_role("link", name="edit").click()

    editing = page.locator("#field-ProjektKod.editing")
    box = editing.locator("input[type=text]")
    expect(box).to_have_value("Elégedett ügyfél.")
    box.fill("PRJ-2032")
    shot(page, tmp_path, "inline-edit")
    editing.get_by_role("button", name="Save").click()

    expect(page.locator("#field-ProjektKod:not(.editing)")).to_contain_text("PRJ-2032")
    assert page.evaluate("window.notReloaded") is True
    eventually(lambda: sandbox_card(INLINE_CARD)["ProjektKod"] == "PRJ-2032")


def test_bulk_status_change_of_twenty_cards_with_a_progress_bar(
    logged_in: Page, sandbox_card: SandboxCard, tmp_path: Path
) -> None:
    page = logged_in
    page.goto("/")
    page.locator("#nav-modules").get_by_role("link", name="Rendezvények").click()
    expect(page.locator("h1")).to_have_text("Rendezvények")

    # The status filter swaps the list in place and keeps a real URL.
    page.locator("#changelist-filters #id_status").select_option(label="Jelentkezett")
    expect(page).to_have_url(re.compile(r"status=\d+"))
    rows = page.locator("#result_list tbody tr")
    expect(rows.first.locator("td").nth(1)).to_have_text("Jelentkezett")
    boxes = page.locator("#result_list input[name=selected]")
    assert boxes.count() >= 20
    expect(rows.locator("td:nth-child(3)", has_not_text="Jelentkezett")).to_have_count(0)
    chosen = [int(boxes.nth(n).get_attribute("value") or 0) for n in range(20)]
    for n in range(20):
        boxes.nth(n).check()
    page.select_option("#id_action", "status")
    page.select_option("#id_bulk_status", label="Visszaigazolva")
    shot(page, tmp_path, "changelist")
    page.click("#bulk-go")

    # First what it will do, asked once.
    expect(page.locator("h1")).to_have_text("Status to “Visszaigazolva” on 20 cards?")
    page.locator("#bulk-confirm").get_by_role("button", name="Yes, change 20 cards").click()
    expect(page).to_have_url(re.compile(r"/queue/jobs/\d+/$"))
    expect(page.locator("#job-bar")).to_have_attribute("max", "20")
    expect(page.locator("#job-finished")).to_be_visible(timeout=60_000)
    expect(page.locator("#job-counts")).to_contain_text("20 done, 0 failed, of 20")
    expect(page.locator("#job-bar")).to_have_attribute("value", "20")
    shot(page, tmp_path, "job")

    assert {card: sandbox_card(card)["StatusId"] for card in chosen} == dict.fromkeys(
        chosen, "Visszaigazolva"
    )


def test_switch_to_hungarian(logged_in: Page, tmp_path: Path) -> None:
    page = logged_in
    expect(page.locator("#nav-sidebar")).to_contain_text("Dashboard")
    page.select_option("#language-select", "hu")
    page.locator("#language-switch button").click()

    expect(page.locator("html")).to_have_attribute("lang", "hu")
    expect(page.locator("#nav-sidebar")).to_contain_text("Irányítópult")
    expect(page.locator("#logout-form button")).to_have_text("Kijelentkezés")
    expect(page.locator("#language-select option:checked")).to_have_text("Magyar")
    shot(page, tmp_path, "dashboard-hu")
    # The choice sticks for the next page.
    page.locator("#nav-modules a").first.click()
    expect(page.locator("#logout-form button")).to_have_text("Kijelentkezés")
