"""Order pages as a back-office user uses them: a new order with item rows, the order page with
MiniCRM's totals, Draft-only editing, custom fields, the workflow buttons behind their
confirmation pages, and the console's own index of orders."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.mirror.models import Contact as MirrorContact
from apps.orders.models import OrderRecord
from apps.writes.models import Write
from tests.conftest import Sandbox, SandboxStarter
from tests.viewsupport import (
    BackgroundSender,
    Node,
    console_at,
    dom,
    errors_of,
    form_data,
    is_full_page,
    messages_of,
    send,
)
from tests.xlsxread import xlsx_rows

pytestmark = pytest.mark.django_db

STATUSES = ("Draft", "In progress", "Completed", "Paid", "Failed")
# The MiniCRM calls that bring a new (Draft) order to each status.
PATH_TO = {
    "Draft": [],
    "In progress": ["Finalize"],
    "Completed": ["Finalize", "Complete"],
    "Paid": ["Finalize", "Complete", "Paid"],
    "Failed": ["Finalize", "Complete", "Storno"],
}
LEGAL = {
    ("Draft", "finalize"): "In progress",
    ("In progress", "edit"): "Draft",
    ("In progress", "complete"): "Completed",
    ("Completed", "paid"): "Paid",
    ("Completed", "storno"): "Failed",
    ("Failed", "paid"): "Paid",
}
ACTIONS = ("finalize", "edit", "complete", "paid", "storno")
ILLEGAL = [(s, a) for s in STATUSES for a in ACTIONS if (s, a) not in LEGAL]
KINDS = {
    "finalize": Write.Kind.ORDER_FINALIZE,
    "edit": Write.Kind.ORDER_EDIT,
    "complete": Write.Kind.ORDER_COMPLETE,
    "paid": Write.Kind.ORDER_PAID,
    "storno": Write.Kind.ORDER_STORNO,
}
LABELS = {
    "finalize": "Finalize",
    "edit": "Back to Draft",
    "complete": "Complete",
    "paid": "Mark paid",
    "storno": "Storno",
}
ROWS = [
    {
        "Name": "Patch kábel",
        "SKU": "PK-2",
        "PriceNet": "1000",
        "Quantity": "2",
        "Unit": "db",
        "VAT": "27",
    },
    {
        "Name": "Switch 8 port",
        "SKU": "SW-8",
        "PriceNet": "12500",
        "Quantity": "1",
        "Unit": "db",
        "VAT": "27",
    },
    {
        "Name": "Szerelés",
        "SKU": "",
        "PriceNet": "8000",
        "Quantity": "1,5",
        "Unit": "óra",
        "VAT": "5",
    },
]
QUEUED = "Saved and queued: expected in MiniCRM in about"


@pytest.fixture(scope="module")
def orders_sandbox(module_sandbox_factory: SandboxStarter) -> Sandbox:
    """A doc sandbox of this module's own: its orders go through every status."""
    return module_sandbox_factory("doc")


@pytest.fixture
def crm(settings: Settings, orders_sandbox: Sandbox, redis_url: str) -> Iterator[Sandbox]:
    yield from console_at(settings, orders_sandbox, redis_url)


def new_order(sandbox: Sandbox, status: str = "Draft") -> int:
    """An order made in MiniCRM for customer 225 (two items), brought to `status`."""
    answer = sandbox.post(
        "/Api/Order/",
        json={
            "CustomerId": 225,
            "Subject": f"Teszt ({status})",
            "Items": [
                {
                    "Name": "Optikai kábel",
                    "PriceNet": "500",
                    "Quantity": "4",
                    "Unit": "m",
                    "VAT": "27",
                },
                {
                    "Name": "Csatlakozó",
                    "PriceNet": "250",
                    "Quantity": "2",
                    "Unit": "db",
                    "VAT": "27",
                },
            ],
        },
    )
    assert answer.status_code == 200, answer.text
    order_id = int(answer.json()["Id"])
    for step in PATH_TO[status]:
        moved = sandbox.post(f"/Api/Order/{order_id}/{step}")
        assert moved.status_code == 200, moved.text
    assert minicrm_order(sandbox, order_id)["Status"] == status
    return order_id


