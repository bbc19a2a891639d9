"""Processing a stored event in this process (`event_process`, as the Celery task does): the
console's cached view is refreshed always, filters, each kind of action, failures kept with
their traceback and retried with backoff, parking after MAX_ATTEMPTS, and replay.

No worker runs: actions that write to MiniCRM leave a queued write, which the test sends with
`write_send`; tasks a retry schedules land in the private Redis (the broker here).
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
from django.db import connection, connections, transaction
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.cards.selectors import card_get
from apps.core.readcache import _key
from apps.webhooks.models import Event, Handler
from apps.webhooks.services import (
    MAX_ATTEMPTS,
    event_forward,
    event_process,
    event_receive,
    event_replay,
)
from apps.webhooks.tasks import forward_event
from apps.writes.models import Write
from apps.writes.services import write_send
from tests.webhooks.automations import break_sync, runs
from tests.webhooks.support import (
    RECORDER,
    ExternalServer,
    card_message,
    contact_message,
    make_handler,
)
from tests.writes.support import Crm

pytestmark = pytest.mark.django_db

PROCESS_TASK = "apps.webhooks.tasks.process_event"
FORWARD_TASK = "apps.webhooks.tasks.forward_event"


def receive(handler: Handler, message: dict[str, Any]) -> Event:
    received = event_receive(
        handler=handler, body=json.dumps(message).encode(), headers={"X-Test": "1"}
    )
    assert received.status_code == 200
    return received.event


def reload(event: Event) -> Event:
    return Event.objects.get(pk=event.pk)


def queued(connection: redis.Redis) -> list[tuple[str, list[Any], Any]]:
    """The Celery messages waiting in the broker: (task name, args, eta)."""
    found = []
    for raw in connection.lrange("celery", 0, -1):
        message = json.loads(raw)
        args = json.loads(__import__("base64").b64decode(message["body"]))[0]
        found.append((message["headers"]["task"], args, message["headers"].get("eta")))
    return found


# -- refresh and filters ----------------------------------------------------------------------


def test_processing_forgets_the_console_s_cached_view_of_the_card(
    crm: Crm, settings: Settings
) -> None:
    settings.MIRROR_ENABLED = False  # the mirror's copy is updated instead (tests/mirror)
    assert card_get(card_id=2056).fields["StatusId"] == "Feldolgozásra vár"
    assert crm.redis.exists(_key("project", 2056))
    crm.put("/Api/R3/Project/2056", {"StatusId": "Sikeres"})  # changed in MiniCRM
    event = receive(make_handler(), card_message(StatusId="2623"))

    assert event_process(event.pk) == Event.Status.PROCESSED

    assert not crm.redis.exists(_key("project", 2056))
    crm.clear_log()
    assert card_get(card_id=2056).fields["StatusId"] == "Sikeres"
    assert ("GET", "/Api/R3/Project/2056", 200) in crm.requests("GET")


def test_a_filtered_event_refreshes_the_card_too_but_runs_no_action(
    console_redis: redis.Redis,
) -> None:
    console_redis.set(_key("project", 2056), json.dumps({"Id": 2056}))
    event = receive(make_handler(fields=["StatusId"]), card_message(changed=["Name"]))

    assert event_process(event.pk) == Event.Status.FILTERED

    assert not console_redis.exists(_key("project", 2056))
    assert runs() == {}
    assert reload(event).results == []


def test_a_contact_event_forgets_the_cached_contact(console_redis: redis.Redis) -> None:
    console_redis.set(_key("contact", 7506), json.dumps({"Id": 7506}))
    handler = make_handler(type="Contact", category_id=None, fields=[])
    event = receive(handler, contact_message())

    assert event_process(event.pk) == Event.Status.PROCESSED
    assert not console_redis.exists(_key("contact", 7506))


@pytest.mark.parametrize(
    ("handler_options", "message", "why"),
    [
        ({}, contact_message(), "a contact changed, the handler is for cards"),
        ({}, card_message(category_id=5), "a card of another module"),
        ({}, card_message(changed=["Name", "UserId"]), "none of the watched fields"),
        ({"fields": []}, card_message(changed=[]), "only UpdatedAt changed"),
        ({"enabled": False}, card_message(), "the handler is disabled"),
    ],
)
def test_events_the_handler_does_not_watch_are_filtered_and_run_nothing(
    console_redis: redis.Redis, handler_options: dict[str, Any], message: dict, why: str
) -> None:
    event = receive(make_handler(**handler_options), message)

    assert event_process(event.pk) == Event.Status.FILTERED, why
    assert runs() == {}
    assert reload(event).processed_at is not None


@pytest.mark.parametrize(
    ("handler_options", "message"),
    [
        ({}, card_message(changed=["Name", "StatusId"])),
        ({"fields": []}, card_message(changed=["Name"])),
        ({"category_id": None}, card_message(category_id=5)),
        ({"type": "Contact", "category_id": None, "fields": ["Email"]}, contact_message()),
    ],
)
def test_events_the_handler_watches_run_its_actions(
    console_redis: redis.Redis, handler_options: dict[str, Any], message: dict
) -> None:
    event = receive(make_handler(**handler_options), message)

    assert event_process(event.pk) == Event.Status.PROCESSED
    assert runs() == {event.pk: 1}


# -- actions ----------------------------------------------------------------------------------


def test_create_todo_queues_a_to_do_that_lands_on_the_card(crm: Crm) -> None:
    handler = make_handler(
        actions=[("create_todo", {"comment": "Hívd vissza", "owner": 3300, "days": 3})]
    )
    event = receive(handler, card_message())

    assert event_process(event.pk) == Event.Status.PROCESSED

    write = Write.objects.get()
    assert (write.kind, write.state) == (Write.Kind.TODO_CREATE, Write.State.QUEUED)
    assert reload(event).results == [{"action": "create_todo", "result": {"write": write.pk}}]
    assert write_send(write.pk) == 1
    todos = crm.get("/Api/R3/ToDoList/2056")["Results"]
    made = [todo for todo in todos if todo["Comment"] == "Hívd vissza"]
    assert len(made) == 1
    assert int(made[0]["UserId"]) == 3300
    deadline = datetime.strptime(made[0]["Deadline"], "%Y-%m-%d %H:%M:%S").date()
    assert deadline == (timezone.localtime() + timedelta(days=3)).date()


def test_set_fields_queues_a_card_update_that_lands_in_minicrm(crm: Crm) -> None:
    handler = make_handler(actions=[("set_fields", {"values": {"ReferenceId": "from-hook"}})])
    event = receive(handler, card_message())

    assert event_process(event.pk) == Event.Status.PROCESSED

    write = Write.objects.get()
    assert (write.kind, write.target_id, write.payload) == (
        Write.Kind.PROJECT_UPDATE,
        2056,
        {"ReferenceId": "from-hook"},
    )
    write_send(write.pk)
    assert crm.card(2056)["ReferenceId"] == "from-hook"


def test_set_fields_on_a_contact_queues_a_contact_update(crm: Crm) -> None:
    handler = make_handler(
        type="Contact",
        category_id=None,
        fields=["Email"],
        actions=[("set_fields", {"values": {"Phone": "06 30 123 4567"}})],
    )
    event = receive(handler, contact_message())

    assert event_process(event.pk) == Event.Status.PROCESSED

    write = Write.objects.get()
    assert (write.kind, write.target_id) == (Write.Kind.CONTACT_UPDATE, 7506)
    write_send(write.pk)
    assert crm.get("/Api/R3/Contact/7506")["Phone"] == "06 30 123 4567"


def test_an_invalid_set_fields_value_fails_the_event_with_minicrm_s_reason(crm: Crm) -> None:
    handler = make_handler(actions=[("set_fields", {"values": {"StatusId": "Nincs ilyen"}})])
    event = receive(handler, card_message())

    assert event_process(event.pk) == Event.Status.RECEIVED  # kept for a retry

    event = reload(event)
    assert "StatusId" in event.last_error
    assert "SchemaValidationError" in event.traceback
    assert not Write.objects.exists()


def test_forward_posts_the_raw_message_and_retries_after_a_500(
    console_redis: redis.Redis, external: ExternalServer
) -> None:
    external.statuses = [500, 200]
    handler = make_handler(actions=[("forward", {"url": external.url})])
    event = receive(handler, card_message())

    assert event_process(event.pk) == Event.Status.PROCESSED
    tasks = [t for t in queued(console_redis) if t[0] == FORWARD_TASK]
    assert [args for _name, args, _eta in tasks] == [[event.pk, external.url]]

    forward_event.apply(args=(event.pk, external.url))  # the task, with its retries

    assert [body for _t, body, _h in external.received] == [event.body.encode()] * 2
    assert external.received[0][2]["Content-Type"] == "application/json"
    log = [r["forward"] for r in reload(event).results if "forward" in r]
    assert [(entry["url"], entry["status"]) for entry in log] == [
        (external.url, 500),
        (external.url, 200),
    ]


def test_forward_keeps_each_try_in_the_event_s_log_after_the_actions_results(
    console_redis: redis.Redis, external: ExternalServer
) -> None:
    handler = make_handler(
        actions=[("forward", {"url": external.url}), ("python", {"path": RECORDER})]
    )
    event = receive(handler, card_message())
    event_process(event.pk)

    forward_event.apply(args=(event.pk, external.url))

    results = reload(event).results
    assert results[0] == {"action": "forward", "result": {"forward": "queued"}}
    assert results[1]["action"] == "python"
    assert results[2]["forward"]["status"] == 200


def test_a_python_action_runs_the_registered_function_and_its_result_is_kept(
    console_redis: redis.Redis,
) -> None:
    event = receive(make_handler(actions=[("python", {"path": RECORDER})]), card_message())

    assert event_process(event.pk) == Event.Status.PROCESSED

    assert runs() == {event.pk: 1}
    assert reload(event).results == [
        {
            "action": "python",
            "result": repr({"card": "2056", "changed": ["StatusId", "UpdatedAt"]}),
        }
    ]


def test_actions_run_in_their_order(crm: Crm) -> None:
    handler = make_handler(
        actions=[
            ("python", {"path": RECORDER}),
            ("set_fields", {"values": {"ReferenceId": "second"}}),
            ("create_todo", {"comment": "third"}),
        ]
    )
    event = receive(handler, card_message())

    event_process(event.pk)

    assert [r["action"] for r in reload(event).results] == [
        "python",
        "set_fields",
        "create_todo",
    ]
    assert [w.kind for w in Write.objects.order_by("id")] == [
        Write.Kind.PROJECT_UPDATE,
        Write.Kind.TODO_CREATE,
    ]


# -- failures, retries, replay ----------------------------------------------------------------


def make_due(event: Event) -> None:
    Event.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_failing_action_keeps_its_traceback_and_is_retried_with_backoff_then_parked(
    console_redis: redis.Redis,
) -> None:
    break_sync(True)
    handler = make_handler(actions=[("python", {"path": "tests.webhooks.automations.sync_to_erp"})])
    event = receive(handler, card_message())

    delays = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        before = timezone.now()
        status = event_process(event.pk)
        event = reload(event)
        assert event.attempts == attempt
        assert event.last_error == "ConnectionError: the ERP answered 503 for card 2056"
        assert "sync_to_erp" in event.traceback
        assert "raise ConnectionError" in event.traceback
        if attempt < MAX_ATTEMPTS:
            assert status == Event.Status.RECEIVED
            assert event.next_attempt_at is not None
            delays.append(round((event.next_attempt_at - before).total_seconds()))
            # Not due yet: a task arriving early leaves it alone.
            assert event_process(event.pk) == Event.Status.RECEIVED
            assert reload(event).attempts == attempt
            make_due(event)
    assert status == Event.Status.FAILED
    assert event.status == Event.Status.FAILED
    assert delays == [5, 10, 20, 40]
    assert runs() == {event.pk: MAX_ATTEMPTS}
    # Each retry was scheduled as a task with its delay.
    retries = [t for t in queued(console_redis) if t[0] == PROCESS_TASK]
    assert len(retries) == MAX_ATTEMPTS - 1
    assert all(eta for _name, _args, eta in retries)


def test_a_failure_whose_reason_holds_a_nul_character_is_kept_and_parked(
    console_redis: redis.Redis,
) -> None:
    """PostgreSQL stores no NUL in text (SQLite did): saving such a failure failed itself, so
    the event stayed claimed and was started again forever instead of being parked."""
    handler = make_handler(actions=[("python", {"path": "tests.webhooks.automations.sync_binary"})])
    event = receive(handler, card_message())

    for _attempt in range(MAX_ATTEMPTS):
        status = event_process(event.pk)
        make_due(event)

    event = reload(event)
    assert (status, event.status, event.attempts) == (
        Event.Status.FAILED,
        Event.Status.FAILED,
        MAX_ATTEMPTS,
    )
    assert event.last_error == "ValueError: the ERP answered b'\ufffd\x01' for card 2056"
    assert "sync_binary" in event.traceback


@pytest.mark.django_db(transaction=True)
def test_an_event_is_processed_while_an_admin_saves_its_handler(
    console_redis: redis.Redis,
) -> None:
    """Claiming an event locks the event's row only. On PostgreSQL a plain select_for_update
    over the join also locked the handler's row, so processing (and, as FOR UPDATE blocks the
    key share an insert takes, storing new deliveries) waited while its handler was being
    saved. SQLite has no row locks: there is nothing to see there."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite locks the whole database)")
    handler = make_handler()
    event = receive(handler, card_message())
    saving, saved = threading.Event(), threading.Event()

    def admin_saves_the_handler() -> None:
        try:
            with transaction.atomic():
                Handler.objects.filter(pk=handler.pk).update(name="Státuszváltás (új)")
                saving.set()
                saved.wait(30)
        finally:
            connections.close_all()

    admin = threading.Thread(target=admin_saves_the_handler)
    admin.start()
    try:
        assert saving.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # a wait on the lock fails the test
        status = event_process(event.pk)
    finally:
        saved.set()
        admin.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert status == Event.Status.PROCESSED
    assert reload(event).status == Event.Status.PROCESSED


