"""Webhooks: subscriptions, filters, the message shape and retries, against a real receiver."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sandbox_checks import R3, new_business, new_card, new_person, ok_json, unique, written_id

HOOK_USER, HOOK_PASSWORD = "hook", "s3cret"


@dataclass
class Received:
    path: str
    authorization: str
    body: dict[str, Any]
    at: float


class Receiver:
    """A webhook endpoint on 127.0.0.1: records every POST and answers the status it is told."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.plans: dict[str, list[int]] = {}
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"unparsable": raw.decode("utf-8", "replace")}
                expected = (
                    "Basic " + base64.b64encode(f"{HOOK_USER}:{HOOK_PASSWORD}".encode()).decode()
                )
                authorization = self.headers.get("Authorization", "")
                with receiver._changed:
                    plan = receiver.plans.get(self.path, [])
                    status = plan.pop(0) if plan else 200
                    if authorization != expected:
                        status = 401
                    receiver.received.append(Received(self.path, authorization, body, time.time()))
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        port = self.server.server_address[1]
        return f"http://{HOOK_USER}:{HOOK_PASSWORD}@127.0.0.1:{port}{path}"

    def _matching(self, path: str, ids: set[int] | None) -> list[Received]:
        return [
            entry
            for entry in self.received
            if entry.path == path
            and (ids is None or str(entry.body.get("Id")) in {str(i) for i in ids})
        ]

    def messages(self, path: str, ids: set[int] | None = None) -> list[Received]:
        """What arrived at `path` (about the records `ids` only, if given)."""
        with self._changed:
            return self._matching(path, ids)

    def wait_for(
        self, path: str, count: int, ids: set[int] | None = None, timeout: float = 10.0
    ) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self._matching(path, ids)
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="module")
def sandbox(module_sandbox_factory):
    """A doc sandbox with the retry schedule scaled by 0.01 (10 s becomes 0.1 s)."""
    return module_sandbox_factory("doc", webhook_time_scale=0.01)


@pytest.fixture
def subscribe(sandbox) -> Iterator[Any]:
    """Add subscriptions for one test; they are removed when it ends."""
    created: list[int] = []

    def add(**subscription: Any) -> dict[str, Any]:
        subscription.setdefault("CategoryId", None)
        subscription.setdefault("Fields", [])
        body = ok_json(sandbox.post("/_sandbox/webhooks", json=subscription))
        assert isinstance(body["Id"], int)
        created.append(body["Id"])
        return body

    yield add
    for hook_id in created:
        assert sandbox.delete(f"/_sandbox/webhooks/{hook_id}").status_code in (200, 204)


def attempts_of(sandbox: Any, hook_id: int, object_id: int) -> list[dict[str, Any]]:
    """Every delivery attempt of one subscription about one record, flattened."""
    found = []
    for delivery in ok_json(sandbox.get("/_sandbox/webhooks/deliveries")):
        subscription = next(
            (v for k, v in delivery.items() if "hook" in k.lower() or "subscription" in k.lower()),
            None,
        )
        message: dict[str, Any] = next(
            (v for k, v in delivery.items() if k.lower() == "message"), {}
        )
        if subscription != hook_id or str(message.get("Id")) != str(object_id):
            continue
        log = next((v for k, v in delivery.items() if k.lower() == "log"), None)
        if isinstance(log, list):
            found += log  # one row per delivery, with its attempts
        else:
            found.append(delivery)  # one row per attempt
    return found


def assert_message_shape(message: dict[str, Any], object_id: int, entity: str) -> None:
    assert set(message) >= {"Id", "Type", "Data", "Changed"}, message
    assert str(message["Id"]) == str(object_id)
    assert message["Type"] == entity
    assert isinstance(message["Changed"], list)
    for key, value in message["Data"].items():
        assert isinstance(value, str), (key, value)


# -- cards --------------------------------------------------------------------------------------


def test_card_update_is_posted_with_the_changed_fields(sandbox, receiver, subscribe):
    card = new_card(sandbox, 3, new_person(sandbox), StatusId=2538)
    hook = subscribe(Type="Project", ApiUrl=receiver.url("/card-update"))
    assert hook["Type"] == "Project"
    assert hook["Id"] in [entry["Id"] for entry in ok_json(sandbox.get("/_sandbox/webhooks"))]
    name = unique("Webhook név")
    sandbox.put(f"{R3}/Project/{card}", json={"Name": name}).raise_for_status()
    [message] = receiver.wait_for("/card-update", 1)
    assert message.authorization.startswith("Basic ")
    body = message.body
    assert_message_shape(body, card, "Project")
    assert "Name" in body["Changed"]
    assert "StatusId" not in body["Changed"]
    assert body["Data"]["Name"] == name
    assert body["Data"]["CategoryId"] == "3"
    assert body["Data"]["StatusId"] == "2538"


