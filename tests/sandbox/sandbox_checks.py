"""Assertions and small builders shared by the sandbox's black-box tests."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import requests

R3 = "/Api/R3"
JSON_TYPE = "application/json;charset=utf-8"
TEXT_TYPE = "text/plain;charset=utf-8"
ERROR_LINE = re.compile(r"^(?P<entity>[A-Za-z]+) \((?P<method>[A-Z]+)\): (?P<message>.+)$")
ZERO_DATETIME = "0000-00-00 00:00:00"

DOC_CATEGORIES = {
    "10": "Értékesítés",
    "5": "Ügyfélszolgálat",
    "6": "Projektek",
    "7": "Megrendelés",
    "8": "Webshop",
    "9": "Számlázó",
    "3": "Partnerek",
}


def _content_type(answer: requests.Response) -> str:
    return answer.headers.get("Content-Type", "").replace(" ", "").lower()


def ok_json(answer: requests.Response, status: int = 200) -> Any:
    """The parsed body of a successful answer, checked against the contract's JSON shape."""
    assert answer.status_code == status, (
        f"{answer.request.method} {answer.url}: expected {status}, got {answer.status_code}: "
        f"{answer.text[:500]}"
    )
    assert _content_type(answer) == JSON_TYPE, answer.headers.get("Content-Type")
    assert answer.content.isascii(), "non-ASCII must be escaped as \\uXXXX"
    return answer.json()


def text_error(answer: requests.Response, status: int) -> str:
    """The message of a plain-text error answer (one line, not JSON)."""
    assert answer.status_code == status, (
        f"{answer.request.method} {answer.url}: expected {status}, got {answer.status_code}: "
        f"{answer.text[:500]}"
    )
    assert _content_type(answer) == TEXT_TYPE, answer.headers.get("Content-Type")
    message = answer.content.decode("utf-8").strip()
    assert message, "an error needs a message"
    assert "\n" not in message, f"one line expected: {message!r}"
    try:
        json.loads(message)
    except ValueError:
        pass
    else:
        raise AssertionError(f"error body must be plain text, not JSON: {message!r}")
    return message


def entity_error(answer: requests.Response, status: int, entity: str, method: str) -> str:
    """A plain-text error of the form `<Entity> (<METHOD>): <message>`; returns the message."""
    message = text_error(answer, status)
    match = ERROR_LINE.match(message)
    assert match, f"not '<Entity> (<METHOD>): <message>': {message!r}"
    assert (match["entity"], match["method"]) == (entity, method), message
    return match["message"]


def rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The `Results` of a Contact/Project/ProjectHistory search, keyed by id (empty may be [])."""
    assert set(body) >= {"Count", "Results"}, body
    results = body["Results"]
    if results == []:
        return {}
    assert isinstance(results, dict), f"Results must be an object keyed by id: {results!r}"
    for key, row in results.items():
        assert str(row["Id"]) == key, (key, row)
    return results


def result_ids(body: dict[str, Any]) -> set[int]:
    return {int(key) for key in rows(body)}


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def unique(prefix: str = "T") -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


def written_id(answer: requests.Response) -> int:
    """The id of a successful write, whose answer is exactly {"Id": N}."""
    body = ok_json(answer)
    assert set(body) == {"Id"}, body
    assert is_int(body["Id"]), body
    return int(body["Id"])


def new_business(sandbox: Any, name: str | None = None, **fields: Any) -> int:
    payload = {"Type": "Business", "Name": name or unique("Teszt Kft.")}
    payload.update(fields)
    return written_id(sandbox.put(f"{R3}/Contact/", json=payload))


def new_person(sandbox: Any, **fields: Any) -> int:
    payload = {"Type": "Person", "FirstName": unique("Tamás"), "LastName": "Próba"}
    payload.update(fields)
    return written_id(sandbox.put(f"{R3}/Contact/", json=payload))


def new_card(sandbox: Any, category_id: int, contact_id: int, **fields: Any) -> int:
    payload = {"CategoryId": category_id, "ContactId": contact_id, "Name": unique("Kártya")}
    payload.update(fields)
    return written_id(sandbox.put(f"{R3}/Project/", json=payload))


def project(sandbox: Any, project_id: int) -> dict[str, Any]:
    return ok_json(sandbox.get(f"{R3}/Project/{project_id}"))


def contact(sandbox: Any, contact_id: int) -> dict[str, Any]:
    return ok_json(sandbox.get(f"{R3}/Contact/{contact_id}"))


def search(sandbox: Any, entity: str, **params: Any) -> dict[str, Any]:
    body = ok_json(sandbox.get(f"{R3}/{entity}", params=params))
    rows(body)
    return body


def find_row(sandbox: Any, entity: str, row_id: int, **params: Any) -> dict[str, Any] | None:
    """The search row of one record, paging through a filtered search until it turns up."""
    page = 0
    while True:
        body = search(sandbox, entity, Page=page, **params)
        found = rows(body)
        if str(row_id) in found:
            return found[str(row_id)]
        if not found or (page + 1) * 100 >= body["Count"]:
            return None
        page += 1