def minicrm_order(sandbox: Sandbox, order_id: int) -> dict[str, Any]:
    answer = sandbox.get(f"/Api/Order/{order_id}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def item_data(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """Item rows as the form posts them: item-Name, item-SKU, ... repeated, row by row."""
    names = ("Name", "SKU", "PriceNet", "Quantity", "Unit", "VAT")
    return {f"item-{name}": [row[name] for row in rows] for name in names}


def new_order_form(**fields: str) -> dict[str, Any]:
    return {
        "customer": "225",
        "currency": "HUF",
        "subject": "Irodai hálózat",
        "buyer_Name": "Gigabit Távközlési Kft.",
        "buyer_PostalCode": "9245",
        "buyer_City": "Mosonszolnok",
        "buyer_Address": "Alkotás u. 49.",
        "buyer_VatNumber": "",
        **fields,
    }


def buttons(page: Node) -> dict[str, str]:
    """The workflow buttons an order page offers: action -> label."""
    box = page.by_id("workflow")
    return {a.id.removeprefix("action-"): a.text for a in box.find_all("a", class_="button")}


def item_rows_of(page: Node) -> list[list[str]]:
    return [
        [td.text for td in tr.find_all("td")][:7]
        for tr in page.by_id("order-items").find("tbody").find_all("tr")
    ]


def index_rows(response: Any) -> dict[int, list[str]]:
    """The orders index: order id -> [customer, subject, status, net, gross]."""
    rows = {}
    for tr in dom(response).by_id("order-list").find("tbody").find_all("tr"):
        link = tr.find_all("a")
        if not link or tr.id == "order-list-empty":
            continue
        order_id = int(link[0].attrs["href"].strip("/").split("/")[-1])
        rows[order_id] = [td.text for td in tr.find_all("td")]
    return rows


@pytest.mark.parametrize(
    ("client_fixture", "empty", "unmatched", "clear"),
    [
        ("user_client", "No orders yet.", "No orders match these filters.", "Clear all filters"),
        (
            "hungarian",
            "Még nincs megrendelés.",
            "Nincs a szűrőknek megfelelő megrendelés.",
            "Összes szűrő törlése",
        ),
    ],
    ids=["en", "hu"],
)
def test_an_empty_index_says_no_orders_yet_and_an_empty_filter_says_nothing_matches(
    request: pytest.FixtureRequest,
    doc: Sandbox,
    client_fixture: str,
    empty: str,
    unmatched: str,
    clear: str,
) -> None:
    client: Client = request.getfixturevalue(client_fixture)
    assert dom(client.get("/orders/")).by_id("order-list-empty").text == empty

    OrderRecord.objects.create(order_id=9001, customer_id=7461, status="Draft")
    filtered = dom(client.get("/orders/", {"status": "Paid"})).by_id("order-list-empty")

    assert filtered.text == f"{unmatched} {clear}"
    assert filtered.links() == {"/orders/": clear}
    assert not dom(client.get("/orders/", {"status": "Draft"})).has(id="order-list-empty")


# -- a new order --------------------------------------------------------------------------------


def test_the_item_editor_gives_each_column_its_room(hungarian: Client, doc: Sandbox) -> None:
    # console.css sizes the columns by these classes (the VAT select no narrower than its rate)
    # and scrolls the editor inside `.table-scroll` on a narrow screen.
    editor = dom(hungarian.get("/orders/add/")).find("div", class_="table-scroll")

    row = editor.find("table", class_="items-editor").find("tr", class_="item-row")
    cells = [td.attrs.get("class") for td in row.find_all("td")]
    assert cells[:6] == [
        "item-name",
        "item-sku",
        "item-price",
        "item-quantity",
        "item-unit",
        "item-vat",
    ]
    vat = row.find("td", class_="item-vat").find("select", name="item-VAT")
    assert vat.attrs["aria-label"] == "ÁFA"


def test_the_new_order_form_starts_with_one_blank_item_row(
    user_client: Client, doc: Sandbox
) -> None:
    response = user_client.get("/orders/add/", {"customer": "225"})

    assert response.status_code == 200
    page = dom(response)
    form = page.find("form", class_="schema-form")
    assert form.find("input", name="customer").attrs["value"] == "225"
    assert form.find("input", name="buyer_Name").attrs["value"] == "Gigabit Távközlési Kft."
    assert [v for v, _l, selected in form.find("select", name="currency").options()] == [
        "HUF",
        "EUR",
        "USD",
    ]
    rows = form.by_id("item-rows").find_all("tr", class_="item-row")
    assert len(rows) == 1
    assert form_data(rows[0]) == {
        "item-Name": "",
        "item-SKU": "",
        "item-PriceNet": "",
        "item-Quantity": "1",
        "item-Unit": "db",
        "item-VAT": "27",
    }
    add = form.by_id("add-item")
    assert add.attrs["hx-get"] == "/orders/item-row/"
    assert (add.attrs["hx-target"], add.attrs["hx-swap"]) == ("#item-rows", "beforeend")


def test_the_item_row_endpoint_answers_one_blank_row(user_client: Client, doc: Sandbox) -> None:
    response = user_client.get("/orders/item-row/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert not is_full_page(response)
    page = dom(response)
    rows = [node for node in page.children if isinstance(node, Node)]
    assert [(row.tag, row.classes) for row in rows] == [("tr", {"item-row"})]
    assert form_data(rows[0]) == {
        "item-Name": "",
        "item-SKU": "",
        "item-PriceNet": "",
        "item-Quantity": "1",
        "item-Unit": "db",
        "item-VAT": "27",
    }
    assert [label for _v, label, _s in rows[0].find("select").options()] == [
        "27 %",
        "18 %",
        "5 %",
        "0 %",
    ]
    assert rows[0].find("button", class_="remove-row").text == "remove"
    assert not page.find_all("ul", class_="errorlist")


def test_add_item_without_javascript_adds_a_row_and_keeps_what_was_typed(
    user_client: Client, doc: Sandbox
) -> None:
    response = user_client.post(
        "/orders/add/", {**new_order_form(), **item_data(ROWS[:1]), "add_row": "1"}
    )

    assert response.status_code == 200
    rows = dom(response).by_id("item-rows").find_all("tr", class_="item-row")
    assert [form_data(row)["item-Name"] for row in rows] == ["Patch kábel", ""]
    assert not Write.objects.exists()


def test_an_order_with_three_items_is_queued_and_lands_in_minicrm_and_the_index(
    user_client: Client, crm: Sandbox, staff_user: Any
) -> None:
    response = user_client.post("/orders/add/", {**new_order_form(), **item_data(ROWS)})

    assert response.status_code == 302
    assert response["Location"] == "/orders/"  # queued: the order has no id yet
    write = Write.objects.get()
    assert (write.kind, write.target_type, write.target_id, write.requested_by) == (
        Write.Kind.ORDER_CREATE,
        "order",
        None,
        staff_user,
    )
    assert write.payload == {
        "CustomerId": 225,
        "CurrencyCode": "HUF",
        "Subject": "Irodai hálózat",
        "Customer": {
            "Name": "Gigabit Távközlési Kft.",
            "PostalCode": "9245",
            "City": "Mosonszolnok",
            "Address": "Alkotás u. 49.",
        },
        "Items": [
            {
                "Name": "Patch kábel",
                "SKU": "PK-2",
                "Unit": "db",
                "PriceNet": "1000.00",
                "Quantity": "2.00",
                "VAT": "27",
            },
            {
                "Name": "Switch 8 port",
                "SKU": "SW-8",
                "Unit": "db",
                "PriceNet": "12500.00",
                "Quantity": "1.00",
                "VAT": "27",
            },
            {
                "Name": "Szerelés",
                "SKU": "",
                "Unit": "óra",
                "PriceNet": "8000.00",
                "Quantity": "1.50",
                "VAT": "5",
            },
        ],
    }
    listing = user_client.get("/orders/")
    assert any(m.startswith(QUEUED) for m in messages_of(listing))
    assert index_rows(listing) == {}

    write = send(write)

    assert write.state == Write.State.DONE
    assert write.target_id is not None
    order = minicrm_order(crm, write.target_id)
    assert (order["CustomerId"], order["Subject"], order["Status"]) == (
        "225",
        "Irodai hálózat",
        "Draft",
    )
    assert [item["Name"] for item in order["Items"]] == ["Patch kábel", "Switch 8 port", "Szerelés"]
    assert (order["AmountNet"], order["AmountVat"], order["Amount"]) == ("26500", "4515", "31015")
    # The index learnt of the order when its write landed, without the order being opened.
    assert index_rows(user_client.get("/orders/")) == {
        write.target_id: [
            "Gigabit Távközlési Kft.",
            "Irodai hálózat",
            "Draft",
            "26500.00 HUF",
            "31015.00 HUF",
        ]
    }


@pytest.mark.django_db(transaction=True)
def test_an_order_minicrm_creates_at_once_opens_its_page(
    user_client: Client, crm: Sandbox, settings: Settings
) -> None:
    settings.WRITE_WAIT_SECONDS = 10
    sender = BackgroundSender()
    sender.start()

    response = user_client.post("/orders/add/", {**new_order_form(), **item_data(ROWS)})
    sender.join()

    write = Write.objects.get()
    assert write.state == Write.State.DONE
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{write.target_id}/"
    page = user_client.get(response["Location"])
    assert "The order was created." in messages_of(page)
    assert [row[0] for row in item_rows_of(dom(page))] == [
        "Patch kábel",
        "Switch 8 port",
        "Szerelés",
    ]


def test_a_bad_item_row_shows_its_error_and_nothing_is_queued(
    user_client: Client, doc: Sandbox
) -> None:
    rows = [ROWS[0], {**ROWS[1], "PriceNet": "sok"}, {**ROWS[2], "Quantity": "0"}]

    response = user_client.post("/orders/add/", {**new_order_form(), **item_data(rows)})

    assert response.status_code == 200
    page = dom(response)
    assert page.find("p", class_="errornote").text == "Please correct the items marked below."
    shown = page.by_id("item-rows").find_all("tr", class_="item-row")
    assert [errors_of(row) for row in shown] == [
        [],
        ["Enter a number."],
        ["The quantity must be more than zero."],
    ]
    # The error sits in the cell of the field it is about; what was typed is kept.
    assert errors_of(shown[1].find_all("td")[2]) == ["Enter a number."]
    assert [form_data(row)["item-PriceNet"] for row in shown] == ["1000", "sok", "8000"]
    assert not Write.objects.exists()


def test_an_order_without_items_or_customer_is_refused(user_client: Client, doc: Sandbox) -> None:
    blank = {"Name": "", "SKU": "", "PriceNet": "", "Quantity": "1", "Unit": "db", "VAT": "27"}

    response = user_client.post("/orders/add/", {**new_order_form(), **item_data([blank])})

    assert response.status_code == 200
    assert dom(response).find("div", class_="errornote").text == "Add at least one item."

    response = user_client.post("/orders/add/", {**new_order_form(customer="x"), **item_data(ROWS)})

    assert response.status_code == 200
    assert errors_of(dom(response).by_id("row-customer")) == ["Enter a whole number."]
    assert not Write.objects.exists()


# -- the order page -----------------------------------------------------------------------------


def test_the_page_of_order_44_shows_its_items_and_minicrm_s_totals(
    user_client: Client, doc: Sandbox
) -> None:
    response = user_client.get("/orders/44/")

    assert response.status_code == 200
    page = dom(response)
    assert page.by_id("order-status").text == "Draft"
    assert item_rows_of(page) == [
        ["Optikai kábel", "", "500.00", "15.00 m", "27 %", "7500.00", "9525.00"]
    ]
    assert page.by_id("amount-net").text == "7500 HUF"
    assert page.by_id("amount-vat").text == "2025 HUF"
    assert page.by_id("amount-gross").text == "9525 HUF"
    assert "Gigabit Távközlési Kft." in page.find("div", class_="card-summary").text
    # Draft: only Finalize.
    assert buttons(page) == {"finalize": "Finalize"}
    assert page.by_id("action-finalize").attrs["href"] == "/orders/44/finalize/"
    # Draft: subject and items can change, items can be removed.
    assert page.find("form", action="/orders/44/items/").has("button", id="add-item")
    assert page.has("form", action="/orders/44/items/54/delete/")


@pytest.mark.parametrize("status", STATUSES)
def test_an_order_page_offers_only_the_steps_legal_in_its_status(
    user_client: Client, crm: Sandbox, status: str
) -> None:
    order_id = new_order(crm, status)

    page = dom(user_client.get(f"/orders/{order_id}/"))

    assert page.by_id("order-status").text == status
    legal = {action: LABELS[action] for (source, action) in LEGAL if source == status}
    assert buttons(page) == legal
    if not legal:
        assert page.by_id("workflow").text == "No further steps."
    editable = status == "Draft"
    assert page.has("form", action=f"/orders/{order_id}/items/") is editable
    assert bool(page.find_all("button", class_="link-button", aria_label=True)) is editable


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_an_illegal_step_is_explained_in_words_and_queues_nothing(
    user_client: Client, crm: Sandbox, status: str, action: str
) -> None:
    order_id = new_order(crm, status)
    sources = " / ".join(s for (s, a) in LEGAL if a == action)
    target = next(t for (s, a), t in LEGAL.items() if a == action)
    words = f"An order in {status} cannot go to {target}: only orders in {sources} can."

    confirm = user_client.get(f"/orders/{order_id}/{action}/")

    assert confirm.status_code == 200
    page = dom(confirm)
    assert words in page.find("p", class_="errornote").text
    assert not page.has("button", id="confirm")

    response = user_client.post(f"/orders/{order_id}/{action}/", follow=True)

    assert response.redirect_chain == [(f"/orders/{order_id}/", 302)]
    assert any(words in message for message in messages_of(response))
    assert not Write.objects.exists()
    assert minicrm_order(crm, order_id)["Status"] == status


def test_paid_from_draft_is_explained(user_client: Client, doc: Sandbox) -> None:
    page = dom(user_client.get("/orders/44/paid/"))

    assert page.find("p", class_="errornote").text == (
        "An order in Draft cannot go to Paid: only orders in Completed / Failed can."
    )
    assert page.find("main").find("a", href="/orders/44/").text == "Back to the order"


@pytest.mark.parametrize(("status", "action"), list(LEGAL))
def test_every_legal_step_is_confirmed_queued_and_lands(
    user_client: Client, crm: Sandbox, status: str, action: str, staff_user: Any
) -> None:
    order_id = new_order(crm, status)
    target = LEGAL[(status, action)]
    user_client.get(f"/orders/{order_id}/")  # opened: now in the index

    confirm = dom(user_client.get(f"/orders/{order_id}/{action}/"))

    assert confirm.find("h1").text == f"{LABELS[action]}: order #{order_id}"
    assert f"The order goes from {status} to {target}." in confirm.text
    form = confirm.find("button", id="confirm").parent
    assert form is not None and form.tag == "form"

    response = user_client.post(f"/orders/{order_id}/{action}/", form_data(form))

    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order_id}/"
    write = Write.objects.get()
    assert (write.kind, write.target_type, write.target_id, write.payload, write.requested_by) == (
        KINDS[action],
        "order",
        order_id,
        {},
        staff_user,
    )
    assert minicrm_order(crm, order_id)["Status"] == status  # not before it is sent

    assert send(write).state == Write.State.DONE

    assert minicrm_order(crm, order_id)["Status"] == target
    # The index follows the write as it lands.
    assert index_rows(user_client.get("/orders/", {"status": target}))[order_id][2] == target
    page = dom(user_client.get(f"/orders/{order_id}/"))
    assert page.by_id("order-status").text == target
    assert buttons(page) == {a: LABELS[a] for (s, a) in LEGAL if s == target}


@pytest.mark.django_db(transaction=True)
def test_minicrm_s_405_for_a_step_is_explained_with_the_order_s_real_status(
    user_client: Client, crm: Sandbox, settings: Settings
) -> None:
    order_id = new_order(crm, "Draft")
    assert buttons(dom(user_client.get(f"/orders/{order_id}/"))) == {"finalize": "Finalize"}
    # Someone finalizes it in MiniCRM meanwhile; the console still shows it as a Draft.
    assert crm.post(f"/Api/Order/{order_id}/Finalize").status_code == 200
    settings.WRITE_WAIT_SECONDS = 10
    sender = BackgroundSender()
    sender.start()

    response = user_client.post(f"/orders/{order_id}/finalize/", follow=True)
    sender.join()

    assert Write.objects.get().state == Write.State.DISCARDED  # refused, shown, not retried
    assert messages_of(response) == [
        "An order in In progress cannot go to In progress: only orders in Draft can."
    ]
    page = dom(response)
    assert page.by_id("order-status").text == "In progress"
    assert buttons(page) == {"edit": "Back to Draft", "complete": "Complete"}


def test_an_unknown_step_or_order_is_not_found(user_client: Client, doc: Sandbox) -> None:
    assert user_client.get("/orders/44/approve/").status_code == 404
    assert user_client.post("/orders/44/approve/").status_code == 404
    assert user_client.get("/orders/999999/").status_code == 404
    assert not Write.objects.exists()


# -- Draft editing and custom fields ------------------------------------------------------------


def test_a_draft_gets_items_and_a_subject_through_the_queue(
    user_client: Client, crm: Sandbox
) -> None:
    order_id = new_order(crm, "Draft")
    page = dom(user_client.get(f"/orders/{order_id}/"))
    form = page.find("form", action=f"/orders/{order_id}/items/")
    data = form_data(form, subject="Bővített rendelés")
    data.update(item_data(ROWS[:1]))

    response = user_client.post(form.attrs["action"], data)

    assert response.status_code == 302
    write = Write.objects.get()
    assert (write.kind, write.target_id) == (Write.Kind.ORDER_MODIFY, order_id)
    assert write.payload == {
        "CustomerId": 225,
        "Subject": "Bővített rendelés",
        "Items": [
            {
                "Name": "Patch kábel",
                "SKU": "PK-2",
                "Unit": "db",
                "PriceNet": "1000.00",
                "Quantity": "2.00",
                "VAT": "27",
            }
        ],
    }

    assert send(write).state == Write.State.DONE

    order = minicrm_order(crm, order_id)
    assert order["Subject"] == "Bővített rendelés"
    assert [item["Name"] for item in order["Items"]] == [
        "Optikai kábel",
        "Csatlakozó",
        "Patch kábel",
    ]
    page = dom(user_client.get(f"/orders/{order_id}/"))
    assert [row[0] for row in item_rows_of(page)] == ["Optikai kábel", "Csatlakozó", "Patch kábel"]
    assert page.by_id("amount-gross").text == f"{order['Amount']} HUF"


def test_removing_an_item_of_a_draft_is_queued_and_lands(user_client: Client, crm: Sandbox) -> None:
    order_id = new_order(crm, "Draft")
    item_id = int(minicrm_order(crm, order_id)["Items"][1]["Id"])
    page = dom(user_client.get(f"/orders/{order_id}/"))
    remove = page.find("form", action=f"/orders/{order_id}/items/{item_id}/delete/")
    assert remove.find("button").attrs["aria-label"] == "Remove Csatlakozó"

    response = user_client.post(remove.attrs["action"], form_data(remove))

    assert response.status_code == 302
    write = Write.objects.get()
    assert (write.kind, write.target_id, write.payload) == (
        Write.Kind.ORDER_DELETE_ITEM,
        order_id,
        {"ItemId": item_id},
    )
    assert send(write).state == Write.State.DONE
    order = minicrm_order(crm, order_id)
    assert [item["Name"] for item in order["Items"]] == ["Optikai kábel"]
    assert dom(user_client.get(f"/orders/{order_id}/")).by_id("amount-net").text == "2000 HUF"


def test_saving_a_draft_unchanged_queues_nothing(user_client: Client, crm: Sandbox) -> None:
    order_id = new_order(crm, "Draft")
    form = dom(user_client.get(f"/orders/{order_id}/")).find(
        "form", action=f"/orders/{order_id}/items/"
    )

    response = user_client.post(form.attrs["action"], form_data(form), follow=True)

    assert response.redirect_chain == [(f"/orders/{order_id}/", 302)]
    assert messages_of(response) == ["Nothing was changed."]
    assert not Write.objects.exists()


def test_a_bad_item_added_to_a_draft_is_refused_with_its_reason(
    user_client: Client, crm: Sandbox
) -> None:
    order_id = new_order(crm, "Draft")

    response = user_client.post(
        f"/orders/{order_id}/items/",
        {"subject": "", **item_data([{**ROWS[0], "VAT": "20"}])},
        follow=True,
    )

    assert messages_of(response) == ["Choose one of 27, 18, 5, 0 %."]
    assert not Write.objects.exists()


@pytest.mark.parametrize("status", ["In progress", "Completed", "Paid", "Failed"])
def test_subject_and_items_of_an_order_past_draft_cannot_change(
    user_client: Client, crm: Sandbox, status: str
) -> None:
    order_id = new_order(crm, status)
    item_id = int(minicrm_order(crm, order_id)["Items"][0]["Id"])

    response = user_client.post(
        f"/orders/{order_id}/items/", {"subject": "Más", **item_data(ROWS[:1])}, follow=True
    )

    assert response.redirect_chain == [(f"/orders/{order_id}/", 302)]
    assert messages_of(response) == ["Only a Draft order's subject and items can change."]

    response = user_client.post(f"/orders/{order_id}/items/{item_id}/delete/", follow=True)

    assert messages_of(response) == ["Only a Draft order's items can change."]
    assert not Write.objects.exists()
    order = minicrm_order(crm, order_id)
    assert (order["Subject"], len(order["Items"])) == (f"Teszt ({status})", 2)


@pytest.mark.parametrize("status", STATUSES)
def test_custom_fields_can_be_saved_in_any_status(
    user_client: Client, crm: Sandbox, status: str
) -> None:
    order_id = new_order(crm, status)
    page = dom(user_client.get(f"/orders/{order_id}/"))
    form = page.find("form", action=f"/orders/{order_id}/fields/")

    response = user_client.post(
        form.attrs["action"], form_data(form, **{"custom-SzallitasExtraInfo": "Hátsó kapu"})
    )

    assert response.status_code == 302
    write = Write.objects.get()
    assert (write.kind, write.target_id, write.payload) == (
        Write.Kind.ORDER_CUSTOM_FIELDS,
        order_id,
        {"SzallitasExtraInfo": "Hátsó kapu"},
    )
    assert send(write).state == Write.State.DONE
    assert minicrm_order(crm, order_id)["Project"]["SzallitasExtraInfo"] == "Hátsó kapu"
    page = dom(user_client.get(f"/orders/{order_id}/"))
    field = page.find("form", action=f"/orders/{order_id}/fields/").find(
        name="custom-SzallitasExtraInfo"
    )
    assert field.attrs.get("value", field.text) == "Hátsó kapu"


def test_unchanged_custom_fields_queue_nothing(user_client: Client, doc: Sandbox) -> None:
    form = dom(user_client.get("/orders/44/")).find("form", action="/orders/44/fields/")

    response = user_client.post(form.attrs["action"], form_data(form))

    assert response.status_code == 302
    assert not Write.objects.exists()


# -- the index ----------------------------------------------------------------------------------


def test_the_index_lists_orders_the_console_opened_filtered_by_status(
    user_client: Client, crm: Sandbox
) -> None:
    draft, paid, failed = new_order(crm, "Draft"), new_order(crm, "Paid"), new_order(crm, "Failed")
    new_order(crm, "Completed")  # never opened here: not in the index
    empty = dom(user_client.get("/orders/")).by_id("order-list")
    assert empty.find("tbody").text == "No orders yet."
    for order_id in (draft, paid, failed):
        assert user_client.get(f"/orders/{order_id}/").status_code == 200

    everything = user_client.get("/orders/")

    rows = index_rows(everything)
    assert sorted(rows) == sorted([draft, paid, failed])
    assert list(rows) == sorted(rows, reverse=True)  # newest first
    assert rows[paid] == [
        "Gigabit Távközlési Kft.",
        "Teszt (Paid)",
        "Paid",
        "2500.00 HUF",
        "3175.00 HUF",
    ]
    tabs = dom(everything).find("nav", class_="tabs")
    assert [a.text for a in tabs.find_all("a")] == ["All", *STATUSES]
    assert sorted(index_rows(user_client.get("/orders/", {"status": "Paid"}))) == [paid]
    assert sorted(index_rows(user_client.get("/orders/", {"status": "Failed"}))) == [failed]
    assert index_rows(user_client.get("/orders/", {"status": "Completed"})) == {}
    filtered = dom(user_client.get("/orders/", {"status": "In progress"}))
    assert filtered.find("a", aria_current="true").text == "In progress"
    # An unknown status filters nothing.
    assert sorted(index_rows(user_client.get("/orders/", {"status": "Lost"}))) == sorted(rows)


# -- in Hungarian -------------------------------------------------------------------------------


def test_an_order_page_in_hungarian(hungarian: Client, crm: Sandbox) -> None:
    order_id = new_order(crm, "Completed")

    page = dom(hungarian.get(f"/orders/{order_id}/"))

    assert page.find("html").attrs["lang"] == "hu"
    assert page.by_id("order-status").text == "Teljesítve"
    assert buttons(page) == {"paid": "Fizetettnek jelölés", "storno": "Sztornó"}
    confirm = dom(hungarian.get(f"/orders/{order_id}/storno/"))
    assert "A megrendelés állapota: Teljesítve → Sztornózva." in confirm.text
    refusal = dom(hungarian.get(f"/orders/{order_id}/finalize/")).find("p", class_="errornote")
    assert refusal.text == (
        "Teljesítve státuszú megrendelés nem kerülhet Folyamatban státuszba: "
        "ez csak Piszkozat státuszból lehetséges."
    )
    index = dom(hungarian.get("/orders/"))
    assert [a.text for a in index.find("nav", class_="tabs").find_all("a")] == [
        "Összes",
        "Piszkozat",
        "Folyamatban",
        "Teljesítve",
        "Fizetve",
        "Sztornózva",
    ]


# -- hardening: numbers bounded, Back and Save again ------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("PriceNet", "NaN", "Enter a number."),
        ("PriceNet", "sNaN", "Enter a number."),
        ("PriceNet", "Infinity", "Enter a number."),
        ("PriceNet", "1e7000000", "Enter a number."),
        ("PriceNet", "-1000", "The price cannot be negative."),
        ("PriceNet", "99999999999999", "Enter a number of at most 9 999 999 999 999.99."),
        ("Quantity", "NaN", "Enter a number."),
        ("Quantity", "sNaN", "Enter a number."),
        ("Quantity", "-Infinity", "Enter a number."),
        ("Quantity", "1e7000000", "Enter a number."),
        ("Quantity", "-2", "The quantity must be more than zero."),
    ],
)
def test_numbers_that_are_no_prices_or_quantities_are_refused_in_their_cell(
    user_client: Client, doc: Sandbox, column: str, value: str, message: str
) -> None:
    rows = [ROWS[0], {**ROWS[1], column: value}]

    response = user_client.post("/orders/add/", {**new_order_form(), **item_data(rows)})

    assert response.status_code == 200
    shown = dom(response).by_id("item-rows").find_all("tr", class_="item-row")
    assert [errors_of(row) for row in shown] == [[], [message]]
    assert not Write.objects.exists()


@pytest.mark.parametrize("value", ["NaN", "sNaN", "1e7000000", "-5"])
def test_a_bad_number_added_to_a_draft_is_refused_and_nothing_is_queued(
    user_client: Client, crm: Sandbox, value: str
) -> None:
    order_id = new_order(crm)

    response = user_client.post(
        f"/orders/{order_id}/items/", item_data([{**ROWS[0], "PriceNet": value}]), follow=True
    )

    assert response.status_code == 200
    assert messages_of(response)
    assert not Write.objects.exists()


def test_a_huge_customer_id_is_a_form_error(user_client: Client, doc: Sandbox) -> None:
    response = user_client.post(
        "/orders/add/", {**new_order_form(customer=str(2**64 + 1)), **item_data(ROWS)}
    )

    assert response.status_code == 200
    assert errors_of(dom(response).by_id("row-customer"))
    assert not Write.objects.exists()


def test_back_and_save_again_creates_the_order_once(user_client: Client, doc: Sandbox) -> None:
    form = dom(user_client.get("/orders/add/?customer=225")).find("form", class_="schema-form")
    data = {**form_data(form), **new_order_form(), **item_data(ROWS)}
    assert len(data["once"]) == 32

    first = user_client.post("/orders/add/", data)
    second = user_client.post("/orders/add/", data)

    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    sent = send(Write.objects.get())
    assert sent.state == Write.State.DONE
    third = user_client.post("/orders/add/", data)
    assert third["Location"] == f"/orders/{sent.target_id}/"
    assert Write.objects.count() == 1


def test_a_refused_order_can_be_corrected_and_sent_under_the_same_key(
    user_client: Client, doc: Sandbox, staff_user: Any
) -> None:
    form = dom(user_client.get("/orders/add/?customer=225")).find("form", class_="schema-form")
    data = {**form_data(form), **new_order_form(), **item_data(ROWS)}
    # MiniCRM refused the first try (the form showed why and discarded it).
    refused = Write.objects.create(
        kind=Write.Kind.ORDER_CREATE,
        target_type="order",
        payload={},
        state=Write.State.DISCARDED,
        idempotency_key=f"{staff_user.pk}:{data['once']}",
    )

    response = user_client.post("/orders/add/", data)

    assert response.status_code == 302
    corrected = Write.objects.exclude(pk=refused.pk).get()
    assert corrected.idempotency_key == refused.idempotency_key
    assert corrected.state == Write.State.QUEUED


def test_the_order_fields_in_hungarian_round_trip_unchanged(
    hungarian: Client, doc: Sandbox
) -> None:
    form = dom(hungarian.get("/orders/44/")).find("form", action="/orders/44/fields/")

    response = hungarian.post(form.attrs["action"], form_data(form))

    assert response.status_code == 302


@pytest.mark.parametrize(
    ("customer", "message"),
    [
        ("²", "Enter a whole number."),
        ("١٢", "Enter a whole number."),
        (str(2**64 + 1), "Ensure this value is less than or equal to 9223372036854775807."),
        ("0", "Ensure this value is greater than or equal to 1."),
    ],
)
def test_a_customer_that_is_no_id_is_a_form_error(
    user_client: Client, doc: Sandbox, customer: str, message: str
) -> None:
    response = user_client.post(
        "/orders/add/", {**new_order_form(customer=customer), **item_data(ROWS)}
    )

    assert response.status_code == 200
    assert errors_of(dom(response).by_id("row-customer")) == [message]
    assert not Write.objects.exists()


# -- export -------------------------------------------------------------------------------------


def indexed(order_id: int, status: str, **values: object) -> OrderRecord:
    fields: dict[str, object] = {
        "customer_id": 225,
        "customer_name": "Gigabit Távközlési Kft.",
        "number": f"M-{order_id}",
        "subject": f"Teszt {order_id}",
        "currency": "HUF",
        "amount_net": Decimal("2500.00"),
        "amount": Decimal("3175.00"),
    }
    return OrderRecord.objects.create(order_id=order_id, status=status, **{**fields, **values})


def export_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.getvalue().decode().removeprefix("\ufeff"))))


def test_the_order_index_exports_what_its_filter_lists_as_csv_and_xlsx(
    user_client: Client, crm: Sandbox
) -> None:
    for order_id in range(8001, 8006):
        indexed(order_id, "Paid")
    indexed(8010, "Draft")
    indexed(8011, "Paid", customer_name="", customer_id=7505)  # named by the mirror
    MirrorContact.objects.create(
        id=7505, name="MiniCRM Zrt.", type="Business", synced_at=timezone.now()
    )
    listed = index_rows(user_client.get("/orders/", {"status": "Paid"}))
    page = dom(user_client.get("/orders/", {"status": "Paid"}))

    as_csv = user_client.get(page.by_id("export-csv").attrs["href"])
    as_xlsx = user_client.get(page.by_id("export-xlsx").attrs["href"])

    today = timezone.localdate().isoformat()
    assert as_csv["Content-Disposition"] == f'attachment; filename="orders-paid-{today}.csv"'
    rows = export_rows(as_csv)
    assert rows[0][:8] == [
        "Order", "Number", "Customer", "Subject", "Status", "Net", "Gross", "Currency"
    ]  # fmt: skip
    assert [int(row[0]) for row in rows[1:]] == list(listed)  # the same orders, same order
    for row in rows[1:]:
        customer, subject, status, net, gross = listed[int(row[0])]
        assert row[2:8] == [
            customer if customer != "7505" else "MiniCRM Zrt.",
            subject,
            status,
            net.split()[0],
            gross.split()[0],
            "HUF",
        ]
    sheet = xlsx_rows(as_xlsx.getvalue())
    assert [row[:5] for row in sheet] == [row[:5] for row in rows]
    assert [float(row[5]) for row in sheet[1:]] == [2500.0] * 6  # money as numbers
    everything = export_rows(user_client.get("/orders/export/", {"format": "csv"}))
    assert len(everything) == 1 + 7


def test_an_order_export_in_hungarian_and_in_an_unknown_format(
    user_client: Client, crm: Sandbox
) -> None:
    indexed(8020, "Paid")
    wrong = user_client.get("/orders/export/", {"status": "Paid", "format": "pdf"}, follow=True)
    user_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    magyar = user_client.get("/orders/export/", {"status": "Paid", "format": "csv"})

    assert wrong.redirect_chain[-1][0] == "/orders/?status=Paid"
    assert "Choose CSV or XLSX." in messages_of(wrong)
    rows = export_rows(magyar)
    assert rows[0][:5] == ["Megrendelés", "Sorszám", "Vevő", "Tárgy", "Státusz"]
    assert rows[1][4] == "Fizetve"
    assert "megrendelesek-fizetve-" in magyar["Content-Disposition"]
