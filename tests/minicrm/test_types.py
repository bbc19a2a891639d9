"""The typed results smooth over the API's loose JSON: each test shows the raw quirk the sandbox
sends (through its own plain session) and what a caller gets from the client instead."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from minicrm import MiniCRMClient
from minicrm.types import Ref, StatusChange, to_int, to_number
from tests.conftest import Sandbox

R3 = "/Api/R3"
# Standard card fields as the sandbox's detail view sends them (everything else is custom).
CARD_STANDARD = {
    "Id",
    "CategoryId",
    "ContactId",
    "BusinessId",
    "StatusId",
    "UserId",
    "Name",
    "StatusUpdatedAt",
    "Deleted",
    "CreatedAt",
    "UpdatedAt",
    "ReferenceId",
    "ProjectHash",
    "ProjectEmail",
}


def raw(sandbox: Sandbox, path: str, **params: Any) -> Any:
    answer = sandbox.get(path, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_status_history_numbers_as_strings_become_ints(
    sandbox_doc: Sandbox, doc_client: MiniCRMClient
) -> None:
    data = raw(sandbox_doc, f"{R3}/ProjectHistory/29592", Type="StatusHistory")
    row = data["Results"]["30027"]
    assert (data["Count"], row["Id"], row["ProjectId"], row["UserId"]) == (
        "1",
        "30027",
        "29592",
        "53986",
    )
    assert row["Status_Old_Id"] == ""
    assert doc_client.projects.status_history(29592) == [
        StatusChange(
            id=30027,
            project_id=29592,
            user_id=53986,
            at=datetime(2018, 7, 18, 1, 44, 20),
            old_status_id=None,
            new_status_id=2876,
            old_status_name="",
            new_status_name="Ügyfélminősítés",
        )
    ]


def test_todo_list_results_array_with_string_numbers(
    sandbox_doc: Sandbox, doc_client: MiniCRMClient
) -> None:
    data = raw(sandbox_doc, f"{R3}/ToDoList/2001", Status="All")
    assert isinstance(data["Results"], list)
    seeded = {row["Id"]: row for row in data["Results"] if row["Id"] in ("1111", "2222")}
    assert seeded["2222"]["UserId"] == "3300" and seeded["2222"]["Type"] == "1566"

    page = doc_client.todos.list(2001, status="All")
    assert page.count == len(data["Results"]) and isinstance(page.count, int)
    by_id = {todo.id: todo for todo in page}
    assert {1111, 2222} <= set(by_id)
    assert (by_id[2222].user_id, by_id[2222].type_id) == (3300, 1566)
    assert by_id[1111].type_id is None  # "0": no to-do type
    assert by_id[1111].deadline == datetime(2012, 1, 17, 23, 59)
    assert all(isinstance(todo.id, int) and todo.is_open for todo in by_id.values())


def test_order_numbers_as_strings_become_ints_and_decimals(
    sandbox_doc: Sandbox, doc_client: MiniCRMClient
) -> None:
    data = raw(sandbox_doc, "/Api/Order/44")
    assert (data["Id"], data["ProjectId"], data["CustomerId"]) == ("44", "206", "225")
    assert (data["AmountNet"], data["AmountVat"], data["Amount"]) == ("7500", "2025", "9525")
    assert data["Items"][0]["VAT"] == "27%"

    order = doc_client.orders.get(44)
    assert (order.id, order.project_id, order.customer_id) == (44, 206, 225)
    assert (order.amount_net, order.amount_vat, order.amount) == (
        Decimal("7500"),
        Decimal("2025"),
        Decimal("9525"),
    )
    assert all(type(x) is Decimal for x in (order.amount_net, order.amount_vat, order.amount))
    [item] = order.items
    assert item.id == 54
    assert (item.price_net, item.quantity, item.vat_rate) == (
        Decimal("500.00"),
        Decimal("15"),
        Decimal("27"),
    )
    assert (item.price_net_total, item.price_total) == (Decimal("7500"), Decimal("9525"))
    assert order.performance is not None and order.performance.isoformat() == "2018-11-20"


def test_status_and_user_are_ids_in_search_rows_and_names_in_detail(
    sandbox_doc: Sandbox, doc_client: MiniCRMClient
) -> None:
    raw_row = raw(sandbox_doc, f"{R3}/Project", CategoryId=10)["Results"]["2056"]
    assert (raw_row["StatusId"], raw_row["UserId"]) == (2622, 22404)
    raw_detail = raw(sandbox_doc, f"{R3}/Project/2056")
    assert (raw_detail["StatusId"], raw_detail["UserId"]) == ("Feldolgozásra vár", "Leskó Norbert")

    row = next(r for r in doc_client.projects.search(category_id=10) if r.id == 2056)
    assert row.status == Ref(id=2622)
    assert row.user == Ref(id=22404)
    detail = doc_client.projects.get(2056)
    assert detail.status == Ref(name="Feldolgozásra vár")
    assert detail.user == Ref(name="Leskó Norbert")
    assert (str(row.status), str(detail.status)) == ("2622", "Feldolgozásra vár")


def test_empty_and_zero_dates_become_none(sandbox_doc: Sandbox, doc_client: MiniCRMClient) -> None:
    card_id = doc_client.projects.create(
        {"CategoryId": 10, "Name": f"Dátum nélkül {uuid.uuid4().hex[:8]}"}
    )
    todo_id = doc_client.todos.create({"ProjectId": card_id, "Comment": "Határidő nélkül"})
    raw_todo = raw(sandbox_doc, f"{R3}/ToDo/{todo_id}")
    assert (raw_todo["Deadline"], raw_todo["ClosedAt"]) == ("", "0000-00-00 00:00:00")
    todo = doc_client.todos.get(todo_id)
    assert (todo.deadline, todo.closed_at) == (None, None)
    assert todo.created_at is not None
    [summary] = doc_client.todos.list(card_id)
    assert summary.deadline is None
    card = doc_client.projects.get(card_id)
    assert card.fields["KovetkezoHivasIdpontja"] == ""  # kept as sent among the fields


def test_localized_contact_type(sandbox_doc: Sandbox, doc_client: MiniCRMClient) -> None:
    assert raw(sandbox_doc, f"{R3}/Contact/7461")["Type"] == "Személy"
    assert raw(sandbox_doc, f"{R3}/Contact/7453")["Type"] == "Cég"
    assert doc_client.contacts.get(7461).type == "Person"
    assert doc_client.contacts.get(7453).type == "Business"
    # search rows already say Person / Business and stay so
    assert {row.id: row.type for row in doc_client.contacts.search(query="pelda")}[7453] == (
        "Business"
    )


@pytest.mark.parametrize("category_id", [20, 21, 22, 23, 24])
def test_every_custom_field_is_kept(
    sandbox_demo: Sandbox, demo_client: MiniCRMClient, category_id: int
) -> None:
    schema = raw(sandbox_demo, f"{R3}/Schema/Project/{category_id}")
    custom_names = set(schema) - CARD_STANDARD
    assert len(custom_names) == 9
    first = demo_client.projects.search(category_id=category_id).items[0]
    sent = raw(sandbox_demo, f"{R3}/Project/{first.id}")
    card = demo_client.projects.get(first.id)
    assert card.fields == sent
    assert set(card.custom_fields) == custom_names
    assert card.custom_fields == {name: sent[name] for name in custom_names}


def test_multiselect_values_come_back_as_label_lists(demo_client: MiniCRMClient) -> None:
    for row in demo_client.projects.search(category_id=20):
        value = demo_client.projects.get(row.id).custom_fields["Erdeklodes"]
        if value:
            break
    else:
        pytest.fail("no card of category 20 on the first page has an Erdeklodes value")
    assert isinstance(value, list)
    labels = set(demo_client.schemas.project(20).fields["Erdeklodes"].choices.values())
    assert set(value) <= labels


@pytest.mark.parametrize(
    ("value", "number"),
    [("²", None), ("١٢", None), ("12", 12), (" -7 ", -7), ("9" * 30, None), (5, 5)],
)
def test_ids_are_ascii_whole_numbers(value: object, number: int | None) -> None:
    assert to_int(value) == number


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("1 890 000", 1890000),
        ("1\u00a0890\u00a0000", 1890000),
        ("12,5", Decimal("12.5")),
        (12.5, Decimal("12.5")),
        ("NaN", None),
        ("sNaN", None),
        ("Infinity", None),
        ("1e7000000", None),
        ("sok", None),
    ],
)
def test_numbers_as_minicrm_may_write_them(value: object, number: object) -> None:
    assert to_number(value) == number
