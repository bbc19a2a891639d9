"""End to end with real parts: the console on the live server, a private sandbox that POSTs
real webhooks to it on MiniCRM's retry schedule (scaled down), a private Redis and a real
`celery worker -B` sharing the test database.

A handler saved in the dashboard subscribes itself with the sandbox; a change made in the
console comes back as a webhook, is stored and processed by the worker; a receiver that fails
is retried by the sandbox until it answers 200; forwards and failing actions are retried by
the worker; and a loop that the save-time check cannot see stops at the echo guard.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django.fixtures import Settings

from apps.webhooks.models import Event, Handler
from apps.webhooks.services import sandbox_register
from apps.writes.models import Write
from tests.viewsupport import dom, form_data, logged_in, messages_of
from tests.webhooks.automations import break_sync, runs
from tests.webhooks.support import (
    PASSWORD,
    RECORDER,
    ExternalServer,
    eventually,
    make_handler,
)
from tests.writes.conftest import QueueRig

RETRY_OFFSETS = (10, 60, 300, 900, 1800, 3600)  # MiniCRM's, in seconds from the first try


def deliveries(rig: QueueRig) -> list[dict[str, Any]]:
    answer = rig.sandbox.get("/_sandbox/webhooks/deliveries")
    answer.raise_for_status()
    return list(answer.json())


def subscriptions(rig: QueueRig) -> list[dict[str, Any]]:
    answer = rig.sandbox.get("/_sandbox/webhooks")
    answer.raise_for_status()
    return list(answer.json())


def settled_events(status: str = Event.Status.PROCESSED, count: int = 1) -> list[Event]:
    """Wait until `count` events have `status`, then return them."""
    eventually(lambda: Event.objects.filter(status=status).count() >= count, timeout=60)
    return list(Event.objects.filter(status=status).order_by("id"))


def change_status_in_console(user: User, status_id: int, card_id: int = 2056) -> None:
    """A person clicks a status button on the card page."""
    client = logged_in(Client(), user)
    answer = client.post(f"/cards/{card_id}/status/", {"status": str(status_id)})
    assert answer.status_code == 302, answer.content[:500]


# -- subscribing and receiving ----------------------------------------------------------------


def test_a_handler_saved_in_the_dashboard_gets_the_changes_made_in_the_console(
    hooks_rig: QueueRig, admin_account: User, staff_user: User
) -> None:
    hooks_rig.start_worker()
    admin = logged_in(Client(), admin_account)
    form = form_data(
        dom(admin.get("/webhooks/add/")).find("form", class_="schema-form"),
        name="Státusz",
        slug="statusz",
        type="Project",
        category_id="10",
        fields_text="StatusId",
        **{"actions-0-kind": "python", "actions-0-path": RECORDER},
    )

    saved = admin.post("/webhooks/add/", form, follow=True)

    handler = Handler.objects.get()
    assert "The sandbox now sends this handler its webhooks." in messages_of(saved)
    shown_once = dom(saved).by_id("helpdesk-request").text.split("ApiUrl: ")[1]
    [subscription] = subscriptions(hooks_rig)
    assert {k: v for k, v in subscription.items() if k != "Id"} == {
        "Type": "Project",
        "CategoryId": 10,
        "Fields": ["StatusId"],
        "ApiUrl": shown_once,
    }

    # Saved again with another filter: the subscription is replaced, not doubled.
    change = f"/webhooks/{handler.pk}/change/"
    edited = form_data(
        dom(admin.get(change)).find("form", class_="schema-form"), fields_text="StatusId, UserId"
    )
    assert admin.post(change, edited).status_code == 302
    assert [(s["Fields"], s["ApiUrl"]) for s in subscriptions(hooks_rig)] == [
        (["StatusId", "UserId"], shown_once)
    ]

    change_status_in_console(staff_user, 2623)  # Sikeres

    [event] = settled_events()
    assert event.handler == handler
    assert event.message and event.message["Data"]["StatusId"] == "2623"
    assert event.changed == ["StatusId", "UpdatedAt"]
    assert "Authorization" not in event.headers
    assert event.headers["Content-Type"] == "application/json"
    assert runs() == {event.pk: 1}
    assert event.results[0]["result"] == repr(
        {"card": "2056", "changed": ["StatusId", "UpdatedAt"]}
    )
    [delivery] = deliveries(hooks_rig)
    assert (delivery["State"], [e["status"] for e in delivery["Log"]]) == ("delivered", [200])
    assert Write.objects.get().requested_by == staff_user


@pytest.mark.parametrize("rig_sandbox_options", [{"webhook_time_scale": 0.05}])
def test_a_failing_receiver_is_retried_by_minicrm_s_schedule_until_it_answers_200(
    hooks_rig: QueueRig, settings: Settings
) -> None:
    hooks_rig.start_worker()
    handler = make_handler()
    assert sandbox_register(handler=handler, password=PASSWORD)
    settings.WEBHOOK_MAX_BODY = 10  # every message is "too large": 413

    hooks_rig.sandbox.put("/Api/R3/Project/2056", json={"StatusId": "Sikeres"}).raise_for_status()
    eventually(lambda: len(deliveries(hooks_rig)[0]["Log"]) >= 2, timeout=20, interval=0.05)
    settings.WEBHOOK_MAX_BODY = 1024 * 1024  # fixed before the third try (3 s after the first)

    eventually(lambda: deliveries(hooks_rig)[0]["State"] == "delivered", timeout=30)
    [delivery] = deliveries(hooks_rig)
    statuses = [entry["status"] for entry in delivery["Log"]]
    assert statuses[-1] == 200
    assert statuses[:-1] == [413] * (len(statuses) - 1) and len(statuses) >= 3
    first = delivery["Log"][0]["at"]
    for entry, offset in zip(delivery["Log"][1:], RETRY_OFFSETS, strict=False):
        assert entry["at"] - first == pytest.approx(offset * 0.05, abs=0.4)
    # Only the delivery answered 200 was stored, and it was processed.
    [event] = settled_events()
    assert event.message == delivery["Message"]
    assert Event.objects.count() == 1
    assert runs() == {event.pk: 1}


# -- actions with a worker --------------------------------------------------------------------


def test_a_forward_answered_500_is_retried_by_the_worker_and_both_tries_are_logged(
    hooks_rig: QueueRig, external: ExternalServer
) -> None:
    hooks_rig.env["WEBHOOK_FORWARD_ALLOW_PRIVATE"] = "1"  # the external system is on 127.0.0.1
    hooks_rig.start_worker()
    external.statuses = [500]
    handler = make_handler(
        actions=[("forward", {"url": external.url}), ("python", {"path": RECORDER})]
    )
    assert sandbox_register(handler=handler, password=PASSWORD)

    hooks_rig.sandbox.put("/Api/R3/Project/2056", json={"StatusId": "Sikeres"}).raise_for_status()

    eventually(lambda: len(external.received) >= 2, timeout=30)
    [event] = settled_events()
    assert [body for _at, body, _headers in external.received] == [event.body.encode()] * 2
    results = eventually(
        lambda: (r := Event.objects.get(pk=event.pk).results) and len(r) == 4 and r, timeout=10
    )
    assert [r.get("action") for r in results[:2]] == [
        "forward",
        "python",
    ]
    assert [r["forward"]["status"] for r in results[2:]] == [500, 200]
    time.sleep(1)
    assert len(external.received) == 2  # nothing more once it was taken


def test_a_failing_action_is_retried_by_the_worker_after_its_backoff(hooks_rig: QueueRig) -> None:
    hooks_rig.start_worker()
    break_sync(True)
    handler = make_handler(actions=[("python", {"path": "tests.webhooks.automations.sync_to_erp"})])
    assert sandbox_register(handler=handler, password=PASSWORD)

    hooks_rig.sandbox.put("/Api/R3/Project/2056", json={"StatusId": "Sikeres"}).raise_for_status()
    failed_once = eventually(
        lambda: Event.objects.filter(attempts=1, last_error__startswith="ConnectionError").first()
    )
    assert failed_once.status == Event.Status.RECEIVED
    assert "sync_to_erp" in failed_once.traceback
    break_sync(False)

    [event] = settled_events()
    assert event.attempts == 2
    assert (event.processed_at - failed_once.next_attempt_at).total_seconds() >= -0.5
    assert runs() == {event.pk: 2}


# -- the loop guard with real webhooks --------------------------------------------------------


@pytest.mark.slow
def test_a_loop_of_automations_stops_after_one_change_by_a_person(
    hooks_rig: QueueRig, staff_user: User
) -> None:
    """One handler sets ReferenceId when the status changes (allowed: it does not watch
    ReferenceId); another, a custom automation, stamps ReferenceId on any change. Together
    they would write to the card for ever; the echo guard stops them after one round."""
    hooks_rig.start_worker()
    on_status = make_handler(
        name="Status -> reference",
        actions=[("set_fields", {"values": {"ReferenceId": "státusz változott"}})],
    )
    stamper = make_handler(
        name="Stamp on any change",
        slug="stamp",
        fields=[],
        actions=[("python", {"path": "tests.webhooks.automations.stamp_reference"})],
    )
    assert sandbox_register(handler=on_status, password=PASSWORD) and sandbox_register(
        handler=stamper, password=PASSWORD
    )

    change_status_in_console(staff_user, 2623)

    def counts() -> tuple[int, int, int]:
        return (
            Event.objects.count(),
            Write.objects.count(),
            len(deliveries(hooks_rig)),
        )

    # Settled: nothing pending and the same counts for 10 s.
    eventually(lambda: Event.objects.count() >= 2, timeout=30)
    stable_since, last = time.monotonic(), counts()
    deadline = time.monotonic() + 60
    while time.monotonic() - stable_since < 10:
        assert time.monotonic() < deadline, f"still growing: {counts()}"
        time.sleep(0.5)
        now = counts()
        busy = Write.objects.filter(state__in=Write.PENDING_STATES).exists() or (
            Event.objects.filter(status=Event.Status.RECEIVED).exists()
        )
        if now != last or busy:
            stable_since, last = time.monotonic(), now

    events = Counter((e.handler.name, e.status) for e in Event.objects.select_related("handler"))
    assert events == {
        ("Status -> reference", Event.Status.PROCESSED): 1,
        ("Stamp on any change", Event.Status.PROCESSED): 1,
        ("Stamp on any change", Event.Status.ECHO): 2,  # the two ReferenceId writes
    }
    writes = list(Write.objects.order_by("id"))
    assert [w.state for w in writes] == [Write.State.DONE] * 3
    assert writes[0].requested_by == staff_user
    assert {w.requested_by for w in writes[1:]} == {None}
    assert [d["State"] for d in deliveries(hooks_rig)] == ["delivered"] * 4