def test_card_create_is_posted(sandbox, receiver, subscribe):
    subscribe(Type="Project", CategoryId=3, ApiUrl=receiver.url("/card-create"))
    name = unique("Új kártya")
    card = new_card(sandbox, 3, new_person(sandbox), Name=name)
    [message] = receiver.wait_for("/card-create", 1)
    assert_message_shape(message.body, card, "Project")
    assert message.body["Data"]["Name"] == name


def test_fields_filter(sandbox, receiver, subscribe):
    card = new_card(sandbox, 3, new_person(sandbox), StatusId=2538)
    subscribe(Type="Project", CategoryId=3, Fields=["StatusId"], ApiUrl=receiver.url("/status"))
    sandbox.put(f"{R3}/Project/{card}", json={"Name": unique()}).raise_for_status()
    sandbox.put(f"{R3}/Project/{card}", json={"StatusId": 2540}).raise_for_status()
    receiver.wait_for("/status", 1, {card})
    time.sleep(0.5)  # room for a wrongly sent Name-only message to arrive too
    messages = receiver.messages("/status", {card})
    assert len(messages) == 1, [m.body for m in messages]
    assert "StatusId" in messages[0].body["Changed"]
    assert messages[0].body["Data"]["StatusId"] == "2540"


def test_category_filter(sandbox, receiver, subscribe):
    person = new_person(sandbox)
    sales_card = new_card(sandbox, 10, person)
    partner_card = new_card(sandbox, 3, person)
    subscribe(Type="Project", CategoryId=3, ApiUrl=receiver.url("/partners"))
    sandbox.put(f"{R3}/Project/{sales_card}", json={"Name": unique()}).raise_for_status()
    sandbox.put(f"{R3}/Project/{partner_card}", json={"Name": unique()}).raise_for_status()
    receiver.wait_for("/partners", 1, {sales_card, partner_card})
    time.sleep(0.5)
    messages = receiver.messages("/partners", {sales_card, partner_card})
    assert [str(m.body["Id"]) for m in messages] == [str(partner_card)]


def test_failed_delivery_is_retried_until_it_succeeds(sandbox, receiver, subscribe):
    card = new_card(sandbox, 3, new_person(sandbox))
    receiver.plans["/flaky"] = [500]
    hook = subscribe(Type="Project", CategoryId=3, ApiUrl=receiver.url("/flaky"))
    sandbox.put(f"{R3}/Project/{card}", json={"Name": unique()}).raise_for_status()
    first, second = receiver.wait_for("/flaky", 2, {card})
    assert first.body == second.body
    # The first retry is due 10 s after the first attempt, scaled by 0.01.
    assert second.at - first.at >= 0.08
    # A 200 ends the schedule: the next retry (1 min, scaled: 0.6 s) never comes.
    time.sleep(1.0)
    assert len(receiver.messages("/flaky", {card})) == 2
    attempts = attempts_of(sandbox, hook["Id"], card)
    statuses = [
        next(v for k, v in attempt.items() if "status" in k.lower() and k.lower() != "state")
        for attempt in attempts
    ]
    assert statuses == [500, 200]


def test_wrong_receiver_credentials_count_as_failure(sandbox, receiver, subscribe):
    card = new_card(sandbox, 3, new_person(sandbox))
    port = receiver.server.server_address[1]
    subscribe(Type="Project", CategoryId=3, ApiUrl=f"http://hook:wrong@127.0.0.1:{port}/wrong-pass")
    sandbox.put(f"{R3}/Project/{card}", json={"Name": unique()}).raise_for_status()
    # The receiver answers 401, so the sandbox tries again after the (scaled) 10 s.
    assert len(receiver.wait_for("/wrong-pass", 2, {card}, timeout=5)) == 2


def test_deleted_subscription_stops_deliveries(sandbox, receiver):
    card = new_card(sandbox, 3, new_person(sandbox))
    hook = ok_json(
        sandbox.post(
            "/_sandbox/webhooks",
            json={
                "Type": "Project",
                "CategoryId": 3,
                "Fields": [],
                "ApiUrl": receiver.url("/gone"),
            },
        )
    )
    assert sandbox.delete(f"/_sandbox/webhooks/{hook['Id']}").status_code in (200, 204)
    assert hook["Id"] not in [entry["Id"] for entry in ok_json(sandbox.get("/_sandbox/webhooks"))]
    sandbox.put(f"{R3}/Project/{card}", json={"Name": unique()}).raise_for_status()
    time.sleep(0.5)
    assert receiver.messages("/gone", {card}) == []


