"""ProjectHistory (status history) and the to-do endpoints: ToDoList, ToDo detail and writes."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox_checks import (
    R3,
    ZERO_DATETIME,
    entity_error,
    new_card,
    new_person,
    ok_json,
    text_error,
    unique,
    written_id,
)

HISTORY_29592 = {
    "Count": "1",
    "Results": {
        "30027": {
            "Id": "30027",
            "ProjectId": "29592",
            "Type": "StatusHistory",
            "UserId": "53986",
            "ClosedAt": "2018-07-18 01:44:20",
            "Status_Old_Id": "",
            "Status_New_Id": "2876",
            "Status_Old_Name": "",
            "Status_New_Name": "Ügyfélminősítés",
        }
    },
}
TODO_ROWS_2001 = [
    {
        "Id": "1111",
        "Status": "Open",
        "Comment": "Felhívni és megkérdezni sikerült-e dönteni, van-e még valamilyen kérdése a "
        "termékről.",
        "Deadline": "2012-01-17 23:59:00",
        "UserId": "3200",
        "Type": "0",
    },
    {
        "Id": "2222",
        "Status": "Open",
        "Comment": "Történt valami előrelépés?",
        "Deadline": "2013-01-22 23:59:00",
        "UserId": "3300",
        "Type": "1566",
    },
]
TODO_1111 = {
    "Id": 1111,
    "UserId": "Keszei Csaba",
    "ContactId": 0,
    "ProjectId": 2001,
    "Type": "",
    "Duration": 0,
    "Reminder": 0,
    "Status": "Open",
    "Mode": "Teendő",
    "Deadline": "2012-01-17 23:59:00",
    "Comment": TODO_ROWS_2001[0]["Comment"],
    "Attachments": {
        "FileName": "szerzodes.pdf",
        "Url": "http://cdn.minicrm.hu/doc/2013/04-25/A/Q/AQFwQq7Os0kE5ykH_GSJfg-1",
    },
    "CreatedAt": "2012-01-17 00:01:59",
    "ClosedBy": "Keszei Csaba",
    "ClosedAt": ZERO_DATETIME,
    "AddressId": 3,
    "Members": [{"Entity": "Contact", "EntityId": "6"}],
    "Notes": [
        {
            "Comment": "Nem sikerült elérnem",
            "CreatedBy": "54726",
            "CreatedAt": "2012-01-17 12:48:17",
        }
    ],
}


def todo_list(sandbox: Any, project_id: int, **params: Any) -> dict[str, Any]:
    body = ok_json(sandbox.get(f"{R3}/ToDoList/{project_id}", params=params))
    assert set(body) == {"Count", "Results"}, body
    assert isinstance(body["Results"], list), "ToDoList Results must be an array"
    assert int(body["Count"]) == len(body["Results"])
    for row in body["Results"]:
        for key in ("Id", "UserId", "Type"):
            assert isinstance(row[key], str), (key, row)
        assert row["Url"].endswith(f"/Api/R3/ToDo/{row['Id']}"), row
    return body


def todo(sandbox: Any, todo_id: int) -> dict[str, Any]:
    return ok_json(sandbox.get(f"{R3}/ToDo/{todo_id}"))


@pytest.fixture
def own_card(sandbox_doc) -> int:
    """A fresh card of this test's own, so to-do lists start empty."""
    return new_card(sandbox_doc, 10, new_person(sandbox_doc))


# -- status history --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"{R3}/ProjectHistory/29592?Type=StatusHistory",
        f"{R3}/ProjectHistory/29592/Type=StatusHistory",
        f"/12345{R3}/ProjectHistory/29592/Type=StatusHistory",
        f"/12345{R3}/ProjectHistory/29592?Type=StatusHistory",
    ],
)
def test_status_history_like_the_document(sandbox_doc, path):
    assert ok_json(sandbox_doc.get(path)) == HISTORY_29592


def test_status_history_of_unknown_card_is_404(sandbox_doc):
    text_error(sandbox_doc.get(f"{R3}/ProjectHistory/99999999?Type=StatusHistory"), 404)


