"""The Order endpoint: the document's walk through order 44, amounts and the status machine."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sandbox_checks import ok_json, text_error

CUSTOMER_225 = {
    "Name": "Gigabit Távközlési Kft.",
    "CountryId": "36",
    "PostalCode": "9245",
    "City": "Mosonszolnok",
    "Address": "Alkotás u. 49.",
    "AccountNumber": "92826253-45043722-59650728",
    "VatNumber": "17823443-1-26",
    "EUVatNumber": "",
    "RegistrationNumber": "32-88-574193",
    "GroupIdentificationNumber": "",
}
ITEM_54 = {
    "Id": "54",
    "SKU": "",
    "EAN": "",
    "Name": "Optikai kábel",
    "Description": "",
    "PriceNet": "500.00",
    "Quantity": "15.00",
    "Unit": "m",
    "PriceNetTotal": "7500.00",
    "VAT": "27%",
    "PriceTotal": "9525.00",
}
ORDER_44 = {
    "Id": "44",
    "ProjectId": "206",
    "CustomerId": "225",
    "Number": "",
    "Customer": CUSTOMER_225,
    "Subject": "",
    "Performance": "2018-11-20",
    "CurrencyCode": "HUF",
    "AmountNet": "7500",
    "AmountVat": "2025",
    "Amount": "9525",
    "Items": [ITEM_54],
}
CREATE_BODY = """{
"CustomerId": "225",
"CurrencyCode": "HUF",
"Customer": {
"Name": "Gigabit Távközlési Kft.",
"Country": "36",
"PostalCode": "9245",
"City": "Mosonszolnok",
"Address": "Alkotás u. 49.",
"AccountNumber": "92826253-45043722-59650728",
"VatNumber": "17823443-1-26",
"EUVatNumber": ""
},
"Subject": "",
"Items": [
{
"SKU": "",
"Name": "Optikai kábel",
"Description": "",
"PriceNet": "500.00",
"Quantity": "15.00",
"Unit": "m",
"VAT": "27"
}
]
}"""
SUBJECT = "Call him, when the Courier is about to deliver his package"
ADD_ITEM_BODY = """{
"CustomerId": 225,
"Items": [
{
"SKU": "",
"Name": "Linksys IP telefon",
"Description": "",
"PriceNet": "12000.00",
"Quantity": "3.00",
"Unit": "darab",
"VAT": "27"
}
]
}"""
EDIT_ITEM_BODY = """{
"CustomerId": 225,
"Items": [
{
"Id": 55,
"SKU": "",
"Name": "Cisco IP telefon",
"Description": "",
"PriceNet": "15000.00",
"Quantity": "2.00",
"Unit": "darab",
"VAT": "27"
}
]
}"""
ITEM_55_CISCO = {
    "Id": "55",
    "SKU": "",
    "EAN": "",
    "Name": "Cisco IP telefon",
    "Description": "",
    "PriceNet": "15000.00",
    "Quantity": "2.00",
    "Unit": "darab",
    "PriceNetTotal": "30000.00",
    "VAT": "27%",
    "PriceTotal": "38100.00",
}
STATUSES = ("Draft", "In progress", "Completed", "Paid", "Failed")
ACTIONS = ("Finalize", "Edit", "Complete", "Paid", "Storno")
LEGAL = {
    ("Draft", "Finalize"): "In progress",
    ("In progress", "Edit"): "Draft",
    ("In progress", "Complete"): "Completed",
    ("Completed", "Paid"): "Paid",
    ("Failed", "Paid"): "Paid",
    ("Completed", "Storno"): "Failed",
}
PATH_TO = {
    "Draft": (),
    "In progress": ("Finalize",),
    "Completed": ("Finalize", "Complete"),
    "Paid": ("Finalize", "Complete", "Paid"),
    "Failed": ("Finalize", "Complete", "Storno"),
}


def order(sandbox: Any, order_id: str | int) -> dict[str, Any]:
    body = ok_json(sandbox.get(f"/Api/Order/{order_id}"))
    assert_order_shape(body)
    return body


def assert_order_shape(body: dict[str, Any]) -> None:
    for key in ("Id", "ProjectId", "CustomerId", "AmountNet", "AmountVat", "Amount"):
        assert isinstance(body[key], str), (key, body[key])
    assert body["Status"] in STATUSES
    for item in body["Items"]:
        assert all(isinstance(value, str) for value in item.values()), item


def amounts(body: dict[str, Any]) -> tuple[str, str, str]:
    return body["AmountNet"], body["AmountVat"], body["Amount"]


def new_order(sandbox: Any, *items: dict[str, str]) -> dict[str, Any]:
    lines = list(items) or [{"Name": "Teszt termék", "PriceNet": "1000.00", "Quantity": "2.00",
                             "Unit": "db", "VAT": "27"}]  # fmt: skip
    body = ok_json(sandbox.post("/Api/Order/", json={"CustomerId": 225, "Items": lines}))
    assert_order_shape(body)
    assert body["Status"] == "Draft"
    return body


def order_in(sandbox: Any, status: str) -> dict[str, Any]:
    body = new_order(sandbox)
    for action in PATH_TO[status]:
        body = ok_json(sandbox.post(f"/Api/Order/{body['Id']}/{action}"))
    assert body["Status"] == status
    return body


# -- the document's walk through order 44 ------------------------------------------------------


def test_get_order_like_the_document(sandbox_doc):
    body = order(sandbox_doc, 44)
    assert {key: body.get(key) for key in ORDER_44} == ORDER_44
    assert body["Status"] == "Draft"
    assert body["Project"]["SzallitasExtraInfo"] == ""


def test_order_44_walkthrough_like_the_document(sandbox_factory):
    sandbox = sandbox_factory("doc")

    modified = ok_json(
        sandbox.curl("POST", "/Api/Order/44", f'{{"CustomerId": 225, "Subject": "{SUBJECT}"}}')
    )
    assert modified["Subject"] == SUBJECT
    assert modified["Items"] == [ITEM_54]
    assert order(sandbox, 44) == modified

    added = ok_json(sandbox.curl("POST", "/Api/Order/44", ADD_ITEM_BODY))
    assert [item["Id"] for item in added["Items"]] == ["54", "55"]
    linksys = added["Items"][1]
    assert (linksys["Name"], linksys["PriceNetTotal"], linksys["VAT"], linksys["PriceTotal"]) == (
        "Linksys IP telefon",
        "36000.00",
        "27%",
        "45720.00",
    )
    assert amounts(added) == ("43500", "11745", "55245")
    assert added["Subject"] == SUBJECT

    edited = ok_json(sandbox.curl("POST", "/Api/Order/44", EDIT_ITEM_BODY))
    assert edited["Items"] == [ITEM_54, ITEM_55_CISCO]
    assert amounts(edited) == ("37500", "10125", "47625")

    deleted = ok_json(sandbox.get("/Api/Order/44/DeleteItem/55"))
    assert deleted["Items"] == [ITEM_54]
    assert amounts(deleted) == ("7500", "2025", "9525")
    assert order(sandbox, 44) == deleted

    note = "Please deliver the order between 9am and 5pm"
    answer = sandbox.curl("POST", "/Api/Order/44/Project", f'{{"DeliveryExtraInfo": "{note}"}}')
    assert answer.status_code == 200, answer.text
    assert order(sandbox, 44)["Project"]["DeliveryExtraInfo"] == note
    assert ok_json(sandbox.get("/Api/R3/Project/206"))["DeliveryExtraInfo"] == note

    # Finalize, Edit, Complete, Paid and Storno are GET requests in the document.
    assert ok_json(sandbox.get("/Api/Order/44/Finalize"))["Status"] == "In progress"
    text_error(sandbox.curl("POST", "/Api/Order/44", '{"CustomerId": 225, "Subject": "x"}'), 405)
    assert order(sandbox, 44)["Subject"] == SUBJECT
    assert ok_json(sandbox.get("/Api/Order/44/Edit"))["Status"] == "Draft"
    assert ok_json(sandbox.get("/Api/Order/44/Finalize"))["Status"] == "In progress"
    assert ok_json(sandbox.get("/Api/Order/44/Complete"))["Status"] == "Completed"
    assert ok_json(sandbox.get("/Api/Order/44/Storno"))["Status"] == "Failed"
    assert ok_json(sandbox.get("/Api/Order/44/Paid"))["Status"] == "Paid"
    # "If you would like to set a Paid order to In progress the response will be 405."
    text_error(sandbox.get("/Api/Order/44/Finalize"), 405)
    final = order(sandbox, 44)
    assert final["Status"] == "Paid"
    assert final["Items"] == [ITEM_54]
    assert amounts(final) == ("7500", "2025", "9525")


def test_create_order_like_the_document(sandbox_doc):
    created = ok_json(sandbox_doc.curl("POST", "/Api/Order/", CREATE_BODY))
    assert_order_shape(created)
    assert created["Id"].isdigit()
    assert created["Id"] != "44"
    assert created["CustomerId"] == "225"
    assert created["CurrencyCode"] == "HUF"
    assert created["Status"] == "Draft"
    for key in ("Name", "PostalCode", "City", "Address", "AccountNumber", "VatNumber"):
        assert created["Customer"][key] == CUSTOMER_225[key], key
    assert amounts(created) == ("7500", "2025", "9525")
    [item] = created["Items"]
    assert item["Id"].isdigit()
    assert {key: item[key] for key in ITEM_54 if key != "Id"} == {
        key: value for key, value in ITEM_54.items() if key != "Id"
    }
    assert order(sandbox_doc, created["Id"]) == created
    # The order lives on a card of its own.
    assert created["ProjectId"] != "206"
    card = ok_json(sandbox_doc.get(f"/Api/R3/Project/{created['ProjectId']}"))
    assert card["Id"] == int(created["ProjectId"])


def test_create_order_needs_customer_or_reference(sandbox_doc):
    before = new_order(sandbox_doc)
    for body in (
        {"Subject": "Vevő nélkül", "Items": []},
        {"CustomerId": "", "ReferenceId": ""},
        {"CustomerId": 99999999},
        {"ReferenceId": "no-such-reference"},
    ):
        text_error(sandbox_doc.post("/Api/Order/", json=body), 400)
    # Nothing was stored: the next order gets the very next id.
    assert int(new_order(sandbox_doc)["Id"]) == int(before["Id"]) + 1


# -- amounts ---------------------------------------------------------------------------------


def test_amounts_follow_item_add_edit_and_delete(sandbox_doc):
    created = new_order(
        sandbox_doc,
        {"Name": "Kábel", "PriceNet": "1000", "Quantity": "2", "Unit": "m", "VAT": "27"},
        {"Name": "Könyv", "PriceNet": "250.00", "Quantity": "4.00", "Unit": "db", "VAT": "5"},
    )
    order_id = created["Id"]
    assert amounts(created) == ("3000", "590", "3590")
    assert [item["VAT"] for item in created["Items"]] == ["27%", "5%"]
    cable, book = (item["Id"] for item in created["Items"])

    added = ok_json(
        sandbox_doc.post(
            f"/Api/Order/{order_id}",
            json={"CustomerId": 225, "Items": [{"Name": "Doboz", "PriceNet": "100", "VAT": "0"}]},
        )
    )
    assert len(added["Items"]) == 3
    assert added["Items"][2]["Quantity"] == "1.00"
    assert amounts(added) == ("3100", "590", "3690")

    edited = ok_json(
        sandbox_doc.post(
            f"/Api/Order/{order_id}",
            json={"CustomerId": 225, "Items": [{"Id": int(cable), "Quantity": "5"}]},
        )
    )
    assert edited["Items"][0]["Name"] == "Kábel"
    assert edited["Items"][0]["PriceNetTotal"] == "5000.00"
    assert amounts(edited) == ("6100", "1400", "7500")

    after_delete = ok_json(sandbox_doc.post(f"/Api/Order/{order_id}/DeleteItem/{book}"))
    assert [item["Id"] for item in after_delete["Items"]] == [cable, added["Items"][2]["Id"]]
    assert amounts(after_delete) == ("5100", "1350", "6450")
    assert order(sandbox_doc, order_id) == after_delete


def test_bad_item_changes_nothing(sandbox_doc):
    created = new_order(sandbox_doc)
    order_id = created["Id"]
    first = created["Items"][0]["Id"]
    for body in (
        {"CustomerId": 225, "Items": [{"Name": "Rossz ár", "PriceNet": "abc"}]},
        {"CustomerId": 225, "Items": [{"Id": first, "Quantity": "sok"}]},
        {"CustomerId": 225, "Items": [{"Id": 99999999, "Quantity": "1"}]},
        {"CustomerId": 225, "Items": [{"Name": "Jó", "PriceNet": "1"}, {"Color": "red"}]},
        {"CustomerId": 225, "Subject": "Új", "Unknown": 1},
        {"CustomerId": 225, "Items": "nem lista"},
    ):
        text_error(sandbox_doc.post(f"/Api/Order/{order_id}", json=body), 400)
    assert order(sandbox_doc, order_id) == created


def test_unknown_order_or_item_is_404(sandbox_doc):
    text_error(sandbox_doc.get("/Api/Order/99999999"), 404)
    text_error(sandbox_doc.get("/Api/Order/99999999/Finalize"), 404)
    created = new_order(sandbox_doc)
    text_error(sandbox_doc.get(f"/Api/Order/{created['Id']}/DeleteItem/99999999"), 404)
    assert order(sandbox_doc, created["Id"]) == created


def test_custom_fields_of_an_order(sandbox_doc):
    created = new_order(sandbox_doc)
    order_id = created["Id"]
    answer = sandbox_doc.post(f"/Api/Order/{order_id}/Project", json={"Unknown": "x"})
    text_error(answer, 400)
    assert order(sandbox_doc, order_id) == created
    answer = sandbox_doc.post(
        f"/Api/Order/{order_id}/Project", json={"SzallitasExtraInfo": "Hátsó kapu"}
    )
    assert answer.status_code == 200, answer.text
    assert order(sandbox_doc, order_id)["Project"]["SzallitasExtraInfo"] == "Hátsó kapu"


# -- the status machine ------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "action"), list(itertools.product(STATUSES, ACTIONS)))
def test_order_transitions(sandbox_doc, status, action):
    start = order_in(sandbox_doc, status)
    order_id = start["Id"]
    method = "GET" if ACTIONS.index(action) % 2 else "POST"
    answer = sandbox_doc.request(method, f"/Api/Order/{order_id}/{action}")
    target = LEGAL.get((status, action))
    if target is None:
        text_error(answer, 405)
        assert order(sandbox_doc, order_id)["Status"] == status
    else:
        body = ok_json(answer)
        assert body["Status"] == target
        assert order(sandbox_doc, order_id) == body
        assert body["Items"] == start["Items"]


@pytest.mark.parametrize("status", [s for s in STATUSES if s != "Draft"])
def test_order_can_be_modified_in_draft_only(sandbox_doc, status):
    start = order_in(sandbox_doc, status)
    order_id = start["Id"]
    item = start["Items"][0]["Id"]
    text_error(
        sandbox_doc.post(f"/Api/Order/{order_id}", json={"CustomerId": 225, "Subject": "Késő"}),
        405,
    )
    text_error(
        sandbox_doc.post(
            f"/Api/Order/{order_id}",
            json={"CustomerId": 225, "Items": [{"Name": "Utólag", "PriceNet": "1"}]},
        ),
        405,
    )
    text_error(sandbox_doc.get(f"/Api/Order/{order_id}/DeleteItem/{item}"), 405)
    after = order(sandbox_doc, order_id)
    assert after == start
    # Custom fields stay editable in every status.
    answer = sandbox_doc.post(
        f"/Api/Order/{order_id}/Project", json={"DeliveryExtraInfo": f"Státusz: {status}"}
    )
    assert answer.status_code == 200, answer.text
    assert order(sandbox_doc, order_id)["Project"]["DeliveryExtraInfo"] == f"Státusz: {status}"


def test_draft_order_modify_keeps_what_was_not_sent(sandbox_doc):
    created = new_order(sandbox_doc)
    order_id = created["Id"]
    changed = ok_json(
        sandbox_doc.post(f"/Api/Order/{order_id}", json={"CustomerId": 225, "Subject": "Új tárgy"})
    )
    assert changed["Subject"] == "Új tárgy"
    assert changed["Items"] == created["Items"]
    assert amounts(changed) == amounts(created)
