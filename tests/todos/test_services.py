"""To-do changes: checked here, queued as writes, sent in this process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.todos.services import todo_close, todo_create, todo_update
from apps.writes.models import Write
from apps.writes.services import write_send
from minicrm.resources.schema import SchemaValidationError
from tests.conftest import SandboxStarter
from tests.writes.support import Crm, private_crm

pytestmark = pytest.mark.django_db

COMMENT = "Visszahívni a szerződés miatt"


@pytest.fixture
def crm(settings: Settings, sandbox_factory: SandboxStarter, redis_url: str) -> Iterator[Crm]:
    yield from private_crm(settings, sandbox_factory, redis_url)


def reload(write: Write) -> Write:
    return Write.objects.get(pk=write.pk)


def todos_of_2001(crm: Crm, comment: str) -> list[int]:
    rows = crm.get("/Api/R3/ToDoList/2001", Status="All")["Results"]
    return [int(row["Id"]) for row in rows if row["Comment"] == comment]


# -- the record and the checks ------------------------------------------------------------------


def test_todo_create_records_the_new_to_do_on_its_card(django_user_model: type[User]) -> None:
    user = django_user_model.objects.create_user(username="csaba", password="x")

    write = todo_create(
        project_id=2001,
        values={"Comment": COMMENT, "Deadline": "2026-12-01T10:30", "UserId": "3200"},
        user=user,
    )

    write = reload(write)
    assert write.kind == Write.Kind.TODO_CREATE
    assert (write.target_type, write.target_id, write.requested_by) == ("todo", None, user)
    assert write.payload == {
        "ProjectId": 2001,
        "Comment": COMMENT,
        "Deadline": "2026-12-01 10:30:00",
        "UserId": 3200,
    }


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"Comment": "   "}, {"Comment": "This field is required."}),
        ({"UserId": 3200}, {"Comment": "This field is required."}),
        (
            {"Comment": COMMENT, "Deadline": "holnap"},
            {"Deadline": "Enter a date and time as YYYY-MM-DD HH:MM."},
        ),
        ({"Comment": COMMENT, "Priority": 1}, {"Priority": "MiniCRM has no such field."}),
    ],
)
def test_todo_create_refuses_bad_values_and_queues_nothing(
    values: dict[str, Any], errors: dict[str, str]
) -> None:
    with pytest.raises(SchemaValidationError) as refused:
        todo_create(project_id=2001, values=values)

    assert refused.value.errors == errors
    assert not Write.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"ProjectId": 2056},
        {"Members": [{"Entity": "Contact", "EntityId": "7"}]},
        {"Notes": [{"Comment": "Új jegyzet"}]},
    ],
    ids=["ProjectId", "Members", "Notes"],
)
def test_todo_update_refuses_the_fields_minicrm_will_not_change(changes: dict[str, Any]) -> None:
    with pytest.raises(SchemaValidationError) as refused:
        todo_update(todo_id=1111, changes={"Comment": "Más", **changes})

    assert refused.value.errors == {
        name: "MiniCRM does not let this field change." for name in changes
    }
    assert not Write.objects.exists()


def test_todo_update_records_only_the_changed_fields() -> None:
    write = todo_update(todo_id=2222, changes={"Deadline": "2026-12-24"})

    assert write is not None
    write = reload(write)
    assert (write.kind, write.target_type, write.target_id) == (
        Write.Kind.TODO_UPDATE,
        "todo",
        2222,
    )
    assert write.payload == {"Deadline": "2026-12-24 00:00:00"}
    assert todo_update(todo_id=2222, changes={}) is None


# -- sending -----------------------------------------------------------------------------------


def test_a_sent_todo_create_stores_the_new_id(crm: Crm) -> None:
    write = todo_create(project_id=2001, values={"Comment": COMMENT, "UserId": 3300})

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.state == Write.State.DONE
    assert todos_of_2001(crm, COMMENT) == [write.target_id]
    todo = crm.get(f"/Api/R3/ToDo/{write.target_id}")
    assert (todo["ProjectId"], todo["UserId"], todo["Status"]) == (2001, "Kovács Anna", "Open")


def test_sent_todo_changes_and_closing_are_in_minicrm(crm: Crm) -> None:
    change = todo_update(todo_id=2222, changes={"Comment": "Megvan a döntés"})
    close = todo_close(todo_id=2222)
    assert change is not None

    assert write_send(change.pk) == 2

    assert [reload(w).state for w in (change, close)] == [Write.State.DONE] * 2
    todo = crm.get("/Api/R3/ToDo/2222")
    assert (todo["Comment"], todo["Status"]) == ("Megvan a döntés", "Closed")


def test_changing_a_closed_todo_fails_with_minicrms_reason(crm: Crm) -> None:
    crm.put("/Api/R3/ToDo/2222", {"Status": "Closed"})  # closed in MiniCRM meanwhile
    write = todo_update(todo_id=2222, changes={"Comment": "Késő"})
    assert write is not None

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.FAILED
    assert write.last_error == "A closed to-do cannot be modified."
    assert crm.get("/Api/R3/ToDo/2222")["Comment"] == "Történt valami előrelépés?"


def test_a_todo_create_that_may_have_reached_minicrm_is_found_not_duplicated(crm: Crm) -> None:
    write = todo_create(project_id=2001, values={"Comment": COMMENT})
    Write.objects.filter(pk=write.pk).update(
        state=Write.State.SENDING, sending_since=timezone.now() - timedelta(seconds=10), attempts=1
    )
    todo_id = int(crm.put("/Api/R3/ToDo/", write.payload)["Id"])  # the lost attempt's to-do
    crm.clear_log()

    assert write_send(write.pk) == 1

    write = reload(write)
    assert (write.state, write.target_id, write.result) == (
        Write.State.DONE,
        todo_id,
        {"found": True},
    )
    assert todos_of_2001(crm, COMMENT) == [todo_id]
    assert crm.requests("PUT") == []


def test_a_todo_create_resumed_after_the_stale_timeout_is_not_duplicated(
    crm: Crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = todo_create(project_id=2001, values={"Comment": COMMENT})
    Write.objects.filter(pk=write.pk).update(
        state=Write.State.SENDING, sending_since=timezone.now(), attempts=1
    )
    todo_id = int(crm.put("/Api/R3/ToDo/", write.payload)["Id"])
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=6))

    write_send(write.pk)

    assert todos_of_2001(crm, COMMENT) == [todo_id]
