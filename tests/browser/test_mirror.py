"""A card page kept fresh by the mirror, in Debian's Chromium: someone changes the card in
MiniCRM (the demo sandbox, over its own API), MiniCRM's webhook reaches the console, the
worker updates the mirror, and the open page shows the change by itself, without a reload and
without throwing away an inline edit in progress."""

from __future__ import annotations

import pytest
from django.test import override_settings
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from apps.mirror.subscriptions import mirror_subscribe
from tests.writes.conftest import QueueRig

pytestmark = pytest.mark.browser

CARD = 102032  # "Tanácsadás #2032" in Projektek (demo seed), with the text field ProjektKod


def test_a_card_page_updates_itself_when_the_card_changes_in_minicrm(
    logged_in: Page, live_server: LiveServer, console_rig: QueueRig
) -> None:
    with override_settings(CONSOLE_BASE_URL=live_server.url):
        subscribed = mirror_subscribe()
    assert [s.sandbox for s in subscribed] == ["subscribed", "subscribed"]
    sandbox = console_rig.sandbox
    page = logged_in
    page.goto(f"/cards/{CARD}/")
    page.evaluate("window.notReloaded = true")
    expect(page.locator("#card-freshness")).to_contain_text("synced")

    # Someone renames the card in MiniCRM.
    assert sandbox.put(f"/Api/R3/Project/{CARD}", json={"Name": "Átnevezve kint"}).ok

    expect(page.locator("h1")).to_contain_text("Átnevezve kint")
    assert page.evaluate("window.notReloaded") is True

    # While a field is being edited inline, the page does not swap it away.
    page.locator("#field-ProjektKod").get_by_role("link", name="edit").click()
    box = page.locator("#field-ProjektKod.editing input[type=text]")
    box.fill("félig beírva")
    assert sandbox.put(f"/Api/R3/Project/{CARD}", json={"Name": "Másodszor is"}).ok
    page.wait_for_timeout(8_000)  # longer than the page's 5 s watch and the webhook's trip
    expect(box).to_have_value("félig beírva")
    expect(page.locator("h1")).not_to_contain_text("Másodszor is")

    # Cancelled, the page catches up.
    page.locator("#field-ProjektKod.editing").get_by_role("link", name="Cancel").click()
    expect(page.locator("h1")).to_contain_text("Másodszor is")
    assert page.evaluate("window.notReloaded") is True