# -- the document's to-dos -------------------------------------------------------------------


def test_todo_list_like_the_document(sandbox_doc):
    body = todo_list(sandbox_doc, 2001)
    assert int(body["Count"]) == 2
    assert [{k: row[k] for k in TODO_ROWS_2001[0]} for row in body["Results"]] == TODO_ROWS_2001


def test_todo_detail_like_the_document(sandbox_doc):
    body = todo(sandbox_doc, 1111)
    assert {key: body.get(key) for key in TODO_1111} == TODO_1111


def test_todo_list_and_detail_of_unknown_ids_are_404(sandbox_doc):
    text_error(sandbox_doc.get(f"{R3}/ToDo/99999999"), 404)
    text_error(sandbox_doc.get(f"{R3}/ToDoList/99999999"), 404)


def test_create_and_modify_todo_like_the_document(sandbox_factory):
    sandbox = sandbox_factory("doc")
    answer = sandbox.curl(
        "PUT",
        f"{R3}/ToDo/",
        '{"ProjectId": 2001, "UserId": "Keszei Csaba", "Comment": "Teendő szövege", '
        '"Deadline": "2019-07-25 13:30:00"}',
    )
    created = written_id(answer)
    assert created not in (1111, 2222)
    body = todo(sandbox, created)
    assert (body["ProjectId"], body["UserId"], body["Status"]) == (2001, "Keszei Csaba", "Open")
    assert (body["Comment"], body["Deadline"]) == ("Teendő szövege", "2019-07-25 13:30:00")
    assert body["ClosedAt"] == ZERO_DATETIME
    listed = {row["Id"]: row for row in todo_list(sandbox, 2001)["Results"]}
    assert set(listed) == {"1111", "2222", str(created)}
    assert listed[str(created)]["UserId"] == "3200"
    assert listed[str(created)]["Comment"] == "Teendő szövege"

    answer = sandbox.curl(
        "PUT",
        f"{R3}/ToDo/{created}",
        '{"Comment": "Módosított teendő szövege", "Deadline": "2019-08-25 13:30:00"}',
    )
    assert ok_json(answer) == {"Id": created}
    body = todo(sandbox, created)
    assert (body["Comment"], body["Deadline"]) == (
        "Módosított teendő szövege",
        "2019-08-25 13:30:00",
    )
    assert (body["ProjectId"], body["UserId"]) == (2001, "Keszei Csaba")


# -- to-do semantics ---------------------------------------------------------------------------


def test_todo_create_needs_a_project(sandbox_doc, own_card):
    comment = unique("Árva teendő")
    text_error(sandbox_doc.put(f"{R3}/ToDo/", json={"Comment": comment}), 400)
    text_error(
        sandbox_doc.put(f"{R3}/ToDo/", json={"ProjectId": 99999999, "Comment": comment}), 400
    )
    assert todo_list(sandbox_doc, own_card, Status="All")["Results"] == []


def test_todo_create_with_post_is_405(sandbox_doc, own_card):
    answer = sandbox_doc.post(f"{R3}/ToDo/", json={"ProjectId": own_card, "Comment": "x"})
    assert text_error(answer, 405) == "ToDo (POST): A metódus nem engedélyezett!"
    assert todo_list(sandbox_doc, own_card, Status="All")["Results"] == []


def test_todo_user_accepts_name_or_id(sandbox_doc, own_card):
    by_name = written_id(
        sandbox_doc.put(
            f"{R3}/ToDo/", json={"ProjectId": own_card, "UserId": "Keszei Csaba", "Comment": "a"}
        )
    )
    by_id = written_id(
        sandbox_doc.put(
            f"{R3}/ToDo/", json={"ProjectId": own_card, "UserId": 22404, "Comment": "b"}
        )
    )
    assert todo(sandbox_doc, by_name)["UserId"] == "Keszei Csaba"
    assert todo(sandbox_doc, by_id)["UserId"] == "Leskó Norbert"
    listed = {row["Id"]: row["UserId"] for row in todo_list(sandbox_doc, own_card)["Results"]}
    assert listed == {str(by_name): "3200", str(by_id): "22404"}


