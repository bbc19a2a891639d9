"""Bad input never crashes the sandbox and never loses or changes stored data.

Every case sends one bad request, expects a plain-text 4xx, and then reads the records the
request aimed at: they must be exactly as before, and the sandbox must still answer.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sandbox_checks import R3, ok_json, result_ids, search, text_error

RECORDS = {
    "project": f"{R3}/Project/2056",
    "contact": f"{R3}/Contact/7506",
    "todo": f"{R3}/ToDo/1111",
    "order": "/Api/Order/44",
    "todos": f"{R3}/ToDoList/2001?Status=All",
    "history": f"{R3}/ProjectHistory/2056?Type=StatusHistory",
}


@pytest.fixture(scope="module")
def sandbox(module_sandbox_factory):
    """A doc sandbox of this module's own: the bad requests aim at its seeded records."""
    return module_sandbox_factory("doc")


@pytest.fixture
def snapshot(sandbox) -> dict[str, Any]:
    """The aimed-at records just before the test's bad request."""
    return {name: ok_json(sandbox.get(path)) for name, path in RECORDS.items()}


def assert_unchanged(sandbox: Any, snapshot: dict[str, Any]) -> None:
    for name, path in RECORDS.items():
        assert ok_json(sandbox.get(path)) == snapshot[name], f"{name} changed"
    assert requests.get(sandbox.url("/_sandbox/health"), timeout=10).status_code == 200


def send(sandbox: Any, method: str, path: str, body: Any) -> requests.Response:
    if isinstance(body, bytes):
        return sandbox.request(
            method, path, data=body, headers={"Content-Type": "application/json"}
        )
    if body is None:
        return sandbox.request(method, path)
    return sandbox.request(method, path, json=body)


BAD_BODIES = [
    # (id, method, path, body)
    ("project-malformed", "PUT", f"{R3}/Project/2056", b'{"Name": '),
    ("project-trailing-garbage", "PUT", f"{R3}/Project/2056", b'{"Name": "x"} y'),
    ("project-not-utf8", "PUT", f"{R3}/Project/2056", b'{"Name": "\xff\xfe"}'),
    ("project-array", "PUT", f"{R3}/Project/2056", [{"Name": "Tömb"}]),
    ("project-string", "PUT", f"{R3}/Project/2056", "Name"),
    ("project-number", "PUT", f"{R3}/Project/2056", 42),
    ("project-null", "PUT", f"{R3}/Project/2056", b"null"),
    ("project-unknown-field", "PUT", f"{R3}/Project/2056", {"Name": "Új", "NoSuchField": 1}),
    ("project-text-into-int", "PUT", f"{R3}/Project/2056", {"VarhatoArbevetel": "sok pénz"}),
    ("project-float-into-int", "PUT", f"{R3}/Project/2056", {"VarhatoArbevetel": "12.5.1"}),
    ("project-abc-into-datetime", "PUT", f"{R3}/Project/2056", {"KovetkezoHivasIdpontja": "abc"}),
    (
        "project-impossible-date",
        "PUT",
        f"{R3}/Project/2056",
        {"VarhatoLezarasDatuma": "2018-02-30 10:00:00"},
    ),
    ("project-object-into-text", "PUT", f"{R3}/Project/2056", {"Name": {"a": 1}}),
    ("project-list-into-text", "PUT", f"{R3}/Project/2056", {"Name": ["a", "b"]}),
    (
        "project-valid-and-invalid",
        "PUT",
        f"{R3}/Project/2056",
        {"Name": "Félig jó", "AutoSalesV3_Qualification": "Nincs ilyen"},
    ),
    ("project-unknown-status", "PUT", f"{R3}/Project/2056", {"StatusId": "Nincs ilyen"}),
    ("project-unknown-user", "PUT", f"{R3}/Project/2056", {"UserId": 99999}),
    ("project-unknown-contact", "PUT", f"{R3}/Project/2056", {"ContactId": 99999999}),
    ("contact-malformed", "PUT", f"{R3}/Contact/7506", b'{"Email": "x@example.com"'),
    ("contact-array", "PUT", f"{R3}/Contact/7506", [{"Email": "x@example.com"}]),
    ("contact-unknown-field", "PUT", f"{R3}/Contact/7506", {"Email": "x@y.hu", "Shoe": 42}),
    ("contact-bad-dropdown", "PUT", f"{R3}/Contact/7506", {"KedvencEtele": "Pizza"}),
    ("contact-type-change", "PUT", f"{R3}/Contact/7506", {"Type": "Business"}),
    ("contact-text-business", "PUT", f"{R3}/Contact/7506", {"BusinessId": "abc"}),
    ("contact-unknown-business", "PUT", f"{R3}/Contact/7506", {"BusinessId": 99999999}),
    ("contact-post-malformed", "POST", f"{R3}/Contact/7506", b"{'Email': 'x'}"),
    ("todo-malformed", "PUT", f"{R3}/ToDo/1111", b'{"Comment": "x",}'),
    ("todo-array", "PUT", f"{R3}/ToDo/1111", [{"Comment": "x"}]),
    ("todo-unknown-field", "PUT", f"{R3}/ToDo/1111", {"Comment": "x", "Priority": 1}),
    ("todo-abc-into-deadline", "PUT", f"{R3}/ToDo/1111", {"Deadline": "abc"}),
    ("todo-text-into-duration", "PUT", f"{R3}/ToDo/1111", {"Duration": "hosszú"}),
    ("todo-unknown-user", "PUT", f"{R3}/ToDo/1111", {"UserId": "Senki Sem"}),
    ("todo-bad-status", "PUT", f"{R3}/ToDo/1111", {"Status": "Talán"}),
    ("todo-project-change", "PUT", f"{R3}/ToDo/1111", {"ProjectId": 2056}),
    ("todo-create-malformed", "PUT", f"{R3}/ToDo/", b'{"ProjectId": 2001'),
    ("todo-create-array", "PUT", f"{R3}/ToDo/", [{"ProjectId": 2001}]),
    ("todo-create-abc-deadline", "PUT", f"{R3}/ToDo/", {"ProjectId": 2001, "Deadline": "abc"}),
    ("order-malformed", "POST", "/Api/Order/44", b'{"CustomerId": 225, "Subject": }'),
    ("order-array", "POST", "/Api/Order/44", [{"CustomerId": 225}]),
    ("order-unknown-field", "POST", "/Api/Order/44", {"CustomerId": 225, "Colour": "red"}),
    ("order-abc-performance", "POST", "/Api/Order/44", {"CustomerId": 225, "Performance": "abc"}),
    (
        "order-text-price",
        "POST",
        "/Api/Order/44",
        {"CustomerId": 225, "Items": [{"Id": 54, "PriceNet": "olcsó"}]},
    ),
    ("order-currency-change", "POST", "/Api/Order/44", {"CustomerId": 225, "CurrencyCode": "EUR"}),
    ("order-project-malformed", "POST", "/Api/Order/44/Project", b'{"DeliveryExtraInfo"'),
    ("order-project-unknown-field", "POST", "/Api/Order/44/Project", {"Nope": "x"}),
    ("order-create-malformed", "POST", "/Api/Order/", b'{"CustomerId": 225'),
    ("order-create-array", "POST", "/Api/Order/", [{"CustomerId": 225}]),
    ("contact-create-malformed", "PUT", f"{R3}/Contact/", b'{"Type": "Person"'),
    ("project-create-array", "PUT", f"{R3}/Project/", [{"CategoryId": 3, "ContactId": 7506}]),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [case[1:] for case in BAD_BODIES],
    ids=[case[0] for case in BAD_BODIES],
)
def test_bad_body_is_400_and_changes_nothing(sandbox, snapshot, method, path, body):
    text_error(send(sandbox, method, path, body), 400)
    assert_unchanged(sandbox, snapshot)


