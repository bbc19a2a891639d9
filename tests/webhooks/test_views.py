"""The admins' pages (handlers, what to send MiniCRM's helpdesk, the test event, the event log,
an event and its replay), who may see them, and the automations on a card page."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from apps.mirror.models import Contact as MirrorContact
from apps.mirror.models import Module as MirrorModule
from apps.webhooks.models import Event, Handler
from apps.webhooks.services import event_process, event_receive
from apps.writes.models import Write
from tests.conftest import Sandbox
from tests.viewsupport import dom, form_data, logged_in, messages_of
from tests.webhooks.automations import break_sync
from tests.webhooks.support import RECORDER, basic, card_message, contact_message, make_handler
from tests.writes.support import Crm

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, admin_account: User) -> Client:
    return logged_in(client, admin_account)


def stored(handler: Handler, message: dict[str, Any], status: str | None = None) -> Event:
    event = event_receive(handler=handler, body=json.dumps(message).encode(), headers={}).event
    if status:
        Event.objects.filter(pk=event.pk).update(status=status)
        event.refresh_from_db()
    return event


# -- who sees what ----------------------------------------------------------------------------

PAGES = [
    ("get", "/webhooks/"),
    ("get", "/webhooks/add/"),
    ("post", "/webhooks/add/"),
    ("get", "/webhooks/{handler}/"),
    ("get", "/webhooks/{handler}/change/"),
    ("post", "/webhooks/{handler}/change/"),
    ("post", "/webhooks/{handler}/test/"),
    ("post", "/webhooks/{handler}/rotate/"),
    ("get", "/webhooks/{handler}/delete/"),
    ("post", "/webhooks/{handler}/delete/"),
    ("get", "/webhooks/events/"),
    ("get", "/webhooks/events/{event}/"),
    ("post", "/webhooks/events/{event}/replay/"),
]


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_people_who_are_not_admins_get_403_on_handlers_and_events(
    client: Client, staff_user: User, method: str, url: str
) -> None:
    handler = make_handler()
    event = stored(handler, card_message(), Event.Status.FAILED)
    before = (Handler.objects.count(), Event.objects.count())

    answer = getattr(logged_in(client, staff_user), method)(
        url.format(handler=handler.pk, event=event.pk), {"name": "x", "slug": "x"}
    )

    assert answer.status_code == 403
    assert (Handler.objects.count(), Event.objects.count()) == before
    assert Event.objects.get().status == Event.Status.FAILED  # not replayed


@pytest.mark.parametrize(("method", "url"), PAGES)
def test_anonymous_visitors_are_sent_to_the_login(client: Client, method: str, url: str) -> None:
    handler = make_handler()
    event = stored(handler, card_message())

    answer = getattr(client, method)(url.format(handler=handler.pk, event=event.pk))

    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/?next=")


def test_the_navigation_offers_webhooks_to_admins_only(
    client: Client, staff_user: User, admin_account: User
) -> None:
    assert "/webhooks/" not in dom(logged_in(client, staff_user).get("/queue/")).links()
    assert "/webhooks/" in dom(logged_in(client, admin_account).get("/queue/")).links()


# -- handlers ---------------------------------------------------------------------------------


def test_the_handler_list_shows_each_handler_s_filter_and_actions(admin_client: Client) -> None:
    make_handler(actions=[("set_fields", {"values": {"ReferenceId": "a"}})])
    make_handler(
        name="New contacts",
        slug="contacts",
        type="Contact",
        category_id=None,
        fields=[],
        actions=[],
    )

    rows = dom(admin_client.get("/webhooks/")).by_id("handler-list").find("tbody").find_all("tr")

    assert [[cell.text for cell in row.children if not isinstance(cell, str)] for row in rows] == [
        ["New contacts", "Contact", "—", "any", "refresh only", "yes"],
        [
            "Status changes",
            "Card (Project)",
            "10",
            "StatusId",
            "Set fields on the card or contact",
            "yes",
        ],
    ]


def test_the_handler_page_shows_exactly_what_to_send_minicrm_s_helpdesk(
    admin_client: Client, settings: Settings
) -> None:
    settings.CONSOLE_BASE_URL = "https://console.example.hu"
    handler = make_handler(fields=["StatusId", "Megjegyzés"])

    page = dom(admin_client.get(f"/webhooks/{handler.pk}/"))

    assert page.by_id("helpdesk-request").text == (
        'Type: Project CategoryId: 10 Fields: ["StatusId", "Megjegyzés"] '
        f"ApiUrl: https://{handler.username}:<password>@console.example.hu/hooks/status/"
    )
    assert page.has(id="password-not-shown") and page.has("button", id="rotate")


def test_a_contact_handler_s_request_has_no_module(admin_client: Client) -> None:
    handler = make_handler(type="Contact", category_id=None, fields=[])

    text = dom(admin_client.get(f"/webhooks/{handler.pk}/")).by_id("helpdesk-request").text

    assert text.startswith("Type: Contact Fields: [] ApiUrl: http")
    assert "CategoryId" not in text


def add_handler(client: Client, **changes: str) -> Any:
    """An admin fills the add form in and saves it (following the redirect)."""
    form = form_data(
        dom(client.get("/webhooks/add/")).find("form", class_="schema-form"),
        **{
            "name": "Státusz",
            "slug": "statusz",
            "type": "Project",
            "category_id": "10",
            "fields_text": "StatusId",
            **changes,
        },
    )
    return client.post("/webhooks/add/", form, follow=True)


def shown_api_url(answer: Any) -> str:
    return str(dom(answer).by_id("helpdesk-request").text.split("ApiUrl: ")[1])


def delivered(api_url: str, slug: str = "statusz") -> int:
    """The status the receiver answers a message sent with the ApiUrl's credentials."""
    credentials = api_url.split("://")[1].split("@")[0]
    return (
        Client()
        .post(
            f"/hooks/{slug}/",
            data=json.dumps(card_message()),
            content_type="application/json",
            HTTP_AUTHORIZATION=basic(*credentials.split(":", 1)),
        )
        .status_code
    )


