"""The loop guard: a handler whose own actions write a field it watches is refused when it is
saved, and a change that only echoes what the console's automations just wrote is recorded as
an echo and not acted on. The scenario with real webhooks, a real worker and the sandbox is in
test_end_to_end.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from apps.webhooks.models import Action, Event, Handler
from apps.webhooks.services import event_process, event_receive
from apps.writes.models import Write
from tests.viewsupport import dom, errors_of, form_data, logged_in
from tests.webhooks.automations import runs
from tests.webhooks.support import card_message, make_handler
from tests.writes.support import Crm

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, admin_account: User, crm: Crm) -> Client:
    """An admin, with a private sandbox to check handlers against (and subscribe them to)."""
    return logged_in(client, admin_account)


def handler_form(client: Client, url: str = "/webhooks/add/", **changes: Any) -> dict[str, Any]:
    page = dom(client.get(url))
    return form_data(page.find("form", class_="schema-form"), **changes)


def save(client: Client, url: str = "/webhooks/add/", **changes: Any) -> Any:
    return client.post(url, handler_form(client, url, **changes))


def new_handler(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Státuszváltás",
        "slug": "statusz",
        "type": "Project",
        "category_id": "10",
        "fields_text": "StatusId",
        **changes,
    }


# -- refused at save time ---------------------------------------------------------------------


def test_a_handler_that_writes_a_field_it_watches_is_refused_with_the_reason(
    admin_client: Client,
) -> None:
    answer = save(
        admin_client,
        **new_handler(
            fields_text="StatusId, UserId",
            **{"actions-0-kind": "set_fields", "actions-0-values": '{"StatusId": "Sikeres"}'},
        ),
    )

    assert answer.status_code == 200
    errors = errors_of(dom(answer).by_id("row-fields_text"))
    assert len(errors) == 1
    assert "These actions write StatusId, which this handler watches" in errors[0]
    assert "would come back as a new webhook and run it again, without end" in errors[0]
    assert not Handler.objects.exists()


def test_a_handler_without_a_filter_that_writes_anything_is_refused(admin_client: Client) -> None:
    answer = save(
        admin_client,
        **new_handler(
            fields_text="",
            **{
                "actions-0-kind": "create_todo",
                "actions-0-comment": "Hívd vissza",
                "actions-1-kind": "set_fields",
                "actions-1-values": '{"ReferenceId": "x", "Name": "y"}',
            },
        ),
    )

    errors = errors_of(dom(answer).by_id("row-fields_text"))
    assert (
        errors and "These actions write Name, ReferenceId, which this handler watches" in errors[0]
    )
    assert not Handler.objects.exists()


def test_a_handler_that_writes_other_fields_than_it_watches_is_saved(admin_client: Client) -> None:
    answer = save(
        admin_client,
        **new_handler(
            **{
                "actions-0-kind": "set_fields",
                "actions-0-values": '{"ReferenceId": "státusz változott"}',
                "actions-1-kind": "create_todo",
                "actions-1-comment": "Hívd fel",
                "actions-1-days": "2",
            }
        ),
    )

    handler = Handler.objects.get()
    assert (answer.status_code, answer["Location"]) == (302, f"/webhooks/{handler.pk}/")
    assert (handler.fields, handler.category_id) == (["StatusId"], 10)
    assert [(a.kind, a.config) for a in handler.actions.all()] == [
        ("set_fields", {"values": {"ReferenceId": "státusz változott"}}),
        ("create_todo", {"comment": "Hívd fel", "owner": None, "days": 2}),
    ]


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800"], ids=["nul", "lone-surrogate"])
def test_fields_to_set_postgresql_cannot_store_are_refused_at_the_field(
    admin_client: Client, escape: str
) -> None:
    """JSON's escapes pass the form's checks of the text; PostgreSQL's jsonb holds no NUL and
    no lone surrogate (SQLite did): saving such a handler was a 500 there."""
    answer = save(
        admin_client,
        **new_handler(
            **{
                "actions-0-kind": "set_fields",
                "actions-0-values": f'{{"ReferenceId": "a{escape}b"}}',
            }
        ),
    )

    assert answer.status_code == 200
    first_action = dom(answer).find("fieldset", class_="action-form")
    assert errors_of(first_action) == [
        "A value holds a character that cannot be stored (NUL or a lone surrogate)."
    ]
    assert not Handler.objects.exists()


def test_a_handler_edited_into_a_loop_is_refused_and_keeps_its_actions(
    admin_client: Client,
) -> None:
    handler = make_handler(actions=[("set_fields", {"values": {"ReferenceId": "a"}})])
    url = f"/webhooks/{handler.pk}/change/"

    answer = save(admin_client, url, fields_text="StatusId, ReferenceId")

    assert answer.status_code == 200
    assert "These actions write ReferenceId" in dom(answer).by_id("row-fields_text").text
    handler.refresh_from_db()
    assert handler.fields == ["StatusId"]
    assert [(a.kind, a.config) for a in handler.actions.all()] == [
        ("set_fields", {"values": {"ReferenceId": "a"}})
    ]


def test_the_edit_form_shows_the_saved_actions_again(admin_client: Client) -> None:
    handler = make_handler(actions=[("set_fields", {"values": {"ReferenceId": "á"}})])

    data = handler_form(admin_client, f"/webhooks/{handler.pk}/change/")

    assert data["fields_text"] == "StatusId"
    assert (data["actions-0-kind"], json.loads(data["actions-0-values"])) == (
        "set_fields",
        {"ReferenceId": "á"},
    )
    saved = admin_client.post(f"/webhooks/{handler.pk}/change/", data)  # saved unchanged
    assert saved.status_code == 302
    assert [a.config for a in Action.objects.filter(handler=handler)] == [
        {"values": {"ReferenceId": "á"}}
    ]


# -- echoes -----------------------------------------------------------------------------------


def automation_write(
    *,
    fields: dict[str, Any],
    card_id: int = 2056,
    ago: float = 2,
    state: str = Write.State.DONE,
    user: User | None = None,
) -> Write:
    """A write the console sent to MiniCRM `ago` seconds ago (by a handler unless `user`)."""
    return Write.objects.create(
        kind=Write.Kind.PROJECT_UPDATE,
        target_type="project",
        target_id=card_id,
        payload=fields,
        state=state,
        done_at=timezone.now() - timedelta(seconds=ago) if state == Write.State.DONE else None,
        requested_by=user,
    )


def process(handler: Handler, message: dict[str, Any]) -> str:
    event = event_receive(handler=handler, body=json.dumps(message).encode(), headers={}).event
    return event_process(event.pk)


def test_a_change_of_exactly_the_fields_an_automation_just_wrote_is_an_echo(
    console_redis: redis.Redis,
) -> None:
    handler = make_handler(fields=[])
    automation_write(fields={"ReferenceId": "auto", "Name": "x"})

    assert process(handler, card_message(changed=["ReferenceId"])) == Event.Status.ECHO
    assert runs() == {}
    assert Event.objects.get().results == []


def test_an_automation_write_still_being_sent_makes_an_echo_too(
    console_redis: redis.Redis,
) -> None:
    """MiniCRM may post the change before the worker has recorded MiniCRM's answer."""
    handler = make_handler(fields=[])
    automation_write(fields={"ReferenceId": "auto"}, state=Write.State.SENDING)

    assert process(handler, card_message(changed=["ReferenceId"])) == Event.Status.ECHO


