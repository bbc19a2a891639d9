"""The receiver MiniCRM posts to: stored before it is answered, checked by HTTP Basic
credentials, never keeping them; malformed and oversized bodies, duplicates and deliveries out
of order.

The view runs in this process through Django's test client (with `django_db` nothing is
started after commit) and, where the wire matters, over real HTTP on the live server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from django.test import Client
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from apps.cards.selectors import card_get
from apps.webhooks.models import Event
from apps.webhooks.services import api_url, event_process
from tests.conftest import free_port
from tests.viewsupport import use_broker
from tests.webhooks.automations import runs
from tests.webhooks.support import (
    PASSWORD,
    Gunicorn,
    basic,
    card_message,
    deliver,
    make_handler,
)
from tests.writes.conftest import QueueRig
from tests.writes.support import Crm

pytestmark = pytest.mark.django_db


# -- credentials ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "wrong-password",
        "wrong-user",
        "Bearer abc",
        "Basic not base64!",
        "Basic " + "//79",  # bytes that are not UTF-8
    ],
)
def test_wrong_or_missing_credentials_are_refused_and_nothing_is_stored(
    client: Client, authorization: str | None
) -> None:
    handler = make_handler()
    if authorization == "wrong-password":
        authorization = basic(handler.username, PASSWORD + "x")
    elif authorization == "wrong-user":
        authorization = basic("minicrm-other", PASSWORD)

    answer = deliver(client, handler, card_message(), authorization=authorization)

    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Basic realm=")
    assert Event.objects.count() == 0


def test_another_handler_s_credentials_do_not_open_this_one(client: Client) -> None:
    mine = make_handler()
    other = make_handler(name="Other", slug="other")

    answer = deliver(client, mine, card_message(), authorization=basic(other.username, PASSWORD))

    assert answer.status_code == 401
    assert Event.objects.count() == 0


def test_an_unknown_address_is_refused_like_wrong_credentials(client: Client) -> None:
    answer = client.post(
        "/hooks/no-such-hook/",
        data=json.dumps(card_message()),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic("minicrm-x", "y"),
    )

    assert answer.status_code == 401
    assert Event.objects.count() == 0


# -- storing ----------------------------------------------------------------------------------


def test_a_valid_message_is_stored_with_body_and_headers_but_never_the_credentials(
    client: Client,
) -> None:
    handler = make_handler()
    body = json.dumps(card_message(), ensure_ascii=False).encode()

    answer = deliver(client, handler, body, HTTP_X_MINICRM_TRACE="trace-7")

    assert (answer.status_code, answer.content) == (200, b"OK\n")
    event = Event.objects.get()
    assert event.handler == handler
    assert event.status == Event.Status.RECEIVED
    assert event.body == body.decode()
    assert event.message == card_message()
    assert (event.object_type, event.object_id) == ("Project", 2056)
    assert event.changed == ["StatusId", "UpdatedAt"]
    assert event.headers["Content-Type"] == "application/json"
    assert event.headers["X-Minicrm-Trace"] == "trace-7"
    assert not [name for name in event.headers if name.lower() == "authorization"]
    # Nowhere in the stored row: neither the header nor the password itself.
    row = Event.objects.filter(pk=event.pk).values().get()
    assert PASSWORD not in json.dumps(row, default=str)
    assert basic(handler.username, PASSWORD) not in json.dumps(row, default=str)


def test_the_apiurl_shown_to_the_helpdesk_works_over_http(
    live_server: LiveServer, settings: Settings, console_redis: redis.Redis
) -> None:
    """The URL with user:password in it, as MiniCRM uses it, reaches the receiver over HTTP."""
    settings.CONSOLE_BASE_URL = live_server.url
    handler = make_handler()

    answer = requests.post(api_url(handler, PASSWORD), json=card_message(), timeout=10)
    refused = requests.post(
        f"{live_server.url}/hooks/{handler.slug}/", json=card_message(), timeout=10
    )

    assert answer.status_code == 200
    assert (refused.status_code, refused.headers["WWW-Authenticate"][:5]) == (401, "Basic")
    event = Event.objects.get()
    assert event.message == card_message()
    assert "Authorization" not in event.headers
    assert PASSWORD not in json.dumps(event.headers)


def test_the_receiver_needs_no_csrf_token(console_redis: redis.Redis) -> None:
    handler = make_handler()

    answer = deliver(Client(enforce_csrf_checks=True), handler, card_message())

    assert answer.status_code == 200
    assert Event.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        '{"Id": "2056", "Type": "Project", "Data": {',  # cut off
        "Id=2056&Type=Project",  # a form, not JSON
        '["2056", "Project"]',  # JSON, but not a message
        '{"Type": "Project", "Changed": ["StatusId"]}',  # no Id
    ],
)
def test_a_malformed_message_is_stored_as_malformed_and_answered_400(
    client: Client, body: str
) -> None:
    handler = make_handler()

    answer = deliver(client, handler, body)

    assert answer.status_code == 400
    event = Event.objects.get()
    assert (event.status, event.body, event.message) == (Event.Status.MALFORMED, body, None)
    assert "Authorization" not in event.headers


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"Data": "str"}, "Data is not a JSON object."),
        ({"Data": ["a"]}, "Data is not a JSON object."),
        ({"Data": {"CategoryId": "²"}}, "Data.CategoryId is not a MiniCRM id: '²'."),
        ({"Data": {"Type": {"x": 1}}}, "Data.Type is not text."),
        ({"Id": "²"}, "Id is not a MiniCRM id: '²'."),
        ({"Id": "-5"}, "Id is not a MiniCRM id: '-5'."),
        ({"Id": str(2**64 + 1)}, f"Id is not a MiniCRM id: '{2**64 + 1}'."),
        ({"Id": None}, "Id is not a MiniCRM id: 'None'."),
        ({"Type": 7}, "Type is not text."),
        ({"Changed": "StatusId"}, "Changed is not a list of field names."),
        ({"Changed": [["StatusId"]]}, "Changed is not a list of field names."),
        (
            {"Data": {"Deep": json.loads("[" * 100 + "]" * 100)}},
            "The message is nested too deeply.",
        ),
    ],
)
def test_a_message_of_a_shape_that_can_never_be_processed_is_malformed_with_the_reason(
    client: Client, console_redis: redis.Redis, change: dict, reason: str
) -> None:
    handler = make_handler()

    answer = deliver(client, handler, card_message() | change)

    assert answer.status_code == 400
    event = Event.objects.get()
    assert (event.status, event.last_error) == (Event.Status.MALFORMED, reason)
    assert event_process(event.pk) == Event.Status.MALFORMED
    assert runs() == {}


def test_json_nested_past_python_s_recursion_limit_is_malformed_not_a_500(client: Client) -> None:
    body = "[" * 100_000 + "]" * 100_000

    answer = deliver(client, make_handler(), body)

    assert answer.status_code == 400
    assert Event.objects.get().last_error == "The message is nested too deeply."


def test_a_disabled_handler_answers_410_and_stores_nothing(client: Client) -> None:
    handler = make_handler(enabled=False)

    answer = deliver(client, handler, card_message())
    wrong = deliver(client, handler, card_message(), authorization=basic(handler.username, "x"))

    assert answer.status_code == 410
    assert wrong.status_code == 401  # nothing is told to whoever has no credentials
    assert Event.objects.count() == 0
    handler.enabled = True
    handler.save()
    assert deliver(client, handler, card_message()).status_code == 200  # MiniCRM's retry


@pytest.mark.parametrize(
    ("sent", "escape"),
    [("\u0000", "\\u0000"), ("\ud800", "\\ud800")],
    ids=["nul", "lone-surrogate"],
)
def test_a_character_postgresql_cannot_store_is_stored_as_a_replacement_character(
    client: Client, sent: str, escape: str
) -> None:
    """PostgreSQL's jsonb holds no NUL and no lone surrogate (SQLite did): such a delivery was a
    500 there, never stored, and MiniCRM would have sent it again and again."""
    handler = make_handler()
    body = json.dumps(card_message(Name=f"Leskó{sent}Norbert"))
    assert escape in body  # the JSON escape, as MiniCRM would send it

    answer = deliver(client, handler, body)

    assert answer.status_code == 200
    event = Event.objects.get()
    assert (event.status, event.body) == (Event.Status.RECEIVED, body)
    assert event.message == card_message(Name="Leskó\ufffdNorbert")


def test_a_body_with_a_nul_byte_is_stored_as_malformed(client: Client) -> None:
    handler = make_handler()
    body = json.dumps(card_message()).encode() + b"\x00"

    answer = deliver(client, handler, body)

    assert answer.status_code == 400
    event = Event.objects.get()
    assert (event.status, event.body) == (Event.Status.MALFORMED, body.decode()[:-1] + "\ufffd")


def test_a_malformed_message_is_never_processed(client: Client, console_redis: redis.Redis) -> None:
    handler = make_handler()
    deliver(client, handler, "{not json")
    event = Event.objects.get()

    assert event_process(event.pk) == Event.Status.MALFORMED
    assert runs() == {}


def test_a_body_over_the_limit_is_answered_413_and_not_stored(
    client: Client, settings: Settings
) -> None:
    settings.WEBHOOK_MAX_BODY = 500
    handler = make_handler()
    small = card_message()
    large = card_message(Name="x" * 600)

    assert deliver(client, handler, large).status_code == 413
    assert Event.objects.count() == 0
    assert deliver(client, handler, small).status_code == 200
    assert Event.objects.count() == 1


def test_a_body_over_the_limit_is_refused_over_http_too(
    live_server: LiveServer, settings: Settings, console_redis: redis.Redis
) -> None:
    settings.WEBHOOK_MAX_BODY = 2000
    handler = make_handler()
    auth = (handler.username, PASSWORD)
    url = f"{live_server.url}/hooks/{handler.slug}/"

    huge = requests.post(url, json=card_message(Name="x" * 100_000), auth=auth, timeout=10)

    assert huge.status_code == 413
    assert Event.objects.count() == 0


def test_a_chunked_delivery_is_stored_with_its_body_under_gunicorn(
    queue_rig: QueueRig, tmp_path: Path, settings: Settings
) -> None:
    """No Content-Length, `Transfer-Encoding: chunked`: Django alone reads such a body as
    empty. Under gunicorn (as deployed) the whole body is stored; over the limit is 413."""
    queue_rig.env["WEBHOOK_MAX_BODY"] = "5000"
    server = Gunicorn(free_port(), queue_rig.env, tmp_path / "gunicorn.log")
    handler = make_handler()
    body = json.dumps(card_message(), ensure_ascii=False).encode()
    url = f"{server.url}/hooks/{handler.slug}/"

    def chunks(data: bytes, size: int = 100) -> Iterator[bytes]:
        yield from (data[i : i + size] for i in range(0, len(data), size))

    server.start()
    try:
        sent = requests.post(
            url,
            data=chunks(body),
            auth=(handler.username, PASSWORD),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        huge = requests.post(
            url,
            data=chunks(json.dumps(card_message(Name="x" * 6000)).encode()),
            auth=(handler.username, PASSWORD),
            timeout=10,
        )
    finally:
        server.stop()

    assert sent.request.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in sent.request.headers
    assert (sent.status_code, sent.text) == (200, "OK\n")
    assert huge.status_code == 413
    event = Event.objects.get()
    assert (event.status, event.body, event.message) == (
        Event.Status.RECEIVED,
        body.decode(),
        card_message(),
    )


def test_a_chunked_delivery_a_server_cannot_read_is_refused_not_stored_empty(
    client: Client,
) -> None:
    """Django's development server hands a chunked body on as empty: 411 asks for a length
    (MiniCRM sends again) instead of storing an empty, malformed event."""
    handler = make_handler()

    answer = deliver(client, handler, card_message(), HTTP_TRANSFER_ENCODING="chunked")

    assert answer.status_code == 411
    assert Event.objects.count() == 0


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_only_post_is_accepted(client: Client, method: str) -> None:
    handler = make_handler()

    answer = deliver(client, handler, card_message(), method=method)
    anonymous = deliver(client, handler, card_message(), method=method, authorization=None)

    assert (answer.status_code, answer["Allow"]) == (405, "POST")
    assert anonymous.status_code == 401  # nothing is told to whoever has no credentials
    assert Event.objects.count() == 0


# -- duplicates and order ---------------------------------------------------------------------


def test_the_same_message_twice_is_stored_twice_and_processed_once(
    client: Client, console_redis: redis.Redis
) -> None:
    handler = make_handler()

    first = deliver(client, handler, card_message())
    again = deliver(client, handler, card_message())  # MiniCRM's retry: the same message

    assert (first.status_code, again.status_code) == (200, 200)
    original, duplicate = Event.objects.order_by("id")
    assert (original.status, duplicate.status) == (Event.Status.RECEIVED, Event.Status.DUPLICATE)
    assert duplicate.body == original.body
    assert event_process(original.pk) == Event.Status.PROCESSED
    assert event_process(duplicate.pk) == Event.Status.DUPLICATE
    assert event_process(original.pk) == Event.Status.PROCESSED  # a repeated task: no-op
    assert runs() == {original.pk: 1}


def test_the_same_message_to_two_handlers_is_processed_by_each(
    client: Client, console_redis: redis.Redis
) -> None:
    one = make_handler()
    two = make_handler(name="Second", slug="second")

    deliver(client, one, card_message())
    deliver(client, two, card_message())

    events = list(Event.objects.order_by("id"))
    assert [e.status for e in events] == [Event.Status.RECEIVED] * 2
    assert [event_process(e.pk) for e in events] == [Event.Status.PROCESSED] * 2
    assert runs() == {events[0].pk: 1, events[1].pk: 1}


def test_two_changes_of_a_card_out_of_order_are_each_processed_once_and_the_card_shows_the_last(
    client: Client, crm: Crm, settings: Settings
) -> None:
    """MiniCRM's message is a hint: the console reads the card again whatever the order.
    (Without the mirror: its own out-of-order rules are tests/mirror's.)"""
    settings.MIRROR_ENABLED = False
    crm.put("/Api/R3/Project/2056", {"StatusId": "Ajánlat kiküldve"})
    assert card_get(card_id=2056).fields["StatusId"] == "Ajánlat kiküldve"  # cached now
    crm.put("/Api/R3/Project/2056", {"StatusId": "Sikeres"})  # a user in MiniCRM
    handler = make_handler()
    earlier = card_message(StatusId="2621", updated_at="2026-11-29 10:00:01")
    later = card_message(StatusId="2623", updated_at="2026-11-29 10:00:02")

    assert deliver(client, handler, later).status_code == 200
    assert deliver(client, handler, earlier).status_code == 200

    events = list(Event.objects.order_by("id"))
    assert [(e.message or {})["Data"]["StatusId"] for e in events] == ["2623", "2621"]
    assert [event_process(e.pk) for e in events] == [Event.Status.PROCESSED] * 2
    assert runs() == {events[0].pk: 1, events[1].pk: 1}
    assert card_get(card_id=2056).fields["StatusId"] == "Sikeres"


def test_a_stored_message_is_answered_200_even_while_the_broker_is_down(
    live_server: LiveServer, settings: Settings, console_redis: redis.Redis
) -> None:
    """Stored is what counts: the sweep starts its processing once the broker is back."""
    settings.CONSOLE_BASE_URL = live_server.url
    use_broker(f"redis://127.0.0.1:{free_port()}/0")  # nobody listens there
    handler = make_handler()

    answer = requests.post(api_url(handler, PASSWORD), json=card_message(), timeout=30)

    assert answer.status_code == 200
    event = Event.objects.get()
    assert event.status == Event.Status.RECEIVED
