"""The write queue's services run in this process: queue through a service, then `write_send`.

No Celery worker runs here. With `django_db` the queued writes' after-commit callbacks never
run, so nothing is started behind the test's back; the retries that `_retry_later` schedules
at once land in the private Redis, which is Celery's broker for these tests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.cards.services import card_update
from apps.core.minicrm import minicrm_client
from apps.writes.models import Write
from apps.writes.services import (
    HEARTBEAT_KEY,
    write_discard,
    write_enqueue,
    write_retry,
    write_send,
    writes_sweep,
)
from tests.conftest import SandboxStarter
from tests.writes.support import Crm, private_crm

pytestmark = pytest.mark.django_db

QUALIFICATION = "AutoSalesV3_Qualification"
SEND_TASK = "apps.writes.tasks.send_write"


@pytest.fixture
def crm(settings: Settings, sandbox_factory: SandboxStarter, redis_url: str) -> Iterator[Crm]:
    yield from private_crm(settings, sandbox_factory, redis_url)


def update_2056(changes: dict[str, Any], seen: dict[str, Any] | None = None) -> Write:
    write = card_update(card_id=2056, category_id=10, changes=changes, seen=seen)
    assert write is not None
    return write


def reload(write: Write) -> Write:
    return Write.objects.get(pk=write.pk)


def card_puts(crm: Crm, card_id: int = 2056) -> list[tuple[str, str, int]]:
    return [row for row in crm.requests("PUT") if row[1] == f"/Api/R3/Project/{card_id}"]


def wait_to_retry(write: Write) -> None:
    """As if an earlier attempt failed and the write waits for its next attempt."""
    Write.objects.filter(pk=write.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))


# -- sending ----------------------------------------------------------------------------------


def test_a_sent_write_is_done_and_its_change_is_in_minicrm(crm: Crm) -> None:
    write = update_2056({QUALIFICATION: "Célcsoport", "VarhatoArbevetel": 2500000})
    crm.clear_log()

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.state == Write.State.DONE
    assert write.attempts == 1
    assert write.done_at is not None
    assert (write.last_error, write.uncertain, write.target_id) == ("", False, 2056)
    card = crm.card(2056)
    assert (card[QUALIFICATION], card["VarhatoArbevetel"]) == ("Célcsoport", 2500000)
    assert card_puts(crm) == [("PUT", "/Api/R3/Project/2056", 200)]


def test_a_write_already_done_is_not_sent_again(crm: Crm) -> None:
    write = update_2056({"Name": "Egyszer küldve"})
    crm.clear_log()

    assert write_send(write.pk) == 1
    assert write_send(write.pk) == 0  # the broker redelivered the task

    assert reload(write).attempts == 1
    assert len(card_puts(crm)) == 1
    assert crm.card(2056)["Name"] == "Egyszer küldve"


def test_a_write_whose_object_another_task_is_sending_is_left_to_that_task(crm: Crm) -> None:
    write = update_2056({"Name": "Zárolt"})
    lock = crm.redis.lock("minicrm:writes:lock:project:2056", timeout=30)
    assert lock.acquire(blocking=False)
    crm.clear_log()

    assert write_send(write.pk) == 0
    assert reload(write).state == Write.State.QUEUED
    assert card_puts(crm) == []

    lock.release()
    assert write_send(write.pk) == 1
    assert crm.card(2056)["Name"] == "Zárolt"


def test_writes_to_one_object_are_applied_in_the_order_they_were_made(crm: Crm) -> None:
    statuses = ["Érdeklődő", "Ajánlat kiküldve", "Sikeres"]
    writes = [update_2056({"StatusId": status}) for status in statuses]

    # Started for the last one first (tasks may run in any order): it waits for the others.
    assert write_send(writes[-1].pk) == 3

    assert {reload(w).state for w in writes} == {Write.State.DONE}
    history = crm.get("/Api/R3/ProjectHistory/2056", Type="StatusHistory")["Results"]
    assert [row["Status_New_Name"] for row in history.values()] == statuses
    assert crm.card(2056)["StatusId"] == "Sikeres"


def test_a_later_write_waits_for_an_earlier_one_that_waits_to_retry(crm: Crm) -> None:
    earlier = update_2056({"Name": "Korábbi"})
    later = update_2056({"Name": "Későbbi"})
    wait_to_retry(earlier)
    crm.clear_log()

    assert write_send(later.pk) == 0
    assert reload(later).state == Write.State.QUEUED
    assert card_puts(crm) == []

    assert write_discard(write_id=earlier.pk).state == Write.State.DISCARDED
    assert write_send(later.pk) == 1
    assert reload(later).state == Write.State.DONE
    assert len(card_puts(crm)) == 1
    assert crm.card(2056)["Name"] == "Későbbi"


def test_a_failed_write_holds_back_later_writes_until_it_is_retried(crm: Crm) -> None:
    earlier = update_2056({"Name": "Első"})
    later = update_2056({"Name": "Második"})
    Write.objects.filter(pk=earlier.pk).update(
        state=Write.State.FAILED, last_error="MiniCRM could not be reached"
    )
    crm.clear_log()

    assert write_send(later.pk) == 0
    assert reload(later).state == Write.State.QUEUED
    assert card_puts(crm) == []

    retried = write_retry(write_id=earlier.pk)
    assert (retried.state, retried.last_error) == (Write.State.QUEUED, "")
    assert write_send(later.pk) == 2  # the earlier one first, then this one
    assert [reload(w).state for w in (earlier, later)] == [Write.State.DONE] * 2
    assert len(card_puts(crm)) == 2
    assert crm.card(2056)["Name"] == "Második"


def test_retry_and_discard_leave_a_done_write_alone(crm: Crm) -> None:
    write = update_2056({"Name": "Kész"})
    assert write_send(write.pk) == 1

    assert write_retry(write_id=write.pk).state == Write.State.DONE
    assert write_discard(write_id=write.pk).state == Write.State.DONE
    assert reload(write).state == Write.State.DONE


# -- transient failures ------------------------------------------------------------------------


def test_a_500_leaves_the_write_queued_for_a_retry_and_uncertain(crm: Crm) -> None:
    write = update_2056({"Name": "Ötszáz után"})
    crm.faults(error_rate=1.0)
    started = timezone.now()

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.QUEUED
    assert write.attempts == 1
    assert write.uncertain  # MiniCRM may have applied it before answering 500
    assert write.last_error == "Internal Server Error"
    assert write.next_attempt_at > started
    assert crm.queued_tasks() == [(SEND_TASK, [write.pk])]

    crm.faults(error_rate=0)
    Write.objects.filter(pk=write.pk).update(next_attempt_at=timezone.now())
    assert write_send(write.pk) == 1
    write = reload(write)
    assert (write.state, write.attempts, write.uncertain) == (Write.State.DONE, 2, False)
    assert crm.card(2056)["Name"] == "Ötszáz után"


def test_a_429_leaves_the_write_queued_for_a_retry_but_not_uncertain(crm: Crm) -> None:
    write = update_2056({"Name": "Túl sok kérés után"})
    crm.faults(force_429=4)  # the client's own retries get 429 too
    crm.clear_log()
    started = timezone.now()

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.QUEUED
    assert write.attempts == 1
    assert not write.uncertain  # MiniCRM did nothing with a 429
    assert write.last_error == "Too Many Requests"
    assert write.next_attempt_at > started
    assert crm.queued_tasks() == [(SEND_TASK, [write.pk])]
    assert {status for _, _, status in crm.requests()} == {429}
    assert crm.card(2056)["Name"] == "MiniCRM Zrt. (Leskó Norbert)"


def test_unauthorized_keeps_the_write_queued(crm: Crm, settings: Settings) -> None:
    write = update_2056({"Name": "Rossz kulccsal"})
    settings.MINICRM_API_KEY = "a-revoked-key"
    started = timezone.now()

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.QUEUED
    assert not write.uncertain
    assert "Unauthorized" in write.last_error
    assert write.next_attempt_at >= started + timedelta(seconds=59)
    assert crm.card(2056)["Name"] == "MiniCRM Zrt. (Leskó Norbert)"

    settings.MINICRM_API_KEY = crm.sandbox.api_key
    Write.objects.filter(pk=write.pk).update(next_attempt_at=timezone.now())
    assert write_send(write.pk) == 1
    assert crm.card(2056)["Name"] == "Rossz kulccsal"


# -- permanent failures ------------------------------------------------------------------------


def test_a_write_to_an_unknown_card_fails_at_once_with_minicrms_message(crm: Crm) -> None:
    write = card_update(card_id=99999, category_id=10, changes={"Name": "Senki"})
    assert write is not None
    crm.clear_log()

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.FAILED
    assert write.attempts == 1
    assert write.last_error == "Project 99999 not found."
    assert crm.queued_tasks() == []  # no retry
    assert write_send(write.pk) == 0
    assert len(crm.requests("PUT")) == 1


def test_a_value_minicrm_refuses_fails_at_once_naming_the_field(crm: Crm) -> None:
    # The console's cached schema still offers an option that MiniCRM has since removed.
    key = "minicrm:schema:12345:Project/10"
    minicrm_client().schemas.project(10)
    cached = crm.redis.get(key)
    assert isinstance(cached, bytes)
    schema = json.loads(cached)
    schema[QUALIFICATION]["3199"] = "Régi"
    crm.redis.set(key, json.dumps(schema))
    write = update_2056({QUALIFICATION: "Régi"})
    assert write.payload == {QUALIFICATION: 3199}

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.FAILED
    assert write.last_error == "Invalid value '3199' for the Lead qualification field."
    assert write.error_field == QUALIFICATION
    assert crm.queued_tasks() == []
    assert crm.card(2056)[QUALIFICATION] == "VIP"


# -- conflicts ---------------------------------------------------------------------------------


def test_an_update_over_a_field_changed_in_minicrm_stops_as_a_conflict(crm: Crm) -> None:
    crm.put("/Api/R3/Project/2056", {QUALIFICATION: "Hideg"})  # someone else, meanwhile
    write = update_2056({QUALIFICATION: "Célcsoport"}, seen={QUALIFICATION: "VIP"})
    crm.clear_log()

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.CONFLICT
    assert write.result is not None
    assert write.result["conflict"] == {
        QUALIFICATION: {"seen": "VIP", "now": "Hideg", "mine": "Célcsoport"}
    }
    assert write.last_error == "The object changed in MiniCRM since it was read."
    assert card_puts(crm) == []
    assert crm.card(2056)[QUALIFICATION] == "Hideg"


def test_retrying_a_conflict_without_overwrite_stops_again(crm: Crm) -> None:
    crm.put("/Api/R3/Project/2056", {QUALIFICATION: "Hideg"})
    write = update_2056({QUALIFICATION: "Célcsoport"}, seen={QUALIFICATION: "VIP"})
    assert write_send(write.pk) == 0

    write_retry(write_id=write.pk)
    assert write_send(write.pk) == 0

    assert reload(write).state == Write.State.CONFLICT
    assert crm.card(2056)[QUALIFICATION] == "Hideg"


def test_retrying_a_conflict_with_overwrite_sends_it(crm: Crm) -> None:
    crm.put("/Api/R3/Project/2056", {QUALIFICATION: "Hideg"})
    write = update_2056({QUALIFICATION: "Célcsoport"}, seen={QUALIFICATION: "VIP"})
    assert write_send(write.pk) == 0

    retried = write_retry(write_id=write.pk, overwrite=True)
    assert (retried.state, retried.seen) == (Write.State.QUEUED, None)
    assert write_send(write.pk) == 1

    assert reload(write).state == Write.State.DONE
    assert crm.card(2056)[QUALIFICATION] == "Célcsoport"


def test_an_update_whose_seen_values_are_still_minicrms_is_sent(crm: Crm) -> None:
    write = update_2056({QUALIFICATION: "Célcsoport"}, seen={QUALIFICATION: "VIP"})

    assert write_send(write.pk) == 1

    assert reload(write).state == Write.State.DONE
    assert crm.card(2056)[QUALIFICATION] == "Célcsoport"


def test_a_change_minicrm_already_has_is_not_a_conflict(crm: Crm) -> None:
    crm.put("/Api/R3/Project/2056", {QUALIFICATION: "Célcsoport"})  # a colleague did the same
    write = update_2056({QUALIFICATION: "Célcsoport"}, seen={QUALIFICATION: "VIP"})

    assert write_send(write.pk) == 1
    assert reload(write).state == Write.State.DONE


def test_a_change_in_a_field_the_write_leaves_alone_is_not_a_conflict(crm: Crm) -> None:
    crm.put("/Api/R3/Project/2056", {QUALIFICATION: "Hideg"})
    # The form showed both fields; only the name was changed.
    write = update_2056(
        {"Name": "Új név"}, seen={"Name": "MiniCRM Zrt. (Leskó Norbert)", QUALIFICATION: "VIP"}
    )
    assert write.seen == {"Name": "MiniCRM Zrt. (Leskó Norbert)"}

    assert write_send(write.pk) == 1

    card = crm.card(2056)
    assert (card["Name"], card[QUALIFICATION]) == ("Új név", "Hideg")


def test_a_conflict_holds_back_later_writes_until_it_is_discarded(crm: Crm) -> None:
    crm.put("/Api/R3/Project/2056", {QUALIFICATION: "Hideg"})
    clash = update_2056({QUALIFICATION: "Célcsoport"}, seen={QUALIFICATION: "VIP"})
    later = update_2056({"Name": "Ütközés után"})
    crm.clear_log()

    assert write_send(clash.pk) == 0  # drains the queue too: the later write must wait
    assert reload(clash).state == Write.State.CONFLICT
    assert write_send(later.pk) == 0
    assert reload(later).state == Write.State.QUEUED
    assert card_puts(crm) == []

    write_discard(write_id=clash.pk)
    assert write_send(later.pk) == 1
    card = crm.card(2056)
    assert (card["Name"], card[QUALIFICATION]) == ("Ütközés után", "Hideg")


# -- the sweep ---------------------------------------------------------------------------------


def test_the_sweep_starts_nothing_when_nothing_is_due(
    crm: Crm, django_capture_on_commit_callbacks: Any
) -> None:
    waiting = update_2056({"Name": "Később"})
    wait_to_retry(waiting)
    done = update_2056({"Name": "Kész"})
    Write.objects.filter(pk=done.pk).update(state=Write.State.DONE)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert writes_sweep() == 0

    assert callbacks == []
    assert crm.queued_tasks() == []


def test_the_sweep_starts_a_task_for_a_due_write_nobody_drains(
    crm: Crm, django_capture_on_commit_callbacks: Any
) -> None:
    write = update_2056({"Name": "Elveszett üzenet"})
    assert reload(write).enqueued_at is None
    started = timezone.now()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert writes_sweep() == 1

    assert len(callbacks) == 1
    enqueued_at = reload(write).enqueued_at
    assert enqueued_at is not None
    assert enqueued_at >= started
    assert crm.queued_tasks() == [(SEND_TASK, [write.pk])]


def test_the_sweep_leaves_due_writes_to_a_drain_that_is_running(
    crm: Crm, django_capture_on_commit_callbacks: Any
) -> None:
    update_2056({"Name": "Sorban"})
    crm.redis.set(HEARTBEAT_KEY, "1", ex=30)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert writes_sweep() == 0

    assert callbacks == []


def test_the_sweep_restarts_a_write_whose_sender_was_lost(
    crm: Crm, settings: Settings, django_capture_on_commit_callbacks: Any
) -> None:
    settings.WRITE_QUEUE_STALE_SECONDS = 5
    stale = update_2056({"Name": "Megszakadt"})
    fresh = card_update(card_id=2001, category_id=10, changes={"Name": "Épp küldik"})
    assert fresh is not None
    now = timezone.now()
    Write.objects.filter(pk=stale.pk).update(
        state=Write.State.SENDING, sending_since=now - timedelta(seconds=30)
    )
    Write.objects.filter(pk=fresh.pk).update(
        state=Write.State.SENDING, sending_since=now - timedelta(seconds=1)
    )
    crm.redis.set(HEARTBEAT_KEY, "1", ex=30)  # other writes are being drained meanwhile

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert writes_sweep() == 1

    assert len(callbacks) == 1
    assert crm.queued_tasks() == [(SEND_TASK, [stale.pk])]
    assert reload(stale).enqueued_at is not None
    assert reload(fresh).enqueued_at is None


def test_a_write_resumed_after_its_sender_was_lost_is_sent_once(crm: Crm) -> None:
    write = update_2056({"Name": "Folytatva"})
    Write.objects.filter(pk=write.pk).update(
        state=Write.State.SENDING, sending_since=timezone.now() - timedelta(hours=1), attempts=1
    )
    crm.clear_log()

    assert write_send(write.pk) == 1

    write = reload(write)
    assert (write.state, write.attempts, write.uncertain) == (Write.State.DONE, 2, False)
    assert len(card_puts(crm)) == 1
    assert crm.card(2056)["Name"] == "Folytatva"


def test_the_sweep_sends_a_lost_write_behind_many_held_back_ones(
    crm: Crm, django_capture_on_commit_callbacks: Any
) -> None:
    # A bulk change MiniCRM refused for 60 cards, and a second change to the same cards.
    for n in range(60):
        for state in (Write.State.FAILED, Write.State.QUEUED):
            held = write_enqueue(
                kind=Write.Kind.PROJECT_UPDATE,
                target_type="project",
                target_id=900000 + n,
                payload={"Name": state},
            )
            Write.objects.filter(pk=held.pk).update(state=state)
    lost = update_2056({"Name": "Elveszett feladat"})  # its task was lost (Redis restarted)

    with django_capture_on_commit_callbacks(execute=True):
        writes_sweep()
    for _, (write_id,) in crm.queued_tasks():  # what the started tasks do
        write_send(write_id)

    assert reload(lost).state == Write.State.DONE


# -- one-time keys of create forms ----------------------------------------------------------


def new_todo_write(key: str | None) -> Write:
    return write_enqueue(
        kind=Write.Kind.TODO_CREATE,
        target_type="todo",
        payload={"ProjectId": 2056, "Comment": "Egyszer"},
        idempotency_key=key,
    )


def test_the_same_key_gives_the_first_write_again() -> None:
    first = new_todo_write("7:" + "a" * 32)
    second = new_todo_write("7:" + "a" * 32)

    assert second.pk == first.pk
    assert Write.objects.count() == 1
    assert new_todo_write("7:" + "b" * 32).pk != first.pk
    assert new_todo_write(None).pk != new_todo_write(None).pk


def test_a_done_write_is_what_its_key_answers(crm: Crm) -> None:
    first = new_todo_write("7:" + "c" * 32)
    write_send(first.pk)

    again = new_todo_write("7:" + "c" * 32)

    assert (again.pk, again.state) == (first.pk, Write.State.DONE)
    assert again.target_id is not None


def test_a_discarded_write_frees_its_key_for_the_corrected_form() -> None:
    first = new_todo_write("7:" + "d" * 32)
    write_discard(write_id=first.pk)

    corrected = new_todo_write("7:" + "d" * 32)

    assert corrected.pk != first.pk
    assert corrected.idempotency_key == "7:" + "d" * 32
    assert reload(first).idempotency_key is None


@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_form_at_the_same_moment_make_one_write(crm: Crm) -> None:
    key = "7:" + "e" * 32
    start = threading.Barrier(2)
    made: list[int] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            start.wait(timeout=10)
            made.append(new_todo_write(key).pk)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    assert Write.objects.filter(idempotency_key=key).count() == 1
    assert made == [Write.objects.get(idempotency_key=key).pk] * 2