WRONG_METHODS = [
    ("DELETE", f"{R3}/Project/2056"),
    ("PATCH", f"{R3}/Project/2056"),
    ("DELETE", f"{R3}/Contact/7506"),
    ("DELETE", f"{R3}/PurgePerson/7507"),
    ("POST", f"{R3}/ToDo/1111"),
    ("POST", f"{R3}/ToDo/"),
    ("DELETE", f"{R3}/ToDo/1111"),
    ("PUT", f"{R3}/Category"),
    ("POST", f"{R3}/Schema/Person"),
    ("PUT", f"{R3}/ToDoList/2001"),
    ("POST", f"{R3}/ProjectHistory/2056/Type=StatusHistory"),
    ("PUT", "/Api/Order/44"),
    ("DELETE", "/Api/Order/44"),
    ("GET", "/Api/Order/"),
    ("PUT", "/Api/Order/"),
    ("GET", "/Api/Order/44/Project"),
    ("DELETE", "/Api/Order/44/Finalize"),
]


@pytest.mark.parametrize(
    ("method", "path"), WRONG_METHODS, ids=[f"{m} {p}" for m, p in WRONG_METHODS]
)
def test_wrong_method_is_405_and_changes_nothing(sandbox, snapshot, method, path):
    body = {"Name": "Rossz metódus"} if method in ("PUT", "POST", "PATCH") else None
    text_error(send(sandbox, method, path, body), 405)
    assert_unchanged(sandbox, snapshot)
    assert ok_json(sandbox.get(f"{R3}/Contact/7507"))["Id"] == 7507