def test_a_failed_event_is_replayed_from_the_start_and_processed(
    console_redis: redis.Redis,
) -> None:
    break_sync(True)
    handler = make_handler(actions=[("python", {"path": "tests.webhooks.automations.sync_to_erp"})])
    event = receive(handler, card_message())
    for _ in range(MAX_ATTEMPTS):
        make_due(event)
        event_process(event.pk)
    assert reload(event).status == Event.Status.FAILED
    break_sync(False)  # the ERP is back

    event_replay(event_id=event.pk)
    replayed = reload(event)
    assert (replayed.status, replayed.attempts, replayed.last_error, replayed.traceback) == (
        Event.Status.RECEIVED,
        0,
        "",
        "",
    )
    assert event_process(event.pk) == Event.Status.PROCESSED

    event = reload(event)
    assert (event.attempts, event.results) == (
        1,
        [{"action": "python", "result": "'synced'"}],
    )


def test_a_processed_event_replayed_runs_its_actions_again(console_redis: redis.Redis) -> None:
    event = receive(make_handler(), card_message())
    event_process(event.pk)

    event_replay(event_id=event.pk)
    event_process(event.pk)

    assert runs() == {event.pk: 2}
    assert reload(event).status == Event.Status.PROCESSED


def test_an_unknown_python_function_fails_with_the_reason(
    console_redis: redis.Redis, settings: Settings
) -> None:
    settings.WEBHOOK_PYTHON_FUNCTIONS = ["tests.webhooks.nowhere.do_it"]
    handler = make_handler(actions=[("python", {"path": "tests.webhooks.nowhere.do_it"})])
    event = receive(handler, card_message())

    event_process(event.pk)

    event = reload(event)
    assert event.last_error.startswith("ModuleNotFoundError")
    assert "tests.webhooks.nowhere" in event.last_error