def test_retries_of_a_deleted_subscription_go_nowhere(sandbox, receiver):
    card = new_card(sandbox, 3, new_person(sandbox))
    receiver.plans["/dead"] = [500] * 10
    dead = ok_json(
        sandbox.post(
            "/_sandbox/webhooks",
            json={
                "Type": "Project",
                "CategoryId": 3,
                "Fields": [],
                "ApiUrl": receiver.url("/dead"),
            },
        )
    )
    sandbox.put(f"{R3}/Project/{card}", json={"Name": unique()}).raise_for_status()
    assert len(receiver.wait_for("/dead", 1, {card})) == 1
    assert sandbox.delete(f"/_sandbox/webhooks/{dead['Id']}").status_code in (200, 204)
    # A new subscription must not inherit the removed one's pending retries.
    fresh = ok_json(
        sandbox.post(
            "/_sandbox/webhooks",
            json={"Type": "Contact", "Fields": ["Nothing"], "ApiUrl": receiver.url("/fresh")},
        )
    )
    try:
        time.sleep(1.0)  # the removed subscription's retries were due after 0.1 s and 0.6 s
        assert receiver.messages("/fresh") == [], fresh
        assert len(receiver.messages("/dead", {card})) == 1
    finally:
        sandbox.delete(f"/_sandbox/webhooks/{fresh['Id']}")


def test_refused_write_sends_nothing(sandbox, receiver, subscribe):
    card = new_card(sandbox, 3, new_person(sandbox))
    subscribe(Type="Project", CategoryId=3, ApiUrl=receiver.url("/refused"))
    answer = sandbox.put(f"{R3}/Project/{card}", json={"Name": "x", "NoSuchField": 1})
    assert answer.status_code == 400
    sandbox.put(f"{R3}/Project/{card}", json={"Name": unique("Jó")}).raise_for_status()
    receiver.wait_for("/refused", 1, {card})
    time.sleep(0.3)
    messages = receiver.messages("/refused", {card})
    assert len(messages) == 1
    assert messages[0].body["Data"]["Name"].startswith("Jó")


# -- contacts -------------------------------------------------------------------------------------


def test_contact_subscription_fires_on_contact_changes(sandbox, receiver, subscribe):
    subscribe(Type="Contact", ApiUrl=receiver.url("/contacts"))
    business = new_business(sandbox)
    person = written_id(
        sandbox.put(f"{R3}/Contact/", json={"Type": "Person", "FirstName": "Webhook"})
    )
    sandbox.put(f"{R3}/Contact/{person}", json={"Email": "webhook@example.com"}).raise_for_status()
    messages = receiver.wait_for("/contacts", 3, {business, person})
    assert [str(m.body["Id"]) for m in messages] == [str(business), str(person), str(person)]
    for message in messages:
        assert_message_shape(message.body, int(message.body["Id"]), "Contact")
    update = messages[2].body
    assert "Email" in update["Changed"]
    assert "FirstName" not in update["Changed"]
    assert update["Data"]["Email"] == "webhook@example.com"


def test_contact_subscription_ignores_cards_and_vice_versa(sandbox, receiver, subscribe):
    person = new_person(sandbox)
    card = new_card(sandbox, 3, person)
    subscribe(Type="Contact", Fields=["Position"], ApiUrl=receiver.url("/positions"))
    subscribe(Type="Project", CategoryId=3, Fields=["UserId"], ApiUrl=receiver.url("/owners"))
    sandbox.put(f"{R3}/Project/{card}", json={"Name": unique()}).raise_for_status()
    sandbox.put(f"{R3}/Contact/{person}", json={"Position": "Igazgató"}).raise_for_status()
    sandbox.put(f"{R3}/Project/{card}", json={"UserId": 3200}).raise_for_status()
    [position] = receiver.wait_for("/positions", 1, {person})
    [owner] = receiver.wait_for("/owners", 1, {card})
    time.sleep(0.3)
    assert len(receiver.messages("/positions", {person})) == 1
    assert len(receiver.messages("/owners", {card})) == 1
    assert (position.body["Type"], str(position.body["Id"])) == ("Contact", str(person))
    assert (owner.body["Type"], str(owner.body["Id"])) == ("Project", str(card))
    assert owner.body["Data"]["UserId"] == "3200"


def test_bad_subscription_is_refused(sandbox):
    before = ok_json(sandbox.get("/_sandbox/webhooks"))
    for bad in (
        {"Type": "Invoice", "ApiUrl": "http://a:b@127.0.0.1:9/x"},
        {"Type": "Project"},
        {"Type": "Project", "ApiUrl": "not a url"},
        {"Type": "Project", "Fields": "StatusId", "ApiUrl": "http://a:b@127.0.0.1:9/x"},
    ):
        answer = sandbox.post("/_sandbox/webhooks", json=bad)
        assert 400 <= answer.status_code < 500, (bad, answer.status_code)
    assert ok_json(sandbox.get("/_sandbox/webhooks")) == before