def test_the_handler_form_marks_each_action_field_with_the_action_it_belongs_to(
    admin_client: Client, crm: Crm
) -> None:
    form = dom(admin_client.get("/webhooks/add/")).find("form", class_="schema-form")

    # console.js shows a row only while its action is chosen; without it every row shows.
    rows = {
        row.id: (row.attrs.get("data-shown-if"), row.attrs.get("data-shown-values"))
        for row in form.find_all("fieldset")[0].find_all("div", class_="form-row")
    }
    assert rows == {
        "row-actions-0-kind": (None, None),
        "row-actions-0-comment": ("actions-0-kind", "create_todo"),
        "row-actions-0-owner": ("actions-0-kind", "create_todo"),
        "row-actions-0-days": ("actions-0-kind", "create_todo"),
        "row-actions-0-values": ("actions-0-kind", "set_fields"),
        "row-actions-0-url": ("actions-0-kind", "forward"),
        "row-actions-0-path": ("actions-0-kind", "python"),
    }
    assert not any(row.attrs.get("hidden") is not None for row in form.find_all("div"))
    assert not form.find_all("div", id="row-name")[0].attrs.get("data-shown-if")


def test_a_new_handler_s_apiurl_is_shown_once_and_only_a_hash_is_kept(
    admin_client: Client, crm: Crm
) -> None:
    created = add_handler(admin_client)

    handler = Handler.objects.get()
    url = shown_api_url(created)
    password = url.split("://")[1].split("@")[0].split(":")[1]
    assert len(password) >= 32 and password != "<password>"
    assert dom(created).has(id="password-shown-once")
    assert delivered(url) == 200
    # Kept only as a hash: nowhere in the handler's row.
    row = Handler.objects.filter(pk=handler.pk).values().get()
    assert password not in json.dumps(row, default=str)
    assert row["password_hash"].startswith("pbkdf2_sha256$")
    # Shown once: the next visit shows no password.
    again = dom(admin_client.get(f"/webhooks/{handler.pk}/"))
    assert password not in again.text
    assert shown_api_url(admin_client.get(f"/webhooks/{handler.pk}/")).count("<password>") == 1


def test_each_handler_gets_credentials_of_its_own(admin_client: Client, crm: Crm) -> None:
    one = shown_api_url(add_handler(admin_client))
    two = shown_api_url(add_handler(admin_client, name="Two", slug="two"))

    assert one.split("@")[0] != two.split("@")[0]  # user name and password
    assert delivered(one, "two") == 401


