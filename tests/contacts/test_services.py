"""Contact changes: checked against the schema, queued as writes, sent in this process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.contacts.services import contact_create, contact_purge, contact_update
from apps.writes.models import Write
from apps.writes.services import write_send
from minicrm.resources.schema import SchemaValidationError
from tests.conftest import Sandbox, SandboxStarter
from tests.writes.support import Crm, private_crm

pytestmark = pytest.mark.django_db

PERSON = {"FirstName": "Zsófia", "LastName": "Kertész", "Email": "zsofia@kertesz.hu"}


@pytest.fixture
def crm(settings: Settings, sandbox_factory: SandboxStarter, redis_url: str) -> Iterator[Crm]:
    yield from private_crm(settings, sandbox_factory, redis_url)


def reload(write: Write) -> Write:
    return Write.objects.get(pk=write.pk)


def contacts_with_email(crm: Crm, email: str) -> list[int]:
    return [int(row["Id"]) for row in crm.get("/Api/R3/Contact", Email=email)["Results"].values()]


# -- the record and the checks ------------------------------------------------------------------


def test_contact_create_records_the_new_person(
    minicrm_settings: Sandbox, django_user_model: type[User]
) -> None:
    user = django_user_model.objects.create_user(username="bela", password="x")

    write = reload(contact_create(contact_type="Person", values=PERSON, user=user))

    assert write.kind == Write.Kind.CONTACT_CREATE
    assert (write.target_type, write.target_id, write.requested_by) == ("contact", None, user)
    assert write.payload == {**PERSON, "Type": "Person"}
    assert (write.state, write.attempts) == (Write.State.QUEUED, 0)


def test_contact_update_records_only_the_changed_fields(minicrm_settings: Sandbox) -> None:
    write = contact_update(
        contact_id=7506,
        contact_type="Person",
        changes={"Phone": "06 (30) 111 2222", "KedvencEtele": "Sajt"},
        seen={"Phone": "06 (20) 236 7532", "Email": "norbert@minicrm.hu"},
    )

    assert write is not None
    write = reload(write)
    assert (write.kind, write.target_id) == (Write.Kind.CONTACT_UPDATE, 7506)
    assert write.payload == {"Phone": "06 (30) 111 2222", "KedvencEtele": 2003}
    assert write.seen == {"Phone": "06 (20) 236 7532"}


@pytest.mark.parametrize(
    ("contact_type", "values", "errors"),
    [
        ("Person", {"LastName": "Névtelen"}, {"FirstName": "This field is required."}),
        ("Business", {"Email": "info@ceg.hu"}, {"Name": "This field is required."}),
        (
            "Person",
            {**PERSON, "Email": "a" * 120 + "@pelda.hu"},
            {"Email": "At most 128 characters (it has 129)."},
        ),
        ("Person", {**PERSON, "Becenev": "Zsofi"}, {"Becenev": "MiniCRM has no such field."}),
        (
            "Person",
            {**PERSON, "CreatedAt": "2020-01-01"},
            {"CreatedAt": "This field cannot be changed."},
        ),
        (
            "Person",
            {**PERSON, "KedvencEtele": "Pizza"},
            {"KedvencEtele": "'Pizza' is not one of the choices."},
        ),
    ],
)
def test_contact_create_refuses_what_the_schema_refuses_and_queues_nothing(
    minicrm_settings: Sandbox, contact_type: str, values: dict[str, Any], errors: dict[str, str]
) -> None:
    with pytest.raises(SchemaValidationError) as refused:
        contact_create(contact_type=contact_type, values=values)

    assert refused.value.errors == errors
    assert not Write.objects.exists()


def test_a_contacts_type_cannot_change(minicrm_settings: Sandbox) -> None:
    with pytest.raises(SchemaValidationError) as refused:
        contact_update(contact_id=7506, contact_type="Person", changes={"Type": "Business"})

    assert refused.value.errors == {"Type": "This field cannot be changed."}
    assert not Write.objects.exists()


# -- sending -----------------------------------------------------------------------------------


def test_a_sent_contact_create_stores_the_new_id(crm: Crm) -> None:
    write = contact_create(contact_type="Person", values=PERSON)

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.state == Write.State.DONE
    assert contacts_with_email(crm, PERSON["Email"]) == [write.target_id]
    contact = crm.get(f"/Api/R3/Contact/{write.target_id}")
    assert (contact["FirstName"], contact["LastName"]) == ("Zsófia", "Kertész")


def test_a_sent_contact_update_is_in_minicrm(crm: Crm) -> None:
    write = contact_update(contact_id=7506, contact_type="Person", changes={"KedvencEtele": "Sajt"})
    assert write is not None

    assert write_send(write.pk) == 1

    assert reload(write).state == Write.State.DONE
    assert crm.get("/Api/R3/Contact/7506")["KedvencEtele"] == "Sajt"


def test_a_contact_update_over_a_changed_field_stops_as_a_conflict(crm: Crm) -> None:
    crm.put("/Api/R3/Contact/7506", {"Email": "norbert.lesko@minicrm.hu"})
    write = contact_update(
        contact_id=7506,
        contact_type="Person",
        changes={"Email": "lesko@minicrm.hu"},
        seen={"Email": "norbert@minicrm.hu"},
    )
    assert write is not None

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.CONFLICT
    assert write.result == {
        "conflict": {
            "Email": {
                "seen": "norbert@minicrm.hu",
                "now": "norbert.lesko@minicrm.hu",
                "mine": "lesko@minicrm.hu",
            }
        }
    }
    assert crm.get("/Api/R3/Contact/7506")["Email"] == "norbert.lesko@minicrm.hu"


def crashed_after_sending(crm: Crm, write: Write, sending_since: datetime) -> int:
    """MiniCRM created the person, then the sender died before it could record the answer."""
    Write.objects.filter(pk=write.pk).update(
        state=Write.State.SENDING, sending_since=sending_since, attempts=1
    )
    contact_id = int(crm.put("/Api/R3/Contact/", write.payload)["Id"])
    crm.clear_log()
    return contact_id


def test_a_contact_create_that_may_have_reached_minicrm_is_found_not_duplicated(
    crm: Crm,
) -> None:
    write = contact_create(contact_type="Person", values=PERSON)
    contact_id = crashed_after_sending(crm, write, timezone.now() - timedelta(seconds=10))

    assert write_send(write.pk) == 1

    write = reload(write)
    assert (write.state, write.target_id) == (Write.State.DONE, contact_id)
    assert write.result == {"found": True}
    assert contacts_with_email(crm, PERSON["Email"]) == [contact_id]
    assert crm.requests("PUT") == []


def test_an_older_contact_with_other_fields_is_not_taken_for_the_new_one(crm: Crm) -> None:
    crm.put("/Api/R3/Contact/", {"Type": "Person", "FirstName": "Másik", "Email": PERSON["Email"]})
    write = contact_create(contact_type="Person", values=PERSON)
    Write.objects.filter(pk=write.pk).update(uncertain=True, attempts=1)

    assert write_send(write.pk) == 1

    write = reload(write)
    assert write.result is None  # created, not found
    assert write.target_id in contacts_with_email(crm, PERSON["Email"])
    assert crm.get(f"/Api/R3/Contact/{write.target_id}")["FirstName"] == "Zsófia"


def test_a_contact_create_resumed_after_the_stale_timeout_is_not_duplicated(
    crm: Crm, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = contact_create(contact_type="Person", values=PERSON)
    contact_id = crashed_after_sending(crm, write, timezone.now())
    # The sweep resumes the write once it has been "sending" for longer than the stale limit.
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=6))

    write_send(write.pk)

    assert contacts_with_email(crm, PERSON["Email"]) == [contact_id]


def test_purging_a_person_deletes_them(crm: Crm) -> None:
    write = contact_purge(contact_id=7507)
    assert (write.kind, write.target_id, write.payload) == (Write.Kind.CONTACT_PURGE, 7507, {})

    assert write_send(write.pk) == 1

    assert reload(write).state == Write.State.DONE
    assert crm.sandbox.get("/Api/R3/Contact/7507").status_code == 404


def test_purging_a_cards_main_contact_fails_with_minicrms_reason(crm: Crm) -> None:
    write = contact_purge(contact_id=7506)

    assert write_send(write.pk) == 0

    write = reload(write)
    assert write.state == Write.State.FAILED
    assert write.last_error == "The person is marked as the main contact on one or more cards."
    assert crm.get("/Api/R3/Contact/7506")["FirstName"] == "Norbert"


def test_an_uncertain_purge_of_a_person_already_gone_is_done_without_sending(crm: Crm) -> None:
    write = contact_purge(contact_id=7507)
    assert crm.sandbox.get("/Api/R3/PurgePerson/7507").status_code == 200  # the lost attempt
    Write.objects.filter(pk=write.pk).update(uncertain=True, attempts=1)
    crm.clear_log()

    assert write_send(write.pk) == 1

    assert reload(write).state == Write.State.DONE
    assert [path for _, path, _ in crm.requests()] == ["/Api/R3/Contact/7507"]
