"""An order's life in Debian's Chromium: created with three items added in place, one removed,
then finalized, completed and marked paid, each through its confirmation page. A real Celery
worker sends every change; the totals are checked against the demo sandbox's own order."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from apps.writes.models import Write
from tests.browser.conftest import eventually
from tests.writes.conftest import QueueRig

pytestmark = pytest.mark.browser

CUSTOMER, CUSTOMER_NAME = 10001, "Mátra Logisztika Zrt."  # a demo company
ITEMS = [
    ("Patch kábel", "PK-2", "1000", "2", "db", "27"),
    ("Switch 8 port", "SW-8", "12500", "1", "db", "27"),
    ("Szerelés", "", "8000", "1,5", "óra", "5"),
]
# What each status offers: the workflow buttons, by label.
BUTTONS = {
    "Draft": ["Finalize"],
    "In progress": ["Back to Draft", "Complete"],
    "Completed": ["Mark paid", "Storno"],
    "Paid": [],
}


def sandbox_order(rig: QueueRig, order_id: int) -> dict[str, Any]:
    return dict(rig.get(f"/Api/Order/{order_id}").json())


def settle(page: Page, rig: QueueRig) -> None:
    """Wait for the worker; when the page only said "queued", look again once it has landed."""
    messages = page.locator(".messagelist")
    expect(messages).to_be_visible()
    rig.wait_until_settled(timeout=30)
    if "queued" in messages.inner_text():
        page.reload()


def expect_status(page: Page, status: str) -> None:
    expect(page.locator("#order-status")).to_have_text(status)
    workflow = page.locator("#workflow a.button")
    expect(workflow).to_have_text(BUTTONS[status])
    if not BUTTONS[status]:
        expect(page.locator("#workflow")).to_have_text("No further steps.")


def step(page: Page, rig: QueueRig, label: str, source: str, target: str) -> None:
    """Click a workflow button, confirm, and see the order in its new status."""
    page.locator("#workflow").get_by_role("link", name=label, exact=True).click()
    expect(page.locator("main")).to_contain_text(f"The order goes from {source} to {target}.")
    page.locator("#confirm").click()
    expect(page).to_have_url(re.compile(r"/orders/\d+/$"))
    settle(page, rig)
    expect_status(page, target)


def test_an_order_with_three_items_one_removed_finalized_completed_and_paid(
    logged_in: Page, console_rig: QueueRig, tmp_path: Path
) -> None:
    page = logged_in
    page.goto(f"/orders/add/?customer={CUSTOMER}")
    expect(page.locator("#id_buyer_Name")).to_have_value(CUSTOMER_NAME)
    page.fill("#id_subject", "Irodai hálózat")

    # "Add item" adds rows in place: the page is not reloaded and nothing typed is lost.
    page.evaluate("window.notReloaded = true")
    rows = page.locator("#item-rows tr.item-row")
    expect(rows).to_have_count(1)
    for index, (name, sku, price, quantity, unit, vat) in enumerate(ITEMS):
        if index:
            page.locator("#add-item").click()
            expect(rows).to_have_count(index + 1)
        row = rows.nth(index)
        row.locator("[name=item-Name]").fill(name)
        row.locator("[name=item-SKU]").fill(sku)
        row.locator("[name=item-PriceNet]").fill(price)
        row.locator("[name=item-Quantity]").fill(quantity)
        row.locator("[name=item-Unit]").fill(unit)
        row.locator("[name=item-VAT]").select_option(vat)
    assert page.evaluate("window.notReloaded") is True
    expect(rows.nth(0).locator("[name=item-Name]")).to_have_value("Patch kábel")
    page.screenshot(path=str(tmp_path / "new-order.png"), full_page=True)

    page.locator("#create-order").click()
    expect(page).to_have_url(re.compile(r"/orders/(\d+/)?$"))
    create = eventually(
        lambda: Write.objects.filter(kind=Write.Kind.ORDER_CREATE, state=Write.State.DONE).first()
    )
    order_id = create.target_id
    if not page.url.endswith(f"/orders/{order_id}/"):  # the worker was slower than the form
        page.goto(f"/orders/{order_id}/")
    items = page.locator("#order-items tbody tr")
    expect(items).to_have_count(3)
    expect(items.locator("td:first-child")).to_have_text([name for name, *_ in ITEMS])
    expect_status(page, "Draft")

    # Remove the switch.
    page.get_by_role("button", name="Remove Switch 8 port").click()
    expect(page).to_have_url(re.compile(rf"/orders/{order_id}/$"))
    settle(page, console_rig)
    expect(items.locator("td:first-child")).to_have_text(["Patch kábel", "Szerelés"])
    expect_status(page, "Draft")

    step(page, console_rig, "Finalize", "Draft", "In progress")
    expect(page.locator("#item-rows")).to_have_count(0)  # no more item editing
    expect(page.get_by_role("button", name=re.compile("^Remove "))).to_have_count(0)
    step(page, console_rig, "Complete", "In progress", "Completed")
    step(page, console_rig, "Mark paid", "Completed", "Paid")
    page.screenshot(path=str(tmp_path / "paid.png"), full_page=True)

    # The totals shown are MiniCRM's: 2 of 1000 at 27 % and 1.5 of 8000 at 5 %.
    order = sandbox_order(console_rig, order_id)
    assert (order["Status"], order["CustomerId"]) == ("Paid", str(CUSTOMER))
    assert (order["AmountNet"], order["AmountVat"], order["Amount"]) == ("14000", "1140", "15140")
    expect(page.locator("#amount-net")).to_have_text(f"{order['AmountNet']} HUF")
    expect(page.locator("#amount-vat")).to_have_text(f"{order['AmountVat']} HUF")
    expect(page.locator("#amount-gross")).to_have_text(f"{order['Amount']} HUF")
    assert [item["Name"] for item in order["Items"]] == ["Patch kábel", "Szerelés"]

    # The index has it, among the paid orders.
    page.goto("/orders/?status=Paid")
    listed = page.locator("#order-list tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.locator("th")).to_contain_text(f"#{order_id}")
    expect(listed.locator("td")).to_have_text(
        [CUSTOMER_NAME, "Irodai hálózat", "Paid", "14000.00 HUF", "15140.00 HUF"]
    )
