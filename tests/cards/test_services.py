"""Card changes: checked against the module's schema, queued as writes, sent in this process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.cards.services import card_create, card_update, cards_bulk_update
from apps.writes.models import BulkJob, Write
from apps.writes.services import write_send
from minicrm.resources.schema import SchemaValidationError
from tests.conftest import Sandbox, SandboxStarter
from tests.writes.support import Crm, private_crm

pytestmark = pytest.mark.django_db

QUALIFICATION = "AutoSalesV3_Qualification"


@pytest.fixture
def crm(settings: Settings, sandbox_factory: SandboxStarter, redis_url: str) -> Iterator[Crm]:
    yield from private_crm(settings, sandbox_factory, redis_url)


@pytest.fixture
def anna(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user(username="anna", password="x")


def reload(write: Write) -> Write:
    return Write.objects.get(pk=write.pk)


# -- the record --------------------------------------------------------------------------------


def test_card_update_records_who_asked_what_changed_and_what_they_saw(
    minicrm_settings: Sandbox, anna: User
) -> None:
    write = card_update(
        card_id=2056,
        category_id=10,
        changes={QUALIFICATION: "Célcsoport", "VarhatoArbevetel": "2500000"},
        seen={QUALIFICATION: "VIP", "VarhatoArbevetel": 1000000, "Name": "not changed"},
        user=anna,
    )

    assert write is not None
    write = reload(write)
    assert write.requested_by == anna
    assert write.kind == Write.Kind.PROJECT_UPDATE
    assert (write.target_type, write.target_id) == ("project", 2056)
    # Only the changed fields, cleaned the way MiniCRM takes them (a dropdown by its id).
    assert write.payload == {QUALIFICATION: 3102, "VarhatoArbevetel": 2500000}
    assert write.seen == {QUALIFICATION: "VIP", "VarhatoArbevetel": 1000000}
    assert isinstance(write.reference, uuid.UUID)
    assert (write.state, write.attempts, write.uncertain) == (Write.State.QUEUED, 0, False)
    assert (write.last_error, write.result, write.done_at) == ("", None, None)
    # Queued, not sent: MiniCRM still has the old value.
    answer = minicrm_settings.get("/Api/R3/Project/2056").json()
    assert answer[QUALIFICATION] == "VIP"


@pytest.mark.parametrize("character", ["\x00", "\ud800"], ids=["nul", "lone-surrogate"])
def test_a_seen_value_postgresql_cannot_store_is_left_out_of_the_check(
    minicrm_settings: Sandbox, character: str
) -> None:
    """`seen` comes back from the browser as JSON, where the escapes \\u0000 and \\ud800 pass
    the form's checks; PostgreSQL's jsonb cannot store them (SQLite could): the save was a 500
    there."""
    write = card_update(
        card_id=2056,
        category_id=10,
        changes={QUALIFICATION: "Célcsoport", "VarhatoArbevetel": "2500000"},
        seen={QUALIFICATION: f"V{character}IP", "VarhatoArbevetel": 1000000},
    )

    assert write is not None
    write = reload(write)
    assert write.payload == {QUALIFICATION: 3102, "VarhatoArbevetel": 2500000}
    assert write.seen == {"VarhatoArbevetel": 1000000}


def test_card_update_by_an_anonymous_caller_records_no_user(minicrm_settings: Sandbox) -> None:
    write = card_update(card_id=2056, category_id=10, changes={"Name": "X"}, user=AnonymousUser())

    assert write is not None
    assert reload(write).requested_by is None


def test_card_update_without_changes_queues_nothing(minicrm_settings: Sandbox) -> None:
    assert card_update(card_id=2056, category_id=10, changes={}) is None
    assert not Write.objects.exists()


def test_card_create_carries_a_reference_minicrm_can_be_searched_by(
    minicrm_settings: Sandbox, anna: User
) -> None:
    write = card_create(
        category_id=10, values={"Name": "Új érdeklődő", "ContactId": 7506}, user=anna
    )

    write = reload(write)
    assert write.kind == Write.Kind.PROJECT_CREATE
    assert (write.target_type, write.target_id, write.requested_by) == ("project", None, anna)
    assert write.payload == {
        "CategoryId": 10,
        "Name": "Új érdeklődő",
        "ContactId": 7506,
        "ReferenceId": f"crmconsole-{write.reference}",
    }


def test_card_create_keeps_a_reference_it_was_given(minicrm_settings: Sandbox) -> None:
    write = card_create(category_id=10, values={"Name": "Importált", "ReferenceId": "ERP-4711"})

    assert reload(write).payload["ReferenceId"] == "ERP-4711"


# -- checked before anything is queued ----------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({QUALIFICATION: "Nagyon VIP"}, QUALIFICATION, "'Nagyon VIP' is not one of the choices."),
        ({"Name": "x" * 513}, "Name", "At most 512 characters (it has 513)."),
        ({"Kedvenc": "Alma"}, "Kedvenc", "MiniCRM has no such field."),
        ({"Id": 1}, "Id", "This field cannot be changed."),
        ({"CreatedAt": "2020-01-01 00:00:00"}, "CreatedAt", "This field cannot be changed."),
        ({"CategoryId": 5}, "CategoryId", "This field cannot be changed."),
        ({"VarhatoArbevetel": "sok"}, "VarhatoArbevetel", "Enter a whole number."),
    ],
)
def test_card_update_refuses_what_the_schema_refuses_and_queues_nothing(
    minicrm_settings: Sandbox, changes: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(SchemaValidationError) as refused:
        card_update(card_id=2056, category_id=10, changes={"Name": "Jó név", **changes})

    assert refused.value.errors == {field: message}
    assert not Write.objects.exists()


def test_card_create_needs_a_name(minicrm_settings: Sandbox) -> None:
    with pytest.raises(SchemaValidationError) as refused:
        card_create(category_id=10, values={"ContactId": 7506})

    assert refused.value.errors == {"Name": "This field is required."}
    assert not Write.objects.exists()


# -- sending -----------------------------------------------------------------------------------


def test_a_sent_card_create_stores_the_new_card_id(crm: Crm) -> None:
    write = card_create(category_id=10, values={"Name": "Küldött kártya", "ContactId": 7506})

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.state == Write.State.DONE
    found = crm.cards_with_reference(f"crmconsole-{write.reference}")
    assert [card["Id"] for card in found] == [write.target_id]
    card = crm.card(found[0]["Id"])
    assert (card["Name"], card["CategoryId"], card["ContactId"]) == ("Küldött kártya", 10, 7506)


def crashed_after_sending(crm: Crm, write: Write, **state: Any) -> int:
    """MiniCRM created the card, then the sender died before it could record the answer."""
    card_id = int(crm.put("/Api/R3/Project/", write.payload)["Id"])
    Write.objects.filter(pk=write.pk).update(**state)
    crm.clear_log()
    return card_id


@pytest.mark.parametrize(
    "state",
    [
        # The worker was killed mid-send: the write is still "sending".
        {"state": Write.State.SENDING, "sending_since": timezone.now() - timedelta(hours=1)},
        # The connection broke after the request went out: queued again, uncertain.
        {"state": Write.State.QUEUED, "uncertain": True, "attempts": 1},
    ],
    ids=["sending", "uncertain"],
)
def test_a_card_create_that_may_have_reached_minicrm_is_found_not_duplicated(
    crm: Crm, state: dict[str, Any]
) -> None:
    write = card_create(category_id=10, values={"Name": "Talán már létezik", "ContactId": 7506})
    card_id = crashed_after_sending(crm, write, **state)

    assert write_send(write.pk) == 1

    write = reload(write)
    assert (write.state, write.target_id, write.uncertain) == (Write.State.DONE, card_id, False)
    assert write.result == {"found": True}
    assert len(crm.cards_with_reference(f"crmconsole-{write.reference}")) == 1
    assert crm.requests("PUT") == []


def test_an_uncertain_card_create_that_never_arrived_is_sent(crm: Crm) -> None:
    write = card_create(category_id=10, values={"Name": "Nem érkezett meg", "ContactId": 7506})
    Write.objects.filter(pk=write.pk).update(uncertain=True, attempts=1)

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.state == Write.State.DONE
    found = crm.cards_with_reference(f"crmconsole-{write.reference}")
    assert [card["Id"] for card in found] == [write.target_id]


# -- bulk changes ------------------------------------------------------------------------------


def test_a_bulk_change_queues_one_write_per_card_as_one_job(
    minicrm_settings: Sandbox, anna: User
) -> None:
    job = cards_bulk_update(
        card_ids=[2056, 2001, 29592, 2001],
        category_id=10,
        changes={"StatusId": "Sikeres", QUALIFICATION: "Hideg"},
        description="Lezárás",
        user=anna,
    )

    job = BulkJob.objects.get(pk=job.pk)
    assert (job.total, job.created_by, job.description) == (3, anna, "Lezárás")
    writes = list(job.writes.order_by("id"))
    assert [w.target_id for w in writes] == [2056, 2001, 29592]
    for write in writes:
        assert write.kind == Write.Kind.PROJECT_UPDATE
        assert write.payload == {"StatusId": 2623, QUALIFICATION: 3105}
        assert (write.requested_by, write.state) == (anna, Write.State.QUEUED)


def test_a_bulk_change_with_a_long_value_is_queued_under_a_shortened_description(
    minicrm_settings: Sandbox,
) -> None:
    """The bulk form takes values of up to 1000 characters, and its description quotes the
    value: PostgreSQL refuses a description longer than its column (SQLite kept it)."""
    value = "Hosszú megjegyzés " * 28  # 504 characters: the most a card name may have

    job = cards_bulk_update(
        card_ids=[2056, 2001],
        category_id=10,
        changes={"Name": value},
        description=f"Name to “{value}” on 2 cards",
    )

    job = BulkJob.objects.get(pk=job.pk)
    limit = BulkJob._meta.get_field("description").max_length
    assert len(job.description) == limit
    assert job.description.startswith("Name to “Hosszú megjegyzés Hosszú")
    assert job.description.endswith("…")
    assert [w.payload for w in job.writes.order_by("id")] == [{"Name": value}] * 2


def test_a_bulk_change_the_schema_refuses_queues_nothing(minicrm_settings: Sandbox) -> None:
    with pytest.raises(SchemaValidationError):
        cards_bulk_update(
            card_ids=[2056, 2001],
            category_id=10,
            changes={"StatusId": "Nincs ilyen"},
            description="Rossz",
        )

    assert not BulkJob.objects.exists()
    assert not Write.objects.exists()


def test_a_sent_bulk_change_reaches_every_card(crm: Crm) -> None:
    job = cards_bulk_update(
        card_ids=[2056, 2001, 29592],
        category_id=10,
        changes={"StatusId": "Sikeres"},
        description="Mind sikeres",
    )
    first = job.writes.order_by("id").first()
    assert first is not None

    assert write_send(first.pk) == 3  # one task drains the job

    assert set(job.writes.values_list("state", flat=True)) == {Write.State.DONE}
    assert [crm.card(i)["StatusId"] for i in (2056, 2001, 29592)] == ["Sikeres"] * 3