def test_a_second_task_for_an_event_being_processed_leaves_it_alone(
    console_redis: redis.Redis,
) -> None:
    """The sweep or a redelivered message may start a second task while the first still runs
    the actions: the second must not run them again."""
    seen: list[str] = []
    event = receive(make_handler(), card_message())

    import tests.webhooks.automations as automations

    original = automations.remember

    def remember_and_race(*, event: Any, message: dict[str, Any]) -> Any:
        seen.append(event_process(event.pk))  # a second task arrives meanwhile
        return original(event=event, message=message)

    automations.remember = remember_and_race
    try:
        assert event_process(event.pk) == Event.Status.PROCESSED
    finally:
        automations.remember = original

    assert seen == [Event.Status.RECEIVED]
    assert runs() == {event.pk: 1}
    assert reload(event).attempts == 1


# -- what retrying cannot fix -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Data": "str"}, "Data is not a JSON object."),
        ({"Data": {"CategoryId": "²"}}, "Data.CategoryId is not a MiniCRM id: '²'."),
        ({"Id": "²"}, "Id is not a MiniCRM id: '²'."),
        ({"Id": str(2**64 + 1)}, f"Id is not a MiniCRM id: '{2**64 + 1}'."),
        ({"Changed": "StatusId"}, "Changed is not a list of field names."),
        ({"Type": ["Project"]}, "Type is not text."),
    ],
)
def test_a_stored_message_of_a_shape_that_cannot_be_processed_fails_at_once_with_the_reason(
    console_redis: redis.Redis, change: dict[str, Any], reason: str
) -> None:
    """Such messages are malformed at the receiver now; one stored before (or replayed) must
    not stay "received" and be retried for ever."""
    message = card_message() | change
    event = Event.objects.create(
        handler=make_handler(), body=json.dumps(message), message=message, object_type="Project"
    )

    assert event_process(event.pk) == Event.Status.FAILED

    event = reload(event)
    assert (event.attempts, event.last_error) == (1, f"Cannot be processed: {reason}")
    assert event.next_attempt_at is None
    assert runs() == {}


