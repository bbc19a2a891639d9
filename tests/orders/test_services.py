"""Order changes: checked here, queued as writes, sent in this process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from apps.orders.models import OrderRecord
from apps.orders.services import (
    order_create,
    order_delete_item,
    order_index_refresh,
    order_modify,
    order_set_custom_fields,
    order_transition,
)
from apps.writes.models import Write
from apps.writes.services import write_retry, write_send
from minicrm.resources.schema import SchemaValidationError
from minicrm.types import Order
from tests.conftest import SandboxStarter
from tests.writes.support import Crm, private_crm

pytestmark = pytest.mark.django_db

CABLE = {"Name": "Patch kábel", "SKU": "PK-2", "Unit": "db", "PriceNet": "1000", "Quantity": "2"}
CHECK_MESSAGE = (
    "MiniCRM may have created this order before the connection broke. Check the customer's "
    "orders in MiniCRM, then retry or discard this change."
)


@pytest.fixture
def crm(settings: Settings, sandbox_factory: SandboxStarter, redis_url: str) -> Iterator[Crm]:
    yield from private_crm(settings, sandbox_factory, redis_url)


def reload(write: Write) -> Write:
    return Write.objects.get(pk=write.pk)


def order(crm: Crm, order_id: int) -> dict[str, Any]:
    return dict(crm.get(f"/Api/Order/{order_id}"))


def uncertain(write: Write) -> None:
    """An earlier attempt went out and its answer was lost."""
    Write.objects.filter(pk=write.pk).update(uncertain=True, attempts=1)


# -- the record and the checks ------------------------------------------------------------------


def test_order_create_records_the_cleaned_items(django_user_model: type[User]) -> None:
    user = django_user_model.objects.create_user(username="gabor", password="x")

    write = order_create(
        customer_id=225,
        currency="HUF",
        subject="Kábelek",
        items=[{**CABLE, "PriceNet": "1000,5", "VAT": "27%"}],
        user=user,
    )

    write = reload(write)
    assert write.kind == Write.Kind.ORDER_CREATE
    assert (write.target_type, write.target_id, write.requested_by) == ("order", None, user)
    assert write.payload == {
        "CustomerId": 225,
        "CurrencyCode": "HUF",
        "Subject": "Kábelek",
        "Items": [
            {
                "Name": "Patch kábel",
                "SKU": "PK-2",
                "Unit": "db",
                "PriceNet": "1000.50",
                "Quantity": "2.00",
                "VAT": "27",
            }
        ],
    }


@pytest.mark.parametrize(
    ("item", "errors"),
    [
        ({**CABLE, "Name": "  "}, {"Items.0.Name": "Name the item."}),
        ({**CABLE, "PriceNet": "-5"}, {"Items.0.PriceNet": "The price cannot be negative."}),
        ({**CABLE, "Quantity": "0"}, {"Items.0.Quantity": "The quantity must be more than zero."}),
        ({**CABLE, "Quantity": "két"}, {"Items.0.Quantity": "Enter a number."}),
        ({**CABLE, "VAT": "20"}, {"Items.0.VAT": "Choose one of 27, 18, 5, 0 %."}),
    ],
    ids=["no-name", "negative-price", "zero-quantity", "not-a-number", "bad-vat"],
)
def test_order_items_are_checked_before_anything_is_queued(
    item: dict[str, Any], errors: dict[str, str]
) -> None:
    with pytest.raises(SchemaValidationError) as refused:
        order_create(customer_id=225, currency="HUF", items=[CABLE, item])

    assert refused.value.errors == {
        key.replace(".0.", ".1."): value for key, value in errors.items()
    }
    with pytest.raises(SchemaValidationError):
        order_modify(order_id=44, customer_id=225, items=[item])
    assert not Write.objects.exists()


def test_an_order_in_an_unknown_currency_is_refused() -> None:
    with pytest.raises(SchemaValidationError) as refused:
        order_create(customer_id=225, currency="GBP", items=[CABLE])

    assert refused.value.errors == {"CurrencyCode": "Choose one of HUF, EUR, USD."}
    assert not Write.objects.exists()


def test_an_order_with_texts_longer_than_the_index_holds_is_indexed_with_them_cut() -> None:
    """MiniCRM's texts have no length limits; the index's columns do, and PostgreSQL refuses a
    longer value where SQLite kept it (opening such an order's page was a 500)."""
    name = "Nagyon Hosszú Nevű Kereskedelmi és Szolgáltató Korlátolt Felelősségű Társaság " * 5
    order = Order.parse(
        {
            "Id": "4711",
            "CustomerId": "225",
            "Number": "RE-" + "9" * 120,
            "Status": "Draft",
            "Subject": "Kábelek " * 200,
            "CurrencyCode": "HUF",
            "Amount": "2540",
            "Customer": {"Name": name},
            "Items": [],
        }
    )

    order_index_refresh(order)

    record = OrderRecord.objects.get(order_id=4711)
    assert (record.customer_name, record.number, record.subject) == (
        name[:300],
        ("RE-" + "9" * 120)[:100],
        ("Kábelek " * 200)[:1024],
    )
    assert (record.customer_id, record.status, record.amount) == (225, "Draft", 2540)


# -- sending -----------------------------------------------------------------------------------


def test_a_sent_order_create_stores_the_new_order_and_its_summary(crm: Crm) -> None:
    write = order_create(customer_id=225, currency="HUF", subject="Kábelek", items=[CABLE])

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.state == Write.State.DONE
    assert write.target_id is not None
    created = order(crm, write.target_id)
    assert write.result == {
        "order": {
            "status": "Draft",
            "project_id": int(created["ProjectId"]),  # the order's card
            "number": "",
            "amount_net": "2000",
            "amount_vat": "540",
            "amount": "2540",
            "currency": "HUF",
        }
    }
    assert (created["CustomerId"], created["Subject"], created["Amount"]) == (
        "225",
        "Kábelek",
        "2540",
    )
    assert [item["Name"] for item in created["Items"]] == ["Patch kábel"]


def test_an_order_create_that_may_have_reached_minicrm_asks_a_person(crm: Crm) -> None:
    write = order_create(customer_id=225, currency="HUF", items=[CABLE])
    uncertain(write)
    crm.clear_log()

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.FAILED
    assert write.last_error == CHECK_MESSAGE
    assert crm.requests("POST") == []


def test_an_uncertain_order_create_is_sent_once_a_person_retries_it(crm: Crm) -> None:
    write = order_create(customer_id=225, currency="HUF", items=[CABLE])
    uncertain(write)
    assert write_send(write.pk) == 0  # failed: the person looks in MiniCRM, finds nothing

    write_retry(write_id=write.pk)
    write_send(write.pk)

    assert reload(write).state == Write.State.DONE


def test_items_added_to_an_order_are_in_minicrm(crm: Crm) -> None:
    write = order_modify(order_id=44, customer_id=225, subject="Bővítve", items=[CABLE])

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.state == Write.State.DONE
    assert write.result is not None
    assert write.result["items_before"] == [54]
    assert write.result["order"]["amount_net"] == "9500"
    current = order(crm, 44)
    assert current["Subject"] == "Bővítve"
    assert [item["Name"] for item in current["Items"]] == ["Optikai kábel", "Patch kábel"]


def test_items_an_earlier_attempt_added_are_not_added_again(crm: Crm) -> None:
    write = order_modify(order_id=44, customer_id=225, items=[CABLE])
    # The lost attempt recorded the items before it and added the new one.
    Write.objects.filter(pk=write.pk).update(
        state=Write.State.SENDING, result={"items_before": [54]}, attempts=1
    )
    answer = crm.sandbox.post("/Api/Order/44", json=write.payload)
    assert answer.status_code == 200, answer.text
    crm.clear_log()

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.state == Write.State.DONE
    assert write.result is not None
    assert write.result["found"] is True
    assert crm.requests("POST") == []
    assert [item["Name"] for item in order(crm, 44)["Items"]] == ["Optikai kábel", "Patch kábel"]


def test_a_removed_item_is_gone_from_minicrm(crm: Crm) -> None:
    write = order_delete_item(order_id=44, item_id=54)
    assert write.payload == {"ItemId": 54}

    assert write_send(write.pk) == 1

    assert reload(write).state == Write.State.DONE
    assert order(crm, 44)["Items"] == []


def test_order_custom_fields_are_in_minicrm(crm: Crm) -> None:
    write = order_set_custom_fields(order_id=44, values={"SzallitasExtraInfo": "Hátsó kapu"})

    assert write_send(write.pk) == 1

    assert reload(write).state == Write.State.DONE
    assert order(crm, 44)["Project"]["SzallitasExtraInfo"] == "Hátsó kapu"


def test_an_order_transition_moves_the_order_and_records_its_status(crm: Crm) -> None:
    write = order_transition(order_id=44, action="finalize")
    assert (write.kind, write.target_id, write.payload) == (Write.Kind.ORDER_FINALIZE, 44, {})

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.state == Write.State.DONE
    assert write.result is not None
    assert write.result["order"]["status"] == "In progress"
    assert order(crm, 44)["Status"] == "In progress"


def test_order_transitions_are_applied_in_the_order_they_were_asked_for(crm: Crm) -> None:
    writes = [order_transition(order_id=44, action=a) for a in ("finalize", "complete", "paid")]

    assert write_send(writes[-1].pk) == 3

    assert [reload(w).state for w in writes] == [Write.State.DONE] * 3
    assert order(crm, 44)["Status"] == "Paid"


def test_a_transition_minicrm_does_not_allow_fails_with_its_reason(crm: Crm) -> None:
    write = order_transition(order_id=44, action="complete")  # a Draft cannot be completed

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.FAILED
    assert write.last_error == "Method not allowed: order 44 is Draft, Complete needs In progress."
    assert order(crm, 44)["Status"] == "Draft"


def test_an_uncertain_transition_already_applied_is_done_without_sending(crm: Crm) -> None:
    write = order_transition(order_id=44, action="finalize")
    assert crm.sandbox.get("/Api/Order/44/Finalize").status_code == 200  # the lost attempt
    Write.objects.filter(pk=write.pk).update(state=Write.State.SENDING, attempts=1)
    crm.clear_log()

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.state == Write.State.DONE
    assert write.result is not None
    assert (write.result["found"], write.result["order"]["status"]) == (True, "In progress")
    assert [path for _, path, _ in crm.requests()] == ["/Api/Order/44"]
