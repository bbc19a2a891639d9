"""The mirror's sync in real Celery workers (with beat), against a sandbox over HTTP and a
private Redis: a fill survives a worker killed in the middle, and under a 60-request budget the
sync never draws a 429 and leaves people their share."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from pytest_django.fixtures import Settings

from apps.core.minicrm import minicrm_client
from apps.mirror.models import Card, Contact, SyncState
from apps.mirror.services import STATUS_GROUPS
from tests.writes.conftest import QueueRig

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = pytest.mark.parametrize("rig_sandbox_options", [{"seed": "demo"}])


def mirror_env(rig: QueueRig, **extra: str) -> None:
    rig.env.update(
        MIRROR_ENABLED="1",
        MIRROR_TICK_SECONDS="1",
        MIRROR_RUN_SECONDS="5",
        **extra,
    )


def wait_for(condition: Callable[[], bool], rig: QueueRig, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(w.output()[-3000:] for w in rig.workers)
            raise AssertionError(f"{what} within {timeout:g} s:\n{logs}")
        time.sleep(0.25)


def lists_filled() -> bool:
    states = SyncState.objects.filter(key__startswith="module:") | SyncState.objects.filter(
        key="contacts"
    )
    return states.count() > 1 and not states.filter(filled_at__isnull=True).exists()


def list_pages(rig: QueueRig) -> int:
    """How many list pages a complete first fill reads (each module by status group, and the
    contacts)."""
    pages = 0
    for module in rig.get("/Api/R3/Category").json():
        for group in STATUS_GROUPS:
            count = int(
                rig.get("/Api/R3/Project", {"CategoryId": module, "StatusGroup": group}).json()[
                    "Count"
                ]
            )
            pages += max(1, -(-count // 100))
    contacts = int(rig.get("/Api/R3/Contact").json()["Count"])
    return pages + max(1, -(-contacts // 100))


@DEMO
def test_a_fill_killed_mid_way_resumes_where_it_stopped_and_mirrors_everything(
    queue_rig: QueueRig, sandbox_records
) -> None:
    mirror_env(queue_rig, MINICRM_RATE_LIMIT="1200")
    worker = queue_rig.start_worker()
    wait_for(
        lambda: Card.objects.count() >= 300,
        queue_rig,
        90,
        "the fill did not get to 300 cards",
    )
    worker.kill()
    mirrored_at_kill = Card.objects.count()
    assert SyncState.objects.filter(key__startswith="module:", filled_at__isnull=True).exists()

    queue_rig.start_worker()
    wait_for(lists_filled, queue_rig, 180, "the lists were not filled after the restart")
    log = queue_rig.request_log()  # before this test's own reads below

    for module in queue_rig.get("/Api/R3/Category").json():
        listed = {int(r["Id"]) for r in sandbox_records("Project", {"CategoryId": module})}
        mirrored = set(Card.objects.filter(category_id=int(module)).values_list("id", flat=True))
        assert mirrored == listed, module
    contacts = {int(r["Id"]) for r in sandbox_records("Contact", {})}
    assert set(Contact.objects.values_list("id", flat=True)) >= contacts
    assert Card.objects.count() > mirrored_at_kill
    # The restart went on from the stored page: the list pages read add up to one complete
    # fill, plus at most the page in flight when the worker died. (The poll's reads, one round
    # a MIRROR_POLL_SECONDS however long the fill takes, are not the fill's.)
    reads = [
        r
        for r in log
        if r["path"] in ("/Api/R3/Project", "/Api/R3/Contact") and "UpdatedSince" not in r["query"]
    ]
    assert len(reads) <= list_pages(queue_rig) + 1


@pytest.mark.parametrize(
    "rig_sandbox_options", [{"seed": "demo", "rate_limit": 60, "rate_window": 6}]
)
def test_under_a_60_request_budget_the_sync_draws_no_429_and_people_keep_their_share(
    queue_rig: QueueRig, settings: Settings
) -> None:
    # MiniCRM's 60 requests a minute, on a clock ten times as fast: 60 per 6 s.
    window = 6.0
    settings.MINICRM_RATE_LIMIT = 60
    settings.MINICRM_RATE_WINDOW = window
    mirror_env(queue_rig, MINICRM_RATE_LIMIT="60", MINICRM_RATE_WINDOW=str(window))
    queue_rig.start_worker()
    waits = []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not lists_filled():
        started = time.monotonic()
        minicrm_client().categories.list()  # a person opening a page
        waits.append(time.monotonic() - started)
        time.sleep(0.5)

    log = queue_rig.request_log()
    assert [r for r in log if r["status"] == 429] == []
    assert max(waits) < 1.0, waits  # people never waited for a slot
    # The sync stayed within its share: at most 60 % of the budget in any window.
    sync_times = sorted(r["t"] for r in log if r["path"] != "/Api/R3/Category")
    most = max(sum(1 for t in sync_times if start <= t < start + window) for start in sync_times)
    assert most <= 36 + 1, most
    assert Card.objects.exists()