def test_an_event_whose_processing_never_finished_is_given_up_after_the_last_attempt(
    console_redis: redis.Redis,
) -> None:
    """A worker lost in every attempt (killed, out of memory) leaves the event claimed: the
    sweep starts it again, but not for ever."""
    event = receive(make_handler(), card_message())
    Event.objects.filter(pk=event.pk).update(attempts=MAX_ATTEMPTS)
    make_due(event)

    assert event_process(event.pk) == Event.Status.FAILED

    event = reload(event)
    assert (
        event.last_error == f"Given up: the processing did not finish in {MAX_ATTEMPTS} attempts."
    )
    assert runs() == {}


def test_a_python_function_no_longer_allowed_fails_at_once_and_does_not_run(
    console_redis: redis.Redis, settings: Settings
) -> None:
    event = receive(make_handler(actions=[("python", {"path": RECORDER})]), card_message())
    settings.WEBHOOK_PYTHON_FUNCTIONS = []  # the setting changed since the handler was saved

    assert event_process(event.pk) == Event.Status.FAILED

    assert reload(event).last_error == (
        f"Cannot be processed: {RECORDER} is not in WEBHOOK_PYTHON_FUNCTIONS: only the "
        "functions listed there run."
    )
    assert runs() == {}


def test_a_python_path_never_allowed_is_not_imported(
    console_redis: redis.Redis, settings: Settings
) -> None:
    handler = make_handler(actions=[("python", {"path": "os.system"})])
    event = receive(handler, card_message())

    assert event_process(event.pk) == Event.Status.FAILED
    assert "os.system is not in WEBHOOK_PYTHON_FUNCTIONS" in reload(event).last_error


