"""What the dashboard reads about the write queue: per object, per user, in total, per job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.cards.services import card_update, cards_bulk_update
from apps.core.minicrm import minicrm_budget
from apps.writes.models import Write
from apps.writes.selectors import (
    bulk_job_progress,
    pending_values,
    queue_status,
    writes_for_object,
    writes_for_user,
)
from apps.writes.services import bulk_update, write_discard, write_enqueue, write_send
from minicrm import Priority
from tests.conftest import Sandbox, SandboxStarter
from tests.writes.support import Crm, private_crm

pytestmark = pytest.mark.django_db

UPDATE = Write.Kind.PROJECT_UPDATE


@pytest.fixture
def crm(settings: Settings, sandbox_factory: SandboxStarter, redis_url: str) -> Iterator[Crm]:
    yield from private_crm(settings, sandbox_factory, redis_url)


@pytest.fixture
def budget(settings: Settings, redis_url: str) -> None:
    """A budget of 60 requests per 30 s, half of it kept for people: 1 write a second."""
    settings.REDIS_URL = redis_url
    settings.MINICRM_RATE_LIMIT = 60
    settings.MINICRM_RATE_WINDOW = 30.0
    settings.MINICRM_INTERACTIVE_RESERVE = 0.5
    redis.Redis.from_url(redis_url).flushdb()


def card_write(card_id: int, payload: dict[str, Any], state: str = Write.State.QUEUED) -> Write:
    write = write_enqueue(kind=UPDATE, target_type="project", target_id=card_id, payload=payload)
    if state != Write.State.QUEUED:
        Write.objects.filter(pk=write.pk).update(state=state)
    return write


def ids(writes: Any) -> list[int]:
    return [w.pk for w in writes]


# -- per object and per user --------------------------------------------------------------------


def test_writes_for_object_are_its_open_writes_in_the_order_they_were_made() -> None:
    states = [
        Write.State.DONE,
        Write.State.QUEUED,
        Write.State.FAILED,
        Write.State.DISCARDED,
        Write.State.SENDING,
        Write.State.CONFLICT,
    ]
    writes = {state: card_write(2056, {"Name": state}, state) for state in states}
    card_write(2001, {"Name": "másik kártya"})
    write_enqueue(kind=Write.Kind.CONTACT_UPDATE, target_type="contact", target_id=2056, payload={})

    found = writes_for_object(target_type="project", target_id=2056)

    assert ids(found) == ids(writes[s] for s in states if s not in ("done", "discarded"))


def test_writes_for_user_are_theirs_newest_first(django_user_model: type[User]) -> None:
    anna = django_user_model.objects.create_user(username="anna", password="x")
    bela = django_user_model.objects.create_user(username="bela", password="x")
    first = write_enqueue(kind=UPDATE, target_type="project", target_id=1, payload={}, user=anna)
    write_enqueue(kind=UPDATE, target_type="project", target_id=1, payload={}, user=bela)
    failed = write_enqueue(kind=UPDATE, target_type="project", target_id=2, payload={}, user=anna)
    Write.objects.filter(pk=failed.pk).update(state=Write.State.FAILED)

    assert ids(writes_for_user(user=anna)) == [failed.pk, first.pk]
    assert ids(writes_for_user(user=anna, states=(Write.State.FAILED,))) == [failed.pk]
    assert ids(writes_for_user(user=anna, states=(Write.State.DONE,))) == []


def test_pending_values_overlay_the_queued_changes_latest_last() -> None:
    card_write(2056, {"Name": "Régi név", "VarhatoArbevetel": 5000})
    card_write(2056, {"Name": "Elküldött"}, Write.State.DONE)
    card_write(2056, {"StatusId": 2624}, Write.State.FAILED)
    card_write(2056, {"AutoSalesV3_IsHot": 3112}, Write.State.CONFLICT)
    card_write(2056, {"Name": "Új név"}, Write.State.SENDING)
    card_write(2056, {"HolTalaltRank": 3162}, Write.State.DISCARDED)
    card_write(2001, {"Name": "Másik kártya"})

    assert pending_values(target_type="project", target_id=2056) == {
        "Name": "Új név",
        "VarhatoArbevetel": 5000,
    }
    assert pending_values(target_type="project", target_id=29592) == {}


def test_pending_values_show_what_a_service_queued(minicrm_settings: Sandbox) -> None:
    card_update(card_id=2056, category_id=10, changes={"AutoSalesV3_Qualification": "Hideg"})
    card_update(card_id=2056, category_id=10, changes={"AutoSalesV3_Qualification": "VIP"})

    assert pending_values(target_type="project", target_id=2056) == {
        "AutoSalesV3_Qualification": 3101
    }


def test_pending_values_leave_out_what_was_sent(crm: Crm) -> None:
    write = card_update(card_id=2056, category_id=10, changes={"Name": "Elküldve"})
    assert write is not None
    assert pending_values(target_type="project", target_id=2056) == {"Name": "Elküldve"}

    write_send(write.pk)

    assert pending_values(target_type="project", target_id=2056) == {}
    assert ids(writes_for_object(target_type="project", target_id=2056)) == []


# -- the whole queue ---------------------------------------------------------------------------


def test_queue_status_counts_each_state(budget: None) -> None:
    for state, count in [
        (Write.State.QUEUED, 3),
        (Write.State.SENDING, 1),
        (Write.State.DONE, 4),
        (Write.State.FAILED, 2),
        (Write.State.CONFLICT, 1),
    ]:
        for n in range(count):
            card_write(n, {"Name": f"{state} {n}"}, state)

    status = queue_status()

    assert status.counts == {
        "queued": 3,
        "sending": 1,
        "done": 4,
        "failed": 2,
        "conflict": 1,
        "discarded": 0,
    }
    assert status.pending == 4


def test_an_empty_queue_has_nothing_to_wait_for(budget: None) -> None:
    status = queue_status()

    assert status.pending == 0
    assert status.eta_seconds == 0
    assert set(status.counts.values()) == {0}


def test_the_queues_eta_is_the_pending_writes_over_the_bulk_share_of_the_budget(
    budget: None,
) -> None:
    for n in range(6):
        card_write(n, {"Name": str(n)})
    six = queue_status()
    for n in range(6):
        card_write(n, {"Name": str(n)})
    twelve = queue_status()

    # 60 requests per 30 s, 30 of them kept for people: 1 write a second.
    assert six.eta_seconds == pytest.approx(6.0)
    assert twelve.eta_seconds == pytest.approx(12.0)


def test_the_queues_eta_waits_out_a_cool_down_after_a_429(budget: None) -> None:
    for n in range(3):
        card_write(n, {"Name": str(n)})
    minicrm_budget().cool_down(20)

    assert queue_status().eta_seconds == pytest.approx(23.0, abs=0.5)


# -- bulk jobs ---------------------------------------------------------------------------------


def small_job(settled: int, pending: int, *, seconds_ago: float) -> int:
    """A job whose first `settled` writes were done over the last `seconds_ago` seconds."""
    job = bulk_update(
        target_type="project", target_ids=range(1, settled + pending + 1), payload={"Name": "x"}
    )
    started = timezone.now() - timedelta(seconds=seconds_ago)
    job.writes.update(first_attempt_at=started)
    done = job.writes.order_by("id")[:settled].values_list("id", flat=True)
    Write.objects.filter(id__in=list(done)).update(state=Write.State.DONE, done_at=started)
    return job.pk


def test_a_small_jobs_eta_follows_how_fast_it_goes_within_the_budget_left(budget: None) -> None:
    # 10 of 20 done in about a second: 10 a second, with the whole bulk share (30) still free.
    progress = bulk_job_progress(job_id=small_job(10, 10, seconds_ago=1.0))

    # Not 10 s (the budget's pace of 1 a second): about 1 s.
    assert progress.eta_seconds == pytest.approx(1.0, abs=0.3)


def test_a_job_that_used_the_budget_up_waits_for_it_but_never_past_the_worst_case(
    budget: None,
) -> None:
    for _ in range(30):  # the bulk share of the window is taken
        minicrm_budget().try_acquire(Priority.BULK)
    fast = bulk_job_progress(job_id=small_job(10, 5, seconds_ago=1.0))
    slow = bulk_job_progress(job_id=small_job(2, 5, seconds_ago=100.0))

    # No slot left: the 5 wait for slots at the budget's pace, however fast the job went.
    assert fast.eta_seconds == pytest.approx(5.0, abs=0.3)
    # A job seen going slower than the budget is still expected by the worst case at most.
    assert slow.eta_seconds == pytest.approx(5.0, abs=0.3)


def test_a_job_not_yet_seen_going_is_expected_at_the_budgets_pace(budget: None) -> None:
    progress = bulk_job_progress(job_id=small_job(0, 4, seconds_ago=0.0))

    assert progress.eta_seconds == pytest.approx(4.0)


def test_bulk_job_progress_follows_the_jobs_writes(crm: Crm, settings: Settings) -> None:
    settings.MINICRM_RATE_LIMIT = 60
    settings.MINICRM_RATE_WINDOW = 30.0
    settings.MINICRM_INTERACTIVE_RESERVE = 0.5
    job = cards_bulk_update(
        card_ids=[2056, 2001, 99999, 29592],
        category_id=10,
        changes={"StatusId": "Sikeres"},
        description="Mind sikeres",
    )
    writes = {w.target_id: w for w in job.writes.all()}

    before = bulk_job_progress(job_id=job.pk)
    assert (before.total, before.done, before.failed, before.pending) == (4, 0, 0, 4)
    assert (before.percent, before.finished) == (0, False)
    assert before.eta_seconds == pytest.approx(4.0)

    # The last card's write waits to retry; the others are sent (the unknown card fails).
    Write.objects.filter(pk=writes[29592].pk).update(
        next_attempt_at=timezone.now() + timedelta(hours=1)
    )
    assert write_send(writes[2056].pk) == 2
    middle = bulk_job_progress(job_id=job.pk)
    assert (middle.done, middle.failed, middle.pending) == (2, 1, 1)
    assert (middle.percent, middle.finished) == (75, False)
    # Three settled at once: the last goes as fast, not at the budget's pace of 1 a second.
    assert 0 < middle.eta_seconds < 0.5

    Write.objects.filter(pk=writes[29592].pk).update(next_attempt_at=timezone.now())
    assert write_send(writes[29592].pk) == 1
    after = bulk_job_progress(job_id=job.pk)
    assert (after.done, after.failed, after.pending) == (3, 1, 0)
    assert (after.percent, after.finished, after.eta_seconds) == (100, True, 0)
    assert [crm.card(i)["StatusId"] for i in (2056, 2001, 29592)] == ["Sikeres"] * 3


def test_discarding_a_failed_write_of_a_finished_job_keeps_it_complete(crm: Crm) -> None:
    job = cards_bulk_update(
        card_ids=[2056, 99999], category_id=10, changes={"Name": "Átnevezve"}, description="Név"
    )
    writes = {w.target_id: w for w in job.writes.all()}
    assert write_send(writes[2056].pk) == 1
    finished = bulk_job_progress(job_id=job.pk)
    assert (finished.done, finished.failed, finished.percent) == (1, 1, 100)

    write_discard(write_id=writes[99999].pk)  # the person gives up on the unknown card

    after = bulk_job_progress(job_id=job.pk)
    assert (after.finished, after.percent) == (True, 100)