def test_rotating_the_password_refuses_the_old_one_at_once_and_shows_the_new_once(
    admin_client: Client, crm: Crm
) -> None:
    old = shown_api_url(add_handler(admin_client))
    handler = Handler.objects.get()

    rotated = admin_client.post(f"/webhooks/{handler.pk}/rotate/", follow=True)

    new = shown_api_url(rotated)
    assert rotated.redirect_chain == [(f"/webhooks/{handler.pk}/", 302)]
    assert messages_of(rotated) == [
        "The handler has a new password: the old one is refused from now on. Send MiniCRM's "
        "helpdesk the new ApiUrl."
    ]
    assert new != old and "<password>" not in new
    assert delivered(old) == 401
    assert delivered(new) == 200
    assert "<password>" in shown_api_url(admin_client.get(f"/webhooks/{handler.pk}/"))
    # The sandbox (the backend here) sends its webhooks with the new ApiUrl.
    hooks = crm.get("/_sandbox/webhooks")
    assert [hook["ApiUrl"] for hook in hooks] == [new]


def test_a_handler_is_deleted_with_its_events_after_a_confirmation(
    admin_client: Client, crm: Crm
) -> None:
    url = shown_api_url(add_handler(admin_client))
    handler = Handler.objects.get()
    stored(handler, card_message())
    stored(handler, card_message(2001))
    other = make_handler(name="Other", slug="other")
    kept = stored(other, card_message())

    asked = dom(admin_client.get(f"/webhooks/{handler.pk}/delete/"))
    assert (
        "Its actions and its 2 events are deleted too." in asked.by_id("delete-consequences").text
    )
    assert Handler.objects.filter(pk=handler.pk).exists()  # asking deletes nothing

    answer = admin_client.post(f"/webhooks/{handler.pk}/delete/", follow=True)

    assert answer.redirect_chain == [("/webhooks/", 302)]
    assert messages_of(answer) == ["The handler Státusz was deleted with its 2 events."]
    assert list(Handler.objects.all()) == [other]
    assert list(Event.objects.all()) == [kept]
    assert delivered(url) == 401
    assert crm.get("/_sandbox/webhooks") == []  # its sandbox subscription ended too


def test_the_test_event_button_stores_an_event_that_writes_nothing_to_minicrm(
    admin_client: Client, console_redis: redis.Redis
) -> None:
    handler = make_handler(
        actions=[
            ("set_fields", {"values": {"ReferenceId": "x"}}),
            ("create_todo", {"comment": "Hívd vissza"}),
            ("python", {"path": RECORDER}),
        ]
    )

    first = admin_client.post(f"/webhooks/{handler.pk}/test/", follow=True)
    admin_client.post(f"/webhooks/{handler.pk}/test/")

    events = list(Event.objects.order_by("id"))
    assert first.redirect_chain == [(f"/webhooks/events/{events[0].pk}/", 302)]
    assert messages_of(first) == [f"A test event was stored: #{events[0].pk}."]
    assert [e.status for e in events] == [Event.Status.RECEIVED] * 2  # not taken as duplicates
    assert event_process(events[0].pk) == Event.Status.PROCESSED
    results = Event.objects.get(pk=events[0].pk).results
    assert [r["result"] for r in results[:2]] == [
        "skipped: a test event, nothing is written to MiniCRM"
    ] * 2
    assert not Write.objects.exists()


# -- the event log ----------------------------------------------------------------------------


def test_an_empty_event_log_and_a_filter_that_matches_nothing_say_which_it_is(
    admin_client: Client, settings: Settings
) -> None:
    assert dom(admin_client.get("/webhooks/events/")).by_id("events-empty").text == "No events."
    stored(make_handler(), card_message(2056), Event.Status.PROCESSED)

    empty = dom(admin_client.get("/webhooks/events/", {"status": "failed"})).by_id("events-empty")

    assert empty.text == "No events match these filters. Clear all filters"
    assert empty.links() == {"/webhooks/events/": "Clear all filters"}
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "hu"
    hungarian = dom(admin_client.get("/webhooks/events/", {"object_id": "1"}))
    assert hungarian.by_id("events-empty").text == (
        "Nincs a szűrőknek megfelelő esemény. Összes szűrő törlése"
    )