# -- forwards go to public addresses ----------------------------------------------------------


def test_a_forward_to_a_loopback_address_is_refused_at_send_time(
    console_redis: redis.Redis, external: ExternalServer, settings: Settings
) -> None:
    settings.WEBHOOK_FORWARD_ALLOW_PRIVATE = False
    event = receive(make_handler(actions=[("forward", {"url": external.url})]), card_message())
    event_process(event.pk)

    forward_event.apply(args=(event.pk, external.url))

    assert external.received == []
    [entry] = [r["forward"] for r in reload(event).results if "forward" in r]
    assert entry["status"] is None
    assert "127.0.0.1 is a loopback address" in entry["error"]


def test_a_name_that_resolves_to_a_loopback_address_when_connecting_is_refused(
    console_redis: redis.Redis,
    external: ExternalServer,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: the check before sending sees a public address, the connection gets
    127.0.0.1. No DNS server of ours can do that, so the resolver answers it here."""
    import socket

    settings.WEBHOOK_FORWARD_ALLOW_PRIVATE = False
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14"])

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            return real(next(answers, "127.0.0.1"), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = external.url.replace("127.0.0.1", "rebind.example")
    event = receive(make_handler(actions=[("forward", {"url": url})]), card_message())

    assert event_forward(event_id=event.pk, url=url) == 0

    assert external.received == []
    [entry] = [r["forward"] for r in reload(event).results if "forward" in r]
    assert "127.0.0.1 is a loopback address" in entry["error"]