@pytest.mark.parametrize(
    ("write", "why"),
    [
        ({"fields": {"ReferenceId": "auto"}}, "StatusId changed too: news"),
        ({"fields": {"ReferenceId": "auto", "StatusId": "x"}, "ago": 600}, "written long ago"),
        ({"fields": {"ReferenceId": "auto", "StatusId": "x"}, "card_id": 2001}, "another card"),
        ({"fields": {"ReferenceId": "a", "StatusId": "x"}, "state": "queued"}, "not sent yet"),
        ({"fields": {"ReferenceId": "a", "StatusId": "x"}, "state": "failed"}, "never landed"),
    ],
)
def test_changes_the_console_did_not_just_make_are_acted_on(
    console_redis: redis.Redis, write: dict[str, Any], why: str
) -> None:
    handler = make_handler(fields=[])
    automation_write(**write)

    assert process(handler, card_message(changed=["ReferenceId", "StatusId"])) == (
        Event.Status.PROCESSED
    ), why
    assert len(runs()) == 1


def test_a_change_a_person_made_in_the_console_is_acted_on(
    console_redis: redis.Redis, staff_user: User
) -> None:
    """Handlers react to changes made in the console, like to those made in MiniCRM."""
    handler = make_handler()
    automation_write(fields={"StatusId": "Sikeres"}, user=staff_user)

    assert process(handler, card_message(changed=["StatusId"])) == Event.Status.PROCESSED
    assert len(runs()) == 1
