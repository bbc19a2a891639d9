"""Delivery with real parts: a sandbox over HTTP, a real Redis and real Celery workers.

Whatever breaks (workers killed mid-send, Redis restarted, 500s, timeouts, 429s), every
queued write ends applied exactly once, in order per object; the sandbox's own records are
the proof.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from apps.cards.services import card_create, card_update
from apps.contacts.services import contact_create
from apps.todos.services import todo_create
from apps.writes.models import Write
from tests.writes.conftest import QueueRig

STATUSES = ["Érdeklődő", "Ajánlat kiküldve", "Feldolgozásra vár", "Ügyfélminősítés", "Sikeres"]


def queue_mixed_writes(prefix: str, cards: int = 10) -> None:
    """New cards, contacts and to-dos, and a chain of status changes on card 2056."""
    for n in range(cards):
        card_create(category_id=10, values={"Name": f"{prefix} kártya {n}", "ContactId": 7506})
        contact_create(
            contact_type="Person", values={"FirstName": f"{prefix}{n}", "LastName": "Teszt"}
        )
        todo_create(project_id=2001, values={"Comment": f"{prefix} teendő {n}"})
    for status in STATUSES:
        card_update(card_id=2056, category_id=10, changes={"StatusId": status})


def assert_applied_once_in_order(rig: QueueRig, sandbox_records, prefix: str, cards: int) -> None:
    writes = rig.wait_until_settled()
    assert {w.state for w in writes} == {Write.State.DONE}, [
        (w.pk, w.kind, w.state, w.last_error) for w in writes if w.state != Write.State.DONE
    ]
    names = Counter(row["Name"] for row in sandbox_records("Project", {"CategoryId": 10}))
    assert [names[f"{prefix} kártya {n}"] for n in range(cards)] == [1] * cards
    people = Counter(row["Name"] for row in sandbox_records("Contact", {"Query": "Teszt"}))
    assert [people[f"Teszt {prefix}{n}"] for n in range(cards)] == [1] * cards
    todos = rig.sandbox.get("/Api/R3/ToDoList/2001", params={"Status": "All"}).json()["Results"]
    comments = Counter(row["Comment"] for row in todos)
    assert [comments[f"{prefix} teendő {n}"] for n in range(cards)] == [1] * cards
    history = rig.sandbox.get("/Api/R3/ProjectHistory/2056", params={"Type": "StatusHistory"})
    changes = [row["Status_New_Name"] for row in history.json()["Results"].values()]
    assert changes == STATUSES  # each status once, in the order they were asked for


def test_every_write_is_applied_once_and_in_order(queue_rig: QueueRig, sandbox_records) -> None:
    queue_rig.start_worker()
    queue_mixed_writes("Alap")
    assert_applied_once_in_order(queue_rig, sandbox_records, "Alap", 10)


@pytest.mark.slow
def test_a_worker_killed_mid_send_loses_and_repeats_nothing(
    queue_rig: QueueRig, sandbox_records
) -> None:
    queue_rig.faults(latency=0.3)
    worker = queue_rig.start_worker()
    queue_mixed_writes("Kill")
    deadline = time.monotonic() + 30
    while Write.objects.filter(state=Write.State.DONE).count() < 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    worker.kill()
    queue_rig.start_worker()
    assert_applied_once_in_order(queue_rig, sandbox_records, "Kill", 10)