NOT_FOUND = [
    ("GET", f"{R3}/Project/99999999", None),
    ("PUT", f"{R3}/Project/99999999", {"Name": "Senki"}),
    ("GET", f"{R3}/Contact/99999999", None),
    ("PUT", f"{R3}/Contact/99999999", {"Email": "senki@example.com"}),
    ("GET", f"{R3}/ToDo/99999999", None),
    ("PUT", f"{R3}/ToDo/99999999", {"Comment": "Senki"}),
    ("GET", f"{R3}/ToDoList/99999999", None),
    ("GET", f"{R3}/ProjectHistory/99999999?Type=StatusHistory", None),
    ("GET", f"{R3}/PurgePerson/99999999", None),
    ("GET", "/Api/Order/99999999", None),
    ("POST", "/Api/Order/99999999", {"CustomerId": 225, "Subject": "Senki"}),
    ("GET", "/Api/Order/44/DeleteItem/99999999", None),
    ("POST", "/Api/Order/99999999/Project", {"DeliveryExtraInfo": "Senki"}),
    ("GET", "/Api/Order/99999999/Finalize", None),
    ("GET", f"{R3}/Schema/Project/99999", None),
    ("GET", f"{R3}/Nothing/1", None),
    ("GET", "/Api/Order/44/Teleport", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), NOT_FOUND, ids=[f"{m} {p}" for m, p, _ in NOT_FOUND]
)
def test_unknown_id_or_path_is_404_and_changes_nothing(sandbox, snapshot, method, path, body):
    text_error(send(sandbox, method, path, body), 404)
    assert_unchanged(sandbox, snapshot)


HUGE = 10**25
HUGE_NOT_FOUND = [
    f"{R3}/Project/{HUGE}",
    f"{R3}/Contact/{HUGE}",
    f"{R3}/ToDo/{HUGE}",
    f"{R3}/ToDoList/{HUGE}",
    f"{R3}/ProjectHistory/{HUGE}?Type=StatusHistory",
    f"{R3}/PurgePerson/{HUGE}",
    f"/Api/Order/{HUGE}",
    f"/Api/Order/44/DeleteItem/{HUGE}",
]


@pytest.mark.parametrize("path", HUGE_NOT_FOUND)
def test_huge_id_in_path_is_404(sandbox, snapshot, path):
    text_error(sandbox.get(path), 404)
    assert_unchanged(sandbox, snapshot)


HUGE_BODIES = [
    ("PUT", f"{R3}/Project/2056", {"ContactId": HUGE}),
    ("PUT", f"{R3}/Project/2056", {"UserId": HUGE}),
    ("PUT", f"{R3}/Project/2056", {"StatusId": HUGE}),
    ("PUT", f"{R3}/Project/2056", {"AutoSalesV3_Qualification": HUGE}),
    ("PUT", f"{R3}/Contact/7506", {"BusinessId": HUGE}),
    ("PUT", f"{R3}/Contact/7506", {"KedvencEtele": HUGE}),
    ("PUT", f"{R3}/ToDo/", {"ProjectId": HUGE, "Comment": "x"}),
    ("POST", "/Api/Order/", {"CustomerId": HUGE}),
    ("POST", "/Api/Order/44", {"CustomerId": 225, "Items": [{"Id": HUGE, "Quantity": "1"}]}),
]


@pytest.mark.parametrize(("method", "path", "body"), HUGE_BODIES)
def test_huge_numbers_in_a_body_are_400(sandbox, snapshot, method, path, body):
    text_error(send(sandbox, method, path, body), 400)
    assert_unchanged(sandbox, snapshot)


@pytest.mark.parametrize(
    "query",
    [f"Project?CategoryId={HUGE}", f"Project?MainContactId={HUGE}", f"Contact?MainContactId={HUGE}",
     f"Project?Page={HUGE}", f"Contact?Page={HUGE}"],
)  # fmt: skip
def test_huge_numbers_in_a_search_do_not_crash(sandbox, query):
    answer = sandbox.get(f"{R3}/{query}")
    assert answer.status_code in (200, 400), (answer.status_code, answer.text)
    if answer.status_code == 200:
        body = ok_json(answer)
        assert body["Results"] in ({}, [])
    else:
        text_error(answer, 400)


BAD_PARAMETERS = [
    f"{R3}/Project?CategoryId=abc",
    f"{R3}/Project?Page=abc",
    f"{R3}/Project?Page=-1",
    f"{R3}/Project?MainContactId=7505&Colour=red",
    f"{R3}/Contact?MainContactId=abc",
    f"{R3}/Contact?UpdatedSince=yesterday",
    f"{R3}/Contact?Page=x",
    f"{R3}/Contact?Shoe=42",
    f"{R3}/ToDoList/2001?Status=Sometimes",
]


@pytest.mark.parametrize("path", BAD_PARAMETERS)
def test_bad_search_parameter_is_400(sandbox, path):
    text_error(sandbox.get(path), 400)
    assert ok_json(sandbox.get(f"{R3}/Category"))


def test_server_still_answers_after_a_burst_of_garbage(sandbox, snapshot):
    garbage = [b"{", b"[]", b"\x00\x01\x02", b'{"a":' * 200, b"[" * 50_000, b"x" * 100_000]
    for body in garbage:
        for path in (f"{R3}/Project/2056", f"{R3}/Contact/7506", f"{R3}/ToDo/1111"):
            answer = sandbox.request(
                "PUT", path, data=body, headers={"Content-Type": "application/json"}
            )
            assert 400 <= answer.status_code < 500, (body[:20], path, answer.status_code)
    assert_unchanged(sandbox, snapshot)
    assert 7506 in result_ids(search(sandbox, "Contact", Email="norbert@minicrm.hu"))