def test_the_event_log_filters_by_handler_type_object_and_status(admin_client: Client) -> None:
    cards = make_handler()
    people = make_handler(name="People", slug="people", type="Contact", category_id=None)
    a = stored(cards, card_message(2056), Event.Status.PROCESSED)
    b = stored(cards, card_message(2001), Event.Status.FAILED)
    c = stored(people, contact_message(7506), Event.Status.ECHO)
    d = stored(cards, card_message(2056, updated_at="2026-11-29 11:00:00"), Event.Status.DUPLICATE)

    def listed(query: str) -> list[str]:
        table = dom(admin_client.get(f"/webhooks/events/{query}")).find("table", class_="events")
        return [row.find("th").text for row in table.find("tbody").find_all("tr")]

    assert listed("") == [str(e.pk) for e in (d, c, b, a)]
    assert listed(f"?handler={people.pk}") == [str(c.pk)]
    assert listed("?type=Contact") == [str(c.pk)]
    assert listed("?object_id=2056") == [str(d.pk), str(a.pk)]
    assert listed("?status=failed") == [str(b.pk)]
    assert listed("?status=duplicate&object_id=2056") == [str(d.pk)]
    assert listed("?status=nonsense&object_id=abc") == [str(e.pk) for e in (d, c, b, a)]


def test_an_event_page_shows_payload_results_traceback_and_links(
    admin_client: Client, console_redis: redis.Redis
) -> None:
    break_sync(True)
    handler = make_handler(actions=[("python", {"path": "tests.webhooks.automations.sync_to_erp"})])
    event = event_receive(
        handler=handler,
        body=json.dumps(card_message()).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Basic c2VjcmV0"},
    ).event
    event_process(event.pk)

    page = dom(admin_client.get(f"/webhooks/events/{event.pk}/"))

    text = page.text
    assert "ConnectionError: the ERP answered 503 for card 2056" in text
    assert "Traceback (most recent call last)" in text
    assert '"StatusId": "2623"' in text
    assert "Content-Type: application/json" in text
    assert "Authorization" not in text and "c2VjcmV0" not in text
    assert page.links()["/cards/2056/"] == "card #2056"
    assert page.has("button", id="replay")


def test_the_replay_button_processes_the_event_again(
    admin_client: Client, console_redis: redis.Redis
) -> None:
    event = stored(make_handler(), card_message())
    event_process(event.pk)

    answer = admin_client.post(f"/webhooks/events/{event.pk}/replay/", follow=True)

    assert answer.redirect_chain == [(f"/webhooks/events/{event.pk}/", 302)]
    assert messages_of(answer) == ["The event will be processed again."]
    assert Event.objects.get().status == Event.Status.RECEIVED
    assert event_process(event.pk) == Event.Status.PROCESSED


def test_replaying_a_missing_event_is_404(admin_client: Client) -> None:
    assert admin_client.post("/webhooks/events/999/replay/").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "?handler=²",
        "?handler=\u0661",  # an Arabic-Indic one
        f"?handler={2**64 + 1}",
        "?handler=-1",
        f"?object_id={2**64 + 1}",
        "?object_id=²",
        "?status=<script>",
        "?type=%00",
    ],
)
def test_bad_event_log_filters_are_ignored(admin_client: Client, query: str) -> None:
    event = stored(make_handler(), card_message())

    answer = admin_client.get(f"/webhooks/events/{query}")

    assert answer.status_code == 200
    table = dom(answer).find("table", class_="events")
    assert [row.find("th").text for row in table.find("tbody").find_all("tr")] == [str(event.pk)]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/webhooks/999/"),
        ("get", "/webhooks/999/change/"),
        ("post", "/webhooks/999/change/"),
        ("post", "/webhooks/999/test/"),
        ("post", "/webhooks/999/rotate/"),
        ("get", "/webhooks/999/delete/"),
        ("post", "/webhooks/999/delete/"),
        ("get", "/webhooks/events/999/"),
        ("post", "/webhooks/events/999/replay/"),
        ("get", f"/webhooks/{2**64 + 1}/"),
        ("get", f"/webhooks/events/{2**64 + 1}/"),
    ],
)
def test_missing_handlers_and_events_get_the_console_s_404_page_even_with_debug_on(
    admin_client: Client, settings: Settings, method: str, url: str
) -> None:
    settings.DEBUG = True  # `make run`: Django's own debug page would show instead

    answer = getattr(admin_client, method)(url)

    assert answer.status_code == 404
    assert "There is nothing at this address." in dom(answer).text


