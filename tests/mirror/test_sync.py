"""The mirror's sync against a sandbox over HTTP, with the private Redis as budget and lock.

The sync runs in this process here (`sync_run`); `test_worker.py` runs it in real Celery
workers. Every expectation is checked against what the sandbox itself answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.core.fieldviews import minicrm_naive
from apps.mirror import services
from apps.mirror.models import (
    Card,
    Completeness,
    Contact,
    Module,
    StatusChange,
    SyncState,
    ToDo,
)
from tests.conftest import SandboxStarter
from tests.writes.support import Crm, private_crm

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(settings: Settings, sandbox_factory: SandboxStarter, redis_url: str) -> Iterator[Crm]:
    settings.MIRROR_ENABLED = True
    yield from private_crm(settings, sandbox_factory, redis_url)


def every_row(crm: Crm, entity: str, **params: Any) -> list[dict[str, Any]]:
    """Every search row the sandbox lists (all pages)."""
    rows: list[dict[str, Any]] = []
    page = 0
    while True:
        data = crm.get(f"/Api/R3/{entity}", **params, Page=page)
        rows += list(data["Results"].values())
        if (page + 1) * 100 >= int(data["Count"]):
            return rows
        page += 1


def module_ids(crm: Crm) -> list[int]:
    return [int(key) for key in crm.get("/Api/R3/Category")]


def fill(until_caught_up: bool = True) -> services.SyncReport:
    report = services.sync_run(seconds=120, until_caught_up=until_caught_up)
    assert report.ran
    return report


def make_due(key: str, **fields: Any) -> None:
    SyncState.objects.filter(key=key).update(**fields)


def test_the_first_fill_mirrors_every_card_and_contact_in_full(crm: Crm) -> None:
    report = fill()

    assert report.caught_up
    for category_id in module_ids(crm):
        listed = {int(row["Id"]) for row in every_row(crm, "Project", CategoryId=category_id)}
        mirrored = set(
            Card.objects.filter(category_id=category_id, deleted=False).values_list("id", flat=True)
        )
        assert mirrored == listed, category_id
        assert SyncState.objects.get(key=f"module:{category_id}").listed_total == len(listed)
    contacts = {int(row["Id"]) for row in every_row(crm, "Contact")}
    assert set(Contact.objects.filter(deleted=False).values_list("id", flat=True)) == contacts
    # The backfill read every record in full: the detail, and each card's to-dos and history.
    assert not Card.objects.filter(completeness=Completeness.ROW).exists()
    assert not Card.objects.filter(todos_synced_at__isnull=True).exists()
    assert not Contact.objects.filter(completeness=Completeness.ROW).exists()
    card = Card.objects.get(pk=2056)
    detail = crm.card(2056)
    assert card.data["VarhatoArbevetel"] == detail["VarhatoArbevetel"]
    assert card.name == detail["Name"]
    assert card.status_group  # learned from the status-group passes
    todos = crm.get("/Api/R3/ToDoList/2056", Status="All")["Results"]
    assert set(ToDo.objects.filter(card_id=2056).values_list("id", flat=True)) == {
        int(row["Id"]) for row in (todos.values() if isinstance(todos, dict) else todos)
    }


def test_the_first_fill_lists_every_module_before_the_backfill_reads_details(crm: Crm) -> None:
    crm.clear_log()
    fill()
    paths = [path for _, path, _ in crm.requests("GET")]
    first_detail = next(i for i, path in enumerate(paths) if path.startswith("/Api/R3/Project/"))
    last_list = max(i for i, path in enumerate(paths) if path == "/Api/R3/Project")
    last_contacts = max(i for i, path in enumerate(paths) if path == "/Api/R3/Contact")
    assert last_list < first_detail
    assert last_contacts < first_detail


def test_a_fill_interrupted_after_some_pages_resumes_from_the_next_page(crm: Crm) -> None:
    client = services.sync_client()
    services.modules_sync(client=client)
    state = services.pass_next()
    assert state is not None
    services.pass_step(state=state, client=client)
    services.pass_step(state=SyncState.objects.get(key=state.key), client=client)
    progress = SyncState.objects.get(key=state.key)
    assert progress.pass_started_at is not None
    assert (progress.pass_group, progress.pass_page) != (0, 0)
    crm.clear_log()

    fill()  # a new process: it knows only what the database holds

    assert SyncState.objects.get(key=state.key).filled_at is not None
    lists = sum(1 for _, path, _ in crm.requests("GET") if path == "/Api/R3/Project")
    # Every list page of every module once, less the two read before the interruption (the
    # incremental poll's and the backfill's requests are not list pages of a module).
    pages = sum(
        max(
            1,
            -(
                -int(crm.get("/Api/R3/Project", CategoryId=module, StatusGroup=group)["Count"])
                // 100
            ),
        )
        for module in module_ids(crm)
        for group in services.STATUS_GROUPS
    )
    polls = sum(
        1 for state in SyncState.objects.filter(key="poll:Project", polled_at__isnull=False)
    )
    assert lists == pages - 2 + polls
    module = int(state.key.split(":")[1])
    assert Card.objects.filter(category_id=module).count() == len(
        every_row(crm, "Project", CategoryId=module)
    )


def test_a_webhook_updates_the_row_at_once_and_a_late_older_one_is_ignored(crm: Crm) -> None:
    fill()
    card = Card.objects.get(pk=2056)
    newer = (card.updated_at or timezone.now()) + timedelta(minutes=5)
    stamp = minicrm_naive(newer).strftime("%Y-%m-%d %H:%M:%S")
    older = minicrm_naive(newer - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
    data = {"CategoryId": str(card.category_id), "Name": "Renamed by webhook", "UpdatedAt": stamp}

    services.webhook_apply(object_type="Project", object_id=2056, data=data)
    services.webhook_apply(
        object_type="Project",
        object_id=2056,
        data={**data, "Name": "An older change", "UpdatedAt": older},
    )

    card.refresh_from_db()
    assert card.name == "Renamed by webhook"
    assert card.data["Name"] == "Renamed by webhook"
    assert card.stale_since is not None  # the sync reads it again
    assert " renamed by webhook" in card.search_text


def test_the_poll_catches_a_change_made_in_minicrm_without_webhooks(crm: Crm) -> None:
    fill()
    crm.put("/Api/R3/Project/2056", {"Name": "Changed in MiniCRM directly"})
    make_due("poll:Project", polled_at=timezone.now() - timedelta(hours=1))

    fill()

    assert Card.objects.get(pk=2056).name == "Changed in MiniCRM directly"
    assert Card.objects.get(pk=2056).stale_since is None  # read in full again


def test_the_poll_brings_a_contact_changed_in_minicrm(crm: Crm) -> None:
    fill()
    person = Contact.objects.filter(type="Person", deleted=False).first()
    assert person is not None
    crm.put(f"/Api/R3/Contact/{person.pk}", {"Email": "new.address@example.com"})
    make_due("poll:Contact", polled_at=timezone.now() - timedelta(hours=1))

    fill()

    person.refresh_from_db()
    assert person.email == "new.address@example.com"


def test_a_card_created_in_minicrm_is_found_by_the_poll_with_its_module(crm: Crm) -> None:
    fill()
    created = crm.put(
        "/Api/R3/Project/", {"CategoryId": Card.objects.get(pk=2056).category_id, "Name": "New"}
    )
    make_due("poll:Project", polled_at=timezone.now() - timedelta(hours=1))

    fill()

    card = Card.objects.get(pk=int(created["Id"]))
    assert card.name == "New"
    assert card.category_id == Card.objects.get(pk=2056).category_id
    assert card.has_detail


def test_the_rescan_finds_a_card_deleted_in_minicrm(crm: Crm) -> None:
    fill()
    crm.put("/Api/R3/Project/2056", {"Deleted": 1})
    module = Card.objects.get(pk=2056).category_id
    # No webhook, and the poll's window is past: only the rescan can see it.
    make_due("poll:Project", polled_at=timezone.now())
    make_due(f"module:{module}", rescanned_at=timezone.now() - timedelta(days=1))

    fill()

    assert Card.objects.get(pk=2056).deleted
    rescanned = SyncState.objects.get(key=f"module:{module}").rescanned_at
    assert rescanned is not None
    assert rescanned > timezone.now() - timedelta(minutes=1)


def test_a_write_that_lands_shows_in_the_mirror_before_any_sync(crm: Crm, admin_user: Any) -> None:
    from apps.cards.services import card_update
    from apps.writes.services import write_send

    fill()
    write = card_update(
        card_id=2056,
        category_id=Card.objects.get(pk=2056).category_id,
        changes={"Name": "Saved by a person"},
        user=admin_user,
    )
    assert write is not None
    write_send(write.pk)

    card = Card.objects.get(pk=2056)
    assert card.name == "Saved by a person"
    assert card.stale_since is not None  # the next read confirms it

    fill()
    assert Card.objects.get(pk=2056).name == "Saved by a person"


def test_a_list_page_the_mirror_cannot_store_is_shown_on_the_sync_page_and_read_again(
    crm: Crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import DataError

    from apps.mirror import store
    from apps.mirror.selectors import sync_overview

    def refused(*args: Any, **kwargs: Any) -> None:  # as PostgreSQL refuses a value too long
        raise DataError("value too long for type character varying(1024)")

    monkeypatch.setattr(store, "card_store_row", refused)
    report = fill()

    assert report.errors == 3 and not report.caught_up  # three tries, then the run stops
    errors = {error.key: error.error for error in sync_overview().errors}
    assert "value too long for type character varying(1024)" in errors.values()
    monkeypatch.undo()
    assert fill().caught_up
    assert sync_overview().errors == []
    assert Card.objects.count() == sum(
        len(every_row(crm, "Project", CategoryId=category_id)) for category_id in module_ids(crm)
    )


def test_a_mirror_that_cannot_take_a_landed_write_leaves_it_done_and_sent_once(
    crm: Crm, admin_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection

    from apps.cards.services import card_update
    from apps.mirror import store
    from apps.writes.models import Write
    from apps.writes.services import write_send

    fill()

    def broken(**kwargs: Any) -> None:  # a database error, which spoils a transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(store, "card_store_write", broken)
    write = card_update(
        card_id=2056,
        category_id=Card.objects.get(pk=2056).category_id,
        changes={"Name": "Landed all the same"},
        user=admin_user,
    )
    assert write is not None
    write_send(write.pk)
    write_send(write.pk)

    write.refresh_from_db()
    assert write.state == Write.State.DONE
    assert write.attempts == 1
    assert crm.get("/Api/R3/Project/2056")["Name"] == "Landed all the same"
    monkeypatch.undo()
    services.record_mark_stale(object_type="project", object_id=2056)
    fill()
    assert Card.objects.get(pk=2056).name == "Landed all the same"


def test_an_order_s_card_follows_the_order_into_the_mirror(crm: Crm, admin_user: Any) -> None:
    from apps.orders.services import order_create, order_transition
    from apps.writes.services import write_send

    fill()
    created = order_create(
        customer_id=225,
        currency="HUF",
        items=[{"Name": "Kábel", "PriceNet": "1000", "Quantity": "1", "VAT": "27%", "Unit": "db"}],
        user=admin_user,
    )
    write_send(created.pk)
    created.refresh_from_db()
    order_id = int(created.target_id or 0)
    card_id = int((created.result or {})["order"]["project_id"])
    fill()
    assert Card.objects.get(pk=card_id).status_id == 2700  # Piszkozat

    for action in ("finalize", "complete", "paid"):
        write_send(order_transition(order_id=order_id, action=action, user=admin_user).pk)
    assert Card.objects.get(pk=card_id).stale_since is not None  # the sync reads it again
    fill()

    assert crm.get(f"/Api/R3/Project/{card_id}")["StatusId"] == "Teljesítve"
    assert Card.objects.get(pk=card_id).status_id == 2701  # Teljesítve


def test_the_status_history_is_mirrored(crm: Crm) -> None:
    fill()
    history = crm.get("/Api/R3/ProjectHistory/2056", Type="StatusHistory")
    rows = history.get("Results", history)
    expected = {int(row["Id"]) for row in (rows.values() if isinstance(rows, dict) else rows)}
    assert set(StatusChange.objects.filter(card_id=2056).values_list("id", flat=True)) == expected


def test_only_one_sync_runs_at_a_time(crm: Crm) -> None:
    connection = crm.redis
    connection.set(f"{services.LOCK_KEY}:{crm.sandbox.system_id}", "someone else", px=10_000)

    assert not services.sync_run(seconds=1).ran
    assert not Card.objects.exists()


def test_a_to_do_created_in_the_console_is_listed_on_its_card_at_once(
    crm: Crm, admin_user: Any
) -> None:
    from apps.todos.services import todo_create
    from apps.writes.services import write_send

    fill()
    write = todo_create(project_id=2056, values={"Comment": "Call back"}, user=admin_user)
    write_send(write.pk)
    write.refresh_from_db()

    assert write.target_id is not None
    todo = ToDo.objects.get(pk=write.target_id)
    assert (todo.card_id, todo.comment, todo.status) == (2056, "Call back", "Open")


def test_a_schema_read_while_the_sync_lists_its_module_keeps_the_listed_row(crm: Crm) -> None:
    # A page reads a card of a module the mirror has no row for; while its schema is read,
    # the worker's sync lists the module (a row of its own, same id).
    category_id = module_ids(crm)[0]
    client = services.sync_client()
    real_request = client.request

    def request_while_listed(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        answer = real_request(method, path, *args, **kwargs)
        Module.objects.create(id=category_id, name="Listed meanwhile", listed=True)
        return answer

    client.request = request_while_listed  # type: ignore[method-assign]
    services.schema_ensure(category_id=category_id, client=client)

    module = Module.objects.get(pk=category_id)
    assert (module.name, module.listed) == ("Listed meanwhile", True)
    assert module.schema  # the schema read is stored on it