@pytest.mark.parametrize(
    "change",
    [
        {"ProjectId": 2001},
        {"Members": [{"Entity": "Contact", "EntityId": "7506"}]},
        {"Notes": [{"Comment": "Új jegyzet"}]},
        {"Comment": "Ezt sem szabad", "ProjectId": 2001},
    ],
    ids=["ProjectId", "Members", "Notes", "with-other-fields"],
)
def test_todo_update_refuses_fixed_fields(sandbox_doc, own_card, change):
    created = written_id(
        sandbox_doc.put(f"{R3}/ToDo/", json={"ProjectId": own_card, "Comment": "Eredeti"})
    )
    before = todo(sandbox_doc, created)
    text_error(sandbox_doc.put(f"{R3}/ToDo/{created}", json=change), 400)
    assert todo(sandbox_doc, created) == before


def test_closing_a_todo_and_listing_by_status(sandbox_doc, own_card):
    first = written_id(
        sandbox_doc.put(f"{R3}/ToDo/", json={"ProjectId": own_card, "Comment": "Lezárandó"})
    )
    second = written_id(
        sandbox_doc.put(f"{R3}/ToDo/", json={"ProjectId": own_card, "Comment": "Nyitott"})
    )

    def ids(status: str | None) -> list[str]:
        params = {"Status": status} if status else {}
        return [row["Id"] for row in todo_list(sandbox_doc, own_card, **params)["Results"]]

    assert sorted(ids(None)) == sorted(ids("Open")) == sorted([str(first), str(second)])
    assert ids("Closed") == []
    assert ok_json(sandbox_doc.put(f"{R3}/ToDo/{first}", json={"Status": "Closed"})) == {
        "Id": first
    }
    closed = todo(sandbox_doc, first)
    assert closed["Status"] == "Closed"
    assert closed["ClosedAt"] not in ("", ZERO_DATETIME)
    assert ids(None) == ids("Open") == [str(second)]
    assert ids("Closed") == [str(first)]
    assert sorted(ids("All")) == sorted([str(first), str(second)])
    rows = todo_list(sandbox_doc, own_card, Status="All")["Results"]
    assert {row["Id"]: row["Status"] for row in rows} == {
        str(first): "Closed",
        str(second): "Open",
    }


def test_closed_todo_cannot_be_modified(sandbox_doc, own_card):
    created = written_id(
        sandbox_doc.put(f"{R3}/ToDo/", json={"ProjectId": own_card, "Comment": "Kész"})
    )
    sandbox_doc.put(
        f"{R3}/ToDo/{created}", json={"Status": "Closed", "ClosedAt": "2024-05-06 07:08:09"}
    ).raise_for_status()
    closed = todo(sandbox_doc, created)
    assert closed["ClosedAt"] == "2024-05-06 07:08:09"
    for change in ({"Comment": "Mégis"}, {"Status": "Open"}, {"Deadline": "2030-01-01 10:00:00"}):
        text_error(sandbox_doc.put(f"{R3}/ToDo/{created}", json=change), 400)
    assert todo(sandbox_doc, created) == closed


def test_todo_list_with_unknown_status_is_400(sandbox_doc, own_card):
    text_error(sandbox_doc.get(f"{R3}/ToDoList/{own_card}", params={"Status": "Maybe"}), 400)


def test_todo_update_with_unknown_field_is_400(sandbox_doc, own_card):
    created = written_id(
        sandbox_doc.put(f"{R3}/ToDo/", json={"ProjectId": own_card, "Comment": "Ismeretlen"})
    )
    before = todo(sandbox_doc, created)
    answer = sandbox_doc.put(f"{R3}/ToDo/{created}", json={"Comment": "x", "Color": "red"})
    entity_error(answer, 400, "ToDo", "PUT")
    assert todo(sandbox_doc, created) == before
