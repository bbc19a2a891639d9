"""A card page kept fresh by the mirror, in Debian's Chromium: someone changes the card in
MiniCRM (the demo sandbox, over its own API), MiniCRM's webhook reaches the console, the
worker updates the mirror, and the open page shows the change by itself, without a reload and
without throwing away an inline edit in progress."""

from __future__ import annotations

import pytest
from django.test import override_settings
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from apps.cards.selectors import module_listed
from apps.mirror.subscriptions import mirror_subscribe
from apps.writes.models import Write
from tests.browser.conftest import eventually
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


EVENTS_MODULE = 24  # Rendezvények (demo seed): Jelentkezett, Visszaigazolva, Részt vett, Lemondta


def drag(page: Page, tile: Locator, column: Locator) -> None:
    """Drag a board tile by its name onto the first card of another column, as a person
    moves a mouse."""
    handle = tile.locator(".board-card-name").bounding_box()
    drop = column.locator("li.board-card").first.bounding_box()
    assert handle and drop
    page.mouse.move(handle["x"] + 5, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    end_x, end_y = drop["x"] + drop["width"] / 2, drop["y"] + drop["height"] / 2
    for step in range(1, 21):  # Sortable follows the pointer as a person moves it
        page.mouse.move(
            handle["x"] + (end_x - handle["x"]) * step / 20,
            handle["y"] + (end_y - handle["y"]) * step / 20,
        )
        page.wait_for_timeout(20)
    page.mouse.move(end_x, end_y + 5)
    page.mouse.up()


def test_a_card_dragged_to_another_column_of_the_board_changes_status_in_minicrm(
    logged_in: Page, console_rig: QueueRig
) -> None:
    # The worker's sync lists the demo's modules into the mirror (beat starts it).
    eventually(lambda: module_listed(category_id=EVENTS_MODULE), timeout=120)
    page = logged_in
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/modules/{EVENTS_MODULE}/board/")
    source = page.locator("section.board-column").nth(0)
    target = page.locator("section.board-column").nth(1)
    tile = source.locator("li.board-card").first
    card_id = int(tile.get_attribute("data-card") or 0)
    target_status = int(target.locator("ol").get_attribute("data-board-status") or 0)
    before = console_rig.sandbox.get(f"/Api/R3/Project/{card_id}").json()["StatusId"]

    drag(page, tile, target)

    moved = target.locator(f"#board-card-{card_id}")
    expect(moved).to_be_visible()
    expect(source.locator(f"#board-card-{card_id}")).to_have_count(0)
    # The server's tile took its place: its own form now names the new status.
    expect(moved.locator("select")).to_have_value(str(target_status))
    eventually(
        lambda: console_rig.sandbox.get(f"/Api/R3/Project/{card_id}").json()["StatusId"] != before
    )
    write = Write.objects.get(target_id=card_id)
    assert write.payload == {"StatusId": target_status}
    assert errors == []


def test_a_board_drag_can_be_undone_while_it_waits_and_lands_after(
    logged_in: Page, console_rig: QueueRig
) -> None:
    eventually(lambda: module_listed(category_id=EVENTS_MODULE), timeout=120)
    sandbox = console_rig.sandbox
    page = logged_in
    with override_settings(UNDO_SECONDS=4):
        page.goto(f"/modules/{EVENTS_MODULE}/board/")
        source = page.locator("section.board-column").nth(0)
        target = page.locator("section.board-column").nth(1)
        tile = source.locator("li.board-card").first
        card_id = int(tile.get_attribute("data-card") or 0)
        before = sandbox.get(f"/Api/R3/Project/{card_id}").json()["StatusId"]

        # Undone within the wait: nothing reaches MiniCRM, the card is back where it was.
        drag(page, tile, target)
        expect(target.locator(f"#board-card-{card_id}.pending")).to_be_visible()
        bar = page.locator("#undo-bar.undo-bar")
        expect(bar).to_contain_text("moved to")
        expect(bar.locator(".undo-left")).to_contain_text(" s to undo")
        bar.get_by_role("button", name="Undo").click()
        expect(page.locator(".messagelist")).to_contain_text("Undone")
        expect(source.locator(f"#board-card-{card_id}")).to_be_visible()
        expect(target.locator(f"#board-card-{card_id}")).to_have_count(0)
        page.wait_for_timeout(5_000)  # longer than the wait: the write would have gone by now
        assert sandbox.get(f"/Api/R3/Project/{card_id}").json()["StatusId"] == before
        assert Write.objects.get(target_id=card_id).state == Write.State.DISCARDED

        # Left alone, the change goes once its wait is over, and Undo goes with it.
        drag(page, source.locator(f"#board-card-{card_id}"), target)
        expect(page.locator("#undo-bar.undo-bar")).to_be_visible()
        eventually(
            lambda: sandbox.get(f"/Api/R3/Project/{card_id}").json()["StatusId"] != before,
            timeout=30,
        )
        expect(page.locator("#undo-bar.undo-bar")).to_have_count(0)
        assert Write.objects.filter(target_id=card_id, state=Write.State.DONE).count() == 1