@pytest.mark.parametrize(
    ("url", "up"),
    [("/webhooks/999/", "/webhooks/"), ("/webhooks/events/999/", "/webhooks/events/")],
)
def test_missing_handlers_and_events_get_the_console_s_404_page_in_hungarian_too(
    admin_client: Client, settings: Settings, url: str, up: str
) -> None:
    settings.DEBUG = True
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "hu"

    answer = admin_client.get(url)

    assert answer.status_code == 404
    page = dom(answer)
    assert page.find("h1").text == "Nem található"
    assert page.by_id("not-found-links").links() == {
        up: "Vissza a listához",
        "/": "Vissza az irányítópultra",
    }


# -- the card page ----------------------------------------------------------------------------


def test_people_see_on_a_card_the_automations_that_ran_on_it(
    client: Client, staff_user: User, doc: Sandbox
) -> None:
    todo = make_handler(name="Teendő státuszváltáskor")
    sync = make_handler(name="ERP szinkron", slug="erp")
    stored(todo, card_message(2056), Event.Status.PROCESSED)
    stored(sync, card_message(2056), Event.Status.FAILED)
    stored(sync, card_message(2056), Event.Status.DUPLICATE)  # not an automation that ran
    stored(sync, card_message(2001), Event.Status.PROCESSED)  # another card

    page = dom(logged_in(client, staff_user).get("/cards/2056/"))

    items = [li.text.split(" — ", 1)[1] for li in page.by_id("card-automations").find_all("li")]
    assert items == ["ERP szinkron: failed", "Teendő státuszváltáskor: processed"]


def test_a_card_without_automations_shows_no_such_box(
    client: Client, staff_user: User, doc: Sandbox
) -> None:
    make_handler()

    assert not dom(logged_in(client, staff_user).get("/cards/2056/")).has(id="card-automations")


def test_an_event_page_shows_data_and_results_as_labelled_rows(
    admin_client: Client, console_redis: redis.Redis
) -> None:
    now = timezone.now()
    schema = {
        "Name": "Text(512)",
        "StatusId": {"2623": "Elvesztett"},
        "UserId": {"22404": "Kiss Réka"},
    }
    MirrorModule.objects.create(id=10, name="Értékesítés", schema=schema)
    MirrorContact.objects.create(id=7506, name="Leskó Norbert", type="Person", synced_at=now)
    event = stored(make_handler(), card_message(changed=("StatusId", "UserId")))
    Event.objects.filter(pk=event.pk).update(
        results=[
            {"action": "create_todo", "result": {"write": 5}},
            {"forward": {"url": "https://erp.example/hook", "status": 200}},
            {"action": "python", "result": "'synced'"},
        ]
    )

    def rows(page, ident: str) -> dict[str, str]:
        return {tr.find("th").text: tr.find("td").text for tr in page.by_id(ident).find_all("tr")}

    page = dom(admin_client.get(f"/webhooks/events/{event.pk}/"))

    data = rows(page, "event-data")
    assert data["Status"] == "Elvesztett"
    assert data["Owner"] == "Kiss Réka"
    assert data["Contact"] == "Leskó Norbert (#7506)"
    assert page.by_id("event-data").links()["/contacts/7506/"] == "Leskó Norbert (#7506)"
    assert data["Module"] == "10"  # no label for a module id: the raw value
    assert page.by_id("event-changed").text == "Status, Owner, Updated at"
    results = rows(page, "event-results")
    assert results["Create a to-do on the card"] == "Write: 5"
    forward = page.by_id("event-results").find_all("tr")[1]
    assert [li.text for li in forward.find_all("li")] == [  # by name, on both databases
        "Status: 200",
        "Url: https://erp.example/hook",
    ]
    assert results["Run a Python function"] == "'synced'"
    assert "{'" not in page.by_id("event-results").text

    admin_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "hu"
    magyar = rows(dom(admin_client.get(f"/webhooks/events/{event.pk}/")), "event-data")
    assert magyar["Státusz"] == "Elvesztett"
    assert magyar["Felelős"] == "Kiss Réka"


def test_an_event_without_a_schema_in_the_mirror_shows_humanized_names_and_raw_values(
    admin_client: Client, console_redis: redis.Redis
) -> None:
    event = stored(make_handler(), card_message(ProjektKod="A-1"))

    page = dom(admin_client.get(f"/webhooks/events/{event.pk}/"))

    data = {
        tr.find("th").text: tr.find("td").text for tr in page.by_id("event-data").find_all("tr")
    }
    assert data["Status"] == "2623"
    assert data["Owner"] == "22404"
    assert data["Contact"] == "#7506"
    assert data["Projekt kod"] == "A-1"
