"""The demo seed: big and varied enough to develop against, and the same on every start."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import requests
from sandbox_checks import R3, ok_json, rows

SIMPLE_TYPES = {
    "Int": re.compile(r"^Int$"),
    "Float": re.compile(r"^Float$"),
    "Text(n)": re.compile(r"^Text\(\d+\)$"),
    "Date": re.compile(r"^Date$"),
    "DateTime": re.compile(r"^DateTime$"),
    "Boolean": re.compile(r"^Boolean$"),
    "File": re.compile(r"^File(\(\w+\))?$"),
}
ORDER_STATUSES = {"Draft", "In progress", "Completed", "Paid", "Failed"}


def test_demo_health_names_the_seed(sandbox_demo):
    answer = requests.get(sandbox_demo.url("/_sandbox/health"), timeout=10)
    assert answer.json() == {"status": "ok", "system_id": "12345", "seed": "demo"}


def test_demo_has_five_modules_with_their_own_statuses(sandbox_demo, demo_categories):
    assert len(demo_categories) >= 5
    assert all(name.strip() for name in demo_categories.values())
    seen: dict[int, str] = {}
    for category in demo_categories:
        body = ok_json(sandbox_demo.get(f"{R3}/Project", params={"CategoryId": category}))
        statuses = {row["StatusId"] for row in rows(body).values()}
        assert statuses, f"module {category} has no cards"
        for status in statuses:
            assert seen.setdefault(status, category) == category, (
                f"status {status} used by modules {seen[status]} and {category}"
            )


def test_demo_has_custom_fields_of_every_type(demo_schemas):
    kinds: set[str] = set()
    for schema in demo_schemas.values():
        for kind in schema.values():
            if isinstance(kind, dict):
                ids = [int(key) for key in kind]
                is_multi = len(ids) >= 3 and all(i > 0 and i & (i - 1) == 0 for i in ids)
                kinds.add("multi-select" if is_multi else "dropdown")
                continue
            kinds |= {name for name, pattern in SIMPLE_TYPES.items() if pattern.match(kind)}
    assert kinds >= {*SIMPLE_TYPES, "dropdown", "multi-select"}, kinds
    # Each module has fields of its own.
    shared = set.intersection(*(set(schema) for schema in demo_schemas.values()))
    for category, schema in demo_schemas.items():
        assert set(schema) - shared, f"module {category} has no custom fields of its own"


def test_demo_has_enough_contacts_with_hungarian_names(demo_contact_pages):
    contacts = [row for page in demo_contact_pages for row in rows(page).values()]
    types = Counter(row["Type"] for row in contacts)
    assert types["Business"] >= 1000, types
    assert types["Person"] >= 1000, types
    accented = [row["Name"] for row in contacts if re.search(r"[áéíóöőúüűÁÉÍÓÖŐÚÜŰ]", row["Name"])]
    assert len(accented) >= len(contacts) // 10, accented[:5]
    assert all(row["Name"].strip() for row in contacts)


def test_demo_has_enough_cards(demo_card_counts):
    assert sum(demo_card_counts.values()) >= 5000, demo_card_counts


def test_demo_has_open_and_closed_todos(sandbox_demo, demo_categories):
    statuses: set[str] = set()
    checked = 0
    for category in demo_categories:
        body = ok_json(sandbox_demo.get(f"{R3}/Project", params={"CategoryId": category}))
        for card in list(rows(body))[:15]:
            todos = ok_json(sandbox_demo.get(f"{R3}/ToDoList/{card}", params={"Status": "All"}))
            statuses |= {todo["Status"] for todo in todos["Results"]}
            checked += 1
            if statuses >= {"Open", "Closed"}:
                return
    raise AssertionError(f"only {statuses} to-dos on the first {checked} cards of the modules")


def test_demo_has_orders_in_every_status(sandbox_factory):
    # Orders cannot be listed; a new order's id is one past the largest, so walk down from it.
    sandbox = sandbox_factory("demo")
    customer = next(iter(rows(ok_json(sandbox.get(f"{R3}/Contact")))))
    newest = ok_json(sandbox.post("/Api/Order/", json={"CustomerId": customer, "Items": []}))
    statuses: set[str] = set()
    found = 0
    for order_id in range(int(newest["Id"]) - 1, max(0, int(newest["Id"]) - 501), -1):
        answer = sandbox.get(f"/Api/Order/{order_id}")
        if answer.status_code == 404:
            continue
        found += 1
        statuses.add(ok_json(answer)["Status"])
        if statuses >= ORDER_STATUSES:
            return
    raise AssertionError(f"{found} orders below {newest['Id']} have only the statuses {statuses}")


def _normalised(sandbox: Any, path: str, **params: Any) -> str:
    answer = sandbox.get(path, params=params)
    ok_json(answer)
    return answer.text.replace(sandbox.base_url.replace("/", "\\/"), "BASE").replace(
        sandbox.base_url, "BASE"
    )


def test_demo_seed_is_deterministic(sandbox_demo, sandbox_factory, demo_categories):
    other = sandbox_factory("demo")
    assert other.data_file != sandbox_demo.data_file
    first_category = sorted(demo_categories, key=int)[0]
    for path, params in (
        (f"{R3}/Category", {}),
        (f"{R3}/Contact", {}),
        (f"{R3}/Project", {"CategoryId": first_category}),
        (f"{R3}/Schema/Project/{first_category}", {}),
        (f"{R3}/Schema/Person", {}),
    ):
        assert _normalised(other, path, **params) == _normalised(sandbox_demo, path, **params), path
